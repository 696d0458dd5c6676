"""Notebook submissions: values read from cells (never executed), markers, unreadable and hostile
notebooks, code extraction, the template notebook, batch layouts and the in-notebook Checker."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner

from grader.batch.discover import discover
from grader.cli import cli
from grader.core.builtins import resolve_assignment
from grader.core.grading import grade_path
from grader.core.report import Report
from grader.core.rubric import load_rubric
from grader.core.submission import open_submission
from grader.notebook import Checker, CheckerError, find_notebook
from grader.notebooks import reader
from grader.notebooks.extract import NotebookProgram, python_source
from grader.notebooks.literals import CODE, EMPTY, LiteralError, cell_value
from grader.notebooks.reader import Cell, marked_question
from tests.notebook_helpers import fill, notebook, save, template

VALUES = [
    ("integer", "1153840", 1153840),
    ("negative decimal kept exact", "-0.0006", Decimal("-0.0006")),
    ("underscores", "1_153_840", 1153840),
    ("scientific", "6.2e-4", Decimal("6.2e-4")),
    ("string", "'1,153,840 FLOPs'", "1,153,840 FLOPs"),
    ("list", "[785, 64]", [785, 64]),
    ("tuple becomes a list", "(785, 64)", [785, 64]),
    ("thousands separators stay text", "1,153,840", "1,153,840"),
    ("mapping with bare keys", "{W1: [[1, -1]], b2: 0.5}", {"W1": [[1, -1]], "b2": Decimal("0.5")}),
    ("numpy array", "np.array([[1, 2], [3, 4]], dtype=float)", [[1, 2], [3, 4]]),
    ("assignment to a name", "q3 = 1153840", 1153840),
    ("annotated assignment", "q3: int = 7", 7),
    ("comment after the value", "7  # my answer", 7),
    ("arithmetic stays text", "784*64 + 64", "784*64 + 64"),
    ("formula stays text", "y*(1-y)", "y*(1-y)"),
    ("call stays text", "compute_flops()", "compute_flops()"),
    ("ellipsis is empty", "...", EMPTY),
    ("pass is empty", "pass", EMPTY),
    ("comments only are empty", "# your answer: a number", EMPTY),
    ("a function is code", "import numpy as np\ndef f(x):\n    return x", CODE),
    ("magic line tolerated", "%matplotlib inline\n42", 42),
]


@pytest.mark.parametrize(("source", "expected"), [c[1:] for c in VALUES], ids=[c[0] for c in VALUES])
def test_cell_values(source: str, expected: Any) -> None:
    got = cell_value(python_source(source))
    assert got == expected and type(got) is type(expected)


UNREADABLE = [
    ("syntax error", "1153840 FLOPs", "not valid Python"),
    ("two statements", "a = 1\nb = 2", "2 statements"),
    ("a loop", "for i in range(3):\n    pass", "a statement"),
    ("deep nesting", "[" * 40 + "]" * 40, "nested"),
    ("very deep nesting", "[" * 5000 + "]" * 5000, "nested|too large"),
    ("duplicate key", "{'a': 1, 'a': 2}", "twice"),
    ("too many digits", "9" * 5000, "not valid Python|too large"),
]


@pytest.mark.parametrize(("source", "message"), [c[1:] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE])
def test_cells_that_cannot_be_read(source: str, message: str) -> None:
    with pytest.raises(LiteralError, match=message):
        cell_value(python_source(source))


MARKERS = [
    ("first line", Cell(1, "code", "# answer: q3\n7"), "q3"),
    ("tag", Cell(1, "code", "7", ("answer:q3",)), "q3"),
    ("markdown comment", Cell(1, "markdown", "<!-- answer: q1_proof -->\ntext"), "q1_proof"),
    ("markdown heading", Cell(1, "markdown", "# Answer: q1_proof\ntext"), "q1_proof"),
    ("visible line beats a copied tag", Cell(1, "code", "# answer: q4\n7", ("answer:q3",)), "q4"),
    ("unmarked", Cell(1, "code", "# q3 is below\n7"), None),
    ("marker not on the first line", Cell(1, "code", "7\n# answer: q3"), None),
]


@pytest.mark.parametrize(("cell", "expected"), [c[1:] for c in MARKERS], ids=[c[0] for c in MARKERS])
def test_marked_question(cell: Cell, expected: str | None) -> None:
    assert marked_question(cell) == expected


# --- grading notebooks ------------------------------------------------------------------------------


def _grade(assignment: str, path: Path) -> dict[str, Any]:
    report = grade_path(load_rubric(resolve_assignment(assignment)), path)
    return {q.id: q for q in report.questions}


def test_right_wrong_and_unreadable_cells(tmp_path: Path) -> None:
    nb = template("csc420-a2")
    fill(nb, "q3_flops_no_bias", "1153840")
    fill(nb, "q3_flops_with_bias", "578560 + 720")  # a multiply-add as one FLOP, plus the biases
    fill(nb, "q4_lenet_params", "61,706 params")  # not Python: the cell cannot be read
    fill(nb, "q6a_tanh_range", "$(-1, 1)$")
    path = save(nb, tmp_path / "erin.ipynb")
    got = _grade("csc420-a2", path)
    assert got["q3_flops_no_bias"].status == "correct"
    assert got["q3_flops_no_bias"].details["notebook_cell"].endswith("of erin.ipynb")
    assert got["q3_flops_with_bias"].status in ("incorrect", "partial")
    number = [c.metadata.get("tags") for c in nb.cells].index(["answer:q4_lenet_params"]) + 1
    assert got["q4_lenet_params"].status == "invalid"
    assert f"cell {number} of erin.ipynb" in got["q4_lenet_params"].feedback
    assert got["q6a_tanh_range"].status == "correct"
    assert got["q2_dL_dw3"].status == "missing"


def test_an_answer_in_two_cells_says_which_was_used(tmp_path: Path) -> None:
    nb = notebook(("code", "# answer: q4_lenet_params\n1516"), ("code", "# answer: q4_lenet_params\n61706"),
                  ("code", "# answer: q4_lenet_params\n"))
    got = _grade("csc420-a2", save(nb, tmp_path / "a.ipynb"))["q4_lenet_params"]
    assert got.status == "correct"
    assert "cell 2 of a.ipynb (the last) was used, not cell 1 of a.ipynb" in got.feedback


def test_the_answers_file_wins_over_the_notebook_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "answers.yaml").write_text("q4_lenet_params: 61706\n")
    save(notebook(("code", "# answer: q4_lenet_params\n1516"), ("code", "# answer: q3_flops_no_bias\n1153840")),
         tmp_path / "hw.ipynb")
    got = _grade("csc420-a2", tmp_path)
    assert got["q4_lenet_params"].status == "correct" and "answer in answers.yaml was used" in \
        got["q4_lenet_params"].feedback
    assert got["q3_flops_no_bias"].status == "correct"


def test_a_broken_notebook_beside_an_answers_file_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "answers.yaml").write_text("q4_lenet_params: 61706\n")
    (tmp_path / "scratch.ipynb").write_text("{not json")
    report = grade_path(load_rubric(resolve_assignment("csc420-a2")), tmp_path)
    assert next(q for q in report.questions if q.id == "q4_lenet_params").status == "correct"
    assert any("scratch.ipynb cannot be read" in w and "answers.yaml were graded" in w for w in report.warnings)


def test_student_id_cell_picks_the_variant(tmp_path: Path) -> None:
    from grader.core.references import reference_answers

    rubric = load_rubric(resolve_assignment("csc420-a2-random")).rubric
    expected = reference_answers(rubric, "s123")["questions"]["q3_flops_no_bias"]["answer"]
    nb = template("csc420-a2-random", student="s123")
    fill(nb, "q3_flops_no_bias", str(expected))
    report = grade_path(load_rubric(resolve_assignment("csc420-a2-random")), save(nb, tmp_path / "x.ipynb"))
    assert report.submission == "s123"
    assert next(q for q in report.questions if q.id == "q3_flops_no_bias").status == "correct"


HOSTILE = [
    ("malformed json", b'{"cells": [', "cannot be read"),
    ("not a notebook", b'{"hello": 1}', "cannot be read|no list of cells"),
    ("not utf-8", b'\xff\xfe{"cells": []}', "not UTF-8"),
    ("deep json", b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "cannot be read|nested"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_a_notebook_that_cannot_be_read_is_every_question_invalid(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_bytes(data)
    report = grade_path(load_rubric(resolve_assignment("csc420-a2")), path)
    assert {q.status for q in report.questions} == {"invalid"}
    assert report.warnings and pytest.approx(0) == report.score
    import re

    assert re.search(message, report.warnings[0])


def test_a_cell_that_deletes_files_is_never_run(tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("still here")
    evil = f"import os, shutil\nos.remove({str(canary)!r})\nshutil.rmtree({str(tmp_path)!r})\n!rm -rf ~"
    nb = notebook(("code", evil), ("code", f"# answer: q4_lenet_params\n__import__('os').remove({str(canary)!r})"),
                  ("code", "# answer: q3_flops_no_bias\n1153840"))
    got = _grade("csc420-a2", save(nb, tmp_path / "sub" / "evil.ipynb"))
    assert canary.read_text() == "still here"
    assert got["q3_flops_no_bias"].status == "correct"
    assert got["q4_lenet_params"].status == "invalid"  # a call is text, and not a number


def test_huge_outputs_are_not_read_into_answers(tmp_path: Path) -> None:
    nb = notebook(("code", "# answer: q4_lenet_params\n61706"))
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 20_000_000)]
    got = _grade("csc420-a2", save(nb, tmp_path / "big.ipynb"))
    assert got["q4_lenet_params"].status == "correct"


def test_a_notebook_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_NOTEBOOK_BYTES", 1000)
    nb = notebook(("code", "# answer: q4_lenet_params\n61706" + "\n# padding" * 200))
    with open_submission(save(nb, tmp_path / "big.ipynb")) as sub:
        assert sub.error is not None and "clear its outputs" in sub.error


# --- code questions ---------------------------------------------------------------------------------

MOMENTUM = "def momentum_step(W, grad, velocity, lr, momentum):\n    velocity = momentum * velocity - lr * grad\n" \
           "    return W + velocity, velocity\n"


def test_extraction_keeps_what_the_function_uses_and_nothing_else() -> None:
    cells = [
        Cell(1, "code", "import numpy as np\nimport os\nRATE = 2\nUNUSED = 3"),
        Cell(2, "code", "%matplotlib inline\ndef helper(v):\n    return RATE * np.asarray(v)\n"),
        Cell(3, "code", "os.remove('/etc/passwd')\ntrain_for_hours()\n"),
        Cell(4, "code", "def f(x):\n    y = helper(x)\n    return y\n"),
        Cell(5, "code", "def broken(:\n"),
    ]
    source, kept = NotebookProgram.from_cells("a.ipynb", cells).module_for("f")
    assert [s.where for s in kept] == ["cell 1 of a.ipynb", "cell 1 of a.ipynb", "cell 2 of a.ipynb",
                                       "cell 4 of a.ipynb"]
    assert "os" not in source.replace("# cell", "") and "UNUSED" not in source and "train" not in source
    assert "import numpy as np" in source and "RATE = 2" in source


def _csc411(tmp_path: Path, *cells: tuple[str, str]) -> dict[str, Any]:
    return _grade("csc411-a1", save(notebook(*cells), tmp_path / "hw" / "hw.ipynb"))


def test_a_code_question_from_a_notebook_runs_in_the_sandbox(tmp_path: Path) -> None:
    got = _csc411(tmp_path, ("code", "import numpy as np\nLR_SIGN = -1\n"),
                  ("code", "# answer: p4_momentum_code\n" + MOMENTUM.replace("- lr", "+ LR_SIGN * lr")),
                  ("code", "momentum_step(1, 2, 3, 4, 5)\nimport shutil; shutil.rmtree('/')"))["p4_momentum_code"]
    assert got.status == "correct", got.feedback
    assert "hw.ipynb" in (got.answer or "")


CODE_CASES = [
    ("stub", ("code", "# answer: p4_momentum_code\ndef momentum_step(W, grad, velocity, lr, momentum):\n"
              "    '''doc'''\n    raise NotImplementedError\n"), "missing", "still the template's stub"),
    ("no function", ("code", "x = 1"), "missing", "defines no function momentum_step"),
    ("syntax error", ("code", "def momentum_step(W, grad:\n"), "invalid", "cell 1 of hw.ipynb"),
    ("unmarked definition", ("code", MOMENTUM), "correct", ""),
]


@pytest.mark.parametrize(("cell", "status", "message"), [c[1:] for c in CODE_CASES], ids=[c[0] for c in CODE_CASES])
def test_code_question_cases(tmp_path: Path, cell: tuple[str, str], status: str, message: str) -> None:
    got = _csc411(tmp_path, cell)["p4_momentum_code"]
    assert got.status == status and message in got.feedback


def test_a_function_defined_twice_uses_the_last_and_says_so(tmp_path: Path) -> None:
    wrong = MOMENTUM.replace("- lr", "+ lr")
    got = _csc411(tmp_path, ("code", wrong), ("code", MOMENTUM))["p4_momentum_code"]
    assert got.status == "correct" and "the last one is graded" in got.feedback


def test_code_in_a_value_question_is_invalid(tmp_path: Path) -> None:
    got = _grade("csc420-a2", save(notebook(("code", "# answer: q4_lenet_params\nimport math\nmath.pi")),
                                   tmp_path / "a.ipynb"))["q4_lenet_params"]
    assert got.status == "invalid" and "is code" in got.feedback


# --- the template notebook --------------------------------------------------------------------------


def test_template_notebook_is_valid_and_deterministic() -> None:
    first = CliRunner().invoke(cli, ["template", "csc411-a1", "--format", "ipynb"])
    second = CliRunner().invoke(cli, ["template", "csc411-a1", "--format", "ipynb"])
    assert first.exit_code == 0 and first.output == second.output
    nb = nbformat.reads(first.output, as_version=4)
    nbformat.validate(nb)
    sources = [c.source for c in nb.cells]
    assert "check = Checker('csc411-a1')" in sources[1] and sources[-1] == "check.all()"
    stub = next(s for s in sources if s.startswith("# answer: p3b_gradient_code"))
    assert "def basic_gradient(W, x, b, y):" in stub
    assert "check('p3b_gradient_code')" in sources


def test_randomised_template_needs_the_student_and_shows_their_numbers() -> None:
    refused = CliRunner().invoke(cli, ["template", "csc420-a2-random", "--format", "ipynb"])
    assert refused.exit_code == 2 and "--student" in refused.output
    result = CliRunner().invoke(cli, ["template", "csc420-a2-random", "--format", "ipynb", "--student", "s123"])
    nb = nbformat.reads(result.output, as_version=4)
    assert nb.cells[2].source == "# answer: student_id\n's123'"
    from grader.core.references import reference_answers

    rubric = load_rubric(resolve_assignment("csc420-a2-random")).rubric
    params = reference_answers(rubric, "s123")["questions"]["q3_flops_no_bias"]["params"]
    text = next(c.source for c in nb.cells if c.get("id") == "q3_flops_no_bias-text")
    assert f"{params['in_channels']} channels" in text or str(params["in_channels"]) in text


# --- batch layouts ----------------------------------------------------------------------------------


def _answered(path: Path) -> Path:
    return save(notebook(("code", "# answer: q4_lenet_params\n61706")), path)


def test_batch_finds_notebooks_in_every_layout(tmp_path: Path) -> None:
    _answered(tmp_path / "plain" / "lone.ipynb")
    _answered(tmp_path / "plain" / "folder" / "hw.ipynb")
    _answered(tmp_path / "canvas" / "smithjohn_4242_9001_hw2.ipynb")
    _answered(tmp_path / "canvas" / "doejane_77_9002_hw2.ipynb")
    (tmp_path / "canvas" / "doejane_77_9002_model.pt").write_bytes(b"weights")
    export = tmp_path / "gradescope"
    (export / "submission_metadata.yml").parent.mkdir()
    (export / "submission_metadata.yml").write_text("submission_1:\n  :submitters:\n  - :sid: '1001'\n")
    _answered(export / "submission_1" / "hw.ipynb")
    plain = {i.key: i for i in discover(tmp_path / "plain").items}
    assert set(plain) == {"lone.ipynb", "folder"} and plain["lone.ipynb"].default_id == "lone"
    canvas = {i.key: i for i in discover(tmp_path / "canvas").items}
    assert canvas["canvas:4242"].path is not None and canvas["canvas:4242"].path.suffix == ".ipynb"
    assert sorted(f.name for f in canvas["canvas:77"].files) == ["hw2.ipynb", "model.pt"]
    assert [i.default_id for i in discover(export).items] == ["1001"]


def test_batch_and_groups_show_notebook_answers(tmp_path: Path) -> None:
    root = tmp_path / "class"
    for name, value in [("ann", "61706"), ("ben", "1516"), ("cat", "'1,516'")]:
        save(notebook(("code", f"# answer: q4_lenet_params\n{value}")), root / name / f"{name}.ipynb")
    with zipfile.ZipFile(root / "dan.zip", "w") as archive:
        archive.writestr("dan/hw.ipynb", nbformat.writes(notebook(("code", "# answer: q4_lenet_params\n61706"))))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "1"])
    assert result.exit_code == 0, result.output
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in (out / "reports").glob("*.json")}
    scores = {k: next(q for q in r.questions if q.id == "q4_lenet_params").status for k, r in reports.items()}
    assert scores == {"ann": "correct", "ben": scores["ben"], "cat": scores["ben"], "dan": "correct"}
    groups = CliRunner().invoke(cli, ["groups", str(out), "q4_lenet_params"])
    assert groups.exit_code == 0 and "2 groups" in groups.output
    assert "1,516" in groups.output and "ben, cat" in groups.output and "ann, dan" in groups.output
    summary = (out / "summary.json").read_text()
    assert "1,516" in summary  # the common wrong answer, read from notebooks


# --- the Checker ------------------------------------------------------------------------------------


def test_checker_shows_one_question_and_all(tmp_path: Path) -> None:
    nb = template("csc420-a2")
    fill(nb, "q3_flops_no_bias", "1153840")
    fill(nb, "q4_lenet_params", "'61,70,6'")
    path = save(nb, tmp_path / "hw.ipynb")
    check = Checker("csc420-a2", notebook=path)
    one = check("q3_flops_no_bias")
    assert "✓ q3_flops_no_bias" in repr(one) and "as saved at" in repr(one)
    assert "correct" in one._repr_html_() and "q4_lenet_params" not in one._repr_html_()
    invalid = check("q4_lenet_params")
    assert invalid.report.questions[0].status == "invalid"
    with pytest.raises(CheckerError, match="no question"):
        check("q9")
    with pytest.raises(CheckerError, match="unknown assignment"):
        Checker("no-such-assignment")


def test_checker_counts_hidden_questions_without_showing_them(tmp_path: Path) -> None:
    rubric = tmp_path / "r.yaml"
    rubric.write_text("extends: csc420-a2\noverrides:\n  q4_lenet_params: {hidden: true}\n")
    path = save(notebook(("code", "# answer: q4_lenet_params\n61706")), tmp_path / "hw.ipynb")
    check = Checker(str(rubric), notebook=path)
    hidden = check("q4_lenet_params")
    assert hidden.report.questions == [] and "hidden" in repr(hidden)
    assert "61706" not in hidden._repr_html_() and "correct" not in hidden._repr_html_()


@pytest.mark.parametrize("as_zip", [False, True], ids=["bundle-folder", "bundle-zip"])
def test_checker_on_a_student_bundle_follows_its_self_check_policy(tmp_path: Path, as_zip: bool) -> None:
    from grader.student.bundle import write_bundle

    rubric = tmp_path / "r.yaml"
    rubric.write_text("extends: csc420-a2\noverrides:\n  q4_lenet_params: {self_check: format}\n")
    bundle = write_bundle(load_rubric(rubric), tmp_path / ("bundle.zip" if as_zip else "bundle"))
    nb = template("csc420-a2")
    fill(nb, "q3_flops_no_bias", "1153840")
    fill(nb, "q4_lenet_params", "61706")
    check = Checker(str(bundle), notebook=save(nb, tmp_path / "hw.ipynb"))
    verdict = check("q3_flops_no_bias")
    assert verdict.report.questions[0].status == "correct" and "✓ q3_flops_no_bias" in repr(verdict)
    form = check("q4_lenet_params")
    assert "readable" in repr(form) and "readable" in form._repr_html_()
    assert "correct" not in form._repr_html_() and "correct" not in repr(form)
    assert "can be read" in form.report.questions[0].feedback


def test_find_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    with pytest.raises(CheckerError, match="no notebook"):
        find_notebook(tmp_path)
    one = _answered(tmp_path / "a.ipynb")
    assert find_notebook(tmp_path) == one
    two = _answered(tmp_path / "b.ipynb")
    with pytest.raises(CheckerError, match="2 notebooks"):
        find_notebook(tmp_path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(two))
    assert find_notebook(tmp_path) == two
    monkeypatch.setenv("JPY_SESSION_NAME", "course/week3/a.ipynb")  # relative to the server's root
    assert find_notebook(tmp_path) == tmp_path / "a.ipynb"
