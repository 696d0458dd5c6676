"""Canvas: fill one assignment column of the gradebook CSV that Canvas exports, for re-import.

The roster is Canvas's own export: a header row whose first columns identify the student
(`Student`, `ID`, `SIS User ID`, `SIS Login ID`, `Section`, and in some instances `Integration ID`
or `Root Account`), then assignment columns such as `Assignment 2 (12345)`, a
`    Points Possible` row, then one row per student. The file written keeps the identity columns,
the Points Possible row and every student row, with one assignment column.

Reports are matched to roster rows by SIS Login ID, then Canvas ID, then name. A report that came
from Canvas's own bulk download carries the Canvas user id, and that match is taken first: the LMS
knows who submitted, whatever `student_id` the answers file claims. Otherwise a report whose id
is shared without being its own (`grader.identity`) is never matched: it is listed, and the row
keeps the rightful owner's score.

Cells are defused for spreadsheets (`grader.names`), except the identity cells Canvas matches on
(ID, SIS User ID, SIS Login ID, Integration ID): a roster row whose identity cell a spreadsheet
would run as a formula is left out of the file and listed, never written changed.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.gradebook import format_points
from grader.identity import standings_of
from grader.names import csv_text, needs_defusing, spreadsheet_cell
from grader.report import Report

IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Root Account", "Section")
MATCHED_COLUMNS = ("ID", "SIS User ID", "SIS Login ID", "Integration ID")  # Canvas finds the student by these
POINTS_POSSIBLE = "Points Possible"
_ASSIGNMENT_ID = re.compile(r"\s*\(\d+\)\s*$")


class RosterError(Exception):
    """The roster is not a Canvas gradebook export; the message says why."""


@dataclass
class Roster:
    header: list[str]
    meta_rows: list[list[str]]  # Points Possible (and other rows that are not students)
    students: list[list[str]]

    def identity(self) -> list[str]:
        return [c for c in self.header if c in IDENTITY_COLUMNS]

    def cell(self, row: list[str], column: str) -> str:
        index = self.header.index(column) if column in self.header else -1
        return row[index].strip() if 0 <= index < len(row) else ""


@dataclass
class CanvasExport:
    text: str
    column: str
    matched: dict[str, str] = field(default_factory=dict)  # report id -> how it matched
    unmatched: list[str] = field(default_factory=list)
    without_submission: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # roster rows not written, and why


def read_roster(path: Path) -> Roster:
    text = path.read_text(encoding="utf-8-sig")
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows or "Student" not in rows[0] or "ID" not in rows[0]:
        raise RosterError(f"{path}: not a Canvas gradebook export (the first row should start Student, ID, ...)")
    header = rows[0]
    meta: list[list[str]] = []
    students: list[list[str]] = []
    student_at = header.index("Student")
    for row in rows[1:]:
        name = row[student_at] if student_at < len(row) else ""
        is_meta = name.startswith(" ") or name.strip() in (POINTS_POSSIBLE, "Muted", "Manual Posting")
        (meta if is_meta else students).append(row)
    return Roster(header, meta, students)


def choose_column(roster: Roster, wanted: str | None, assignment: str) -> str:
    """The named column (`Assignment 2` finds `Assignment 2 (12345)`), or one named after the
    assignment; a new column when none exists (Canvas then creates the assignment on import)."""
    columns = [c for c in roster.header if c not in IDENTITY_COLUMNS]
    if wanted is not None:
        if wanted in columns:
            return wanted
        same = [c for c in columns if _ASSIGNMENT_ID.sub("", c).casefold() == wanted.strip().casefold()]
        return same[0] if len(same) == 1 else wanted
    same = [c for c in columns if assignment.casefold() in c.casefold()]
    return same[0] if len(same) == 1 else assignment


def export_canvas(reports: list[Report], roster: Roster, column: str, max_score: float) -> CanvasExport:
    export = CanvasExport(text="", column=column)
    claims: dict[int, list[tuple[Report, str]]] = {}
    matchers = _matchers(roster)
    ordered = sorted(reports, key=lambda r: r.submission)
    for report, standing in zip(ordered, standings_of(ordered), strict=True):
        by_lms = report.source is not None and bool(report.source.lms_user_id)
        if not standing.exportable and not by_lms:  # the LMS's own user id outranks any claim
            export.unmatched.append(f"{report.submission}: {standing.note()}")
            continue
        found = _match(report, matchers)
        if found is None:
            export.unmatched.append(f"{report.submission}: no roster row has its SIS Login ID, ID or name")
            continue
        claims.setdefault(found[0], []).append((report, found[1]))
    assigned = {row: rivals[0] for row, rivals in claims.items() if len(rivals) == 1}
    for row, rivals in sorted(claims.items()):
        if len(rivals) > 1:
            claimed = ", ".join(sorted(r.submission for r, _ in rivals))
            export.unmatched.append(f"{claimed}: all match {roster.students[row][0]!r}; none was written")
    export.matched = {report.submission: how for report, how in assigned.values()}
    export.without_submission = [s[0] for i, s in enumerate(roster.students) if i not in assigned]
    export.text, export.left_out = _write(
        roster, column, max_score, {row: report.score for row, (report, _) in assigned.items()})
    return export


def _write(roster: Roster, column: str, max_score: float, scores: dict[int, float]) -> tuple[str, list[str]]:
    """The file's text, and the roster rows left out because Canvas could not match them unchanged."""
    identity = roster.identity()
    rows = [[*identity, column]]
    for row in roster.meta_rows:
        points = roster.cell(row, column) if column in roster.header else ""
        name = row[roster.header.index("Student")]
        is_points = name.strip() == POINTS_POSSIBLE
        value = (points or format_points(max_score)) if is_points else points
        rows.append([*(_cell(c, roster.cell(row, c)) if c != "Student" else name for c in identity), _grade(value)])
    left_out = []
    for index, row in enumerate(roster.students):
        risky = [c for c in identity if c in MATCHED_COLUMNS and needs_defusing(roster.cell(row, c))]
        if risky:
            left_out.append(f"{roster.cell(row, 'Student')}: its {', '.join(risky)} would run as a spreadsheet "
                            "formula; enter this grade by hand")
            continue
        value = format_points(scores[index]) if index in scores else _grade(roster.cell(row, column))
        rows.append([*(_cell(c, roster.cell(row, c)) for c in identity), value])
    return csv_text(rows), left_out


