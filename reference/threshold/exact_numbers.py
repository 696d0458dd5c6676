"""Exact numbers: a rubric's or an answer's number read as a rational, and written back readably."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any


def exact_number(value: Any) -> Fraction:
    """A rubric number: an int, a float read as its shortest decimal, or text such as '1/3'."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return Fraction(Decimal(repr(value)) if isinstance(value, float) else value)
    if isinstance(value, str):
        try:
            return Fraction(value.strip().replace("−", "-"))
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{value!r} is not a number") from None
    raise ValueError(f"{value!r} is not a number")


def _terminating_digits(value: Fraction, limit: int = 12) -> int | None:
    """The number of decimals that write `value` exactly, if at most `limit`."""
    for digits in range(limit + 1):
        if 10**digits % value.denominator == 0:
            return digits
    return None


def format_exact(value: Fraction) -> str:
    """`3`, `-0.0005` or `4e-9` when a decimal is exact and short, else `1/3`."""
    if value.denominator == 1:
        return str(value.numerator)
    digits = _terminating_digits(value)
    if digits is None:
        return f"{value.numerator}/{value.denominator}"
    scaled = Decimal(value.numerator * 10**digits // value.denominator).scaleb(-digits)
    if abs(value) < Fraction(1, 10**5):
        return f"{scaled.normalize():e}".replace("e-0", "e-").replace("E", "e")
    return f"{scaled:f}"


def plain_number(value: Fraction) -> int | float | str:
    """JSON-friendly and exact when read back: an int, a short decimal, or '1/3'."""
    if value.denominator == 1:
        return value.numerator
    digits = _terminating_digits(value, 9)
    if (
        digits is not None
        and len(str(abs(value.numerator * 10**digits // value.denominator))) <= 15
    ):
        return float(format_exact(value))
    return f"{value.numerator}/{value.denominator}"
