"""The validated-rubric cache: a hit gives the same rubric as a fresh load, anything changed or
broken is a miss, and an entry is JSON read back through pydantic (never pickle)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.core import rubric as rubric_module
from grader.core.rubric import builtin_names, load_rubric, resolve_assignment

BASE = """schema_version: 1
assignment: base
questions:
  - id: q1
    kind: number
    points: 5
    reference: {function: mlp_params, params: {sizes: [784, 10]}}
"""


def _fresh(path: Path) -> rubric_module.LoadedRubric:
    rubric_module._load_cached.cache_clear()
    return load_rubric(path)


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "rubrics").glob("*.json"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GRADER_NO_CACHE", raising=False)
    return tmp_path / "cache"


@pytest.mark.parametrize("name", builtin_names())
def test_cached_builtin_equals_fresh_load(name: str, cache: Path) -> None:
    first = _fresh(resolve_assignment(name))  # writes the entry
    assert _entries(cache)
    second = _fresh(resolve_assignment(name))  # reads it
    assert second.rubric == first.rubric and second.sha256 == first.sha256
    assert type(second.rubric.questions[0]) is type(first.rubric.questions[0])


def test_entry_is_json_with_version_and_sources(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(BASE)
    _fresh(path)
    (entry,) = _entries(cache)
    data = json.loads(entry.read_text())
    assert data["schema_version"] == 1 and data["kinds"] == ["number"]
    assert str(path.resolve()) in data["sources"]


CHANGES = [
    ("rubric edited", lambda p: p.write_text(BASE.replace("points: 5", "points: 6"))),
    ("entry corrupt", lambda p: [e.write_text("{not json") for e in _entries(p.parent / "cache")]),
    ("entry from another version", lambda p: [
        e.write_text(e.read_text().replace('"grader_version":"', '"grader_version":"0.0.0-')) for e in
        _entries(p.parent / "cache")]),
]


@pytest.mark.parametrize("change", [c[1] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_a_change_is_a_miss(tmp_path: Path, cache: Path, change: object) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(BASE)
    _fresh(path)
    change(path)  # type: ignore[operator]
    points = _fresh(path).rubric.max_score
    assert points == (6 if "points: 6" in path.read_text() else 5)


def test_a_changed_base_of_extends_is_a_miss(tmp_path: Path, cache: Path) -> None:
    base, child = tmp_path / "base.yaml", tmp_path / "child.yaml"
    base.write_text(BASE)
    child.write_text("extends: base.yaml\nassignment: child\n")
    assert _fresh(child).rubric.max_score == 5
    base.write_text(BASE.replace("points: 5", "points: 7"))
    assert _fresh(child).rubric.max_score == 7


def test_switched_off_writes_nothing(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_NO_CACHE", "1")
    path = tmp_path / "r.yaml"
    path.write_text(BASE)
    _fresh(path)
    assert not _entries(cache)


def test_validate_never_reads_the_cache(tmp_path: Path, cache: Path) -> None:
    """`rubric validate` computes every reference: an entry must not stand in for that."""
    path = tmp_path / "r.yaml"
    path.write_text(BASE)
    _fresh(path)
    (entry,) = _entries(cache)
    entry.write_text(entry.read_text().replace('"points":5.0', '"points":9.0'))
    assert _fresh(path).rubric.max_score == 9  # the entry is what a check reads
    rubric_module._load_cached.cache_clear()
    assert load_rubric(path, compute_references=True).rubric.max_score == 5