def _cell(column: str, value: str) -> str:
    return value if column in MATCHED_COLUMNS else spreadsheet_cell(value)


def _grade(value: str) -> str:
    """A grade Canvas already had: a number stays as it is, text is defused."""
    try:
        float(value)
    except ValueError:
        return spreadsheet_cell(value)
    return value


# --- matching -------------------------------------------------------------------------------------

Matcher = tuple[str, Callable[[Report], list[str]], dict[str, list[int]]]


def _name_keys(name: str) -> list[str]:
    """`Smith, John`, `John Smith` and Canvas's file prefix `smithjohn` meet in these keys."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    if "," in plain:
        last, _, first = plain.partition(",")
        orders = [last + first, first + last]
    else:
        words = plain.split()
        orders = ["".join(words), "".join(words[-1:] + words[:-1])]
    return sorted({re.sub(r"[^a-z0-9]", "", o) for o in orders} - {""})


def _index(roster: Roster, column: str, keys: Callable[[str], list[str]]) -> dict[str, list[int]]:
    table: dict[str, list[int]] = {}
    if column not in roster.header:
        return table
    for i, row in enumerate(roster.students):
        for key in keys(roster.cell(row, column)):
            if i not in table.setdefault(key, []):
                table[key].append(i)
    return table


def _plain_keys(value: str) -> list[str]:
    return [value.strip().casefold()] if value.strip() else []


def _login_candidates(report: Report) -> list[str]:
    source = report.source
    values = [report.submission, report.student or ""]
    if source is not None:
        values += [source.email or "", (source.email or "").split("@")[0], source.sid or ""]
    return [k for v in values for k in _plain_keys(v)]


def _id_candidates(report: Report) -> list[str]:
    lms = report.source.lms_user_id if report.source is not None else None
    return _plain_keys(lms) if lms else _plain_keys(report.submission)


def _name_candidates(report: Report) -> list[str]:
    names = [report.submission] if report.source is None or not report.source.name else [report.source.name]
    return [k for n in names for k in _name_keys(n)]


def _matchers(roster: Roster) -> list[Matcher]:
    return [
        ("SIS Login ID", _login_candidates, _index(roster, "SIS Login ID", _plain_keys)),
        ("ID", _id_candidates, _index(roster, "ID", _plain_keys)),
        ("name", _name_candidates, _index(roster, "Student", _name_keys)),
    ]


def _match(report: Report, matchers: list[Matcher]) -> tuple[int, str] | None:
    ordered = matchers
    if report.source is not None and report.source.lms_user_id:
        ordered = [m for m in matchers if m[0] == "ID"] + [m for m in matchers if m[0] != "ID"]
    for how, candidates, table in ordered:
        rows = {row for key in candidates(report) for row in table.get(key, [])}
        if len(rows) == 1:
            return rows.pop(), how
    return None
