"""Course folders: a rubric outside the package with the instructor's own Python and data beside it.

A rubric may list `references:` (Python files declaring reference functions with the same
`@reference` decorator and params models as `reference/`), give a code question a `solution:`
(`solutions/softmax.py:softmax_grad`, run like a reference on the drawn inputs) and point a model
question's `data.path` at a file next to it. Every path is relative to the rubric file.

These files are the instructor's, trusted like the rubric itself: they are imported into the
grader's process. Student code never comes through here (it runs in the sandbox). A course's
functions are registered under names qualified by a digest of their file (`my_ref@1a2b3c4d`), so
two courses may both define `my_ref`, and an edited file never reads a cached answer of the old one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ConfigDict

from reference.registry import ReferenceFunction, collecting, module_of, register_loaded

SOLUTION_SEPARATOR = ":"


class CourseError(Exception):
    """Problems with a rubric's own files, each naming the rubric and the field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class CourseFiles:
    """What preparing one rubric loaded: plain name -> qualified name, and the files' digests."""

    rubric: Path
    names: dict[str, str] = field(default_factory=dict)
    digests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def problem(self, where: str, text: str) -> None:
        self.problems.append(f"{self.rubric}: {where}: {text}")


def prepare(path: Path, data: Any) -> tuple[Any, str]:
    """The rubric data with the course's functions registered and its paths resolved, and text
    that stands for the course files in the rubric's hash. Raises CourseError."""
    if not isinstance(data, dict):
        return data, ""
    course = CourseFiles(path)
    references = data.get("references") or []
    if not isinstance(references, list):
        course.problem("field references", "must be a list of Python files")
        references = []
    for index, relative in enumerate(references):
        _load_references(course, index, relative)
    questions = data.get("questions")
    if isinstance(questions, list):
        data = {**data, "questions": [_prepare_question(course, i, q) for i, q in enumerate(questions)]}
        _register_baselines(path, questions)
    if course.problems:
        raise CourseError(course.problems)
    return data, "".join(f"\n--- {d}" for d in course.digests)


# --- instructor files -----------------------------------------------------------------------------


_MODULES: dict[str, tuple[ModuleType, dict[str, ReferenceFunction[Any]]]] = {}


