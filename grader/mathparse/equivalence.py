"""Are two scalar formulas the same function on the question's domain? Three answers, never two.

The procedure (docs/expressions.md states it with its argument and assumptions):

1. Definitions are substituted (`y = σ(z)`: y is σ(z), so y ranges over (0, 1) by itself). One
   variable is the real line (or its declared domain); several are reduced to one along a few
   seeded random lines.
2. The breakpoints of both formulas (zeros of the arguments of relu, abs, sqrt, log, …, of
   denominators and of bases of fractional powers) cut the line into pieces on which both are
   analytic (`pieces.py`).
3. Every piece is probed: random points, both sides of each end, the question's range, and
   log-spaced magnitudes out to 1e300. At each point both formulas are evaluated in ball
   arithmetic (`balls.py`); a difference ball that excludes 0 proves a difference; agreement
   needs the ball's radius below 2^-1100 · max(1, |reference|), with the working precision raised
   (up to 9,600 bits) until cancellation is resolved. No tolerance grows with the sizes of
   intermediate values.
4. An answer without a real value where the reference has one is different, at that point.

The result is `equal`, `different` (with a point that shows it) or `undecided` (with why).
Probe points are drawn from a seed derived from the formulas' text: the same answer always gets
the same points, and an answer cannot be fitted to points it does not know.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from flint import arb

from grader.mathparse.ast import Bin, Call, Neg, Node, Num, Transpose, Var, free_variables, to_text
from grader.mathparse.balls import (
    Indeterminate,
    OverBudget,
    Undefined,
    Unsupported,
    compile_ball,
    evaluate_ball,
    work_budget,
)
from grader.mathparse.pieces import (
    Probe,
    Undecidable,
    breakpoints,
    critical_arguments,
    probe_points,
)

Outcome = Literal["equal", "different", "undecided"]

TOLERANCE_BITS = 1100  # agreement: |difference| ≤ 2^-1100 · max(1, |reference|), proved by balls
PRECISIONS = (1216, 2432, 4864, 9728)
TOLERANCE = arb(2) ** (-TOLERANCE_BITS)  # exact: a power of two
_ONE = arb(1)  # working precision in bits, raised only when needed
LINES = 2  # random lines through a space of several variables
MAX_PROBES = 1500  # points per line, summed over pieces
LINE = "_t"
WORK_BUDGET = 250_000  # tree nodes evaluated per line, weighted by precision (docs: budgets)


@dataclass(frozen=True)
class ProbeSpace:
    """Where formulas are compared: each variable's typical range (where most random points go),
    its mathematical domain (default: the real line) and variables defined from the others."""

    domains: dict[str, tuple[float, float]]  # typical ranges (the rubric's `variables`)
    definitions: tuple[tuple[str, Node], ...] = ()  # e.g. (("y", σ(z)),): y is computed
    limits: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)

    @property
    def variables(self) -> set[str]:
        return set(self.domains) | {name for name, _ in self.definitions}


@dataclass
class Comparison:
    outcome: Outcome
    method: str  # balls, high-precision (a tiny difference), definedness, structure
    reason: str = ""  # for the TA: why, in one line
    point: dict[str, float] | None = None  # where the answer differs or has no value
    got: float | None = None  # the answer's value there (never the reference's)
    relative_gap: float | None = None  # how far apart, where both have values
    proved: bool = False
    factor: float | None = None  # got = factor · expected at every point looked at
    details: dict[str, Any] = field(default_factory=dict)


def compare(got: Node, expected: Node, space: ProbeSpace, **_ignored: Any) -> Comparison:
    """Is `got` the same function as `expected` on `space`?"""
    return compare_many(got, [expected], space)[0]


def compare_many(got: Node, candidates: list[Node], space: ProbeSpace) -> list[Comparison]:
    """`got` against each candidate, sharing the answer's values between candidates."""
    seed = _seed(got, candidates)
    rng = random.Random(seed)
    got_flat = inline(got, space.definitions)
    flats = [inline(c, space.definitions) for c in candidates]
    names = sorted(set().union(free_variables(got_flat), *(free_variables(f) for f in flats)))
    lines = _lines(names, space, rng)
    if len(names) > 1 and _kinked(got_flat, flats):
        reason = ("several variables and a kink or domain edge: random lines can miss a small "
                  "region, so this is not decided automatically")
        return [Comparison("undecided", "structure", reason) for _ in candidates]
    results: list[Comparison | None] = [None] * len(candidates)
    for line in lines:
        try:
            with work_budget(WORK_BUDGET) as budget:
                outcome = _compare_on_line(got_flat, flats, line, rng, results)
            line.work = budget.spent
        except (Undecidable, Unsupported, OverBudget) as err:
            reason = f"beyond the checker's budgets ({err})"
            outcome = [Comparison("undecided", "structure", reason) for _ in candidates]
        for i, comparison in enumerate(outcome):
            if results[i] is None and comparison.outcome != "equal":
                results[i] = comparison
    final = [c or Comparison("equal", "balls", _agreement_reason(lines)) for c in results]
    for comparison in final:
        if comparison.point is not None and space.definitions:
            comparison.point = _with_defined(comparison.point, space.definitions)
    return final


