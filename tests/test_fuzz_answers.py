"""Fuzzing the answer readers: whatever a student writes, each reader returns a value or raises its
one documented error (`AnswerParseError`, `SubmissionError` for a whole answers file), within a
deadline per example. Profiles: tests/hostile/fuzzing.py (`HYPOTHESIS_PROFILE=long` for a long run).
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from grader.checkers.base import QuestionBase
from grader.checkers.network import read_network
from grader.checkers.number import read_number
from grader.checkers.number_array import read_array
from grader.core.rubric import load_rubric, resolve_assignment
from grader.core.submission import MAX_NESTING, SubmissionError, read_answers_text
from grader.parsing.errors import AnswerParseError
from grader.parsing.numbers import parse_number_text
from tests.hostile.fuzzing import fuzz

# --- what students type ---------------------------------------------------------------------------

NUMBER_PIECES = [
    "0", "1", "7", "61", "706", "1153840", ",", ".", " ", "_", "'", "e", "E", "-", "+", "e-4", "e400",
    "x", "×", "*", "10^", "10**", "{", "}", "^", "/", "=", "≈", "~", "$", "\\boxed{", "\\frac{", "}{",
    "\\text{ FLOPs}", "\\times", "\\cdot", "\\,", "FLOPs", "million", "k", "M", "params", "inf", "nan",
    "−", "\u00a0", "\u2009", "√", "sqrt(", "(", ")", "\\sqrt{", "pi", "e", "!", "\\left(", "\\right)",
]
numberish = st.lists(st.sampled_from(NUMBER_PIECES), max_size=25).map("".join)
student_text = st.one_of(st.text(max_size=300), numberish)

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**80), max_value=10**80),
    st.floats(allow_nan=True, allow_infinity=True), st.decimals(allow_nan=True, allow_infinity=True),
    student_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=8), inner, max_size=6)),
    max_leaves=40,
)


def _is_number(value: Any) -> bool:
    return isinstance(value, Fraction)


@fuzz
@given(student_text)
@example("¹")  # found by fuzzing: a superscript passed str.isdigit and crashed the formula lexer
def test_parse_number_text_returns_a_fraction_or_says_why_not(text: str) -> None:
    try:
        assert _is_number(parse_number_text(text))
    except AnswerParseError as err:
        assert str(err).startswith("your answer")


@fuzz
@given(json_values)
def test_read_number_takes_any_answer(raw: Any) -> None:
    try:
        assert _is_number(read_number(raw))
    except AnswerParseError as err:
        assert str(err).startswith("your answer")


@fuzz
@given(st.integers(min_value=-(10**30), max_value=10**30), st.integers(min_value=-30, max_value=30))
def test_a_plain_decimal_reads_back_exactly(mantissa: int, exponent: int) -> None:
    text = f"{mantissa}e{exponent}"
    assert parse_number_text(text) == Fraction(Decimal(text))


# --- answers files --------------------------------------------------------------------------------

YAML_PIECES = [
    "q4_lenet_params", "student_id", ":", ": ", "- ", "\n", "  ", "\t", "&a ", "*a", "<<: ",
    "!!python/object:os.system",
    "!!binary ", "!!set", "? ", "{", "}", "[", "]", ",", "'", '"', "#", "---", "...", "|", ">-", "1e400", ".nan",
    "-.inf", "0x1F", "0o17", "yes", "null", "~", "%YAML 1.1", "\\u0000", "é", "\x00", "\ufeff",
]
yamlish = st.lists(st.sampled_from(YAML_PIECES), max_size=40).map("".join)


def _dumped(value: Any) -> str:
    try:
        return yaml.safe_dump(value)
    except (yaml.YAMLError, TypeError, ValueError, RecursionError):
        return ""


answer_documents = st.one_of(
    st.text(max_size=400), yamlish,
    json_values.map(lambda v: json.dumps(v, default=str)),
    json_values.map(_dumped),
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@fuzz
@given(answer_documents, st.sampled_from([".yaml", ".yml", ".json", ".toml"]))
def test_an_answers_file_is_a_mapping_or_a_submission_error(text: str, suffix: str) -> None:
    try:
        answers = read_answers_text(text, suffix)
    except SubmissionError as err:
        assert str(err).startswith("your answers file")
        return
    assert isinstance(answers, dict) and all(isinstance(k, str) for k in answers)
    assert _depth(answers) <= MAX_NESTING


@fuzz
@given(st.integers(min_value=1, max_value=3_000), st.sampled_from(["[", "{\"a\": "]))
def test_nesting_at_any_depth_is_read_or_refused(depth: int, opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    text = '{"q": ' + opening * depth + "1" * (opening == "[") + closing * depth + "}"
    try:
        read_answers_text(text, ".json")
    except SubmissionError as err:
        assert "nested too deeply" in str(err) or "cannot be read" in str(err)


# --- the kinds' readers ---------------------------------------------------------------------------


def _question(assignment: str, qid: str) -> QuestionBase:
    return load_rubric(resolve_assignment(assignment)).rubric.question(qid)


PARSED_KINDS = [("csc420-a2", "q6a_tanh_range"), ("apl405-hw2", "q3a_graph"), ("apl405-hw2", "q2_relu_zero_grads"),
                ("tdt4265-a2", "t1b_grad_shape_w1"), ("csc420-a2", "q4_lenet_params")]
INTERVAL_PIECES = ["(", ")", "[", "]", ",", ";", "-1", "1", "inf", "-inf", "∞", "\\infty", "<", "<=", "≤", "y", " ",
                   "$", "\\left", "\\right", "nan", "1e999", "oo"]
EDGE_PIECES = ["x", "z", "h", "y_hat", "ŷ", "R", "S", "L", "->", "→", "=>", "\\to", "-", ">", ",", ";", "\n", " "]
kind_text = st.one_of(
    st.lists(st.sampled_from(INTERVAL_PIECES + EDGE_PIECES + ["yes", "no", "YES", "b", "785", "64", "x", "×"]),
             max_size=30).map("".join),
    json_values,
)


@pytest.mark.parametrize(("assignment", "qid"), PARSED_KINDS, ids=[q for _, q in PARSED_KINDS])
@fuzz
@given(raw=kind_text)
def test_each_kind_reads_an_answer_or_says_why_not(assignment: str, qid: str, raw: Any) -> None:
    question = _question(assignment, qid)
    try:
        question.parse(raw)  # type: ignore[attr-defined]
    except AnswerParseError as err:
        assert str(err).startswith(("your answer", "this question"))


@fuzz
@given(st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=5), max_leaves=60))
def test_read_array_takes_any_nesting(raw: Any) -> None:
    try:
        value = read_array(raw)
    except AnswerParseError:
        return
    assert len(value.entries) == (0 if 0 in value.shape else _product(value.shape))


def _product(shape: tuple[int, ...]) -> int:
    result = 1
    for size in shape:
        result *= size
    return result


network_keys = st.sampled_from(["W1", "b1", "w2", "b2", "W_1", "w^(2)", "B2", "W3", "", "W1 "])
network_answers = st.one_of(
    json_values,
    st.dictionaries(network_keys, json_values, max_size=6),
    st.fixed_dictionaries({
        "W1": st.lists(st.lists(json_scalars, min_size=5, max_size=5), min_size=4, max_size=4),
        "b1": st.lists(json_scalars, min_size=4, max_size=4),
        "w2": st.lists(json_scalars, min_size=4, max_size=4), "b2": json_scalars,
    }),
)


@fuzz
@given(network_answers)
def test_the_threshold_reader_reads_a_network_or_says_why_not(raw: Any) -> None:
    question = _question("apl405-hw2", "q1_threshold_net")
    try:
        read_network(raw, question.arrays, 5, 4, "ge")  # type: ignore[attr-defined]
    except AnswerParseError as err:
        assert str(err).startswith("your answer")
