"""The exact threshold-network verifier: targets as data, the constructed reference design,
correct and wrong networks, and counterexamples re-checked here in exact arithmetic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction as F
from itertools import pairwise, product
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference import get_reference
from reference.threshold import (
    DesignError,
    Target,
    Threshold,
    ThresholdNetwork,
    ThresholdNetworkParams,
    VerificationTooLarge,
    construct_design,
    exact_number,
    parse_relation,
    verify,
)

Predicate = Callable[[Sequence[F]], bool]
DESCENDING = ["x1 > x2", "x2 > x3", "x3 > x4", "x4 > x5"]


def params(
    target: dict[str, Any], inputs: int = 5, hidden: int = 4, threshold: str = "ge"
) -> ThresholdNetworkParams:
    return ThresholdNetworkParams.model_validate(
        {"inputs": inputs, "hidden_units": hidden, "threshold": threshold, "target": target}
    )


def target_of(spec: dict[str, Any], inputs: int = 5) -> Target:
    return params(spec, inputs, 1).compiled_target()


def network(
    W1: list[list[Any]], b1: list[Any], w2: list[Any], b2: Any, threshold: Threshold = "ge"
) -> ThresholdNetwork:
    def nums(values: list[Any]) -> tuple[F, ...]:
        return tuple(exact_number(v) for v in values)

    return ThresholdNetwork(
        tuple(nums(r) for r in W1), nums(b1), nums(w2), exact_number(b2), threshold
    )


def step(z: F, threshold: str) -> int:
    return int(z >= 0) if threshold == "ge" else int(z > 0)


def oracle(net: ThresholdNetwork, x: Sequence[F]) -> tuple[tuple[int, ...], int]:
    """Hidden pattern and output, computed here without the verifier's code."""
    hidden = tuple(
        step(sum((w * v for w, v in zip(row, x, strict=True)), F(0)) + b, net.threshold)
        for row, b in zip(net.W1, net.b1, strict=True)
    )
    z = sum((w * h for w, h in zip(net.w2, hidden, strict=True)), F(0)) + net.b2
    return hidden, step(z, net.threshold)


def descending(x: Sequence[F]) -> bool:
    return all(a > b for a, b in pairwise(x))


VIOLATION_ROWS = [[-1, 1, 0, 0, 0], [0, -1, 1, 0, 0], [0, 0, -1, 1, 0], [0, 0, 0, -1, 1]]
GAP_ROWS = [[-v for v in row] for row in VIOLATION_ROWS]


def scaled(rows: list[list[int]], factors: Sequence[Any]) -> list[list[Any]]:
    return [[exact_number(f) * v for v in row] for row, f in zip(rows, factors, strict=True)]


# --- targets as data -----------------------------------------------------------------------------

RELATIONS = [
    ("strict order", "x1 > x2", 2, [((-1, 1), 0, True)]),
    ("non-strict", "x1 >= x2", 2, [((-1, 1), 0, False)]),
    ("constant side", "x3 < 0", 3, [((0, 0, 1), 0, True)]),
    ("coefficients and division", "2*x1 - x3/2 <= 1", 3, [((2, 0, F(-1, 2)), 1, False)]),
    ("implicit product", "3x2 + 0.5 > x1", 2, [((1, -3), F(1, 2), True)]),
    ("chain", "x1 > x2 >= 0", 2, [((-1, 1), 0, True), ((0, -1), 0, False)]),
    ("unicode", "x1 ≥ −1", 1, [((-1,), 1, False)]),
    ("braces", "x_{1} < x_2", 2, [((1, -1), 0, True)]),
]


@pytest.mark.parametrize(
    ("text", "inputs", "expected"), [r[1:] for r in RELATIONS], ids=[r[0] for r in RELATIONS]
)
def test_relation_text_becomes_halfspaces(
    text: str, inputs: int, expected: list[tuple[Any, Any, bool]]
) -> None:
    got = [(h.a, h.b, h.strict) for h in parse_relation(text, inputs).halfspaces]
    assert got == [(tuple(F(v) for v in a), F(b), strict) for a, b, strict in expected]


