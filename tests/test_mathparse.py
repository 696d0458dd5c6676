"""The safe parser: what plain text and LaTeX become, what is refused and why, arithmetic."""

from __future__ import annotations

import ast as python_ast
from fractions import Fraction
from pathlib import Path

import pytest

from grader.mathparse import evaluate_constant, parse_scalar, to_text
from grader.mathparse.matrix import World, parse_matrix
from grader.parsing.errors import AnswerParseError
from grader.parsing.numbers import parse_number_text

READS = [
    ("implicit_products", "4σ(2x)(1-σ(2x))", "4*sigmoid(2*x)*(1 - sigmoid(2*x))"),
    ("caret_power", "x^2", "x^2"),
    ("double_star_power", "x**2", "x^2"),
    ("power_right_associative", "2^3^x", "2^3^x"),
    ("unary_minus_below_power", "-x^2", "-x^2"),
    ("unicode_minus_and_dot", "4·σ(2x) − 1", "4*sigmoid(2*x) - 1"),
    ("function_power_is_power_of_value", r"\sigma^2(2x)", "sigmoid(2*x)^2"),
    ("function_power_plain", "tanh^2(x)", "tanh(x)^2"),
    ("function_without_brackets", r"\tanh 2x", "tanh(2*x)"),
    ("frac", r"\frac{1}{1+e^{-x}}", "1/(1 + e^(-x))"),
    ("dfrac_with_left_right", r"\dfrac{x}{\left(1+x\right)}", "x/(1 + x)"),
    ("frac_single_digits", r"\frac12 x", "1/2*x"),
    ("cdot", r"2\cdot x", "2*x"),
    ("dollars", "$x+1$", "x + 1"),
    ("double_dollars", "$$x+1$$", "x + 1"),
    ("display_math", r"\[x+1\]", "x + 1"),
    ("text_function", r"\text{sigmoid}(x)", "sigmoid(x)"),
    ("operatorname", r"\operatorname{sech}(x)", "sech(x)"),
    ("euler_e", "e^x", "e^x"),
    ("exp", r"\exp(-x)", "exp(-x)"),
    ("ln_is_log", r"\ln x", "log(x)"),
    ("abs_bars", "|x|", "abs(x)"),
    ("sigma_prime", "σ'(x)", "sigmoid_prime(x)"),
    ("plain_derivative", "d/dx σ(2x)", "sigmoid_prime(2*x)*2"),
    ("latex_derivative_operator", r"\frac{d}{dx} x^3", "3*x^2"),
    ("latex_derivative_of", r"\frac{d \tanh(x)}{dx}", "tanh_prime(x)"),
    ("partial_derivative", r"\frac{\partial}{\partial x} e^{2x}", "e^(2*x)*2"),
    ("last_side_of_equation", "f'(x) = 2x = 2*x", "2*x"),
    ("decimal", "0.5x", "0.5*x"),
    ("scientific", "1e-3*x", "0.001*x"),
    ("variable_next_to_bracket", "x(1-x)", "x*(1 - x)"),
    ("split_known_letters", "xy", "x*y"),
]


@pytest.mark.parametrize(("text", "expected"), [r[1:] for r in READS], ids=[r[0] for r in READS])
def test_reads(text: str, expected: str) -> None:
    assert to_text(parse_scalar(text, {"x", "y"})) == expected


@pytest.mark.parametrize("text", [r[1] for r in READS], ids=[r[0] for r in READS])
def test_printed_form_reads_back_to_the_same_tree(text: str) -> None:
    tree = parse_scalar(text, {"x", "y"})
    assert parse_scalar(to_text(tree), {"x", "y"}) == tree


