"""Code references for the operations courses ask students to implement: a dense layer's forward
and backward pass, a 2-D convolution, batch and layer norm, softmax, scaled dot-product attention
and an Adam step. A code question names one (`reference.function`); the drawn inputs arrive as
params by name, options are further params. Backward passes come from torch's autograd.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from reference.code_refs import Array, _Args
from reference.registry import reference


def _torch(value: np.ndarray, grad: bool = False) -> Any:
    import torch

    return torch.tensor(np.asarray(value, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def _leaves(*values: np.ndarray) -> tuple[Any, ...]:
    """The inputs of a backward pass, as tensors autograd differentiates with respect to."""
    return tuple(_torch(value, True) for value in values)


def _input_gradients(out: Any, inputs: tuple[Any, ...], upstream: np.ndarray) -> tuple[np.ndarray, ...]:
    """∂L/∂input for each of `inputs`, given ∂L/∂out: one vector-Jacobian product by autograd."""
    import torch

    return tuple(g.numpy() for g in torch.autograd.grad(out, inputs, grad_outputs=_torch(upstream)))


class DenseArgs(_Args):
    x: Array = Field(description="inputs, m×n (one example per row)")
    W: Array = Field(description="weights, n×k")
    b: Array = Field(description="bias, k")
    activation: Literal["none", "relu", "sigmoid", "tanh"] = "none"


def _dense(args: DenseArgs, x: Any, W: Any, b: Any) -> Any:
    import torch

    z = x @ W + b
    return {"none": lambda t: t, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[args.activation](z)


@reference("dense_forward", DenseArgs)
def dense_forward(args: DenseArgs) -> np.ndarray:
    """activation(x @ W + b)."""
    return np.asarray(_dense(args, _torch(args.x), _torch(args.W), _torch(args.b)).detach().numpy())


class DenseBackwardArgs(DenseArgs):
    upstream: Array = Field(description="∂L/∂output, m×k")
    sum_bias_over_batch: bool = Field(True, description="False models the mistake of returning the "
                                                        "first example's bias gradient")


@reference("dense_backward", DenseBackwardArgs)
def dense_backward(args: DenseBackwardArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(∂L/∂x, ∂L/∂W, ∂L/∂b) given ∂L/∂output, by autograd."""
    x, W, b = _leaves(args.x, args.W, args.b)
    out = _dense(args, x, W, b)
    dx, dW, db = _input_gradients(out, (x, W, b), args.upstream)
    if not args.sum_bias_over_batch:
        (db,) = _input_gradients(out[0], (b,), args.upstream[0])
    return dx, dW, db


class Conv2dArgs(_Args):
    x: Array = Field(description="inputs, N×C×H×W")
    w: Array = Field(description="filters, F×C×kh×kw")
    b: Array = Field(description="bias, F")
    stride: int = Field(1, gt=0)
    padding: int = Field(0, ge=0)
    flip_kernel: bool = Field(False, description="True models true convolution where layers cross-correlate")


@reference("conv2d_forward", Conv2dArgs)
def conv2d_forward(args: Conv2dArgs) -> np.ndarray:
    """A convolution layer's output (cross-correlation, as deep-learning layers compute it)."""
    import torch.nn.functional as F

    w = args.w[..., ::-1, ::-1].copy() if args.flip_kernel else args.w
    out = F.conv2d(_torch(args.x), _torch(w), _torch(args.b), stride=args.stride, padding=args.padding)
    return np.asarray(out.numpy())


class Conv2dBackwardArgs(Conv2dArgs):
    upstream: Array = Field(description="∂L/∂output, N×F×H'×W'")


