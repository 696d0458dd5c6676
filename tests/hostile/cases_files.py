"""Hostile files: the submission itself (csc420-a2), before any answer is read."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

from tests.hostile.corpus import (
    SECRET_ENV,
    Builder,
    Case,
    Expect,
    Scene,
    new_folder,
)

A = "csc420-a2"


def _unreadable(name: str, path: Path, message: str, *, ignored: bool = False) -> list[Case]:
    return [Case(name, A, path, "files", every=Expect("invalid", message), batch_ignored=ignored)]


def invalid_utf8(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "invalid_utf8")
    (folder / "answers.yaml").write_bytes(b"q4_lenet_params: \xff\xfe\xfa 61706\n")
    return _unreadable("invalid UTF-8", folder, "not UTF-8")


def huge_answers_file(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "huge_answers")
    with open(folder / "answers.yaml", "wb") as out:
        out.write(b"q1_proof: '")
        chunk = b"a" * (1 << 20)
        for _ in range(50):
            out.write(chunk)
        out.write(b"'\n")
    return _unreadable("50 MB answers file", folder, "at most")


def yaml_alias_bomb(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "alias_bomb")
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(9))}]" for i in range(1, 10)]
    lines.append("q1_proof: *a9")
    (folder / "answers.yaml").write_text("\n".join(lines) + "\n")
    return _unreadable("YAML alias bomb", folder, "aliases")


def yaml_merge_key(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "merge_key")
    (folder / "answers.yaml").write_text("base: &b {q4_lenet_params: 61706}\n<<: *b\n")
    return _unreadable("YAML merge key", folder, "aliases")


def nested_json(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "nested_json")
    (folder / "answers.json").write_text('{"q1_proof": ' + "[" * 200_000 + "]" * 200_000 + "}")
    return _unreadable("deeply nested JSON (200,000 levels)", folder, "nested too deeply")


def nested_json_within_python(scene: Scene) -> list[Case]:
    """A depth JSON parses but the checkers' recursion would not survive."""
    folder = new_folder(scene, A, "nested_json_900")
    (folder / "answers.json").write_text('{"q1_proof": ' + "[" * 900 + "]" * 900 + ', "q4_lenet_params": 61706}')
    return _unreadable("nested JSON of 900 levels", folder, "nested too deeply")


def nested_yaml(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "nested_yaml")
    (folder / "answers.yaml").write_text("q3_flops_no_bias: " + "[" * 60 + "1" + "]" * 60 + "\n")
    return _unreadable("nested YAML of 60 levels", folder, "nested too deeply")


def integer_beyond_python(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "int_5000_digits")
    (folder / "answers.yaml").write_text("q4_lenet_params: " + "7" * 5000 + "\n")
    return _unreadable("a 5,000-digit integer", folder, "cannot be read")


def top_level_list(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "top_level_list")
    (folder / "answers.json").write_text('[{"q4_lenet_params": 61706}]')
    return _unreadable("answers file is a list", folder, "should map question ids")


def zip_bomb(scene: Scene) -> list[Case]:
    path = scene.folder(A) / "zip_bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("answers.yaml", "q4_lenet_params: 61706\n")
        with archive.open("padding.bin", "w") as member:
            zeros = b"\0" * (1 << 20)
            for _ in range(300):
                member.write(zeros)
    return _unreadable("zip bomb", path, "zip bomb")


def zip_too_many_members(scene: Scene) -> list[Case]:
    path = scene.folder(A) / "zip_members.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("answers.yaml", "q4_lenet_params: 61706\n")
        for i in range(2_100):
            archive.writestr(f"f/{i}", "")
    return _unreadable("zip of 2,100 files", path, "at most 2000")


def zip_escape(scene: Scene) -> list[Case]:
    path = scene.folder(A) / "zip_escape.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("answers.yaml", "q4_lenet_params: 61706\n")
        archive.writestr("../../escaped.txt", "pwned")
    return _unreadable("zip entry with ../", path, "leaves the submission")


def zip_backslash_escape(scene: Scene) -> list[Case]:
    path = scene.folder(A) / "zip_backslash.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("answers.yaml", "q4_lenet_params: 61706\n")
        archive.writestr(zipfile.ZipInfo("..\\..\\escaped-backslash.txt"), "pwned")
    # on POSIX a backslash is part of a file name: the entry stays inside, named `..\..\...`
    return [Case("zip entry with ..\\ (Windows)", A, path, "files", {"q4_lenet_params": Expect("correct")})]


def zip_absolute(scene: Scene) -> list[Case]:
    path = scene.folder(A) / "zip_absolute.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("/tmp/grader-absolute-escape.txt"), "pwned")
    return _unreadable("zip entry with an absolute path", path, "leaves the submission")


def zip_symlink(scene: Scene) -> list[Case]:
    path = scene.folder(A) / "zip_symlink.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("answers.yaml")
        info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/passwd")
    return _unreadable("zip with a symlink entry", path, "symbolic link")


