"""FLOP and parameter counters for linear, convolution and pooling layers and whole networks.

Counting conventions are parameters, so that a known mistake ("a multiply-add counted as one
FLOP", "pooling left out") is the same counter run with another convention.
"""

from __future__ import annotations

import itertools
import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reference.params import StrictParams
from reference.registry import reference


class FlopConvention(StrictParams):
    """How operations are counted."""

    bias: bool = Field(True, description="add one FLOP per output for the bias")
    mac_as_one: bool = Field(False, description="a multiply-add counts as one FLOP")
    pool_max_cost: Literal["n_minus_1", "n"] = "n_minus_1"
    include_pool: bool = True
    strict_geometry: bool = Field(False, description="refuse windows that do not tile their input exactly")


# --- layers -----------------------------------------------------------------------------------


class Conv2d(StrictParams):
    type: Literal["conv2d"] = "conv2d"
    out_channels: int = Field(gt=0)
    kernel: int = Field(gt=0)
    stride: int = Field(1, gt=0)
    padding: int = Field(0, ge=0)
    bias: bool = True
    in_channels: int | None = Field(None, gt=0, description="override: input maps per filter")
    in_maps_per_output: list[int] | None = Field(
        None, description="partial connection table: input maps seen by each output map"
    )


class Linear(StrictParams):
    type: Literal["linear"] = "linear"
    out_features: int = Field(gt=0)
    bias: bool = True


class Pool(StrictParams):
    type: Literal["maxpool", "avgpool", "subsample"]
    kernel: int = Field(gt=0)
    stride: int | None = Field(None, gt=0, description="defaults to the kernel size")
    padding: int = Field(0, ge=0)
    trainable: bool = Field(False, description="LeNet-style subsampling: a coefficient and a bias per map")


class Flatten(StrictParams):
    type: Literal["flatten"] = "flatten"


Layer = Annotated[Conv2d | Linear | Pool | Flatten, Field(discriminator="type")]
Shape = tuple[int, ...]


def conv_output_size(size: int, kernel: int, stride: int, padding: int, strict: bool = False) -> int:
    """Output size of a sliding window; `strict` refuses a window that does not tile exactly."""
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError(f"kernel {kernel} does not fit an input of {size} with padding {padding}")
    if strict and span % stride:
        raise ValueError(f"stride {stride} does not tile an input of {size} (kernel {kernel}, padding {padding})")
    return span // stride + 1


def _dot_flops(n: int, bias: bool, conv: FlopConvention) -> int:
    """FLOPs of one output: a dot product of n terms, plus a bias."""
    core = n if conv.mac_as_one else 2 * n - 1
    return core + (1 if bias and conv.bias else 0)


def _pool_flops(n: int, kind: str, conv: FlopConvention) -> int:
    if kind == "maxpool":
        return n if conv.pool_max_cost == "n" else n - 1
    return n  # n - 1 sums and one product by 1/n (or by the trainable coefficient)


