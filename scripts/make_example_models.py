"""Regenerate the model files of `submissions_example/` from the built-in rubrics' recipes.

    python scripts/make_example_models.py [--check]

Each file is trained on the embedded digits with the question's reference recipe and another
seed (or fewer iterations, or another architecture), seeded and deterministic, and saved the way
a student would save it. On one machine safetensors files come out byte-identical; `torch.save`
archives carry a random serialization id. Another CPU trains other weights (torch picks AVX-512 or
AVX2 kernels, which round differently, and a long training amplifies it: up to 0.69 apart), so
`--check` compares what the examples are for: the same tensors (names, shapes, dtypes) and a
held-out accuracy within ACCURACY_TOLERANCE of a fresh training's; the largest weight difference
is printed for information.

| submission | file | what |
| --- | --- | --- |
| csc420-a2/alice | model.safetensors | good MLP (fc1/fc2, float16 to keep the file small) |
| csc420-a2/bob | model.pt | wrong architecture: 100 hidden units (nn.Sequential names) |
| csc420-a2/dave | model.pt | refused: a whole pickled module, torch.save(model) |
| tdt4265-a2/alice | model.safetensors | good starter-code network (w0 785×64, w1 64×10) |
| tdt4265-a2/bob | model.pt | weak: 25 iterations of training |
| apl405-hw2/alice | fnn.safetensors, fivelayers.pt, cnn.safetensors | good |
|  |  | (fivelayers.pt is a checkpoint dict: {"iteration", "model_state_dict"}) |
| apl405-hw2/bob | cnn.safetensors | wrong architecture: third convolution without padding |
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.checkers.model import ModelQuestion  # noqa: E402
from grader.core.rubric import load_rubric, resolve_assignment  # noqa: E402
from grader.models.build import SpecNetwork, export_tensors, load_into, predict  # noqa: E402
from grader.models.data import embedded_digits, prepare_inputs  # noqa: E402
from reference.training import BaselineJob, train_network  # noqa: E402

EXAMPLES = ROOT / "submissions_example"
ACCURACY_TOLERANCE = 0.03  # held-out accuracy: file against a fresh training (500 images)


def question(assignment: str, question_id: str) -> ModelQuestion:
    q = load_rubric(resolve_assignment(assignment)).rubric.question(question_id)
    assert isinstance(q, ModelQuestion)
    return q


JOBS: dict[int, BaselineJob] = {}  # id(network) -> the job that trained it (its preprocessing)


def train(q: ModelQuestion, *, seed: int, iterations: int | None = None,
          layers: list[dict[str, Any]] | None = None) -> SpecNetwork:
    params = q.job_params()
    params["recipe"] = {**params["recipe"], "seed": seed}
    if iterations is not None:
        params["recipe"]["iterations"] = iterations
    if layers is not None:
        params["architecture"] = {**params["architecture"], "layers": layers}
    job = BaselineJob.model_validate(params)
    net = train_network(job, embedded_digits()).net
    JOBS[id(net)] = job
    return net


def names(net: SpecNetwork, style: str) -> dict[str, str]:
    """File names for the network's tensors: the rubric's own names, fc1/fc2, or nn.Sequential."""
    out = {}
    layers = sorted({t.layer for t in net.arch.expected_tensors()})
    for t in net.arch.expected_tensors():
        if style == "rubric":
            out[t.key] = t.name or t.key
        elif style == "fc":
            out[t.key] = f"fc{1 + layers.index(t.layer)}.{t.role}"
        else:
            out[t.key] = f"{t.layer}.{t.role}"
    return out


TRAINED: dict[int, tuple[SpecNetwork, dict[str, str]]] = {}  # id(tensors) -> network, file names


def tensors(net: SpecNetwork, style: str,
            dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    found = {k: v.to(dtype) for k, v in export_tensors(net, names(net, style)).items()}
    TRAINED[id(found)] = (net, names(net, style))
    return found


def accuracy(net: SpecNetwork, weights: dict[str, torch.Tensor], mapping: dict[str, str]) -> float:
    """Held-out accuracy of `weights` in `net`'s architecture, as the recipe preprocesses."""
    job, data = JOBS[id(net)], embedded_digits()
    copy = SpecNetwork(net.arch)
    load_into(copy, weights, mapping)
    x = prepare_inputs(data.x_heldout, job.preprocess, tuple(job.architecture.input), data.x_train)
    _, predicted = predict(copy, torch.from_numpy(x), 512)
    return float((predicted.numpy() == data.y_heldout).mean())


