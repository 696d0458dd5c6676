"""The wheel a user installs: built from this checkout, installed into a folder of its own and run
from outside the checkout, where the built-in rubrics come from `grader/_rubrics` (pyproject's
force-include), not from the checkout's `rubrics/`."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "submissions_example" / "csc411-a1" / "alice"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling, the build backend (in the dev extra), is not installed: the wheel cannot be built")
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(folder / "dist"), str(ROOT)], check=True, timeout=300, capture_output=True)
    wheel = next((folder / "dist").glob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(folder / "site"),
                    str(wheel)], check=True, timeout=300, capture_output=True)
    return folder / "site"


def _python_files(package_root: Path) -> set[str]:
    return {p.relative_to(package_root).as_posix() for p in package_root.rglob("*.py") if "__pycache__" not in p.parts}


@pytest.mark.parametrize("package", ["grader", "reference"])
def test_the_wheel_holds_every_module(installed: Path, package: str) -> None:
    missing = _python_files(ROOT / package) - _python_files(installed / package)
    assert missing == set()


def test_the_wheel_holds_the_builtin_rubrics(installed: Path) -> None:
    shipped = {p.name for p in (installed / "grader" / "_rubrics").iterdir()}
    assert {p.name for p in (ROOT / "rubrics").glob("*.yaml")} <= shipped


def _grade(python_path: Path | None, submission: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)  # ahead of the editable checkout on sys.path
    return subprocess.run([sys.executable, "-m", "grader", "grade", str(submission), "-a", "csc411-a1",
                           "--sandbox", "any"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_installed_grader_runs_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    show = "import grader, reference; print(grader.__file__, reference.__file__)"
    where = subprocess.run([sys.executable, "-c", show], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(installed)},
                           capture_output=True, text=True, check=True)
    assert all(Path(f).is_relative_to(installed) for f in where.stdout.split()), where.stdout
    submission = shutil.copytree(EXAMPLE, tmp_path / "alice")
    from_wheel = _grade(installed, submission, tmp_path)
    from_checkout = _grade(None, submission, ROOT)
    assert from_wheel.returncode == 0, from_wheel.stderr
    scores = [(r["score"], r["max_score"], [q["status"] for q in r["questions"]])
              for r in (json.loads(from_wheel.stdout), json.loads(from_checkout.stdout))]
    assert scores[0] == scores[1]
