"""A Dask worker plugin for the fault tests: grading the submission named `crasher` kills the
worker process, as a segfault in the grader would. Registered plugins are set up again on every
worker the nanny restarts, so the submission kills each worker it reaches."""

from __future__ import annotations

import os
from typing import Any

from distributed import WorkerPlugin

CRASHER = "crasher"


class CrashOnSubmission(WorkerPlugin):  # type: ignore[misc]
    name = "grader-test-crash-on-submission"

    def setup(self, worker: Any) -> None:
        from grader.batch import dask_executor

        original = dask_executor._grade_payload

        def crashing(state: Any, payload: Any) -> str:
            if payload.task.default_id == CRASHER:
                os._exit(99)
            return original(state, payload)

        dask_executor._grade_payload = crashing  # type: ignore[assignment]

