"""The formula parser, class by class (issue 13): what is read, what is refused, and why.

Each table row is a named case: the text, the question's variables, and the tree printed back
(`to_text`) or the error's `kind` and a fragment of its message.
"""

from __future__ import annotations

import pytest

from grader.mathparse import parse_scalar, to_text
from grader.mathparse.parser import ParseConfig, parse_sides
from grader.parsing.errors import AnswerParseError

X = frozenset({"x"})
XY = frozenset({"x", "y"})
NMXY = frozenset({"n", "m", "x", "y"})
GREEK = frozenset({"beta1", "beta_2", "x"})

READS = [
    # brackets: each kind closes its own
    ("square_brackets", "[x+1]*2", X, "(x + 1)*2"),
    ("nested_kinds", "([x+1])", X, "x + 1"),
    ("braces_group", "{x+1}^2", X, "(x + 1)^2"),
    ("left_right_square", r"\left[ x + 1 \right]", X, "x + 1"),
    ("function_square_brackets", "tanh[x]", X, "tanh(x)"),
    # relations: a chain whose earlier sides are labels
    ("derivative_quotient_label", "dy/dz = 2x", X, "2*x"),
    ("spaced_differentials", "d y / d x = 2x", X, "2*x"),
    ("subscripted_quotient", "dL/dW_1 = x", X, "x"),
    ("partial_quotient", "∂L/∂x = x", X, "x"),
    ("frac_label", r"\frac{dy}{dx} = x^2", X, "x^2"),
    ("frac_partial_label", r"\frac{\partial L}{\partial x} = x^2", X, "x^2"),
    ("primed_function_label", "tanh'(x) = 1 - tanh(x)^2", X, "1 - tanh(x)^2"),
    ("primed_name_label", "f'(x) = 2x", X, "2*x"),
    ("sigma_prime_label", "σ'(2x) = 2x", X, "2*x"),
    ("undeclared_function_label", "g(x) = x^2", X, "x^2"),
    ("name_label", "L = x^2", X, "x^2"),
    ("hat_label", r"\hat{y} = x", X, "x"),
    ("leading_equals", "= 2x", X, "2*x"),
    ("same_formula_twice", "2x = 2*x", X, "2*x"),
    ("label_then_identical", "f'(x) = 2x = 2*x", X, "2*x"),
    ("approx_is_equality", r"L \approx x", X, "x"),
    ("colon_equals", "L := x", X, "x"),
    # implicit products split into declared variables before ^ binds
    ("split_before_power", "xy^2", XY, "x*y^2"),
    ("split_before_negative_power", "nm^(-1)", NMXY, "n*m^(-1)"),
    ("split_three", "nmx", NMXY, "n*m*x"),
    ("split_then_bracket", "xy(1-x)", XY, "x*y*(1 - x)"),
    ("split_with_euler_e", "xe^x", X, "x*e^x"),
    ("number_then_variable", "2x", X, "2*x"),
    # functions NN students write
    ("sine", "sin(x)", X, "sin(x)"),
    ("cosine_of_product", "cos(2x)", X, "cos(2*x)"),
    ("tangent_without_brackets", "tan x", X, "tan(x)"),
    ("latex_sine", r"\sin(x) + \cos(x)", X, "sin(x) + cos(x)"),
    ("positional_encoding", "sin(x/10000^(2/8))", X, "sin(x/10000^(2/8))"),
    ("sine_squared", "sin^2(x)", X, "sin(x)^2"),
    ("log_base_subscript", "log_2(x)", X, "log(x)/log(2)"),
    ("log_base_braces", "log_{10}(x)", X, "log(x)/log(10)"),
    ("log_base_glued", "log10(x)", X, "log(x)/log(10)"),
    ("log_base_glued_two", "log2(x)", X, "log(x)/log(2)"),
    ("latex_log_base", r"\log_2 x", X, "log(x)/log(2)"),
    ("latex_log_base_braces", r"\log_{10}(x+1)", X, "log(x + 1)/log(10)"),
    ("log_base_e", "log_e(x)", X, "log(x)"),
    ("log_base_variable", "log_y(x)", XY, "log(x)/log(y)"),
    ("log_base_squared", "log_2(x)^2", X, "(log(x)/log(2))^2"),
    # √ without braces
    ("root_of_variable", "√x", X, "sqrt(x)"),
    ("root_of_number", "√52321", X, "sqrt(52321)"),
    ("root_after_number", "2√x", X, "2*sqrt(x)"),
    ("root_of_bracket", "√(x+1)", X, "sqrt(x + 1)"),
    ("root_binds_like_a_sign", "√2x", X, "sqrt(2)*x"),
    ("root_of_power", "√x^2", X, "sqrt(x^2)"),
    ("latex_root_still", r"\sqrt{x}", X, "sqrt(x)"),
    # Greek letters with digits, when declared
    ("greek_digit", "β1 x", GREEK, "beta1*x"),
    ("greek_underscore_digit", "β_1 x", GREEK, "beta1*x"),
    ("latex_greek_subscript", r"\beta_1 x", GREEK, "beta1*x"),
    ("latex_greek_braces", r"\beta_{2} + x", GREEK, "beta_2 + x"),
    ("latex_greek_digit", r"\beta1 x", GREEK, "beta1*x"),
    ("greek_digit_declared_with_underscore", "β2 + x", GREEK, "beta_2 + x"),
    # full-width forms from CJK input methods
    ("full_width_brackets", "（x＋1）＊2", X, "(x + 1)*2"),
    ("full_width_minus_power", "x＾2－1", X, "x^2 - 1"),
    ("full_width_slash", "1／x", X, "1/x"),
    ("full_width_letters_digits", "ｘ＋２", X, "x + 2"),
    ("full_width_square", "［x］", X, "x"),
    ("full_width_comma_in_call", "tanh（x）", X, "tanh(x)"),
    ("ideographic_space", "2\u3000x", X, "2*x"),
    ("lenticular_brackets", "【x+1】", X, "x + 1"),
]


