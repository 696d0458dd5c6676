"""Student bundles (`grader student-bundle`): what ships, what it refuses, and that self-checks from
a bundle give verdict questions today's verdicts and reveal nothing of the others."""

from __future__ import annotations

import json
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from grader.checkers.base import ComparedQuestion
from grader.checkers.hints import hint_for
from grader.cli import cli
from grader.cli.common import ExitCode
from grader.core.builtins import builtin_names, resolve_assignment
from grader.core.grading import grade_path
from grader.core.report import Status
from grader.core.rubric import RubricError, load_rubric
from grader.student.bundle import MANIFEST, RUBRIC, TEMPLATE, write_bundle

STUDENT = "stu-07"
RANDOMISED = ("csc420-a2-random", "apl405-hw2-random")

# Built-ins with questions made format-only, silent and hidden: what a course would do.
SECRET_RUBRICS = {
    "csc420-secret": ("csc420-a2", {
        "q1_effective_bias": {"self_check": "format"},
        "q2_dL_dw3": {"self_check": "format"},
        "q3_flops_no_bias": {"self_check": "format"},
        "q3_flops_with_bias": {"self_check": "none"},
        "q4_lenet_params": {"hidden": True},
        "q5_sigmoid_grad_from_output": {"self_check": "format"},
        "q6a_tanh_range": {"hidden": True, "self_check": "none"},
        "q6b_tanh_grad": {"self_check": "format"},
    }),
    "apl405-secret": ("apl405-hw2", {
        "q1_threshold_net": {"self_check": "format"},
        "q2_relu_zero_grads": {"hidden": True},
        "q3a_graph": {"self_check": "format"},
        "q3b_x_bar": {"self_check": "format"},
        "q4_iii_params": {"self_check": "none"},
        "q5_i_u3flat": {"hidden": True},
    }),
    "tdt4265-secret": ("tdt4265-a2", {
        "t1a_hidden_delta": {"self_check": "format"},
        "t1b_grad_shape_w1": {"self_check": "format"},
        "t2d_params": {"hidden": True},
        "t4d_width_for_equal_params": {"self_check": "format"},
    }),
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def secret_rubric(tmp_path: Path, name: str) -> Path:
    base, overrides = SECRET_RUBRICS[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"extends": base, "assignment": name, "overrides": overrides}))
    return path


# --- what the bundle holds ------------------------------------------------------------------------


def spellings(value: Any) -> set[str]:
    """Ways a reference value could be written in a file."""
    if isinstance(value, bool) or value is None:
        return set()
    if isinstance(value, int | float | Fraction):
        number = float(value)
        found = {repr(number), f"{number:.4g}", f"{number:.6g}", f"{number:.3e}", f"{number:.4f}"}
        if number == int(number):
            whole = int(number)
            found |= {str(whole), f"{whole:,}", f"{whole:_}", f"{whole:,}".replace(",", " ")}
        return {s for s in found if len(s.strip("-0.,")) >= 2}
    if isinstance(value, str):
        return {value, value.replace(" ", "")} if len(value) >= 3 else set()
    if isinstance(value, list) and all(isinstance(v, int) for v in value) and len(value) > 1:
        shape = [str(v) for v in value]
        return {json.dumps(value), ",".join(shape), "×".join(shape), " x ".join(shape), f"({', '.join(shape)})"}
    if isinstance(value, list):
        return {json.dumps(value), json.dumps(value, separators=(",", ":"))} | set().union(
            *(spellings(v) for v in value))
    if isinstance(value, dict):
        return set().union(*(spellings(v) for v in value.values()))
    return set()


def secret_values(rubric_path: Path) -> dict[str, set[str]]:
    """Per format/none/hidden question: the spellings of its reference and alternatives."""
    rubric = load_rubric(rubric_path).rubric
    ctx = rubric.context(None)
    found: dict[str, set[str]] = {}
    for q in rubric.questions:
        if q.self_check_policy == "verdict":
            continue
        values = [q.reference_answer(ctx)]
        if isinstance(q, ComparedQuestion):
            values += [_plain(q, q.alternative_value(a, ctx)) for a in [*q.accepted, *q.known_mistakes]]
        found[q.id] = set().union(*(spellings(v) for v in values))
    return found


def _plain(q: ComparedQuestion[Any], value: Any) -> Any:
    return float(value) if isinstance(value, Fraction) else q.show(value)


def bundle_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file())


@pytest.mark.parametrize("name", sorted(SECRET_RUBRICS))
def test_bundle_holds_no_answer_of_format_none_or_hidden_questions(name: str, tmp_path: Path) -> None:
    rubric_path = secret_rubric(tmp_path, name)
    folder = write_bundle(load_rubric(rubric_path), tmp_path / "bundle")
    text = bundle_text(folder)
    leaked = {qid: sorted(s for s in values if s in text) for qid, values in secret_values(rubric_path).items()}
    assert not {qid: found for qid, found in leaked.items() if found}
    assert secret_values(rubric_path)  # the search had something to look for


