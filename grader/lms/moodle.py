"""Moodle: a CSV for Grades > Import > CSV file: an identifier column, the grade, and feedback.

In Moodle's import form, map `Identifier` to the user field the ids are (username, ID number or
email address), the grade column to the grade item, and `Feedback` to that item's feedback.

The identifier must match a Moodle user field as it is, so it is never defused: a submission whose
id a spreadsheet would run as a formula (`=...`, `@...`) is left out and listed, as is every
submission that shares an id without owning it (`grader.identity`). The TA enters those by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.gradebook import format_points
from grader.identity import standings_of
from grader.names import csv_text, needs_defusing, spreadsheet_cell
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


@dataclass
class MoodleExport:
    text: str
    left_out: list[str] = field(default_factory=list)  # "<id>: why", for the TA to enter by hand


def export_moodle(reports: list[Report], grade_column: str) -> MoodleExport:
    rows = [[IDENTIFIER, grade_column, FEEDBACK]]
    left_out = []
    ordered = sorted(reports, key=lambda r: r.submission)
    for report, standing in zip(ordered, standings_of(ordered), strict=True):
        if not standing.exportable:
            left_out.append(f"{report.submission}: {standing.note()}")
        elif needs_defusing(report.submission):
            left_out.append(f"{report.submission}: a spreadsheet would run this id as a formula")
        else:
            rows.append([report.submission, format_points(report.score), spreadsheet_cell(feedback_text(report))])
    return MoodleExport(csv_text(rows), left_out)
