"""How the class did: `summary.json` (pydantic) and `summary.html`, one self-contained page (inline
CSS and SVG, no script, no external asset) with the score histogram, a per-question bar chart (by
title; questions a person grades shown as pending until graded, not as 0 %), the common mistakes
(answers as typed, the normalised form beside them, known mistakes by the feedback students read)
and a link to every student's page (grader/batch/student_page.py). Student text is escaped everywhere.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from html import escape
from pathlib import Path
from urllib.parse import quote

from pydantic import BaseModel, Field

from grader import __version__
from grader.batch.groups import group_answers
from grader.batch.identity import standings_of
from grader.core.names import for_terminal
from grader.core.report import QuestionResult, Report, Status
from grader.core.rubric import Rubric

HISTOGRAM_BINS = 10  # about this many bins, of a width that reads well (1, 2, 2.5, 5 times a power of 10)
_NICE_WIDTHS = (1.0, 2.0, 2.5, 5.0, 10.0)
TOP_WRONG = 5
STUDENTS_DIR = "students"
WRONG = {Status.INCORRECT, Status.PARTIAL, Status.INVALID}


class ScoreStats(BaseModel):
    count: int
    max_score: float
    mean: float | None = None
    median: float | None = None
    stdev: float | None = None
    min: float | None = None
    max: float | None = None


class Histogram(BaseModel):
    edges: list[float] = Field(description="bin edges; the last bin includes its upper edge")
    counts: list[int]


class WrongAnswer(BaseModel):
    answer: str = Field(description="the answer as the grader read it (normalised)")
    typed: str | None = Field(default=None, description="the most common way it was typed, when that differs")
    count: int
    statuses: dict[str, int]
    mistakes: list[str] = Field(default_factory=list, description="known mistakes the grader recognised")
    mistake_feedback: dict[str, str] = Field(
        default_factory=dict, description="known mistake -> the feedback students read for it")


class QuestionSummary(BaseModel):
    id: str
    title: str | None = None
    points: float
    hidden: bool = False
    graded_by_person: bool = False
    pending: int = Field(0, description="answers waiting for a person to grade them")
    mean: float | None = Field(None, description="over the answers graded so far")
    share_correct: float | None = Field(None, description="over the answers graded so far")
    statuses: dict[str, int]
    overridden: int = 0
    duplicate: str | None = Field(default=None,
                                  description="the id is shared with other submissions (grader.batch.identity)")
    common_wrong: list[WrongAnswer] = Field(default_factory=list)


class SubmissionRow(BaseModel):
    id: str
    score: float
    report: str = Field(description="the report file, relative to OUTDIR")
    page: str = Field("", description="the student's page, relative to OUTDIR")
    failure: str | None = None
    late: bool = False
    overridden: int = 0
    duplicate: str | None = Field(default=None,
                                  description="the id is shared with other submissions (grader.batch.identity)")
    warnings: list[str] = Field(default_factory=list, description="about the whole submission: no "
                                "answers file, answers for unknown question ids, ...")
    sandbox: str | None = Field(None, description="the sandbox layer its code ran in")


class NeedsPerson(BaseModel):
    """An answer the grader could not decide (or ran out of time on): a person looks at it."""

    submission: str
    question: str
    status: str
    answer: str | None = None
    why: str = ""


NEEDS_PERSON = "needs_person"  # the details key checkers set (grader.checkers.expression)


class Summary(BaseModel):
    schema_version: int = 1
    assignment: str
    title: str = ""
    grader_version: str = __version__
    rubric_sha256: str = ""
    submissions: int
    scores: ScoreStats
    histogram: Histogram
    questions: list[QuestionSummary]
    rows: list[SubmissionRow]
    needs_person: list[NeedsPerson] = Field(
        default_factory=list, description="answers the grader could not decide: for the TA")
    sandboxes: dict[str, int] = Field(default_factory=dict,
                                      description="reports per sandbox layer their code ran under")


def build_summary(
    reports: list[tuple[Path, Report]], rubric: Rubric, *, outdir: Path, rubric_sha256: str = "",
) -> Summary:
    only = [report for _, report in reports]
    totals = [r.score for r in only]
    return Summary(
        assignment=rubric.assignment, title=rubric.title, rubric_sha256=rubric_sha256, submissions=len(only),
        scores=_stats(totals, rubric.max_score), histogram=score_histogram(totals, rubric.max_score),
        questions=[_question(q.id, q.title, q.points, q.hidden, only, rubric) for q in rubric.questions],
        rows=_rows(reports, outdir),
        needs_person=_needs_person(only),
        sandboxes=_sandboxes(only),
    )


def _needs_person(reports: list[Report]) -> list[NeedsPerson]:
    return [
        NeedsPerson(submission=r.submission, question=q.id, status=q.status.value, answer=q.answer,
                    why=str(q.details[NEEDS_PERSON]))
        for r in sorted(reports, key=lambda r: r.submission) for q in r.questions
        if q.details.get(NEEDS_PERSON) and q.override is None
    ]


def _sandboxes(reports: list[Report]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for report in reports:
        if report.sandbox:
            counts[report.sandbox] = counts.get(report.sandbox, 0) + 1
    return dict(sorted(counts.items()))


def _stats(values: list[float], max_score: float) -> ScoreStats:
    if not values:
        return ScoreStats(count=0, max_score=max_score)
    return ScoreStats(
        count=len(values), max_score=max_score, mean=round(statistics.fmean(values), 4),
        median=round(statistics.median(values), 4),
        stdev=round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
        min=min(values), max=max(values),
    )


def bin_width(top: float) -> float:
    """The smallest width of 1, 2, 2.5 or 5 times a power of ten that covers `top` in about
    HISTOGRAM_BINS bins: 12.75 points give bins of 2, 100 points bins of 10."""
    rough = top / HISTOGRAM_BINS
    power = 10.0 ** math.floor(math.log10(rough))
    return next(w * power for w in _NICE_WIDTHS if w * power >= rough - 1e-9)


def score_histogram(values: list[float], max_score: float) -> Histogram:
    top = max_score if max_score > 0 else 1.0
    width = bin_width(top)
    bins = max(1, math.ceil(top / width - 1e-9))
    edges = [round(min(top, width * i), 6) for i in range(bins + 1)]
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, max(0, int(value / width + 1e-9)))] += 1
    return Histogram(edges=edges, counts=counts)


def _question(
    qid: str, title: str | None, points: float, hidden: bool, reports: list[Report], rubric: Rubric,
) -> QuestionSummary:
    question = rubric.question(qid)
    results = {r.submission: q for r in reports for q in r.questions if q.id == qid}
    statuses = {s.value: sum(1 for q in results.values() if q.status is s) for s in Status}
    graded = [q for q in results.values() if q.status is not Status.MANUAL]
    if question.kind == "manual" and not any(q.override is not None for q in graded):
        graded = []  # only blanks so far: the question is pending, not failed by the class
    feedback = mistake_feedback(question)
    for result in results.values():  # a mistake a kind diagnoses itself is named by its feedback
        if result.mistake and result.feedback:
            feedback.setdefault(result.mistake, result.feedback)
    groups = [g for g in group_answers(question, reports, statuses=WRONG) if g.how != "missing"]
    common = [  # answers only: a submission that could not be read is counted in `statuses`
        WrongAnswer(answer=g.answer, typed=_typed(g.answer, [results[m.submission] for m in g.members]),
                    count=g.count, statuses=g.statuses, mistakes=g.mistakes,
                    mistake_feedback={m: feedback[m] for m in g.mistakes if m in feedback})
        for g in groups[:TOP_WRONG]
    ]
    return QuestionSummary(
        id=qid, title=title, points=points, hidden=hidden, graded_by_person=question.kind == "manual",
        pending=statuses[Status.MANUAL.value],
        mean=round(statistics.fmean(q.score for q in graded), 4) if graded else None,
        share_correct=round(statuses["correct"] / len(graded), 4) if graded else None,
        statuses=statuses, overridden=sum(1 for q in results.values() if q.override is not None),
        common_wrong=common,
    )


def _rows(reports: list[tuple[Path, Report]], outdir: Path) -> list[SubmissionRow]:
    ordered = sorted(reports, key=lambda e: e[1].submission)
    standings = standings_of([report for _, report in ordered])
    return [_row(path, report, outdir, standing.note() or None)
            for (path, report), standing in zip(ordered, standings, strict=True)]


def mistake_feedback(question: object) -> dict[str, str]:
    """Known mistake (and accepted convention) name -> the feedback students read for it."""
    alternatives = [*getattr(question, "accepted", []), *getattr(question, "known_mistakes", [])]
    return {a.name: a.feedback for a in alternatives}


def typed_answer(result: QuestionResult) -> str | None:
    """The answer as typed, when the grader kept it (it does when the shown form differs)."""
    typed = result.details.get("typed")
    return typed if isinstance(typed, str) else None


def _typed(shown: str, members: list[QuestionResult]) -> str | None:
    forms = Counter(t for q in members if (t := typed_answer(q)) is not None)
    if not forms:
        return None
    typed = forms.most_common(1)[0][0]
    return None if typed == shown else typed


def student_page_name(report_path: Path) -> str:
    """The student's page, relative to OUTDIR: named after the report file, which is unique."""
    return f"{STUDENTS_DIR}/{report_path.stem}.html"


