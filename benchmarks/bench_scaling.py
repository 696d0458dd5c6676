"""The cost of the Dask engine: the same generated class on the local pool and on a LocalCluster.

    python benchmarks/bench_scaling.py [--size 60] [--assignments apl405-hw2 csc411-a1 csc420-a2] [--repeat 1]

For each assignment (answers only for csc420-a2; models for apl405-hw2; code for csc411-a1) the
class is graded from scratch through the real command line by:
  - the local pool with -j 1 and -j 2,
  - `--executor dask` on a LocalCluster the command starts itself, with 1 and 2 workers,
  - `--executor dask` on a LocalCluster that is already running (`--scheduler`), 1 and 2 workers:
    what a department's standing cluster costs per batch, without the cluster's own start.
It prints the wall time of each run, the time per submission, and the engine's overhead: the
difference to the local pool with the same number of processes. Figures are ratios of runs on
one machine in one sitting; absolute seconds differ between machines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.classgen import generate_class  # noqa: E402


def run(root: Path, out: Path, assignment: str, extra: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "batch", str(root), "-a", assignment, "-o", str(out), *extra],
                   cwd=REPO, check=True, capture_output=True)
    wall = time.perf_counter() - started
    return wall, float(json.loads((out / "batch.json").read_text())["wall_seconds"])


def configurations(scheduler: dict[int, str]) -> list[tuple[str, int, list[str]]]:
    return [
        ("local pool", 1, ["-j", "1"]),
        ("local pool", 2, ["-j", "2"]),
        ("dask, own LocalCluster", 1, ["--executor", "dask", "--workers", "1", "-j", "1"]),
        ("dask, own LocalCluster", 2, ["--executor", "dask", "--workers", "2", "-j", "2"]),
        ("dask, running cluster", 1, ["--executor", "dask", "--scheduler", scheduler[1], "-j", "1"]),
        ("dask, running cluster", 2, ["--executor", "dask", "--scheduler", scheduler[2], "-j", "2"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=60)
    parser.add_argument("--assignments", nargs="+", default=["csc420-a2", "apl405-hw2", "csc411-a1"])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    from distributed import LocalCluster

    clusters = {n: LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                dashboard_address=None) for n in (1, 2)}
    try:
        addresses = {n: c.scheduler_address for n, c in clusters.items()}
        with tempfile.TemporaryDirectory(prefix="bench-scaling-") as temp:
            for assignment in args.assignments:
                _bench(Path(temp), assignment, args.size, args.repeat, addresses)
    finally:
        for cluster in clusters.values():
            cluster.close()


def _bench(temp: Path, assignment: str, size: int, repeat: int, addresses: dict[int, str]) -> None:
    root = temp / assignment
    files = assignment != "csc420-a2"
    written = generate_class(root, assignment, size, files=files)
    print(f"\n{assignment}: {len(written)} submissions ({'with model/code files' if files else 'answers only'})")
    baseline: dict[int, float] = {}
    for label, procs, extra in configurations(addresses):
        walls = []
        for i in range(repeat):
            out = temp / f"out-{assignment}-{label.replace(' ', '_').replace(',', '')}-{procs}-{i}"
            walls.append(run(root, out, assignment, extra)[0])
        wall = statistics.median(walls)
        if label == "local pool":
            baseline[procs] = wall
        overhead = "" if label == "local pool" else f"  engine overhead {wall - baseline[procs]:+.2f} s"
        print(f"  {label:<24} {procs} proc: {wall:6.2f} s, {1000 * wall / size:6.1f} ms per submission{overhead}")


if __name__ == "__main__":
    main()
