"""The reference design: a threshold network constructed from the target (one hidden unit per
inequality), and the `@reference` function that gives it to rubrics."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from reference.params import StrictParams
from reference.registry import reference
from reference.threshold.network import Threshold, ThresholdNetwork
from reference.threshold.targets import Halfspace, Target, TargetSpec

MAX_INPUTS = 1000
MAX_HIDDEN = 64
DESIGN_FUNCTION = "threshold_network_design"


class DesignError(ValueError):
    """No reference network is constructed for this target (a rubric problem)."""


class ThresholdNetworkParams(StrictParams):
    inputs: int = Field(ge=1, le=MAX_INPUTS, description="number of inputs x1..xn")
    hidden_units: int = Field(ge=1, le=MAX_HIDDEN, description="hidden units of the answer")
    threshold: Threshold = Field(
        "ge",
        description="σ(z) = 1 if z >= 0 ('ge', the usual sheet) or if z > 0 ('gt'), both layers",
    )
    target: TargetSpec = Field(description="where the output must be 1")

    @field_validator("target")
    @classmethod
    def _target_compiles(cls, target: TargetSpec, info: ValidationInfo) -> TargetSpec:
        if "inputs" in info.data:
            target.compile(info.data["inputs"])
        return target

    def compiled_target(self) -> Target:
        return self.target.compile(self.inputs)


def construct_design(p: ThresholdNetworkParams) -> ThresholdNetwork:
    """One hidden unit per inequality and an output unit that counts them.

    A unit can fire on a violation or on a satisfaction; it is chosen so that the threshold
    convention expresses it exactly (under z >= 0 a strict inequality's violation a·x - b >= 0, a
    non-strict one's satisfaction b - a·x >= 0; under z > 0 the other way round). The output
    fires when all are satisfied (a conjunction) or when one is (a union of single inequalities).
    """
    target = p.compiled_target()
    units, combine = _design_units(target)
    if len(units) > p.hidden_units:
        raise DesignError(
            f"the constructed design needs one hidden unit per inequality, {len(units)}, but the "
            f"question declares {p.hidden_units} hidden units"
        )
    rows: list[tuple[Fraction, ...]] = []
    biases: list[Fraction] = []
    weights: list[Fraction] = []
    for h in units:
        on_violation = h.strict if p.threshold == "ge" else not h.strict
        rows.append(h.a if on_violation else tuple(-a for a in h.a))
        biases.append(-h.b if on_violation else h.b)
        weights.append(Fraction(-1) if on_violation else Fraction(1))
    satisfied_units = weights.count(Fraction(1))
    violation_units = weights.count(Fraction(-1))
    half = Fraction(1, 2)
    b2 = half - satisfied_units if combine == "all" else violation_units - half
    for _ in range(p.hidden_units - len(units)):  # spare units never fire and weigh nothing
        rows.append(tuple(Fraction(0) for _ in range(p.inputs)))
        biases.append(Fraction(-1))
        weights.append(Fraction(0))
    return ThresholdNetwork(tuple(rows), tuple(biases), tuple(weights), b2, p.threshold)


def _design_units(target: Target) -> tuple[tuple[Halfspace, ...], Literal["all", "any"]]:
    conj = target.conjunctions
    if len(conj) == 1:
        return conj[0], "all"
    if all(len(c) == 1 for c in conj):
        return tuple(c[0] for c in conj), "any"
    raise DesignError(
        "no reference design is constructed for a union of conjunctions with several inequalities "
        "each (one hidden layer cannot always express it); state the target as one conjunction or "
        "a union of single inequalities"
    )


@reference(DESIGN_FUNCTION, ThresholdNetworkParams)
def threshold_network_design(p: ThresholdNetworkParams) -> dict[str, Any]:
    """A threshold network for the target, constructed from it (one hidden unit per inequality)."""
    return construct_design(p).as_data()
