from __future__ import annotations

from fractions import Fraction

import pytest
from pydantic import TypeAdapter

from grader.core.tolerance import Tolerance

ADAPTER: TypeAdapter[Tolerance] = TypeAdapter(Tolerance)

CASES = [
    ("exact equal", {"mode": "exact"}, Fraction(1153840), 1153840, True),
    ("exact off by one", {"mode": "exact"}, Fraction(1153841), 1153840, False),
    ("relative inside", {"mode": "relative", "rtol": 1e-3}, Fraction(1000999, 1000), 1000, True),
    ("relative outside", {"mode": "relative", "rtol": 1e-3}, Fraction(1002), 1000, False),
    ("absolute inside", {"mode": "absolute", "atol": 0.01}, Fraction(5948, 100), 59.4757, True),
    ("absolute outside", {"mode": "absolute", "atol": 0.001}, Fraction(5948, 100), 59.4757, False),
    ("sigfigs 3 right", {"mode": "sigfigs", "digits": 3}, Fraction(595, 10), 59.4757, True),
    ("sigfigs 3 wrong", {"mode": "sigfigs", "digits": 3}, Fraction(594, 10), 59.4757, False),
    ("sigfigs of zero", {"mode": "sigfigs", "digits": 3}, Fraction(0), 0, True),
    ("decimals 4 rounded", {"mode": "decimals", "digits": 4}, Fraction(6, 10000), 0.00062158, True),
    ("decimals 4 more digits", {"mode": "decimals", "digits": 4}, Fraction(62, 100000), 0.00062158, True),
    ("decimals 4 wrong", {"mode": "decimals", "digits": 4}, Fraction(1, 10000), 0.00062158, False),
    ("decimals 4 next step", {"mode": "decimals", "digits": 4}, Fraction(7, 10000), 0.00062158, False),
]


@pytest.mark.parametrize(("mode", "got", "expected", "accepts"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_modes(mode: dict[str, object], got: Fraction, expected: float, accepts: bool) -> None:
    assert ADAPTER.validate_python(mode).accepts(got, expected) is accepts


def test_unknown_mode_is_a_validation_error() -> None:
    with pytest.raises(ValueError, match="mode"):
        ADAPTER.validate_python({"mode": "fuzzy"})
