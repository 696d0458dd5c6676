"""Where a student bundle's files are: light enough for every command to ask whether its
ASSIGNMENT is a bundle (the writing of bundles is in grader/student/bundle.py)."""

from __future__ import annotations

from pathlib import Path

MANIFEST = "grader-bundle.json"
RUBRIC = "rubric.json"


def bundle_rubric_path(assignment: str) -> Path | None:
    """The reduced rubric of a bundle folder or zip named by ASSIGNMENT, else None."""
    path = Path(assignment)
    if path.is_dir() and (path / MANIFEST).is_file():
        return path / RUBRIC
    if path.suffix != ".zip" or not path.is_file():
        return None
    import zipfile  # only for a zip: a built-in name or a rubric file never pays for it

    return _unpack_rubric(path) if zipfile.is_zipfile(path) else None


def _unpack_rubric(path: Path) -> Path | None:
    import atexit
    import shutil
    import tempfile
    import zipfile

    with zipfile.ZipFile(path) as archive:
        names = {Path(n).name: n for n in archive.namelist() if Path(n).name in (MANIFEST, RUBRIC)}
        if set(names) != {MANIFEST, RUBRIC}:
            return None
        folder = Path(tempfile.mkdtemp(prefix="grader-bundle-"))
        atexit.register(shutil.rmtree, folder, True)
        for name, member in names.items():
            if archive.getinfo(member).file_size > 50_000_000:
                shutil.rmtree(folder)
                return None
            (folder / name).write_bytes(archive.read(member))
    return folder / RUBRIC
