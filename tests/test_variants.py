"""Per-student variants: reproducible draws, constraints kept, answers specific to the student."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.checkers.base import ComparedQuestion
from grader.core.grading import grade_path
from grader.core.report import Status
from grader.core.rubric import Rubric, load_rubric, resolve_assignment
from grader.core.variants import RandomStream, compile_constraint

STUDENTS = [f"student{i:04d}" for i in range(1000)]
RANDOM_ASSIGNMENTS = ["csc420-a2-random", "apl405-hw2-random"]


def _rubric(name: str) -> Rubric:
    return load_rubric(resolve_assignment(name)).rubric


def _randomised(rubric: Rubric) -> list[ComparedQuestion[Any]]:
    return [q for q in rubric.questions if isinstance(q, ComparedQuestion) and q.randomise is not None]


def _lookup(params: dict[str, Any], dotted: str) -> Any:
    node: Any = params
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def test_stream_is_pinned_across_versions() -> None:
    """The draw must not depend on Python's `random`: these values are fixed forever."""
    stream = RandomStream("salt", "alice", "q3", "0")
    assert [stream.below(1000) for _ in range(5)] == PINNED


PINNED = [979, 411, 275, 62, 725]


@pytest.mark.parametrize("assignment", RANDOM_ASSIGNMENTS)
def test_thousand_students_draws_keep_constraints_and_cover_ranges(assignment: str) -> None:
    rubric = _rubric(assignment)
    seen: dict[tuple[str, str], set[Any]] = {}
    for student in STUDENTS:
        ctx = rubric.context(student)
        for q in _randomised(rubric):
            assert q.randomise is not None
            params = q.reference_params_for(ctx)
            answer = ctx.compute(q.reference.function, params)
            names = {**params, "answer": answer}
            for text in q.randomise.constraints:
                assert compile_constraint(text)(names), (student, q.id, text)
            for path in q.randomise.params:
                value = _lookup(params, path)
                seen.setdefault((q.id, path), set()).update(value if isinstance(value, list) else [value])
    for q in _randomised(rubric):
        assert q.randomise is not None
        for path, dist in q.randomise.params.items():
            values = seen[(q.id, path)]
            if dist.dist == "choice":
                assert values == set(dist.values), (q.id, path)
            elif dist.dist == "integers":
                low, high = dist.low + 2 * dist.step, dist.high - 2 * dist.step
                assert min(values) <= low and max(values) >= high, (q.id, path)
            else:
                low, high = float(dist.low) + 0.2, float(dist.high) - 0.2
                assert min(values) < low and max(values) > high, (q.id, path)


def test_grouped_questions_share_one_draw() -> None:
    rubric = _rubric("csc420-a2-random")
    ctx = rubric.context("alice")
    a = rubric.question("q3_flops_no_bias").reference_params_for(ctx)
    b = rubric.question("q3_flops_with_bias").reference_params_for(ctx)
    assert {k: v for k, v in a.items() if k != "bias"} == {k: v for k, v in b.items() if k != "bias"}


def test_draw_is_reproducible_and_student_specific() -> None:
    rubric = _rubric("csc420-a2-random")
    q = rubric.question("q3_flops_no_bias")
    first = q.reference_params_for(rubric.context("alice"))
    again = q.reference_params_for(load_rubric(resolve_assignment("csc420-a2-random")).rubric.context("alice"))
    other = q.reference_params_for(rubric.context("bob"))
    assert first == again and first != other


def _answers_for(rubric: Rubric, student: str) -> dict[str, Any]:
    ctx = rubric.context(student)
    return {q.id: q.reference_answer(ctx) for q in rubric.questions
            if isinstance(q, ComparedQuestion) and q.randomise is not None}


