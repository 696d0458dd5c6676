"""The isolation layers, strongest first, and which of them this machine offers.

- `bwrap`: bubblewrap. New pid, network, ipc, uts and (when not root) user namespaces; a
  filesystem made of the system folders, the Python install, the site-packages and the grader
  package, all read-only, plus the run's own folder, the only writable place.
- `unshare`: util-linux `unshare`. New pid, network, ipc, uts and mount namespaces (and a user
  namespace when not root): no network, no view of other processes, and every process dies with
  the call. The filesystem is the host's, guarded only by the unprivileged uid.
- `process`: a plain child process. Resource limits, a process group killed at the end, the
  unprivileged uid when the grader is root.

All layers share the rest: `python -I`, an allowlisted environment, a fresh folder, rlimits, a
wall-clock limit, capped output, and (as root) a uid of its own per run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import grader

Layer = Literal["bwrap", "unshare", "process"]
LAYERS: tuple[Layer, ...] = ("bwrap", "unshare", "process")
LAYER_ENV = "GRADER_SANDBOX_LAYER"

_SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd",
                 "/etc/group")
_PROBE_SECONDS = 20.0


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


def bwrap_prefix(work: Path) -> list[str]:
    cmd = ["bwrap", "--die-with-parent", "--new-session"]
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
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    read_only = [*python_folders(), package_root() / "grader"]
    cmd += _traversable_parents([*read_only, work])
    for folder_path in read_only:
        cmd += ["--ro-bind", str(folder_path), str(folder_path)]
    for hidden in reference_copies(read_only):  # an empty folder over it
        cmd += ["--tmpfs", str(hidden)]
    cmd += ["--bind", str(work), str(work), "--chdir", str(work), "--hostname", "sandbox", "--"]
    return cmd


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


def unshare_prefix() -> list[str]:
    cmd = ["unshare"]
    if not running_as_root():
        cmd += ["--user", "--map-root-user"]
    return [*cmd, "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--ipc", "--uts",
            "--"]


def command_prefix(layer: Layer, work: Path) -> list[str]:
    if layer == "bwrap":
        return bwrap_prefix(work)
    if layer == "unshare":
        return unshare_prefix()
    return []


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
    return (_probe_bwrap(), _probe_unshare(),
            LayerStatus("process", True, "always available"))


def available(layer: Layer) -> LayerStatus:
    return next(s for s in detect_layers() if s.layer == layer)


def choose_layer(requested: str | None = None) -> Layer:
    """The requested layer, `GRADER_SANDBOX_LAYER`, or the strongest available one."""
    wanted = requested or os.environ.get(LAYER_ENV, "auto") or "auto"
    if wanted == "auto":
        return next(s.layer for s in detect_layers() if s.available)
    if wanted not in LAYERS:
        raise ValueError(f"unknown sandbox layer {wanted!r}; choose auto, {', '.join(LAYERS)}")
    status = available(wanted)
    if not status.available:
        raise LookupError(f"the sandbox layer {wanted!r} is not available here: {status.detail}")
    return status.layer


def _probe(cmd: list[str], cwd: Path) -> str | None:
    """None when the command ran Python successfully, else why not."""
    try:
        proc = subprocess.run([*cmd, sys.executable, "-I", "-c", "import os; os.getpid()"],
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
        failure = _probe(bwrap_prefix(Path(tmp)), Path(tmp))
    if failure is None:
        return LayerStatus("bwrap", True, _version("bwrap"))
    return LayerStatus("bwrap", False, f"bubblewrap cannot create its namespaces: {failure}",
                       _USERNS_ADVICE)


def _probe_unshare() -> LayerStatus:
    if shutil.which("unshare") is None:
        return LayerStatus("unshare", False, "util-linux `unshare` is not installed",
                           "install util-linux")
    failure = _probe(unshare_prefix(), Path("/"))
    if failure is None:
        return LayerStatus("unshare", True, _version("unshare"))
    return LayerStatus("unshare", False, f"unshare cannot create namespaces: {failure}",
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
