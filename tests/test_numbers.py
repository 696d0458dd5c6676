"""How students write numbers, read exactly; and what is refused with a message."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from grader.checkers.number import read_number
from grader.parsing.errors import AnswerParseError

READ = [
    ("plain int", 1153840, Fraction(1153840)),
    ("yaml decimal", Decimal("0.0006"), Fraction(6, 10000)),
    ("comma thousands with unit", "1,153,840 FLOPs", Fraction(1153840)),
    ("space thousands", "61 706", Fraction(61706)),
    ("thin-space thousands", "61\u2009706", Fraction(61706)),
    ("underscore thousands", "1_153_840", Fraction(1153840)),
    ("scientific", "6.2e-4", Fraction(62, 100000)),
    ("scientific upper", "1.15384E6", Fraction(1153840)),
    ("latex times ten", "1.15384 \\times 10^{6}", Fraction(1153840)),
    ("x times ten", "1.15384x10^6", Fraction(1153840)),
    ("unicode times ten", "1.15384 × 10^6", Fraction(1153840)),
    ("boxed latex with text", "$\\boxed{1,153,840 \\text{ FLOPs}}$", Fraction(1153840)),
    ("chain of equalities", "= 1,151,280 + 2560 = 1,153,840", Fraction(1153840)),
    ("approx sign", "\u2248 59.48", Fraction(5948, 100)),
    ("latex approx", "\\approx 59.48", Fraction(5948, 100)),
    ("unicode minus", "\u2212398", Fraction(-398)),
    ("decimal comma", "0,0006", Fraction(6, 10000)),
    ("fraction", "1/3", Fraction(1, 3)),
    ("latex fraction", "\\frac{1}{3}", Fraction(1, 3)),
    ("scale word", "1.15 million", Fraction(1150000)),
    ("SI suffix", "61.7K", Fraction(61700)),
    ("prefixed unit", "2.5 MFLOPs", Fraction(2500000)),
    ("trailing words", "600 iterations", Fraction(600)),
    ("leading dot", ".5", Fraction(1, 2)),
    ("explicit plus", "+7850", Fraction(7850)),
]

REFUSED = [
    ("word", "abc", "is not a number"),
    ("bad grouping", "61,70,6", "is not a number"),
    ("mixed separators", "1,153 840", "is not a number"),
    ("yes/no value", True, "yes/no value"),
    ("list", [1153840], "a list"),
    ("mapping", {"a": 1}, "a mapping"),
    ("huge exponent", "1e999", "out of range"),
    ("infinite decimal", Decimal("Infinity"), "not a finite number"),
    ("nan decimal", Decimal("NaN"), "not a finite number"),
    ("division by zero", "1/0", "divides by zero"),
    ("too long", "1" * 500, "characters long"),
    ("empty after cleaning", "$$", "no number"),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in READ], ids=[c[0] for c in READ])
def test_reads_exactly(raw: object, expected: Fraction) -> None:
    assert read_number(raw) == expected


@pytest.mark.parametrize(("raw", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refuses_with_a_message(raw: object, message: str) -> None:
    with pytest.raises(AnswerParseError, match=message) as err:
        read_number(raw)
    assert str(err.value).startswith("your answer")
