"""`grader check`, timed phase by phase: `python benchmarks/trace_check.py SUBMISSION -a ASSIGNMENT`.

Runs the real command in this process and, on exit, writes one JSON line to stderr with the
seconds spent (from the interpreter's start) in: `imports` (click and the CLI, before the command
runs), `rubric` (loading the assignment: the modules of the kinds it uses and the rubric itself,
from the rubric cache when it holds it), `more_imports` (the modules the command imports next),
`references` (computing reference answers, the persistent cache included), `worker_wait` (waiting
for the math worker, which a submission with formula answers starts: its start-up and its checks),
`grading_other` (the rest of grading), `output` (rendering and printing). Its stdout is the command's.

The hooks are installed only after the command has imported each module, so the order of
imports is the command's own.
"""

from __future__ import annotations

import atexit
import json
import sys
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PHASES = {name: 0.0 for name in ("imports", "rubric", "more_imports", "references", "worker_wait",
                                 "grading_other", "output")}
MARKS: dict[str, float] = {}


def now() -> float:
    return time.perf_counter() - STARTED


def timed(owner: Any, name: str, phase: str) -> None:
    real = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            PHASES[phase] += time.perf_counter() - began

    setattr(owner, name, wrapper)


def hook_after_rubric() -> None:
    import grader.checkers.base as base
    import grader.mathworker as mathworker

    timed(mathworker.MathWorker, "_call", "worker_wait")
    real_compute = base.GradingContext.compute

    def compute(self: Any, function: str, params: dict[str, Any]) -> Any:
        began, waited = time.perf_counter(), PHASES["worker_wait"]
        try:
            return real_compute(self, function, params)
        finally:  # a reference the math worker computed counts as a reference, not a wait
            PHASES["worker_wait"] = waited
            PHASES["references"] += time.perf_counter() - began

    base.GradingContext.compute = compute  # type: ignore[method-assign]


def main() -> None:
    import grader.cli as cli
    import grader.cli.common as common

    PHASES["imports"] = now()
    real_load = common.load_assignment

    def load_assignment(*args: Any, **kwargs: Any) -> Any:
        began = now()
        loaded = real_load(*args, **kwargs)
        MARKS["rubric_loaded"] = now()
        PHASES["rubric"] = MARKS["rubric_loaded"] - began
        hook_after_rubric()
        hook_grading()
        return loaded

    cli.load_assignment = load_assignment  # type: ignore[attr-defined]
    atexit.register(report)
    sys.argv = ["grader", *sys.argv[1:]]
    cli.main()


def hook_grading() -> None:
    import grader.core.grading as grading
    import grader.student.feedback  # noqa: F401  - what the command imports next, timed as such

    PHASES["more_imports"] = now() - MARKS["rubric_loaded"]
    real = grading.grade_submission

    def grade_submission(*args: Any, **kwargs: Any) -> Any:
        MARKS["grading"] = now()
        try:
            return real(*args, **kwargs)
        finally:
            MARKS["graded"] = now()

    grading.grade_submission = grade_submission


def report() -> None:
    end = now()
    if "graded" in MARKS:
        grading = MARKS["graded"] - MARKS["grading"]
        PHASES["grading_other"] = grading - PHASES["references"] - PHASES["worker_wait"]
        PHASES["output"] = end - MARKS["graded"]
    sys.stderr.write(json.dumps({"total": end, **PHASES}) + "\n")


if __name__ == "__main__":
    main()
