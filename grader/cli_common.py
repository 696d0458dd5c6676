"""What every command module shares: exit codes, the assignment option, loading, writing."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path
from typing import Any, NoReturn

import click


class ExitCode(IntEnum):
    OK = 0  # the command did its job, whatever the scores
    INTERNAL_ERROR = 1  # a bug or an environment failure
    USAGE_ERROR = 2  # unknown assignment, missing path, bad option, broken rubric


def fail_usage(message: str) -> NoReturn:
    raise click.UsageError(message)


def load_assignment(assignment: str) -> Any:
    """The loaded rubric, or a usage error. The math worker is not started here: a submission
    with formulas to check starts it (`FormulaKind.prepare_submission`), one without never does."""
    from grader.builtins import resolve_assignment

    try:
        path = resolve_assignment(assignment)
    except FileNotFoundError as err:
        fail_usage(str(err))
    from grader.rubric import RubricError, load_rubric

    try:
        return load_rubric(path)
    except RubricError as err:
        fail_usage("the rubric is broken:\n" + "\n".join(err.problems))


def write_output(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(output)


assignment_option = click.option(
    "-a", "--assignment", required=True, metavar="ASSIGNMENT",
    help="a built-in name (see `grader assignments`) or a rubric file",
)
