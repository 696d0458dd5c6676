"""Format hints that are never an answer.

Every "e.g. …" a student reads (the template, an invalid answer's "write it like …", the message
for a malformed answers file) comes from the neutral pools below, never from a rubric. For a
question, the first pool entry that its grading would not call `correct` or `partial` (for this
student's variant, and for every accepted convention and credited mistake) is the one shown, so an
instructor's own rubric whose answer happens to be a pool value still gets a hint that is not its
answer. Kinds whose answers are files, free text or whole networks get a form without values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the questions call `hint_for`; this module only asks them `gives_credit`
    from grader.checkers.base import GradingContext, QuestionBase

# Each entry: how the value is written in the hint, then the answers a student could paste.
NUMBER_WHOLE = ("2,359,296", "3,211,264", "5,308,416", "7,077,888")
NUMBER_SMALL = ("3.1e-4", "-7.5e-5", "2.6e-4", "-4.4e-4")
ARRAYS = ("[3, 5]", "[7, 11]", "[13, 2]")
ARRAYS_2D = "[[1, 2], [3, 4]]"
FORMULAS = ("3*tanh({v}/2) + {v}^3", "exp(-{v}^2)/2 + 5", "{v}^3 - 7*{v}")
FORMULAS_LATEX = ("\\frac{{1}}{{2}}\\sigma(3{v})", "\\frac{{5}}{{{v}^2 + 9}}", "7\\tanh({v}) - {v}")
MATRIX_FORMULAS = ("A.T @ (sigmoid_prime(u) * v)", "2 * B @ A.T - C", "relu(A @ u) * v")
INTERVALS = ("(-2, 3]", "[5, inf)", "(-inf, -7)")
EDGES = ('["in -> hidden", "hidden -> out"]', '["start -> middle", "middle -> end"]')
NETWORK = "{W1: [[...], ...], b1: [...], w2: [...], b2: -1.5}"
ANSWERS_FILE_LINE = "q9_layer_width: 2359296"
"""The example line of the malformed-answers-file message: a question id no built-in has."""


@dataclass(frozen=True)
class Hint:
    """`text` is what a person reads; `examples` are the same examples as answers, for tests."""

    text: str
    examples: tuple[Any, ...] = ()

    def write_it_like(self) -> str:
        """The tail of an invalid answer's message."""
        return f"; write {self.text}" if self.text else ""


def hint_for(q: QuestionBase, ctx: GradingContext | None = None) -> Hint:
    """The format hint of one question; with a context, chosen so it is not that student's answer."""
    build = _BUILDERS.get(q.kind)
    if build is None:
        return Hint(q.answer_hint)
    if ctx is None:
        built: Hint = build(q, None)
        return built
    key = f"hint\x00{ctx.student}\x00{q.id}"
    if key not in ctx.cache:
        ctx.cache[key] = build(q, ctx)
    cached: Hint = ctx.cache[key]
    return cached


def answers_file_hint() -> str:
    return f"your answers file should map question ids to answers, one per line, like `{ANSWERS_FILE_LINE}`"


def _safe(q: QuestionBase, candidate: Any, ctx: GradingContext | None) -> bool:
    """Whether grading `candidate` as the answer to `q` would give no credit."""
    if ctx is None:
        return True
    try:
        return not q.gives_credit(candidate, ctx)
    except Exception:  # a reader or a reference that fails: do not risk the candidate
        return False


def _first_safe(q: QuestionBase, pool: tuple[str, ...], ctx: GradingContext | None,
                answers: Any = None) -> str | None:
    for entry in pool:
        candidates = answers(entry) if answers else (entry,)
        if all(_safe(q, c, ctx) for c in candidates):
            return entry
    return None


