from __future__ import annotations

from typing import Any

import pytest

from grader.checkers.base import MISSING
from grader.core.report import Status
from tests.kinds_helpers import grade

Q3 = {"in_channels": 50, "in_size": 12, "filters": 20, "kernel": 4, "padding": 1, "stride": 2,
      "pool_kernel": 3, "pool_stride": 1, "bias": False}
FLOPS: dict[str, Any] = {
    "kind": "number",
    "reference": {"function": "conv_pool_flops", "params": Q3},
    "tolerance": {"mode": "exact"},
    "known_mistakes": [
        {"name": "mac", "feedback": "your answer counts a multiply-add as one FLOP", "params": {"mac_as_one": True}},
        {"name": "no_pool", "feedback": "your answer leaves pooling out", "params": {"include_pool": False},
         "credit": 0.5},
    ],
}
DW3: dict[str, Any] = {
    "kind": "number",
    "reference": {"function": "two_layer_sigmoid_grad",
                  "params": {"w": [0.75, -0.63, 0.24, -1.7, 0.8, -0.2], "x": [0.9, -1.1, -0.3, 0.8], "y": 0.5}},
    "tolerance": {"mode": "decimals", "digits": 4},
    "accepted": [{"name": "rounded", "feedback": "rounded steps: correct", "params": {"round_decimals": 4}}],
    "known_mistakes": [{"name": "sign_h1", "feedback": "your answer uses σ(−z) for h1",
                        "params": {"negate_preactivation": ["h1"]}}],
}
WIDTH: dict[str, Any] = {
    "kind": "number",
    "reference": {"function": "mlp_equal_width",
                  "params": {"inputs": 784, "outputs": 10, "hidden_layers": 2, "match": {"sizes": [784, 64, 10]}}},
    "tolerance": {"mode": "sigfigs", "digits": 3},
    "integer_rounding_credit": 0.5,
}

CASES = [
    ("flops plain", FLOPS, 1153840, Status.CORRECT, None, "correct"),
    ("flops as students write", FLOPS, "1,153,840 FLOPs", Status.CORRECT, None, "correct"),
    ("flops scientific", FLOPS, "1.15384e6", Status.CORRECT, None, "correct"),
    ("flops boxed latex", FLOPS, "$\\boxed{1,153,840}$", Status.CORRECT, None, "correct"),
    ("flops rounded is not exact", FLOPS, "1.154e6", Status.INCORRECT, None, "not correct"),
    ("flops multiply-add mistake", FLOPS, "578,560", Status.INCORRECT, "mac", "multiply-add"),
    ("flops pooling left out, half credit", FLOPS, 1151280, Status.PARTIAL, "no_pool", "pooling"),
    ("flops decimal slip", FLOPS, 115384, Status.INCORRECT, None, "factor of 0.1"),
    ("flops sign slip", FLOPS, -1153840, Status.INCORRECT, None, "sign error"),
    ("flops unreadable", FLOPS, "abc", Status.INVALID, None, "not a number"),
    ("flops missing", FLOPS, MISSING, Status.MISSING, None, "no answer"),
    ("flops blank", FLOPS, "  ", Status.MISSING, None, "no answer"),
    ("dw3 sheet rounding", DW3, "0.0006", Status.CORRECT, None, "correct"),
    ("dw3 exact digits", DW3, "6.2158e-4", Status.CORRECT, None, "correct"),
    ("dw3 sign mistake", DW3, "0.0001", Status.INCORRECT, "sign_h1", "σ(−z)"),
    ("dw3 sign mistake with decimal slip", DW3, "0.00143", Status.INCORRECT, None, "σ(−z)"),
    ("dw3 wrong", DW3, "0.0009", Status.INCORRECT, None, "not correct"),
    ("width exact form", WIDTH, "59.48", Status.CORRECT, None, "correct"),
    ("width rounded to whole units", WIDTH, 59, Status.PARTIAL, None, "whole number"),
    ("width far", WIDTH, 64, Status.INCORRECT, None, "not correct"),
]


@pytest.mark.parametrize(("data", "raw", "status", "mistake", "feedback"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_number_verdicts(data: dict[str, Any], raw: Any, status: Status, mistake: str | None, feedback: str) -> None:
    verdict = grade(data, raw)
    assert verdict.status is status
    assert verdict.mistake == mistake
    assert feedback in verdict.feedback


def test_expected_is_shown_only_when_revealed() -> None:
    hidden = grade({**FLOPS, "reveal_answer": False}, 1)
    shown = grade({**FLOPS, "reveal_answer": True}, 1)
    assert "1,153,840" not in hidden.feedback
    assert "expected 1,153,840" in shown.feedback
    assert hidden.expected == "1,153,840"  # the TA's report always carries it


def test_credit_of_partial_mistake() -> None:
    assert grade(FLOPS, 1151280).credit == 0.5
