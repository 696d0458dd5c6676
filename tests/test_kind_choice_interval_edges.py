from __future__ import annotations

from typing import Any

import pytest

from grader.core.report import Status
from tests.kinds_helpers import grade

RELU: dict[str, Any] = {
    "kind": "choice", "options": ["yes", "no"], "parts": 3,
    "reference": {"function": "relu_zero_grads", "params": {
        "weights": {"w1": ["x1", "h1"], "w2": ["h1", "y"], "w3": ["x2", "h2"], "w4": ["h2", "y"]},
        "outputs": ["y"], "dead_units": ["h1"], "asked": ["w1", "w2", "w3"]}},
}
TANH: dict[str, Any] = {"kind": "interval",
                        "reference": {"function": "activation_range", "params": {"function": "tanh"}},
                        "known_mistakes": [{"name": "sigmoid", "feedback": "your answer is σ's range",
                                            "params": {"function": "sigmoid"}}]}
RELU_RANGE: dict[str, Any] = {"kind": "interval",
                              "reference": {"function": "activation_range", "params": {"function": "relu"}}}
NODES = ["x", "z", "h", "y_hat", "R", "S", "L"]
GRAPH: dict[str, Any] = {
    "kind": "edges", "nodes": NODES, "aliases": {"y_hat": ["ŷ"]},
    "reference": {"function": "computation_graph", "params": {"nodes": NODES, "definitions": {
        "z": "W1 @ x + b1", "h": "sigmoid(z)", "y_hat": "x + W2 @ h + b2", "R": "r.T @ h",
        "S": "0.5 * sum((y_hat - s) ** 2)", "L": "S + R"}}},
}
ALL_EDGES = ["x -> z", "z -> h", "h -> y_hat", "x -> y_hat", "h -> R", "y_hat -> S", "S -> L", "R -> L"]

CASES = [
    ("choice upper with commas", RELU, "YES, YES, NO", Status.CORRECT, 1.0, "correct"),
    ("choice list lower", RELU, ["yes", "yes", "no"], Status.CORRECT, 1.0, "correct"),
    ("choice yaml booleans", RELU, [True, True, False], Status.CORRECT, 1.0, "correct"),
    ("choice y/n letters", RELU, "y y n", Status.CORRECT, 1.0, "correct"),
    ("choice one part wrong", RELU, "yes yes yes", Status.PARTIAL, 2 / 3, "part(s) 3"),
    ("choice all wrong", RELU, "no no yes", Status.INCORRECT, 0.0, "0 of 3"),
    ("choice too few parts", RELU, "yes no", Status.INVALID, 0.0, "3 part(s)"),
    ("choice unknown option", RELU, "yes maybe no", Status.INVALID, 0.0, "not one of"),
    ("interval plain", TANH, "(-1, 1)", Status.CORRECT, 1.0, "correct"),
    ("interval latex", TANH, "$\\left(-1, 1\\right)$", Status.CORRECT, 1.0, "correct"),
    ("interval french open", TANH, "]-1, 1[", Status.CORRECT, 1.0, "correct"),
    ("interval inequality", TANH, "-1 < y < 1", Status.CORRECT, 1.0, "correct"),
    ("interval unicode minus", TANH, "(\u22121, 1)", Status.CORRECT, 1.0, "correct"),
    ("interval closed ends", TANH, "[-1, 1]", Status.PARTIAL, 0.5, "should be open"),
    ("interval sigmoid's range", TANH, "(0, 1)", Status.INCORRECT, 0.0, "σ's range"),
    ("interval wrong", TANH, "(-2, 2)", Status.INCORRECT, 0.0, "not correct"),
    ("interval words", TANH, "-1 to 1", Status.INVALID, 0.0, "not an interval"),
    ("interval infinity", RELU_RANGE, "[0, inf)", Status.CORRECT, 1.0, "correct"),
    ("interval infinity symbol", RELU_RANGE, "[0, \\infty)", Status.CORRECT, 1.0, "correct"),
    ("interval open zero", RELU_RANGE, "(0, ∞)", Status.PARTIAL, 0.5, "lower end should be closed"),
    ("edges list", GRAPH, ALL_EDGES, Status.CORRECT, 1.0, "correct"),
    ("edges one string, any order", GRAPH, ", ".join(reversed(ALL_EDGES)), Status.CORRECT, 1.0, "correct"),
    ("edges arrows and alias", GRAPH, [e.replace("->", "→").replace("y_hat", "ŷ") for e in ALL_EDGES],
     Status.CORRECT, 1.0, "correct"),
    ("edges missing skip", GRAPH, [e for e in ALL_EDGES if e != "x -> y_hat"], Status.PARTIAL, 7 / 8, "1 missing"),
    ("edges one reversed", GRAPH, [*ALL_EDGES[1:], "z -> x"], Status.PARTIAL, 7 / 9, "reversed: z -> x"),
    ("edges unknown node", GRAPH, ["x -> q"], Status.INVALID, 0.0, "not one of"),
    ("edges not edges", GRAPH, ["x z"], Status.INVALID, 0.0, "not an edge"),
    ("edges number", GRAPH, 42, Status.INVALID, 0.0, "not a list of edges"),
]


@pytest.mark.parametrize(("data", "raw", "status", "credit", "feedback"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_verdicts(data: dict[str, Any], raw: Any, status: Status, credit: float, feedback: str) -> None:
    verdict = grade(data, raw)
    assert (verdict.status, verdict.credit) == (status, pytest.approx(credit, abs=1e-4))
    assert feedback in verdict.feedback
