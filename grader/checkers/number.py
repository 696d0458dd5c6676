"""Numeric answers: exact rationals compared under a named tolerance mode."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal, Self

from pydantic import Field

from grader.checkers.base import ComparedQuestion, GradingContext, Verdict, is_blank, shorten
from grader.core.report import Status
from grader.core.tolerance import Relative, Tolerance
from grader.parsing.errors import AnswerParseError
from grader.parsing.numbers import (
    Reading,
    fraction_from_decimal,
    number_readings,
    parse_number_text,
    plain_decimal,
)

SHOWN_LENGTH = 80  # characters of a student's number shown back in feedback
WRITTEN_INTEGER_BITS = 10_000
MISPLACED_POINT_POWERS = range(1, 7)  # 10¹ … 10⁶
MISPLACED_POINT_DIGITS = Fraction(1, 100)  # the scaled answer agrees to 1 % as well


class WrittenNumber(Fraction):
    """A student's number with the text it was read from: feedback shows it as written
    (`1153840.0000001`, not 1153840). Arithmetic on it gives plain Fractions."""

    __slots__ = ("written",)
    written: str

    def __new__(cls, value: Fraction, written: str) -> Self:
        number = super().__new__(cls, value.numerator, value.denominator)
        number.written = written
        return number

    def __reduce__(self) -> tuple[Any, ...]:
        return (WrittenNumber, (Fraction(self.numerator, self.denominator), self.written))

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: Any) -> Self:
        return self


class AmbiguousNumber(WrittenNumber):
    """`59,476`: a number with two readings. Its own value is the first (thousands) reading; a
    question compares every reading (`NumberQuestion.equivalent`)."""

    __slots__ = ("readings",)
    readings: tuple[Fraction, ...]

    def __new__(cls, readings: tuple[Fraction, ...], written: str) -> Self:
        number = super().__new__(cls, readings[0], written)
        number.readings = readings
        return number

    def __reduce__(self) -> tuple[Any, ...]:
        return (AmbiguousNumber, (self.readings, self.written))


def _values(value: Fraction) -> tuple[Fraction, ...]:
    return value.readings if isinstance(value, AmbiguousNumber) else (value,)


def read_number(raw: Any) -> Fraction:
    """A student's number: a YAML/JSON number or a string as students write it."""
    if isinstance(raw, bool):
        raise AnswerParseError(f"your answer {str(raw).lower()} is a yes/no value, not a number")
    if isinstance(raw, int):
        return Fraction(raw)
    if isinstance(raw, Decimal):
        return fraction_from_decimal(raw)
    if isinstance(raw, float):
        return fraction_from_decimal(Decimal(repr(raw)))
    if isinstance(raw, str):
        return parse_number_text(raw)
    what = "a list" if isinstance(raw, list) else "a mapping" if isinstance(raw, dict) else "not text"
    raise AnswerParseError(f"your answer is {what}; this question takes a single number")


def read_written_number(raw: Any) -> Fraction:
    """`read_number`, keeping the text the student wrote for feedback (number questions)."""
    value = read_number(raw)
    if isinstance(raw, str):
        return WrittenNumber(value, shown_as_written(raw))
    if isinstance(raw, float):
        return WrittenNumber(value, repr(raw))
    if isinstance(raw, Decimal):
        return WrittenNumber(value, str(raw))
    if isinstance(raw, int) and raw.bit_length() <= WRITTEN_INTEGER_BITS:  # str() of huge ints fails
        return WrittenNumber(value, str(raw))  # `578560`, not `578,560`: it reads back as one
    return value


def shown_as_written(raw: str) -> str:
    return shorten(" ".join(raw.split()), SHOWN_LENGTH)


def format_number(value: Fraction) -> str:
    written = getattr(value, "written", None)
    if isinstance(written, str):
        return written
    if value.denominator == 1:
        return f"{value.numerator:,}"
    return f"{float(value):.10g}"


