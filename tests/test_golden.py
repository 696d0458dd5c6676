"""Golden reports of the example submissions: the report's shape and every verdict, pinned.

Regenerate after an intended change with `UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from grader.core.grading import grade_path
from grader.core.report import Report
from grader.core.rubric import load_rubric, resolve_assignment

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden"
VOLATILE = {"sandbox", "rubric_sha256", "submission_sha256", "grader_version", "graded_at", "duration_seconds"}
EXAMPLES = sorted(
    (a.name, s) for a in (REPO / "submissions_example").iterdir() if a.is_dir()
    for s in sorted(a.iterdir()) if not s.name.startswith(".")
)


def _stable(report: Report) -> dict[str, Any]:
    """The stable dump without what depends on the machine or the version: hashes, sandbox layer."""
    return {k: v for k, v in report.stable_dump().items() if k not in VOLATILE}


@pytest.mark.parametrize(("assignment", "submission"), EXAMPLES, ids=[f"{a}/{s.name}" for a, s in EXAMPLES])
def test_example_report_matches_golden(assignment: str, submission: Path) -> None:
    report = _stable(grade_path(load_rubric(resolve_assignment(assignment)), submission))
    golden = GOLDEN / assignment / f"{submission.stem}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    assert report == json.loads(golden.read_text())


def test_every_assignment_has_a_correct_a_mistaken_and_an_unreadable_example() -> None:
    for assignment in {a for a, _ in EXAMPLES}:
        names = {s.stem for a, s in EXAMPLES if a == assignment}
        assert {"alice", "bob", "carol"} <= names
