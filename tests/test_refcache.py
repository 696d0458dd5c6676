"""The persistent reference cache: a hit skips the computation, anything else computes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader.checkers.base import GradingContext
from grader.core import refcache

PARAMS = {"sizes": [784, 64, 10]}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    import reference.registry as registry

    monkeypatch.setenv(refcache.DIR_ENV, str(tmp_path))
    seen: list[dict[str, Any]] = []
    real = registry.ReferenceFunction.compute

    def counting(self: Any, params: dict[str, Any]) -> Any:
        seen.append(params)
        return real(self, params)

    monkeypatch.setattr(registry.ReferenceFunction, "compute", counting)
    return seen


def _compute(params: dict[str, Any]) -> Any:
    return GradingContext(submission_root=None, student="").compute("mlp_params", params)


def test_second_process_reads_the_answer(calls: list[dict[str, Any]]) -> None:
    assert _compute(PARAMS) == 50_890
    assert _compute(PARAMS) == 50_890  # a fresh context: only the disk remembers
    assert len(calls) == 1


def test_other_params_are_computed(calls: list[dict[str, Any]]) -> None:
    _compute(PARAMS)
    assert _compute({"sizes": [784, 128, 10]}) == 784 * 128 + 128 + 128 * 10 + 10
    assert len(calls) == 2


def test_switched_off(calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(refcache.DISABLE_ENV, "1")
    _compute(PARAMS)
    _compute(PARAMS)
    assert len(calls) == 2


@pytest.mark.parametrize("value", [(1, 2), {"a": (1,)}, object()], ids=["tuple", "nested tuple", "object"])
def test_values_that_do_not_round_trip_are_not_stored(tmp_path: Path, value: Any) -> None:
    store = refcache.ReferenceStore(tmp_path / "c.sqlite")
    store.put("k", value)
    assert store.get("k") is refcache.MISS


def test_unwritable_cache_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = refcache.ReferenceStore(blocker / "sub" / "c.sqlite")
    store.put("k", 1)
    assert store.get("k") is refcache.MISS


def _entries(folder: Path) -> list[tuple[str, str]]:
    import sqlite3

    with sqlite3.connect(folder / "references.sqlite") as db:
        return list(db.execute("SELECT key, value FROM refs_v2"))


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE refs_v2 SET value = '0'",
        "UPDATE refs_v2 SET mac = upper(mac)",
        "UPDATE refs_v2 SET mac = 'é'",
        "INSERT OR REPLACE INTO refs_v2 (key, value, mac) SELECT key, '0', '' FROM refs_v2",
    ],
    ids=["value rewritten", "mac rewritten", "mac not ascii", "entry forged without the secret"],
)
def test_a_tampered_entry_is_recomputed(calls: list[dict[str, Any]], tmp_path: Path, tamper: str) -> None:
    import sqlite3

    assert _compute(PARAMS) == 50_890
    refcache._STORES.clear()
    with sqlite3.connect(tmp_path / "references.sqlite") as db:
        db.execute(tamper)
    refcache._STORES.clear()
    assert _compute(PARAMS) == 50_890
    assert len(calls) == 2
    assert [value for _, value in _entries(tmp_path)] == ["50890"]  # the forged entry is replaced


def test_the_secret_and_folder_are_private(calls: list[dict[str, Any]], tmp_path: Path) -> None:
    _compute(PARAMS)
    secret = tmp_path / refcache.SECRET_FILE
    assert secret.stat().st_mode & 0o777 == 0o600
    assert len(secret.read_bytes()) == 32


def test_a_shared_secret_switches_the_cache_off(calls: list[dict[str, Any]], tmp_path: Path) -> None:
    (tmp_path / refcache.SECRET_FILE).write_bytes(b"k" * 32)
    (tmp_path / refcache.SECRET_FILE).chmod(0o644)
    _compute(PARAMS)
    _compute(PARAMS)
    assert len(calls) == 2
