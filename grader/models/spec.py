"""What a rubric says about a model question, as data: the architecture, the preprocessing, the
data, the scoring and the limits. Torch-free: rubric loading must stay fast.

An architecture is a layer list. A parametrised layer (linear, conv2d) either names its tensors
(`weight_name: W1`, the course's starter code) or leaves them unnamed, and then the student's
tensors are matched by structure (`fc1.weight`, `0.weight`, ... in order, by shape).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Shape = tuple[int, ...]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# --- layers ---------------------------------------------------------------------------------------


class LinearLayer(_Spec):
    type: Literal["linear"] = "linear"
    out_features: int = Field(gt=0)
    in_features: int | None = Field(None, gt=0, description="optional: checked against the input")
    bias: bool = Field(True, description="a separate bias vector")
    bias_trick: bool = Field(
        False, description="a 1 is appended to the input and the weight has one more input row"
    )
    layout: Literal["out_in", "in_out"] = Field(
        "out_in",
        description="out_in: nn.Linear's (out, in) weight; in_out: `X.mm(W)` with W (in, out)",
    )
    weight_name: str | None = Field(None, description="the starter code's tensor name, e.g. W1")
    bias_name: str | None = None


# Not `reference.counting.Conv2d`, though alike: there `in_channels` overrides what the layer sees, here
# it is checked against the input; each is the rubric format of its own question kind.
class Conv2dLayer(_Spec):
    type: Literal["conv2d"] = "conv2d"
    out_channels: int = Field(gt=0)
    kernel: int = Field(gt=0)
    stride: int = Field(1, gt=0)
    padding: int = Field(0, ge=0)
    in_channels: int | None = Field(None, gt=0, description="optional: checked against the input")
    bias: bool = True
    weight_name: str | None = None
    bias_name: str | None = None


class PoolLayer(_Spec):
    type: Literal["maxpool", "avgpool"]
    kernel: int = Field(gt=0)
    stride: int | None = Field(None, gt=0, description="defaults to the kernel size")
    padding: int = Field(0, ge=0)


class FlattenLayer(_Spec):
    type: Literal["flatten"] = "flatten"


class ActivationLayer(_Spec):
    type: Literal["relu", "sigmoid", "tanh", "softmax", "log_softmax", "identity"]


class DropoutLayer(_Spec):
    type: Literal["dropout"] = "dropout"
    p: float = Field(0.5, ge=0, lt=1)


Layer = Annotated[
    LinearLayer | Conv2dLayer | PoolLayer | FlattenLayer | ActivationLayer | DropoutLayer,
    Field(discriminator="type"),
]
ParamLayer = LinearLayer | Conv2dLayer


@dataclass(frozen=True)
class ExpectedTensor:
    """A tensor the architecture needs. `key` is internal (`l3.weight`); `name` the rubric's."""

    key: str
    layer: int
    role: Literal["weight", "bias"]
    shape: Shape
    name: str | None

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


def conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(f"kernel {kernel} does not fit an input of {size} with padding {padding}")
    return out


class Architecture(_Spec):
    input: list[int] = Field(
        min_length=1, max_length=3, description="one example's shape: [784] flat, or [1, 28, 28]"
    )
    layers: list[Layer] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Architecture:
        named = [bool(layer.weight_name) for layer in self.param_layers()]
        if any(named) and not all(named):
            raise ValueError("name every parametrised layer's weight (weight_name) or none of them")
        for layer in self.param_layers():
            if layer.bias and layer.weight_name and not layer.bias_name:
                raise ValueError(f"layer with weight_name {layer.weight_name!r} needs a bias_name "
                                 "(or bias: false)")
        if any(isinstance(ly, LinearLayer) and ly.bias_trick and ly.bias for ly in self.layers):
            raise ValueError("a linear layer with bias_trick takes bias: false")
        self.shapes()  # raises ValueError on layers that do not fit
        return self

    def param_layers(self) -> list[ParamLayer]:
        return [ly for ly in self.layers if isinstance(ly, LinearLayer | Conv2dLayer)]

    @property
    def named(self) -> bool:
        return any(layer.weight_name for layer in self.param_layers())

    def shapes(self) -> list[Shape]:
        """The output shape of every layer (one example, no batch axis)."""
        shape: Shape = tuple(self.input)
        out: list[Shape] = []
        for index, layer in enumerate(self.layers):
            try:
                shape = _next_shape(layer, shape)
            except ValueError as err:
                raise ValueError(f"layers[{index}] ({layer.type}): {err}") from None
            out.append(shape)
        return out

    @property
    def output_shape(self) -> Shape:
        return self.shapes()[-1]

    def expected_tensors(self) -> list[ExpectedTensor]:
        tensors: list[ExpectedTensor] = []
        shape: Shape = tuple(self.input)
        for index, (layer, after) in enumerate(zip(self.layers, self.shapes(), strict=True)):
            weight: Shape
            if isinstance(layer, LinearLayer):
                fan_in = shape[0] + (1 if layer.bias_trick else 0)
                weight = (fan_in, layer.out_features) if layer.layout == "in_out" else (
                    layer.out_features, fan_in)
                tensors.append(ExpectedTensor(f"l{index}.weight", index, "weight", weight,
                                              layer.weight_name))
                if layer.bias:
                    tensors.append(ExpectedTensor(f"l{index}.bias", index, "bias",
                                                  (layer.out_features,), layer.bias_name))
            elif isinstance(layer, Conv2dLayer):
                weight = (layer.out_channels, shape[0], layer.kernel, layer.kernel)
                tensors.append(ExpectedTensor(f"l{index}.weight", index, "weight", weight,
                                              layer.weight_name))
                if layer.bias:
                    tensors.append(ExpectedTensor(f"l{index}.bias", index, "bias",
                                                  (layer.out_channels,), layer.bias_name))
            shape = after
        return tensors

    def param_count(self) -> int:
        return sum(t.numel for t in self.expected_tensors())

    def layer_label(self, index: int) -> str:
        """How feedback names a parametrised layer: `layer 1 (linear, 1000 units)`."""
        layer = self.layers[index]
        params = (LinearLayer, Conv2dLayer)
        indices = [i for i, ly in enumerate(self.layers) if isinstance(ly, params)]
        number = 1 + indices.index(index)
        if isinstance(layer, Conv2dLayer):
            return (f"layer {number} (conv2d, {layer.out_channels} filters "
                    f"{layer.kernel}×{layer.kernel})")
        if isinstance(layer, LinearLayer):
            return f"layer {number} (linear, {layer.out_features} units)"
        return f"layer {number} ({layer.type})"

    def describe(self) -> str:
        """A one-line summary, e.g. `784 → linear 200 → sigmoid → linear 10 → softmax`."""
        parts = ["×".join(map(str, self.input))]
        for layer in self.layers:
            if isinstance(layer, LinearLayer):
                parts.append(f"linear {layer.out_features}")
            elif isinstance(layer, Conv2dLayer):
                parts.append(f"conv {layer.out_channels}@{layer.kernel}×{layer.kernel} "
                             f"s{layer.stride} p{layer.padding}")
            elif isinstance(layer, PoolLayer):
                parts.append(f"{layer.type} {layer.kernel}")
            elif isinstance(layer, DropoutLayer):
                parts.append(f"dropout {layer.p:g}")
            else:
                parts.append(layer.type)
        return " → ".join(parts)


