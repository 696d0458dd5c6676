"""Opening a submission: a directory, a `.zip` of one, a single answers file or a notebook.

Student files are hostile. YAML is read with a restricted safe loader (no tags, no aliases, no
duplicate keys, `yes` stays a string, floats stay the decimals the student wrote); zips are
extracted with limits and no path may leave the submission. A file that cannot be read is not an
exception for the caller: the submission carries `error`, and every question becomes `invalid`.
Jupyter notebooks (`.ipynb`, alone or at a folder's root) are read by `grader.notebooks`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from grader.core.names import escaped, without_surrogates
from grader.parsing.errors import AnswerParseError

if TYPE_CHECKING:
    from grader.notebooks.extract import NotebookProgram

ANSWER_NAMES = ("answers.yaml", "answers.yml", "answers.json", "answers.toml")
ANSWER_SUFFIXES = (".yaml", ".yml", ".json", ".toml")
MAX_ANSWERS_BYTES = 2 * 1024 * 1024
MAX_ZIP_MEMBERS = 2_000
MAX_ZIP_BYTES = 512 * 1024 * 1024
MAX_ZIP_RATIO = 200
MAX_NESTING = 32  # lists and mappings inside each other; answers need a handful
STUDENT_KEY = "student_id"
NOTEBOOK_SUFFIX = ".ipynb"


class SubmissionError(Exception):
    """The submission as a whole cannot be read; the message is for the student."""


@dataclass
class Submission:
    id: str
    source: Path
    root: Path | None
    answers: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    sha256: str = ""
    student_id_given: bool = False  # the answers file set `student_id` (else the id is the name)
    program: NotebookProgram | None = None  # a notebook's code, for code questions
    answer_cells: dict[str, str] = field(default_factory=dict)  # question -> "cell 7 of a2.ipynb"
    notes: dict[str, str] = field(default_factory=dict)  # question -> which of two answers was used
    warnings: list[str] = field(default_factory=list)  # e.g. a notebook ignored beside an answers file

    @property
    def student(self) -> str:
        return self.id

    def resolve_file(self, relative: Any) -> Path:
        """A file named by an answer, refused if it leaves the submission or is not a file."""
        if not isinstance(relative, str) or not relative.strip():
            raise AnswerParseError("your answer should be a file path relative to your submission")
        if self.root is None:
            raise AnswerParseError("this question needs a file, so submit a folder or a zip")
        root = self.root.resolve()
        candidate = (root / relative.strip()).resolve()
        if root not in candidate.parents:
            raise AnswerParseError(f"your answer {relative!r} points outside your submission")
        if not candidate.is_file():
            raise AnswerParseError(f"your answer names {relative!r}, which is not a file in your submission")
        return candidate


# --- the restricted YAML loader -------------------------------------------------------------------


class AnswerLoader(yaml.SafeLoader):
    """Safe YAML with YAML 1.2-like scalars and no aliases or duplicate keys."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's class-level table

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (*name) are not allowed in an answers file", mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain name", key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is answered twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "").lower()
    return Decimal({".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
                   .get(text, text))


AnswerLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
AnswerLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789"))
AnswerLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*\.[0-9_]*|[0-9][0-9_]*(?=[eE]))(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))
AnswerLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                                   ["~", "n", "N", ""])
AnswerLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


# --- reading an answers file ----------------------------------------------------------------------


def read_answers_text(text: str, suffix: str) -> dict[str, Any]:
    """Parse an answers file; `SubmissionError` carries a student-facing message."""
    try:
        data = _parse(text, suffix)
    except RecursionError:
        raise SubmissionError("your answers file is nested too deeply to read") from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SubmissionError(f"your answers file is not valid YAML{where}: {err.problem}") from None
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as err:  # TOMLDecodeError too
        raise SubmissionError(f"your answers file cannot be read: {err}") from None
    if data is None:
        return {}
    if _nesting(data) > MAX_NESTING:
        # checkers, reports and the batch's memo walk answers recursively: refuse what would
        # exhaust Python's stack there (JSON parses a thousand levels)
        raise SubmissionError("your answers file is nested too deeply to read")
    if not isinstance(data, dict):
        from grader.checkers.hints import answers_file_hint

        raise SubmissionError(answers_file_hint())
    # JSON and YAML escapes can write lone surrogates (`"\\udcff"`), which no report could hold
    return {escaped(str(k)): without_surrogates(v) for k, v in data.items()}


