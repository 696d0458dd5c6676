"""Reference training: the recipe a sheet describes, trained seeded and deterministic on the CPU.

`train_classifier` is the reference function of model questions. Its params are the question's
architecture, preprocessing and data (filled in by the model checker) and the `recipe` the rubric
writes: optimiser, learning rate and schedule, batch size, iterations, initialisation and seed.
It returns a baseline record; `grader baseline` writes it to `reference/baselines/`.

Determinism: `torch.manual_seed(seed)`, a seeded generator for the shuffles,
`torch.use_deterministic_algorithms(True)` and a fixed thread count (1 by default). The same
machine gives the same accuracy bit for bit; another CPU's BLAS may differ in the last digits of
the weights, so tests compare accuracies within a stated tolerance.

The loss is cross-entropy on the network's output before a final softmax, which is the sheets'
`crossentropy(softmax(z))` computed stably. Torch is imported when training starts, never when the
module is imported (rubric loading imports it to validate params).
"""

from __future__ import annotations

import math
import platform
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from grader.models.spec import Architecture, DataSource, Preprocess
from reference.params import StrictParams
from reference.registry import reference

if TYPE_CHECKING:
    import numpy as np

    from grader.models.build import SpecNetwork
    from grader.models.data import Dataset


class Init(StrictParams):
    """Weight initialisation: torch's default (uniform ±1/√fan_in, as nn.Linear and nn.Conv2d),
    `normal` with `std` (the APL405 sheet's `0.1 * torch.randn`), or `uniform` in ±`bound` (the
    TDT4265 starter code's U(−1, 1)). `bias`: a constant, or null for the scheme's default
    (torch's uniform, zeros for the others)."""

    weight: Literal["torch_default", "normal", "uniform"] = "torch_default"
    std: float = Field(0.1, gt=0)
    bound: float = Field(1.0, gt=0)
    bias: float | None = None


class Schedule(StrictParams):
    """Learning rate over iterations t: constant; `exp_decay`: lr_min + (lr − lr_min)·e^(−t/tau)
    (APL405 Q5 iii); `step`: lr·gamma^⌊t/step_size⌋ (StepLR)."""

    kind: Literal["constant", "exp_decay", "step"] = "constant"
    lr_min: float = Field(0.0001, ge=0)
    tau: float = Field(2000.0, gt=0)
    step_size: int = Field(1000, gt=0)
    gamma: float = Field(0.1, gt=0)


class Recipe(StrictParams):
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = Field(gt=0)
    momentum: float = Field(0.0, ge=0, lt=1)
    batch_size: int = Field(gt=0)
    iterations: int = Field(gt=0, le=1_000_000)
    schedule: Schedule = Field(default_factory=Schedule)
    init: Init = Field(default_factory=Init)
    seed: int = 0
    threads: int = Field(1, gt=0, le=16)


class BaselineJob(StrictParams):
    architecture: Architecture
    preprocess: Preprocess = Field(default_factory=Preprocess)
    data: DataSource = Field(default_factory=DataSource)
    recipe: Recipe


@dataclass
class TrainingResult:
    net: SpecNetwork
    heldout_predictions: np.ndarray
    seconds: float


def learning_rate(recipe: Recipe, iteration: int) -> float:
    schedule = recipe.schedule
    if schedule.kind == "exp_decay":
        return schedule.lr_min + (recipe.lr - schedule.lr_min) * math.exp(-iteration / schedule.tau)
    if schedule.kind == "step":
        return recipe.lr * schedule.gamma ** (iteration // schedule.step_size)
    return recipe.lr


def train_network(job: BaselineJob, dataset: Dataset) -> TrainingResult:
    """Train the architecture on the data's training part; predict its held-out part."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from grader.models.build import SpecNetwork, predict
    from grader.models.data import prepare_inputs

    recipe, arch = job.recipe, job.architecture
    shape = tuple(arch.input)
    x_train = prepare_inputs(dataset.x_train, job.preprocess, shape, dataset.x_train)
    x_held = prepare_inputs(dataset.x_heldout, job.preprocess, shape, dataset.x_train)
    _deterministic(recipe)
    net = SpecNetwork(arch)
    _initialise(net, recipe.init)
    optimiser = _optimiser(net, recipe)
    inputs, targets = torch.from_numpy(x_train), torch.from_numpy(dataset.y_train)
    shuffler = torch.Generator().manual_seed(recipe.seed)
    started = time.perf_counter()
    net.train()
    order, position = torch.randperm(len(targets), generator=shuffler), 0
    for iteration in range(recipe.iterations):
        if position + recipe.batch_size > len(order):
            order, position = torch.randperm(len(targets), generator=shuffler), 0
        batch = order[position:position + recipe.batch_size]
        position += recipe.batch_size
        for group in optimiser.param_groups:
            group["lr"] = learning_rate(recipe, iteration)
        loss = F.cross_entropy(net.logits(inputs[batch]), targets[batch])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
    seconds = time.perf_counter() - started
    _, predicted = predict(net, torch.from_numpy(x_held), 512)
    return TrainingResult(net, np.asarray(predicted.numpy(), dtype=np.int64), seconds)


def _deterministic(recipe: Recipe) -> None:
    import torch

    torch.manual_seed(recipe.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(recipe.threads)


def _initialise(net: SpecNetwork, init: Init) -> None:
    import torch

    with torch.no_grad():
        for tensor in net.arch.expected_tensors():
            param = net.param(tensor.key)
            fan_in = _fan_in(net.arch, tensor.layer)
            if tensor.role == "weight":
                if init.weight == "normal":
                    param.normal_(0.0, init.std)
                elif init.weight == "uniform":
                    param.uniform_(-init.bound, init.bound)
                else:
                    param.uniform_(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
            elif init.bias is not None:
                param.fill_(init.bias)
            elif init.weight == "torch_default":
                param.uniform_(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
            else:
                param.zero_()


def _fan_in(arch: Architecture, layer: int) -> int:
    weight = next(t for t in arch.expected_tensors() if t.layer == layer and t.role == "weight")
    spec = arch.layers[layer]
    if getattr(spec, "layout", "out_in") == "in_out":
        return weight.shape[0]
    return math.prod(weight.shape[1:])


def _optimiser(net: SpecNetwork, recipe: Recipe) -> Any:
    import torch

    if recipe.optimizer == "adam":
        return torch.optim.Adam(net.parameters(), lr=recipe.lr)
    return torch.optim.SGD(net.parameters(), lr=recipe.lr, momentum=recipe.momentum)


def versions() -> dict[str, str]:
    import numpy
    import torch

    import grader

    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": numpy.__version__, "grader": grader.__version__,
            "machine": platform.machine()}


@reference("train_classifier", BaselineJob)
def train_classifier(job: BaselineJob) -> dict[str, Any]:
    """Train the recipe on the data's training part; the record of its held-out accuracy."""
    from grader.models.data import load_dataset
    from grader.models.metrics import compute_metrics

    dataset = load_dataset(job.data)
    result = train_network(job, dataset)
    metrics = compute_metrics(dataset.y_heldout, result.heldout_predictions, dataset.classes)
    return {
        "heldout_accuracy": metrics.accuracy,
        "heldout_correct": metrics.correct,
        "heldout_size": metrics.total,
        "per_class_accuracy": metrics.per_class,
        "train_size": len(dataset.y_train),
        "data_fingerprint": dataset.fingerprint,
        "data_description": dataset.description,
        "train_seconds": round(result.seconds, 3),
        "seed": job.recipe.seed,
        "iterations": job.recipe.iterations,
        "threads": job.recipe.threads,
        "versions": versions(),
    }
