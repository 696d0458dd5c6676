"""The catalogue of reference functions: name -> module, imported on first use."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

P = TypeVar("P", bound=BaseModel)

# One line per module that defines reference functions. Modules are imported lazily.
_MODULES: dict[str, list[str]] = {
    "reference.counting": [
        "conv_pool_flops",
        "network_params",
        "network_output_units",
        "mlp_params",
        "mlp_weight_shape",
        "mlp_equal_width",
        "iterations_per_epoch",
    ],
    "reference.backprop": ["two_layer_sigmoid_grad"],
    "reference.facts": ["activation_range", "relu_zero_grads", "computation_graph"],
    "reference.threshold": ["threshold_network_design"],
    "reference.code_refs": ["softmax_xent_loss", "softmax_xent_gradient", "momentum_step"],
    "reference.symbolic": ["derivative", "output_derivative", "matrix_gradient", "affine_collapse"],
    "reference.training": ["train_classifier"],
    "reference.library.literal": ["literal"],
    "reference.library.shapes": ["layer_output_shape", "receptive_field", "param_count", "norm_flops"],
    "reference.library.numeric": ["conv2d_values", "pool2d_values", "softmax_values", "cross_entropy_value",
                                  "optimizer_step", "lr_at_epoch", "init_scale"],
    "reference.library.chain": ["chain_rule_gradient", "chain_rule_derivative"],
    "reference.library.code_ops": ["dense_forward", "dense_backward", "conv2d_forward", "batchnorm_forward",
                                   "layernorm_forward", "softmax_forward", "attention_forward", "adam_step",
                                   "sgd_step", "conv2d_backward", "batchnorm_backward"],
}


@dataclass(frozen=True)
class ReferenceFunction(Generic[P]):
    name: str
    params_model: type[P]
    compute_fn: Callable[[P], Any]
    doc: str = ""

    def validate(self, params: dict[str, Any]) -> P:
        return self.params_model.model_validate(params)

    def compute(self, params: dict[str, Any]) -> Any:
        return self.compute_fn(self.validate(params))

    def __call__(self, params: P) -> Any:
        return self.compute_fn(params)


_LOADED: dict[str, ReferenceFunction[Any]] = {}
# While an instructor's file is imported (grader.core.course), its functions are collected here instead
# of joining the built-in catalogue: they are registered under names qualified by the file.
_COLLECTING: list[dict[str, ReferenceFunction[Any]]] = []


def reference(name: str, params: type[P]) -> Callable[[Callable[[P], Any]], ReferenceFunction[P]]:
    """Decorator: declare `fn(params) -> answer` as the reference function `name`."""

    def wrap(fn: Callable[[P], Any]) -> ReferenceFunction[P]:
        ref = ReferenceFunction(name, params, fn, (fn.__doc__ or "").strip())
        (_COLLECTING[-1] if _COLLECTING else _LOADED)[name] = ref
        return ref

    return wrap


def register_module(module: str, names: list[str]) -> None:
    """Extension point: make a module's reference functions known by name."""
    _MODULES.setdefault(module, []).extend(n for n in names if n not in _MODULES.get(module, []))


@contextmanager
def collecting() -> Iterator[dict[str, ReferenceFunction[Any]]]:
    """The reference functions a module declares while it is imported inside this block."""
    found: dict[str, ReferenceFunction[Any]] = {}
    _COLLECTING.append(found)
    try:
        yield found
    finally:
        _COLLECTING.pop()


def register_loaded(ref: ReferenceFunction[Any]) -> None:
    """Make an already built reference function known under its name (a course's own)."""
    _LOADED[ref.name] = ref


def reference_names() -> list[str]:
    return sorted(n for names in _MODULES.values() for n in names)


def module_of(name: str) -> str | None:
    """The module that defines reference function `name` (None if unknown)."""
    return next((m for m, names in _MODULES.items() if name in names), None)


def get_reference(name: str) -> ReferenceFunction[Any]:
    if name not in _LOADED:
        if "@" in name:
            raise KeyError(f"reference function {name!r} belongs to a course rubric that is not loaded")
        module = module_of(name)
        if module is None:
            raise KeyError(f"unknown reference function {name!r}; known: {', '.join(reference_names())}")
        importlib.import_module(module)
    return _LOADED[name]
