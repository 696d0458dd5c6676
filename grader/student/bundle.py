"""`grader student-bundle`: what students get for self-checking (the instructor/student split of
Otter's `assign`, for rubrics).

A bundle is a folder (or a .zip of one) holding
- `grader-bundle.json`: the manifest (schema version, assignment, what each question reveals);
- `rubric.json`: a reduced rubric (`student_bundle: true`) that `grader check -a BUNDLE` grades with;
- `answers-template.yaml` and `questions.md`: the template and the question texts.

Per question, by its `self_check` policy:
- `verdict`: the question as the instructor wrote it (its params, accepted conventions and named
  mistakes compute the verdict), less hidden code cases; a model question whose data are the
  course's own files is checked for format only (the held-out data never ship);
- `format` / `none` (hidden questions are `format` at most): a `self_check_format` question with the
  kind, its reading settings and a neutral hint; no reference, params, conventions or mistakes.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from grader.checkers.base import QuestionBase
from grader.checkers.format_only import FormatOnlyQuestion
from grader.checkers.hints import hint_for
from grader.core.rubric import LoadedRubric, Rubric, kinds_used, rubric_model
from grader.student.bundle_files import MANIFEST, RUBRIC
from grader.student.template import question_text, render_template

BUNDLE_SCHEMA_VERSION = 1
TEMPLATE = "answers-template.yaml"
QUESTIONS = "questions.md"

# What reading an answer needs, per kind (never a reference's answer-bearing params).
_READER_FIELDS: dict[str, tuple[str, ...]] = {
    "choice": ("options", "parts", "aliases"),
    "edges": ("nodes", "aliases"),
    "expression": ("variables", "definitions", "aliases"),
    "threshold_network": ("arrays",),
}
_READER_PARAMS: dict[str, tuple[str, ...]] = {
    "matrix_expression": ("dims", "symbols", "definitions", "functions", "one_hot", "aliases"),
    "threshold_network": ("inputs", "hidden_units", "threshold"),
}


class BundleError(ValueError):
    """The bundle cannot be made as asked (a usage error)."""


class BundleQuestion(BaseModel):
    id: str
    kind: str
    self_check: str
    hidden: bool


class BundleManifest(BaseModel):
    schema_version: int = BUNDLE_SCHEMA_VERSION
    kind: str = "grader-student-bundle"
    assignment: str
    title: str = ""
    student: str | None = None
    questions: list[BundleQuestion]


def effective_policy(q: QuestionBase) -> str:
    """The policy the bundle applies: verdict questions that need instructor data become format."""
    policy = q.self_check_policy
    if policy != "verdict":
        return policy
    if _uses_course_code(q):
        return "format"
    data = getattr(q, "data", None)
    if q.kind == "model" and data is not None and data.source != "embedded-digits":
        return "format"
    cases = getattr(q, "cases", None)
    if q.kind == "code" and cases is not None and all(c.hidden for c in cases):
        return "format"
    return "verdict"


def _uses_course_code(q: QuestionBase) -> bool:
    """Its reference, solution or baseline recipe is the course's own Python (grader.core.course names
    those `name@digest`): the bundle never ships that code, which computes the answers, so such a
    question can only be checked for form."""
    functions = [getattr(getattr(q, field, None), "function", None) for field in ("reference", "baseline")]
    return any(isinstance(f, str) and "@" in f for f in functions)


def reduced_rubric(rubric: Rubric, student: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The bundle's rubric as data, and each question's text as the student reads it."""
    randomised_secret = [q.id for q in rubric.questions
                         if q.randomise is not None and effective_policy(q) != "verdict"]
    if randomised_secret and student is None:
        raise BundleError(
            f"question(s) {', '.join(randomised_secret)} are randomised and their self-check reveals no "
            "verdict, so their numbers cannot ship in a shared bundle: make one bundle per student "
            "with --student ID")
    ctx = rubric.context(student)
    texts = {q.id: t for q in rubric.questions if (t := question_text(q, ctx))}
    questions = [_reduced_question(q, ctx, texts.get(q.id)) for q in rubric.questions]
    # a course's own Python (`references:`) computes answers: it stays with the instructor
    data = rubric.model_dump(mode="json", exclude_none=True, exclude={"questions", "references"})
    data.update(student_bundle=True, questions=questions)
    return data, texts


def _reduced_question(q: QuestionBase, ctx: Any, text: str | None) -> dict[str, Any]:
    policy = effective_policy(q)
    if policy == "verdict":
        data = q.model_dump(mode="json", exclude_none=True)
        if q.kind == "code":
            data["cases"] = [c for c in data["cases"] if not c.get("hidden")]
        return data
    full = q.model_dump(mode="json", exclude_none=True)
    reader = {k: full[k] for k in _READER_FIELDS.get(q.kind, ()) if k in full}
    params = q.reference_params_for(ctx) if q.kind in _READER_PARAMS else {}
    kept = {k: params[k] for k in _READER_PARAMS.get(q.kind, ()) if k in params}
    if kept:
        reader["reference_params"] = kept
    hint = hint_for(q, ctx).text
    question = FormatOnlyQuestion(
        id=q.id, points=q.points, title=q.title, text=text, hidden=q.hidden,
        self_check=policy, answer_kind=q.kind, reader=reader, hint=hint,
    )
    return question.model_dump(mode="json", exclude_none=True)


def write_bundle(loaded: LoadedRubric, out: Path, student: str | None = None) -> Path:
    """Write the bundle to the folder `out`, or to a zip when `out` ends in .zip."""
    rubric = loaded.rubric
    if rubric.student_bundle:
        raise BundleError(f"{loaded.path} is already a student bundle")
    data, texts = reduced_rubric(rubric, student)
    reduced = rubric_model(kinds_used(data)).model_validate(data)
    manifest = BundleManifest(
        assignment=rubric.assignment, title=rubric.title, student=student,
        questions=[BundleQuestion(id=q.id, kind=q.kind, self_check=effective_policy(q), hidden=q.hidden)
                   for q in rubric.questions])
    files = {
        MANIFEST: manifest.model_dump_json(indent=2),
        RUBRIC: json.dumps(data, indent=2, ensure_ascii=False),
        TEMPLATE: _template(reduced, student, out),
        QUESTIONS: _questions_markdown(rubric, texts),
    }
    if out.suffix == ".zip":
        return _write_zip(files, out)
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (out / name).write_text(content + "\n", encoding="utf-8")
    return out


def _template(reduced: Rubric, student: str | None, out: Path) -> str:
    randomised = any(q.randomise is not None for q in reduced.questions)
    if randomised and student is None:
        return (f"# {reduced.assignment} gives every student their own numbers: make your template with\n"
                f"#   grader template {out.name} --student YOUR_ID\n# from the folder that holds this bundle.")
    return render_template(reduced, student, check_with=out.name)


def _questions_markdown(rubric: Rubric, texts: dict[str, str]) -> str:
    lines = [f"# {rubric.title or rubric.assignment}", ""]
    for q in rubric.questions:
        lines += [f"## {q.title or q.id} ({q.points:g} points)", "", f"Answer id: `{q.id}`", ""]
        if q.id in texts:
            lines += [texts[q.id], ""]
    return "\n".join(lines)


def _write_zip(files: dict[str, str], out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(f"{out.stem}/{name}", content + "\n")
    tmp.replace(out)
    return out


# --- reading a bundle back -----------------------------------------------------------------------



