"""Text to tokens, for plain text and LaTeX alike. Bounded: one pass, no backtracking regexes.

LaTeX commands are mapped by fixed tables to the same tokens plain text gives (`\\cdot` is `*`
or `·`, `\\sigma` is the identifier `sigma`, `\\left(` is `(`); an unknown command is an error
that names it. Full-width characters from CJK input methods are folded to ASCII first. Relations
(`=`, `!=`, `<=`, …) are REL tokens: the parser decides what a chain of them may mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from grader.mathparse.functions import GREEK, GREEK_UNICODE
from grader.mathparse.limits import Limits
from grader.parsing.errors import AnswerParseError
from grader.parsing.text import fold_width

# kinds: NUM, IDENT, OP (one of + - * / ^ @ · ⊙ ( ) [ ] { } , ' | √ .T), FRAC, REL, EOF
OPERATORS = set("+-*/^@()[]{},'|·⊙√")
OPENING = {"(": ")", "[": "]", "{": "}"}
CLOSING = {closing: opening for opening, closing in OPENING.items()}
# longest first: `<=` before `<`
RELATIONS = ("==", "!=", "<=", ">=", "=", "<", ">")
EQUALITY = "="


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


_UNICODE = {
    "\u2212": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00d7": "*",
    "\u2217": "*",
    "\u22c5": "·",
    "\u2219": "·",
    "\u2022": "·",
    "\u2299": "⊙",
    "\u2218": "⊙",
    "\u2032": "'",
    "\u2019": "'",
    "\u00b2": "^2",
    "\u00b3": "^3",
    "\u1d40": "^T",
    "\u207b\u00b9": "^(-1)",
    "\u2260": "!=",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2248": "=",
    "\u2261": "=",
    "\u2009": " ",
    "\u202f": " ",
    "\u00a0": " ",
    "\u200b": "",
    "\u00b7": "·",
    "\u03c3": "σ",
    "\u2202": "\\partial ",
    "\u27e8": "(",
    "\u27e9": ")",
    "y\u0302": " y_hat ",
    "\u0177": " y_hat ",
    "x\u0304": " x_bar ",
}
_SPACING = re.compile(
    r"\\(?:[,;:! ]|quad|qquad|displaystyle|textstyle|limits|nolimits)(?![A-Za-z])"
)
_DELIMITED = re.compile(
    r"\\(?:left|right|bigl?|bigr?|Bigl?|Bigr?|biggl?|biggr?)(?![A-Za-z])\s*(\\[{}|]|[()\[\]|.])?"
)
_WRAPPERS = {
    "mathbf",
    "boldsymbol",
    "bm",
    "vec",
    "mathrm",
    "mathit",
    "text",
    "textrm",
    "textit",
    "operatorname",
    "mathsf",
    "mathnormal",
    "textbf",
    "mathbb",
    "mathcal",
    "overrightarrow",
}
_ACCENTS = {"hat": "hat", "bar": "bar", "tilde": "tilde", "dot": "dot", "widehat": "hat"}
_FUNCTION_COMMANDS = {
    "exp", "log", "ln", "tanh", "sinh", "cosh", "sech", "sqrt", "max", "sin", "cos", "tan",
}
_RELATION_COMMANDS = {
    "approx": "=", "equiv": "=", "simeq": "=", "coloneqq": "=", "eq": "=",
    "neq": "!=", "ne": "!=", "leq": "<=", "le": "<=", "geq": ">=", "ge": ">=", "lt": "<", "gt": ">",
}
_OPERATOR_COMMANDS = {
    "cdot": "·",
    "times": "*",
    "odot": "⊙",
    "circ": "⊙",
    "ast": "*",
    "div": "/",
    "top": "⊤",
    "intercal": "⊤",
    "prime": "'",
    "partial": "d",
    "pi": "π",
}
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = re.compile(r"[A-Za-z\u0370-\u03ff][A-Za-z0-9\u0370-\u03ff]*")


def normalise(text: str, limits: Limits) -> str:
    """Full-width forms folded, unicode and LaTeX noise removed, `$…$` unwrapped."""
    if len(text) > limits.max_length:
        raise AnswerParseError(
            f"your answer is {len(text):,} characters long; the limit is {limits.max_length:,}: "
            "write just the final formula", kind="limits")
    text = fold_width(text)
    for bad, good in _UNICODE.items():
        text = text.replace(bad, good)
    text = text.strip()
    for opening, closing in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if text.startswith(opening) and text.endswith(closing) and len(text) >= 2 * len(opening):
            text = text[len(opening) : len(text) - len(closing)].strip()
            break
    if "$" in text:
        raise AnswerParseError("your answer has a stray $: write one formula, with $ only around the whole of it")
    text = _SPACING.sub(" ", text)
    text = _DELIMITED.sub(_delimiter, text)
    text = text.replace("\\\\", " ").replace("~", " ")
    return text.replace(":=", "=")


def _delimiter(match: re.Match[str]) -> str:
    delim = match.group(1) or ""
    return {"\\{": "(", "\\}": ")", ".": " ", "\\|": "|"}.get(delim, delim)


def tokenize_normalised(text: str, limits: Limits) -> tuple[list[Token], str]:
    """The tokens and the normalised text their positions point into."""
    text = normalise(text, limits)
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        if len(tokens) > limits.max_tokens:
            raise AnswerParseError(
                f"your answer has more than {limits.max_tokens} symbols; write a shorter formula",
                kind="limits")
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        # isdecimal, as _NUMBER's \d: isdigit would also take superscripts such as ¹
        if ch.isdecimal() or (ch == "." and i + 1 < len(text) and text[i + 1].isdecimal()):
            match = _NUMBER.match(text, i)
            assert match is not None
            tokens.append(Token("NUM", match.group(), i))
            i = match.end()
            continue
        if ch == "\\":
            i = _command(text, i, tokens)
            continue
        if ch == "." and text.startswith(".T", i) and not _continues_ident(text, i + 2):
            tokens.append(Token("OP", ".T", i))
            i += 2
            continue
        if ch == "*" and text.startswith("**", i):
            tokens.append(Token("OP", "^", i))
            i += 2
            continue
        if ch == "_":
            i = _subscript(text, i, tokens)
            continue
        if ch in "=<>!":
            i = _relation(text, i, tokens)
            continue
        if ch in OPERATORS or ch == "⊤":
            tokens.append(Token("OP" if ch != "⊤" else "IDENT", ch, i))
            i += 1
            continue
        if ch == "π":
            tokens.append(Token("IDENT", "π", i))
            i += 1
            continue
        match = _IDENT.match(text, i)
        if match is not None:
            i = _identifier(match.group(), i, tokens)
            continue
        raise AnswerParseError(_unexpected(text, i), kind="character", text=text, position=i)
    tokens.append(Token("EOF", "", len(text)))
    _no_numbers_side_by_side(text, tokens)
    return tokens, text


def _relation(text: str, i: int, tokens: list[Token]) -> int:
    relation = next((r for r in RELATIONS if text.startswith(r, i)), None)
    if relation is None:  # a lone `!`
        raise AnswerParseError(_unexpected(text, i), kind="character", text=text, position=i)
    tokens.append(Token("REL", relation, i))
    return i + len(relation)


def _no_numbers_side_by_side(text: str, tokens: list[Token]) -> None:
    """`12 3` and `0..1` are errors, not the products 36 and 0·0.1."""
    for first, second in pairwise(tokens):
        if first.kind == "NUM" and second.kind == "NUM":
            if first.text.endswith(".") or second.text.startswith("."):
                message = (f"your answer has `{text[first.pos:second.pos + len(second.text)]}`, "
                           "a number with two decimal points")
            else:
                message = (f"your answer has two numbers side by side, {first.text} and "
                           f"{second.text}: write an operator between them (or give one number)")
            raise AnswerParseError(message, kind="adjacent_numbers", text=text,
                                   position=second.pos)


def _continues_ident(text: str, i: int) -> bool:
    return i < len(text) and (text[i].isalnum() or text[i] == "_")


def _identifier(word: str, pos: int, tokens: list[Token]) -> int:
    end = pos + len(word)
    if word[0] in GREEK_UNICODE and len(word) > 1 and word[1:].isdecimal():
        tokens.append(Token("IDENT", GREEK_UNICODE[word[0]] + word[1:], pos))  # `β1` is beta1
        return end
    if word[0] in GREEK_UNICODE and len(word) > 1 and word != "σ":
        # "δk" from unicode is rare; split a leading greek letter from what follows
        tokens.append(Token("IDENT", GREEK_UNICODE[word[0]], pos))
        return pos + 1
    tokens.append(Token("IDENT", GREEK_UNICODE.get(word, word), pos))
    return end


def _subscript(text: str, i: int, tokens: list[Token]) -> int:
    """`W_1`, `y_{hat}`, `delta_out`: glue the subscript to the identifier before it."""
    if not tokens or tokens[-1].kind != "IDENT":
        raise AnswerParseError(_unexpected(text, i), kind="character", text=text, position=i)
    j = i + 1
    if j < len(text) and text[j] == "{":
        close = text.find("}", j)
        if close < 0:
            raise AnswerParseError("your answer has a `_{` without its closing `}`")
        inner = text[j + 1 : close].strip()
        inner = re.sub(r"\\(?:text|mathrm|rm)\s*\{([^{}]*)\}", r"\1", inner).replace(" ", "")
        inner = inner.lstrip("\\")
        end = close + 1
    else:
        # `W_2W_1` is W_2 times W_1 (digits end a subscript); `delta_out` and `y_hat` are names
        match = re.compile(r"\d+|\\?[A-Za-z][A-Za-z0-9]*").match(text, j)
        if match is None:
            raise AnswerParseError(_unexpected(text, i), kind="character", text=text, position=i)
        inner = match.group().lstrip("\\")
        end = match.end()
    if not re.fullmatch(r"[A-Za-z0-9]+", inner or "-"):
        raise AnswerParseError(f"your answer has a subscript `_{inner}` the grader cannot read")
    last = tokens.pop()
    tokens.append(Token("IDENT", f"{last.text}_{inner}", last.pos))
    return end


def _command(text: str, i: int, tokens: list[Token]) -> int:
    match = re.compile(r"\\([A-Za-z]+)").match(text, i)
    if match is None:
        raise AnswerParseError(_unexpected(text, i), kind="character", text=text, position=i)
    name, end = match.group(1), match.end()
    if name in ("frac", "dfrac", "tfrac"):
        tokens.append(Token("FRAC", "\\frac", i))
        return end
    if name in _RELATION_COMMANDS:
        tokens.append(Token("REL", _RELATION_COMMANDS[name], i))
        return end
    if name == "sqrt" and text.startswith("[", end):
        raise AnswerParseError("your answer has a root other than a square root (\\sqrt[n]); "
                               "write it as a power, e.g. x^(1/3)", kind="unsupported")
    if name in _OPERATOR_COMMANDS:
        symbol = _OPERATOR_COMMANDS[name]
        kind = "IDENT" if symbol in ("⊤", "d", "π") else "OP"
        tokens.append(Token(kind, symbol, i))
        return end
    if name in GREEK and (digits := re.compile(r"\d+").match(text, end)) is not None:
        tokens.append(Token("IDENT", name + digits.group(), i))  # `\beta1` is beta1, as `β1`
        return digits.end()
    if name in GREEK or name == "sigma":
        tokens.append(Token("IDENT", name, i))
        return end
    if name in _FUNCTION_COMMANDS:
        tokens.append(Token("IDENT", name, i))
        return end
    if name in _WRAPPERS or name in _ACCENTS:
        return _wrapped(text, name, end, i, tokens)
    raise AnswerParseError(
        f"your answer uses the LaTeX command \\{name}, which the grader does not read"
    )


def _wrapped(text: str, name: str, end: int, start: int, tokens: list[Token]) -> int:
    """`\\mathbf{W}` is W, `\\text{sigmoid}` is sigmoid, `\\hat{y}` is y_hat."""
    rest = text[end:].lstrip()
    offset = len(text) - len(rest)
    match = re.compile(r"\{\s*\\?([A-Za-z]+[0-9]*)\s*\}|\\?([A-Za-z])").match(rest)
    if match is None:
        if name in _ACCENTS:
            raise AnswerParseError(f"your answer has \\{name} on something the grader cannot read")
        return end  # \mathbf{W_1 x}: the braces group what follows
    word = match.group(1) or match.group(2)
    if name in _ACCENTS:
        word = f"{word}_{_ACCENTS[name]}"
    if name == "mathsf" and word == "T":
        word = "⊤"
    tokens.append(Token("IDENT", word, start))
    return offset + match.end()


def _unexpected(text: str, i: int) -> str:
    snippet = text[i : i + 12]
    return f"your answer has {snippet!r}, which the grader cannot read"