BAD_RELATIONS = [
    ("input out of range", "x6 > x1", "x1..x5"),
    ("product of inputs", "x1 * x2 > 0", "two variables"),
    ("equation", "x1 = x2", "cannot read"),
    ("no comparison", "x1 + x2", "no comparison"),
    ("empty side", "x1 >", "empty side"),
    ("code", "__import__('os') > 0", "cannot read"),
    ("no input", "1 < 2", "does not involve"),
    ("division by an input", "1/x1 > 0", "divide only by"),
]


@pytest.mark.parametrize(
    ("text", "message"), [r[1:] for r in BAD_RELATIONS], ids=[r[0] for r in BAD_RELATIONS]
)
def test_bad_relations_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_relation(text, 5)


def test_structured_inequality_and_chain_text_agree() -> None:
    chain = target_of({"all_of": ["x1 > x2 > x3 > x4 > x5"]})
    pairs = target_of({"all_of": DESCENDING})
    coefficients = target_of(
        {
            "all_of": [
                {"coefficients": [1, -1, 0, 0, 0], "op": ">", "rhs": 0},
                "x2 > x3",
                "x3 > x4",
                "x4 > x5",
            ]
        }
    )
    assert chain.conjunctions == pairs.conjunctions == coefficients.conjunctions
    assert pairs.text == chain.text == "x1 > x2 > x3 > x4 > x5"


def test_target_text_reads_like_the_rubric() -> None:
    union = target_of({"any_of": ["x1 - x2 > 1", {"all_of": ["x1 >= x2", "x3 < 0"]}]}, 3)
    assert union.text == "x1 - x2 > 1 or (x1 >= x2 and x3 < 0)"


# --- the reference design ------------------------------------------------------------------------


def test_descending_design_is_the_sheets_answer() -> None:
    data = get_reference("threshold_network_design").compute(
        {"inputs": 5, "hidden_units": 4, "threshold": "ge", "target": {"all_of": DESCENDING}}
    )
    assert data == {
        "hidden_weights": VIOLATION_ROWS,
        "hidden_bias": [0, 0, 0, 0],
        "output_weights": [-1, -1, -1, -1],
        "output_bias": 0.5,
    }


def test_design_follows_its_parameters() -> None:
    six = construct_design(params({"all_of": ["x1 > x2 > x3 > x4 > x5 > x6"]}, inputs=6, hidden=5))
    assert len(six.W1) == 5 and six.W1[4] == tuple(F(v) for v in (0, 0, 0, 0, -1, 1))
    strict_gt = construct_design(params({"all_of": DESCENDING}, threshold="gt"))
    assert strict_gt.W1[0] == tuple(F(v) for v in GAP_ROWS[0]) and strict_gt.b2 == F(-7, 2)


DESIGNS = [
    # id, target, inputs, hidden, threshold, predicate
    ("descending, z >= 0", {"all_of": DESCENDING}, 5, 4, "ge", descending),
    ("descending, z > 0", {"all_of": DESCENDING}, 5, 4, "gt", descending),
    ("descending, spare hidden units", {"all_of": DESCENDING}, 5, 6, "ge", descending),
    (
        "mixed strictness",
        {"all_of": ["x1 >= x2", "x3 < 0"]},
        3,
        2,
        "ge",
        lambda x: x[0] >= x[1] and x[2] < 0,
    ),
    (
        "mixed strictness, z > 0",
        {"all_of": ["x1 >= x2", "x3 < 0"]},
        3,
        2,
        "gt",
        lambda x: x[0] >= x[1] and x[2] < 0,
    ),
    (
        "union of two half-spaces",
        {"any_of": ["x1 - x2 > 1", "x2 - x1 >= 1"]},
        2,
        2,
        "ge",
        lambda x: x[0] - x[1] > 1 or x[1] - x[0] >= 1,
    ),
    (
        "XOR-like band",
        {"all_of": ["x1 + x2 > 1/2", "x1 + x2 < 3/2"]},
        2,
        2,
        "ge",
        lambda x: F(1, 2) < x[0] + x[1] < F(3, 2),
    ),
    (
        "fractional coefficients",
        {"all_of": ["0.1*x1 - x2/3 <= 0.25"]},
        2,
        1,
        "gt",
        lambda x: F(1, 10) * x[0] - x[1] / 3 <= F(1, 4),
    ),
    ("always", {"all_of": []}, 2, 1, "ge", lambda x: True),
    ("never", {"any_of": []}, 2, 1, "gt", lambda x: False),
]


