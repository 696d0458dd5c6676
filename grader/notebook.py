"""The self-check inside a Jupyter notebook.

    from grader.notebook import Checker
    check = Checker("csc420-a2")          # a built-in name or a rubric file
    check("q3_flops_no_bias")             # one question
    check.all()                           # every visible question, as a table

A check reads the notebook **as saved on disk**, never the kernel's variables: the saved file is
what the student hands in and what `grader batch` grades, so the check sees exactly that (save
first; the result says when the file was saved). It takes the self-check path of `grader check`:
the same opening, grading and sandbox (code questions run boxed, exactly as there), and the same
rule that hidden questions are counted, never shown; whatever policy that path applies, a check
here inherits. The result displays as HTML in Jupyter and as `grader check`'s text elsewhere.

Which notebook: the `notebook=` argument, else the one Jupyter names for this kernel
(`JPY_SESSION_NAME`, or VS Code's `__vsc_ipynb_file__`), else the only `.ipynb` in the working
folder. Which assignment: each loader in `_LOADERS` tries the argument in turn: a student
bundle (folder or zip: its `self_check` policies decide what a check shows), a built-in name, a
rubric file.
"""

from __future__ import annotations

import html
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.core.report import QuestionResult, Report, Status
from grader.core.rubric import LoadedRubric
from grader.student.feedback import (
    judged_questions,
    points,
    render_check,
    shown_questions,
    shown_score,
    status_label,
    totals,
)

__all__ = ["CheckResult", "Checker", "CheckerError"]


class CheckerError(ValueError):
    """The checker cannot start: unknown assignment, no notebook to read."""


def _builtin_or_rubric(spec: str) -> LoadedRubric | None:
    from grader.core.builtins import resolve_assignment
    from grader.core.rubric import RubricError, load_rubric

    try:
        path = resolve_assignment(spec)
    except FileNotFoundError:
        return None
    try:
        return load_rubric(path)
    except RubricError as err:
        raise CheckerError("the rubric is broken:\n" + "\n".join(err.problems)) from None


def _student_bundle(spec: str) -> LoadedRubric | None:
    """A student bundle (`grader student-bundle`): its self-check policy is what a check shows."""
    from grader.core.rubric import RubricError, load_rubric
    from grader.student.bundle_files import bundle_rubric_path

    path = bundle_rubric_path(spec)
    if path is None:
        return None
    try:
        return load_rubric(path)
    except RubricError as err:
        raise CheckerError("the student bundle is broken:\n" + "\n".join(err.problems)) from None


_LOADERS: list[Callable[[str], LoadedRubric | None]] = [_student_bundle, _builtin_or_rubric]


def load_for_self_check(spec: str) -> LoadedRubric:
    for loader in _LOADERS:
        loaded = loader(spec)
        if loaded is not None:
            return loaded
    from grader.core.builtins import builtin_names

    raise CheckerError(f"unknown assignment {spec!r}: not a built-in ({', '.join(builtin_names())}) "
                       "nor a rubric file")


class Checker:
    """`check = Checker("csc420-a2")`, then `check("q3_flops_no_bias")` or `check.all()`."""

    def __init__(self, assignment: str | os.PathLike[str], notebook: str | os.PathLike[str] | None = None) -> None:
        self.loaded = load_for_self_check(os.fspath(assignment))
        self._notebook = Path(notebook) if notebook is not None else None

    @property
    def notebook(self) -> Path:
        return self._notebook if self._notebook is not None else find_notebook()

    @property
    def questions(self) -> list[str]:
        return [q.id for q in self.loaded.rubric.questions]

    def __call__(self, question_id: str) -> CheckResult:
        rubric = self.loaded.rubric
        try:
            question = rubric.question(question_id)
        except KeyError:
            raise CheckerError(f"{rubric.assignment} has no question {question_id!r}; its questions are "
                               f"{', '.join(self.questions)}") from None
        if question.hidden:
            return self._result(rubric.model_copy(update={"questions": []}), hidden=1)
        return self._result(rubric.model_copy(update={"questions": [question]}))

    def all(self) -> CheckResult:
        return self._result(self.loaded.rubric)

    def _result(self, rubric: object, hidden: int = 0) -> CheckResult:
        from grader.core.grading import grade_submission
        from grader.core.submission import open_notebook

        path = self.notebook
        if not path.is_file():
            raise CheckerError(f"{path} does not exist: save the notebook, or give Checker(..., notebook=...)")
        saved = time.strftime("%H:%M:%S", time.localtime(path.stat().st_mtime))
        partial = LoadedRubric(rubric, self.loaded.path, self.loaded.sha256)  # type: ignore[arg-type]
        sub = open_notebook(path)
        report = grade_submission(partial, sub)
        if len(partial.rubric.questions) < len(self.loaded.rubric.questions):
            # one question checked: the others' answers are not "for questions it does not have"
            report.warnings = [w for w in report.warnings if not w.startswith("answers for questions")]
        return CheckResult(report, path, saved, extra_hidden=hidden)