def _number(q: QuestionBase, ctx: GradingContext | None) -> Hint:
    whole = _first_safe(q, NUMBER_WHOLE, ctx, lambda e: (e, e.replace(",", "")))
    small = _first_safe(q, NUMBER_SMALL, ctx)
    shown = [*((whole, whole.replace(",", "")) if whole else ()), *((small,) if small else ())]
    if not shown:
        return Hint("a number (digits, optionally with , separators or an e exponent)")
    text = "a number, e.g. " + (", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0])
    return Hint(text, tuple(shown))


def _array(q: QuestionBase, ctx: GradingContext | None) -> Hint:
    flat = _first_safe(q, ARRAYS, ctx)
    nested = ARRAYS_2D if _safe(q, ARRAYS_2D, ctx) else None
    shown = [e for e in (flat, nested) if e]
    if not shown:
        return Hint("a list of numbers in square brackets")
    return Hint("a list of numbers, e.g. " + " or ".join(shown), tuple(shown))


def _formula_variable(q: QuestionBase) -> str:
    names = [*getattr(q, "definitions", {}), *getattr(q, "variables", {})]
    return names[0] if names else "x"


def _expression(q: QuestionBase, ctx: GradingContext | None) -> Hint:
    var = _formula_variable(q)
    plain = _first_safe(q, tuple(f.format(v=var) for f in FORMULAS), ctx)
    latex = _first_safe(q, tuple(f.format(v=var) for f in FORMULAS_LATEX), ctx)
    if plain is None and latex is None:
        return Hint("a formula (plain, with * and ^, or LaTeX)")
    shown = [e for e in (plain, latex) if e]
    examples = f"{plain} or, in LaTeX, {latex}" if plain and latex else shown[0]
    text = f"a formula in plain text (* to multiply, ^ for powers) or LaTeX, e.g. {examples}"
    return Hint(text, tuple(shown))


def _matrix_expression(q: QuestionBase, ctx: GradingContext | None) -> Hint:
    example = _first_safe(q, MATRIX_FORMULAS, ctx)
    if example is None:
        return Hint("a formula in numpy notation over the question's symbols")
    return Hint(f"a formula in numpy notation over the question's symbols, e.g. {example} "
                "(@ a matrix product, * element-wise, .T a transpose)", (example,))


def _interval(q: QuestionBase, ctx: GradingContext | None) -> Hint:
    safe = [e for e in INTERVALS if _safe(q, e, ctx)][:2]
    if not safe:
        return Hint("an interval with brackets: ( ) open, [ ] closed, inf for infinity")
    return Hint("an interval, e.g. " + " or ".join(safe), tuple(safe))


def _choice(q: QuestionBase, ctx: GradingContext | None) -> Hint:
    options = ", ".join(getattr(q, "options", []))
    parts = int(getattr(q, "parts", 1))
    if parts == 1:
        return Hint(f"one of: {options}")
    slots = ", ".join(f"<part {i + 1}>" for i in range(parts))
    return Hint(f"a list [{slots}], each one of: {options}")


def _edges(q: QuestionBase, ctx: GradingContext | None) -> Hint:
    example = _first_safe(q, EDGES, ctx, lambda e: ([s.strip(' "') for s in e.strip("[]").split(",")],))
    nodes = ", ".join(getattr(q, "nodes", []))
    form = f'a list of edges "from -> to" over the nodes {nodes}'
    if example is None:
        return Hint(form)
    return Hint(f"{form}; the form (with other node names) is {example}", (example,))


def _fixed(text: str) -> Any:
    return lambda q, ctx: Hint(text)


_BUILDERS: dict[str, Any] = {
    "number": _number,
    "number_array": _array,
    "expression": _expression,
    "matrix_expression": _matrix_expression,
    "interval": _interval,
    "choice": _choice,
    "edges": _edges,
    "threshold_network": _fixed(f"a mapping of the named arrays, e.g. {NETWORK}"),
    "code": _fixed("the path of your Python file in your submission, e.g. solution.py"),
    "model": _fixed("a weights file in your submission: model.safetensors or model.pt"),
    "manual": _fixed("free text, graded by a person"),
    # a student bundle's format-only question: the hint chosen when the bundle was made
    "self_check_format": lambda q, ctx: Hint(getattr(q, "hint", "") or q.answer_hint),
}


def pool_examples() -> list[Any]:
    """Every example the pools can show, as answers (for the leak test)."""
    formulas = [f.format(v=v) for f in FORMULAS + FORMULAS_LATEX for v in ("x", "y", "z")]
    edges = [[s.strip(' "') for s in e.strip("[]").split(",")] for e in EDGES]
    return [*NUMBER_WHOLE, *(n.replace(",", "") for n in NUMBER_WHOLE), *NUMBER_SMALL, *ARRAYS,
            ARRAYS_2D, *formulas, *MATRIX_FORMULAS, *INTERVALS, *edges, 2359296]