REFUSED = [
    ("dunder_import", "__import__('os').system('ls')", "cannot read"),
    ("dunder_walk", "().__class__.__bases__[0].__subclasses__()", "cannot read"),
    ("attribute", "x.real", "cannot read"),
    ("lambda", "lambda: 1", "cannot read"),
    ("unknown_function", "foo(x)", "'foo'"),
    ("unknown_variable", "t + 1", "'t'"),
    ("string_literal", "'abc'", "expected a term"),
    ("semicolon", "x; import os", "cannot read"),
    ("unknown_latex", r"\int x", r"\int"),
    ("too_long", "x+" * 1500 + "x", "characters long"),
    ("too_deep", "(" * 60 + "x" + ")" * 60, "deep"),
    ("too_many_terms", "+".join(["x"] * 250), "too long"),
    ("too_many_symbols", "+".join(["x"] * 450), "symbols"),
    ("huge_power", "9**9**9**9", "powers are limited"),
    ("huge_constant", "exp(exp(exp(exp(100))))", "too large"),
    ("huge_integer", "1" * 40, "digits"),
    ("huge_exponent_literal", "1e999*x", "out of range"),
    ("division_by_zero", "x + 1/0", "divides by zero"),
    ("inverse_function", "tanh^{-1}(x)", "inverse"),
    ("transpose_in_scalar", "x^T", "scalar"),
    ("empty", "   ", "no formula"),
    ("stray_dollar", "x $ y", "stray"),
    ("unbalanced", "(x", "missing"),
    ("dangling_operator", "x +", "expected more"),
]


