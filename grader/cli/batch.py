"""The TA's commands: `batch`, `export`, `groups` and `gradescope-package` (CONTRACT.md).

Heavy modules are imported inside the commands, so that `grader --help` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from grader.cli.common import assignment_option, load_assignment
from grader.cli.sandbox import sandbox_option, use_sandbox
from grader.core.names import for_terminal, json_for_terminal

MOODLE_IDENTIFIERS = "moodle-identifiers.txt"


def _usage(message: str) -> NoReturn:
    raise click.UsageError(message)


def _check_overrides(path: Path | None, outdir: Path) -> None:
    """A broken overrides file stops the command before it writes anything (exit code 2)."""
    from grader.batch.outputs import overrides_path
    from grader.batch.overrides import OverridesError, load_overrides

    found = overrides_path(outdir, path)
    if found is None:
        return
    try:
        load_overrides(found)
    except OverridesError as err:
        _usage("the overrides file is broken:\n" + "\n".join(err.problems))


def _load_for_outdir(outdir: Path, assignment: str | None) -> Any:
    """The rubric a batch folder was graded with: `-a` if given, else the one batch.json names."""
    from grader.batch.store import read_run_record

    if assignment is not None:
        return load_assignment(assignment)
    record = read_run_record(outdir)
    if record is None:
        _usage(f"{outdir} has no batch.json (not a `grader batch` output folder?): give -a ASSIGNMENT")
    loaded = load_assignment(record.rubric_file if Path(record.rubric_file).is_file() else record.assignment)
    if loaded.sha256 != record.rubric_sha256:
        click.echo("warning: the rubric changed since the batch ran; run `grader batch` again to regrade",
                   err=True)
    return loaded


@click.command()
@click.argument("root", type=click.Path(exists=True, path_type=Path))
@assignment_option
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="the output folder (reports/, gradebook.csv, summary.json, summary.html)")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="worker processes [default: the number of cores]")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="wall-clock limit per submission, in seconds [default: 600]")
@click.option("--force", is_flag=True, help="regrade every submission, even those up to date")
@click.option("--retry-failures", is_flag=True, help="regrade submissions whose grading crashed or timed out")
@click.option("--overrides", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the TA's decisions [default: OUTDIR/overrides.yaml]")
@sandbox_option
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="grade in this machine's process pool, or on a Dask cluster")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="dask: a running scheduler (tcp://host:8786) [default: start a cluster, see --cluster]")
@click.option("--cluster", type=click.Choice(["local", "slurm", "pbs", "sge"]), default="local", show_default=True,
              help="dask: the cluster to start when no --scheduler is given (slurm/pbs/sge need dask-jobqueue)")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="dask: workers (local) or jobs (slurm/pbs/sge) to start [default: -j]")
@click.option("--cluster-config", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="dask: YAML of options for the cluster class (LocalCluster or dask-jobqueue's)")
@click.option("--shared-root", is_flag=True,
              help="dask: the workers see ROOT at the same path; submissions are read there, not sent")
def batch(root: Path, assignment: str, outdir: Path, jobs: int | None, timeout: float | None, force: bool,
          retry_failures: bool, overrides: Path | None, executor: str, scheduler: str | None, cluster: str,
          workers: int | None, cluster_config: Path | None, shared_root: bool, sandbox: str | None) -> None:
    """Grade every submission under ROOT: folders, zips, answers files, Canvas and Gradescope exports.

    ROOT is a folder, or the LMS download as one .zip (unpacked into OUTDIR/.inputs).

    A rerun skips every submission whose report is up to date (same files, rubric and grader
    version), so a killed batch resumes where it stopped.
    """
    from grader.batch.dask_executor import ExecutorError
    from grader.batch.runner import DEFAULT_TIMEOUT, BatchOptions, default_jobs, describe_result, run_batch
    from grader.batch.unpack import UnpackError

    loaded = load_assignment(assignment)
    if outdir.resolve() == root.resolve():
        _usage("the output folder must not be the submissions folder")
    if root.is_file() and root.suffix.lower() != ".zip":
        _usage(f"{root} is a file: ROOT is a folder of submissions or an LMS download as a .zip")
    _check_overrides(overrides, outdir)
    if executor != "dask":  # on Dask, each worker settles the layer (below)
        use_sandbox(sandbox, loaded)
    options = BatchOptions(
        jobs=jobs or default_jobs(), timeout=timeout or DEFAULT_TIMEOUT, force=force,
        retry_failures=retry_failures, overrides=overrides, progress=sys.stderr, tty=sys.stderr.isatty(),
    )
    if executor == "dask":
        _use_dask(options, loaded, scheduler, cluster, workers, cluster_config, shared_root, sandbox)
    elif (scheduler, workers, cluster_config, shared_root, cluster) != (None, None, None, False, "local"):
        _usage("--scheduler, --cluster, --workers, --cluster-config and --shared-root go with --executor dask")
    try:
        result = run_batch(root, outdir, assignment, loaded, options)
    except UnpackError as err:
        _usage(str(err))
    except ExecutorError as err:
        _usage(str(err))
    except KeyboardInterrupt:
        click.echo("\ninterrupted: the reports written so far are kept; run the same command to resume", err=True)
        sys.exit(130)
    for line in describe_result(result, outdir):
        click.echo(for_terminal(line))


def _use_dask(options: Any, loaded: Any, scheduler: str | None, cluster: str, workers: int | None,
             cluster_config: Path | None, shared_root: bool, sandbox: str | None) -> None:
    """Dask settings, and the sandbox layer every worker must offer (`--sandbox`, else
    GRADER_SANDBOX_LAYER, else `auto`: bwrap or namespace): a worker that lacks it refuses its
    chunks instead of grading on a weaker layer. This machine's own layers do not matter."""
    from grader.batch.dask_executor import DaskSettings
    from grader.cli.sandbox import runs_student_code
    from grader.sandbox.layers import LAYER_ENV

    options.dask = DaskSettings(scheduler=scheduler, cluster=cluster, workers=workers,  # type: ignore[arg-type]
                                cluster_config=cluster_config, shared_root=shared_root)
    if runs_student_code(loaded):
        options.required_layer = sandbox or os.environ.get(LAYER_ENV) or "auto"


