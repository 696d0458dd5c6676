"""Named tolerance modes for numeric answers, as a discriminated union on `mode`."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Real = Fraction | float


class _Mode(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Exact(_Mode):
    """Equal as exact rationals (`1.15384e6` equals 1153840)."""

    mode: Literal["exact"] = "exact"

    def accepts(self, got: Real, expected: Real) -> bool:
        return Fraction(got) == Fraction(expected)

    def describe(self) -> str:
        return "exactly"


class Relative(_Mode):
    """|got − expected| ≤ rtol·|expected| + atol."""

    mode: Literal["relative"] = "relative"
    rtol: float = Field(1e-6, ge=0)
    atol: float = Field(0.0, ge=0)

    def accepts(self, got: Real, expected: Real) -> bool:
        expected = Fraction(expected)
        return abs(Fraction(got) - expected) <= Fraction(self.rtol) * abs(expected) + Fraction(self.atol)

    def describe(self) -> str:
        return f"within a relative tolerance of {self.rtol:g}"


class Absolute(_Mode):
    """|got − expected| ≤ atol."""

    mode: Literal["absolute"] = "absolute"
    atol: float = Field(ge=0)

    def accepts(self, got: Real, expected: Real) -> bool:
        return abs(Fraction(got) - Fraction(expected)) <= Fraction(self.atol)

    def describe(self) -> str:
        return f"within ±{self.atol:g}"


class SignificantFigures(_Mode):
    """Right to `digits` significant figures: off by at most half a unit in the last one."""

    mode: Literal["sigfigs"] = "sigfigs"
    digits: int = Field(ge=1, le=15)

    def accepts(self, got: Real, expected: Real) -> bool:
        if expected == 0:
            return got == 0
        magnitude = math.floor(math.log10(abs(float(expected))))
        slack = Fraction(1, 2) * Fraction(10) ** (magnitude - self.digits + 1)
        return abs(Fraction(got) - Fraction(expected)) <= slack

    def describe(self) -> str:
        return f"to {self.digits} significant figures"


class DecimalPlaces(_Mode):
    """Right to `digits` decimal places: off by at most half a unit in the last place."""

    mode: Literal["decimals"] = "decimals"
    digits: int = Field(ge=0, le=15)

    def accepts(self, got: Real, expected: Real) -> bool:
        slack = Fraction(1, 2) / Fraction(10) ** self.digits
        return abs(Fraction(got) - Fraction(expected)) <= slack

    def describe(self) -> str:
        return f"to {self.digits} decimal places"


Tolerance = Annotated[
    Exact | Relative | Absolute | SignificantFigures | DecimalPlaces, Field(discriminator="mode")
]
