"""Hostile answers through the real math worker: each is `invalid` or `incorrect`, quickly, and
nothing a student typed is ever run.

Bound: every check below must finish within HOSTILE_BOUND seconds of wall time (the worker's hard
limit is 3 s, after which it is killed and replaced); in practice they take milliseconds, because
the parser refuses them or the float probe settles them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from grader.checkers.base import GradingContext
from grader.core.report import Status
from grader.core.rubric import load_rubric, resolve_assignment
from grader.mathworker import MathRequest, MathWorker, ScalarSpace, shared_worker

HOSTILE_BOUND = 4.0  # seconds per check, including the round trip to the worker
MARKER = Path(f"/tmp/grader_hostile_{os.getpid()}")

INJECTION = [
    ("import_os", f"__import__('os').system('touch {MARKER}')"),
    ("dunder_walk", "().__class__.__bases__[0].__subclasses__()"),
    ("lambda", f"(lambda: __import__('os').system('touch {MARKER}'))()"),
    ("attribute_on_variable", "x.__class__"),
    ("function_globals", "sigmoid.__globals__"),
    ("getattr", "getattr(x, 'real')"),
    ("open_file", "open('/etc/passwd').read()"),
    ("exec_call", f"exec(\"open('{MARKER}', 'w')\")"),
    ("eval_call", "eval('1+1')"),
    ("builtins", "__builtins__"),
    ("sympy_style_function", "Function('f')(x)"),
    ("shell", "$(touch /tmp/x)"),
    ("format_string", "f'{x}'"),
    ("null_byte", "x\x00+1"),
    ("bidi_override", "x\u202e+1"),
]

BOMBS = [
    ("tower_of_powers", "9**9**9**9"),
    ("tower_caret", "10^10^10"),
    ("variable_to_huge_power", "x^(10^10)"),
    ("nested_exp_constant", "exp(exp(exp(exp(100))))"),
    ("nested_exp_of_x", "exp(exp(exp(exp(x))))"),
    ("towers_of_two", "2^2^2^2^2^2"),
    ("deep_brackets", "(" * 1000 + "x" + ")" * 1000),
    ("ten_thousand_chars", "x" * 10_000),
    ("long_sum", "x+" * 5000 + "x"),
    ("huge_integer", "1" * 5000),
    ("huge_exponent_literal", "1e999999*x"),
    ("many_nested_sigmas", "σ(" * 39 + "x" + ")" * 39),
    ("factorial", "(10^10)!"),
    ("big_rationals", "*".join(["(123456789/987654321)^900"] * 40)),
    ("derivative_blowup", "d/dx " * 30 + "x^x^x^x"),
]

BROKEN_LATEX = [
    ("open_frac", r"\frac{4}{"),
    ("open_left", r"\left( x"),
    ("open_power_group", r"\sigma^{"),
    ("open_derivative", r"\frac{d}{dx"),
    ("environment", r"\begin{pmatrix}1\end{pmatrix}"),
    ("open_subscript", r"x_{"),
    ("only_dollars", "$$"),
    ("line_breaks", r"x \\ y"),
    ("nth_root", r"\sqrt[3]{x}"),
    ("unknown_macro", r"\def\x{1}\x"),
    ("input_file", r"\input{/etc/passwd}"),
]

TABLE = INJECTION + BOMBS + BROKEN_LATEX


@pytest.fixture(scope="module", autouse=True)
def _worker(monkeypatch_module: Any) -> Any:
    monkeypatch_module.delenv("GRADER_MATH_INPROCESS", raising=False)
    worker = shared_worker()
    q6b()  # start the worker once: its imports are not part of any check's bound
    grade_q6b("4σ(2x)(1-σ(2x))")
    yield worker


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def q6b() -> Any:
    return load_rubric(resolve_assignment("csc420-a2")).rubric.question("q6b_tanh_grad")


def grade_q6b(answer: str) -> Any:
    return q6b().grade(answer, GradingContext(submission_root=None, student="s1"))


@pytest.mark.parametrize("answer", [a for _, a in TABLE], ids=[n for n, _ in TABLE])
def test_hostile_answer_is_refused_or_wrong_within_the_bound(answer: str) -> None:
    started = time.perf_counter()
    verdict = grade_q6b(answer)
    elapsed = time.perf_counter() - started
    assert verdict.status in (Status.INVALID, Status.INCORRECT), verdict.feedback
    assert verdict.feedback.startswith("your answer")
    assert elapsed < HOSTILE_BOUND
    assert not MARKER.exists()


MATRIX_HOSTILE = [
    ("attribute_method", "X.T.dot(P)"),
    ("numpy_escape", "np.linalg.inv(X)"),
    ("dunder", "P.__array_interface__"),
    ("power_bomb", "P ** 9**9"),
    ("overflow", "exp(exp(exp(exp(P)))) @ X.T"),
    ("outer_of_matrices", "outer(outer(P, P), X)"),
    ("indexing", "X[0]"),
    ("deep_transposes", "X" + ".T" * 1000),
]


@pytest.mark.parametrize(
    "answer", [a for _, a in MATRIX_HOSTILE], ids=[n for n, _ in MATRIX_HOSTILE]
)
def test_hostile_matrix_answer(answer: str) -> None:
    question = load_rubric(resolve_assignment("csc411-a1")).rubric.question("p3a_softmax_grad")
    started = time.perf_counter()
    verdict = question.grade(answer, GradingContext(submission_root=None, student="s1"))
    assert verdict.status in (Status.INVALID, Status.INCORRECT), verdict.feedback
    assert time.perf_counter() - started < HOSTILE_BOUND


def _request(answer: str) -> MathRequest:
    return MathRequest(
        kind="scalar",
        answer=answer,
        candidates=["4*sigmoid(2*x)*(1 - sigmoid(2*x))"],
        space=ScalarSpace(variables={"x": (-3.0, 3.0)}),
    )


def test_an_overrunning_check_kills_the_worker_and_the_next_one_gets_a_fresh_worker() -> None:
    worker = MathWorker()
    try:
        assert worker.call(_request("4σ(2x)(1-σ(2x))"), timeout=30).status == "ok"
        first = worker.process
        assert first is not None
        slow = _request("4σ(2x)(1-σ(2x))")  # 4,000 comparisons: seconds of work, far more than 0.2 s
        slow.candidates = [f"4*sigmoid(2*x)*(1 - sigmoid(2*x)) + {i}*x - {i}*x" for i in range(4000)]
        timed_out = worker.call(slow, timeout=0.2)
        assert timed_out.status == "timeout"
        assert first.poll() is not None  # killed
        again = worker.call(_request("4σ(2x)(1-σ(2x))"), timeout=30)
        assert again.status == "ok" and again.results[0].outcome == "equal"
        assert worker.process is not None and worker.process.pid != first.pid
    finally:
        worker.stop()


def test_a_timeout_is_an_error_for_a_person_never_a_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import grader.mathworker as mathworker

    monkeypatch.setattr(
        mathworker,
        "check",
        lambda request, timeout=3.0: mathworker.MathResponse(
            status="timeout", message="no result within 3 s"
        ),
    )
    verdict = grade_q6b("4σ(2x)(1-σ(2x))")
    assert verdict.status is Status.ERROR
    assert verdict.feedback == "the grader ran out of time; a person will look"
