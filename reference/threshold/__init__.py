"""Hard-threshold networks (inputs -> one hidden layer -> one output), decided exactly.

A target is data: a union of conjunctions of strict and non-strict linear inequalities over the
inputs x1..xn, written as text ("x1 > x2", "x1 >= x2 >= 0", "2*x1 - x3/2 < 1") or as coefficients.

`verify(network, target)` decides over all of R^n, in exact rational arithmetic, whether the
network outputs 1 exactly on the target. Every hidden activation pattern p is a polyhedron R_p
(a non-strict face per unit that fires, a strict one per unit that stays silent, under σ(z) = 1
if z >= 0; the other way round under z > 0) and the output is constant on it. The verifier walks
the patterns depth-first, pruning infeasible partial patterns, and on each region asks exact linear
programs whether the output disagrees with the target anywhere on it. Strict faces are decided by
maximising a common slack t: {a·x < b} is non-empty iff max t subject to a·x + t <= b is positive.

When the network is wrong it returns counterexamples (small, readable, re-checked in exact
arithmetic) and names the kind of mistake, e.g. `accepts_boundary` (ties counted as descending)
or `misses_near_boundary` (a margin that misses small gaps).

`construct_design` builds a reference network from the target: one hidden unit per inequality
(firing on its violation or on its satisfaction, whichever the threshold convention can express
exactly) and an output unit that counts them.

The modules, each importing only those above it:
    exact_numbers  a number read exactly (int, shortest decimal of a float, '1/3') and written back
    targets        half-spaces, targets, and parsing inequalities given as text or coefficients
    network        the network and its exact forward pass
    design         the reference design and the `threshold_network_design` reference function
    exact_lp       an exact simplex over the rationals
    search         the linear programs about one network and target; activation patterns
    mistakes       the kinds of mistake and a readable counterexample for each
    verifier       `verify` and the bound on its work

Importing this package registers `threshold_network_design` (reference/registry.py names it).
"""

from reference.threshold.design import (
    DESIGN_FUNCTION,
    DesignError,
    ThresholdNetworkParams,
    construct_design,
    threshold_network_design,
)
from reference.threshold.exact_numbers import exact_number, format_exact
from reference.threshold.mistakes import MISTAKE_DESCRIPTIONS, Counterexample, MistakeKind
from reference.threshold.network import Threshold, ThresholdNetwork
from reference.threshold.search import VerificationTooLarge
from reference.threshold.targets import Target, parse_relation
from reference.threshold.verifier import (
    DEFAULT_MAX_LINEAR_PROGRAMS,
    Verification,
    too_large_message,
    verify,
)

__all__ = [
    "DEFAULT_MAX_LINEAR_PROGRAMS",
    "DESIGN_FUNCTION",
    "MISTAKE_DESCRIPTIONS",
    "Counterexample",
    "DesignError",
    "MistakeKind",
    "Target",
    "Threshold",
    "ThresholdNetwork",
    "ThresholdNetworkParams",
    "Verification",
    "VerificationTooLarge",
    "construct_design",
    "exact_number",
    "format_exact",
    "parse_relation",
    "threshold_network_design",
    "too_large_message",
    "verify",
]
