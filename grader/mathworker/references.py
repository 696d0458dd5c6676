"""Symbolic reference functions computed by the running math worker: sympy is imported there
anyway, so a first `grader check` does not import it a second time in the grader itself.

`compute_reference` is the grader's side; `reference_response` is the worker's."""

from __future__ import annotations

import json
import time
from typing import Any

from grader.mathworker.process import running_worker
from grader.mathworker.protocol import MathRequest, MathResponse

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


def reference_response(request: MathRequest) -> MathResponse:
    """In the worker: a reference answer as JSON text, when it survives the round trip unchanged."""
    from grader.core.refcache import portable_json
    from reference import get_reference

    started = time.perf_counter()
    try:
        text = portable_json(get_reference(request.function).compute(request.params))
    except Exception as err:  # the grader computes it itself and reports the failure there
        return MathResponse(status="invalid", message=f"{type(err).__name__}: {err}")
    if text is None:
        return MathResponse(status="invalid", message="the answer does not survive JSON")
    return MathResponse(status="ok", value=text, seconds=time.perf_counter() - started)
