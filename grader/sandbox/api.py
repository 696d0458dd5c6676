"""The sandbox API. STUB: a plain subprocess with a wall-clock limit; issue 6 hardens it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

import grader

RESULT_FILE = "result.json"


class Limits(BaseModel):
    wall_seconds: float = Field(10.0, gt=0)
    cpu_seconds: float = Field(10.0, gt=0)
    memory_mb: int = Field(2048, gt=0)
    file_mb: int = Field(64, gt=0)
    open_files: int = Field(64, gt=0)
    processes: int = Field(16, gt=0)
    output_kb: int = Field(64, gt=0)


class SandboxResult(BaseModel):
    status: Literal["ok", "crash", "timeout", "memory", "refused"]
    reason: str = ""
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    result: dict[str, Any] | None = Field(None, description="the JSON the worker wrote")
    layer: str = "subprocess"
    seconds: float = 0.0
    files: dict[str, bytes] = Field(default_factory=dict, exclude=True,
                                    description="the `collect` files the worker wrote (e.g. .npz)")


def run_python(
    module: str,
    args: list[str],
    *,
    student_dir: Path | None,
    inputs: dict[str, bytes] | None = None,
    limits: Limits | None = None,
    collect: tuple[str, ...] = (),
) -> SandboxResult:
    """Run `python -I -m module args` in a fresh folder holding a copy of the student's files
    and `inputs`; the worker writes its answer as JSON to `result.json` in its folder.
    Large arrays travel as `.npz` files next to it (never pickle)."""
    limits = limits or Limits()
    work = Path(tempfile.mkdtemp(prefix="grader-box-"))
    try:
        if student_dir is not None:
            shutil.copytree(student_dir, work / "submission", symlinks=True)
        for name, data in (inputs or {}).items():
            (work / name).write_bytes(data)
        package_root = str(Path(grader.__file__).resolve().parent.parent)
        bootstrap = f"import sys; sys.path.insert(0, {package_root!r}); import runpy; " \
                    f"sys.argv = [{module!r}, *sys.argv[1:]]; runpy.run_module({module!r}, run_name='__main__')"
        started = time.monotonic()
        try:
            proc = subprocess.run(
                [sys.executable, "-I", "-c", bootstrap, *args], cwd=work, capture_output=True,
                timeout=limits.wall_seconds, env={"PATH": os.defpath, "HOME": str(work)},
            )
        except subprocess.TimeoutExpired:
            return SandboxResult(status="timeout", reason=f"ran over {limits.wall_seconds:g} s",
                                 seconds=time.monotonic() - started)
        cap = limits.output_kb * 1024
        out = SandboxResult(
            status="ok" if proc.returncode == 0 else "crash",
            returncode=proc.returncode,
            stdout=proc.stdout[:cap].decode(errors="replace"),
            stderr=proc.stderr[-cap:].decode(errors="replace"),
            seconds=time.monotonic() - started,
        )
        result_path = work / RESULT_FILE
        if result_path.is_file():
            out.result = json.loads(result_path.read_text())
        for name in collect:
            if (work / name).is_file():
                out.files[name] = (work / name).read_bytes()
        if out.status == "crash":
            out.reason = (out.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)
