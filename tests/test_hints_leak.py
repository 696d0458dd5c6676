"""Format hints are never an answer: every example a student can read (the template's hints, the
invalid-answer messages, the malformed-answers-file message, the pools behind them) is graded as the
answer to every question of every built-in assignment, for 50 students of the randomised ones, and
none earns `correct` or `partial`."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

from grader.checkers.base import ComparedQuestion, GradingContext, QuestionBase
from grader.checkers.format_only import FormatOnlyQuestion
from grader.checkers.hints import ANSWERS_FILE_LINE, hint_for, pool_examples
from grader.core.builtins import builtin_names, resolve_assignment
from grader.core.report import Status
from grader.core.rubric import Rubric, load_rubric, rubric_model
from grader.student.template import render_template

STUDENTS = [f"leak-{i:02d}" for i in range(50)]
RANDOMISED = ("csc420-a2-random", "apl405-hw2-random")
CREDITED = (Status.CORRECT, Status.PARTIAL)
# Questions whose answers are files: graded apart, with file-name examples and no submission folder.
FILE_KINDS = ("model", "code")


@cache
def rubric(name: str) -> Rubric:
    return load_rubric(resolve_assignment(name)).rubric


def students(name: str) -> list[str | None]:
    return list(STUDENTS) if name in RANDOMISED else [None]


@cache
def shown_examples() -> list[Any]:
    """Every example a student of any built-in assignment can read, as answers."""
    found: list[Any] = [*pool_examples(), ANSWERS_FILE_LINE.split(": ", 1)[1]]
    for name in builtin_names():
        for student in students(name):
            ctx = rubric(name).context(student)
            for q in rubric(name).questions:
                found += list(hint_for(q, ctx).examples)
    unique: dict[str, Any] = {repr(e): e for e in found}
    return list(unique.values())


@pytest.mark.parametrize("assignment", builtin_names())
def test_no_example_earns_credit(assignment: str) -> None:
    examples = shown_examples()
    r = rubric(assignment)
    credited = []
    for student in students(assignment):
        ctx = r.context(student)
        questions = [q for q in r.questions if student is None or q.randomise is not None]
        for q in questions:
            if q.kind in FILE_KINDS:
                continue
            for example in examples:
                status = q.grade(example, ctx).status
                if status in CREDITED:
                    credited.append((student, q.id, example, status))
    assert not credited


@pytest.mark.parametrize("assignment", builtin_names())
def test_file_questions_give_no_credit_to_examples(assignment: str) -> None:
    r = rubric(assignment)
    ctx = r.context(None)
    for q in r.questions:
        if q.kind in FILE_KINDS:
            for example in ("solution.py", "gradient.py", "model.pt", "model.safetensors", *pool_examples()[:3]):
                assert q.grade(example, ctx).status not in CREDITED


@pytest.mark.parametrize("assignment", builtin_names())
def test_template_prints_only_hint_examples(assignment: str) -> None:
    """What the template prints after `# Answer:` is exactly the hint whose examples are graded above."""
    r = rubric(assignment)
    student = students(assignment)[0]
    text = render_template(r, student)
    printed = re.findall(r"^# Answer: (.*)$", text, flags=re.MULTILINE)
    ctx = r.context(student)
    hints = [hint_for(q, ctx) for q in r.questions]
    assert printed == [h.text for h in hints]
    for hint in hints:
        for example in hint.examples:
            assert str(example) in hint.text


def _an_unreadable(q: QuestionBase) -> Any:
    return {"not": "an answer"} if q.kind != "threshold_network" else "text"


@pytest.mark.parametrize("assignment", builtin_names())
def test_invalid_messages_show_only_hint_examples(assignment: str) -> None:
    """Every "your answer should be …" tail is the question's hint: its examples are graded above."""
    r = rubric(assignment)
    student = students(assignment)[0]
    ctx = r.context(student)
    for q in r.questions:
        if not isinstance(q, ComparedQuestion):
            continue
        verdict = q.grade(_an_unreadable(q), ctx)
        assert verdict.status is Status.INVALID
        assert verdict.feedback.endswith(hint_for(q, ctx).write_it_like()), verdict.feedback


def test_examples_that_the_old_hints_gave_were_answers() -> None:
    """The test above can fail: the hints issue 14 found (q4's 61706, q1's W2 @ W1) are credited."""
    r = rubric("csc420-a2")
    ctx = r.context(None)
    assert r.question("q4_lenet_params").grade(61706, ctx).status is Status.CORRECT
    assert r.question("q1_effective_weight").grade("W2 @ W1", ctx).status is Status.CORRECT
    assert r.question("q3_flops_no_bias").grade("1,153,840", ctx).status is Status.CORRECT


def test_a_pool_value_that_is_the_answer_is_skipped() -> None:
    """An instructor's question whose answer is the first pool value gets the next one."""
    data = {"assignment": "hint-skip", "questions": [{
        "id": "q", "kind": "number", "points": 1,
        "reference": {"function": "network_params",
                      "params": {"input": [1536], "layers": [{"type": "linear", "out_features": 1536,
                                                               "bias": False}]}}}]}
    r = rubric_model({"number"}).model_validate(data)
    ctx = r.context(None)
    q = r.questions[0]
    assert q.reference_answer(ctx) == 2359296
    hint = hint_for(q, ctx)
    assert "2,359,296" not in hint.text and "2359296" not in hint.text
    assert all(q.grade(e, ctx).status not in CREDITED for e in hint.examples)


def test_malformed_answers_file_message_uses_the_neutral_line(tmp_path: Any) -> None:
    from grader.core.submission import SubmissionError, read_answers_text

    with pytest.raises(SubmissionError) as err:
        read_answers_text("- a list\n- not a mapping\n", ".yaml")
    assert ANSWERS_FILE_LINE in str(err.value)
    assert not any(ANSWERS_FILE_LINE.split(":")[0] == q.id for n in builtin_names() for q in rubric(n).questions)


def test_format_only_questions_in_bundles_keep_their_hint() -> None:
    q = FormatOnlyQuestion(id="q", points=1, answer_kind="number", hint="a number, e.g. 2,359,296")
    verdict = q.grade("abc", GradingContext(submission_root=None, student=""))
    assert verdict.status is Status.INVALID and verdict.feedback.endswith("e.g. 2,359,296")
