"""`grader batch --executor dask`: the same reports as the local pool, on a local cluster whose
workers are killed half-way, and the refusals and faults a cluster brings."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from benchmarks.classgen import generate_class
from grader.batch import BatchOptions, run_batch
from grader.batch.dask_executor import (
    CLUSTER_CONFIG,
    DaskSettings,
    ExecutorError,
    _chunk_size,
    grade_chunk,
    rubric_payload,
    submission_payload,
)
from grader.batch.worker import GradeTask
from grader.cli import ExitCode, cli
from grader.core.report import Report
from grader.core.rubric import load_rubric, resolve_assignment

distributed = pytest.importorskip("distributed", reason="the cluster extra (dask[distributed]) is not installed")


@pytest.fixture(autouse=True)
def no_warm_state_between_tests() -> Iterator[None]:
    """grade_chunk called in this process keeps its warm state here: not across tests."""
    from grader.batch import dask_executor

    yield
    dask_executor._STATES.clear()


def test_grading_in_this_process_leaves_the_model_evaluator_pool_alone(tmp_path: Path) -> None:
    from grader.models import pool

    rubric = rubric_payload(load_rubric(resolve_assignment("csc420-a2")))
    grade_chunk(rubric, [(0, _payload_for(tmp_path))], None, _version())
    assert not pool.reuse_enabled()


def _local_cluster() -> Iterator[Any]:
    import dask

    with dask.config.set(CLUSTER_CONFIG):  # what a cluster the command starts gets
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                         dashboard_address=None)
        try:
            yield local
        finally:
            local.close()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    yield from _local_cluster()


@pytest.fixture()
def crashing_cluster() -> Iterator[Any]:
    """A cluster of its own: its workers are patched to die on one submission."""
    yield from _local_cluster()


def stable_reports(out: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: Report.model_validate_json(p.read_text()).stable_dump()
            for p in sorted((out / "reports").glob("*.json"))}


def grade(root: Path, out: Path, assignment: str, dask: DaskSettings | None, jobs: int = 2,
          required_layer: str | None = None) -> Any:
    loaded = load_rubric(resolve_assignment(assignment))
    options = BatchOptions(jobs=jobs, progress=open(os.devnull, "w"), dask=dask,  # noqa: SIM115
                           required_layer=required_layer)
    return run_batch(root, out, assignment, loaded, options)


def kill_a_busy_worker(cluster: Any, out: Path, after: int, killed: list[str]) -> None:
    """Once `after` reports exist, SIGKILL a worker that is grading a chunk right then. The
    scheduler of a LocalCluster lives in this process: its view is read without a second client
    (two clients in one process fight over the event loop)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if len(list((out / "reports").glob("*.json"))) >= after:
            busy = [ws for ws in list(cluster.scheduler.workers.values()) if ws.processing]
            if busy:
                os.kill(busy[0].pid, signal.SIGKILL)
                killed.append(busy[0].address)
                return
        time.sleep(0.05)


@pytest.mark.slow
def test_a_class_of_100_on_dask_with_a_worker_killed_half_way_matches_the_local_pool(
        tmp_path: Path, cluster: Any) -> None:
    root = tmp_path / "class"
    generate_class(root, "apl405-hw2", 100, files=True)  # every typed kind, models and broken files
    local = grade(root, tmp_path / "local", "apl405-hw2", None)
    killed: list[str] = []
    watcher = threading.Thread(target=kill_a_busy_worker, args=(cluster, tmp_path / "dask", 50, killed))
    watcher.start()
    on_dask = grade(root, tmp_path / "dask", "apl405-hw2", DaskSettings(scheduler=cluster.scheduler_address))
    watcher.join()
    assert killed, "no worker was busy after half the class: the kill did not happen"
    assert on_dask.record.graded == local.record.graded == 100
    assert on_dask.failures == local.failures
    assert stable_reports(tmp_path / "dask") == stable_reports(tmp_path / "local")
    gradebook = (tmp_path / "dask" / "gradebook.csv").read_text()
    assert gradebook == (tmp_path / "local" / "gradebook.csv").read_text()