@pytest.mark.parametrize(
    ("text", "fragment"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_refuses_with_a_message(text: str, fragment: str) -> None:
    with pytest.raises(AnswerParseError) as err:
        parse_scalar(text, {"x", "y"})
    assert str(err.value).startswith("your answer")
    assert fragment in str(err.value)


MATRIX = World({"W1": (4, 3), "W2": (2, 4), "x": (3,)})

MATRIX_READS = [
    ("transpose_attribute", "W1.T", "W1.T"),
    ("transpose_caret", "W1^T", "W1.T"),
    ("transpose_top", r"W_1^{\top}", "W1.T"),
    ("transpose_prime", "W1'", "W1.T"),
    ("juxtaposition", "W2 W1", "W2 · W1"),
    ("scalar_times", "2W1", "2*W1"),
    ("hadamard", "W1 ⊙ W1", "W1*W1"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [r[1:] for r in MATRIX_READS], ids=[r[0] for r in MATRIX_READS]
)
def test_matrix_reads(text: str, expected: str) -> None:
    assert to_text(parse_matrix(text, MATRIX)) == expected


CONSTANTS = [
    ("sum_of_products", "784*64 + 64", Fraction(50240)),
    ("latex_root", r"2\sqrt{52321} - 398", 2 * 52321**0.5 - 398),
    ("exact_root", r"\sqrt{49} + 1", Fraction(8)),
    ("fraction", r"\frac{3}{8}", Fraction(3, 8)),
    ("times_letter", "784 x 64 + 64", Fraction(50240)),
    ("power", "2^10", Fraction(1024)),
    ("brackets", "(156 + 2416) * 2", Fraction(5144)),
]


@pytest.mark.parametrize(
    ("text", "value"), [r[1:] for r in CONSTANTS], ids=[r[0] for r in CONSTANTS]
)
def test_evaluate_constant(text: str, value: Fraction | float) -> None:
    got = evaluate_constant(text)
    assert got == value if isinstance(value, Fraction) else abs(float(got) - value) < 1e-12


CONSTANTS_REFUSED = ["9**9**9**9", "2^100000", "x + 1", "sqrt(-1)", "1/0", "sigmoid(1)", "10^400"]


@pytest.mark.parametrize("text", CONSTANTS_REFUSED)
def test_evaluate_constant_refuses(text: str) -> None:
    with pytest.raises(AnswerParseError):
        evaluate_constant(text)


NUMBER_TEXT = [
    ("arithmetic_fallback", "784*64 + 64", Fraction(50240)),
    ("root_fallback", r"$2\sqrt{52321} - 398$", None),
    ("plain_number_unchanged", "1,153,840", Fraction(1153840)),
    ("scientific_unchanged", "6.2e-4", Fraction(62, 100000)),
    ("unit_unchanged", "1,153,840 FLOPs", Fraction(1153840)),
    ("lenet_sum", "156 + 2416 + 48120 + 10164 + 850", Fraction(61706)),
]


@pytest.mark.parametrize(
    ("text", "value"), [r[1:] for r in NUMBER_TEXT], ids=[r[0] for r in NUMBER_TEXT]
)
def test_number_answers_accept_arithmetic(text: str, value: Fraction | None) -> None:
    got = parse_number_text(text)
    if value is None:
        assert abs(float(got) - 59.4757) < 1e-4
    else:
        assert got == value


@pytest.mark.parametrize("text", ["abc", "9**9**9**9", "61,70,6", "__import__('os')"])
def test_number_answers_still_refuse_non_numbers(text: str) -> None:
    with pytest.raises(AnswerParseError, match="is not a number"):
        parse_number_text(text)


FORBIDDEN_NAMES = {
    "eval",
    "exec",
    "compile",
    "__import__",
    "sympify",
    "parse_expr",
    "parse_latex",
    "lambdify",
}
FORBIDDEN_METHODS = {"sympify", "parse_expr", "parse_latex", "lambdify", "eval", "exec"}


def test_no_evaluating_calls_in_the_formula_code() -> None:
    root = Path(__file__).resolve().parent.parent
    files = [
        *(root / "grader" / "mathparse").glob("*.py"),
        *(root / "grader" / "mathworker").glob("*.py"),
        root / "grader" / "checkers" / "expression.py",
        root / "grader" / "checkers" / "matrix_expression.py",
        root / "reference" / "symbolic.py",
    ]
    for path in files:
        for node in python_ast.walk(python_ast.parse(path.read_text())):
            if isinstance(node, python_ast.Call):
                if isinstance(node.func, python_ast.Name):
                    assert node.func.id not in FORBIDDEN_NAMES, (
                        f"{path.name}:{node.lineno} calls {node.func.id}"
                    )
                if isinstance(node.func, python_ast.Attribute):
                    assert node.func.attr not in FORBIDDEN_METHODS, (
                        f"{path.name}:{node.lineno} calls {node.func.attr}"
                    )


NUMBER_QUESTIONS = [
    (
        "t4d_width_as_a_root",
        "tdt4265-a2",
        "t4d_width_for_equal_params",
        r"2\sqrt{52321} - 398",
        "correct",
    ),
    ("t2d_params_as_a_sum", "tdt4265-a2", "t2d_params", "784*64 + 64 + 64*10 + 10", "correct"),
    ("t2d_bias_trick_as_a_product", "tdt4265-a2", "t2d_params", "785 x 64 + 64*10", "correct"),
    (
        "lenet_sum_of_layers",
        "csc420-a2",
        "q4_lenet_params",
        "156 + 2416 + 48120 + 10164 + 850",
        "correct",
    ),
    ("wrong_sum", "csc420-a2", "q4_lenet_params", "156 + 2416", "incorrect"),
    ("power_bomb", "csc420-a2", "q4_lenet_params", "9**9**9**9", "invalid"),
]


@pytest.mark.parametrize(
    ("assignment", "question", "answer", "status"),
    [r[1:] for r in NUMBER_QUESTIONS],
    ids=[r[0] for r in NUMBER_QUESTIONS],
)
def test_number_questions_accept_arithmetic(
    assignment: str, question: str, answer: str, status: str
) -> None:
    from grader.checkers.base import GradingContext
    from grader.core.rubric import load_rubric, resolve_assignment

    rubric = load_rubric(resolve_assignment(assignment)).rubric
    verdict = rubric.question(question).grade(
        answer, GradingContext(submission_root=None, student="s")
    )
    assert verdict.status.value == status, verdict.feedback
