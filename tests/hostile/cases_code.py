"""Hostile code (csc411-a1): the sandbox table of docs/sandbox.md, as files a student hands in.

Each attacker answers `p3b_gradient_code` with its attack and `p4_momentum_code` with a right
`momentum_step`, which must still earn its points. An attack that gets through says so where the
report shows it (an import error quoting what it found) or leaves a trace the test looks for (a
marker file, a connection to the listener, a process carrying the scene's mark). Whether an
attack is contained depends on the sandbox layer: the expectations are docs/sandbox.md's table
(`tests/test_sandbox_hostile.py`), and under bubblewrap every attack is contained.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

from grader.core import refcache
from tests.hostile.corpus import (
    FORBIDDEN,
    REPO,
    SECRET_ENV,
    Builder,
    Case,
    Expect,
    Scene,
    new_folder,
)
from tests.test_sandbox_hostile import ATTACKS, expected_contained

A = "csc411-a1"
MOMENTUM = """\
def momentum_step(W, grad, velocity, lr, momentum):
    velocity = momentum * velocity - lr * grad
    return W + velocity, velocity
"""
ZEROS = """
def basic_gradient(W, x, b, y):
    import numpy as np
    return np.zeros_like(W), np.zeros_like(b)
"""
WRONG = ("incorrect", "error")


def _d(source: str) -> str:
    return textwrap.dedent(source).lstrip("\n")  # the attack's function returns zeros, or the attack broke the run


@dataclass(frozen=True)
class Attack:
    name: str
    table_row: str | None  # the row of docs/sandbox.md's table, None: contained on every layer
    source: str  # __OUTSIDE__, __CLASSMATE__, __PORT__, __MARK__ are filled from the scene
    status: str | tuple[str, ...]
    message: str = ""
    contained_on: tuple[str, ...] | None = None  # for a row not in the table: the layers that stop it


ATTACK_LIST = [
    Attack("infinite loop", "infinite loop",
           "def basic_gradient(W, x, b, y):\n    while True:\n        pass\n", "error", "time"),
    Attack("crash at import (segfault)", "crash at import",
           "import ctypes\nctypes.string_at(0)\n" + ZEROS, "error", "segmentation fault"),
    Attack("os._exit mid-test", "exit mid-test",
           "import os\ndef basic_gradient(W, x, b, y):\n    os._exit(3)\n", "error", "exited"),
    Attack("sys.exit at import", None, "import sys\nsys.exit(0)\n" + ZEROS, "error", "sys.exit"),
    Attack("bounded fork storm", "bounded fork storm", _d("""
        import os, time
        def basic_gradient(W, x, b, y):
            import numpy as np
            for _ in range(40):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(3)
                    os._exit(0)
            return np.zeros_like(W), np.zeros_like(b)
        """), "incorrect"),
    Attack("8 GB allocation", "8 GB allocation", _d("""
        import numpy as np
        def basic_gradient(W, x, b, y):
            big = np.ones(2**30)
            return big, big
        """), "error", "memory"),
    Attack("stdout flood at import", "stdout flood", _d("""
        import sys
        chunk = "x" * 65536
        for _ in range(2048):   # 128 MB, over the 64 MB file limit
            sys.stdout.write(chunk)
        """) + ZEROS, "error", ""),
    Attack("write outside its folder", "write outside its folder", _d("""
        for target, mode in (("__OUTSIDE__/pwned-by-code", "w"), ("__CLASSMATE__", "a")):
            try:
                with open(target, mode) as out:
                    out.write("\\np6_complexity: pwned\\n")
            except OSError:
                pass
        """) + ZEROS, "incorrect"),
    Attack("read a classmate's submission", "read a classmate's submission", _d("""
        try:
            found = open("__CLASSMATE__").read()
        except OSError:
            found = ""
        if found:
            raise RuntimeError("LEAK " + found.replace("\\n", " ")[:200])
        """) + ZEROS, "incorrect"),
    Attack("read the grader's environment", "read the grader's environment", _d("""
        import os
        found = os.environ.get("__SECRET_ENV__", "")
        for pid in os.listdir("/proc"):
            try:
                for item in open(f"/proc/{pid}/environ", "rb").read().split(b"\\0"):
                    if item.startswith(b"__SECRET_ENV__="):
                        found = item.decode(errors="replace")
            except (OSError, ValueError):
                pass
        if found:
            raise RuntimeError("LEAK " + found)
        """) + ZEROS, "incorrect"),
    Attack("connect to a loopback listener", "connect to a loopback listener", _d("""
        import socket
        try:
            socket.create_connection(("127.0.0.1", __PORT__), timeout=1).close()
            raise RuntimeError("LEAK connected")
        except OSError:
            pass
        """) + ZEROS, "incorrect"),
    Attack("background process outlives the call", "background process outlives the call", _d("""
        import os
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "__MARK__"])
            os._exit(0)
        """) + ZEROS, "incorrect"),
    Attack("import the grader's reference implementation", "import the installed reference package",
           _d("""
        try:  # the grader's own folder is on sys.path in the box; bwrap and namespace bind only grader/
            from reference.code_refs import SoftmaxXentArgs, softmax_xent_gradient
        except ImportError:
            softmax_xent_gradient = None
        def basic_gradient(W, x, b, y):
            import numpy as np
            if softmax_xent_gradient is None:
                return np.zeros_like(W), np.zeros_like(b)
            return softmax_xent_gradient(SoftmaxXentArgs(W=W, x=x, b=b, y=y))
        """), "incorrect"),
    Attack("read the rubric and the reference sources", "read the reference sources and the rubric",
           _d("""
        for path in ("__REPO__/rubrics/csc411-a1.yaml", "__REPO__/reference/code_refs.py"):
            try:
                raise RuntimeError("LEAK " + open(path).read(100).replace("\\n", " "))
            except OSError:
                pass
        """) + ZEROS, "incorrect"),
    Attack("find classmates' answers files in /tmp", "find other answers files in /tmp", _d("""
        import glob
        found = glob.glob("/tmp/*/class/csc411-a1/zoe/answers.yaml")
        if found:
            raise RuntimeError("LEAK " + open(found[0]).read().replace("\\n", " ")[:200])
        """) + ZEROS, "incorrect"),
    Attack("leave files in /tmp, /var/tmp, /dev/shm", "files in /tmp, /var/tmp, /dev/shm outlive the call",
           _d("""
        for folder in ("/tmp", "/var/tmp", "/dev/shm"):
            try:
                with open(folder + "/__MARK__-left", "w") as out:
                    out.write("x")
            except OSError:
                pass
        """) + ZEROS, "incorrect"),
    Attack("fill /dev/shm past the memory limit", "fill /dev/shm past the memory limit", _d("""
        import os
        written = 0
        try:
            for part in range(74):   # 74 x 32 MB = 2.3 GB, past the 2 GB memory limit
                with open(f"/dev/shm/__MARK__-{part}", "wb") as out:
                    for _ in range(32):
                        out.write(b"x" * (1 << 20))
                        written += 1
        except OSError:
            pass
        finally:
            for part in range(74):
                try:
                    os.unlink(f"/dev/shm/__MARK__-{part}")
                except OSError:
                    pass
        if written > 2048:
            raise RuntimeError(f"LEAK wrote {written} MB in /dev/shm")
        """) + ZEROS, WRONG),  # writing 2 GB may also take the whole time limit on a busy machine
    Attack("see the grader's processes", "see the grader's processes", _d("""
        import os
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                line = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ")
            except OSError:
                continue
            if b"-m grader batch" in line:
                raise RuntimeError("LEAK " + line.decode(errors="replace")[:200])
        """) + ZEROS, "incorrect"),
    Attack("rewrite the reference cache", "open the reference cache", _d("""
        import glob, sqlite3
        for path in glob.glob("__CACHE__/*.sqlite"):
            try:
                with sqlite3.connect(path) as db:
                    for table in ("refs", "refs_v2"):
                        try:
                            db.execute(f"UPDATE {table} SET value = '0'")
                        except sqlite3.Error:
                            pass
                open("__OUTSIDE__/cache-rewritten", "w")
            except (OSError, sqlite3.Error):
                pass
        """) + ZEROS, "incorrect"),
    Attack("forge overrides.yaml in the output folder", "forge overrides.yaml in the output folder", _d("""
        import glob
        for folder in glob.glob("/tmp/pytest-of-*/pytest-*/batch-csc411-a1*"):
            try:
                with open(folder + "/overrides.yaml", "w") as out:
                    out.write("c_forged: {p6_complexity: 100}\\n")
                open("__OUTSIDE__/overrides-forged", "w")
            except OSError:
                pass
        """) + ZEROS, "incorrect"),
    Attack("replace the grader's numpy", None, _d("""
        import numpy
        numpy.savez = lambda *a, **k: None
        numpy.load = lambda *a, **k: None
        """) + ZEROS, WRONG),
    Attack("plant a symlink as its output", None, _d("""
        import os
        os.symlink("/etc/shadow", "outputs.npz")
        os.symlink("/etc/passwd", "result.json")
        """) + ZEROS, WRONG),
]


def contained(attack: Attack, layer: str) -> bool:
    if attack.table_row is None:
        return attack.contained_on is None or layer in attack.contained_on
    return expected_contained(ATTACKS[attack.table_row], layer)


def _fill(source: str, scene: Scene) -> str:
    source = textwrap.dedent(source)
    for token, value in (("__OUTSIDE__", str(scene.outside)), ("__CLASSMATE__", str(scene.classmate_file)),
                         ("__PORT__", str(scene.port)), ("__MARK__", scene.mark),
                         ("__SECRET_ENV__", SECRET_ENV), ("__REPO__", str(REPO)),
                         ("__CACHE__", str(refcache.cache_dir()))):
        source = source.replace(token, value)
    return source


def _code_folder(scene: Scene, name: str, attack_source: str | None) -> Path:
    folder = new_folder(scene, A, name)
    (folder / "momentum.py").write_text(MOMENTUM)
    if attack_source is not None:
        (folder / "attack.py").write_text(attack_source)
    folder.chmod(0o755)
    return folder


def attacks(scene: Scene) -> list[Case]:
    cases = []
    for i, attack in enumerate(ATTACK_LIST):
        folder = _code_folder(scene, f"c{i:02d}", _fill(attack.source, scene))
        (folder / "answers.yaml").write_text("p3b_gradient_code: attack.py\np4_momentum_code: momentum.py\n")
        shielded = contained(attack, scene.layer)
        forbidden = (*FORBIDDEN, "LEAK") if shielded else ()  # docs/sandbox.md: it gets through here
        status = attack.status if shielded else (*WRONG, "correct")  # what got through: "LEAK ..."
        cases.append(Case(f"code: {attack.name}", A, folder, "code", {
            "p3b_gradient_code": Expect(status, attack.message), "p4_momentum_code": Expect("correct")},
            forbidden=forbidden))
    return cases


def file_answers(scene: Scene) -> list[Case]:
    """Code answers naming what is not the student's own file."""
    cases = []
    classmate_code = scene.classmate_file.parent / "gradient.py"
    rows = [("a path up and out", "../zoe/gradient.py", None, "error", "outside"),
            ("an absolute path", "/etc/passwd", None, "error", "outside"),
            ("a link to a classmate's file", "gradient.py", classmate_code, "error", "outside"),
            ("a FIFO", "gradient.py", "fifo", "invalid", "not a file"),
            ("not Python", "answers.yaml", None, "invalid", "not a .py file"),
            ("a number", 3, None, "invalid", "not a file path")]
    for i, (name, answer, special, status, message) in enumerate(rows):
        folder = _code_folder(scene, f"c_path_{i}", None)
        if special == "fifo":
            os.mkfifo(folder / "gradient.py")
        elif special is not None:
            (folder / "gradient.py").symlink_to(special)
        (folder / "answers.yaml").write_text(f"p3b_gradient_code: {answer!r}\np4_momentum_code: momentum.py\n")
        cases.append(Case(f"code: {name}", A, folder, "code", {
            "p3b_gradient_code": Expect(status, message), "p4_momentum_code": Expect("correct")}))
    return cases


def code_answer_alone(scene: Scene) -> list[Case]:
    """An answers file on its own cannot hold code."""
    path = scene.folder(A) / "c_alone.yaml"
    path.write_text("p3b_gradient_code: gradient.py\np6_complexity: text\n")
    return [Case("code: an answers file alone", A, path, "code", {
        "p3b_gradient_code": Expect("invalid", "folder or a zip"), "p6_complexity": Expect("manual")})]


BUILDERS: list[Builder] = [attacks, file_answers, code_answer_alone]
