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
from grader.mathparse.parser import ParseConfig, parse
from grader.parsing.errors import AnswerParseError

MAX_TREE_DEPTH = 200


def prepare(text: str, config: ParseConfig) -> Node:
    """Parse, expand d/dx, and check every limit: the tree is then safe to evaluate."""
    tree = parse(text, config)
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
    "evaluate_constant",
    "parse",
    "parse_scalar",
    "prepare",
    "to_text",
]
