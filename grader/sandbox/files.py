"""Files in and out of the box, treating everything the box wrote as hostile."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

MAX_COPY_BYTES = 256 * 1024 * 1024
MAX_COPY_FILES = 5_000


class CopyError(Exception):
    """The student's folder cannot be copied into the box (too large, too many files)."""


def copy_student_files(source: Path, dest: Path) -> None:
    """Copy regular files and folders only: symbolic links and devices are left out, so that
    nothing in the copy points back at the grader's machine."""
    budget = [MAX_COPY_BYTES, MAX_COPY_FILES]
    _copy_tree(source, dest, budget)


def _copy_tree(source: Path, dest: Path, budget: list[int]) -> None:
    dest.mkdir(mode=0o700)
    with os.scandir(source) as entries:
        for entry in entries:
            budget[1] -= 1
            if budget[1] < 0:
                raise CopyError(f"your submission has more than {MAX_COPY_FILES:,} files")
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                _copy_tree(Path(entry.path), dest / entry.name, budget)
            elif entry.is_file(follow_symlinks=False):
                budget[0] -= entry.stat(follow_symlinks=False).st_size
                if budget[0] < 0:
                    raise CopyError(f"your submission is larger than {MAX_COPY_BYTES:,} bytes")
                shutil.copyfile(entry.path, dest / entry.name, follow_symlinks=False)


def chown_tree(root: Path, uid: int) -> None:
    os.chown(root, uid, uid)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def read_box_file(path: Path, limit: int) -> bytes | None:
    """A regular file the box wrote, at most `limit` bytes; None for anything else (a missing
    file, a link planted to make the grader read its own secrets, a fifo, an oversized file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)


def remove_tree(root: Path) -> None:
    """Remove the run's folder even if the box took away the permissions inside it."""

    def make_writable_and_retry(func: object, path: str, _exc: object) -> None:
        try:
            parent = os.path.dirname(path)
            os.chmod(parent, 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass

    shutil.rmtree(root, onerror=make_writable_and_retry)