def _row(path: Path, report: Report, outdir: Path, duplicate: str | None) -> SubmissionRow:
    return SubmissionRow(
        id=report.submission, score=report.score, report=path.relative_to(outdir).as_posix(),
        page=student_page_name(path),
        failure=report.failure, late=bool(report.source and report.source.late),
        overridden=sum(1 for q in report.questions if q.override is not None), duplicate=duplicate,
        warnings=[w for w in report.warnings if w != report.failure], sandbox=report.sandbox,
    )


# --- the page -------------------------------------------------------------------------------------

BASE_CSS = "".join([
    'body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;',
    'color:#1d2330;padding:0 1rem}',
    'h1{font-size:1.6rem;margin:0 0 .2rem}',
    'h2{font-size:1.2rem;margin:2rem 0 .6rem;border-bottom:1px solid #d8dce4;padding-bottom:.2rem}',
    '.sub{color:#5a6275;margin:0 0 1rem}',
    '.cards{display:flex;gap:1rem;flex-wrap:wrap}',
    '.card{background:#f3f5f9;border-radius:8px;padding:.6rem 1rem;min-width:8rem}',
    '.card b{display:block;font-size:1.35rem}',
    'table{border-collapse:collapse;width:100%;font-size:.92rem}',
    'th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e6e9ef;vertical-align:top}',
    'th{background:#f3f5f9}',
    'td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}',
    'code{font-size:.88rem;word-break:break-all}',
    '.bad{color:#b42318}',
    '.warn{color:#8a5a00;font-size:.85rem}',
    '.tag{display:inline-block;background:#eef1f6;border-radius:4px;padding:0 .35rem;margin:0 .2rem .1rem 0;',
    'font-size:.8rem}',
    'svg text{font:12px system-ui,sans-serif;fill:#1d2330}',
    'a.raw{color:#5a6275;font-size:.8rem}',
    '.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:-1px}',
])
_BLUE, _GREEN, _PENDING = "#3b6fd8", "#3aa76d", "#d9dde6"


