"""Gradescope: results.json per the autograder spec, and the autograder archive, run for real
against a fake /autograder tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lms_formats import check_gradescope, check_gradescope_file

from grader.cli import ExitCode, cli
from grader.core.grading import grade_path
from grader.core.report import AutomaticVerdict, OverrideRecord, Status
from grader.core.rubric import load_rubric, resolve_assignment
from grader.lms.gradescope import to_gradescope

ANSWERS = "q2_dL_dw3: 0.0006\nq4_lenet_params: 60850\nq1_proof: by induction\n"


def hidden_rubric(tmp_path: Path) -> Path:
    path = tmp_path / "hidden.yaml"
    path.write_text(
        "assignment: hidden-demo\nquestions:\n"
        "  - {id: shown, kind: number, points: 2, reference: {function: mlp_params, params: {sizes: [3, 2]}}}\n"
        "  - {id: secret, kind: number, points: 3, hidden: true,"
        " reference: {function: mlp_params, params: {sizes: [4, 2]}}}\n"
        "  - {id: essay, kind: manual, points: 5}\n")
    return path


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    path = tmp_path / "alice.yaml"
    path.write_text(ANSWERS)
    return path


def test_results_follow_the_spec_per_question(submission: Path) -> None:
    report = grade_path(load_rubric(resolve_assignment("csc420-a2")), submission)
    results = to_gradescope(report, 1.25, titles={"q2_dL_dw3": "Q2 dL/dw3"}).model_dump(exclude_none=True)
    check_gradescope(results)
    tests = {t["name"]: t for t in results["tests"]}
    assert [t["number"] for t in results["tests"]] == [str(i) for i in range(1, len(report.questions) + 1)]
    assert tests["q2_dL_dw3"]["status"] == "passed" and tests["q2_dL_dw3"]["output"].startswith("Q2 dL/dw3\n")
    assert tests["q4_lenet_params"]["status"] == "failed" and tests["q4_lenet_params"]["score"] < 15
    assert results["score"] == report.score and results["execution_time"] == 1.25


def test_hidden_questions_are_after_published_and_manual_ones_carry_no_points(tmp_path: Path) -> None:
    answers = tmp_path / "s.yaml"
    answers.write_text("shown: 8\nsecret: 10\nessay: some text\n")
    report = grade_path(load_rubric(hidden_rubric(tmp_path)), answers)
    results = to_gradescope(report).model_dump(exclude_none=True)
    tests = {t["name"]: t for t in results["tests"]}
    assert tests["secret"]["visibility"] == "after_published" and tests["shown"]["visibility"] == "visible"
    essay = tests["essay (graded by a person)"]
    assert "max_score" not in essay and "status" not in essay
    assert "graded by a person" in essay["output"] and "1 hidden question" in results["output"]


def test_an_overridden_manual_question_counts_with_both_verdicts_shown(tmp_path: Path) -> None:
    answers = tmp_path / "s.yaml"
    answers.write_text("essay: some text\n")
    report = grade_path(load_rubric(hidden_rubric(tmp_path)), answers)
    essay = report.questions[2]
    essay.automatic = AutomaticVerdict(score=0, status=Status.MANUAL, feedback=essay.feedback)
    essay.override = OverrideRecord(score=4, comment="good")
    essay.score, essay.status, essay.feedback = 4, Status.PARTIAL, "good"
    test = to_gradescope(report).tests[2]
    assert (test.max_score, test.score, test.status) == (5, 4, "failed")
    assert "grader's own verdict: manual" in test.output


def test_grade_format_gradescope_writes_a_valid_file(submission: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = CliRunner().invoke(cli, ["grade", str(submission), "-a", "csc420-a2", "--format", "gradescope",
                                      "-o", str(out)])
    assert result.exit_code == ExitCode.OK
    data = check_gradescope_file(out)
    assert data["execution_time"] >= 0 and data["extra_data"]["submission"] == "alice"


def build(tmp_path: Path, assignment: str) -> Path:
    archive = tmp_path / "autograder.zip"
    result = CliRunner().invoke(cli, ["gradescope-package", assignment, "-o", str(archive)])
    assert result.exit_code == ExitCode.OK, result.output
    return archive


def fake_autograder(tmp_path: Path, archive: Path, answers: str | None) -> Path:
    root = tmp_path / "autograder"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(root / "source")
    for name in ("run_autograder", "setup.sh"):
        (root / "source" / name).chmod(0o755)
    (root / "submission").mkdir()
    if answers is not None:
        (root / "submission" / "answers.yaml").write_text(answers)
    return root


def run_autograder(root: Path, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": python}
    return subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=120, cwd=root)


def test_the_archive_holds_the_scripts_the_grader_and_the_rubric(tmp_path: Path) -> None:
    archive = build(tmp_path, str(hidden_rubric(tmp_path)))
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zipped.infolist()}
    assert {"setup.sh", "run_autograder", "rubric/hidden.yaml", "grader_src/pyproject.toml",
            "grader_src/grader/cli/main.py", "grader_src/reference/registry.py",
            "grader_src/grader/_rubrics/csc420-a2.yaml"} <= names
    assert not any("__pycache__" in n for n in names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    syntax = subprocess.run(["bash", "-n", "-c", zipfile.ZipFile(archive).read("setup.sh").decode()],
                            capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


def test_the_archive_is_reproducible(tmp_path: Path) -> None:
    first = build(tmp_path, "csc420-a2").read_bytes()
    second = build(tmp_path, "csc420-a2").read_bytes()
    assert first == second


def test_run_autograder_grades_the_submission_into_results_json(tmp_path: Path) -> None:
    root = fake_autograder(tmp_path, build(tmp_path, "csc420-a2"), ANSWERS)
    proc = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    data = check_gradescope_file(root / "results" / "results.json")
    scores = {t["name"]: t.get("score", 0) for t in data["tests"]}
    assert scores["q2_dL_dw3"] == 15 and data["score"] == sum(scores.values())


def test_run_autograder_uses_the_packaged_rubric_file(tmp_path: Path) -> None:
    root = fake_autograder(tmp_path, build(tmp_path, str(hidden_rubric(tmp_path))), "shown: 8\nsecret: 1\n")
    assert run_autograder(root).returncode == 0
    data = check_gradescope_file(root / "results" / "results.json")
    assert {t["name"]: t.get("score") for t in data["tests"]} == {
        "shown": 2, "secret": 0, "essay (graded by a person)": None}


def test_a_broken_submission_is_still_a_results_file(tmp_path: Path) -> None:
    root = fake_autograder(tmp_path, build(tmp_path, "csc420-a2"), "q2_dL_dw3: [unclosed\n")
    assert run_autograder(root).returncode == 0
    data = check_gradescope_file(root / "results" / "results.json")
    assert data["score"] == 0 and "not valid YAML" in data["output"]


def test_when_the_grader_cannot_run_the_student_still_gets_a_results_file(tmp_path: Path) -> None:
    root = fake_autograder(tmp_path, build(tmp_path, "csc420-a2"), ANSWERS)
    proc = run_autograder(root, python="/nonexistent/python")
    assert proc.returncode == 0
    data = check_gradescope_file(root / "results" / "results.json")
    assert data["score"] == 0 and "tell your instructor" in data["output"]


# --- what Gradescope renders, and what it is given ------------------------------------------------


def test_every_output_is_plain_text_so_student_text_is_never_html(tmp_path: Path) -> None:
    answers = tmp_path / "s.yaml"
    answers.write_text("'<img src=x onerror=alert(1)>': 1\nshown: '<b>8</b>'\n")
    report = grade_path(load_rubric(hidden_rubric(tmp_path)), answers)
    results = to_gradescope(report, by_person={"essay"}).model_dump(exclude_none=True)
    check_gradescope(results)
    assert "<img src=x" in results["output"]  # shown, as text
    assert results["output_format"] == results["test_output_format"] == results["test_name_format"] == "text"
    assert all(t["output_format"] == "text" and t["name_format"] == "text" for t in results["tests"])


@pytest.mark.parametrize("essay", ["essay: some text\n", ""], ids=["answered", "blank"])
def test_a_manual_question_is_pending_the_same_way_answered_or_blank(tmp_path: Path, essay: str) -> None:
    answers = tmp_path / "s.yaml"
    answers.write_text("shown: 8\nsecret: 10\n" + essay)
    report = grade_path(load_rubric(hidden_rubric(tmp_path)), answers)
    results = to_gradescope(report, by_person={"essay"}).model_dump(exclude_none=True)
    check_gradescope(results)
    test = next(t for t in results["tests"] if t["name"].startswith("essay"))
    # no score, max_score or status: Gradescope would infer "passed" at 0/0 or "failed" at 0/5
    assert test["name"] == "essay (graded by a person)" and not {"score", "max_score", "status"} & set(test)
    assert "5 points pending" in test["output"] and test["tags"] == ["graded by a person"]
    assert results["output"].startswith("hidden-demo: 5 / 5 points graded automatically")


ZIPPED_OR_RENAMED: dict[str, dict[str, str | None]] = {
    "renamed-answers-file": {"hw2_alice.yaml": ANSWERS},
    "zipped-upload": {"submission.zip": None},
    "zipped-folder-with-renamed-file": {"alice.zip": "folder"},
}


@pytest.mark.parametrize("case", list(ZIPPED_OR_RENAMED), ids=list(ZIPPED_OR_RENAMED))
def test_the_autograder_finds_the_answers_as_batch_does(tmp_path: Path, case: str) -> None:
    root = fake_autograder(tmp_path, build(tmp_path, "csc420-a2"), None)
    for name, content in ZIPPED_OR_RENAMED[case].items():
        if content is None or content == "folder":
            inner = "alice/my_answers.yaml" if content == "folder" else "answers.yaml"
            with zipfile.ZipFile(root / "submission" / name, "w") as zipped:
                zipped.writestr(inner, ANSWERS)
        else:
            (root / "submission" / name).write_text(content)
    assert run_autograder(root).returncode == 0
    data = check_gradescope_file(root / "results" / "results.json")
    assert {t["name"]: t.get("score") for t in data["tests"]}["q2_dL_dw3"] == 15, data["output"]


STUB_PYTHON = """#!/usr/bin/env bash
echo "python $*" >> "$LOG"
case "$*" in
  *"import ensurepip, venv"*) [ -e "$STATE/venv-installed" ];;
  *"print("*) echo 3.12;;
  "-m venv "*) mkdir -p "$3/bin" && cp "$0" "$3/bin/python";;
  *) exit 0;;
