"""Formula checks under a hard time and memory bound, in a long-lived worker process.

- `protocol`: the JSON-line messages (`MathRequest` in, `MathResponse` out);
- `checks`: the comparisons themselves, run in the worker (or in-process, `GRADER_MATH_INPROCESS=1`);
- `process`: starting, guarding and replacing the worker; `check` is the one call checkers make;
- `references`: symbolic reference functions computed in the worker, where sympy is loaded anyway;
- `__main__`: the worker's loop (`python -m grader.mathworker`).

A request that overruns its guard gets the worker killed and a fresh one started on the next
request; the answer is reported with status error ("the grader ran out of time; a person will
look"), never as another verdict: the check itself is bounded by counts (`mathparse.equivalence`),
the clock only guards against a hung process. The worker caps its own address space, so a memory
bomb ends in MemoryError or the worker's death, both reported the same way.
"""

from grader.mathworker.process import MathWorker, check, in_process, shared_worker, warm_up
from grader.mathworker.protocol import CandidateResult, MathRequest, MathResponse, ScalarSpace
from grader.mathworker.references import compute_reference

__all__ = ["CandidateResult", "MathRequest", "MathResponse", "MathWorker", "ScalarSpace", "check",
           "compute_reference", "in_process", "shared_worker", "warm_up"]
