"""Text folding shared by the formula and number readers: what CJK input methods type.

Full-width forms (`（`, `）`, `＋`, `－`, `＊`, `／`, `＾`, `，`, `０`…`９`, `ａ`…`ｚ`) are the ASCII
characters they stand for, shifted by a fixed offset; the ideographic space is a space, the
lenticular brackets `【】` are square brackets, and the enumeration comma `、` (which separates
items of a list) is a semicolon, so `5、6` is never read as 5.6.
"""

from __future__ import annotations

_FULL_WIDTH_FIRST, _FULL_WIDTH_LAST = 0xFF01, 0xFF5E  # ！ … ～
_FULL_WIDTH_OFFSET = 0xFEE0
_EXTRA = {"\u3000": " ", "\u3010": "[", "\u3011": "]", "\u3014": "[", "\u3015": "]", "\u3001": ";"}


def fold_width(text: str) -> str:
    """Full-width ASCII forms to ASCII; other characters unchanged."""
    if text.isascii():
        return text
    return "".join(_fold(ch) for ch in text)


def _fold(ch: str) -> str:
    code = ord(ch)
    if _FULL_WIDTH_FIRST <= code <= _FULL_WIDTH_LAST:
        return chr(code - _FULL_WIDTH_OFFSET)
    return _EXTRA.get(ch, ch)