def find_notebook(cwd: Path | None = None) -> Path:
    """The notebook this kernel runs, as far as Jupyter tells, else the only one in the folder."""
    folder = cwd or Path.cwd()
    named = os.environ.get("JPY_SESSION_NAME", "")  # may be relative to the server's root folder
    for candidate in (Path(named), folder / Path(named).name) if named.endswith(".ipynb") else ():
        if candidate.is_file():
            return candidate
    main = sys.modules.get("__main__")
    vscode = getattr(main, "__vsc_ipynb_file__", None)
    if isinstance(vscode, str) and Path(vscode).is_file():
        return Path(vscode)
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if len(found) == 1:
        return found[0]
    where = "no notebook" if not found else f"{len(found)} notebooks"
    raise CheckerError(f"{where} in {folder}: say which one, e.g. Checker(..., notebook=\"homework.ipynb\")")


_COLOURS = {
    Status.CORRECT: "#1a7f37", Status.PARTIAL: "#9a6700", Status.INCORRECT: "#cf222e",
    Status.MISSING: "#cf222e", Status.INVALID: "#8250df", Status.ERROR: "#8250df", Status.MANUAL: "#0969da",
}
_MARKS = {
    Status.CORRECT: "✓", Status.PARTIAL: "~", Status.INCORRECT: "✗", Status.MISSING: "·",
    Status.INVALID: "!", Status.ERROR: "!", Status.MANUAL: "?",
}


@dataclass
class CheckResult:
    """A check's verdicts: HTML in Jupyter, `grader check`'s text elsewhere."""

    report: Report
    notebook: Path
    saved_at: str
    extra_hidden: int = 0  # a hidden question asked for by name: counted, not graded here

    @property
    def visible(self) -> list[QuestionResult]:
        return shown_questions(self.report)

    @property
    def hidden(self) -> int:
        return len(self.report.questions) - len(self.visible) + self.extra_hidden

    def __repr__(self) -> str:
        return self.text()

    def text(self) -> str:
        body = render_check(self.report) if self.report.questions else ""
        hidden = "" if not self.extra_hidden else "this question is hidden: it is graded after the deadline"
        head = f"(read {self.notebook.name} as saved at {self.saved_at})"
        return "\n".join(part for part in (body, hidden, head) if part)

    def _repr_html_(self) -> str:
        rows = "".join(_html_row(q) for q in self.visible)
        notes = [f"Read <code>{html.escape(self.notebook.name)}</code> as saved at {self.saved_at}."]
        if len(self.visible) > 1:
            first, *rest = totals(judged_questions(self.visible))
            notes[:0] = [f"<b>{html.escape(first)}</b>", *map(html.escape, rest)]
        if self.hidden:
            notes.append(f"{self.hidden} hidden question(s) are graded after the deadline and not shown here.")
        notes += [f"warning: {html.escape(w)}" for w in self.report.warnings]
        table = (f'<table class="grader-check"><thead><tr><th></th><th>question</th><th>points</th>'
                 f"<th>status</th><th>feedback</th></tr></thead><tbody>{rows}</tbody></table>") if rows else ""
        return f'<div class="grader-check">{table}<p>{"<br>".join(notes)}</p></div>'


def _html_row(q: QuestionResult) -> str:
    colour = _COLOURS[q.status]
    return (f'<tr style="color:{colour}"><td>{_MARKS[q.status]}</td><td><code>{html.escape(q.id)}</code></td>'
            f"<td>{shown_score(q)} / {points(q.max_score)}</td><td>{html.escape(status_label(q))}</td>"
            f'<td style="text-align:left">{html.escape(q.feedback)}</td></tr>')
