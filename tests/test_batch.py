"""`grader batch`: outputs, resume and skip logic, provenance, and submissions that crash or hang."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.batch import BatchOptions, run_batch
from grader.batch.store import read_run_record
from grader.cli import ExitCode, cli
from grader.core.report import Report
from grader.core.rubric import load_rubric, resolve_assignment

RIGHT = "q2_dL_dw3: 0.0006\nq4_lenet_params: 61706\nq6a_tanh_range: '(-1, 1)'\nq1_proof: by induction\n"
WRONG = "q2_dL_dw3: 0.00143\nq4_lenet_params: 60850\nq6a_tanh_range: '[-1, 1]'\n"


def make_class(root: Path, n: int = 6) -> Path:
    for i in range(n):
        folder = root / f"s{i}"
        folder.mkdir(parents=True)
        (folder / "answers.yaml").write_text(RIGHT if i % 2 == 0 else WRONG)
    return root


def batch(root: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "2", *extra])
    return result.exit_code, result.output


def reports(out: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((out / "reports").glob("*.json"))}


def stable(report: dict[str, Any]) -> dict[str, Any]:
    return Report.model_validate(report).stable_dump()


def test_batch_writes_reports_gradebook_and_summary(tmp_path: Path) -> None:
    code, output = batch(make_class(tmp_path / "class"), tmp_path / "out")
    assert code == ExitCode.OK, output
    found = reports(tmp_path / "out")
    assert sorted(found) == [f"s{i}" for i in range(6)]
    assert found["s0"]["score"] > found["s1"]["score"]
    lines = (tmp_path / "out" / "gradebook.csv").read_text().splitlines()
    assert lines[0].startswith("id,total,max,q1_effective_weight,") and len(lines) == 7
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["submissions"] == 6 and summary["scores"]["count"] == 6
    assert (tmp_path / "out" / "summary.html").read_text().startswith("<!DOCTYPE html>")
    assert "6 submissions: 6 graded, 0 up to date, 0 failed" in output


def test_every_report_records_its_provenance(tmp_path: Path) -> None:
    batch(make_class(tmp_path / "class", 2), tmp_path / "out")
    report = reports(tmp_path / "out")["s0"]
    loaded = load_rubric(resolve_assignment("csc420-a2"))
    assert report["grader_version"] and report["rubric_sha256"] == loaded.sha256
    assert len(report["submission_sha256"]) == 64 and report["source"]["sha256"]
    assert report["source"]["path"] == "s0" and report["graded_at"].endswith("Z")
    assert "seeds" in report and "sandbox" in report


def test_regrading_unchanged_input_gives_identical_reports_but_timestamps(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class")
    batch(root, tmp_path / "first")
    batch(root, tmp_path / "second", "-j", "1")
    first, second = reports(tmp_path / "first"), reports(tmp_path / "second")
    assert first.keys() == second.keys()
    assert all(stable(first[k]) == stable(second[k]) for k in first)


@pytest.mark.parametrize(
    ("change", "regraded"),
    [
        ("nothing", 0),
        ("one-answer", 1),
        ("new-student", 1),
        ("force", 6),
    ],
    ids=["unchanged-rerun-skips-all", "edited-submission", "added-submission", "force"],
)
def test_a_rerun_regrades_only_what_changed(tmp_path: Path, change: str, regraded: int) -> None:
    root = make_class(tmp_path / "class")
    out = tmp_path / "out"
    batch(root, out)
    extra: list[str] = []
    if change == "one-answer":
        (root / "s3" / "answers.yaml").write_text(RIGHT)
    elif change == "new-student":
        (root / "s9.yaml").write_text(RIGHT)
    elif change == "force":
        extra = ["--force"]
    code, _ = batch(root, out, *extra)
    record = read_run_record(out)
    assert code == ExitCode.OK and record is not None
    assert record.graded == regraded and record.skipped == record.submissions - regraded


def test_a_changed_rubric_regrades_everything(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class", 3)
    rubric = tmp_path / "mine.yaml"
    rubric.write_text(resolve_assignment("csc420-a2").read_text())
    out = tmp_path / "out"
    runner = CliRunner()
    runner.invoke(cli, ["batch", str(root), "-a", str(rubric), "-o", str(out), "-j", "1"])
    rubric.write_text(rubric.read_text().replace("title: \"Q4 trainable", "title: \"Q4: trainable"))
    runner.invoke(cli, ["batch", str(root), "-a", str(rubric), "-o", str(out), "-j", "1"])
    record = read_run_record(out)
    assert record is not None and record.graded == 3 and record.skipped == 0


def test_a_torn_report_and_leftover_temp_files_are_dealt_with(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class", 3)
    out = tmp_path / "out"
    batch(root, out)
    (out / "reports" / "s1.json").write_text('{"schema_version": 1, "assign')  # a non-atomic writer's ruin
    (out / "reports" / ".s2.json.abc.tmp").write_text("partial")
    batch(root, out)
    record = read_run_record(out)
    assert record is not None and record.graded == 1 and record.skipped == 2
    assert json.loads((out / "reports" / "s1.json").read_text())["submission"] == "s1"
    assert not list((out / "reports").glob(".*.tmp"))


def test_two_submissions_claiming_one_id_keep_two_reports(tmp_path: Path) -> None:
    root = tmp_path / "class"
    root.mkdir()
    (root / "a.yaml").write_text("student_id: same\n" + RIGHT)
    (root / "b.yaml").write_text("student_id: same\n" + WRONG)
    batch(root, tmp_path / "out")
    names = sorted(reports(tmp_path / "out"))
    assert len(names) == 2 and "same" in names and any(n.startswith("same--") for n in names)


def test_a_student_id_cannot_write_outside_the_reports_folder(tmp_path: Path) -> None:
    root = tmp_path / "class"
    root.mkdir()
    (root / "x.yaml").write_text("student_id: ../../escaped\n" + RIGHT)
    batch(root, tmp_path / "out")
    assert not (tmp_path / "escaped.json").exists()
    assert [p.parent.name for p in (tmp_path / "out").rglob("*escaped*.json")] == ["reports"]


def test_progress_is_plain_lines_off_a_terminal(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class", 3)
    loaded = load_rubric(resolve_assignment("csc420-a2"))
    stream = io.StringIO()
    run_batch(root, tmp_path / "out", "csc420-a2", loaded, BatchOptions(jobs=1, progress=stream, tty=False))
    lines = stream.getvalue().splitlines()
    assert [line.split("]")[0] for line in lines] == ["[1/3", "[2/3", "[3/3"]


def test_progress_on_a_terminal_is_one_redrawn_bar_with_an_eta(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class", 3)
    loaded = load_rubric(resolve_assignment("csc420-a2"))
    stream = io.StringIO()
    run_batch(root, tmp_path / "out", "csc420-a2", loaded, BatchOptions(jobs=1, progress=stream, tty=True))
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and "ETA" in text and "3/3" in text


def _faulty_batch(root: Path, out: Path, **options: Any) -> Any:
    loaded = load_rubric(resolve_assignment("csc420-a2"))
    return run_batch(root, out, "csc420-a2", loaded, BatchOptions(
        jobs=2, progress=io.StringIO(), initializer="batch_faults:init_grading",
        handler="batch_faults:grade_or_misbehave", **options))


def test_a_submission_that_crashes_or_hangs_gets_an_error_report(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class", 4)
    for bad in ("crash_me", "hang_me"):
        shutil.copytree(root / "s0", root / bad)
    result = _faulty_batch(root, tmp_path / "out", timeout=2.0)
    found = reports(tmp_path / "out")
    assert sorted(found) == ["crash_me", "hang_me", "s0", "s1", "s2", "s3"]
    for bad, reason in (("crash_me", "exit code 3"), ("hang_me", "time limit of 2 s")):
        assert reason in found[bad]["failure"]
        assert {q["status"] for q in found[bad]["questions"]} == {"error"}
        assert reason in found[bad]["questions"][0]["feedback"]
    assert found["s0"]["failure"] is None and found["s0"]["score"] > 0
    assert result.record.failed == 2 and result.record.graded == 4


def test_failed_submissions_are_kept_on_rerun_unless_retried(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class", 2)
    shutil.copytree(root / "s0", root / "crash_me")
    _faulty_batch(root, tmp_path / "out")
    assert _faulty_batch(root, tmp_path / "out").record.graded == 0
    again = _faulty_batch(root, tmp_path / "out", retry_failures=True)
    assert again.record.failed == 1 and again.record.skipped == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-a", "no-such-assignment"], "unknown assignment"),
        (["-a", "csc420-a2", "-j", "0"], "0 is not in the range"),
    ],
    ids=["unknown-assignment", "zero-jobs"],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    root = make_class(tmp_path / "class", 1)
    result = CliRunner().invoke(cli, ["batch", str(root), "-o", str(tmp_path / "out"), *args])
    assert result.exit_code == ExitCode.USAGE_ERROR and message in result.output


def test_a_worker_reaches_each_verdict_once_and_reports_as_plain_grading_does(tmp_path: Path) -> None:
    from grader.batch.worker import GradeTask, grade_task, init_worker
    from grader.core.grading import grade_path

    root = make_class(tmp_path / "class", 4)
    loaded = load_rubric(resolve_assignment("csc420-a2"))
    state = init_worker(str(loaded.path))
    for i in range(4):
        memoised = json.loads(grade_task(state, GradeTask(default_id=f"s{i}", path=str(root / f"s{i}"))))
        plain = grade_path(loaded, root / f"s{i}").stable_dump()
        assert stable(memoised) == plain
    compared = [q for q in loaded.rubric.questions if q.memoisable]
    assert len(state.memo) == sum(2 if q.id in RIGHT + WRONG else 1 for q in compared)  # right, wrong or missing
    assert state.memo_hits == 4 * len(compared) - len(state.memo)  # s2 and s3 repeat s0 and s1


def test_seeds_declared_by_questions_are_recorded(tmp_path: Path) -> None:
    from grader.batch.worker import GradeTask, grade_task, init_worker
    from grader.checkers.number import NumberQuestion

    class SeededNumber(NumberQuestion):
        seed: int = 7

    loaded = load_rubric(resolve_assignment("csc420-a2"))
    state = init_worker(str(loaded.path))
    questions = list(state.loaded.rubric.questions)
    questions[3] = SeededNumber.model_construct(**dict(questions[3]))
    state.loaded = type(state.loaded)(state.loaded.rubric.model_copy(update={"questions": questions}),
                                      loaded.path, loaded.sha256)
    (tmp_path / "a.yaml").write_text(RIGHT)
    report = json.loads(grade_task(state, GradeTask(default_id="a", path=str(tmp_path / "a.yaml"))))
    assert report["seeds"] == {questions[3].id: 7}


def test_an_old_report_left_behind_by_a_renamed_submission_is_removed(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class", 2)
    out = tmp_path / "out"
    batch(root, out)
    old = json.loads((out / "reports" / "s1.json").read_text())
    old["submission"], old["graded_at"] = "s1-old-name", "2000-01-01T00:00:00Z"
    (out / "reports" / "s1-old-name.json").write_text(json.dumps(old))  # as if killed before the unlink
    batch(root, out)
    assert sorted(reports(out)) == ["s0", "s1"]
    assert len((out / "gradebook.csv").read_text().splitlines()) == 3


def canvas_download(path: Path, students: dict[str, str]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for n, (name, answers) in enumerate(sorted(students.items())):
            archive.writestr(f"{name}_{100 + n}_{900 + n}_answers.yaml", answers)
    return path


def test_an_lms_download_zip_is_graded_and_unpacked_only_when_it_changes(tmp_path: Path) -> None:
    download = canvas_download(tmp_path / "submissions.zip", {"smithjo": RIGHT, "doeja": WRONG})
    out = tmp_path / "out"
    code, output = batch(download, out)
    assert code == ExitCode.OK, output
    assert sorted(reports(out)) == ["doeja_100", "smithjo_101"]
    assert reports(out)["smithjo_101"]["source"]["lms_user_id"] == "101"
    marker = out / ".inputs" / "submissions.sha256"
    stamp = marker.stat().st_mtime_ns
    batch(download, out)
    record = read_run_record(out)
    assert record is not None and record.skipped == 2 and marker.stat().st_mtime_ns == stamp
    canvas_download(download, {"smithjo": WRONG, "doeja": WRONG})
    batch(download, out)
    record = read_run_record(out)
    assert record is not None and record.graded == 1 and record.skipped == 1


@pytest.mark.parametrize(
    ("make", "message"),
    [("escape", "a path that leaves the folder"), ("not-zip", "cannot be unpacked"), ("text", "is a file"),
     ("bad-utf8", "cannot be unpacked")],
    ids=["member-escapes", "not-a-zip", "not-a-zip-name", "member-name-flagged-utf8-but-not"],
)
def test_a_bad_download_is_a_usage_error(tmp_path: Path, make: str, message: str) -> None:
    import zipfile

    path = tmp_path / ("notes.txt" if make == "text" else "download.zip")
    if make == "escape":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("../../evil.yaml", RIGHT)
    elif make == "bad-utf8":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("s1/answers-\u00e9\u00e9.yaml", RIGHT)
        path.write_bytes(path.read_bytes().replace("\u00e9\u00e9".encode(), b"\xff\xfe\xff\xfe"))
    else:
        path.write_bytes(b"not a zip at all")
    code, output = batch(path, tmp_path / "out")
    assert code == ExitCode.USAGE_ERROR and message in output
    assert not (tmp_path / "evil.yaml").exists()