def test_the_search_finds_a_value_that_ships(tmp_path: Path) -> None:
    """The search above can fail: a verdict question's params (q4's layers) and answer spellings are
    found when the question keeps `verdict`."""
    folder = write_bundle(load_rubric(resolve_assignment("csc420-a2")), tmp_path / "bundle")
    rubric = json.loads((folder / RUBRIC).read_text())
    assert "61706" not in bundle_text(folder)  # answers are computed, never stored ...
    q4 = next(q for q in rubric["questions"] if q["id"] == "q4_lenet_params")
    assert q4["reference"]["params"]["layers"][4]["out_channels"] == 120  # ... but verdict params ship


def test_format_questions_keep_no_reference_or_mistakes(tmp_path: Path) -> None:
    folder = write_bundle(load_rubric(secret_rubric(tmp_path, "csc420-secret")), tmp_path / "b")
    questions = {q["id"]: q for q in json.loads((folder / RUBRIC).read_text())["questions"]}
    for qid in ("q2_dL_dw3", "q3_flops_no_bias", "q4_lenet_params", "q6a_tanh_range"):
        q = questions[qid]
        assert q["kind"] == "self_check_format"
        assert not {"reference", "known_mistakes", "accepted", "randomise"} & set(q)
        assert "reference_params" not in q.get("reader", {})
    assert questions["q4_lenet_params"]["self_check"] == "format"  # hidden: format at most
    assert questions["q1_effective_weight"]["kind"] == "matrix_expression"  # verdict: as written


def test_hidden_code_cases_do_not_ship(tmp_path: Path) -> None:
    folder = write_bundle(load_rubric(resolve_assignment("csc411-a1")), tmp_path / "b")
    text = bundle_text(folder)
    assert "hidden batches" in resolve_assignment("csc411-a1").read_text()
    assert "hidden batches" not in text and '"hidden": true' not in text


def test_a_hidden_question_cannot_reveal_a_verdict(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"extends": "csc420-a2", "assignment": "x",
                                    "overrides": {"q4_lenet_params": {"hidden": True, "self_check": "verdict"}}}))
    with pytest.raises(RubricError, match="format at most"):
        load_rubric(path)


# --- checking from a bundle -----------------------------------------------------------------------


def answers_for(rubric_path: Path, student: str | None) -> list[dict[str, Any]]:
    """Answer sets: the references, the known mistakes, and the hints' examples."""
    rubric = load_rubric(rubric_path).rubric
    ctx = rubric.context(student)
    sets: list[dict[str, Any]] = [{}, {}, {}]
    for q in rubric.questions:
        if not isinstance(q, ComparedQuestion):
            continue
        sets[0][q.id] = q.reference_answer(ctx)
        mistakes = [a for a in q.known_mistakes if a.value is not None]
        if mistakes:
            sets[1][q.id] = mistakes[0].value
        examples = hint_for(q, ctx).examples
        sets[2][q.id] = examples[0] if examples else "???"
    return sets


def _grade(rubric_path: Path, answers: dict[str, Any], student: str | None, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump({**answers, **({"student_id": student} if student else {})}, allow_unicode=True))
    report = grade_path(load_rubric(rubric_path), path, require_student_id=True)
    return {r.id: (r.status, r.score, r.feedback) for r in report.questions}


@pytest.mark.parametrize("assignment", builtin_names())
def test_a_bundle_checks_verdict_questions_as_today(assignment: str, tmp_path: Path) -> None:
    full = resolve_assignment(assignment)
    student = STUDENT if assignment in RANDOMISED else None
    folder = write_bundle(load_rubric(full), tmp_path / "bundle")
    for answers in answers_for(full, student):
        today = _grade(full, answers, student, tmp_path)
        bundled = _grade(folder / RUBRIC, answers, student, tmp_path)
        compared = [qid for qid in today if load_rubric(full).rubric.question(qid).kind not in ("model",)]
        assert {q: today[q] for q in compared} == {q: bundled[q] for q in compared}


def test_format_questions_say_only_readable_or_how_to_write(tmp_path: Path) -> None:
    rubric_path = secret_rubric(tmp_path, "csc420-secret")
    folder = write_bundle(load_rubric(rubric_path), tmp_path / "bundle")
    reference = answers_for(rubric_path, None)[0]
    right = _grade(folder / RUBRIC, reference, None, tmp_path)
    wrong = _grade(folder / RUBRIC, {**reference, "q3_flops_no_bias": 1, "q2_dL_dw3": "1e-3",
                                     "q6b_tanh_grad": "sigmoid(x)"}, None, tmp_path)
    unreadable = _grade(folder / RUBRIC, {"q3_flops_no_bias": "lots", "q1_effective_bias": "b1 +"}, None, tmp_path)
    for qid in ("q2_dL_dw3", "q3_flops_no_bias", "q6b_tanh_grad", "q1_effective_bias", "q4_lenet_params"):
        assert right[qid][0] is Status.MANUAL and right[qid][1] == 0, right[qid]
        assert wrong.get(qid, right[qid])[:3] == right[qid]  # right and wrong answers look the same
    assert right["q3_flops_with_bias"][2] == "this question is not checked before the deadline"
    assert unreadable["q3_flops_no_bias"][0] is Status.INVALID
    assert "e.g." in unreadable["q3_flops_no_bias"][2]
    assert unreadable["q1_effective_bias"][0] is Status.INVALID
    assert right["q1_effective_weight"][0] is Status.CORRECT  # verdict questions as today
    template = (folder / TEMPLATE).read_text()
    assert "# Answer: a number, e.g. 2,359,296" in template and "# Answer: an answer" not in template


