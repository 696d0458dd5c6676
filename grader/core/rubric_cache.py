"""A persistent cache of validated rubrics, so that a student's `grader check` does not parse the
YAML and check every reference function again.

An entry is JSON written through a pydantic model (never pickle): the rubric as validated, the
kinds it uses, and the hash of every file it was read from (the rubric and those it extends). The
key is the grader's version, the reference code's digest and the rubric file's text; an entry
whose files changed since, or that no longer validates, is ignored and the rubric is loaded anew.
A cache that cannot be read or written is skipped silently: it only ever saves time.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from grader import __version__


class CachedRubric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    grader_version: str
    kinds: list[str]
    sources: dict[str, str]  # file path -> sha256 of its text
    sha256: str  # the loaded rubric's hash (all sources' text)
    rubric: dict[str, Any]


def entry_path(path: Path, text: str) -> Path | None:
    from grader.core.refcache import DISABLE_ENV, cache_dir, code_digest

    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    key = hashlib.sha256(f"{__version__}\0{code_digest()}\0{path}\0{text}".encode()).hexdigest()
    return cache_dir() / "rubrics" / f"{key}.json"


def read(entry: Path) -> CachedRubric | None:
    try:
        cached = CachedRubric.model_validate_json(entry.read_bytes())
    except (OSError, ValidationError, ValueError):
        return None
    if cached.grader_version != __version__ or not _sources_unchanged(cached.sources):
        return None
    return cached


def _sources_unchanged(sources: dict[str, str]) -> bool:
    for name, digest in sources.items():
        try:
            text = Path(name).read_text(encoding="utf-8")
        except OSError:
            return False
        if hashlib.sha256(text.encode()).hexdigest() != digest:
            return False
    return True


def write(entry: Path, cached: CachedRubric) -> None:
    tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(cached.model_dump_json(), encoding="utf-8")
        tmp.replace(entry)
    except OSError:
        tmp.unlink(missing_ok=True)
