"""The exact simplex behind the threshold verifier, checked by hand and against sympy's."""

from __future__ import annotations

from fractions import Fraction as F
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.exact_lp import maximize

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


def _sympy_optimum(
    c: list[F], rows: list[list[F]], rhs: list[F], nonneg: list[bool]
) -> tuple[str, F | None]:
    import sympy
    from sympy.solvers.simplex import InfeasibleLPError, UnboundedLPError, lpmax

    y = sympy.symbols(f"y0:{len(c)}")
    constraints = [
        sympy.Add(*[sympy.Rational(a) * v for a, v in zip(row, y, strict=True)])
        <= sympy.Rational(b)
        for row, b in zip(rows, rhs, strict=True)
    ]
    constraints += [v >= 0 for v, flag in zip(y, nonneg, strict=True) if flag]
    if any(k is sympy.false for k in constraints):
        return "infeasible", None
    constraints = [k for k in constraints if k is not sympy.true]
    try:
        value, _ = lpmax(
            sympy.Add(*[sympy.Rational(a) * v for a, v in zip(c, y, strict=True)]), constraints
        )
    except InfeasibleLPError:
        return "infeasible", None
    except UnboundedLPError:
        return "unbounded", None
    return "optimal", F(int(value.p), int(value.q))


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


@settings(max_examples=60, deadline=None)
@given(programs())
def test_agrees_with_sympy(program: tuple[list[F], list[list[F]], list[F], list[bool]]) -> None:
    c, rows, rhs, nonneg = program
    result = maximize(c, rows, rhs, nonneg)
    assert (result.status, result.value) == _sympy_optimum(c, rows, rhs, nonneg)
