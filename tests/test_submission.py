"""Opening submissions: formats, the restricted YAML loader, zips, and unreadable files."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from grader.core.submission import SubmissionError, open_submission, read_answers_text
from grader.parsing.errors import AnswerParseError

PARSED = [
    ("yes stays text", "a: YES\nb: no\nc: on", ".yaml", {"a": "YES", "b": "no", "c": "on"}),
    ("true is a boolean", "a: true", ".yaml", {"a": True}),
    ("float keeps its digits", "a: 0.0006", ".yaml", {"a": Decimal("0.0006")}),
    ("scientific without dot", "a: 1e6", ".yaml", {"a": Decimal("1e6")}),
    ("thousands stay text", "a: 1,153,840", ".yaml", {"a": "1,153,840"}),
    ("sexagesimal stays text", "a: 1:30", ".yaml", {"a": "1:30"}),
    ("dates stay text", "a: 2024-01-31", ".yaml", {"a": "2024-01-31"}),
    ("integer key becomes text", "1: 5", ".yaml", {"1": 5}),
    ("json floats exact", '{"a": 0.1}', ".json", {"a": Decimal("0.1")}),
    ("toml floats exact", "a = 0.1", ".toml", {"a": Decimal("0.1")}),
    ("empty file", "", ".yaml", {}),
]


@pytest.mark.parametrize(("text", "suffix", "expected"), [c[1:] for c in PARSED], ids=[c[0] for c in PARSED])
def test_parses(text: str, suffix: str, expected: dict[str, Any]) -> None:
    assert read_answers_text(text, suffix) == expected


REFUSED = [
    ("python tag", "a: !!python/object/apply:os.system ['echo hi']", ".yaml", "not valid YAML"),
    ("alias", "a: &x [1]\nb: *x", ".yaml", "aliases"),
    ("duplicate key", "a: 1\na: 2", ".yaml", "answered twice"),
    ("duplicate json key", '{"a": 1, "a": 2}', ".json", "answered twice"),
    ("list key", "? [1, 2]\n: 3", ".yaml", "plain name"),
    ("broken yaml", "a: [1, 2", ".yaml", "line 1"),
    ("not a mapping", "- 1\n- 2", ".yaml", "map question ids"),
    ("deep nesting", "a: " + "[" * 5000 + "]" * 5000, ".yaml", "nested too deeply|cannot be read|not valid"),
    ("broken json", "{", ".json", "cannot be read"),
]


@pytest.mark.parametrize(("text", "suffix", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refuses(text: str, suffix: str, message: str) -> None:
    with pytest.raises(SubmissionError, match=message):
        read_answers_text(text, suffix)


def test_directory_zip_and_file_ids(tmp_path: Path) -> None:
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "answers.yaml").write_text("q: 1\n")
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("bob-folder/answers.yaml", "q: 2\n")
    single = tmp_path / "carol.json"
    single.write_text('{"q": 3, "student_id": "c123"}')
    got = {}
    for path in (folder, archive, single):
        with open_submission(path) as sub:
            got[sub.id] = (sub.answers, sub.error)
    assert got == {"alice": ({"q": 1}, None), "bob": ({"q": 2}, None), "c123": ({"q": 3}, None)}


@pytest.mark.parametrize("name", ["../evil.yaml", "/abs/answers.yaml"])
def test_zip_with_escaping_path_is_an_error(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(name, "q: 1")
    with open_submission(archive) as sub:
        assert sub.error is not None and "leaves the submission" in sub.error
    assert not (tmp_path / "evil.yaml").exists()


def test_folder_without_answers(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    with open_submission(tmp_path / "s") as sub:
        assert sub.error is not None and "no answers file" in sub.error


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"q: \xff\xfe")
    with open_submission(path) as sub:
        assert sub.error is not None and "UTF-8" in sub.error


def test_resolve_file_refuses_escapes(tmp_path: Path) -> None:
    root = tmp_path / "s"
    root.mkdir()
    (root / "answers.yaml").write_text("q: model.pt")
    (root / "model.pt").write_bytes(b"x")
    (tmp_path / "secret").write_text("x")
    (root / "link").symlink_to(tmp_path / "secret")
    with open_submission(root) as sub:
        assert sub.resolve_file("model.pt").name == "model.pt"
        for bad in ["../secret", "link", "/etc/passwd", "missing.pt", 3]:
            with pytest.raises(AnswerParseError):
                sub.resolve_file(bad)
