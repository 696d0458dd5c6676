"""Readers for student answers: each turns text into a value or an `AnswerParseError`."""
