"""Numeric answers: exact rationals compared under a named tolerance mode."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import Field

from grader.checkers.base import ComparedQuestion, Verdict
from grader.parsing.errors import AnswerParseError
from grader.parsing.numbers import fraction_from_decimal, parse_number_text
from grader.report import Status
from grader.tolerance import Relative, Tolerance


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


def format_number(value: Fraction) -> str:
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
        return read_number(raw)

    def to_value(self, reference_output: Any) -> Fraction:
        if isinstance(reference_output, Fraction | int):
            return Fraction(reference_output)
        return Fraction(Decimal(repr(float(reference_output))))

    def equivalent(self, got: Fraction, expected: Fraction) -> bool:
        return self.tolerance.accepts(got, expected)

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
        if expected != 0 and self.equivalent(-got, expected):
            return "a sign error"
        for power in range(1, 7):
            for factor in (Fraction(10) ** power, Fraction(1, 10**power)):
                if expected != 0 and self.equivalent(got, expected * factor):
                    return f"a misplaced decimal point (off by a factor of {float(factor):g})"
        return None