def _nesting(data: Any) -> int:
    """How many lists and mappings deep `data` goes (without recursion)."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_NESTING:
                stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _parse(text: str, suffix: str) -> Any:
    if suffix == ".json":
        return json.loads(text, parse_float=Decimal, parse_constant=Decimal,
                          object_pairs_hook=_no_duplicates)
    if suffix == ".toml":
        import tomllib  # only for .toml answers: its regexes cost a check 10 ms

        return tomllib.loads(text, parse_float=Decimal)
    return yaml.load(text, Loader=AnswerLoader)  # safe: AnswerLoader is a restricted SafeLoader


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"{key!r} is answered twice")
        result[key] = value
    return result


def _read_answers_file(path: Path) -> dict[str, Any]:
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise SubmissionError(f"{escaped(path.name)} is not a regular file")
    if info.st_size > MAX_ANSWERS_BYTES:
        raise SubmissionError(
            f"your answers file is {info.st_size:,} bytes; at most {MAX_ANSWERS_BYTES:,} are read")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SubmissionError(f"your answers file is not UTF-8 text (byte {err.start})") from None
    return read_answers_text(text, path.suffix.lower())


# --- opening submissions --------------------------------------------------------------------------


def submission_id(path: Path) -> str:
    """The id a path gives: its name (a file's without extension), escaped when not UTF-8."""
    return escaped(path.stem if path.is_file() else path.name)


@contextmanager
def open_submission(path: Path) -> Iterator[Submission]:
    """Open a submission; a zip is extracted to a temporary folder removed afterwards."""
    temp: Path | None = None
    try:
        if path.is_file() and path.suffix.lower() == ".zip":
            temp = Path(tempfile.mkdtemp(prefix="grader-zip-"))
            yield _from_zip(path, temp)
        elif path.is_dir() and (inner := _lone_zip(path)) is not None:
            temp = Path(tempfile.mkdtemp(prefix="grader-zip-"))
            sub = _from_zip(inner, temp)
            sub.source = path
            if sub.id == inner.stem:  # named after the upload folder, unless the answers file claims an id
                sub.id = submission_id(path)
            yield sub
        elif path.is_dir():
            yield _from_root(path, submission_id(path), path)
        else:
            yield _from_answers_file(path)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def open_notebook(path: Path) -> Submission:
    """One notebook as the student works on it: files it names are found next to it."""
    sub = Submission(id=submission_id(path), source=path, root=path.parent)
    try:
        _set_answers(sub, _with_notebooks(sub, {}, None, [path]))
    except (SubmissionError, OSError) as err:
        sub.error = str(err)
    return sub


def _from_answers_file(path: Path) -> Submission:
    sub = Submission(id=submission_id(path), source=path, root=None)
    try:
        if path.suffix.lower() == NOTEBOOK_SUFFIX:
            answers = _with_notebooks(sub, {}, None, [path])
        elif path.suffix.lower() not in ANSWER_SUFFIXES:
            raise SubmissionError(f"{escaped(path.name)} is not an answers file ({', '.join(ANSWER_NAMES)}) "
                                  "nor a notebook (.ipynb)")
        else:
            answers = _read_answers_file(path)  # checks it is a regular file of a sane size first
        sub.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        _set_answers(sub, answers)
    except (SubmissionError, OSError) as err:
        sub.error = str(err)
    return sub


def _from_root(source: Path, sub_id: str, root: Path) -> Submission:
    root = _descend_single_folder(root)
    sub = Submission(id=sub_id, source=source, root=root)
    try:
        sub.sha256 = tree_sha256(root)
        answers_file = find_answers_file(root)
        notebooks = notebook_files(root)
        if answers_file is None and not notebooks:
            raise SubmissionError(f"no answers file found: add one of {', '.join(ANSWER_NAMES)} "
                                  "or your notebook (.ipynb)")
        answers = _read_answers_file(answers_file) if answers_file is not None else {}
        if notebooks:
            answers = _with_notebooks(sub, answers, answers_file, notebooks)
        _set_answers(sub, answers)
    except (SubmissionError, OSError) as err:
        sub.error = str(err)
    return sub


def _visible_entries(root: Path) -> list[Path]:
    return [e for e in root.iterdir() if not e.name.startswith(("__MACOSX", "."))]


def find_answers_file(root: Path) -> Path | None:
    """`answers.yaml` (or .yml, .json, .toml); else the one answers file under another name
    (`hw2_alice.yaml`), as a batch names a Canvas download's lone answers file."""
    named = next((root / n for n in ANSWER_NAMES if (root / n).exists()), None)
    if named is not None:
        return named
    others = [e for e in _visible_entries(root)
              if e.suffix.lower() in ANSWER_SUFFIXES and e.is_file() and not e.is_symlink()]
    return others[0] if len(others) == 1 else None


def _lone_zip(root: Path) -> Path | None:
    """An upload that is one zip (Gradescope keeps it zipped): the submission is inside it."""
    try:
        entries = _visible_entries(root)
    except OSError:
        return None
    lone = entries[0] if len(entries) == 1 else None
    if lone is not None and lone.suffix.lower() == ".zip" and lone.is_file() and not lone.is_symlink():
        return lone
    return None


def _descend_single_folder(root: Path) -> Path:
    """A zip of a folder holds one folder: the answers live inside it."""
    entries = _visible_entries(root)
    single = len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink()
    if single and not any((root / n).exists() for n in ANSWER_NAMES):
        return entries[0]
    return root


def notebook_files(root: Path) -> list[Path]:
    """The notebooks at a submission's root (Jupyter's checkpoint copies live in a hidden folder)."""
    return sorted(p for p in root.iterdir()
                  if p.suffix.lower() == NOTEBOOK_SUFFIX and not p.name.startswith(".") and not p.is_symlink())


def _with_notebooks(sub: Submission, answers: dict[str, Any], answers_file: Path | None,
                    notebooks: list[Path]) -> dict[str, Any]:
    """The notebooks' answers; where the answers file answers the same question, it wins."""
    from grader.notebooks.reader import NotebookError, read_notebooks

    try:
        found = read_notebooks(notebooks)
    except NotebookError as err:
        if answers_file is None:
            raise SubmissionError(str(err)) from None
        sub.warnings.append(f"{err}; the answers in {answers_file.name} were graded")
        return answers
    sub.program, sub.answer_cells, sub.notes = found.program, found.cells, found.notes
    merged = dict(found.answers)
    for question, value in answers.items():
        if question in merged and answers_file is not None:
            sub.notes[question] = (f"you answer this question in {answers_file.name} and in "
                                   f"{found.cells[question]}; the answer in {answers_file.name} was used")
            sub.answer_cells.pop(question, None)
        merged[question] = value
    return merged


def _set_answers(sub: Submission, answers: dict[str, Any]) -> None:
    student = answers.pop(STUDENT_KEY, None)
    if isinstance(student, str | int) and str(student).strip():
        sub.id = str(student).strip()
        sub.student_id_given = True
    sub.answers = answers


def _from_zip(path: Path, dest: Path) -> Submission:
    sub_id = submission_id(path)
    try:
        extract_zip(path, dest)
    except (SubmissionError, zipfile.BadZipFile, OSError, ValueError) as err:  # ValueError: a name
        return Submission(id=sub_id, source=path, root=None, error=f"your zip cannot be opened: {err}")
    return _from_root(path, sub_id, dest)


def extract_zip(path: Path, dest: Path) -> None:
    """Extract with limits: member count, total size, compression ratio, no escaping paths."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise SubmissionError(f"it has {len(members)} files; at most {MAX_ZIP_MEMBERS}")
        total = sum(m.file_size for m in members)
        if total > MAX_ZIP_BYTES:
            raise SubmissionError(f"it would unpack to {total:,} bytes; at most {MAX_ZIP_BYTES:,}")
        for member in members:
            _extract_member(archive, member, dest)


def _extract_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, dest: Path) -> None:
    name = member.filename
    if name.startswith(("/", "\\")) or ".." in Path(name).parts or ":" in name:
        raise SubmissionError(f"it holds {name!r}, a path that leaves the submission")
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise SubmissionError(f"it holds {name!r}, a symbolic link")
    if member.compress_size and member.file_size / member.compress_size > MAX_ZIP_RATIO:
        raise SubmissionError(f"{name!r} is compressed {member.file_size // member.compress_size}:1, like a zip bomb")
    target = dest / name
    if member.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(member) as src, open(target, "wb") as out:
        copied = 0
        while chunk := src.read(1 << 20):
            copied += len(chunk)
            if copied > member.file_size:
                raise SubmissionError(f"{name!r} is larger than its header says")
            out.write(chunk)


def tree_sha256(root: Path, limit_bytes: int = MAX_ZIP_BYTES) -> str:
    """A digest of every regular file below root (names and contents); links are not followed."""
    digest = hashlib.sha256()
    budget = limit_bytes
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        digest.update(os.fsencode(relative) + b"\0")  # a name's bytes, UTF-8 or not
        with open(path, "rb") as handle:
            while budget > 0 and (chunk := handle.read(min(1 << 20, budget))):
                budget -= len(chunk)
                digest.update(chunk)
    return digest.hexdigest()
