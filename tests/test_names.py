"""Names a student chooses: file names that are not UTF-8, ids that claim a classmate's report,
text that would drive a terminal or a spreadsheet. None of them may stop a batch or take what is
another student's."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lms_formats import check_gradebook, check_moodle

from grader.batch.identity import DUPLICATE, Claimant, settle
from grader.batch.store import ReportIndex
from grader.cli import cli
from grader.core.grading import grade_path
from grader.core.names import csv_text, escaped, for_terminal, json_for_terminal, spreadsheet_cell
from grader.core.report import Report, SubmissionSource
from grader.core.rubric import load_rubric, resolve_assignment

RIGHT = "q4_lenet_params: 61706\n"
WRONG = "q4_lenet_params: 1\n"
ESC_ID = "evil\x1b[2J\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\u202e\x9b"
CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")
FORMULA_ID = "x;=HYPERLINK(A1);@SUM(1)"


def _bytes_name(folder: Path, raw: bytes) -> Path:
    return folder / os.fsdecode(raw)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


# --- the functions, as tables ----------------------------------------------------------------------


@pytest.mark.parametrize(("given", "shown"), [
    ("plain", "plain"), (os.fsdecode(b"a0-14-\xff\xfe"), "a0-14-\\xff\\xfe"), ("\ud800x", "\\ud800x"),
    ("é ü", "é ü"),
], ids=["utf8", "bytes-not-utf8", "lone-high-surrogate", "accents"])
def test_escaped_names(given: str, shown: str) -> None:
    assert escaped(given) == shown
    json.dumps(escaped(given)).encode()  # serialisable everywhere


@pytest.mark.parametrize(("given", "shown"), [
    ("alice", "alice"), ("a\x1b[2Jb", "a\\x1b[2Jb"), ("osc\x1b]52;c;AAAA\x07", "osc\\x1b]52;c;AAAA\\x07"),
    ("c1\x9b31m", "c1\\x9b31m"), ("bidi\u202eevil", "bidi\\u202eevil"), ("two\nlines\r", "two\\x0alines\\x0d"),
    (os.fsdecode(b"n\xff"), "n\\xff"), ("naïve ∑", "naïve ∑"),
], ids=["plain", "screen-clear", "osc52-clipboard", "c1-csi", "bidi-override", "newline-cr", "not-utf8",
        "unicode-kept"])
def test_terminal_text(given: str, shown: str) -> None:
    assert for_terminal(given) == shown


def test_json_for_a_terminal_is_the_same_value() -> None:
    data = {"id": ESC_ID, "answer": "ok ∑"}
    text = json_for_terminal(json.dumps(data, ensure_ascii=False))
    assert json.loads(text) == data and not [c for c in CONTROLS if c in text]


@pytest.mark.parametrize(("given", "cell"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(1)", "'@SUM(1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("  =1", "'  =1"), ("＝1", "'＝1"), ("alice", "alice"), ("", ""), (FORMULA_ID, FORMULA_ID),
], ids=["equals", "plus", "minus", "at", "tab", "cr", "spaces-then-equals", "fullwidth-equals", "plain", "empty",
        "formula-after-semicolon"])
def test_spreadsheet_cells(given: str, cell: str) -> None:
    assert spreadsheet_cell(given) == cell


def test_csv_quotes_what_a_semicolon_or_tab_spreadsheet_would_split() -> None:
    text = csv_text([["id", "total"], [FORMULA_ID, "1"], ["a|b\tc", "2"], ['say "hi"', "-3"]])
    assert text.splitlines()[1] == f'"{FORMULA_ID}",1'
    assert list(csv.reader(io.StringIO(text))) == [
        ["id", "total"], [FORMULA_ID, "1"], ["a|b\tc", "2"], ['say "hi"', "-3"]]


def test_an_entry_the_grader_cannot_read_is_an_ignored_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file unzipped with mode 000 stops `tree_sha256` for a TA who is not root; simulated, so
    that the test means the same as root."""
    from grader.batch import discover as module

    real = module.tree_sha256

    def refuse(path: Path, *args: object) -> str:
        if path.name == "locked":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(module, "tree_sha256", refuse)
    for name in ("alice", "locked"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "answers.yaml").write_text(RIGHT)
    found = module.discover(tmp_path)
    assert [i.key for i in found.items] == ["alice"]
    assert found.ignored == ["locked: cannot be read (Permission denied)"]


