"""Hypothesis profiles for the fuzz tests (tests/test_fuzz_*.py).

- `ci` (the default): a bounded, derandomised run (the same examples every time, no example
  database), each example within a deadline: what `pytest` runs everywhere.
- `long`: many more random examples, for a session of bug hunting:

      HYPOTHESIS_PROFILE=long python -m pytest -q tests/test_fuzz_*.py

  (about 100 times the examples of `ci`; tens of minutes on 2 cores). Set
  HYPOTHESIS_EXAMPLES to choose the count.

The profile is applied per test (`@fuzz`), so other tests' hypothesis settings are left alone.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=150, deadline=timedelta(seconds=2), derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long", max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "15000")), deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
fuzz = settings(settings.get_profile(PROFILE if PROFILE in ("ci", "long") else "ci"))