@pytest.mark.slow
def test_code_questions_on_dask_match_the_local_pool(tmp_path: Path, cluster: Any) -> None:
    root = tmp_path / "class"
    generate_class(root, "csc411-a1", 12, files=True, broken=False)
    local = grade(root, tmp_path / "local", "csc411-a1", None)
    on_dask = grade(root, tmp_path / "dask", "csc411-a1", DaskSettings(scheduler=cluster.scheduler_address))
    assert on_dask.failures == local.failures
    assert stable_reports(tmp_path / "dask") == stable_reports(tmp_path / "local")


def test_a_submission_that_kills_every_worker_it_reaches_becomes_its_own_error(
        tmp_path: Path, crashing_cluster: Any) -> None:
    import cloudpickle

    from tests import dask_faults

    cloudpickle.register_pickle_by_value(dask_faults)  # the workers need not import the tests
    root = tmp_path / "class"
    for sid in ("alice", dask_faults.CRASHER, "bob"):
        (root / sid).mkdir(parents=True)
        (root / sid / "answers.yaml").write_text("q4_lenet_params: 61706\n")
    with distributed.Client(crashing_cluster) as client:  # the scheduler keeps it for restarted workers
        client.register_plugin(dask_faults.CrashOnSubmission())
    result = grade(root, tmp_path / "out", "csc420-a2",
                   DaskSettings(scheduler=crashing_cluster.scheduler_address, chunk_size=3))
    reports = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "out" / "reports").glob("*.json")}
    assert sorted(reports) == ["alice", "bob", dask_faults.CRASHER]
    assert reports[dask_faults.CRASHER]["failure"].startswith("the grading process crashed twice on Dask workers")
    assert {q["status"] for q in reports[dask_faults.CRASHER]["questions"]} == {"error"}
    assert reports["alice"]["failure"] is None and reports["bob"]["failure"] is None
    assert [line.split(":")[0] for line in result.failures] == [dask_faults.CRASHER]


# --- on the worker, without a cluster: refusals and what travels ---------------------------------


def _payload_for(tmp_path: Path, text: str = "q4_lenet_params: 61706\n") -> Any:
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "answers.yaml").write_text(text)
    return submission_payload(GradeTask("alice", str(folder)), shared_root=False)


def test_a_worker_without_the_required_layer_refuses_instead_of_grading(tmp_path: Path) -> None:
    loaded = load_rubric(resolve_assignment("csc411-a1"))  # code questions: the sandbox is needed
    rubric = rubric_payload(loaded)
    assert rubric.needs_sandbox
    results = grade_chunk(rubric, [(0, _payload_for(tmp_path))], "no-such-layer", _version())
    assert results[0][:2] == (0, False)
    assert "refused by Dask worker" in results[0][3] and "no-such-layer" in results[0][3]


def test_a_worker_of_another_grader_version_refuses(tmp_path: Path) -> None:
    rubric = rubric_payload(load_rubric(resolve_assignment("csc420-a2")))
    results = grade_chunk(rubric, [(7, _payload_for(tmp_path))], None, "0.0.0-other")
    assert results[0][0] == 7 and not results[0][1] and "0.0.0-other" in results[0][3]


def test_damaged_bytes_are_refused_not_graded(tmp_path: Path) -> None:
    from dataclasses import replace

    rubric = rubric_payload(load_rubric(resolve_assignment("csc420-a2")))
    payload = _payload_for(tmp_path)
    damaged = replace(payload, files=(("answers.yaml", b"q4_lenet_params: 1\n"),))
    (_, ok, _, reason, _), = grade_chunk(rubric, [(0, damaged)], None, _version())
    assert not ok and "SHA-256" in reason


