"""The `code` kind on csc411-a1's two code questions: right, wrong, partly right and broken
implementations get the right statuses, scores and feedback."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.checkers import code as code_module
from grader.checkers.base import GradingContext, Verdict
from grader.checkers.code import CodeQuestion
from grader.cli import cli
from grader.core.report import Status
from grader.core.rubric import load_rubric, resolve_assignment
from grader.sandbox import Limits

EXAMPLES = Path(__file__).resolve().parent.parent / "submissions_example" / "csc411-a1"
QUICK = Limits(wall_seconds=3, cpu_seconds=2, memory_mb=1024)


def question(qid: str, **update: Any) -> CodeQuestion:
    q = load_rubric(resolve_assignment("csc411-a1")).rubric.question(qid)
    assert isinstance(q, CodeQuestion)
    return q.model_copy(update={"limits": QUICK, **update})


def grade_source(q: CodeQuestion, source: str, tmp_path: Path, name: str = "answer.py") -> Verdict:
    folder = tmp_path / "submission"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(source))
    return q.grade(name, GradingContext(submission_root=folder, student="student-1"))


SOFTMAX = """
import numpy as np

def softmax(o):
    e = np.exp(o - o.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
"""

GRADIENTS = {
    "correct": (
        SOFTMAX
        + """
def basic_gradient(W, x, b, y):
    p = softmax(x @ W + b)
    return x.T @ (p - y), (p - y).sum(axis=0)
""",
        Status.CORRECT,
        1.0,
        None,
    ),
    "correct with lists and loops": (
        """
import math

def basic_gradient(W, x, b, y):
    m, n, k = len(x), len(W), len(b)
    dW = [[0.0] * k for _ in range(n)]
    db = [0.0] * k
    for i in range(m):
        o = [sum(x[i][a] * W[a][j] for a in range(n)) + b[j] for j in range(k)]
        top = max(o)
        e = [math.exp(v - top) for v in o]
        s = sum(e)
        for j in range(k):
            d = e[j] / s - y[i][j]
            db[j] += d
            for a in range(n):
                dW[a][j] += x[i][a] * d
    return dW, db
""",
        Status.CORRECT,
        1.0,
        None,
    ),
    "missing normalisation (bob)": (
        """
import numpy as np

def basic_gradient(W, x, b, y):
    p = np.exp(x @ W + b)
    return x.T @ (p - y), (p - y).sum(axis=0)
""",
        Status.INCORRECT,
        0.0,
        "unnormalised_softmax",
    ),
    "averaged over the batch": (
        SOFTMAX
        + """
def basic_gradient(W, x, b, y):
    p = softmax(x @ W + b)
    return x.T @ (p - y) / len(x), (p - y).mean(axis=0)
""",
        Status.PARTIAL,
        0.25,
        "batch_mean",
    ),  # the one-example case is right either way
    "right dC/dW, wrong dC/db": (
        SOFTMAX
        + """
def basic_gradient(W, x, b, y):
    p = softmax(x @ W + b)
    return x.T @ (p - y), (y - p).sum(axis=0)
""",
        Status.PARTIAL,
        2 / 3,
        None,
    ),
    "transposed dC/dW": (
        SOFTMAX
        + """
def basic_gradient(W, x, b, y):
    p = softmax(x @ W + b)
    return (p - y).T @ x, (p - y).sum(axis=0)
""",
        Status.PARTIAL,
        1 / 3,
        None,
    ),
    "one value returned": (
        SOFTMAX
        + """
def basic_gradient(W, x, b, y):
    return x.T @ (softmax(x @ W + b) - y)
""",
        Status.INCORRECT,
        0.0,
        None,
    ),
    "raises": (
        """
def basic_gradient(W, x, b, y):
    raise ValueError("not done yet")
""",
        Status.ERROR,
        0.0,
        None,
    ),
}


@pytest.mark.parametrize("source,status,credit,mistake", GRADIENTS.values(), ids=GRADIENTS.keys())
def test_basic_gradient_implementations(
    source: str, status: Status, credit: float, mistake: str | None, tmp_path: Path
) -> None:
    verdict = grade_source(question("p3b_gradient_code"), source, tmp_path)
    assert verdict.status is status, verdict.feedback
    assert verdict.credit == pytest.approx(credit)
    assert verdict.mistake == mistake
    assert verdict.feedback.startswith(("your", "it looks like"))


MOMENTUM = {
    "correct": (
        """
def momentum_step(W, grad, velocity, lr, momentum):
    velocity = momentum * velocity - lr * grad
    return W + velocity, velocity
""",
        Status.CORRECT,
        1.0,
        None,
    ),
    "returning a list": (
        """
def momentum_step(W, grad, velocity, lr, momentum):
    velocity = momentum * velocity - lr * grad
    return [W + velocity, velocity]
""",
        Status.CORRECT,
        1.0,
        None,
    ),
    "right values, but the caller's arrays changed in place": (
        """
def momentum_step(W, grad, velocity, lr, momentum):
    velocity *= momentum
    velocity -= lr * grad
    W += velocity
    return [W, velocity]
""",
        Status.INCORRECT,
        0.0,
        None,
    ),
    "sign error (bob)": (
        """
def momentum_step(W, grad, velocity, lr, momentum):
    velocity = momentum * velocity + lr * grad
    return W + velocity, velocity
""",
        Status.INCORRECT,
        0.0,
        "gradient_sign",
    ),
    "W moved by the old velocity": (
        """
def momentum_step(W, grad, velocity, lr, momentum):
    new_velocity = momentum * velocity - lr * grad
    return W + velocity, new_velocity
""",
        Status.PARTIAL,
        0.5,
        "old_velocity",
    ),
    "plain gradient descent": (
        """
def momentum_step(W, grad, velocity, lr, momentum):
    return W - lr * grad, velocity
""",
        Status.INCORRECT,
        0.0,
        None,
    ),
}


@pytest.mark.parametrize("source,status,credit,mistake", MOMENTUM.values(), ids=MOMENTUM.keys())
def test_momentum_step_implementations(
    source: str, status: Status, credit: float, mistake: str | None, tmp_path: Path
) -> None:
    verdict = grade_source(question("p4_momentum_code"), source, tmp_path)
    assert verdict.status is status, verdict.feedback
    assert verdict.credit == pytest.approx(credit)
    assert verdict.mistake == mistake


BROKEN = {
    "syntax error": (
        "def momentum_step(W, grad, velocity, lr, momentum)\n    return W\n",
        "failed when imported: SyntaxError",
    ),
    "crash at import": ("import ctypes\nctypes.string_at(0)\n", "while your file was imported"),
    "no such function": ("def momentum(W):\n    return W\n", "has no function momentum_step"),
    "sys.exit in the call": (
        "import sys\ndef momentum_step(*a):\n    sys.exit(3)\n",
        "called sys.exit(3) (line 3)",
    ),
    "os._exit in the call": (
        "import os\ndef momentum_step(*a):\n    os._exit(0)\n",
        "exited before finishing",
    ),
    "infinite loop": ("def momentum_step(*a):\n    while True:\n        pass\n", "time"),
    "8 GB allocation": (
        "import numpy as np\ndef momentum_step(*a):\n    return np.ones(2**30), 1\n",
        "ran out of memory",
    ),
    "exception with its line": (
        "def momentum_step(W, grad, velocity, lr, momentum):\n    return W @ grad, velocity\n",
        "ValueError",
    ),
}


@pytest.mark.parametrize("source,reason", BROKEN.values(), ids=BROKEN.keys())
def test_broken_code_is_an_error_with_a_one_line_reason(
    source: str, reason: str, tmp_path: Path
) -> None:
    verdict = grade_source(question("p4_momentum_code"), source, tmp_path)
    assert verdict.status is Status.ERROR, verdict.feedback
    assert reason in verdict.feedback
    assert "\n" not in verdict.feedback
    assert verdict.credit == 0.0


def test_exception_on_some_cases_keeps_the_credit_of_the_others(tmp_path: Path) -> None:
    source = (
        SOFTMAX
        + """
def basic_gradient(W, x, b, y):
    if len(x) == 1:
        raise IndexError("single example")
    p = softmax(x @ W + b)
    return x.T @ (p - y), (p - y).sum(axis=0)
"""
    )
    verdict = grade_source(question("p3b_gradient_code"), source, tmp_path)
    assert verdict.status is Status.ERROR
    assert verdict.credit == pytest.approx(0.75)
    assert "raised IndexError: single example (line 10)" in verdict.feedback


FEEDBACK = [
    ("float32 result: a dtype, not a formula", """
import numpy as np
def momentum_step(W, grad, velocity, lr, momentum):
    v = (momentum * velocity - lr * grad).astype(np.float32)
    return (W + v).astype(np.float32), v
""", ["has only float32 precision", "compute in float64"], ["expected ["]),
    ("in place: told", """
def momentum_step(W, grad, velocity, lr, momentum):
    velocity *= momentum
    velocity -= lr * grad
    return W + velocity, velocity
""", ["changed its input velocity in place", "x = x.copy()"], []),
    ("wrong on the first shape, crashes on the others: both named", """
import numpy as np
def momentum_step(W, grad, velocity, lr, momentum):
    if W.shape[0] != 1:
        raise ValueError("only vectors")
    velocity = momentum * velocity + lr * grad
    return W + velocity, velocity
""", ["is wrong: expected", "it also raised ValueError: only vectors (line 5) on test case 2 'matrices'"], []),
]


@pytest.mark.parametrize(("source", "needles", "absent"), [c[1:] for c in FEEDBACK], ids=[c[0] for c in FEEDBACK])
def test_code_feedback_names_the_real_problem(
    source: str, needles: list[str], absent: list[str], tmp_path: Path,
) -> None:
    verdict = grade_source(question("p4_momentum_code"), source, tmp_path)
    assert verdict.status is not Status.CORRECT
    assert all(n in verdict.feedback for n in needles), verdict.feedback
    assert not any(a in verdict.feedback for a in absent), verdict.feedback


def test_feedback_shows_the_first_failing_visible_case(tmp_path: Path) -> None:
    source = (
        SOFTMAX
        + """
def basic_gradient(W, x, b, y):
    p = softmax(x @ W + b)
    return x.T @ (p - y), 2 * (p - y).sum(axis=0)
"""
    )
    verdict = grade_source(question("p3b_gradient_code"), source, tmp_path)
    text = verdict.feedback
    assert "test case 1 'one example'" in text
    assert "inputs W (" in text and "y (1, " in text
    assert "dC/db is wrong: expected [" in text and "got [" in text
    assert "max absolute difference" in text and "max relative difference 1" in text


def test_a_failing_hidden_case_is_named_but_not_shown(tmp_path: Path) -> None:
    q = question("p3b_gradient_code")
    q = q.model_copy(update={"cases": [q.cases[0], q.cases[-1]]})  # one example, hidden batches
    source = (
        SOFTMAX
        + """
def basic_gradient(W, x, b, y):   # right for one example only
    p = softmax(x[:1] @ W + b)
    return x[:1].T @ (p - y[:1]), (p - y[:1]).sum(axis=0)
"""
    )
    verdict = grade_source(q, source, tmp_path)
    assert verdict.status is Status.PARTIAL
    assert "fails hidden test case 2" in verdict.feedback
    assert "expected" not in verdict.feedback and "inputs" not in verdict.feedback


def test_finite_differences_catch_a_reference_that_does_not_match_its_loss() -> None:
    q = question("p3b_gradient_code")
    wrong = q.model_copy(
        update={
            "gradient_check": q.gradient_check.model_copy(  # type: ignore[union-attr]
                update={"params": {"reduction": "mean"}}
            )
        }
    )
    assert q.rubric_problems(compute=True) == []
    problems = wrong.rubric_problems(compute=True)
    assert problems and "disagrees with finite differences" in problems[0]


def test_draws_are_reproducible_per_student_and_differ_between_students() -> None:
    q = question("p3b_gradient_code")
    first, again, other = q.draws("alice"), q.draws("alice"), q.draws("bob")
    assert all((a.args["x"] == b.args["x"]).all() for a, b in zip(first, again, strict=True))
    assert any(
        a.args["x"].shape != b.args["x"].shape or (a.args["x"] != b.args["x"]).any()
        for a, b in zip(first, other, strict=True)
    )
    assert all(set(d.args["y"].sum(axis=1)) == {1.0} for d in first)  # one-hot rows


FILE_ANSWERS = {
    "escaping path": ("../../../etc/passwd", Status.ERROR, "points outside your submission"),
    "absolute path": ("/etc/passwd", Status.ERROR, "points outside your submission"),
    "a number": (42, Status.INVALID, "not a file path"),
    "not python": ("notes.txt", Status.INVALID, "not a .py file"),
    "no such file": ("missing.py", Status.INVALID, "not a file in your submission"),
    "link leaving the submission": ("link.py", Status.ERROR, "links outside your submission"),
}


@pytest.mark.parametrize("raw,status,text", FILE_ANSWERS.values(), ids=FILE_ANSWERS.keys())
def test_file_answers_that_cannot_be_run(
    raw: Any, status: Status, text: str, tmp_path: Path
) -> None:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    outside = tmp_path / "outside.py"
    outside.write_text("def momentum_step(*a):\n    return 1, 1\n")
    (folder / "link.py").symlink_to(outside)
    verdict = question("p4_momentum_code").grade(
        raw, GradingContext(submission_root=folder, student="s")
    )
    assert verdict.status is status
    assert text in verdict.feedback


def test_an_answers_file_alone_cannot_hold_code() -> None:
    verdict = question("p4_momentum_code").grade("momentum.py", GradingContext(None, "s"))
    assert verdict.status is Status.INVALID and "submit a folder or a zip" in verdict.feedback


EXPECTED_EXAMPLES = {
    "alice": {"p3b_gradient_code": ("correct", 15), "p4_momentum_code": ("correct", 10)},
    "bob": {"p3b_gradient_code": ("incorrect", 0), "p4_momentum_code": ("incorrect", 0)},
    "carol.yaml": {"p3b_gradient_code": ("error", 0), "p4_momentum_code": ("invalid", 0)},
}


@pytest.mark.parametrize("name", EXPECTED_EXAMPLES)
def test_example_submissions_through_the_cli(name: str) -> None:
    result = CliRunner().invoke(cli, ["grade", str(EXAMPLES / name), "-a", "csc411-a1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    by_id = {q["id"]: q for q in report["questions"]}
    for qid, (status, score) in EXPECTED_EXAMPLES[name].items():
        assert (by_id[qid]["status"], by_id[qid]["score"]) == (status, score), by_id[qid][
            "feedback"
        ]
    if name != "carol.yaml":
        assert report["sandbox"] in ("bwrap", "namespace", "process")


def test_self_check_shows_the_code_feedback() -> None:
    result = CliRunner().invoke(cli, ["check", str(EXAMPLES / "bob"), "-a", "csc411-a1"])
    assert result.exit_code == 0
    assert "exp(o) without dividing by their sum" in result.output
    assert "gradient is added to the velocity" in result.output


def test_a_crash_does_not_echo_what_the_code_wrote_to_stderr(tmp_path: Path) -> None:
    source = """
import os, sys
def momentum_step(W, grad, velocity, lr, momentum):
    sys.stderr.write(f"hidden input leak {W.tolist()}\\n")
    sys.stderr.flush()
    os._exit(5)
"""
    verdict = grade_source(question("p4_momentum_code"), source, tmp_path)
    assert verdict.status is Status.ERROR
    assert verdict.feedback == "your code exited with code 5 (os._exit?) during test case 1"


def test_a_planted_zip_bomb_as_outputs_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(code_module, "MAX_OUTPUT_BYTES", 4 * 1024 * 1024)  # the test's scale
    source = """
import atexit, io, zipfile
import numpy as np
planted = []
def momentum_step(W, grad, velocity, lr, momentum):
    def plant():  # a valid array, larger unpacked than the grader accepts
        array = io.BytesIO()
        np.save(array, np.zeros(5 * 1024 * 1024 // 8))
        with zipfile.ZipFile("outputs.npz", "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("0.0.npy", array.getvalue())
    if not planted:
        planted.append(atexit.register(plant))
    return W, velocity
"""
    verdict = grade_source(question("p4_momentum_code"), source, tmp_path)
    assert verdict.status is Status.INCORRECT
    assert "new W is missing" in verdict.feedback
