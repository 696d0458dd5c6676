"""Symbolic reference functions computed by the running math worker: sympy is imported there
anyway, so a first `grader check` does not import it a second time in the grader itself.

This is the grader's side; the worker's is `checks.reference_response`."""

from __future__ import annotations

import json
from typing import Any

from grader.mathworker.process import running_worker
from grader.mathworker.protocol import MathRequest

REFERENCE_TIMEOUT = 30.0  # seconds for a reference function (rubric params, not student input)
# reference modules that differentiate or solve with sympy: computed where sympy is loaded
SYMBOLIC_MODULES = frozenset({"reference.symbolic", "reference.backprop", "reference.facts"})


def compute_reference(function: str, params: dict[str, Any]) -> Any:
    """A symbolic reference computed by this process's running worker, or `MISS` (the caller
    computes it): when no worker runs, the function needs no sympy, or the worker fails."""
    from grader.core.refcache import MISS
    from reference.registry import module_of

    worker = running_worker()
    if worker is None or module_of(function) not in SYMBOLIC_MODULES:
        return MISS
    request = MathRequest(kind="reference", function=function, params=params)
    response = worker.call(request, REFERENCE_TIMEOUT)
    if response.status != "ok" or response.value is None:
        return MISS
    return json.loads(response.value)
