"""A matrix question's symbols as rubric data, shared by the checker and the reference."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from grader.mathparse.ast import Node
from grader.mathparse.functions import FUNCTIONS
from grader.mathparse.matrix import GENERIC_FUNCTIONS, World, infer_shape, parse_matrix

ELEMENTWISE = sorted(
    {n for n, spec in FUNCTIONS.items() if spec.matrix and spec.arity == 1} - {"sum", "softmax"}
    | set(GENERIC_FUNCTIONS)
)


class WorldSpec(BaseModel):
    """Symbols with shapes, a forward pass defining more of them, and element-wise functions.

    Shapes are lists of sizes or dimension names from `dims`; give distinct dimensions distinct
    sizes, so that a missing transpose cannot go unnoticed."""

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    dims: dict[str, int] = Field(default_factory=dict, description="named sizes, e.g. {K: 3, N: 5}")
    symbols: dict[str, list[int | str]] = Field(description="drawn at random: name -> shape")
    definitions: dict[str, str] = Field(
        default_factory=dict,
        description="the forward pass, in order: name -> numpy-notation formula",
    )
    functions: dict[str, str] = Field(
        default_factory=dict,
        description="declared element-wise functions: name -> a built-in (sigmoid_prime, …) or "
        "`generic` / `generic_prime` for an unspecified f and its derivative",
    )
    one_hot: list[str] = Field(default_factory=list, description="symbols drawn as one-hot columns")
    aliases: dict[str, list[str]] = Field(
        default_factory=dict, description="symbol -> other spellings"
    )

    @model_validator(mode="after")
    def _consistent(self) -> WorldSpec:
        for name, shape in self.symbols.items():
            for dim in shape:
                if isinstance(dim, str) and dim not in self.dims:
                    raise ValueError(f"symbol {name!r}: dimension {dim!r} is not in dims")
                if isinstance(dim, int) and dim < 1:
                    raise ValueError(f"symbol {name!r}: sizes must be positive")
        sizes = list(self.dims.values())
        if len(set(sizes)) != len(sizes):
            raise ValueError("give distinct dims distinct sizes, so transposes cannot hide")
        for name, impl in self.functions.items():
            if impl not in ELEMENTWISE:
                raise ValueError(
                    f"function {name!r}: {impl!r} is not one of {', '.join(ELEMENTWISE)}"
                )
        for name in self.one_hot:
            if name not in self.symbols:
                raise ValueError(f"one_hot: {name!r} is not a symbol")
        self.world()  # the definitions parse and their shapes fit
        return self

    def shape_of(self, shape: list[int | str]) -> tuple[int, ...]:
        return tuple(self.dims[d] if isinstance(d, str) else d for d in shape)

    def world(self) -> World:
        symbols = {n: self.shape_of(s) for n, s in self.symbols.items()}
        names = {size: name for name, size in self.dims.items()}
        aliases = {
            spelling: name for name, spellings in self.aliases.items() for spelling in spellings
        }

        def defined_so_far(definitions: list[tuple[str, Node]]) -> World:
            return World(symbols, tuple(definitions), dict(self.functions), frozenset(self.one_hot),
                         names, aliases)

        definitions: list[tuple[str, Node]] = []
        for name, text in self.definitions.items():
            partial = defined_so_far(definitions)
            try:
                tree = parse_matrix(text, partial)  # trusted rubric text, read by the same safe parser
                infer_shape(tree, partial.shapes(), partial)
            except ValueError as err:
                raise ValueError(f"definition {name!r}: {err}") from None
            definitions.append((name, tree))
        return defined_so_far(definitions)


Part = Literal["weight", "bias"]
