"""Where a one-variable formula stops being analytic, and the probe points that cover every piece.

Breakpoints are the zeros of the arguments of relu, abs, relu′, sqrt, log, of denominators and of
the bases of non-integer powers. A polynomial argument (rational coefficients, read off our own
tree) has its real roots isolated exactly by sympy; any other argument is scanned for sign changes
on a fixed log-spaced grid and each change is narrowed by bisection in ball arithmetic.
Work is bounded by counts (degrees, grid size, bisection steps), never by time.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from fractions import Fraction

from grader.mathparse.ast import Bin, Call, Const, Neg, Node, Num, Var, free_variables, walk
from grader.mathparse.balls import (
    BALL_FUNCTIONS,
    EDGED,
    ENTIRE,
    Compiled,
    Indeterminate,
    Undefined,
    Unsupported,
    compile_ball,
    evaluate_ball,
)
from grader.parsing.errors import AnswerParseError

MAX_DEGREE = 24  # of a polynomial argument whose roots are isolated exactly
MAX_POLYNOMIAL_BITS = 6000  # summed sizes of its rational coefficients (sympy's work grows so)
MAX_BREAKPOINTS = 60
BISECTION_STEPS = 80
SCAN_PRECISION = 256
ZERO_RADIUS = 2.0**-200
FAR = 10**300  # no breakpoint or probe beyond |t| = 1e300
FAR_EXPONENTS = (1, 2, 3, 5, 8, 13, 20, 50, 100, 200, 300)


class Undecidable(Exception):
    """The structure is beyond the procedure's budgets (the answer goes to a person)."""


_POSITIVE_FUNCTIONS = frozenset(
    {"exp", "sigmoid", "sigmoid_prime", "cosh", "sech", "softplus", "tanh_prime"}
)


def positive(node: Node) -> bool:
    """Provably > 0 for every real value of the variables (a small structural prover)."""
    if isinstance(node, Num):
        return node.value > 0
    if isinstance(node, Const):
        return True
    if isinstance(node, Call):
        return node.func in _POSITIVE_FUNCTIONS
    if isinstance(node, Bin):
        if node.op == "+":
            return (positive(node.left) and nonnegative(node.right)) or (
                nonnegative(node.left) and positive(node.right))
        if node.op in ("*", "/", "dot"):
            return positive(node.left) and positive(node.right)
        if node.op == "^":
            return positive(node.left) or (_natural_exponent(node.right) and isinstance(
                node.right, Num) and node.right.value == 0)
    return False


def nonnegative(node: Node) -> bool:
    if positive(node):
        return True
    if isinstance(node, Num):
        return node.value >= 0
    if isinstance(node, Call):
        return node.func in ("abs", "relu", "relu_prime", "sqrt")
    if isinstance(node, Bin):
        if node.op == "+":
            return nonnegative(node.left) and nonnegative(node.right)
        if node.op in ("*", "dot"):
            return nonnegative(node.left) and nonnegative(node.right)
        if node.op == "^" and isinstance(node.right, Num) and node.right.value.denominator == 1:
            return int(node.right.value) % 2 == 0 or nonnegative(node.left)
    return False


def critical_arguments(node: Node) -> list[Node]:
    """Every sub-expression whose zeros may be a kink, step, pole or domain edge (arguments
    that are provably positive everywhere have none)."""
    return [arg for arg in _candidate_arguments(node) if not positive(arg)]


def _candidate_arguments(node: Node) -> list[Node]:
    found: list[Node] = []
    for current in walk(node):
        if isinstance(current, Call):
            if current.func in EDGED:
                found.append(current.args[0])
            elif current.func == "tan":
                found.append(Call("cos", current.args))
            elif current.func not in ENTIRE or current.func not in BALL_FUNCTIONS:
                raise Unsupported(current.func)
        elif isinstance(current, Bin):
            if current.op == "/":
                found.append(current.right)
            elif current.op == "^" and not _natural_exponent(current.right):
                found.append(current.left)
    return found


def _natural_exponent(node: Node) -> bool:
    return isinstance(node, Num) and node.value.denominator == 1 and node.value >= 0


# --- roots ---------------------------------------------------------------------------------------


