"""What a new student and TA meet first (issue 16): each papercut is a named case."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.batch.runner import _describe
from grader.core.grading import grade_path
from grader.core.report import QuestionResult, Report, Status, points_text
from grader.core.rubric import load_rubric, resolve_assignment
from grader.lms.gradebook import gradebook_csv
from grader.lms.gradescope import _summary
from grader.student.feedback import render_check

LOADED = load_rubric(resolve_assignment("csc420-a2"))


def _report(*results: QuestionResult, warnings: list[str] | None = None) -> Report:
    return Report.from_results(list(results), assignment="a", submission="s", warnings=warnings or [])


def _result(qid: str, score: float, max_score: float, status: Status, feedback: str = "") -> QuestionResult:
    return QuestionResult(id=qid, score=score, max_score=max_score, status=status, feedback=feedback)


@pytest.mark.parametrize(("value", "text"), [(36.828125, "36.83"), (7.5, "7.5"), (100.0, "100"),
                                             (0.004, "0"), (1e-9, "0")],
                         ids=["four-decimals", "half", "whole", "tiny", "float-noise"])
def test_scores_are_printed_rounded(value: float, text: str) -> None:
    assert points_text(value) == text


def test_progress_line_and_gradescope_summary_round_but_json_keeps_precision() -> None:
    report = _report(_result("q", 36.828125, 100, Status.PARTIAL))
    assert _describe(report) == "36.83 / 100"
    assert "36.83 / 100" in _summary(report, set())
    assert '"score":36.828125' in report.model_dump_json()


def test_visible_points_do_not_move_when_a_manual_question_is_left_blank() -> None:
    answered = _report(_result("q1", 5, 5, Status.CORRECT), _result("proof", 0, 2, Status.MANUAL))
    blank = _report(_result("q1", 5, 5, Status.CORRECT), _result("proof", 0, 2, Status.MISSING))
    assert "Visible questions: 5 / 7 points" in render_check(answered)
    assert "Visible questions: 5 / 7 points" in render_check(blank)
    assert "1 question(s) worth 2 points are graded by a person later." in render_check(answered)


def test_gradebook_leaves_ungraded_manual_questions_empty() -> None:
    report = _report(_result("q1_proof", 0, 2, Status.MANUAL), _result("q2_dL_dw3", 0, 15, Status.INCORRECT))
    row = gradebook_csv([report], LOADED.rubric).splitlines()[1].split(",")
    header = gradebook_csv([report], LOADED.rubric).splitlines()[0].split(",")
    assert row[header.index("q1_proof")] == "" and row[header.index("q2_dL_dw3")] == "0"


BROKEN = [
    ("bad yaml", "answers.yaml", "q3: [\n", "not valid YAML"),
    ("no answers file", None, None, "no answers file found"),
]


@pytest.mark.parametrize(("name", "text", "message"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_an_unreadable_submission_says_its_message_once(
    tmp_path: Path, name: str | None, text: str | None, message: str,
) -> None:
    folder = tmp_path / "alice"
    folder.mkdir()
    if name is not None and text is not None:
        (folder / name).write_text(text)
    output = render_check(grade_path(LOADED, folder))
    assert output.count(message) == 1, output
    assert "Questions, none of them graded:" in output
    assert all(q.id in output for q in LOADED.rubric.questions)


def test_a_misspelled_question_id_gets_a_guess(tmp_path: Path) -> None:
    answers = tmp_path / "s.yaml"
    answers.write_text("q3_flops_no_bas: 12\nzzz: 1\n")
    warning = grade_path(LOADED, answers).warnings[0]
    assert "q3_flops_no_bas (did you mean q3_flops_no_bias?)" in warning
    assert "zzz (did you mean" not in warning


def test_summary_notes_show_submission_warnings_and_the_sandbox_layer(tmp_path: Path) -> None:
    from grader.batch.summary import build_summary, render_html

    warned = _report(_result("q1_proof", 0, 2, Status.MISSING),
                     warnings=["answers for questions this assignment does not have: q3_flops_no_bas"])
    warned.submission, warned.sandbox = "alice", "bwrap"
    plain = _report(_result("q1_proof", 0, 2, Status.MISSING))
    plain.submission = "bob"
    summary = build_summary([(tmp_path / "reports/alice.json", warned), (tmp_path / "reports/bob.json", plain)],
                            LOADED.rubric, outdir=tmp_path)
    assert summary.rows[0].warnings == warned.warnings and summary.sandboxes == {"bwrap": 1}
    page = render_html(summary)
    assert "q3_flops_no_bas" in page and "sandbox layer<b>bwrap</b>" in page


BASELINE_DIRS = [
    ("built-in: the current folder", None, True, Path("baselines")),
    ("rubric file: beside it", None, False, Path("course/baselines")),
    ("environment wins", "env", False, Path("env")),
]


@pytest.mark.parametrize(("env", "builtin", "expected"), [c[1:] for c in BASELINE_DIRS],
                         ids=[c[0] for c in BASELINE_DIRS])
def test_baseline_never_writes_into_the_package(
    monkeypatch: pytest.MonkeyPatch, env: str | None, builtin: bool, expected: Path,
) -> None:
    from grader.models.baselines import SHIPPED_DIR, default_output_dir

    if env:
        monkeypatch.setenv("GRADER_BASELINE_DIR", env)
    else:
        monkeypatch.delenv("GRADER_BASELINE_DIR", raising=False)
    rubric = resolve_assignment("apl405-hw2") if builtin else Path("course/my.yaml")
    folder = default_output_dir(rubric)
    assert folder == expected and folder.resolve() != SHIPPED_DIR.resolve()


def test_baseline_of_an_assignment_without_model_questions_says_so() -> None:
    from click.testing import CliRunner

    from grader.cli import cli

    result = CliRunner().invoke(cli, ["baseline", "csc411-a1"])
    assert result.exit_code == 2 and "csc411-a1 has no model questions" in result.output


def test_gradescope_setup_takes_torch_from_the_cpu_index_then_pypi() -> None:
    import subprocess

    from grader.lms.gradescope_package import TORCH_CPU_INDEX, setup_script

    script = setup_script(load_rubric(resolve_assignment("tdt4265-a2")))
    assert f"--index-url {TORCH_CPU_INDEX} torch==2.13.0 ||" in script
    assert 'pip install -q torch==2.13.0' in script  # the pin, kept for where the index is unreachable
    assert subprocess.run(["bash", "-n", "-c", script]).returncode == 0


README_RUBRIC = """schema_version: 1
assignment: my-a2
questions:
  - id: q3_flops_no_bias
    kind: number
    points: 7.5
    tolerance: {TOLERANCE}
    reference:
      function: conv_pool_flops
      params:
        in_channels: 50
        in_size: 32
        filters: 20
        kernel: 5
        padding: 2
        stridee: 1
        pool_kernel: 2
