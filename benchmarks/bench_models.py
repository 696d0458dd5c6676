"""How long model evaluation takes, and how much memory the worker needs.

    python benchmarks/bench_models.py [--repeat 3] [--large 10000]

For each reference architecture (the built-in model questions, with the good example models of
`submissions_example/`) it times the grader's checks (format sniffing, tensor listing, matching),
then the sandboxed worker on the embedded held-out set (500 images) and on a larger set (10,000
images: the 1,797 embedded digits shifted by up to 2 pixels), as the grader runs it: one worker
call, wall time including Python's start and torch's import, and the worker's own inference time
and peak resident memory. Last, one call evaluating the three APL405 models together.
Figures are medians over `--repeat` runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.checkers.model import ModelQuestion  # noqa: E402
from grader.core.rubric import load_rubric, resolve_assignment  # noqa: E402
from grader.models.data import embedded_digits, load_dataset, prepare_inputs  # noqa: E402
from grader.models.evaluate import EvalOutcome, EvalRequest, evaluate_models  # noqa: E402
from grader.models.formats import inspect_model_file  # noqa: E402
from grader.models.matching import match_tensors  # noqa: E402

CASES = [
    ("csc420-a2", "p2_mlp_model", "csc420-a2/alice/model.safetensors"),
    ("tdt4265-a2", "t2_model", "tdt4265-a2/alice/model.safetensors"),
    ("apl405-hw2", "q4_v_model", "apl405-hw2/alice/fnn.safetensors"),
    ("apl405-hw2", "q4_xiii_model", "apl405-hw2/alice/fivelayers.pt"),
    ("apl405-hw2", "q5_ii_model", "apl405-hw2/alice/cnn.safetensors"),
]


def large_images(count: int) -> np.ndarray:
    data = embedded_digits()
    pool = np.concatenate([data.x_train, data.x_heldout])
    rng = np.random.default_rng(0)
    picks = pool[rng.integers(0, len(pool), count)]
    shifts = rng.integers(-2, 3, size=(count, 2))
    moved = [np.roll(img, tuple(s), axis=(0, 1)) for img, s in zip(picks, shifts, strict=True)]
    return np.stack(moved)


def request(assignment: str, qid: str, relative: str,
            images: np.ndarray | None) -> tuple[EvalRequest, float]:
    q = load_rubric(resolve_assignment(assignment)).rubric.question(qid)
    assert isinstance(q, ModelQuestion)
    path = ROOT / "submissions_example" / relative
    started = time.perf_counter()
    data = path.read_bytes()
    model = inspect_model_file(path, data)
    match = match_tensors(q.architecture, model.tensors)
    checks = time.perf_counter() - started
    assert match.ok, match.problems
    dataset = load_dataset(q.data)
    chosen = dataset.x_heldout if images is None else images
    inputs = prepare_inputs(chosen, q.preprocess, tuple(q.architecture.input), dataset.x_train)
    return EvalRequest(qid, data, model, q.architecture, match.mapping, inputs, q.limits), checks


def timed(requests: list[EvalRequest]) -> tuple[float, dict[str, EvalOutcome]]:
    started = time.perf_counter()
    outcomes = evaluate_models(requests)
    wall = time.perf_counter() - started
    for outcome in outcomes.values():
        assert outcome.status == "ok", outcome.reason
    return wall, outcomes


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large", type=int, default=10_000)
    args = parser.parse_args()
    big = large_images(args.large)
    print(f"| model | params | checks ms | {500} imgs: call s / inference s / peak MB "
          f"| {args.large:,} imgs: call s / inference s / peak MB |")
    print("| --- | ---: | ---: | --- | --- |")
    for assignment, qid, relative in CASES:
        row = []
        checks_ms = 0.0
        for images in (None, big):
            walls, inference, peaks = [], [], []
            for _ in range(args.repeat):
                req, checks = request(assignment, qid, relative, images)
                checks_ms = checks * 1000
                wall, outcomes = timed([req])
                walls.append(wall)
                inference.append(outcomes[qid].seconds)
                peaks.append(outcomes[qid].peak_rss_mb)
            row.append(f"{median(walls):.2f} / {median(inference):.3f} / {max(peaks):.0f}")
        params = req.architecture.param_count()
        print(f"| {assignment} {qid} | {params:,} | {checks_ms:.1f} | {row[0]} | {row[1]} |")
    apl = [c for c in CASES if c[0] == "apl405-hw2"]
    batch = [median([timed([request(*c, None)[0] for c in apl])[0] for _ in range(args.repeat)])]
    alone = [median([timed([request(*c, None)[0]])[0] for _ in range(args.repeat)]) for c in apl]
    print(f"\nAPL405's three models of one submission: one worker call {batch[0]:.2f} s, "
          f"three calls {sum(alone):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
