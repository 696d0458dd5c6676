"""The isolation layers, strongest first, and which of them this machine offers.

- `bwrap`: bubblewrap. New pid, network, ipc, uts and (when not root) user namespaces; a
  filesystem made of the system folders, the Python install, the site-packages and the grader
  package, all read-only; /tmp, /var/tmp and /dev/shm on one private tmpfs of the box's memory
  size; the run's own folder is the only other writable place.
- `namespace`: the same filesystem built by the grader itself (`private_root`) in namespaces made
  by util-linux `unshare`: mount, pid, network, ipc, uts (and a user namespace when not root),
  for machines without bubblewrap.
- `process`: a plain child process. Resource limits, a process group killed at the end, the
  unprivileged uid when the grader is root. It hides no file: grading commands use it only when
  asked explicitly (`--sandbox process`); `grader check` falls back to it.

All layers share the rest: `python -I`, an allowlisted environment, a fresh folder, rlimits, a
wall-clock limit, capped output, and (as root) a uid of its own per run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import grader

Layer = Literal["bwrap", "namespace", "process"]
LAYERS: tuple[Layer, ...] = ("bwrap", "namespace", "process")
ISOLATING: tuple[Layer, ...] = ("bwrap", "namespace")  # they hide the filesystem
CHOICES = ("auto", "any", *LAYERS)
LAYER_ENV = "GRADER_SANDBOX_LAYER"
_ALIASES = {"unshare": "namespace"}

_SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd",
                 "/etc/group")
_DEVICES = ("null", "zero", "full", "random", "urandom")
_SCRATCH = {"/tmp/.shm": "/dev/shm", "/tmp/.var-tmp": "/var/tmp"}  # bwrap: links into /tmp
_PROBE_SECONDS = 20.0


def tool(name: str) -> str:
    """The program's absolute path on the grader's PATH (the box's own PATH is minimal)."""
    return shutil.which(name) or name


def running_as_root() -> bool:
    return os.geteuid() == 0


def package_root() -> Path:
    """The folder holding the `grader` package: the box imports the same package."""
    return Path(grader.__file__).resolve().parent.parent


def python_folders() -> list[Path]:
    """What the interpreter needs to start and import numpy: bound read-only by bubblewrap."""
    candidates = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).parent,
                  Path(os.path.realpath(sys.executable)).parent,
                  Path(sysconfig.get_paths()["stdlib"]), *map(Path, site.getsitepackages())]
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:
        candidates.append(Path(libdir))
    folders: list[Path] = []
    for path in candidates:
        if path.is_dir() and not any(path == f or f in path.parents for f in folders):
            folders = [f for f in folders if path not in f.parents] + [path]
    return folders


# --- commands ---------------------------------------------------------------------------------


def bwrap_prefix(work: Path, scratch_mb: int) -> list[str]:
    cmd = [tool("bwrap"), "--die-with-parent", "--new-session"]
    if running_as_root():
        # no user namespace: the bootstrap then drops to a real unprivileged uid, which the
        # process limit binds (a namespaced root is still uid 0 outside, and that it does not)
        cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try"]
    else:
        cmd += ["--unshare-all"]
    for folder in _SYSTEM_FOLDERS:
        path = Path(folder)
        if path.is_symlink():
            cmd += ["--symlink", os.readlink(path), folder]
        elif path.is_dir():
            cmd += ["--ro-bind", folder, folder]
    for file in _SYSTEM_FILES:
        if Path(file).is_file():
            cmd += ["--ro-bind", file, file]
    cmd += ["--proc", "/proc", *_bwrap_scratch(scratch_mb), *_bwrap_devices()]
    read_only = [*python_folders(), package_root() / "grader"]
    cmd += _traversable_parents([*read_only, work])
    for folder_path in read_only:
        cmd += ["--ro-bind", str(folder_path), str(folder_path)]
    for hidden in reference_copies(read_only):  # an empty folder over it
        cmd += ["--tmpfs", str(hidden)]
    cmd += ["--bind", str(work), str(work), "--remount-ro", "/", "--chdir", str(work),
            "--hostname", "sandbox", "--"]
    return cmd


