"""Where the built-in rubrics live, and resolving an ASSIGNMENT argument (cheap: no models)."""

from __future__ import annotations

import re
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # grader/


def rubrics_dir() -> Path:
    """`grader/_rubrics` in an installed wheel (pyproject's force-include), else the checkout's `rubrics/`."""
    packaged = _PACKAGE / "_rubrics"
    return packaged if packaged.is_dir() else _PACKAGE.parent / "rubrics"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in rubrics_dir().glob("*.yaml"))


def resolve_assignment(name_or_path: str) -> Path:
    """A built-in name or a rubric file path; `FileNotFoundError` lists the built-ins."""
    builtin = rubrics_dir() / f"{name_or_path}.yaml"
    if builtin.is_file():
        return builtin
    path = Path(name_or_path)
    if path.is_file():
        return path
    raise FileNotFoundError(
        f"unknown assignment {name_or_path!r}: not a built-in ({', '.join(builtin_names())}) "
        "nor a rubric file"
    )



_WORKER_KINDS = re.compile(r"kind:\s*[\"']?(?:matrix_)?expression\b")
_EXTENDS = re.compile(r"^extends:\s*[\"']?([^\s\"'#]+)", re.MULTILINE)


def uses_math_worker(path: Path, depth: int = 0) -> bool:
    """Whether a rubric (or one it extends) has expression questions, read from its text alone,
    so that the math worker can start before the rubric's models are even imported."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    if _WORKER_KINDS.search(text):
        return True
    base = _EXTENDS.search(text)
    if base is None or depth > 3:
        return False
    local = path.parent / base.group(1)
    try:
        return uses_math_worker(local if local.is_file() else resolve_assignment(base.group(1)), depth + 1)
    except FileNotFoundError:
        return False
