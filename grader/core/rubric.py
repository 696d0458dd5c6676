"""Rubric files: YAML validated by pydantic, with errors that name the file, question and field."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ConfigDict, Field, ValidationError, create_model, model_validator

from grader import __version__
from grader.checkers import KINDS, question_union
from grader.checkers.base import (
    REVALIDATION,
    Alternative,
    ComparedQuestion,
    GradingContext,
    QuestionBase,
    RubricModel,
)
from grader.core.builtins import builtin_names as builtin_names  # re-exported
from grader.core.builtins import resolve_assignment as resolve_assignment  # re-exported
from grader.core.builtins import rubrics_dir as rubrics_dir  # re-exported
from grader.core.variants import override_params

RUBRIC_SCHEMA_VERSION = 1
RUBRIC_SUFFIXES = (".yaml", ".yml", ".json")


class Rubric(RubricModel):
    """A rubric. `questions` is typed by the kinds a file uses: validate with
    `rubric_model(kinds)`, whose `questions` is the discriminated union of those kinds."""

    model_config = ConfigDict(defer_build=True)

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
    questions: list[QuestionBase] = Field(min_length=1)

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
    resolved = path.resolve()
    try:
        return _load_cached(resolved, stat.st_mtime_ns, stat.st_size, compute_references)
    except RubricError as err:  # located as the user named the file
        problems = [p.replace(str(resolved), str(path), 1) for p in err.problems]
        raise RubricError(path, problems) from None


@lru_cache(maxsize=32)
def _load_cached(path: Path, _mtime: int, _size: int, compute_references: bool) -> LoadedRubric:
    from grader.core import rubric_cache as rubriccache

    text = path.read_text(encoding="utf-8")
    entry = None if compute_references else rubriccache.entry_path(path, text)
    cached = rubriccache.read(entry) if entry is not None else None
    if cached is not None:
        try:
            rubric = rubric_model(set(cached.kinds)).model_validate(cached.rubric, context=REVALIDATION)
            return LoadedRubric(rubric, path, cached.sha256)
        except ValidationError:  # written by another version of a kind: load anew
            pass
    sources = {str(path): _sha256(text)}
    data, course_digests = _prepare_course(path, _parse_text(path, text))
    data, text = _resolve_extends(path, data, text, sources)
    kinds = kinds_used(data)
    try:
        rubric = rubric_model(kinds).model_validate(data)
    except ValidationError as err:
        raise RubricError(path, _locate_errors(path, text, data, err)) from None
    problems = reference_problems(rubric, compute=compute_references)
    if problems:
        raise RubricError(path, _locate_problems(path, text, data, problems))
    loaded = LoadedRubric(rubric, path, _sha256(text + course_digests))
    # a course's own Python files are loaded on every load, never skipped by a cache hit
    if entry is not None and kinds is not None and not course_digests and not _has_course(sources):
        rubriccache.write(entry, rubriccache.CachedRubric(
            grader_version=__version__, kinds=sorted(kinds), sources=sources, sha256=loaded.sha256,
            rubric=rubric.model_dump(mode="json", exclude_unset=True)))
    return loaded


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


COURSE_SOURCE = "course:"  # a `sources` key: a rubric in the extends chain loads a course's own Python


def _has_course(sources: dict[str, str]) -> bool:
    return any(key.startswith(COURSE_SOURCE) for key in sources)


def kinds_used(data: Any) -> frozenset[str] | None:
    """The question kinds a rubric's data names, or None when one is missing or unknown."""
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list) or not questions:
        return None
    kinds = [q.get("kind") if isinstance(q, dict) else None for q in questions]
    known = [k for k in kinds if isinstance(k, str) and k in KINDS]
    return frozenset(known) if len(known) == len(kinds) else None


def rubric_model(kinds: set[str] | frozenset[str] | None) -> type[Rubric]:
    """The rubric model whose questions are the union of these kinds (None: every kind)."""
    return _rubric_model(question_union(kinds))


@cache
def _rubric_model(union: Any) -> type[Rubric]:
    model: type[Rubric] = create_model(
        "Rubric", __base__=Rubric, __module__=__name__,
        questions=(list[union], Field(min_length=1)),
    )
    return model


MAX_EXTENDS_DEPTH = 4


def _resolve_extends(
    path: Path, data: Any, text: str, sources: dict[str, str], depth: int = 0,
) -> tuple[Any, str]:
    """`extends: <built-in or path>` plus `overrides: {question id: {field: value}}`, merged deeply.
    The returned text (for the hash) includes every base file; `sources` gets each file's hash."""
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
    sources[str(base_path.resolve())] = _sha256(base_text)
    base_data, base_digests = _prepare_course(base_path, _parse_text(base_path, base_text))
    if base_digests:
        sources[COURSE_SOURCE + str(base_path.resolve())] = _sha256(base_digests)
    base, base_text = _resolve_extends(base_path, base_data, base_text + base_digests, sources, depth + 1)
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
    """The rubric's own files (references, solutions, data) loaded and resolved (grader.core.course),
    and their digests for the rubric's hash."""
    from grader.core.course import CourseError, prepare

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
        context = e.get("ctx") or {}
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            keys.append(str(context.get("discriminator", "kind")).strip("'"))
        line = _line_of(root, keys)
        where = f"{path}:{line}" if line else str(path)
        problems.append(f"{where}: {_describe_loc(data, keys)}: {_message(e['type'], e['msg'], context)}")
    return problems


