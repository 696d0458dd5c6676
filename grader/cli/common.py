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


STUDENT_BUNDLE_REFUSED = (
    "{assignment} is a student bundle: it holds only what self-checks need, so it cannot {task}; "
    "use the full rubric (the built-in name or the instructor's rubric file)"
)


def load_assignment(assignment: str, *, bundle_task: str | None = "grade submissions") -> Any:
    """The loaded rubric, or a usage error. A student bundle (a folder, a zip or its rubric file)
    is accepted only when `bundle_task` is None; otherwise `bundle_task` says what it cannot do
    ("grade", "print references"). The math worker is not started here: a submission with
    formulas to check starts it (`FormulaKind.prepare_submission`), one without never does."""
    from grader.core.builtins import resolve_assignment
    from grader.student.bundle_files import bundle_rubric_path

    bundled = bundle_rubric_path(assignment)
    if bundled is not None and bundle_task is not None:
        fail_usage(STUDENT_BUNDLE_REFUSED.format(assignment=assignment, task=bundle_task))
    try:
        path = bundled or resolve_assignment(assignment)
    except FileNotFoundError as err:
        fail_usage(str(err))
    from grader.core.rubric import RubricError, load_rubric

    try:
        loaded = load_rubric(path)
    except RubricError as err:
        fail_usage("the rubric is broken:\n" + "\n".join(err.problems))
    if loaded.rubric.student_bundle and bundle_task is not None:
        fail_usage(STUDENT_BUNDLE_REFUSED.format(assignment=assignment, task=bundle_task))
    return loaded


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
