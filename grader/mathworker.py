"""Formula checks under a hard time and memory bound: a long-lived worker process.

The grader sends one `MathRequest` per answer (the answer and every formula it is compared with)
as a JSON line and reads one `MathResponse`. A request that overruns its time limit gets the
worker killed (by its own pid) and a fresh one is started on the next request; the answer is
reported with status error ("the grader ran out of time; a person will look"), never as another
verdict: the check itself is bounded by counts (`equivalence.py`), the clock only guards against a
hung process. The worker caps its own address space, so a memory bomb
ends in MemoryError or the worker's death, both reported the same way.

The worker also computes the symbolic reference functions (sympy) on request: sympy is imported
there anyway, so a first `grader check` does not import it a second time in the grader itself.

`GRADER_MATH_INPROCESS=1` runs checks in the calling process (tests and benchmarks).
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from grader.parsing.errors import AnswerParseError

DEFAULT_TIMEOUT = 10.0  # seconds per request: a guard against a hung worker, never a budget
GUARD_SCALE_ENV = "GRADER_MATH_GUARD_SCALE"  # multiplies every guard (tests simulate slow machines)
MEMORY_LIMIT = 1536 * 1024 * 1024  # bytes of address space the worker may add to its start-up size
STARTUP_ALLOWANCE = 10.0  # seconds a fresh worker may take to import numpy and sympy
REFERENCE_TIMEOUT = 30.0  # seconds for a reference function (rubric params, not student input)
# reference modules that differentiate or solve with sympy: computed where sympy is loaded
SYMBOLIC_MODULES = frozenset({"reference.symbolic", "reference.backprop", "reference.facts"})


class ScalarSpace(BaseModel):
    variables: dict[str, tuple[float, float]]
    definitions: dict[str, str] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    domain: dict[str, tuple[float | None, float | None]] = Field(default_factory=dict)


class MathRequest(BaseModel):
    kind: Literal["scalar", "matrix", "reference", "depends"]
    answer: str = ""
    candidates: list[str] = Field(default_factory=list)
    space: ScalarSpace | None = None
    world: dict[str, Any] | None = None  # a WorldSpec as data
    symbolic: bool = True  # accepted for old callers; the decision never waits on sympy
    function: str = ""  # kind "reference": a reference function and its params
    params: dict[str, Any] = Field(default_factory=dict)


class CandidateResult(BaseModel):
    outcome: str  # equal | different | undecided | transposed | shape | undefined
    method: str = ""
    reason: str = ""
    point: dict[str, float] | None = None
    got: float | None = None
    relative_gap: float | None = None
    factor: float | None = None
    proved: bool = False


class MathResponse(BaseModel):
    status: Literal["ok", "invalid", "shape_error", "timeout", "crashed"]
    message: str = ""
    results: list[CandidateResult] = Field(default_factory=list)
    value: str | None = None  # kind "reference": the answer as JSON text
    seconds: float = 0.0


# --- the check itself (runs in the worker, or in-process) ----------------------------------------


def run_check(request: MathRequest) -> MathResponse:
    started = time.perf_counter()
    if request.kind == "reference":
        return _reference(request, started)
    try:
        if request.kind == "depends":
            results = _depends(request)
        else:
            results = _scalar(request) if request.kind == "scalar" else _matrix(request)
        response = MathResponse(status="ok", results=results)
    except _ShapeVerdict as verdict:
        response = MathResponse(status="shape_error", message=str(verdict), results=verdict.results)
    except AnswerParseError as err:
        from grader.mathparse.matrix import ShapeError

        status: Literal["shape_error", "invalid"] = (
            "shape_error" if isinstance(err, ShapeError) else "invalid"
        )
        response = MathResponse(status=status, message=str(err))
    except (MemoryError, RecursionError) as err:
        response = MathResponse(status="crashed", message=type(err).__name__)
    response.seconds = time.perf_counter() - started
    return response


def _reference(request: MathRequest, started: float) -> MathResponse:
    """A reference answer as JSON text, when it survives the round trip unchanged."""
    from grader.core.refcache import portable_json
    from reference import get_reference

    try:
        text = portable_json(get_reference(request.function).compute(request.params))
    except Exception as err:  # the grader computes it itself and reports the failure there
        return MathResponse(status="invalid", message=f"{type(err).__name__}: {err}")
    if text is None:
        return MathResponse(status="invalid", message="the answer does not survive JSON")
    return MathResponse(status="ok", value=text, seconds=time.perf_counter() - started)


def _scalar(request: MathRequest) -> list[CandidateResult]:
    from grader.mathparse import prepare
    from grader.mathparse.equivalence import compare_many
    from grader.mathparse.parser import ParseConfig

    assert request.space is not None
    space = request.space
    names = frozenset(space.variables) | frozenset(space.definitions)
    config = ParseConfig("scalar", names, aliases=space.aliases)
    got = prepare(request.answer, config)
    key = (names, tuple(sorted(space.aliases.items())))
    candidates = [_prepared(text, key, config) for text in request.candidates]
    comparisons = compare_many(got, candidates, probe_space(space))
    return [
        CandidateResult(
            outcome=c.outcome,
            method=c.method,
            reason=c.reason,
            point=c.point,
            got=c.got,
            relative_gap=c.relative_gap,
            factor=c.factor,
            proved=c.proved,
        )
        for c in comparisons
    ]


def _depends(request: MathRequest) -> list[CandidateResult]:
    """Does the answer's value depend on these functions (`functions:a,b`) or this variable
    (`variable:z`, the others held fixed)? For form rules; decided like any comparison."""
    from grader.mathparse import prepare
    from grader.mathparse.equivalence import depends_on_functions, depends_on_variable
    from grader.mathparse.parser import ParseConfig

    assert request.space is not None
    space = request.space
    names = frozenset(space.variables) | frozenset(space.definitions)
    got = prepare(request.answer, ParseConfig("scalar", names, aliases=space.aliases))
    probe = probe_space(space)
    results = []
    for query in request.candidates:
        kind, _, what = query.partition(":")
        if kind == "functions":
            answer = depends_on_functions(got, set(what.split(",")), probe)
        else:
            answer = depends_on_variable(got, what, probe)
        outcome = "undecided" if answer is None else "depends" if answer else "independent"
        results.append(CandidateResult(outcome=outcome))
    return results


_PREPARED: dict[tuple[str, Any], Any] = {}  # rubric formulas (references, mistakes), read once


def _prepared(text: str, key: Any, config: Any) -> Any:
    from grader.mathparse import prepare

    if (text, key) not in _PREPARED:
        if len(_PREPARED) > 256:
            _PREPARED.clear()
        _PREPARED[(text, key)] = prepare(text, config)
    return _PREPARED[(text, key)]


def probe_space(space: ScalarSpace) -> Any:
    """The equivalence module's view of a question's variables."""
    from grader.mathparse import prepare
    from grader.mathparse.equivalence import ProbeSpace
    from grader.mathparse.parser import ParseConfig

    base = ParseConfig("scalar", frozenset(space.variables))
    definitions = tuple((name, prepare(text, base)) for name, text in space.definitions.items())
    return ProbeSpace(
        {k: (float(v[0]), float(v[1])) for k, v in space.variables.items()},
        definitions,
        {k: (v[0], v[1]) for k, v in space.domain.items()},
    )


_WORLDS: dict[str, Any] = {}


def _matrix(request: MathRequest) -> list[CandidateResult]:
    import json

    from grader.mathparse.matrix import ShapeError, compare_matrix, infer_shape, parse_matrix
    from grader.mathparse.world import WorldSpec

    assert request.world is not None
    key = json.dumps(request.world, sort_keys=True)
    if key not in _WORLDS:
        _WORLDS[key] = WorldSpec.model_validate(request.world).world()
    world = _WORLDS[key]
    got = parse_matrix(request.answer, world)
    try:
        infer_shape(got, world.shapes(), world)
    except ShapeError as err:
        raise _ShapeVerdict(str(err), _square_comparisons(request, world)) from None
    results = []
    for text in request.candidates:
        try:
            comparison = compare_matrix(got, parse_matrix(text, world), world)
        except ShapeError:  # a listed mistake that cannot be computed: not what this answer is
            results.append(CandidateResult(outcome="different", method="shape"))
            continue
        results.append(
            CandidateResult(
                outcome=comparison.outcome, reason=comparison.message, factor=comparison.factor
            )
        )
    return results


def _square_comparisons(request: MathRequest, world: Any) -> list[CandidateResult]:
    """The answer cannot be computed with the declared shapes: compare it with every candidate in
    a world where all dimensions are equal, so that a listed mistake such as `W1 @ W2` is named."""
    from grader.mathparse.matrix import ShapeError, compare_matrix, parse_matrix

    square = world.squared()
    results = []
    for text in request.candidates:
        try:
            comparison = compare_matrix(
                parse_matrix(request.answer, square), parse_matrix(text, square), square
            )
            outcome = "equal" if comparison.outcome == "equal" else "different"
        except ShapeError:
            outcome = "different"
        results.append(CandidateResult(outcome=outcome, method="square"))
    return results


class _ShapeVerdict(Exception):
    """A shape error, with the answer compared to each candidate where all dimensions are equal."""

    def __init__(self, message: str, results: list[CandidateResult]) -> None:
        super().__init__(message)
        self.results = results


# --- the worker process -------------------------------------------------------------------------


class MathWorker:
    """One child process, reused across checks; killed and replaced when a check overruns."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.restarts = 0
        self.warm = False  # the current process has answered once (its imports are done)
        self.owner = os.getpid()  # a forked grader process must not share this one's pipes

    def start(self) -> subprocess.Popen[bytes]:
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
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

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def call(self, request: MathRequest, timeout: float = DEFAULT_TIMEOUT) -> MathResponse:
        with self.lock:
            return self._call(request, timeout)

    def _call(self, request: MathRequest, timeout: float) -> MathResponse:
        process = self.process if self.process and self.process.poll() is None else self.start()
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
            return MathResponse(
                status="crashed", message="the checking process died (memory limit?)"
            )
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


