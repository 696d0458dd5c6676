"""The worker process: started on first use, guarded by a wall clock, replaced when it overruns
or dies. The clock is a guard against a hung process, never a budget (see `grader.mathworker`)."""

from __future__ import annotations

import atexit
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from grader.mathworker.protocol import MathRequest, MathResponse

DEFAULT_TIMEOUT = 10.0  # seconds per request: a guard against a hung worker, never a budget
GUARD_SCALE_ENV = "GRADER_MATH_GUARD_SCALE"  # multiplies every guard (tests simulate slow machines)
STARTUP_ALLOWANCE = 10.0  # seconds a fresh worker may take to import numpy and sympy
_SOURCE_ROOT = str(Path(__file__).resolve().parent.parent.parent)  # the folder that holds grader/


class MathWorker:
    """One child process, reused across checks; killed and replaced when a check overruns."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.restarts = 0
        self.warm = False  # the current process has answered once (its imports are done)
        self.owner = os.getpid()  # a forked grader process must not share this one's pipes

    def start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["PYTHONPATH"] = _SOURCE_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = "1"  # one thread: nothing here may depend on the core count
        self.warm = False
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.mathworker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        return self.process

    def alive(self) -> bool:
        """Its child process exists and has not exited."""
        return self.process is not None and self.process.poll() is None

    def running(self) -> bool:
        """This process's own worker is alive (a forked grader must not use its parent's)."""
        return self.owner == os.getpid() and self.alive()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def call(self, request: MathRequest, timeout: float = DEFAULT_TIMEOUT) -> MathResponse:
        with self.lock:
            return self._call(request, timeout)

    def _call(self, request: MathRequest, timeout: float) -> MathResponse:
        process = self.process if self.process is not None and self.alive() else self.start()
        assert process.stdin is not None and process.stdout is not None
        started = time.perf_counter()
        try:
            process.stdin.write(request.model_dump_json().encode() + b"\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.stop()
            return MathResponse(status="crashed", message="the checking process stopped")
        # a fresh worker's first request also waits for its start-up (imports), not counted
        line = _read_line(process, timeout + (0.0 if self.warm else STARTUP_ALLOWANCE))
        if line is None:
            self.stop()
            self.restarts += 1
            return MathResponse(
                status="timeout",
                message=f"no result within {timeout:g} s",
                seconds=time.perf_counter() - started,
            )
        self.warm = True
        if not line:
            self.stop()
            self.restarts += 1
            return MathResponse(status="crashed", message="the checking process died (memory limit?)")
        return MathResponse.model_validate_json(line)


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> bytes | None:
    """One line from the worker, b"" when it died, None when the time ran out."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b""
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(chunks)


_WORKER: MathWorker | None = None
_WORKER_LOCK = threading.Lock()


def shared_worker() -> MathWorker:
    global _WORKER
    with _WORKER_LOCK:
        if _WORKER is None or _WORKER.owner != os.getpid():
            _WORKER = MathWorker()
            atexit.register(_WORKER.stop)
        return _WORKER


def running_worker() -> MathWorker | None:
    """This process's worker when it is already running, without starting one."""
    return _WORKER if _WORKER is not None and _WORKER.running() else None


def warm_up() -> None:
    """Start the worker now, so that its imports overlap with the caller's own work."""
    if in_process():
        return
    worker = shared_worker()
    with worker.lock:
        if not worker.alive():
            worker.start()


def in_process() -> bool:
    return os.environ.get("GRADER_MATH_INPROCESS", "") not in ("", "0")


def check(request: MathRequest, timeout: float = DEFAULT_TIMEOUT) -> MathResponse:
    """Run a check under the worker's hard limits (or in-process when so configured)."""
    if in_process():
        from grader.mathworker.checks import run_check

        return run_check(request)
    return shared_worker().call(request, timeout * _guard_scale())


def _guard_scale() -> float:
    try:
        scale = float(os.environ.get(GUARD_SCALE_ENV, "1"))
    except ValueError:
        return 1.0
    return scale if scale > 0 else 1.0
