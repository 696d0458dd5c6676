"""Hostile answers to every kind of question of the four built-in assignments.

Each case is one submission: the hostile value for one question (as JSON, or as YAML text where
the YAML spelling is the point) and the assignment's anchor answer, which must still be graded.
The expression and matrix strings are the symbolic issue's tables (tests/test_symbolic_hostile.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.hostile.corpus import (
    ANCHORS,
    REFUSED,
    SECRET_ENV,
    Builder,
    Case,
    Expect,
    Scene,
    new_folder,
)
from tests.test_symbolic_hostile import BOMBS, BROKEN_LATEX, INJECTION, MATRIX_HOSTILE


class Yaml(str):
    """A value written as YAML text as is (a YAML number, `.nan`), not as JSON."""


# (name, value, expected status, piece of the feedback)
Row = tuple[str, Any, str | tuple[str, ...], str]

NUMBERS: list[Row] = [  # csc420-a2 q4_lenet_params (the anchor moves to q6a_tanh_range)
    ("huge integer", Yaml("1" + "0" * 4000), "incorrect", ""),
    ("huge exponent", Yaml("1e400"), "incorrect", ""),
    ("exponent bomb", Yaml("9e999999999"), "invalid", "out of range"),
    ("tiny number", Yaml("1e-400"), "incorrect", ""),
    ("tiny exponent bomb", Yaml("1e-999999999"), "invalid", "out of range"),
    ("nan", Yaml(".nan"), "invalid", "finite"),
    ("infinity", Yaml(".inf"), "invalid", "finite"),
    ("negative infinity", Yaml("-.inf"), "invalid", "finite"),
    ("JSON NaN literal", float("nan"), "invalid", "finite"),
    ("JSON Infinity literal", float("inf"), "invalid", "finite"),
    ("nan text", "NaN", "invalid", "not a number"),
    ("a list", [1] * 10, "invalid", "a list"),
    ("a mapping", {"a": 1}, "invalid", "a mapping"),
    ("a boolean", True, "invalid", "yes/no"),
    ("injection text", "__import__('os').system('x')", "invalid", "not a number"),
    ("arithmetic bomb", "9**9**9**9", "invalid", "not a number"),
    ("ten thousand digits as text", "1" * 10_000, "invalid", "characters long"),
    ("null byte", "61706\x00", "invalid", "not a number"),
    ("markup", "<script>alert(1)</script>", "invalid", "not a number"),
    ("a superscript digit", "¹", "invalid", "not a number"),
]

INTERVALS: list[Row] = [  # csc420-a2 q6a_tanh_range
    ("exponent bomb end", "(-1e999999, 1)", "invalid", "out of range"),
    ("nan ends", "(nan, nan)", "invalid", "not a number"),
    ("reversed infinities", "[inf, -inf]", "incorrect", ""),
    ("a number", 12, "invalid", "not an interval"),
    ("a list", ["(-1, 1)"], "invalid", "not an interval"),
    ("backtracking text", "(" + "a," * 50_000, "invalid", "characters long"),
    ("backtracking inequality", "1<" * 50_000, "invalid", "characters long"),
    ("thousands of digits", "(" + "9" * 5_000 + ", 1)", "invalid", "characters long"),
]

FREE_TEXT: list[Row] = [  # csc420-a2 q1_proof
    ("1.5 MB of text", "a" * 1_500_000, "manual", "kept for a person"),
    ("markup", "<script>alert(1)</script><img src=x onerror=alert(2)>", "manual", ""),
    ("a nested mapping", {"a": [{"b": [1, 2, {"c": None}]}]}, "manual", ""),
    ("control characters", "\x1b[2J\x1b[31mred\x07\r\n\x00", "manual", ""),
]

SCALAR_FORMULAS: list[Row] = [  # csc420-a2 q6b_tanh_grad: the symbolic issue's table
    *((f"injection: {n}", text, REFUSED, "your answer") for n, text in INJECTION),
    *((f"bomb: {n}", text, REFUSED, "your answer") for n, text in BOMBS),
    *((f"broken LaTeX: {n}", text, REFUSED, "your answer") for n, text in BROKEN_LATEX),
    ("a list", ["4*sigmoid(2*x)"], "invalid", "your answer"),
    ("a number", 4, "incorrect", ""),
    ("a superscript digit", "tanh¹(x)", "invalid", "cannot read"),
    ("a matrix product", "x @ x", "invalid", "matrix product"),
]

OUTPUT_FORMULAS: list[Row] = [  # csc420-a2 q5_sigmoid_grad_from_output
    ("a mapping", {"y": 1}, "invalid", "your answer"),
    ("walrus", "(y := 1)", REFUSED, "your answer"),
    ("2,000 characters", "y*" * 1_000 + "1", "invalid", "your answer"),
]

CSC420_MATRIX: list[Row] = [  # csc420-a2 q1_effective_weight over W1, b1, W2, b2
    ("dunder", "W2.__class__", REFUSED, "your answer"),
    ("numpy escape", "np.dot(W2, W1)", REFUSED, "your answer"),
    ("power bomb", "(W2 @ W1) ** 9**9", REFUSED, "your answer"),
    ("shape mismatch", "W1 @ W2 @ W1 @ W2", REFUSED, "your answer"),
    ("a nested list", [[1, 2, 3]] * 2, "invalid", "your answer"),
    ("products of numbers", "(2)(3)·4", "incorrect", "should be"),
    ("a matrix product of numbers", "2 @ 3", "incorrect", "@ with a number"),
]

CSC411_MATRIX: list[Row] = [  # csc411-a1 p3a_softmax_grad: the symbolic issue's matrix table
    *((f"matrix: {n}", text, REFUSED, "your answer") for n, text in MATRIX_HOSTILE),
]

ARRAYS: list[Row] = [  # tdt4265-a2 t1b_grad_shape_w1
    ("wrong rank", [[785, 64]], "incorrect", ""),
    ("three dimensions", [[[785], [64]]], "incorrect", ""),
    ("ragged rows", [[1, 2], [3]], "invalid", "different lengths"),
    ("a million entries", [0] * 1_000_000, "invalid", "more than 100,000"),
    ("a 1000x1000 matrix", [[0] * 1_000] * 1_000, "invalid", "more than 100,000"),
    ("nan entries", [float("nan"), 64], "invalid", "finite"),
    ("exponent bomb entry", ["1e999999", 64], "invalid", "out of range"),
    ("injection entry", [785, "64; rm -rf /"], "invalid", "not a number"),
    ("backtracking text", "785" + " " * 100_000 + "y", "invalid", "characters of text"),
    ("mixed levels", [785, [64]], "invalid", "mixes numbers and lists"),
]

TDT_MATRIX: list[Row] = [  # tdt4265-a2 t1a_hidden_delta over W, z, delta_out
    ("globals", "fprime.__globals__", REFUSED, "your answer"),
    ("import", "__import__('os').system('id')", REFUSED, "your answer"),
    ("transpose tower", "W" + ".T" * 3_000, "invalid", "your answer"),
    ("huge power", "fprime(z) ** 10**10", REFUSED, "your answer"),
]

TDT_NUMBERS: list[Row] = [  # tdt4265-a2 t4d_width_for_equal_params (arithmetic is read)
    ("square root of a negative", "sqrt(-1)", "invalid", "not a number"),
    ("factorial bomb", "(10^6)!", "invalid", "not a number"),
    ("division by zero", "1/0", "invalid", "divides by zero"),
]


def _big_fraction(i: int) -> str:
    return f"{10**98 + 7 * i + 1}/{10**98 + 3 * i + 2}"


NETWORKS: list[Row] = [  # apl405-hw2 q1_threshold_net
    ("non-numbers", {"W1": [["a"] * 5] * 4, "b1": [0] * 4, "w2": [-1] * 4, "b2": 0.5}, "invalid", "not a number"),
    ("huge integers", {"W1": [[10**400] * 5] * 4, "b1": [0] * 4, "w2": [-1] * 4, "b2": 0.5}, "invalid", "digits"),
    ("absurd shape", {"W1": [[0] * 1_000] * 1_000, "b1": [0] * 4, "w2": [-1] * 4, "b2": 0.5},
     "invalid", "should be a 4×5 array"),
    ("nan and infinity", {"W1": [[float("nan")] * 5] * 4, "b1": [float("inf")] * 4, "w2": [-1] * 4, "b2": 0.5},
     "invalid", "not a number"),
    ("a string", "__import__('os').system('id')", "invalid", "should be a mapping"),
    ("a list", [[0] * 5] * 4, "invalid", "should be a mapping"),
    ("an empty mapping", {}, "invalid", "is missing"),
    ("ten thousand extra names", {f"W{i}": 0 for i in range(10_000)}, "invalid", "your answer"),
    ("99-digit fractions everywhere", {"W1": [[_big_fraction(5 * r + c) for c in range(5)] for r in range(4)],
                                       "b1": [_big_fraction(20 + r) for r in range(4)],
                                       "w2": [_big_fraction(30 + r) for r in range(4)], "b2": _big_fraction(40)},
     "incorrect", "your answer"),
]

CHOICES: list[Row] = [  # apl405-hw2 q2_relu_zero_grads (3 parts)
    ("a mapping", {"a": 1}, "invalid", "your answer"),
    ("a hundred thousand parts", ["yes"] * 100_000, "invalid", "3 part(s)"),
    ("nulls", [None, None, None], "invalid", "is not one of"),
    ("shell", "yes; rm -rf /", "invalid", "is not one of"),
    ("nested lists", [["yes"], ["no"], ["no"]], "invalid", "is not one of"),
]

EDGES: list[Row] = [  # apl405-hw2 q3a_graph
    ("501 edges", ["x -> z"] * 501, "invalid", "at most 500"),
    ("backtracking spaces", ["x" + " " * 100_000 + "-"], "invalid", "characters"),
    ("backtracking string", "x" + " " * 150_000 + "y", "invalid", "characters long"),
    ("mappings", [{"x": "z"}], "invalid", "not text"),
    ("a chain", ["x -> z -> h"], "invalid", "not an edge"),
    ("injected names", ["__import__ -> os"], "invalid", "not one of"),
    ("a number", 42, "invalid", "not a list of edges"),
]

APL_MATRIX: list[Row] = [  # apl405-hw2 q3b_x_bar
    ("attribute call", "W1.T.dot(x)", REFUSED, "your answer"),
    ("lambda", "(lambda: 1)()", REFUSED, "your answer"),
]

TABLES: list[tuple[str, str, list[Row]]] = [
    ("csc420-a2", "q4_lenet_params", NUMBERS),
    ("csc420-a2", "q6a_tanh_range", INTERVALS),
    ("csc420-a2", "q1_proof", FREE_TEXT),
    ("csc420-a2", "q6b_tanh_grad", SCALAR_FORMULAS),
    ("csc420-a2", "q5_sigmoid_grad_from_output", OUTPUT_FORMULAS),
    ("csc420-a2", "q1_effective_weight", CSC420_MATRIX),
    ("tdt4265-a2", "t1b_grad_shape_w1", ARRAYS),
    ("tdt4265-a2", "t1a_hidden_delta", TDT_MATRIX),
    ("tdt4265-a2", "t4d_width_for_equal_params", TDT_NUMBERS),
    ("apl405-hw2", "q1_threshold_net", NETWORKS),
    ("apl405-hw2", "q2_relu_zero_grads", CHOICES),
    ("apl405-hw2", "q3a_graph", EDGES),
    ("apl405-hw2", "q3b_x_bar", APL_MATRIX),
    ("csc411-a1", "p3a_softmax_grad", CSC411_MATRIX),
]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40]


def _anchor(assignment: str, qid: str) -> tuple[str, Any, str]:
    if (assignment, qid) == ("csc420-a2", "q4_lenet_params"):  # that anchor is the question itself
        return "q6a_tanh_range", "(-1, 1)", "correct"
    return ANCHORS[assignment]


def _value_case(scene: Scene, assignment: str, qid: str, row: Row) -> Case:
    name, value, status, message = row
    folder = new_folder(scene, assignment, f"v_{qid}_{_slug(name)}")
    anchor_id, anchor_value, anchor_status = _anchor(assignment, qid)
    if isinstance(value, Yaml):
        (folder / "answers.yaml").write_text(f"{qid}: {value}\n{anchor_id}: {json.dumps(anchor_value)}\n")
    else:  # NaN and Infinity become JavaScript literals, which the JSON loader reads
        (folder / "answers.json").write_text(json.dumps({qid: value, anchor_id: anchor_value}, separators=(",", ":")))
    return Case(f"{qid}: {name}", assignment, folder, "values",
                {qid: Expect(status, message), anchor_id: Expect(anchor_status)})


def value_cases(scene: Scene) -> list[Case]:
    return [_value_case(scene, assignment, qid, row) for assignment, qid, rows in TABLES for row in rows]


def environment_names(scene: Scene) -> list[Case]:
    """Shell and template syntax naming the grader's secret: read as text, never expanded."""
    folder = new_folder(scene, "tdt4265-a2", "v_env_names")
    (folder / "answers.json").write_text(json.dumps({
        "t1a_hidden_delta": "${" + SECRET_ENV + "}", "t1b_grad_shape_w1": "$" + SECRET_ENV,
        "t4d_params_two_hidden": "{{ env." + SECRET_ENV + " }}", "t2d_params": 50890}))
    return [Case("environment variable names as answers", "tdt4265-a2", folder, "values", {
        "t1a_hidden_delta": Expect(REFUSED), "t1b_grad_shape_w1": Expect("invalid"),
        "t4d_params_two_hidden": Expect("invalid"), "t2d_params": Expect("correct")})]


BUILDERS: list[Builder] = [value_cases, environment_names]
