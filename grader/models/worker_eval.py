"""The evaluation worker, run inside the sandbox: `python -m grader.models.worker_eval job.json`.

For each task: check the bytes again (the same format rules as the grader), load the weights
(`safetensors.torch.load`, or `torch.load(..., weights_only=True)`, never a pickle_module), check
every mapped tensor's shape, build the rubric's architecture, run inference in bounded batches
and write argmax predictions (−1 for rows with non-finite outputs) to `predictions.npz` and the
outcomes to `result.json`. One task's failure never stops the others.
"""

from __future__ import annotations

import io
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from grader.models.jobs import (
    INPUT_ARRAY,
    PREDICTIONS_FILE,
    EvalJob,
    EvalResult,
    EvalTask,
    TaskOutcome,
)

RESULT_FILE = "result.json"


def main(argv: list[str]) -> int:
    job = EvalJob.model_validate_json(Path(argv[0]).read_text(encoding="utf-8"))
    started = time.perf_counter()
    import torch

    torch.set_num_threads(job.threads)
    torch.set_grad_enabled(False)
    result = EvalResult(import_seconds=time.perf_counter() - started,
                        torch_version=torch.__version__)
    predictions: dict[str, np.ndarray] = {}
    for task in job.tasks:
        began = time.perf_counter()
        try:
            outcome, predicted = evaluate_task(task, job.batch_size)
        except Exception as err:  # a broken model is an outcome, not a worker crash
            outcome, predicted = TaskOutcome(status="error", reason=_reason(err)), None
        outcome.seconds = time.perf_counter() - began
        result.tasks[task.id] = outcome
        if predicted is not None:
            predictions[task.id] = predicted
    np.savez(PREDICTIONS_FILE, **predictions)  # type: ignore[arg-type]
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(RESULT_FILE).write_text(result.model_dump_json(), encoding="utf-8")
    return 0


def _reason(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:300]}" if text else type(err).__name__


def load_weights(data: bytes, fmt: str, container_key: str | None) -> dict[str, Any]:
    import torch

    if fmt == "safetensors":
        from safetensors.torch import load

        return dict(load(data))
    loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    if container_key is not None:
        loaded = loaded[container_key]
    if not isinstance(loaded, dict):
        raise ValueError("the file does not hold a state_dict")
    return dict(loaded)


def evaluate_task(task: EvalTask, batch_size: int) -> tuple[TaskOutcome, np.ndarray | None]:
    import torch

    from grader.models.build import SpecNetwork, load_into, predict
    from grader.models.formats import inspect_model_file

    data = Path(task.file).read_bytes()
    suffix = ".safetensors" if task.format == "safetensors" else ".pt"
    inspected = inspect_model_file(Path("model" + suffix), data)  # the same rules, again
    if inspected.format != task.format:
        raise ValueError("the model file changed between checking and loading")
    tensors = load_weights(data, task.format, task.container_key)
    nonfinite = sum(int((~torch.isfinite(tensors[name].float())).sum())
                    for name in task.mapping.values())
    net = SpecNetwork(task.architecture)
    load_into(net, tensors, task.mapping)
    with np.load(task.inputs, allow_pickle=False) as archive:
        inputs = torch.from_numpy(archive[INPUT_ARRAY])
    scores, _ = predict(net, inputs, batch_size)
    expected = (inputs.shape[0], *task.architecture.output_shape)
    if tuple(scores.shape) != expected:
        return TaskOutcome(status="shape", reason=f"the output has shape {list(scores.shape)}, "
                           f"expected {list(expected)}"), None
    finite_rows = torch.isfinite(scores).all(dim=1)
    predicted = torch.where(finite_rows, scores.argmax(dim=1), torch.full_like(finite_rows, -1,
                                                                               dtype=torch.int64))
    bad_rows = int((~finite_rows).sum())
    status = "nonfinite" if bad_rows else "ok"
    return (TaskOutcome(status=status, nonfinite_rows=bad_rows, nonfinite_weights=nonfinite),
            predicted.numpy().astype(np.int64))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
