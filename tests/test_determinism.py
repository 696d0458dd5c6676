"""The same answers get the same verdicts on any machine, under any load, in any order (issue 22).

The formula tables of `test_equivalence_soundness.py` (hostile answers included) are graded as a
batch of submissions through the real math worker: normally with `-j 1`, with `-j 2`, with every
CPU kept busy by processes this test starts and stops, with the worker's wall-clock guard lowered
threefold (a machine three times slower), and one by one in reverse order. Every run must give
identical stable reports: no verdict may depend on time, load, core count or order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.core.grading import grade_path
from grader.core.report import Report
from grader.core.rubric import load_rubric
from tests.test_equivalence_soundness import EQUAL, GENERATED, WRONG

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"expression", "matrix_expression"}
SUBMISSIONS = 6


def _formula_rubric(path: Path) -> Path:
    """csc420-a2 with its formula questions only (no model to train, nothing else to wait on)."""
    data = yaml.safe_load((ROOT / "rubrics" / "csc420-a2.yaml").read_text())
    data["questions"] = [q for q in data["questions"] if q.get("kind") in KINDS]
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _answers() -> dict[str, list[str]]:
    rows = [*WRONG, *EQUAL]
    by_question: dict[str, list[str]] = {"q1_effective_weight": ["W2 @ W1", "W1 @ W2",
                                                                 "W2 @ W1 + 1e15 - 1e15",
                                                                 "0*W1.T + W2 @ W1 + 1e-200"],
                                         "q1_effective_bias": ["W2 @ b1 + b2", "b1 + b2",
                                                               "W2 @ b1 + b2 + 1e300 - 1e300"]}
    for _name, (_assignment, question), answer in rows:
        if _assignment == "csc420-a2":
            by_question.setdefault(question, []).append(answer)
    by_question["q6b_tanh_grad"] += [a for (_, q), a in GENERATED[::9] if q == "q6b_tanh_grad"]
    return by_question


def _write_submissions(root: Path) -> None:
    answers = _answers()
    for index in range(SUBMISSIONS):
        folder = root / f"s{index:02d}"
        folder.mkdir(parents=True)
        chosen = {q: values[(index * 7 + 3 * n) % len(values)]
                  for n, (q, values) in enumerate(sorted(answers.items()))}
        (folder / "answers.yaml").write_text(yaml.safe_dump(chosen, allow_unicode=True))


def _batch(root: Path, rubric: Path, out: Path, jobs: int, extra_env: dict[str, str] | None = None
           ) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "GRADER_MATH_INPROCESS"}
    env.update(extra_env or {})
    subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(root), "-a", str(rubric), "-o", str(out),
         "-j", str(jobs), "--force"],
        check=True, env=env, capture_output=True, timeout=900,
    )
    return {path.stem: _verdicts(Report.model_validate_json(path.read_text()))
            for path in sorted((out / "reports").glob("*.json"))}


def _verdicts(report: Report) -> Any:
    """What a student and the gradebook see: the stable dump's score and questions."""
    data = report.stable_dump()
    return {"score": data["score"], "questions": data["questions"]}


@contextmanager
def _every_cpu_busy() -> Iterator[None]:
    """One spinning process per CPU, started here and stopped here (by pid)."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("determinism")
    rubric = _formula_rubric(base / "rubric.yaml")
    root = base / "submissions"
    _write_submissions(root)
    reference = _batch(root, rubric, base / "normal", 1)
    assert len(reference) == SUBMISSIONS
    return root, rubric, reference


def test_the_tables_have_every_kind_of_verdict(setup: tuple[Path, Path, dict[str, Any]]) -> None:
    """The runs below compare something: right, wrong and partial answers are all graded."""
    _, _, reference = setup
    statuses = {q["status"] for r in reference.values() for q in r["questions"]}
    assert {"correct", "incorrect"} <= statuses


CONDITIONS = [
    ("two_jobs", 2, {}, False),
    ("every_cpu_busy", 1, {}, True),
    ("guard_three_times_lower", 1, {"GRADER_MATH_GUARD_SCALE": str(1 / 3)}, False),
]


@pytest.mark.parametrize(("jobs", "env", "stress"), [c[1:] for c in CONDITIONS],
                         ids=[c[0] for c in CONDITIONS])
def test_a_batch_gives_the_same_verdicts(
    setup: tuple[Path, Path, dict[str, Any]], tmp_path: Path, jobs: int, env: dict[str, str],
    stress: bool,
) -> None:
    root, rubric, reference = setup
    if stress:
        with _every_cpu_busy():
            again = _batch(root, rubric, tmp_path / "out", jobs, env)
    else:
        again = _batch(root, rubric, tmp_path / "out", jobs, env)
    assert json.dumps(again, sort_keys=True) == json.dumps(reference, sort_keys=True)


def test_one_by_one_in_reverse_order_gives_the_same_verdicts(
    setup: tuple[Path, Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, rubric, reference = setup
    monkeypatch.delenv("GRADER_MATH_INPROCESS", raising=False)
    loaded = load_rubric(rubric)
    again = {folder.name: _verdicts(grade_path(loaded, folder))
             for folder in sorted(root.iterdir(), reverse=True)}
    for name, verdicts in again.items():
        assert verdicts["questions"] == reference[name]["questions"], name
        assert verdicts["score"] == reference[name]["score"]
