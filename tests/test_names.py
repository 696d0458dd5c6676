"""Names a student chooses: file names that are not UTF-8, ids that claim a classmate's report,
text that would drive a terminal or a spreadsheet. None of them may stop a batch or take what is
another student's."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from grader.cli import cli

RIGHT = "q4_lenet_params: 61706\n"


def _bytes_name(folder: Path, raw: bytes) -> Path:
    return folder / os.fsdecode(raw)


def batch(root: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "1"])
    return result.exit_code, result.output


def test_an_entry_named_in_bytes_that_are_not_utf8_is_graded_under_an_escaped_id(tmp_path: Path) -> None:
    root = tmp_path / "class"
    root.mkdir()
    (root / "alice.yaml").write_text(RIGHT)
    _bytes_name(root, b"a0-14-\xff\xfe.yaml").write_text(RIGHT)
    code, output = batch(root, tmp_path / "out")
    assert code == 0, output
    reports = [json.loads(p.read_text()) for p in (tmp_path / "out" / "reports").glob("*.json")]
    assert sorted(r["submission"] for r in reports) == ["a0-14-\\xff\\xfe", "alice"]
    assert "a0-14-\\xff\\xfe.yaml" in {r["source"]["path"] for r in reports}


def test_a_folder_holding_a_file_named_in_bytes_that_are_not_utf8_is_graded(tmp_path: Path) -> None:
    root = tmp_path / "class"
    folder = root / "bob"
    folder.mkdir(parents=True)
    (folder / "answers.yaml").write_text(RIGHT)
    _bytes_name(folder, b"notes-\xfe\xfe.txt").write_text("my notes")
    code, output = batch(root, tmp_path / "out")
    assert code == 0, output
    report = json.loads((tmp_path / "out" / "reports" / "bob.json").read_text())
    assert report["questions"][3]["status"] == "correct" or report["score"] > 0
