"""Hard limits on what a student's formula may be. Each is checked before any work grows with it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_length: int = 2000  # characters of the answer as given
    max_tokens: int = 600
    max_nodes: int = 400  # tree nodes as written
    max_expanded_nodes: int = 4000  # after d/dx is expanded
    max_depth: int = 40  # nesting of brackets and operators
    max_integer_digits: int = 30  # of one integer literal
    max_decimal_exponent: int = 300  # 1e-300 is fine, 1e999 is not
    max_power: int = 1000  # |exponent| of a power with a constant exponent
    max_constant: float = 1e300  # |value| of any constant part of an answer
    max_array_elements: int = 100_000  # of any intermediate array in a matrix answer
    max_matmul_flops: int = 20_000_000  # summed over the products of a matrix answer


DEFAULT_LIMITS = Limits()
