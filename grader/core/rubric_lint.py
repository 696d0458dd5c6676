"""`grader rubric validate`'s warnings: rubric texts that would tell a student the wrong thing.

- A feedback placeholder (`{pool_kernel * pool_kernel}`) that cannot be filled.
- In a randomised question, a number typed into a feedback text that equals a randomised param's
  value (or a product of two) in the unrandomised rubric: that text is right for the sheet's numbers
  only, and wrong for every drawn variant. Write a placeholder instead. 0 and 1 are not flagged.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from grader.checkers.base import Alternative, ComparedQuestion
from grader.core.rubric import Rubric
from grader.core.variants import placeholder_problems

_NUMBER = re.compile(r"(?<![\w.{])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w}])|(?<![\w.{])-?\d+(?:\.\d+)?(?![\w}])")
_PLACEHOLDER = re.compile(r"\{[^{}]+\}")


def rubric_warnings(rubric: Rubric) -> list[str]:
    warnings = []
    ctx = rubric.context()
    for index, q in enumerate(rubric.questions):
        if not isinstance(q, ComparedQuestion):
            continue
        where = f"question {q.id!r} (questions[{index}])"
        for field, alt in _alternatives(q):
            try:
                names = q.feedback_names(alt, ctx)
            except Exception as err:  # a reference that cannot compute is reported by validation
                warnings.append(f"{where}, field {field}.feedback: placeholders not checked ({err})")
                continue
            warnings += [f"{where}, field {field}.feedback: {p}" for p in placeholder_problems(alt.feedback, names)]
            if q.randomise is not None:
                warnings += [f"{where}, field {field}.feedback: {p}"
                             for p in typed_randomised_numbers(alt.feedback, q.reference.params, q.randomise.params)]
    return warnings


def _alternatives(q: ComparedQuestion[Any]) -> list[tuple[str, Alternative]]:
    return [*((f"accepted.{a.name}", a) for a in q.accepted),
            *((f"known_mistakes.{a.name}", a) for a in q.known_mistakes)]


def typed_randomised_numbers(text: str, base: dict[str, Any], randomised: Iterable[str]) -> list[str]:
    """Numbers of `text` (outside placeholders) equal to a randomised param's unrandomised value."""
    values = _param_values(base, list(randomised))
    suspects = {v: name for name, v in values}
    for (a_name, a), (b_name, b) in itertools.combinations_with_replacement(values, 2):
        suspects.setdefault(a * b, f"{a_name} * {b_name}")
    problems = []
    for written in dict.fromkeys(m.group(0) for m in _NUMBER.finditer(_PLACEHOLDER.sub(" ", text))):
        number = Fraction(written.replace(",", ""))
        if abs(number) in (0, 1) or number not in suspects:
            continue
        problems.append(f"the number {written} equals {suspects[number]} in the unrandomised rubric, which "
                        f"is drawn per student: write a placeholder such as {{{suspects[number]}}} so that "
                        "the text follows each student's numbers")
    return problems


def _param_values(base: dict[str, Any], paths: list[str]) -> list[tuple[str, Fraction]]:
    found = []
    for path in paths:
        node: Any = base
        for part in path.split("."):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                node = None
                break
        for value in node if isinstance(node, list) else [node]:
            if isinstance(value, int | float) and not isinstance(value, bool):
                found.append((path, Fraction(str(value))))
    return found
