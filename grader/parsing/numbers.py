"""Reading a number the way students write it: `1,153,840 FLOPs`, `6.2e-4`, `$\\boxed{61 706}$`.

The result is an exact `Fraction`: what the student wrote, not a binary float. Nothing here
evaluates anything; the text is cleaned with fixed rules and must then match a strict pattern.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

from grader.parsing.errors import AnswerParseError

MAX_TEXT = 200
MAX_EXPONENT = 400

_UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00d7": "x", "\u22c5": "*", "\u00b7": "*",
    "\u2009": " ", "\u202f": " ", "\u00a0": " ", "\u2007": " ", "\u2248": "", "\u2217": "*",
}
_LATEX_NOISE = re.compile(
    r"\\(?:left|right|displaystyle|approx|sim|simeq|[,;:! ]|quad|qquad)|\\text(?:rm|bf|it)?\{[^{}]*\}"
    r"|\\mathrm\{[^{}]*\}|\\(?:mbox)\{[^{}]*\}|\$|\\\(|\\\)|\\\[|\\\]"
)
_BOXED = re.compile(r"\\(?:boxed|fbox|underline|mathbf)\{((?:[^{}]|\{[^{}]*\})*)\}")
_LATEX_TIMES = re.compile(r"\\(?:times|cdot)")
_POWER_OF_TEN = re.compile(r"\s*(?:x|\*)\s*10\s*(?:\^|\*\*)\s*\{?\s*([+-]?\d+)\s*\}?\s*$")
_FRAC = re.compile(r"^\\d?frac\{([^{}]+)\}\{([^{}]+)\}$")
_SCALE_WORDS = {"thousand": 3, "million": 6, "billion": 9, "k": 3, "m": 6, "g": 9}
_UNIT = re.compile(r"\s*([a-zA-Z][a-zA-Z\s.'-]*)$")
_PLAIN = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^([+-]?\d{1,3})((?:[ ,_'](\d{3}))+)(\.\d*)?$")


def parse_number_text(text: str) -> Fraction:
    """The exact value of a number written as text; `AnswerParseError` says why not."""
    original = text
    if len(text) > MAX_TEXT:
        raise AnswerParseError(f"your answer is {len(text)} characters long; write just the number")
    cleaned = _clean(text)
    if not cleaned:
        raise AnswerParseError(f"your answer {original!r} has no number in it")
    try:
        return _read(cleaned)
    except AnswerParseError:
        raise
    except (ValueError, ArithmeticError):
        pass
    arithmetic = _arithmetic(original)
    if arithmetic is not None:
        return arithmetic
    raise AnswerParseError(
        f"your answer {original!r} is not a number"
    )


def _arithmetic(text: str) -> Fraction | None:
    """`784*64 + 64` or `2\\sqrt{52321} - 398`: constant arithmetic, read by the safe parser."""
    from grader.mathparse import evaluate_constant

    try:
        value = evaluate_constant(text)
    except AnswerParseError:
        return None
    return value if isinstance(value, Fraction) else fraction_from_decimal(Decimal(repr(value)))


def _clean(text: str) -> str:
    for bad, good in _UNICODE.items():
        text = text.replace(bad, good)
    while (boxed := _BOXED.search(text)) is not None:
        text = text[: boxed.start()] + boxed.group(1) + text[boxed.end():]
    text = _LATEX_TIMES.sub("x", _LATEX_NOISE.sub(" ", text))
    text = text.strip().lstrip("=~").strip()
    if "=" in text:  # "= 1,151,280 + 2560 = 1,153,840": the last value is the answer
        text = text.rsplit("=", 1)[1].strip()
    return text


def _read(text: str) -> Fraction:
    if (frac := _FRAC.match(text)) is not None:
        return _ratio(frac.group(1), frac.group(2))
    text, scale = _strip_unit(text)
    if (power := _POWER_OF_TEN.search(text)) is not None:
        scale += _exponent(power.group(1))
        text = text[: power.start()].strip()
        if text in ("", "+", "-"):
            text += "1"
    if text.count("/") == 1:
        top, bottom = text.split("/")
        return _ratio(top, bottom) * Fraction(10) ** scale
    return _decimal(text) * Fraction(10) ** scale


def _strip_unit(text: str) -> tuple[str, int]:
    """Remove a trailing unit ("FLOPs", "parameters"), keeping a scale word ("1.15 million")."""
    match = _UNIT.search(text)
    if match is None or match.start() == 0:
        return text, 0
    words = match.group(1).split()
    text = text[: match.start()].strip()
    first = words[0].lower()
    if first in _SCALE_WORDS and (len(words[0]) > 1 or len(words) == 1 or words[0] in "kKMG"):
        return text, _SCALE_WORDS[first]
    if first[0] in "kmg" and len(first) > 1 and first[1:] in ("flop", "flops", "params"):
        return text, _SCALE_WORDS[first[0]]
    return text, 0


def _ratio(top: str, bottom: str) -> Fraction:
    denominator = _decimal(bottom.strip())
    if denominator == 0:
        raise AnswerParseError("your answer divides by zero")
    return _decimal(top.strip()) / denominator


def _exponent(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_EXPONENT:
        raise AnswerParseError(f"your answer's exponent {value} is out of range")
    return value


def _decimal(text: str) -> Fraction:
    text = text.replace(" ", "") if _GROUPED.match(text) is None else _ungroup(text)
    if _PLAIN.match(text) is None and text.count(",") == 1 and _PLAIN.match(text.replace(",", ".")):
        text = text.replace(",", ".")  # a decimal comma: "0,0006"
    if _PLAIN.match(text) is None:
        raise ValueError(text)
    _, _, exponent = text.lower().partition("e")
    if exponent:
        _exponent(exponent)
    return Fraction(Decimal(text))


def _ungroup(text: str) -> str:
    """`1,153,840` and `61 706` are thousands groups; a mix of separators is not."""
    match = _GROUPED.match(text)
    assert match is not None
    separators = set(re.findall(r"[ ,_']", match.group(2)))
    if len(separators) != 1:
        raise ValueError(text)
    return text.replace(separators.pop(), "")


def fraction_from_decimal(value: Decimal) -> Fraction:
    if not value.is_finite():
        raise AnswerParseError(f"your answer {value} is not a finite number")
    if abs(value.adjusted()) > MAX_EXPONENT:
        raise AnswerParseError(f"your answer {value} is out of range")
    return Fraction(value)
