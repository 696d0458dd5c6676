"""The catalogue of question kinds. The union below is the registry: adding a kind is one module
and one line here."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from grader.checkers.base import GradingContext, QuestionBase, Verdict
from grader.checkers.choice import ChoiceQuestion
from grader.checkers.code import CodeQuestion
from grader.checkers.edges import EdgeListQuestion
from grader.checkers.expression import ExpressionQuestion
from grader.checkers.format_only import FormatOnlyQuestion
from grader.checkers.interval import IntervalQuestion
from grader.checkers.manual import ManualQuestion
from grader.checkers.matrix_expression import MatrixExpressionQuestion
from grader.checkers.model import ModelQuestion
from grader.checkers.network import ThresholdNetworkQuestion
from grader.checkers.number import NumberQuestion
from grader.checkers.number_array import NumberArrayQuestion

Question = Annotated[
    NumberQuestion
    | NumberArrayQuestion
    | ChoiceQuestion
    | IntervalQuestion
    | EdgeListQuestion
    | ManualQuestion
    | ThresholdNetworkQuestion
    | CodeQuestion
    | ExpressionQuestion
    | MatrixExpressionQuestion
    | ModelQuestion
    | FormatOnlyQuestion,
    Field(discriminator="kind"),
]

__all__ = ["GradingContext", "Question", "QuestionBase", "Verdict"]
