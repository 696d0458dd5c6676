"""Choice answers: one or several parts, each one of a fixed set of options."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from grader.checkers.base import ComparedQuestion, Verdict
from grader.core.report import Status
from grader.parsing.errors import AnswerParseError

DEFAULT_ALIASES = {"yes": ["y", "true", "t", "oui", "ja"], "no": ["n", "false", "f", "non", "nein"]}
_SPLIT = re.compile(r"[,;/\s]+")

Choices = tuple[str, ...]


class ChoiceQuestion(ComparedQuestion[Choices]):
    kind: Literal["choice"] = "choice"
    options: list[str] = Field(min_length=2, description="the options, e.g. [yes, no] or [a, b, c]")
    parts: int = Field(1, ge=1)
    aliases: dict[str, list[str]] = Field(default_factory=dict, description="option -> other spellings")
    partial_credit: bool = Field(True, description="credit each right part")

    answer_hint = "one option per part"

    @model_validator(mode="after")
    def _aliases_name_options(self) -> ChoiceQuestion:
        unknown = set(self.aliases) - {o.lower() for o in self.options}
        if unknown:
            raise ValueError(f"aliases for options that do not exist: {sorted(unknown)}")
        return self

    def _spellings(self) -> dict[str, str]:
        table = {o.lower(): o.lower() for o in self.options}
        for option in table.copy():
            for alias in [*DEFAULT_ALIASES.get(option, []), *self.aliases.get(option, [])]:
                table.setdefault(alias.lower(), option)
        return table

    def _read_one(self, token: Any, part: int) -> str:
        if isinstance(token, bool):
            token = "yes" if token else "no"
        text = str(token).strip().strip(".)(").lower()
        option = self._spellings().get(text)
        if option is None:
            allowed = ", ".join(self.options)
            where = f" for part {part}" if self.parts > 1 else ""
            raise AnswerParseError(f"your answer {str(token)!r}{where} is not one of: {allowed}")
        return option

    def parse(self, raw: Any) -> Choices:
        items = raw if isinstance(raw, list) else [raw]
        if len(items) == 1 and isinstance(items[0], str):
            items = [t for t in _SPLIT.split(items[0].strip()) if t]
        if len(items) != self.parts:
            raise AnswerParseError(
                f"this question has {self.parts} part(s); your answer has {len(items)}: "
                f"give one of {', '.join(self.options)} for each"
            )
        return tuple(self._read_one(t, i + 1) for i, t in enumerate(items))

    def to_value(self, reference_output: Any) -> Choices:
        return self.parse(reference_output)

    def equivalent(self, got: Choices, expected: Choices) -> bool:
        return got == expected

    def show(self, value: Choices) -> str:
        return ", ".join(v.upper() if v in ("yes", "no") else v for v in value)

    def diagnose(self, got: Choices, expected: Choices) -> Verdict | None:
        if self.parts == 1:
            return None
        wrong = [i + 1 for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
        right = self.parts - len(wrong)
        credit = right / self.parts if self.partial_credit else 0.0
        status = Status.PARTIAL if credit > 0 else Status.INCORRECT
        parts = ", ".join(str(i) for i in wrong)
        return Verdict(status, credit, f"your answer has {right} of {self.parts} parts right; "
                                       f"part(s) {parts} are not")
