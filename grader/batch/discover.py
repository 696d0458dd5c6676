"""Finding the submissions under a batch root.

Three layouts, possibly mixed in one root:

- plain: every subdirectory, `.zip`, answers file (`.yaml`, `.yml`, `.json`, `.toml`) or notebook
  (`.ipynb`) is one submission;
- Canvas's bulk download: flat files named `name_userid_submissionid_filename` (late ones
  `name_LATE_userid_submissionid_filename`); a student's files are gathered into one submission;
- Gradescope's export: `submission_metadata.yml` next to one `submission_<n>/` folder per
  submission, the metadata naming the submitters.

Every submission gets a stable key (its path, or the LMS's user id) and the sha256 of its files as
found, which is what decides whether a report is still up to date. A name whose bytes are not
UTF-8 is carried as escaped text (`a0-14-\\xff.yaml`) in keys, ids and messages.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from grader.core.names import escaped
from grader.core.report import SubmissionSource
from grader.core.submission import ANSWER_NAMES, ANSWER_SUFFIXES, NOTEBOOK_SUFFIX, tree_sha256

GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_METADATA_BYTES = 16 * 1024 * 1024

_CANVAS_NAME = re.compile(
    r"^(?P<name>[^_]+)_(?:(?P<late>late)_)?(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$",
    re.IGNORECASE,
)
_CANVAS_COPY_SUFFIX = re.compile(r"^(?P<stem>answers)-\d+(?P<suffix>\.[A-Za-z]+)$", re.IGNORECASE)
_SKIPPED_NAMES = ("__MACOSX", "Thumbs.db", "desktop.ini")
_SINGLE_FILE_SUFFIXES = (".zip", NOTEBOOK_SUFFIX, *ANSWER_SUFFIXES)  # graded as is


@dataclass(frozen=True)
class StagedFile:
    """A file to copy into the folder a submission is graded from."""

    source: Path
    name: str


@dataclass(frozen=True)
class Discovered:
    """One submission to grade: a path graded as is, or files gathered into a folder first."""

    key: str
    default_id: str
    source: SubmissionSource
    path: Path | None = None
    files: tuple[StagedFile, ...] = ()

    @property
    def sha256(self) -> str:
        return self.source.sha256


@dataclass
class Discovery:
    items: list[Discovered] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def discover(root: Path, *, exclude: tuple[Path, ...] = ()) -> Discovery:
    """Every submission under root, sorted by key; `ignored` says what was left out and why."""
    root = _export_root(root)
    excluded = {p.resolve() for p in exclude}
    found = Discovery()
    entries = [e for e in sorted(root.iterdir()) if e.resolve() not in excluded]
    metadata = root / GRADESCOPE_METADATA
    if metadata.is_file():
        entries = _gradescope(root, metadata, entries, found)
    canvas: dict[str, list[tuple[re.Match[str], Path]]] = {}
    for entry in entries:
        with _unreadable(entry.name, found):
            _classify(entry, root, canvas, found)
    for user, files in canvas.items():
        with _unreadable(f"canvas:{user}", found):
            found.items.append(_canvas_group(user, files))
    found.items.sort(key=lambda item: item.key)
    return found


@contextmanager
def _unreadable(name: str, found: Discovery) -> Iterator[None]:
    """An entry the grader cannot read (a file unzipped with mode 000, a folder it may not list)
    is an `ignored` line, never the end of the batch."""
    try:
        yield
    except OSError as err:
        found.ignored.append(f"{escaped(name)}: cannot be read ({err.strerror or type(err).__name__})")


def _export_root(root: Path) -> Path:
    """An LMS export unzipped into one folder: descend into it when it holds the metadata."""
    entries = [e for e in root.iterdir() if not e.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / GRADESCOPE_METADATA).is_file():
        return entries[0]
    return root


def _kind(path: Path) -> str:
    """'dir', 'file' or 'other' (links followed; FIFOs, sockets and devices are 'other')."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return "other"
    return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"


def _classify(
    entry: Path, root: Path, canvas: dict[str, list[tuple[re.Match[str], Path]]], found: Discovery
) -> None:
    name = escaped(entry.name)
    if name.startswith(".") or name in _SKIPPED_NAMES:
        return
    kind = _kind(entry)
    if kind == "other":
        found.ignored.append(f"{name}: not a regular file or folder")
        return
    if kind == "file" and (match := _CANVAS_NAME.match(name)) is not None:
        canvas.setdefault(match.group("user"), []).append((match, entry))
        return
    if kind == "dir":
        found.items.append(_plain(entry, root, tree_sha256(entry)))
    elif entry.suffix.lower() in _SINGLE_FILE_SUFFIXES:
        found.items.append(_plain(entry, root, file_sha256(entry)))
    else:
        found.ignored.append(f"{name}: not a folder, a .zip, an answers file or a notebook")


