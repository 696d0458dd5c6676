"""Fuzzing the formula reader (grader/mathparse): any text is a tree or an `AnswerParseError`, and
any tree it accepts can be evaluated, scalar or matrix, without raising, within a deadline.
Profiles: tests/hostile/fuzzing.py (`HYPOTHESIS_PROFILE=long` for a long run)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.checkers.base import GradingContext
from grader.core.report import Status
from grader.core.rubric import load_rubric, resolve_assignment
from grader.mathparse import evaluate_constant
from grader.mathparse.evaluate import eval_float
from grader.mathparse.matrix import compare_matrix
from grader.parsing.errors import AnswerParseError
from tests.hostile.fuzzing import fuzz
from tests.test_symbolic_hostile import BOMBS, BROKEN_LATEX, INJECTION, MATRIX_HOSTILE

SCALAR_PIECES = [
    "x", "y", "2", "4", "0.5", "1e3", "1e999", "9", "(", ")", "+", "-", "*", "/", "^", "**", "!", "sigma(", "σ(",
    "sigmoid(", "tanh(", "exp(", "log(", "sqrt(", "sech(", "relu(", "abs(", "d/dx ", "'", "′", "²", "¹", "₁", " ",
    "\\sigma", "\\frac{", "}{", "}", "{", "\\left(", "\\right)", "\\cdot", "\\tanh", "\\exp", "\\sqrt{", "$", "=",
    "≈", "pi", "e", ",", ".", "__", "import", "[", "]", "\\\\", "\x00", "\u202e", "𝑥", "∂",
]
MATRIX_PIECES = [
    "P", "Y", "X", "W", "b", "(", ")", "@", "*", "+", "-", ".T", "T", "^", "**", "2", "0.5", "sum(", "log(",
    "softmax(", "exp(", "outer(", ",", " ", "np.", "[0]", ".dot(", "1", "9", "/", "sigmoid(", "relu(", "⊙", "·",
]


def _formulas(pieces: list[str], table: list[tuple[str, str]]) -> Any:
    return st.one_of(
        st.lists(st.sampled_from(pieces), max_size=30).map("".join),
        st.text(max_size=120),
        st.sampled_from([text for _, text in table]),
    )


FUNCTIONS = ["sigmoid", "σ", "tanh", "exp", "log", "sqrt", "sech", "relu", "abs", "\\sigma", "\\tanh", "\\exp"]


def _combine(inner: Any) -> Any:
    return st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", "", " ", "·"]), inner).map(
            lambda t: f"({t[0]}){t[1]}({t[2]})"),
        st.tuples(st.sampled_from(FUNCTIONS), inner).map(lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda a: f"-{a}"),
        inner.map(lambda a: f"d/dx ({a})"),
        st.tuples(inner, inner).map(lambda t: f"\\frac{{{t[0]}}}{{{t[1]}}}"),
    )


well_formed = st.recursive(st.sampled_from(["x", "2", "0.5", "1e3", "pi", "e", "0", "2x", "1e-300", "700"]),
                           _combine, max_leaves=12)
scalar_text = st.one_of(_formulas(SCALAR_PIECES, INJECTION + BOMBS + BROKEN_LATEX), well_formed)
def _combine_matrices(inner: Any) -> Any:
    return st.one_of(
        st.tuples(inner, st.sampled_from(["@", "*", "+", "-", "/", " ", "·", "^"]), inner).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
        st.tuples(st.sampled_from(["sum", "log", "exp", "softmax", "sigmoid", "relu", "outer"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda a: f"({a}).T"),
    )


well_formed_matrices = st.recursive(st.sampled_from(["P", "Y", "X", "W", "b", "X.T", "(P - Y)", "2", "0.5"]),
                                    _combine_matrices, max_leaves=10)
matrix_text = st.one_of(_formulas(MATRIX_PIECES, MATRIX_HOSTILE), well_formed_matrices)
GRID = {"x": np.linspace(-3.0, 3.0, 17), "y": np.linspace(0.01, 0.99, 17)}


def _question(assignment: str, qid: str) -> Any:
    return load_rubric(resolve_assignment(assignment)).rubric.question(qid)


Q6B = _question("csc420-a2", "q6b_tanh_grad")
P3A = _question("csc411-a1", "p3a_softmax_grad")
P3A_WORLD = P3A.world()
P3A_EXPECTED = P3A.parse("(P - Y) @ X.T").tree


@fuzz
@given(scalar_text)
@example("x @ x")  # found: `@` was read in scalar answers, and no scalar evaluator knew it
@example("tanh¹(x)")  # found: a superscript digit crashed the lexer
def test_a_scalar_formula_is_a_tree_or_says_why_not_and_evaluates(text: str) -> None:
    try:
        formula = Q6B.parse(text)
    except AnswerParseError as err:
        assert str(err).startswith("your answer")
        return
    result = eval_float(formula.tree, {"x": GRID["x"]}, 17)
    assert result.values.shape == (17,)


@fuzz
@given(matrix_text)
@example("[0][0][0]")  # found: `·` between numbers raised KeyError in the constant pass
@example("2 @ 3")
def test_a_matrix_formula_is_a_tree_or_says_why_not_and_compares(text: str) -> None:
    try:
        got = P3A.parse(text).tree
        comparison = compare_matrix(got, P3A_EXPECTED, P3A_WORLD)
    except AnswerParseError as err:  # ShapeError included
        assert str(err).startswith("your answer")
        return
    assert comparison.outcome in ("equal", "transposed", "different", "shape", "undefined")


@fuzz
@given(scalar_text)
def test_constant_arithmetic_is_a_value_or_says_why_not(text: str) -> None:
    try:
        value = evaluate_constant(text)
    except AnswerParseError as err:
        assert str(err).startswith("your answer")
        return
    assert isinstance(value, Fraction | float)


@settings(fuzz, max_examples=max(25, fuzz.max_examples // 5), deadline=None)  # the worker's 3 s limit
@given(scalar_text)
def test_grading_through_the_math_worker_is_a_verdict_never_a_failure(text: str) -> None:
    verdict = Q6B.grade(text, GradingContext(submission_root=None, student="fuzz"))
    assert verdict.status in (Status.CORRECT, Status.PARTIAL, Status.INCORRECT, Status.INVALID, Status.MISSING)
    assert "internal_error" not in verdict.details
    if verdict.status is Status.INVALID:
        assert verdict.feedback.startswith("your answer")