def _import_file(file: Path) -> tuple[ModuleType, dict[str, ReferenceFunction[Any]], str]:
    """Import an instructor's Python file once per content; the reference functions it declares."""
    content = file.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    if digest not in _MODULES:
        name = f"grader_course_{digest[:16]}_{_identifier(file.stem)}"
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise ImportError(f"{file} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # pydantic resolves the module's annotations through it
        sys.path.insert(0, str(file.parent))  # the course's own helper modules beside it
        try:
            with collecting() as found:
                spec.loader.exec_module(module)  # safe: the instructor's own file, trusted like the rubric
        except BaseException:
            del sys.modules[name]
            raise
        finally:
            sys.path.remove(str(file.parent))
        _MODULES[digest] = (module, found)
    module, found = _MODULES[digest]
    return module, found, digest


def _identifier(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def _course_file(course: CourseFiles, where: str, relative: Any) -> Path | None:
    if not isinstance(relative, str) or not relative.strip():
        course.problem(where, "must be a path relative to the rubric")
        return None
    file = (course.rubric.parent / relative).resolve()
    if not file.is_file():
        course.problem(where, f"{relative!r} is not a file (looked for {file})")
        return None
    return file


def _load_references(course: CourseFiles, index: int, relative: Any) -> None:
    where = f"field references[{index}]"
    file = _course_file(course, where, relative)
    if file is None:
        return
    try:
        _, found, digest = _import_file(file)
    except Exception as err:  # the instructor's file: its failure is a located rubric error
        course.problem(where, f"{relative} cannot be imported: {type(err).__name__}: {err}")
        return
    if not found:
        course.problem(where, f"{relative} declares no @reference function")
    course.digests.append(f"{relative} {digest}")
    for name, ref in found.items():
        if module_of(name) is not None:
            course.problem(where, f"{relative} declares {name!r}, a built-in reference name; choose another")
        elif name in course.names:
            course.problem(where, f"{relative} declares {name!r} a second time")
        else:
            qualified = f"{name}@{digest[:8]}"
            register_loaded(ReferenceFunction(qualified, ref.params_model, ref.compute_fn, ref.doc))
            course.names[name] = qualified


class SolutionArgs(BaseModel):
    """A solution's arguments: the drawn inputs and any params, passed by name."""

    model_config = ConfigDict(extra="allow", frozen=True, arbitrary_types_allowed=True)


def _solution_reference(course: CourseFiles, where: str, text: Any) -> str | None:
    """Register `file.py:function` as a reference function; its qualified name."""
    if not isinstance(text, str) or SOLUTION_SEPARATOR not in text:
        course.problem(where, "write it as path/to/file.py:function_name")
        return None
    relative, function = text.rsplit(SOLUTION_SEPARATOR, 1)
    file = _course_file(course, where, relative)
    if file is None:
        return None
    try:
        module, _, digest = _import_file(file)
    except Exception as err:  # the instructor's file: its failure is a located rubric error
        course.problem(where, f"{relative} cannot be imported: {type(err).__name__}: {err}")
        return None
    solution = getattr(module, function, None)
    if not callable(solution):
        course.problem(where, f"{relative} has no function {function!r}")
        return None
    qualified = f"{function}@{digest[:8]}"
    course.digests.append(f"{text} {digest}")

    def run(args: SolutionArgs) -> Any:
        return solution(**(args.model_extra or {}))

    register_loaded(ReferenceFunction(qualified, SolutionArgs, run, (solution.__doc__ or "").strip()))
    return qualified


# --- rewriting the rubric's questions -------------------------------------------------------------


def _prepare_question(course: CourseFiles, index: int, question: Any) -> Any:
    if not isinstance(question, dict):
        return question
    question = _rename(question, course.names)
    where = f"question {question.get('id', '?')!r} (questions[{index}]), field"
    if question.get("kind") == "code" and "solution" in question:
        if "reference" in question:
            course.problem(f"{where} solution", "give either `solution` or `reference`, not both")
            return question
        qualified = _solution_reference(course, f"{where} solution", question["solution"])
        if qualified is not None:
            question = {**question, "reference": {"function": qualified, "params": {}}}
    data = question.get("data")
    if question.get("kind") == "model" and isinstance(data, dict) and isinstance(data.get("path"), str):
        local = course.rubric.parent / data["path"]
        if not Path(data["path"]).is_absolute() and local.exists():
            question = {**question, "data": {**data, "path": str(local.resolve())}}
    return question


_FUNCTION_KEYS = {"reference": "function", "baseline": "function", "gradient_check": "loss"}


def _rename(question: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The course's own function names replaced by their qualified names."""
    if not names:
        return question
    renamed = dict(question)
    for key, name_field in _FUNCTION_KEYS.items():
        spec = question.get(key)
        if isinstance(spec, dict) and isinstance(spec.get(name_field), str) and spec[name_field] in names:
            renamed[key] = {**spec, name_field: names[spec[name_field]]}
    return renamed


def course_baselines(rubric: Path) -> Path | None:
    """Where a course rubric's baseline records live (None for a built-in rubric)."""
    from grader.core.builtins import rubrics_dir

    folder = rubric.resolve().parent
    return None if folder == rubrics_dir().resolve() else folder / "baselines"


def _register_baselines(path: Path, questions: list[Any]) -> None:
    """A course's model questions find (and `grader baseline` writes) records in `baselines/`."""
    folder = course_baselines(path)
    if folder is not None and any(isinstance(q, dict) and q.get("kind") == "model" for q in questions):
        from grader.models.baselines import add_course_dir

        add_course_dir(folder)


def plain_name(function: str) -> str:
    """A reference function's name as the rubric writes it."""
    return function.split("@", 1)[0]


# --- literal answers ------------------------------------------------------------------------------


def literal_answer_problems(question: Any, ctx: Any) -> list[str]:
    """A literal `answer:` given beside a computed reference must agree with it."""
    from grader.checkers.base import LITERAL
    from grader.parsing.errors import AnswerParseError

    if question.answer is None:
        return []
    if question.randomise is not None:
        return ["a literal answer cannot follow params drawn per student: remove `answer` or `randomise`"]
    if question.reference.function == LITERAL:
        return []
    try:
        written = question.parse(question.answer)
    except AnswerParseError as err:
        return [f"cannot be read: {err}"]
    ctx.student = ""
    computed = question.expected_value(ctx)
    if not question.equivalent(written, computed):
        return [f"{question.show(written)} differs from what {plain_name(question.reference.function)} "
                f"computes, {question.show(computed)}"]
    return []


# --- what travels with a rubric -------------------------------------------------------------------


def course_files(rubric: Path) -> list[Path]:
    """The files a rubric needs beside it, inside its folder: references, solutions, model data
    (a file, or an IDX folder's files) and `baselines/` records. For packages that carry the
    rubric to a grading machine (never to students: references and solutions are answers)."""
    import yaml

    try:
        data = yaml.safe_load(rubric.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return []
    if not isinstance(data, dict):
        return []
    folder = rubric.resolve().parent
    named = [r for r in data.get("references") or [] if isinstance(r, str)]
    questions = [q for q in data.get("questions") or [] if isinstance(q, dict)]
    named += [str(q["solution"]).rsplit(SOLUTION_SEPARATOR, 1)[0] for q in questions if q.get("solution")]
    named += [str(q["data"]["path"]) for q in questions
              if isinstance(q.get("data"), dict) and isinstance(q["data"].get("path"), str)]
    if any(q.get("kind") == "model" for q in questions):
        named.append("baselines")
    found: list[Path] = []
    for relative in named:
        path = (folder / relative).resolve()
        if folder not in path.parents:
            continue  # outside the course folder: it stays where it is
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            found.append(path)
    return list(dict.fromkeys(found))
