"""The first code that runs inside the box, before any student code: standard library only.

`python -I -c <bootstrap> CONFIG ARGS...` imports this module and calls `main`, which

1. lowers the process limit (here rather than in the parent: a limit set before a user namespace
   is created would also count the grader's own processes);
   on the namespace layer, builds the box's private root first (`private_root`);
2. when the grader runs as root, drops for good to the run's unprivileged uid: clears the
   capability bounding set, the groups, then gid and uid, and sets no_new_privs so that no
   setuid binary or file capability can give anything back;
3. keeps the interpreter's own files importable after the drop (a Python installed under a
   private directory such as /root is not readable by that uid): each `sys.path` folder is
   opened before the drop and, if the new uid cannot read it, reached through
   `/proc/self/fd/N`, which grants that folder and nothing around it;
4. runs the worker module with `runpy`, like `python -m`.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import runpy
import sys
from typing import Any

DROP_FAILED = 70  # the exit code the parent reads as "the box could not be set up"
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_LAST_CAP = 63


def main() -> None:
    config: dict[str, Any] = json.loads(sys.argv[1])
    args = sys.argv[2:]
    nproc = config.get("nproc")
    if nproc is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    uid = config.get("uid")
    try:
        plan = config.get("root")
        if plan is not None:
            from grader.sandbox import private_root

            private_root.enter(plan)
            if plan.get("user_namespace"):
                private_root.drop_capabilities()
        if uid is not None:
            _drop_to(int(uid))
        _no_new_privs()
    except OSError as err:
        sys.stderr.write(f"sandbox: could not drop privileges: {err}\n")
        sys.stderr.flush()
        os._exit(DROP_FAILED)
    os.umask(0o077)
    sys.dont_write_bytecode = True  # -I ignores PYTHONDONTWRITEBYTECODE
    module = str(config["module"])
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _no_new_privs() -> None:
    if _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def _drop_to(uid: int) -> None:
    kept = _open_path_folders()
    libc = _libc()
    for cap in range(_LAST_CAP + 1):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails harmlessly past the kernel's last cap
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != uid:
        raise OSError(0, f"still running as uid {os.geteuid()} after the drop")
    _reach_kept_folders(kept)


def _open_path_folders() -> dict[str, int]:
    kept = {}
    for entry in sys.path:
        if entry and entry not in kept and os.path.isdir(entry):
            kept[entry] = os.open(entry, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    return kept


def _reach_kept_folders(kept: dict[str, int]) -> None:
    moved = {}
    for entry, fd in kept.items():
        if os.access(entry, os.R_OK | os.X_OK):
            os.close(fd)
        else:
            moved[entry] = f"/proc/self/fd/{fd}"
    sys.path[:] = [moved.get(entry, entry) for entry in sys.path]
    for module in list(sys.modules.values()):  # packages already imported, e.g. `encodings`
        search = getattr(module, "__path__", None)
        if isinstance(search, list):
            search[:] = [_moved(folder, moved) for folder in search]
    sys.path_importer_cache.clear()


def _moved(folder: str, moved: dict[str, str]) -> str:
    for old, new in moved.items():
        if folder == old or folder.startswith(old + os.sep):
            return new + folder[len(old):]
    return folder