class Net(torch.nn.Module):
    """A student's own module class, pickled whole by torch.save(model): refused by the grader."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 16)
        self.fc2 = torch.nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.fc2(torch.relu(self.fc1(x)))
        return out


def build_all() -> dict[Path, dict[str, torch.Tensor] | torch.nn.Module | dict[str, Any]]:
    csc = question("csc420-a2", "p2_mlp_model")
    tdt = question("tdt4265-a2", "t2_model")
    fnn = question("apl405-hw2", "q4_v_model")
    five = question("apl405-hw2", "q4_xiii_model")
    cnn = question("apl405-hw2", "q5_ii_model")
    narrow: list[dict[str, Any]] = [{"type": "linear", "out_features": 100}, {"type": "relu"},
                                    {"type": "linear", "out_features": 10}]
    unpadded = [layer.model_dump(exclude_none=True) for layer in cnn.architecture.layers]
    unpadded[4]["padding"] = 0
    torch.manual_seed(0)
    half = torch.float16  # 795,010 weights: 1.5 MB instead of 3 MB
    return {
        EXAMPLES / "csc420-a2/alice/model.safetensors": tensors(train(csc, seed=1), "fc", half),
        EXAMPLES / "csc420-a2/bob/model.pt": tensors(train(csc, seed=2, layers=narrow), "nn"),
        EXAMPLES / "csc420-a2/dave/model.pt": Net(),
        EXAMPLES / "tdt4265-a2/alice/model.safetensors": tensors(train(tdt, seed=1), "rubric"),
        EXAMPLES / "tdt4265-a2/bob/model.pt": tensors(train(tdt, seed=2, iterations=25), "rubric"),
        EXAMPLES / "apl405-hw2/alice/fnn.safetensors": tensors(train(fnn, seed=1), "rubric"),
        EXAMPLES / "apl405-hw2/alice/fivelayers.pt": {
            "iteration": 1000, "model_state_dict": tensors(train(five, seed=1), "rubric")},
        EXAMPLES / "apl405-hw2/alice/cnn.safetensors": tensors(train(cnn, seed=1), "rubric"),
        EXAMPLES / "apl405-hw2/bob/cnn.safetensors": tensors(train(cnn, seed=2, layers=unpadded),
                                                             "rubric"),
    }


def save(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".safetensors":
        save_file(obj, str(path))
    else:
        torch.save(obj, str(path))


def compare(path: Path, obj: Any) -> tuple[bool, str]:
    """Whether the file still is what a fresh training makes of its recipe, and the figures."""
    if not path.is_file():
        return False, "missing"
    if isinstance(obj, torch.nn.Module):
        return True, "refused by design: its bytes do not matter"
    if path.suffix == ".safetensors":
        loaded: Any = load_file(str(path))
    else:
        loaded = torch.load(str(path), weights_only=True)
    old, new = loaded.get("model_state_dict", loaded), obj.get("model_state_dict", obj)
    same_tensors = set(old) == set(new) and all(
        old[k].shape == new[k].shape and old[k].dtype == new[k].dtype for k in new)
    if not same_tensors:
        return False, "other tensors (names, shapes or dtypes)"
    net, mapping = TRAINED[id(new)]
    got, fresh = accuracy(net, old, mapping), accuracy(net, new, mapping)
    gap = max(float((old[k].float() - new[k].float()).abs().max()) for k in new)
    figures = f"held-out accuracy {got:.3f}, fresh {fresh:.3f}; max |Δw| {gap:.2g}"
    return abs(got - fresh) <= ACCURACY_TOLERANCE, figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the files; write nothing")
    args = parser.parse_args()
    differ = 0
    for path, obj in build_all().items():
        relative = path.relative_to(ROOT)
        if args.check:
            same, figures = compare(path, obj)
            differ += not same
            print(f"{'same' if same else 'DIFFERS'}  {relative}  ({figures})")
        else:
            save(path, obj)
            print(f"wrote {relative} ({path.stat().st_size / 1024:.0f} KB)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
