"""Every hostile submission graded on its own (`grader grade`'s path): each gets its statuses and
messages, no report shows a secret, and no payload leaves a trace."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.core.grading import grade_path
from grader.core.report import Report
from grader.core.rubric import LoadedRubric, load_rubric, resolve_assignment
from tests.hostile.checks import report_problems, trace_problems
from tests.hostile.conftest import Corpus
from tests.hostile.corpus import ASSIGNMENTS, CATEGORIES, sizes

CASE_BOUND = 25.0  # seconds for one submission; the slowest (an infinite loop) takes the 10 s limit
MINIMUM_SIZES = {"files": 30, "values": 120, "models": 25, "code": 20}


@pytest.fixture(scope="module")
def rubrics() -> dict[str, LoadedRubric]:
    return {a: load_rubric(resolve_assignment(a)) for a in ASSIGNMENTS}


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_hostile_submission_gets_its_statuses(
    category: str, corpus: Corpus, rubrics: dict[str, LoadedRubric]
) -> None:
    problems = []
    for case in (c for c in corpus.cases if c.category == category):
        started = time.monotonic()
        report = grade_path(rubrics[case.assignment], case.path)
        elapsed = time.monotonic() - started
        problems += report_problems(case, report)
        if elapsed > CASE_BOUND:
            problems.append(f"{case.name}: took {elapsed:.1f} s")
    problems += trace_problems(corpus)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", ["zip entry with ../", "zip with a symlink entry", "submission is a FIFO"])
def test_the_cli_grades_a_hostile_submission_with_exit_code_0(name: str, corpus: Corpus) -> None:
    case = next(c for c in corpus.cases if c.name == name)
    result = CliRunner().invoke(cli, ["grade", str(case.path), "-a", case.assignment])
    assert result.exit_code == 0, result.output
    assert not report_problems(case, Report.model_validate_json(result.output))


def test_a_device_outside_the_corpus_is_refused(rubrics: dict[str, LoadedRubric]) -> None:
    report = grade_path(rubrics["csc420-a2"], Path("/dev/zero"))
    assert {q.status.value for q in report.questions} == {"invalid"}


def test_corpus_size(corpus: Corpus) -> None:
    counts = sizes(corpus.cases)
    assert all(counts[c] >= n for c, n in MINIMUM_SIZES.items()), counts
    assert {c.assignment for c in corpus.cases} == set(ASSIGNMENTS)