def polynomial(node: Node, var: str) -> list[Fraction] | None:
    """Coefficients (constant first) when `node` is a polynomial in `var` with rational
    coefficients and degree ≤ MAX_DEGREE; else None."""
    if isinstance(node, Num):
        return [node.value]
    if isinstance(node, Var):
        return [Fraction(0), Fraction(1)] if node.name == var else None
    if isinstance(node, Neg):
        inner = polynomial(node.operand, var)
        return None if inner is None else [-c for c in inner]
    if not isinstance(node, Bin):
        return None
    if node.op == "^":
        base = polynomial(node.left, var)
        if base is None or not _natural_exponent(node.right):
            return None
        assert isinstance(node.right, Num)
        power = int(node.right.value)
        if (len(base) - 1) * power > MAX_DEGREE:
            return None
        result = [Fraction(1)]
        for _ in range(power):
            result = _times(result, base)
        return result
    a, b = polynomial(node.left, var), polynomial(node.right, var)
    if a is None or b is None:
        return None
    if node.op == "+":
        return _plus(a, b)
    if node.op == "-":
        return _plus(a, [-c for c in b])
    if node.op in ("*", "dot"):
        return None if len(a) + len(b) - 2 > MAX_DEGREE else _times(a, b)
    if node.op == "/" and len(_trim(b)) == 1 and b[0] != 0:
        return [c / b[0] for c in a]
    return None


def _polynomial_shape(node: Node) -> bool:
    """Built from numbers, variables, + − × and natural powers only (whatever its degree)."""
    return all(
        isinstance(n, Num | Var | Neg)
        or (isinstance(n, Bin) and (n.op in ("+", "-", "*", "dot")
                                    or (n.op == "^" and _natural_exponent(n.right))))
        for n in walk(node)
    )


def _plus(a: list[Fraction], b: list[Fraction]) -> list[Fraction]:
    size = max(len(a), len(b))
    zero = Fraction(0)
    return [(a[i] if i < len(a) else zero) + (b[i] if i < len(b) else zero) for i in range(size)]


def _times(a: list[Fraction], b: list[Fraction]) -> list[Fraction]:
    out = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b):
                out[i + j] += x * y
    return out


def _trim(coefficients: list[Fraction]) -> list[Fraction]:
    out = list(coefficients)
    while len(out) > 1 and out[-1] == 0:
        out.pop()
    return out


def polynomial_roots(coefficients: list[Fraction]) -> list[Fraction]:
    """Every real root, each to within 2^-100 of its size, by sympy's exact root isolation."""
    import sympy

    coefficients = _trim(coefficients)
    if len(coefficients) <= 1:
        return []
    bits = sum(c.numerator.bit_length() + c.denominator.bit_length() for c in coefficients)
    if bits > MAX_POLYNOMIAL_BITS:
        raise Undecidable("a polynomial with too large coefficients inside relu, abs, …")
    if len(coefficients) == 2:
        root = -coefficients[0] / coefficients[1]
        return [root] if abs(root) <= FAR else []
    t = sympy.Symbol("t")
    poly = sympy.Poly(
        [sympy.Rational(c.numerator, c.denominator) for c in reversed(coefficients)], t,
        domain="QQ",
    )
    roots = []
    for (low, high), _multiplicity in poly.intervals(eps=sympy.Rational(1, 2**100)):
        middle = (Fraction(int(low.p), int(low.q)) + Fraction(int(high.p), int(high.q))) / 2
        if abs(middle) <= FAR:
            roots.append(middle)
    return roots


def scan_grid(box: tuple[Fraction, Fraction], low: Fraction | None, high: Fraction | None
              ) -> list[Fraction]:
    """A fixed grid: 65 points over the box, and log-spaced magnitudes out to 1e300 (three per
    decade to 1e20, then one every ten decades)."""
    a, b = box
    points = {a + (b - a) * k / 64 for k in range(65)}
    magnitudes = [Fraction(m) * Fraction(10) ** k for k in range(-6, 21) for m in (1, 2, 5)]
    magnitudes += [Fraction(10) ** k for k in range(30, 301, 10)]
    for magnitude in magnitudes:
        points.update((magnitude, -magnitude))
    points.add(Fraction(0))
    return sorted(p for p in points if _inside(p, low, high))


def _inside(p: Fraction, low: Fraction | None, high: Fraction | None) -> bool:
    return (low is None or p > low) and (high is None or p < high)


def sign_changes(arg: Node, var: str, grid: list[Fraction]) -> list[Fraction]:
    """Zeros of a non-polynomial argument: every change of sign (−, 0, +) between neighbouring
    grid points, bisected. A run of zeros (relu(x − 5) for x < 5) gives only its ends."""
    compiled = compile_ball(arg)
    signs = [(point, sign) for point in grid if (sign := _sign(compiled, var, point)) is not None]
    found: list[Fraction] = []
    for (left, s_left), (right, s_right) in itertools.pairwise(signs):
        if s_left != s_right:
            found.append(_bisect(compiled, var, left, right, s_left))
    return found


