"""Answer groups: a question's answers across a class, grouped by equivalence, so that a TA
grades each distinct answer once (and an override can target a whole group).

Two answers share a group when the question kind itself says they are equivalent (its `parse`
and `equivalent`: the same number within tolerance, an equivalent expression, the same set of
edges), else when their text is identical after normalisation. Kinds added later group by their
own equivalence with no change here.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from grader.checkers.base import ComparedQuestion, QuestionBase
from grader.core.names import for_terminal
from grader.core.report import Report, Status

NO_ANSWER = {Status.MISSING: "(no answer)", Status.INVALID: "(submission could not be read)",
             Status.ERROR: "(grading failed)"}
_SPACES = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Case, Unicode forms, spacing and a final full stop do not make answers different."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACES.sub(" ", text).strip().rstrip(".").strip()


@dataclass
class Member:
    submission: str
    status: Status
    score: float
    answer: str | None
    mistake: str | None = None
    needs_person: bool = False  # the grader could not decide: a person must look


@dataclass
class AnswerGroup:
    answer: str
    how: str  # "equivalent", "text" or "missing"
    members: list[Member] = field(default_factory=list)
    value: Any = None

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def statuses(self) -> dict[str, int]:
        return dict(Counter(m.status.value for m in self.members).most_common())

    @property
    def mistakes(self) -> list[str]:
        return sorted({m.mistake for m in self.members if m.mistake})

    @property
    def scores(self) -> tuple[float, float]:
        values = [m.score for m in self.members]
        return min(values), max(values)

    def as_json(self, number: int) -> dict[str, Any]:
        low, high = self.scores
        return {
            "group": number, "answer": self.answer, "how": self.how, "count": self.count,
            "statuses": self.statuses, "mistakes": self.mistakes, "score_min": low, "score_max": high,
            "members": [m.submission for m in self.members],
        }


def parse_value(question: QuestionBase, answer: Any) -> tuple[bool, Any]:
    """(True, value) when the question kind reads the answer, else (False, normalised text)."""
    if isinstance(question, ComparedQuestion):
        try:
            return True, question.parse(answer)
        except Exception:  # an unreadable answer (or a kind's bug) groups by its text
            pass
    text = answer if isinstance(answer, str) else str(answer)
    return False, normalise_text(text)


def same_answer(question: QuestionBase, left: Any, right: Any) -> bool:
    """The relation groups are built with, for two single answers."""
    left_parsed, left_value = parse_value(question, left)
    right_parsed, right_value = parse_value(question, right)
    if left_parsed and right_parsed:
        return _equivalent(question, left_value, right_value)
    return not left_parsed and not right_parsed and left_value == right_value


def _equivalent(question: QuestionBase, got: Any, representative: Any) -> bool:
    assert isinstance(question, ComparedQuestion)
    try:
        return bool(question.equivalent(got, representative))
    except Exception:  # values of different shapes, or a kind's bug: not the same answer
        return False


def group_answers(
    question: QuestionBase, reports: list[Report], *, statuses: set[Status] | None = None,
) -> list[AnswerGroup]:
    """The question's answers grouped, the largest group first; `statuses` keeps only those."""
    members = [m for m in _members(question, reports) if statuses is None or m.status in statuses]
    by_text: dict[tuple[str, str], AnswerGroup] = {}
    for member in members:
        if member.answer is None:
            label = NO_ANSWER.get(member.status, f"(no answer: {member.status.value})")
            group = by_text.setdefault(("missing", label), AnswerGroup(label, "missing"))
        else:
            parsed, value = parse_value(question, member.answer)
            key = ("parsed" if parsed else "text", normalise_text(member.answer))
            group = by_text.setdefault(key, AnswerGroup(member.answer, "equivalent" if parsed else "text", value=value))
        group.members.append(member)
    return _merge_equivalent(question, sorted(by_text.values(), key=_order))


def _members(question: QuestionBase, reports: list[Report]) -> list[Member]:
    found = []
    for report in sorted(reports, key=lambda r: r.submission):
        result = next((q for q in report.questions if q.id == question.id), None)
        if result is None:
            continue
        answer = None if result.status is Status.MISSING else result.answer
        found.append(Member(report.submission, result.status, result.score, answer, result.mistake,
                            bool(result.details.get("needs_person")) and result.override is None))
    return found


def _order(group: AnswerGroup) -> tuple[int, str]:
    return (-group.count, group.answer)


def _merge_equivalent(question: QuestionBase, groups: list[AnswerGroup]) -> list[AnswerGroup]:
    merged: list[AnswerGroup] = []
    for group in groups:
        home = None
        if group.how == "equivalent":
            home = next((m for m in merged
                         if m.how == "equivalent" and _equivalent(question, group.value, m.value)), None)
        if home is None:
            merged.append(group)
        else:
            home.members.extend(group.members)
    for group in merged:
        group.members.sort(key=lambda m: m.submission)
    return sorted(merged, key=_order)


def render_groups(question: QuestionBase, groups: list[AnswerGroup], *, members: bool = True) -> str:
    """The groups as text for a terminal: student text (answers, ids) shows control characters
    as escapes, so that an answer cannot clear the screen, rewrite a row or set the clipboard."""
    total = sum(g.count for g in groups)
    lines = [f"{question.id}: {total} answers in {len(groups)} groups ({question.points:g} points)", ""]
    lines.append(f"{'#':>3} {'count':>5}  {'status':<22} {'score':>9}  answer")
    for number, group in enumerate(groups, start=1):
        low, high = group.scores
        score = f"{low:g}" if low == high else f"{low:g}-{high:g}"
        status = ", ".join(f"{s} {n}" if len(group.statuses) > 1 else s for s, n in group.statuses.items())
        answer = for_terminal(group.answer)
        answer = answer if len(answer) <= 60 else answer[:59] + "…"
        note = f"  [{for_terminal(', '.join(group.mistakes))}]" if group.mistakes else ""
        if any(m.needs_person for m in group.members):
            note += "  [not decided automatically: a person must check]"
        lines.append(f"{number:>3} {group.count:>5}  {status:<22} {score:>9}  {answer}{note}")
        if members:
            lines.append("      " + ", ".join(for_terminal(m.submission) for m in group.members))
    lines += ["", "Grade a whole group with an entry in OUTDIR/overrides.yaml:",
              f"  - question: {question.id}", "    answer: <the group's answer, as above>",
              "    score: <points>", "    comment: <what the students read>"]
    return "\n".join(lines)
