"""TA overrides: applied to reports (automatic verdict kept beside them), idempotent, with
located errors, and able to target a whole answer group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.batch.overrides import (
    Decisions,
    OverrideEntry,
    OverridesError,
    apply_overrides,
    load_overrides,
    strip_overrides,
)
from grader.cli import ExitCode, cli
from grader.core.grading import grade_path
from grader.core.report import Report, Status
from grader.core.rubric import load_rubric, resolve_assignment

LOADED = load_rubric(resolve_assignment("csc420-a2"))
ANSWERS = {
    "alice": "q1_proof: by induction\nq2_dL_dw3: 0.0006\n",
    "bob": "q1_proof: it is linear\nq2_dL_dw3: 0.00143\n",
    "carol": "q2_dL_dw3: '1.43e-3'\n",
    "dave": "q2_dL_dw3: abc\n",
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> list[Report]:
    folder = tmp_path_factory.mktemp("subs")
    found = []
    for name, text in ANSWERS.items():
        (folder / f"{name}.yaml").write_text(text)
        found.append(grade_path(LOADED, folder / f"{name}.yaml"))
    return found


def decide(*entries: dict[str, Any]) -> Decisions:
    return Decisions([OverrideEntry.model_validate(e) for e in entries], "overrides.yaml")


def question(report: Report, qid: str) -> Any:
    return next(q for q in report.questions if q.id == qid)


def by_id(reports: list[Report]) -> dict[str, Report]:
    return {r.submission: r for r in reports}


def test_a_manual_question_gets_its_score_and_keeps_the_automatic_verdict(reports: list[Report]) -> None:
    updated, problems = apply_overrides(reports, decide(
        {"submission": "alice", "question": "q1_proof", "score": 1.5, "comment": "short but right"}), LOADED.rubric)
    alice = by_id(updated)["alice"]
    proof = question(alice, "q1_proof")
    assert problems == []
    assert (proof.score, proof.status, proof.feedback) == (1.5, Status.PARTIAL, "short but right")
    assert proof.automatic is not None and proof.automatic.status is Status.MANUAL and proof.automatic.score == 0
    assert proof.override is not None and proof.override.source == "overrides.yaml: entry 1"
    original = by_id(reports)["alice"]
    assert alice.score == original.score + 1.5 and alice.automatic_score == original.score


def test_a_group_override_reaches_every_equivalent_answer(reports: list[Report]) -> None:
    updated, _ = apply_overrides(reports, decide(
        {"question": "q2_dL_dw3", "answer": 0.00143, "score": 5, "comment": "sigmoid sign slip"}), LOADED.rubric)
    scores = {r.submission: question(r, "q2_dL_dw3").score for r in updated}
    assert scores == {"alice": 15.0, "bob": 5.0, "carol": 5.0, "dave": 0.0}
    assert question(by_id(updated)["bob"], "q2_dL_dw3").override.answer == "0.00143"


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([{"question": "q2_dL_dw3", "answer": 0.00143, "score": 5},
          {"submission": "bob", "question": "q2_dL_dw3", "score": 2}], 2.0),
        ([{"submission": "bob", "question": "q2_dL_dw3", "score": 2},
          {"question": "q2_dL_dw3", "answer": 0.00143, "score": 5}], 2.0),
        ([{"submission": "bob", "question": "q2_dL_dw3", "score": 2},
          {"submission": "bob", "question": "q2_dL_dw3", "score": 3}], 3.0),
    ],
    ids=["named-after-group", "named-before-group", "later-named-wins"],
)
def test_a_named_submission_wins_over_a_group(
    reports: list[Report], entries: list[dict[str, Any]], expected: float,
) -> None:
    updated, _ = apply_overrides(reports, decide(*entries), LOADED.rubric)
    assert question(by_id(updated)["bob"], "q2_dL_dw3").score == expected


def test_applying_is_idempotent_and_stripping_restores_the_grader_verdict(reports: list[Report]) -> None:
    decisions = decide({"submission": "bob", "question": "q2_dL_dw3", "score": 7.5, "comment": "ok"})
    once, _ = apply_overrides(reports, decisions, LOADED.rubric)
    twice, _ = apply_overrides(once, decisions, LOADED.rubric)
    assert [r.model_dump() for r in once] == [r.model_dump() for r in twice]
    assert [strip_overrides(r).model_dump() for r in twice] == [r.model_dump() for r in reports]
    removed, _ = apply_overrides(twice, decide(), LOADED.rubric)
    assert [r.model_dump() for r in removed] == [r.model_dump() for r in reports]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"submission": "zed", "question": "q1_proof", "score": 1}, "no report for submission 'zed'"),
        ({"submission": "bob", "question": "q9", "score": 1}, "has no question 'q9'"),
        ({"submission": "bob", "question": "q1_proof", "score": 3}, "not applied: score 3 is above the 2 points"),
        ({"question": "q2_dL_dw3", "answer": 42, "score": 1}, "no submission answered q2_dL_dw3 like 42"),
    ],
    ids=["unknown-submission", "unknown-question", "too-many-points", "group-matching-nobody"],
)
def test_problems_are_reported_and_nothing_is_applied(
    reports: list[Report], entry: dict[str, Any], problem: str,
) -> None:
    updated, problems = apply_overrides(reports, decide(entry), LOADED.rubric)
    assert len(problems) == 1 and problem in problems[0] and "entry 1" in problems[0]
    assert [r.score for r in updated] == [r.score for r in reports]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("overrides:\n  - submission: a\n    question: q1_proof\n    score: -1\n", ":2: entry 1, field score"),
        ("overrides:\n  - {submission: a, question: q, score: 1}\n  - {question: q, score: 1}\n",
         ":3: entry 2, field (the entry): Value error, give exactly one of"),
        ("overrides:\n  - submission: a\n    question: q\n    score: 1\n    points: 2\n", "field points: Extra inputs"),
        ("overrides: [\n", "not valid YAML"),
    ],
    ids=["negative-score", "no-target", "unknown-field", "bad-yaml"],
)
def test_a_broken_overrides_file_names_file_entry_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(text)
    with pytest.raises(OverridesError) as err:
        load_overrides(path)
    assert str(path) in err.value.problems[0] and message in err.value.problems[0]


def test_a_plain_list_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text("- {submission: a, question: q1_proof, score: 1}\n")
    assert load_overrides(path).entries[0].submission == "a"


def test_batch_applies_overrides_to_reports_gradebook_and_summary(tmp_path: Path) -> None:
    root = tmp_path / "class"
    root.mkdir()
    for name, text in ANSWERS.items():
        (root / f"{name}.yaml").write_text(text)
    out = tmp_path / "out"
    runner = CliRunner()
    runner.invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "1"])
    (out / "overrides.yaml").write_text(
        "overrides:\n  - {submission: alice, question: q1_proof, score: 2, comment: clear}\n")
    result = runner.invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "1"])
    assert result.exit_code == ExitCode.OK
    alice = json.loads((out / "reports" / "alice.json").read_text())
    proof = next(q for q in alice["questions"] if q["id"] == "q1_proof")
    assert proof["score"] == 2 and proof["automatic"]["status"] == "manual" and proof["override"]["comment"] == "clear"
    assert "alice,17," in (out / "gradebook.csv").read_text()
    summary = json.loads((out / "summary.json").read_text())
    assert next(q for q in summary["questions"] if q["id"] == "q1_proof")["overridden"] == 1
    (out / "overrides.yaml").write_text("overrides: [{submission: alice, question: q1_proof, score: 9}]\n")
    broken = runner.invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out)])
    assert broken.exit_code == ExitCode.OK and "above the 2 points" in broken.output
    (out / "overrides.yaml").write_text("overrides: [{submission: alice, score: 9}]\n")
    broken = runner.invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out)])
    assert broken.exit_code == ExitCode.USAGE_ERROR and "field question: Field required" in broken.output
