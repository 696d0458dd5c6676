"""Hostile student functions against every isolation layer this machine offers.

Each hostile function runs through the real worker (`grader.sandbox.worker_call`) and reports
through its return value what it managed to do (1 = it got through). The table says, per layer,
whether the attack is contained; under bubblewrap and the namespace layer none succeeds.
Expectations for the process layer depend on whether the grader is root (then the code runs as a
uid of its own). `test_sandbox_nonroot.py` runs this module again as an ordinary user.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from grader.core import refcache
from grader.sandbox import Limits, SandboxResult, run_python
from grader.sandbox.layers import LAYERS, available, running_as_root
from tests.processes import lingering

ROOT = running_as_root()
LIMITS = Limits(wall_seconds=4, cpu_seconds=2, memory_mb=1024, processes=8, output_kb=16)


@dataclass
class Attack:
    source: str  # the student's file; {placeholders} are filled by the test
    contained: dict[str, bool]  # layer -> contained (as root / not root: see `expected`)
    contained_not_root: dict[str, bool] | None = None
    limits: Limits = field(default_factory=lambda: LIMITS)


ALL = {"bwrap": True, "namespace": True, "process": True}
HIDING = {"bwrap": True, "namespace": True, "process": False}  # only the layers hiding files
SHM_LIMITS = Limits(wall_seconds=8, cpu_seconds=4, memory_mb=512, processes=8, output_kb=16)

ATTACKS = {
    "infinite loop": Attack("def f():\n    while True:\n        pass\n", ALL),
    "crash at import": Attack("import ctypes\nctypes.string_at(0)\ndef f():\n    return 1\n", ALL),
    "exit mid-test": Attack("import os\ndef f():\n    os._exit(3)\n", ALL),
    "bounded fork storm": Attack(
        """
        import os, time
        def f():
            made = 0
            for _ in range(40):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(3)
                    os._exit(0)
                made += 1
            return made >= 8   # more processes than the limit allows
        """,
        ALL,
    ),
    "8 GB allocation": Attack(
        "import numpy as np\ndef f():\n    return float(np.ones(2**30).sum()) > 0\n", ALL
    ),
    "stdout flood": Attack(
        """
        import sys
        def f():
            chunk = "x" * 65536
            for _ in range(4000):   # 256 MB
                sys.stdout.write(chunk)
            return 1
        """,
        ALL,
    ),
    "write outside its folder": Attack(
        """
        def f():
            try:
                with open({grader_dir!r} + "/pwned", "w") as out:
                    out.write("x")
                return 1
            except OSError:
                return 0
        """,
        ALL,
        HIDING,
    ),
    "read a classmate's submission": Attack(
        """
        def f():
            try:
                return int(open({classmate!r}).read().strip() == "classmate secret")
            except OSError:
                return 0
        """,
        HIDING,
    ),
    "read the grader's environment": Attack(
        """
        import os
        def f():
            if any({secret!r} in v for v in os.environ.values()):
                return 1
            for pid in os.listdir("/proc"):
                try:
                    if {secret!r}.encode() in open(f"/proc/{{pid}}/environ", "rb").read():
                        return 1
                except (OSError, ValueError):
                    pass
            return 0
        """,
        ALL,
        HIDING,
    ),
    "connect to a loopback listener": Attack(
        """
        import socket
        def f():
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
                return 1
            except OSError:
                return 0
        """,
        HIDING,
    ),
    "background process outlives the call": Attack(
        """
        import os
        def f():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execv("/bin/sleep", ["sleep", "{mark}"])
                os._exit(0)
            return 0
        """,
        ALL,
        HIDING,
    ),
}


ATTACKS.update({
    "import the installed reference package": Attack(
        """
        def f():
            try:
                import reference.code_refs
                return 1
            except ImportError:
                return 0
        """,
        HIDING,
    ),
    "read the reference sources and the rubric": Attack(
        """
        def f():
            for path in ({reference_source!r}, {rubric!r}):
                try:
                    open(path).read()
                    return 1
                except OSError:
                    pass
            return 0
        """,
        HIDING,
    ),
    "find other answers files in /tmp": Attack(
        """
        import glob
        def f():
            return int(bool(glob.glob("/tmp/*/{mark}-answers.yaml")))
        """,
        HIDING,
    ),
    "files in /tmp, /var/tmp, /dev/shm outlive the call": Attack(
        """
        def f():
            wrote = 0
            for folder in ("/tmp", "/var/tmp", "/dev/shm"):
                try:
                    with open(folder + "/{mark}-left", "w") as out:
                        out.write("x")
                    wrote = 1
                except OSError:
                    pass
            return wrote
        """,
        HIDING,
    ),
    "fill /dev/shm past the memory limit": Attack(
        """
        import os
        def f():
            written = 0
            try:
                for part in range(24):   # 24 x 32 MB = 768 MB, past the 512 MB limit
                    with open(f"/dev/shm/{mark}-{{part}}", "wb") as out:
                        for _ in range(32):
                            out.write(b"x" * (1 << 20))
                            written += 1
            except OSError:
                pass
            finally:
                for part in range(24):
                    try:
                        os.unlink(f"/dev/shm/{mark}-{{part}}")
                    except OSError:
                        pass
            return int(written > 512)
        """,
        HIDING,
        limits=SHM_LIMITS,
    ),
    "see the grader's processes": Attack(
        """
        import os
        def f():
            return int(os.path.exists("/proc/{grader_pid}/cmdline"))
        """,
        HIDING,
    ),
    "open the reference cache": Attack(
        """
        def f():
            try:
                open({cache_file!r}, "rb").read(1)
                return 1
            except OSError:
                return 0
        """,
        ALL,
        HIDING,
    ),
    "forge overrides.yaml in the output folder": Attack(
        """
        def f():
            try:
                with open({outdir!r} + "/overrides.yaml", "w") as out:
                    out.write("alice: {{q1: 100}}")
                return 1
            except OSError:
                return 0
        """,
        ALL,
        HIDING,
    ),
    "read the output folder's reports": Attack(
        """
        def f():
            try:
                return int("score" in open({outdir!r} + "/reports/alice.json").read())
            except OSError:
                return 0
        """,
        HIDING,
    ),
})


def expected_contained(attack: Attack, layer: str) -> bool:
    table = (
        attack.contained if ROOT or attack.contained_not_root is None else attack.contained_not_root
    )
    return table[layer]


def call_student(
    source: str, folder: Path, layer: str, limits: Limits = LIMITS
) -> tuple[SandboxResult, float | None]:
    """Run `f()` from `source` through the worker; its return value as a float, if any."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "attack.py").write_text(source)
    call = {"file": "submission/attack.py", "function": "f", "calls": 1, "args": [], "outputs": 1}
    empty = io.BytesIO()
    np.savez(empty)
    result = run_python(
        "grader.sandbox.worker_call",
        [],
        student_dir=folder,
        limits=limits,
        layer=layer,
        inputs={"call.json": json.dumps(call).encode(), "inputs.npz": empty.getvalue()},
        collect=("outputs.npz",),
    )
    value = None
    if "outputs.npz" in result.files:
        with np.load(io.BytesIO(result.files["outputs.npz"]), allow_pickle=False) as out:
            value = float(out["0.0"]) if "0.0" in out.files else None
    return result, value




