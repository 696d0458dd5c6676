"""Hostile files and values, graded one by one: each gets a clear status and runs nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.grading import grade_path
from grader.report import Report
from grader.rubric import load_rubric, resolve_assignment
from tests.hostile.corpus import ASSIGNMENT, SECRET_ENV, SECRET_VALUE, Case, build_corpus

CORPUS_ROOT: Path | None = None


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    return build_corpus(tmp_path_factory.mktemp("hostile"))


def _check(case: Case, report: Report) -> None:
    by_id = {q.id: q for q in report.questions}
    expected = case.statuses or {q.id: case.all_status for q in report.questions}
    for qid, status in expected.items():
        assert by_id[qid].status.value == status, (case.name, qid, by_id[qid].feedback)
        if case.message and (case.all_status or qid in case.statuses) and status in ("invalid", "error"):
            assert case.message in by_id[qid].feedback, (case.name, by_id[qid].feedback)
    assert SECRET_VALUE not in report.model_dump_json()


def test_each_hostile_submission_gets_its_status(corpus: list[Case], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET_VALUE)
    loaded = load_rubric(resolve_assignment(ASSIGNMENT))
    for case in corpus:
        _check(case, grade_path(loaded, case.path))


def test_no_payload_ran_and_nothing_escaped(corpus: list[Case]) -> None:
    root = corpus[0].path.parent
    assert not (root / "python_tag_ran").exists()
    assert not (root.parent / "escaped.txt").exists() and not (root / "escaped.txt").exists()
    assert not Path("/tmp/grader-absolute-escape.txt").exists()


def test_corpus_size_is_stated(corpus: list[Case]) -> None:
    counts = {c: sum(1 for case in corpus if case.category == c) for c in {case.category for case in corpus}}
    assert counts["files"] >= 15 and counts["values"] >= 10, counts


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_device_as_submission_is_refused() -> None:
    report = grade_path(load_rubric(resolve_assignment(ASSIGNMENT)), Path("/dev/zero"))
    assert {q.status.value for q in report.questions} == {"invalid"}
