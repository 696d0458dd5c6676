"""`gradebook.csv`: one row per submission: id, total, max, then one column per question (empty
for a question a person has yet to grade)."""

from __future__ import annotations

import csv
import io

from grader.report import QuestionResult, Report, Status
from grader.rubric import Rubric

FIXED_COLUMNS = ("id", "total", "max")


def format_points(value: float) -> str:
    """Points as people write them: 7.5, 12, 0.25 (no float noise, no trailing zeros)."""
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (ids and comments come from students and TAs)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _cell(result: QuestionResult) -> str:
    """A question's points; empty while a person has not graded it (0 would read as graded)."""
    return "" if result.status is Status.MANUAL else format_points(result.score)


def gradebook_csv(reports: list[Report], rubric: Rubric) -> str:
    question_ids = [q.id for q in rubric.questions]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIXED_COLUMNS, *question_ids])
    for report in sorted(reports, key=lambda r: r.submission):
        cells = {q.id: _cell(q) for q in report.questions}
        writer.writerow([
            spreadsheet_safe(report.submission), format_points(report.score), format_points(report.max_score),
            *(cells.get(qid, "") for qid in question_ids),
        ])
    return out.getvalue()
