"""The `grader` command line (CONTRACT.md). Exit codes: see `ExitCode`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from grader import __version__
from grader.cli_common import ExitCode, assignment_option, load_assignment, write_output


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def cli() -> None:
    """Grade neural-network homework: numbers, formulas, networks, models and code."""


@cli.command()
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@assignment_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="write the report here")
@click.option("--format", "fmt", type=click.Choice(["json", "gradescope"]), default="json", show_default=True)
def grade(submission: Path, assignment: str, output: Path | None, fmt: str) -> None:
    """Grade one submission (a folder, a .zip or an answers file) and print its JSON report."""
    loaded = load_assignment(assignment, for_grading=True)  # first: it starts the math worker
    from grader.grading import grade_path

    started = time.monotonic()
    report = grade_path(loaded, submission)
    if fmt == "gradescope":
        from grader.gradescope import to_gradescope

        titles = {q.id: q.title for q in loaded.rubric.questions if q.title}
        by_person = {q.id for q in loaded.rubric.questions if q.kind == "manual"}
        results = to_gradescope(report, time.monotonic() - started, titles=titles, by_person=by_person)
        write_output(results.model_dump_json(indent=2, exclude_none=True), output)
    else:
        write_output(report.model_dump_json(indent=2), output)


@cli.command()
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@assignment_option
def check(submission: Path, assignment: str) -> None:
    """Self-check before the deadline: feedback on visible questions, hidden ones only counted."""
    loaded = load_assignment(assignment, for_grading=True)  # first: it starts the math worker
    from grader.feedback import render_check
    from grader.grading import grade_path

    click.echo(render_check(grade_path(loaded, submission), color=sys.stdout.isatty()))


@cli.command()
@click.argument("assignment")
@click.option("--student", default=None, help="the student's id (randomised assignments)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
def template(assignment: str, student: str | None, output: Path | None) -> None:
    """An answers file to fill in."""
    from grader.feedback import render_template

    write_output(render_template(load_assignment(assignment).rubric, student), output)


@cli.command()
@click.argument("assignment")
@click.option("--student", default=None, help="the student's id (randomised assignments)")
@click.option("--json", "as_json", is_flag=True, help="print JSON (the default is readable text)")
def reference(assignment: str, student: str | None, as_json: bool) -> None:
    """The computed reference answers and each question's parameters, for instructors."""
    from grader.references import reference_answers

    answers = reference_answers(load_assignment(assignment).rubric, student)
    if as_json:
        click.echo(json.dumps(answers, indent=2, ensure_ascii=False, default=str))
        return
    for qid, entry in answers["questions"].items():
        click.echo(f"{qid}: {json.dumps(entry['answer'], ensure_ascii=False, default=str)}")


@cli.command()
def assignments() -> None:
    """The built-in assignments, with their question count and total points."""
    from grader.rubric import builtin_names, load_rubric, resolve_assignment

    for name in builtin_names():
        rubric = load_rubric(resolve_assignment(name)).rubric
        click.echo(f"{name:<20} {len(rubric.questions):>3} questions {rubric.max_score:>7g} points  {rubric.title}")


@cli.group()
def rubric() -> None:
    """Write and check rubric files."""


@rubric.command("validate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def rubric_validate(path: Path) -> None:
    """Check a rubric file: schema, reference functions and params, and that every reference computes."""
    from grader.rubric import RubricError, load_rubric

    try:
        loaded = load_rubric(path, compute_references=True)
    except RubricError as err:
        for problem in err.problems:
            click.echo(problem, err=True)
        sys.exit(ExitCode.USAGE_ERROR)
    rubric_ = loaded.rubric
    click.echo(f"{path}: valid: {len(rubric_.questions)} questions, {rubric_.max_score:g} points")


@rubric.command("schema")
def rubric_schema() -> None:
    """Print the rubric JSON Schema (for editor completion)."""
    from grader.rubric import rubric_json_schema

    click.echo(json.dumps(rubric_json_schema(), indent=2))


def main() -> None:
    try:
        cli.main(prog_name="grader", standalone_mode=True)
    except SystemExit:
        raise
    except Exception as err:  # the last resort: a bug, reported as exit code 1
        click.echo(f"grader: internal error: {type(err).__name__}: {err}", err=True)
        sys.exit(ExitCode.INTERNAL_ERROR)


# Commands defined in their own modules (one feature per module).
from grader.cli_batch import register as _register_batch_commands  # noqa: E402
from grader.cli_doctor import doctor  # noqa: E402
from grader.cli_models import baseline  # noqa: E402

_register_batch_commands(cli)
cli.add_command(doctor)
cli.add_command(baseline)
