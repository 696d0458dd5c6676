"""Interval answers: `(-1, 1)`, `[0, inf)`, `]-1, 1[` or `-1 < y < 1`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from pydantic import Field

from grader.checkers.base import ComparedQuestion, Verdict
from grader.checkers.number import format_number, read_number
from grader.core.report import Status
from grader.parsing.errors import AnswerParseError

End = Fraction | float  # float only for ±inf

_BRACKETS = re.compile(r"^([(\[\]])\s*(.+?)\s*[,;]\s*(.+?)\s*([)\]\[])$")
_INEQUALITY = re.compile(r"^(.+?)\s*(<=|≤|<)\s*[A-Za-z_]\w*\s*(<=|≤|<)\s*(.+)$")
MAX_TEXT = 200  # the patterns below backtrack quadratically on long text
_INFINITY = {"inf", "infinity", "∞", "\\infty", "oo", "+inf", "+∞", "+\\infty", "+infinity"}


@dataclass(frozen=True)
class IntervalValue:
    low: End
    high: End
    low_open: bool
    high_open: bool


def _end(text: str) -> End:
    text = text.strip().replace("\u2212", "-").replace("$", "")
    if text.lower() in _INFINITY:
        return math.inf
    if text.startswith("-") and text[1:].strip().lower() in _INFINITY:
        return -math.inf
    return read_number(text)


class IntervalQuestion(ComparedQuestion[IntervalValue]):
    kind: Literal["interval"] = "interval"
    bracket_credit: float = Field(0.5, ge=0, le=1, description="credit when only open/closed is wrong")

    answer_hint = "an interval"

    def parse(self, raw: Any) -> IntervalValue:
        if not isinstance(raw, str):
            raise AnswerParseError("your answer is not an interval")
        if len(raw) > MAX_TEXT:
            raise AnswerParseError(f"your answer is {len(raw):,} characters long; write just the interval")
        text = raw.strip().strip("$").replace("\\left", "").replace("\\right", "").strip()
        if (m := _BRACKETS.match(text)) is not None:
            low, high = _end(m.group(2)), _end(m.group(3))
            return IntervalValue(low, high, m.group(1) != "[", m.group(4) != "]")
        if (m := _INEQUALITY.match(text)) is not None:
            low, high = _end(m.group(1)), _end(m.group(4))
            return IntervalValue(low, high, m.group(2) == "<", m.group(3) == "<")
        raise AnswerParseError(f"your answer {raw!r} is not an interval")

    def to_value(self, reference_output: Any) -> IntervalValue:
        r = reference_output
        return IntervalValue(_end(r["low"]), _end(r["high"]), r["low_open"], r["high_open"])

    def equivalent(self, got: IntervalValue, expected: IntervalValue) -> bool:
        return got == expected

    def show(self, value: IntervalValue) -> str:
        def end(v: End) -> str:
            return ("inf" if v > 0 else "-inf") if isinstance(v, float) else format_number(v)

        left = "(" if value.low_open else "["
        right = ")" if value.high_open else "]"
        return f"{left}{end(value.low)}, {end(value.high)}{right}"

    def reference_answer(self, ctx: Any) -> Any:
        return self.show(self.expected_value(ctx))

    def diagnose(self, got: IntervalValue, expected: IntervalValue) -> Verdict | None:
        if (got.low, got.high) != (expected.low, expected.high):
            return None
        ends = [name for name, g, e in (("lower", got.low_open, expected.low_open),
                                        ("upper", got.high_open, expected.high_open)) if g != e]
        which = " and ".join(ends)
        should = "open" if (expected.low_open if ends[0] == "lower" else expected.high_open) else "closed"
        status = Status.PARTIAL if self.bracket_credit > 0 else Status.INCORRECT
        return Verdict(status, self.bracket_credit,
                       f"your answer has the right ends, but the {which} end should be {should}: "
                       "is the end value actually reached?")