def _as_spatial(shape: Shape, what: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ValueError(f"{what} needs a channels x height x width input, got {list(shape)}")
    return shape[0], shape[1], shape[2]


def layer_output_shape(layer: Layer, shape: Shape, strict: bool = False) -> Shape:
    if isinstance(layer, Conv2d):
        _, h, w = _as_spatial(shape, "conv2d")
        out = (conv_output_size(h, layer.kernel, layer.stride, layer.padding, strict),
               conv_output_size(w, layer.kernel, layer.stride, layer.padding, strict))
        return (layer.out_channels, *out)
    if isinstance(layer, Pool):
        c, h, w = _as_spatial(shape, layer.type)
        stride = layer.stride or layer.kernel
        return (c, conv_output_size(h, layer.kernel, stride, layer.padding, strict),
                conv_output_size(w, layer.kernel, stride, layer.padding, strict))
    if isinstance(layer, Flatten):
        return (math.prod(shape),)
    if len(shape) != 1:
        raise ValueError(f"linear needs a flat input, got {list(shape)}: add a flatten layer")
    return (layer.out_features,)


def _conv_inputs_per_output(layer: Conv2d, in_channels: int) -> list[int]:
    if layer.in_maps_per_output is not None:
        if len(layer.in_maps_per_output) != layer.out_channels:
            raise ValueError("in_maps_per_output needs one entry per output map")
        return layer.in_maps_per_output
    return [layer.in_channels or in_channels] * layer.out_channels


def layer_params(layer: Layer, shape: Shape) -> int:
    if isinstance(layer, Conv2d):
        weights = sum(_conv_inputs_per_output(layer, shape[0])) * layer.kernel**2
        return weights + (layer.out_channels if layer.bias else 0)
    if isinstance(layer, Linear):
        return shape[0] * layer.out_features + (layer.out_features if layer.bias else 0)
    if isinstance(layer, Pool) and layer.trainable:
        return 2 * shape[0]
    return 0


def layer_flops(layer: Layer, shape: Shape, conv: FlopConvention) -> int:
    out = layer_output_shape(layer, shape, conv.strict_geometry)
    if isinstance(layer, Conv2d):
        per_map = _conv_inputs_per_output(layer, shape[0])
        spatial = out[1] * out[2]
        return sum(_dot_flops(n * layer.kernel**2, layer.bias, conv) * spatial for n in per_map)
    if isinstance(layer, Linear):
        return _dot_flops(shape[0], layer.bias, conv) * layer.out_features
    if isinstance(layer, Pool):
        if not conv.include_pool:
            return 0
        return _pool_flops(layer.kernel**2, layer.type, conv) * math.prod(out)
    return 0


class Network(StrictParams):
    input: list[int] = Field(min_length=1, description="channels, height, width (or features)")
    layers: list[Layer] = Field(min_length=1)
    strict_geometry: bool = Field(False, description="refuse windows that do not tile their input exactly")

    def shapes(self) -> list[Shape]:
        """The input shape of every layer, then the output shape."""
        shapes: list[Shape] = [tuple(self.input)]
        for layer in self.layers:
            shapes.append(layer_output_shape(layer, shapes[-1], self.strict_geometry))
        return shapes

    def params_per_layer(self) -> list[int]:
        return [layer_params(layer, s) for layer, s in zip(self.layers, self.shapes(), strict=False)]

    def flops_per_layer(self, conv: FlopConvention) -> list[int]:
        return [layer_flops(layer, s, conv) for layer, s in zip(self.layers, self.shapes(), strict=False)]


# --- reference functions ------------------------------------------------------------------------


class ConvPoolParams(FlopConvention):
    in_channels: int = Field(gt=0)
    in_size: int = Field(gt=0)
    filters: int = Field(gt=0)
    kernel: int = Field(gt=0)
    padding: int = Field(0, ge=0)
    stride: int = Field(1, gt=0)
    pool_kernel: int = Field(gt=0)
    pool_stride: int = Field(1, gt=0)

    def network(self) -> Network:
        return Network(
            input=[self.in_channels, self.in_size, self.in_size],
            strict_geometry=self.strict_geometry,
            layers=[
                Conv2d(out_channels=self.filters, kernel=self.kernel, stride=self.stride,
                       padding=self.padding, bias=self.bias),
                Pool(type="maxpool", kernel=self.pool_kernel, stride=self.pool_stride),
            ],
        )


@reference("conv_pool_flops", ConvPoolParams)
def conv_pool_flops(p: ConvPoolParams) -> int:
    """FLOPs of a convolution layer followed by max pooling, under the given conventions."""
    return sum(p.network().flops_per_layer(p))


class NetworkParams(Network):
    pass


@reference("network_params", NetworkParams)
def network_params(p: NetworkParams) -> int:
    """Trainable parameters of a network given as a layer list."""
    return sum(p.params_per_layer())


class OutputUnitsParams(Network):
    after_layer: int | None = Field(None, description="0-based layer index; default the last")

    @model_validator(mode="after")
    def _index_in_range(self) -> OutputUnitsParams:
        if self.after_layer is not None and not 0 <= self.after_layer < len(self.layers):
            raise ValueError(f"after_layer must be between 0 and {len(self.layers) - 1}")
        return self


@reference("network_output_units", OutputUnitsParams)
def network_output_units(p: OutputUnitsParams) -> int:
    """Number of units (channels x height x width) a layer outputs."""
    index = len(p.layers) - 1 if p.after_layer is None else p.after_layer
    return math.prod(p.shapes()[index + 1])


BiasStyle = Literal["per_layer", "bias_trick", "none"]


class MlpParams(StrictParams):
    sizes: list[int] = Field(min_length=2, description="input, hidden..., output widths")
    bias: BiasStyle = Field(
        "per_layer", description="bias_trick: one constant input appended to the input only"
    )


def _mlp_weight_shapes(sizes: list[int], bias: BiasStyle) -> list[tuple[int, int]]:
    shapes = list(itertools.pairwise(sizes))
    if bias == "bias_trick":
        shapes[0] = (shapes[0][0] + 1, shapes[0][1])
    return shapes


@reference("mlp_params", MlpParams)
def mlp_params(p: MlpParams) -> int:
    """Parameters of a fully connected network with the given widths."""
    weights = sum(a * b for a, b in _mlp_weight_shapes(p.sizes, p.bias))
    biases = sum(p.sizes[1:]) if p.bias == "per_layer" else 0
    return weights + biases


class WeightShapeParams(MlpParams):
    layer: int = Field(ge=0, description="0-based index of the weight matrix")


@reference("mlp_weight_shape", WeightShapeParams)
def mlp_weight_shape(p: WeightShapeParams) -> list[int]:
    """Shape (inputs, outputs) of a weight matrix, and so of its gradient."""
    shapes = _mlp_weight_shapes(p.sizes, p.bias)
    if p.layer >= len(shapes):
        raise ValueError(f"the network has {len(shapes)} weight matrices")
    return list(shapes[p.layer])


class EqualWidthParams(StrictParams):
    inputs: int = Field(gt=0)
    outputs: int = Field(gt=0)
    hidden_layers: int = Field(gt=0)
    match: MlpParams = Field(description="the network whose parameter count to match")
    bias: BiasStyle = "per_layer"


@reference("mlp_equal_width", EqualWidthParams)
def mlp_equal_width(p: EqualWidthParams) -> float:
    """Width x of equal hidden layers giving the same parameter count as `match` (real root)."""
    import sympy

    x = sympy.Symbol("x", positive=True)
    sizes = [p.inputs, *([x] * p.hidden_layers), p.outputs]
    weights = sum(a * b for a, b in itertools.pairwise(sizes))
    if p.bias == "bias_trick":
        weights += sizes[1]
    biases = sum(sizes[1:]) if p.bias == "per_layer" else 0
    roots = sympy.solve(sympy.Eq(weights + biases, mlp_params(p.match)), x)
    if not roots:
        raise ValueError("no positive width matches that parameter count")
    return float(min(roots))


class EpochParams(StrictParams):
    train_size: int = Field(gt=0)
    batch_size: int = Field(gt=0)
    drop_last: bool = False


@reference("iterations_per_epoch", EpochParams)
def iterations_per_epoch(p: EpochParams) -> int:
    """Mini-batch iterations needed to see every training example once."""
    full, rest = divmod(p.train_size, p.batch_size)
    return full + (1 if rest and not p.drop_last else 0)
