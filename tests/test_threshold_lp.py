"""The exact simplex behind the threshold verifier, checked by hand and against SciPy's HiGHS."""

from __future__ import annotations

from fractions import Fraction as F
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reference.threshold.exact_lp import maximize

CASES = [
    # id, c, rows, rhs, nonnegative, status, value
    (
        "bounded box",
        [1, 1],
        [[1, 0], [0, 1], [-1, 0], [0, -1]],
        [2, 3, 0, 0],
        None,
        "optimal",
        F(5),
    ),
    ("free variables go negative", [-1], [[-1]], [5], None, "optimal", F(5)),
    ("unbounded", [1, 0], [[0, 1]], [1], None, "unbounded", None),
    ("infeasible", [0], [[1], [-1]], [-1, -1], None, "infeasible", None),
    ("nonnegative bound", [-1, 0], [[0, 1]], [1], [True, False], "optimal", F(0)),
    ("rational data", [1], [[3]], [F(1, 7)], None, "optimal", F(1, 21)),
    (
        "degenerate vertex",
        [1, 1],
        [[1, 1], [1, 0], [0, 1], [2, 2]],
        [1, 1, 1, 2],
        None,
        "optimal",
        F(1),
    ),
    ("negative right-hand sides", [-1, -1], [[-1, 0], [0, -1]], [-2, -3], None, "optimal", F(-5)),
    ("redundant equalities", [1], [[1], [-1], [1], [-1]], [1, -1, 1, -1], None, "optimal", F(1)),
    ("tiny margins", [1], [[1000]], [F(1, 1000)], None, "optimal", F(1, 10**6)),
]


@pytest.mark.parametrize(
    ("c", "rows", "rhs", "nonneg", "status", "value"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_small_programs(
    c: list[Any],
    rows: list[Any],
    rhs: list[Any],
    nonneg: list[bool] | None,
    status: str,
    value: F | None,
) -> None:
    result = maximize(c, rows, rhs, nonneg)
    assert result.status == status
    assert result.value == value
    if result.point is not None:
        for row, b in zip(rows, rhs, strict=True):
            assert sum(F(a) * x for a, x in zip(row, result.point, strict=True)) <= b


def _highs_optimum(
    c: list[F], rows: list[list[F]], rhs: list[F], nonneg: list[bool]
) -> tuple[str, float | None]:
    """An independent oracle: SciPy's HiGHS in floating point. (sympy 1.14's `lpmax` was the
    first oracle; this test found it answering "optimal" for infeasible programs with free
    variables, e.g. ZERO_OBJECTIVE_INFEASIBLE below, so it cannot judge.)"""
    from scipy.optimize import linprog

    result = linprog(
        [-float(v) for v in c],
        A_ub=[[float(a) for a in row] for row in rows],
        b_ub=[float(b) for b in rhs],
        bounds=[(0, None) if flag else (None, None) for flag in nonneg],
        method="highs",
    )
    status = {0: "optimal", 2: "infeasible", 3: "unbounded"}[result.status]
    return status, (-float(result.fun) if status == "optimal" else None)


small = st.fractions(min_value=-3, max_value=3, max_denominator=3)


@st.composite
def programs(draw: st.DrawFn) -> tuple[list[F], list[list[F]], list[F], list[bool]]:
    n = draw(st.integers(1, 3))
    m = draw(st.integers(1, 5))
    rows = [[draw(small) for _ in range(n)] for _ in range(m)]
    rhs = [draw(st.integers(-4, 4)) for _ in range(m)]
    c = [draw(st.integers(-2, 2)) for _ in range(n)]
    nonneg = [draw(st.booleans()) for _ in range(n)]
    return [F(v) for v in c], rows, [F(v) for v in rhs], nonneg


FREE_VARIABLES_INFEASIBLE = (
    [F(0), F(-1)],
    [[F(1), F(-3)], [F(0), F(0)], [F(1), F(1)], [F(0), F(0)], [F(-2), F(3)]],
    [F(-1), F(0), F(-1), F(0), F(1)],
    [False, False],
)
ZERO_OBJECTIVE_INFEASIBLE = (
    [F(0), F(0)],
    [[F(1), F(-2)], [F(0), F(0)], [F(1), F(1)], [F(0), F(0)], [F(-1), F(1)]],
    [F(-1), F(0), F(-1), F(0), F(0)],
    [False, False],
)


@settings(max_examples=60, deadline=None)
@given(programs())
@example(ZERO_OBJECTIVE_INFEASIBLE)
@example(FREE_VARIABLES_INFEASIBLE)
def test_agrees_with_highs(program: tuple[list[F], list[list[F]], list[F], list[bool]]) -> None:
    c, rows, rhs, nonneg = program
    result = maximize(c, rows, rhs, nonneg)
    status, value = _highs_optimum(c, rows, rhs, nonneg)
    assert result.status == status
    if value is not None:
        assert result.value is not None and abs(float(result.value) - value) <= 1e-7
