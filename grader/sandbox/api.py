"""The sandbox API: run a worker module on a student's files, boxed in.

Every piece of student code goes through `run_python`. The child is `python -I` started in a
fresh folder holding a copy of that student's files only, with an allowlisted environment,
resource limits, a wall-clock limit that kills its whole process group, capped output, and the
strongest isolation layer this machine offers (see `layers`). Results come back as JSON and
`.npz` files that the parent reads with caps and compares itself: nothing the box says is
trusted beyond being data.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.sandbox import layers
from grader.sandbox.boot import DROP_FAILED
from grader.sandbox.files import (
    CopyError,
    chown_tree,
    copy_student_files,
    read_box_file,
    remove_tree,
)
from grader.sandbox.identity import run_uid

RESULT_FILE = "result.json"
BOX_DIR = "box"
SUBMISSION_DIR = "submission"
MAX_RESULT_BYTES = 4 * 1024 * 1024
_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
_PASSED_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "TZ")


class SandboxUnavailable(RuntimeError):
    """The layer asked for (argument or GRADER_SANDBOX_LAYER) does not work on this machine."""


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wall_seconds: float = Field(10.0, gt=0)
    cpu_seconds: float = Field(10.0, gt=0)
    memory_mb: int = Field(2048, gt=0, description="address space of the worker process")
    file_mb: int = Field(64, gt=0, description="largest file the worker may write")
    open_files: int = Field(64, gt=0)
    processes: int = Field(16, gt=0, description="processes and threads of the run")
    output_kb: int = Field(64, gt=0, description="stdout and stderr kept, each")


Status = Literal["ok", "crash", "timeout", "memory", "refused"]


class SandboxResult(BaseModel):
    status: Status
    reason: str = Field("", description="one line for the student when status is not ok")
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    result: dict[str, Any] | None = Field(None, description="the JSON the worker wrote")
    layer: str = Field("process", description="bwrap, namespace or process")
    uid: int | None = Field(
        None, description="the unprivileged uid the code ran as (grader is root)"
    )
    seconds: float = 0.0
    cpu_seconds: float = Field(0.0, description="CPU time of the run, all its processes")
    files: dict[str, bytes] = Field(
        default_factory=dict,
        exclude=True,
        description="the `collect` files the worker wrote (e.g. .npz)",
    )


def run_python(
    module: str,
    args: list[str],
    *,
    student_dir: Path | None,
    inputs: dict[str, bytes] | None = None,
    limits: Limits | None = None,
    collect: tuple[str, ...] = (),
    layer: str | None = None,
) -> SandboxResult:
    """Run `python -I -m module args` boxed, in a fresh folder holding a copy of the student's
    files (as `submission/`) and `inputs`; the worker answers in `result.json` in its folder.

    `collect` names (or glob patterns of) further files to bring back, e.g. `.npz` outputs: at
    most `limits.file_mb` each, regular files only. `layer` forces one isolation layer (default:
    `GRADER_SANDBOX_LAYER`, else the strongest available); one the machine lacks raises
    `SandboxUnavailable`. Never raises for anything the student's code does.
    """
    limits = limits or Limits()
    try:
        chosen = layers.choose_layer(layer)
    except (LookupError, ValueError) as err:
        raise SandboxUnavailable(str(err)) from None
    outer = Path(tempfile.mkdtemp(prefix="grader-box-"))
    try:
        os.chmod(outer, 0o711)  # traversable, not listable: the box below is the run's own
        work = outer / BOX_DIR
        try:
            _fill(work, student_dir, inputs or {})
        except CopyError as err:
            return SandboxResult(status="refused", reason=str(err), layer=chosen)
        with _identity() as uid:
            if uid is not None:
                chown_tree(work, uid)
            result = _run(module, args, work, chosen, uid, limits)
            if result.status != "refused":
                _collect(result, work, collect, limits)
            return result
    finally:
        remove_tree(outer)


@contextlib.contextmanager
def _identity() -> Iterator[int | None]:
    if not layers.running_as_root():
        yield None
        return
    with run_uid() as uid:
        yield uid


def _fill(work: Path, student_dir: Path | None, inputs: dict[str, bytes]) -> None:
    work.mkdir(mode=0o700)
    if student_dir is not None:
        copy_student_files(student_dir, work / SUBMISSION_DIR)
    for name, data in inputs.items():
        if Path(name).name != name or name in (SUBMISSION_DIR, ""):
            raise ValueError(f"input file name {name!r} must be a plain file name")
        (work / name).write_bytes(data)


def _bootstrap(module: str, uid: int | None, nproc: int | None,
               root_plan: dict[str, Any] | None = None) -> list[str]:
    root = str(layers.package_root())
    code = f"import sys; sys.path.insert(0, {root!r}); from grader.sandbox.boot import main; main()"
    config = json.dumps({"module": module, "uid": uid, "nproc": nproc, "root": root_plan})
    return [sys.executable, "-I", "-c", code, config]


def _environment(work: Path) -> dict[str, str]:
    env = {
        "PATH": os.defpath,
        "HOME": str(work),
        "TMPDIR": str(work),
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
    }
    env.update({name: "1" for name in _THREAD_VARS})
    env.update({name: os.environ[name] for name in _PASSED_VARS if name in os.environ})
    return env


def _nproc_limit(layer: str, uid: int | None, limits: Limits) -> int | None:
    """The process limit counts every process of the real uid (in its user namespace)."""
    if uid is not None or layer in layers.ISOLATING:
        return limits.processes
    return _processes_of(os.getuid()) + limits.processes  # shared uid: leave room for the grader's


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
    return count


def _rlimits(limits: Limits, cpu_hard: int | None = None) -> Callable[[], None]:
    """The child's limits; `cpu_hard` replaces the CPU limit's hard value (a session's worker
    moves its soft limit job by job)."""
    cpu = max(1, math.ceil(limits.cpu_seconds))
    hard = cpu + 1 if cpu_hard is None else cpu_hard
    memory = limits.memory_mb * 1024 * 1024
    size = limits.file_mb * 1024 * 1024

    def apply() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _run(
    module: str, args: list[str], work: Path, layer: layers.Layer, uid: int | None, limits: Limits
) -> SandboxResult:
    command = [
        *layers.command_prefix(layer, work, limits.memory_mb),
        *_bootstrap(module, uid, _nproc_limit(layer, uid, limits),
                    layers.box_plan(layer, work, limits.memory_mb)),
        *args,
    ]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            command,
            cwd=work,
            env=_environment(work),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            preexec_fn=_rlimits(limits),
        )
        timed_out, cpu = _wait(proc, limits.wall_seconds)
        seconds = time.monotonic() - started
        result = SandboxResult(
            status="ok",
            returncode=proc.returncode,
            layer=layer,
            uid=uid,
            seconds=seconds,
            cpu_seconds=cpu,
            stdout=_head(out, limits),
            stderr=_tail(err, limits),
        )
    _judge(result, timed_out, limits)
    return result


def _wait(proc: subprocess.Popen[bytes], wall_seconds: float) -> tuple[bool, float]:
    """Wait for the child, killing its whole process group at the wall-clock limit.

    Returns (timed out, CPU seconds of the child and every descendant it waited for): the CPU
    figure tells a CPU-limit kill apart from a crash whatever wrapper relayed the signal."""
    fired = threading.Event()

    def kill_group() -> None:
        fired.set()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(wall_seconds, kill_group)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever it left running in its group
    return fired.is_set(), usage.ru_utime + usage.ru_stime


def _head(handle: IO[bytes], limits: Limits) -> str:
    handle.seek(0)
    return handle.read(limits.output_kb * 1024).decode(errors="replace")


def _tail(handle: IO[bytes], limits: Limits) -> str:
    cap = limits.output_kb * 1024
    size = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, size - cap))
    return handle.read(cap).decode(errors="replace")


_SIGNAL_REASONS = {
    signal.SIGXCPU: "used more than {cpu:g} s of CPU time",
    signal.SIGKILL: "was killed",
    signal.SIGXFSZ: "wrote a file larger than {file} MB",
    signal.SIGSEGV: "crashed (segmentation fault)",
    signal.SIGABRT: "aborted",
}


def _judge(result: SandboxResult, timed_out: bool, limits: Limits) -> None:
    code = result.returncode
    if result.layer != "process" and code is not None and 128 < code <= 128 + 64:
        code = 128 - code  # bwrap and unshare (namespace) report a child killed by signal s as 128 + s
        result.returncode = code  # as on the process layer: callers see the signal, not 128 + s
    if timed_out:
        result.status, result.reason = (
            "timeout",
            f"ran over the time limit of {limits.wall_seconds:g} s",
        )
    elif code == -signal.SIGXCPU or (code != 0 and result.cpu_seconds >= limits.cpu_seconds):
        result.status = "timeout"
        result.reason = _SIGNAL_REASONS[signal.SIGXCPU].format(cpu=limits.cpu_seconds)
    elif code == DROP_FAILED and "sandbox: could not drop privileges" in result.stderr:
        result.status, result.reason = "refused", "the sandbox could not drop privileges"
    elif code != 0 and _out_of_memory(result.stderr):
        result.status, result.reason = "memory", f"ran out of memory (limit {limits.memory_mb} MB)"
    elif code is not None and code < 0:
        sig = signal.Signals(-code)
        text = _SIGNAL_REASONS.get(sig, f"was killed by signal {sig.name}")
        result.status, result.reason = (
            "crash",
            text.format(cpu=limits.cpu_seconds, file=limits.file_mb),
        )
    elif code != 0:
        result.status, result.reason = (
            "crash",
            _last_line(result.stderr) or f"exited with code {code}",
        )


def _out_of_memory(stderr: str) -> bool:
    last = _last_line(stderr)
    return (
        last.startswith("MemoryError")
        or "Cannot allocate memory" in last
        or "std::bad_alloc" in last
    )


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else ""


def _collect(result: SandboxResult, work: Path, collect: tuple[str, ...], limits: Limits) -> None:
    raw = read_box_file(work / RESULT_FILE, MAX_RESULT_BYTES)
    if raw is not None:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            data = None
        result.result = data if isinstance(data, dict) else None
    if not collect:
        return
    names = sorted(os.listdir(work))
    for name in names:
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in collect):
            data_bytes = read_box_file(work / name, limits.file_mb * 1024 * 1024)
            if data_bytes is not None:
                result.files[name] = data_bytes
