"""`grader batch --executor dask`: the same batch, graded on a Dask cluster.

Only the grading moves. Discovery, resume, reports, summary and exports stay with the client,
which alone writes the output folder; a worker needs the grader installed, not the output folder.

- Work travels in chunks of submissions. Unless `--shared-root` says the workers see the
  submissions at the same paths, a submission travels as bytes with its SHA-256, checked on
  arrival. The rubric travels once per run (scattered to every worker): a built-in by name (the
  worker's own copy must have the same digest), a rubric file with the files beside it.
- A worker keeps its warm state (the loaded rubric, the reference cache, the verdict memo, the
  math worker, the model evaluator, the sandbox session) between tasks, in this module's
  `_STATES`, exactly as a local batch worker does between submissions.
- A worker that lacks the sandbox layer the batch requires refuses its chunks: those submissions
  get an `error` report that names the worker and the missing layer. Nothing is graded on a
  weaker layer silently.
- Faults: Dask regrades the chunk of a killed worker elsewhere. A chunk that kills workers
  `allowed-failures + 1` times is split into single submissions; a single submission that does
  it again becomes that submission's `error` report. The batch goes on.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from grader import __version__
from grader.batch.pool import Outcome
from grader.batch.worker import GradeTask, WorkerState, grade_task, init_worker
from grader.checkers import runs_student_code
from grader.core.builtins import rubrics_dir

ClusterKind = Literal["local", "slurm", "pbs", "sge"]
CLUSTER_KINDS: tuple[ClusterKind, ...] = ("local", "slurm", "pbs", "sge")
MAX_SUBMISSION_BYTES = 256 * 1024 * 1024
MAX_RUBRIC_FOLDER_BYTES = 32 * 1024 * 1024
MAX_RUBRIC_FOLDER_FILES = 400
ALLOWED_FAILURES = 1  # a task may be on a dying worker once; the second time it is split or failed
# Tasks wait at the scheduler until a worker thread is free: a worker then holds only the task it
# runs, and a crash counts against that task alone, not against one queued behind it.
CLUSTER_CONFIG = {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                  "distributed.scheduler.worker-saturation": 1.0}


class ExecutorError(Exception):
    """The cluster cannot be used at all (no dask installed, a bad config, no scheduler)."""


@dataclass(frozen=True)
class DaskSettings:
    scheduler: str | None = None  # an address: use that cluster; None: start one (`cluster`)
    cluster: ClusterKind = "local"
    workers: int | None = None
    cluster_config: Path | None = None  # YAML passed to the dask-jobqueue cluster class
    shared_root: bool = False  # workers read submissions at the client's paths
    chunk_size: int | None = None
    connect_timeout: float = 30.0  # seconds to reach a given scheduler


# --- what travels ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RubricPayload:
    """The rubric as a worker rebuilds it: a built-in name, or files to lay out in a folder."""

    digest: str  # the client's LoadedRubric.sha256: the worker's must match
    name: str  # the rubric file's name (in `files`) or the built-in's name
    builtin: bool
    files: tuple[tuple[str, bytes], ...] = ()
    needs_sandbox: bool = False


@dataclass(frozen=True)
class SubmissionPayload:
    """One submission: the task as the local pool would get it, and its files when they travel."""

    task: GradeTask
    kind: Literal["path", "file", "folder", "gathered"]
    files: tuple[tuple[str, bytes], ...] = ()
    sha256: str = ""


def rubric_payload(loaded: Any) -> RubricPayload:
    path = Path(loaded.path).resolve()
    needs_sandbox = runs_student_code(loaded.rubric.questions)
    if path.parent == rubrics_dir().resolve():
        return RubricPayload(loaded.sha256, path.stem, True, needs_sandbox=needs_sandbox)
    return RubricPayload(loaded.sha256, path.name, False, _rubric_files(path), needs_sandbox)


def _rubric_files(path: Path) -> tuple[tuple[str, bytes], ...]:
    """The rubric's folder when it is small (a course folder: references, solutions, data), else
    the rubric and the local files it extends."""
    folder = path.parent
    found = [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()
             and "__pycache__" not in p.parts and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    if len(found) <= MAX_RUBRIC_FOLDER_FILES and sum(p.stat().st_size for p in found) <= MAX_RUBRIC_FOLDER_BYTES:
        return tuple((p.relative_to(folder).as_posix(), p.read_bytes()) for p in found)
    return tuple((p.relative_to(folder).as_posix(), p.read_bytes()) for p in _extends_chain(path))


def _extends_chain(path: Path, depth: int = 0) -> list[Path]:
    chain = [path]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return chain
    base = data.get("extends") if isinstance(data, dict) else None
    if isinstance(base, str) and depth < 4:
        local = (path.parent / base).resolve()
        if local.is_file() and local.parent == path.parent:
            chain += _extends_chain(local, depth + 1)
    return chain


def submission_payload(task: GradeTask, *, shared_root: bool) -> SubmissionPayload:
    if shared_root:
        return SubmissionPayload(task, "path")
    if task.path is None:
        files = tuple((name, Path(source).read_bytes()) for source, name in task.files)
        return _sealed(task, "gathered", files)
    path = Path(task.path)
    if path.is_dir():
        return _sealed(task, "folder", _folder_files(path))
    return _sealed(task, "file", ((path.name, path.read_bytes()),))


def _folder_files(folder: Path) -> tuple[tuple[str, bytes], ...]:
    files = []
    total = 0
    for root, dirs, names in os.walk(folder):  # links are not followed: the sandbox refuses them anyway
        dirs.sort()
        for name in sorted(names):
            file = Path(root) / name
            if file.is_symlink() or not file.is_file():
                continue
            total += file.stat().st_size
            if total > MAX_SUBMISSION_BYTES:
                raise ValueError(f"the submission is larger than {MAX_SUBMISSION_BYTES // 2**20} MB")
            files.append((file.relative_to(folder).as_posix(), file.read_bytes()))
    return tuple(files)


def _sealed(task: GradeTask, kind: Literal["file", "folder", "gathered"],
            files: tuple[tuple[str, bytes], ...]) -> SubmissionPayload:
    return SubmissionPayload(task, kind, files, _digest(files))


def _digest(files: tuple[tuple[str, bytes], ...]) -> str:
    digest = hashlib.sha256()
    for name, data in files:
        encoded = name.encode("utf-8", "surrogateescape")
        digest.update(len(encoded).to_bytes(8, "big") + encoded + len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


# --- on the worker --------------------------------------------------------------------------------

ChunkResult = tuple[int, bool, str, str, float]  # index, ok, report JSON, reason, seconds

_STATES: dict[str, WorkerState] = {}
_RUBRIC_FOLDERS: list[tempfile.TemporaryDirectory[str]] = []


def grade_chunk(rubric: RubricPayload, chunk: list[tuple[int, SubmissionPayload]], required_layer: str | None,
                client_version: str) -> list[ChunkResult]:
    """A Dask task: grade a chunk of submissions with this worker's warm state."""
    refusal = _refusal(rubric, required_layer, client_version)
    if refusal is not None:
        return [(index, False, "", refusal, 0.0) for index, _ in chunk]
    state = _state_for(rubric)
    if state.loaded.sha256 != rubric.digest:
        return [(index, False, "", _worker_says("its copy of the rubric differs from the client's"), 0.0)
                for index, _ in chunk]
    return [_grade_one(state, index, payload) for index, payload in chunk]


