"""Exact linear programming over the rationals: a two-phase simplex on an integer tableau.

`maximize(c, rows, rhs)` solves  max c·y  subject to  rows·y <= rhs  with rational data and
returns an exact optimum, or says the program is infeasible or unbounded. Nothing is rounded.

Why our own simplex rather than `sympy.solvers.simplex.linprog`: sympy's is exact too but costs
about 9 ms for a 6-variable program, and the threshold verifier solves hundreds of them per answer.
This one keeps the tableau as Python integers with a common positive denominator `d` (integer
pivoting, as in Edmonds' and Avis' lrs: after each pivot every entry is an integer minor of the
starting matrix, so the division by the previous pivot is exact). Bland's rule prevents cycling.
Tests compare it with sympy's simplex on random programs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

Rational = Fraction | int
Status = Literal["optimal", "infeasible", "unbounded"]


@dataclass(frozen=True)
class LPResult:
    status: Status
    value: Fraction | None = None
    point: tuple[Fraction, ...] | None = None


def maximize(
    c: Sequence[Rational],
    rows: Sequence[Sequence[Rational]],
    rhs: Sequence[Rational],
    nonnegative: Sequence[bool] | None = None,
) -> LPResult:
    """max c·y subject to rows·y <= rhs; each y_j is free unless `nonnegative[j]`."""
    n = len(c)
    if any(len(row) != n for row in rows) or len(rows) != len(rhs):
        raise ValueError("every row needs one coefficient per variable and one right-hand side")
    signs = nonnegative if nonnegative is not None else [False] * n
    columns = [(j, s) for j in range(n) for s in ((1,) if signs[j] else (1, -1))]
    tableau = _Tableau.build(columns, rows, rhs, c)
    if not tableau.phase_one():
        return LPResult("infeasible")
    if not tableau.phase_two():
        return LPResult("unbounded")
    point = tableau.point(columns, n)
    value = sum((Fraction(cj) * yj for cj, yj in zip(c, point, strict=True)), Fraction(0))
    return LPResult("optimal", value, point)


def _integer_row(values: Sequence[Rational]) -> list[int]:
    """The row scaled by the least common multiple of its denominators."""
    fractions = [Fraction(v) for v in values]
    scale = math.lcm(*(f.denominator for f in fractions)) if fractions else 1
    return [int(f * scale) for f in fractions]


class _Tableau:
    """Constraint rows, then the phase-one and phase-two objective rows; the last column is the
    right-hand side. Real entries are `entry / d`; `d` stays positive."""

    def __init__(
        self, rows: list[list[int]], basis: list[int], width: int, artificial_from: int
    ) -> None:
        self.rows = rows
        self.basis = basis
        self.width = width  # number of variable columns (the rhs is column `width`)
        self.artificial_from = artificial_from
        self.d = 1

    @classmethod
    def build(
        cls,
        columns: list[tuple[int, int]],
        rows: Sequence[Sequence[Rational]],
        rhs: Sequence[Rational],
        c: Sequence[Rational],
    ) -> _Tableau:
        m, k = len(rows), len(columns)
        negative = [i for i in range(m) if Fraction(rhs[i]) < 0]
        width = k + m + len(negative)
        table: list[list[int]] = []
        basis: list[int] = []
        for i in range(m):
            scaled = _integer_row([s * rows[i][j] for j, s in columns] + [rhs[i]])
            row = scaled[:k] + [0] * (width - k) + [scaled[k]]
            row[k + i] = 1
            if i in negative:
                row = [-v for v in row]
                art = k + m + negative.index(i)
                row[art] = 1
                basis.append(art)
            else:
                basis.append(k + i)
            table.append(row)
        phase_one = [0] * (width + 1)
        for i in negative:
            phase_one = [p - v for p, v in zip(phase_one, table[i], strict=True)]
        for art in range(k + m, width):
            phase_one[art] = 0  # the +1 of -c cancels the basic artificial's own entry
        phase_two = _integer_row([-s * c[j] for j, s in columns]) + [0] * (width - k + 1)
        return cls([*table, phase_one, phase_two], basis, width, k + m)

    @property
    def m(self) -> int:
        return len(self.basis)

    def pivot(self, r: int, col: int) -> None:
        rows, d = self.rows, self.d
        pivot_row = rows[r]
        p = pivot_row[col]
        for i, row in enumerate(rows):
            if i == r:
                continue
            f = row[col]
            if f == 0:
                rows[i] = [v * p // d for v in row]
            else:
                rows[i] = [(v * p - f * w) // d for v, w in zip(row, pivot_row, strict=True)]
        self.d = p
        self.basis[r] = col

    def _leaving_row(self, col: int) -> int | None:
        """Minimum ratio test over positive entries; ties go to the smallest basic index."""
        best: int | None = None
        for i in range(self.m):
            a = self.rows[i][col]
            if a <= 0:
                continue
            if best is None:
                best = i
                continue
            lhs = self.rows[i][-1] * self.rows[best][col]
            rhs = self.rows[best][-1] * a
            if lhs < rhs or (lhs == rhs and self.basis[i] < self.basis[best]):
                best = i
        return best

    def _optimise(self, objective: int, allowed: int) -> bool:
        """Bland's rule on objective row `objective`, entering columns below `allowed`.
        False when the objective is unbounded."""
        while True:
            obj = self.rows[objective]  # each pivot replaces the row objects
            col = next((j for j in range(allowed) if obj[j] < 0), None)
            if col is None:
                return True
            r = self._leaving_row(col)
            if r is None:
                return False
            self.pivot(r, col)

    def phase_one(self) -> bool:
        """Find a feasible basis; False when there is none."""
        objective = self.m
        if self.artificial_from < self.width:
            self._optimise(objective, self.width)
            if self.rows[objective][-1] < 0:
                return False
            self._drive_out_artificials()
        return True

    def _drive_out_artificials(self) -> None:
        for r in range(self.m):
            if self.basis[r] < self.artificial_from:
                continue
            row = self.rows[r]
            col = next((j for j in range(self.artificial_from) if row[j] != 0), None)
            if col is None:
                continue  # a redundant row: zero on every real column, it never changes again
            if row[col] < 0:
                self.rows[r] = [-v for v in row]  # its right-hand side is 0, so this is harmless
            self.pivot(r, col)

    def phase_two(self) -> bool:
        return self._optimise(self.m + 1, self.artificial_from)

    def point(self, columns: list[tuple[int, int]], n: int) -> tuple[Fraction, ...]:
        values = [Fraction(0)] * n
        for r, col in enumerate(self.basis):
            if col < len(columns):
                j, sign = columns[col]
                values[j] += sign * Fraction(self.rows[r][-1], self.d)
        return tuple(values)
