"""TA decisions: an overrides file applied to reports, the gradebook and the exports.

```yaml
overrides:
  - submission: alice          # one submission (or `submissions: [alice, bob]`)
    question: q1_proof
    score: 2
    comment: "clear induction argument"
  - question: q2_dL_dw3        # every submission whose answer is in this answer's group
    answer: 0.00143
    score: 5
    comment: "sign slip only; half marks"
```

A decision for a named submission wins over a group decision on the same question; among equals
the later entry wins. Applying is idempotent: the report keeps the grader's own verdict in
`automatic`, and applying starts again from it, so that editing or deleting an entry takes effect
on the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grader.batch.groups import same_answer
from grader.batch.identity import claimant, standings_of
from grader.core.report import AutomaticVerdict, OverrideRecord, Report, Status
from grader.core.rubric import Rubric


class OverrideEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    submission: str | None = None
    submissions: list[str] | None = None
    answer: Any = Field(None, description="targets the group of every answer equivalent to this one")
    score: float = Field(ge=0)
    comment: str = ""

    @model_validator(mode="after")
    def _one_target(self) -> OverrideEntry:
        given = [name for name in ("submission", "submissions", "answer") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `submission`, `submissions` or `answer`")
        return self

    def targets_group(self) -> bool:
        return self.answer is not None


class OverridesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overrides: list[OverrideEntry] = Field(default_factory=list)


class OverridesError(Exception):
    """The file cannot be used; `problems` name the file, the entry and its line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Decisions:
    entries: list[OverrideEntry]
    source: str


def load_overrides(path: Path) -> Decisions:
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise OverridesError([f"{where}: not valid YAML: {getattr(err, 'problem', err)}"]) from None
    if data is None:
        return Decisions([], str(path))
    if isinstance(data, list):
        data = {"overrides": data}
    try:
        parsed = OverridesFile.model_validate(data)
    except ValidationError as err:
        raise OverridesError(_locate(path, text, err)) from None
    return Decisions(parsed.overrides, str(path))


def _locate(path: Path, text: str, err: ValidationError) -> list[str]:
    lines = _entry_lines(text)
    problems = []
    for error in err.errors():
        loc = list(error["loc"])
        if len(loc) >= 2 and loc[0] == "overrides" and isinstance(loc[1], int):
            entry = loc[1]
            line = f":{lines[entry]}" if entry < len(lines) else ""
            field = ".".join(str(p) for p in loc[2:]) or "(the entry)"
            problems.append(f"{path}{line}: entry {entry + 1}, field {field}: {error['msg']}")
        else:
            problems.append(f"{path}: {'.'.join(str(p) for p in loc) or '(top level)'}: {error['msg']}")
    return problems


def _entry_lines(text: str) -> list[int]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if isinstance(node, yaml.MappingNode):
        node = next((v for k, v in node.value if k.value == "overrides"), None)
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


# --- applying -------------------------------------------------------------------------------------


def status_for(score: float, max_score: float) -> Status:
    if score >= max_score:
        return Status.CORRECT
    return Status.PARTIAL if score > 0 else Status.INCORRECT


def strip_overrides(report: Report) -> Report:
    """The report as the grader made it (a copy when it carried overrides, else itself)."""
    if report.automatic_score is None and all(q.automatic is None and q.override is None for q in report.questions):
        return report
    report = report.model_copy(deep=True)
    for result in report.questions:
        if result.automatic is not None:
            result.score = result.automatic.score
            result.status = result.automatic.status
            result.feedback = result.automatic.feedback
        result.automatic = None
        result.override = None
    if report.automatic_score is not None:
        report.score = report.automatic_score
    report.automatic_score = None
    return report


def apply_overrides(reports: list[Report], decisions: Decisions, rubric: Rubric) -> tuple[list[Report], list[str]]:
    """Reports with the decisions applied (the inputs are not changed), and the problems found:
    unknown questions or submissions, scores above the points, groups that match nobody."""
    fresh = [strip_overrides(r) for r in reports]
    chosen: dict[tuple[str, str], tuple[int, int, OverrideEntry]] = {}
    problems: list[str] = []
    handles = submission_handles(fresh)
    known = set(handles)
    for number, entry in enumerate(decisions.entries, start=1):
        where = f"{decisions.source}: entry {number}"
        targets = _targets(entry, list(zip(handles, fresh, strict=True)), rubric, known, where, problems)
        specificity = 0 if entry.targets_group() else 1
        for submission in targets:
            previous = chosen.get((submission, entry.question))
            if previous is None or (specificity, number) >= previous[:2]:
                chosen[(submission, entry.question)] = (specificity, number, entry)
    targeted = {submission for submission, _ in chosen}
    originals = {id(r) for r in reports}  # never change the caller's reports
    fresh = [_apply(r.model_copy(deep=True) if id(r) in originals else r, handle, chosen, decisions.source)
             if handle in targeted else r for handle, r in zip(handles, fresh, strict=True)]
    return fresh, problems


def submission_handles(reports: list[Report]) -> list[str]:
    """How an override names each report: its id, except a report whose id another submission
    owns (`grader.batch.identity`), named by where it was found (`zz_impostor.yaml`): a decision
    for `alice` never reaches a submission that merely claims to be alice."""
    return [r.submission if standing.owner else claimant(r).key
            for r, standing in zip(reports, standings_of(reports), strict=True)]


def _targets(
    entry: OverrideEntry, reports: list[tuple[str, Report]], rubric: Rubric, known: set[str], where: str,
    problems: list[str],
) -> list[str]:
    try:
        question = rubric.question(entry.question)
    except KeyError:
        problems.append(f"{where}: {rubric.assignment} has no question {entry.question!r}")
        return []
    if entry.score > question.points:
        problems.append(f"{where}: not applied: score {entry.score:g} is above the {question.points:g} points "
                        f"of {question.id}; give at most {question.points:g} (bonus points are not supported)")
        return []
    if entry.answer is not None:
        targets = [handle for handle, r in reports if _answer_of(r, question.id) is not None
                   and same_answer(question, _answer_of(r, question.id), entry.answer)]
        if not targets:
            problems.append(f"{where}: no submission answered {question.id} like {entry.answer!r}")
        return targets
    names = entry.submissions if entry.submissions is not None else [str(entry.submission)]
    for missing in [n for n in names if n not in known]:
        problems.append(f"{where}: no report for submission {missing!r}")
    return [n for n in names if n in known]


def _answer_of(report: Report, question_id: str) -> str | None:
    result = next((q for q in report.questions if q.id == question_id), None)
    if result is None or result.status in (Status.MISSING, Status.ERROR):
        return None
    return result.answer


def _apply(
    report: Report, handle: str, chosen: dict[tuple[str, str], tuple[int, int, OverrideEntry]], source: str,
) -> Report:
    applied = False
    for result in report.questions:
        decision = chosen.get((handle, result.id))
        if decision is None:
            continue
        _, number, entry = decision
        result.automatic = AutomaticVerdict(score=result.score, status=result.status, feedback=result.feedback)
        result.override = OverrideRecord(
            score=entry.score, comment=entry.comment, source=f"{source}: entry {number}",
            answer=None if entry.answer is None else str(entry.answer),
        )
        result.score = entry.score
        result.status = status_for(entry.score, result.max_score)
        result.feedback = entry.comment or f"your answer was graded by a person: {entry.score:g} / {result.max_score:g}"
        applied = True
    if applied:
        report.automatic_score = report.score
        report.score = round(sum(r.score for r in report.questions), 6)
    return report
