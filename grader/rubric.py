"""Rubric files: YAML validated by pydantic, with errors that name the file, question and field."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from grader.builtins import builtin_names as builtin_names  # re-exported
from grader.builtins import resolve_assignment as resolve_assignment  # re-exported
from grader.builtins import rubrics_dir as rubrics_dir  # re-exported
from grader.checkers import Question
from grader.checkers.base import (
    Alternative,
    ComparedQuestion,
    GradingContext,
    QuestionBase,
    RubricModel,
    apply_overrides,
)

RUBRIC_SCHEMA_VERSION = 1
RUBRIC_SUFFIXES = (".yaml", ".yml", ".json")


class Rubric(RubricModel):
    schema_version: Literal[1] = 1
    assignment: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="the assignment's name")
    title: str = ""
    course: str = ""
    reveal_answers: bool = Field(False, description="show reference answers in feedback")
    salt: str | None = Field(None, description="seed of per-student variants (default: the assignment name)")
    student_bundle: bool = Field(
        False, description="written by `grader student-bundle`: a reduced rubric for self-checks only")
    references: list[str] = Field(default_factory=list, description="the course's own Python files of "
                                  "@reference functions, relative to the rubric (trusted like the rubric)")
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Rubric:
        seen: set[str] = set()
        for q in self.questions:
            if q.id in seen:
                raise ValueError(f"question id {q.id!r} appears twice")
            seen.add(q.id)
        return self

    @property
    def variant_salt(self) -> str:
        return self.salt if self.salt is not None else self.assignment

    def context(self, student: str | None = None, **fields: Any) -> GradingContext:
        """A grading context for one student of this rubric."""
        return GradingContext(submission_root=fields.pop("submission_root", None), student=student or "",
                              reveal_answers=self.reveal_answers, salt=self.variant_salt, **fields)

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

    def question(self, question_id: str) -> QuestionBase:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)


class RubricError(Exception):
    """A rubric that cannot be used; `problems` are located, one per line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class LoadedRubric:
    rubric: Rubric
    path: Path
    sha256: str


# --- loading with located errors ------------------------------------------------------------------


def load_rubric(path: Path, *, compute_references: bool = False) -> LoadedRubric:
    stat = path.stat()
    return _load_cached(path.resolve(), stat.st_mtime_ns, stat.st_size, compute_references)


@lru_cache(maxsize=32)
def _load_cached(path: Path, _mtime: int, _size: int, compute_references: bool) -> LoadedRubric:
    text = path.read_text(encoding="utf-8")
    data, course_digests = _prepare_course(path, _parse_text(path, text))
    data, text = _resolve_extends(path, data, text)
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as err:
        raise RubricError(path, _locate_errors(path, text, data, err)) from None
    problems = check_references(rubric, compute=compute_references)
    if problems:
        raise RubricError(path, [f"{path}: {p}" for p in problems])
    return LoadedRubric(rubric, path, hashlib.sha256((text + course_digests).encode()).hexdigest())


MAX_EXTENDS_DEPTH = 4


def _resolve_extends(path: Path, data: Any, text: str, depth: int = 0) -> tuple[Any, str]:
    """`extends: <built-in or path>` plus `overrides: {question id: {field: value}}`, merged deeply.
    The returned text (for the hash) includes every base file."""
    if not isinstance(data, dict) or "extends" not in data:
        return data, text
    if depth >= MAX_EXTENDS_DEPTH:
        raise RubricError(path, [f"{path}: field extends: chains deeper than {MAX_EXTENDS_DEPTH} rubrics"])
    base_name = str(data["extends"])
    local = path.parent / base_name
    try:
        base_path = local if local.is_file() else resolve_assignment(base_name)
    except FileNotFoundError as err:
        raise RubricError(path, [f"{path}: field extends: {err}"]) from None
    base_text = base_path.read_text(encoding="utf-8")
    base_data, base_digests = _prepare_course(base_path, _parse_text(base_path, base_text))
    base, base_text = _resolve_extends(base_path, base_data, base_text + base_digests, depth + 1)
    overrides = data.get("overrides") or {}
    questions = base.get("questions", []) if isinstance(base, dict) else []
    unknown = sorted(set(overrides) - {q.get("id") for q in questions if isinstance(q, dict)})
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise RubricError(path, [f"{path}: field overrides: no question {names} in {base_name}"])
    merged = {**base, **{k: v for k, v in data.items() if k not in ("extends", "overrides")}}
    merged["questions"] = [_deep_merge(q, overrides.get(q.get("id"), {})) for q in questions]
    return merged, base_text + "\n---\n" + text


def _prepare_course(path: Path, data: Any) -> tuple[Any, str]:
    """The rubric's own files (references, solutions, data) loaded and resolved (grader.course),
    and their digests for the rubric's hash."""
    from grader.course import CourseError, prepare

    try:
        return prepare(path, data)
    except CourseError as err:
        raise RubricError(path, err.problems) from None