@pytest.fixture
def scene(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    # a folder anyone may traverse, like a course's submissions folder (pytest's tmp_path is
    # inside a private folder, which would protect it for the wrong reason)
    tmp_path = Path(tempfile.mkdtemp(prefix="grader-hostile-"))
    tmp_path.chmod(0o755)
    grader_dir = tmp_path / "grader-owned"
    grader_dir.mkdir(mode=0o755)
    classmate = tmp_path / "class" / "bob" / "gradient.py"
    classmate.parent.mkdir(parents=True)
    classmate.write_text("classmate secret\n")
    for path in (tmp_path, tmp_path / "class", classmate.parent):
        path.chmod(0o755)
    secret = f"s3cret-{os.getpid()}-{time.monotonic_ns()}"
    monkeypatch.setenv("GRADER_TEST_SECRET", secret)
    # a process of the grader's user started with the secret (/proc shows a process's environment
    # as it was at exec, so the test's own setenv alone would not be visible there)
    holder = subprocess.Popen(["sleep", "120"], env={"GRADER_TEST_SECRET": secret})
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    mark = f"30.{secrets.randbelow(10**9):09d}"
    (tmp_path / f"{mark}-answers.yaml").write_text("q1: 42\n")
    (tmp_path / f"{mark}-answers.yaml").chmod(0o644)
    outdir = tmp_path / "out"
    (outdir / "reports").mkdir(parents=True)
    (outdir / "reports" / "alice.json").write_text('{"score": 10}')
    for path in (outdir, outdir / "reports"):
        path.chmod(0o755)
    (outdir / "reports" / "alice.json").chmod(0o644)
    cache = tmp_path / "cache" / "nn-grader"
    store = refcache.ReferenceStore(cache / "references.sqlite")
    store.put(store.key("f", "{}"), 1)
    (tmp_path / "cache").chmod(0o755)
    repo = Path(__file__).resolve().parent.parent
    yield {
        "grader_dir": str(grader_dir),
        "classmate": str(classmate),
        "secret": secret,
        "port": listener.getsockname()[1],
        "mark": mark,
        "listener": listener,
        "student": tmp_path / "class" / "carol",
        "outdir": str(outdir),
        "cache_file": str(cache / "references.sqlite"),
        "reference_source": str(repo / "reference" / "code_refs.py"),
        "rubric": str(repo / "rubrics" / "csc411-a1.yaml"),
        "grader_pid": os.getpid(),
    }
    listener.close()
    holder.kill()
    holder.wait()
    shutil.rmtree(tmp_path, ignore_errors=True)
    for pid in lingering(mark):  # never leave anything behind, whatever the layer did
        os.kill(pid, 9)
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        for left in Path(folder).glob(f"{mark}-*"):
            left.unlink()


def _layer_or_skip(layer: str) -> None:
    status = available(layer)  # type: ignore[arg-type]
    if not status.available:
        pytest.skip(f"layer {layer} not available here: {status.detail}")


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("name", list(ATTACKS))
def test_hostile_function_is_contained_as_the_table_says(
    name: str, layer: str, scene: dict
) -> None:  # type: ignore[type-arg]
    _layer_or_skip(layer)
    attack = ATTACKS[name]
    source = textwrap.dedent(attack.source).format(**scene)
    started = time.monotonic()
    result, value = call_student(source, scene["student"], layer, attack.limits)
    elapsed = time.monotonic() - started
    assert result.layer == layer
    assert elapsed < attack.limits.wall_seconds + 3, "the wall-clock limit did not stop it"
    assert len(result.stdout) <= attack.limits.output_kb * 1024
    got_through = _got_through(name, result, value, scene)
    assert got_through is not expected_contained(attack, layer), (
        f"{name} under {layer}: {'got through' if got_through else 'was contained'}; "
        f"status {result.status} {result.reason!r} value {value}"
    )


def _got_through(name: str, result: SandboxResult, value: float | None, scene: dict) -> bool:  # type: ignore[type-arg]
    if name == "infinite loop":
        return result.status != "timeout"
    if name == "crash at import":
        return result.status == "ok" and value is not None
    if name == "exit mid-test":
        return result.status == "ok" and value is not None
    if name == "8 GB allocation":
        calls = (result.result or {}).get("calls", [{}])
        return not (calls and calls[0].get("status") == "memory")
    if name == "stdout flood":
        return value == 1 or len(result.stdout) > LIMITS.output_kb * 1024
    if name == "write outside its folder":
        return Path(scene["grader_dir"], "pwned").exists() or value == 1
    if name == "connect to a loopback listener":
        try:
            scene["listener"].accept()[0].close()
            return True
        except BlockingIOError:
            return value == 1
    if name == "background process outlives the call":
        time.sleep(0.3)
        return bool(lingering(scene["mark"]))
    if name == "files in /tmp, /var/tmp, /dev/shm outlive the call":
        return any(Path(f, scene["mark"] + "-left").exists() for f in ("/tmp", "/var/tmp", "/dev/shm"))
    if name == "forge overrides.yaml in the output folder":
        return Path(scene["outdir"], "overrides.yaml").exists() or value == 1
    return value == 1


def test_layers_table_covers_every_layer() -> None:
    for attack in ATTACKS.values():
        assert set(attack.contained) == set(LAYERS)
        assert attack.contained["bwrap"], "under bubblewrap no attack may succeed"


def test_stdout_is_capped_and_the_rest_is_dropped(tmp_path: Path) -> None:
    source = "import sys\ndef f():\n    sys.stdout.write('y' * 200_000)\n    return 1\n"
    result, value = call_student(source, tmp_path / "s", "process")
    assert value == 1
    assert result.stdout == "y" * (LIMITS.output_kb * 1024)


@pytest.mark.parametrize("layer", ["bwrap", "namespace"])
def test_the_box_folder_and_private_scratch_are_the_only_writable_places(
    tmp_path: Path, layer: str
) -> None:
    _layer_or_skip(layer)
    source = textwrap.dedent("""
        import os, sys
        def f():
            wrote = 0
            for folder in ("/usr", os.path.dirname(os.__file__), sys.prefix, "/", "/var", "/etc",
                           "/dev", "/proc"):
                try:
                    with open(os.path.join(folder, "pwned"), "w"):
                        wrote += 1
                except OSError:
                    pass
            with open("mine.txt", "w"):
                pass
            return wrote
        """)
    _, value = call_student(source, tmp_path / "s", layer)
    assert value == 0


@pytest.mark.skipif(not ROOT, reason="the uid drop happens only when the grader is root")
@pytest.mark.parametrize("layer", LAYERS)
def test_as_root_the_code_runs_as_an_unprivileged_uid(layer: str, tmp_path: Path) -> None:
    _layer_or_skip(layer)
    source = "import os\ndef f():\n    return float(os.getuid() * (os.geteuid() == os.getuid()))\n"
    result, value = call_student(source, tmp_path / "s", layer)
    assert result.uid is not None and result.uid > 0
    assert value == result.uid


def test_a_symlink_planted_as_output_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "grader-secret.txt"
    secret.write_text("top secret")
    secret.chmod(0o644)
    source = textwrap.dedent(f"""
        import os
        def f():
            os.symlink({str(secret)!r}, "stolen.txt")
            return 1
        """)
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "attack.py").write_text(source)
    call = {"file": "submission/attack.py", "function": "f", "calls": 1, "args": [], "outputs": 1}
    empty = io.BytesIO()
    np.savez(empty)
    result = run_python(
        "grader.sandbox.worker_call",
        [],
        student_dir=folder,
        layer="process",
        inputs={"call.json": json.dumps(call).encode(), "inputs.npz": empty.getvalue()},
        collect=("stolen.txt",),
    )
    assert result.status == "ok"
    assert "stolen.txt" not in result.files


def test_links_in_the_submission_are_not_copied_into_the_box(tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("outside")
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "link.txt").symlink_to(secret)
    source = "import os\ndef f():\n    return float(os.path.lexists('submission/link.txt'))\n"
    (folder / "attack.py").write_text(source)
    result, value = call_student(source, folder, "process")
    assert result.status == "ok" and value == 0.0
    assert stat.S_ISLNK(os.lstat(folder / "link.txt").st_mode)  # the original is untouched
