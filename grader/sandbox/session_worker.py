"""The serving loop of a long-lived boxed worker (`SandboxSession`), run inside the box.

`python -I -c <bootstrap> CONFIG HANDLER PRELOAD...` runs this module (the bootstrap has dropped
privileges and applied the limits). It imports the PRELOAD modules once (torch, say), resolves
HANDLER (`module:function`, a `main(argv) -> int` that reads and writes files in the current
folder, like a one-shot worker), says it is ready, then serves one job per line read on stdin:

    {"job": "job-7", "args": ["job.json"], "cpu_seconds": 30}

For each job it moves into that job's folder (inside its own box folder), lowers its CPU limit to
what it has used so far plus the job's share, resets the kernel's peak-memory mark, calls the
handler and answers one line: `{"job": "job-7", "exit": 0, "cpu": total CPU seconds,
"peak_rss_mb": ...}`.
Replies go to the original stdout; anything printed goes to stderr, so that no print can forge a
reply. Standard library only before the preloads.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

MAX_REQUEST_BYTES = 64 * 1024
_WORKER_TOKEN = os.urandom(8).hex()  # tells workers apart (pids repeat in pid namespaces)


def main(argv: list[str]) -> int:
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # prints (the handler's, a library's) land in stderr, never in a reply
    sys.stdout = sys.stderr
    home = os.getcwd()
    started = time.perf_counter()
    for module in argv[1:]:
        importlib.import_module(module)
    handler = _resolve(argv[0])
    _reply(replies, {"ready": True, "import_seconds": time.perf_counter() - started})
    while True:
        line = sys.stdin.buffer.readline(MAX_REQUEST_BYTES)
        if not line:
            return 0  # the grader closed the session
        request = json.loads(line)
        _reply(replies, _serve(handler, request, home))


def _resolve(target: str) -> Callable[[list[str]], int]:
    module, _, name = target.partition(":")
    handler: Callable[[list[str]], int] = getattr(importlib.import_module(module), name)
    return handler


def _serve(handler: Callable[[list[str]], int], request: dict[str, Any], home: str) -> dict[str, Any]:
    job = str(request["job"])
    if os.path.basename(job) != job or job in ("", ".", ".."):
        raise ValueError(f"job folder {job!r} must be a plain name")
    _limit_cpu(float(request["cpu_seconds"]))
    _reset_peak_memory()
    os.chdir(os.path.join(home, job))
    try:
        code = handler([str(a) for a in request.get("args", [])])
    except SystemExit as err:
        code = err.code if isinstance(err.code, int) else 1
    except BaseException:  # the job fails like a one-shot worker would: traceback on stderr
        traceback.print_exc()
        code = 1
    finally:
        sys.stderr.flush()
        os.chdir(home)
    return {"job": job, "exit": int(code or 0), "cpu": _cpu_used(), "peak_rss_mb": _peak_rss_mb()}


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _limit_cpu(seconds: float) -> None:
    """The kernel's CPU limit counts the whole life of the process: move it per job."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(_cpu_used() + seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _reset_peak_memory() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets the peak resident size (VmHWM) to the current one
    except OSError:
        pass


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reply(stream: IO[bytes], message: dict[str, Any]) -> None:
    stream.write(json.dumps(message).encode() + b"\n")
    stream.flush()


def probe(argv: list[str]) -> int:
    """A handler for checking a session (`grader doctor`, tests): `echo` copies `in.txt` to
    `result.json`; `print TEXT`, `sleep S`, `exit N` and `allocate MB` misbehave on purpose."""
    action = argv[0] if argv else "echo"
    if action == "print":
        print(argv[1], flush=True)
    elif action == "sleep":
        time.sleep(float(argv[1]))
    elif action == "exit":
        os._exit(int(argv[1]))
    elif action == "allocate":
        held = bytearray(int(argv[1]) * 1024 * 1024)
        held[::4096] = b"x" * len(held[::4096])
    with open("in.txt", encoding="utf-8") as source:
        text = source.read()
    with open("result.json", "w", encoding="utf-8") as out:
        json.dump({"echo": text, "worker": _WORKER_TOKEN}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
