"""Are two scalar formulas the same function on the question's domain? Three answers, never two.

1. float64 at many seeded points (a grid with the domain's ends, plus random points), with a
   tolerance that grows with the size of the intermediate values (cancellation);
2. every float disagreement is re-checked at 50 digits before it counts, and agreement is
   re-checked at 50 digits too (a term like 1e-12·x hides below float tolerance);
3. optionally sympy, under a soft deadline: a proof of equality, or a difference that is a
   non-zero rational function.

The result is `equal`, `different` (with a point that shows it) or `undecided` (with why):
an undecided check is never reported as a wrong answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from grader.mathparse.ast import Node, free_variables
from grader.mathparse.evaluate import Array, FloatResult, Undefined, eval_float, eval_mp

Outcome = Literal["equal", "different", "undecided"]

RTOL = 1e-9
CANCELLATION_TOL = 1e-11
HP_TOL = 1e-30
MIN_POINTS = 8
UNDEFINED_SHARE = 0.05


@dataclass(frozen=True)
class ProbeSpace:
    """Where formulas are compared: a box of variable ranges, and variables defined from them."""

    domains: dict[str, tuple[float, float]]
    definitions: tuple[tuple[str, Node], ...] = ()  # e.g. (("y", σ(z)),): y is computed, not drawn
    seed: int = 20240917
    random_points: int = 64
    grid_points: int = 401  # a dense grid: a difference on a small stretch shows up

    def points(self) -> dict[str, Array]:
        names = sorted(self.domains)
        rng = np.random.default_rng(self.seed)
        columns: dict[str, list[float]] = {n: [] for n in names}
        if len(names) == 1:
            low, high = self.domains[names[0]]
            columns[names[0]] += list(np.linspace(low, high, self.grid_points))
        count = self.random_points if len(names) == 1 else self.random_points * 4
        for _ in range(count):
            for n in names:
                low, high = self.domains[n]
                columns[n].append(float(rng.uniform(low, high)))
        return {n: np.array(v, dtype=np.float64) for n, v in columns.items()}

    def environment(self) -> tuple[dict[str, Array], int]:
        env = self.points()
        size = len(next(iter(env.values()))) if env else 1
        for name, definition in self.definitions:
            env[name] = eval_float(definition, env, size).values
        return env, size

    @property
    def variables(self) -> set[str]:
        return set(self.domains) | {name for name, _ in self.definitions}


@dataclass
class Comparison:
    outcome: Outcome
    method: str  # numeric, high-precision, symbolic, definedness
    reason: str = ""  # for the TA: why, in one line
    point: dict[str, float] | None = None  # where the answer differs or has no value
    got: float | None = None  # the answer's value there (never the reference's)
    relative_gap: float | None = None  # how far apart, where both have values
    proved: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def compare(
    got: Node,
    expected: Node,
    space: ProbeSpace,
    *,
    symbolic: bool = False,
    symbolic_seconds: float = 1.0,
) -> Comparison:
    """Is `got` the same function as `expected` on `space`?"""
    result = _numeric(got, expected, space)
    if symbolic or result.outcome == "undecided":
        result = _with_symbolic(got, expected, space, result, symbolic_seconds)
    return result


# --- numeric ----------------------------------------------------------------------------------


def _numeric(got: Node, expected: Node, space: ProbeSpace) -> Comparison:
    env, size = space.environment()
    g, e = eval_float(got, env, size), eval_float(expected, env, size)
    finite_g, finite_e = np.isfinite(g.values), np.isfinite(e.values)
    both = finite_g & finite_e
    gap = np.abs(g.values - e.values)
    tol = RTOL * np.maximum(np.abs(g.values), np.abs(e.values)) + CANCELLATION_TOL * np.maximum(
        g.scale, e.scale
    )
    tol += 1e-300
    with np.errstate(invalid="ignore"):
        disagree = both & ~(gap <= tol)
    if disagree.any():
        confirmed = _confirm_difference(got, expected, env, g, e, np.flatnonzero(disagree), space)
        if confirmed is not None:
            return confirmed
    no_value = finite_e & ~finite_g
    if no_value.sum() > max(1, UNDEFINED_SHARE * finite_e.sum()) or (
        no_value.any() and not both.any()
    ):
        index = int(np.flatnonzero(no_value)[0])
        kind = "overflows" if np.isinf(g.values[index]) else "has no value"
        return Comparison(
            "different",
            "definedness",
            f"the answer {kind} where the reference is defined",
            point=_point(env, index, space),
            details={"points_without_value": int(no_value.sum())},
        )
    agreeing = int(both.sum())
    if agreeing < MIN_POINTS:
        return Comparison(
            "undecided",
            "numeric",
            f"only {agreeing} of {size} points give values for both formulas",
        )
    return _high_precision_agreement(got, expected, env, g, e, both, space)


def _confirm_difference(
    got: Node,
    expected: Node,
    env: dict[str, Array],
    g: FloatResult,
    e: FloatResult,
    indices: Any,
    space: ProbeSpace,
) -> Comparison | None:
    """A float disagreement that holds at 50 digits (or is too large to be rounding)."""
    for index in list(indices)[:3]:
        point = _base_point(env, int(index), space)
        gv, ev = float(g.values[index]), float(e.values[index])
        relative = abs(gv - ev) / max(abs(gv), abs(ev), 1e-300)
        if g.clean[index] and e.clean[index]:
            pair = _high_precision_pair(got, expected, point, space)
            if pair is None:
                continue
            hg, he = pair
            scale = max(float(g.scale[index]), float(e.scale[index]), 1.0)
            if abs(hg - he) <= HP_TOL * scale + RTOL * 1e-12 * abs(he):
                continue  # a float artefact: the formulas agree here
            relative = float(abs(hg - he) / max(abs(hg), abs(he), 1e-300))
        elif relative < 1e-6:
            continue
        return Comparison(
            "different", "numeric", "the values differ", point=point, got=gv, relative_gap=relative
        )
    return None


def _high_precision_pair(got: Node, expected: Node, point: Any, space: ProbeSpace) -> tuple[Any, Any] | None:
    """Both formulas at 50 digits at one point, or None where either is undefined there."""
    try:
        return eval_mp(got, point, space.definitions), eval_mp(expected, point, space.definitions)
    except (Undefined, ValueError, ZeroDivisionError):
        return None


def _high_precision_agreement(
    got: Node,
    expected: Node,
    env: dict[str, Array],
    g: FloatResult,
    e: FloatResult,
    both: Any,
    space: ProbeSpace,
) -> Comparison:
    clean = np.flatnonzero(both & g.clean & e.clean)
    picks = (
        clean[np.linspace(0, len(clean) - 1, num=min(6, len(clean))).astype(int)]
        if len(clean)
        else []
    )
    checked = 0
    for index in picks:
        point = _base_point(env, int(index), space)
        pair = _high_precision_pair(got, expected, point, space)
        if pair is None:
            continue
        hg, he = pair
        checked += 1
        scale = max(float(g.scale[index]), float(e.scale[index]), 1.0)
        if abs(hg - he) > HP_TOL * scale:
            relative = float(abs(hg - he) / max(abs(hg), abs(he), 1e-300))
            return Comparison(
                "different",
                "high-precision",
                "the values differ by a tiny amount",
                point=point,
                got=float(hg),
                relative_gap=relative,
            )
    count = int(both.sum())
    return Comparison(
        "equal",
        "numeric",
        f"equal at {count} points ({checked} at 50 digits)",
        details={"points": count, "high_precision_points": checked},
    )


def _base_point(env: dict[str, Array], index: int, space: ProbeSpace) -> dict[str, float]:
    return {n: float(env[n][index]) for n in sorted(space.domains)}


def _point(env: dict[str, Array], index: int, space: ProbeSpace) -> dict[str, float]:
    return {n: round(v, 6) for n, v in _base_point(env, index, space).items()}


# --- symbolic -------------------------------------------------------------------------------------


def _with_symbolic(
    got: Node, expected: Node, space: ProbeSpace, numeric: Comparison, seconds: float
) -> Comparison:
    from grader.mathparse.symbolic import SymbolicTimeout, symbolic_difference

    if numeric.outcome == "different" and numeric.method != "definedness":
        return numeric
    try:
        verdict = symbolic_difference(got, expected, dict(space.definitions), seconds)
    except SymbolicTimeout:
        numeric.details["symbolic"] = "timed out"
        return numeric
    numeric.details["symbolic"] = verdict
    if verdict == "zero":
        return Comparison(
            "equal", "symbolic", "proved equal by sympy", proved=True, details=numeric.details
        )
    if verdict == "nonzero" and numeric.outcome != "different":
        return Comparison(
            "different", "symbolic", "sympy finds a non-zero difference", details=numeric.details
        )
    return numeric


def describe_point(point: dict[str, float]) -> str:
    return ", ".join(f"{n} = {_short(v)}" for n, v in point.items())


def _short(value: float) -> str:
    if value == 0 or 1e-4 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.3e}"


def used_variables(node: Node) -> set[str]:
    return free_variables(node)


def is_finite_number(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
