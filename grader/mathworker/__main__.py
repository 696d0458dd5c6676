"""The math worker's loop: one `MathRequest` per line in, one `MathResponse` per line out."""

from __future__ import annotations

import os
import sys

from grader.mathworker.checks import run_check
from grader.mathworker.protocol import MathRequest, MathResponse

MEMORY_LIMIT = 1536 * 1024 * 1024  # bytes of address space the worker may add to its start-up size


def _limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[0])
        current = pages * os.sysconf("SC_PAGE_SIZE")
        limit = current + MEMORY_LIMIT
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError, ImportError):
        pass  # not Linux: the time limit still holds


def _import_everything_before_the_cap() -> None:
    import numpy  # noqa: F401
    import sympy  # noqa: F401
    from flint import ctx

    import grader.mathparse.balls
    import grader.mathparse.equivalence
    import grader.mathparse.matrix
    import grader.mathparse.matrix_exact
    import grader.mathparse.pieces
    import grader.mathparse.symbolic
    import grader.mathparse.world  # noqa: F401

    ctx.threads = 1  # ball arithmetic on one thread, whatever the machine


def main() -> None:
    _import_everything_before_the_cap()
    _limit_memory()
    for line in sys.stdin.buffer:
        try:
            response = run_check(MathRequest.model_validate_json(line))
        except MemoryError:
            response = MathResponse(status="crashed", message="memory limit")
        except Exception as err:  # a bug must not kill the batch: report it
            response = MathResponse(status="crashed", message=f"{type(err).__name__}: {err}")
        sys.stdout.buffer.write(response.model_dump_json().encode() + b"\n")
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
