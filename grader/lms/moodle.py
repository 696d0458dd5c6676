"""Moodle: a CSV for Grades > Import > CSV file: an identifier column, the grade, and feedback.

In Moodle's import form, map `Identifier` to the user field the identifiers are (`--match-on`:
username, ID number or email address), the grade column to the grade item, and `Feedback` to that
item's feedback. Moodle aborts the whole import on one identifier it does not know, and applies
every row (the last of two rows for one user wins): so each student is one row, and a submission
whose identifier Moodle would misapply or refuse (claimed twice, unknown, a Canvas download id,
a formula) is left out of the file and listed, naming every submission involved, for the TA to map
(`--id-map`) or enter by hand. The identifiers written are listed for a pre-flight check.

Whose report is whose is decided first (`grader.batch.identity`): a submission that shares an id without
owning it never gets a row. An identifier is never defused (it must match a Moodle user field as it
is); the feedback cell, text the TA's spreadsheet may open, is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.batch.identity import standings_of
from grader.core.names import csv_text, spreadsheet_cell
from grader.core.report import QuestionResult, Report, Status
from grader.lms.gradebook import format_points
from grader.lms.identity import (
    MatchOn,
    duplicate_ids,
    is_canvas_download_id,
    lms_identifier,
    unknown_identifiers,
    unsafe_identifier,
    where_found,
)

IDENTIFIER = "Identifier"
FEEDBACK = "Feedback"
MAX_FEEDBACK = 4_000
MAX_QUESTION_FEEDBACK = 400


@dataclass
class MoodleExport:
    text: str = ""
    identifiers: list[str] = field(default_factory=list)  # the pre-flight list, one per row
    left_out: list[str] = field(default_factory=list)  # "<submission>: why", not written


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _question_line(q: QuestionResult) -> str:
    line = f"{q.id}: {format_points(q.score)}/{format_points(q.max_score)} {q.status.value}"
    if q.override is not None and q.override.comment:
        return line + f" ({_shorten(q.override.comment, MAX_QUESTION_FEEDBACK)})"
    if q.status is Status.MANUAL:
        return line + " (graded by a person, not graded yet)"
    if q.feedback and not q.hidden:
        return line + f": {_shorten(q.feedback, MAX_QUESTION_FEEDBACK)}"
    return line


def feedback_text(report: Report) -> str:
    """One line per question: score, status, and the grader's explanation or the TA's comment."""
    parts = [f"{format_points(report.score)} / {format_points(report.max_score)} points."]
    parts += [_question_line(q) for q in report.questions]
    text = "\n".join(parts)
    return text if len(text) <= MAX_FEEDBACK else text[: MAX_FEEDBACK - 1] + "…"


def _identifier_problem(report: Report, identifier: str | None, match_on: MatchOn) -> str | None:
    if identifier is None and is_canvas_download_id(report):
        return (f"{where_found(report)}: a Canvas download id is not a Moodle {match_on}; "
                "map it with --id-map")
    if identifier is None:
        return f"{where_found(report)}: no {match_on} is known for it; map it with --id-map"
    if unsafe_identifier(identifier):
        return (f"{where_found(report)}: the identifier {identifier!r} starts like a spreadsheet formula and "
                "would match no Moodle user once defused; map it with --id-map")
    return None


def export_moodle(reports: list[Report], grade_column: str, mapping: dict[str, str] | None = None,
                  match_on: MatchOn = "username", known: set[str] | None = None) -> MoodleExport:
    """`known`: the course's users (`load_known_users`); an identifier outside it is left out."""
    ordered = sorted(reports, key=lambda r: r.submission)
    identifiers = {i: lms_identifier(r, mapping or {}, match_on) for i, r in enumerate(ordered)}
    export = MoodleExport()
    refused: set[int] = set()
    for index, (report, standing) in enumerate(zip(ordered, standings_of(ordered), strict=True)):
        problem = None if standing.exportable else f"{where_found(report)}: {standing.note()}"
        if problem is None:
            problem = _identifier_problem(report, identifiers[index], match_on)
        if problem is None and known is not None:
            problem = _unknown_problem(report, identifiers[index], match_on, known)
        if problem is not None:
            export.left_out.append(problem)
            refused.add(index)
    usable = {i: v or "" for i, v in identifiers.items() if i not in refused}
    for identifier, claimants in sorted(duplicate_ids(ordered, usable).items()):
        named = " and ".join(where_found(r) for r in claimants)
        export.left_out.append(f"{named} both claim the identifier {identifier!r}: neither is written (Moodle "
                               "would keep only the last row); fix the student_id or map them with --id-map")
        refused |= {i for i, r in enumerate(ordered) if any(r is c for c in claimants)}
    rows = [[IDENTIFIER, grade_column, FEEDBACK]]
    for index, report in enumerate(ordered):
        user = identifiers[index]
        if index in refused or user is None:
            continue
        export.identifiers.append(user)
        rows.append([user, format_points(report.score), spreadsheet_cell(feedback_text(report))])
    export.text = csv_text(rows)
    return export


def _unknown_problem(report: Report, identifier: str | None, match_on: MatchOn, known: set[str]) -> str | None:
    if identifier is None or unknown_identifiers([identifier], known) == []:
        return None
    return (f"{where_found(report)}: {identifier!r} is not a {match_on} of the course (--known-users); "
            "Moodle would abort the whole import")
