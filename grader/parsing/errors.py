"""The one error a reader raises: the answer could not be read (as opposed to being wrong).

Each error has a `kind` (what went wrong, for tests and summaries) and, where the reader knows
it, the place in the text. The student reads one message: what was found, where, and how to
write it; the status is `invalid` ("could not read your answer"), never `incorrect`.
"""

from __future__ import annotations

CONTEXT = 12  # characters shown either side of the place an error points at


class AnswerParseError(ValueError):
    """Student-facing: the message says what was received and how to write it."""

    def __init__(
        self, message: str, *, kind: str = "unreadable", text: str | None = None,
        position: int | None = None,
    ) -> None:
        self.kind = kind
        self.position = position
        self.detail = message
        super().__init__(message + _where(text, position))


def _where(text: str | None, position: int | None) -> str:
    """` (at character 4: "([x▸)]")`: the text around `position` (0-based), so the student can find it."""
    if text is None or position is None or len(text) <= 1:
        return ""
    start, end = max(0, position - CONTEXT), min(len(text), position + CONTEXT)
    before = ("…" if start > 0 else "") + text[start:position]
    after = text[position:end] + ("…" if end < len(text) else "")
    return f' (at character {position + 1}: "{before}▸{after}")'