def render_html(summary: Summary) -> str:
    stats = summary.scores
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(summary.assignment)}: class summary</title><style>{BASE_CSS}</style></head><body>",
        f"<h1>{escape(summary.assignment)}</h1>",
        f'<p class="sub">{escape(summary.title)} · grader {escape(summary.grader_version)}'
        f"{_sandbox_note(summary.sandboxes)}</p>",
        _cards(summary), "<h2>Scores</h2>", _histogram_svg(summary.histogram, stats.count),
        "<h2>Questions</h2>", _questions_svg(summary.questions), _status_table(summary.questions),
        "<h2>Common mistakes</h2>", _mistakes_table(summary.questions),
        *_needs_person_table(summary.needs_person),
        "<h2>Submissions</h2>", _rows_table(summary.rows), "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _needs_person_table(items: list[NeedsPerson]) -> list[str]:
    if not items:
        return []
    rows = "".join(
        f"<tr><td>{escape(i.submission)}</td><td>{escape(i.question)}</td><td>{escape(i.status)}</td>"
        f"<td><code>{escape(i.answer or '')}</code></td><td>{escape(i.why)}</td></tr>" for i in items)
    return ["<h2>For a person to check</h2>",
            "<table><tr><th>submission</th><th>question</th><th>status</th><th>answer</th><th>why</th></tr>"
            f"{rows}</table>"]


