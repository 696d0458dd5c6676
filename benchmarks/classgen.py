"""A generated class: submissions written the way students write them, right, wrong in the
usual ways, unreadable, and broken files, for batch tests and benchmarks.

`generate_class(root, "csc420-a2", 56)` writes folders, answers files and zips under root and
returns what it wrote: answers only, every question kind that takes a typed answer.
`generate_class(root, "apl405-hw2", 40, files=True)` also gives the questions that take a file
their file: trained models (good, noisy, wrong architecture, pickled whole, NaN, junk, absent)
and Python code (right, a known mistake, raising, not compiling, hanging), most submissions then
being folders or zips. Deterministic for a given seed; the answers-only class of a seed is the
same with or without files.
"""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

MISSING = object()
EXAMPLES = Path(__file__).resolve().parent.parent / "submissions_example"
ASSIGNMENTS = ("csc420-a2", "apl405-hw2", "csc411-a1", "tdt4265-a2")

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
        "q1_threshold_net": [
            {"W1": [[-1, 1, 0, 0, 0], [0, -1, 1, 0, 0], [0, 0, -1, 1, 0], [0, 0, 0, -1, 1]],
             "b1": [0, 0, 0, 0], "w2": [-1, -1, -1, -1], "b2": 0.5},
            {"W1": [[-1, 1, 0, 0, 0], [0, -1, 1, 0, 0], [0, 0, -1, 1, 0], [0, 0, 0, -1, 1]],
             "b1": [0, 0, 0, 0], "w2": [-1, -1, -1, -1], "b2": 0.5},
            {"W1": [[1, -1, 0, 0, 0], [0, 1, -1, 0, 0], [0, 0, 1, -1, 0], [0, 0, 0, 1, -1]],
             "b1": [-0.001, -0.001, -0.001, -0.001], "w2": [1, 1, 1, 1], "b2": -4},
            {"W1": [[1, 2], [3]], "b1": "zero", "w2": [1, 1, 1, 1], "b2": "x"},
            "see the attached figure", MISSING],
        "q3b_x_bar": ["W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s) + r)) + (y_hat - s)",
                      "W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s) + r)) + (y_hat - s)",
                      "W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s) + r))",
                      "W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s) + r)", MISSING],
    },
    "csc411-a1": {
        "p3a_softmax_grad": ["(P - Y) @ X.T", "(P-Y)@X.T", "(P - Y) @ X.T", "X @ (P - Y).T",
                             "(Y - P) @ X.T", "(P - Y) @@ X.T", MISSING],
        "p6_complexity": ["Backpropagation reuses each layer's error signal, so all gradients cost "
                          "about one forward pass.", "It is faster.", MISSING],
    },
    "tdt4265-a2": {
        "t1a_hidden_delta": ["fprime(z) * (W.T @ delta_out)", "fprime(z) * (W.T @ delta_out)",
                             "fprime(z) * (W @ delta_out)", "fprime(z) * (W.T @ delta_out", MISSING],
        "t1b_grad_shape_w1": [[785, 64], "(785, 64)", [64, 785], "785 by 64 by"],
        "t1b_grad_shape_w2": ["(64, 10)", [64, 10], [10, 64], MISSING],
        "t2d_params": [50890, "50,890", 50880, "fifty thousand"],
        "t4d_width_for_equal_params": ["≈ 59.48", 59.48, 64, [59.48], MISSING],
        "t4d_params_two_hidden": [55050, "55 050", 54976, MISSING],
        "t4e_params_ten_hidden": ["88,330", 88330, 87680, MISSING],
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


def _write_student(root: Path, sid: str, answers: dict[str, Any], form: int,
                   attached: dict[str, bytes] | None = None) -> Path:
    text = yaml.safe_dump(answers, allow_unicode=True, sort_keys=False)
    if form == 0:  # a folder
        folder = root / sid
        folder.mkdir()
        (folder / "answers.yaml").write_text(text, encoding="utf-8")
        for name, data in (attached or {}).items():
            (folder / name).write_bytes(data)
        return folder
    if form == 1:  # a single answers file
        path = root / f"{sid}.yaml"
        path.write_text(text, encoding="utf-8")
        return path
    if form == 2:  # a zip of a folder
        path = root / f"{sid}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(f"{sid}/answers.yaml", text)
            for name, data in (attached or {}).items():
                archive.writestr(f"{sid}/{name}", data)
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


def generate_class(root: Path, assignment: str, size: int, *, seed: int = 420, broken: bool = True,
                   files: bool = False) -> list[Written]:
    """`size` submissions under root, the broken ones included when `broken`; with `files`,
    the questions answered by a file get one (models, code)."""
    rng = random.Random(seed)
    file_rng = random.Random(seed + 1)  # a stream of its own: the answers stay the same
    root.mkdir(parents=True, exist_ok=True)
    written = []
    bad = list(BROKEN.items())[: size // 5] if broken else []
    for index in range(size - len(bad)):
        sid = f"s{index + 1:03d}"
        answers = _answers(assignment, rng)
        if files:
            form = FILE_FORMS[index % len(FILE_FORMS)]
            attached = _files(assignment, file_rng, answers)
            path = _write_student(root, sid, answers, form, attached)
        else:
            path = _write_student(root, sid, answers, form=index % 4)
        written.append(Written(sid, path, broken=False, answers=answers))
    for name, (form_name, data) in bad:
        written.append(Written(name, _write_broken(root, name, form_name, data), broken=True))
    return written


# --- files: models and code -------------------------------------------------------------------

Maker = Callable[[random.Random], bytes | None]  # None: the answer names a file not submitted
FILE_FORMS = (0, 0, 2, 0, 2, 0, 0, 2, 0, 1)  # mostly folders and zips; one in ten sends no files


def _copy(relative: str) -> Maker:
    return lambda rng: (EXAMPLES / relative).read_bytes()


def _noisy(relative: str, scale: float) -> Maker:
    """The good model with Gaussian noise of `scale` times each tensor's spread: lower accuracy."""
    def make(rng: random.Random) -> bytes:
        from safetensors.numpy import load, save

        noise = np.random.default_rng(rng.randrange(2**32))
        tensors = load((EXAMPLES / relative).read_bytes())
        return save({k: (v + noise.normal(0, scale * float(v.std()) + 1e-6, v.shape)).astype(v.dtype)
                     for k, v in tensors.items()})
    return make


def _nan(relative: str) -> Maker:
    def make(rng: random.Random) -> bytes:
        from safetensors.numpy import load, save

        tensors = load((EXAMPLES / relative).read_bytes())
        first = sorted(tensors)[0]
        tensors[first] = np.full_like(tensors[first], np.nan)
        return save(tensors)
    return make


def _junk(rng: random.Random) -> bytes:
    return rng.randbytes(4096)


def _absent(rng: random.Random) -> None:
    return None


def _code(text: str) -> Maker:
    return lambda rng: text.encode()


GRADIENT_RAISES = "def basic_gradient(W, x, b, y):\n    raise NotImplementedError('todo')\n"
GRADIENT_BROKEN = "def basic_gradient(W, x, b, y)\n    return W\n"
GRADIENT_SHAPE = ("import numpy as np\n\ndef basic_gradient(W, x, b, y):\n"
                  "    return np.zeros(3), np.zeros(2)\n")
MOMENTUM_HANGS = "def momentum_step(W, grad, velocity, lr, momentum):\n    while True:\n        pass\n"
MOMENTUM_RAISES = "def momentum_step(W, grad, velocity, lr, momentum):\n    return W - lr * gradient\n"

# For each question answered by a file: (file name, how to make it), right ones first. Picked
# with equal chance, so repeats set the mix.
FILES: dict[str, dict[str, list[tuple[str, Maker]]]] = {
    "csc420-a2": {"p2_mlp_model": [
        ("model.safetensors", _copy("csc420-a2/alice/model.safetensors")),
        ("model.safetensors", _copy("csc420-a2/alice/model.safetensors")),
        ("model.safetensors", _copy("csc420-a2/alice/model.safetensors")),
        ("model.safetensors", _noisy("csc420-a2/alice/model.safetensors", 0.8)),
        ("model.pt", _copy("csc420-a2/bob/model.pt")),  # wrong architecture
        ("model.pt", _copy("csc420-a2/dave/model.pt")),  # a pickled module: refused
        ("model.safetensors", _nan("csc420-a2/alice/model.safetensors")),
        ("model.safetensors", _junk),
        ("model.safetensors", _absent),
    ]},
    "tdt4265-a2": {"t2_model": [
        ("model.safetensors", _copy("tdt4265-a2/alice/model.safetensors")),
        ("model.safetensors", _copy("tdt4265-a2/alice/model.safetensors")),
        ("model.pt", _copy("tdt4265-a2/bob/model.pt")),  # weak: partial credit
        ("model.safetensors", _noisy("tdt4265-a2/alice/model.safetensors", 1.5)),
        ("model.safetensors", _junk),
    ]},
    "apl405-hw2": {
        "q4_v_model": [
            ("fnn.safetensors", _copy("apl405-hw2/alice/fnn.safetensors")),
            ("fnn.safetensors", _copy("apl405-hw2/alice/fnn.safetensors")),
            ("fnn.safetensors", _noisy("apl405-hw2/alice/fnn.safetensors", 0.8)),
            ("fnn.safetensors", _absent),
        ],
        "q4_xiii_model": [
            ("fivelayers.pt", _copy("apl405-hw2/alice/fivelayers.pt")),
            ("fivelayers.pt", _copy("apl405-hw2/alice/fivelayers.pt")),
            ("fivelayers.pt", _junk),
        ],
        "q5_ii_model": [
            ("cnn.safetensors", _copy("apl405-hw2/alice/cnn.safetensors")),
            ("cnn.safetensors", _copy("apl405-hw2/alice/cnn.safetensors")),
            ("cnn.safetensors", _noisy("apl405-hw2/alice/cnn.safetensors", 0.6)),
            ("cnn.safetensors", _copy("apl405-hw2/bob/cnn.safetensors")),  # wrong architecture
            ("cnn.safetensors", _nan("apl405-hw2/alice/cnn.safetensors")),
        ],
    },
    "csc411-a1": {
        "p3b_gradient_code": [
            ("gradient.py", _copy("csc411-a1/alice/gradient.py")),
            ("gradient.py", _copy("csc411-a1/alice/gradient.py")),
            ("gradient.py", _copy("csc411-a1/alice/gradient.py")),
            ("gradient.py", _copy("csc411-a1/bob/gradient.py")),  # a known mistake
            ("gradient.py", _code(GRADIENT_RAISES)),
            ("gradient.py", _code(GRADIENT_BROKEN)),
            ("gradient.py", _code(GRADIENT_SHAPE)),
        ],
        "p4_momentum_code": [
            *[("momentum.py", _copy("csc411-a1/alice/momentum.py"))] * 40,
            *[("momentum.py", _copy("csc411-a1/bob/momentum.py"))] * 12,  # a known mistake
            *[("momentum.py", _code(MOMENTUM_RAISES))] * 7,
            ("momentum.py", _code(MOMENTUM_HANGS)),  # runs into the 10 s time limit: rare
        ],
    },
}
UNREADABLE_FILE_ANSWERS = ["../../../etc/passwd", 42, "my_model"]


def _files(assignment: str, rng: random.Random, answers: dict[str, Any]) -> dict[str, bytes]:
    """Pick a file for every question answered by one; set its answer; the files to write."""
    attached: dict[str, bytes] = {}
    for question, variants in FILES.get(assignment, {}).items():
        if rng.random() < 0.08:  # an unreadable answer: no file
            answers[question] = rng.choice(UNREADABLE_FILE_ANSWERS)
            continue
        name, make = rng.choice(variants)
        data = make(rng)
        answers[question] = name
        if data is not None:
            attached[name] = data
    return attached
