"""The grader's side of an evaluation: hand checked model files to the worker in the sandbox.

Torch is never imported here. Several models of one submission go to one worker call, so the
cost of starting Python and importing torch (about a second) is paid once per submission, or once
per batch worker when `grader.models.pool` keeps the evaluator alive; if that call fails as a
whole (time, memory, crash) and held several models, each is retried alone, so one bad model
cannot sink the others.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from grader.models.formats import ModelFile
from grader.models.jobs import (
    INPUT_ARRAY,
    JOB_FILE,
    PREDICTIONS_FILE,
    EvalJob,
    EvalResult,
    EvalTask,
    TaskOutcome,
)
from grader.models.spec import Architecture, ModelLimits

if TYPE_CHECKING:
    from grader.sandbox import Limits

WORKER = "grader.models.worker_eval"


@dataclass
class EvalRequest:
    id: str
    data: bytes
    model: ModelFile
    architecture: Architecture
    mapping: dict[str, str]
    inputs: np.ndarray
    limits: ModelLimits


@dataclass
class EvalOutcome:
    status: Literal["ok", "nonfinite", "shape", "error", "timeout", "memory"]
    reason: str = ""
    predictions: np.ndarray | None = None
    seconds: float = 0.0
    worker_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    nonfinite_rows: int = 0
    nonfinite_weights: int = 0
    layer: str = ""


def evaluate_models(requests: list[EvalRequest]) -> dict[str, EvalOutcome]:
    if not requests:
        return {}
    outcomes = _run_batch(requests)
    failed = [r for r in requests if outcomes[r.id].status in ("timeout", "memory")
              or (outcomes[r.id].status == "error" and outcomes[r.id].reason.startswith("worker"))]
    if len(requests) > 1 and failed:
        for request in failed:
            outcomes.update(_run_batch([request]))
    return outcomes


def _npz_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{INPUT_ARRAY: array})  # type: ignore[arg-type]
    return buffer.getvalue()


def _run_batch(requests: list[EvalRequest]) -> dict[str, EvalOutcome]:
    from grader.sandbox import run_python

    inputs: dict[str, bytes] = {}
    tasks = []
    for index, request in enumerate(requests):
        digest = hashlib.sha256(f"{request.inputs.dtype.str}{request.inputs.shape}".encode()
                                + request.inputs.tobytes()).hexdigest()[:16]
        inputs_name = f"x-{digest}.npz"
        if inputs_name not in inputs:
            inputs[inputs_name] = _npz_bytes(request.inputs)
        model_name = f"model-{index}.bin"
        inputs[model_name] = request.data
        tasks.append(EvalTask(id=request.id, file=model_name, format=request.model.format,
                              container_key=request.model.container_key,
                              architecture=request.architecture, mapping=request.mapping,
                              inputs=inputs_name))
    limits = [r.limits for r in requests]
    job = EvalJob(tasks=tasks, batch_size=min(x.batch_size for x in limits),
                  threads=min(x.threads for x in limits))
    inputs[JOB_FILE] = job.model_dump_json().encode()
    box = box_limits(limits)
    from grader.models import pool

    if pool.reuse_enabled():
        result = pool.run(inputs, [JOB_FILE], box, (PREDICTIONS_FILE,))
    else:
        result = run_python(WORKER, [JOB_FILE], student_dir=None, inputs=inputs, limits=box,
                            collect=(PREDICTIONS_FILE,))
    return _outcomes(requests, result)


def box_limits(limits: list[ModelLimits]) -> Limits:
    """The sandbox limits of one evaluation call for models with these limits."""
    from grader.sandbox import Limits

    wall = max(x.wall_seconds for x in limits)
    threads = min(x.threads for x in limits)
    return Limits(wall_seconds=wall, cpu_seconds=wall * threads,
                  memory_mb=max(x.memory_mb for x in limits), file_mb=64)


def _outcomes(requests: list[EvalRequest], result: object) -> dict[str, EvalOutcome]:
    from grader.sandbox import SandboxResult

    assert isinstance(result, SandboxResult)
    if result.status != "ok" or result.result is None:
        status: Literal["timeout", "memory", "error"] = (
            "timeout" if result.status == "timeout"
            else "memory" if result.status == "memory" else "error")
        reason = result.reason or f"the evaluation stopped ({result.status})"
        return {r.id: EvalOutcome(status, f"worker: {reason}", seconds=result.seconds,
                                  layer=result.layer) for r in requests}
    parsed = EvalResult.model_validate(result.result)
    predictions = _read_predictions(result.files.get(PREDICTIONS_FILE))
    outcomes = {}
    for request in requests:
        task = parsed.tasks.get(request.id, TaskOutcome(status="error", reason="no result"))
        outcomes[request.id] = EvalOutcome(
            task.status, task.reason, predictions.get(request.id), task.seconds, result.seconds,
            parsed.peak_rss_mb, task.nonfinite_rows, task.nonfinite_weights, result.layer)
    return outcomes


def _read_predictions(data: bytes | None) -> dict[str, np.ndarray]:
    if not data:
        return {}
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name].astype(np.int64) for name in archive.files}
