"""Each LMS's importer, as its own rules read the files we write: Moodle's CSV grade import
(one identifier per user, every identifier known, else the import aborts), Canvas's gradebook
importer (every variant of its export read back, the BOM kept, the right column, the right scale)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.cli.common import ExitCode
from grader.core.report import QuestionResult, Report, Status, SubmissionSource
from grader.lms.canvas import RosterError, choose_column, export_canvas, points_factor, read_roster
from grader.lms.identity import duplicate_ids, lms_identifier, load_id_map
from grader.lms.moodle import export_moodle


def report(submission: str, score: float = 5, source: SubmissionSource | None = None,
           questions: list[QuestionResult] | None = None) -> Report:
    return Report(assignment="csc420-a2", submission=submission, score=score, max_score=100,
                  questions=questions or [], source=source)


def canvas_source(user: str, name: str, path: str = "") -> SubmissionSource:
    return SubmissionSource(path=path or f"canvas:{user}", sha256="x", layout="canvas", lms_user_id=user, name=name)


# --- Moodle ---------------------------------------------------------------------------------------

MOODLE_USERS = {"ada", "aturing", "ghopper", "s001", "ada@uni.example"}


def moodle_import(text: str, users: set[str]) -> dict[str, str]:
    """Moodle's import: map by header; abort on an unknown identifier; rows for one user clash."""
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    at, grade = header.index("Identifier"), 1
    seen: dict[str, str] = {}
    for row in body:
        identifier = row[at]
        assert identifier in users, f"Moodle aborts the import: unknown identifier {identifier!r}"
        assert identifier not in seen, f"two rows for {identifier!r}: the last one silently wins"
        seen[identifier] = row[grade]
    return seen


@pytest.mark.parametrize(
    ("reports", "mapping", "match_on", "refusal"),
    [
        ([report("ada", source=SubmissionSource(path="ada.yaml", sha256="x")),
          report("ada", source=SubmissionSource(path="mallory.yaml", sha256="x"))], {}, "username",
         "ada (ada.yaml): duplicate id (contested): also mallory.yaml; no export writes it"),
        ([report("Ada"), report("ada ")], {}, "username",
         "Ada: duplicate id (contested): also ada ; no export writes it"),
        ([report("lovelaceada_1001", source=canvas_source("1001", "lovelaceada"))], {}, "username",
         "a Canvas download id is not a Moodle username"),
        ([report("=cmd")], {}, "username", "starts like a spreadsheet formula"),
        ([report("ada")], {}, "email", "no email is known for it"),
        ([report("ada"), report("alan")], {"alan": "ada"}, "username", "both claim the identifier 'ada'"),
    ],
    ids=["claimed-student-id", "case-folded-duplicate", "canvas-download-id", "formula-id", "no-email",
         "mapped-onto-a-classmate"],
)
def test_moodle_leaves_out_what_it_would_misapply(reports: list[Report], mapping: dict[str, str], match_on: str,
                                                  refusal: str) -> None:
    result = export_moodle(reports, "A2", mapping, match_on)  # type: ignore[arg-type]
    assert any(refusal in p for p in result.left_out), result.left_out
    assert moodle_import(result.text, MOODLE_USERS) == {} and result.identifiers == []


@pytest.mark.parametrize(
    ("given", "mapping", "match_on", "identifier"),
    [
        (report("ada"), {}, "username", "ada"),
        (report("lovelaceada_1001", source=canvas_source("1001", "lovelaceada")), {"1001": "ada"}, "username", "ada"),
        (report("lovelaceada_1001", source=canvas_source("1001", "lovelaceada")), {"lovelaceada_1001": "s001"},
         "idnumber", "s001"),
        (report("x", source=SubmissionSource(path="gradescope:submission_1", sha256="x", layout="gradescope",
                                             email="ada@uni.example", sid="s001")), {}, "email", "ada@uni.example"),
        (report("x", source=SubmissionSource(path="gradescope:submission_1", sha256="x", layout="gradescope",
                                             sid="s001")), {}, "idnumber", "s001"),
    ],
    ids=["username-is-the-id", "canvas-user-id-mapped", "download-id-mapped", "gradescope-email", "gradescope-sid"],
)
def test_moodle_identifiers_are_what_moodle_matches(given: Report, mapping: dict[str, str], match_on: str,
                                                   identifier: str) -> None:
    assert lms_identifier(given, mapping, match_on) == identifier  # type: ignore[arg-type]
    result = export_moodle([given], "A2", mapping, match_on)  # type: ignore[arg-type]
    assert result.left_out == [] and result.identifiers == [identifier]
    assert moodle_import(result.text, MOODLE_USERS) == {identifier: "5"}


