"""Everything a batch writes from its reports: overrides applied to the reports, the gradebook,
`summary.json` and `summary.html`. Run after grading and before every export, so that the files
always agree with the reports and the TA's current overrides file."""

from __future__ import annotations

from pathlib import Path

from grader.batch.overrides import Decisions, apply_overrides, load_overrides
from grader.batch.store import DEFAULT_OVERRIDES, atomic_write_text, load_reports
from grader.batch.student_page import render_student_page
from grader.batch.summary import STUDENTS_DIR, build_summary, render_html, student_page_name
from grader.core.report import Report
from grader.core.rubric import LoadedRubric
from grader.lms.gradebook import gradebook_csv

GRADEBOOK = "gradebook.csv"
SUMMARY_JSON = "summary.json"
SUMMARY_HTML = "summary.html"


def overrides_path(outdir: Path, given: Path | None) -> Path | None:
    path = given if given is not None else outdir / DEFAULT_OVERRIDES
    return path if path.is_file() else None


def current_reports(
    outdir: Path, loaded: LoadedRubric, overrides: Path | None, *, write: bool = True,
) -> tuple[list[tuple[Path, Report]], list[str]]:
    """The reports of this assignment with the overrides applied (and, with `write`, rewritten
    where they changed), plus the problems found in the overrides."""
    entries = load_reports(outdir)
    problems = [f"{path.name}: graded for {report.assignment!r}, not {loaded.rubric.assignment!r}; left out"
                for path, report in entries if report.assignment != loaded.rubric.assignment]
    entries = [(p, r) for p, r in entries if r.assignment == loaded.rubric.assignment]
    path = overrides_path(outdir, overrides)
    decisions = load_overrides(path) if path is not None else Decisions([], "")
    updated, override_problems = apply_overrides([r for _, r in entries], decisions, loaded.rubric)
    result = []
    for (file, old), new in zip(entries, updated, strict=True):
        if write and new != old:
            atomic_write_text(file, new.model_dump_json(indent=2) + "\n")
        result.append((file, new))
    return result, problems + override_problems


def refresh_outputs(outdir: Path, loaded: LoadedRubric, overrides: Path | None = None) -> list[str]:
    entries, problems = current_reports(outdir, loaded, overrides)
    reports = [r for _, r in entries]
    atomic_write_text(outdir / GRADEBOOK, gradebook_csv(reports, loaded.rubric))
    summary = build_summary(entries, loaded.rubric, outdir=outdir, rubric_sha256=loaded.sha256)
    atomic_write_text(outdir / SUMMARY_JSON, summary.model_dump_json(indent=2) + "\n")
    atomic_write_text(outdir / SUMMARY_HTML, render_html(summary))
    _write_student_pages(outdir, entries, loaded)
    return problems


def _write_student_pages(outdir: Path, entries: list[tuple[Path, Report]], loaded: LoadedRubric) -> None:
    """One page per report; pages of reports no longer there are removed."""
    written = set()
    for path, report in entries:
        name = student_page_name(path)
        atomic_write_text(outdir / name, render_student_page(report, loaded.rubric))
        written.add(name)
    folder = outdir / STUDENTS_DIR
    for stale in folder.glob("*.html") if folder.is_dir() else []:
        if f"{STUDENTS_DIR}/{stale.name}" not in written:
            stale.unlink(missing_ok=True)
