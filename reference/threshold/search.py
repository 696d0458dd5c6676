"""The exact search over activation patterns: each hidden pattern is a polyhedron, found by
depth-first walking with infeasible partial patterns pruned; linear programs decide emptiness
(strict faces through a common slack), directions of growth, and small points."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from reference.threshold.exact_lp import LPResult, maximize
from reference.threshold.network import ThresholdNetwork
from reference.threshold.targets import Halfspace, Target

Point = tuple[Fraction, ...]
Leaf = tuple[tuple[int, ...], tuple[Halfspace, ...]]  # a hidden activation pattern and its region


class VerificationTooLarge(Exception):
    """The question needs more linear programs than the rubric allows."""


@dataclass(frozen=True)
class Piece:
    """A polyhedron where the network and the target disagree."""

    pattern: tuple[int, ...]
    constraints: tuple[Halfspace, ...]
    chosen: tuple[Halfspace, ...]  # the target conditions that place it (violated ones, or a conjunction)
    preferred: tuple[Halfspace, ...] = ()  # other target inequalities a readable point should keep


class Budget:
    """Counts the linear programs solved and refuses the one past the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def maximize(
        self,
        c: list[Fraction],
        rows: list[list[Fraction]],
        rhs: list[Fraction],
        nonnegative: list[bool] | None = None,
    ) -> LPResult:
        if self.used >= self.limit:
            raise VerificationTooLarge(
                f"too large for exact verification: more than {self.limit:,} linear programs"
            )
        self.used += 1
        return maximize(c, rows, rhs, nonnegative)


class Search:
    """The linear programs the verifier asks about one network and one target."""

    def __init__(self, net: ThresholdNetwork, target: Target, budget: Budget) -> None:
        self.net = net
        self.target = target
        self.n = target.inputs
        self.budget = budget

    # -- linear programs ------------------------------------------------------------------------

    def max_slack(self, constraints: Sequence[Halfspace]) -> tuple[Fraction, Point] | None:
        """(t, x) with x meeting every constraint and the strict ones by t > 0 (t <= 1), or None."""
        live = []
        for h in constraints:
            if h.constant:
                if not _constant_holds(h):
                    return None
            else:
                live.append(h)
        one, zero = Fraction(1), Fraction(0)
        rows = [[*h.a, one if h.strict else zero] for h in live] + [[zero] * self.n + [one]]
        rhs = [h.b for h in live] + [one]
        result = self.budget.maximize([zero] * self.n + [one], rows, rhs)
        if result.status != "optimal" or result.point is None:
            return None
        t = result.point[-1]
        if t <= 0 and any(h.strict for h in live):
            return None
        return t, result.point[:-1]

    def feasible(self, constraints: Sequence[Halfspace]) -> bool:
        return self.max_slack(constraints) is not None

    def small_point(self, constraints: Sequence[Halfspace], slack: Fraction) -> Point | None:
        """The point of least |x|_1 meeting the constraints, strict ones by at least `slack`."""
        n, zero, one = self.n, Fraction(0), Fraction(1)
        rows: list[list[Fraction]] = []
        rhs: list[Fraction] = []
        for h in constraints:
            if not h.constant:
                rows.append([*h.a, *([zero] * n)])
                rhs.append(h.b - slack if h.strict else h.b)
        for i in range(n):
            for sign in (one, -one):
                row = [zero] * (2 * n)
                row[i], row[n + i] = sign, -one
                rows.append(row)
                rhs.append(zero)
        result = self.budget.maximize([zero] * n + [-one] * n, rows, rhs, [False] * n + [True] * n)
        return result.point[:n] if result.point is not None else None

    # -- the search -----------------------------------------------------------------------------

    def patterns(self) -> list[Leaf]:
        """Every feasible hidden activation pattern with its region, depth-first."""
        leaves: list[Leaf] = []
        hidden = len(self.net.b1)

        def visit(unit: int, pattern: tuple[int, ...], region: tuple[Halfspace, ...]) -> None:
            if unit == hidden:
                leaves.append((pattern, region))
                return
            children = []
            for fired in (0, 1):
                h = self.net.unit_region(unit, bool(fired))
                children.append((fired, region if h.constant else (*region, h), h))
            silent, firing = children
            # the region is feasible, so if one side is empty the other is the whole region
            silent_ok = (
                _constant_holds(silent[2]) if silent[2].constant else self.feasible(silent[1])
            )
            firing_ok = not silent_ok or (
                _constant_holds(firing[2]) if firing[2].constant else self.feasible(firing[1])
            )
            for (fired, child_region, _), ok in ((silent, silent_ok), (firing, firing_ok)):
                if ok:
                    visit(unit + 1, (*pattern, fired), child_region)

        visit(0, (), ())
        return leaves

    def outside(
        self,
        region: tuple[Halfspace, ...],
        conjunctions: Sequence[tuple[Halfspace, ...]],
        negate: Callable[[Halfspace], Halfspace],
        originals: Sequence[tuple[Halfspace, ...]] | None = None,
    ) -> list[tuple[tuple[Halfspace, ...], tuple[Halfspace, ...], tuple[Halfspace, ...]]]:
        """Polyhedra of the region outside every conjunction: one violated inequality chosen per
        conjunction, infeasible choices pruned. Each comes with its chosen violations and the
        other inequalities of `originals` (the conjunctions as the target states them)."""
        stated = conjunctions if originals is None else originals
        found: list[tuple[tuple[Halfspace, ...], tuple[Halfspace, ...], tuple[Halfspace, ...]]] = []

        def visit(
            j: int,
            cons: tuple[Halfspace, ...],
            chosen: tuple[Halfspace, ...],
            others: tuple[Halfspace, ...],
        ) -> None:
            if j == len(conjunctions):
                found.append((cons, chosen, others))
                return
            for k, h in enumerate(conjunctions[j]):
                g = negate(h)
                extended = (*cons, g)
                if self.feasible(extended):
                    rest = stated[j][:k] + stated[j][k + 1 :]
                    visit(j + 1, extended, (*chosen, g), (*others, *rest))

        visit(0, region, (), ())
        return found

    def has_direction(self, constraints: Sequence[Halfspace], growing: Sequence[Halfspace]) -> bool:
        """Is there a direction d that stays in the constraints' closure and along which every
        `growing` half-space's a·d < 0 (so the piece extends arbitrarily far that way)?"""
        if not growing:
            return True
        cone = [h.homogeneous(False) for h in constraints if not h.constant]
        cone += [h.homogeneous(True) for h in growing if not h.constant]
        return self.feasible(cone)


def _constant_holds(h: Halfspace) -> bool:
    return h.b > 0 if h.strict else h.b >= 0
