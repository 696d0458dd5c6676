"""Numbers by hand: a convolution or pooling of a small given input, softmax and cross-entropy
values, one or more optimiser steps, learning-rate schedules and initialisation scales.

Arrays are nested lists (an array answer); conventions are params with PyTorch's as defaults;
known mistakes are other params whose description says so.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field

from reference.params import StrictParams
from reference.registry import reference

Matrix = list[list[float]]


# --- convolution and pooling of a given input -----------------------------------------------------


class Conv2dValuesParams(StrictParams):
    """One output map of a 2-D convolution of one (or several stacked) input maps."""

    input: list[Matrix] | Matrix = Field(description="H×W, or C×H×W")
    kernel: list[Matrix] | Matrix = Field(description="kh×kw, or C×kh×kw (one filter)")
    bias: float = 0.0
    stride: int = Field(1, gt=0)
    padding: int = Field(0, ge=0, description="zeros around the input")
    dilation: int = Field(1, gt=0)
    flip_kernel: bool = Field(False, description="True: convolution in the signal-processing sense (the "
                                                 "kernel flipped); deep-learning layers cross-correlate")
    activation: Literal["none", "relu"] = "none"


def _stack(value: list[Matrix] | Matrix) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    return array[None] if array.ndim == 2 else array


@reference("conv2d_values", Conv2dValuesParams)
def conv2d_values(p: Conv2dValuesParams) -> Matrix:
    """The output map: Σ_c Σ_ij input[c, s·y + d·i − pad, s·x + d·j − pad] · kernel[c, i, j] + bias."""
    x, k = _stack(p.input), _stack(p.kernel)
    if x.shape[0] != k.shape[0]:
        raise ValueError(f"the input has {x.shape[0]} channels, the kernel {k.shape[0]}")
    if p.flip_kernel:
        k = k[:, ::-1, ::-1]
    x = np.pad(x, ((0, 0), (p.padding, p.padding), (p.padding, p.padding)))
    span = [p.dilation * (k.shape[i] - 1) + 1 for i in (1, 2)]
    rows, cols = ((x.shape[i] - span[i - 1]) // p.stride + 1 for i in (1, 2))
    if rows < 1 or cols < 1:
        raise ValueError("the kernel does not fit the input")
    out = np.empty((rows, cols))
    for r in range(rows):
        for c in range(cols):
            window = x[:, r * p.stride: r * p.stride + span[0]: p.dilation,
                       c * p.stride: c * p.stride + span[1]: p.dilation]
            out[r, c] = float(np.sum(window * k)) + p.bias
    if p.activation == "relu":
        out = np.maximum(out, 0.0)
    return [[float(v) for v in row] for row in out]


class Pool2dValuesParams(StrictParams):
    """Max or average pooling of one input map."""

    input: Matrix
    mode: Literal["max", "avg"] = "max"
    kernel: int = Field(gt=0)
    stride: int | None = Field(None, gt=0, description="defaults to the kernel size")
    padding: int = Field(0, ge=0)
    count_include_pad: bool = Field(True, description="average pooling: padded zeros count in the mean")


@reference("pool2d_values", Pool2dValuesParams)
def pool2d_values(p: Pool2dValuesParams) -> Matrix:
    """Each window's max or mean (max pooling pads with −∞, average pooling with 0)."""
    x = np.asarray(p.input, dtype=np.float64)
    stride = p.stride or p.kernel
    fill = -np.inf if p.mode == "max" else 0.0
    padded = np.pad(x, p.padding, constant_values=fill)
    inside = np.pad(np.ones_like(x), p.padding)
    rows, cols = ((padded.shape[i] - p.kernel) // stride + 1 for i in (0, 1))
    out = np.empty((rows, cols))
    for r in range(rows):
        for c in range(cols):
            rs, cs = slice(r * stride, r * stride + p.kernel), slice(c * stride, c * stride + p.kernel)
            window = padded[rs, cs]
            if p.mode == "max":
                out[r, c] = window.max()
            else:
                count = window.size if p.count_include_pad else inside[rs, cs].sum()
                out[r, c] = window.sum() / count
    return [[float(v) for v in row] for row in out]


# --- softmax and cross-entropy --------------------------------------------------------------------


class SoftmaxParams(StrictParams):
    logits: list[float] = Field(min_length=1)
    temperature: float = Field(1.0, gt=0)
    index: int | None = Field(None, ge=0, description="answer one probability instead of the vector")
    skip_exp: bool = Field(False, description="mistake: the logits normalised by their sum, without exp")


@reference("softmax_values", SoftmaxParams)
def softmax_values(p: SoftmaxParams) -> list[float] | float:
    """softmax(z / T)_i = exp(z_i / T) / Σ_j exp(z_j / T)."""
    z = np.asarray(p.logits, dtype=np.float64) / p.temperature
    if p.skip_exp:
        probs = z / z.sum()
    else:
        e = np.exp(z - z.max())
        probs = e / e.sum()
    return float(probs[p.index]) if p.index is not None else [float(v) for v in probs]


class CrossEntropyParams(StrictParams):
    """−log p_target, from logits (through softmax) or from probabilities; averaged over rows."""

    logits: list[list[float]] | list[float] | None = None
    probabilities: list[list[float]] | list[float] | None = None
    target: list[int] | int = Field(description="the class index of each row")
    log_base: Literal["e", "2", "10"] = "e"
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    reduction: Literal["mean", "sum"] = "mean"
    skip_softmax: bool = Field(False, description="mistake: −log of the raw logit taken as a probability")


@reference("cross_entropy_value", CrossEntropyParams)
def cross_entropy_value(p: CrossEntropyParams) -> float:
    """The loss −Σ_k q_k log p_k with q the (smoothed) one-hot target."""
    if (p.logits is None) == (p.probabilities is None):
        raise ValueError("give exactly one of logits or probabilities")
    given = np.atleast_2d(np.asarray(p.logits if p.logits is not None else p.probabilities, dtype=np.float64))
    targets = np.atleast_1d(np.asarray(p.target, dtype=np.int64))
    if len(targets) != len(given):
        raise ValueError(f"{len(given)} rows but {len(targets)} targets")
    if p.logits is not None and not p.skip_softmax:
        shifted = given - given.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    else:
        log_p = np.log(given)
    classes = given.shape[1]
    q = np.full(given.shape, p.label_smoothing / classes)
    q[np.arange(len(targets)), targets] += 1 - p.label_smoothing
    losses = -(q * log_p).sum(axis=1) / math.log({"e": math.e, "2": 2.0, "10": 10.0}[p.log_base])
    return float(losses.mean() if p.reduction == "mean" else losses.sum())


# --- optimiser steps ------------------------------------------------------------------------------


class OptimizerParams(StrictParams):
    """Parameters after one step per gradient in `gradients`, from zero optimiser state.
    PyTorch's update rules are the defaults (see each field for the other conventions)."""

    optimizer: Literal["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]
    theta: list[float] = Field(min_length=1, description="the parameters before the first step")
    gradients: list[list[float]] = Field(min_length=1, description="the gradient of each step, in order")
    lr: float = Field(gt=0)
    momentum: float = Field(0.9, ge=0, lt=1)
    dampening: float = Field(0.0, ge=0, le=1)
    momentum_form: Literal["pytorch", "classic"] = Field(
        "pytorch", description="pytorch: v ← μv + g, θ ← θ − ηv; classic: v ← μv − ηg, θ ← θ + v "
                               "(the same for a constant learning rate)")
    alpha: float = Field(0.99, gt=0, lt=1, description="RMSProp's decay of the squared-gradient average")
    beta1: float = Field(0.9, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    eps: float = Field(1e-8, ge=0)
    eps_inside_sqrt: bool = Field(False, description="√(v + ε) instead of √v + ε")
    bias_correction: bool = Field(True, description="Adam: divide m and v by 1 − βᵗ; False is a common mistake")
    weight_decay: float = Field(0.0, ge=0, description="L2 added to the gradient (AdamW: decoupled)")
    first_step_momentum_is_gradient: bool = Field(
        True, description="PyTorch starts the momentum buffer at the first gradient (no dampening on it)")


def _momentum(p: OptimizerParams, theta: np.ndarray, grads: list[np.ndarray]) -> np.ndarray:
    v = np.zeros_like(theta)
    for step, g in enumerate(grads):
        g = g + p.weight_decay * theta
        if p.momentum_form == "classic":
            v = p.momentum * v - p.lr * g
            theta = theta + (p.momentum * v - p.lr * g if p.optimizer == "nesterov" else v)
            continue
        v = g.copy() if step == 0 and p.first_step_momentum_is_gradient else p.momentum * v + (1 - p.dampening) * g
        theta = theta - p.lr * (g + p.momentum * v if p.optimizer == "nesterov" else v)
    return theta


def _adaptive(p: OptimizerParams, theta: np.ndarray, grads: list[np.ndarray]) -> np.ndarray:
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for step, g in enumerate(grads, start=1):
        if p.optimizer == "adamw":
            theta = theta * (1 - p.lr * p.weight_decay)
        else:
            g = g + p.weight_decay * theta
        if p.optimizer == "rmsprop":
            v = p.alpha * v + (1 - p.alpha) * g * g
            theta = theta - p.lr * g / _denominator(v, p)
            continue
        m = p.beta1 * m + (1 - p.beta1) * g
        v = p.beta2 * v + (1 - p.beta2) * g * g
        m_hat, v_hat = (m / (1 - p.beta1**step), v / (1 - p.beta2**step)) if p.bias_correction else (m, v)
        theta = theta - p.lr * m_hat / _denominator(v_hat, p)
    return theta


def _denominator(v: np.ndarray, p: OptimizerParams) -> np.ndarray:
    return np.sqrt(v + p.eps) if p.eps_inside_sqrt else np.sqrt(v) + p.eps


@reference("optimizer_step", OptimizerParams)
def optimizer_step(p: OptimizerParams) -> list[float]:
    """θ after the steps, by the chosen optimiser's update rule."""
    theta = np.asarray(p.theta, dtype=np.float64)
    grads = [np.asarray(g, dtype=np.float64) for g in p.gradients]
    if any(g.shape != theta.shape for g in grads):
        raise ValueError("every gradient must have as many entries as theta")
    if p.optimizer == "sgd":
        for g in grads:
            theta = theta - p.lr * (g + p.weight_decay * theta)
    elif p.optimizer in ("momentum", "nesterov"):
        theta = _momentum(p, theta, grads)
    else:
        theta = _adaptive(p, theta, grads)
    return [float(t) for t in theta]


# --- learning-rate schedules ----------------------------------------------------------------------


class ScheduleParams(StrictParams):
    """The learning rate at epoch (or step) `epoch`, counting from 0."""

    schedule: Literal["step", "multistep", "exponential", "cosine", "linear_warmup", "inverse_sqrt"]
    lr: float = Field(gt=0, description="the base learning rate")
    epoch: int = Field(ge=0)
    step_size: int = Field(10, gt=0)
    milestones: list[int] = Field(default_factory=list)
    gamma: float = Field(0.1, gt=0)
    t_max: int = Field(100, gt=0, description="cosine: the epochs of one half period")
    eta_min: float = Field(0.0, ge=0)
    warmup: int = Field(0, ge=0, description="linear_warmup and inverse_sqrt: warm-up epochs")
    off_by_one: bool = Field(False, description="mistake: the schedule read one epoch late (epoch + 1)")


@reference("lr_at_epoch", ScheduleParams)
def lr_at_epoch(p: ScheduleParams) -> float:
    """step: η γ^⌊t/s⌋; multistep: η γ^(milestones passed); exponential: η γᵗ; cosine:
    η_min + (η − η_min)(1 + cos(π t / T))/2; linear_warmup: η (t + 1)/w during w warm-up epochs;
    inverse_sqrt: η √w / √max(t, w)."""
    t = p.epoch + (1 if p.off_by_one else 0)
    if p.schedule == "step":
        return p.lr * p.gamma ** (t // p.step_size)
    if p.schedule == "multistep":
        return p.lr * p.gamma ** sum(1 for m in p.milestones if t >= m)
    if p.schedule == "exponential":
        return p.lr * p.gamma**t
    if p.schedule == "cosine":
        return p.eta_min + (p.lr - p.eta_min) * (1 + math.cos(math.pi * t / p.t_max)) / 2
    if p.schedule == "linear_warmup":
        return p.lr * min(1.0, (t + 1) / p.warmup) if p.warmup else p.lr
    return p.lr * math.sqrt(max(p.warmup, 1)) / math.sqrt(max(t, p.warmup, 1))


# --- initialisation scales ------------------------------------------------------------------------

GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2.0)}


class InitParams(StrictParams):
    """Xavier (Glorot) and He (Kaiming) initialisation: the uniform bound or the normal std."""

    scheme: Literal["xavier", "he"]
    distribution: Literal["uniform", "normal"]
    fan_in: int = Field(gt=0)
    fan_out: int = Field(gt=0)
    mode: Literal["fan_in", "fan_out"] = Field("fan_in", description="He: which fan")
    nonlinearity: Literal["linear", "sigmoid", "tanh", "relu"] = Field(
        "relu", description="the gain (He: relu's √2 by default; Xavier: gain 1 unless given)")
    xavier_gain: bool = Field(False, description="Xavier: multiply by the nonlinearity's gain")
    confuse_std_and_bound: bool = Field(False, description="mistake: the normal std given for a uniform bound")


@reference("init_scale", InitParams)
def init_scale(p: InitParams) -> float:
    """Xavier: std = g √(2 / (fan_in + fan_out)); He: std = g / √fan; a uniform bound is √3 · std."""
    if p.scheme == "xavier":
        gain = GAINS[p.nonlinearity] if p.xavier_gain else 1.0
        std = gain * math.sqrt(2.0 / (p.fan_in + p.fan_out))
    else:
        fan = p.fan_in if p.mode == "fan_in" else p.fan_out
        std = GAINS[p.nonlinearity] / math.sqrt(fan)
    if p.distribution == "normal" or p.confuse_std_and_bound:
        return std
    return math.sqrt(3.0) * std