def _sandbox_note(sandboxes: dict[str, int]) -> str:
    if not sandboxes:
        return ""
    layers = ", ".join(f"{escape(layer)} ({count})" for layer, count in sandboxes.items())
    weak = " (the process layer hides no file from student code)" if "process" in sandboxes else ""
    return f" · student code ran under: {layers}{weak}"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def _cards(summary: Summary) -> str:
    stats = summary.scores
    failed = sum(1 for r in summary.rows if r.failure)
    cards = [("submissions", str(summary.submissions)), ("mean", f"{_fmt(stats.mean)} / {_fmt(stats.max_score)}"),
             ("median", _fmt(stats.median)), ("std. dev.", _fmt(stats.stdev)),
             ("range", f"{_fmt(stats.min)} – {_fmt(stats.max)}"), ("failed to grade", str(failed)),
             ("sandbox layer", _layers(summary.sandboxes))]
    return '<div class="cards">' + "".join(
        f'<div class="card">{escape(label)}<b>{escape(value)}</b></div>' for label, value in cards) + "</div>"


def _layers(layers: dict[str, int]) -> str:
    """The layer student code ran in (several when the machine changed between runs)."""
    if not layers:
        return "no code run"
    return ", ".join(name if len(layers) == 1 else f"{name} ({count})" for name, count in sorted(layers.items()))