@pytest.mark.parametrize("name", ["../escape.yaml", "/etc/passwd"], ids=["parent", "absolute"])
def test_a_file_name_that_leaves_its_folder_is_refused_on_the_worker(tmp_path: Path, name: str) -> None:
    from grader.batch.dask_executor import _sealed

    rubric = rubric_payload(load_rubric(resolve_assignment("csc420-a2")))
    payload = _sealed(GradeTask("alice", str(tmp_path / "alice")), "folder", ((name, b"x: 1\n"),))
    (_, ok, _, reason, _), = grade_chunk(rubric, [(0, payload)], None, _version())
    assert not ok and "leaves its folder" in reason


def test_a_sent_submission_grades_like_the_file_itself(tmp_path: Path) -> None:
    rubric = rubric_payload(load_rubric(resolve_assignment("csc420-a2")))
    (_, ok, value, _, _), = grade_chunk(rubric, [(0, _payload_for(tmp_path))], None, _version())
    assert ok
    report = Report.model_validate_json(value)
    assert report.submission == "alice"
    assert next(q for q in report.questions if q.id == "q4_lenet_params").status == "correct"


def test_a_rubric_file_travels_with_the_files_it_extends(tmp_path: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    base = (resolve_assignment("csc420-a2")).read_text()
    (course / "base.yaml").write_text(base)
    (course / "mine.yaml").write_text("extends: base.yaml\nassignment: mine\n")
    payload = rubric_payload(load_rubric(course / "mine.yaml"))
    assert not payload.builtin and {name for name, _ in payload.files} == {"base.yaml", "mine.yaml"}
    (_, ok, value, _, _), = grade_chunk(payload, [(0, _payload_for(tmp_path))], None, _version())
    assert ok and Report.model_validate_json(value).assignment == "mine"


@pytest.mark.parametrize(("total", "workers", "expected"), [(1, 2, 1), (100, 2, 13), (10_000, 2, 25), (8, 1, 2)],
                         ids=["one", "class-of-100", "mooc", "single-worker"])
def test_chunks_balance_the_workers(total: int, workers: int, expected: int) -> None:
    assert _chunk_size(total, workers) == expected


# --- the command line -------------------------------------------------------------------------------


def test_dask_options_without_the_dask_executor_are_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "class").mkdir()
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "class"), "-a", "csc420-a2", "-o",
                                      str(tmp_path / "out"), "--workers", "2"])
    assert result.exit_code == ExitCode.USAGE_ERROR and "go with --executor dask" in result.output


def test_an_unreachable_scheduler_is_an_executor_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "answers.yaml").write_text("q4_lenet_params: 61706\n")
    with pytest.raises(ExecutorError, match="could not reach the Dask cluster"):
        grade(tmp_path / "class", tmp_path / "out", "csc420-a2",
              DaskSettings(scheduler="tcp://127.0.0.1:9", connect_timeout=2.0))


def test_a_broken_cluster_config_is_a_usage_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "answers.yaml").write_text("q4_lenet_params: 61706\n")
    config = tmp_path / "cluster.yaml"
    config.write_text("- not\n- a mapping\n")
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "class"), "-a", "csc420-a2", "-o",
                                      str(tmp_path / "out"), "--executor", "dask", "--cluster-config", str(config)])
    assert result.exit_code == ExitCode.USAGE_ERROR and "cluster.yaml" in result.output


def test_the_cli_grades_on_a_local_cluster(tmp_path: Path, cluster: Any) -> None:
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "answers.yaml").write_text("q4_lenet_params: 61706\n")
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "class"), "-a", "csc420-a2", "-o",
                                      str(tmp_path / "out"), "--executor", "dask",
                                      "--scheduler", cluster.scheduler_address])
    assert result.exit_code == ExitCode.OK, result.output
    assert "1 submissions: 1 graded" in result.output
    rerun = CliRunner().invoke(cli, ["batch", str(tmp_path / "class"), "-a", "csc420-a2", "-o",
                                     str(tmp_path / "out"), "--executor", "dask",
                                     "--scheduler", cluster.scheduler_address])
    assert "1 up to date" in rerun.output  # resume works the same


def _version() -> str:
    from grader import __version__

    return __version__