@pytest.mark.parametrize("assignment", RANDOM_ASSIGNMENTS)
def test_one_students_answers_graded_as_anothers(assignment: str, tmp_path: Path) -> None:
    rubric = _rubric(assignment)
    loaded = load_rubric(resolve_assignment(assignment))
    shared = 0
    for i in range(40):
        owner, grader_of = STUDENTS[i], STUDENTS[i + 500]
        answers = {"student_id": grader_of, **_answers_for(rubric, owner)}
        path = tmp_path / f"{owner}.yaml"
        path.write_text(yaml.safe_dump(answers))
        theirs = _answers_for(rubric, grader_of)
        for result in grade_path(loaded, path).questions:
            if result.id not in answers:
                continue
            same = theirs[result.id] == answers[result.id]
            shared += same
            assert result.status is (Status.CORRECT if same else Status.INCORRECT), (owner, grader_of, result)
    assert shared < 40 * len(_randomised(rubric)) // 4  # variants really differ


@pytest.mark.parametrize("assignment", RANDOM_ASSIGNMENTS)
def test_filled_template_grades_full_marks_for_each_student(assignment: str, tmp_path: Path) -> None:
    from grader.core.references import reference_answers
    from grader.student.template import render_template

    rubric = _rubric(assignment)
    loaded = load_rubric(resolve_assignment(assignment))
    auto = {q.id for q in rubric.questions if isinstance(q, ComparedQuestion)}
    for student in STUDENTS[:100]:
        template = yaml.safe_load(render_template(rubric, student))
        references = reference_answers(rubric, student)["questions"]
        filled = {k: (references[k]["answer"] if k in auto else v) for k, v in template.items()}
        path = tmp_path / "answers.yaml"
        path.write_text(yaml.safe_dump(filled))
        report = grade_path(loaded, path)
        assert report.student == student and report.randomised
        statuses = {r.id: r.status for r in report.questions if r.id in auto}
        assert set(statuses.values()) == {Status.CORRECT}, (student, statuses)


UNSAFE_CONSTRAINTS = [
    ("call", "__import__('os').system('x')"),
    ("lambda", "(lambda: 1)()"),
    ("dunder attribute", "answer.__class__"),
    ("comprehension", "[x for x in answer]"),
    ("not an expression", "kernel ="),
]


@pytest.mark.parametrize("text", [c[1] for c in UNSAFE_CONSTRAINTS], ids=[c[0] for c in UNSAFE_CONSTRAINTS])
def test_constraint_language_is_a_whitelist(text: str) -> None:
    with pytest.raises(ValueError):
        compile_constraint(text)


def test_unsatisfiable_constraints_are_a_rubric_error(tmp_path: Path) -> None:
    from grader.core.rubric import RubricError

    path = tmp_path / "r.yaml"
    path.write_text(
        "assignment: r\nquestions:\n  - id: q\n    kind: number\n    points: 1\n"
        "    reference: {function: mlp_params, params: {sizes: [3, 2]}}\n"
        "    randomise: {params: {sizes: {dist: choice, values: [[3, 2]]}}, constraints: ['answer > 100']}\n")
    with pytest.raises(RubricError, match="constraints"):
        load_rubric(path, compute_references=True)


@pytest.mark.parametrize("student", STUDENTS[:20])
def test_known_mistakes_follow_each_students_numbers(student: str) -> None:
    rubric = _rubric("csc420-a2-random")
    ctx = rubric.context(student)
    q3 = rubric.question("q3_flops_no_bias")
    assert isinstance(q3, ComparedQuestion)
    mac = next(m for m in q3.known_mistakes if m.name == "multiply_add_as_one_flop")
    wrong = q3.alternative_value(mac, ctx)
    verdict = q3.grade(int(wrong), ctx)
    assert verdict.mistake == "multiply_add_as_one_flop"
    assert verdict.status is Status.INCORRECT
    from reference import get_reference

    own = {**q3.reference_params_for(ctx), "mac_as_one": True}
    assert wrong == get_reference("conv_pool_flops").compute(own)  # recomputed with this student's numbers
