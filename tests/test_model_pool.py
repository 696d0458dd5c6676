"""Batch workers keep one model evaluator alive across submissions; its verdicts are those of
the one-shot evaluation, and a job that breaks it costs that job only."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.batch.worker import GradeTask, grade_task, init_worker, warm_cache
from grader.core.report import Report
from grader.core.rubric import load_rubric, resolve_assignment
from grader.models import pool

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "submissions_example" / "apl405-hw2"
# alice: three good models (one evaluation job); bob: a CNN of the wrong shape (no job)
CLASS = [("a1", "alice"), ("b1", "bob"), ("a2", "alice"), ("a3", "alice")]


@pytest.fixture
def one_shot_afterwards() -> Iterator[None]:
    yield
    pool.disable_reuse()


@pytest.fixture(scope="module")
def submissions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class")
    for name, source in CLASS:
        shutil.copytree(EXAMPLES / source, root / name)
    return root


def grade_class(root: Path, reuse: bool) -> dict[str, dict[str, Any]]:
    path = resolve_assignment("apl405-hw2")
    state = init_worker(str(path), warm_cache(load_rubric(path)), reuse)
    reports = {}
    for name, _ in CLASS:
        text = grade_task(state, GradeTask(default_id=name, path=str(root / name)))
        reports[name] = Report.model_validate_json(text).stable_dump()
    return reports


def test_a_batch_worker_reuses_one_evaluator(submissions: Path, one_shot_afterwards: None) -> None:
    reused = grade_class(submissions, reuse=True)
    [session] = pool.sessions()
    assert session.starts == 1
    assert session.jobs == 3  # one per submission with models to run
    assert {q["status"] for q in reused["a3"]["questions"]} == {"correct"}
    assert reused["a1"]["sandbox"] is not None


def test_reused_and_one_shot_evaluations_agree(submissions: Path, one_shot_afterwards: None) -> None:
    reused = grade_class(submissions, reuse=True)
    pool.disable_reuse()
    one_shot = grade_class(submissions, reuse=False)
    assert not pool.sessions()
    assert json.dumps(reused, sort_keys=True) == json.dumps(one_shot, sort_keys=True)


def test_an_evaluation_that_times_out_fails_alone_and_the_next_gets_a_fresh_evaluator(
    one_shot_afterwards: None,
) -> None:
    from grader.checkers.base import GradingContext, Verdict
    from grader.checkers.model import ModelQuestion
    from grader.models.evaluate import evaluate_models

    pool.enable_reuse()
    question = load_rubric(resolve_assignment("apl405-hw2")).rubric.question("q5_ii_model")
    assert isinstance(question, ModelQuestion)
    prepared = question.prepare("cnn.safetensors", GradingContext(EXAMPLES / "alice", "alice"))
    assert not isinstance(prepared, Verdict)
    request = prepared.request
    good = evaluate_models([request])[request.id]
    request.limits = request.limits.model_copy(update={"wall_seconds": 0.001})
    late = evaluate_models([request])[request.id]
    request.limits = request.limits.model_copy(update={"wall_seconds": 120.0})
    again = evaluate_models([request])[request.id]
    [session] = pool.sessions()
    assert (good.status, late.status, again.status) == ("ok", "timeout", "ok")
    assert session.starts == 2
    assert good.predictions is not None and again.predictions is not None
    assert (good.predictions == again.predictions).all()
