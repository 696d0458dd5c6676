"""Model evaluators kept alive across submissions (batch grading).

One evaluation call costs about a second before any model runs (Python starts, torch imports);
the models themselves take milliseconds. Evaluation runs no student code (weights are read by
safetensors or `torch.load(weights_only=True)`, the network is the rubric's), so a batch worker
may keep one sandboxed evaluator (`SandboxSession`) per set of limits and send it submission
after submission. A job that kills or hangs it gets its own timeout/memory/crash outcome and the
next job starts a fresh evaluator. `grader check` and `grader grade` grade one submission and
keep the one-shot `run_python` call.

`GRADER_EVALUATOR_REUSE=0` turns reuse off even in a batch (for comparisons).
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.sandbox.api import Limits, SandboxResult
    from grader.sandbox.session import SandboxSession

HANDLER = "grader.models.worker_eval:main"
PRELOAD = ("torch", "safetensors.torch", "grader.models.worker_eval", "grader.models.build",
           "grader.models.formats")
REUSE_ENV = "GRADER_EVALUATOR_REUSE"
MAX_JOBS = 500  # a fresh evaluator now and then bounds whatever leaks

_SESSIONS: dict[str, SandboxSession] = {}
_STATE = {"enabled": False, "pid": 0}


def enable_reuse() -> None:
    """From now on, this process evaluates models in long-lived evaluators."""
    _STATE.update(enabled=True, pid=os.getpid())


def disable_reuse() -> None:
    """Back to one-shot evaluations; the evaluators still running are stopped."""
    _STATE.update(enabled=False)
    close_all()


def reuse_enabled() -> bool:
    return (bool(_STATE["enabled"]) and _STATE["pid"] == os.getpid()
            and os.environ.get(REUSE_ENV, "1") not in ("0", ""))


def run(inputs: dict[str, bytes], args: list[str], limits: Limits,
        collect: tuple[str, ...]) -> SandboxResult:
    """One evaluation job in the evaluator for these limits (started on first use)."""
    session = _session(limits)
    return session.run(inputs, args=args, collect=collect, wall_seconds=limits.wall_seconds,
                       cpu_seconds=limits.cpu_seconds)


def _session(limits: Limits) -> SandboxSession:
    from grader.sandbox import layers
    from grader.sandbox.api import SandboxUnavailable
    from grader.sandbox.session import SandboxSession

    try:  # the layer in the key: a command that settles another layer gets its own worker
        layer = layers.choose_layer()
    except (LookupError, ValueError) as err:
        raise SandboxUnavailable(str(err)) from None
    key = layer + " " + limits.model_copy(
        update={"wall_seconds": 1.0, "cpu_seconds": 1.0}).model_dump_json()
    if key not in _SESSIONS:
        if not _SESSIONS:
            atexit.register(close_all)
            # a multiprocessing worker leaves through os._exit: atexit never runs there
            multiprocessing.util.Finalize(None, close_all, exitpriority=10)
        _SESSIONS[key] = SandboxSession(HANDLER, limits=limits, preload=PRELOAD, max_jobs=MAX_JOBS,
                                        layer=layer)
    return _SESSIONS[key]


def sessions() -> list[SandboxSession]:
    return list(_SESSIONS.values())


def close_all() -> None:
    while _SESSIONS:
        _SESSIONS.popitem()[1].close()
