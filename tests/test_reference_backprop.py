from __future__ import annotations

from typing import Any

import pytest

from reference import get_reference

SHEET = {"w": [0.75, -0.63, 0.24, -1.7, 0.8, -0.2], "x": [0.9, -1.1, -0.3, 0.8], "y": 0.5}
GRAD = get_reference("two_layer_sigmoid_grad")

CASES = [
    ("exact", {}, 0.00062158, 1e-8),
    ("every step to 4 decimals", {"round_decimals": 4}, 0.0006, 0.0),
    ("sigma of minus z at h1", {"negate_preactivation": ["h1"]}, 0.00014375, 1e-8),
]


@pytest.mark.parametrize(("extra", "value", "tol"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sheet_values(extra: dict[str, Any], value: float, tol: float) -> None:
    assert GRAD.compute({**SHEET, **extra}) == pytest.approx(value, abs=tol)


def _finite_difference(params: dict[str, Any], index: int, step: float = 1e-6) -> float:
    import math

    def loss(w: list[float]) -> float:
        sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
        x = params["x"]
        h1, h2 = sig(w[0] * x[0] + w[1] * x[1]), sig(w[2] * x[2] + w[3] * x[3])
        return float((params["y"] - sig(w[4] * h1 + w[5] * h2)) ** 2)

    up, down = list(params["w"]), list(params["w"])
    up[index] += step
    down[index] -= step
    return (loss(up) - loss(down)) / (2 * step)


@pytest.mark.parametrize("weight", ["w1", "w2", "w3", "w4", "w5", "w6"])
def test_every_weight_matches_finite_differences(weight: str) -> None:
    exact = GRAD.compute({**SHEET, "wrt": weight})
    assert exact == pytest.approx(_finite_difference(SHEET, int(weight[1]) - 1), rel=1e-5, abs=1e-10)


@pytest.mark.parametrize("weight", ["w1", "w3", "w5", "w6"])
def test_rounded_replay_is_close_to_exact(weight: str) -> None:
    exact = GRAD.compute({**SHEET, "wrt": weight})
    rounded = GRAD.compute({**SHEET, "wrt": weight, "round_decimals": 6})
    assert rounded == pytest.approx(exact, abs=2e-6)


def test_answer_follows_the_label() -> None:
    other = {**SHEET, "y": 1.0}
    assert GRAD.compute(other) == pytest.approx(_finite_difference(other, 2), rel=1e-5)
    assert GRAD.compute(other) != pytest.approx(GRAD.compute(SHEET), rel=1e-3)
