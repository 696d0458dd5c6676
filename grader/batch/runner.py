"""`grader batch`: discover, skip what is up to date, grade the rest in a pool, write the outputs."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from grader import __version__
from grader.batch.dask_executor import DaskExecutor, DaskSettings, rubric_payload
from grader.batch.discover import Discovered, discover
from grader.batch.outputs import refresh_outputs
from grader.batch.pool import Outcome, WorkerPool
from grader.batch.progress import Progress, format_seconds
from grader.batch.store import (
    DEFAULT_OVERRIDES,
    REPORTS_DIR,
    RUN_RECORD,
    ReportIndex,
    RunRecord,
    atomic_write_text,
    load_reports,
)
from grader.batch.unpack import unpack_download
from grader.batch.worker import GradeTask, warm_cache
from grader.core.report import QuestionResult, Report, Status, points_text
from grader.core.rubric import LoadedRubric

DEFAULT_TIMEOUT = 600.0
WORKER_INIT = "grader.batch.worker:init_worker"
WORKER_GRADE = "grader.batch.worker:grade_task"


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class BatchOptions:
    jobs: int = field(default_factory=default_jobs)
    timeout: float = DEFAULT_TIMEOUT
    force: bool = False
    retry_failures: bool = False
    overrides: Path | None = None
    progress: TextIO | None = None
    tty: bool = False
    initializer: str = WORKER_INIT
    handler: str = WORKER_GRADE
    dask: DaskSettings | None = None  # None: the local pool; else `--executor dask`
    required_layer: str | None = None  # the sandbox layer Dask workers must offer


@dataclass
class BatchResult:
    record: RunRecord
    problems: list[str]
    failures: list[str]


def run_batch(root: Path, outdir: Path, assignment: str, loaded: LoadedRubric, options: BatchOptions) -> BatchResult:
    started = time.monotonic()
    outdir.mkdir(parents=True, exist_ok=True)
    found = discover(unpack_download(root, outdir) if root.is_file() else root, exclude=(outdir,))
    index = ReportIndex.load(outdir)
    todo = [item for item in found.items
            if options.force or not index.up_to_date(item.key, item.sha256, loaded.sha256,
                                                     retry_failures=options.retry_failures)]
    record = RunRecord(
        root=str(root.resolve()), assignment=assignment, rubric_file=str(loaded.path.resolve()),
        rubric_sha256=loaded.sha256, jobs=options.jobs, started_at=utc_now(),
        submissions=len(found.items), skipped=len(found.items) - len(todo), ignored=found.ignored,
    )
    atomic_write_text(outdir / RUN_RECORD, record.model_dump_json(indent=2) + "\n")
    stream = options.progress or sys.stderr
    if record.skipped:
        stream.write(f"{record.skipped} of {record.submissions} submissions are up to date (--force regrades them)\n")
    failures = _grade_all(todo, index, loaded, options, stream)
    index.settle()  # who owns which id, with the reports of earlier runs too
    record.graded = len(todo) - len(failures)
    record.failed = len(failures)
    problems = refresh_outputs(outdir, loaded, options.overrides)
    record.finished_at = utc_now()
    record.wall_seconds = round(time.monotonic() - started, 3)
    atomic_write_text(outdir / RUN_RECORD, record.model_dump_json(indent=2) + "\n")
    return BatchResult(record, problems, failures)


def _grade_all(
    todo: list[Discovered], index: ReportIndex, loaded: LoadedRubric, options: BatchOptions, stream: TextIO,
) -> list[str]:
    if not todo:
        return []
    progress = Progress(len(todo), stream, tty=options.tty)
    executor = _executor(loaded, options)
    tasks = [_task(item) for item in todo]
    failures = []
    try:
        for outcome in executor.run(tasks):
            item = todo[outcome.index]
            report = _report(outcome, item, loaded)
            index.write(item.key, report)
            if report.failure is not None:
                failures.append(f"{item.key}: {report.failure}")
            progress.advance(item.key, _describe(report))
    finally:
        progress.close()
    return failures


def _executor(loaded: LoadedRubric, options: BatchOptions) -> WorkerPool | DaskExecutor:
    if options.dask is not None:
        return DaskExecutor(options.dask, rubric_payload(loaded), options.required_layer, jobs=options.jobs)
    return WorkerPool(
        options.jobs, initializer=options.initializer, init_args=(str(loaded.path), warm_cache(loaded), True),
        handler=options.handler, timeout=options.timeout, preload=("grader.batch.worker",),
    )


def _task(item: Discovered) -> GradeTask:
    return GradeTask(
        default_id=item.default_id,
        path=None if item.path is None else str(item.path),
        files=tuple((str(f.source), f.name) for f in item.files),
    )


def _report(outcome: Outcome, item: Discovered, loaded: LoadedRubric) -> Report:
    if outcome.ok:
        report = Report.model_validate_json(outcome.value)
    else:
        report = failure_report(loaded, item.default_id, outcome.reason)
    report.source = item.source
    report.graded_at = utc_now()
    if item.source.late:
        report.warnings.append("submitted late (Canvas marked it LATE)")
    return report


def failure_report(loaded: LoadedRubric, submission: str, reason: str) -> Report:
    """Grading the whole submission failed: every question is `error`, with the reason."""
    feedback = f"the grader stopped while grading your submission ({reason}); your instructor will look at it"
    results = [
        QuestionResult(id=q.id, score=0.0, max_score=q.points, status=Status.ERROR, feedback=feedback, hidden=q.hidden)
        for q in loaded.rubric.questions
    ]
    return Report.from_results(
        results, assignment=loaded.rubric.assignment, submission=submission, grader_version=__version__,
        rubric_sha256=loaded.sha256, warnings=[reason], failure=reason,
    )


def _describe(report: Report) -> str:
    if report.failure is not None:
        return f"error: {report.failure}"
    return f"{points_text(report.score)} / {points_text(report.max_score)}"


def describe_result(result: BatchResult, outdir: Path) -> list[str]:
    """The lines `grader batch` prints when done."""
    record = result.record
    lines = [
        f"{record.submissions} submissions: {record.graded} graded, {record.skipped} up to date, "
        f"{record.failed} failed, in {format_seconds(record.wall_seconds or 0)}",
        f"reports:   {outdir / REPORTS_DIR}",
        f"gradebook: {outdir / 'gradebook.csv'}",
        f"summary:   {outdir / 'summary.json'}, {outdir / 'summary.html'}",
    ]
    lines += [f"failed: {line}" for line in result.failures]
    lines += [f"ignored: {line}" for line in record.ignored]
    lines += [f"overrides: {line}" for line in result.problems]
    if not (outdir / DEFAULT_OVERRIDES).exists():
        lines.append(f"TA decisions go in {outdir / DEFAULT_OVERRIDES} (see docs/ta-workflow.md)")
    return lines


__all__ = ["BatchOptions", "BatchResult", "describe_result", "failure_report", "load_reports", "run_batch"]
