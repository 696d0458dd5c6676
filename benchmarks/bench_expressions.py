"""Median time per formula check, in-process and through the math worker.

    python benchmarks/bench_expressions.py [--repeats 3]

Each answer is graded through the built-in rubrics' questions (parse, reference, every accepted
form and known mistake, breakpoints, ball-arithmetic probing of every piece, form rules judged
on what the answer depends on). The worker column includes the round trip to the worker
process; its start-up is excluded. Hostile answers (cancellation, far-out kinks, narrow bumps,
undefined pieces) are part of the mix.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.checkers.base import GradingContext
from grader.core.rubric import load_rubric, resolve_assignment

SCALAR = [
    "4σ(2x)(1-σ(2x))",
    r"4\left(\sigma(2x) - \sigma^2(2x)\right)",
    r"2 \frac{d \sigma(2x)}{dx}",
    "1 - tanh(x)^2",
    r"\frac{4e^{2x}}{(e^{2x}+1)^2}",
    "4σ(x)(1-σ(x))",
    "σ(2x)(1-σ(2x))",
    "4σ(2x)(1-σ(2x)) + 1e-12*x",
    "9**9**9**9",
    "__import__('os')",
    "4σ(2x)(1-σ(2x)) + 1e15 - 1e15",
    "0.36*4σ(2x)(1-σ(2x)) + 1e15 - 1e15",
    "4σ(2x)(1-σ(2x)) + relu(x-3)",
    "4σ(2x)(1-σ(2x)) + relu(1e-6-(x-0.0075)^2)",
    "4σ(2x)(1-σ(2x))*sqrt(x)^2/x",
    "1-tanh(x)^2 + 0*sigmoid(x)",
]
Q5 = ["y(1-y)", "sigmoid(z)*(1 - sigmoid(z))", "1-y^2", "y(1+y)", "y*(1-y) + relu(y-0.99)"]
MATRIX = [
    ("csc411-a1", "p3a_softmax_grad", "(P - Y) @ X.T"),
    ("csc411-a1", "p3a_softmax_grad", "X @ (P - Y).T"),
    (
        "apl405-hw2",
        "q3b_x_bar",
        "W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s) + r)) + (y_hat - s)",
    ),
    ("apl405-hw2", "q3b_x_bar", "W1.T @ (sigmoid_prime(z) * (W2.T @ (y_hat - s) + r))"),
    ("tdt4265-a2", "t1a_hidden_delta", "fprime(z) * (W @ delta_out)"),
    ("csc420-a2", "q1_effective_weight", "W1 @ W2"),
    ("csc411-a1", "p3a_softmax_grad", "0*W + 1e15 - 1e15"),
    ("tdt4265-a2", "t1a_hidden_delta", "W.T @ delta_out + 1e15 - 1e15"),
]


def cases() -> list[tuple[str, str, str]]:
    return (
        [("csc420-a2", "q6b_tanh_grad", a) for a in SCALAR]
        + [("csc420-a2", "q5_sigmoid_grad_from_output", a) for a in Q5]
        + MATRIX
    )


def measure(repeats: int) -> dict[str, list[float]]:
    ctx = GradingContext(submission_root=None, student="bench")
    times: dict[str, list[float]] = {"scalar": [], "matrix": []}
    for assignment, qid, answer in cases():
        question = load_rubric(resolve_assignment(assignment)).rubric.question(qid)
        question.grade(answer, ctx)  # warm: references cached, imports done
        for _ in range(repeats):
            started = time.perf_counter()
            question.grade(answer, ctx)
            elapsed = time.perf_counter() - started
            times["matrix" if question.kind == "matrix_expression" else "scalar"].append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for mode in ("in-process", "worker"):
        if mode == "in-process":
            os.environ["GRADER_MATH_INPROCESS"] = "1"
        else:
            os.environ.pop("GRADER_MATH_INPROCESS", None)
        times = measure(args.repeats)
        for kind, values in times.items():
            rows.append((mode, kind, len(values), statistics.median(values), max(values)))
    print(f"{'mode':<11} {'kind':<7} {'checks':>6} {'median ms':>10} {'max ms':>8}")
    for mode, kind, count, median, worst in rows:
        print(f"{mode:<11} {kind:<7} {count:>6} {median * 1000:>10.1f} {worst * 1000:>8.1f}")


if __name__ == "__main__":
    main()
