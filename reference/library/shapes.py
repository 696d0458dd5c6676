"""Shapes and counts: output shapes through a layer list, receptive fields, parameter counts of
the layers NN courses ask about, and FLOPs of normalisation layers.

Shapes are (channels, height, width) for images and (features,) after a flatten, without the
batch axis. Conventions are params (PyTorch's are the defaults); known mistakes are other params
whose description says so.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field

from reference.params import StrictParams
from reference.registry import reference

Pair = int | tuple[int, int]


def _pair(value: Pair) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


# --- output shapes --------------------------------------------------------------------------------


class ConvLayer(StrictParams):
    type: Literal["conv"] = "conv"
    out_channels: int = Field(gt=0)
    kernel: Pair = Field(description="a size or [height, width]")
    stride: Pair = 1
    padding: Pair | Literal["same", "valid"] = Field(0, description="a size, [h, w], 'same' or 'valid'")
    dilation: Pair = 1


class ConvTransposeLayer(StrictParams):
    type: Literal["conv_transpose"] = "conv_transpose"
    out_channels: int = Field(gt=0)
    kernel: Pair
    stride: Pair = 1
    padding: Pair = 0
    output_padding: Pair = 0
    dilation: Pair = 1


class PoolLayer(StrictParams):
    type: Literal["maxpool", "avgpool"]
    kernel: Pair
    stride: Pair | None = Field(None, description="defaults to the kernel size")
    padding: Pair = 0
    dilation: Pair = Field(1, description="max pooling only")
    ceil_mode: bool = Field(False, description="round the window count up instead of down")


class AdaptivePoolLayer(StrictParams):
    type: Literal["adaptive_pool"] = "adaptive_pool"
    output: Pair


class FlattenLayer(StrictParams):
    type: Literal["flatten"] = "flatten"


class LinearLayer(StrictParams):
    type: Literal["linear"] = "linear"
    out_features: int = Field(gt=0)


ShapeLayer = Annotated[ConvLayer | ConvTransposeLayer | PoolLayer | AdaptivePoolLayer | FlattenLayer
                       | LinearLayer, Field(discriminator="type")]


class OutputShapeParams(StrictParams):
    """The shape after each layer of a list, from an input shape."""

    input: list[int] = Field(min_length=1, max_length=3, description="[C, H, W] or [features]")
    layers: list[ShapeLayer] = Field(min_length=1)
    all_layers: bool = Field(False, description="answer every layer's shape, not only the last")
    ignore_dilation: bool = Field(False, description="mistake: the kernel's dilated extent left out")
    ignore_padding: bool = Field(False, description="mistake: padding left out of the output size")


def _window(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool) -> int:
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0:
        raise ValueError(f"a window of {kernel} (dilation {dilation}) does not fit {size} with padding {padding}")
    count = (-(-span // stride) if ceil else span // stride) + 1
    if ceil and (count - 1) * stride >= size + padding:  # PyTorch: the last window must start inside
        count -= 1
    return count


def _conv_shape(layer: ConvLayer, shape: list[int], p: OutputShapeParams) -> list[int]:
    kernel, stride, dilation = _pair(layer.kernel), _pair(layer.stride), _pair(layer.dilation)
    if p.ignore_dilation:
        dilation = (1, 1)
    if layer.padding == "same":
        if stride != (1, 1):
            raise ValueError("padding 'same' needs stride 1")
        return [layer.out_channels, *shape[1:]]
    padding = (0, 0) if layer.padding == "valid" or p.ignore_padding else _pair(layer.padding)
    sizes = [_window(shape[1 + i], kernel[i], stride[i], padding[i], dilation[i], False) for i in range(2)]
    return [layer.out_channels, *sizes]


def _transpose_shape(layer: ConvTransposeLayer, shape: list[int], p: OutputShapeParams) -> list[int]:
    kernel, stride, out_pad = _pair(layer.kernel), _pair(layer.stride), _pair(layer.output_padding)
    dilation = (1, 1) if p.ignore_dilation else _pair(layer.dilation)
    padding = (0, 0) if p.ignore_padding else _pair(layer.padding)
    sizes = [(shape[1 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + out_pad[i] + 1
             for i in range(2)]
    return [layer.out_channels, *sizes]


def _pool_shape(layer: PoolLayer, shape: list[int], p: OutputShapeParams) -> list[int]:
    kernel = _pair(layer.kernel)
    stride = _pair(layer.stride) if layer.stride is not None else kernel
    dilation = (1, 1) if p.ignore_dilation or layer.type == "avgpool" else _pair(layer.dilation)
    padding = (0, 0) if p.ignore_padding else _pair(layer.padding)
    sizes = [_window(shape[1 + i], kernel[i], stride[i], padding[i], dilation[i], layer.ceil_mode)
             for i in range(2)]
    return [shape[0], *sizes]


def _next_shape(layer: ShapeLayer, shape: list[int], p: OutputShapeParams) -> list[int]:
    if isinstance(layer, FlattenLayer):
        return [math.prod(shape)]
    if isinstance(layer, LinearLayer):
        return [*shape[:-1], layer.out_features]
    if len(shape) != 3:
        raise ValueError(f"a {layer.type} layer needs a [C, H, W] input, got {shape}")
    if isinstance(layer, ConvLayer):
        return _conv_shape(layer, shape, p)
    if isinstance(layer, ConvTransposeLayer):
        return _transpose_shape(layer, shape, p)
    if isinstance(layer, AdaptivePoolLayer):
        return [shape[0], *_pair(layer.output)]
    return _pool_shape(layer, shape, p)


@reference("layer_output_shape", OutputShapeParams)
def layer_output_shape(p: OutputShapeParams) -> list[int] | list[list[int]]:
    """The output shape after the layer list (or after each layer, with `all_layers`)."""
    shapes, shape = [], list(p.input)
    for layer in p.layers:
        shape = _next_shape(layer, shape, p)
        shapes.append(shape)
    return shapes if p.all_layers else shape


# --- receptive field ------------------------------------------------------------------------------


class FieldLayer(StrictParams):
    kernel: int = Field(gt=0)
    stride: int = Field(1, gt=0)
    dilation: int = Field(1, gt=0)


class ReceptiveFieldParams(StrictParams):
    """The receptive field (in input pixels, along one axis) of one unit after a stack of
    convolutions and poolings; padding does not change it."""

    layers: list[FieldLayer] = Field(min_length=1)
    ignore_stride: bool = Field(False, description="mistake: kernels added up as if every stride were 1")
    ignore_dilation: bool = Field(False, description="mistake: dilated kernels taken at their plain size")


@reference("receptive_field", ReceptiveFieldParams)
def receptive_field(p: ReceptiveFieldParams) -> int:
    """r = 1 + Σ (d_l (k_l − 1)) · Π_{i<l} s_i."""
    size, jump = 1, 1
    for layer in p.layers:
        dilation = 1 if p.ignore_dilation else layer.dilation
        size += dilation * (layer.kernel - 1) * jump
        jump *= 1 if p.ignore_stride else layer.stride
    return size


# --- parameter counts -----------------------------------------------------------------------------


class LinearCount(StrictParams):
    type: Literal["linear"] = "linear"
    in_features: int = Field(gt=0)
    out_features: int = Field(gt=0)
    bias: bool = True


class ConvCount(StrictParams):
    type: Literal["conv"] = "conv"
    in_channels: int = Field(gt=0)
    out_channels: int = Field(gt=0)
    kernel: Pair
    groups: int = Field(1, gt=0, description="in_channels for a depthwise convolution")
    bias: bool = True


class SeparableCount(StrictParams):
    """A depthwise k×k convolution (multiplier 1) followed by a pointwise 1×1 convolution."""

    type: Literal["separable"] = "separable"
    in_channels: int = Field(gt=0)
    out_channels: int = Field(gt=0)
    kernel: Pair
    bias: bool = Field(True, description="each of the two convolutions has a bias")


class NormCount(StrictParams):
    type: Literal["batchnorm", "layernorm"]
    features: int = Field(gt=0, description="channels (batchnorm) or the normalised size (layernorm)")
    affine: bool = Field(True, description="a learned scale and shift")
    count_running_stats: bool = Field(False, description="mistake for 'trainable': running mean and variance "
                                                         "counted too (batchnorm)")


class EmbeddingCount(StrictParams):
    type: Literal["embedding"] = "embedding"
    vocabulary: int = Field(gt=0)
    dim: int = Field(gt=0)


class RecurrentCount(StrictParams):
    type: Literal["rnn", "lstm", "gru"]
    input_size: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    bias: bool = True
    double_bias: bool = Field(True, description="PyTorch's two bias vectors (b_ih and b_hh); False: one per gate")


class AttentionCount(StrictParams):
    """Multi-head attention with Q, K, V and output projections of d_model × d_model."""

    type: Literal["attention"] = "attention"
    d_model: int = Field(gt=0)
    heads: int = Field(1, gt=0, description="does not change the count when d_model splits evenly")
    bias: bool = True
    output_projection: bool = Field(True, description="False models the mistake of leaving W_O out")


class TransformerCount(StrictParams):
    """An encoder block: attention, two layer norms and a two-layer feed-forward network."""

    type: Literal["transformer"] = "transformer"
    d_model: int = Field(gt=0)
    heads: int = Field(1, gt=0)
    d_ff: int = Field(gt=0)
    bias: bool = True
    norms: bool = Field(True, description="False models the mistake of leaving the layer norms out")


class ResidualCount(StrictParams):
    """A ResNet block, convolutions without bias, each followed by batch norm. `basic`: two 3×3;
    `bottleneck`: 1×1 to `width`, 3×3, 1×1 to out_channels. A 1×1 projection (with its batch norm)
    when the channels change or `projection` is set."""

    type: Literal["basic_block", "bottleneck"]
    in_channels: int = Field(gt=0)
    out_channels: int = Field(gt=0)
    width: int | None = Field(None, gt=0, description="bottleneck: the middle width (default out/4)")
    projection: bool | None = Field(None, description="default: when the channels change")
    count_norms: bool = Field(True, description="False models the mistake of leaving batch norm out")


CountLayer = Annotated[LinearCount | ConvCount | SeparableCount | NormCount | EmbeddingCount | RecurrentCount
                       | AttentionCount | TransformerCount | ResidualCount, Field(discriminator="type")]


class ParamCountParams(StrictParams):
    """Trainable parameters of a list of layers, summed."""

    layers: list[CountLayer] = Field(min_length=1)


def _conv_params(cin: int, cout: int, kernel: Pair, groups: int, bias: bool) -> int:
    if cin % groups or cout % groups:
        raise ValueError(f"groups {groups} must divide in_channels {cin} and out_channels {cout}")
    kh, kw = _pair(kernel)
    return cout * (cin // groups) * kh * kw + (cout if bias else 0)


def _norm(features: int) -> int:
    return 2 * features


def _attention(d: int, heads: int, bias: bool, output: bool) -> int:
    if d % heads:
        raise ValueError(f"{heads} heads do not split d_model {d}")
    projections = 4 if output else 3
    return projections * (d * d + (d if bias else 0))


def _residual(layer: ResidualCount) -> int:
    norm = _norm if layer.count_norms else (lambda _: 0)
    cin, cout = layer.in_channels, layer.out_channels
    if layer.type == "basic_block":
        total = _conv_params(cin, cout, 3, 1, False) + _conv_params(cout, cout, 3, 1, False) + 2 * norm(cout)
    else:
        width = layer.width or max(1, cout // 4)
        total = (_conv_params(cin, width, 1, 1, False) + _conv_params(width, width, 3, 1, False)
                 + _conv_params(width, cout, 1, 1, False) + 2 * norm(width) + norm(cout))
    projection = layer.projection if layer.projection is not None else cin != cout
    return total + (_conv_params(cin, cout, 1, 1, False) + norm(cout) if projection else 0)


def _layer_params(layer: CountLayer) -> int:
    if isinstance(layer, LinearCount):
        return layer.in_features * layer.out_features + (layer.out_features if layer.bias else 0)
    if isinstance(layer, ConvCount):
        return _conv_params(layer.in_channels, layer.out_channels, layer.kernel, layer.groups, layer.bias)
    if isinstance(layer, SeparableCount):
        cin = layer.in_channels
        return (_conv_params(cin, cin, layer.kernel, cin, layer.bias)
                + _conv_params(cin, layer.out_channels, 1, 1, layer.bias))
    if isinstance(layer, NormCount):
        trainable = _norm(layer.features) if layer.affine else 0
        return trainable + (2 * layer.features if layer.count_running_stats and layer.type == "batchnorm" else 0)
    if isinstance(layer, EmbeddingCount):
        return layer.vocabulary * layer.dim
    if isinstance(layer, RecurrentCount):
        gates = {"rnn": 1, "lstm": 4, "gru": 3}[layer.type]
        h = layer.hidden_size
        biases = (2 if layer.double_bias else 1) * h if layer.bias else 0
        return gates * (h * (layer.input_size + h) + biases)
    if isinstance(layer, AttentionCount):
        return _attention(layer.d_model, layer.heads, layer.bias, layer.output_projection)
    if isinstance(layer, TransformerCount):
        d, ff, b = layer.d_model, layer.d_ff, layer.bias
        feed_forward = d * ff + ff * d + ((ff + d) if b else 0)
        return _attention(d, layer.heads, b, True) + feed_forward + (2 * _norm(d) if layer.norms else 0)
    return _residual(layer)


@reference("param_count", ParamCountParams)
def param_count(p: ParamCountParams) -> int:
    """Σ of each layer's trainable parameters."""
    return sum(_layer_params(layer) for layer in p.layers)


