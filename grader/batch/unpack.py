"""A whole LMS download given as one `.zip` (Canvas's `submissions.zip`, Gradescope's export):
unpacked once into OUTDIR/.inputs, safely, and unpacked again only when the zip changes."""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from grader.batch.discover import file_sha256

INPUTS_DIR = ".inputs"
MAX_MEMBERS = 200_000
MAX_BYTES = 16 * 1024**3
MAX_RATIO = 200


class UnpackError(Exception):
    """The download cannot be unpacked; the message says why."""


def unpack_download(archive: Path, outdir: Path) -> Path:
    """The folder the archive unpacks to (reused while the archive's sha256 is the same)."""
    digest = file_sha256(archive)
    target = outdir / INPUTS_DIR / archive.stem
    marker = outdir / INPUTS_DIR / f"{archive.stem}.sha256"
    if target.is_dir() and marker.is_file() and marker.read_text().strip() == digest:
        return target
    shutil.rmtree(target, ignore_errors=True)
    marker.unlink(missing_ok=True)
    target.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as zipped:
            _extract(zipped, target)
    except (zipfile.BadZipFile, OSError, ValueError) as err:  # ValueError: a name flagged UTF-8 that is not
        shutil.rmtree(target, ignore_errors=True)
        raise UnpackError(f"{archive} cannot be unpacked: {err}") from None
    except UnpackError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    marker.write_text(digest + "\n")
    return target


def _extract(zipped: zipfile.ZipFile, target: Path) -> None:
    members = zipped.infolist()
    if len(members) > MAX_MEMBERS:
        raise UnpackError(f"it holds {len(members):,} files; at most {MAX_MEMBERS:,} are unpacked")
    if sum(m.file_size for m in members) > MAX_BYTES:
        raise UnpackError(f"it would unpack to more than {MAX_BYTES:,} bytes")
    for member in members:
        parts = PurePosixPath(member.filename.replace("\\", "/")).parts
        if member.filename.startswith(("/", "\\")) or ".." in parts or any(":" in p for p in parts):
            raise UnpackError(f"it holds {member.filename!r}, a path that leaves the folder")
        if stat.S_ISLNK(member.external_attr >> 16):
            continue  # a link in a download is never a submission's file
        if member.compress_size and member.file_size / member.compress_size > MAX_RATIO:
            raise UnpackError(f"{member.filename!r} is compressed like a zip bomb")
        destination = target.joinpath(*parts)
        if member.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        with zipped.open(member) as source, open(destination, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
