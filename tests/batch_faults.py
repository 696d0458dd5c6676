"""Worker functions that misbehave on purpose, for the pool and batch tests.

A task (or a submission's default id) names what to do: `crash` ends the process, `hang` sleeps
past any limit, `raise` raises, `slow` takes a moment; anything else succeeds.
"""

from __future__ import annotations

import os
import time
from typing import Any

from grader.batch.worker import GradeTask, WorkerState, grade_task, init_worker


def init_echo(prefix: str) -> dict[str, Any]:
    return {"prefix": prefix, "pid": os.getpid(), "handled": 0}


def misbehave(what: str) -> None:
    if what.startswith("crash"):
        os._exit(3)
    if what.startswith("hang"):
        time.sleep(3600)
    if what.startswith("raise"):
        raise RuntimeError(f"asked to raise by {what}")
    if what.startswith("slow"):
        time.sleep(0.3)


def echo(state: dict[str, Any], task: str) -> str:
    misbehave(task)
    state["handled"] += 1
    return f"{state['prefix']}{task}@{state['pid']}#{state['handled']}"


def init_grading(rubric_path: str, cache: dict[str, Any], reuse: bool = False) -> WorkerState:
    return init_worker(rubric_path, cache, reuse)


def grade_or_misbehave(state: WorkerState, task: GradeTask) -> str:
    misbehave(task.default_id)
    return grade_task(state, task)


def failing_init(_: str) -> None:
    raise ValueError("this worker cannot start")