"""
VALIDATE = [
    ("tolerance mode", "{mode: fuzzy}", "my-a2.yaml:7: question 'q3_flops_no_bias' (questions[0]), field "
     "tolerance.mode: 'fuzzy' is not one of 'exact', 'relative'"),
    ("reference parameter", "{mode: exact}", "my-a2.yaml:16: question 'q3_flops_no_bias' (questions[0]), field "
     "reference.params.stridee: 'stridee' is not a parameter of conv_pool_flops (did you mean 'stride'?"),
]


@pytest.mark.parametrize(("tolerance", "message"), [c[1:] for c in VALIDATE], ids=[c[0] for c in VALIDATE])
def test_rubric_validate_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tolerance: str, message: str,
) -> None:
    from click.testing import CliRunner

    from grader.cli import cli

    monkeypatch.chdir(tmp_path)
    Path("my-a2.yaml").write_text(README_RUBRIC.replace("{TOLERANCE}", tolerance))
    result = CliRunner().invoke(cli, ["rubric", "validate", "my-a2.yaml"])
    assert result.exit_code == 2 and result.output.startswith(message), result.output
    assert "('" not in result.output  # no Python tuple syntax


def test_reports_are_private_to_their_owner(tmp_path: Path) -> None:
    """The decision documented in docs/ta-workflow.md: 0600, whatever the umask."""
    import os

    from grader.batch.store import atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "reports" / "alice.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "reports" / "alice.json").stat().st_mode & 0o777 == 0o600
