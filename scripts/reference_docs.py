"""Rewrite the generated reference-function section of docs/rubrics.md from the params models.

    python scripts/reference_docs.py          # rewrite
    python scripts/reference_docs.py --check  # exit 1 when the doc is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from reference.catalogue import BEGIN, END, markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "rubrics.md"


def updated(text: str) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n\n{markdown()}\n{END}{tail}"


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    new = updated(text)
    if "--check" in sys.argv:
        if new != text:
            print(f"{DOC} is out of date: run python scripts/reference_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