class NumberQuestion(ComparedQuestion[Fraction]):
    kind: Literal["number"] = "number"
    tolerance: Tolerance = Field(default_factory=Relative)
    integer_rounding_credit: float | None = Field(
        None, ge=0, le=1, description="credit for a whole number next to a fractional reference"
    )

    answer_hint = "a number"

    def parse(self, raw: Any) -> Fraction:
        readings = _readings(raw)
        if readings is not None and len(readings) > 1:
            return AmbiguousNumber(tuple(r.value for r in readings), shown_as_written(raw))
        return read_written_number(raw)

    def to_value(self, reference_output: Any) -> Fraction:
        if isinstance(reference_output, Fraction | int):
            return Fraction(reference_output)
        return Fraction(Decimal(repr(float(reference_output))))

    def equivalent(self, got: Fraction, expected: Fraction) -> bool:
        """Within the tolerance; a number with two readings (`59,476`) is equivalent to another
        when exactly one pairing of readings is (or both are written with the same readings)."""
        left, right = _values(got), _values(expected)
        if len(left) == 1 and len(right) == 1:
            return self.tolerance.accepts(got, expected)
        if left == right:
            return True
        return sum(self.tolerance.accepts(a, b) for a in left for b in right) == 1

    def show(self, value: Fraction) -> str:
        return format_number(value)

    def reference_answer(self, ctx: Any) -> Any:
        value = self.expected_value(ctx)
        return value.numerator if value.denominator == 1 else float(value)

    def diagnose(self, got: Fraction, expected: Fraction) -> Verdict | None:
        credit = self.integer_rounding_credit
        if credit is None or expected.denominator == 1 or got.denominator != 1:
            return None
        if got not in (math.floor(expected), math.ceil(expected)):
            return None
        status = Status.CORRECT if credit >= 1 else Status.PARTIAL if credit > 0 else Status.INCORRECT
        return Verdict(status, credit, f"your answer {format_number(got)} rounds the exact value "
                                       f"{float(expected):.4g} to a whole number")

    def near_miss(self, got: Fraction, expected: Fraction) -> str | None:
        """A sign error or a misplaced decimal point: only for a nonzero answer whose digits are
        right, i.e. got / 10^k is accepted and within 1 % of the reference (not `0`, `1e-12`)."""
        if got == 0 or expected == 0:
            return None
        if self.equivalent(-got, expected):
            return "a sign error"
        for power in MISPLACED_POINT_POWERS:
            for factor in (Fraction(10) ** power, Fraction(1, 10**power)):
                scaled = Fraction(got) / factor
                close = abs(scaled - expected) <= MISPLACED_POINT_DIGITS * abs(expected)
                if close and self.equivalent(scaled, expected):
                    return f"a misplaced decimal point (off by a factor of {float(factor):g})"
        return None

    # -- `59,476`: two readings ----------------------------------------------------------------

    def grade(self, raw: Any, ctx: GradingContext) -> Verdict:
        readings = _readings(raw)
        if readings is None or len(readings) < 2:
            return super().grade(raw, ctx)
        return self._grade_readings(shown_as_written(raw), readings, ctx)

    def _grade_readings(self, shown: str, readings: list[Reading], ctx: GradingContext) -> Verdict:
        """Accepted only when exactly one reading matches the reference or a listed answer; the
        feedback says which reading was used."""
        expected = self.expected_value(ctx)
        judged = [(r, self._judge(WrittenNumber(r.value, shown), expected, ctx)) for r in readings]
        matching = [(r, v) for r, v in judged if _matches(v)]
        both = " or as ".join(f"{plain_decimal(r.value)} ({r.how})" for r in readings)
        if len(matching) == 1:
            reading, verdict = matching[0]
            verdict.feedback += f" (read as {plain_decimal(reading.value)}, {reading.how})"
        elif not matching:
            text = f"your answer {shown} is not correct, read either as {both}"
            for reading in readings:
                if (slip := self.near_miss(reading.value, expected)) is not None:
                    text += f"; read as {plain_decimal(reading.value)} it looks like {slip}"
            if self.reveal_answer or (self.reveal_answer is None and ctx.reveal_answers):
                text += f"; expected {self.show(expected)}"
            verdict = Verdict(Status.INCORRECT, 0.0, text)
        else:
            verdict = Verdict(Status.INVALID, 0.0, f"your answer {shown} could be read as {both}, "
                              "and the grader cannot tell which you meant: write it without the "
                              "comma, or with a decimal point")
        verdict.answer = shown
        verdict.expected = self.show(expected)
        return verdict


def _readings(raw: Any) -> list[Reading] | None:
    if not isinstance(raw, str) or is_blank(raw):
        return None
    try:
        return number_readings(raw)
    except AnswerParseError:
        return None  # the usual flow reports it


def _matches(verdict: Verdict) -> bool:
    return verdict.status in (Status.CORRECT, Status.PARTIAL) or verdict.mistake is not None

