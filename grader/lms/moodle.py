"""Moodle: a CSV for Grades > Import > CSV file: an identifier column, the grade, and feedback.

In Moodle's import form, map `Identifier` to the user field the ids are (username, ID number or
email address), the grade column to the grade item, and `Feedback` to that item's feedback.
"""

from __future__ import annotations

import csv
import io

from grader.gradebook import format_points, spreadsheet_safe
from grader.report import Report, Status

IDENTIFIER = "Identifier"
FEEDBACK = "Feedback"
MAX_FEEDBACK = 4_000


def feedback_text(report: Report) -> str:
    """One line per question: score, status, and the TA's comment where there is one."""
    parts = [f"{format_points(report.score)} / {format_points(report.max_score)} points."]
    for q in report.questions:
        line = f"{q.id}: {format_points(q.score)}/{format_points(q.max_score)} {q.status.value}"
        if q.override is not None and q.override.comment:
            line += f" ({q.override.comment})"
        elif q.status is Status.MANUAL:
            line += " (not graded yet)"
        parts.append(line)
    text = "\n".join(parts)
    return text if len(text) <= MAX_FEEDBACK else text[: MAX_FEEDBACK - 1] + "…"


def export_moodle(reports: list[Report], grade_column: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([IDENTIFIER, grade_column, FEEDBACK])
    for report in sorted(reports, key=lambda r: r.submission):
        writer.writerow([spreadsheet_safe(report.submission), format_points(report.score),
                         spreadsheet_safe(feedback_text(report))])
    return out.getvalue()