def _plain(entry: Path, root: Path, digest: str) -> Discovered:
    key = escaped(entry.relative_to(root).as_posix())
    default_id = escaped(entry.name if entry.is_dir() else entry.stem)
    return Discovered(key=key, default_id=default_id, path=entry,
                      source=SubmissionSource(path=key, default_id=default_id, sha256=digest))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- Canvas ---------------------------------------------------------------------------------------


def _canvas_group(user: str, files: list[tuple[re.Match[str], Path]]) -> Discovered:
    first = files[0][0]
    names = _restore_names([m.group("file") for m, _ in files])
    staged = tuple(StagedFile(path, restored) for (_, path), restored in zip(files, names, strict=True))
    digest = hashlib.sha256()
    for item in sorted(staged, key=lambda s: s.name):
        digest.update(os.fsencode(item.name) + b"\0" + file_sha256(item.source).encode() + b"\0")
    default_id = escaped(f"{first.group('name')}_{user}")
    source = SubmissionSource(
        path=f"canvas:{user}", default_id=default_id, sha256="canvas:" + digest.hexdigest(),
        layout="canvas", lms_user_id=user, lms_submission_id=first.group("submission"),
        name=escaped(first.group("name")), late=any(m.group("late") for m, _ in files),
    )
    lone = staged[0].source if len(staged) == 1 else None
    graded_as_is = lone is not None and lone.suffix.lower() in _SINGLE_FILE_SUFFIXES
    return Discovered(
        key=source.path, default_id=default_id, source=source,
        path=lone if graded_as_is else None, files=() if graded_as_is else staged,
    )


def _restore_names(names: list[str]) -> list[str]:
    """Canvas appends `-1`, `-2` to re-uploaded files, and students name answers files freely:
    give the one answers file its contract name when the student's files hold no `answers.*`."""
    if any(n.lower() in ANSWER_NAMES for n in names):
        return names
    candidates = [i for i, n in enumerate(names) if Path(n).suffix.lower() in ANSWER_SUFFIXES]
    if len(candidates) != 1:
        return names
    index = candidates[0]
    restored = list(names)
    copy = _CANVAS_COPY_SUFFIX.match(names[index])
    suffix = copy.group("suffix") if copy else Path(names[index]).suffix
    restored[index] = "answers" + suffix.lower()
    return restored


# --- Gradescope -----------------------------------------------------------------------------------


class _MetadataLoader(yaml.SafeLoader):
    """Gradescope writes Ruby YAML: unknown tags (`!ruby/object:BigDecimal`) read as plain data."""


def _construct_tagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_MetadataLoader.add_multi_constructor("!", _construct_tagged)
_MetadataLoader.add_multi_constructor("tag:", _construct_tagged)


def read_gradescope_metadata(path: Path) -> dict[str, list[dict[str, str]]]:
    """Folder name -> its submitters (name, sid, email), from the export's metadata file."""
    if path.stat().st_size > MAX_METADATA_BYTES:
        raise ValueError(f"{path} is larger than {MAX_METADATA_BYTES:,} bytes")
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_MetadataLoader)  # safe: a SafeLoader
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of submission folders")
    result = {}
    for folder, record in data.items():
        submitters = record.get(":submitters") if isinstance(record, dict) else None
        people = [
            {key.lstrip(":"): str(value) for key, value in person.items() if value is not None}
            for person in (submitters if isinstance(submitters, list) else []) if isinstance(person, dict)
        ]
        result[str(folder)] = people
    return result


def _gradescope(root: Path, metadata: Path, entries: list[Path], found: Discovery) -> list[Path]:
    """Add the folders the metadata names; return the entries left for the other layouts."""
    try:
        records = read_gradescope_metadata(metadata)
    except (ValueError, OSError, yaml.YAMLError) as err:
        found.ignored.append(f"{GRADESCOPE_METADATA}: cannot be read ({err}); its folders are graded as plain ones")
        return [e for e in entries if e.name != GRADESCOPE_METADATA]
    rest = []
    for entry in entries:
        if entry.name == GRADESCOPE_METADATA:
            continue
        people = records.get(entry.name)
        if people is None or _kind(entry) != "dir":
            rest.append(entry)
            continue
        with _unreadable(entry.name, found):
            found.items.append(_gradescope_item(entry, people))
    for folder in sorted(set(records) - {e.name for e in entries}):
        found.ignored.append(f"{escaped(folder)}: named in {GRADESCOPE_METADATA} but has no folder")
    return rest


def _gradescope_item(folder: Path, people: list[dict[str, str]]) -> Discovered:
    first = people[0] if people else {}
    name = escaped(folder.name)
    default_id = first.get("sid") or (first.get("email") or "").split("@")[0] or name
    source = SubmissionSource(
        path=f"gradescope:{name}", default_id=default_id, sha256=tree_sha256(folder), layout="gradescope",
        lms_submission_id=name.removeprefix("submission_"),
        name=first.get("name"), email=first.get("email"), sid=first.get("sid"),
    )
    return Discovered(key=source.path, default_id=default_id, source=source, path=folder)
