"""A uid of its own for each run, when the grader is root.

Root is not bound by the process limit, and a uid shared by two runs would let one student's
code signal or read the other's. So each concurrent run takes a slot in a range of otherwise
unused uids, held by an advisory lock for the run's lifetime; after the run, every process left
with that uid is killed (a background process that left the process group is caught this way).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

UID_BASE = 1_500_000_000  # far above any login, system or subordinate (subuid) range
SLOTS = 1024


def _lock_dir() -> Path:
    path = Path(tempfile.gettempdir()) / f"grader-sandbox-uids-{os.geteuid()}"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise PermissionError(f"{path} is not a private folder of this user; remove it")
    return path


@contextlib.contextmanager
def run_uid() -> Iterator[int]:
    """An unprivileged uid that no other run holds; its processes are killed on release."""
    folder = _lock_dir()
    start = os.getpid() % SLOTS
    for offset in range(SLOTS):
        slot = (start + offset) % SLOTS
        fd = os.open(folder / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        uid = UID_BASE + slot
        try:
            kill_all_of(uid)  # a previous holder that crashed may have left some behind
            yield uid
        finally:
            kill_all_of(uid)
            os.close(fd)
        return
    raise RuntimeError(f"all {SLOTS} sandbox uids are in use")


def kill_all_of(uid: int) -> None:
    """SIGKILL every process of `uid`: a forked child takes that uid and signals -1."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        except BaseException:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
