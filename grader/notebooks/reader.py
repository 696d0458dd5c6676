"""Reading a submitted notebook's answers with nbformat; nothing in it is ever executed.

An answer cell is marked by a cell tag `answer:<question id>` or by its first line,
`# answer: <question id>` (or `<!-- answer: <question id> -->` in a Markdown cell); when the two
disagree the visible first line wins. A Markdown cell's answer is its text (free text, formulas
with `$...$`); a code cell's answer is one Python literal read by `literals` (numbers, strings,
lists, mappings), or the text of any other single expression, which the question then reads
with its own safe parser; a code cell with definitions answers a code question.
"""

from __future__ import annotations

import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.core.report import Status
from grader.notebooks.extract import NotebookProgram, python_source
from grader.notebooks.literals import CODE, EMPTY, LiteralError, cell_value
from grader.notebooks.values import CellVerdict, NotebookCode

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024  # outputs (plots) make notebooks large; answers are small
MAX_CELLS = 10_000
MAX_ANSWER_CHARS = 200_000
ANSWER_TAG = "answer:"
_MARKER = re.compile(r"^\s*(?:#+|<!--)\s*answer\s*:\s*([A-Za-z0-9_.-]+)\s*(?:-->)?\s*$", re.IGNORECASE)
PLACEHOLDER = "_Write your answer here._"  # the template's text in a Markdown answer cell
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


class NotebookError(Exception):
    """The notebook as a whole cannot be read; the message is for the student."""


@dataclass(frozen=True)
class Cell:
    number: int  # counted from 1 at the top of the notebook
    kind: str  # code, markdown or raw
    source: str | None  # None: the cell's source is not text
    tags: tuple[str, ...] = ()


@dataclass
class NotebookAnswers:
    """Answers read from one or more notebooks, with where each came from."""

    answers: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)  # question -> "cell 7 of a2.ipynb"
    notes: dict[str, str] = field(default_factory=dict)  # question -> which of several was used
    program: NotebookProgram | None = None


# --- the notebook file ----------------------------------------------------------------------------


def read_cells(path: Path) -> list[Cell]:
    """The notebook's cells; `NotebookError` says why the file cannot be read."""
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise NotebookError(f"{path.name} is not a regular file")
    if info.st_size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"your notebook {path.name} is {info.st_size:,} bytes; at most "
                            f"{MAX_NOTEBOOK_BYTES:,} are read: clear its outputs and save it again")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise NotebookError(f"your notebook {path.name} is not UTF-8 text (byte {err.start})") from None
    return _cells(_parse(text, path.name))


def _parse(text: str, name: str) -> Any:
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about missing cell ids
            # no schema validation: a notebook the schema rejects (a stray field) may still hold
            # readable answers, and every cell is checked below
            return nbformat.convert(nbformat.reader.reads(text), 4)  # type: ignore[no-untyped-call]
    except RecursionError:
        raise NotebookError(f"your notebook {name} is nested too deeply to read") from None
    except Exception as err:  # nbformat raises many kinds for hostile JSON; all mean unreadable
        raise NotebookError(f"your notebook {name} cannot be read: {_shorten(str(err))}; "
                            "open it in Jupyter and save it again") from None


def _cells(nb: Any) -> list[Cell]:
    raw_cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(raw_cells, list):
        raise NotebookError("your notebook has no list of cells")
    if len(raw_cells) > MAX_CELLS:
        raise NotebookError(f"your notebook has {len(raw_cells):,} cells; at most {MAX_CELLS:,} are read")
    return [_cell(number, raw) for number, raw in enumerate(raw_cells, start=1)]


def _cell(number: int, raw: Any) -> Cell:
    if not isinstance(raw, dict):
        return Cell(number, "unknown", None)
    source = raw.get("source")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        source = "".join(source)
    metadata = raw.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    tag_list = tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()
    kind = raw.get("cell_type")
    return Cell(number, kind if isinstance(kind, str) else "unknown",
                source if isinstance(source, str) else None, tag_list)


# --- answers --------------------------------------------------------------------------------------


def read_notebooks(paths: list[Path]) -> NotebookAnswers:
    """Every marked answer of the notebooks, in order; several answers to one question: the last
    one with content is used, and `notes` says so."""
    found: dict[str, list[tuple[str, Any]]] = {}
    programs = []
    for path in paths:
        cells = read_cells(path)
        programs.append(NotebookProgram.from_cells(path.name, cells))
        for cell in cells:
            question = marked_question(cell)
            if question is not None:
                found.setdefault(question, []).append((f"cell {cell.number} of {path.name}",
                                                       answer_of(cell, programs[-1])))
    result = NotebookAnswers(program=NotebookProgram.merged(programs))
    for question, candidates in found.items():
        _choose(question, candidates, result)
    return result


def _choose(question: str, candidates: list[tuple[str, Any]], result: NotebookAnswers) -> None:
    filled = [(where, value) for where, value in candidates if value is not EMPTY]
    if not filled:
        result.cells[question] = candidates[-1][0]
        return
    where, value = filled[-1]
    result.answers[question] = value
    result.cells[question] = where
    if len(filled) > 1:
        others = ", ".join(w for w, _ in filled[:-1])
        result.notes[question] = (f"your notebook answers this question in several cells; {where} "
                                  f"(the last) was used, not {others}")


def marked_question(cell: Cell) -> str | None:
    """The question a cell answers: its first line's marker, else its `answer:` tag."""
    if cell.source is not None:
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        match = _MARKER.match(first)
        if match:
            return match.group(1)
    for tag in cell.tags:
        if tag.lower().startswith(ANSWER_TAG) and tag[len(ANSWER_TAG):].strip():
            return tag[len(ANSWER_TAG):].strip()
    return None


def answer_of(cell: Cell, program: NotebookProgram) -> Any:
    """The cell's answer: a value, EMPTY, code for a code question, or the verdict on a cell that
    cannot be read."""
    where = f"cell {cell.number} of {program.notebook}"
    if cell.source is None:
        return CellVerdict(Status.INVALID, f"your answer in {where} cannot be read: the cell holds no "
                           "text; delete it and write the answer in a new cell", cell.number)
    body = _without_marker(cell.source)
    if len(body) > MAX_ANSWER_CHARS:
        return CellVerdict(Status.INVALID, f"your answer in {where} is {len(body):,} characters long; "
                           "write just the answer", cell.number)
    if cell.kind != "code":
        text = _HTML_COMMENT.sub("", body).replace(PLACEHOLDER, "").strip()
        return text if text else EMPTY
    try:
        value = cell_value(python_source(body))
    except LiteralError as err:
        return CellVerdict(Status.INVALID, f"your answer in {where} cannot be read: {err}", cell.number,
                           answer=_shorten(body.strip()))
    if value is CODE:
        return NotebookCode(program, cell.number)
    return value


def _without_marker(source: str) -> str:
    lines = source.splitlines()
    for index, line in enumerate(lines):
        if line.strip():
            return "\n".join(lines[index + 1:]) if _MARKER.match(line) else source
    return source


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
