"""The worker pool: tasks that crash their worker or hang become failed outcomes, the worker is
replaced, and every other task still gets done."""

from __future__ import annotations

import pytest

from grader.batch.pool import Outcome, PoolError, WorkerPool


def run(tasks: list[str], *, jobs: int = 2, timeout: float = 20.0) -> tuple[dict[int, Outcome], WorkerPool]:
    pool = WorkerPool(jobs, initializer="batch_faults:init_echo", init_args=("done:",),
                      handler="batch_faults:echo", timeout=timeout)
    outcomes = {o.index: o for o in pool.run(tasks)}
    return outcomes, pool


def test_every_task_is_done_once_in_any_order() -> None:
    outcomes, pool = run([f"t{i}" for i in range(12)], jobs=2)
    assert sorted(outcomes) == list(range(12))
    assert all(o.ok and o.value.startswith(f"done:t{i}@") for i, o in outcomes.items())
    assert pool.replaced == 0


def test_the_initialiser_runs_once_per_worker_not_per_task() -> None:
    outcomes, _ = run([f"t{i}" for i in range(6)], jobs=1)
    counters = [int(o.value.rsplit("#", 1)[1]) for _, o in sorted(outcomes.items())]
    assert counters == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [("crash", "exit code 3"), ("raise", "RuntimeError: asked to raise by raise")],
    ids=["worker-process-dies", "handler-raises"],
)
def test_a_failing_task_becomes_a_failed_outcome_and_the_rest_go_on(bad: str, reason: str) -> None:
    tasks = ["a", bad, "b", "c", "d"]
    outcomes, _ = run(tasks, jobs=1)
    assert sorted(outcomes) == list(range(5))
    assert not outcomes[1].ok and reason in outcomes[1].reason
    assert all(outcomes[i].ok for i in (0, 2, 3, 4))


def test_a_crashed_worker_is_replaced() -> None:
    outcomes, pool = run(["crash1", "a", "crash2", "b"], jobs=1)
    assert pool.replaced == 2
    pids = {outcomes[i].value.split("@")[1].split("#")[0] for i in (1, 3)}
    assert len(pids) == 2  # a new process after each crash
    assert outcomes[3].ok


def test_a_hanging_task_is_killed_at_the_time_limit() -> None:
    outcomes, pool = run(["hang", "a", "b"], jobs=1, timeout=1.0)
    assert not outcomes[0].ok and "time limit of 1 s" in outcomes[0].reason
    assert 1.0 <= outcomes[0].seconds < 10
    assert outcomes[1].ok and outcomes[2].ok and pool.replaced == 1


def test_a_slow_task_under_the_limit_is_not_killed() -> None:
    outcomes, pool = run(["slow", "a"], jobs=1, timeout=5.0)
    assert all(o.ok for o in outcomes.values()) and pool.replaced == 0


def test_a_worker_that_cannot_start_stops_the_pool() -> None:
    pool = WorkerPool(1, initializer="batch_faults:failing_init", init_args=("x",),
                      handler="batch_faults:echo", timeout=5)
    with pytest.raises(PoolError, match="cannot start"):
        list(pool.run(["a"]))


def test_no_tasks_starts_no_worker() -> None:
    outcomes, pool = run([], jobs=4)
    assert outcomes == {} and pool.replaced == 0


def test_no_task_is_lost_however_many_workers_die() -> None:
    tasks = [f"crash{i}" if i % 2 else f"t{i}" for i in range(16)]
    outcomes, pool = run(tasks, jobs=2)
    assert sorted(outcomes) == list(range(16))
    assert [o.ok for _, o in sorted(outcomes.items())] == [i % 2 == 0 for i in range(16)]
    assert pool.replaced == 8