@pytest.mark.parametrize(("text", "variables", "expected"), [r[1:] for r in READS],
                         ids=[r[0] for r in READS])
def test_reads(text: str, variables: frozenset[str], expected: str) -> None:
    assert to_text(parse_scalar(text, variables)) == expected


REFUSED = [
    # brackets
    ("mismatched_kinds", "([x)]", X, "brackets", "closes it with `)`"),
    ("round_closed_by_square", "(x+1]", X, "brackets", "opens `(`"),
    ("square_closed_by_brace", "[x}", X, "brackets", "brackets must match"),
    ("unclosed_square", "[x+1", X, "brackets", "missing a `]`"),
    ("stray_closing_square", "x]", X, "brackets", "unmatched `]`"),
    ("left_right_mismatch", r"\left( x \right]", X, "brackets", "closes it with `]`"),
    ("function_call_mismatch", "tanh(x]", X, "brackets", "closes it with `]`"),
    # relations that are not a labelled chain
    ("not_equal", "a != b", XY, "relation", "comparison (`!=`)"),
    ("double_equals", "5==5", X, "relation", "comparison (`==`)"),
    ("greater_or_equal", "5>=5", X, "relation", "comparison (`>=`)"),
    ("less_than", "x < 1", X, "relation", "comparison (`<`)"),
    ("unicode_not_equal", "x ≠ 1", X, "relation", "comparison (`!=`)"),
    ("latex_leq", r"x \leq 1", X, "relation", "comparison (`<=`)"),
    ("formula_on_both_sides", "x(1-x) = x - x^2", X, "relation", "chain of 2 formulas"),
    ("derivative_operator_side", "d/dx x^2 = 2x", X, "relation", "chain of 2 formulas"),
    ("known_function_side", "σ(x) = 2x", X, "relation", "write only the final formula"),
    ("declared_variable_call", "x(2) = 2x", X, "relation", "chain"),
    ("nothing_after_equals", "x =", X, "relation", "nothing on one side"),
    ("nothing_between", "L = = x", X, "relation", "nothing on one side"),
    ("lone_bang", "x!", X, "character", "cannot read"),
    # numbers side by side
    ("numbers_with_a_space", "12 3", X, "adjacent_numbers", "side by side"),
    ("numbers_in_a_product", "2 3x", X, "adjacent_numbers", "side by side"),
    ("exponent_then_number", "x^2 3", X, "adjacent_numbers", "side by side"),
    ("double_dot", "0..1", X, "adjacent_numbers", "two decimal points"),
    ("two_decimal_points", "1.2.3", X, "adjacent_numbers", "two decimal points"),
    # names
    ("undeclared_greek_digit", "γ1 x", X, "unknown_name", "'gamma1'"),
    ("letters_not_all_declared", "xz^2", X, "unknown_name", "'xz'"),
    ("log_base_unreadable", "log_q(x)", X, "unknown_name", "base"),
    ("log_base_one", "log_1(x)", X, "unknown_name", "base"),
    ("nth_root", r"\sqrt[3]{x}", X, "unsupported", "square root"),
    ("root_of_nothing", "2√", X, "syntax", "nothing after it"),
    # limits and what a scalar question does not take
    ("too_deep", "(" * 60 + "x" + ")" * 60, X, "limits", "deep"),
    ("too_many_symbols", "+".join(["x"] * 450), X, "limits", "symbols"),
    ("inverse_function", "tanh^{-1}(x)", X, "unsupported", "inverse"),
    ("matrix_product_in_scalar", "x @ x", X, "unsupported", "matrix product"),
]


