"""summary.json's figures and summary.html: escaped, self-contained, and rendered by a browser."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import tempfile
import zlib
from html import escape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lms_formats import check_student_page, check_summary_page

from grader.batch.summary import HISTOGRAM_BINS, bin_width, score_histogram
from grader.cli import cli

CLASS = {
    "a": {"q2_dL_dw3": 0.0006, "q4_lenet_params": 61706, "q3_flops_no_bias": 1153840},
    "b": {"q2_dL_dw3": 0.00143, "q4_lenet_params": 61706, "q3_flops_no_bias": 578560},
    "c": {"q2_dL_dw3": "0.00143", "q4_lenet_params": 60850, "q3_flops_no_bias": "578,560"},
    "d": {"q2_dL_dw3": "<script>alert('x')</script>"},
    "e": {"student_id": "<b>eve</b>", "q2_dL_dw3": 0.00143},
    "f": ["not", "a", "mapping"],
    "g": {"q5_sigmoid_grad_from_output": "sigma(z)*(1-sigma(z))", "q1_proof": "by <i>induction</i>",
          "q3_flops_no_bias": "578,560"},
}


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class")
    for name, answers in CLASS.items():
        (root / f"{name}.json").write_text(json.dumps(answers))
    out = root.parent / "out"
    result = CliRunner().invoke(cli, ["batch", str(root), "-a", "csc420-a2", "-o", str(out), "-j", "1"])
    assert result.exit_code == 0, result.output
    return out


def summary(outdir: Path) -> dict[str, Any]:
    return dict(json.loads((outdir / "summary.json").read_text()))


def test_score_distribution(outdir: Path) -> None:
    scores = summary(outdir)["scores"]
    totals = sorted(json.loads(p.read_text())["score"] for p in (outdir / "reports").glob("*.json"))
    assert scores["count"] == 7 and scores["min"] == totals[0] and scores["max"] == totals[-1]
    assert scores["mean"] == pytest.approx(sum(totals) / 7, abs=1e-4)
    histogram = summary(outdir)["histogram"]
    assert len(histogram["counts"]) == HISTOGRAM_BINS and sum(histogram["counts"]) == 7
    assert histogram["edges"][0] == 0 and histogram["edges"][-1] == 100


def test_per_question_figures_and_common_wrong_answers(outdir: Path) -> None:
    q2 = next(q for q in summary(outdir)["questions"] if q["id"] == "q2_dL_dw3")
    assert q2["statuses"]["correct"] == 1 and q2["statuses"]["incorrect"] == 3 and q2["statuses"]["invalid"] == 2
    assert q2["share_correct"] == round(1 / 7, 4) and q2["mean"] == round(15 / 7, 4)
    assert [(w["answer"], w["count"], w["statuses"]) for w in q2["common_wrong"]] == [
        ("0.00143", 3, {"incorrect": 3}), ("<script>alert('x')</script>", 1, {"invalid": 1})]
    q3 = next(q for q in summary(outdir)["questions"] if q["id"] == "q3_flops_no_bias")
    assert [(w["count"], w["mistakes"]) for w in q3["common_wrong"]] == [(3, ["multiply_add_as_one_flop"])]
    assert next(q for q in summary(outdir)["questions"] if q["id"] == "q1_proof")["statuses"]["missing"] == 5


def test_the_page_is_self_contained_and_escapes_student_text(outdir: Path) -> None:
    page = check_summary_page(outdir / "summary.html")
    html = (outdir / "summary.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<b>eve</b>" not in html and "&lt;b&gt;eve&lt;/b&gt;" in html
    reports = {p.name for p in (outdir / "reports").glob("*.json")}
    assert len(page.links) == 14 and all((outdir / link).is_file() for link in page.links)
    assert {Path(link).name for link in page.links if link.startswith("reports/")} == reports
    pages = {Path(link).stem for link in page.links if link.startswith("students/")}
    assert pages == {Path(r).stem for r in reports}  # every student's page, linked


def question(outdir: Path, qid: str) -> dict[str, Any]:
    return dict(next(q for q in summary(outdir)["questions"] if q["id"] == qid))


@pytest.mark.parametrize(
    ("check", "qid"),
    [("manual-question-is-pending-not-zero", "q1_proof"), ("answer-as-typed", "q5_sigmoid_grad_from_output"),
     ("mistake-by-its-feedback", "q3_flops_no_bias"), ("question-titles", "q2_dL_dw3")],
    ids=["manual-question-is-pending-not-zero", "answer-as-typed", "mistake-by-its-feedback", "question-titles"],
)
def test_what_the_ta_reads_on_the_summary_page(outdir: Path, check: str, qid: str) -> None:
    html = (outdir / "summary.html").read_text()
    got = question(outdir, qid)
    if check == "manual-question-is-pending-not-zero":
        assert got["graded_by_person"] and got["pending"] == 1 and got["mean"] is None
        assert got["share_correct"] is None and "graded by a person: 1 pending, 5 blank" in html
    elif check == "answer-as-typed":
        wrong = got["common_wrong"][0]
        assert wrong["typed"] == "sigma(z)*(1-sigma(z))" and wrong["answer"] != wrong["typed"]
        assert escape(wrong["typed"]) in html and escape(wrong["answer"]) in html
    elif check == "mistake-by-its-feedback":
        feedback = got["common_wrong"][0]["mistake_feedback"]["multiply_add_as_one_flop"]
        assert escape(feedback[:60]) in html
        assert ">multiply_add_as_one_flop<" not in html  # the rubric's raw name is only a tooltip
    else:
        assert got["title"] and escape(got["title"]) in html


@pytest.mark.parametrize(
    ("max_score", "width", "last_edges"),
    [(12.75, 2, [12, 12.75]), (100, 10, [90, 100]), (40, 5, [35, 40]), (7, 1, [6, 7]), (1, 0.1, [0.9, 1]),
     (250, 25, [225, 250])],
    ids=["apl405-12.75-points", "100-points", "40-points", "7-points", "1-point", "250-points"],
)
def test_histogram_bins_read_well(max_score: float, width: float, last_edges: list[float]) -> None:
    assert bin_width(max_score) == pytest.approx(width)
    histogram = score_histogram([0, max_score, max_score / 2], max_score)
    assert histogram.edges[0] == 0 and histogram.edges[-2:] == pytest.approx(last_edges)
    assert sum(histogram.counts) == 3 and histogram.counts[-1] >= 1


def test_every_student_has_a_readable_self_contained_page(outdir: Path) -> None:
    pages = sorted((outdir / "students").glob("*.html"))
    assert len(pages) == 7
    for page in pages:
        check_student_page(page)
    g = (outdir / "students" / "g.html").read_text()
    assert "sigma(z)*(1-sigma(z))" in g and "for the TA" in g and "reference" in g
    assert "by &lt;i&gt;induction&lt;/i&gt;" in g and "<i>induction" not in g
    assert "graded by a person: not graded yet" in g and "multiply-add" in g.lower()
    assert "&lt;b&gt;eve&lt;/b&gt;" in (outdir / "students" / "_b_eve_b_.html").read_text()


# --- rendering in a headless browser --------------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chromium-headless-shell")
BAR_BLUE = (0x3B, 0x6F, 0xD8)


def browser() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def screenshot(page: Path, png: Path) -> None:
    exe = browser()
    assert exe is not None
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1200,900",
             page.resolve().as_uri()],
            check=True, capture_output=True, timeout=120,
        )


def decode_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of an 8-bit RGB/RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 3
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, pixels = zlib.decompress(idat), width * channels, []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        pixels += [(line[x * channels], line[x * channels + 1], line[x * channels + 2]) for x in range(width)]
        previous = line
    return width, height, pixels


@pytest.mark.skipif(browser() is None, reason="no headless browser installed (apt-get install chromium)")
def test_the_page_renders_its_charts_in_a_browser(outdir: Path, tmp_path: Path) -> None:
    png = tmp_path / "summary.png"
    screenshot(outdir / "summary.html", png)
    width, height, pixels = decode_png(png.read_bytes())
    assert (width, height) == (1200, 900)
    blue = sum(1 for p in pixels if all(abs(a - b) <= 8 for a, b in zip(p, BAR_BLUE, strict=True)))
    dark = sum(1 for p in pixels if sum(p) < 200)
    assert blue > 2_000  # the histogram's bars were drawn
    assert dark > 2_000  # and text


TA_BOX = (0xFB, 0xF8, 0xEE)


@pytest.mark.skipif(browser() is None, reason="no headless browser installed (apt-get install chromium)")
def test_a_student_page_renders_in_a_browser(outdir: Path, tmp_path: Path) -> None:
    png = tmp_path / "student.png"
    screenshot(outdir / "students" / "g.html", png)
    width, height, pixels = decode_png(png.read_bytes())
    assert (width, height) == (1200, 900)
    ta_box = sum(1 for p in pixels if all(abs(a - b) <= 3 for a, b in zip(p, TA_BOX, strict=True)))
    dark = sum(1 for p in pixels if sum(p) < 200)
    assert ta_box > 5_000  # the TA's part of each question is drawn as a box
    assert dark > 2_000  # and text
