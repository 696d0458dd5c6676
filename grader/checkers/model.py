"""Trained models (kind `model`): the answer is a weights file in the submission.

The grader (never importing torch) refuses anything but a safetensors file or a torch.save'd
state_dict, lists every tensor without unpickling, matches names and shapes to the rubric's
architecture, then a sandboxed worker runs the network on held-out data. Credit follows held-out
accuracy relative to the baseline record of the reference recipe (`grader baseline`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from grader.checkers.base import GradingContext, QuestionBase, ReferenceSpec, Verdict, is_blank
from grader.core.report import Status
from grader.models.spec import Architecture, DataSource, ModelLimits, Preprocess, Scoring
from grader.parsing.errors import AnswerParseError

if TYPE_CHECKING:
    import numpy as np

    from grader.models.baselines import BaselineRecord
    from grader.models.data import Dataset
    from grader.models.evaluate import EvalOutcome, EvalRequest
    from grader.models.formats import ModelFile
    from grader.models.matching import Match

ASK_INSTRUCTOR = "please tell your instructor"


@dataclass
class _Prepared:
    request: EvalRequest
    dataset: Dataset
    record: BaselineRecord
    model: ModelFile
    match: Match
    filename: str


class ModelQuestion(QuestionBase):
    kind: Literal["model"] = "model"
    architecture: Architecture = Field(description="the network the sheet asks for, as layers")
    preprocess: Preprocess = Field(default_factory=Preprocess)
    data: DataSource = Field(default_factory=DataSource)
    baseline: ReferenceSpec = Field(description="the reference recipe: train_classifier and its "
                                                "recipe params (optimizer, lr, iterations, ...)")
    scoring: Scoring = Field(default_factory=Scoring)
    limits: ModelLimits = Field(default_factory=ModelLimits)

    answer_hint: ClassVar[str] = "a weights file in your submission: model.safetensors or model.pt"
    needs_torch: ClassVar[bool] = True

    # --- the reference side -----------------------------------------------------------------

    @classmethod
    def prepare_submission(cls, questions: list[QuestionBase], answers: dict[str, Any],
                           ctx: GradingContext) -> None:
        prefetch_models(questions, answers, ctx)

    def job_params(self) -> dict[str, Any]:
        return {
            "architecture": self.architecture.model_dump(mode="json"),
            "preprocess": self.preprocess.model_dump(mode="json"),
            "data": self.data.model_dump(mode="json"),
            "recipe": self.baseline.params,
        }

    def training_job(self) -> dict[str, Any]:
        """The job as the reference function reads it, defaults filled in: what gets trained."""
        from reference import get_reference

        job = get_reference(self.baseline.function).validate(self.job_params())
        return dict(job.model_dump(mode="json"))

    def spec_sha256(self) -> str:
        from grader.models.baselines import spec_sha256

        return spec_sha256(self.baseline.function, self.training_job())

    def reference_params_for(self, ctx: GradingContext) -> dict[str, Any]:
        return {**self.job_params(), "function": self.baseline.function,
                "param_count": self.architecture.param_count(),
                "scoring": self.scoring.model_dump()}

    def reference_answer(self, ctx: GradingContext) -> Any:
        from grader.models.data import DataError, load_dataset

        try:
            dataset = load_dataset(self.data)
        except DataError as err:
            return {"baseline": None, "problem": str(err)}
        record = self._record(dataset)
        if record is None:
            return {"baseline": None, "problem": self._missing_record_text(dataset)}
        return {
            "baseline_accuracy": record.heldout_accuracy,
            "full_marks_from": round(record.heldout_accuracy - self.scoring.margin, 6),
            "chance": self._chance(dataset),
            "heldout_size": record.heldout_size,
            "data_fingerprint": record.data_fingerprint,
            "seed": record.seed,
            "train_seconds": record.train_seconds,
            "versions": record.versions,
        }

    def rubric_problems(self, compute: bool) -> list[str]:
        from reference import get_reference

        try:
            get_reference(self.baseline.function).validate(self.job_params())
        except KeyError as err:
            return [f"field baseline.function: {err.args[0]}"]
        except Exception as err:
            return [f"field baseline.params: {err}"]
        if not compute:
            return []
        from grader.models.data import DataError, load_dataset

        try:
            dataset = load_dataset(self.data)
        except DataError as err:
            return [f"field data: {err}"]
        if self._record(dataset) is None:
            return [f"field baseline: {self._missing_record_text(dataset)}"]
        return []

    def _record(self, dataset: Dataset) -> BaselineRecord | None:
        from grader.models.baselines import find_record

        return find_record(self.spec_sha256(), dataset.fingerprint)

    def _missing_record_text(self, dataset: Dataset) -> str:
        from grader.models.baselines import records_for_question

        stale = records_for_question(self.id)
        why = ("the recipe or data changed since the last baseline" if stale
               else "no baseline record")
        return (f"{why} for {dataset.description}: run `grader baseline ASSIGNMENT {self.id}`"
                + ("" if self.data.source == "embedded-digits" else " --data PATH"))

    def _chance(self, dataset: Dataset) -> float:
        return self.scoring.chance if self.scoring.chance is not None else 1 / dataset.num_classes

    # --- grading ----------------------------------------------------------------------------

    def grade(self, raw: Any, ctx: GradingContext) -> Verdict:
        if is_blank(raw):
            return Verdict(Status.MISSING, feedback="no answer was given")
        prepared = self.prepare(raw, ctx)
        if isinstance(prepared, Verdict):
            return prepared
        outcome = ctx.cache.get(_cache_key(ctx, self.id, prepared.request.data))
        if outcome is None:
            from grader.models.evaluate import evaluate_models

            outcome = evaluate_models([prepared.request])[self.id]
        if outcome.layer:
            ctx.sandbox_layer = outcome.layer
        return self.judge(prepared, outcome)

    def prepare(self, raw: Any, ctx: GradingContext) -> _Prepared | Verdict:
        """Everything before running the model: the file, its tensors, the data, the baseline."""
        from grader.models.evaluate import EvalRequest
        from grader.models.formats import ModelRefused, inspect_model_file
        from grader.models.matching import match_tensors

        try:
            path = _resolve(raw, ctx)
        except AnswerParseError as err:
            return Verdict(Status.INVALID, feedback=str(err), answer=str(raw)[:200])
        size = path.stat().st_size
        if size > self.limits.max_file_mb * 1024 * 1024:
            return Verdict(Status.ERROR, answer=path.name, feedback=(
                f"your file {path.name} is {size / 2**20:.1f} MB; at most "
                f"{self.limits.max_file_mb:g} MB are read"))
        data = path.read_bytes()
        try:
            model = inspect_model_file(path, data)
        except ModelRefused as err:
            return Verdict(Status.ERROR, feedback=str(err), answer=path.name,
                           details={"refused": True})
        match = match_tensors(self.architecture, model.tensors)
        if not match.ok:
            return self._wrong_architecture(path.name, model, match)
        context = self._evaluation_context()
        if isinstance(context, Verdict):
            context.answer = path.name
            return context
        dataset, record, inputs = context
        request = EvalRequest(self.id, data, model, self.architecture, match.mapping, inputs,
                              self.limits)
        return _Prepared(request, dataset, record, model, match, path.name)

    def _evaluation_context(self) -> tuple[Dataset, BaselineRecord, np.ndarray] | Verdict:
        from grader.models.data import DataError, load_dataset

        try:
            dataset = load_dataset(self.data)
            inputs = _heldout_inputs(self.data.model_dump_json(), self.preprocess.model_dump_json(),
                                     tuple(self.architecture.input))
        except DataError as err:
            return Verdict(Status.ERROR, feedback=f"the grader could not load the held-out data; "
                           f"{ASK_INSTRUCTOR}", details={"internal_error": str(err)})
        record = self._record(dataset)
        if record is None:
            return Verdict(Status.ERROR, feedback=f"the grader has no baseline to compare your "
                           f"model with; {ASK_INSTRUCTOR}",
                           details={"internal_error": self._missing_record_text(dataset)})
        return dataset, record, inputs

    def _wrong_architecture(self, filename: str, model: ModelFile, match: Match) -> Verdict:
        from grader.models.matching import shape_text

        feedback = (f"your model is not the architecture the question asks for "
                    f"({self.architecture.describe()}): " + "; ".join(match.problems[:8])
                    + ("; …" if len(match.problems) > 8 else "")
                    + f". Your file has {match.found_params:,} parameters; the architecture has "
                    f"{match.expected_params:,}")
        return Verdict(Status.INCORRECT, 0.0, feedback, answer=_describe_file(filename, model),
                       expected=self.architecture.describe(),
                       mistake="wrong_architecture",
                       details={"problems": _first(match.problems),
                                "found_params": match.found_params,
                                "expected_params": match.expected_params,
                                "expected_tensors": [f"{t.name or t.key} {shape_text(t.shape)}"
                                                     for t in self.architecture.expected_tensors()],
                                "found_tensors": _first([f"{t.name} {shape_text(t.shape)}"
                                                         for t in model.tensors.values()])})

    def judge(self, prepared: _Prepared, outcome: EvalOutcome) -> Verdict:
        answer = _describe_file(prepared.filename, prepared.model)
        failure = _failure(outcome, self.limits, len(prepared.dataset.y_heldout))
        if failure is not None:
            failure.answer = answer
            return failure
        assert outcome.predictions is not None
        return self._score(prepared, outcome, answer)

    def _score(self, prepared: _Prepared, outcome: EvalOutcome, answer: str) -> Verdict:
        from grader.models.metrics import compute_metrics

        dataset, record = prepared.dataset, prepared.record
        assert outcome.predictions is not None
        metrics = compute_metrics(dataset.y_heldout, outcome.predictions, dataset.classes)
        chance = self._chance(dataset)
        full_at = record.heldout_accuracy - self.scoring.margin
        credit = accuracy_credit(metrics.accuracy, full_at, chance)
        band = chance_band(chance, metrics.total)
        at_chance = credit < 1 and metrics.accuracy <= chance + band
        if at_chance:  # no better than guessing, within the held-out set's sampling noise
            credit = 0.0
        status = (Status.CORRECT if credit >= 1 else Status.PARTIAL if credit > 0
                  else Status.INCORRECT)
        feedback = (f"your model reaches {metrics.accuracy:.1%} accuracy on {metrics.total} "
                    f"held-out images ({metrics.correct} right); the reference recipe reaches "
                    f"{record.heldout_accuracy:.1%}: full marks from {full_at:.1%}, none at "
                    f"{chance:.1%} (chance)")
        if at_chance:
            feedback += (f"; your model is at chance: no better than guessing (up to "
                         f"{chance + band:.1%} on {metrics.total} images), so it earns no points")
        if status is Status.PARTIAL:
            feedback += f"; {full_at - metrics.accuracy:.1%} short of full marks"
        if outcome.nonfinite_rows:
            feedback += (f". {outcome.nonfinite_rows} images gave NaN or infinite outputs and "
                         "count as wrong")
        feedback += f". Per class: {metrics.per_class_text()}"
        if metrics.confused and self.scoring.confused_pairs:
            feedback += f". Most confused: {metrics.confused_text(self.scoring.confused_pairs)}"
        details = {
            "accuracy": metrics.accuracy, "correct": metrics.correct,
            "heldout_size": metrics.total, "baseline_accuracy": record.heldout_accuracy,
            "full_marks_from": full_at, "chance": chance, "at_chance": at_chance,
            "per_class_accuracy": metrics.per_class,
            "confused_pairs": [list(p) for p in metrics.confused[:10]],
            "param_count": prepared.match.found_params, "format": prepared.model.format,
        }
        costs = {"model_eval_seconds": round(outcome.seconds, 3),
                 "model_worker_seconds": round(outcome.worker_seconds, 3),
                 "model_peak_rss_mb": round(outcome.peak_rss_mb, 1)}
        return Verdict(status, round(credit, 6), feedback, answer=answer,
                       expected=f"{record.heldout_accuracy:.1%} (baseline)", details=details, costs=costs)


def chance_band(chance: float, heldout: int) -> float:
    """How far above chance guessing lands by luck: two standard errors of a guesser's accuracy
    on `heldout` images. A model within it is at chance and earns nothing."""
    if heldout <= 0 or not 0 < chance < 1:
        return 0.0
    return 2 * math.sqrt(chance * (1 - chance) / heldout)


def accuracy_credit(accuracy: float, full_at: float, chance: float) -> float:
    """0 at chance, 1 from `full_at`, linear between."""
    if accuracy >= full_at:
        return 1.0
    if full_at <= chance or accuracy <= chance:
        return 0.0
    return (accuracy - chance) / (full_at - chance)


def _failure(outcome: EvalOutcome, limits: ModelLimits, expected_rows: int) -> Verdict | None:
    reason = outcome.reason.removeprefix("worker: ")
    if outcome.status == "timeout":
        return Verdict(Status.ERROR, feedback=f"your model did not finish evaluating within "
                       f"{limits.wall_seconds:g} s", details={"reason": reason})
    if outcome.status == "memory":
        return Verdict(Status.ERROR, feedback=f"your model needed more than {limits.memory_mb} MB "
                       "of memory to evaluate", details={"reason": reason})
    if outcome.status in ("error", "shape"):
        return Verdict(Status.ERROR, feedback=f"your model could not be evaluated: {reason}",
                       details={"reason": reason})
    if outcome.predictions is None or len(outcome.predictions) != expected_rows:
        return Verdict(Status.ERROR, feedback="your model could not be evaluated: the worker "
                       f"returned no predictions; {ASK_INSTRUCTOR}", details={"reason": reason})
    if outcome.nonfinite_rows == expected_rows:
        weights = (f" ({outcome.nonfinite_weights:,} of its weights are NaN or infinite: did "
                   "training diverge?)") if outcome.nonfinite_weights else ""
        return Verdict(Status.INCORRECT, 0.0, f"your model outputs NaN or infinity for all "
                       f"{expected_rows} held-out images{weights}",
                       details={"nonfinite_weights": outcome.nonfinite_weights})
    return None


def _resolve(raw: Any, ctx: GradingContext) -> Path:
    from grader.core.submission import Submission

    named = Path(raw.strip()) if isinstance(raw, str) else None
    if named is not None and (named.is_absolute() or ".." in named.parts):
        raise AnswerParseError(f"your answer {raw!r} points outside your submission")
    if ctx.submission_root is None:
        raise AnswerParseError("this question needs a file, so submit a folder or a zip")
    holder = Submission(id="", source=ctx.submission_root, root=ctx.submission_root)
    return holder.resolve_file(raw)


def _first(items: list[str], limit: int = 50) -> list[str]:
    """A list for the report, bounded: a file may hold thousands of tensors."""
    return items if len(items) <= limit else [*items[:limit], f"… and {len(items) - limit:,} more"]


def _describe_file(filename: str, model: ModelFile) -> str:
    params = sum(t.numel for t in model.tensors.values())
    inside = f", key {model.container_key!r}" if model.container_key else ""
    return (f"{filename} ({model.format}{inside}, {len(model.tensors)} tensors, "
            f"{params:,} parameters)")


@lru_cache(maxsize=16)
def _heldout_inputs(data_json: str, preprocess_json: str, shape: tuple[int, ...]) -> np.ndarray:
    from grader.models.data import load_dataset, prepare_inputs

    dataset = load_dataset(DataSource.model_validate_json(data_json))
    inputs = prepare_inputs(dataset.x_heldout, Preprocess.model_validate_json(preprocess_json),
                            shape, dataset.x_train)
    inputs.setflags(write=False)
    return inputs


def _cache_key(ctx: GradingContext, question_id: str, data: bytes) -> str:
    return "model-eval:" + json.dumps([str(ctx.submission_root), question_id,
                                       hashlib.sha256(data).hexdigest()])


def prefetch_models(questions: list[QuestionBase], answers: dict[str, Any],
                    ctx: GradingContext) -> int:
    """Evaluate every model question of a submission in one worker call (one torch import) and
    leave the outcomes in `ctx.cache`, where `grade` finds them. Returns how many ran. A
    grading loop calls this once per submission before grading its questions."""
    prepared: list[_Prepared] = []
    for question in questions:
        raw = answers.get(question.id)
        if isinstance(question, ModelQuestion) and not is_blank(raw):
            try:
                ready = question.prepare(raw, ctx)
            except Exception:  # grade() will report it properly
                continue
            if not isinstance(ready, Verdict):
                prepared.append(ready)
    by_limits: dict[str, list[_Prepared]] = {}
    for item in prepared:  # one worker per set of limits: a tight limit stays tight
        by_limits.setdefault(item.request.limits.model_dump_json(), []).append(item)
    for group in by_limits.values():
        from grader.models.evaluate import evaluate_models

        outcomes = evaluate_models([p.request for p in group])
        for item in group:
            ctx.cache[_cache_key(ctx, item.request.id, item.request.data)] = outcomes[item.request.id]
    return len(prepared)