@pytest.mark.parametrize(
    ("spec", "inputs", "hidden", "threshold", "predicate"),
    [d[1:] for d in DESIGNS],
    ids=[d[0] for d in DESIGNS],
)
def test_constructed_design_is_proved_correct(
    spec: dict[str, Any], inputs: int, hidden: int, threshold: str, predicate: Predicate
) -> None:
    p = params(spec, inputs, hidden, threshold)
    design = construct_design(p)
    assert verify(design, p.compiled_target()).correct
    for x in product([F(-1), F(0), F(1, 2), F(1), F(3, 2)], repeat=inputs):
        assert oracle(design, x)[1] == predicate(x)


@pytest.mark.parametrize(
    ("spec", "hidden", "message"),
    [
        (
            {"any_of": [{"all_of": ["x1 > 0", "x2 > 0"]}, {"all_of": ["x1 < 0", "x2 < 0"]}]},
            4,
            "union of conjunctions",
        ),
        (
            {"all_of": ["x1 > 0", "x2 > 0", "x1 + x2 < 5"]},
            2,
            "needs one hidden unit per inequality, 3",
        ),
    ],
    ids=["quadrant XOR", "too few hidden units"],
)
def test_unconstructible_designs_say_why(spec: dict[str, Any], hidden: int, message: str) -> None:
    with pytest.raises(DesignError, match=message):
        construct_design(params(spec, 2, hidden))


# --- correct networks for x1 > x2 > x3 > x4 > x5 ---------------------------------------------

CORRECT = [
    ("reference", network(VIOLATION_ROWS, [0] * 4, [-1] * 4, "0.5")),
    ("scaled by 3", network(scaled(VIOLATION_ROWS, [3] * 4), [0] * 4, [-2] * 4, 1)),
    (
        "hidden units reordered",
        network([VIOLATION_ROWS[i] for i in (2, 0, 3, 1)], [0] * 4, [-1] * 4, "0.5"),
    ),
    (
        "fractional weights",
        network(
            scaled(VIOLATION_ROWS, ["1/2", "1/3", "0.25", "7/3"]),
            [0] * 4,
            ["-1/2", "-0.25", "-1/3", "-1"],
            "0.1",
        ),
    ),
    ("output bias zero under z >= 0", network(VIOLATION_ROWS, [0] * 4, [-1] * 4, 0)),
    ("output bias just below one", network(VIOLATION_ROWS, [0] * 4, [-1] * 4, "0.999")),
    ("unequal output weights", network(VIOLATION_ROWS, [0] * 4, [-5, -1, -1, -1], "0.5")),
    ("decimal rows", network(scaled(VIOLATION_ROWS, ["0.1"] * 4), [0] * 4, ["-0.1"] * 4, "0.05")),
    (
        "one row a thousand times larger",
        network(scaled(VIOLATION_ROWS, [1, 1000, 1, 1]), [0] * 4, [-1] * 4, "1e-3"),
    ),
    (
        "spare unit that never fires",
        network([*VIOLATION_ROWS, [0] * 5], [0, 0, 0, 0, -1], [-1] * 4 + [7], "0.5"),
    ),
]
CORRECT_GT = [
    ("gap units under z > 0", network(GAP_ROWS, [0] * 4, [1] * 4, "-3.5", "gt")),
    (
        "gap units, output bias -3.0001",
        network(scaled(GAP_ROWS, [2, 1, 1, 5]), [0] * 4, [1] * 4, "-3.0001", "gt"),
    ),
]


