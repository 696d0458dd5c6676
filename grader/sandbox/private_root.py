"""The namespace layer's filesystem, built inside the box before any student code: stdlib only.

`unshare --mount --pid --net ...` (plus `--user --map-root-user` when the grader is not root)
starts the bootstrap in fresh namespaces; `enter(plan)` then gives it a root of its own, the
way bubblewrap does:

- a small tmpfs becomes the new root; the system folders, the Python install and the `grader`
  package are bound into it read-only (keeping the flags the kernel locks: nosuid, nodev, ...);
  the grader's `reference` package, wherever such a folder holds it, is covered by an empty
  read-only tmpfs;
- /dev holds null, zero, full, random and urandom only; /proc is a new proc of the box's pid
  namespace;
- /tmp, /var/tmp and /dev/shm are one private tmpfs of the box's memory size (they share it);
- the box folder is the only place bound writable;
- `pivot_root` then detaches the old root: nothing else of the machine is reachable (other
  submissions, the rubric, `reference/`, the output folder, ~/.cache).

In a user namespace (the grader is not root) the code would otherwise keep every capability
of that namespace, enough to unmount the covers: `drop_capabilities` empties the bounding,
effective, permitted and inheritable sets before the worker starts.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

_MS_RDONLY = 0x1
_MS_NOSUID = 0x2
_MS_NODEV = 0x4
_MS_NOEXEC = 0x8
_MS_REMOUNT = 0x20
_MS_NOATIME = 0x400
_MS_NODIRATIME = 0x800
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18
_MS_RELATIME = 1 << 21
_MNT_DETACH = 2
_SYS_PIVOT_ROOT = 155  # x86-64
_SYS_CAPSET = 126  # x86-64
_CAP_VERSION_3 = 0x20080522
_PR_CAPBSET_DROP = 24
_LAST_CAP = 63
_ST_TO_MS = {1: _MS_RDONLY, 2: _MS_NOSUID, 4: _MS_NODEV, 8: _MS_NOEXEC, 1024: _MS_NOATIME,
             2048: _MS_NODIRATIME, 4096: _MS_RELATIME}
DEVICES = ("null", "zero", "full", "random", "urandom")
SCRATCH_FOLDERS = {"tmp": "/tmp", "var-tmp": "/var/tmp", "shm": "/dev/shm"}


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def enc(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    if _libc().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _locked_flags(path: str) -> int:
    """The flags a read-only remount must keep (a user namespace may not clear them)."""
    found = os.statvfs(path).f_flag
    return sum(ms for st, ms in _ST_TO_MS.items() if found & st)


def _bind(source: str, target: str, *, read_only: bool) -> None:
    _mount(source, target, None, _MS_BIND | _MS_REC)
    if read_only:
        flags = _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _locked_flags(source)
        _mount(None, target, None, flags)


def _make_parents(path: str) -> None:
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)


def _mountpoint_for(source: str, target: str) -> None:
    _make_parents(target)
    if os.path.isdir(source):
        os.makedirs(target, mode=0o755, exist_ok=True)
    elif not os.path.exists(target):
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))


def enter(plan: dict[str, Any]) -> None:
    """Build the private root described by `plan` (see `layers.namespace_plan`), move into it
    and into the box folder."""
    new = str(plan["root"])
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    _mount("tmpfs", new, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=1m,mode=0755")
    for link, target in plan["symlinks"].items():
        _make_parents(new + link)
        os.symlink(target, new + link)
    _scratch(new, int(plan["scratch_mb"]))  # first: a folder bound below /tmp goes on top of it
    _devices(new)
    for source in plan["read_only"]:
        _mountpoint_for(source, new + source)
        _bind(source, new + source, read_only=True)
    for hidden in plan["hidden"]:
        _mount("tmpfs", new + hidden, "tmpfs", _MS_NOSUID | _MS_NODEV | _MS_RDONLY,
               "size=4k,mode=0555")
    os.makedirs(new + "/proc", mode=0o555)
    _mount("proc", new + "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    work = str(plan["work"])
    _mountpoint_for(work, new + work)
    _bind(work, new + work, read_only=False)
    _pivot(new)
    _mount(None, "/", None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    os.chdir(work)


def _devices(new: str) -> None:
    os.makedirs(new + "/dev", mode=0o755, exist_ok=True)
    for name in DEVICES:
        _mountpoint_for("/dev/" + name, new + "/dev/" + name)
        _mount("/dev/" + name, new + "/dev/" + name, None, _MS_BIND)
    os.symlink("/proc/self/fd", new + "/dev/fd")
    for number, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{number}", f"{new}/dev/{name}")


def _scratch(new: str, size_mb: int) -> None:
    """One tmpfs of the box's memory size behind /tmp, /var/tmp and /dev/shm: mounted on a
    temporary point, its folders bound in place, the point then detached."""
    point = new + "/.scratch"
    os.makedirs(point, mode=0o700)
    _mount("tmpfs", point, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={size_mb}m,mode=0755")
    for folder, target in SCRATCH_FOLDERS.items():
        os.makedirs(f"{point}/{folder}", mode=0o777)
        os.chmod(f"{point}/{folder}", 0o1777)
        os.makedirs(new + target, mode=0o755, exist_ok=True)
        _mount(f"{point}/{folder}", new + target, None, _MS_BIND)
    if _libc().umount2(point.encode(), _MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), "umount2 of the scratch point failed")
    os.rmdir(point)


def _pivot(new: str) -> None:
    os.chdir(new)
    libc = _libc()
    if libc.syscall(_SYS_PIVOT_ROOT, b".", b".") != 0:
        raise OSError(ctypes.get_errno(), "pivot_root failed")
    if libc.umount2(b".", _MNT_DETACH) != 0:  # the old root, stacked on the new one
        raise OSError(ctypes.get_errno(), "umount2 of the old root failed")
    os.chdir("/")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """No capability left, none to regain by exec (the bounding set is empty too)."""
    libc = _libc()
    for cap in range(_LAST_CAP + 1):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails harmlessly past the kernel's last cap
    header = _CapHeader(_CAP_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.syscall(_SYS_CAPSET, ctypes.byref(header), ctypes.byref(data)) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("CapEff:", "CapPrm:", "CapBnd:")) and int(line.split()[1], 16):
                raise OSError(0, f"capabilities left after the drop: {line.strip()}")