def _with_defined(point: dict[str, float], definitions: tuple[tuple[str, Node], ...]
                  ) -> dict[str, float]:
    """The point with the defined variables' values first (y = σ(z): the student wrote y)."""
    exact = {k: Fraction(v) for k, v in point.items()}
    shown: dict[str, float] = {}
    for name, definition in definitions:
        try:
            value = evaluate_ball(inline(definition, definitions), dict(exact), PRECISIONS[0])
        except (Undefined, Indeterminate, Unsupported):
            continue
        number = _float(value)
        if number is not None:
            shown[name] = number
    return {**shown, **point}


def _kinked(got: Node, candidates: list[Node]) -> bool:
    """Does any formula have a kink, step, pole or domain edge that moves with a variable?"""
    try:
        return any(free_variables(arg) for tree in (got, *candidates)
                   for arg in critical_arguments(tree))
    except Unsupported:
        return True


def _agreement_reason(lines: list[Line]) -> str:
    pieces = sum(line.pieces for line in lines)
    points = sum(line.points for line in lines)
    noun = "piece" if pieces == 1 else "pieces"
    return f"equal at {points} points on {pieces} {noun} of the domain, in ball arithmetic"


def _seed(got: Node, candidates: list[Node]) -> int:
    text = "\n".join([to_text(got), *(to_text(c) for c in candidates)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


# --- substitution --------------------------------------------------------------------------------


def substitute(node: Node, mapping: dict[str, Node]) -> Node:
    if isinstance(node, Var):
        return mapping.get(node.name, node)
    if isinstance(node, Call):
        return Call(node.func, tuple(substitute(a, mapping) for a in node.args))
    if isinstance(node, Neg):
        return Neg(substitute(node.operand, mapping))
    if isinstance(node, Transpose):
        return Transpose(substitute(node.operand, mapping))
    if isinstance(node, Bin):
        return Bin(node.op, substitute(node.left, mapping), substitute(node.right, mapping))
    return node


def inline(node: Node, definitions: tuple[tuple[str, Node], ...]) -> Node:
    """The tree with every defined variable replaced by its definition (later ones may use
    earlier ones)."""
    for name, definition in reversed(definitions):
        node = substitute(node, {name: definition})
    return node


# --- lines ---------------------------------------------------------------------------------------


@dataclass
class Line:
    """x_i = origin_i + slope_i · t, with t restricted to (low, high)."""

    origin: dict[str, Fraction]
    slope: dict[str, Fraction]
    low: Fraction | None
    high: Fraction | None
    box: tuple[Fraction, Fraction]
    pieces: int = 0
    points: int = 0
    work: int = 0

    def mapping(self) -> dict[str, Node]:
        return {
            n: Bin("+", Num(self.origin[n]), Bin("*", Num(self.slope[n]), Var(LINE)))
            for n in self.origin
        }

    def at(self, t: Fraction) -> dict[str, float]:
        return {n: float(self.origin[n] + self.slope[n] * t) for n in sorted(self.origin)}


def _lines(names: list[str], space: ProbeSpace, rng: random.Random) -> list[Line]:
    if not names:
        return [Line({}, {}, None, None, (Fraction(-1), Fraction(1)))]
    boxes = {n: tuple(Fraction(v) for v in space.domains.get(n, (-3.0, 3.0))) for n in names}
    if len(names) == 1:
        (name,) = names
        low, high = _limits(space, name)
        box = (boxes[name][0], boxes[name][1])
        return [Line({name: Fraction(0)}, {name: Fraction(1)}, low, high, box)]
    lines = []
    for _ in range(LINES):
        origin, slope = {}, {}
        for n in names:
            a, b = boxes[n]
            origin[n] = a + (b - a) * Fraction(rng.getrandbits(30) + 1, 2**30 + 2)
            half = (b - a) / 2
            slope[n] = half * Fraction(rng.getrandbits(30) + 2**30, 2**31) * rng.choice((-1, 1))
        low, high = None, None
        for n in names:
            lo, hi = _limits(space, n)
            for bound, is_low in ((lo, True), (hi, False)):
                if bound is None:
                    continue
                t = (bound - origin[n]) / slope[n]  # where x_n reaches its bound
                if (slope[n] > 0) == is_low:
                    low = t if low is None else max(low, t)
                else:
                    high = t if high is None else min(high, t)
        lines.append(Line(origin, slope, low, high, (Fraction(-1), Fraction(1))))
    return lines


def _limits(space: ProbeSpace, name: str) -> tuple[Fraction | None, Fraction | None]:
    low, high = space.limits.get(name, (None, None))
    return (
        None if low is None or not math.isfinite(low) else Fraction(low),
        None if high is None or not math.isfinite(high) else Fraction(high),
    )


# --- one line ------------------------------------------------------------------------------------


def _compare_on_line(
    got: Node, candidates: list[Node], line: Line, rng: random.Random,
    settled: list[Comparison | None],
) -> list[Comparison]:
    mapping = line.mapping()
    got_t = substitute(got, mapping)
    trees = [substitute(c, mapping) for c in candidates]
    breaks: set[Fraction] = set(breakpoints(got_t, LINE, line.box, line.low, line.high))
    for tree in trees:
        breaks.update(breakpoints(tree, LINE, line.box, line.low, line.high))
    probes = probe_points(sorted(breaks), line.box, line.low, line.high, rng)
    if len(probes) > MAX_PROBES:
        raise Undecidable("too many pieces")
    line.pieces += len(breaks) + 1
    line.points += len(probes)
    answer = _Values(got_t)
    results = []
    for index, tree in enumerate(trees):
        if settled[index] is not None:
            results.append(Comparison("equal", "balls"))  # already decided on an earlier line
            continue
        results.append(_judge(answer, _Values(tree), probes, line, want_factor=index == 0))
    return results


class _Values:
    """A formula's balls at probe points, computed once per point and precision."""

    def __init__(self, tree: Node) -> None:
        self.tree = compile_ball(tree)
        self.cache: dict[tuple[Fraction, int], arb | Exception] = {}

    def at(self, point: Fraction, precision: int) -> arb | Exception:
        key = (point, precision)
        if key not in self.cache:
            try:
                self.cache[key] = evaluate_ball(self.tree, {LINE: point}, precision)
            except (Undefined, Indeterminate) as err:
                self.cache[key] = err
        return self.cache[key]


PointVerdict = Literal["agree", "different", "no_value", "outside", "unresolved"]


def _judge(answer: _Values, reference: _Values, probes: list[Probe], line: Line, *,
           want_factor: bool = True) -> Comparison:
    """One candidate on one line (`want_factor`: name a constant factor, for the main one)."""
    defined_pieces: set[int] = set()
    agreeing_pieces: set[int] = set()
    for probe in probes:
        verdict, g, e = _at_point(answer, reference, probe.point)
        if verdict == "outside":
            continue
        defined_pieces.add(probe.piece)
        if verdict == "agree":
            agreeing_pieces.add(probe.piece)
            continue
        if verdict == "no_value":
            return Comparison(
                "different", "definedness", "the answer has no real value where the reference has",
                point=line.at(probe.point),
            )
        if verdict == "different":
            assert g is not None and e is not None
            factor = _factor(answer, reference, probes) if want_factor else None
            return _difference(line, probe.point, g, e, factor)
    unresolved = defined_pieces - agreeing_pieces
    if unresolved or (not agreeing_pieces and defined_pieces):
        return Comparison(
            "undecided", "exact",
            f"{len(unresolved)} piece(s) of the domain could not be evaluated precisely enough",
        )
    if not defined_pieces:
        return Comparison("undecided", "balls", "the reference has no value at any probe point")
    return Comparison("equal", "balls")


def _at_point(answer: _Values, reference: _Values, point: Fraction
              ) -> tuple[PointVerdict, arb | None, arb | None]:
    for precision in PRECISIONS:
        e = reference.at(point, precision)
        if isinstance(e, Undefined):
            return "outside", None, None
        if isinstance(e, Exception):
            continue
        g = answer.at(point, precision)
        if isinstance(g, Undefined):
            return "no_value", None, e
        if isinstance(g, Exception):
            continue
        difference = g - e
        if not difference.contains(0):
            return "different", g, e
        tolerance = TOLERANCE * max(_ONE, abs(e).upper())
        if difference.rad() <= tolerance:
            return "agree", g, e
        if precision == PRECISIONS[-1]:
            break
        needed = precision + float(arb(difference.rad() / tolerance).log()) / math.log(2) + 64
        if needed > PRECISIONS[-1]:
            break
    return "unresolved", None, None


def _difference(line: Line, point: Fraction, g: arb, e: arb, factor: float | None) -> Comparison:
    gv = _float(g)
    gap = abs(g - e) / max(abs(g), abs(e))
    relative = _float(gap)
    close = relative is not None and relative < 1e-6
    return Comparison(
        "different",
        "high-precision" if close else "balls",
        "the values differ by a tiny amount" if close else "the values differ",
        point=line.at(point),
        got=gv,
        relative_gap=relative,
        proved=True,
        factor=factor,
    )


def _float(value: arb) -> float | None:
    try:
        number = float(value.mid())
    except (OverflowError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _factor(answer: _Values, reference: _Values, probes: list[Probe]) -> float | None:
    """c when the answer is c times the reference at the first points (a sign or a lost 2)."""
    ratios = []
    for probe in probes[:12]:
        g = answer.at(probe.point, PRECISIONS[0])
        e = reference.at(probe.point, PRECISIONS[0])
        if isinstance(g, Exception) or isinstance(e, Exception) or e.contains(0):
            continue
        ratio = _float(g / e)
        if ratio is None:
            return None
        ratios.append(ratio)
    if len(ratios) < 4:
        return None
    c = ratios[0]
    if c == 0 or abs(c - 1) < 1e-9 or any(abs(r - c) > 1e-12 * abs(c) for r in ratios):
        return None
    return c


# --- what an answer depends on -------------------------------------------------------------------

# a generic stand-in: f(u) -> f(u) + (u + 2/7)^3 + 3/11, which no decoration survives
_SHIFT = (Fraction(2, 7), Fraction(3, 11))


def perturb_functions(node: Node, names: set[str]) -> Node:
    if isinstance(node, Call):
        args = tuple(perturb_functions(a, names) for a in node.args)
        call: Node = Call(node.func, args)
        if node.func in names:
            u = args[0]
            cubic = Bin("^", Bin("+", u, Num(_SHIFT[0])), Num(Fraction(3)))
            call = Bin("+", call, Bin("+", cubic, Num(_SHIFT[1])))
        return call
    if isinstance(node, Neg):
        return Neg(perturb_functions(node.operand, names))
    if isinstance(node, Bin):
        return Bin(node.op, perturb_functions(node.left, names),
                   perturb_functions(node.right, names))
    return node


def depends_on_functions(node: Node, names: set[str], space: ProbeSpace) -> bool | None:
    """Does the value change when these functions are replaced by others? None: undecided."""
    if not any(isinstance(n, Call) and n.func in names for n in _nodes(node)):
        return False
    result = compare(perturb_functions(node, names), node, space)
    return None if result.outcome == "undecided" else result.outcome == "different"


def depends_on_variable(node: Node, name: str, space: ProbeSpace) -> bool | None:
    """Does the value change with `name` while the other written variables stay fixed?"""
    if name not in free_variables(node):
        return False
    independent = ProbeSpace(
        {**{n: (-3.0, 3.0) for n in free_variables(node)}, **space.domains}, (), space.limits
    )
    shifted = substitute(node, {name: Bin("+", Bin("*", Num(Fraction(13, 7)), Var(name)),
                                          Num(Fraction(5, 9)))})
    result = compare(shifted, node, independent)
    return None if result.outcome == "undecided" else result.outcome == "different"


def _nodes(node: Node) -> list[Node]:
    from grader.mathparse.ast import walk

    return list(walk(node))


def describe_point(point: dict[str, float]) -> str:
    return ", ".join(f"{n} = {_short(v)}" for n, v in point.items())


def _short(value: float) -> str:
    if value == 0 or 1e-4 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.3e}"
