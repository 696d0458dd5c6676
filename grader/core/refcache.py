"""A persistent cache of computed references, so that a student's second `grader check` (and every
batch worker) does not differentiate the same loss again.

The key is the reference code itself (a digest of `reference/`'s sources), the function name and
its params: change either and the entry is simply not found. Only answers that survive a JSON
round trip unchanged are stored. A cache that cannot be opened or written is skipped silently:
it only ever saves time.

Only the grader writes it: the folder is private (0700) and lies outside everything the sandbox
binds, so student code never reaches it on the bwrap and namespace layers (nor, as root, on the
process layer: the code runs as another uid). Each entry also carries an HMAC-SHA256 of its key
and value under a per-user secret (`key`, 0600, in the same folder); an entry whose MAC does not
match (edited by anything but the grader) is treated as missing, recomputed and overwritten. A
secret that is not a private file of this user switches the cache off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Any

MISS = object()
DISABLE_ENV = "GRADER_NO_CACHE"
DIR_ENV = "GRADER_CACHE_DIR"
SECRET_FILE = "key"
_SECRET_BYTES = 32
_TABLE = "refs_v2"  # with a MAC: entries of the first table are never trusted


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


def read_secret(folder: Path) -> bytes | None:
    """This user's MAC secret in `folder`, created on first use; None when the file is not a
    private regular file of this user (then nothing is cached)."""
    path = folder / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    except OSError:
        return None
    else:
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(_SECRET_BYTES))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        secret = handle.read(_SECRET_BYTES + 1)
    private = info.st_uid == os.geteuid() and not info.st_mode & 0o077
    return secret if private and len(secret) == _SECRET_BYTES else None


class ReferenceStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._secret: bytes | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None:
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(self.path.parent, 0o700)  # a folder made by an older version was 0755
                secret = read_secret(self.path.parent)
                if secret is None:
                    return None
                db = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} "
                           "(key TEXT PRIMARY KEY, value TEXT NOT NULL, mac TEXT NOT NULL)")
            except (OSError, sqlite3.Error):
                return None
            self._db, self._secret = db, secret
        return self._db

    def _mac(self, key: str, text: str) -> str:
        assert self._secret is not None
        return hmac.new(self._secret, f"{key}\0{text}".encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def key(function: str, params_json: str) -> str:
        return hashlib.sha256(f"{code_digest()}\0{function}\0{params_json}".encode()).hexdigest()

    def get(self, key: str) -> Any:
        db = self._connect()
        if db is None:
            return MISS
        try:
            row = db.execute(f"SELECT value, mac FROM {_TABLE} WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return MISS
        if row is None or not isinstance(row[0], str) or not isinstance(row[1], str):
            return MISS
        if not hmac.compare_digest(row[1].encode(), self._mac(key, row[0]).encode()):
            return MISS  # not written by the grader: recomputed, then overwritten
        try:
            return json.loads(row[0])
        except ValueError:
            return MISS

    def put(self, key: str, value: Any) -> None:
        text = portable_json(value)
        if text is None:
            return
        db = self._connect()
        if db is None:
            return
        try:
            db.execute(f"INSERT OR REPLACE INTO {_TABLE} (key, value, mac) VALUES (?, ?, ?)",
                       (key, text, self._mac(key, text)))
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