def _histogram_svg(histogram: Histogram, count: int) -> str:
    width, height, left, bottom, top = 760, 260, 40, 40, 20
    bins = len(histogram.counts)
    peak = max(histogram.counts, default=0) or 1
    slot = (width - left - 10) / bins
    out = [f'<svg role="img" aria-label="score histogram of {count} submissions" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    plot = height - bottom - top
    out.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#8a93a6"/>')
    for i, n in enumerate(histogram.counts):
        bar = plot * n / peak
        x = left + i * slot
        y = height - bottom - bar
        label = f"{_fmt(histogram.edges[i])}–{_fmt(histogram.edges[i + 1])}"
        out.append(f'<rect x="{x + 3:.1f}" y="{y:.1f}" width="{slot - 6:.1f}" height="{bar:.1f}" fill="{_BLUE}">'
                   f"<title>{escape(label)}: {n}</title></rect>")
        if n:
            out.append(f'<text x="{x + slot / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{n}</text>')
        out.append(f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                   f"{escape(label)}</text>")
    out.append(f'<text x="{left + (width - left) / 2:.1f}" y="{height - 6}" text-anchor="middle">score</text>')
    out.append("</svg>")
    return "".join(out)


def question_label(q: QuestionSummary) -> str:
    return q.title or q.id


def _questions_svg(questions: list[QuestionSummary]) -> str:
    row, label_width, bar_width = 26, 330, 420
    height = row * len(questions) + 30
    width = label_width + bar_width + 190
    out = [f'<p class="legend"><span style="background:{_BLUE}"></span>mean score (share of the points)'
           f'<span style="background:{_GREEN}"></span>share of students fully correct'
           f'<span style="background:{_PENDING}"></span>graded by a person: pending</p>',
           f'<svg role="img" aria-label="per-question results" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    for i, q in enumerate(questions):
        y = 10 + i * row
        label = _shorten(question_label(q), 46)
        out.append(f'<text x="{label_width - 8}" y="{y + 14}" text-anchor="end"><title>{escape(q.id)}</title>'
                   f"{escape(label)}</text>")
        out.append(f'<rect x="{label_width}" y="{y}" width="{bar_width}" height="{row - 6}" fill="#eef1f6"/>')
        out.append(_pending_bar(q, label_width, y, bar_width, row) if q.mean is None else
                   _score_bars(q, label_width, y, bar_width, row))
    out.append("</svg>")
    return "".join(out)


def _pending_bar(q: QuestionSummary, x: int, y: int, width: int, row: int) -> str:
    """Nothing graded yet: a grey bar that says so, never a 0 % bar."""
    blank = q.statuses.get(Status.MISSING.value, 0)
    text = f"graded by a person: {q.pending} pending" if q.pending else "graded by a person: nothing to grade"
    text += f", {blank} blank" if blank else ""
    return (f'<rect x="{x}" y="{y}" width="{width}" height="{row - 6}" fill="{_PENDING}"><title>'
            f"{escape(q.id)}: {escape(text)}</title></rect>"
            f'<text x="{x + 8}" y="{y + 14}">{escape(text)}</text>')


def _score_bars(q: QuestionSummary, x: int, y: int, width: int, row: int) -> str:
    mean_share = (q.mean or 0) / q.points if q.points else 0.0
    correct = q.share_correct or 0.0
    half = (row - 6) / 2
    pending = f" · {q.pending} pending" if q.pending else ""
    return (f'<rect x="{x}" y="{y}" width="{width * mean_share:.1f}" height="{half:.1f}" fill="{_BLUE}"><title>'
            f"{escape(q.id)}: mean {_fmt(q.mean)} of {_fmt(q.points)}</title></rect>"
            f'<rect x="{x}" y="{y + half:.1f}" width="{width * correct:.1f}" height="{half:.1f}" fill="{_GREEN}">'
            f"<title>{escape(q.id)}: {correct:.0%} correct</title></rect>"
            f'<text x="{x + width + 8}" y="{y + 14}">{mean_share:.0%} · {correct:.0%}{pending}</text>')


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _status_table(questions: list[QuestionSummary]) -> str:
    statuses = [s.value for s in Status]
    head = "".join(f'<th class="num">{s}</th>' for s in statuses)
    rows = []
    for q in questions:
        cells = "".join(f'<td class="num">{q.statuses.get(s, 0) or ""}</td>' for s in statuses)
        tags = (' <span class="tag">hidden</span>' if q.hidden else "") + (
            ' <span class="tag">graded by a person</span>' if q.graded_by_person else "")
        mean = f"{_fmt(q.mean)} / {_fmt(q.points)}" if q.mean is not None else f"pending / {_fmt(q.points)}"
        rows.append(f"<tr><td>{escape(question_label(q))}<br><code>{escape(q.id)}</code>{tags}</td>"
                    f'<td class="num">{mean}</td>{cells}<td class="num">{q.overridden or ""}</td></tr>')
    return (f'<table><thead><tr><th>question</th><th class="num">mean</th>{head}<th class="num">overridden</th>'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _mistake_tags(wrong: WrongAnswer) -> str:
    """Known mistakes by the feedback students read; the rubric's name is the tooltip."""
    return "".join(f'<span class="tag" title="{escape(m, quote=True)}">'
                   f"{escape(_shorten(wrong.mistake_feedback.get(m, m), 90))}</span>" for m in wrong.mistakes)


def _mistakes_table(questions: list[QuestionSummary]) -> str:
    rows = []
    for q in questions:
        for wrong in q.common_wrong:
            statuses = ", ".join(f"{escape(s)} {n}" for s, n in wrong.statuses.items())
            typed = wrong.typed if wrong.typed is not None else wrong.answer
            rows.append(f'<tr><td title="{escape(q.id, quote=True)}">{escape(question_label(q))}</td>'
                        f"<td><code>{escape(typed)}</code></td><td><code>{escape(wrong.answer)}</code></td>"
                        f'<td class="num">{wrong.count}</td><td>{statuses}</td><td>{_mistake_tags(wrong)}</td></tr>')
    if not rows:
        return "<p>No wrong answers.</p>"
    return ('<table><thead><tr><th>question</th><th>answer as typed</th><th>as the grader read it</th>'
            '<th class="num">students</th><th>status</th><th>known mistake</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rows_table(rows: list[SubmissionRow]) -> str:
    body = []
    for row in rows:
        notes = []
        if row.failure:
            notes.append(f'<span class="bad">failed: {escape(row.failure)}</span>')
        if row.duplicate:
            notes.append(f'<span class="bad">{escape(row.duplicate)}</span>')
        if row.late:
            notes.append('<span class="tag">late</span>')
        if row.overridden:
            notes.append(f'<span class="tag">{row.overridden} overridden</span>')
        notes += [f'<span class="warn">{escape(_short(w))}</span>' for w in row.warnings[:3]]
        page = row.page or row.report
        body.append(f'<tr><td><a href="{escape(quote(page), quote=True)}">{escape(for_terminal(row.id))}</a></td>'
                    f'<td class="num">{_fmt(row.score)}</td><td>{" ".join(notes)}</td>'
                    f'<td><a class="raw" href="{escape(quote(row.report), quote=True)}">JSON</a></td></tr>')
    return ('<table><thead><tr><th>submission</th><th class="num">score</th><th>notes</th><th>report</th></tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table>")
