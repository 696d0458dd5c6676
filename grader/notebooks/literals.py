"""One value from a code cell, read from its syntax tree: never `eval`, and not
`ast.literal_eval` either (it has no size limits and reads floats as binary floats).

Numbers become `int` or the exact `Decimal` written (as an answers file gives them), tuples
become lists, `np.array([...])` is its list, and a mapping's bare keys (`{W1: ...}`) are names.
Any other single expression comes back as its source text, which the question then reads with
its own safe parser (`784*64 + 64`, `y*(1-y)`), exactly as if the student had quoted it.
"""

from __future__ import annotations

import ast
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_NODES = 200_000
MAX_DEPTH = 32  # as deep as an answers file may nest (grader.core.submission.MAX_NESTING)
_ARRAY_CALLS = {"array", "asarray", "tensor"}


class LiteralError(Exception):
    """The cell cannot be read as one value; the message completes "your answer ... cannot be read: "."""


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


EMPTY = _Sentinel("EMPTY")  # the cell holds no answer yet
CODE = _Sentinel("CODE")  # the cell defines functions or imports: code for a code question
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)


def cell_value(source: str) -> Any:
    """The value a code cell holds, EMPTY, or CODE; `LiteralError` when it is neither."""
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise LiteralError(f"it is not valid Python (line {err.lineno}: {err.msg})") from None
    except (RecursionError, MemoryError, ValueError) as err:
        raise LiteralError(f"it is too large or nested too deeply to read ({type(err).__name__})") from None
    body = [s for s in tree.body if not _is_placeholder(s)]
    if not body:
        return EMPTY
    if any(isinstance(s, _DEFINITIONS) for s in body):
        return CODE
    if len(body) > 1:
        raise LiteralError(f"it holds {len(body)} statements; write just the value")
    node = _value_node(body[0])
    if node is None:
        raise LiteralError("it is a statement, not a value; write just the value")
    if _thousands(node, source):
        return _Reader(source).segment(node)  # `1,153,840` is a number with separators, not a tuple
    return read_value(node, source)


def _thousands(node: ast.expr, source: str) -> bool:
    """An unparenthesised tuple of whole numbers, as `1,153,840` parses."""
    return (isinstance(node, ast.Tuple) and len(node.elts) > 1 and not _Reader(source).segment(node).startswith("(")
            and all(isinstance(e, ast.Constant) and type(e.value) is int for e in node.elts))


def _is_placeholder(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis


def _value_node(stmt: ast.stmt) -> ast.expr | None:
    if isinstance(stmt, ast.Expr):
        return stmt.value
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.value  # `q3 = 1153840` reads as 1153840
    if isinstance(stmt, ast.AnnAssign) and stmt.value is not None and isinstance(stmt.target, ast.Name):
        return stmt.value
    return None


def read_value(node: ast.expr, source: str) -> Any:
    """The literal `node` spells, or its source text when it is no literal."""
    reader = _Reader(source)
    try:
        return reader.literal(node, 1)
    except _NotLiteral:
        text = reader.segment(node)
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            return EMPTY
        return text


class _NotLiteral(Exception):
    pass


class _Reader:
    def __init__(self, source: str) -> None:
        self.lines = [line.encode() for line in source.splitlines(keepends=True)]
        self.nodes = 0

    def segment(self, node: ast.expr) -> str:
        """The node's source text (`col_offset` counts UTF-8 bytes)."""
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        end = node.end_col_offset if node.end_col_offset is not None else len(self.lines[last])
        if first == last:
            return self.lines[first][node.col_offset:end].decode(errors="replace")
        chunks = [self.lines[first][node.col_offset:], *self.lines[first + 1:last], self.lines[last][:end]]
        return b"".join(chunks).decode(errors="replace")

    def literal(self, node: ast.expr, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise LiteralError(f"it has more than {MAX_NODES:,} parts; write just the answer")
        if depth > MAX_DEPTH:
            raise LiteralError(f"it is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = self.literal(node.operand, depth)
            if isinstance(value, bool) or not isinstance(value, int | Decimal):
                raise _NotLiteral
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.List | ast.Tuple):
            return [self.literal(item, depth + 1) for item in node.elts]
        if isinstance(node, ast.Dict):
            return self._mapping(node, depth)
        if isinstance(node, ast.Call) and _array_call(node):
            return self.literal(node.args[0], depth)
        raise _NotLiteral

    def _constant(self, node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, float):
            try:  # the decimals as written, not the nearest binary float
                return Decimal(self.segment(node).replace("_", ""))
            except InvalidOperation:
                return Decimal(repr(value))
        if value is None or isinstance(value, bool | int | str):
            return value
        raise _NotLiteral  # bytes, complex numbers, ...

    def _mapping(self, node: ast.Dict, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if isinstance(key_node, ast.Name):
                key = key_node.id
            elif isinstance(key_node, ast.Constant) and isinstance(key_node.value, str | int):
                key = str(key_node.value)
            else:
                raise _NotLiteral
            if key in result:
                raise LiteralError(f"{key!r} appears twice in it")
            result[key] = self.literal(value_node, depth + 1)
        return result


def _array_call(node: ast.Call) -> bool:
    """`np.array([...])`, `numpy.asarray(...)`, `torch.tensor(...)`, `array(...)`: one argument."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    keywords_ok = all(k.arg == "dtype" for k in node.keywords)
    return name in _ARRAY_CALLS and len(node.args) == 1 and keywords_ok
