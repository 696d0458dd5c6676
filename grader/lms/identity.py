"""Who a report belongs to, as each LMS matches it: the identity side of every export.

Whose report is whose (an owner and claimants of one id) is `grader.batch.identity`'s; this module adds
what each LMS matches on, with small named functions, so that every export asks the same
questions: which identifiers are claimed twice, what an LMS user is called for a report, and
whether an identifier can be written as it is (an id that a spreadsheet would run as a formula is
refused where it must match, never defused into a value that matches nobody).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Literal

from grader.batch.identity import identity_key
from grader.core.names import needs_defusing
from grader.core.report import Report

MatchOn = Literal["username", "idnumber", "email"]
MATCH_ON: tuple[MatchOn, ...] = ("username", "idnumber", "email")


class IdentityError(Exception):
    """An identity mapping file that cannot be used; the message names the file and line."""


def where_found(report: Report) -> str:
    """The submission as the TA can find it: its id and, for a batch, the file or LMS entry."""
    if report.source is not None and report.source.path:
        return f"{report.submission} ({report.source.path})"
    return report.submission


def duplicate_ids(reports: list[Report], key: dict[int, str] | None = None) -> dict[str, list[Report]]:
    """Identifier -> the reports that claim it, for identifiers claimed more than once.
    `key` gives each report's identifier by position (default: its submission id)."""
    claims: dict[str, list[Report]] = {}
    for index, report in enumerate(reports):
        value = key.get(index, "") if key is not None else report.submission
        if value:
            claims.setdefault(identity_key(value), []).append(report)
    return {k: v for k, v in claims.items() if len(v) > 1}


def is_canvas_download_id(report: Report) -> bool:
    """`obrienbob_1002`: the id a Canvas bulk download gives, which no other LMS knows."""
    source = report.source
    return (source is not None and source.layout == "canvas" and bool(source.lms_user_id)
            and report.submission.endswith(f"_{source.lms_user_id}"))


def unsafe_identifier(value: str) -> bool:
    """An identifier a spreadsheet would run as a formula: it cannot be written as it is, and a
    defused copy (`'=cmd`) would match no user."""
    return needs_defusing(value) or any(c in value for c in "\r\n")


def load_id_map(path: Path) -> dict[str, str]:
    """A CSV `submission,identifier` (header optional): submission id (or Canvas user id, SID,
    email) -> what the LMS matches on."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise IdentityError(f"{path}: cannot be read ({err})") from None
    mapping: dict[str, str] = {}
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or (line == 1 and [c.casefold() for c in cells[:2]] == ["submission", "identifier"]):
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise IdentityError(f"{path}, line {line}: expected `submission,identifier`, got {row!r}")
        key = identity_key(cells[0])
        if key in mapping and mapping[key] != cells[1]:
            raise IdentityError(f"{path}, line {line}: {cells[0]!r} is mapped twice")
        mapping[key] = cells[1]
    return mapping


def _mapped(report: Report, mapping: dict[str, str]) -> str | None:
    source = report.source
    keys = [report.submission]
    if source is not None:
        keys += [source.lms_user_id or "", source.sid or "", source.email or ""]
    return next((mapping[identity_key(k)] for k in keys if k and identity_key(k) in mapping), None)


def lms_identifier(report: Report, mapping: dict[str, str], match_on: MatchOn) -> str | None:
    """What the LMS knows this student as, or None when the grader cannot tell (the caller refuses).
    The mapping wins; else the email (`email`), the SID (`idnumber`) or the submission id, never a
    Canvas download id."""
    found = _mapped(report, mapping)
    if found is not None:
        return found
    source = report.source
    if match_on == "email":
        email = source.email if source is not None else None
        return email or (report.submission if "@" in report.submission else None)
    if match_on == "idnumber" and source is not None and source.sid:
        return source.sid
    return None if is_canvas_download_id(report) else report.submission


def load_known_users(path: Path) -> set[str]:
    """Every cell of a file listing the LMS's users (Moodle's participants download, or one
    identifier a line), compared as identifiers are."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise IdentityError(f"{path}: cannot be read ({err})") from None
    return {identity_key(cell) for row in csv.reader(io.StringIO(text)) for cell in row if cell.strip()}


def unknown_identifiers(identifiers: list[str], known: set[str]) -> list[str]:
    """The identifiers the LMS does not know: one is enough for Moodle to abort the import."""
    return [i for i in identifiers if identity_key(i) not in known]