# --- who owns an id ---------------------------------------------------------------------------------

C = Claimant
OWNERSHIP = {
    "claim-after-the-owner": ([C("alice", "alice", "alice"), C("zz", "alice", "zz")], {"alice": (True, False)}),
    "claim-before-the-owner": ([C("aa", "alice", "aa"), C("alice", "alice", "alice")], {"alice": (True, False)}),
    "case-variant-claim": ([C("alice", "alice", "alice"), C("ab", "ALICE", "ab")], {"alice": (True, False)}),
    "owner-in-capitals": ([C("Alice", "Alice", "Alice"), C("aa", "alice", "aa")], {"Alice": (True, False)}),
    "fullwidth-claim": ([C("alice", "alice", "alice"), C("ab", "ａｌｉｃｅ", "ab")], {"alice": (True, False)}),
    "two-claims-no-owner": ([C("x", "same", "x"), C("y", "same", "y")], {"x": (True, True)}),
    "own-name-twice": ([C("Bob", "Bob", "Bob"), C("bob", "bob", "bob")], {"Bob": (True, True)}),
    "alone": ([C("k", "kim", "k")], {"k": (True, False)}),
}


@pytest.mark.parametrize(("claimants", "owners"), OWNERSHIP.values(), ids=OWNERSHIP.keys())
def test_ownership_does_not_depend_on_order(claimants: list[Claimant], owners: dict[str, tuple[bool, bool]]) -> None:
    for order in itertools.permutations(claimants):
        standings = dict(zip((c.key for c in order), settle(list(order)), strict=True))
        assert {k: (s.owner, s.contested) for k, s in standings.items() if s.owner} == owners
        assert all(s.shared for s in standings.values()) == (len(claimants) > 1)


def _report(sid: str, key: str, own: str, score: float) -> Report:
    return Report(assignment="csc420-a2", submission=sid, score=score, max_score=100, questions=[],
                  source=SubmissionSource(path=key, default_id=own, sha256="x"))


@pytest.mark.parametrize("order", [("zz_claim", "alice"), ("alice", "zz_claim")], ids=["claim-first", "owner-first"])
def test_a_claim_never_takes_the_report_whatever_the_order(tmp_path: Path, order: tuple[str, str]) -> None:
    made = {"alice": _report("alice", "alice", "alice", 90), "zz_claim": _report("ALICE", "zz_claim", "zz_claim", 1)}
    index = ReportIndex.load(tmp_path)
    for key in order:
        index.write(key, made[key])
    index.settle()
    files = {p.name: json.loads(p.read_text()) for p in (tmp_path / "reports").glob("*.json")}
    assert files["alice.json"]["score"] == 90 and len(files) == 2
    assert all(any(w.startswith(DUPLICATE) for w in r["warnings"]) for r in files.values())
    assert sum(len(r["warnings"]) for r in files.values()) == 2  # one each, not one per write


def test_an_id_that_gives_the_same_file_name_never_pushes_the_owner_aside(tmp_path: Path) -> None:
    index = ReportIndex.load(tmp_path)
    index.write("aa", _report(".alice", "aa", "aa", 1))  # `.alice` is a file name `alice` too
    index.write("alice", _report("alice", "alice", "alice", 90))
    index.settle()
    owner = json.loads((tmp_path / "reports" / "alice.json").read_text())
    assert owner["score"] == 90 and len(list((tmp_path / "reports").glob("*.json"))) == 2


# --- a batch of them --------------------------------------------------------------------------------


