"""Baseline records: what the reference recipe reaches on a data set, written by `grader baseline`.

A record is found by content, not by file name: the hash of what was trained (function,
architecture, preprocessing, recipe) and the fingerprint of the data. Change the recipe or the
data and the old record no longer applies. Records live in `reference/baselines/` (shipped for the
embedded data) and in `$GRADER_BASELINE_DIR` (a course's own data), which is searched first;
`grader baseline` never writes into the package (see `default_output_dir`).
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

SHIPPED_DIR = Path(__file__).resolve().parent.parent.parent / "reference" / "baselines"


class BaselineRecord(BaseModel):
    schema_version: Literal[1] = 1
    assignment: str
    question: str
    function: str
    spec_sha256: str = Field(description="hash of function, architecture, preprocessing, recipe")
    data_fingerprint: str
    data_description: str
    train_size: int
    heldout_size: int
    heldout_accuracy: float
    heldout_correct: int
    per_class_accuracy: dict[str, float]
    seed: int
    iterations: int
    threads: int
    train_seconds: float
    versions: dict[str, str]
    recipe: dict[str, Any]


def spec_sha256(function: str, job: dict[str, Any]) -> str:
    """What was trained, hashed: the job without its data source (the fingerprint covers it)."""
    payload = {"function": function, **{k: v for k, v in job.items() if k != "data"}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


_COURSE_DIRS: list[Path] = []  # `baselines/` beside each loaded course rubric (grader.core.course)


def add_course_dir(folder: Path) -> None:
    if folder not in _COURSE_DIRS:
        _COURSE_DIRS.append(folder)


def baseline_dirs() -> list[Path]:
    extra = os.environ.get("GRADER_BASELINE_DIR")
    return ([Path(extra)] if extra else []) + _COURSE_DIRS + [SHIPPED_DIR]


def default_output_dir(rubric_path: Path) -> Path:
    """$GRADER_BASELINE_DIR, else `baselines/` beside the rubric file, else (a built-in rubric,
    inside the installed package) `./baselines`: never the package's own tracked records."""
    extra = os.environ.get("GRADER_BASELINE_DIR")
    if extra:
        return Path(extra)
    from grader.core.builtins import rubrics_dir

    if rubric_path.resolve().parent == rubrics_dir().resolve():
        return Path("baselines")
    return rubric_path.parent / "baselines"


def searched(folder: Path) -> bool:
    """Whether grading looks for records in this folder."""
    return any(folder.resolve() == known.resolve() for known in baseline_dirs())


def record_filename(record: BaselineRecord) -> str:
    return f"{record.assignment}.{record.question}.{record.data_fingerprint[:10]}.json"


def save_record(record: BaselineRecord, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / record_filename(record)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    _index.cache_clear()
    return path


def find_record(spec: str, data_fingerprint: str) -> BaselineRecord | None:
    for folder in baseline_dirs():
        found = _index(folder, _folder_stamp(folder)).get((spec, data_fingerprint))
        if found is not None:
            return found
    return None


def records_for_question(question: str) -> list[BaselineRecord]:
    """Every record of a question id (to tell "stale" from "missing")."""
    out: list[BaselineRecord] = []
    for folder in baseline_dirs():
        out += [r for r in _index(folder, _folder_stamp(folder)).values() if r.question == question]
    return out


def _folder_stamp(folder: Path) -> tuple[tuple[str, int], ...]:
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.json")))


Index = dict[tuple[str, str], BaselineRecord]


@lru_cache(maxsize=8)
def _index(folder: Path, _stamp: tuple[tuple[str, int], ...]) -> Index:
    index: Index = {}
    if not folder.is_dir():
        return index
    for path in sorted(folder.glob("*.json")):
        try:
            record = BaselineRecord.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            continue
        index[(record.spec_sha256, record.data_fingerprint)] = record
    return index
