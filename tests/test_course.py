"""Course folders: a rubric outside the package with its own references, solution, data and
baselines, validated, batch-graded, exported and packaged for Gradescope; literal answers."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from course_helpers import REFERENCES, write_class, write_course, write_model

import grader
from grader.core.rubric import RubricError, load_rubric

PACKAGE = Path(grader.__file__).resolve().parent.parent


def run_grader(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("course-e2e")
    assert PACKAGE not in root.parents
    rubric = write_course(root / "course")
    klass = write_class(root / "class")
    baseline = run_grader("baseline", str(rubric), cwd=root)
    assert baseline.returncode == 0, baseline.stderr
    write_model(rubric, klass / "correct")
    validate = run_grader("rubric", "validate", str(rubric), cwd=root)
    # two workers: each process loads the course's own references and solution itself
    batch = run_grader("batch", str(klass), "-a", str(rubric), "-o", str(root / "out"), "-j", "2", cwd=root)
    assert batch.returncode == 0, batch.stderr
    reports = {p.stem: json.loads(p.read_text()) for p in (root / "out" / "reports").glob("*.json")}
    return {"root": root, "rubric": rubric, "validate": validate, "reports": reports}


def test_the_course_validates(graded: dict[str, Any]) -> None:
    assert graded["validate"].returncode == 0, graded["validate"].stderr
    assert "valid: 9 questions" in graded["validate"].stdout
    assert (graded["rubric"].parent / "baselines").is_dir()


STATUSES = {
    "correct": ["correct"] * 9,
    "mistaken": ["incorrect", "incorrect", "incorrect", "partial", "incorrect", "incorrect", "incorrect",
                 "incorrect", "missing"],
    "unreadable": ["invalid"] * 8 + ["missing"],
    "empty": ["missing"] * 9,
}


@pytest.mark.parametrize("student", list(STATUSES), ids=list(STATUSES))
def test_the_class_is_graded(graded: dict[str, Any], student: str) -> None:
    report = graded["reports"][student]
    assert [q["status"] for q in report["questions"]] == STATUSES[student]


MISTAKES = [("q1_dense", "no_bias", "you left out the biases"), ("q8_code", "leaky", "leaky ReLU")]


@pytest.mark.parametrize(("question", "mistake", "words"), MISTAKES, ids=[m[1] for m in MISTAKES])
def test_course_known_mistakes_are_recognised(graded: dict[str, Any], question: str, mistake: str,
                                              words: str) -> None:
    entry = next(q for q in graded["reports"]["mistaken"]["questions"] if q["id"] == question)
    assert words in entry["feedback"]


def test_the_course_exports(graded: dict[str, Any]) -> None:
    result = run_grader("export", str(graded["root"] / "out"), "--to", "moodle", cwd=graded["root"])
    assert result.returncode == 0, result.stderr
    with open(graded["root"] / "out" / "moodle.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 1 + len(STATUSES)


def test_the_gradescope_package_carries_the_course(graded: dict[str, Any]) -> None:
    archive = graded["root"] / "autograder.zip"
    result = run_grader("gradescope-package", str(graded["rubric"]), "-o", str(archive), cwd=graded["root"])
    assert result.returncode == 0, result.stderr
    names = set(zipfile.ZipFile(archive).namelist())
    course = {"rubric/hw1.yaml", "rubric/references.py", "rubric/solutions/relu.py", "rubric/data/digits.npz"}
    assert course <= names
    assert any(n.startswith("rubric/baselines/") for n in names)
    assert "-a rubric/hw1.yaml" in zipfile.ZipFile(archive).read("run_autograder").decode()


def test_the_packaged_course_grades_from_its_own_folder(graded: dict[str, Any], tmp_path: Path) -> None:
    """Unpacked elsewhere (as on Gradescope), the rubric finds its files relative to itself."""
    archive = graded["root"] / "autograder.zip"
    if not archive.is_file():
        run_grader("gradescope-package", str(graded["rubric"]), "-o", str(archive), cwd=graded["root"])
    zipfile.ZipFile(archive).extractall(tmp_path, [n for n in zipfile.ZipFile(archive).namelist()
                                                   if n.startswith("rubric/")])
    result = run_grader("grade", str(graded["root"] / "class" / "correct"), "-a", "rubric/hw1.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [q["status"] for q in json.loads(result.stdout)["questions"]] == STATUSES["correct"]


# --- rubric problems, located -----------------------------------------------------------------------

BASE = "assignment: t\n{top}questions:\n  - id: q\n    kind: number\n    points: 1\n{question}"
PROBLEMS = [
    ("missing-references-file", "references: [nope.py]\n", "    answer: 1\n",
     "field references[0]: 'nope.py' is not a file"),
    ("references-file-fails", "references: [broken.py]\n", "    answer: 1\n",
     "broken.py cannot be imported: ZeroDivisionError"),
    ("references-file-declares-nothing", "references: [empty.py]\n", "    answer: 1\n",
     "empty.py declares no @reference function"),
    ("built-in-name", "references: [clash.py]\n", "    answer: 1\n", "'mlp_params', a built-in reference name"),
    ("unknown-course-function", "references: [refs.py]\n", "    reference: {function: nope}\n",
     "unknown reference function 'nope'"),
    ("answer-disagrees", "references: [refs.py]\n",
     "    reference: {function: dense_params, params: {inputs: 3, outputs: 2}}\n    answer: 9\n",
     "field answer: 9 differs from what dense_params computes, 8"),
    ("answer-unreadable", "", "    answer: lots\n",
     "field reference: AnswerParseError: your answer 'lots' is not a number"),
    ("answer-with-randomise", "references: [refs.py]\n",
     "    reference: {function: dense_params, params: {inputs: 3, outputs: 2}}\n    answer: 8\n"
     "    randomise: {params: {inputs: {dist: integers, low: 2, high: 9}}}\n",
     "cannot follow params drawn per student"),
    ("literal-with-randomise", "",
     "    answer: 8\n    randomise: {params: {answer: {dist: integers, low: 2, high: 9}}}\n",
     "cannot follow params drawn per student"),
]

CODE_BASE = ("assignment: t\nquestions:\n  - id: c\n    kind: code\n    points: 1\n    function: f\n{extra}"
             "    inputs: [{name: x, shape: [2]}]\n    outputs: [{name: y}]\n    cases: [{name: a}]\n")
CODE_PROBLEMS = [
    ("solution-no-function", "    solution: sol.py:nope\n", "sol.py has no function 'nope'"),
    ("solution-no-colon", "    solution: sol.py\n", "write it as path/to/file.py:function_name"),
    ("solution-and-reference", "    solution: sol.py:f\n    reference: {function: momentum_step}\n",
     "give either `solution` or `reference`"),
]


def _write_files(folder: Path) -> None:
    (folder / "refs.py").write_text(REFERENCES)
    (folder / "broken.py").write_text("1 / 0\n")
    (folder / "empty.py").write_text("X = 1\n")
    (folder / "clash.py").write_text(REFERENCES.replace('"dense_params"', '"mlp_params"'))
    (folder / "sol.py").write_text("def f(x):\n    return 2 * x\n")


@pytest.mark.parametrize(("name", "top", "question", "expected"), PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_rubric_problems_are_located(tmp_path: Path, name: str, top: str, question: str, expected: str) -> None:
    _write_files(tmp_path)
    path = tmp_path / f"{name}.yaml"
    path.write_text(BASE.format(top=top, question=question))
    with pytest.raises(RubricError) as err:
        load_rubric(path, compute_references=True)
    assert any(expected in p and str(path) in p for p in err.value.problems), err.value.problems


@pytest.mark.parametrize(("name", "extra", "expected"), CODE_PROBLEMS, ids=[p[0] for p in CODE_PROBLEMS])
def test_solution_problems_are_located(tmp_path: Path, name: str, extra: str, expected: str) -> None:
    _write_files(tmp_path)
    path = tmp_path / f"{name}.yaml"
    path.write_text(CODE_BASE.replace("{extra}", extra))
    with pytest.raises(RubricError) as err:
        load_rubric(path, compute_references=True)
    assert any(expected in p and "field solution" in p for p in err.value.problems), err.value.problems


def test_two_courses_may_use_one_function_name(tmp_path: Path) -> None:
    answers = []
    for factor in (2, 3):
        folder = tmp_path / f"course{factor}"
        folder.mkdir()
        (folder / "refs.py").write_text(REFERENCES.replace("p.inputs * p.outputs", f"{factor} * p.inputs"))
        (folder / "hw.yaml").write_text(BASE.format(
            top="references: [refs.py]\n",
            question="    reference: {function: dense_params, params: {inputs: 5, outputs: 1, bias: false}}\n"))
        rubric = load_rubric(folder / "hw.yaml", compute_references=True).rubric
        answers.append(rubric.questions[0].reference_answer(rubric.context()))  # type: ignore[union-attr]
    assert answers == [10, 15]


def test_an_edited_references_file_changes_the_rubric_hash(tmp_path: Path) -> None:
    (tmp_path / "refs.py").write_text(REFERENCES)
    rubric = tmp_path / "hw.yaml"
    question = "    reference: {function: dense_params, params: {inputs: 5, outputs: 1}}\n"
    rubric.write_text(BASE.format(top="references: [refs.py]\n", question=question))
    before = load_rubric(rubric).sha256
    (tmp_path / "refs.py").write_text(REFERENCES + "\n# edited\n")
    rubric.write_text(rubric.read_text() + "\n")  # a new mtime for the loader's cache
    assert load_rubric(rubric).sha256 != before


LITERALS = [
    ("number", "kind: number\n    answer: '2,048'", "2048", "correct"),
    ("number-wrong", "kind: number\n    answer: 2048", "2047", "incorrect"),
    ("choice", "kind: choice\n    options: [a, b]\n    parts: 2\n    answer: [a, b]", "[A, b]", "correct"),
    ("interval", "kind: interval\n    answer: '[0, inf)'", "'[0, inf)'", "correct"),
    ("edges", "kind: edges\n    nodes: [a, b, c]\n    answer: ['a -> b', 'b -> c']", "['b -> c', 'a -> b']", "correct"),
    ("expression", "kind: expression\n    answer: 'sigma(x)*(1-sigma(x))'", "'σ(x) - σ(x)^2'", "correct"),
    ("matrix", "kind: matrix_expression\n    reference: {params: {symbols: {A: [2, 3], B: [3, 2]}}}\n"
               "    answer: 'A @ B'", "'B.T @ A.T'", "incorrect"),
]


@pytest.mark.parametrize(("name", "question", "student", "status"), LITERALS, ids=[c[0] for c in LITERALS])
def test_literal_answers_grade(tmp_path: Path, name: str, question: str, student: str, status: str) -> None:
    from grader.core.grading import grade_path

    rubric = tmp_path / "lit.yaml"
    rubric.write_text(f"assignment: lit\nquestions:\n  - id: q\n    points: 1\n    {question}\n")
    (tmp_path / "answers.yaml").write_text(f"q: {student}\n")
    report = grade_path(load_rubric(rubric, compute_references=True), tmp_path / "answers.yaml")
    assert report.questions[0].status == status


# --- grader new ---------------------------------------------------------------------------------------


def test_grader_new_scaffolds_a_course_that_validates_and_grades_its_example(tmp_path: Path) -> None:
    made = run_grader("new", str(tmp_path / "course" / "hw1"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    rubric = tmp_path / "course" / "hw1.yaml"
    for name in ("references/hw1.py", "solutions/hw1_relu.py", "data/digits.npz", "README.md"):
        assert (tmp_path / "course" / name).is_file()
    assert list((tmp_path / "course" / "baselines").glob("*.json"))
    validate = run_grader("rubric", "validate", str(rubric), cwd=tmp_path)
    assert validate.returncode == 0, validate.stderr
    graded = run_grader("grade", str(tmp_path / "course" / "submissions" / "hw1" / "example"), "-a", str(rubric),
                        cwd=tmp_path)
    assert graded.returncode == 0, graded.stderr
    statuses = {q["id"]: q["status"] for q in json.loads(graded.stdout)["questions"]}
    kinds_left = {"q10_model": "missing", "q12_explain": "manual"}
    assert len(statuses) == 13  # one question or more of each kind
    assert statuses == {qid: kinds_left.get(qid, "correct") for qid in statuses}
    again = run_grader("new", str(tmp_path / "course" / "hw1"), cwd=tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr


def test_a_references_file_may_import_its_own_helpers(tmp_path: Path) -> None:
    (tmp_path / "course_helpers_of_mine.py").write_text("def square(n):\n    return n * n\n")
    (tmp_path / "refs.py").write_text(REFERENCES.replace(
        "from reference.registry import reference", "from course_helpers_of_mine import square\n"
        "from reference.registry import reference").replace("p.inputs * p.outputs", "square(p.inputs)"))
    rubric = tmp_path / "hw.yaml"
    rubric.write_text(BASE.format(top="references: [refs.py]\n", question="    reference: {function: dense_params, "
                                  "params: {inputs: 5, outputs: 1, bias: false}}\n    answer: 25\n"))
    assert load_rubric(rubric, compute_references=True).rubric.questions[0].answer == 25


def test_baselines_are_written_beside_a_course_rubric_and_never_into_the_package(
        graded: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.core.rubric import resolve_assignment
    from grader.models.baselines import SHIPPED_DIR, default_output_dir

    monkeypatch.delenv("GRADER_BASELINE_DIR", raising=False)
    load_rubric(graded["rubric"])
    built_in = default_output_dir(resolve_assignment("apl405-hw2"))
    assert built_in == Path("baselines") and built_in.resolve() != SHIPPED_DIR.resolve()
    assert default_output_dir(graded["rubric"]) == graded["rubric"].parent / "baselines"


def test_a_course_bundle_ships_no_course_code_and_checks_those_questions_for_form(
        graded: dict[str, Any], tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    made = run_grader("student-bundle", str(graded["rubric"]), "-o", str(bundle), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    shipped = "\n".join(p.read_text(errors="replace") for p in bundle.rglob("*") if p.is_file())
    assert "def dense_params" not in shipped and "def relu_backward" not in shipped
    assert not [p for p in bundle.rglob("*.py")]
    manifest = json.loads((bundle / "grader-bundle.json").read_text())
    policies = {q["id"]: q["self_check"] for q in manifest["questions"]}
    # the course's own reference, solution and model data stay with the instructor
    assert policies["q1_dense"] == policies["q8_code"] == policies["q9_model"] == "format"
    assert policies["q3_choice"] == "verdict"
    folder = graded["root"] / "class" / "correct"
    check = run_grader("check", str(folder / "answers.yaml"), "-a", str(bundle), cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    lines = {line.split()[1]: line for line in check.stdout.splitlines() if line and line[0] in "✓✗~!·?"}
    assert "readable" in lines["q1_dense"] and "correct" in lines["q3_choice"]
