"""Answer groups: equivalence by the question kind's own parse/equivalent, text otherwise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.batch.groups import group_answers, normalise_text, same_answer
from grader.cli import ExitCode, cli
from grader.core.grading import grade_path
from grader.core.report import Report
from grader.core.rubric import load_rubric, resolve_assignment


def grade_all(tmp_path: Path, assignment: str, question: str, answers: dict[str, Any]) -> tuple[Any, list[Report]]:
    loaded = load_rubric(resolve_assignment(assignment))
    reports = []
    for name, answer in answers.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({} if answer is None else {question: answer}))
        reports.append(grade_path(loaded, path))
    return loaded.rubric.question(question), reports


def shape(groups: list[Any]) -> list[list[str]]:
    return [[m.submission for m in g.members] for g in groups]


@pytest.mark.parametrize(
    ("assignment", "question", "answers", "expected"),
    [
        ("csc420-a2", "q3_flops_no_bias",
         {"a": 1153840, "b": "1,153,840 FLOPs", "c": "1.15384e6", "d": 578560, "e": "578 560", "f": None},
         [["a", "b", "c"], ["d", "e"], ["f"]]),
        ("csc420-a2", "q2_dL_dw3", {"a": 0.0006, "b": "6e-4", "c": 0.00062158, "d": 0.00143},
         [["a", "b", "c"], ["d"]]),
        ("apl405-hw2", "q2_relu_zero_grads", {"a": "YES, YES, NO", "b": ["yes", "y", "no"], "c": "no no no"},
         [["a", "b"], ["c"]]),
        ("apl405-hw2", "q3a_graph", {"a": ["x -> z", "z -> h"], "b": "z -> h, x -> z", "c": ["x -> h"]},
         [["a", "b"], ["c"]]),
        ("csc420-a2", "q6a_tanh_range", {"a": "(-1, 1)", "b": "-1 < y < 1", "c": "-1 to 1", "d": "-1 TO 1"},
         [["a", "b"], ["c", "d"]]),
        ("csc420-a2", "q1_proof", {"a": "By induction.", "b": "by   induction", "c": "linear maps compose"},
         [["a", "b"], ["c"]]),
    ],
    ids=["number-forms", "number-within-tolerance", "choice-spellings", "edge-order", "interval-and-unreadable-text",
         "free-text-normalised"],
)
def test_answers_group_by_equivalence(
    tmp_path: Path, assignment: str, question: str, answers: dict[str, Any], expected: list[list[str]],
) -> None:
    target, reports = grade_all(tmp_path, assignment, question, answers)
    assert shape(group_answers(target, reports)) == expected


def test_a_group_carries_counts_statuses_and_known_mistakes(tmp_path: Path) -> None:
    target, reports = grade_all(tmp_path, "csc420-a2", "q3_flops_no_bias", {"a": 578560, "b": "578,560", "c": 1153840})
    wrong = group_answers(target, reports)[0]
    assert (wrong.count, wrong.statuses, wrong.mistakes, wrong.scores) == (
        2, {"incorrect": 2}, ["multiply_add_as_one_flop"], (0.0, 0.0))


def test_same_answer_is_the_group_relation_for_single_answers() -> None:
    question = load_rubric(resolve_assignment("csc420-a2")).rubric.question("q3_flops_no_bias")
    assert same_answer(question, "1,153,840", 1153840)
    assert not same_answer(question, "1,153,840", "1153841")
    assert not same_answer(question, "lots", 1153840)
    assert same_answer(question, "Lots.", "lots")


@pytest.mark.parametrize(("left", "right"), [("Yes.", "yes"), ("a\u00a0 b", "A B"), ("ﬁne", "fine")],
                         ids=["case-and-stop", "spaces", "ligature"])
def test_normalised_text(left: str, right: str) -> None:
    assert normalise_text(left) == normalise_text(right)


def test_groups_command_prints_groups_and_json(tmp_path: Path) -> None:
    root = tmp_path / "class"
    root.mkdir()
    for name, value in {"a": "578,560", "b": 578560, "c": 1153840}.items():
        (root / f"{name}.json").write_text(json.dumps({"q3_flops_no_bias": value}))
    out = tmp_path / "out"
    runner = CliRunner()
    runner.invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "1"])
    text = runner.invoke(cli, ["groups", str(out), "q3_flops_no_bias"])
    assert text.exit_code == ExitCode.OK and "3 answers in 2 groups" in text.output and "a, b" in text.output
    data = json.loads(runner.invoke(cli, ["groups", str(out), "q3_flops_no_bias", "--json", "--wrong"]).output)
    assert [(g["count"], g["members"]) for g in data["groups"]] == [(2, ["a", "b"])]
    bad = runner.invoke(cli, ["groups", str(out), "q99"])
    assert bad.exit_code == ExitCode.USAGE_ERROR and "no question 'q99'" in bad.output
    lost = runner.invoke(cli, ["groups", str(tmp_path), "q3_flops_no_bias"])
    assert lost.exit_code == ExitCode.USAGE_ERROR and "no batch.json" in lost.output
