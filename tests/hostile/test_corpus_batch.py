"""The whole class, hostile submissions and well-behaved classmates together, in one `grader batch`
per assignment (`-j 2`, the real command in a fresh process whose environment holds a secret).

The batch finishes within its bound; every classmate's report is what it is when graded alone;
every hostile submission has its statuses; no output file shows a secret; no payload left a trace.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from grader.batch.store import load_reports, read_run_record
from grader.batch.worker import GradeTask, grade_task, init_worker, warm_cache
from grader.core.report import Report
from grader.core.rubric import load_rubric, resolve_assignment
from tests.hostile.cases_files import CLAIMS, FORMULA_IDS
from tests.hostile.checks import TERMINAL_CONTROLS, report_problems, trace_problems
from tests.hostile.conftest import BATCH_BOUND, Corpus
from tests.hostile.corpus import ASSIGNMENTS, CLASSMATE_TOKEN, PASSWD_LINE, SECRET_VALUE, Case

COLLISION = "another submission also has the id"


def _comparable(report: Report) -> dict[str, Any]:
    """The stable dump, without where the batch found it and without an id-collision notice."""
    data = report.stable_dump()
    data.pop("source", None)
    data["warnings"] = [w for w in data["warnings"] if COLLISION not in w]
    return data


def _alone(assignment: str, paths: list[Path]) -> dict[str, dict[str, Any]]:
    """Each classmate graded on its own, by the batch worker's own function, in this process."""
    loaded = load_rubric(resolve_assignment(assignment))
    state = init_worker(str(loaded.path), warm_cache(loaded))
    reports = {}
    for path in paths:
        task = GradeTask(default_id=path.name if path.is_dir() else path.stem, path=str(path))
        reports[path.name] = _comparable(Report.model_validate_json(grade_task(state, task)))
    return reports


def _hostile(corpus: Corpus, assignment: str) -> list[Case]:
    return [c for c in corpus.cases if c.assignment == assignment]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_batch_finishes_within_its_bound(assignment: str, batches: dict[str, tuple[Path, float, str]]) -> None:
    out, elapsed, _ = batches[assignment]
    assert elapsed < BATCH_BOUND, f"{assignment}: {elapsed:.1f} s"
    record = read_run_record(out)
    assert record is not None and record.failed == 0, record


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_hostile_submission_gets_its_statuses_in_the_batch(
    assignment: str, corpus: Corpus, batches: dict[str, tuple[Path, float, str]]
) -> None:
    out, _, _ = batches[assignment]
    reports = {r.source.path: r for _, r in load_reports(out) if r.source is not None}
    record = read_run_record(out)
    assert record is not None
    problems = []
    for case in _hostile(corpus, assignment):
        if case.batch_ignored:
            if not any(line.startswith(case.key + ":") for line in record.ignored):
                problems.append(f"{case.name}: not listed as ignored: {record.ignored}")
        elif case.key not in reports:
            problems.append(f"{case.name}: no report")
        else:
            problems += report_problems(case, reports[case.key])
    problems += trace_problems(corpus)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_classmate_gets_the_report_it_gets_alone(
    assignment: str, corpus: Corpus, batches: dict[str, tuple[Path, float, str]]
) -> None:
    out, _, _ = batches[assignment]
    in_batch = {r.source.path: _comparable(r) for _, r in load_reports(out) if r.source is not None}
    alone = _alone(assignment, corpus.good[assignment])
    changed = [key for key, report in alone.items() if in_batch.get(key) != report]
    assert not changed, f"{assignment}: changed by their hostile classmates: {changed}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_output_file_shows_a_secret(
    assignment: str, corpus: Corpus, batches: dict[str, tuple[Path, float, str]]
) -> None:
    out, _, stderr = batches[assignment]
    may_leak = {c.key for c in _hostile(corpus, assignment) if CLASSMATE_TOKEN not in c.forbidden}
    tokens = {SECRET_VALUE: set(), PASSWD_LINE: set(), CLASSMATE_TOKEN: {"zoe.json", "zoe.html"}}
    found = []
    for path in [p for p in out.rglob("*") if p.is_file()]:
        text = path.read_text(errors="replace")
        for token, allowed in tokens.items():
            if token in text and path.name not in allowed and not _from(path, may_leak):
                found.append(f"{path.relative_to(out)} shows {token!r}")
    found += [f"the batch's stderr shows {t!r}" for t in (SECRET_VALUE, PASSWD_LINE) if t in stderr]
    assert not found, found


