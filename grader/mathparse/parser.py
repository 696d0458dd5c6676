"""Tokens to the tree of `ast.py` by recursive descent, with implicit products and LaTeX forms.

    expr    := term (('+' | '-') term)*
    term    := factor (('*' | '/' | '@' | '·' | '⊙' | <juxtaposition>) factor)*
    factor  := ('-' | '+') factor | power
    power   := postfix ('^' factor)?                  right-associative
    postfix := primary ('.T' | "'" | '^T')*           transposes: matrix answers only

Every name is resolved here against the question's variables and the whitelist; the depth and
node count are bounded while parsing, so a hostile answer fails fast with a message.

A relation splits the answer into sides (`parse_sides`). Only `=` (and `≈`, `:=`) may appear, and
only as a chain whose earlier sides are labels (`dy/dz = …`, `f'(x) = …`, `L = …`) or formulas
the caller checks too; `a != b`, `5==5` and `5>=5` are refused, never read as their last side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Literal

from grader.mathparse.ast import Bin, Call, Const, Deriv, Neg, Node, Num, Transpose, Var, to_text
from grader.mathparse.functions import CONSTANTS, FUNCTIONS, PRIMED, canonical_function, log_base
from grader.mathparse.lexer import CLOSING, EQUALITY, OPENING, Token, tokenize_normalised
from grader.mathparse.limits import DEFAULT_LIMITS, Limits
from grader.parsing.errors import AnswerParseError

Mode = Literal["scalar", "matrix"]

_PRODUCT_OPS = {"*": "*", "/": "/", "@": "@", "·": "*", "⊙": "*"}


@dataclass(frozen=True)
class ParseConfig:
    """What an answer may name: its variables, declared functions, and spellings of both."""

    mode: Mode = "scalar"
    variables: frozenset[str] = frozenset({"x"})
    functions: dict[str, str] = field(default_factory=dict)  # extra element-wise: written -> name
    primes: dict[str, str] = field(default_factory=dict)  # f -> fprime for `f'(z)`
    aliases: dict[str, str] = field(default_factory=dict)  # written -> variable
    limits: Limits = DEFAULT_LIMITS

    def describe_variables(self) -> str:
        names = sorted(self.variables)
        return ", ".join(names) if names else "no variables"


@dataclass(frozen=True)
class Sides:
    """An answer written as a chain `A = B = C`: its label sides and its formula sides, in order.

    The last side is always a formula. An earlier side is a label when it only names what is
    computed: a name (`L`, `y_hat`, `f(x)` for an undeclared f), a primed name (`f'(x)`,
    `tanh'(x)`, `σ'(2x)`), or a derivative quotient without an operand (`dy/dz`, `dL/dW_1`,
    `∂L/∂z`, `\\frac{dy}{dx}`, `\\frac{\\partial L}{\\partial W}`). Every other side is a formula."""

    labels: tuple[str, ...]
    formulas: tuple[Node, ...]


def parse(text: str, config: ParseConfig) -> Node:
    """The tree of one answer, or `AnswerParseError` with a student-facing message.

    A chain is read only when its earlier formula sides print exactly as its last side (`2x = 2*x`);
    callers that check every side of a chain use `parse_sides`."""
    sides = parse_sides(text, config)
    last = sides.formulas[-1]
    shown = to_text(last)
    if any(to_text(side) != shown for side in sides.formulas[:-1]):
        raise AnswerParseError(
            f"your answer writes a chain of {len(sides.formulas)} formulas joined by `=`; "
            "write only the final formula (a left side that names it, such as dy/dx =, "
            "f'(x) = or L =, is fine)",
            kind="relation",
        )
    return last


def parse_sides(text: str, config: ParseConfig) -> Sides:
    """Every side of `A = B = …`, labels kept as written, formulas parsed."""
    if not isinstance(text, str):
        raise AnswerParseError("your answer is not a formula: write it as text")
    tokens, normalised = tokenize_normalised(text, config.limits)
    if tokens[0].kind == "EOF":
        raise AnswerParseError("your answer has no formula in it", kind="empty")
    parts = _split_relations(tokens, normalised)
    labels: list[str] = []
    formulas: list[Node] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if not last and _is_label(part, config):
            labels.append(normalised[part[0].pos : part[-1].pos + len(part[-1].text)])
            continue
        end = parts[index + 1][0].pos if not last else len(normalised)
        side = [*part, Token("EOF", "", end)]
        formulas.append(_Parser(side, config, normalised).parse_all())
    return Sides(tuple(labels), tuple(formulas))


def _split_relations(tokens: list[Token], text: str) -> list[list[Token]]:
    """The sides between REL tokens; anything but `=` is refused; `= x` is just x."""
    parts: list[list[Token]] = [[]]
    for token in tokens[:-1]:
        if token.kind != "REL":
            parts[-1].append(token)
            continue
        if token.text != EQUALITY:
            raise AnswerParseError(
                f"your answer is a comparison (`{token.text}`), not a formula: write just the "
                "formula", kind="relation", text=text, position=token.pos,
            )
        parts.append([])
    if not parts[0] and len(parts) > 1:  # "= 2x": a leading `=` from a worked line
        parts.pop(0)
    for part, following in zip(parts, [*parts[1:], None], strict=True):
        if not part:
            where = following[0].pos if following else len(text)
            raise AnswerParseError("your answer has an `=` with nothing on one side",
                                   kind="relation", text=text, position=where)
    return parts


def _is_label(part: list[Token], config: ParseConfig) -> bool:
    return _is_name_label(part, config) or _is_quotient_label(part)


def _is_name_label(part: list[Token], config: ParseConfig) -> bool:
    """`L`, `y_hat`, `f(x)` (f not a variable or function), `f'(x)`, `tanh'(x)`, `σ'(2x)`."""
    if part[0].kind != "IDENT":
        return False
    primes = 0
    while 1 + primes < len(part) and part[1 + primes].text == "'":
        primes += 1
    rest = part[1 + primes :]
    if not rest:
        return True
    name = part[0].text
    callable_name = primes > 0 or (
        name not in config.variables and canonical_function(name, config.functions) is None
    )
    return callable_name and _one_bracket_group(rest)


def _one_bracket_group(rest: list[Token]) -> bool:
    if rest[0].text not in OPENING or rest[-1].text != OPENING[rest[0].text]:
        return False
    depth = 0
    for index, token in enumerate(rest):
        depth += token.text in OPENING
        depth -= token.text in CLOSING
        if depth == 0 and index < len(rest) - 1:
            return False
    return True


def _is_quotient_label(part: list[Token]) -> bool:
    """`dy/dz`, `d y / d z`, `∂L/∂W_1`, `\\frac{dy}{dx}`, `\\frac{\\partial L}{\\partial W}`."""
    texts = [t.text for t in part]
    if texts.count("/") == 1 and part[0].kind != "FRAC":
        slash = texts.index("/")
        return _is_differential(part[:slash]) and _is_differential(part[slash + 1 :])
    if part[0].kind == "FRAC" and len(part) > 1 and texts[1] == "{":
        close = _group_end(texts, 1)
        if close is None or close + 1 >= len(texts) or texts[close + 1] != "{":
            return False
        end = _group_end(texts, close + 1)
        return (
            end == len(texts) - 1
            and _is_differential(part[2:close])
            and _is_differential(part[close + 2 : end])
        )
    return False


def _group_end(texts: list[str], start: int) -> int | None:
    depth = 0
    for index in range(start, len(texts)):
        depth += texts[index] == "{"
        depth -= texts[index] == "}"
        if depth == 0:
            return index
    return None


def _is_differential(part: list[Token]) -> bool:
    """`dy`, `dW_1`, `d y`, `∂ L` (∂ is read as d)."""
    if len(part) == 1:
        return part[0].kind == "IDENT" and part[0].text.startswith("d") and len(part[0].text) > 1
    return len(part) == 2 and part[0].text == "d" and part[1].kind == "IDENT"


class _Parser:
    def __init__(self, tokens: list[Token], config: ParseConfig, text: str = "") -> None:
        self.tokens = tokens
        self.text = text  # the normalised answer the token positions point into
        self.i = 0
        self.config = config
        self.depth = 0
        self.nodes = 0

    # -- helpers ----------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def at(self, kind: str, text: str | None = None, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == kind and (text is None or token.text == text)

    def expect(self, text: str) -> None:
        token = self.advance()
        if token.text != text:
            found = "the end" if token.kind == "EOF" else repr(token.text)
            raise self.error(f"your answer is missing a `{text}`: found {found} instead",
                             "syntax", token)

    def close(self, opening: Token) -> None:
        """The bracket that closes `opening`, of the same kind: `([x)]` is an error naming both."""
        wanted = OPENING[opening.text]
        token = self.peek()
        if token.text == wanted:
            self.advance()
            return
        if token.text in CLOSING:
            raise self.error(
                f"your answer opens `{opening.text}` at character {opening.pos + 1} but closes it "
                f"with `{token.text}`: brackets must match", "brackets", token)
        found = "the end" if token.kind == "EOF" else repr(token.text)
        raise self.error(
            f"your answer is missing a `{wanted}` for the `{opening.text}` at character "
            f"{opening.pos + 1}: found {found} instead", "brackets", token)

    def error(self, message: str, kind: str, token: Token) -> AnswerParseError:
        return AnswerParseError(message, kind=kind, text=self.text or None, position=token.pos)

    def made(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > self.config.limits.max_nodes:
            raise AnswerParseError(
                f"your answer is too long (over {self.config.limits.max_nodes} terms); simplify it",
                kind="limits")
        return node

    def nested(self, parse_fn: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > self.config.limits.max_depth:
            raise AnswerParseError(
                "your answer nests brackets or powers more than "
                f"{self.config.limits.max_depth} deep", kind="limits")
        try:
            return parse_fn()
        finally:
            self.depth -= 1

    @property
    def matrix(self) -> bool:
        return self.config.mode == "matrix"

    # -- grammar ----------------------------------------------------------------------------

    def parse_all(self) -> Node:
        node = self.expr()
        if not self.at("EOF"):
            token = self.peek()
            if token.text in CLOSING:
                raise self.error(f"your answer has an unmatched `{token.text}`", "brackets", token)
            raise self.error(
                f"your answer has {token.text!r} where the grader expected an operator",
                "syntax", token)
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.at("OP", "+") or self.at("OP", "-"):
            op = self.advance().text
            node = self.made(Bin(op, node, self.term()))
        return node

    def term(self) -> Node:
        node = self.factor()
        while True:
            token = self.peek()
            if token.kind == "OP" and token.text in _PRODUCT_OPS:
                self.advance()
                op = _PRODUCT_OPS[token.text]
                if op == "@" and not self.matrix:  # no scalar evaluator knows it
                    raise AnswerParseError(
                        f"your answer uses @ (a matrix product) at character {token.pos + 1}; "
                        "this question takes a formula of scalars: write * to multiply",
                        kind="unsupported")
                if token.text == "·" and self.matrix:
                    op = "dot"
                node = self.made(Bin(op, node, self.factor()))
            elif self.starts_operand():
                node = self.made(self.juxtapose(node, self.factor))
            else:
                return node

    def juxtapose(self, left: Node, right_fn: Callable[[], Node]) -> Node:
        """`2x` is a product; in matrix answers `W2 W1` is a matrix product, as in print."""
        if self.matrix and not isinstance(left, Num):
            return Bin("dot", left, right_fn())
        return Bin("*", left, right_fn())

    def starts_operand(self) -> bool:
        token = self.peek()
        return token.kind in ("NUM", "IDENT", "FRAC") or (token.kind == "OP" and token.text in "([{√")

    def factor(self) -> Node:
        if self.at("OP", "-"):
            self.advance()
            return self.made(Neg(self.nested(self.factor)))
        if self.at("OP", "+"):
            self.advance()
            return self.nested(self.factor)
        if self.at("OP", "√"):  # `√x`, `√52321`, `2√x`: the root of the next factor, like a sign
            token = self.advance()
            if self.at("EOF"):
                raise self.error("your answer has √ with nothing after it", "syntax", token)
            return self.made(Call("sqrt", (self.nested(self.factor),)))
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        if not self.at("OP", "^"):
            return base
        self.advance()
        if self.transpose_mark():
            return self.postfix_tail(self.made(Transpose(base)))
        return self.made(Bin("^", base, self.nested(self.factor)))

    def transpose_mark(self) -> bool:
        """After `^`: `T`, `⊤`, `{T}` mean a transpose in matrix answers."""
        marks = ("T", "⊤")
        if (
            self.at("IDENT")
            and self.peek().text in marks
            and not self.is_variable(self.peek().text)
        ):
            self.require_matrix("a transpose")
            self.advance()
            return True
        if self.at("OP", "{") and self.peek(1).text in marks and self.at("OP", "}", ahead=2):
            self.require_matrix("a transpose")
            self.i += 3
            return True
        return False

    def require_matrix(self, what: str) -> None:
        if not self.matrix:
            raise AnswerParseError(
                f"your answer has {what}, but this question takes a scalar formula",
                kind="unsupported")

    def postfix(self) -> Node:
        return self.postfix_tail(self.nested(self.primary))

    def postfix_tail(self, node: Node) -> Node:
        while self.at("OP", ".T") or self.at("OP", "'"):
            mark = self.advance().text
            if not self.matrix:
                if mark == "'":
                    raise AnswerParseError(
                        "your answer has a prime (') on something that is not a function name; "
                        "write a function's derivative as σ'(u), or the derivative itself"
                    )
                self.require_matrix("`.T`")
            node = self.made(Transpose(node))
        return node

    def primary(self) -> Node:
        token = self.peek()
        if token.kind == "NUM":
            self.advance()
            return self.made(Num(self.number(token.text)))
        if token.kind == "OP" and token.text in OPENING:
            self.advance()
            inner = self.expr()
            self.close(token)
            return inner
        if token.kind == "OP" and token.text == "|":
            self.advance()
            inner = self.expr()
            self.expect("|")
            return self.made(Call("abs", (inner,)))
        if token.kind == "FRAC":
            self.advance()
            return self.fraction()
        if token.kind == "IDENT":
            return self.identifier()
        if token.kind == "EOF":
            raise self.error(
                "your answer ends where the grader expected more (a term after an operator?)",
                "syntax", token)
        raise self.error(f"your answer has {token.text!r} where the grader expected a term",
                         "syntax", token)

    def number(self, text: str) -> Fraction:
        limits = self.config.limits
        mantissa, _, exponent = text.lower().partition("e")
        if exponent and abs(int(exponent)) > limits.max_decimal_exponent:
            raise AnswerParseError(
                f"your answer has the number {text}, whose exponent is out of range", kind="limits")
        if len(mantissa.replace(".", "").lstrip("0")) > limits.max_integer_digits:
            raise AnswerParseError(
                f"your answer has a number with more than {limits.max_integer_digits} digits",
                kind="limits")
        try:
            return Fraction(Decimal(text))
        except (InvalidOperation, ValueError):
            raise AnswerParseError(f"your answer has {text!r}, which is not a number") from None

    # -- \frac and d/dx -------------------------------------------------------------------------

    def group(self) -> Node:
        """A LaTeX argument: `{…}` or a single token (`\\frac12`)."""
        if self.at("OP", "{"):
            opening = self.advance()
            inner = self.expr()
            self.close(opening)
            return inner
        if self.at("NUM") and len(self.peek().text) == 2 and self.peek().text.isdigit():
            token = self.advance()
            self.tokens.insert(self.i, Token("NUM", token.text[1], token.pos + 1))
            return self.made(Num(Fraction(int(token.text[0]))))
        return self.nested(self.postfix)

    def fraction(self) -> Node:
        var = self.fraction_derivative()
        if var is not None:
            return var
        top = self.nested(self.group)
        bottom = self.nested(self.group)
        return self.made(Bin("/", top, bottom))

    def fraction_derivative(self) -> Node | None:
        """`\\frac{d}{dx} X` or `\\frac{d X}{dx}`; None when the fraction is not a derivative."""
        if not (self.at("OP", "{") and self.at("IDENT", "d", ahead=1)) or self.is_variable("d"):
            return None
        close = self.matching(self.i)
        denominator = self.derivative_variable(close + 1)
        if denominator is None:
            return None
        var, after = denominator
        self.i += 2  # `{` and `d`
        if self.i == close:  # \frac{d}{dx} X
            self.i = after
            return self.made(Deriv(self.nested(self.operand), var))
        inner = self.expr()
        self.expect("}")
        self.i = after
        return self.made(Deriv(inner, var))

    def matching(self, start: int) -> int:
        depth = 0
        for index in range(start, len(self.tokens)):
            text = self.tokens[index].text
            depth += text == "{"
            depth -= text == "}"
            if depth == 0:
                return index
        raise AnswerParseError("your answer has a `{` without its closing `}`")

    def derivative_variable(self, start: int) -> tuple[str, int] | None:
        """`{dx}` or `{d x}` at `start`: the variable and the index after the group."""

        def tok(k: int) -> Token:
            return self.tokens[min(k, len(self.tokens) - 1)]

        if tok(start).text != "{":
            return None
        first, second, third = tok(start + 1), tok(start + 2), tok(start + 3)
        if first.kind == "IDENT" and second.text == "}":
            name = first.text
            if name.startswith("d") and self.is_variable(name[1:]):
                return name[1:], start + 3
        if (
            first.text == "d"
            and second.kind == "IDENT"
            and third.text == "}"
            and self.is_variable(second.text)
        ):
            return second.text, start + 4
        return None

    def plain_derivative(self) -> Node | None:
        """`d/dx X` and `d/dx(X)`."""
        if self.is_variable("d") or not self.at("OP", "/", ahead=1):
            return None
        nxt = self.peek(2)
        if nxt.kind == "IDENT" and nxt.text.startswith("d") and self.is_variable(nxt.text[1:]):
            self.i += 3
            return self.made(Deriv(self.nested(self.operand), nxt.text[1:]))
        if nxt.text == "d" and self.at("IDENT", ahead=3) and self.is_variable(self.peek(3).text):
            var = self.peek(3).text
            self.i += 4
            return self.made(Deriv(self.nested(self.operand), var))
        return None

    def operand(self) -> Node:
        """What a function or d/dx applies to without brackets: `tanh 2x`, `d/dx σ(2x)`."""
        node = self.power()
        while self.starts_operand() and not self.at("FRAC"):
            node = self.made(Bin("*", node, self.power()))
        return node

    # -- names ----------------------------------------------------------------------------------

    def is_variable(self, name: str) -> bool:
        return self.resolve_variable(name) is not None

    def resolve_variable(self, name: str) -> str | None:
        """The declared variable `name` denotes; `beta_1`, `beta1` and `β1` name the same one."""
        variables = self.config.variables
        for candidate in (name, self.config.aliases.get(name), name.replace("_", "")):
            if candidate in variables:
                return candidate
            if candidate is not None and candidate in self.config.aliases:
                return self.config.aliases[candidate]
        if "_" in name or any(ch.isdecimal() for ch in name):
            squashed = name.replace("_", "")
            matches = [v for v in variables if v.replace("_", "") == squashed]
            if len(matches) == 1:
                return matches[0]
        return None

    def identifier(self) -> Node:
        token = self.advance()
        name = token.text
        if name == "d" and (derivative := self.plain_derivative_from_here()) is not None:
            return derivative
        variable = self.resolve_variable(name)
        if variable is not None:
            return self.made(Var(variable))
        if name in CONSTANTS:
            return self.made(Const(CONSTANTS[name]))
        function = canonical_function(name, self.config.functions)
        if function is not None:
            return self.function(function, name)
        base = log_base(name)
        if base is not None:
            return self.logarithm(base, name, token)
        if name in ("T", "⊤"):
            raise AnswerParseError(
                "your answer has a transpose mark T that is not after `^` or `.`"
            )
        if self.split_name(token):
            return self.identifier()
        raise self.error(self.unknown_name(name), "unknown_name", token)

    def plain_derivative_from_here(self) -> Node | None:
        self.i -= 1
        found = self.plain_derivative()
        if found is None:
            self.i += 1
        return found

    def split_name(self, token: Token) -> bool:
        """`xy` as x·y when both are declared variables (scalar answers only).

        The run is replaced by one token per variable before anything binds, so `xy^2` is x·y²
        and `nm^(-1)` is n·m⁻¹, as in print. True when the tokens were replaced."""
        name = token.text
        if self.matrix or len(name) > 6:
            return False
        known = sorted(self.config.variables | {"e"}, key=len, reverse=True)
        parts: list[str] = []
        rest = name
        while rest:
            head = next((k for k in known if rest.startswith(k) and k), None)
            if head is None:
                return False
            parts.append(head)
            rest = rest[len(head) :]
        offsets = [sum(len(p) for p in parts[:k]) for k in range(len(parts))]
        self.i -= 1  # back to the run itself, which the split tokens replace
        self.tokens[self.i : self.i + 1] = [
            Token("IDENT", part, token.pos + offset)
            for part, offset in zip(parts, offsets, strict=True)
        ]
        return True

    def unknown_name(self, name: str) -> str:
        if name.startswith("_") or "__" in name or name in ("import", "lambda", "eval", "exec"):
            return f"your answer uses {name!r}, which is not part of a formula"
        return (
            f"your answer uses {name!r}, which is neither a variable of this question "
            f"({self.config.describe_variables()}) nor a function the grader knows"
        )

    def function(self, function: str, written: str) -> Node:
        spec = FUNCTIONS.get(function)
        if spec is not None and not (spec.matrix if self.matrix else spec.scalar):
            raise AnswerParseError(
                f"your answer uses {written}, which does not apply to this question",
                kind="unsupported")
        if self.at("OP", "'"):
            self.advance()
            primed = PRIMED.get(function) or self.config.primes.get(function)
            if primed is None:
                raise AnswerParseError(
                    f"your answer writes {written}', which the grader does not know"
                )
            function = primed
        exponent: Node | None = None
        if self.at("OP", "^"):  # σ^2(2x) means (σ(2x))²
            self.advance()
            exponent = self.nested(self.power_exponent)
        args = self.arguments(written)
        arity = FUNCTIONS[function].arity if function in FUNCTIONS else 1
        if len(args) != arity:
            raise AnswerParseError(
                f"your answer gives {written} {len(args)} argument(s); it takes {arity}"
            )
        call = self.made(Call(function, tuple(args)))
        return call if exponent is None else self.made(Bin("^", call, exponent))

    def logarithm(self, base_text: str, written: str, token: Token) -> Node:
        """`log_2(x)`, `log10 x`, `\\log_{10}(x)`, `log_b(x)` for a variable b: log(u)/log(base)."""
        base: Node
        if base_text == "e":
            base = Const("e")
        elif base_text.isdecimal() and int(base_text) >= 2:
            base = Num(self.number(base_text))
        elif (variable := self.resolve_variable(base_text)) is not None:
            base = Var(variable)
        else:
            raise self.error(f"your answer has the logarithm {written}, whose base the grader "
                             "cannot read: write log_2(x), log10(x) or ln(x)", "unknown_name", token)
        args = self.arguments(written)
        if len(args) != 1:
            raise self.error(f"your answer gives {written} {len(args)} arguments; it takes 1",
                             "syntax", token)
        numerator = self.made(Call("log", (args[0],)))
        if isinstance(base, Const):
            return numerator
        return self.made(Bin("/", numerator, self.made(Call("log", (base,)))))

    def power_exponent(self) -> Node:
        if self.at("OP", "-") and self.at("NUM", "1", ahead=1):
            raise AnswerParseError(
                "your answer has an inverse function (^-1), which the grader does not read",
                kind="unsupported")
        if self.at("OP", "{") and self.at("OP", "-", ahead=1):
            raise AnswerParseError(
                "your answer has an inverse function (^{-1}), which the grader does not read",
                kind="unsupported")
        return self.primary()

    def arguments(self, written: str) -> list[Node]:
        if self.peek().kind == "OP" and self.peek().text in OPENING:
            opening = self.advance()
            if self.at("OP", OPENING[opening.text]):
                raise self.error(
                    f"your answer calls {written} with nothing inside the brackets",
                    "syntax", opening)
            args = [self.expr()]
            while self.at("OP", ","):
                self.advance()
                args.append(self.expr())
            self.close(opening)
            return args
        if not self.starts_operand():
            raise AnswerParseError(
                f"your answer has {written} without an argument: write {written}(…)"
            )
        return [self.nested(self.operand)]
