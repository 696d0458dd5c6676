"""Running a command as an ordinary user, for the tests that check the sandbox as a non-root TA.

Not root: the command runs as is. Root: as the user `grader-nonroot` (created with `useradd` when
missing), through `setpriv`. When the Python install sits under a folder that user cannot enter
(a pyenv under /root), a root-only bubblewrap mount namespace first covers that folder with an
empty one holding just the install, read-only: the rest of the machine is the real one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

USER = "grader-nonroot"


def why_not() -> str | None:
    """None when `command` can run as an ordinary user here, else the reason."""
    if os.geteuid() != 0:
        return None
    for tool in ("setpriv", "useradd"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed"
    if _covers() and shutil.which("bwrap") is None:
        return "the Python install is in a private folder and bubblewrap is missing"
    if _user_id() is None:
        made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                               "/usr/sbin/nologin", USER], capture_output=True, text=True)
        if made.returncode != 0:
            return f"useradd failed: {made.stderr.strip()}"
    return None


def _user_id() -> int | None:
    import pwd

    try:
        return pwd.getpwnam(USER).pw_uid
    except KeyError:
        return None


def _needed() -> list[Path]:
    from grader.sandbox.layers import package_root, python_folders

    return [*python_folders(), package_root()]


def _covers() -> dict[Path, list[Path]]:
    """Folders others may not enter, each with the needed folders under it."""
    found: dict[Path, list[Path]] = {}
    for path in _needed():
        for parent in reversed(path.parents):
            if parent != Path("/") and not os.stat(parent).st_mode & 0o001:
                found.setdefault(parent, []).append(path)
                break
    return found


def command(argv: list[str], home: Path) -> list[str]:
    """`argv` as the ordinary user, with HOME (and the caches) in `home`."""
    env = ["env", f"HOME={home}", f"XDG_CACHE_HOME={home}/.cache", f"PATH={os.environ['PATH']}"]
    if os.geteuid() != 0:
        return [*env, *argv]
    user = ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "--inh-caps=-all"]
    wrap: list[str] = []
    covers = _covers()
    if covers:
        wrap = ["bwrap", "--dev-bind", "/", "/"]
        for folder, inside in covers.items():
            wrap += ["--perms", "0755", "--tmpfs", str(folder)]
            for path in inside:  # bwrap would make the folders in between 0700
                between = [p for p in reversed(path.parents) if folder in p.parents]
                wrap += [a for p in between for a in ("--perms", "0755", "--dir", str(p))]
                wrap += ["--ro-bind", str(path), str(path)]
        wrap += ["--"]
    return [*wrap, *user, *env, *argv]


def run_python(args: list[str], home: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o777)
    return subprocess.run(command([sys.executable, *args], home), capture_output=True, text=True,
                          timeout=timeout, cwd=home)