def _message(error_type: str, message: str, context: dict[str, Any]) -> str:
    """pydantic's message, with the choices of a tagged union said plainly."""
    if error_type == "union_tag_invalid":
        return f"{context.get('tag')!r} is not one of {context.get('expected_tags')}"
    if error_type == "union_tag_not_found":
        if str(context.get("discriminator")).strip("'") == "kind":
            return "Field required: one of " + ", ".join(repr(k) for k in KINDS)
        return "Field required"
    return message.removeprefix("Value error, ")


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
        question = _at(data, keys[:2])
        qid = question.get("id", "?") if isinstance(question, dict) else "?"
        field = _field_name(question, keys[2:]) or "(the question)"
        return f"question {qid!r} (questions[{keys[1]}]), field {field}"
    return "field " + (_field_name(data, keys) or "(top level)")


def _field_name(node: Any, keys: list[str | int]) -> str:
    """Dotted keys, an entry of a list of named things (known mistakes, rules) by its name."""
    parts = []
    for key in keys:
        child = _at(node, [key])
        named = isinstance(key, int) and isinstance(child, dict) and isinstance(child.get("name"), str)
        parts.append(child["name"] if named else str(key))
        node = child
    return ".".join(parts)


def _at(node: Any, keys: list[str | int]) -> Any:
    for key in keys:
        in_list = isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)
        if in_list or (isinstance(node, dict) and key in node):
            node = node[key]
        else:
            return None
    return node


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


Located = tuple[list[str | int], str]  # keys into the rubric data, message


def reference_problems(rubric: Rubric, *, compute: bool) -> list[Located]:
    """Every reference function exists and accepts its params (and, if asked, computes); each
    problem with its keys into the rubric data (for line numbers)."""
    from reference import get_reference

    problems: list[Located] = []
    ctx = rubric.context()
    for index, q in enumerate(rubric.questions):
        here: list[str | int] = ["questions", index]
        if not isinstance(q, ComparedQuestion):
            problems += [(here, p) for p in q.rubric_problems(compute)]
            continue
        try:
            ref = get_reference(q.reference.function)
        except KeyError as err:
            problems.append(([*here, "reference", "function"], str(err.args[0])))
            continue
        variants: list[tuple[list[str | int], Alternative | None]] = [([*here, "reference"], None)]
        variants += [([*here, "accepted", i], a) for i, a in enumerate(q.accepted)]
        variants += [([*here, "known_mistakes", i], a) for i, a in enumerate(q.known_mistakes)]
        found = [p for keys, alt in variants for p in _check_variant(q, ref, keys, alt, ctx, compute)]
        problems += found
        if compute and not found:
            from grader.core.course import literal_answer_problems

            problems += [([*here, "answer"], p) for p in literal_answer_problems(q, ctx)]
    return problems


SAMPLE_STUDENTS = ("", *(f"sample-{i}" for i in range(1, 20)))


def _check_variant(
    q: ComparedQuestion[Any], ref: Any, keys: list[str | int], alt: Alternative | None,
    ctx: GradingContext, compute: bool,
) -> list[Located]:
    try:
        if alt is not None and alt.params is None:
            q.parse(alt.value)
            return []
        overrides = alt.params if alt and alt.params else {}
        ref.validate(override_params(q.reference.params, overrides))
        students = SAMPLE_STUDENTS if compute and q.randomise is not None else ("",) if compute else ()
        for student in students:
            ctx.student = student
            q.expected_value(ctx, overrides)
    except ValidationError as err:
        located: list[Located] = []
        for e in err.errors():
            param = [str(part) for part in e["loc"]]
            where = [*keys, "params", *([".".join(param)] if alt else param)]  # overrides are dotted
            located.append((where, _param_message(e["type"], e["msg"], param, ref, q.reference.function)))
        return located
    except Exception as err:  # a reference that cannot compute is a rubric error, located
        return [(keys, f"{type(err).__name__}: {err}")]
    return []


def _param_message(error_type: str, message: str, param: list[str], ref: Any, function: str) -> str:
    """pydantic's message about a reference parameter, in the rubric writer's terms."""
    if error_type != "extra_forbidden" or len(param) != 1:
        return f"{message} (reference {function!r})"
    import difflib

    known = sorted(getattr(ref.params_model, "model_fields", {}))
    close = difflib.get_close_matches(param[0], known, n=1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"{param[0]!r} is not a parameter of {function} ({guess}it takes {', '.join(known)})"


def _locate_problems(path: Path, text: str, data: Any, problems: list[Located]) -> list[str]:
    root = _compose(text) if path.suffix != ".json" else None
    located = []
    for keys, message in problems:
        if len(keys) == 2:  # a kind's own check, written "field a.b: ...": found by its field
            field = message.removeprefix("field ").split(":", 1)[0] if message.startswith("field ") else ""
            line = _line_of(root, [*keys, *field.split(".")] if field else keys)
            where = f"{path}:{line}" if line else str(path)
            located.append(f"{where}: {_describe_loc(data, keys).removesuffix(', field (the question)')}: {message}")
            continue
        line = _line_of(root, keys)
        where = f"{path}:{line}" if line else str(path)
        located.append(f"{where}: {_describe_loc(data, keys)}: {message}")
    return located


def rubric_json_schema() -> dict[str, Any]:
    """The JSON Schema of a rubric file, with the reference function names listed."""
    from reference import reference_names

    schema = rubric_model(None).model_json_schema()
    spec = schema.get("$defs", {}).get("ReferenceSpec", {})
    if "properties" in spec:
        spec["properties"]["function"]["enum"] = reference_names()
    schema["$id"] = "https://nn-grader.invalid/rubric.schema.json"
    schema["title"] = "grader rubric"
    return schema
