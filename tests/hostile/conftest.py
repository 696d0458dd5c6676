"""The corpus is written once per test session (the 50 MB file and the zip bomb included)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.sandbox.layers import choose_layer
from tests.hostile.corpus import SECRET_ENV, SECRET_VALUE, Case, Scene, build_corpus


@dataclass
class Corpus:
    scene: Scene
    cases: list[Case]
    good: dict[str, list[Path]]
    listener: socket.socket


def lingering(mark: str) -> list[int]:
    """Processes whose command line holds `mark` (what a background payload would leave)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if mark.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.fixture(scope="session")
def corpus() -> Iterator[Corpus]:
    # a folder anyone may traverse, like a course's submissions folder: pytest's own temporary
    # folders are private, which would stop a classmate-reading attack for the wrong reason
    base = Path(tempfile.mkdtemp(prefix="grader-hostile-"))
    base.chmod(0o755)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    scene = Scene(root=base / "class", outside=base / "grader-owned", port=listener.getsockname()[1],
                  mark=f"31.{secrets.randbelow(10**9):09d}", layer=choose_layer())
    previous = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = SECRET_VALUE  # in the grader's environment for the whole session
    try:
        cases, good = build_corpus(scene)
        yield Corpus(scene, cases, good, listener)
    finally:
        if previous is None:
            os.environ.pop(SECRET_ENV, None)
        else:
            os.environ[SECRET_ENV] = previous
        listener.close()
        for pid in lingering(scene.mark):  # never leave anything behind, whatever happened
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)
