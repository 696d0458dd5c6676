"""Matrix-expression answers of the four built-in assignments, and the references behind them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from grader.checkers.base import GradingContext, Verdict
from grader.cli import cli
from grader.core.report import Status
from grader.core.rubric import load_rubric, resolve_assignment
from reference import get_reference


@pytest.fixture(autouse=True)
def _in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_MATH_INPROCESS", "1")


def grade(assignment: str, question: str, answer: Any) -> Verdict:
    rubric = load_rubric(resolve_assignment(assignment)).rubric
    return rubric.question(question).grade(
        answer, GradingContext(submission_root=None, student="s1")
    )


W = ("csc420-a2", "q1_effective_weight")
B = ("csc420-a2", "q1_effective_bias")
T1A = ("tdt4265-a2", "t1a_hidden_delta")
Q3B = ("apl405-hw2", "q3b_x_bar")
P3A = ("csc411-a1", "p3a_softmax_grad")

CORRECT = [
    ("q1w_numpy", W, "W2 @ W1"),
    ("q1w_latex_juxtaposed", W, "$W_2W_1$"),
    ("q1w_cdot", W, r"W_2 \cdot W_1"),
    ("q1w_double_transpose", W, "(W1.T @ W2.T).T"),
    ("q1b_numpy", B, "W2 @ b1 + b2"),
    ("q1b_reordered", B, "b2 + W2 b1"),
    ("q1b_latex", B, r"W_{2} b_{1} + b_{2}"),
    ("t1a_alice", T1A, "fprime(z) * (W.T @ delta_out)"),
    ("t1a_reordered", T1A, "(W.T @ delta_out) * fprime(z)"),
    ("t1a_math_notation", T1A, "f'(z) ⊙ (W^T δ_k)"),
    ("t1a_row_vector_product", T1A, "fprime(z) * (delta_out @ W)"),
    ("q3b_alice", Q3B, "W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s) + r)) + (y_hat - s)"),
    ("q3b_skip_first", Q3B, "(y_hat - s) + W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s) + r))"),
    ("q3b_with_h", Q3B, "W1.T @ (h * (1 - h) * (W2.T @ (y_hat - s) + r)) + y_hat - s"),
    ("q3b_sigma_prime_notation", Q3B, "W1^T (σ'(z) ⊙ (W2^T (ŷ - s) + r)) + ŷ - s"),
    ("p3a_alice", P3A, "(P - Y) @ X.T"),
    ("p3a_latex", P3A, r"(P - Y)X^{\top}"),
    ("p3a_distributed", P3A, "P @ X.T - Y @ X.T"),
    ("p3a_from_the_logits", P3A, "(softmax(W @ X + b) - Y) @ X.T"),
    ("p3a_negated", P3A, "-(Y - P) @ X.T"),
]


@pytest.mark.parametrize(
    ("question", "answer"), [(q, a) for _, q, a in CORRECT], ids=[n for n, _, _ in CORRECT]
)
def test_correct_matrix_forms(question: tuple[str, str], answer: str) -> None:
    verdict = grade(*question, answer)
    assert verdict.status is Status.CORRECT, verdict.feedback


WRONG = [
    (
        "q1w_order_reversed",
        W,
        "W1 @ W2",
        "product_order_reversed",
        "multiplies a 4×3 matrix by a 2×4 matrix",
    ),
    ("q1w_added", W, "W1 + W2", "weights_added", "adds a 4×3 matrix and a 2×4 matrix"),
    ("q1w_first_only", W, "W1", None, "4×3 matrix; the answer should be a 2×3 matrix"),
    ("q1w_transposed", W, "W1.T @ W2.T", None, "transpose"),
    ("q1w_doubled", W, "2*W2@W1", None, "2 times the correct value"),
    (
        "q1b_added",
        B,
        "b1 + b2",
        "biases_added",
        "adds a vector of length 4 and a vector of length 2",
    ),
    ("q1b_b2_only", B, "b2", "first_bias_left_out", ""),
    ("q1b_no_b2", B, "W2 @ b1", None, "other values"),
    ("q1b_minus", B, "W2 @ b1 - b2", None, "other values"),
    (
        "t1a_bob",
        T1A,
        "fprime(z) * (W @ delta_out)",
        "missing_transpose",
        "multiplies a 3×5 (K×J) matrix",
    ),
    ("t1a_no_derivative", T1A, "W.T @ delta_out", "derivative_left_out", ""),
    ("t1a_activation", T1A, "f(z) * (W.T @ delta_out)", "activation_instead_of_derivative", ""),
    ("t1a_doubled", T1A, "2 * fprime(z) * (W.T @ delta_out)", None, "2 times"),
    ("t1a_inner_product", T1A, "fprime(z) @ (W.T @ delta_out)", None, "a number"),
    (
        "q3b_bob_skip",
        Q3B,
        "W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s) + r))",
        "skip_term_left_out",
        "skip",
    ),
    (
        "q3b_no_r",
        Q3B,
        "W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s))) + (y_hat - s)",
        "regulariser_left_out",
        "",
    ),
    (
        "q3b_sign",
        Q3B,
        "-(W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s) + r)) + (y_hat - s))",
        "sign_error",
        "",
    ),
    (
        "q3b_no_transposes",
        Q3B,
        "W1 @ (sigmoid_prime(z) * (W2 @ (y_hat - s) + r)) + (y_hat - s)",
        "missing_transposes",
        "",
    ),
    (
        "q3b_both_left_out",
        Q3B,
        "W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s)))",
        None,
        "other values",
    ),
    (
        "q3b_sigmoid_not_prime",
        Q3B,
        "W1.T @ (h * (W2.T @ (y_hat - s) + r)) + (y_hat - s)",
        None,
        "other values",
    ),
    ("p3a_bob_transposed", P3A, "X @ (P - Y).T", "transposed", "transpose"),
    ("p3a_sign", P3A, "(Y - P) @ X.T", "sign_error", ""),
    ("p3a_no_transpose", P3A, "(P - Y) @ X", None, "cannot be computed"),
    ("p3a_targets_left_out", P3A, "P @ X.T", None, "other values"),
    ("p3a_elementwise", P3A, "(P - Y) * X.T", None, "multiplies element-wise"),
]


@pytest.mark.parametrize(
    ("question", "answer", "mistake", "fragment"), [r[1:] for r in WRONG], ids=[r[0] for r in WRONG]
)
def test_wrong_matrix_forms(
    question: tuple[str, str], answer: str, mistake: str | None, fragment: str
) -> None:
    verdict = grade(*question, answer)
    assert verdict.status in (Status.INCORRECT, Status.PARTIAL), verdict.feedback
    assert verdict.mistake == mistake
    assert fragment in verdict.feedback
    assert verdict.feedback.startswith("your answer")


UNREADABLE = [
    ("carol_double_at", P3A, "(P - Y) @@ X.T"),
    ("carol_unclosed", T1A, "fprime(z) * (W.T @ delta_out"),
    ("unknown_symbol", P3A, "(P - Q) @ X.T"),
    ("attribute", P3A, "P.__class__"),
    ("indexing_call", P3A, "X.T.dot(P)"),
]


@pytest.mark.parametrize(
    ("question", "answer"), [r[1:] for r in UNREADABLE], ids=[r[0] for r in UNREADABLE]
)
def test_unreadable_matrix_answers(question: tuple[str, str], answer: str) -> None:
    verdict = grade(*question, answer)
    assert verdict.status is Status.INVALID
    assert verdict.feedback.startswith("your answer")


# --- references are derived from the forward definitions -----------------------------------------

Q3B_WORLD = {
    "dims": {"K": 3, "N": 5},
    "symbols": {
        "W1": ["K", "N"],
        "b1": ["K"],
        "W2": ["N", "K"],
        "b2": ["N"],
        "x": ["N"],
        "s": ["N"],
        "r": ["K"],
    },
    "definitions": {
        "z": "W1 @ x + b1",
        "h": "sigmoid(z)",
        "y_hat": "x + W2 @ h + b2",
        "L": "0.5 * sum((y_hat - s)^2) + r @ h",
    },
}

DERIVED = [
    (
        "q3b",
        "matrix_gradient",
        {**Q3B_WORLD, "of": "L", "wrt": "x"},
        "y_hat - s + W1.T @ (sigmoid_prime(z)*(r + W2.T @ (y_hat - s)))",
    ),
    (
        "q3b_without_skip",
        "matrix_gradient",
        {
            **Q3B_WORLD,
            "definitions": {**Q3B_WORLD["definitions"], "y_hat": "W2 @ h + b2"},
            "of": "L",
            "wrt": "x",
        },
        "W1.T @ (sigmoid_prime(z)*(r + W2.T @ (y_hat - s)))",
    ),
    (
        "q3b_tanh_units",
        "matrix_gradient",
        {
            **Q3B_WORLD,
            "definitions": {**Q3B_WORLD["definitions"], "h": "tanh(z)"},
            "of": "L",
            "wrt": "x",
        },
        "y_hat - s + W1.T @ (tanh_prime(z)*(r + W2.T @ (y_hat - s)))",
    ),
    ("q3b_wrt_W2", "matrix_gradient", {**Q3B_WORLD, "of": "L", "wrt": "W2"}, "outer(y_hat - s, h)"),
    (
        "softmax_ce",
        "matrix_gradient",
        {
            "dims": {"k": 4, "n": 6, "m": 5},
            "symbols": {"W": ["k", "n"], "b": ["k", 1], "X": ["n", "m"], "Y": ["k", "m"]},
            "one_hot": ["Y"],
            "definitions": {"O": "W @ X + b", "P": "softmax(O)", "C": "-sum(Y * log(P))"},
            "of": "C",
            "wrt": "W",
        },
        "(P - Y) @ X.T",
    ),
    (
        "two_linear_layers_weight",
        "affine_collapse",
        {
            "symbols": {"W1": [4, 3], "b1": [4], "W2": [2, 4], "b2": [2], "x": [3]},
            "definitions": {"y1": "W1 @ x + b1", "y2": "W2 @ y1 + b2"},
            "input": "x",
            "output": "y2",
            "part": "weight",
        },
        "W2 @ W1",
    ),
    (
        "three_linear_layers_bias",
        "affine_collapse",
        {
            "symbols": {
                "W1": [4, 3],
                "b1": [4],
                "W2": [2, 4],
                "b2": [2],
                "W3": [5, 2],
                "b3": [5],
                "x": [3],
            },
            "definitions": {"y1": "W1 @ x + b1", "y2": "W2 @ y1 + b2", "y3": "W3 @ y2 + b3"},
            "input": "x",
            "output": "y3",
            "part": "bias",
        },
        "W3 @ (W2 @ b1 + b2) + b3",
    ),
    (
        "tanh_via_sigma",
        "derivative",
        {"expression": "tanh(x)", "in_terms_of": "sigmoid"},
        "4*(1 - sigmoid(2*x))*sigmoid(2*x)",
    ),
    ("logistic_output", "output_derivative", {"forward": "sigmoid(z)"}, "y*(1 - y)"),
    ("tanh_output", "output_derivative", {"forward": "tanh(z)"}, "(1 + y)*(1 - y)"),
]


@pytest.mark.parametrize(
    ("function", "params", "expected"), [r[1:] for r in DERIVED], ids=[r[0] for r in DERIVED]
)
def test_references_follow_their_parameters(
    function: str, params: dict[str, Any], expected: str
) -> None:
    assert get_reference(function).compute(params) == expected


def test_a_wrong_derivation_fails_the_finite_difference_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import reference.symbolic as symbolic

    monkeypatch.setitem(symbolic._DERIVATIVE_OF, "sigmoid", "sigmoid")  # a deliberately wrong rule
    with pytest.raises(ValueError, match="finite-difference"):
        get_reference("matrix_gradient").compute({**Q3B_WORLD, "of": "L", "wrt": "x"})


def test_shapes_must_use_distinct_dimension_sizes() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="distinct"):
        get_reference("matrix_gradient").compute(
            {**Q3B_WORLD, "dims": {"K": 4, "N": 4}, "of": "L", "wrt": "x"}
        )


def test_finite_differences_agree_with_the_derived_q3b_gradient() -> None:
    from grader.mathparse.matrix import draw, evaluate, parse_matrix
    from grader.mathparse.world import WorldSpec

    spec = WorldSpec.model_validate(Q3B_WORLD)
    world = spec.world()
    formula = parse_matrix(
        get_reference("matrix_gradient").compute({**Q3B_WORLD, "of": "L", "wrt": "x"}), world
    )
    env = draw(world, 99)

    def loss(x: Any) -> float:
        z = env["W1"] @ x + env["b1"]
        h = 1 / (1 + np.exp(-z))
        y_hat = x + env["W2"] @ h + env["b2"]
        return float(0.5 * np.sum((y_hat - env["s"]) ** 2) + env["r"] @ h)

    step = 1e-6
    numeric = np.array(
        [(loss(env["x"] + step * e) - loss(env["x"] - step * e)) / (2 * step) for e in np.eye(5)]
    )
    assert np.allclose(evaluate(formula, env, world)[0], numeric, rtol=1e-6)


# --- the example submissions, end to end ---------------------------------------------------------

EXAMPLES = [
    (
        "csc420-a2",
        "alice",
        {
            "q1_effective_weight": "correct",
            "q1_effective_bias": "correct",
            "q5_sigmoid_grad_from_output": "correct",
            "q6b_tanh_grad": "correct",
        },
    ),
    (
        "csc420-a2",
        "bob",
        {
            "q1_effective_weight": "incorrect",
            "q1_effective_bias": "incorrect",
            "q5_sigmoid_grad_from_output": "partial",
            "q6b_tanh_grad": "partial",
        },
    ),
    ("tdt4265-a2", "alice", {"t1a_hidden_delta": "correct"}),
    ("tdt4265-a2", "bob", {"t1a_hidden_delta": "incorrect"}),
    ("apl405-hw2", "alice", {"q3b_x_bar": "correct"}),
    ("apl405-hw2", "bob", {"q3b_x_bar": "partial"}),
    ("csc411-a1", "alice", {"p3a_softmax_grad": "correct"}),
    ("csc411-a1", "bob", {"p3a_softmax_grad": "partial"}),
]

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("assignment", "student", "statuses"), EXAMPLES, ids=[f"{a}-{s}" for a, s, _ in EXAMPLES]
)
def test_example_submissions_through_the_cli(
    assignment: str, student: str, statuses: dict[str, str]
) -> None:
    result = CliRunner().invoke(
        cli, ["grade", str(ROOT / "submissions_example" / assignment / student), "-a", assignment]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    got = {q["id"]: q["status"] for q in report["questions"] if q["id"] in statuses}
    assert got == statuses
