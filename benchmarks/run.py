"""The grader's benchmark: one command, the figures of docs/performance.md.

    python benchmarks/run.py [--size 200] [--files-size 60] [--repeat 5] [--quick] [--json OUT]

It generates seeded classes (`benchmarks/classgen.py`: right, wrong and unreadable answers over
every question kind, broken files, and for the questions that take a file, models and code) and
measures through the real command line, each run a fresh process:

- `grader check` of an answers-only csc420-a2 submission, cold process: with the reference cache
  already filled (a student's second check), and with an empty one (the very first check on a
  machine), phase by phase (`benchmarks/trace_check.py`);
- `grader batch -j 1` and `-j 2` over `--size` answers-only csc420-a2 submissions, and over
  `--files-size` submissions with model and code files for each built-in assignment.

For every run: wall time per submission, throughput, the peak memory of the whole process tree
(the sum of the resident sizes of the grader, its workers, the math worker and the sandboxes,
sampled every 20 ms: an upper bound, shared pages count once per process), and where the time
goes: interpreter start and imports, parsing (rubric and submissions), checking, model
evaluation, sandboxed code, and the rest (process start-up, workers' start, writing reports).
The targets of issue 9 are checked at the end.

First, the check latency (`benchmarks/check_latency.py`, issue 16): `grader check` of a two-answer
file as a ratio to the numpy floor (`python -c "import numpy"`) and to `otter check` of the
equivalent sheet (`--otter PATH`; skipped when Otter-Grader is not installed). `--latency-only`
stops there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import check_latency  # noqa: E402
from benchmarks.classgen import ANSWERS, ASSIGNMENTS, generate_class  # noqa: E402

PYTHON = sys.executable
PAGE = os.sysconf("SC_PAGE_SIZE")
MODEL_IDS = {"p2_mlp_model", "t2_model", "q4_v_model", "q4_xiii_model", "q5_ii_model"}


# --- measuring a process tree -----------------------------------------------------------------------


class TreeMemory:
    """Samples the summed resident size of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid, self.interval = pid, interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self.sample())
            self._stop.wait(self.interval)

    def sample(self) -> int:
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    with open(f"/proc/{entry.name}/stat", encoding="utf-8") as handle:
                        ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        total, todo = 0, [self.pid]
        while todo:
            pid = todo.pop()
            todo += children.get(pid, [])
            try:
                with open(f"/proc/{pid}/statm", encoding="utf-8") as handle:
                    total += int(handle.read().split()[1]) * PAGE
            except (OSError, ValueError, IndexError):
                continue
        return total

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_bytes / 2**20


@dataclass
class Run:
    wall: float
    peak_mb: float
    stderr: str = ""


def run_measured(args: list[str], env: dict[str, str] | None = None) -> Run:
    started = time.perf_counter()
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})}, text=True)
    memory = TreeMemory(proc.pid)
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    peak = memory.stop()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err}")
    return Run(wall, peak, err)


def median_wall(args: list[str], repeat: int) -> float:
    return statistics.median(run_measured(args).wall for _ in range(repeat))


# --- grader check -------------------------------------------------------------------------------------


@dataclass
class CheckFigures:
    cache: str
    walls: list[float]
    peak_mb: float
    phases: dict[str, float]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)