@click.command()
@click.argument("outdir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--to", "target", required=True, type=click.Choice(["canvas", "moodle", "gradescope"]))
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Canvas: the gradebook CSV exported from Canvas")
@click.option("--column", help="the assignment column (Canvas) or grade column (Moodle) to fill")
@click.option("-a", "--assignment", default=None, metavar="ASSIGNMENT",
              help="the rubric [default: the one the batch used]")
@click.option("--overrides", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the TA's decisions [default: OUTDIR/overrides.yaml]")
@click.option("--id-map", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Moodle: a CSV `submission,identifier` mapping submission ids to what Moodle matches on")
@click.option("--match-on", type=click.Choice(["username", "idnumber", "email"]), default="username",
              show_default=True, help="Moodle: the user field the identifiers are")
@click.option("--known-users", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Moodle: the course's users (participants CSV, or one identifier a line): refuse unknown ones")
@click.option("--scale", is_flag=True,
              help="Canvas: scale scores to the column's points possible when it differs from the rubric's")
@click.option("--new-column", is_flag=True, help="Canvas: --column names a new assignment Canvas creates")
def export(outdir: Path, target: str, roster: Path | None, column: str | None, assignment: str | None,
           overrides: Path | None, id_map: Path | None, match_on: str, known_users: Path | None, scale: bool,
           new_column: bool) -> None:
    """Gradebook files for the LMS from a batch's reports (with the overrides applied)."""
    from grader.batch.outputs import refresh_outputs
    from grader.batch.store import load_reports

    if target == "canvas" and roster is None:
        _usage("--to canvas needs --roster: the gradebook CSV exported from Canvas")
    loaded = _load_for_outdir(outdir, assignment)
    _check_overrides(overrides, outdir)
    problems = refresh_outputs(outdir, loaded, overrides)
    for problem in problems:
        click.echo(for_terminal(f"overrides: {problem}"), err=True)
    reports = [r for _, r in load_reports(outdir) if r.assignment == loaded.rubric.assignment]
    if target == "canvas":
        assert roster is not None
        _export_canvas(outdir, reports, roster, column, loaded, CanvasChoice(scale, new_column))
    elif target == "moodle":
        identity = MoodleIdentity(id_map, match_on, known_users)
        _export_moodle(outdir, reports, column or loaded.rubric.assignment, identity)
    else:
        _export_gradescope(outdir, load_reports(outdir), loaded)


@dataclass
class CanvasChoice:
    scale: bool
    new_column: bool


def _export_canvas(outdir: Path, reports: list[Any], roster_path: Path, column: str | None, loaded: Any,
                   choice: CanvasChoice) -> None:
    from grader.batch.store import atomic_write_text
    from grader.lms.canvas import RosterError, choose_column, export_canvas, points_factor, read_roster

    try:
        roster = read_roster(roster_path)
        chosen = column if choice.new_column and column else choose_column(roster, column, loaded.rubric.assignment)
        factor = points_factor(roster, chosen, loaded.rubric.max_score, scale=choice.scale)
    except RosterError as err:
        _usage(str(err))
    result = export_canvas(reports, roster, chosen, loaded.rubric.max_score, factor=factor)
    path = outdir / "canvas.csv"
    atomic_write_text(path, result.text)  # with the BOM Canvas wrote
    click.echo(str(path))
    scaled = f" (scaled by {factor:g} to the column's points possible)" if factor != 1 else ""
    click.echo(f"column {chosen!r}: {len(result.matched)} of {len(reports)} submissions matched{scaled}")
    for line in result.unmatched:
        click.echo(for_terminal(f"unmatched: {line}"))
    for line in result.left_out:
        click.echo(for_terminal(f"left out: {line}"))
    if result.without_submission:
        click.echo(for_terminal(f"{len(result.without_submission)} roster students have no submission: "
                                + "; ".join(result.without_submission)))


@dataclass
class MoodleIdentity:
    id_map: Path | None
    match_on: Any
    known_users: Path | None


def _export_moodle(outdir: Path, reports: list[Any], column: str, identity: MoodleIdentity) -> None:
    from grader.batch.store import atomic_write_text
    from grader.lms.identity import IdentityError, load_id_map, load_known_users
    from grader.lms.moodle import export_moodle

    match_on = identity.match_on
    try:
        mapping = load_id_map(identity.id_map) if identity.id_map is not None else {}
        known = load_known_users(identity.known_users) if identity.known_users is not None else None
    except IdentityError as err:
        _usage(str(err))
    result = export_moodle(reports, column, mapping, match_on, known)
    path = outdir / "moodle.csv"
    preflight = outdir / MOODLE_IDENTIFIERS
    atomic_write_text(path, result.text)
    atomic_write_text(preflight, "".join(f"{i}\n" for i in result.identifiers))
    click.echo(str(path))
    click.echo(f"{len(result.identifiers)} of {len(reports)} submissions written")
    for line in result.left_out:
        click.echo(for_terminal(f"left out: {line}"))
    click.echo(f"pre-flight: check that Moodle knows these {len(result.identifiers)} {match_on}s before importing "
               f"(Moodle aborts the whole import on one unknown identifier); also in {preflight}")
    for identifier in result.identifiers:
        click.echo(for_terminal(f"  {identifier}"))
    click.echo(f"in Moodle's import form, map `Identifier` to the user field {match_on!r}")


def _export_gradescope(outdir: Path, entries: list[Any], loaded: Any) -> None:
    from grader.batch.store import atomic_write_text
    from grader.lms.gradescope import to_gradescope

    folder = outdir / "gradescope"
    titles = {q.id: q.title for q in loaded.rubric.questions if q.title}
    by_person = {q.id for q in loaded.rubric.questions if q.kind == "manual"}
    for path, report in entries:
        if report.assignment == loaded.rubric.assignment:
            atomic_write_text(folder / path.name, to_gradescope(report, titles=titles, by_person=by_person)
                              .model_dump_json(indent=2, exclude_none=True) + "\n")
    click.echo(str(folder))


@click.command()
@click.argument("outdir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("question")
@click.option("-a", "--assignment", default=None, metavar="ASSIGNMENT",
              help="the rubric [default: the one the batch used]")
@click.option("--wrong", is_flag=True, help="only answers that lost points (incorrect, partial, invalid)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--overrides", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the TA's decisions [default: OUTDIR/overrides.yaml]")
def groups(outdir: Path, question: str, assignment: str | None, wrong: bool, as_json: bool,
           overrides: Path | None) -> None:
    """A question's answers grouped by equivalence, with counts and members: grade each group once."""
    from grader.batch.groups import group_answers, render_groups
    from grader.batch.outputs import current_reports
    from grader.core.report import Status

    loaded = _load_for_outdir(outdir, assignment)
    try:
        target = loaded.rubric.question(question)
    except KeyError:
        ids = ", ".join(q.id for q in loaded.rubric.questions)
        _usage(f"{loaded.rubric.assignment} has no question {question!r}; its questions: {ids}")
    _check_overrides(overrides, outdir)
    entries, _ = current_reports(outdir, loaded, overrides, write=False)
    keep = {Status.INCORRECT, Status.PARTIAL, Status.INVALID} if wrong else None
    found = group_answers(target, [r for _, r in entries], statuses=keep)
    if as_json:
        click.echo(json_for_terminal(json.dumps(
            {"question": question, "groups": [g.as_json(i) for i, g in enumerate(found, 1)]},
            indent=2, ensure_ascii=False)))
    else:
        click.echo(render_groups(target, found))


@click.command("gradescope-package")
@click.argument("assignment")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True)
def gradescope_package(assignment: str, output: Path) -> None:
    """Build Gradescope's autograder archive: setup.sh, run_autograder, the grader and the rubric."""
    from grader.lms.gradescope_package import build_package

    loaded = load_assignment(assignment)
    names = build_package(assignment, loaded, output)
    click.echo(f"{output}: {len(names)} files; upload it as the autograder of a Gradescope programming assignment")


def register(group: click.Group) -> None:
    for command in (batch, export, groups, gradescope_package):
        group.add_command(command)
