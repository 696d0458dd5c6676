"""The decision procedure cannot be gamed: every class of issue 13, as tables of named cases.

Each row is what a determined student could write. A wrong answer must never be `correct`
(`incorrect`, or `invalid` for a person); an equal answer, however it is written, is `correct`.
The last tests generate a few hundred wrong answers (a correct form plus one perturbation of
each class) and assert that none is `correct`. Checks run in-process.
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.checkers.base import GradingContext, Verdict
from grader.core.report import Status
from grader.core.rubric import load_rubric, resolve_assignment
from grader.mathparse import parse_scalar
from grader.mathparse.equivalence import ProbeSpace, compare


@pytest.fixture(autouse=True)
def _in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_MATH_INPROCESS", "1")


_QUESTIONS: dict[tuple[str, str], Any] = {}


def grade(assignment: str, question: str, answer: str) -> Verdict:
    key = (assignment, question)
    if key not in _QUESTIONS:
        _QUESTIONS[key] = load_rubric(resolve_assignment(assignment)).rubric.question(question)
    ctx = GradingContext(submission_root=None, student="s1")
    result: Verdict = _QUESTIONS[key].grade(answer, ctx)
    return result


Q6B = ("csc420-a2", "q6b_tanh_grad")
Q5 = ("csc420-a2", "q5_sigmoid_grad_from_output")
P3A = ("csc411-a1", "p3a_softmax_grad")
T1A = ("tdt4265-a2", "t1a_hidden_delta")
Q3B = ("apl405-hw2", "q3b_x_bar")
R = "4σ(2x)(1-σ(2x))"
Y = "y*(1-y)"
NOT_CORRECT = {Status.INCORRECT, Status.PARTIAL, Status.INVALID}

# --- wrong: each class of issue 13 -------------------------------------------------------------

WRONG = [
    # cancellation: a large constant added and taken away hides nothing
    *[(f"cancel_1e{k}_tilt", Q6B, f"{R} + 1e-3*x + 1e{k} - 1e{k}") for k in (6, 12, 15, 100, 300)],
    *[(f"cancel_1e{k}_scaled", Q6B, f"0.36*{R} + 1e{k} - 1e{k}") for k in (6, 12, 15, 300)],
    ("cancel_q5", Q5, f"0.64*{Y} + 1e15 - 1e15"),
    ("cancel_matrix_zero", P3A, "0*W + 1e15 - 1e15"),
    ("cancel_matrix_f_prime_left_out", T1A, "W.T @ delta_out + 1e15 - 1e15"),
    ("cancel_matrix_1e300", P3A, "(P - Y) @ X.T + 1e300 - 1e300 + 1e-9*W"),
    # far out: a difference outside the typical range
    ("relu_beyond_3", Q6B, f"{R} + relu(x-3)"),
    ("relu_beyond_1e6", Q6B, f"{R} + relu(x-1e6)"),
    ("relu_below_minus_1e6", Q6B, f"{R} + relu(-x-1e6)"),
    ("tiny_exponential", Q6B, f"{R} + 1e-40*exp(x)"),
    ("tiny_exponential_left", Q6B, f"{R} + 1e-40*exp(-x)"),
    ("q5_relu_near_one", Q5, f"{Y} + relu(y-0.99)"),
    ("q5_relu_near_zero", Q5, f"{Y} + relu(0.001-y)"),
    ("q5_tiny_exponential", Q5, f"{Y} + 1e-40*exp(z)"),
    # narrow bumps: a kink is a breakpoint, and every piece is probed
    ("bump_1e-6", Q6B, f"{R} + relu(1e-6-(x-0.0075)^2)"),
    ("bump_1e-20", Q6B, f"{R} + relu(1e-20-(x-0.3)^2)"),
    ("bump_abs", Q6B, f"{R} + relu(1e-3-abs(x-1.234))"),
    ("step", Q6B, f"{R} + relu_prime(x-2)*1e-9"),
    ("smooth_kink", Q6B, f"{R} + (x-0.5)^2*relu(x-0.5)*1e-100"),
    ("bump_in_sigma", Q6B, f"{R} + relu(1e-12 - (σ(x) - 0.6)^2)"),
    ("bump_in_abs_sigma", Q6B, f"{R} + relu(1e-12 - abs(σ(x) - 0.6))"),
    ("bump_in_exp", Q6B, f"{R} + relu(1e-12 - (exp(x) - 7)^2)"),
    ("bump_at_a_cubic_root", Q6B, f"{R} + relu(1e-30 - (x^3 - x - 0.1)^2)"),
    ("bump_under_sqrt", Q6B, f"{R} + sqrt(relu(1e-9 - (sinh(x) - 2)^2))"),
    # tiny terms everywhere
    ("relative_1e-200", Q6B, f"{R}*(1 + 1e-200)"),
    ("cubic_1e-300", Q6B, f"{R} + 1e-300*x^3"),
    ("matrix_tiny_exponential", P3A, "(P - Y) @ X.T + 1e-40*exp(W)"),
    ("matrix_relu_far", P3A, "(P - Y) @ X.T + relu(W - 2.9)"),
    # undefined pieces
    ("sqrt_squared_over_x", Q6B, f"({R})*sqrt(x)^2/x"),
    ("exp_log_over_x", Q6B, f"({R})*exp(log(x))/x"),
    ("sqrt_of_square_over_x", Q6B, f"({R})*sqrt(x^2)/x"),
    ("abs_over_x", Q6B, f"({R})*abs(x)/x"),
    ("log_minus_log", Q6B, f"{R} + log(x) - log(x)"),
    ("matrix_log_of_weights", P3A, "(P - Y) @ X.T + 0*log(W)"),
]


@pytest.mark.parametrize(("question", "answer"), [r[1:] for r in WRONG], ids=[r[0] for r in WRONG])
def test_a_wrong_answer_is_never_correct(question: tuple[str, str], answer: str) -> None:
    verdict = grade(*question, answer)
    assert verdict.status in NOT_CORRECT, verdict.feedback
    assert verdict.credit < 1


UNDEFINED = [
    ("sqrt_squared_over_x", f"({R})*sqrt(x)^2/x"),
    ("exp_log_over_x", f"({R})*exp(log(x))/x"),
    ("sqrt", "sqrt(x)"),
]


@pytest.mark.parametrize("answer", [a for _, a in UNDEFINED], ids=[n for n, _ in UNDEFINED])
def test_no_real_value_is_incorrect_and_says_where(answer: str) -> None:
    verdict = grade(*Q6B, answer)
    assert verdict.status is Status.INCORRECT
    assert "no real value at x = -" in verdict.feedback


# --- equal: correct however written -------------------------------------------------------------

EQUAL = [
    *[(f"cancel_1e{k}", Q6B, f"{R} + 1e{k} - 1e{k}") for k in (6, 15, 100, 300)],
    ("cancel_grouped", Q6B, f"({R} + 1e300) - 1e300"),
    ("scale_and_unscale", Q6B, f"{R}*1e300/1e300"),
    ("cancelled_sigmoids", Q6B, "4*sigmoid(2x)-4*sigmoid(2x)^2 + 1e300*(sigmoid(x)-sigmoid(x))"),
    ("nested_radicals", Q6B, "(sqrt(11+6*sqrt(2))-sqrt(2)+1)*σ(2x)(1-σ(2x))"),
    ("removable_point", Q6B, f"{R}*x/x"),
    ("steep_tanh_cancelled", Q6B, f"{R}+tanh(1000*(x-1))+1-tanh(1000*(x-1))-1"),
    ("sqrt_of_zero", Q6B, f"{R} + sqrt(x-x)"),
    ("q5_sqrt_squared", Q5, "sqrt(y)^2*(1-y)"),
    ("q5_exp_log", Q5, "exp(log(y))*(1-y)"),
    ("q5_log_over_log", Q5, "y*(1-y)*log(y)/log(y)"),
    ("q5_cancel", Q5, "y - y^2 + 1e15 - 1e15"),
    ("matrix_cancel", P3A, "(P - Y) @ X.T + 1e15 - 1e15"),
    ("matrix_cancel_1e300", P3A, "(P-Y)@X.T + 1e300 - 1e300"),
    ("matrix_f_prime_cancel", T1A, "fprime(z) * (W.T @ delta_out) + 1e15 - 1e15"),
    ("matrix_sigmoid_prime_written_out", Q3B,
     "W1.T @ (h*(1-h) * (W2.T @ (y_hat - s) + r)) + (y_hat - s)"),
]


@pytest.mark.parametrize(("question", "answer"), [r[1:] for r in EQUAL], ids=[r[0] for r in EQUAL])
def test_an_equal_answer_is_correct(question: tuple[str, str], answer: str) -> None:
    verdict = grade(*question, answer)
    assert verdict.status is Status.CORRECT, verdict.feedback


CONSTANTS = [
    ("nested_radical", "sqrt(11+6*sqrt(2))", "3+sqrt(2)", "equal"),
    ("nested_radical_5", "sqrt(5+2*sqrt(6))", "sqrt(2)+sqrt(3)", "equal"),
    ("log_of_product", "log(6)", "log(2)+log(3)", "equal"),
    ("almost_a_radical", "sqrt(11+6*sqrt(2))", "3+sqrt(2)+1e-250", "different"),
    ("e_and_pi", "e^pi", "pi^e", "different"),
]


@pytest.mark.parametrize(
    ("got", "expected", "outcome"), [r[1:] for r in CONSTANTS], ids=[r[0] for r in CONSTANTS]
)
def test_constants_are_compared_by_value_not_by_simplification(
    got: str, expected: str, outcome: str
) -> None:
    space = ProbeSpace({"x": (-3.0, 3.0)})
    result = compare(parse_scalar(f"({got})*x"), parse_scalar(f"({expected})*x"), space)
    assert result.outcome == outcome, result.reason


# --- form rules judge what the answer depends on -------------------------------------------------

DECORATIONS = [
    ("zero_times_sigma", Q6B, "1-tanh(x)^2 + 0*sigmoid(x)", Status.PARTIAL),
    ("sigma_minus_sigma", Q6B, "1-tanh(x)^2 + sigmoid(x) - sigmoid(x)", Status.PARTIAL),
    ("zero_times_tanh_is_harmless", Q6B, f"{R} + 0*tanh(x)", Status.CORRECT),
    ("q5_zero_times_z_is_harmless", Q5, f"{Y} + 0*z", Status.CORRECT),
    ("q5_z_minus_z_is_harmless", Q5, f"{Y} + z - z", Status.CORRECT),
    ("q5_zero_times_sigma_is_harmless", Q5, f"{Y} + 0*sigmoid(z)", Status.CORRECT),
    ("q5_really_uses_z", Q5, "y(1-σ(z))", Status.PARTIAL),
]


@pytest.mark.parametrize(
    ("question", "answer", "status"), [r[1:] for r in DECORATIONS], ids=[r[0] for r in DECORATIONS]
)
def test_form_rules_ignore_terms_that_vanish(
    question: tuple[str, str], answer: str, status: Status
) -> None:
    assert grade(*question, answer).status is status


# --- generated: a correct form plus one perturbation of each class -----------------------------

Q6B_CORRECT = ["4σ(2x)(1-σ(2x))", "4σ(2x)σ(-2x)", "4*sigmoid(2*x) - 4*sigmoid(2*x)^2",
               "2*d/dx σ(2x)"]
Q5_CORRECT = ["y(1-y)", "y - y^2"]


def _perturbations(base: str, var: str, inner: str) -> list[str]:
    """`inner` is the variable the kinks are placed in (x, or y whose range is (0, 1))."""
    b = f"({base})"
    out = []
    for k in ("1e6", "1e12", "1e15", "1e100", "1e300"):
        out += [f"{b} + 1e-3*{var} + {k} - {k}", f"0.36*{b} + {k} - {k}",
                f"{b} + {k}*{var} - {k}*{var} + 1e-9"]
    for a in (("3", "10", "1e3", "1e6") if inner == "x" else ("0.99", "0.9999", "0.5")):
        out += [f"{b} + relu({inner} - {a})", f"{b} + relu_prime({inner} - {a})*1e-9"]
    if inner == "x":
        out += [f"{b} + relu(-x - {a})" for a in ("3", "1e6")]
    out += [f"{b} + 1e-40*exp({var})", f"{b} + 1e-40*exp(-{var})"]
    centres = ("0.0075", "0.3", "2.5") if inner == "x" else ("0.25", "0.5", "0.999")
    for c in centres:
        for w in ("1e-6", "1e-12"):
            out += [f"{b} + relu({w} - ({inner} - {c})^2)", f"{b} + relu({w} - abs({inner} - {c}))"]
    if inner == "x":
        out += [f"{b}*sqrt(x)^2/x", f"{b}*exp(log(x))/x", f"{b}*sqrt(x^2)/x", f"{b}*abs(x)/x",
                f"{b} + log(x) - log(x)", f"{b} + sqrt(x) - sqrt(x)"]
    else:
        out += [f"{b} + log(y - 0.5) - log(y - 0.5)", f"{b}*sqrt(y-0.3)^2/(y-0.3)"]
    out += [f"{b}*(1 + 1e-{n})" for n in ("12", "50", "200")]
    out += [f"{b} + 1e-{n}*{var}^2" for n in ("20", "150", "300")]
    return out


GENERATED = [(Q6B, p) for base in Q6B_CORRECT for p in _perturbations(base, "x", "x")] + [
    (Q5, p) for base in Q5_CORRECT for p in _perturbations(base, "z", "y")
]
MATRIX_GENERATED = [
    (P3A, f"(P - Y) @ X.T {tail}")
    for tail in ("+ 1e-9*W", "+ 1e-40*exp(W)", "+ relu(W - 2.9)", "+ 1e15*W - 1e15*W + 1e-6*W",
                 "+ 1e300 - 1e300 + 1e-200*W", "* (1 + 1e-100)", "+ 0*log(W)", "+ 0*sqrt(W)")
] + [
    (T1A, f"fprime(z) * (W.T @ delta_out) {tail}")
    for tail in ("+ 1e-9*z", "+ 1e-40*exp(z)", "+ relu(z - 2.9)", "+ 1e15 - 1e15 + 1e-12",
                 "* (1 + 1e-100)", "+ 0*log(z)", "+ 0*sqrt(delta_out)")
]


def test_a_few_hundred_generated_wrong_answers_are_never_correct() -> None:
    assert len(GENERATED) >= 200
    correct = [answer for question, answer in GENERATED
               if grade(*question, answer).status is Status.CORRECT]
    assert correct == []


def test_generated_wrong_matrix_answers_are_never_correct() -> None:
    correct = [answer for question, answer in MATRIX_GENERATED
               if grade(*question, answer).status is Status.CORRECT]
    assert correct == []


def test_every_correct_base_is_correct() -> None:
    """The perturbations above start from forms that are themselves correct."""
    for base in Q6B_CORRECT:
        assert grade(*Q6B, base).status is Status.CORRECT, base
    for base in Q5_CORRECT:
        assert grade(*Q5, base).status is Status.CORRECT, base


def test_probe_points_follow_the_answer_not_the_source() -> None:
    """Points are drawn from a seed derived from the formulas: the same answer, the same points
    (a pure function), and different answers get different points."""
    from grader.mathparse.equivalence import _seed

    a, b = parse_scalar("x^2"), parse_scalar("x^2 + 0")
    assert _seed(a, [a]) == _seed(a, [a])
    assert _seed(a, [a]) != _seed(b, [a])


# --- undecided: never correct, never wrong, listed for a person ----------------------------------

UNDECIDABLE = [
    ("polynomial_of_degree_30_under_relu", f"{R} + relu(x^30 - 0.5)"),
    ("huge_coefficients_under_relu", f"{R} + relu((0.123456789*x - 0.987654321)^24 - 1e-300)"),
]


@pytest.mark.parametrize("answer", [a for _, a in UNDECIDABLE], ids=[n for n, _ in UNDECIDABLE])
def test_an_undecidable_answer_goes_to_a_person(answer: str) -> None:
    verdict = grade(*Q6B, answer)
    assert verdict.status is Status.INVALID
    assert verdict.feedback.startswith(
        "your answer could not be checked automatically; a person will look"
    )
    assert verdict.details["needs_person"]


def test_the_summary_and_the_groups_list_what_a_person_must_check(tmp_path: Any) -> None:
    from grader.batch.groups import group_answers, render_groups
    from grader.batch.summary import build_summary
    from grader.core.report import QuestionResult, Report

    answer = UNDECIDABLE[0][1]
    verdict = grade(*Q6B, answer)
    result = QuestionResult(id=Q6B[1], score=0.0, max_score=7.0, status=verdict.status,
                            feedback=verdict.feedback, answer=answer, details=verdict.details)
    report = Report.from_results([result], assignment="csc420-a2", submission="eve")
    (tmp_path / "reports").mkdir()
    path = tmp_path / "reports" / "eve.json"
    rubric = load_rubric(resolve_assignment("csc420-a2")).rubric
    summary = build_summary([(path, report)], rubric, outdir=tmp_path)
    assert [(n.submission, n.question, n.answer) for n in summary.needs_person] == [
        ("eve", Q6B[1], answer)
    ]
    question = rubric.question(Q6B[1])
    text = render_groups(question, group_answers(question, [report]))
    assert "a person must check" in text
