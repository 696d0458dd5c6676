"""Checkers of the file formats the grader claims to write, written from the formats' own
descriptions (not from the grader's models), so that a test fails when a file drifts."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
NUMBER = re.compile(r"^\d+(\.\d+)?$")
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                  "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
                   "tags", "visibility", "extra_data"}


def rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def check_canvas(path: Path, roster: Path, column: str) -> dict[str, str]:
    """Canvas's gradebook import: the identity columns, one assignment column, the Points Possible
    row second, every roster student once; returns SIS Login ID -> score."""
    got, expected = rows(path), rows(roster)
    assert got[0] == [c for c in expected[0] if c in CANVAS_IDENTITY] + [column]
    assert got[1][0] == "    Points Possible" and NUMBER.match(got[1][-1])
    assert all(cell == "" for cell in got[1][1:-1])
    width = len(got[0])
    assert all(len(row) == width for row in got)
    login = got[0].index("SIS Login ID")
    assert sorted(r[login] for r in got[2:]) == sorted(r[expected[0].index("SIS Login ID")] for r in expected[2:])
    assert all(r[-1] == "" or NUMBER.match(r[-1]) for r in got[2:])
    return {r[login]: r[-1] for r in got[2:]}


def check_moodle(path: Path, column: str) -> dict[str, str]:
    """Moodle's CSV grade import: identifier, grade, feedback; returns identifier -> grade."""
    got = rows(path)
    assert got[0] == ["Identifier", column, "Feedback"]
    assert all(len(r) == 3 and NUMBER.match(r[1]) and r[0] and r[2] for r in got[1:])
    return {r[0]: r[1] for r in got[1:]}


def check_gradescope(data: dict[str, Any]) -> None:
    """Gradescope's autograder results.json specification."""
    assert set(data) <= GRADESCOPE_TOP, set(data) - GRADESCOPE_TOP
    assert "score" in data or all("score" in t for t in data["tests"])
    assert isinstance(data.get("score", 0), int | float)
    assert data.get("visibility", "visible") in VISIBILITY
    assert data.get("stdout_visibility", "hidden") in VISIBILITY
    if "execution_time" in data:
        assert isinstance(data["execution_time"], int | float) and data["execution_time"] >= 0
    assert isinstance(data.get("output", ""), str)
    for test in data["tests"]:
        assert set(test) <= GRADESCOPE_TEST, set(test) - GRADESCOPE_TEST
        assert isinstance(test.get("score", 0), int | float) and isinstance(test.get("max_score", 0), int | float)
        assert test.get("status", "passed") in ("passed", "failed")
        assert test.get("visibility", "visible") in VISIBILITY
        assert isinstance(test["name"], str) and isinstance(test.get("number", ""), str)
        assert isinstance(test.get("output", ""), str) and isinstance(test.get("tags", []), list)


def check_gradescope_file(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    check_gradescope(data)
    return dict(data)


def check_gradebook(path: Path, question_ids: list[str]) -> dict[str, str]:
    got = rows(path)
    assert got[0] == ["id", "total", "max", *question_ids, "notes"]
    assert all(len(r) == len(got[0]) and all(NUMBER.match(c) for c in r[1:3]) for r in got[1:])
    # a question a person has yet to grade is an empty cell, every other one a number
    assert all(c == "" or NUMBER.match(c) for r in got[1:] for c in r[3:-1])
    return {r[0]: r[1] for r in got[1:]}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and re.match(r"^(https?:)?//", value):
                self.external.append(value)
            if tag == "a" and name == "href" and value:
                self.links.append(value)


def check_summary_page(path: Path) -> _Page:
    """One self-contained page: no script, no stylesheet link, no external asset."""
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    assert page.tags[0] == "html" and "svg" in page.tags and "table" in page.tags
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert page.external == []
    return page


def check_student_page(path: Path) -> _Page:
    """A student's page: self-contained like the summary, with a way back to it."""
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    assert page.tags[0] == "html" and "section" in page.tags
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert page.external == [] and "../summary.html" in page.links
    return page