def test_moodle_feedback_carries_the_explanations_and_is_bounded() -> None:
    questions = [
        QuestionResult(id="q2", score=0, max_score=15, status=Status.INCORRECT,
                       feedback="your answer 0.00143 is not correct: check the sign of the gradient"),
        QuestionResult(id="q1", score=0, max_score=10, status=Status.MANUAL, feedback="graded by a person"),
        QuestionResult(id="q9", score=0, max_score=5, status=Status.INCORRECT, feedback="x" * 10_000),
    ]
    result = export_moodle([report("ada", questions=questions)], "A2")
    feedback = next(csv.DictReader(io.StringIO(result.text)))["Feedback"]
    assert "check the sign of the gradient" in feedback and "graded by a person" in feedback
    assert len(feedback) <= 4_000


def test_the_id_map_file_names_its_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("submission,identifier\nada,ada\nalan\n")
    with pytest.raises(Exception, match=r"ids.csv, line 3"):
        load_id_map(path)
    path.write_text("\ufeffsubmission,identifier\nobrienbob_1002,bob\n")
    assert load_id_map(path) == {"obrienbob_1002": "bob"}


def test_duplicate_ids_fold_case() -> None:
    found = duplicate_ids([report("Ada"), report("ada"), report("alan")])
    assert list(found) == ["ada"] and len(found["ada"]) == 2


def test_the_moodle_command_prints_and_writes_the_preflight_list(tmp_path: Path) -> None:
    root = tmp_path / "class"
    root.mkdir()
    for name in ("ada", "aturing"):
        (root / f"{name}.yaml").write_text("q4_lenet_params: 61706\n")
    out = tmp_path / "out"
    runner = CliRunner()
    runner.invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "1"])
    result = runner.invoke(cli, ["export", str(out), "--to", "moodle", "--match-on", "username"])
    assert result.exit_code == ExitCode.OK, result.output
    assert "pre-flight" in result.output and "  ada\n" in result.output and "  aturing\n" in result.output
    assert (out / "moodle-identifiers.txt").read_text() == "ada\naturing\n"
    assert moodle_import((out / "moodle.csv").read_text(), MOODLE_USERS) == {"ada": "15", "aturing": "15"}
    participants = tmp_path / "participants.csv"
    participants.write_text("First name,Last name,Username,Email address\nAda,Lovelace,ada,ada@uni.example\n")
    unknown = runner.invoke(cli, ["export", str(out), "--to", "moodle", "--known-users", str(participants)])
    assert unknown.exit_code == ExitCode.OK
    assert "left out: aturing (aturing.yaml): 'aturing' is not a username of the course" in unknown.output
    assert moodle_import((out / "moodle.csv").read_text(), {"ada"}) == {"ada": "15"}
    participants.write_text("ada\naturing\n")
    known = runner.invoke(cli, ["export", str(out), "--to", "moodle", "--known-users", str(participants)])
    assert known.exit_code == ExitCode.OK and "left out" not in known.output
    (root / "mallory.yaml").write_text("student_id: ada\nq4_lenet_params: 1\n")
    runner.invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "1"])
    refused = runner.invoke(cli, ["export", str(out), "--to", "moodle"])  # ada.yaml owns `ada`; mallory claims it
    assert refused.exit_code == ExitCode.OK and "left out: ada (mallory.yaml): duplicate id" in refused.output
    assert moodle_import((out / "moodle.csv").read_text(), MOODLE_USERS) == {"ada": "15", "aturing": "15"}
    assert "mallory.yaml" in refused.output and "ada.yaml" in refused.output


# --- Canvas ---------------------------------------------------------------------------------------

HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Assignment 2 (12345)", "Quiz 1 (777)",
          "Current Score"]
STUDENTS = [["Lovelace, Ada", "101", "S001", "ada", "Sec 1", "", "3", "90"],
            ["Ørsted, Hans", "102", "S002", "horsted", "Sec 1", "", "4", "80"],
            ["Student, Test", "106", "", "", "Sec 1", "", "", ""]]
POINTS = ["    Points Possible", "", "", "", "", "100.00", "5.00", "(read only)"]
MANUAL = ["", "", "", "", "", "Manual Posting", "", ""]


def roster_text(delimiter: str = ",", *, split_names: bool = False, points: str = "100.00") -> str:
    header, rows = list(HEADER), [list(r) for r in STUDENTS]
    pp = list(POINTS)
    pp[5] = points
    manual = list(MANUAL)
    if split_names:
        header[0:1] = ["LastName", "FirstName"]
        rows = [[*r[0].split(", "), *r[1:]] for r in rows]
        pp, manual = [pp[0], "", *pp[1:]], ["", "", *manual[1:]]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerows([header, pp, manual, *rows])
    return out.getvalue()


