"""The corpus is written once per test session (the 50 MB file and the zip bomb included)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.sandbox.layers import LAYER_ENV, choose_layer
from tests.hostile.corpus import ASSIGNMENTS, REPO, SECRET_ENV, SECRET_VALUE, Case, Scene, build_corpus
from tests.processes import lingering


@dataclass
class Corpus:
    scene: Scene
    cases: list[Case]
    good: dict[str, list[Path]]
    listener: socket.socket




# Seconds for one assignment's batch, from the command's start to its exit, on 2 cores shared with
# other work. Measured (batch.json wall_seconds): csc420-a2 3.7 s for 126 submissions,
# tdt4265-a2 11.1 s (49), apl405-hw2 4.9 s (31), csc411-a1 12.6 s (36, the sandbox table).
BATCH_BOUND = 60.0


def _run_batch(root: Path, assignment: str, out: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(root), "-a", assignment, "-o", str(out), "-j", "2"],
        cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=3 * BATCH_BOUND,
    )
    return proc, time.monotonic() - started


@pytest.fixture(scope="session")
def batches(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, float, str]]:
    """Each assignment's batch, run once: its output folder, wall time and stderr."""
    found = {}
    for assignment in ASSIGNMENTS:
        out = tmp_path_factory.mktemp(f"batch-{assignment}")
        proc, elapsed = _run_batch(corpus.scene.folder(assignment), assignment, out)
        assert proc.returncode == 0, proc.stderr[-3000:]
        found[assignment] = (out, elapsed, proc.stderr)
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
                  mark=f"31.{secrets.randbelow(10**9):09d}",
                  layer=choose_layer(os.environ.get(LAYER_ENV) or "any"))
    previous = os.environ.get(SECRET_ENV)
    previous_layer = os.environ.get(LAYER_ENV)
    os.environ[SECRET_ENV] = SECRET_VALUE  # in the grader's environment for the whole session
    # every command of the session uses that layer (without bwrap or namespaces: the process layer,
    # which the batch would otherwise refuse; the expectations follow the layer)
    os.environ[LAYER_ENV] = scene.layer
    try:
        cases, good = build_corpus(scene)
        yield Corpus(scene, cases, good, listener)
    finally:
        if previous is None:
            os.environ.pop(SECRET_ENV, None)
        else:
            os.environ[SECRET_ENV] = previous
        if previous_layer is None:
            os.environ.pop(LAYER_ENV, None)
        else:
            os.environ[LAYER_ENV] = previous_layer
        listener.close()
        for pid in lingering(scene.mark):  # never leave anything behind, whatever happened
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)