@pytest.mark.parametrize(
    "net", [c[1] for c in CORRECT + CORRECT_GT], ids=[c[0] for c in CORRECT + CORRECT_GT]
)
def test_correct_networks_are_accepted(net: ThresholdNetwork) -> None:
    hidden = len(net.b1)
    p = params({"all_of": DESCENDING}, hidden=hidden, threshold=net.threshold)
    result = verify(net, p.compiled_target())
    assert result.correct, result.findings
    assert result.findings == ()
    assert 1 <= result.patterns <= 2**hidden


# --- wrong networks: every counterexample is re-checked here ----------------------------------

WRONG = [
    # id, network, kinds
    ("ties counted as descending", network(GAP_ROWS, [0] * 4, [1] * 4, -4), ["accepts_boundary"]),
    (
        "margin 0.001 misses small gaps",
        network(GAP_ROWS, ["-0.001"] * 4, [1] * 4, -4),
        ["misses_near_boundary"],
    ),
    (
        "slack 1e-9 misses small gaps",
        network(VIOLATION_ROWS, ["1e-9"] * 4, [-1] * 4, "0.5"),
        ["misses_near_boundary"],
    ),
    (
        "slack -1e-9 lets small violations through",
        network(VIOLATION_ROWS, ["-1e-9"] * 4, [-1] * 4, "0.5"),
        ["accepts_near_boundary"],
    ),
    (
        "gap units with slack +1e-9",
        network(GAP_ROWS, ["1e-9"] * 4, [1] * 4, -4),
        ["accepts_near_boundary"],
    ),
    (
        "one violation still firing",
        network(VIOLATION_ROWS, [0] * 4, [-1, -1, -1, 0], "0.5"),
        ["accepts_outside"],
    ),
    (
        "one violation tolerated",
        network(VIOLATION_ROWS, [0] * 4, [-1] * 4, "1.5"),
        ["accepts_outside"],
    ),
    (
        "a comparison left out",
        network([*VIOLATION_ROWS[:3], [0] * 5], [0, 0, 0, -1], [-1] * 4, "0.5"),
        ["accepts_outside"],
    ),
    ("never firing", network(VIOLATION_ROWS, [0] * 4, [-1] * 4, -1), ["never_fires"]),
    ("always firing", network(VIOLATION_ROWS, [0] * 4, [1] * 4, "0.5"), ["always_fires"]),
    (
        "ascending instead",
        network(GAP_ROWS, [0] * 4, [-1] * 4, "0.5"),
        ["accepts_outside", "misses_inside"],
    ),
    (
        "one row reversed",
        network([GAP_ROWS[0], *VIOLATION_ROWS[1:]], [0] * 4, [-1] * 4, "0.5"),
        ["accepts_outside", "misses_inside"],
    ),
    (
        "sheet's design under z > 0",
        network(VIOLATION_ROWS, [0] * 4, [-1] * 4, "0.5", "gt"),
        ["accepts_boundary"],
    ),
]


