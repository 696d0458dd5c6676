"""A long-lived boxed worker that serves many jobs: the start-up (Python, torch) is paid once.

`run_python` starts a fresh box per call, which is what student *code* needs. Some workers run
no student code at all and only read student *data* with hardened loaders (the model evaluator
loads weights with `weights_only=True` or safetensors); for them a `SandboxSession` starts the
worker once, in the same box (`run_python`'s layers, environment, resource limits and, as root,
an unprivileged uid of its own) and sends it one job after another:

- each job gets a fresh folder inside the box holding its `inputs`; the worker runs its handler
  there and the parent collects `result.json` and the `collect` files from it, as `run_python`
  does, then removes the folder;
- each job has its own wall-clock limit (the parent kills the whole box when it passes) and its
  own CPU limit (the worker moves its kernel limit before each job); memory, file size, open
  files and processes are the box's limits, for the whole session;
- a job that kills, hangs or over-runs the worker ends its own `SandboxResult` exactly as the
  one-shot call would (`timeout`, `memory`, `crash`), and the next job starts a fresh worker;
  after `max_jobs` jobs the worker is replaced anyway.

The results have the `SandboxResult` shape of `run_python`, the layer included.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import select
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from grader.sandbox import layers
from grader.sandbox.api import (
    BOX_DIR,
    Limits,
    SandboxResult,
    SandboxUnavailable,
    _bootstrap,
    _collect,
    _environment,
    _fill,
    _identity,
    _judge,
    _last_line,
    _nproc_limit,
    _rlimits,
    _tail,
)
from grader.sandbox.files import chown_tree, remove_tree

SESSION_WORKER = "grader.sandbox.session_worker"
STARTUP_SECONDS = 60.0
MAX_REPLY_BYTES = 64 * 1024
DEFAULT_MAX_JOBS = 500


class SandboxSession:
    """`handler` (`module:function`, a `main(argv) -> int` working in its current folder) served
    by one boxed process started with `preload` modules imported. Not thread-safe."""

    def __init__(self, handler: str, *, limits: Limits | None = None, preload: tuple[str, ...] = (),
                 layer: str | None = None, max_jobs: int = DEFAULT_MAX_JOBS,
                 startup_seconds: float = STARTUP_SECONDS) -> None:
        self.handler = handler
        self.limits = limits or Limits()
        self.preload = preload
        self.max_jobs = max_jobs
        self.startup_seconds = startup_seconds
        try:
            self.layer = layers.choose_layer(layer)
        except (LookupError, ValueError) as err:
            raise SandboxUnavailable(str(err)) from None
        self.starts = 0  # workers started, the first included
        self.jobs = 0  # jobs sent, over every worker
        self.startup_seconds_spent = 0.0
        self._worker: _Worker | None = None

    # --- the public side --------------------------------------------------------------------

    def run(self, inputs: dict[str, bytes], *, args: list[str] | None = None,
            collect: tuple[str, ...] = (), wall_seconds: float | None = None,
            cpu_seconds: float | None = None) -> SandboxResult:
        """One job: `inputs` written into a fresh folder, the handler called there with `args`,
        within `wall_seconds` and `cpu_seconds` (default: the session's limits). Never raises for
        anything the job does."""
        job_limits = self.limits.model_copy(update={
            "wall_seconds": wall_seconds or self.limits.wall_seconds,
            "cpu_seconds": cpu_seconds or self.limits.cpu_seconds})
        worker = self._ready_worker()
        if isinstance(worker, SandboxResult):
            return worker
        self.jobs += 1
        result = worker.run_job(f"job-{self.jobs}", inputs, args or [], collect, job_limits)
        if not worker.alive or worker.jobs >= self.max_jobs:
            self._stop_worker()
        return result

    @property
    def alive(self) -> bool:
        return self._worker is not None and self._worker.alive

    def close(self) -> None:
        self._stop_worker()

    def __enter__(self) -> SandboxSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- workers ----------------------------------------------------------------------------

    def prestart(self) -> None:
        """Start the worker now without waiting for it: its imports overlap with the caller's
        work until the first job."""
        if self._worker is None or not self._worker.alive:
            self._stop_worker()
            self._worker = self._spawn()

    def _spawn(self) -> _Worker:
        worker = _Worker(self)
        self.starts += 1
        try:
            worker.spawn()
        except BaseException:  # no process (no uid free, no interpreter): leave nothing behind
            worker.stop()
            raise
        return worker

    def _ready_worker(self) -> _Worker | SandboxResult:
        worker = self._worker
        if worker is None or not worker.alive:
            self._stop_worker()
            worker = self._worker = self._spawn()
        if not worker.ready:
            waited = time.monotonic()
            failure = worker.await_ready()
            self.startup_seconds_spent += time.monotonic() - waited
            if failure is not None:
                self._stop_worker()
                return failure
        return worker

    def _stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()


class _Worker:
    """One boxed process of a session, with its folder, uid and pipes."""

    def __init__(self, session: SandboxSession) -> None:
        self.session = session
        self.outer = Path(tempfile.mkdtemp(prefix="grader-session-"))
        self.work = self.outer / BOX_DIR
        self.stack = contextlib.ExitStack()
        self.uid: int | None = None
        self.proc: subprocess.Popen[bytes] = None  # type: ignore[assignment]
        self.stderr: IO[bytes] = None  # type: ignore[assignment]
        self.buffer = b""
        self.cpu_reported = 0.0
        self.jobs = 0
        self.started = 0.0
        self.alive = False
        self.ready = False

    def spawn(self) -> None:
        """Start the process; `await_ready` waits for its hello."""
        session = self.session
        os.chmod(self.outer, 0o711)  # traversable, not listable, as run_python's folders
        _fill(self.work, None, {})
        self.uid = self.stack.enter_context(_identity())
        if self.uid is not None:
            chown_tree(self.work, self.uid)
        scratch_mb = session.limits.memory_mb
        command = [
            *layers.command_prefix(session.layer, self.work, scratch_mb),
            *_bootstrap(SESSION_WORKER, self.uid,
                        _nproc_limit(session.layer, self.uid, session.limits),
                        layers.box_plan(session.layer, self.work, scratch_mb)),
            session.handler, *session.preload,
        ]
        self.stderr = self.stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        _append_only(self.stderr)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            command, cwd=self.work, env=_environment(self.work), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.stderr, start_new_session=True,
            preexec_fn=_rlimits(self._startup_limits(), cpu_hard=resource.RLIM_INFINITY),
        )
        self.alive = True

    def _startup_limits(self) -> Limits:
        seconds = self.session.startup_seconds
        return self.session.limits.model_copy(update={"wall_seconds": seconds,
                                                      "cpu_seconds": seconds})

    def await_ready(self) -> SandboxResult | None:
        """None when the worker said it is ready (within the start-up allowance, counted from
        its spawn), else the failure as a result."""
        remaining = self.started + self.session.startup_seconds - time.monotonic()
        reply = self._read_reply(max(0.0, remaining))
        if isinstance(reply, dict) and reply.get("ready") is True:
            self.ready = True
            return None
        result = self._ended(self.started, reply == "timeout", self._startup_limits())
        result.reason = "the sandbox worker did not start: " + (
            result.reason or _last_line(result.stderr))
        return result

    def run_job(self, job: str, inputs: dict[str, bytes], args: list[str],
                collect: tuple[str, ...], limits: Limits) -> SandboxResult:
        self.jobs += 1
        folder = self.work / job
        try:
            _fill(folder, None, inputs)
            if self.uid is not None:
                chown_tree(folder, self.uid)
            self.stderr.truncate(0)
            started = time.monotonic()
            sent = self._send({"job": job, "args": args, "cpu_seconds": limits.cpu_seconds})
            reply = self._read_reply(limits.wall_seconds) if sent else "eof"
            if (isinstance(reply, dict) and reply.get("job") == job
                    and isinstance(reply.get("exit"), int)):
                result = self._result(started, limits, reply)
                _judge(result, False, limits)
            else:  # dead, late, or an answer to something else: the worker is not trusted on
                result = self._ended(started, reply == "timeout", limits)
            if result.status != "refused":
                _collect(result, folder, collect, limits)
            return result
        finally:
            if self.alive:
                remove_tree(folder)
            else:
                self.release()

    def _result(self, started: float, limits: Limits, reply: dict[str, Any]) -> SandboxResult:
        cpu = float(reply.get("cpu", 0.0))
        used, self.cpu_reported = max(0.0, cpu - self.cpu_reported), cpu
        return SandboxResult(status="ok", returncode=int(reply["exit"]), layer=self.session.layer,
                             uid=self.uid, seconds=time.monotonic() - started, cpu_seconds=used,
                             stderr=_tail(self.stderr, limits))

    def _ended(self, started: float, timed_out: bool, limits: Limits) -> SandboxResult:
        """The worker died, hung or broke the protocol: kill it and judge what it was doing
        like `run_python` judges a process that ended that way."""
        cpu_total = self.kill()
        code = self.proc.returncode
        result = SandboxResult(
            status="ok", returncode=-signal.SIGKILL if code in (None, 0) else code,
            layer=self.session.layer, uid=self.uid, seconds=time.monotonic() - started,
            cpu_seconds=max(0.0, cpu_total - self.cpu_reported), stderr=_tail(self.stderr, limits),
        )
        _judge(result, timed_out, limits)
        if result.status == "ok":  # it answered nonsense: no job may do that
            result.status, result.reason = "crash", "the sandbox worker broke its protocol"
        return result

    # --- pipes ------------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> bool:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:
            return False
        return True

    def _read_reply(self, seconds: float) -> dict[str, Any] | str:
        """The next reply, or "timeout", "eof" (the worker died) or "garbage"."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            remaining = max(0.0, deadline - time.monotonic())  # 0: what is there already
            if not select.select([fd], [], [], remaining)[0]:
                return "timeout"
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return "eof"
            self.buffer += chunk
            if len(self.buffer) > MAX_REPLY_BYTES:
                return "garbage"
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            return "garbage"
        return reply if isinstance(reply, dict) else "garbage"

    def kill(self) -> float:
        """Kill the worker's process group; returns the CPU seconds of its whole life."""
        self.alive = False
        if self.proc is None or self.proc.returncode is not None:
            return 0.0
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        try:
            _, status, usage = os.wait4(self.proc.pid, 0)
        except ChildProcessError:  # reaped elsewhere
            self.proc.returncode = -signal.SIGKILL
            return 0.0
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()
        return usage.ru_utime + usage.ru_stime

    def release(self) -> None:
        """After `kill`: the folder goes and, as root, every process left with the uid."""
        self.stack.close()
        if self.outer.exists():
            remove_tree(self.outer)

    def stop(self) -> None:
        self.kill()
        self.release()


def _append_only(handle: IO[bytes]) -> None:
    """Writes go to the end even after the parent truncates the file between jobs."""
    fd = handle.fileno()
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