def right_answers(path: Path) -> Path:
    """An answers-only csc420-a2 submission: the first (right) form of every answer."""
    answers = {q: pool[0] for q, pool in ANSWERS["csc420-a2"].items()}
    path.write_text(yaml.safe_dump(answers, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def bench_check(temp: Path, repeat: int) -> list[CheckFigures]:
    submission = right_answers(temp / "answers.yaml")
    command = [PYTHON, "-m", "grader", "check", str(submission), "-a", "csc420-a2"]
    traced = [PYTHON, str(REPO / "benchmarks" / "trace_check.py"), "check", str(submission),
              "-a", "csc420-a2"]
    warm_dir = temp / "cache-warm"
    run_measured(command, {"GRADER_CACHE_DIR": str(warm_dir)})  # fills the cache
    figures = []
    for label in ("warm", "empty"):
        runs, traces = [], []
        for i in range(repeat):
            cache = warm_dir if label == "warm" else temp / f"cache-empty-{i}"
            env = {"GRADER_CACHE_DIR": str(cache)}
            runs.append(run_measured(command, env))
            if label == "empty":
                env = {"GRADER_CACHE_DIR": str(temp / f"cache-empty-traced-{i}")}
            traces.append(json.loads(run_measured(traced, env).stderr.strip().splitlines()[-1]))
        phases = {k: statistics.median(t[k] for t in traces) for k in traces[0]}
        figures.append(CheckFigures(label, [r.wall for r in runs], max(r.peak_mb for r in runs),
                                    phases))
    return figures


# --- grader batch -------------------------------------------------------------------------------------


@dataclass
class BatchFigures:
    label: str
    assignment: str
    submissions: int
    jobs: int
    wall: float
    peak_mb: float
    breakdown: dict[str, float] = field(default_factory=dict)  # seconds, summed over workers
    counts: dict[str, float] = field(default_factory=dict)

    @property
    def per_submission(self) -> float:
        return self.wall / self.submissions


def bench_batch(root: Path, out: Path, label: str, assignment: str, jobs: int,
                startup: dict[str, float], env: dict[str, str] | None = None) -> BatchFigures:
    run = run_measured([PYTHON, "-m", "grader", "batch", str(root), "-a", assignment, "-o",
                        str(out), "-j", str(jobs)], env)
    reports = [json.loads(p.read_text()) for p in sorted((out / "reports").glob("*.json"))]
    figures = BatchFigures(label, assignment, len(reports), jobs, run.wall, run.peak_mb)
    figures.breakdown, figures.counts = breakdown(reports, run.wall, jobs, startup)
    return figures


def breakdown(reports: list[dict[str, Any]], wall: float, jobs: int,
              startup: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds by activity, summed over the batch's processes. Interpreter start and imports
    count twice (the command, and the worker processes' fork server, whose imports the workers
    share), the rubric once per process, submissions once each; `other` is what is left of
    wall × jobs."""
    check = model = sandbox = 0.0
    counts: dict[str, float] = {"model_jobs": 0, "code_runs": 0, "code_timeouts": 0,
                                "code_timeout_seconds": 0.0}
    for report in reports:
        worker_seconds = 0.0
        for q in report["questions"]:
            costs = q.get("costs", {})
            sandbox += costs.get("sandbox_seconds", 0.0)
            check += costs.get("check_seconds", 0.0) - costs.get("sandbox_seconds", 0.0)
            if "sandbox_seconds" in costs:
                counts["code_runs"] += 1
                if "time limit" in q.get("feedback", ""):
                    counts["code_timeouts"] += 1
                    counts["code_timeout_seconds"] += costs["sandbox_seconds"]
            worker_seconds = max(worker_seconds, costs.get("model_worker_seconds", 0.0))
        model += worker_seconds
        counts["model_jobs"] += worker_seconds > 0
    parse = startup["parse_submission"] * len(reports) + startup["parse_rubric"] * (1 + jobs)
    imports = startup["imports"] * 2
    counted = {"imports": imports, "parse": parse, "check": check, "model": model,
               "sandbox": sandbox}
    counted["other"] = max(0.0, wall * jobs - sum(counted.values()))
    return counted, counts


def startup_costs(classes: dict[str, Path]) -> dict[str, dict[str, float]]:
    """Per process: interpreter start and imports; per rubric load; per submission read."""
    bare = median_wall([PYTHON, "-c", "pass"], 5)
    imported = median_wall([PYTHON, "-c", "import grader.cli, grader.batch.worker, "
                            "grader.core.grading, grader.core.rubric"], 5)
    costs = {}
    for assignment, root in classes.items():
        code = ("import sys, time, json; from pathlib import Path; "
                "from grader.core.rubric import load_rubric, resolve_assignment; "
                "from grader.core.submission import open_submission; t = time.perf_counter(); "
                f"load_rubric(resolve_assignment({assignment!r})); r = time.perf_counter() - t; "
                f"paths = sorted(Path({str(root)!r}).iterdir()); t = time.perf_counter()\n"
                "for p in paths:\n    with open_submission(p) as s: pass\n"
                "print(json.dumps([r, (time.perf_counter() - t) / len(paths)]))")
        out = subprocess.run([PYTHON, "-c", code], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout
        rubric, per_submission = json.loads(out)
        costs[assignment] = {"imports": imported, "interpreter": bare, "parse_rubric": rubric,
                             "parse_submission": per_submission}
    return costs


# --- the machine and the report -----------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
    layer = subprocess.run([PYTHON, "-c", "from grader.sandbox.layers import choose_layer; "
                            "print(choose_layer())"], cwd=REPO, capture_output=True,
                           text=True).stdout.strip()
    versions = subprocess.run([PYTHON, "-c", "import torch, sympy, numpy, pydantic; print("
                               "torch.__version__, sympy.__version__, numpy.__version__, "
                               "pydantic.__version__)"], capture_output=True, text=True).stdout.split()
    return {
        "cores": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "memory": memory[1].split()[1] if len(memory) > 1 else "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": versions[0] if versions else "?",
        "sympy": versions[1] if len(versions) > 1 else "?",
        "numpy": versions[2] if len(versions) > 2 else "?",
        "pydantic": versions[3] if len(versions) > 3 else "?",
        "sandbox layer": layer,
        "user": "root" if os.geteuid() == 0 else "not root",
    }


def print_table_head(title: str, columns: list[str], left: set[str]) -> None:
    """A section heading and the head of a Markdown table: the `left` columns align left, the
    figures right."""
    print(f"\n## {title}\n")
    print("| " + " | ".join(columns) + " |")
    print("| " + " | ".join("---" if name in left else "---:" for name in columns) + " |")


def print_check(figures: list[CheckFigures]) -> None:
    print_table_head("grader check, answers-only csc420-a2, cold process",
                     ["reference cache", "median wall", "runs (s)", "peak memory", "imports", "rubric",
                      "references", "math worker wait", "other"], left={"reference cache", "runs (s)"})
    for f in figures:
        p = f.phases
        other = p["total"] - p["imports"] - p["rubric"] - p["references"] - p["worker_wait"]
        print(f"| {f.cache} | {f.median:.2f} s | {' '.join(f'{w:.2f}' for w in f.walls)} | "
              f"{f.peak_mb:.0f} MB | {p['imports']:.2f} | {p['rubric']:.2f} | "
              f"{p['references']:.2f} | {p['worker_wait']:.2f} | {other:.2f} |")


def print_batches(figures: list[BatchFigures]) -> None:
    print_table_head("grader batch",
                     ["class", "-j", "submissions", "wall", "per submission", "throughput", "peak memory",
                      "imports", "parse", "check", "model", "sandbox", "other"], left={"class"})
    for f in figures:
        b = f.breakdown
        busy = f.wall * f.jobs
        shares = " | ".join(f"{b[k]:.1f} s ({b[k] / busy:.0%})" for k in
                            ("imports", "parse", "check", "model", "sandbox", "other"))
        print(f"| {f.label} | {f.jobs} | {f.submissions} | {f.wall:.2f} s | "
              f"{f.per_submission * 1000:.0f} ms | {f.submissions / f.wall:.1f}/s | "
              f"{f.peak_mb:.0f} MB | {shares} |")
    print("\nShares are of wall × jobs; model = the evaluator's time per submission (its start-up "
          "is in `other`), sandbox = boxed student code, check = everything else the checkers "
          "did.")
    for f in figures:
        if f.counts["model_jobs"] or f.counts["code_runs"]:
            print(f"- {f.label} -j {f.jobs}: {f.counts['model_jobs']:.0f} model evaluations, "
                  f"{f.counts['code_runs']:.0f} code runs ({f.counts['code_timeouts']:.0f} ran "
                  f"into the time limit, {f.counts['code_timeout_seconds']:.0f} s)")


def targets(check: list[CheckFigures], batches: list[BatchFigures], size: int) -> list[str]:
    def find(label: str, jobs: int) -> BatchFigures | None:
        return next((b for b in batches if b.label == label and b.jobs == jobs), None)

    rows = []
    for f in check:
        rows.append((f"grader check answers-only, {f.cache} reference cache", "≤ 1.0 s",
                     f"{f.median:.2f} s (worst {max(f.walls):.2f} s)", max(f.walls) <= 1.0))
    answers = find("csc420-a2 answers-only", 2)
    if answers:
        rows.append((f"grader batch -j 2, {answers.submissions} answers-only csc420-a2",
                     "≤ 40 ms/submission", f"{answers.per_submission * 1000:.0f} ms",
                     answers.per_submission <= 0.040))
    models = find("apl405-hw2 with files", 2)
    if models:
        rows.append(("apl405-hw2 with models (CNN, FNN, 5-layer), -j 2", "≤ 0.5 s/submission",
                     f"{models.per_submission:.2f} s", models.per_submission <= 0.5))
    code = find("csc411-a1 with files", 2)
    if code:
        hangs = code.counts["code_timeouts"]
        without = (code.wall - code.counts["code_timeout_seconds"] / code.jobs) / code.submissions
        rows.append(("csc411-a1 with code files, -j 2", "≤ 0.5 s/submission",
                     f"{code.per_submission:.2f} s ({without:.2f} s without the {hangs:.0f} runs "
                     "stopped at the 10 s limit)", code.per_submission <= 0.5))
    if batches:
        peak = max(batches, key=lambda b: b.peak_mb)
        rows.append(("peak memory of a batch", "≤ 1.5 GB",
                     f"{peak.peak_mb:.0f} MB ({peak.label} -j {peak.jobs})",
                     peak.peak_mb <= 1536))
    lines = ["| target | limit | measured | met |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {limit} | {value} | {'yes' if ok else 'NO'} |"
              for name, limit, value, ok in rows]
    if size < 200:
        lines.append(f"\nThe batch target is set for 200 submissions; this run graded {size} "
                     "(rerun without --quick), so start-up weighs more per submission.")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=200, help="answers-only class size")
    parser.add_argument("--files-size", type=int, default=60, help="size of the classes with files")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each `grader check`")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--assignments", nargs="+", default=list(ASSIGNMENTS),
                        help="classes with files to grade")
    parser.add_argument("--quick", action="store_true", help="small classes, 2 check runs")
    parser.add_argument("--one-shot-too", action="store_true",
                        help="also grade the apl405-hw2 class with a fresh evaluator per "
                        "submission (GRADER_EVALUATOR_REUSE=0), for comparison")
    parser.add_argument("--seed", type=int, default=420)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--otter", help="the otter executable for the check-latency comparison "
                        "(default: $OTTER, then `otter` on PATH; skipped when there is none)")
    parser.add_argument("--latency-only", action="store_true",
                        help="only the check-latency section (numpy floor, grader check, otter check)")
    args = parser.parse_args()
    if args.quick:
        args.size, args.files_size, args.repeat = 60, 20, 2
    info = machine()
    print("# Benchmark\n")
    print("| " + " | ".join(info) + " |\n|" + " --- |" * len(info))
    print("| " + " | ".join(info.values()) + " |")
    print("\n## Check latency: ratios to the numpy floor and to otter check\n")
    latency = check_latency.measure(max(args.repeat, 3), 2 if args.quick else 3,
                                    check_latency.find_otter(args.otter))
    print("\n".join(check_latency.markdown(latency)))
    if args.latency_only:
        return 0
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        temp = Path(tmp)
        check = bench_check(temp, args.repeat)
        print_check(check)
        classes = {"csc420-a2 answers-only": ("csc420-a2", temp / "answers-only")}
        generate_class(temp / "answers-only", "csc420-a2", args.size, seed=args.seed)
        for assignment in args.assignments:
            root = temp / f"files-{assignment}"
            generate_class(root, assignment, args.files_size, seed=args.seed, files=True)
            classes[f"{assignment} with files"] = (assignment, root)
        startup = startup_costs({a: r for a, r in classes.values()})
        batches = []
        for label, (assignment, root) in classes.items():
            for jobs in args.jobs:
                out = temp / f"out-{label.replace(' ', '-')}-{jobs}"
                batches.append(bench_batch(root, out, label, assignment, jobs,
                                           startup[assignment]))
                print(f"  {label} -j {jobs}: {batches[-1].wall:.2f} s", file=sys.stderr)
        if args.one_shot_too and "apl405-hw2 with files" in classes:
            assignment, root = classes["apl405-hw2 with files"]
            for jobs in args.jobs:
                batches.append(bench_batch(root, temp / f"out-one-shot-{jobs}",
                                           "apl405-hw2 with files, one-shot evaluator",
                                           assignment, jobs, startup[assignment],
                                           {"GRADER_EVALUATOR_REUSE": "0"}))
        print_batches(batches)
    print("\n## Targets (issue 9)\n")
    print("\n".join(targets(check, batches, args.size)))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "check": [asdict(c) for c in check],
                                         "batch": [asdict(b) for b in batches]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
