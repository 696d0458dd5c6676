"""A generated class: answers-only submissions written the way students write them, right,
wrong in the usual ways, unreadable, and broken files, for batch tests and benchmarks.

`generate_class(root, "csc420-a2", 56)` writes folders, answers files and zips under root and
returns the ids it wrote. Deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MISSING = object()

# Answers per question, as students write them: right forms first, then usual mistakes, then
# unreadable ones. Free-text answers repeat, as copied answers do.
ANSWERS: dict[str, dict[str, list[Any]]] = {
    "csc420-a2": {
        "q1_effective_weight": ["W2 @ W1", "W2 @ W1", "W1 @ W2", "W2W1", MISSING],
        "q1_effective_bias": ["W2 @ b1 + b2", "W2 @ b1 + b2", "b1 + b2", MISSING],
        "q1_proof": ["By induction: a product of linear maps is linear.",
                     "by induction, a product of linear maps is linear",
                     "Composition of affine maps is affine.", MISSING],
        "q2_dL_dw3": [0.0006, "6.2e-4", 0.00062158, "0.0006", 0.00143, 0.00143, 0.0001, -0.0006, "abc", MISSING],
        "q3_flops_no_bias": [1153840, "1,153,840 FLOPs", "1.15384e6", 578560, 578560, 1151280, 1154560, "lots"],
        "q3_flops_with_bias": [1154560, "1 154 560", 1153840, 1151280, True],
        "q4_lenet_params": [61706, "61 706", "61,706", 60850, 51902, "61,70,6", MISSING],
        "q5_sigmoid_grad_from_output": ["y(1 - y)", "y*(1-y)", "sigmoid(z)*(1 - sigmoid(z))", MISSING],
        "q5_argument": ["dy/dz = y(1-y) only needs the stored output.", MISSING],
        "q6a_tanh_range": ["(-1, 1)", "(-1,1)", "-1 < y < 1", "[-1, 1]", "(0, 1)", "-1 to 1", MISSING],
        "q6b_tanh_grad": ["4\\sigma(2x)(1-\\sigma(2x))", "1 - tanh(x)^2", MISSING],
        "q6c_when_to_use": ["tanh for hidden layers, sigmoid for probabilities.", MISSING],
    },
    "apl405-hw2": {
        "q2_relu_zero_grads": ["YES, YES, NO", "yes yes no", ["YES", "YES", "NO"], "YES, NO, NO", "NO, NO, NO",
                               "maybe"],
        "q3a_graph": [["x -> z", "z -> h", "h -> y_hat", "x -> y_hat", "h -> R", "y_hat -> S", "S -> L", "R -> L"],
                      ["x -> z", "z -> h", "h -> y_hat", "h -> R", "y_hat -> S", "S -> L", "R -> L"],
                      "x -> z, z -> h, h -> ŷ, x -> ŷ, h -> R, ŷ -> S, S -> L, R -> L", MISSING],
        "q4_iii_params": [7850, "7,850", 7840, MISSING],
        "q4_iv_iters_per_epoch": [600, "600 iterations", 60000, MISSING],
        "q4_xii_params": [185300, "185,300", 184990, MISSING],
        "q5_i_u3flat": [588, 588, 1568, 432, "588 units", MISSING],
        "q1_threshold_net": ["see the attached figure", MISSING],
    },
}

# Submissions no grader should trip on: each becomes a report, never a crash.
BROKEN: dict[str, tuple[str, bytes]] = {
    "broken_yaml": ("dir", b"q2_dL_dw3: [1, 2\nq4_lenet_params: 61706\n"),
    "binary_junk": ("yaml", bytes(range(256)) * 4),
    "empty_folder": ("empty", b""),
    "not_a_zip": ("zipbytes", b"PK\x03\x04 this is not really a zip"),
    "list_of_answers": ("yaml", b"- 61706\n- 7850\n"),
    "answered_twice": ("yaml", b"q4_lenet_params: 61706\nq4_lenet_params: 61707\n"),
    "alias_bomb": ("yaml", b"a: &a [1, 2]\nb: [*a, *a]\n"),
    "wrong_types": ("json", json.dumps({"q2_dL_dw3": {"a": 1}, "q4_lenet_params": [[1]]}).encode()),
    "escaping_zip": ("evilzip", b"q4_lenet_params: 61706\n"),
}


@dataclass(frozen=True)
class Written:
    id: str
    path: Path
    broken: bool
    answers: dict[str, Any] = field(default_factory=dict)


def _answers(assignment: str, rng: random.Random) -> dict[str, Any]:
    chosen = {}
    for question, pool in ANSWERS[assignment].items():
        value = rng.choice(pool)
        if value is not MISSING:
            chosen[question] = value
    return chosen


def _write_student(root: Path, sid: str, answers: dict[str, Any], form: int) -> Path:
    text = yaml.safe_dump(answers, allow_unicode=True, sort_keys=False)
    if form == 0:  # a folder
        folder = root / sid
        folder.mkdir()
        (folder / "answers.yaml").write_text(text, encoding="utf-8")
        return folder
    if form == 1:  # a single answers file
        path = root / f"{sid}.yaml"
        path.write_text(text, encoding="utf-8")
        return path
    if form == 2:  # a zip of a folder
        path = root / f"{sid}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(f"{sid}/answers.yaml", text)
        return path
    path = root / f"{sid}.json"  # JSON, with the id inside
    path.write_text(json.dumps({"student_id": sid, **answers}), encoding="utf-8")
    return root / f"{sid}.json"


def _write_broken(root: Path, name: str, form: str, data: bytes) -> Path:
    if form == "dir":
        (root / name).mkdir()
        (root / name / "answers.yaml").write_bytes(data)
        return root / name
    if form == "empty":
        (root / name).mkdir()
        return root / name
    if form in ("zipbytes",):
        (root / f"{name}.zip").write_bytes(data)
        return root / f"{name}.zip"
    if form == "evilzip":
        with zipfile.ZipFile(root / f"{name}.zip", "w") as archive:
            archive.writestr("../escaped/answers.yaml", data)
        return root / f"{name}.zip"
    suffix = ".json" if form == "json" else ".yaml"
    (root / f"{name}{suffix}").write_bytes(data)
    return root / f"{name}{suffix}"


def generate_class(root: Path, assignment: str, size: int, *, seed: int = 420, broken: bool = True) -> list[Written]:
    """`size` submissions under root, the broken ones included when `broken`."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    bad = list(BROKEN.items())[: size // 5] if broken else []
    for index in range(size - len(bad)):
        sid = f"s{index + 1:03d}"
        answers = _answers(assignment, rng)
        path = _write_student(root, sid, answers, form=index % 4)
        written.append(Written(sid, path, broken=False, answers=answers))
    for name, (form, data) in bad:
        written.append(Written(name, _write_broken(root, name, form, data), broken=True))
    return written
