"""Matching a file's tensors to the rubric's architecture.

Named architectures (the starter code's `W1`, `b1`, ...) match by name. Unnamed ones match by
structure: tensors group by module (`fc1.weight` + `fc1.bias`), modules are taken in natural
order (`fc2` before `fc10`) and each expected layer takes the first unused module of the right
shapes, so `fc1/fc2`, `0/2` (nn.Sequential) and `hidden/output` all work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from grader.models.formats import FLOAT_DTYPES, TensorInfo
from grader.models.spec import Architecture, ExpectedTensor


@dataclass
class Match:
    """`mapping`: an expected tensor's key -> the file's tensor name; `problems`: why not."""

    mapping: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    expected_params: int = 0
    found_params: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def match_tensors(arch: Architecture, found: dict[str, TensorInfo]) -> Match:
    expected = arch.expected_tensors()
    result = Match(expected_params=sum(t.numel for t in expected),
                   found_params=sum(t.numel for t in found.values()))
    result.problems += _dtype_problems(found)
    if arch.named:
        _match_named(expected, found, result)
    else:
        _match_structure(arch, expected, found, result)
    if result.problems:
        result.mapping = {}
    return result


def _dtype_problems(found: dict[str, TensorInfo]) -> list[str]:
    return [f"tensor {t.name!r} has dtype {t.dtype}; weights must be floating point"
            for t in found.values() if t.dtype not in FLOAT_DTYPES]


def _match_named(expected: list[ExpectedTensor], found: dict[str, TensorInfo],
                 result: Match) -> None:
    for tensor in expected:
        name = tensor.name or tensor.key
        if name not in found:
            result.problems.append(f"tensor {name!r} of shape {_shape(tensor.shape)} is missing")
        elif found[name].shape != tensor.shape:
            result.problems.append(f"tensor {name!r} has shape {_shape(found[name].shape)}, "
                                   f"expected {_shape(tensor.shape)}")
        else:
            result.mapping[tensor.key] = name
    wanted = {t.name for t in expected}
    for name in sorted(set(found) - wanted, key=natural_key):
        result.problems.append(f"tensor {name!r} of shape {_shape(found[name].shape)} is not part "
                               "of the architecture")


def _match_structure(arch: Architecture, expected: list[ExpectedTensor],
                     found: dict[str, TensorInfo], result: Match) -> None:
    modules: dict[str, dict[str, TensorInfo]] = {}
    for name, info in found.items():
        prefix, _, leaf = name.rpartition(".")
        if leaf not in ("weight", "bias"):
            result.problems.append(f"tensor {name!r} is neither a layer's weight nor its bias")
            continue
        modules.setdefault(prefix, {})[leaf] = info
    order = sorted(modules, key=natural_key)
    used: set[str] = set()
    unmatched: list[dict[str, ExpectedTensor]] = []
    for layer in sorted({t.layer for t in expected}):
        wants: dict[str, ExpectedTensor] = {t.role: t for t in expected if t.layer == layer}
        chosen = next((p for p in order if p not in used and _fits(modules[p], wants)), None)
        if chosen is None:
            unmatched.append(wants)
            continue
        used.add(chosen)
        for role, tensor in wants.items():
            result.mapping[tensor.key] = modules[chosen][role].name
    extra = [p for p in order if p not in used]
    for index, wants in enumerate(unmatched):
        layer = next(iter(wants.values())).layer
        should = f"{arch.layer_label(layer)} should have {_describe(wants)}"
        if index < len(extra):
            result.problems.append(f"{should}, but your file's {extra[index] or '(top level)'} has "
                                   f"{_describe_found(modules[extra[index]])}")
        else:
            result.problems.append(f"{should}, and your file has no such layer")
    for prefix in extra[len(unmatched):]:
        result.problems.append(f"your file has a layer the architecture does not have: "
                               f"{_describe_found(modules[prefix])}")


def _fits(module: dict[str, TensorInfo], wants: dict[str, ExpectedTensor]) -> bool:
    return set(module) == set(wants) and all(module[r].shape == wants[r].shape for r in wants)


def _describe(wants: dict[str, ExpectedTensor]) -> str:
    ordered = sorted(wants.items(), reverse=True)  # weight before bias
    return " and ".join(f"{role} {_shape(t.shape)}" for role, t in ordered)


def _describe_found(module: dict[str, TensorInfo]) -> str:
    ordered = sorted(module.items(), reverse=True)
    return " and ".join(f"{t.name} {_shape(t.shape)}" for _, t in ordered)


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) if shape else "scalar"


def natural_key(name: str) -> list[tuple[int, int | str]]:
    """`fc2` sorts before `fc10`; digits compare as numbers."""
    parts = [part for part in re.split(r"(\d+)", name) if part]
    return [(0, int(part)) if part.isdigit() else (1, part) for part in parts]


def shape_text(shape: tuple[int, ...]) -> str:
    return _shape(shape)
