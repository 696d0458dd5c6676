"""The hostile-submission corpus, generated (never committed as binaries).

Each builder writes one submission under a root folder and says what every question of the
target assignment must become. `build_corpus(root)` writes them all, for one-by-one grading and
for one batch.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ASSIGNMENT = "csc420-a2"
SECRET_ENV = "GRADER_TEST_SECRET"
SECRET_VALUE = "s3cr3t-must-never-appear-in-a-report"


@dataclass
class Case:
    name: str
    path: Path
    all_status: str | None = None  # every question has this status
    statuses: dict[str, str] = field(default_factory=dict)  # or these questions have these
    message: str = ""  # a substring of the feedback (of every question / the listed ones)
    category: str = "files"


Builder = Callable[[Path], Case]


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    return folder


def invalid_utf8(root: Path) -> Case:
    folder = _folder(root, "invalid_utf8")
    (folder / "answers.yaml").write_bytes(b"q4_lenet_params: \xff\xfe\xfa 61706\n")
    return Case("invalid UTF-8", folder, "invalid", message="not UTF-8")


def huge_answers_file(root: Path) -> Case:
    folder = _folder(root, "huge_answers")
    with open(folder / "answers.yaml", "wb") as out:
        out.write(b"q1_proof: '")
        chunk = b"a" * (1 << 20)
        for _ in range(50):
            out.write(chunk)
        out.write(b"'\n")
    return Case("50 MB answers file", folder, "invalid", message="at most")


def yaml_alias_bomb(root: Path) -> Case:
    folder = _folder(root, "alias_bomb")
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(9))}]" for i in range(1, 10)]
    lines.append("q1_proof: *a9")
    (folder / "answers.yaml").write_text("\n".join(lines) + "\n")
    return Case("YAML alias bomb", folder, "invalid", message="aliases")


def nested_json(root: Path) -> Case:
    folder = _folder(root, "nested_json")
    (folder / "answers.json").write_text('{"q1_proof": ' + "[" * 200_000 + "]" * 200_000 + "}")
    return Case("deeply nested JSON", folder, "invalid", message="")


def zip_bomb(root: Path) -> Case:
    path = root / "zip_bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("answers.yaml", "q4_lenet_params: 61706\n")
        with archive.open("padding.bin", "w") as member:
            zeros = b"\0" * (1 << 20)
            for _ in range(300):
                member.write(zeros)
    return Case("zip bomb", path, "invalid", message="zip bomb")


def zip_escape(root: Path) -> Case:
    path = root / "zip_escape.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("answers.yaml", "q4_lenet_params: 61706\n")
        archive.writestr("../../escaped.txt", "pwned")
    return Case("zip entry with ../", path, "invalid", message="leaves the submission")


def zip_absolute(root: Path) -> Case:
    path = root / "zip_absolute.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("/tmp/grader-absolute-escape.txt")
        archive.writestr(info, "pwned")
    return Case("zip entry with an absolute path", path, "invalid", message="leaves the submission")


def zip_symlink(root: Path) -> Case:
    path = root / "zip_symlink.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("answers.yaml")
        info.external_attr = (0o120777 << 16)
        archive.writestr(info, "/etc/passwd")
    return Case("zip with a symlink entry", path, "invalid", message="symbolic link")


def answers_symlink(root: Path) -> Case:
    folder = _folder(root, "answers_symlink")
    (folder / "answers.yaml").symlink_to("/etc/passwd")
    return Case("answers file is a symlink out", folder, "invalid", message="not a regular file")


def model_symlink(root: Path) -> Case:
    folder = _folder(root, "model_symlink")
    (folder / "model.safetensors").symlink_to("/etc/passwd")
    (folder / "answers.yaml").write_text("q4_lenet_params: 61706\np2_mlp_model: model.safetensors\n")
    return Case("model path is a symlink out", folder,
                statuses={"q4_lenet_params": "correct", "p2_mlp_model": "invalid"}, message="outside")


def fifo_answers(root: Path) -> Case:
    folder = _folder(root, "fifo_answers")
    os.mkfifo(folder / "answers.yaml")
    return Case("answers file is a FIFO", folder, "invalid", message="not a regular file")


def fifo_submission(root: Path) -> Case:
    path = root / "fifo_submission.yaml"
    os.mkfifo(path)
    return Case("submission is a FIFO", path, "invalid", message="not a regular file")


def duplicate_keys(root: Path) -> Case:
    folder = _folder(root, "duplicate_keys")
    (folder / "answers.yaml").write_text("q4_lenet_params: 61706\nq4_lenet_params: 1\n")
    return Case("duplicate keys", folder, "invalid", message="answered twice")


def non_string_keys(root: Path) -> Case:
    folder = _folder(root, "non_string_keys")
    (folder / "answers.yaml").write_text("? [a, b]\n: 1\nq4_lenet_params: 61706\n")
    return Case("non-string keys", folder, "invalid", message="plain name")


def python_tag(root: Path) -> Case:
    folder = _folder(root, "python_tag")
    marker = root / "python_tag_ran"
    (folder / "answers.yaml").write_text(
        f"q4_lenet_params: !!python/object/apply:os.system ['touch {marker}']\n")
    return Case("YAML python tag", folder, "invalid", message="not valid YAML")


NUMBER_VALUES = [
    ("huge integer", "1" + "0" * 4000, "incorrect", ""),
    ("huge exponent", "1e400", "incorrect", ""),
    ("exponent bomb", "9e999999999", "invalid", "out of range"),
    ("tiny number", "1e-400", "incorrect", ""),
    ("nan", ".nan", "invalid", "finite"),
    ("infinity", ".inf", "invalid", "finite"),
    ("negative infinity", "-.inf", "invalid", "finite"),
    ("nan text", "'NaN'", "invalid", "not a number"),
    ("list of a million", "[" + ", ".join(["1"] * 10) + "]", "invalid", "a list"),
    ("mapping", "{a: 1}", "invalid", "a mapping"),
    ("injection text", "\"__import__('os').system('x')\"", "invalid", "not a number"),
]


def number_values(root: Path) -> list[Case]:
    cases = []
    for i, (name, literal, status, message) in enumerate(NUMBER_VALUES):
        folder = _folder(root, f"value_{i:02d}")
        (folder / "answers.yaml").write_text(f"q4_lenet_params: {literal}\nq6a_tanh_range: '(-1, 1)'\n")
        cases.append(Case(f"value: {name}", folder, statuses={"q4_lenet_params": status,
                                                              "q6a_tanh_range": "correct"},
                          message=message, category="values"))
    return cases


def environment_probe(root: Path) -> Case:
    folder = _folder(root, "env_probe")
    (folder / "answers.yaml").write_text(json.dumps({"q1_proof": "${" + SECRET_ENV + "}",
                                                     "q4_lenet_params": "$" + SECRET_ENV}))
    return Case("environment variable names as answers", folder,
                statuses={"q1_proof": "manual", "q4_lenet_params": "invalid"}, category="values")


FILE_BUILDERS: list[Builder] = [
    invalid_utf8, huge_answers_file, yaml_alias_bomb, nested_json, zip_bomb, zip_escape, zip_absolute,
    zip_symlink, answers_symlink, model_symlink, fifo_answers, fifo_submission, duplicate_keys,
    non_string_keys, python_tag, environment_probe,
]


def build_corpus(root: Path) -> list[Case]:
    cases = [build(root) for build in FILE_BUILDERS]
    cases += number_values(root)
    return cases


def good_submissions(root: Path, count: int) -> list[Path]:
    """Well-behaved classmates whose reports must not change because of the hostile ones."""
    paths = []
    for i in range(count):
        path = root / f"good_{i:02d}.yaml"
        path.write_text(f"q4_lenet_params: {61706 + i % 2}\nq6a_tanh_range: '(-1, 1)'\nq2_dL_dw3: 0.0006\n")
        paths.append(path)
    return paths
