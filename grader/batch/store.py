"""A batch's output folder: atomic writes, the reports already there, and the run record.

OUTDIR/
  batch.json            the run record: root, assignment, rubric copy and digest, counts, timing
  rubric.<ext>          a copy of the rubric the reports were graded with
  reports/<id>.json     one report per submission, written atomically
  gradebook.csv, summary.json, summary.html, canvas.csv, moodle.csv, overrides.yaml (the TA's)
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from grader import __version__
from grader.batch.identity import (
    DUPLICATE,
    Standing,
    duplicate_warning,
    identity_key,
    is_own,
    report_stem,
    standings_of,
)
from grader.core.report import Report

REPORTS_DIR = "reports"
RUN_RECORD = "batch.json"
DEFAULT_OVERRIDES = "overrides.yaml"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+-]+")
_PROVISIONAL = Standing(owner=False, contested=False, others=())  # a suffixed name, before `settle`


def atomic_write_text(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and rename it: a reader (or a batch
    killed half-way) sees the old file or the new one, never a torn one. No fsync: a killed
    process loses nothing the kernel holds, and after a machine crash a torn report fails to
    parse and is graded again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def safe_name(report_id: str) -> str:
    """A report id as a file name: no separators, no leading dot, bounded length."""
    name = _UNSAFE.sub("_", report_id).lstrip(".")[:100]
    return name or "submission"


class RunRecord(BaseModel):
    """What `batch.json` records, for resuming and for the commands that read OUTDIR later."""

    root: str
    assignment: str = Field(description="as given on the command line")
    rubric_file: str = Field(description="the rubric copy in OUTDIR")
    rubric_sha256: str
    grader_version: str = __version__
    jobs: int = 1
    started_at: str = ""
    finished_at: str | None = None
    wall_seconds: float | None = None
    submissions: int = 0
    graded: int = 0
    skipped: int = 0
    failed: int = 0
    ignored: list[str] = Field(default_factory=list)


def read_run_record(outdir: Path) -> RunRecord | None:
    path = outdir / RUN_RECORD
    if not path.is_file():
        return None
    try:
        return RunRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError:
        return None


def read_report(path: Path) -> Report | None:
    """A report file, or None when it is torn or not a report (it is then graded again)."""
    try:
        return Report.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, OSError, UnicodeDecodeError):
        return None


def load_reports(outdir: Path) -> list[tuple[Path, Report]]:
    """Every readable report in OUTDIR/reports, sorted by file name."""
    folder = outdir / REPORTS_DIR
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        report = read_report(path)
        if report is not None:
            found.append((path, report))
    return found


@dataclass
class ReportIndex:
    """Which report file belongs to which submission key, so that a rerun finds them again."""

    folder: Path
    by_key: dict[str, tuple[Path, Report]] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, outdir: Path) -> ReportIndex:
        index = cls(outdir / REPORTS_DIR)
        for stale in index.folder.glob(".*.tmp") if index.folder.is_dir() else []:
            stale.unlink(missing_ok=True)  # left by a batch killed while writing
        for path, report in load_reports(outdir):
            if report.source is None:
                continue
            key = report.source.path
            if key in index.by_key:  # a batch killed between writing a renamed report and removing the old one
                older, newer = sorted([index.by_key[key], (path, report)], key=lambda e: e[1].graded_at or "")
                older[0].unlink(missing_ok=True)
                index.owner.pop(older[0].stem, None)
                path, report = newer
            index.by_key[key] = (path, report)
            index.owner[path.stem] = key
        return index

    def up_to_date(self, key: str, sha256: str, rubric_sha256: str, *, retry_failures: bool) -> bool:
        entry = self.by_key.get(key)
        if entry is None:
            return False
        _, report = entry
        return (
            report.source is not None
            and report.source.sha256 == sha256
            and report.rubric_sha256 == rubric_sha256
            and report.grader_version == __version__
            and not (retry_failures and report.failure is not None)
        )

    def write(self, key: str, report: Report) -> Path:
        """Write a submission's report where it cannot take another's file: in place when its id is
        the one it had, else under a name of its own (`<id>--<digest of key>.json`). `settle`
        then gives every report its final name; until it runs (a batch killed half-way), no
        report sits under a name the ownership rule would not give it."""
        previous = self.by_key.get(key)
        if previous is not None and identity_key(previous[1].submission) == identity_key(report.submission):
            path = previous[0]
        else:
            stem = report_stem(safe_name(report.submission), key, _PROVISIONAL)
            while self.owner.get(stem, key) != key:
                stem = report_stem(stem, key, _PROVISIONAL)
            path = self.folder / f"{stem}.json"
        atomic_write_text(path, report.model_dump_json(indent=2) + "\n")
        if previous is not None and previous[0] != path:
            previous[0].unlink(missing_ok=True)
            self.owner.pop(previous[0].stem, None)
        self.by_key[key] = (path, report)
        self.owner[path.stem] = key
        return path

    def settle(self) -> None:
        """Give every report the name and duplicate warning its standing says, rewriting only the
        reports whose name or warnings change. Depends only on the set of reports, never on the
        order they were graded in. Linear in the reports: run once, after grading."""
        keys = sorted(self.by_key)
        reports = [self.by_key[k][1] for k in keys]
        standings = standings_of(reports)
        plans = []
        taken: set[str] = set()
        # names are handed out to the submissions whose own name the id is first: another id that
        # gives the same file name (`.alice`, `alice`) never pushes the rightful one aside
        for i in sorted(range(len(keys)), key=lambda i: (not standings[i].owner, not is_own(reports[i]), keys[i])):
            key, report, standing = keys[i], reports[i], standings[i]
            stem = report_stem(safe_name(report.submission), key, standing)
            if stem.casefold() in taken:  # two ids that give one file name (`a/b`, `a_b`)
                stem = report_stem(stem, key, Standing(owner=False, contested=False, others=()))
            taken.add(stem.casefold())
            warnings = _with_duplicate_warning(report, standing, f"{stem}.json")
            plans.append((key, self.folder / f"{stem}.json", report, warnings))
        moved = [p for p in plans if p[1] != self.by_key[p[0]][0] or p[3] != p[2].warnings]
        # first to names no other report has now: a report moving away is written before its old
        # file is overwritten (a batch killed in between leaves two copies, which `load` resolves)
        for _key, path, report, warnings in sorted(moved, key=lambda p: self.owner.get(p[1].stem, p[0]) != p[0]):
            report.warnings = warnings
            atomic_write_text(path, report.model_dump_json(indent=2) + "\n")
        wanted = {p[1] for p in plans}
        for key, path, report, _ in moved:
            old = self.by_key[key][0]
            if old != path and old not in wanted:
                old.unlink(missing_ok=True)
            self.by_key[key] = (path, report)
        self.owner = {path.stem: key for key, (path, _) in self.by_key.items()}


def _with_duplicate_warning(report: Report, standing: Standing, file_name: str) -> list[str]:
    kept = [w for w in report.warnings if not w.startswith(DUPLICATE)]
    warning = duplicate_warning(report.submission, standing, file_name)
    return kept if warning is None else [*kept, warning]
