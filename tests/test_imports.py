"""`grader check` on an answers-only submission must stay light: no torch import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("assignment", ["csc420-a2", "tdt4265-a2", "apl405-hw2"])
def test_check_of_answers_only_does_not_import_torch(assignment: str, tmp_path: Path) -> None:
    answers = tmp_path / "s.yaml"
    answers.write_text("q4_lenet_params: 61706\nt2d_params: 50890\nq4_iii_params: 7850\n")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "grader", "check", str(answers), "-a", assignment],
        cwd=REPO, capture_output=True, text=True, check=True,
    )
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "torch" not in imported
    assert "grader.checkers" in imported  # the measurement itself works
