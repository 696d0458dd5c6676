"""The sandbox as an ordinary user's grader: the hostile table of `test_sandbox_hostile.py`, run
again as a non-root user (created when the suite runs as root, see `tests/nonroot.py`).

Without root the code runs as the TA's own user; only the bwrap and namespace layers hide the
filesystem, and the table's `contained_not_root` column is what this checks."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests import nonroot

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(os.geteuid() != 0, reason="already an ordinary user: test_sandbox_hostile.py "
                                                "checks the non-root column directly")
def test_the_hostile_table_holds_for_an_ordinary_user() -> None:
    reason = nonroot.why_not()
    if reason is not None:
        pytest.skip(f"cannot run as an ordinary user here: {reason}")
    home = Path(tempfile.mkdtemp(prefix="grader-nonroot-"))
    done = nonroot.run_python(
        ["-m", "pytest", str(REPO / "tests" / "test_sandbox_hostile.py"), "-q", "-p",
         "no:cacheprovider", "--rootdir", str(REPO), "-k", "contained or writable or uid"],
        home, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "error" not in done.stdout.splitlines()[-1]