@pytest.mark.parametrize(("text", "variables", "kind", "fragment"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_refuses_with_a_typed_message(text: str, variables: frozenset[str], kind: str,
                                      fragment: str) -> None:
    with pytest.raises(AnswerParseError) as err:
        parse_scalar(text, variables)
    assert err.value.kind == kind
    assert str(err.value).startswith("your answer")
    assert fragment in str(err.value)


PLACES = [
    ("mismatch_points_at_the_wrong_bracket", "([x)]", 'at character 4: "([x▸)]"'),
    ("comparison_points_at_the_relation", "x != 1", 'at character 3: "x ▸!= 1"'),
    ("side_by_side_points_at_the_second", "12 3", 'at character 4: "12 ▸3"'),
    ("unknown_name_points_at_it", "x + foo", 'at character 5: "x + ▸foo"'),
    ("long_text_is_cut", "x + x + x + x + x + (x]", '"…+ x + x + (x▸]"'),
]


@pytest.mark.parametrize(("text", "place"), [r[1:] for r in PLACES], ids=[r[0] for r in PLACES])
def test_the_message_says_where(text: str, place: str) -> None:
    with pytest.raises(AnswerParseError) as err:
        parse_scalar(text, X)
    assert place in str(err.value)


CHAINS = [
    ("labels_then_formula", "f'(x) = dy/dx = 2x", ("f'(x)", "dy/dx"), ["2*x"]),
    ("worked_chain", "d/dx x^2 = 2x", (), ["d/dx(x^2)", "2*x"]),
    ("formula_then_formula", "x(1-x) = x - x^2", (), ["x*(1 - x)", "x - x^2"]),
    ("plain", "2x", (), ["2*x"]),
]


@pytest.mark.parametrize(("text", "labels", "formulas"), [r[1:] for r in CHAINS],
                         ids=[r[0] for r in CHAINS])
def test_parse_sides_keeps_every_formula_for_the_caller(text: str, labels: tuple[str, ...],
                                                        formulas: list[str]) -> None:
    sides = parse_sides(text, ParseConfig("scalar", X))
    assert sides.labels == labels
    assert [to_text(f) for f in sides.formulas] == formulas


@pytest.mark.parametrize(("text", "variables", "expected"), [r[1:] for r in READS],
                         ids=[r[0] for r in READS])
def test_printed_form_reads_back(text: str, variables: frozenset[str], expected: str) -> None:
    tree = parse_scalar(text, variables)
    assert parse_scalar(to_text(tree), variables) == tree


def test_prepare_sides_expands_every_formula_side() -> None:
    from grader.mathparse import prepare_sides

    sides = prepare_sides("dy/dx = d/dx x^3 = 3x^2", ParseConfig("scalar", X))
    assert [to_text(side) for side in sides] == ["3*x^2", "3*x^2"]
