"""References for code questions: functions of arrays, called on the inputs the grader draws.

A code question names one of these (`reference.function`) and may give options
(`reference.params`); the checker adds the drawn arrays as further params. Gradients come from
autograd on the loss (torch, imported inside the function), never from a typed-in formula; the
loss itself is a separate reference so that a finite-difference check can test any gradient
against it. Options that model a known mistake say so in their description.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from reference.registry import reference


def _as_float_array(value: Any) -> np.ndarray:
    return np.array(value, dtype=np.float64)


Array = Annotated[np.ndarray, BeforeValidator(_as_float_array)]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class SoftmaxXentArgs(_Args):
    """A linear layer and softmax: o = x @ W + b row-wise, C = −Σ y log softmax(o)."""

    W: Array = Field(description="weights, n×k")
    x: Array = Field(description="inputs, m×n, one example per row")
    b: Array = Field(description="bias, k")
    y: Array = Field(description="one-hot targets, m×k")
    reduction: str = Field("sum", pattern="^(sum|mean)$", description="over the batch")
    normalise: bool = Field(
        True, description="False models a known mistake: exp(o) used as the probabilities, "
        "without dividing by their sum, in the gradient p − y")


def _softmax_xent_torch(args: SoftmaxXentArgs) -> tuple[Any, Any, Any]:
    import torch

    W = torch.tensor(args.W, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(args.b, dtype=torch.float64, requires_grad=True)
    x = torch.tensor(args.x, dtype=torch.float64)
    y = torch.tensor(args.y, dtype=torch.float64)
    per_example = -(y * torch.log_softmax(x @ W + b, dim=1)).sum(dim=1)
    loss = per_example.sum() if args.reduction == "sum" else per_example.mean()
    return loss, W, b


@reference("softmax_xent_loss", SoftmaxXentArgs)
def softmax_xent_loss(args: SoftmaxXentArgs) -> float:
    """The cross-entropy of softmax(x @ W + b) against y, in float64."""
    o = args.x @ args.W + args.b
    shifted = o - o.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    per_example = -(args.y * log_p).sum(axis=1)
    return float(per_example.sum() if args.reduction == "sum" else per_example.mean())


@reference("softmax_xent_gradient", SoftmaxXentArgs)
def softmax_xent_gradient(args: SoftmaxXentArgs) -> tuple[np.ndarray, np.ndarray]:
    """(∂C/∂W, ∂C/∂b) of the softmax cross-entropy, by autograd."""
    if not args.normalise:
        return _unnormalised_gradient(args)
    import torch

    loss, W, b = _softmax_xent_torch(args)
    grad_W, grad_b = torch.autograd.grad(loss, (W, b))
    return grad_W.numpy(), grad_b.numpy()


def _unnormalised_gradient(args: SoftmaxXentArgs) -> tuple[np.ndarray, np.ndarray]:
    """The known mistake: the right chain rule, fed exp(o) where softmax(o) belongs."""
    import torch

    W = torch.tensor(args.W, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(args.b, dtype=torch.float64, requires_grad=True)
    x = torch.tensor(args.x, dtype=torch.float64)
    y = torch.tensor(args.y, dtype=torch.float64)
    o = x @ W + b
    # d/do of Σ exp(o) − Σ y·o is exp(o) − y: "p − y" with p left unnormalised
    surrogate = torch.exp(o).sum() - (y * o).sum()
    if args.reduction == "mean":
        surrogate = surrogate / x.shape[0]
    grad_W, grad_b = torch.autograd.grad(surrogate, (W, b))
    return grad_W.numpy(), grad_b.numpy()


class MomentumArgs(_Args):
    """Gradient descent with momentum: v ← momentum·v − lr·grad, W ← W + v."""

    W: Array
    grad: Array
    velocity: Array
    lr: float = Field(gt=0)
    momentum: float = Field(ge=0, lt=1)
    grad_sign: float = Field(
        -1.0, description="+1 models a known mistake: the gradient added instead of subtracted")
    use_new_velocity: bool = Field(
        True, description="False models a known mistake: W moved by the old velocity")


@reference("momentum_step", MomentumArgs)
def momentum_step(args: MomentumArgs) -> tuple[np.ndarray, np.ndarray]:
    """(new W, new velocity) after one step of momentum."""
    velocity = args.momentum * args.velocity + args.grad_sign * args.lr * args.grad
    step = velocity if args.use_new_velocity else args.velocity
    return args.W + step, velocity
