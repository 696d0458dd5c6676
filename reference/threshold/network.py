"""A hard-threshold network (inputs -> one hidden layer -> one output) with exact weights."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from reference.threshold.exact_numbers import plain_number
from reference.threshold.targets import Halfspace

Threshold = Literal["ge", "gt"]


@dataclass(frozen=True)
class ThresholdNetwork:
    """h = σ(W1 x + b1), y = σ(w2·h + b2) with σ(z) = [z >= 0] ('ge') or [z > 0] ('gt')."""

    W1: tuple[tuple[Fraction, ...], ...]
    b1: tuple[Fraction, ...]
    w2: tuple[Fraction, ...]
    b2: Fraction
    threshold: Threshold = "ge"

    def __post_init__(self) -> None:
        hidden = len(self.b1)
        if len(self.W1) != hidden or len(self.w2) != hidden:
            raise ValueError("W1, b1 and w2 need one entry per hidden unit")
        if len({len(row) for row in self.W1}) > 1:
            raise ValueError("every row of W1 needs one weight per input")

    @property
    def inputs(self) -> int:
        return len(self.W1[0]) if self.W1 else 0

    def fires(self, z: Fraction) -> int:
        return int(z >= 0) if self.threshold == "ge" else int(z > 0)

    def hidden(self, x: Sequence[Fraction]) -> tuple[int, ...]:
        return tuple(
            self.fires(sum((w * xi for w, xi in zip(row, x, strict=True)), Fraction(0)) + b)
            for row, b in zip(self.W1, self.b1, strict=True)
        )

    def output_of_pattern(self, pattern: Sequence[int]) -> int:
        return self.fires(
            sum((w * h for w, h in zip(self.w2, pattern, strict=True)), Fraction(0)) + self.b2
        )

    def output(self, x: Sequence[Fraction]) -> int:
        return self.output_of_pattern(self.hidden(x))

    def unit_region(self, unit: int, fired: bool) -> Halfspace:
        """The inputs on which hidden unit `unit` fires (or stays silent), as a half-space."""
        row, bias = self.W1[unit], self.b1[unit]
        if fired:  # z >= 0 (or z > 0)  <=>  -row·x <= bias (or <)
            return Halfspace(tuple(-w for w in row), bias, self.threshold == "gt")
        return Halfspace(row, -bias, self.threshold == "ge")  # z < 0 (or z <= 0)

    def as_data(self) -> dict[str, Any]:
        """By role, JSON-friendly and exact when read back."""
        return {
            "hidden_weights": [[plain_number(w) for w in row] for row in self.W1],
            "hidden_bias": [plain_number(b) for b in self.b1],
            "output_weights": [plain_number(w) for w in self.w2],
            "output_bias": plain_number(self.b2),
        }