def _write_class(root: Path) -> None:
    root.mkdir()
    (root / "alice").mkdir()
    (root / "alice" / "answers.yaml").write_text(RIGHT)
    (root / "aa_claim.yaml").write_text("student_id: alice\n" + WRONG)  # before alice by path
    (root / "zz_impostor.yaml").write_text("student_id: alice\n" + WRONG)  # after
    (root / "ab_upper.yaml").write_text("student_id: ALICE\n" + WRONG)
    _bytes_name(root, b"a0-14-\xff\xfe.yaml").write_text(RIGHT)
    unpacked = root / "bob"
    unpacked.mkdir()
    (unpacked / "answers.yaml").write_text(RIGHT)
    _bytes_name(unpacked, b"notes-\xfe\xfe.txt").write_text("my notes")
    (root / "formula.yaml").write_text(f"student_id: {json.dumps(FORMULA_ID)}\n" + RIGHT)
    (root / "at_formula.yaml").write_text('student_id: "@SUM(1)"\n' + RIGHT)
    (root / "markup.yaml").write_text('student_id: "<script>alert(1)</script>"\n' + RIGHT)
    (root / "escapes.json").write_text(json.dumps({"student_id": ESC_ID, "q4_lenet_params": 61706,
                                                   "q1_proof": "fine\x1b[1A\x1b[2K fake row \udcff"}))
    bad_zip = root / "bad_member.zip"
    with zipfile.ZipFile(bad_zip, "w") as archive:
        archive.writestr("answers.yaml", RIGHT)
        archive.writestr("notes-\u00e9.txt", "x")
    data = bytearray(bad_zip.read_bytes())  # the member's name flagged UTF-8 but holding 0xff
    for at in range(len(data) - 1):
        if data[at:at + 2] == "é".encode():
            data[at:at + 2] = b"\xff\xff"
    bad_zip.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    base = tmp_path_factory.mktemp("names")
    _write_class(base / "class")
    code, output = run("batch", str(base / "class"), "-a", "csc420-a2", "-o", str(base / "out"), "-j", "2")
    assert code == 0, output
    return base / "class", base / "out", output


def _by_key(out: Path) -> dict[str, dict[str, object]]:
    found = {}
    for path in (out / "reports").glob("*.json"):
        data = json.loads(path.read_text())
        found[data["source"]["path"]] = data | {"file": path.name}
    return found


def test_every_submission_has_a_report_and_names_are_escaped(graded: tuple[Path, Path, str]) -> None:
    root, out, output = graded
    reports = _by_key(out)
    assert len(reports) == len(list(root.iterdir()))
    assert reports["a0-14-\\xff\\xfe.yaml"]["submission"] == "a0-14-\\xff\\xfe"
    assert reports["bob"]["score"] == reports["alice"]["score"] > 0
    assert "not UTF-8" in str(reports["escapes.json"]) or reports["escapes.json"]["score"] > 0
    assert "cannot be opened" in str(reports["bad_member.zip"]["questions"])
    assert not [c for c in CONTROLS if c in output]


def test_claims_never_take_the_rightful_report(graded: tuple[Path, Path, str]) -> None:
    _, out, _ = graded
    reports = _by_key(out)
    assert reports["alice"]["file"] == "alice.json"
    for key in ("aa_claim.yaml", "zz_impostor.yaml", "ab_upper.yaml", "alice"):
        assert any(str(w).startswith(DUPLICATE) for w in reports[key]["warnings"]), key  # type: ignore[attr-defined]
        assert key == "alice" or str(reports[key]["file"]).startswith(("alice--", "ALICE--"))


def test_the_gradebook_flags_duplicates_and_defuses_ids(graded: tuple[Path, Path, str]) -> None:
    _, out, _ = graded
    rows = list(csv.reader(io.StringIO((out / "gradebook.csv").read_text())))
    questions = load_rubric(resolve_assignment("csc420-a2")).rubric.questions
    check_gradebook(out / "gradebook.csv", [q.id for q in questions])
    alices = [r for r in rows if r[0].casefold() == "alice"]
    assert alices[0][-1] == "duplicate id: also claimed by aa_claim.yaml, ab_upper.yaml, zz_impostor.yaml"
    assert all("claims the id of alice" in r[-1] for r in alices[1:]) and len(alices) == 4
    assert sorted(r[0] for r in rows if "SUM" in r[0]) == ["'@SUM(1)", FORMULA_ID]
    assert f'"{FORMULA_ID}"' in (out / "gradebook.csv").read_text()


def test_the_summary_escapes_ids_and_flags_duplicates(graded: tuple[Path, Path, str]) -> None:
    _, out, _ = graded
    page = (out / "summary.html").read_text()
    assert "duplicate id: claims the id of alice" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not [c for c in CONTROLS if c in page] and "evil\\x1b[2J" in page  # shown, not obeyed


