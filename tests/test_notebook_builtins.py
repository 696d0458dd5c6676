"""Every built-in assignment's template notebook: filled with the right answers it grades full marks
on its auto-graded questions through `grader check` and `grader batch`; filled with each example
submission's answers it grades exactly like the answers file; and the notebook examples in
`submissions_example/` grade as their README says.

Right answers come from `grader reference --json`, run here; code and model questions, whose
reference is a function or a training recipe, take the example class's correct files (alice's)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.core.builtins import resolve_assignment
from grader.core.grading import grade_path
from grader.core.report import Report
from grader.core.rubric import load_rubric
from grader.core.submission import open_submission
from tests.notebook_helpers import answer_cell, fill, fill_answers, save, template

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "submissions_example"
BUILTINS = ["csc420-a2", "tdt4265-a2", "apl405-hw2", "csc411-a1"]


def _has_models(assignment: str) -> bool:
    return any(q.kind == "model" for q in load_rubric(resolve_assignment(assignment)).rubric.questions)


def _marked(assignment: str) -> Any:
    """Assignments with model questions evaluate models: slow."""
    return pytest.param(assignment, marks=[pytest.mark.slow] if _has_models(assignment) else [], id=assignment)


def _alice_files(assignment: str) -> tuple[dict[str, Any], Path]:
    with open_submission(EXAMPLES / assignment / "alice") as sub:
        return dict(sub.answers), EXAMPLES / assignment / "alice"


def _right_notebook(assignment: str, folder: Path) -> Path:
    result = CliRunner().invoke(cli, ["reference", assignment, "--json"])
    assert result.exit_code == 0, result.output
    references = json.loads(result.output)["questions"]
    alice, alice_root = _alice_files(assignment)
    nb = template(assignment)
    folder.mkdir(parents=True)
    for q in load_rubric(resolve_assignment(assignment)).rubric.questions:
        if q.kind == "manual":
            fill(nb, q.id, "My argument, for a person to read.")
        elif q.kind == "code":
            fill(nb, q.id, (alice_root / alice[q.id]).read_text())
        elif q.kind == "model":
            shutil.copyfile(alice_root / alice[q.id], folder / alice[q.id])
            fill(nb, q.id, repr(alice[q.id]))
        else:
            fill_answers(nb, {q.id: references[q.id]["answer"]})
    return save(nb, folder / f"{assignment}.ipynb")


@pytest.mark.parametrize("assignment", [_marked(a) for a in BUILTINS])
def test_right_answers_grade_full_marks_through_check_and_batch(tmp_path: Path, assignment: str) -> None:
    notebook = _right_notebook(assignment, tmp_path / "class" / "erin")
    automatic = [q.id for q in load_rubric(resolve_assignment(assignment)).rubric.questions
                 if q.kind != "manual" and not q.hidden]
    checked = CliRunner().invoke(cli, ["check", str(notebook.parent), "-a", assignment])
    assert checked.exit_code == 0, checked.output
    for qid in automatic:
        assert re.search(rf"^✓ {re.escape(qid)}\s", checked.output, re.MULTILINE), checked.output
    out = tmp_path / "out"
    batch = CliRunner().invoke(cli, ["batch", str(tmp_path / "class"), "-a", assignment, "-o", str(out), "-j", "1"])
    assert batch.exit_code == 0, batch.output
    report = Report.model_validate_json((out / "reports" / "erin.json").read_text())
    wrong = [(q.id, q.status, q.feedback) for q in report.questions if q.status not in ("correct", "manual")]
    assert wrong == []
    assert report.score == sum(q.max_score for q in report.questions if q.status == "correct")


def _examples() -> list[Any]:
    cases = []
    for assignment in BUILTINS:
        for path in sorted((EXAMPLES / assignment).iterdir()):
            if path.is_dir() and not any(path.glob("answers.*")):
                continue  # a notebook example already (erin-notebook)
            marks = [pytest.mark.slow] if _has_models(assignment) else []
            cases.append(pytest.param(assignment, path, marks=marks, id=f"{assignment}/{path.name}"))
    return cases


def _as_notebook(assignment: str, example: Path, dest: Path) -> Path:
    """The example's answers typed into the template notebook; its other files beside it."""
    with open_submission(example) as sub:
        answers, root = dict(sub.answers), sub.root
    nb = template(assignment)
    dest.mkdir(parents=True)
    if root is not None:
        for file in root.iterdir():
            if file.is_file() and file.suffix not in (".py", ".yaml", ".yml", ".json", ".toml"):
                shutil.copyfile(file, dest / file.name)
    for qid, value in answers.items():
        if value is None:
            continue
        is_code = load_rubric(resolve_assignment(assignment)).rubric.question(qid).kind == "code"
        if is_code and root is not None and isinstance(value, str) and (root / value).is_file():
            fill(nb, qid, (root / value).read_text())
        else:
            fill_answers(nb, {qid: value})
        assert answer_cell(nb, qid) is not None
    return save(nb, dest / f"{example.stem}.ipynb")


@pytest.mark.parametrize(("assignment", "example"), _examples())
def test_example_answers_grade_alike_in_a_notebook(tmp_path: Path, assignment: str, example: Path) -> None:
    loaded = load_rubric(resolve_assignment(assignment))
    from_file = grade_path(loaded, example)
    notebook = _as_notebook(assignment, example, tmp_path / example.stem)
    from_notebook = grade_path(loaded, notebook.parent if example.is_dir() else notebook)
    assert [(q.id, q.status, q.score) for q in from_notebook.questions] == \
        [(q.id, q.status, q.score) for q in from_file.questions]


NOTEBOOK_EXAMPLES = [
    pytest.param("csc420-a2", "erin-notebook",
                 {"q3_flops_no_bias": "incorrect", "q4_lenet_params": "correct", "q6b_tanh_grad": "correct",
                  "q6c_when_to_use": "missing", "p2_mlp_model": "incorrect"}, marks=pytest.mark.slow, id="erin"),
    pytest.param("csc411-a1", "frank-notebook",
                 {"p3a_softmax_grad": "correct", "p3b_gradient_code": "correct", "p4_momentum_code": "partial"},
                 id="frank"),
]


@pytest.mark.parametrize(("assignment", "name", "expected"), NOTEBOOK_EXAMPLES)
def test_notebook_examples(assignment: str, name: str, expected: dict[str, str]) -> None:
    report = grade_path(load_rubric(resolve_assignment(assignment)), EXAMPLES / assignment / name)
    assert {q.id: q.status.value for q in report.questions if q.id in expected} == expected
