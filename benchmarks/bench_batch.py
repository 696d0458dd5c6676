"""Wall time of `grader batch` on a generated class at several worker counts.

    python benchmarks/bench_batch.py --size 56 --jobs 1 2 [--assignment csc420-a2] [--repeat 3]

Each run grades the whole class from scratch (a fresh output folder) through the real command
line, so start-up, discovery, the pool, report writing and the summary are all counted. Prints one
line per worker count with the best and median wall time of the repeats.
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


def time_batch(root: Path, out: Path, assignment: str, jobs: int) -> tuple[float, float]:
    """Wall time of the command, and of the batch itself as batch.json records it (without the
    interpreter's start and imports)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", "batch", str(root), "-a", assignment, "-o", str(out),
                    "-j", str(jobs)], cwd=REPO, check=True, capture_output=True)
    wall = time.perf_counter() - started
    return wall, float(json.loads((out / "batch.json").read_text())["wall_seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=56)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--assignment", default="csc420-a2")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as temp:
        root = Path(temp) / "class"
        written = generate_class(root, args.assignment, args.size)
        print(f"{args.assignment}: {len(written)} submissions ({sum(w.broken for w in written)} broken)")
        for jobs in args.jobs:
            runs = [time_batch(root, Path(temp) / f"out-{jobs}-{i}", args.assignment, jobs)
                    for i in range(args.repeat)]
            times, inner = [w for w, _ in runs], [b for _, b in runs]
            print(f"-j {jobs}: command best {min(times):.2f} s, median {statistics.median(times):.2f} s; "
                  f"batch itself best {min(inner):.2f} s ({args.size / min(times):.0f} submissions/s overall)")


if __name__ == "__main__":
    main()
