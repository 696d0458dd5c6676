"""The one error a reader raises: the answer could not be read (as opposed to being wrong)."""


class AnswerParseError(ValueError):
    """Student-facing: the message says what was received and how to write it."""
