"""A process pool that survives its tasks: a task that crashes its worker or runs past the wall
limit becomes a failed outcome, the worker is replaced, and the other tasks go on.

`concurrent.futures` cannot stop one hung task, so each worker is a process of our own with a
pipe: the parent knows which task each worker holds and since when, and can kill just that one.
Workers are started by `forkserver` where it exists (cheap replacements, no fork of a parent that
holds threads), else `spawn`. The functions a worker runs are named as `module:function`, so that
they are importable in the child whatever the start method.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

STARTUP_SECONDS = 120.0
MAX_STARTUP_DEATHS = 3


class PoolError(Exception):
    """The pool cannot work at all (a worker cannot start): not one task's fault."""


@dataclass(frozen=True)
class Outcome:
    index: int
    ok: bool
    value: Any = None
    reason: str = ""
    seconds: float = 0.0


def resolve(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def _worker_main(conn: Connection, initializer: str, init_args: tuple[Any, ...], handler: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    try:
        state = resolve(initializer)(*init_args)
        handle = resolve(handler)
    except BaseException as err:
        conn.send(("init_failed", f"{type(err).__name__}: {err}"))
        return
    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if message is None:
            return
        index, task = message
        try:
            conn.send(("ok", index, handle(state, task)))
        except Exception as err:
            conn.send(("failed", index, f"{type(err).__name__}: {err}"))


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    task: tuple[int, Any] | None = None
    started: float = 0.0


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class WorkerPool:
    """Run `handler(state, task)` over tasks in `jobs` processes, `state = initializer(*init_args)`
    computed once per worker; `timeout` bounds each task's wall time."""

    def __init__(
        self, jobs: int, *, initializer: str, init_args: tuple[Any, ...], handler: str, timeout: float,
        preload: tuple[str, ...] = (),
    ) -> None:
        self.jobs = max(1, jobs)
        self.initializer = initializer
        self.init_args = init_args
        self.handler = handler
        self.timeout = timeout
        self._ctx = _context()
        if preload and self._ctx.get_start_method() == "forkserver":
            self._ctx.set_forkserver_preload(list(preload))
        self.replaced = 0
        self._startup_deaths = 0

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main, args=(child, self.initializer, self.init_args, self.handler), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def run(self, tasks: Iterable[Any]) -> Iterator[Outcome]:
        pending: deque[tuple[int, Any]] = deque(enumerate(tasks))
        if not pending:
            return
        workers = [self._start() for _ in range(min(self.jobs, len(pending)))]
        try:
            yield from self._loop(pending, workers)
        finally:
            for worker in workers:
                self._stop(worker, graceful=True)

    def _loop(self, pending: deque[tuple[int, Any]], workers: list[_Worker]) -> Iterator[Outcome]:
        born = time.monotonic()
        while pending or any(w.task is not None for w in workers):
            for worker in workers:
                if worker.ready and worker.task is None and pending:
                    worker.task = pending.popleft()
                    worker.started = time.monotonic()
                    worker.conn.send(worker.task)
            waitables: list[Any] = [w.conn for w in workers] + [w.process.sentinel for w in workers]
            wait(waitables, timeout=self._next_deadline(workers))
            for slot, worker in enumerate(workers):
                outcome = self._poll(worker)
                if outcome is not None:
                    yield outcome
                if not worker.process.is_alive():
                    if worker.task is not None:  # it died after `_poll` looked: its task failed
                        yield self._poll(worker) or self._finish(worker, False, None, _death(worker.process))
                    workers[slot] = self._replace(worker)
            if not any(w.ready for w in workers) and time.monotonic() - born > STARTUP_SECONDS:
                raise PoolError(f"no worker started within {STARTUP_SECONDS:g} s")

    def _next_deadline(self, workers: list[_Worker]) -> float:
        now = time.monotonic()
        deadlines = [w.started + self.timeout - now for w in workers if w.task is not None]
        return max(0.0, min(deadlines, default=1.0))

    def _poll(self, worker: _Worker) -> Outcome | None:
        """Read what the worker said, or decide it is dead or over time."""
        try:
            if worker.conn.poll():
                return self._message(worker, worker.conn.recv())
        except (EOFError, OSError):
            worker.process.join(timeout=5)  # the pipe closed: the process is on its way out
        if worker.task is not None and not worker.process.is_alive():
            return self._finish(worker, False, None, _death(worker.process))
        if worker.task is not None and time.monotonic() - worker.started > self.timeout:
            self._stop(worker, graceful=False)
            return self._finish(worker, False, None, f"ran over the time limit of {self.timeout:g} s")
        return None

    def _message(self, worker: _Worker, message: tuple[Any, ...]) -> Outcome | None:
        kind = message[0]
        if kind == "ready":
            worker.ready = True
            return None
        if kind == "init_failed":
            raise PoolError(f"a worker could not start: {message[1]}")
        ok = kind == "ok"
        return self._finish(worker, ok, message[2] if ok else None, "" if ok else str(message[2]))

    def _finish(self, worker: _Worker, ok: bool, value: Any, reason: str) -> Outcome:
        assert worker.task is not None
        index = worker.task[0]
        worker.task = None
        return Outcome(index, ok, value, reason, time.monotonic() - worker.started)

    def _replace(self, worker: _Worker) -> _Worker:
        self._stop(worker, graceful=False)
        if not worker.ready:
            self._startup_deaths += 1
            if self._startup_deaths > MAX_STARTUP_DEATHS:
                raise PoolError(f"workers keep dying before they start ({_death(worker.process)})")
        self.replaced += 1
        return self._start()

    @staticmethod
    def _stop(worker: _Worker, *, graceful: bool) -> None:
        if graceful and worker.process.is_alive():
            with contextlib.suppress(OSError):
                worker.conn.send(None)
            worker.process.join(timeout=2)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(timeout=5)
        worker.conn.close()


def _death(process: BaseProcess) -> str:
    process.join(timeout=1)
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"the grading process was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"the grading process was killed by signal {-code}"
    return f"the grading process stopped (exit code {code})"
