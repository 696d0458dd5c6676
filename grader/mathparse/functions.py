"""The whitelist: every function and constant an answer may use, and how students spell them.

A name not in these tables (or declared by the question) makes the answer unreadable, with a
message naming it. Nothing is looked up by attribute or imported by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def sigmoid(u: Any, exp: Callable[[Any], Any]) -> Any:
    """σ(u) = 1 / (1 + e^−u) in any number type with its own `exp`: the one definition that the
    ball, symbolic and decimal evaluators share. The float evaluator keeps its own overflow-safe
    form (`evaluate._sigmoid_small_side`), since floats, unlike these, overflow."""
    return 1 / (1 + exp(-u))


def sigmoid_prime(u: Any, exp: Callable[[Any], Any]) -> Any:
    """σ'(u) = σ(u)·σ(−u), which is σ(u)(1 − σ(u)) without cancelling where σ(u) is near 1."""
    return sigmoid(u, exp) * sigmoid(-u, exp)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arity: int = 1
    scalar: bool = True  # allowed in scalar answers
    matrix: bool = True  # allowed in matrix answers (element-wise unless noted)
    derivative: str | None = None  # name of f' where it is itself a whitelisted function
    doc: str = ""


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("sigmoid", derivative="sigmoid_prime", doc="the logistic function σ"),
        FunctionSpec("sigmoid_prime", doc="σ'(u) = σ(u)(1 − σ(u))"),
        FunctionSpec("tanh", derivative="tanh_prime"),
        FunctionSpec("tanh_prime", doc="1 − tanh²(u)"),
        FunctionSpec("sech"),
        FunctionSpec("sinh"),
        FunctionSpec("cosh"),
        FunctionSpec("sin", doc="positional encodings"),
        FunctionSpec("cos"),
        FunctionSpec("tan"),
        FunctionSpec("exp"),
        FunctionSpec("log", doc="natural logarithm (also ln)"),
        FunctionSpec("sqrt"),
        FunctionSpec("abs"),
        FunctionSpec("relu", derivative="relu_prime"),
        FunctionSpec("relu_prime", doc="1 where u > 0, else 0"),
        FunctionSpec("softplus", derivative="sigmoid"),
        FunctionSpec("softmax", scalar=False, doc="column-wise softmax (axis 0)"),
        FunctionSpec("sum", scalar=False, doc="sum of all entries"),
        FunctionSpec("outer", arity=2, scalar=False, doc="outer product of two vectors"),
    )
}

# How students write a function name -> the canonical name.
FUNCTION_ALIASES: dict[str, str] = {
    "σ": "sigmoid",
    "sigma": "sigmoid",
    "sig": "sigmoid",
    "sigm": "sigmoid",
    "logistic": "sigmoid",
    "sigmoid": "sigmoid",
    "ln": "log",
    "relu": "relu",
    "ReLU": "relu",
    "Relu": "relu",
    "max0": "relu",
    "sigmoid_prime": "sigmoid_prime",
    "sigmoid_derivative": "sigmoid_prime",
    "dsigmoid": "sigmoid_prime",
    "tanh_prime": "tanh_prime",
    "relu_prime": "relu_prime",
    **{name: name for name in FUNCTIONS},
}

# `σ'(u)` and `tanh'(u)`: a prime on a function name.
PRIMED = {"sigmoid": "sigmoid_prime", "tanh": "tanh_prime", "relu": "relu_prime"}

CONSTANTS = {"e": "e", "pi": "pi", "π": "pi"}

GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "tau",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Delta",
    "Gamma",
    "Theta",
    "Lambda",
    "Phi",
    "Psi",
    "Omega",
    "Sigma",
}
GREEK_UNICODE = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ζ": "zeta",
    "η": "eta",
    "θ": "theta",
    "λ": "lambda",
    "μ": "mu",
    "ν": "nu",
    "ξ": "xi",
    "ρ": "rho",
    "τ": "tau",
    "φ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
    "Δ": "Delta",
    "ι": "iota",
    "κ": "kappa",
    "ϕ": "phi",
    "ϵ": "epsilon",
    "Γ": "Gamma",
    "Θ": "Theta",
    "Λ": "Lambda",
    "Φ": "Phi",
    "Ψ": "Psi",
    "Ω": "Omega",
}


# `log_2`, `log10`, `\\log_{10}`, `log_e`: a logarithm to a base, read as log(u)/log(base)
LOG_BASE_PREFIXES = ("log_", "log")


def log_base(name: str) -> str | None:
    """The base written in `log_2`, `log10`, `log_b` (digits or a name), or None."""
    for prefix in LOG_BASE_PREFIXES:
        rest = name[len(prefix):]
        if name.startswith(prefix) and rest and (rest.isdecimal() or prefix == "log_"):
            return rest
    return None


def canonical_function(name: str, declared: dict[str, str] | None = None) -> str | None:
    """The canonical name of a function as written, or None when it is not one."""
    if declared and name in declared:
        return declared[name]
    return FUNCTION_ALIASES.get(name) or FUNCTION_ALIASES.get(name.lower())