@reference("conv2d_backward", Conv2dBackwardArgs)
def conv2d_backward(args: Conv2dBackwardArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(∂L/∂x, ∂L/∂w, ∂L/∂b) of a convolution layer given ∂L/∂output, by autograd."""
    import torch
    import torch.nn.functional as F

    x, w, b = _leaves(args.x, args.w, args.b)
    kernel = torch.flip(w, dims=(2, 3)) if args.flip_kernel else w
    out = F.conv2d(x, kernel, b, stride=args.stride, padding=args.padding)
    dx, dw, db = _input_gradients(out, (x, w, b), args.upstream)
    return dx, dw, db


class NormArgs(_Args):
    x: Array = Field(description="inputs, m×d")
    gamma: Array = Field(description="scale, d")
    beta: Array = Field(description="shift, d")
    eps: float = Field(1e-5, ge=0)
    unbiased_variance: bool = Field(False, description="True models the mistake of dividing by m − 1")


def _normalise(args: NormArgs, axis: int) -> np.ndarray:
    mean = args.x.mean(axis=axis, keepdims=True)
    var = args.x.var(axis=axis, keepdims=True, ddof=1 if args.unbiased_variance else 0)
    return np.asarray((args.x - mean) / np.sqrt(var + args.eps) * args.gamma + args.beta)


@reference("batchnorm_forward", NormArgs)
def batchnorm_forward(args: NormArgs) -> np.ndarray:
    """Batch norm in training mode: each feature normalised over the batch, scaled and shifted."""
    return _normalise(args, axis=0)


@reference("layernorm_forward", NormArgs)
def layernorm_forward(args: NormArgs) -> np.ndarray:
    """Layer norm: each example normalised over its features, scaled and shifted."""
    return _normalise(args, axis=1)


class NormBackwardArgs(NormArgs):
    upstream: Array = Field(description="∂L/∂output, m×d")
    through_statistics: bool = Field(True, description="False models the mistake of treating the batch "
                                                       "mean and variance as constants")


@reference("batchnorm_backward", NormBackwardArgs)
def batchnorm_backward(args: NormBackwardArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(∂L/∂x, ∂L/∂γ, ∂L/∂β) of batch norm in training mode given ∂L/∂output, by autograd."""
    import torch

    x, gamma, beta = _leaves(args.x, args.gamma, args.beta)
    mean = x.mean(dim=0, keepdim=True)
    var = x.var(dim=0, keepdim=True, unbiased=args.unbiased_variance)
    if not args.through_statistics:
        mean, var = mean.detach(), var.detach()
    out = (x - mean) / torch.sqrt(var + args.eps) * gamma + beta
    dx, dgamma, dbeta = _input_gradients(out, (x, gamma, beta), args.upstream)
    return dx, dgamma, dbeta


class SoftmaxArgs(_Args):
    z: Array = Field(description="logits, m×k")
    axis: int = Field(-1, description="the axis the probabilities sum over")


@reference("softmax_forward", SoftmaxArgs)
def softmax_forward(args: SoftmaxArgs) -> np.ndarray:
    """softmax along `axis`, computed stably."""
    shifted = args.z - args.z.max(axis=args.axis, keepdims=True)
    e = np.exp(shifted)
    return np.asarray(e / e.sum(axis=args.axis, keepdims=True))


class AttentionArgs(_Args):
    Q: Array = Field(description="queries, n×d")
    K: Array = Field(description="keys, m×d")
    V: Array = Field(description="values, m×d_v")
    causal: bool = Field(False, description="query i attends to keys j ≤ i only")
    scale: bool = Field(True, description="False models the mistake of leaving out 1/√d")


@reference("attention_forward", AttentionArgs)
def attention_forward(args: AttentionArgs) -> np.ndarray:
    """softmax(Q Kᵀ / √d) V (torch's scaled_dot_product_attention)."""
    import torch.nn.functional as F

    out = F.scaled_dot_product_attention(_torch(args.Q)[None], _torch(args.K)[None], _torch(args.V)[None],
                                         is_causal=args.causal, scale=None if args.scale else 1.0)
    return np.asarray(out[0].numpy())


class AdamArgs(_Args):
    theta: Array
    grad: Array
    m: Array = Field(description="first-moment estimate before the step")
    v: Array = Field(description="second-moment estimate before the step")
    step: int = Field(1, ge=1, description="t, counting this step")
    lr: float = Field(1e-3, gt=0)
    beta1: float = Field(0.9, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    eps: float = Field(1e-8, ge=0)
    bias_correction: bool = Field(True, description="False models the mistake of leaving out 1/(1 − βᵗ)")


@reference("adam_step", AdamArgs)
def adam_step(args: AdamArgs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(θ, m, v) after one Adam step."""
    m = args.beta1 * args.m + (1 - args.beta1) * args.grad
    v = args.beta2 * args.v + (1 - args.beta2) * args.grad**2
    m_hat, v_hat = m, v
    if args.bias_correction:
        m_hat, v_hat = m / (1 - args.beta1**args.step), v / (1 - args.beta2**args.step)
    return args.theta - args.lr * m_hat / (np.sqrt(v_hat) + args.eps), m, v


class SgdArgs(_Args):
    theta: Array
    grad: Array
    velocity: Array = Field(description="the momentum buffer before the step")
    lr: float = Field(0.1, gt=0)
    momentum: float = Field(0.9, ge=0, lt=1)
    nesterov: bool = False
    weight_decay: float = Field(0.0, ge=0)
    classic: bool = Field(False, description="v ← μv − ηg, θ ← θ + v (PyTorch: v ← μv + g, θ ← θ − ηv); "
                                             "a convention, or a mistake when the sheet fixes the other")


@reference("sgd_step", SgdArgs)
def sgd_step(args: SgdArgs) -> tuple[np.ndarray, np.ndarray]:
    """(θ, v) after one SGD step with (Nesterov) momentum, from a given momentum buffer."""
    g = args.grad + args.weight_decay * args.theta
    if args.classic:
        v = args.momentum * args.velocity - args.lr * g
        step = args.momentum * v - args.lr * g if args.nesterov else v
        return args.theta + step, v
    v = args.momentum * args.velocity + g
    return args.theta - args.lr * (g + args.momentum * v if args.nesterov else v), v
