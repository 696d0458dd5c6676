"""The other commands on hostile input: `grader check` (what a student runs), `grader grade
--format gradescope` (the autograder's one line) and `grader export` of a batch holding hostile
ids. Each exits 0, shows no secret, and writes nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from tests.hostile.checks import TERMINAL_CONTROLS
from tests.hostile.conftest import Corpus
from tests.hostile.corpus import FORBIDDEN

# One or two cases of each category, the slow ones (time limits) left to the other tests.
SAMPLE = [
    "zip entry with ../", "YAML alias bomb", "submission is a FIFO", "student_id is a markup",
    "q6b_tanh_grad: injection: import_os", "q1_threshold_net: absurd shape", "t1b_grad_shape_w1: a million entries",
    "model: pickle payload in torch.save, .pt", "model: safetensors offsets beyond the file",
    "code: read the grader's environment", "code: plant a symlink as its output",
    "terminal escapes in the id and an answer", "file name not UTF-8, in the batch root",
]
SPREADSHEET_FORMULA = ("=", "+", "-", "@")


def _case(corpus: Corpus, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in corpus.cases if c.name == name)


@pytest.mark.parametrize("name", SAMPLE)
def test_check_tells_the_student_without_failing(name: str, corpus: Corpus) -> None:
    case = _case(corpus, name)
    result = CliRunner().invoke(cli, ["check", str(case.path), "-a", case.assignment])
    assert result.exit_code == 0, result.output
    assert result.output.strip()
    assert not [s for s in case.forbidden if s in result.output]
    assert not [c for c in TERMINAL_CONTROLS if c in result.output]


@pytest.mark.parametrize("name", SAMPLE)
def test_the_gradescope_format_is_valid_json(name: str, corpus: Corpus, tmp_path: Path) -> None:
    case = _case(corpus, name)
    out = tmp_path / "results.json"
    result = CliRunner().invoke(cli, ["grade", str(case.path), "-a", case.assignment, "--format", "gradescope",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    results = json.loads(text)
    assert isinstance(results["tests"], list) and results["tests"]
    assert not [s for s in case.forbidden if s in text]


@pytest.mark.parametrize("target", ["moodle", "gradescope"])
def test_export_of_a_batch_with_hostile_ids(target: str, batches: dict[str, tuple[Path, float, str]]) -> None:
    out, _, _ = batches["csc420-a2"]
    result = CliRunner().invoke(cli, ["export", str(out), "--to", target])
    assert result.exit_code == 0, result.output
    written = [p for p in out.iterdir() if p.is_file() and p.suffix == ".csv" and p.name != "gradebook.csv"]
    assert written, result.output
    for path in written:
        cells = [cell for row in csv.reader(io.StringIO(path.read_text())) for cell in row]
        assert not [c for c in cells if c[:1] in SPREADSHEET_FORMULA and not _number(c)], path
        assert not [s for s in FORBIDDEN if any(s in c for c in cells)]


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("extra", [[], ["--json"], ["--wrong"]], ids=["text", "json", "wrong"])
def test_groups_shows_answers_and_ids_without_driving_the_terminal(
    extra: list[str], batches: dict[str, tuple[Path, float, str]]
) -> None:
    out, _, _ = batches["csc420-a2"]
    result = CliRunner().invoke(cli, ["groups", str(out), "q1_proof", *extra])
    assert result.exit_code == 0, result.output
    assert not [c for c in TERMINAL_CONTROLS if c in result.output]
    assert extra == ["--wrong"] or "2Kalice  15/15 correct" in result.output


def test_export_lists_what_it_leaves_out_without_driving_the_terminal(
    batches: dict[str, tuple[Path, float, str]]
) -> None:
    out, _, _ = batches["csc420-a2"]
    result = CliRunner().invoke(cli, ["export", str(out), "--to", "moodle"])
    assert result.exit_code == 0, result.output
    assert "left out: @SUM(1) (" in result.output and "starts like a spreadsheet formula" in result.output
    assert "left out: alice (" in result.output and "duplicate id: claims the id of alice" in result.output
    assert not [c for c in TERMINAL_CONTROLS if c in result.output]
    identifiers = [row[0] for row in csv.reader(io.StringIO((out / "moodle.csv").read_text()))]
    assert identifiers.count("alice") == 1
