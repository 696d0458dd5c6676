"""`gradebook.csv`: one row per submission: id, total, max, one column per question (empty for a
question a person has yet to grade), then notes (a duplicate id, `grader.batch.identity`). Text cells
are defused for spreadsheets (`grader.core.names`)."""

from __future__ import annotations

from grader.batch.identity import identity_key, standings_of
from grader.core.names import csv_text, spreadsheet_cell
from grader.core.report import QuestionResult, Report, Status
from grader.core.rubric import Rubric

FIXED_COLUMNS = ("id", "total", "max")
NOTES = "notes"


def format_points(value: float) -> str:
    """Points as people write them: 7.5, 12, 0.25 (no float noise, no trailing zeros)."""
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _cell(result: QuestionResult) -> str:
    """A question's points; empty while a person has not graded it (0 would read as graded)."""
    return "" if result.status is Status.MANUAL else format_points(result.score)


def gradebook_csv(reports: list[Report], rubric: Rubric) -> str:
    """The rows sorted by id, the owner of a shared id first and every sharer flagged in `notes`."""
    question_ids = [q.id for q in rubric.questions]
    standings = standings_of(reports)
    rows = [[*FIXED_COLUMNS, *question_ids, NOTES]]
    order = sorted(range(len(reports)), key=lambda i: (
        identity_key(reports[i].submission), not standings[i].owner, reports[i].submission))
    for i in order:
        report = reports[i]
        cells = {q.id: _cell(q) for q in report.questions}
        rows.append([
            spreadsheet_cell(report.submission), format_points(report.score), format_points(report.max_score),
            *(cells.get(qid, "") for qid in question_ids),
            spreadsheet_cell(standings[i].note()),
        ])
    return csv_text(rows)