# --- FLOPs of normalisation -----------------------------------------------------------------------


class NormFlopsParams(StrictParams):
    """FLOPs of one batch/layer norm forward pass over `elements` values in groups of `group`
    (the batch for batch norm in training, the features for layer norm). Inference with known
    statistics: normalise (a subtraction and a division) and scale and shift (a product and a
    sum): 4 per value. Training adds the mean (group − 1 sums and a division per group) and the
    variance (a subtraction, a square and a sum per value, a division per group)."""

    elements: int = Field(gt=0)
    group: int = Field(gt=0)
    training: bool = True
    affine: bool = True
    folded: bool = Field(False, description="inference with normalisation folded into the scale and shift: "
                                            "2 per value")


@reference("norm_flops", NormFlopsParams)
def norm_flops(p: NormFlopsParams) -> int:
    """FLOPs of a normalisation layer's forward pass under the convention above."""
    if p.elements % p.group:
        raise ValueError(f"{p.elements} values do not split into groups of {p.group}")
    if p.folded:
        return 2 * p.elements
    per_value = 2 + (2 if p.affine else 0)
    # the mean: group − 1 sums and a division per group; the variance: a subtraction, a square and
    # group − 1 sums per group, and a division: 4 per value in all
    statistics = 4 * p.elements if p.training else 0
    return per_value * p.elements + statistics