def _refusal(rubric: RubricPayload, required_layer: str | None, client_version: str) -> str | None:
    if client_version != __version__:
        return _worker_says(f"it runs grader {__version__}, the client {client_version}")
    if not rubric.needs_sandbox or required_layer is None:
        return None
    from grader.sandbox.layers import LAYER_ENV, choose_layer

    try:
        layer = choose_layer(required_layer)  # `auto`: bwrap or namespace, never the process layer
    except (LookupError, ValueError) as err:
        return _worker_says(f"the batch requires the sandbox layer {required_layer!r}: {err}")
    os.environ[LAYER_ENV] = layer  # this worker's sandbox runs on exactly that layer
    return None


def _worker_says(why: str) -> str:
    return f"refused by Dask worker {_worker_address()}: {why}"


def _in_dask_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "(unknown)"


def _state_for(rubric: RubricPayload) -> WorkerState:
    state = _STATES.get(rubric.digest)
    if state is None:
        # a Dask worker process keeps one model evaluator for all its chunks; a caller's own
        # process (grade_chunk called directly) would keep it until exit, so it does not
        state = init_worker(str(_rubric_path(rubric)), None, _in_dask_worker())
        _STATES[rubric.digest] = state
    return state


def _rubric_path(rubric: RubricPayload) -> Path:
    if rubric.builtin:
        return rubrics_dir() / f"{rubric.name}.yaml"
    folder = tempfile.TemporaryDirectory(prefix="grader-dask-rubric-")
    _RUBRIC_FOLDERS.append(folder)  # kept for the worker's life: references may be read later
    _write_files(Path(folder.name), rubric.files)
    return Path(folder.name) / rubric.name


