"""Computed reference solutions.

A rubric names a reference function and gives its parameters; the function derives the answer.
No final answer is typed in anywhere: change a parameter and the answer follows.

Modules here import heavy libraries (sympy, torch) inside functions, so that looking up a
reference costs nothing until it is computed.
"""

from reference.registry import ReferenceFunction, get_reference, reference_names

__all__ = ["ReferenceFunction", "get_reference", "reference_names"]
