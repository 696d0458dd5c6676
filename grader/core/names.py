"""Text a student chose, on its way out: file names, terminals and spreadsheets.

- `escaped`: a name whose bytes are not UTF-8 (Python carries them as lone surrogates) becomes
  text with `\\xff`-style escapes, which JSON, HTML and every file system accept;
- `for_terminal`: control characters (C0, C1, DEL, ESC sequences, bidi overrides, line and
  paragraph separators) shown as escapes, so that no student text drives the TA's terminal;
- `spreadsheet_cell` and `csv_text`: a cell a spreadsheet would run as a formula is defused, and
  cells a spreadsheet might split (`;`, `|`, tabs) are quoted. A defused id no longer matches the
  LMS's identifier: exports use `needs_defusing` to leave such rows out and list them instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NEEDS_QUOTES = re.compile(r'[",;|\t\r\n]')


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as os.fsdecode carries it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escaped(text: str) -> str:
    """The text with every lone surrogate (a byte of a name that is not UTF-8) as `\\xNN`."""
    return _SURROGATE.sub(lambda m: _escape(m.group()), text)


def without_surrogates(data: Any) -> Any:
    """Parsed data (an answers file) with every string escaped; no recursion, any depth."""
    if isinstance(data, str):
        return escaped(data)
    if not isinstance(data, dict | list):
        return data
    root: list[Any] = [data]
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        if isinstance(node, dict):
            node.clear()
        for key, value in items:
            new_key = escaped(key) if isinstance(key, str) else key
            if isinstance(value, str):
                value = escaped(value)
            elif isinstance(value, dict | list):
                stack.append(value)
            node[new_key] = value
    return root[0]


def for_terminal(text: str) -> str:
    """One line of student text safe to print: control and bidi characters become escapes."""
    return _CONTROL.sub(lambda m: _escape(m.group()), text)


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def json_for_terminal(text: str) -> str:
    """JSON text (from `json.dumps`, which escapes C0 itself) with the other control characters as
    `\\uXXXX` escapes: the same JSON value, harmless on a terminal."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", escaped(text))


def needs_defusing(text: str) -> bool:
    """A spreadsheet would read the cell as a formula (or a formula after leading spaces)."""
    return text.lstrip(" ")[:1] in FORMULA_STARTS and text.lstrip(" ") != ""


def spreadsheet_cell(text: str) -> str:
    """A cell of student or TA text that a spreadsheet shows as text: `'` before a formula start.
    Only for text cells: numbers the grader computed are written as they are."""
    return "'" + text if needs_defusing(text) else text


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if _NEEDS_QUOTES.search(cell) else cell


def csv_text(rows: Iterable[Iterable[str]], delimiter: str = ",") -> str:
    """RFC 4180 CSV, a line per row, quoting every cell a comma-, semicolon-, pipe- or tab-separated
    reading would split (Excel in many locales splits on `;`, so `x;=SUM(1)` must stay one cell).
    `delimiter`: `,`, or `;` or a tab for a file that must keep another's (a Canvas roster)."""
    return "".join(delimiter.join(_quoted(escaped(cell)) for cell in row) + "\n" for row in rows)
