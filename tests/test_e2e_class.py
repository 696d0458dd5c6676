"""The TA's whole workflow on a generated class of 56 (nine of them broken): batch-graded, killed
half-way, resumed, overridden, grouped, and exported to Canvas, Moodle and Gradescope, every file
checked against the format it claims."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from lms_formats import check_canvas, check_gradebook, check_gradescope_file, check_moodle, check_summary_page

from benchmarks.classgen import generate_class
from grader.core.rubric import load_rubric, resolve_assignment

REPO = Path(__file__).resolve().parent.parent
SIZE = 56
F_SETPIPE_SZ = 1031
ROOM_FOR_PROGRESS = 300  # bytes of progress the killed batch may print before it blocks


def grader(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, **kwargs)


def reports(out: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in (out / "reports").glob("*.json")}


def kill_half_way(root: Path, out: Path) -> int:
    """Start a batch whose progress stream fills up after a few submissions, so that it stops
    there; kill it and everything it started; return how many reports it had written."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, F_SETPIPE_SZ, 4096)
    os.write(write_end, b"." * (4096 - ROOM_FOR_PROGRESS))
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", "batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "1"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=write_end, start_new_session=True)
    os.close(write_end)
    try:
        count, since, deadline = -1, time.monotonic(), time.monotonic() + 120
        while time.monotonic() - since < 3 and proc.poll() is None and time.monotonic() < deadline:
            now = len(list((out / "reports").glob("*.json"))) if (out / "reports").is_dir() else 0
            if now != count or now == 0:
                count, since = now, time.monotonic()
            time.sleep(0.05)
        assert proc.poll() is None, "the batch finished before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(read_end)
    return count


def roster_for(ids: list[str], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Assignment 2 (777)"])
        writer.writerow(["    Points Possible", "", "", "", "", "100.00"])
        for n, sid in enumerate([*ids, "absent1", "absent2"]):
            writer.writerow([f"Student{n}, Some", str(5000 + n), f"U{n}", sid, "A", ""])


def test_a_class_from_batch_to_every_lms(tmp_path: Path) -> None:
    root, out = tmp_path / "class", tmp_path / "out"
    written = generate_class(root, "csc420-a2", SIZE)
    broken = {w.id for w in written if w.broken}
    assert len(written) == SIZE and len(broken) == 9
    question_ids = [q.id for q in load_rubric(resolve_assignment("csc420-a2")).rubric.questions]

    # killed half-way: some reports, all of them whole
    done = kill_half_way(root, out)
    assert 0 < done < SIZE
    assert all(r["submission"] for r in reports(out).values())

    # resumed: only the rest is graded
    resumed = grader("batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "2")
    assert resumed.returncode == 0, resumed.stderr
    record = json.loads((out / "batch.json").read_text())
    assert (record["submissions"], record["skipped"], record["graded"], record["failed"]) == (
        SIZE, done, SIZE - done, 0)
    found = reports(out)
    assert len(found) == SIZE
    for name in broken:
        statuses = {q["status"] for q in found[name]["questions"]}
        assert statuses == {"invalid"} or statuses <= {"invalid", "missing", "incorrect", "manual"}, (name, statuses)
    assert {q["status"] for q in found["broken_yaml"]["questions"]} == {"invalid"}
    assert {q["status"] for q in found["escaping_zip"]["questions"]} == {"invalid"}

    # grouped: every way of writing 1,153,840 in one group
    groups = json.loads(grader("groups", str(out), "q3_flops_no_bias", "--json").stdout)["groups"]
    assert sum(g["count"] for g in groups) == SIZE
    right = next(g for g in groups if g["statuses"] == {"correct": g["count"]})
    by_id = {w.id: w for w in written}
    forms = {repr(by_id[m].answers["q3_flops_no_bias"]) for m in right["members"]}
    assert forms == {"1153840", "'1,153,840 FLOPs'", "'1.15384e6'"}
    mistaken = next(g for g in groups if "multiply_add_as_one_flop" in g["mistakes"])

    # overridden: a manual question, and a whole group at once
    first = sorted(n for n in found if n not in broken)[0]
    (out / "overrides.yaml").write_text(
        "overrides:\n"
        f"  - {{submission: {first}, question: q1_proof, score: 2, comment: complete argument}}\n"
        f"  - {{question: q3_flops_no_bias, answer: '{mistaken['answer']}', score: 3, comment: 'MACs, half marks'}}\n")

    # exported to the three LMS formats, every file checked
    roster = tmp_path / "roster.csv"
    valid = sorted(n for n in found if n not in broken)
    roster_for(valid, roster)
    canvas = grader("export", str(out), "--to", "canvas", "--roster", str(roster), "--column", "Assignment 2")
    assert canvas.returncode == 0, canvas.stderr
    assert sorted(line.split(":")[1].strip() for line in canvas.stdout.splitlines() if line.startswith("unmatched")) \
        == sorted(broken)
    moodle = grader("export", str(out), "--to", "moodle")
    gradescope = grader("export", str(out), "--to", "gradescope")
    assert moodle.returncode == 0 and gradescope.returncode == 0

    after = reports(out)
    totals = check_gradebook(out / "gradebook.csv", question_ids)
    canvas_scores = check_canvas(out / "canvas.csv", roster, "Assignment 2 (777)")
    moodle_scores = check_moodle(out / "moodle.csv", "csc420-a2")
    for name, report in after.items():
        gradescope_file = check_gradescope_file(out / "gradescope" / f"{name}.json")
        assert float(totals[name]) == float(moodle_scores[name]) == gradescope_file["score"] == report["score"]
        if name in valid:
            assert float(canvas_scores[name]) == report["score"]
    assert canvas_scores["absent1"] == canvas_scores["absent2"] == ""
    proof = next(q for q in after[first]["questions"] if q["id"] == "q1_proof")
    assert proof["score"] == 2 and proof["automatic"]["status"] in ("manual", "missing")
    for member in mistaken["members"]:
        q3 = next(q for q in after[member]["questions"] if q["id"] == "q3_flops_no_bias")
        assert (q3["score"], q3["status"], q3["automatic"]["status"]) == (3, "partial", "incorrect")
    check_summary_page(out / "summary.html")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["submissions"] == SIZE
    assert next(q for q in summary["questions"] if q["id"] == "q3_flops_no_bias")["overridden"] == mistaken["count"]
