"""Time the exact threshold-network verifier (median of several runs).

    python benchmarks/bench_threshold.py            # the 5-4-1 question (apl405-hw2 q1)
    python benchmarks/bench_threshold.py --scaling  # also n-(n-1)-1 descending chains

Each case verifies one network against x1 > x2 > ... > xn over all of R^n in exact arithmetic,
from scratch (nothing is cached between runs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reference.threshold import (
    ThresholdNetwork,
    ThresholdNetworkParams,
    construct_design,
    verify,
)


def chain_params(n: int) -> ThresholdNetworkParams:
    return ThresholdNetworkParams.model_validate(
        {
            "inputs": n,
            "hidden_units": n - 1,
            "threshold": "ge",
            "target": {"all_of": [f"x{i} > x{i + 1}" for i in range(1, n)]},
        }
    )


def gap_network(n: int, bias: Fraction) -> ThresholdNetwork:
    """Units x_i - x_{i+1} + bias >= 0, output fires when all do (b = -0.001: the margin mistake,
    b = 0: ties counted as descending)."""
    rows = tuple(
        tuple(Fraction(1 if j == i else -1 if j == i + 1 else 0) for j in range(n))
        for i in range(n - 1)
    )
    ones = tuple(Fraction(1) for _ in range(n - 1))
    return ThresholdNetwork(rows, tuple(bias for _ in range(n - 1)), ones, Fraction(-(n - 1)), "ge")


def time_case(
    net: ThresholdNetwork, params: ThresholdNetworkParams, runs: int
) -> tuple[float, float, int, int]:
    target = params.compiled_target()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = verify(net, target)
        times.append(time.perf_counter() - start)
    return (
        statistics.median(times) * 1000,
        min(times) * 1000,
        result.linear_programs,
        result.patterns,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--scaling", action="store_true", help="also time chains of 3..8 inputs")
    args = parser.parse_args()
    five = chain_params(5)
    cases = [
        ("5-4-1 reference design (correct)", construct_design(five), five),
        ("5-4-1 margin b1 = -0.001 (wrong)", gap_network(5, Fraction(-1, 1000)), five),
        ("5-4-1 ties b1 = 0 (wrong)", gap_network(5, Fraction(0)), five),
    ]
    if args.scaling:
        cases += [
            (f"{n}-{n - 1}-1 reference design", construct_design(chain_params(n)), chain_params(n))
            for n in range(3, 9)
        ]
    print(
        f"{'case':<36} {'median ms':>10} {'min ms':>8} {'LPs':>6} {'patterns':>9}"
        f"   ({args.runs} runs)"
    )
    for name, net, params in cases:
        median, best, lps, patterns = time_case(net, params, args.runs)
        print(f"{name:<36} {median:>10.1f} {best:>8.1f} {lps:>6} {patterns:>9}")


if __name__ == "__main__":
    main()