def _sign(arg: Node | Compiled, var: str, point: Fraction) -> int | None:
    try:
        value = evaluate_ball(arg, {var: point}, SCAN_PRECISION)
    except (Undefined, Indeterminate):
        return None
    if value > 0:
        return 1
    if value < 0:
        return -1
    return 0 if value.rad() < ZERO_RADIUS else None  # a wide ball around 0 says nothing


def _bisect(arg: Compiled, var: str, left: Fraction, right: Fraction, s_left: int) -> Fraction:
    for _ in range(BISECTION_STEPS):
        middle = _split(left, right)
        sign = _sign(arg, var, middle)
        if sign is None:
            return middle
        if sign == s_left:
            left = middle
        else:
            right = middle
    return (left + right) / 2


def _split(left: Fraction, right: Fraction) -> Fraction:
    """Geometric middle of far apart same-sign ends, else the plain middle (rounded short)."""
    if left > 0 and right > 4 * left:
        return _short(Fraction(2) ** ((left.numerator.bit_length() - left.denominator.bit_length()
                                       + right.numerator.bit_length()
                                       - right.denominator.bit_length()) // 2))
    if right < 0 and left < 4 * right:
        return -_split(-right, -left)
    return _short((left + right) / 2)


def _short(value: Fraction) -> Fraction:
    return value.limit_denominator(2**400) if value.denominator > 2**400 else value


def breakpoints(
    node: Node, var: str, box: tuple[Fraction, Fraction], low: Fraction | None,
    high: Fraction | None,
) -> list[Fraction]:
    """Sorted distinct breakpoints of `node` strictly inside (low, high)."""
    finder = _Finder(var, box, low, high)
    found: set[Fraction] = set()
    for arg in critical_arguments(node):
        found.update(finder.zeros(arg))
        if len(found) > MAX_BREAKPOINTS:
            raise Undecidable(f"more than {MAX_BREAKPOINTS} kinks or domain edges")
    return sorted(p for p in found if _inside(p, low, high))


class _Finder:
    """Zeros of critical arguments, innermost first, each remembered once."""

    def __init__(self, var: str, box: tuple[Fraction, Fraction], low: Fraction | None,
                 high: Fraction | None) -> None:
        self.var, self.box, self.low, self.high = var, box, low, high
        self.memo: dict[Node, list[Fraction]] = {}
        self.grid: list[Fraction] | None = None

    def zeros(self, arg: Node) -> list[Fraction]:
        if arg not in self.memo:
            self.memo[arg] = self._zeros(arg)
        return self.memo[arg]

    def _zeros(self, arg: Node) -> list[Fraction]:
        if self.var not in free_variables(arg):
            return []  # a constant is zero everywhere or nowhere: no breakpoint
        coefficients = polynomial(arg, self.var)
        if coefficients is not None:
            return polynomial_roots(coefficients)
        if _polynomial_shape(arg):
            raise Undecidable(f"a polynomial of degree over {MAX_DEGREE} inside relu, abs, …")
        inner = sorted({z for w in critical_arguments(arg) for z in self.zeros(w)})
        exact = self._piecewise_polynomial(arg, inner)
        if exact is not None:
            return exact
        return sign_changes(arg, self.var, self._grid_for(arg, inner))

    def _piecewise_polynomial(self, arg: Node, inner: list[Fraction]) -> list[Fraction] | None:
        """Between the zeros of its inner relu/abs/relu′ arguments the argument may be a
        polynomial: then its roots there are exact."""
        edges: list[Fraction | None] = [None, *inner, None]
        roots: list[Fraction] = []
        for a, b in itertools.pairwise(edges):
            middle = _middle(a, b)
            branch = _specialise(arg, self.var, middle)
            coefficients = None if branch is None else polynomial(branch, self.var)
            if coefficients is None:
                return None
            roots += [r for r in polynomial_roots(coefficients) if _inside(r, a, b)]
        return roots + [p for p in inner if _sign(arg, self.var, p) == 0]

    def _grid_for(self, arg: Node, inner: list[Fraction]) -> list[Fraction]:
        """The fixed grid, plus both sides of every inner breakpoint and the turning points of
        the argument (so that a narrow excursion of the argument through 0 is not stepped over)."""
        if self.grid is None:
            self.grid = scan_grid(self.box, self.low, self.high)
        extra: set[Fraction] = set()
        for p in inner:
            step = max(Fraction(1), abs(p)) / 2**40
            extra.update((p - step, p, p + step))
        try:
            from grader.mathparse.differentiate import differentiate

            slope = differentiate(arg, self.var)
            extra.update(sign_changes(slope, self.var, sorted(set(self.grid) | extra)))
        except (AnswerParseError, Unsupported, RecursionError):
            pass
        return sorted(set(self.grid) | {p for p in extra if _inside(p, self.low, self.high)})


def _middle(a: Fraction | None, b: Fraction | None) -> Fraction:
    if a is None and b is None:
        return Fraction(0)
    if a is None:
        assert b is not None
        return b - 1
    if b is None:
        return a + 1
    return (a + b) / 2


def _specialise(node: Node, var: str, point: Fraction) -> Node | None:
    """The tree with relu, abs and relu′ replaced by the branch they take at `point`."""
    if isinstance(node, Call) and node.func in ("relu", "abs", "relu_prime"):
        inner = _specialise(node.args[0], var, point)
        sign = _sign(node.args[0], var, point)
        if inner is None or sign is None or sign == 0:
            return None
        if node.func == "relu":
            return inner if sign > 0 else Num(Fraction(0))
        if node.func == "abs":
            return inner if sign > 0 else Neg(inner)
        return Num(Fraction(1 if sign > 0 else 0))
    if isinstance(node, Call):
        return None  # anything else is not polynomial anyway
    if isinstance(node, Neg):
        inner = _specialise(node.operand, var, point)
        return None if inner is None else Neg(inner)
    if isinstance(node, Bin):
        left, right = _specialise(node.left, var, point), _specialise(node.right, var, point)
        return None if left is None or right is None else Bin(node.op, left, right)
    return node


# --- probe points --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    point: Fraction
    piece: int  # index of the piece the point lies in
    rank: int = 0  # 0 random in the question's range, 1 near an end or elsewhere, 2 far out


def probe_points(
    breaks: list[Fraction], box: tuple[Fraction, Fraction], low: Fraction | None,
    high: Fraction | None, rng: random.Random,
) -> list[Probe]:
    """Points in every piece: random ones, both sides of each end, the box, and far out; the
    ones in the question's range first (a message names the first difference found)."""
    edges: list[Fraction | None] = [low, *breaks, high]
    probes: list[Probe] = []
    for index, (a, b) in enumerate(itertools.pairwise(edges)):
        probes += [Probe(p, index, rank) for p, rank in _piece_points(a, b, box, rng)]
    return sorted(probes, key=lambda p: p.rank)


def _piece_points(a: Fraction | None, b: Fraction | None, box: tuple[Fraction, Fraction],
                  rng: random.Random) -> list[tuple[Fraction, int]]:
    points: list[tuple[Fraction, int]] = []
    lo, hi = max(box[0], a) if a is not None else box[0], min(box[1], b) if b is not None else box[1]
    if lo < hi:
        points += [(_uniform(lo, hi, rng), 0) for _ in range(6)]
    if a is not None and b is not None:
        points += [(_uniform(a, b, rng), 1) for _ in range(4)]
    for end, direction in ((a, 1), (b, -1)):
        if end is None:
            continue
        other = b if direction == 1 else a
        width = abs(other - end) if other is not None else Fraction(1) + abs(end)
        scale = max(Fraction(1), abs(end))
        for step in (min(scale / 2**24, width / 4), min(scale / 256, width / 4), width / 3):
            points.append((end + direction * step, 1))
    if b is None:
        points += [(p, 2) for p in _far(a, 1, rng)]
    if a is None:
        points += [(p, 2) for p in _far(b, -1, rng)]
    return [(p, r) for p, r in points if _inside(p, a, b) and abs(p) <= FAR]


def _uniform(a: Fraction, b: Fraction, rng: random.Random) -> Fraction:
    return a + (b - a) * Fraction(rng.getrandbits(40) + 1, 2**40 + 2)


def _far(anchor: Fraction | None, direction: int, rng: random.Random) -> list[Fraction]:
    start = anchor if anchor is not None else Fraction(0)
    out = []
    for exponent in FAR_EXPONENTS:
        mantissa = Fraction(rng.getrandbits(20) + 2**20, 2**20)  # in [1, 2)
        out.append(start + direction * mantissa * Fraction(10) ** exponent)
    return out
