"""Exact numbers of the threshold package: a rubric's or an answer's number read as a rational,
and written back for feedback (`format_exact`) and for JSON (`plain_number`, exact when read back)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction as F
from typing import Any

import pytest

from reference.threshold.exact_numbers import exact_number, format_exact, plain_number

READ = [
    ("int", 3, F(3)),
    ("float_as_its_shortest_decimal", 0.1, F(1, 10)),
    ("float_exponent", 1e-9, F(1, 10**9)),
    ("decimal", Decimal("0.25"), F(1, 4)),
    ("fraction", F(2, 3), F(2, 3)),
    ("text_fraction", "1/3", F(1, 3)),
    ("text_padded_negative", " -0.001 ", F(-1, 1000)),
    ("text_unicode_minus", "−2", F(-2)),
    ("text_exponent", "1e-9", F(1, 10**9)),
]


@pytest.mark.parametrize(("value", "expected"), [c[1:] for c in READ], ids=[c[0] for c in READ])
def test_exact_number_reads(value: Any, expected: F) -> None:
    assert exact_number(value) == expected


REFUSED = [
    ("bool", True),
    ("nan", float("nan")),
    ("infinity", float("inf")),
    ("division_by_zero", "1/0"),
    ("words", "one"),
    ("none", None),
    ("list", [1]),
]


@pytest.mark.parametrize("value", [c[1] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_exact_number_refuses(value: Any) -> None:
    with pytest.raises(ValueError, match="number"):
        exact_number(value)


FORMATTED = [
    ("integer", F(3), "3"),
    ("negative_integer", F(-7), "-7"),
    ("half", F(1, 2), "0.5"),
    ("two_decimals", F(12345, 100), "123.45"),
    ("small_decimal", F(-1, 2000), "-0.0005"),
    ("smallest_plain_decimal", F(1, 10**5), "0.00001"),
    ("tiny_as_exponent", F(4, 10**9), "4e-9"),
    ("tiny_negative_as_exponent", F(-3, 10**6), "-3e-6"),
    ("third", F(1, 3), "1/3"),
    ("more_than_twelve_decimals", F(1, 10**13), "1/10000000000000"),
]


@pytest.mark.parametrize(("value", "expected"), [c[1:] for c in FORMATTED], ids=[c[0] for c in FORMATTED])
def test_format_exact(value: F, expected: str) -> None:
    assert format_exact(value) == expected


PLAIN = [
    ("integer", F(3), 3),
    ("half", F(1, 2), 0.5),
    ("small_decimal", F(-1, 2000), -0.0005),
    ("third", F(1, 3), "1/3"),
    ("more_than_nine_decimals", F(1, 10**10), "1/10000000000"),
    ("more_than_fifteen_digits", F(123456789012345678, 100), "61728394506172839/50"),
]


@pytest.mark.parametrize(("value", "expected"), [c[1:] for c in PLAIN], ids=[c[0] for c in PLAIN])
def test_plain_number_is_exact_when_read_back(value: F, expected: int | float | str) -> None:
    plain = plain_number(value)
    assert plain == expected
    assert type(plain) is type(expected)
    assert exact_number(plain) == value