ROSTER = """\
Student,ID,SIS User ID,SIS Login ID,Section,Assignment 2 (12345)
    Points Possible,,,,,100.00
"Liddell, Alice",201,S201,alice,Sec 1,
"Builder, Bob",202,S202,bob,Sec 1,
"Formula, Eve",203,S203,=HYPERLINK(1),Sec 1,
"""


def test_exports_write_the_rightful_score_and_list_the_rest(graded: tuple[Path, Path, str]) -> None:
    _, out, _ = graded
    roster = out.parent / "roster.csv"
    roster.write_text(ROSTER)
    code, output = run("export", str(out), "--to", "canvas", "--roster", str(roster), "--column", "Assignment 2")
    assert code == 0, output
    alice = _by_key(out)["alice"]["score"]
    scores = {r[3]: r[-1] for r in csv.reader(io.StringIO((out / "canvas.csv").read_text()))}
    assert scores["alice"] == f"{alice:g}"
    assert "=HYPERLINK(1)" not in scores and "left out: Formula, Eve" in output
    assert "unmatched: zz_impostor" not in output and "unmatched: alice: duplicate id: claims" in output
    assert not [c for c in CONTROLS if c in output]
    code, output = run("export", str(out), "--to", "moodle")
    assert code == 0, output
    grades = check_moodle(out / "moodle.csv", "csc420-a2")
    assert grades["alice"] == f"{alice:g}" and "@SUM(1)" not in grades and "'@SUM(1)" not in grades
    assert "left out: @SUM(1) (at_formula.yaml): the identifier '@SUM(1)' starts like a spreadsheet formula" in output


def test_groups_and_check_show_no_control_characters(graded: tuple[Path, Path, str]) -> None:
    root, out, _ = graded
    for args in (["groups", str(out), "q1_proof"], ["groups", str(out), "q1_proof", "--json"],
                 ["check", str(root / "escapes.json"), "-a", "csc420-a2"],
                 ["grade", str(root / "escapes.json"), "-a", "csc420-a2"]):
        code, output = run(*args)
        assert code == 0, output
        assert not [c for c in CONTROLS if c in output], args
        assert "fake row" in output or args[0] == "check", args


def test_grading_alone_escapes_the_same_names(tmp_path: Path) -> None:
    loaded = load_rubric(resolve_assignment("csc420-a2"))
    path = _bytes_name(tmp_path, b"a0-14-\xff\xfe.yaml")
    path.write_text(RIGHT)
    report = grade_path(loaded, path)
    assert report.submission == "a0-14-\\xff\\xfe"
    report.model_dump_json()


def test_an_override_for_an_id_reaches_its_owner_only() -> None:
    from grader.batch.overrides import Decisions, OverrideEntry, apply_overrides
    from grader.core.report import QuestionResult, Status

    rubric = load_rubric(resolve_assignment("csc420-a2")).rubric

    def made(sid: str, key: str) -> Report:
        question = QuestionResult(id="q1_proof", score=0, max_score=2, status=Status.MANUAL, feedback="", answer="x")
        return Report(assignment="csc420-a2", submission=sid, score=0, max_score=2, questions=[question],
                      source=SubmissionSource(path=key, default_id=key.removesuffix(".yaml"), sha256="x"))

    reports = [made("alice", "zz_claim.yaml"), made("alice", "alice")]
    decisions = Decisions([OverrideEntry(submission="alice", question="q1_proof", score=2),
                           OverrideEntry(submission="zz_claim.yaml", question="q1_proof", score=1)], "o.yaml")
    updated, problems = apply_overrides(reports, decisions, rubric)
    assert not problems
    assert {r.source.path: r.score for r in updated if r.source} == {"alice": 2, "zz_claim.yaml": 1}


@pytest.mark.parametrize("tty", [True, False], ids=["bar", "lines"])
def test_the_progress_line_shows_escapes_as_text(tty: bool) -> None:
    from grader.batch.progress import Progress

    stream = io.StringIO()
    progress = Progress(2, stream, tty=tty)
    progress.advance(ESC_ID, "error: " + ESC_ID)
    progress.advance(os.fsdecode(b"n\xff"), "1 / 2")
    text = stream.getvalue()
    assert not [c for c in CONTROLS if c in text] and "n\\xff" in text
    text.encode()  # no lone surrogate for the terminal's encoder
