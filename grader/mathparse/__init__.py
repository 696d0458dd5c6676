"""Safe reading of formulas: plain text and LaTeX to a tree of our own, never `eval`.

`parse_scalar` and `parse_matrix` are the entry points for answers; `evaluate_constant` reads
arithmetic such as `2\\sqrt{52321} - 398` for number questions.
"""

from __future__ import annotations

from fractions import Fraction

from grader.mathparse.ast import Node, count_nodes, depth, to_text
from grader.mathparse.differentiate import expand_derivatives
from grader.mathparse.evaluate import check_constants
from grader.mathparse.limits import DEFAULT_LIMITS, Limits
from grader.mathparse.parser import ParseConfig, Sides, parse, parse_sides
from grader.parsing.errors import AnswerParseError

MAX_TREE_DEPTH = 200


def prepare(text: str, config: ParseConfig) -> Node:
    """Parse, expand d/dx, and check every limit: the tree is then safe to evaluate."""
    return _ready(parse(text, config), config)


def prepare_sides(text: str, config: ParseConfig) -> tuple[Node, ...]:
    """Every formula side of `A = B = F` (labels such as `dy/dx` dropped), each made ready as by
    `prepare`, the final formula last: for a checker that checks every side."""
    return tuple(_ready(side, config) for side in parse_sides(text, config).formulas)


def _ready(tree: Node, config: ParseConfig) -> Node:
    tree = expand_derivatives(tree)
    if count_nodes(tree) > config.limits.max_expanded_nodes or depth(tree) > MAX_TREE_DEPTH:
        raise AnswerParseError("your answer grows too large once its derivatives are worked out")
    check_constants(tree, config.limits)
    return tree


def parse_scalar(
    text: str,
    variables: frozenset[str] | set[str] = frozenset({"x"}),
    *,
    aliases: dict[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Node:
    config = ParseConfig("scalar", frozenset(variables), aliases=aliases or {}, limits=limits)
    return prepare(text, config)


def evaluate_constant(text: str) -> Fraction | float:
    """`784*64 + 64` -> 50240; `2\\sqrt{52321} - 398` -> 59.48…; else `AnswerParseError`."""
    from grader.mathparse.constant import evaluate_constant as _evaluate

    return _evaluate(text)


__all__ = [
    "DEFAULT_LIMITS",
    "AnswerParseError",
    "Limits",
    "Node",
    "ParseConfig",
    "Sides",
    "evaluate_constant",
    "parse",
    "parse_scalar",
    "parse_sides",
    "prepare",
    "prepare_sides",
    "to_text",
]
