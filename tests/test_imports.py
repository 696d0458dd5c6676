"""`grader check` must stay light: what a check imports is a property of the rubric's kinds and of
the answers given, asserted here on the real command (`python -X importtime`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NUMBER_ANSWERS = "q4_lenet_params: 61706\nt2d_params: 50890\nq4_iii_params: 7850\nq3_flops_no_bias: 12\n"


def imported_by_check(answers: Path, assignment: str, cache: Path) -> set[str]:
    env = {**os.environ, "GRADER_CACHE_DIR": str(cache)}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "grader", "check", str(answers), "-a", assignment],
        cwd=REPO, capture_output=True, text=True, check=True, env=env,
    )
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "grader.checkers" in imported  # the measurement itself works
    return imported


@pytest.mark.parametrize("assignment", ["csc420-a2", "tdt4265-a2", "apl405-hw2"])
def test_check_of_answers_only_does_not_import_torch(assignment: str, tmp_path: Path) -> None:
    answers = tmp_path / "s.yaml"
    answers.write_text(NUMBER_ANSWERS)
    first = imported_by_check(answers, assignment, tmp_path / "cache")  # empty rubric cache
    again = imported_by_check(answers, assignment, tmp_path / "cache")
    for imported in (first, again):
        assert not {"torch", "sympy"} & imported


# (assignment, modules a cached check of number answers must not import: kinds the rubric does not
# use, the sandbox, the formula parser and the math worker when no formula is answered)
UNUSED = [
    ("csc420-a2", ["grader.checkers.code", "grader.sandbox.api", "grader.checkers.network",
                   "grader.checkers.choice", "grader.checkers.edges", "grader.checkers.number_array",
                   "grader.mathparse", "grader.mathworker", "numpy", "grader.cli.batch", "grader.cli.doctor"]),
    ("tdt4265-a2", ["grader.checkers.code", "grader.sandbox.api", "grader.checkers.network",
                    "grader.checkers.interval", "grader.mathworker"]),
    ("apl405-hw2", ["grader.checkers.code", "grader.sandbox.api", "grader.checkers.interval",
                    "grader.mathworker"]),
]


@pytest.mark.parametrize(("assignment", "absent"), UNUSED, ids=[u[0] for u in UNUSED])
def test_check_imports_only_the_kinds_and_workers_it_needs(
    assignment: str, absent: list[str], tmp_path: Path,
) -> None:
    answers = tmp_path / "s.yaml"
    answers.write_text(NUMBER_ANSWERS)
    imported_by_check(answers, assignment, tmp_path / "cache")
    imported = imported_by_check(answers, assignment, tmp_path / "cache")
    assert not set(absent) & imported, sorted(set(absent) & imported)


def test_a_formula_answer_does_start_the_math_worker(tmp_path: Path) -> None:
    """The negative cases above would also pass if formulas were never checked."""
    answers = tmp_path / "s.yaml"
    answers.write_text("q6b_tanh_grad: 1 - tanh(x)^2\n")
    imported = imported_by_check(answers, "csc420-a2", tmp_path / "cache")
    assert {"grader.mathworker", "grader.mathparse"} <= imported


def test_rubric_schema_still_names_every_kind() -> None:
    from grader.checkers import KINDS
    from grader.core.rubric import rubric_json_schema

    text = str(rubric_json_schema())
    assert all(f"'{kind}'" in text for kind in KINDS)
