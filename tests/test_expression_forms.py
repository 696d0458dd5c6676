"""Scalar formula answers graded through the built-in rubrics: correct forms, wrong forms, feedback.

Each row is a form a student could write; the expected status (and the named mistake, where the
rubric lists one) is what a TA would give. Checks run in-process here; the worker has its own tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from grader.checkers.base import GradingContext, Verdict
from grader.core.report import Status
from grader.core.rubric import load_rubric, resolve_assignment


@pytest.fixture(autouse=True)
def _in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_MATH_INPROCESS", "1")


def grade(assignment: str, question: str, answer: Any, *, reveal: bool = False) -> Verdict:
    rubric = load_rubric(resolve_assignment(assignment)).rubric
    ctx = GradingContext(submission_root=None, student="s1", reveal_answers=reveal)
    return rubric.question(question).grade(answer, ctx)


Q6B = ("csc420-a2", "q6b_tanh_grad")
Q5 = ("csc420-a2", "q5_sigmoid_grad_from_output")

# --- correct forms: full marks -------------------------------------------------------------------

CORRECT_Q6B = [
    ("unicode_sigma", "4σ(2x)(1-σ(2x))"),
    ("latex", r"4\sigma(2x)(1-\sigma(2x))"),
    ("latex_dollars", r"$4\sigma(2x)(1-\sigma(2x))$"),
    ("plain_python", "4*sigmoid(2*x)*(1-sigmoid(2*x))"),
    ("seed_sigma_squared", r"4(\sigma(2x) - \sigma^2(2x))"),
    ("seed_text_sigmoid", r"4 \left(\text{sigmoid}(2x) - \text{sigmoid}^2(2x) \right)"),
    ("seed_frac_derivative", r"2 \frac{d \sigma(2x)}{dx}"),
    ("plain_derivative", "2·d/dx σ(2x)"),
    ("unicode_minus_superscript", "4σ(2x) − 4σ(2x)²"),
    ("word_sigma_spaces", "4 sigma(2x) (1 - sigma(2x))"),
    ("symmetry", "4σ(2x)σ(-2x)"),
    ("frac_d_dx_of_tanh_identity", r"\frac{d}{dx}\left(2\sigma(2x) - 1\right)"),
    ("eight_halves", "8σ(2x)(1-σ(2x))/2"),
    ("sigma_prime", "4*σ'(2x)"),
    ("cdot", r"4\sigma(2x)\cdot(1-\sigma(2x))"),
    ("with_lhs", "tanh'(x) = 4σ(2x)(1 - σ(2x))"),
    ("brackets", "4[σ(2x) − σ(2x)^2]"),
    ("double_star", "4 * (sigmoid(2 x) - sigmoid(2 x) ** 2)"),
    ("left_right_brackets", r"4\sigma(2x)\left[1-\sigma(2x)\right]"),
    ("nested_factor", "2*(2*σ(2x)*(1-σ(2x)))"),
    ("negated_factors", "-4σ(2x)(σ(2x) - 1)"),
    ("latex_spacing", r"4\,\sigma(2x)\,(1-\sigma(2x))"),
    ("expanded", "4*sigmoid(2*x) - 4*sigmoid(2*x)^2"),
    ("half_written_out", "4/(1+e^(-2x)) * (1 - σ(2x))"),
]

CORRECT_Q5 = [
    ("implicit", "y(1-y)"),
    ("explicit", "y*(1-y)"),
    ("expanded", "y - y^2"),
    ("superscript", "y-y²"),
    ("latex_dollars", "$y(1 - y)$"),
    ("negated", "-y(y-1)"),
    ("subscript_alias", "y_i(1-y_i)"),
    ("hat_alias", r"\hat{y}(1-\hat{y})"),
    ("swapped", "(1-y)y"),
    ("with_lhs", "dy/dz = y(1-y)"),
    ("braced_power", "y-y^{2}"),
]


@pytest.mark.parametrize(("answer"), [a for _, a in CORRECT_Q6B], ids=[n for n, _ in CORRECT_Q6B])
def test_q6b_correct_forms(answer: str) -> None:
    verdict = grade(*Q6B, answer)
    assert verdict.status is Status.CORRECT, verdict.feedback
    assert verdict.credit == 1.0


@pytest.mark.parametrize(("answer"), [a for _, a in CORRECT_Q5], ids=[n for n, _ in CORRECT_Q5])
def test_q5_correct_forms(answer: str) -> None:
    verdict = grade(*Q5, answer)
    assert verdict.status is Status.CORRECT, verdict.feedback


# --- equal but written the wrong way: partial credit with the rule's feedback --------------------

EQUAL_WRONG_FORM = [
    ("tanh_squared", Q6B, "1 - tanh(x)^2", "not_written_with_sigma"),
    ("sech_squared", Q6B, "sech^2(x)", "not_written_with_sigma"),
    ("latex_sech_no_parens", r"\operatorname{sech}^2 x", "not_written_with_sigma"),
    ("exponentials", Q6B, r"\frac{4e^{2x}}{(e^{2x}+1)^2}", "not_written_with_sigma"),
    ("tanh_unicode_square", Q6B, "1 - tanh²(x)", "not_written_with_sigma"),
    ("negative_exponentials", Q6B, "4e^(-2x)/(1+e^(-2x))^2", "not_written_with_sigma"),
    ("cosh", Q6B, "2/(1+cosh(2x))", "not_written_with_sigma"),
    ("tanh_prime", Q6B, "tanh'(x)", "not_written_with_sigma"),
    ("q5_bob_in_z", Q5, "sigmoid(z)*(1 - sigmoid(z))", "not_in_terms_of_output"),
    ("q5_sigma_z", Q5, "σ(z)(1-σ(z))", "not_in_terms_of_output"),
    ("q5_exponentials", Q5, r"\frac{e^{-z}}{(1+e^{-z})^2}", "not_in_terms_of_output"),
    ("q5_sigma_prime", Q5, "σ'(z)", "not_in_terms_of_output"),
    ("q5_mixed", Q5, "y(1-σ(z))", "not_in_terms_of_output"),
]


def _fix(row: tuple[Any, ...]) -> tuple[tuple[str, str], str, str]:
    if len(row) == 3:  # the question defaults to q6b
        return Q6B, row[1], row[2]
    return row[1], row[2], row[3]


@pytest.mark.parametrize("row", EQUAL_WRONG_FORM, ids=[r[0] for r in EQUAL_WRONG_FORM])
def test_equal_but_wrong_form_gets_partial_credit(row: tuple[Any, ...]) -> None:
    question, answer, rule = _fix(row)
    verdict = grade(*question, answer)
    assert verdict.status is Status.PARTIAL, verdict.feedback
    assert verdict.mistake == rule
    assert verdict.credit == 0.5


# --- wrong forms: the named mistake where the rubric lists one -----------------------------------

WRONG_Q6B = [
    ("sigma_of_x", "4σ(x)(1-σ(x))", "sigma_of_x"),
    ("missing_4", "σ(2x)(1-σ(2x))", "missing_factor_4"),
    ("missing_chain_factor", "2σ(2x)(1-σ(2x))", "missing_chain_rule_factor"),
    ("sign", "-4σ(2x)(1-σ(2x))", "sign_error"),
    ("sigma_derivative", "σ(x)(1-σ(x))", "derivative_of_sigma_not_tanh"),
    ("sigma_x_and_factor", "2σ(x)(1-σ(x))", "sigma_of_x_and_factor"),
    ("sigma_prime_only", "σ'(2x)", "missing_factor_4"),
    ("sigma_prime_of_x", "4σ'(x)", "sigma_of_x"),
    ("derivative_without_2", "d/dx σ(2x)", "missing_chain_rule_factor"),
    ("plus_instead_of_minus", "4σ(2x)(1+σ(2x))", None),
    ("no_second_factor", "4σ(2x)", None),
    ("tanh_itself", "tanh(x)", None),
    ("plus_tanh_squared", "1 + tanh(x)^2", None),
    ("tanh_as_sigma", "2σ(2x) - 1", None),
    # forms that sampling in float64 alone would call correct:
    ("tiny_term", "4σ(2x)(1-σ(2x)) + 1e-12*x", None),
    ("very_tiny_term", "4σ(2x)(1-σ(2x)) + 1e-300*x", None),
    ("difference_near_the_end", "4σ(2x)(1-σ(2x)) + relu(x - 2.99)", None),
    ("narrow_bump", "4σ(2x)(1-σ(2x)) + 0.001*relu(1 - 1000*(x - 0.7)^2)", None),
    ("rounded_constant", "3.9999*σ(2x)(1-σ(2x))", None),
    ("squared_factor", "4*sigmoid(2*x)*(1-sigmoid(2*x))^2", None),
    ("squared_sigma", "4σ(2x)²(1-σ(2x))", None),
    ("plus_one", "4σ(2x)(1-σ(2x)) + 1", None),
    ("log_sigma", "log(σ(2x))", None),
    ("undefined_for_negative_x", "sqrt(x)", None),
    ("divided_by_x", "4σ(2x)(1-σ(2x))/x", None),
    ("gaussian", "exp(-x^2)", None),
]

WRONG_Q5 = [
    ("flipped", "y(y-1)", "sign_flipped"),
    ("tanh_output", "1-y^2", "tanh_derivative"),
    ("one_factor", "1-y", "missing_factor"),
    ("square", "y^2", None),
    ("plus", "y(1+y)", None),
    ("in_z_wrong", "z(1-z)", None),
    ("identity", "y", None),
    ("sigma_plus", "σ(z)(1+σ(z))", None),
    ("squared_factor", "y(1-y)^2", None),
    ("exponential", "e^{-y}", None),
    ("log", "log(y)", None),
    ("tiny_constant", "y(1-y) + 1e-10", None),
]


@pytest.mark.parametrize(
    ("answer", "mistake"), [(a, m) for _, a, m in WRONG_Q6B], ids=[n for n, _, _ in WRONG_Q6B]
)
def test_q6b_wrong_forms(answer: str, mistake: str | None) -> None:
    verdict = grade(*Q6B, answer)
    assert verdict.status in (Status.INCORRECT, Status.PARTIAL), verdict.feedback
    assert verdict.credit < 1
    assert verdict.mistake == mistake
    assert verdict.feedback.startswith("your answer")


@pytest.mark.parametrize(
    ("answer", "mistake"), [(a, m) for _, a, m in WRONG_Q5], ids=[n for n, _, _ in WRONG_Q5]
)
def test_q5_wrong_forms(answer: str, mistake: str | None) -> None:
    verdict = grade(*Q5, answer)
    assert verdict.status is Status.INCORRECT, verdict.feedback
    assert verdict.mistake == mistake


# --- feedback in a student's words ---------------------------------------------------------------

FEEDBACK = [
    ("names_a_point", "4σ(2x)", ["your answer 4*σ(2*x) is not correct", "it gives", "at x ="]),
    ("factor", "8σ(2x)(1-σ(2x))", ["2 times the correct value"]),
    ("tiny", "4σ(2x)(1-σ(2x)) + 1e-12*x", ["tiny amount"]),
    ("no_value", "log(-1 - x^2)", ["no real value at x ="]),
    ("sign_listed", "-4σ(2x)(1-σ(2x))", ["wrong sign"]),
]


@pytest.mark.parametrize(
    ("answer", "fragments"), [(a, f) for _, a, f in FEEDBACK], ids=[n for n, _, _ in FEEDBACK]
)
def test_feedback_says_what_differs(answer: str, fragments: list[str]) -> None:
    feedback = grade(*Q6B, answer).feedback
    for fragment in fragments:
        assert fragment in feedback


def test_reference_is_not_revealed_unless_the_rubric_allows_it() -> None:
    hidden = grade(*Q6B, "4σ(2x)").feedback
    shown = grade(*Q6B, "4σ(2x)", reveal=True).feedback
    assert "expected" not in hidden and "1 - σ(2*x)" not in hidden
    assert "expected 4*(1 - σ(2*x))*σ(2*x)" in shown


def test_a_hidden_question_never_reveals_the_reference() -> None:
    rubric = load_rubric(resolve_assignment("csc420-a2")).rubric
    hidden = rubric.question("q6b_tanh_grad").model_copy(
        update={"hidden": True, "reveal_answer": True}
    )
    ctx = GradingContext(submission_root=None, student="s1", reveal_answers=True)
    feedback = hidden.grade("4σ(2x)", ctx).feedback
    assert "expected" not in feedback and "1 - σ(2*x)" not in feedback


RUBRIC_ERRORS = [
    (
        "unknown_form_function",
        {"form": [{"name": "r", "feedback": "f", "require_functions": ["sigma"]}]},
        "unknown function",
    ),
    ("empty_range", {"variables": {"x": [1, 1]}}, "low to high"),
    ("variable_and_definition", {"variables": {"z": [-1, 1]}, "definitions": {"z": "z"}}, "both"),
]


@pytest.mark.parametrize(
    ("fields", "message"), [r[1:] for r in RUBRIC_ERRORS], ids=[r[0] for r in RUBRIC_ERRORS]
)
def test_rubric_mistakes_in_expression_questions_are_located(
    fields: dict[str, Any], message: str
) -> None:
    from pydantic import ValidationError

    from grader.checkers.expression import ExpressionQuestion

    base = {
        "id": "q",
        "points": 1,
        "reference": {"function": "derivative", "params": {"expression": "x^2"}},
    }
    with pytest.raises(ValidationError, match=message):
        ExpressionQuestion.model_validate({**base, **fields})


UNREADABLE = [
    ("python_injection", "__import__('os').system('echo pwned')"),
    ("list", ["4σ(2x)"]),
    ("unknown_variable", "4σ(2t)"),
    ("unbalanced", "4σ(2x)(1-σ(2x)"),
    ("unknown_latex", r"4\zeta(2x)"),
]


@pytest.mark.parametrize("answer", [a for _, a in UNREADABLE], ids=[n for n, _ in UNREADABLE])
def test_unreadable_answers_are_invalid_with_how_to_write_it(answer: Any) -> None:
    verdict = grade(*Q6B, answer)
    assert verdict.status is Status.INVALID
    assert verdict.feedback.startswith("your answer")
    assert "write a formula" in verdict.feedback or "one formula" in verdict.feedback


def test_missing_answer() -> None:
    assert grade(*Q6B, None).status is Status.MISSING
