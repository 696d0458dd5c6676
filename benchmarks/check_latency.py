"""How fast a student's `grader check` answers, as ratios that hold across machines:

    python benchmarks/check_latency.py [--repeat 7] [--otter PATH/TO/otter]

Three commands run interleaved (so that a busy machine slows them alike), each a fresh process:
the numpy floor (`python -c "import numpy"`), `grader check` of a two-answer csc420-a2 file (its
rubric and reference caches filled, as on a student's second check; the first check on a machine
is measured too), and, when Otter-Grader is installed (`--otter`, else `otter` on PATH),
`otter check` of the equivalent sheet: the same two answers as a Python script and two OK-format
tests. Medians of wall time and of CPU time (user + system of the process and its children); the
targets are check ≤ 4 × the numpy floor and otter check ≥ 10 × check, both in wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QUESTIONS = ("q3_flops_no_bias", "q4_lenet_params")
CHECK_LIMIT = 4.0  # × the numpy floor
OTTER_FACTOR = 10.0  # otter check / grader check


@dataclass
class Timings:
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def timed(args: list[str], into: Timings, env: dict[str, str] | None = None, cwd: Path = REPO) -> None:
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    into.walls.append(wall)
    into.cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def reference_answers() -> dict[str, object]:
    """The two answers, computed by the grader itself (never typed in here)."""
    out = subprocess.run([PYTHON, "-m", "grader", "reference", "csc420-a2", "--json"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    questions = json.loads(out)["questions"]
    return {q: questions[q]["answer"] for q in QUESTIONS}


def write_sheets(folder: Path, answers: dict[str, object]) -> tuple[Path, Path]:
    """Our answers file, and Otter's equivalent: a script and one OK-format test per question."""
    ours = folder / "answers.yaml"
    ours.write_text("".join(f"{q}: {v}\n" for q, v in answers.items()))
    otter = folder / "otter"
    (otter / "tests").mkdir(parents=True)
    (otter / "answers.py").write_text("".join(f"{q} = {v!r}\n" for q, v in answers.items()))
    for q, v in answers.items():
        case = {"code": f">>> {q} == {v!r}\nTrue", "hidden": False, "locked": False}
        test = {"name": q, "points": 1, "suites": [{"cases": [case], "scored": True, "setup": "",
                                                      "teardown": "", "type": "doctest"}]}
        (otter / "tests" / f"{q}.py").write_text(f"OK_FORMAT = True\n\ntest = {test!r}\n")
    return ours, otter


def find_otter(given: str | None) -> str | None:
    return given or os.environ.get("OTTER") or shutil.which("otter")


@dataclass
class Latency:
    numpy: Timings
    check: Timings
    first_check: Timings
    otter: Timings | None
    otter_note: str = ""

    def rows(self) -> list[tuple[str, str, str, bool | None]]:
        rows: list[tuple[str, str, str, bool | None]] = [
            ("grader check / numpy floor", f"≤ {CHECK_LIMIT:g}",
             f"{self.check.wall / self.numpy.wall:.1f} (CPU {self.check.cpu / self.numpy.cpu:.1f})",
             self.check.wall / self.numpy.wall <= CHECK_LIMIT)]
        if self.otter is not None:
            rows.append(("otter check / grader check", f"≥ {OTTER_FACTOR:g}",
                         f"{self.otter.wall / self.check.wall:.1f} (CPU {self.otter.cpu / self.check.cpu:.1f})",
                         self.otter.wall / self.check.wall >= OTTER_FACTOR))
        else:
            rows.append(("otter check / grader check", f"≥ {OTTER_FACTOR:g}", self.otter_note, None))
        return rows


def measure(repeat: int, otter_repeat: int, otter: str | None) -> Latency:
    with tempfile.TemporaryDirectory(prefix="grader-latency-") as tmp:
        folder = Path(tmp)
        ours, otter_sheet = write_sheets(folder, reference_answers())
        check = [PYTHON, "-m", "grader", "check", str(ours), "-a", "csc420-a2"]
        warm = {"GRADER_CACHE_DIR": str(folder / "cache")}
        result = Latency(Timings(), Timings(), Timings(), Timings() if otter else None,
                         "" if otter else "not measured: Otter-Grader is not installed (--otter)")
        timed(check, Timings(), warm)  # fills the caches
        for i in range(repeat):
            timed([PYTHON, "-c", "import numpy"], result.numpy)
            timed(check, result.check, warm)
            timed(check, result.first_check, {"GRADER_CACHE_DIR": str(folder / f"cold-{i}")})
            if otter and result.otter is not None and i < otter_repeat:
                timed([otter, "check", "answers.py", "-t", "tests"], result.otter, cwd=otter_sheet)
        return result


def markdown(lat: Latency) -> list[str]:
    lines = ["| command | median wall | median CPU | runs (wall, s) |", "| --- | ---: | ---: | --- |"]
    named = [("numpy floor: `python -c \"import numpy\"`", lat.numpy),
             ("`grader check` of 2 answers, caches filled", lat.check),
             ("`grader check` of 2 answers, first run (empty caches)", lat.first_check)]
    if lat.otter is not None:
        named.append(("`otter check` of the equivalent sheet", lat.otter))
    for name, t in named:
        lines.append(f"| {name} | {t.wall:.2f} s | {t.cpu:.2f} s | {' '.join(f'{w:.2f}' for w in t.walls)} |")
    lines += ["", "| ratio | target | measured (wall; CPU) | met |", "| --- | --- | --- | --- |"]
    for name, target, value, ok in lat.rows():
        lines.append(f"| {name} | {target} | {value} | {'-' if ok is None else 'yes' if ok else 'NO'} |")
    load = os.getloadavg()
    lines.append(f"\nLoad average while measured: {load[0]:.1f} (1 min), {load[2]:.1f} (15 min), "
                 f"on {len(os.sched_getaffinity(0))} cores.")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--otter-repeat", type=int, default=3, help="runs of otter check (slow)")
    parser.add_argument("--otter", help="the otter executable (default: $OTTER, then PATH)")
    args = parser.parse_args()
    print("\n".join(markdown(measure(args.repeat, args.otter_repeat, find_otter(args.otter)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
