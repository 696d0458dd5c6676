"""The messages between the grader and the evaluation worker (JSON through pydantic)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from grader.models.spec import Architecture

JOB_FILE = "job.json"
PREDICTIONS_FILE = "predictions.npz"
INPUT_ARRAY = "x"


class EvalTask(BaseModel):
    id: str
    file: str = Field(description="the model's bytes, as a file in the worker's folder")
    format: Literal["safetensors", "torch"]
    container_key: str | None = None
    architecture: Architecture
    mapping: dict[str, str] = Field(description="architecture key -> the file's tensor name")
    inputs: str = Field(description="a .npz in the worker's folder holding the array `x`")


class EvalJob(BaseModel):
    tasks: list[EvalTask]
    batch_size: int = Field(256, gt=0, le=4096)
    threads: int = Field(1, gt=0, le=8)


class TaskOutcome(BaseModel):
    status: Literal["ok", "nonfinite", "shape", "error"]
    reason: str = ""
    seconds: float = 0.0
    nonfinite_rows: int = 0
    nonfinite_weights: int = 0


class EvalResult(BaseModel):
    tasks: dict[str, TaskOutcome] = Field(default_factory=dict)
    import_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    torch_version: str = ""
