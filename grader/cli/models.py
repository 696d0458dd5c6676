"""`grader baseline`: train a model question's reference recipe and write its baseline record."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from grader.checkers.model import ModelQuestion
    from grader.models.baselines import BaselineRecord


@click.command("baseline")
@click.argument("assignment")
@click.argument("question", required=False)
@click.option("--data", "data_path", type=click.Path(exists=True, path_type=Path),
              help="train and evaluate on this data instead: an MNIST IDX folder or a .npz file")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
              help="where to write the record (default: $GRADER_BASELINE_DIR, else a baselines/ "
                   "folder beside the rubric file, else ./baselines for a built-in assignment)")
def baseline(assignment: str, question: str | None, data_path: Path | None,
             output_dir: Path | None) -> None:
    """Train the reference recipe of QUESTION (default: every model question) and write a
    baseline record: held-out accuracy, seed, data fingerprint, training time, versions."""
    from grader.checkers.model import ModelQuestion
    from grader.cli.common import load_assignment
    from grader.models.baselines import default_output_dir, save_record, searched
    from grader.models.data import DataError

    loaded = load_assignment(assignment)
    rubric = loaded.rubric
    models = [q for q in rubric.questions if isinstance(q, ModelQuestion)]
    if not models:
        raise click.UsageError(f"{assignment} has no model questions: there is no baseline to train")
    if question is not None:
        models = [q for q in models if q.id == question]
        if not models:
            names = ", ".join(q.id for q in rubric.questions if isinstance(q, ModelQuestion))
            raise click.UsageError(f"{assignment} has no model question {question!r} "
                                   f"(model questions: {names or 'none'})")
    for q in models:
        try:
            record = train_record(rubric.assignment, q, data_path)
        except DataError as err:
            raise click.UsageError(str(err)) from None
        folder = output_dir or default_output_dir(loaded.path)
        path = save_record(record, folder)
        click.echo(f"{q.id}: held-out accuracy {record.heldout_accuracy:.2%} "
                   f"({record.heldout_correct}/{record.heldout_size}), trained in "
                   f"{record.train_seconds:.1f} s, seed {record.seed} -> {path}")
    if models and not searched(folder):
        click.echo(f"grading finds these records with GRADER_BASELINE_DIR={folder.resolve()}")


def train_record(assignment: str, question: ModelQuestion,
                 data_path: Path | None) -> BaselineRecord:
    """Train one model question's recipe; its BaselineRecord (not yet saved)."""
    from grader.models.baselines import BaselineRecord
    from reference import get_reference

    params = question.job_params()
    if data_path is not None:
        kind = "npz" if data_path.suffix == ".npz" else "idx"
        params["data"] = {**params["data"], "source": kind, "path": str(data_path.resolve())}
    result = get_reference(question.baseline.function).compute(params)
    return BaselineRecord(assignment=assignment, question=question.id,
                          function=question.baseline.function, spec_sha256=question.spec_sha256(),
                          recipe=question.training_job()["recipe"], **result)
