"""The base of every reference's parameters: a rubric's `params:` are validated against a frozen
model that refuses unknown fields, so a misspelt parameter is a located rubric error."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
