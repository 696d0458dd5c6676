"""The network an architecture describes, in torch (imported only by the worker and by training).

One module runs every layer list: its tensors live in a ParameterDict under the architecture's
internal keys (`l0.weight` is stored as `l0_weight`), so loading a student's file is a renaming
given by `matching.match_tensors`.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from grader.models.spec import (
    ActivationLayer,
    Architecture,
    Conv2dLayer,
    DropoutLayer,
    FlattenLayer,
    LinearLayer,
    PoolLayer,
)


def _slot(key: str) -> str:
    return key.replace(".", "_")


class SpecNetwork(nn.Module):
    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.arch = arch
        self.tensors = nn.ParameterDict({
            _slot(t.key): nn.Parameter(torch.zeros(t.shape)) for t in arch.expected_tensors()
        })

    def param(self, key: str) -> torch.Tensor:
        tensor: torch.Tensor = self.tensors[_slot(key)]
        return tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x, logits=False)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The output before a final softmax / log_softmax (what cross-entropy takes)."""
        return self.run(x, logits=True)

    def run(self, x: torch.Tensor, *, logits: bool) -> torch.Tensor:
        layers = list(self.arch.layers)
        if logits:
            while layers and isinstance(layers[-1], ActivationLayer) and \
                    layers[-1].type in ("softmax", "log_softmax"):
                layers.pop()
        for index, layer in enumerate(layers):
            x = self._layer(index, layer, x)
        return x

    def _layer(self, index: int, layer: Any, x: torch.Tensor) -> torch.Tensor:
        if isinstance(layer, LinearLayer):
            return self._linear(index, layer, x)
        if isinstance(layer, Conv2dLayer):
            bias = self.param(f"l{index}.bias") if layer.bias else None
            return F.conv2d(x, self.param(f"l{index}.weight"), bias, layer.stride, layer.padding)
        if isinstance(layer, PoolLayer):
            pool = F.max_pool2d if layer.type == "maxpool" else F.avg_pool2d
            return pool(x, layer.kernel, layer.stride or layer.kernel, layer.padding)
        if isinstance(layer, FlattenLayer):
            return x.flatten(1)
        if isinstance(layer, DropoutLayer):
            return F.dropout(x, layer.p, training=self.training)
        return _activation(layer.type, x)

    def _linear(self, index: int, layer: LinearLayer, x: torch.Tensor) -> torch.Tensor:
        if layer.bias_trick:
            x = torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype)], dim=1)
        weight = self.param(f"l{index}.weight")
        bias = self.param(f"l{index}.bias") if layer.bias else None
        if layer.layout == "in_out":
            out = x @ weight
            return out + bias if bias is not None else out
        return F.linear(x, weight, bias)


def _activation(kind: str, x: torch.Tensor) -> torch.Tensor:
    if kind == "relu":
        return F.relu(x)
    if kind == "sigmoid":
        return torch.sigmoid(x)
    if kind == "tanh":
        return torch.tanh(x)
    if kind == "softmax":
        return F.softmax(x, dim=1)
    if kind == "log_softmax":
        return F.log_softmax(x, dim=1)
    return x


def load_into(net: SpecNetwork, tensors: dict[str, torch.Tensor], mapping: dict[str, str]) -> None:
    """Copy the student's tensors (cast to float32) into the network's slots."""
    with torch.no_grad():
        for key, name in mapping.items():
            target = net.param(key)
            source = tensors[name]
            if tuple(source.shape) != tuple(target.shape):
                raise ValueError(f"tensor {name!r} has shape {tuple(source.shape)}, "
                                 f"expected {tuple(target.shape)}")
            target.copy_(source.to(torch.float32))


def export_tensors(net: SpecNetwork, names: dict[str, str]) -> dict[str, torch.Tensor]:
    """The network's tensors under the given file names (`l0.weight` -> `fc1.weight`)."""
    return {names[t.key]: net.param(t.key).detach().clone().contiguous()
            for t in net.arch.expected_tensors()}


def predict(net: SpecNetwork, x: torch.Tensor,
            batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(scores, argmax) over x in batches, in inference mode."""
    net.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, x.shape[0], batch_size):
            outputs.append(net(x[start:start + batch_size]))
    scores = torch.cat(outputs) if outputs else torch.zeros(0)
    return scores, scores.argmax(dim=1) if scores.ndim == 2 else scores