def canvas_import(raw: bytes) -> tuple[list[str], dict[str, str]]:
    """Canvas's importer: sniff the delimiter, a header, then rows; non-students have no ID.
    Returns the header and SIS Login ID -> grade of the one assignment column."""
    assert raw.startswith(b"\xef\xbb\xbf"), "the UTF-8 BOM is kept"
    text = raw.decode("utf-8-sig")
    delimiter = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;").delimiter
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = rows[0]
    at_id, at_login = header.index("ID"), header.index("SIS Login ID")
    return header, {r[at_login]: r[-1] for r in rows[1:] if r[at_id]}


@pytest.mark.parametrize(
    "variant", [{}, {"delimiter": ";"}, {"split_names": True}, {"delimiter": ";", "split_names": True}],
    ids=["comma", "semicolon", "last-first-names", "semicolon-last-first-names"],
)
def test_every_canvas_export_variant_is_read_and_written_back(tmp_path: Path, variant: dict[str, object]) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(b"\xef\xbb\xbf" + roster_text(**variant).encode())  # type: ignore[arg-type]
    roster = read_roster(path)
    assert [roster.name(s) for s in roster.students] == ["Lovelace, Ada", "Ørsted, Hans", "Student, Test"]
    reports = [report("ada", 61.5), report("Hans Ørsted", 70)]
    result = export_canvas(reports, roster, choose_column(roster, "Assignment 2", "csc420-a2"), 100)
    assert result.without_submission == []  # the Test Student is nobody missing
    assert result.unmatched == [] and set(result.matched) == {"ada", "Hans Ørsted"}
    header, grades = canvas_import(result.text.encode())
    assert header[-1] == "Assignment 2 (12345)" and ("LastName" in header) == bool(variant.get("split_names"))
    assert grades == {"ada": "61.5", "horsted": "70", "": ""}
    assert "Ørsted" in result.text


@pytest.mark.parametrize(
    ("wanted", "message"),
    [("Assignmnet 2", "matches no column of the roster; its assignment columns: 'Assignment 2 (12345)'; "
                      "'Quiz 1 (777)'"),
     (None, "give --column: the roster has several assignment columns for 'csc420-a2'")],
    ids=["typo", "left-out-with-several-columns"],
)
def test_an_unknown_or_missing_column_is_refused_with_the_candidates(tmp_path: Path, wanted: str | None,
                                                                     message: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(roster_text())
    with pytest.raises(RosterError) as err:
        choose_column(read_roster(path), wanted, "csc420-a2")
    assert message in str(err.value)


def test_an_ambiguous_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("Student,ID,SIS Login ID,HW (1),HW (2)\n    Points Possible,,,5,5\n\"A, B\",1,ab,,\n")
    with pytest.raises(RosterError, match=r"matches several columns.*'HW \(1\)'; 'HW \(2\)'"):
        choose_column(read_roster(path), "HW", "x")


@pytest.mark.parametrize(
    ("scale", "outcome"), [(False, "worth 10.00 points in Canvas, the rubric 100"), (True, "6.15")],
    ids=["refused-without-scale", "scaled-with-scale"],
)
def test_points_possible_that_differ_from_the_rubric(tmp_path: Path, scale: bool, outcome: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(roster_text(points="10.00"))
    roster = read_roster(path)
    if not scale:
        with pytest.raises(RosterError, match=outcome):
            points_factor(roster, "Assignment 2 (12345)", 100, scale=False)
        return
    factor = points_factor(roster, "Assignment 2 (12345)", 100, scale=True)
    result = export_canvas([report("ada", 61.5)], roster, "Assignment 2 (12345)", 100, factor=factor)
    assert canvas_import(result.text.encode())[1]["ada"] == outcome


def test_the_canvas_command_refuses_a_mismatched_scale_and_a_typo(tmp_path: Path) -> None:
    root = tmp_path / "class"
    root.mkdir()
    (root / "ada.yaml").write_text("q4_lenet_params: 61706\n")
    out = tmp_path / "out"
    runner = CliRunner()
    runner.invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "1"])
    roster = tmp_path / "roster.csv"
    roster.write_text(roster_text(points="10.00"))
    base = ["export", str(out), "--to", "canvas", "--roster", str(roster)]
    typo = runner.invoke(cli, [*base, "--column", "Asignment 2"])
    assert typo.exit_code == ExitCode.USAGE_ERROR and "'Quiz 1 (777)'" in typo.output
    unscaled = runner.invoke(cli, [*base, "--column", "Assignment 2"])
    assert unscaled.exit_code == ExitCode.USAGE_ERROR and "--scale" in unscaled.output
    scaled = runner.invoke(cli, [*base, "--column", "Assignment 2", "--scale"])
    assert scaled.exit_code == ExitCode.OK, scaled.output
    assert canvas_import((out / "canvas.csv").read_bytes())[1]["ada"] == "1.5"
    assert "Student, Test" not in scaled.output
