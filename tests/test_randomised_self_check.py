"""Randomised assignments as a student meets them: a template per student, a self-check that asks
for `student_id` instead of guessing it, and feedback texts whose numbers follow the student's own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from grader.cli import cli
from grader.cli.common import ExitCode
from grader.core.builtins import resolve_assignment
from grader.core.grading import grade_path
from grader.core.report import Status
from grader.core.rubric import load_rubric
from grader.core.rubric_lint import rubric_warnings, typed_randomised_numbers
from grader.core.variants import fill_placeholders, placeholder_problems

RANDOMISED = ["csc420-a2-random", "apl405-hw2-random"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("assignment", RANDOMISED)
def test_template_without_student_is_a_usage_error_that_says_how(assignment: str) -> None:
    code, out, err = run("template", assignment)
    assert code == ExitCode.USAGE_ERROR and out == ""
    assert f"grader template {assignment} --student YOUR_ID" in err


@pytest.mark.parametrize("assignment", RANDOMISED)
def test_template_with_student_writes_student_id(assignment: str) -> None:
    code, out, _ = run("template", assignment, "--student", "ada")
    assert code == ExitCode.OK and yaml.safe_load(out)["student_id"] == "ada"


def test_unrandomised_template_needs_no_student() -> None:
    code, out, _ = run("template", "csc420-a2")
    assert code == ExitCode.OK and "student_id" not in yaml.safe_load(out)


def _answers(tmp_path: Path, text: str, name: str = "ada.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_check_without_student_id_says_so_and_does_not_guess(tmp_path: Path) -> None:
    loaded = load_rubric(resolve_assignment("csc420-a2-random"))
    own = loaded.rubric.context("ada")
    q3 = loaded.rubric.question("q3_flops_no_bias")
    right = q3.reference_answer(own)  # right for the student named like the file
    path = _answers(tmp_path, f"q3_flops_no_bias: {right}\nq4_lenet_params: 61706\n")
    report = grade_path(loaded, path, require_student_id=True)
    results = {r.id: r for r in report.questions}
    assert results["q3_flops_no_bias"].status is Status.INVALID
    assert "student_id" in results["q3_flops_no_bias"].feedback
    assert results["q4_lenet_params"].status is Status.CORRECT  # not randomised: checked as usual
    assert any("student_id" in w for w in report.warnings)
    code, out, _ = run("check", str(path), "-a", "csc420-a2-random")
    assert code == ExitCode.OK and "student_id" in out


def test_check_with_student_id_grades_the_students_variant(tmp_path: Path) -> None:
    loaded = load_rubric(resolve_assignment("csc420-a2-random"))
    right = loaded.rubric.question("q3_flops_no_bias").reference_answer(loaded.rubric.context("ada"))
    path = _answers(tmp_path, f"student_id: ada\nq3_flops_no_bias: {right}\n", "whatever.yaml")
    report = grade_path(loaded, path, require_student_id=True)
    assert {r.id: r.status for r in report.questions}["q3_flops_no_bias"] is Status.CORRECT


def test_grade_keeps_the_contracts_id_rules(tmp_path: Path) -> None:
    """`grade` and `batch` still take the id from the file name when no student_id is given."""
    loaded = load_rubric(resolve_assignment("csc420-a2-random"))
    right = loaded.rubric.question("q3_flops_no_bias").reference_answer(loaded.rubric.context("ada"))
    report = grade_path(loaded, _answers(tmp_path, f"q3_flops_no_bias: {right}\n"))
    assert report.student == "ada"
    assert {r.id: r.status for r in report.questions}["q3_flops_no_bias"] is Status.CORRECT


def _student_with_pool(kernel: int) -> str:
    rubric = load_rubric(resolve_assignment("csc420-a2-random")).rubric
    q3 = rubric.question("q3_flops_no_bias")
    for i in range(200):
        student = f"pool-{i}"
        if q3.reference_params_for(rubric.context(student))["pool_kernel"] == kernel:
            return student
    raise AssertionError("no student drew that pool")


@pytest.mark.parametrize("kernel", [2, 3])
def test_known_mistake_feedback_follows_the_students_pool(kernel: int, tmp_path: Path) -> None:
    loaded = load_rubric(resolve_assignment("csc420-a2-random"))
    student = _student_with_pool(kernel)
    ctx = loaded.rubric.context(student)
    q3 = loaded.rubric.question("q3_flops_no_bias")
    mistake = next(m for m in q3.known_mistakes if m.name == "max_counted_as_n")  # type: ignore[attr-defined]
    wrong = q3.alternative_value(mistake, ctx)  # type: ignore[attr-defined]
    verdict = q3.grade(int(wrong), ctx)
    n = kernel * kernel
    assert verdict.mistake == "max_counted_as_n"
    assert f"a max over {n} values as {n} FLOPs" in verdict.feedback
    assert f"n − 1 = {n - 1} comparisons" in verdict.feedback and "{" not in verdict.feedback


PLACEHOLDERS = [
    ("param", "{pool_kernel}", {"pool_kernel": 3}, "3"),
    ("arithmetic", "{pool_kernel * pool_kernel - 1}", {"pool_kernel": 2}, "3"),
    ("power", "{k**2}", {"k": 5}, "25"),
    ("thousands", "{answer}", {"answer": 1234567}, "1,234,567"),
    ("list index", "{w[2]}", {"w": [0.5, 1.5, -0.25]}, "-0.25"),
    ("nested", "{layers[0].kernel}", {"layers": [{"kernel": 5}]}, "5"),
    ("unknown stays", "{nope}", {}, "{nope}"),
    ("call refused", "{__import__('os')}", {}, "{__import__('os')}"),
    ("huge power refused", "{k**999}", {"k": 9}, "{k**999}"),
]


@pytest.mark.parametrize(("text", "names", "filled"), [c[1:] for c in PLACEHOLDERS], ids=[c[0] for c in PLACEHOLDERS])
def test_placeholders(text: str, names: dict[str, object], filled: str) -> None:
    assert fill_placeholders(text, names) == filled
    assert bool(placeholder_problems(text, names)) == (filled == text)


TYPED = [
    ("param typed", "a max over 3 values", {"pool_kernel": 3}, ["3"]),
    ("square typed", "a max over 9 values", {"pool_kernel": 3}, ["9"]),
    ("placeholder is fine", "a max over {pool_kernel * pool_kernel} values", {"pool_kernel": 3}, []),
    ("one is never flagged", "n − 1 comparisons", {"padding": 1}, []),
    ("other numbers pass", "off by 10", {"pool_kernel": 3}, []),
    ("thousands", "1,516 parameters", {"n": 1516}, ["1,516"]),
]


@pytest.mark.parametrize(("text", "base", "flagged"), [c[1:] for c in TYPED], ids=[c[0] for c in TYPED])
def test_typed_numbers_of_randomised_params_are_flagged(text: str, base: dict[str, object],
                                                        flagged: list[str]) -> None:
    problems = typed_randomised_numbers(text, base, list(base))
    assert [p.split()[2] for p in problems] == flagged


def test_validate_flags_the_old_csc420_random_text(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    old = "your answer counts a max over 9 values as 9 FLOPs; it takes n − 1 = 8 comparisons"
    path.write_text(yaml.safe_dump({"extends": "csc420-a2-random", "assignment": "old", "overrides": {
        "q3_flops_no_bias": {"known_mistakes": [{"name": "max_counted_as_n", "feedback": old,
                                                 "params": {"pool_max_cost": "n"}}]}}}, allow_unicode=True))
    assert any("the number 9" in w for w in rubric_warnings(load_rubric(path).rubric))
    code, _, err = run("rubric", "validate", "--strict", str(path))
    assert code == ExitCode.USAGE_ERROR and "warning" in err
    assert run("rubric", "validate", str(path))[0] == ExitCode.OK


@pytest.mark.parametrize("assignment", ["csc420-a2", "csc420-a2-random", "apl405-hw2-random", "tdt4265-a2"])
def test_builtins_validate_strictly(assignment: str) -> None:
    code, _, err = run("rubric", "validate", "--strict", str(resolve_assignment(assignment)))
    assert code == ExitCode.OK, err
