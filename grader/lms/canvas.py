"""Canvas: fill one assignment column of the gradebook CSV that Canvas exports, for re-import.

The roster is Canvas's own export, in each variant Canvas writes: separated by `,` or by `;` (a
user setting, the default in comma-decimal locales), a header row whose first columns identify the
student (`Student`, or `LastName` and `FirstName`; `ID`, `SIS User ID`, `SIS Login ID`, `Section`,
and in some instances `Integration ID` or `Root Account`), then assignment columns such as
`Assignment 2 (12345)`, a `    Points Possible` row, a `Manual Posting` row (no student id) when
an assignment's grades are posted by hand, then one row per student, the Test Student among them.
The file written keeps the identity columns, the rows that are not students, every student row,
one assignment column, the delimiter and the UTF-8 byte-order mark (Excel on Windows reads
non-ASCII names right only with it).

Reports are matched to roster rows by SIS Login ID, then Canvas ID, then name. A report that came
from Canvas's own bulk download carries the Canvas user id, and that match is taken first: the LMS
knows who submitted, whatever `student_id` the answers file claims. Otherwise a submission that
shares an id without owning it (`grader.batch.identity`) is never written. Cells Canvas matches students
by are written unchanged (a row whose id would run as a spreadsheet formula is left out and
listed, for the TA to enter by hand); every other text cell is defused (`grader.core.names`).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.identity import standings_of
from grader.core.names import csv_text, needs_defusing, spreadsheet_cell
from grader.core.report import Report
from grader.lms.gradebook import format_points

IDENTITY_COLUMNS = ("Student", "LastName", "FirstName", "ID", "SIS User ID", "SIS Login ID", "Integration ID",
                    "Root Account", "Section")
NAME_COLUMNS = ("Student", "LastName", "FirstName")
MATCHED_COLUMNS = ("ID", "SIS User ID", "SIS Login ID", "Integration ID")  # Canvas finds the student by these
POINTS_POSSIBLE = "Points Possible"
TEST_STUDENT_NAMES = ("student, test", "test student")
BOM = "\ufeff"
_ASSIGNMENT_ID = re.compile(r"\s*\(\d+\)\s*$")
_DELIMITERS = ",;\t"


class RosterError(Exception):
    """The roster is not a Canvas gradebook export, or the column cannot be chosen; the message says why."""


@dataclass
class Roster:
    header: list[str]
    meta_rows: list[list[str]]  # Points Possible, Manual Posting (rows that are not students)
    students: list[list[str]]
    delimiter: str = ","

    def identity(self) -> list[str]:
        return [c for c in self.header if c in IDENTITY_COLUMNS]

    def cell(self, row: list[str], column: str) -> str:
        index = self.header.index(column) if column in self.header else -1
        return row[index].strip() if 0 <= index < len(row) else ""

    def name(self, row: list[str]) -> str:
        """`Student` (`Last, First`), or `LastName, FirstName` in exports that split them."""
        if "Student" in self.header:
            return self.cell(row, "Student")
        return ", ".join(p for p in (self.cell(row, "LastName"), self.cell(row, "FirstName")) if p)

    def is_test_student(self, row: list[str]) -> bool:
        return self.name(row).casefold() in TEST_STUDENT_NAMES and not self.cell(row, "SIS Login ID")

    def points_possible(self, column: str) -> str:
        row = next((r for r in self.meta_rows if r and r[0].strip() == POINTS_POSSIBLE), None)
        return self.cell(row, column) if row is not None else ""


@dataclass
class CanvasExport:
    text: str
    column: str
    matched: dict[str, str] = field(default_factory=dict)  # report id -> how it matched
    unmatched: list[str] = field(default_factory=list)
    without_submission: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # roster rows Canvas could not match unchanged


def _delimiter(first_line: str) -> str:
    """Canvas writes `,`, or `;` for users whose locale writes decimal commas (a user setting)."""
    try:
        return csv.Sniffer().sniff(first_line, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _is_meta(row: list[str], header: list[str]) -> bool:
    """Points Possible (first cell), and Manual Posting / Muted rows, which have no student id."""
    if row and row[0].strip() == POINTS_POSSIBLE:
        return True
    at = header.index("ID")
    return not (row[at].strip() if at < len(row) else "")


def read_roster(path: Path) -> Roster:
    text = path.read_text(encoding="utf-8-sig")
    delimiter = _delimiter(text.split("\n", 1)[0])
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(cell.strip() for cell in row)]
    header = [c.strip() for c in rows[0]] if rows else []
    if "ID" not in header or not ({"Student"} <= set(header) or {"LastName", "FirstName"} <= set(header)):
        raise RosterError(f"{path}: not a Canvas gradebook export (its first row should name the columns "
                          "Student (or LastName and FirstName) and ID; the file is read as separated by "
                          f"{delimiter!r})")
    meta: list[list[str]] = []
    students: list[list[str]] = []
    for row in rows[1:]:
        (meta if _is_meta(row, header) else students).append(row)
    return Roster(header, meta, students, delimiter)


def assignment_columns(roster: Roster) -> list[str]:
    """The columns Canvas can import into: assignments carry their Canvas id, `Name (12345)`."""
    return [c for c in roster.header if c not in IDENTITY_COLUMNS and _ASSIGNMENT_ID.search(c)]


def _candidates(columns: list[str]) -> str:
    return "; ".join(repr(c) for c in columns) if columns else "(none)"


def choose_column(roster: Roster, wanted: str | None, assignment: str) -> str:
    """The named column (`Assignment 2` finds `Assignment 2 (12345)`); without a name, the one
    named after the assignment, or the only one. Refused, with the candidates, when the name
    matches none or several: Canvas would create a new assignment from an unknown name."""
    columns = assignment_columns(roster)
    if wanted is not None:
        if wanted in columns:
            return wanted
        same = [c for c in columns if _ASSIGNMENT_ID.sub("", c).casefold() == wanted.strip().casefold()]
        if len(same) == 1:
            return same[0]
        what = "several columns" if same else "no column"
        raise RosterError(f"--column {wanted!r} matches {what} of the roster; its assignment columns: "
                          f"{_candidates(same or columns)} (use --new-column to create one)")
    same = [c for c in columns if assignment.casefold() in c.casefold()]
    if len(same) == 1:
        return same[0]
    if len(columns) == 1 and not same:
        return columns[0]
    raise RosterError(f"give --column: the roster has {'several' if len(same or columns) > 1 else 'no'} "
                      f"assignment columns for {assignment!r}: {_candidates(same or columns)}")


def points_factor(roster: Roster, column: str, max_score: float, *, scale: bool) -> float:
    """1, or with `scale` the ratio of the column's points possible to the rubric's; refused when
    they differ without `scale` (90 written into a 10-point column is 900 %)."""
    text = roster.points_possible(column)
    try:
        possible = float(text.replace(",", ".")) if text else None
    except ValueError:
        possible = None
    if possible is None or abs(possible - max_score) < 1e-9:
        return 1.0
    if not scale:
        raise RosterError(f"the column {column!r} is worth {text} points in Canvas, the rubric "
                          f"{format_points(max_score)}: give --scale to scale the scores, or change the points "
                          "possible in Canvas")
    if max_score <= 0:
        raise RosterError("the rubric is worth 0 points: nothing to scale")
    return possible / max_score


def export_canvas(reports: list[Report], roster: Roster, column: str, max_score: float,
                  factor: float = 1.0) -> CanvasExport:
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
            export.unmatched.append(f"{claimed}: all match {roster.name(roster.students[row])!r}; none was written")
    export.matched = {report.submission: how for report, how in assigned.values()}
    export.without_submission = [roster.name(s) for i, s in enumerate(roster.students)
                                 if i not in assigned and not roster.is_test_student(s)]
    scores = {row: report.score * factor for row, (report, _) in assigned.items()}
    text, export.left_out = _write(roster, column, max_score * factor, scores)
    export.text = BOM + text
    return export


def _write(roster: Roster, column: str, max_score: float, scores: dict[int, float]) -> tuple[str, list[str]]:
    """The file's text (in the roster's delimiter), and the roster rows left out because Canvas
    could not match them unchanged."""
    identity = roster.identity()
    rows = [[*identity, column]]
    for row in roster.meta_rows:
        points = roster.cell(row, column) if column in roster.header else ""
        is_points = bool(row) and row[0].strip() == POINTS_POSSIBLE
        value = (points or format_points(max_score)) if is_points else points
        first = row[0] if is_points else ""
        rows.append([first, *(_cell(c, roster.cell(row, c)) for c in identity[1:]), _grade(value)])
    left_out = []
    for index, row in enumerate(roster.students):
        risky = [c for c in identity if c in MATCHED_COLUMNS and needs_defusing(roster.cell(row, c))]
        if risky:
            left_out.append(f"{roster.name(row)}: its {', '.join(risky)} would run as a spreadsheet "
                            "formula; enter this grade by hand")
            continue
        value = format_points(scores[index]) if index in scores else _grade(roster.cell(row, column))
        rows.append([*(_cell(c, roster.cell(row, c)) for c in identity), value])
    return csv_text(rows, delimiter=roster.delimiter), left_out


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


def _roster_names(roster: Roster) -> dict[str, list[int]]:
    table: dict[str, list[int]] = {}
    for i, row in enumerate(roster.students):
        for key in _name_keys(roster.name(row)):
            if i not in table.setdefault(key, []):
                table[key].append(i)
    return table


def _name_candidates(report: Report) -> list[str]:
    names = [report.submission] if report.source is None or not report.source.name else [report.source.name]
    return [k for n in names for k in _name_keys(n)]


def _matchers(roster: Roster) -> list[Matcher]:
    return [
        ("SIS Login ID", _login_candidates, _index(roster, "SIS Login ID", _plain_keys)),
        ("ID", _id_candidates, _index(roster, "ID", _plain_keys)),
        ("name", _name_candidates, _roster_names(roster)),
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
