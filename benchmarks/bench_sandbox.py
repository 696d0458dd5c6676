"""Sandbox figures: per-call overhead of each layer, and the time to grade one code question.

    python benchmarks/bench_sandbox.py [--repeat 10]

Per layer it times (median of --repeat runs):
- `bare`: a boxed `python -I` that imports nothing (the bootstrap only);
- `numpy call`: the real worker importing numpy and calling a trivial student function;
- `grade p3b` / `grade p4`: one csc411-a1 code question for one submission (drawing inputs,
  the boxed run of all its draws, references and comparison), warm (torch already imported).
It also reports the cold first grade of the process, which pays for importing torch once.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.checkers.base import GradingContext
from grader.checkers.code import CodeQuestion
from grader.core.rubric import load_rubric, resolve_assignment
from grader.sandbox import run_python
from grader.sandbox.layers import LAYER_ENV, LAYERS, available

EXAMPLES = Path(__file__).resolve().parent.parent / "submissions_example" / "csc411-a1"


def median_seconds(action: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bare(layer: str) -> None:
    result = run_python("grader.sandbox.boot", [], student_dir=None, layer=layer)
    assert result.status == "ok", result.stderr


def numpy_call(layer: str, folder: Path) -> None:
    call = {"file": "submission/f.py", "function": "f", "calls": 1, "args": [], "outputs": 1}
    empty = io.BytesIO()
    np.savez(empty)
    result = run_python("grader.sandbox.worker_call", [], student_dir=folder, layer=layer,
                        inputs={"call.json": json.dumps(call).encode(),
                                "inputs.npz": empty.getvalue()})
    assert result.status == "ok" and (result.result or {}).get("import") == "ok", result.stderr


def grade(q: CodeQuestion, answer: str) -> None:
    verdict = q.grade(answer, GradingContext(submission_root=EXAMPLES / "alice", student="alice"))
    assert verdict.status.value == "correct", verdict.feedback


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    repeat = parser.parse_args().repeat
    rubric = load_rubric(resolve_assignment("csc411-a1")).rubric
    p3b, p4 = rubric.question("p3b_gradient_code"), rubric.question("p4_momentum_code")
    assert isinstance(p3b, CodeQuestion) and isinstance(p4, CodeQuestion)

    started = time.perf_counter()
    grade(p3b, "gradient.py")
    print(f"cold first grade of p3b (imports torch for the reference): "
          f"{time.perf_counter() - started:.3f} s")
    print(f"draws per submission: p3b {len(p3b.draws('alice'))}, p4 {len(p4.draws('alice'))}")
    print(f"{'layer':<8} {'bare':>8} {'numpy call':>11} {'grade p3b':>10} {'grade p4':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "f.py").write_text("def f():\n    return 1.0\n")
        for layer in LAYERS:
            if not available(layer).available:
                print(f"{layer:<8} not available: {available(layer).detail}")
                continue
            os.environ[LAYER_ENV] = layer
            row = [median_seconds(lambda layer=layer: bare(layer), repeat),
                   median_seconds(lambda layer=layer: numpy_call(layer, folder), repeat),
                   median_seconds(lambda: grade(p3b, "gradient.py"), repeat),
                   median_seconds(lambda: grade(p4, "momentum.py"), repeat)]
            print(f"{layer:<8} " + " ".join(f"{v * 1000:>8.0f}ms" for v in row))


if __name__ == "__main__":
    main()