esac
"""
STUB_APT = """#!/usr/bin/env bash
echo "apt-get $*" >> "$LOG"
case "$*" in *python3.12-venv*) touch "$STATE/venv-installed";; esac
"""


@pytest.mark.parametrize(("assignment", "torch"), [("csc420-a2", True)], ids=["model-questions"])
def test_setup_installs_the_venv_module_and_cpu_torch_on_a_bare_image(tmp_path: Path, assignment: str,
                                                                      torch: bool) -> None:
    archive = build(tmp_path, assignment)
    source = tmp_path / "autograder" / "source"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(source)
    stubs, state = tmp_path / "stubs", tmp_path / "state"
    stubs.mkdir()
    state.mkdir()
    for name in ("python3.13", "python3.12", "python3.11", "python3"):
        (stubs / name).write_text(STUB_PYTHON)
        (stubs / name).chmod(0o755)
    for name, text in (("apt-get", STUB_APT), ("bwrap", "#!/bin/sh\n")):
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    log = tmp_path / "log"
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "AUTOGRADER_ROOT": str(tmp_path / "autograder"), "LOG": str(log),
           "STATE": str(state)}
    proc = subprocess.run(["bash", str(source / "setup.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text().splitlines()
    assert any("install" in c and "python3.12-venv" in c for c in calls if c.startswith("apt-get"))
    assert any(c.startswith("python -m venv ") for c in calls)
    torch_calls = [c for c in calls if "torch==" in c]
    assert bool(torch_calls) == torch
    assert all("--index-url https://download.pytorch.org/whl/cpu" in c for c in torch_calls)
    # the rubric and the vendored reference are unreadable to the box's uid on the process layer
    assert source.stat().st_mode & 0o077 == 0 and (source / "setup.sh").stat().st_mode & 0o077 == 0
    assert "--sandbox any" in (source / "run_autograder").read_text()


def test_results_name_the_sandbox_layer_the_code_ran_in(submission: Path) -> None:
    report = grade_path(load_rubric(resolve_assignment("csc420-a2")), submission)
    report.sandbox = "process"
    assert to_gradescope(report).extra_data["sandbox"] == "process"


@pytest.mark.parametrize(
    ("member", "text", "student"),
    [("answers.yaml", "student_id: alice\nq4_lenet_params: 1\n", "alice"),
     ("folder/hw2_bob.yaml", "q4_lenet_params: 1\n", "submission")],
    ids=["zip-with-student-id", "zip-named-after-the-upload-folder"],
)
def test_a_zipped_upload_is_read_like_a_submission_zip(tmp_path: Path, member: str, text: str, student: str) -> None:
    from grader.core.submission import open_submission

    upload = tmp_path / "submission"
    upload.mkdir()
    with zipfile.ZipFile(upload / "hw.zip", "w") as zipped:
        zipped.writestr(member, text)
    with open_submission(upload) as sub:
        assert (sub.id, sub.answers, sub.error) == (student, {"q4_lenet_params": 1}, None)