def _grade_one(state: WorkerState, index: int, payload: SubmissionPayload) -> ChunkResult:
    started = time.monotonic()
    try:
        value = _grade_payload(state, payload)
    except Exception as err:  # the local pool reports a task's exception the same way
        return (index, False, "", f"{type(err).__name__}: {err}", time.monotonic() - started)
    return (index, True, value, "", time.monotonic() - started)


def _grade_payload(state: WorkerState, payload: SubmissionPayload) -> str:
    if payload.kind == "path":
        return grade_task(state, payload.task)
    if _digest(payload.files) != payload.sha256:
        raise ValueError("the submission's bytes arrived damaged (SHA-256 mismatch)")
    with tempfile.TemporaryDirectory(prefix="grader-dask-") as temp:
        base = Path(temp)
        if payload.kind == "gathered":
            _write_files(base / "files", payload.files)
            task = GradeTask(payload.task.default_id, None,
                             tuple((str(base / "files" / name), name) for name, _ in payload.files))
        else:
            original = Path(payload.task.path or "submission")
            target = base / original.name
            if payload.kind == "folder":
                target.mkdir()  # an empty folder is a submission too
                _write_files(target, payload.files)
            else:
                _write_files(base, payload.files)
            task = GradeTask(payload.task.default_id, str(target))
        return grade_task(state, task)