def _next_shape(layer: Layer, shape: Shape) -> Shape:
    if isinstance(layer, LinearLayer):
        if len(shape) != 1:
            raise ValueError(f"a linear layer needs a flat input, got {list(shape)}: add a flatten")
        if layer.in_features is not None and layer.in_features != shape[0]:
            raise ValueError(f"in_features {layer.in_features} but the input has {shape[0]}")
        return (layer.out_features,)
    if isinstance(layer, Conv2dLayer | PoolLayer):
        if len(shape) != 3:
            raise ValueError(f"needs a [channels, height, width] input, got {list(shape)}")
        channels, height, width = shape
        if isinstance(layer, Conv2dLayer):
            if layer.in_channels is not None and layer.in_channels != channels:
                raise ValueError(f"in_channels {layer.in_channels} but the input has {channels}")
            return (layer.out_channels,
                    conv_out(height, layer.kernel, layer.stride, layer.padding),
                    conv_out(width, layer.kernel, layer.stride, layer.padding))
        stride = layer.stride or layer.kernel
        return (channels, conv_out(height, layer.kernel, stride, layer.padding),
                conv_out(width, layer.kernel, stride, layer.padding))
    if isinstance(layer, FlattenLayer):
        return (math.prod(shape),)
    return shape


# --- data, preprocessing, scoring, limits --------------------------------------------------------


class Preprocess(_Spec):
    """How pixels become the network's input: x = (pixels / scale − mean) / std, then the
    architecture's input shape decides the layout (flat 784 or channels × height × width)."""

    scale: float = Field(255.0, gt=0, description="divide raw pixels by this first")
    mean: float | Literal["train"] = Field(0.0, description="a number, or `train`: the training "
                                                            "set's mean pixel after scaling")
    std: float | Literal["train"] = Field(1.0, description="a number, or `train`")

    @model_validator(mode="after")
    def _positive_std(self) -> Preprocess:
        if isinstance(self.std, float) and self.std <= 0:
            raise ValueError("std must be positive")
        return self


class DataSource(_Spec):
    """Where the training and held-out images come from.

    `embedded-digits` needs nothing (scikit-learn's bundled digits, see docs/models.md); `idx`
    reads MNIST-style IDX files (gzipped or not) from the folder `path`; `npz` reads the arrays
    `x_train, y_train, x_test, y_test` (names configurable) from the file `path`. A relative path
    is looked up next to the rubric first (a course folder, grader.core.course), then in
    $GRADER_DATA_DIR, else in the current directory.
    """

    source: Literal["embedded-digits", "idx", "npz"] = "embedded-digits"
    path: str | None = None
    keys: dict[str, str] = Field(
        default_factory=dict, description="npz array names: x_train, y_train, x_test, y_test"
    )
    classes: list[str] | None = Field(None, description="class names for feedback (default 0..9)")
    max_heldout: int | None = Field(None, gt=0, description="evaluate at most this many images")

    @model_validator(mode="after")
    def _path_given(self) -> DataSource:
        if self.source != "embedded-digits" and not self.path:
            raise ValueError(f"source {self.source!r} needs a path")
        unknown = set(self.keys) - {"x_train", "y_train", "x_test", "y_test"}
        if unknown:
            raise ValueError(f"unknown npz keys {sorted(unknown)}")
        return self


class Scoring(_Spec):
    """Held-out accuracy → credit: 0 at `chance`, full at `baseline − margin`, linear between."""

    margin: float = Field(0.03, ge=0, le=1, description="full marks this far below the baseline")
    chance: float | None = Field(None, ge=0, lt=1, description="default: 1 / number of classes")
    confused_pairs: int = Field(3, ge=0, le=20, description="how many confusions feedback lists")


class ModelLimits(_Spec):
    max_file_mb: float = Field(50.0, gt=0)
    wall_seconds: float = Field(120.0, gt=0)
    memory_mb: int = Field(3072, gt=0)
    batch_size: int = Field(256, gt=0, le=4096)
    threads: int = Field(1, gt=0, le=8)
