"""The `grader` command line (CONTRACT.md). Exit codes: see `ExitCode`."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

# The grader uses no pydantic plugins; looking for them reads every installed distribution's
# entry points, a tenth of a `grader check`. Set the variable yourself to have them loaded.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import click

from grader import __version__
from grader.cli.common import ExitCode, assignment_option, fail_usage, load_assignment, write_output
from grader.cli.sandbox import sandbox_option, use_sandbox
from grader.core.names import json_for_terminal


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            from importlib import import_module

            module, name = LAZY_COMMANDS[cmd_name].split(":")
            self.add_command(getattr(import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def cli() -> None:
    """Grade neural-network homework: numbers, formulas, networks, models and code."""


@cli.command()
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@assignment_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="write the report here")
@click.option("--format", "fmt", type=click.Choice(["json", "gradescope"]), default="json", show_default=True)
@sandbox_option
def grade(submission: Path, assignment: str, output: Path | None, fmt: str, sandbox: str | None) -> None:
    """Grade one submission (a folder, a .zip or an answers file) and print its JSON report."""
    loaded = load_assignment(assignment)
    use_sandbox(sandbox, loaded)
    from grader.core.grading import grade_path

    started = time.monotonic()
    report = grade_path(loaded, submission)
    if fmt == "gradescope":
        from grader.lms.gradescope import to_gradescope

        titles = {q.id: q.title for q in loaded.rubric.questions if q.title}
        by_person = {q.id for q in loaded.rubric.questions if q.kind == "manual"}
        results = to_gradescope(report, time.monotonic() - started, titles=titles, by_person=by_person)
        text = results.model_dump_json(indent=2, exclude_none=True)
    else:
        text = report.model_dump_json(indent=2)
    write_output(json_for_terminal(text) if output is None else text, output)  # the same JSON value


@cli.command()
@click.argument("submission", type=click.Path(exists=True, path_type=Path))
@assignment_option
@sandbox_option
def check(submission: Path, assignment: str, sandbox: str | None) -> None:
    """Self-check before the deadline: feedback on visible questions, hidden ones only counted.
    ASSIGNMENT may be a student bundle (`grader student-bundle`): it works offline."""
    loaded = load_assignment(assignment, bundle_task=None)
    use_sandbox(sandbox, loaded, self_check=True)
    from grader.core.grading import grade_path
    from grader.student.feedback import render_check

    report = grade_path(loaded, submission, require_student_id=True)
    click.echo(render_check(report, color=sys.stdout.isatty()))


@cli.command()
@click.argument("assignment")
@click.option("--student", default=None, help="the student's id (randomised assignments)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["yaml", "ipynb"]), default="yaml", show_default=True,
              help="an answers file, or a Jupyter notebook (docs/notebooks.md)")
def template(assignment: str, student: str | None, output: Path | None, fmt: str) -> None:
    """An answers file (or notebook) to fill in (with your own numbers and student_id where the
    assignment is randomised: give --student)."""
    if fmt == "ipynb":
        from grader.notebooks.template import template_command

        write_output(template_command(load_assignment(assignment, bundle_task=None).rubric, student, assignment),
                     output)
        return
    from grader.student.template import TemplateNeedsStudent, render_template

    loaded = load_assignment(assignment, bundle_task=None)
    try:
        text = render_template(loaded.rubric, student, check_with=assignment)
    except TemplateNeedsStudent as err:
        fail_usage(str(err))
    write_output(text, output)


@cli.command()
@click.argument("assignment")
@click.option("--student", default=None, help="the student's id (randomised assignments)")
@click.option("--json", "as_json", is_flag=True, help="print JSON (the default is readable text)")
def reference(assignment: str, student: str | None, as_json: bool) -> None:
    """The computed reference answers and each question's parameters, for instructors.
    A student bundle is refused: it does not hold what the answers are computed from."""
    from grader.core.references import reference_answers

    loaded = load_assignment(assignment, bundle_task="print reference answers")
    answers = reference_answers(loaded.rubric, student)
    if as_json:
        click.echo(json.dumps(answers, indent=2, ensure_ascii=False, default=str))
        return
    for qid, entry in answers["questions"].items():
        click.echo(f"{qid}: {json.dumps(entry['answer'], ensure_ascii=False, default=str)}")


@cli.command("student-bundle")
@click.argument("assignment")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="a folder, or a .zip file")
@click.option("--student", default=None,
              help="one student's bundle (needed when a randomised question reveals no verdict)")
def student_bundle(assignment: str, output: Path, student: str | None) -> None:
    """What students get for self-checking: question texts, the answer template and, per question,
    only what its `self_check` policy reveals. `grader check answers.yaml -a OUTPUT` uses it."""
    from grader.student.bundle import BundleError, write_bundle

    loaded = load_assignment(assignment, bundle_task="make another bundle")
    try:
        written = write_bundle(loaded, output, student)
    except BundleError as err:
        fail_usage(str(err))
    click.echo(f"{written}: the student bundle of {loaded.rubric.assignment}; students run "
               f"`grader check answers.yaml -a {written.name}`")


@cli.command()
def assignments() -> None:
    """The built-in assignments, with their question count and total points."""
    from grader.core.rubric import builtin_names, load_rubric, resolve_assignment

    for name in builtin_names():
        rubric = load_rubric(resolve_assignment(name)).rubric
        click.echo(f"{name:<20} {len(rubric.questions):>3} questions {rubric.max_score:>7g} points  {rubric.title}")


@cli.group()
def rubric() -> None:
    """Write and check rubric files."""


@rubric.command("validate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="warnings fail the validation too (exit code 2)")
def rubric_validate(path: Path, strict: bool) -> None:
    """Check a rubric file: schema, reference functions and params, and that every reference computes.
    Warnings: feedback placeholders that cannot be filled, and numbers typed into the feedback of a
    randomised question that equal a drawn param's value."""
    from grader.core.rubric import RubricError, load_rubric
    from grader.core.rubric_lint import rubric_warnings

    try:
        loaded = load_rubric(path, compute_references=True)
    except RubricError as err:
        for problem in err.problems:
            click.echo(problem, err=True)
        sys.exit(ExitCode.USAGE_ERROR)
    rubric_ = loaded.rubric
    warnings = rubric_warnings(rubric_)
    for warning in warnings:
        click.echo(f"{path}: warning: {warning}", err=True)
    if strict and warnings:
        sys.exit(ExitCode.USAGE_ERROR)
    click.echo(f"{path}: valid: {len(rubric_.questions)} questions, {rubric_.max_score:g} points"
               + (f", {len(warnings)} warning(s)" if warnings else ""))


@rubric.command("schema")
def rubric_schema() -> None:
    """Print the rubric JSON Schema (for editor completion)."""
    from grader.core.rubric import rubric_json_schema

    click.echo(json.dumps(rubric_json_schema(), indent=2))


def main() -> None:
    try:
        cli.main(prog_name="grader", standalone_mode=True)
    except SystemExit:
        raise
    except Exception as err:  # the last resort: a bug, reported as exit code 1
        click.echo(f"grader: internal error: {type(err).__name__}: {err}", err=True)
        sys.exit(ExitCode.INTERNAL_ERROR)


# Commands defined in their own modules (one feature per module), imported when named or listed:
# a student's `grader check` never imports the TA's commands.
LAZY_COMMANDS = {
    "batch": "grader.cli.batch:batch",
    "export": "grader.cli.batch:export",
    "groups": "grader.cli.batch:groups",
    "gradescope-package": "grader.cli.batch:gradescope_package",
    "doctor": "grader.cli.doctor:doctor",
    "baseline": "grader.cli.models:baseline",
    "new": "grader.cli.new:new",
}
