"""One student's page, `OUTDIR/students/<report>.html`, linked from the class summary: the
feedback the student sees, question by question, and for the TA the answer as typed, the
reference, the known mistake recognised and any override. Self-contained like the summary (inline
CSS, no script, no external asset); every student-supplied text is escaped.
"""

from __future__ import annotations

from html import escape

from grader.batch.summary import BASE_CSS, mistake_feedback, typed_answer
from grader.core.report import QuestionResult, Report, Status
from grader.core.rubric import Rubric

_PAGE_CSS = "".join([
    BASE_CSS,
    '.q{border:1px solid #e6e9ef;border-radius:8px;padding:.6rem 1rem;margin:.8rem 0}',
    '.q h3{margin:0 0 .3rem;font-size:1.05rem;display:flex;justify-content:space-between;gap:1rem}',
    '.q dl{display:grid;grid-template-columns:11rem 1fr;gap:.2rem .8rem;margin:.4rem 0 0}',
    '.q dt{color:#5a6275}.q dd{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}',
    '.ta{background:#fbf8ee;border-radius:6px;padding:.3rem .6rem;margin-top:.5rem}',
    '.ta b{font-size:.8rem;color:#7a5b00;text-transform:uppercase;letter-spacing:.04em}',
    '.s-correct{color:#1e7a46}.s-partial{color:#a15c00}.s-manual{color:#5a6275}',
])


def _points(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _row(label: str, value: str | None, code: bool = False) -> str:
    if value is None or value == "":
        return ""
    shown = f"<code>{escape(value)}</code>" if code else escape(value)
    return f"<dt>{escape(label)}</dt><dd>{shown}</dd>"


def _student_part(q: QuestionResult) -> str:
    typed = typed_answer(q)
    answer = typed if typed is not None else q.answer
    pending = q.status is Status.MANUAL and q.override is None
    feedback = "graded by a person: not graded yet" if pending else q.feedback
    rows = [_row("answer as typed", answer, code=True)]
    if typed is not None and q.answer is not None:
        rows.append(_row("as the grader read it", q.answer, code=True))
    rows.append(_row("feedback", feedback))
    if q.override is not None:
        rows.append(_row("TA's comment", q.override.comment))
    return "<dl>" + "".join(rows) + "</dl>"


def _ta_part(q: QuestionResult, rubric: Rubric) -> str:
    names = mistake_feedback(rubric.question(q.id)) if q.id in {x.id for x in rubric.questions} else {}
    rows = [_row("reference", q.expected, code=True)]
    if q.mistake:
        rows.append(_row("known mistake", f"{names.get(q.mistake, q.feedback or q.mistake)} ({q.mistake})"))
    if q.automatic is not None:
        rows.append(_row("the grader's verdict", f"{q.automatic.status.value}, {_points(q.automatic.score)} points"))
    if q.override is not None and q.override.source:
        rows.append(_row("override from", q.override.source))
    body = "".join(r for r in rows if r)
    return f'<div class="ta"><b>for the TA</b><dl>{body}</dl></div>' if body else ""


def _question(q: QuestionResult, rubric: Rubric) -> str:
    title = next((x.title for x in rubric.questions if x.id == q.id and x.title), None)
    tags = ('<span class="tag">hidden until published</span>' if q.hidden else "")
    status = "pending" if q.status is Status.MANUAL and q.override is None else q.status.value
    score = (f"– / {_points(q.max_score)}" if status == "pending"
             else f"{_points(q.score)} / {_points(q.max_score)}")
    return (f'<section class="q"><h3><span>{escape(title or q.id)} <code>{escape(q.id)}</code> {tags}</span>'
            f'<span class="s-{escape(q.status.value)}">{escape(status)} · {score}</span></h3>'
            f"{_student_part(q)}{_ta_part(q, rubric)}</section>")


def render_student_page(report: Report, rubric: Rubric, summary_href: str = "../summary.html") -> str:
    pending = sum(q.max_score for q in report.questions if q.status is Status.MANUAL and q.override is None)
    facts = [f"{_points(report.score)} / {_points(report.max_score)} points"]
    if pending:
        facts.append(f"{_points(pending)} points graded by a person, pending")
    if report.source is not None and report.source.late:
        facts.append("late")
    notes = [f'<p class="bad">grading failed: {escape(report.failure)}</p>'] if report.failure else []
    notes += [f'<p class="bad">warning: {escape(w)}</p>' for w in report.warnings]
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(report.submission)}: {escape(report.assignment)}</title><style>{_PAGE_CSS}</style>"
        "</head><body>",
        f'<p class="sub"><a href="{escape(summary_href, quote=True)}">class summary</a></p>',
        f"<h1>{escape(report.submission)}</h1>",
        f'<p class="sub">{escape(report.assignment)} · {escape(" · ".join(facts))}</p>',
        *notes,
        *(_question(q, rubric) for q in report.questions),
        "</body></html>",
    ]) + "\n"