def not_a_zip(scene: Scene) -> list[Case]:
    path = scene.folder(A) / "not_a_zip.zip"
    path.write_bytes(b"PK\x03\x04" + os.urandom(64))
    return _unreadable("a .zip that is not a zip", path, "cannot be opened")


def zip_in_zip(scene: Scene) -> list[Case]:
    inner = scene.folder(A) / "inner.tmp"
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("answers.yaml", "q4_lenet_params: 61706\n")
    path = scene.folder(A) / "zip_in_zip.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(inner, "inner.zip")
    inner.unlink()
    return _unreadable("a zip inside the zip", path, "no answers file")


def answers_symlink(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "answers_symlink")
    (folder / "answers.yaml").symlink_to("/etc/passwd")
    return _unreadable("answers file is a symlink out", folder, "not a regular file")


def answers_directory(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "answers_directory")
    (folder / "answers.yaml").mkdir()
    return _unreadable("answers file is a folder", folder, "not a regular file")


def model_symlink(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "model_symlink")
    (folder / "model.safetensors").symlink_to("/etc/passwd")
    (folder / "answers.yaml").write_text("q4_lenet_params: 61706\np2_mlp_model: model.safetensors\n")
    return [Case("model path is a symlink out", A, folder, "files", {
        "q4_lenet_params": Expect("correct"), "p2_mlp_model": Expect("invalid", "outside")})]


def fifo_answers(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "fifo_answers")
    os.mkfifo(folder / "answers.yaml")
    return _unreadable("answers file is a FIFO", folder, "not a regular file")


def fifo_model(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "fifo_model")
    os.mkfifo(folder / "model.pt")
    (folder / "answers.yaml").write_text("q4_lenet_params: 61706\np2_mlp_model: model.pt\n")
    return [Case("model file is a FIFO", A, folder, "files", {
        "q4_lenet_params": Expect("correct"), "p2_mlp_model": Expect("invalid", "not a file")})]


def fifo_submission(scene: Scene) -> list[Case]:
    path = scene.folder(A) / "fifo_submission.yaml"
    os.mkfifo(path)
    return _unreadable("submission is a FIFO", path, "not a regular file", ignored=True)


def device_submission(scene: Scene) -> list[Case]:
    """A character device (the kernel's zero device) handed in as the answers file."""
    path = scene.folder(A) / "device_submission.yaml"
    try:
        os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 5))
    except PermissionError:  # not root: a link to the device reaches the same file
        path.symlink_to("/dev/zero")
    return _unreadable("submission is a device", path, "not a regular file", ignored=True)


def duplicate_keys(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "duplicate_keys")
    (folder / "answers.yaml").write_text("q4_lenet_params: 61706\nq4_lenet_params: 1\n")
    return _unreadable("duplicate keys", folder, "answered twice")


def duplicate_keys_json(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "duplicate_keys_json")
    (folder / "answers.json").write_text('{"q4_lenet_params": 61706, "q4_lenet_params": 1}')
    return _unreadable("duplicate keys (JSON)", folder, "answered twice")


def non_string_keys(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "non_string_keys")
    (folder / "answers.yaml").write_text("? [a, b]\n: 1\nq4_lenet_params: 61706\n")
    return _unreadable("non-string keys", folder, "plain name")


def python_tag(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "python_tag")
    marker = scene.marker("python_tag_ran")
    (folder / "answers.yaml").write_text(
        f"q4_lenet_params: !!python/object/apply:os.system ['touch {marker}']\n")
    return _unreadable("YAML python tag", folder, "not valid YAML")


def thousands_of_unknown_keys(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "unknown_keys")
    answers = {f"k{i}_" + "x" * 200: i for i in range(5_000)} | {"q4_lenet_params": 61706}
    (folder / "answers.json").write_text(json.dumps(answers))
    return [Case("5,000 answers to questions that do not exist", A, folder, "files",
                 {"q4_lenet_params": Expect("correct")})]


def environment_probe(scene: Scene) -> list[Case]:
    folder = new_folder(scene, A, "env_probe")
    (folder / "answers.yaml").write_text(json.dumps({"q1_proof": "${" + SECRET_ENV + "}",
                                                     "q4_lenet_params": "$" + SECRET_ENV}))
    return [Case("environment variable names as answers", A, folder, "files",
                 {"q1_proof": Expect("manual"), "q4_lenet_params": Expect("invalid", "not a number")})]


def hostile_student_ids(scene: Scene) -> list[Case]:
    """`student_id` names the report file and the gradebook row: a path, a formula, markup."""
    cases = []
    for name, student in [("path", "../../../escaped-report"), ("formula", "=HYPERLINK(\"http://x\")"),
                          ("markup", "<script>alert(1)</script>"), ("long", "s" * 5_000)]:
        folder = new_folder(scene, A, f"student_id_{name}")
        (folder / "answers.yaml").write_text(f"student_id: {json.dumps(student)}\nq4_lenet_params: 61706\n")
        cases.append(Case(f"student_id is a {name}", A, folder, "files", {"q4_lenet_params": Expect("correct")}))
    return cases