def _deep_merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: _deep_merge(base.get(k), v) for k, v in override.items()}}
    return override


def _parse_text(path: Path, text: str) -> Any:
    try:
        if path.suffix == ".json":
            return json.loads(text)
        loader = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader
        return yaml.load(text, Loader=loader)  # safe: a SafeLoader
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise RubricError(path, [f"{where}: not valid YAML: {err.problem}"]) from None
    except (yaml.YAMLError, json.JSONDecodeError) as err:
        raise RubricError(path, [f"{path}: cannot be read: {err}"]) from None


def _locate_errors(path: Path, text: str, data: Any, err: ValidationError) -> list[str]:
    root = _compose(text) if path.suffix != ".json" else None
    problems = []
    for e in err.errors():
        keys = _data_path(data, e["loc"])
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            keys.append("kind")
        line = _line_of(root, keys)
        where = f"{path}:{line}" if line else str(path)
        problems.append(f"{where}: {_describe_loc(data, keys)}: {e['msg']}")
    return problems


def _data_path(data: Any, loc: tuple[Any, ...]) -> list[str | int]:
    """The pydantic location with union tags (not keys of the data) dropped."""
    keys: list[str | int] = []
    node = data
    for part in loc:
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            keys.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part == loc[-1] and "[" not in part:
            keys.append(part)  # a missing field: name it
    return keys


def _describe_loc(data: Any, keys: list[str | int]) -> str:
    if len(keys) >= 2 and keys[0] == "questions" and isinstance(keys[1], int):
        question = data["questions"][keys[1]]
        qid = question.get("id", "?") if isinstance(question, dict) else "?"
        field = ".".join(str(k) for k in keys[2:]) or "(the question)"
        return f"question {qid!r} (questions[{keys[1]}]), field {field}"
    return "field " + (".".join(str(k) for k in keys) or "(top level)")


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _line_of(node: yaml.Node | None, keys: list[str | int]) -> int | None:
    line = None
    for key in keys:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            node = None
    return node.start_mark.line + 1 if node is not None else line


# --- references -----------------------------------------------------------------------------------


def check_references(rubric: Rubric, *, compute: bool) -> list[str]:
    """Every reference function exists and accepts its params (and, if asked, computes)."""
    from reference import get_reference

    problems = []
    ctx = rubric.context()
    for index, q in enumerate(rubric.questions):
        where = f"question {q.id!r} (questions[{index}]), field reference"
        if not isinstance(q, ComparedQuestion):
            problems += [f"question {q.id!r} (questions[{index}]): {p}" for p in q.rubric_problems(compute)]
            continue
        try:
            ref = get_reference(q.reference.function)
        except KeyError as err:
            problems.append(f"{where}.function: {err.args[0]}")
            continue
        variants: list[tuple[str, Alternative | None]] = [("params", None)]
        variants += [(f"accepted.{a.name}", a) for a in q.accepted]
        variants += [(f"known_mistakes.{a.name}", a) for a in q.known_mistakes]
        found = [p for label, alt in variants for p in _check_variant(q, ref, label, alt, ctx, where, compute)]
        problems += found
        if compute and not found:
            from grader.course import literal_answer_problems

            problems += [f"question {q.id!r} (questions[{index}]), field answer: {p}"
                         for p in literal_answer_problems(q, ctx)]
    return problems


SAMPLE_STUDENTS = ("", *(f"sample-{i}" for i in range(1, 20)))


def _check_variant(
    q: ComparedQuestion[Any], ref: Any, label: str, alt: Alternative | None,
    ctx: GradingContext, where: str, compute: bool,
) -> list[str]:
    try:
        if alt is not None and alt.params is None:
            q.parse(alt.value)
            return []
        overrides = alt.params if alt and alt.params else {}
        ref.validate(apply_overrides(q.reference.params, overrides))
        students = SAMPLE_STUDENTS if compute and q.randomise is not None else ("",) if compute else ()
        for student in students:
            ctx.student = student
            q.expected_value(ctx, overrides)
    except ValidationError as err:
        return [f"{where} ({label}): {e['loc']}: {e['msg']}" for e in err.errors()]
    except Exception as err:  # a reference that cannot compute is a rubric error, located
        return [f"{where} ({label}): {type(err).__name__}: {err}"]
    return []


def rubric_json_schema() -> dict[str, Any]:
    """The JSON Schema of a rubric file, with the reference function names listed."""
    from reference import reference_names

    schema = Rubric.model_json_schema()
    spec = schema.get("$defs", {}).get("ReferenceSpec", {})
    if "properties" in spec:
        spec["properties"]["function"]["enum"] = reference_names()
    schema["$id"] = "https://nn-grader.invalid/rubric.schema.json"
    schema["title"] = "grader rubric"
    return schema
