"""What every hostile report must satisfy, and the traces no payload may leave."""

from __future__ import annotations

from pathlib import Path

from grader.core.report import Report
from tests.hostile.cases_code import ATTACK_LIST, contained
from tests.hostile.conftest import Corpus
from tests.hostile.corpus import CSC411_ZOE, Case, Expect
from tests.processes import lingering
from tests.test_symbolic_hostile import MARKER as SYMBOLIC_MARKER

MAX_REPORT_BYTES = 64 * 1024  # a hostile answer never makes a report large
INTERNAL = "please tell your instructor"  # the grader's own failure, never a student's doing
TERMINAL_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")  # ESC, BEL, C1 CSI, bidi override: never printed raw


def report_problems(case: Case, report: Report) -> list[str]:
    """Everything wrong with a hostile case's report; empty when it is as expected."""
    found = []
    for q in report.questions:
        expect = case.every or case.expect.get(q.id)
        if expect is None:
            if case.rest is not None and q.status.value != case.rest:
                found.append(f"{q.id}: {q.status.value}, expected {case.rest}: {q.feedback[:200]}")
            continue
        found += _question_problems(q.id, q.status.value, q.feedback, expect)
        if INTERNAL in q.feedback or "internal_error" in q.details:
            found.append(f"{q.id}: the grader failed on it: {q.details.get('internal_error', q.feedback)[:300]}")
    missing = set(case.expect) - {q.id for q in report.questions}
    if missing:
        found.append(f"no such questions: {sorted(missing)}")
    text = report.model_dump_json()
    if len(text) > MAX_REPORT_BYTES:
        found.append(f"the report is {len(text):,} bytes")
    found += [f"the report shows {secret!r}" for secret in case.forbidden if secret in text]
    return [f"{case.name}: {problem}" for problem in found]


def _question_problems(qid: str, status: str, feedback: str, expect: Expect) -> list[str]:
    found = []
    if not expect.allows(status):
        found.append(f"{qid}: {status}, expected {expect.status}: {feedback[:300]}")
    if expect.message not in feedback:
        found.append(f"{qid}: the feedback lacks {expect.message!r}: {feedback[:300]}")
    if status in ("invalid", "error") and "your" not in feedback:
        found.append(f"{qid}: the feedback does not speak to the student: {feedback[:200]}")
    return found


ESCAPES = (Path("/escaped.txt"), Path("/tmp/escaped.txt"), Path("/tmp/grader-absolute-escape.txt"),
           Path("/escaped-backslash.txt"))


def trace_problems(corpus: Corpus) -> list[str]:
    """Side effects a payload would have had: files, a connection, a process, a changed classmate."""
    scene = corpus.scene
    found = [f"a payload ran: {path}" for path in scene.outside.iterdir()]
    found += [f"a zip entry escaped to {path}" for path in ESCAPES if path.exists()]
    found += [f"an escape landed in {path}" for path in scene.root.parent.glob("escaped*")]
    if SYMBOLIC_MARKER.exists():
        found.append(f"an expression ran: {SYMBOLIC_MARKER}")
    if scene.classmate_file.read_text() != CSC411_ZOE:
        found.append("a classmate's answers file was changed")
    by_row = {a.table_row: a for a in ATTACK_LIST}
    if contained(by_row["connect to a loopback listener"], scene.layer):
        try:
            corpus.listener.accept()[0].close()
            found.append("student code connected to the grader's loopback listener")
        except BlockingIOError:
            pass
    if contained(by_row["background process outlives the call"], scene.layer) and lingering(scene.mark):
        found.append("a background process of student code outlived its call")
    if contained(by_row["files in /tmp, /var/tmp, /dev/shm outlive the call"], scene.layer):
        found += [f"student code left {path}" for folder in ("/tmp", "/var/tmp", "/dev/shm")
                  for path in Path(folder).glob(scene.mark + "-*")]
    return found