# --- the command line -----------------------------------------------------------------------------


def test_student_bundle_folder_and_zip_check_offline(tmp_path: Path) -> None:
    code, out, _ = run("student-bundle", "csc420-a2", "-o", str(tmp_path / "csc420"))
    assert code == ExitCode.OK and "grader check" in out
    assert {p.name for p in (tmp_path / "csc420").iterdir()} >= {MANIFEST, RUBRIC, TEMPLATE, "questions.md"}
    code, _, _ = run("student-bundle", "csc420-a2", "-o", str(tmp_path / "csc420.zip"))
    assert code == ExitCode.OK and zipfile.is_zipfile(tmp_path / "csc420.zip")
    answers = tmp_path / "answers.yaml"
    answers.write_text("q4_lenet_params: 61706\nq3_flops_no_bias: 12\n")
    for bundle in ("csc420", "csc420.zip"):
        code, out, _ = run("check", str(answers), "-a", str(tmp_path / bundle))
        assert code == ExitCode.OK
        assert "q4_lenet_params" in out and "correct" in out and "incorrect" in out
    template = yaml.safe_load((tmp_path / "csc420" / TEMPLATE).read_text())
    assert set(template) == {q.id for q in load_rubric(resolve_assignment("csc420-a2")).rubric.questions}


@pytest.mark.parametrize("command", [
    ["reference", "{b}"], ["reference", "{b}/rubric.json"], ["grade", "{answers}", "-a", "{b}"],
    ["batch", "{dir}", "-a", "{b}", "-o", "{dir}/out"], ["gradescope-package", "{b}", "-o", "{dir}/ag.zip"],
    ["student-bundle", "{b}", "-o", "{dir}/again"], ["reference", "{dir}/b.zip"],
], ids=["reference", "reference-rubric-file", "grade", "batch", "gradescope-package", "bundle-of-bundle",
        "reference-zip"])
def test_a_bundle_is_refused_where_answers_or_grades_come_from(command: list[str], tmp_path: Path) -> None:
    run("student-bundle", "csc420-a2", "-o", str(tmp_path / "b"))
    run("student-bundle", "csc420-a2", "-o", str(tmp_path / "b.zip"))
    (tmp_path / "answers.yaml").write_text("q4_lenet_params: 61706\n")
    args = [a.format(b=tmp_path / "b", answers=tmp_path / "answers.yaml", dir=tmp_path) for a in command]
    code, out, err = run(*args)
    assert code == ExitCode.USAGE_ERROR, (out, err)
    assert "student bundle" in err and "61706" not in out


def test_full_rubric_check_still_works_for_instructors(tmp_path: Path) -> None:
    answers = tmp_path / "a.yaml"
    answers.write_text("q4_lenet_params: 61706\n")
    code, out, _ = run("check", str(answers), "-a", "csc420-a2")
    assert code == ExitCode.OK and "correct" in out


def test_randomised_bundle_needs_student_for_secret_randomised_questions(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"extends": "csc420-a2-random", "assignment": "rnd",
                                    "overrides": {"q3_flops_no_bias": {"self_check": "format"}}}))
    code, _, err = run("student-bundle", str(path), "-o", str(tmp_path / "b"))
    assert code == ExitCode.USAGE_ERROR and "--student" in err
    code, _, _ = run("student-bundle", str(path), "-o", str(tmp_path / "b"), "--student", STUDENT)
    assert code == ExitCode.OK
    template = yaml.safe_load((tmp_path / "b" / TEMPLATE).read_text())
    assert template["student_id"] == STUDENT


def test_randomised_bundle_makes_each_students_template(tmp_path: Path) -> None:
    run("student-bundle", "csc420-a2-random", "-o", str(tmp_path / "b"))
    code, _, err = run("template", str(tmp_path / "b"))
    assert code == ExitCode.USAGE_ERROR and "--student" in err
    code, out, _ = run("template", str(tmp_path / "b"), "--student", STUDENT)
    full = run("template", "csc420-a2-random", "--student", STUDENT)[1]
    assert code == ExitCode.OK and yaml.safe_load(out)["student_id"] == STUDENT
    assert [line for line in out.splitlines() if not line.startswith("# Check")] == [
        line for line in full.splitlines() if not line.startswith("# Check")]
