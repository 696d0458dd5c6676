"""A long-lived boxed worker (`SandboxSession`): jobs share one process until one kills it.

The worker here is the session's own `probe` handler: `echo` copies `in.txt` into `result.json`,
`sleep`, `exit` and `allocate` misbehave on request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from grader.sandbox import Limits
from grader.sandbox.layers import LAYERS, available
from grader.sandbox.session import SandboxSession

PROBE = "grader.sandbox.session_worker:probe"
LIMITS = Limits(wall_seconds=20, cpu_seconds=20, memory_mb=512)
USABLE_LAYERS = [layer for layer in LAYERS if available(layer).available]


@pytest.fixture
def session() -> Iterator[SandboxSession]:
    with SandboxSession(PROBE, limits=LIMITS) as opened:
        yield opened


def echo(session: SandboxSession, text: str) -> dict[str, object]:
    result = session.run({"in.txt": text.encode()}, args=["echo"])
    assert result.status == "ok", (result.reason, result.stderr)
    assert result.result is not None
    return result.result


@pytest.mark.parametrize("layer", USABLE_LAYERS)
def test_jobs_share_one_worker(layer: str) -> None:
    with SandboxSession(PROBE, limits=LIMITS, layer=layer) as session:
        answers = [echo(session, f"job {i}") for i in range(4)]
        last = session.run({"in.txt": b"x"}, args=["echo"])
    assert [a["echo"] for a in answers] == [f"job {i}" for i in range(4)]
    assert len({a["worker"] for a in answers}) == 1
    assert session.starts == 1 and session.jobs == 5
    assert last.layer == layer


def test_each_job_sees_only_its_own_inputs(session: SandboxSession) -> None:
    echo(session, "first")
    result = session.run({}, args=["echo"])  # no in.txt: the first job's file is gone
    assert result.status == "crash"
    assert "FileNotFoundError" in result.reason


def test_collect_brings_back_named_files(session: SandboxSession) -> None:
    result = session.run({"in.txt": b"abc"}, args=["echo"], collect=("in.*",))
    assert result.files == {"in.txt": b"abc"}


MISBEHAVIOURS = [
    ("over the wall-clock limit", ["sleep", "30"], "timeout", "time limit of 1 s", True),
    ("exits", ["exit", "3"], "crash", "exited with code 3", True),
    ("out of memory", ["allocate", "2048"], "memory", "out of memory", False),
]


@pytest.mark.parametrize("layer", USABLE_LAYERS)
@pytest.mark.parametrize(
    ("name", "args", "status", "reason", "replaced"), MISBEHAVIOURS,
    ids=[m[0] for m in MISBEHAVIOURS],
)
def test_a_job_that_breaks_the_worker_fails_alone(
    layer: str, name: str, args: list[str], status: str, reason: str, replaced: bool,
) -> None:
    with SandboxSession(PROBE, limits=LIMITS, layer=layer) as session:
        before = echo(session, "before")["worker"]
        result = session.run({"in.txt": b"x"}, args=args, wall_seconds=1)
        after = echo(session, "after")["worker"]
    assert result.status == status, (result.reason, result.stderr)
    assert reason in result.reason
    assert result.layer == layer
    assert session.starts == (2 if replaced else 1)
    assert (before != after) == replaced


def test_the_worker_is_replaced_after_max_jobs() -> None:
    with SandboxSession(PROBE, limits=LIMITS, max_jobs=2) as session:
        workers = [echo(session, str(i))["worker"] for i in range(5)]
    assert session.starts == 3
    assert workers[0] == workers[1] != workers[2] == workers[3] != workers[4]


def test_a_worker_that_cannot_start_fails_the_job_and_says_so() -> None:
    with SandboxSession("grader.sandbox.session_worker:no_such_handler", limits=LIMITS) as session:
        result = session.run({"in.txt": b"x"})
    assert result.status == "crash"
    assert result.reason.startswith("the sandbox worker did not start")
    assert "no_such_handler" in result.reason


def test_a_print_cannot_forge_a_reply(session: SandboxSession) -> None:
    """The handler's stdout goes to stderr: a printed reply line is just text there."""
    forged = '{"exit": 0, "forged": true}'
    result = session.run({"in.txt": b"x"}, args=["print", forged])
    assert result.status == "ok" and result.result is not None
    assert result.result["echo"] == "x" and "forged" not in result.result
    assert forged in result.stderr
    assert echo(session, "next")["echo"] == "next"
    assert session.starts == 1


def test_a_prestarted_worker_serves_a_job_sent_long_after_it_got_ready() -> None:
    with SandboxSession(PROBE, limits=LIMITS, startup_seconds=2) as session:
        session.prestart()
        time.sleep(2.5)  # past the start-up allowance: its hello is waiting in the pipe
        assert echo(session, "late")["echo"] == "late"
    assert session.starts == 1


def test_a_prestarted_worker_that_cannot_start_fails_the_first_job_only() -> None:
    with SandboxSession("grader.sandbox.session_worker:no_such_handler", limits=LIMITS) as session:
        session.prestart()
        first = session.run({"in.txt": b"x"})
        second = session.run({"in.txt": b"x"})
    assert first.status == second.status == "crash"
    assert session.starts == 2  # each job tries a fresh worker
