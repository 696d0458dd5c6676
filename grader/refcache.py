"""A persistent cache of computed references, so that a student's second `grader check` (and every
batch worker) does not differentiate the same loss again.

The key is the reference code itself (a digest of `reference/`'s sources), the function name and
its params: change either and the entry is simply not found. Only answers that survive a JSON
round trip unchanged are stored. A cache that cannot be opened or written is skipped silently:
it only ever saves time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Any

MISS = object()
DISABLE_ENV = "GRADER_NO_CACHE"
DIR_ENV = "GRADER_CACHE_DIR"


def cache_dir() -> Path:
    if os.environ.get(DIR_ENV):
        return Path(os.environ[DIR_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nn-grader"


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the reference functions' source: a new version never reads old answers."""
    import reference

    digest = hashlib.sha256()
    root = Path(reference.__file__).parent
    for path in sorted(root.rglob("*.py")):  # the library's subpackages too
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


class ReferenceStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("CREATE TABLE IF NOT EXISTS refs (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            except (OSError, sqlite3.Error):
                return None
            self._db = db
        return self._db

    @staticmethod
    def key(function: str, params_json: str) -> str:
        return hashlib.sha256(f"{code_digest()}\0{function}\0{params_json}".encode()).hexdigest()

    def get(self, key: str) -> Any:
        db = self._connect()
        if db is None:
            return MISS
        try:
            row = db.execute("SELECT value FROM refs WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return MISS
        return MISS if row is None else json.loads(row[0])

    def put(self, key: str, value: Any) -> None:
        text = portable_json(value)
        if text is None:
            return
        db = self._connect()
        if db is None:
            return
        try:
            db.execute("INSERT OR REPLACE INTO refs (key, value) VALUES (?, ?)", (key, text))
        except sqlite3.Error:
            return


def portable_json(value: Any) -> str | None:
    """The value as JSON text when reading it back gives the same value and types, else None."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return None
    back = json.loads(text)
    if back != value or _shape(back) != _shape(value):
        return None
    return text


def _shape(value: Any) -> Any:
    """The container and number types, which JSON equality alone does not compare."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_shape(v) for v in value])
    return type(value).__name__


_STORES: dict[tuple[int, Path], ReferenceStore] = {}


def store() -> ReferenceStore | None:
    """This process's store, or None when caching is switched off."""
    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    path = cache_dir() / "references.sqlite"
    key = (os.getpid(), path)  # a connection must not cross a fork
    if key not in _STORES:
        _STORES[key] = ReferenceStore(path)
    return _STORES[key]