def _from(path: Path, keys: set[str]) -> bool:
    """A report (or the student page made from it) of a submission whose attack the docs say gets
    through on this machine's layer."""
    if path.parent.name == "students" and path.suffix == ".html":
        path = path.parent.parent / "reports" / f"{path.stem}.json"
    if path.parent.name != "reports" or not keys or not path.is_file():
        return False
    report = Report.model_validate_json(path.read_text())
    return report.source is not None and report.source.path in keys


def test_outputs_are_safe_for_spreadsheets_and_browsers(batches: dict[str, tuple[Path, float, str]]) -> None:
    out, _, _ = batches["csc420-a2"]
    ids = [row[0] for row in csv.reader(io.StringIO((out / "gradebook.csv").read_text()))]
    assert "'=HYPERLINK(\"http://x\")" in ids
    assert not [cell for cell in ids if cell[:1] in ("=", "+", "-", "@")]
    summary = (out / "summary.html").read_text()
    assert "<script>alert" not in summary and "&lt;script&gt;" in summary
    pages = [p.read_text() for p in (out / "students").glob("*.html")]
    assert pages and not [page for page in pages if "<script" in page]
    names = [p.name for p in (out / "reports").iterdir()]
    assert all("/" not in n and not n.startswith(".") for n in names)
    assert not list(out.parent.rglob("escaped-report*"))


def test_no_claim_takes_a_classmates_report(corpus: Corpus, batches: dict[str, tuple[Path, float, str]]) -> None:
    """Claims sorted before and after alice, and in capitals: alice keeps alice.json, every report
    of the id says so, the gradebook keeps alice's row first and flags the claims."""
    out, _, _ = batches["csc420-a2"]
    by_key = {r.source.path: (p.name, r) for p, r in load_reports(out) if r.source is not None}
    real_file, real = by_key["alice"]
    assert real_file == "alice.json" and real.submission == "alice"
    for key in CLAIMS:
        file, claim = by_key[key]
        assert file != "alice.json" and claim.score < real.score, key
        assert any(COLLISION in w for w in claim.warnings), key
    assert any(COLLISION in w for w in real.warnings)
    rows = [r for r in csv.reader(io.StringIO((out / "gradebook.csv").read_text())) if r[0].casefold() == "alice"]
    assert [r[1] for r in rows[:1]] == [f"{real.score:g}"] and rows[0][-1].startswith("duplicate id: also claimed")
    assert len(rows) == 1 + len(CLAIMS) and all("claims the id of alice" in r[-1] for r in rows[1:])


def test_formula_ids_are_defused_or_quoted(batches: dict[str, tuple[Path, float, str]]) -> None:
    out, _, _ = batches["csc420-a2"]
    text = (out / "gradebook.csv").read_text()
    for student in FORMULA_IDS.values():
        shown = "'" + student if student[0] in "=+-@" else student
        assert f'"{shown}"' in text or f"\n{shown}," in text, student
    assert '"x;=HYPERLINK(A1);@SUM(1)"' in text  # one cell for a spreadsheet that splits on `;`


def test_no_control_character_reaches_the_terminal(batches: dict[str, tuple[Path, float, str]]) -> None:
    """The progress lines and the closing lines (`ignored:`, `failed:`) show escapes as text."""
    for assignment, (_, _, stderr) in batches.items():
        assert not [c for c in TERMINAL_CONTROLS if c in stderr], assignment
    _, _, stderr = batches["csc420-a2"]
    assert "esc\\x1b[31mred" in stderr
