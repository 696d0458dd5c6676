from __future__ import annotations

from typing import Any

import pytest

from reference import get_reference

RANGES = [
    ("tanh", (-1, 1)), ("sigmoid", (0, 1)),
]


@pytest.mark.parametrize(("function", "ends"), RANGES, ids=[r[0] for r in RANGES])
def test_activation_ranges_are_open(function: str, ends: tuple[int, int]) -> None:
    got = get_reference("activation_range").compute({"function": function})
    assert (got["low"], got["high"]) == (str(ends[0]), str(ends[1]))
    assert got["low_open"] and got["high_open"]


def test_relu_range_is_closed_at_zero() -> None:
    got = get_reference("activation_range").compute({"function": "relu"})
    assert got == {"low": "0", "high": "inf", "low_open": False, "high_open": True}


NET = {"w1": ("x1", "h1"), "w2": ("h1", "y"), "w3": ("x2", "h2"), "w4": ("h2", "y")}
RELU = [
    ("sheet", NET, ["h1"], ["w1", "w2", "w3"], ["yes", "yes", "no"]),
    ("other unit dead", NET, ["h2"], ["w1", "w2", "w3", "w4"], ["no", "no", "yes", "yes"]),
    ("deep: all successors dead", {"a": ("x", "h1"), "b": ("h1", "h2"), "c": ("h2", "y")}, ["h2"],
     ["a", "b", "c"], ["yes", "yes", "yes"]),
]


@pytest.mark.parametrize(("weights", "dead", "asked", "answer"), [c[1:] for c in RELU], ids=[c[0] for c in RELU])
def test_relu_zero_grads(weights: dict[str, Any], dead: list[str], asked: list[str], answer: list[str]) -> None:
    params = {"weights": weights, "outputs": ["y"], "dead_units": dead, "asked": asked}
    assert get_reference("relu_zero_grads").compute(params) == answer


def test_computation_graph_from_definitions() -> None:
    params = {"nodes": ["x", "z", "h", "y_hat", "R", "S", "L"],
              "definitions": {"z": "W1 @ x + b1", "h": "sigmoid(z)", "y_hat": "x + W2 @ h + b2",
                              "R": "r.T @ h", "S": "0.5 * sum((y_hat - s) ** 2)", "L": "S + R"}}
    edges = set(get_reference("computation_graph").compute(params))
    assert edges == {"x -> z", "z -> h", "h -> y_hat", "x -> y_hat", "h -> R", "y_hat -> S",
                     "S -> L", "R -> L"}
