"""`verify`: does the network output 1 exactly on the target, over all of R^n? Decided exactly,
within a budget of linear programs that `work_bound` states before any is solved."""

from __future__ import annotations

import math
from dataclasses import dataclass

from reference.threshold.mistakes import Counterexample, MistakeKind, classify
from reference.threshold.network import ThresholdNetwork
from reference.threshold.search import Budget, Piece, Search, VerificationTooLarge
from reference.threshold.targets import Halfspace, Target

DEFAULT_MAX_LINEAR_PROGRAMS = 20_000


def work_bound(hidden_units: int, target: Target) -> int:
    """An upper bound on the linear programs `verify` solves (patterns x programs per pattern)."""
    sizes = [len(c) for c in target.conjunctions]
    count = len(sizes)
    choice_nodes = sum(math.prod(sizes[:level]) for level in range(1, count + 1))
    choice_leaves = math.prod(sizes) if count else 1
    per_firing = 2 * choice_nodes + choice_leaves + count
    per_pattern = max(per_firing, 2 * count)
    counterexamples = 2 * 4
    return int(2 ** (hidden_units + 1) + 2**hidden_units * per_pattern + count + counterexamples)


def too_large_message(hidden_units: int, target: Target, limit: int) -> str | None:
    bound = work_bound(hidden_units, target)
    if bound <= limit:
        return None
    return (
        f"too large for exact verification: up to {bound:,} linear programs "
        f"({2**hidden_units:,} activation patterns of {hidden_units} hidden units, each checked "
        f"against {len(target.conjunctions)} target conjunction(s)), more than "
        f"max_linear_programs = {limit:,}; use fewer hidden units or a simpler target, or "
        "raise max_linear_programs (each takes about a millisecond)"
    )


@dataclass(frozen=True)
class Verification:
    """The verdict, the work it took, and a counterexample per kind of mistake when wrong."""

    correct: bool
    patterns: int
    linear_programs: int
    findings: tuple[Counterexample, ...] = ()

    @property
    def kinds(self) -> list[MistakeKind]:
        return [f.kind for f in self.findings]


def verify(
    net: ThresholdNetwork, target: Target, max_linear_programs: int = DEFAULT_MAX_LINEAR_PROGRAMS
) -> Verification:
    """Decide exactly whether the network outputs 1 exactly on the target, over all of R^n."""
    if net.inputs != target.inputs:
        raise ValueError(f"the network has {net.inputs} inputs, the target {target.inputs}")
    message = too_large_message(len(net.b1), target, max_linear_programs)
    if message is not None:
        raise VerificationTooLarge(message)
    search = Search(net, target, Budget(max_linear_programs))
    leaves = search.patterns()
    false_pos: list[Piece] = []
    false_neg: list[Piece] = []
    for pattern, region in leaves:
        if net.output_of_pattern(pattern):
            for cons, chosen, others in search.outside(
                region, target.conjunctions, Halfspace.negation
            ):
                false_pos.append(Piece(pattern, cons, chosen, others))
        else:
            for conj in target.conjunctions:
                if search.feasible((*region, *conj)):
                    false_neg.append(Piece(pattern, (*region, *conj), conj))
    if not false_pos and not false_neg:
        return Verification(True, len(leaves), search.budget.used)
    findings = classify(search, leaves, false_pos, false_neg)
    return Verification(False, len(leaves), search.budget.used, findings)

