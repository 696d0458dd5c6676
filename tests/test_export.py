"""`grader export`: Canvas's gradebook CSV filled from the reports (matched by SIS Login ID, then ID,
then name) and Moodle's CSV grade import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lms_formats import check_canvas, check_gradescope_file, check_moodle

from grader.cli import ExitCode, cli
from grader.core.report import Report, SubmissionSource
from grader.lms.canvas import choose_column, export_canvas, read_roster

ROSTER = """\
Student,ID,SIS User ID,SIS Login ID,Section,Assignment 1 (11),Assignment 2 (12345),Current Score,Final Score
    Points Possible,,,,,10.00,100.00,(read only),(read only)
"Lovelace, Ada",101,S001,ada,Sec 1,9.00,,90,90
"Turing, Alan",102,S002,aturing,Sec 1,8.00,,80,80
"Hopper, Grace",103,S003,ghopper,Sec 2,7.00,55.00,70,70
"Smith, John",104,S004,jsmith,Sec 2,6.00,,60,60
"Smith, John",105,S005,jsmith2,Sec 2,6.00,,60,60
"Student, Test",106,,,Sec 1,,,,
"""


def report(submission: str, score: float, source: SubmissionSource | None = None) -> Report:
    return Report(assignment="csc420-a2", submission=submission, score=score, max_score=100, questions=[],
                  source=source)


@pytest.fixture
def roster(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8-sig")  # Canvas writes a byte-order mark
    return path


@pytest.mark.parametrize(
    ("given", "how", "row"),
    [
        (report("ada", 50), "SIS Login ID", "ada"),
        (report("102", 50), "ID", "aturing"),
        (report("hoppergrace", 50), "name", "ghopper"),
        (report("Grace Hopper", 50), "name", "ghopper"),
        (report("anything", 50, SubmissionSource(path="canvas:101", sha256="x", layout="canvas", lms_user_id="101",
                                                 name="lovelaceada")), "ID", "ada"),
        (report("someone", 50, SubmissionSource(path="gradescope:submission_1", sha256="x", layout="gradescope",
                                                email="aturing@uni.example")), "SIS Login ID", "aturing"),
    ],
    ids=["sis-login", "canvas-id", "canvas-file-prefix-name", "first-last-name", "canvas-layout-user-id",
         "gradescope-email"],
)
def test_reports_are_matched_to_roster_rows(roster: Path, given: Report, how: str, row: str) -> None:
    result = export_canvas([given], read_roster(roster), "Assignment 2 (12345)", 100)
    assert result.matched == {given.submission: how} and result.unmatched == []
    path = roster.parent / "canvas.csv"
    path.write_text(result.text)
    assert check_canvas(path, roster, "Assignment 2 (12345)")[row] == "50"


def test_the_canvas_user_id_wins_over_a_claimed_student_id(roster: Path) -> None:
    claimed = report("ada", 30, SubmissionSource(path="canvas:102", sha256="x", layout="canvas", lms_user_id="102"))
    result = export_canvas([claimed], read_roster(roster), "Assignment 2 (12345)", 100)
    assert result.matched == {"ada": "ID"}
    path = roster.parent / "canvas.csv"
    path.write_text(result.text)
    assert check_canvas(path, roster, "Assignment 2 (12345)")["aturing"] == "30"


def test_unmatched_ambiguous_and_conflicting_reports_are_listed_not_written(roster: Path) -> None:
    reports = [report("nobody", 1), report("smithjohn", 2), report("ada", 3), report("101", 4)]
    result = export_canvas(reports, read_roster(roster), "Assignment 2 (12345)", 100)
    assert sorted(result.unmatched) == [
        "101, ada: all match 'Lovelace, Ada'; none was written",
        "nobody: no roster row has its SIS Login ID, ID or name",
        "smithjohn: no roster row has its SIS Login ID, ID or name",  # two John Smiths: not a match
    ]
    path = roster.parent / "canvas.csv"
    path.write_text(result.text)
    scores = check_canvas(path, roster, "Assignment 2 (12345)")
    assert scores["ada"] == "" and scores["ghopper"] == "55.00"  # untouched rows keep what Canvas had
    assert "Lovelace, Ada" in result.without_submission


@pytest.mark.parametrize(
    ("wanted", "chosen"),
    [("Assignment 2 (12345)", "Assignment 2 (12345)"), ("assignment 2", "Assignment 2 (12345)")],
    ids=["exact", "without-canvas-id"],
)
def test_the_assignment_column(roster: Path, wanted: str | None, chosen: str) -> None:
    assert choose_column(read_roster(roster), wanted, "csc420-a2") == chosen


def test_a_new_column_gets_the_rubric_points_possible(roster: Path) -> None:
    result = export_canvas([report("ada", 61.5)], read_roster(roster), "csc420-a2", 100)
    path = roster.parent / "canvas.csv"
    path.write_text(result.text)
    assert check_canvas(path, roster, "csc420-a2")["ada"] == "61.5"
    assert path.read_text().splitlines()[1] == "    Points Possible,,,,,100"


def test_a_file_that_is_not_a_canvas_export_is_refused(tmp_path: Path) -> None:
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "ada.yaml").write_text("q4_lenet_params: 61706\n")
    out = tmp_path / "out"
    runner = CliRunner()
    runner.invoke(cli, ["batch", str(tmp_path / "class"), "-a", "csc420-a2", "-o", str(out), "-j", "1"])
    bad = tmp_path / "bad.csv"
    bad.write_text("name,score\nada,1\n")
    result = runner.invoke(cli, ["export", str(out), "--to", "canvas", "--roster", str(bad)])
    assert result.exit_code == ExitCode.USAGE_ERROR and "not a Canvas gradebook export" in result.output
    missing = runner.invoke(cli, ["export", str(out), "--to", "canvas"])
    assert missing.exit_code == ExitCode.USAGE_ERROR and "needs --roster" in missing.output


def test_export_commands_write_every_format(tmp_path: Path, roster: Path) -> None:
    root = tmp_path / "class"
    root.mkdir()
    (root / "ada.yaml").write_text("q4_lenet_params: 61706\nq1_proof: by induction\n")
    (root / "ghost.yaml").write_text("q4_lenet_params: 1\n")
    (root / "=cmd.yaml").write_text("q4_lenet_params: 61706\n")
    out = tmp_path / "out"
    runner = CliRunner()
    runner.invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "1"])
    (out / "overrides.yaml").write_text("- {submission: ada, question: q1_proof, score: 2, comment: 'fine, ok'}\n")

    canvas = runner.invoke(cli, ["export", str(out), "--to", "canvas", "--roster", str(roster),
                                 "--column", "Assignment 2"])
    assert canvas.exit_code == ExitCode.OK, canvas.output
    assert canvas.output.splitlines()[0] == str(out / "canvas.csv")
    assert "unmatched: ghost: no roster row" in canvas.output and "column 'Assignment 2 (12345)'" in canvas.output
    assert check_canvas(out / "canvas.csv", roster, "Assignment 2 (12345)")["ada"] == "17"

    refused = runner.invoke(cli, ["export", str(out), "--to", "moodle"])
    assert refused.exit_code == ExitCode.OK and "left out: =cmd" in refused.output
    assert "'=cmd' starts like a spreadsheet formula" in refused.output
    assert check_moodle(out / "moodle.csv", "csc420-a2") == {"ada": "17", "ghost": "0"}  # never defused
    id_map = tmp_path / "ids.csv"
    id_map.write_text("submission,identifier\n=cmd,cmd_user\n")
    moodle = runner.invoke(cli, ["export", str(out), "--to", "moodle", "--id-map", str(id_map)])
    assert moodle.exit_code == ExitCode.OK and moodle.output.splitlines()[0] == str(out / "moodle.csv")
    grades = check_moodle(out / "moodle.csv", "csc420-a2")
    assert grades == {"cmd_user": "15", "ada": "17", "ghost": "0"}
    assert "q1_proof: 2/2 correct (fine, ok)" in (out / "moodle.csv").read_text()

    gradescope = runner.invoke(cli, ["export", str(out), "--to", "gradescope"])
    assert gradescope.exit_code == ExitCode.OK
    ada = check_gradescope_file(out / "gradescope" / "ada.json")
    assert ada["score"] == 17 and json.loads((out / "reports" / "ada.json").read_text())["score"] == 17
