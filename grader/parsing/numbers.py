"""Reading a number the way students write it: `1,153,840 FLOPs`, `6.2e-4`, `$\\boxed{61 706}$`.

The result is an exact `Fraction`: what the student wrote, not a binary float. Nothing here
evaluates anything; the text is cleaned with fixed rules and must then match a strict pattern.

Separators, one rule (docs/rubrics.md "Reading numbers"):
- `1,153,840`, `61 706`, `1_153_840`: thousands, when every group after the first has exactly
  three digits, one separator kind is used, and the first group does not start with 0.
- `0,001`, `0,0006`, `12,5`, `1153840,5`: a comma that cannot separate thousands is a decimal comma.
- `59,476` (one comma, three digits after it, no decimal point): both readings are possible, so
  both are returned (`number_readings`); the number question accepts the answer only when exactly
  one reading is right and says which one it used. `parse_number_text` refuses it as ambiguous.
- A list or a choice (`1153840, 9999999`, `5 or 6`, `12 3`, `5; 6`) is never one number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from grader.parsing.errors import AnswerParseError
from grader.parsing.text import fold_width

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
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")
_COMPARISON = re.compile(r"[<>≤≥≠]|!=|==")
_SEVERAL = (
    re.compile(r"\d[^\d]*?\b(?:or|and)\b[^\d]*\d", re.IGNORECASE),  # "5 or 6"
    re.compile(r"\d\s*[;,]\s+[-+]?\.?\d|\d\s+,\s*[-+]?\.?\d|\d\s*;\s*[-+]?\.?\d"),  # "1, 2"
    re.compile(r"\d\s*[;,]\s*[A-Za-z_]\w*\s*="),  # "a = 5, b = 6"
)
# `48 120`, `1 151 280`, `1,151,280` inside arithmetic (a single comma group is ambiguous)
_IN_ARITHMETIC_GROUPS = re.compile(
    r"(?<![\d.,])[1-9]\d{0,2}(?:(?: \d{3})+|(?:,\d{3}){2,})(?![\d.,]|\s\d)"
)
THOUSANDS = "the comma read as a thousands separator"
DECIMAL_COMMA = "the comma read as a decimal comma"


@dataclass(frozen=True)
class Reading:
    """One way to read the text: its value, and how (empty when there is only one way)."""

    value: Fraction
    how: str = ""


def parse_number_text(text: str) -> Fraction:
    """The exact value of a number written as text; `AnswerParseError` says why not."""
    readings = number_readings(text)
    if len(readings) > 1:
        values = " or ".join(plain_decimal(r.value) for r in readings)
        raise AnswerParseError(
            f"your answer {text.strip()!r} could be read as {values}: write it without the comma "
            "(or with a decimal point)", kind="ambiguous_separator")
    return readings[0].value


def number_readings(text: str) -> list[Reading]:
    """Every reading of a number written as text (two only for `59,476`), or `AnswerParseError`."""
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
        return [Reading(arithmetic)]
    raise AnswerParseError(
        f"your answer {original!r} is not a number"
    )


def _one_answer(text: str) -> None:
    """A list (`1153840, 9999999`), a choice (`5 or 6`) or a comparison is not one number."""
    if _COMPARISON.search(text):
        raise AnswerParseError(f"your answer {text!r} is a comparison, not a number: give one answer",
                               kind="several_answers")
    if any(pattern.search(text) for pattern in _SEVERAL):
        raise AnswerParseError(f"your answer {text!r} gives more than one number: give one answer",
                               kind="several_answers")


def plain_decimal(value: Fraction) -> str:
    """A reading as digits: `59476`, `59.476` (readings are terminating decimals)."""
    if value.denominator == 1:
        return str(value.numerator)
    return str(Decimal(value.numerator) / Decimal(value.denominator))


def _arithmetic(text: str) -> Fraction | None:
    """`784*64 + 64` or `2\\sqrt{52321} - 398`: constant arithmetic, read by the safe parser.

    Thousands groups that cannot be anything else are joined first (`48 120 + 156`,
    `1,151,280 + 2560`); `59,476` (ambiguous) and `12 3` (not groups) are left to be refused."""
    from grader.mathparse import evaluate_constant

    text = _IN_ARITHMETIC_GROUPS.sub(lambda m: re.sub(r"[ ,]", "", m.group()), fold_width(text))
    try:
        value = evaluate_constant(text)
    except AnswerParseError:
        return None
    return value if isinstance(value, Fraction) else fraction_from_decimal(Decimal(repr(value)))


def _clean(text: str) -> str:
    text = fold_width(text)
    for bad, good in _UNICODE.items():
        text = text.replace(bad, good)
    while (boxed := _BOXED.search(text)) is not None:
        text = text[: boxed.start()] + boxed.group(1) + text[boxed.end():]
    text = _LATEX_TIMES.sub("x", _LATEX_NOISE.sub(" ", text))
    text = text.strip().lstrip("=~").strip()
    _one_answer(text)
    if "=" in text:  # "= 1,151,280 + 2560 = 1,153,840": the last value is the answer
        text = text.rsplit("=", 1)[1].strip()
    return text


def _read(text: str) -> list[Reading]:
    if (frac := _FRAC.match(text)) is not None:
        return [Reading(_ratio(frac.group(1), frac.group(2)))]
    text, scale = _strip_unit(text)
    if (power := _POWER_OF_TEN.search(text)) is not None:
        scale += _exponent(power.group(1))
        text = text[: power.start()].strip()
        if text in ("", "+", "-"):
            text += "1"
    if text.count("/") == 1:
        top, bottom = text.split("/")
        return [Reading(_ratio(top, bottom) * Fraction(10) ** scale)]
    return [Reading(r.value * Fraction(10) ** scale, r.how) for r in _readings(text)]


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


def _decimal(text: str) -> Fraction:
    """One reading only (a numerator or denominator): `1,5/2` is refused as unreadable."""
    readings = _readings(text)
    if len(readings) != 1:
        raise ValueError(text)
    return readings[0].value


def _exponent(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_EXPONENT:
        raise AnswerParseError(f"your answer's exponent {value} is out of range")
    return value


def _readings(text: str) -> list[Reading]:
    """The separator rule of the module docstring, applied to one number without its unit."""
    grouped = _GROUPED.match(text)
    if grouped is not None:
        return _grouped_readings(text, grouped)
    if _DECIMAL_COMMA.match(text):  # "0,0006", "12,5": the comma cannot separate thousands
        return [Reading(_exact(text.replace(",", ".")))]
    parts = text.split()
    if len(parts) > 1 and all(_PLAIN.match(p) or _DECIMAL_COMMA.match(p) for p in parts):
        raise AnswerParseError(f"your answer {text!r} has {len(parts)} numbers side by side: "
                               "give one answer", kind="several_answers")
    return [Reading(_exact(text.replace(" ", "")))]  # "- 398", "1.5 e6"


def _grouped_readings(text: str, grouped: re.Match[str]) -> list[Reading]:
    separators = set(re.findall(r"[ ,_']", grouped.group(2)))
    if len(separators) != 1:
        raise ValueError(text)  # "1,153 840": a mix of separators
    separator = separators.pop()
    single_comma = separator == "," and text.count(",") == 1 and grouped.group(4) is None
    if grouped.group(1).lstrip("+-").startswith("0"):  # "0,001": no thousands start with 0
        if single_comma:
            return [Reading(_exact(text.replace(",", ".")))]
        raise ValueError(text)
    thousands = _exact(text.replace(separator, ""))
    if single_comma:  # "59,476": 59476 or 59.476
        return [Reading(thousands, THOUSANDS), Reading(_exact(text.replace(",", ".")), DECIMAL_COMMA)]
    return [Reading(thousands)]


def _exact(text: str) -> Fraction:
    if _PLAIN.match(text) is None:
        raise ValueError(text)
    _, _, exponent = text.lower().partition("e")
    if exponent:
        _exponent(exponent)
    return Fraction(Decimal(text))


def fraction_from_decimal(value: Decimal) -> Fraction:
    if not value.is_finite():
        raise AnswerParseError(f"your answer {value} is not a finite number")
    if abs(value.adjusted()) > MAX_EXPONENT:
        raise AnswerParseError(f"your answer {value} is out of range")
    return Fraction(value)