def warm_up() -> None:
    """Start the worker now, so that its imports overlap with the caller's own work."""
    if in_process():
        return
    worker = shared_worker()
    with worker.lock:
        if worker.process is None or worker.process.poll() is not None:
            worker.start()


def compute_reference(function: str, params: dict[str, Any]) -> Any:
    """A symbolic reference computed by this process's running worker, or `MISS` (the caller
    computes it): when no worker runs, the function needs no sympy, or the worker fails."""
    from grader.core.refcache import MISS
    from reference.registry import module_of

    worker = _WORKER
    if (worker is None or worker.owner != os.getpid() or worker.process is None
            or worker.process.poll() is not None or module_of(function) not in SYMBOLIC_MODULES):
        return MISS
    request = MathRequest(kind="reference", function=function, params=params)
    response = worker.call(request, REFERENCE_TIMEOUT)
    if response.status != "ok" or response.value is None:
        return MISS
    return json.loads(response.value)


def in_process() -> bool:
    return os.environ.get("GRADER_MATH_INPROCESS", "") not in ("", "0")


def check(request: MathRequest, timeout: float = DEFAULT_TIMEOUT) -> MathResponse:
    """Run a check under the worker's hard limits (or in-process when so configured)."""
    if in_process():
        return run_check(request)
    return shared_worker().call(request, timeout * _guard_scale())


def _guard_scale() -> float:
    try:
        scale = float(os.environ.get(GUARD_SCALE_ENV, "1"))
    except ValueError:
        return 1.0
    return scale if scale > 0 else 1.0


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


def main() -> None:
    import numpy  # noqa: F401  - imported before the memory cap
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
    _limit_memory()
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    for line in stdin:
        try:
            request = MathRequest.model_validate_json(line)
            response = run_check(request)
        except MemoryError:
            response = MathResponse(status="crashed", message="memory limit")
        except Exception as err:  # a bug must not kill the batch: report it
            response = MathResponse(status="crashed", message=f"{type(err).__name__}: {err}")
        stdout.write(response.model_dump_json().encode() + b"\n")
        stdout.flush()


if __name__ == "__main__":
    main()
