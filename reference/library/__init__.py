"""The reference library: what neural-network courses ask beyond the built-in assignments.

Each module declares reference functions with `@reference` and a params model whose fields are the
question's numbers, its conventions (accepted answers are other values of them) and its known
mistakes (other values again, documented as such). docs/rubrics.md lists every function, generated
from these models by `scripts/reference_docs.py`.
"""
