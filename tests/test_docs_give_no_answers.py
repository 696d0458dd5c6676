"""The README and docs give no built-in answer: every computed reference of the built-in assignments
(and every accepted or credited value), in several spellings, is absent from them."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from grader.checkers.base import ComparedQuestion
from grader.core.builtins import builtin_names, resolve_assignment
from grader.core.rubric import load_rubric

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", REPO / "SECURITY.md", *sorted((REPO / "docs").glob("*.md"))]


def _number_spellings(value: float) -> set[str]:
    found = {f"{value:.4g}", repr(value)}
    if value == int(value):
        whole = int(value)
        found |= {str(whole), f"{whole:,}", f"{whole:,}".replace(",", " ")}
    return found


def spellings(value: Any) -> set[str]:
    if isinstance(value, bool) or value is None:
        return set()
    if isinstance(value, int | float | Fraction):
        number = float(value)
        if abs(number) < 1000 and number == int(number):
            return set()  # small whole numbers are everywhere (600 s, 64 units): not searched
        return _number_spellings(number)
    if isinstance(value, str):
        compact = value.replace(" ", "")
        return {value, compact} if len(compact) >= 5 else set()
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        shape = [str(v) for v in value]
        return {json.dumps(value), "×".join(shape), f"({', '.join(shape)})"}
    if isinstance(value, list):
        return {json.dumps(value)} if len(json.dumps(value)) >= 8 else set()
    if isinstance(value, dict):
        return {json.dumps(value)} | set().union(*(spellings(v) for v in value.values()))
    return set()


def answers(assignment: str) -> dict[str, set[str]]:
    rubric = load_rubric(resolve_assignment(assignment)).rubric
    ctx = rubric.context(None)
    found: dict[str, set[str]] = {}
    for q in rubric.questions:
        if not isinstance(q, ComparedQuestion):
            continue
        values = [q.reference_answer(ctx)]
        credited = [*q.accepted, *(m for m in q.known_mistakes if m.credit)]
        values += [_plain(q, q.alternative_value(a, ctx)) for a in credited]
        found[q.id] = set().union(*(spellings(v) for v in values))
    return found


def _plain(q: ComparedQuestion[Any], value: Any) -> Any:
    return float(value) if isinstance(value, Fraction) else q.show(value)


def _mentions(text: str, spelling: str) -> bool:
    if re.fullmatch(r"[\d.,\s-]+", spelling):
        return re.search(rf"(?<![\d.,]){re.escape(spelling)}(?![\d])", text) is not None
    return spelling in text


@pytest.mark.parametrize("assignment", [n for n in builtin_names() if not n.endswith("-random")])
def test_docs_give_no_builtin_answer(assignment: str) -> None:
    texts = {p.relative_to(REPO).as_posix(): p.read_text(encoding="utf-8") for p in DOCS}
    found = [(qid, s, name) for qid, values in answers(assignment).items() for s in sorted(values)
             for name, text in texts.items() if _mentions(text, s)]
    assert not found


def test_the_search_finds_an_answer() -> None:
    assert any(_mentions("the total is 1,153,840 FLOPs", s) for s in answers("csc420-a2")["q3_flops_no_bias"])
    assert not any(_mentions("11,153,8401", s) for s in answers("csc420-a2")["q3_flops_no_bias"])