def _write_files(folder: Path, files: tuple[tuple[str, bytes], ...]) -> None:
    for name, data in files:
        target = (folder / name).resolve()
        if not target.is_relative_to(folder.resolve()):
            raise ValueError(f"refused a file name that leaves its folder: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


# --- on the client --------------------------------------------------------------------------------


@dataclass
class DaskExecutor:
    """Runs a batch's grading tasks on Dask; `run` yields `Outcome`s as the local pool does."""

    settings: DaskSettings
    rubric: RubricPayload
    required_layer: str | None
    jobs: int = 1
    resubmitted: int = 0
    refused: list[str] = field(default_factory=list)

    def run(self, tasks: list[GradeTask]) -> Iterator[Outcome]:
        if not tasks:
            return
        distributed = _import_distributed()
        with _cluster_client(self.settings, self.jobs) as client:
            yield from self._run_on(client, distributed, tasks)

    def _run_on(self, client: Any, distributed: Any, tasks: list[GradeTask]) -> Iterator[Outcome]:
        rubric = _RubricOnCluster(client, self.rubric)
        pending: dict[Any, list[int]] = {}

        def submit(indices: list[int]) -> list[Outcome]:
            """Send one chunk; a submission that cannot be read here fails at once."""
            chunk, unsent = [], []
            for index in indices:
                try:
                    chunk.append((index, submission_payload(tasks[index], shared_root=self.settings.shared_root)))
                except (OSError, ValueError) as err:
                    unsent.append(Outcome(index, False, None, f"could not send the submission: {err}"))
            if chunk:
                future = client.submit(grade_chunk, rubric.ref(), chunk, self.required_layer, __version__, pure=False)
                pending[future] = [index for index, _ in chunk]
            return unsent

        size = self.settings.chunk_size or _chunk_size(len(tasks), self.jobs)
        for indices in _chunks(len(tasks), size):
            yield from submit(indices)
        completed = distributed.as_completed(list(pending))
        for future in completed:
            indices = pending.pop(future)
            try:
                results: list[ChunkResult] = future.result()
            except (distributed.KilledWorker, distributed.client.FutureCancelledError) as err:
                if len(indices) == 1:
                    yield Outcome(indices[0], False, None,
                                  f"the grading process crashed twice on Dask workers ({_why(err)})")
                    continue
                before = set(pending)
                for index in indices:  # split: only the submission that kills workers fails
                    yield from submit([index])
                    self.resubmitted += 1
                completed.update([f for f in pending if f not in before])
                continue
            except Exception as err:  # the task itself failed (e.g. the rubric would not load there)
                for index in indices:
                    yield Outcome(index, False, None, f"the Dask task failed: {_why(err)}")
                continue
            for index, ok, value, reason, seconds in results:
                if reason.startswith("refused by Dask worker"):
                    self.refused.append(reason)
                yield Outcome(index, ok, value if ok else None, reason, seconds)


class _RubricOnCluster:
    """The rubric as tasks receive it: by value when small, else scattered once to every worker
    and scattered again when the workers holding it have died (scattered data cannot be
    recomputed, and tasks that need lost data are cancelled)."""

    BY_VALUE_BYTES = 1 << 20

    def __init__(self, client: Any, payload: RubricPayload) -> None:
        self.client = client
        self.payload = payload
        self.small = sum(len(data) for _, data in payload.files) <= self.BY_VALUE_BYTES
        self.future: Any = None

    def ref(self) -> Any:
        if self.small:
            return self.payload
        if self.future is None or self.future.status != "finished":
            self.future = self.client.scatter(self.payload, broadcast=True)
        return self.future


def _why(err: Exception) -> str:
    text = f"{type(err).__name__}: {err}"
    return text if len(text) <= 300 else text[:297] + "..."


def _chunk_size(total: int, workers: int) -> int:
    """Four chunks per worker balance the load; at most 25 submissions travel together."""
    return max(1, min(25, -(-total // (4 * max(1, workers)))))


def _chunks(total: int, size: int) -> Iterator[list[int]]:
    for start in range(0, total, size):
        yield list(range(start, min(total, start + size)))


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExecutorError("--executor dask needs Dask: pip install 'nn-grader[cluster]'") from None
    return distributed


class _cluster_client:
    """A client on the given scheduler, or on a cluster started (and stopped) for this batch."""

    def __init__(self, settings: DaskSettings, jobs: int) -> None:
        self.settings = settings
        self.jobs = jobs
        self.cluster: Any = None
        self.client: Any = None
        self._config: Any = None

    def __enter__(self) -> Any:
        import dask
        import distributed

        client_class: Any = distributed.Client  # untyped in distributed's stubs
        self._config = dask.config.set(CLUSTER_CONFIG)
        self._config.__enter__()
        try:
            if self.settings.scheduler is not None:
                self.client = client_class(self.settings.scheduler, timeout=f"{self.settings.connect_timeout}s")
            else:
                self.cluster = start_cluster(self.settings, self.jobs)
                self.client = client_class(self.cluster)
        except ExecutorError:
            self._config.__exit__(None, None, None)
            raise
        except (OSError, TimeoutError, ValueError) as err:
            self._config.__exit__(None, None, None)
            raise ExecutorError(f"could not reach the Dask cluster: {err}") from None
        return self.client

    def __exit__(self, *exc: object) -> None:
        try:
            if self.client is not None:
                self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        finally:
            self._config.__exit__(None, None, None)


def start_cluster(settings: DaskSettings, jobs: int) -> Any:
    """A LocalCluster on loopback, or a dask-jobqueue cluster configured by `--cluster-config`."""
    options = _cluster_options(settings.cluster_config)
    workers = settings.workers or jobs
    if settings.cluster == "local":
        import distributed

        local_cluster: Any = distributed.LocalCluster
        defaults: dict[str, Any] = {"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                    "host": "127.0.0.1", "dashboard_address": None}
        return local_cluster(**{**defaults, **options})
    try:
        import dask_jobqueue
    except ImportError:
        raise ExecutorError("--cluster slurm/pbs/sge needs dask-jobqueue: pip install 'nn-grader[cluster]'") from None
    jobqueue: Any = dask_jobqueue
    cls = {"slurm": jobqueue.SLURMCluster, "pbs": jobqueue.PBSCluster, "sge": jobqueue.SGECluster}[settings.cluster]
    try:
        cluster: Any = cls(**options)
    except (TypeError, ValueError) as err:
        raise ExecutorError(f"{settings.cluster_config}: {err}") from None
    cluster.scale(jobs=workers)
    return cluster


def _cluster_options(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ExecutorError(f"{path}: cannot read the cluster settings: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
        raise ExecutorError(f"{path}: the cluster settings must be a mapping of option names to values")
    return data


__all__ = ["CLUSTER_KINDS", "DaskExecutor", "DaskSettings", "ExecutorError", "grade_chunk", "rubric_payload",
           "start_cluster", "submission_payload"]
