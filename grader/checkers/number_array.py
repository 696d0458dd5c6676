"""Numeric arrays: nested lists of numbers (a shape such as `[785, 64]` is a 1-D array)."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, Literal

from pydantic import Field

from grader.checkers.base import ComparedQuestion
from grader.checkers.number import format_number, read_number
from grader.core.tolerance import Exact, Tolerance
from grader.parsing.errors import AnswerParseError

MAX_ENTRIES = 100_000
MAX_TEXT = 1_000  # an array written as text ("785 x 64"); the patterns backtrack on long text
_FLAT_TEXT = re.compile(r"^[\[(]?\s*(.+?)\s*[\])]?$")
_SEPARATOR = re.compile(r"\s*(?:,|×|\\times|\bx\b|\*)\s*")


class ArrayValue:
    """An array as its shape and its row-major entries, compared entry by entry."""

    def __init__(self, shape: tuple[int, ...], entries: list[Fraction]) -> None:
        self.shape = shape
        self.entries = entries

    def nested(self) -> Any:
        def build(shape: tuple[int, ...], flat: list[Fraction]) -> Any:
            if not shape:
                return flat[0]
            step = len(flat) // shape[0] if shape[0] else 0
            return [build(shape[1:], flat[i * step:(i + 1) * step]) for i in range(shape[0])]

        return build(self.shape, [_plain(e) for e in self.entries])  # type: ignore[misc]


def _plain(value: Fraction) -> int | float:
    return value.numerator if value.denominator == 1 else float(value)


def read_array(raw: Any) -> ArrayValue:
    if isinstance(raw, str):
        if len(raw) > MAX_TEXT:
            raise AnswerParseError(f"your answer is {len(raw):,} characters of text; write the array as a "
                                   "list")
        match = _FLAT_TEXT.match(raw.strip())
        parts = _SEPARATOR.split(match.group(1)) if match else []
        raw = [p for p in parts if p]
        if not raw:
            raise AnswerParseError("your answer is not an array")
    if not isinstance(raw, list):
        raise AnswerParseError("your answer is not an array")
    shape: list[int] = []
    entries: list[Fraction] = []
    _walk(raw, 0, shape, entries)
    return ArrayValue(tuple(shape), entries)


def _walk(node: Any, depth: int, shape: list[int], entries: list[Fraction]) -> None:
    if isinstance(node, list):
        if depth == len(shape):
            if entries:  # a number came first at this depth: [785, [64]]
                raise AnswerParseError("your answer mixes numbers and lists at the same level")
            shape.append(len(node))
        elif shape[depth] != len(node):
            raise AnswerParseError("your answer's rows have different lengths")
        for item in node:
            _walk(item, depth + 1, shape, entries)
        return
    if depth != len(shape):
        raise AnswerParseError("your answer mixes numbers and lists at the same level")
    if len(entries) >= MAX_ENTRIES:
        raise AnswerParseError(f"your answer has more than {MAX_ENTRIES:,} numbers")
    entries.append(read_number(node))


class NumberArrayQuestion(ComparedQuestion[ArrayValue]):
    kind: Literal["number_array"] = "number_array"
    tolerance: Tolerance = Field(default_factory=Exact)

    answer_hint = "a list of numbers"

    def parse(self, raw: Any) -> ArrayValue:
        return read_array(raw)

    def to_value(self, reference_output: Any) -> ArrayValue:
        return read_array(reference_output)

    def equivalent(self, got: ArrayValue, expected: ArrayValue) -> bool:
        return got.shape == expected.shape and all(
            self.tolerance.accepts(g, e) for g, e in zip(got.entries, expected.entries, strict=True)
        )

    def show(self, value: ArrayValue) -> str:
        if len(value.entries) <= 12:
            text = repr(value.nested()).replace("'", "")
            return text
        return f"a {'×'.join(map(str, value.shape))} array"

    def reference_answer(self, ctx: Any) -> Any:
        return self.expected_value(ctx).nested()


__all__ = ["ArrayValue", "NumberArrayQuestion", "format_number", "read_array"]