def _bwrap_scratch(scratch_mb: int) -> list[str]:
    """/tmp a tmpfs of the box's memory size; /dev/shm and /var/tmp links into it, so that the
    three share that size (bubblewrap's own /dev/shm would be as large as the machine's)."""
    cmd = ["--perms", "1777", "--size", str(scratch_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    for folder in _SCRATCH:
        cmd += ["--perms", "1777", "--dir", folder]
    return cmd


def _bwrap_devices() -> list[str]:
    cmd = ["--tmpfs", "/dev"]
    for name in _DEVICES:
        cmd += ["--dev-bind", f"/dev/{name}", f"/dev/{name}"]
    cmd += ["--symlink", "/proc/self/fd", "/dev/fd"]
    for number, name in enumerate(("stdin", "stdout", "stderr")):
        cmd += ["--symlink", f"/proc/self/fd/{number}", f"/dev/{name}"]
    cmd += ["--dir", "/var"]
    for folder, link in _SCRATCH.items():
        cmd += ["--symlink", folder, link]
    return [*cmd, "--remount-ro", "/dev"]


def reference_copies(bound: list[Path]) -> list[Path]:
    """The grader's `reference` package wherever a bound folder holds it: installed from a wheel
    (`pip install`, Gradescope's setup.sh) it sits in site-packages, and student code importing
    it would return the reference's own answers."""
    found = [Path(p) / "reference" for p in site.getsitepackages()]
    try:
        spec = importlib.util.find_spec("reference")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        found.append(Path(spec.origin).resolve().parent)
    return sorted({path for path in found
                   if (path / "code_refs.py").is_file() and any(b == path or b in path.parents for b in bound)})


def _traversable_parents(paths: list[Path]) -> list[str]:
    """bwrap makes missing parents 0700 when run as root: make them 0755 (they are empty)."""
    made: list[Path] = []
    for path in paths:
        for parent in reversed(path.parents):
            if parent != Path("/") and parent not in made and parent not in paths:
                made.append(parent)
    return [arg for parent in made for arg in ("--perms", "0755", "--dir", str(parent))]


def namespace_prefix() -> list[str]:
    cmd = [tool("unshare")]
    if not running_as_root():
        cmd += ["--user", "--map-root-user"]
    return [*cmd, "--mount", "--propagation", "private", "--net", "--pid", "--fork",
            "--kill-child", "--ipc", "--uts", "--"]


def namespace_plan(work: Path, scratch_mb: int) -> dict[str, Any]:
    """What `private_root.enter` builds inside the box: the same view as bubblewrap's."""
    root = work.parent / "root"
    root.mkdir(mode=0o700, exist_ok=True)
    read_only = [*python_folders(), package_root() / "grader"]
    symlinks = {f: os.readlink(f) for f in _SYSTEM_FOLDERS if Path(f).is_symlink()}
    system = [f for f in (*_SYSTEM_FOLDERS, *_SYSTEM_FILES)
              if f not in symlinks and Path(f).exists()]
    return {"root": str(root), "work": str(work), "scratch_mb": scratch_mb,
            "symlinks": symlinks, "read_only": [*system, *map(str, read_only)],
            "hidden": [str(p) for p in reference_copies(read_only)],
            "user_namespace": not running_as_root()}


def command_prefix(layer: Layer, work: Path, scratch_mb: int) -> list[str]:
    if layer == "bwrap":
        return bwrap_prefix(work, scratch_mb)
    if layer == "namespace":
        return namespace_prefix()
    return []


def box_plan(layer: Layer, work: Path, scratch_mb: int) -> dict[str, Any] | None:
    """The private root the bootstrap builds (namespace layer), else None."""
    return namespace_plan(work, scratch_mb) if layer == "namespace" else None


# --- detection --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerStatus:
    layer: Layer
    available: bool
    detail: str
    advice: str = ""


@lru_cache(maxsize=1)
def detect_layers() -> tuple[LayerStatus, ...]:
    """Each layer, probed once per process by running Python through it."""
    return (_probe_bwrap(), _probe_namespace(),
            LayerStatus("process", True, "always available"))


def available(layer: Layer) -> LayerStatus:
    return next(s for s in detect_layers() if s.layer == layer)


class WeakLayerOnly(LookupError):
    """No layer that hides the filesystem works here, and none was asked for explicitly."""


def choose_layer(requested: str | None = None) -> Layer:
    """The requested layer, else `GRADER_SANDBOX_LAYER`, else `auto`.

    `auto` is the strongest layer that hides the filesystem (bwrap, then namespace) and refuses
    (`WeakLayerOnly`) when neither works; `any` falls back to `process` (a student's own
    self-check); a named layer is that layer or a `LookupError`, never a silent downgrade."""
    wanted = requested or os.environ.get(LAYER_ENV, "auto") or "auto"
    wanted = _ALIASES.get(wanted, wanted)
    if wanted in ("auto", "any"):
        for status in detect_layers():
            if status.available and (wanted == "any" or status.layer in ISOLATING):
                return status.layer
        raise WeakLayerOnly(refusal())
    if wanted not in LAYERS:
        raise ValueError(f"unknown sandbox layer {wanted!r}; choose {', '.join(CHOICES)}")
    status = available(wanted)
    if not status.available:
        raise LookupError(f"the sandbox layer {wanted!r} is not available here: {status.detail}")
    return status.layer


def refusal() -> str:
    """Why student code will not run here, and the two ways out."""
    lines = ["no sandbox layer that hides the filesystem works on this machine, so student code "
             "and models are not run:"]
    lines += [f"  {s.layer}: {s.detail}" for s in detect_layers() if s.layer in ISOLATING]
    lines += [f"To fix it: {available('bwrap').advice or 'install bubblewrap'}.",
              "Or accept the weaker process layer explicitly with `--sandbox process` (or "
              f"{LAYER_ENV}=process): student code can then read every file your user (as root: "
              "any user) can read, and it is recorded in every report."]
    return "\n".join(lines)


def _probe(cmd: list[str], cwd: Path, *, with_python: bool = True) -> str | None:
    """None when the command ran Python successfully, else why not."""
    if with_python:
        cmd = [*cmd, sys.executable, "-I", "-c", "import os; os.getpid()"]
    try:
        proc = subprocess.run(cmd,
                              cwd=cwd, capture_output=True, timeout=_PROBE_SECONDS,
                              env={"PATH": os.defpath}, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{type(err).__name__}: {err}"
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {proc.returncode}"
    return None


def _probe_bwrap() -> LayerStatus:
    if shutil.which("bwrap") is None:
        return LayerStatus("bwrap", False, "bubblewrap is not installed",
                           "install it: `apt-get install bubblewrap` (Debian/Ubuntu), "
                           "`dnf install bubblewrap` (Fedora)")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="grader-probe-") as tmp:
        failure = _probe(bwrap_prefix(Path(tmp), 16), Path(tmp))
    if failure is None:
        return LayerStatus("bwrap", True, _version("bwrap"))
    return LayerStatus("bwrap", False, f"bubblewrap cannot create its namespaces: {failure}",
                       _USERNS_ADVICE)


def _probe_namespace() -> LayerStatus:
    if shutil.which("unshare") is None:
        return LayerStatus("namespace", False, "util-linux `unshare` is not installed",
                           "install util-linux")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="grader-probe-") as tmp:
        work = Path(tmp) / "box"
        work.mkdir()
        plan = namespace_plan(work, 16)
        config = json.dumps({"module": "grader.sandbox.boot", "uid": None, "nproc": None,
                             "root": plan})
        boot = (f"import sys; sys.path.insert(0, {str(package_root())!r}); "
                "from grader.sandbox.boot import main; main()")
        failure = _probe([*namespace_prefix(), sys.executable, "-I", "-c", boot, config], work,
                         with_python=False)
    if failure is None:
        return LayerStatus("namespace", True, _version("unshare") + ", private root")
    return LayerStatus("namespace", False, f"cannot build the namespaces: {failure}",
                       _USERNS_ADVICE)


_USERNS_ADVICE = (
    "allow unprivileged user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` "
    "(Debian), `sysctl -w user.max_user_namespaces=15000`, or on Ubuntu 24.04 "
    "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (or an AppArmor profile for "
    "bwrap); inside a container, run it with --security-opt seccomp=unconfined or use the "
    "host's grader"
)


def _version(tool: str) -> str:
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return tool
    return (out.stdout.decode(errors="replace").strip().splitlines() or [tool])[0]
