"""The `--sandbox` option of the grading commands (`grade`, `check`, `batch`): which isolation
layer student code and models run in, settled once per command. Kept apart from `grader doctor`
so that a student's `grader check` imports none of the TA's commands."""

from __future__ import annotations

import os
from typing import Any

import click

# grader.sandbox.layers' CHOICES and LAYER_ENV, spelled out so that a command that runs no student
# code never imports the sandbox (tests/test_sandbox_layers.py checks they agree)
CHOICES = ("auto", "any", "bwrap", "namespace", "process")
LAYER_ENV = "GRADER_SANDBOX_LAYER"


def sandbox_option(command: Any) -> Any:
    return click.option(
        "--sandbox", "sandbox", type=click.Choice(CHOICES), default=None,
        help=f"the isolation layer for student code and models [default: {LAYER_ENV}, else auto: "
             "bwrap, else namespace, else refuse; `check`: any, which falls back to process]",
    )(command)


def runs_student_code(loaded: Any) -> bool:
    from grader.checkers import runs_student_code as questions_run_code

    return questions_run_code(loaded.rubric.questions)


def use_sandbox(choice: str | None, loaded: Any, *, self_check: bool = False) -> None:
    """Settle the layer once for the whole command (batch workers inherit it through the
    environment): a usage error (exit 2) saying how to get a strong layer, or how to accept a
    weak one explicitly, when none that hides the filesystem works."""
    wanted = choice or os.environ.get(LAYER_ENV) or ("any" if self_check else "auto")
    if not runs_student_code(loaded) or wanted == "any":
        # `any` cannot fail (the process layer is always there): it is settled when code first
        # runs, so a self-check whose answers run no code never probes the layers
        if choice or wanted == "any":
            os.environ[LAYER_ENV] = wanted
        return
    from grader.sandbox.layers import choose_layer

    try:
        os.environ[LAYER_ENV] = choose_layer(wanted)
    except (LookupError, ValueError) as err:
        raise click.UsageError(str(err)) from None
