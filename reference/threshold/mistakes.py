"""Naming the kind of mistake a wrong network makes, and a small readable counterexample for it."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

from reference.threshold.search import Leaf, Piece, Point, Search
from reference.threshold.targets import Halfspace

MistakeKind = Literal[
    "always_fires",
    "never_fires",
    "accepts_outside",
    "misses_inside",
    "accepts_near_boundary",
    "accepts_boundary",
    "misses_near_boundary",
]
MISTAKE_KINDS: tuple[MistakeKind, ...] = get_args(MistakeKind)  # also the feedback order
MISTAKE_DESCRIPTIONS: dict[MistakeKind, str] = {
    "always_fires": "the network outputs 1 for every input",
    "never_fires": "the network outputs 0 for every input",
    "accepts_outside": "the network outputs 1 on inputs arbitrarily far outside the target "
    "(e.g. a violated condition still lets it fire)",
    "misses_inside": "the network outputs 0 on inputs arbitrarily deep inside the target",
    "accepts_near_boundary": "the network outputs 1 on inputs just outside the target, within a "
    "margin of its boundary (e.g. small violations let it fire)",
    "accepts_boundary": "the network outputs 1 on the target's boundary only "
    "(e.g. ties counted as satisfying a strict inequality)",
    "misses_near_boundary": "the network outputs 0 on target inputs within a margin of the "
    "boundary (e.g. a margin that misses small gaps) and is right deeper inside",
}


@dataclass(frozen=True)
class Counterexample:
    """An input where the network and the target disagree, and the kind of mistake it shows."""

    kind: MistakeKind
    x: Point
    hidden: tuple[int, ...]
    network_output: int
    target_output: int


def classify(
    search: Search,
    leaves: list[Leaf],
    false_pos: list[Piece],
    false_neg: list[Piece],
) -> tuple[Counterexample, ...]:
    """One counterexample per kind of mistake the disagreement pieces show, in feedback order."""
    net = search.net
    firing = [(p, r) for p, r in leaves if net.output_of_pattern(p)]
    found: dict[MistakeKind, Piece] = {}
    if false_pos:
        kind, piece = _classify_false_positives(search, false_pos)
        found["always_fires" if len(firing) == len(leaves) else kind] = piece
    if false_neg:
        kind, piece = _classify_false_negatives(search, firing, false_neg)
        found["never_fires" if not firing else kind] = piece
    return tuple(
        _counterexample(search, kind, found[kind]) for kind in MISTAKE_KINDS if kind in found
    )


def _classify_false_positives(search: Search, pieces: list[Piece]) -> tuple[MistakeKind, Piece]:
    """Outside the target's closure at all (and arbitrarily far), or only on its boundary?"""
    target = search.target
    nonempty = [conj for conj in target.conjunctions if search.feasible(conj)]
    closed = [tuple(h.closure() for h in conj) for conj in nonempty]
    near: Piece | None = None
    seen: set[tuple[int, ...]] = set()
    for piece in pieces:
        if piece.pattern in seen:
            continue
        seen.add(piece.pattern)
        region = piece.constraints[: len(piece.constraints) - len(piece.chosen)]
        for cons, chosen, others in search.outside(region, closed, Halfspace.negation, nonempty):
            interior = Piece(piece.pattern, cons, chosen, others)
            if search.has_direction(cons, chosen):
                return "accepts_outside", interior
            near = near or interior
    return ("accepts_near_boundary", near) if near is not None else ("accepts_boundary", pieces[0])


def _classify_false_negatives(
    search: Search,
    firing: list[Leaf],
    pieces: list[Piece],
) -> tuple[MistakeKind, Piece]:
    """Missed arbitrarily deep inside the target, or only within a margin of its boundary?"""
    for piece in pieces:
        if search.has_direction(piece.constraints, piece.chosen):
            return "misses_inside", piece
    fires_inside = any(
        search.feasible((*region, *conj))
        for _, region in firing
        for conj in search.target.conjunctions
    )
    return ("misses_near_boundary" if fires_inside else "misses_inside"), pieces[0]


SIMPLE_DENOMINATORS = (1, 2, 4, 5, 10, 20, 100, 1000, 2000, 10**4, 10**5, 10**6)


def _readable_point(search: Search, piece: Piece) -> Point:
    """A small, simple point of the piece, preferring one that breaks only the chosen conditions."""
    attempts = (
        [piece.constraints + piece.preferred, piece.constraints]
        if piece.preferred
        else [piece.constraints]
    )
    for constraints in attempts:
        found = search.max_slack(constraints)
        if found is None:
            continue
        slack, point = found
        point = search.small_point(constraints, slack) or point
        for denominator in SIMPLE_DENOMINATORS:
            rounded = tuple(Fraction(round(v * denominator), denominator) for v in point)
            if all(h.holds(rounded) for h in constraints):
                return rounded
        return point
    raise AssertionError("a disagreement piece is feasible by construction")


def _counterexample(search: Search, kind: MistakeKind, piece: Piece) -> Counterexample:
    x = _readable_point(search, piece)
    net, target = search.net, search.target
    got, want = net.output(x), int(target.holds(x))
    if got == want:  # the pieces are exact, so this is a bug, never a student's fault
        raise AssertionError(f"counterexample {x} does not separate the network from the target")
    return Counterexample(kind, x, net.hidden(x), got, want)
