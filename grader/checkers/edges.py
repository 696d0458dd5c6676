"""Edge-list answers: a set of directed edges `a -> b` over the question's node names."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from grader.checkers.base import ComparedQuestion, Verdict, shorten
from grader.core.report import Status
from grader.parsing.errors import AnswerParseError

Edge = tuple[str, str]
Edges = frozenset[Edge]

_ARROW = re.compile(r"\s*(?:-+>|→|⟶|=>|\\to|\\rightarrow)\s*")
_SEPARATORS = re.compile(r"[,;\n]+")
MAX_EDGES = 500
MAX_EDGE_TEXT = 200  # the arrow pattern backtracks quadratically on long runs of spaces


class EdgeListQuestion(ComparedQuestion[Edges]):
    kind: Literal["edges"] = "edges"
    nodes: list[str] = Field(min_length=2, description="the node names answers may use")
    aliases: dict[str, list[str]] = Field(default_factory=dict, description="node -> other spellings")
    partial_credit: bool = Field(True, description="credit = right edges / (right + missing + extra)")

    answer_hint = "a list of edges \"from -> to\""

    def _node(self, name: str) -> str:
        wanted = name.strip().strip("$").replace("\\hat{y}", "y_hat")
        for node in self.nodes:
            spellings = [node, *self.aliases.get(node, [])]
            if any(wanted.lower() == s.lower() for s in spellings):
                return node
        raise AnswerParseError(
            f"your answer names a node {name.strip()!r} that is not one of: {', '.join(self.nodes)}"
        )

    def _edge(self, text: Any) -> Edge:
        if not isinstance(text, str):
            raise AnswerParseError(f"your answer has an edge {shorten(text, 60)} that is not text \"from -> to\"")
        if len(text) > MAX_EDGE_TEXT:
            raise AnswerParseError(f"your answer has an edge of {len(text):,} characters; write \"from -> to\"")
        ends = _ARROW.split(text.strip())
        if len(ends) != 2 or not all(ends):
            raise AnswerParseError(f"your answer has {text.strip()!r}, which is not an edge \"from -> to\"")
        return self._node(ends[0]), self._node(ends[1])

    def parse(self, raw: Any) -> Edges:
        if isinstance(raw, str) and len(raw) > MAX_EDGES * MAX_EDGE_TEXT:
            raise AnswerParseError(f"your answer is {len(raw):,} characters long; list the edges \"from -> to\"")
        items = raw if isinstance(raw, list) else _SEPARATORS.split(raw) if isinstance(raw, str) else None
        if items is None:
            raise AnswerParseError("your answer is not a list of edges \"from -> to\"")
        items = [i for i in items if not (isinstance(i, str) and not i.strip())]
        if len(items) > MAX_EDGES:
            raise AnswerParseError(f"your answer lists {len(items)} edges; at most {MAX_EDGES} are read")
        return frozenset(self._edge(i) for i in items)

    def to_value(self, reference_output: Any) -> Edges:
        return self.parse(reference_output)

    def equivalent(self, got: Edges, expected: Edges) -> bool:
        return got == expected

    def show(self, value: Edges) -> str:
        return ", ".join(f"{a} -> {b}" for a, b in sorted(value))

    def reference_answer(self, ctx: Any) -> Any:
        return [f"{a} -> {b}" for a, b in sorted(self.expected_value(ctx))]

    def diagnose(self, got: Edges, expected: Edges) -> Verdict | None:
        missing, extra = expected - got, got - expected
        reversed_edges = {(a, b) for a, b in extra if (b, a) in missing}
        credit = len(got & expected) / len(got | expected) if self.partial_credit else 0.0
        notes = [f"{len(got & expected)} of {len(expected)} edges are right"]
        if missing:
            notes.append(f"{len(missing)} missing")
        if reversed_edges:
            notes.append("reversed: " + ", ".join(f"{a} -> {b}" for a, b in sorted(reversed_edges)))
        if extra - reversed_edges:
            notes.append("not in the graph: " + ", ".join(f"{a} -> {b}" for a, b in sorted(extra - reversed_edges)))
        status = Status.PARTIAL if credit > 0 else Status.INCORRECT
        return Verdict(status, round(credit, 4), "your answer: " + "; ".join(notes))
