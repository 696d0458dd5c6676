"""docs/rubrics.md documents every reference function, generated from the params models: this
test fails when the generated section drifts from the code (`python scripts/reference_docs.py`
rewrites it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference.catalogue import BEGIN, END, markdown
from reference.registry import reference_names

DOC = Path(__file__).resolve().parent.parent / "docs" / "rubrics.md"


def _generated_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def test_the_generated_section_is_up_to_date() -> None:
    assert _generated_section() == markdown().strip(), "run: python scripts/reference_docs.py"


@pytest.mark.parametrize("name", reference_names())
def test_every_reference_function_is_documented(name: str) -> None:
    assert f"### `{name}`\n" in _generated_section()