@pytest.mark.parametrize(("net", "kinds"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_wrong_networks_are_rejected_with_checked_counterexamples(
    net: ThresholdNetwork, kinds: list[str]
) -> None:
    target = params({"all_of": DESCENDING}, threshold=net.threshold).compiled_target()
    result = verify(net, target)
    assert not result.correct
    assert result.kinds == kinds
    for finding in result.findings:
        hidden, output = oracle(net, finding.x)
        assert (hidden, output) == (finding.hidden, finding.network_output)
        assert finding.target_output == int(descending(finding.x))
        assert output != finding.target_output
        assert all(abs(v) <= 10 and v.denominator <= 10**10 for v in finding.x), finding.x


def test_the_margin_counterexample_has_small_descending_gaps() -> None:
    net = network(GAP_ROWS, ["-0.001"] * 4, [1] * 4, -4)
    (finding,) = verify(net, target_of({"all_of": DESCENDING})).findings
    gaps = [a - b for a, b in pairwise(finding.x)]
    assert all(0 < g < F(1, 1000) for g in gaps)


def test_a_tie_counterexample_breaks_only_one_order() -> None:
    (finding,) = verify(
        network(GAP_ROWS, [0] * 4, [1] * 4, -4), target_of({"all_of": DESCENDING})
    ).findings
    gaps = [a - b for a, b in pairwise(finding.x)]
    assert sorted(gaps)[0] == 0 and all(g > 0 for g in sorted(gaps)[1:])


OTHER_TARGETS = [
    # id, spec, inputs, network, predicate, kinds
    (
        "strict where non-strict is asked",
        {"all_of": ["x1 >= x2", "x3 < 0"]},
        3,
        network([[-1, 1, 0], [0, 0, 1]], [0, 0], [-1, -1], "0.5"),
        lambda x: x[0] >= x[1] and x[2] < 0,
        ["misses_near_boundary"],
    ),
    (
        "textbook XOR net includes the band's edge",
        {"all_of": ["x1 + x2 > 1/2", "x1 + x2 < 3/2"]},
        2,
        network([[1, 1], [1, 1]], ["-0.5", "-1.5"], [1, -2], "-0.5"),
        lambda x: F(1, 2) < x[0] + x[1] < F(3, 2),
        ["accepts_boundary"],
    ),
    (
        "AND where a union is asked",
        {"any_of": ["x1 - x2 > 1", "x2 - x1 > 1"]},
        2,
        network([[1, -1], [-1, 1]], [-1, -1], [1, 1], "-1.5", "gt"),
        lambda x: abs(x[0] - x[1]) > 1,
        ["never_fires"],
    ),
    (
        "one quadrant of two",
        {"any_of": [{"all_of": ["x1 > 0", "x2 > 0"]}, {"all_of": ["x1 < 0", "x2 < 0"]}]},
        2,
        network([[1, 0], [0, 1]], [0, 0], [1, 1], "-1.5", "gt"),
        lambda x: x[0] * x[1] > 0 and x[0] != 0,
        ["misses_inside"],
    ),
]


@pytest.mark.parametrize(
    ("spec", "inputs", "net", "predicate", "kinds"),
    [t[1:] for t in OTHER_TARGETS],
    ids=[t[0] for t in OTHER_TARGETS],
)
def test_other_targets(
    spec: dict[str, Any], inputs: int, net: ThresholdNetwork, predicate: Predicate, kinds: list[str]
) -> None:
    result = verify(net, target_of(spec, inputs))
    assert result.kinds == kinds
    for finding in result.findings:
        assert oracle(net, finding.x)[1] == finding.network_output != int(predicate(finding.x))


# --- the bound on the work -----------------------------------------------------------------------


def test_too_large_questions_are_refused_before_any_work() -> None:
    net = network([[1, -1]] * 20, [0] * 20, [1] * 20, 0)
    with pytest.raises(
        VerificationTooLarge, match=r"too large for exact verification: up to [\d,]+ linear"
    ):
        verify(net, target_of({"all_of": ["x1 > x2"]}, 2))


def test_the_budget_is_a_limit() -> None:
    net = network(VIOLATION_ROWS, [0] * 4, [-1] * 4, "0.5")
    target = target_of({"all_of": DESCENDING})
    assert verify(net, target, max_linear_programs=400).linear_programs <= 400
    with pytest.raises(VerificationTooLarge, match="max_linear_programs = 100"):
        verify(net, target, max_linear_programs=100)


# --- a property: the verdict agrees with exact evaluation on a fine rational grid ---------------

weights = st.integers(-2, 2).map(F)
GRID = [F(v, 2) for v in range(-6, 7)]
SMALL_TARGETS: list[tuple[dict[str, Any], Predicate]] = [
    ({"all_of": ["x1 > x2"]}, lambda x: x[0] > x[1]),
    ({"all_of": ["x1 >= 0", "x2 < 1"]}, lambda x: x[0] >= 0 and x[1] < 1),
    ({"any_of": ["x1 + x2 > 1", "x1 - x2 <= -1"]}, lambda x: x[0] + x[1] > 1 or x[0] - x[1] <= -1),
]


@settings(max_examples=40, deadline=None)
@given(
    W1=st.lists(st.lists(weights, min_size=2, max_size=2), min_size=2, max_size=2),
    b1=st.lists(weights, min_size=2, max_size=2),
    w2=st.lists(weights, min_size=2, max_size=2),
    b2=st.sampled_from([F(-3, 2), F(-1, 2), F(0), F(1, 2)]),
    threshold=st.sampled_from(cast(list[Threshold], ["ge", "gt"])),
    which=st.integers(0, len(SMALL_TARGETS) - 1),
)
def test_verdict_agrees_with_exact_evaluation(
    W1: list[list[F]], b1: list[F], w2: list[F], b2: F, threshold: Threshold, which: int
) -> None:
    spec, predicate = SMALL_TARGETS[which]
    net = ThresholdNetwork(tuple(map(tuple, W1)), tuple(b1), tuple(w2), b2, threshold)
    result = verify(net, target_of(spec, 2))
    disagreements = [x for x in product(GRID, repeat=2) if oracle(net, x)[1] != predicate(x)]
    if result.correct:
        assert disagreements == []
    for finding in result.findings:
        assert oracle(net, finding.x)[1] == finding.network_output != int(predicate(finding.x))


DESIGN_TARGETS: list[tuple[dict[str, Any], int, Predicate]] = [
    ({"all_of": ["x1 > x2 > x3 > x4"]}, 4, descending),
    ({"all_of": ["x1 >= x2", "x3 < 0"]}, 3, lambda x: x[0] >= x[1] and x[2] < 0),
    (
        {"any_of": ["x1 - x2 > 1", "x2 - x1 >= 1"]},
        2,
        lambda x: abs(x[0] - x[1]) >= 1 and x[0] - x[1] != 1,
    ),
    ({"all_of": ["x1 + x2 > 1/2", "x1 + x2 < 3/2"]}, 2, lambda x: F(1, 2) < x[0] + x[1] < F(3, 2)),
]
positive = st.fractions(min_value=F(1, 5), max_value=5, max_denominator=7).filter(lambda v: v > 0)


@settings(max_examples=40, deadline=None)
@given(
    which=st.integers(0, len(DESIGN_TARGETS) - 1),
    threshold=st.sampled_from(cast(list[Threshold], ["ge", "gt"])),
    scales=st.lists(positive, min_size=4, max_size=4),
    output_scale=positive,
    order=st.permutations(range(4)),
    nudge=st.sampled_from([F(0), F(1, 10**9), F(-1, 10**9), F(1, 3), F(-2)]),
)
def test_equivalent_designs_pass_and_nudged_ones_fail(
    which: int, threshold: Threshold, scales: list[F], output_scale: F, order: list[int], nudge: F
) -> None:
    """Rescaling units and reordering them keeps the design correct; moving one hidden bias by any
    amount, however small, breaks it, and the counterexample shows it."""
    spec, inputs, predicate = DESIGN_TARGETS[which]
    p = params(
        spec, inputs, hidden=len(target_of(spec, inputs).conjunctions[0]) + 1, threshold=threshold
    )
    design = construct_design(p)
    units = [i for i in order if i < len(design.b1)]
    W1 = [tuple(scales[i] * w for w in design.W1[i]) for i in units]
    b1 = [scales[i] * design.b1[i] for i in units]
    real = next(k for k, i in enumerate(units) if any(design.W1[i]))
    b1[real] += nudge
    net = ThresholdNetwork(
        tuple(W1),
        tuple(b1),
        tuple(output_scale * design.w2[i] for i in units),
        output_scale * design.b2,
        threshold,
    )
    result = verify(net, p.compiled_target())
    assert result.correct == (nudge == 0)
    for finding in result.findings:
        assert oracle(net, finding.x)[1] == finding.network_output != int(predicate(finding.x))
