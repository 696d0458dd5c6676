"""Under bubblewrap and the namespace layer, student code cannot import the grader's `reference` package, wherever it is
installed: a wheel puts it in site-packages, which the box binds for numpy's sake, and a
student's `basic_gradient` could otherwise return the reference's own gradient (full marks).
The process layer cannot hide it (docs/sandbox.md: it reads anything world-readable): the
corpus case "import the grader's reference implementation" expects it to get through there."""

from __future__ import annotations

import shutil
import site
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.sandbox.layers import available
from tests.test_sandbox_hostile import call_student


@pytest.fixture
def installed_reference(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site-packages folder holding a `reference` package, as `pip install` leaves it."""
    base = Path(tempfile.mkdtemp(prefix="grader-site-"))
    package = base / "site-packages" / "reference"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "code_refs.py").write_text("ANSWER = 42.0\n")
    for path in (base, base / "site-packages", package, *package.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    real = site.getsitepackages()
    monkeypatch.setattr(site, "getsitepackages", lambda: [*real, str(base / "site-packages")])
    yield base / "site-packages"
    shutil.rmtree(base, ignore_errors=True)


def _call_in_fresh_folder(source: str, layer: str) -> tuple[Any, float | None]:
    """The student's function called under `layer` from a world-readable folder of its own."""
    folder = Path(tempfile.mkdtemp(prefix="grader-student-"))
    folder.chmod(0o755)
    try:
        return call_student(source, folder / "s", layer)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("layer", ["bwrap", "namespace"])
def test_an_installed_reference_package_is_hidden(installed_reference: Path, layer: str) -> None:
    status = available(layer)  # type: ignore[arg-type]
    if not status.available:
        pytest.skip(f"layer {layer} not available here: {status.detail}")
    source = textwrap.dedent(f"""
        import os, sys
        def f():
            sys.path.insert(0, {str(installed_reference)!r})
            try:
                from reference.code_refs import ANSWER
            except ImportError:
                return -1.0 if os.path.isdir({str(installed_reference)!r}) else -2.0
            return ANSWER
        """)
    result, value = _call_in_fresh_folder(source, layer)
    assert result.status == "ok", result.reason
    assert value == -1.0  # site-packages is there (numpy needs it), its `reference` is empty


def test_the_process_layer_cannot_hide_it(installed_reference: Path) -> None:
    source = textwrap.dedent(f"""
        import sys
        def f():
            sys.path.insert(0, {str(installed_reference)!r})
            from reference.code_refs import ANSWER
            return ANSWER
        """)
    result, value = _call_in_fresh_folder(source, "process")
    assert result.status == "ok" and value == 42.0  # documented in SECURITY.md: use bubblewrap