CLAIMS = {"aa_claim": "alice", "zz_impostor": "alice", "ab_upper_claim": "ALICE"}  # folder -> claimed id
TERMINAL_ID = "term\x1b[2J\x1b[H\x1b]0;owned\x07\x1b]52;c;cm0gLXJmIH4=\x07\u202e\x9b1m"
TERMINAL_ANSWER = "ok\x1b[1A\x1b[2Kalice  15/15 correct\x1b]52;c;ZWNobyBoaQ==\x07"
TERMINAL_FOLDER = "esc\x1b[31mred\x1b[0m"
FORMULA_IDS = {"formula_semicolon": "x;=HYPERLINK(A1);@SUM(1)", "formula_at": "@SUM(1)", "formula_plus": "+1+1"}


def id_claims(scene: Scene) -> list[Case]:
    """Claims a classmate's id, sorted before and after the classmate, and in capitals: the
    classmate's report stays theirs, whatever the order the batch grades them in."""
    cases = []
    for name, claimed in CLAIMS.items():
        folder = new_folder(scene, A, name)
        (folder / "answers.yaml").write_text(f"student_id: {claimed}\nq4_lenet_params: 1\n")
        cases.append(Case(f"student_id {claimed} of a classmate ({name})", A, folder, "files",
                          {"q4_lenet_params": Expect("incorrect")}))
    return cases


def non_utf8_names(scene: Scene) -> list[Case]:
    """Names whose bytes are not UTF-8: an entry of the batch root, a file of an unpacked zip, and
    a zip member flagged UTF-8 that is not."""
    entry = scene.folder(A) / os.fsdecode(b"a0-14-\xff\xfe.yaml")
    entry.write_text("q4_lenet_params: 61706\n")
    unpacked = new_folder(scene, A, "unzipped_notes")
    (unpacked / "answers.yaml").write_text("q4_lenet_params: 61706\n")
    (unpacked / os.fsdecode(b"notes-\xfe\xfe.txt")).write_text("my notes\n")
    member = scene.folder(A) / "zip_bad_utf8_member.zip"
    with zipfile.ZipFile(member, "w") as archive:
        archive.writestr("answers.yaml", "q4_lenet_params: 61706\n")
        archive.writestr("notes-\u00e9\u00e9.txt", "x")
    member.write_bytes(member.read_bytes().replace("\u00e9\u00e9".encode(), b"\xff\xfe\xff\xfe"))
    correct = {"q4_lenet_params": Expect("correct")}
    return [
        Case("file name not UTF-8, in the batch root", A, entry, "files", correct),
        Case("file name not UTF-8, in an unpacked zip", A, unpacked, "files", correct),
        *_unreadable("zip member flagged UTF-8, not UTF-8", member, "cannot be opened"),
    ]


def terminal_escapes(scene: Scene) -> list[Case]:
    """Escape sequences in an id, an answer and a folder name: screen clear, cursor moves that
    overwrite a row, a window title, an OSC 52 clipboard write, a bidi override, a C1 CSI."""
    folder = new_folder(scene, A, "terminal_escapes")
    (folder / "answers.json").write_text(json.dumps(
        {"student_id": TERMINAL_ID, "q1_proof": TERMINAL_ANSWER, "q4_lenet_params": 61706}))
    named = new_folder(scene, A, TERMINAL_FOLDER)
    (named / "answers.yaml").write_text(f"q1_proof: {json.dumps(TERMINAL_ANSWER)}\nq4_lenet_params: 61706\n")
    expect = {"q1_proof": Expect("manual"), "q4_lenet_params": Expect("correct")}
    return [Case("terminal escapes in the id and an answer", A, folder, "files", expect),
            Case("terminal escapes in the folder name", A, named, "files", expect)]


def formula_ids(scene: Scene) -> list[Case]:
    """Ids a spreadsheet would run: after a `;` (Excel splits on it in many locales), `@`, `+`."""
    cases = []
    for name, student in FORMULA_IDS.items():
        folder = new_folder(scene, A, name)
        (folder / "answers.yaml").write_text(f"student_id: {json.dumps(student)}\nq4_lenet_params: 61706\n")
        cases.append(Case(f"student_id is a formula ({name})", A, folder, "files",
                          {"q4_lenet_params": Expect("correct")}))
    return cases


BUILDERS: list[Builder] = [
    invalid_utf8, huge_answers_file, yaml_alias_bomb, yaml_merge_key, nested_json, nested_json_within_python,
    nested_yaml, integer_beyond_python, top_level_list, zip_bomb, zip_too_many_members, zip_escape,
    zip_backslash_escape, zip_absolute, zip_symlink, not_a_zip, zip_in_zip, answers_symlink, answers_directory,
    model_symlink, fifo_answers, fifo_model, fifo_submission, device_submission, duplicate_keys,
    duplicate_keys_json, non_string_keys, python_tag, thousands_of_unknown_keys, environment_probe,
    hostile_student_ids, id_claims, non_utf8_names, terminal_escapes, formula_ids,
]
