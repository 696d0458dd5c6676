"""Symbolic references are computed by the running math worker (sympy is loaded there), with the
same answers as in the grader itself; anything else, or any failure, is computed in the grader."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader import mathworker
from grader.checkers.base import GradingContext
from grader.core import refcache
from reference import get_reference

REPO = Path(__file__).resolve().parent.parent
SYMBOLIC = [
    ("derivative", {"expression": "tanh(x)", "variable": "x", "in_terms_of": "sigmoid"}),
    ("output_derivative", {"forward": "sigmoid(z)", "input": "z", "output": "y"}),
    ("activation_range", {"function": "tanh"}),
]


@pytest.fixture
def running_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[mathworker.MathWorker]:
    monkeypatch.delenv("GRADER_MATH_INPROCESS", raising=False)
    monkeypatch.setenv(refcache.DISABLE_ENV, "1")
    mathworker.warm_up()
    yield mathworker.shared_worker()


@pytest.fixture
def parent_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import reference.registry as registry

    seen: list[str] = []
    real = registry.ReferenceFunction.compute

    def counting(self: Any, params: dict[str, Any]) -> Any:
        seen.append(self.name)
        return real(self, params)

    monkeypatch.setattr(registry.ReferenceFunction, "compute", counting)
    return seen


@pytest.mark.parametrize(("function", "params"), SYMBOLIC, ids=[f for f, _ in SYMBOLIC])
def test_the_worker_computes_the_same_answer(
    running_worker: mathworker.MathWorker, function: str, params: dict[str, Any]
) -> None:
    from_worker = mathworker.compute_reference(function, params)
    assert from_worker is not refcache.MISS
    assert from_worker == get_reference(function).compute(params)


def test_a_grading_context_sends_symbolic_references_to_the_worker(
    running_worker: mathworker.MathWorker, parent_calls: list[str]
) -> None:
    ctx = GradingContext(submission_root=None, student="")
    for function, params in SYMBOLIC:
        ctx.compute(function, params)
    ctx.compute("mlp_params", {"sizes": [784, 64, 10]})
    assert parent_calls == ["mlp_params"]


def test_without_a_worker_references_are_computed_here(
    monkeypatch: pytest.MonkeyPatch, parent_calls: list[str]
) -> None:
    monkeypatch.setattr(mathworker.process, "_WORKER", None)
    monkeypatch.setenv(refcache.DISABLE_ENV, "1")
    function, params = SYMBOLIC[0]
    assert mathworker.compute_reference(function, params) is refcache.MISS
    GradingContext(submission_root=None, student="").compute(function, params)
    assert parent_calls == [function]


def test_a_reference_that_fails_in_the_worker_fails_here_too(
    running_worker: mathworker.MathWorker, parent_calls: list[str]
) -> None:
    bad = {"expression": "tanh(", "variable": "x"}
    assert mathworker.compute_reference("derivative", bad) is refcache.MISS
    with pytest.raises(ValueError, match="expected more"):
        GradingContext(submission_root=None, student="").compute("derivative", bad)
    assert parent_calls == ["derivative"]


def test_a_first_check_does_not_import_sympy_in_the_grader(tmp_path: Path) -> None:
    """The symbolic references of csc420-a2 are computed by the math worker, even with an
    empty reference cache."""
    answers = tmp_path / "answers.yaml"
    answers.write_text('q5_sigmoid_grad_from_output: "y(1 - y)"\nq6a_tanh_range: "(-1, 1)"\n'
                       'q6b_tanh_grad: "1 - tanh(x)^2"\nq1_effective_weight: "W2 @ W1"\n')
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "grader", "check", str(answers), "-a",
         "csc420-a2"], cwd=REPO, capture_output=True, text=True, check=True,
        env={**os.environ, refcache.DIR_ENV: str(tmp_path / "empty-cache"),
             "GRADER_MATH_INPROCESS": "0"},
    )
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "grader.mathworker" in imported  # the measurement itself works
    assert "sympy" not in imported
    assert "✓ q5_sigmoid_grad_from_output" in proc.stdout and "✓ q6a_tanh_range" in proc.stdout
