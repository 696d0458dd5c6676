"""Which layer grading uses: bwrap, else the namespace layer, else a refusal that says how to
install bubblewrap and how to accept the process layer; tested with bwrap present and masked
(a PATH without it), since a fresh machine may lack it."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.sandbox import layers
from grader.sandbox.layers import LAYER_ENV, WeakLayerOnly, choose_layer

REPO = Path(__file__).resolve().parent.parent
ALICE = REPO / "submissions_example" / "csc411-a1" / "alice"


@pytest.fixture(autouse=True)
def fresh_detection(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(LAYER_ENV, raising=False)  # restored after: the CLI sets it for its run
    layers.detect_layers.cache_clear()
    yield
    layers.detect_layers.cache_clear()


def mask(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, keep: tuple[str, ...]) -> None:
    """A PATH holding only the `keep` programs (and none of the others)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in keep:
        found = shutil.which(name)
        if found is None:
            pytest.skip(f"{name} is not installed here")
        (folder / name).symlink_to(found)
    monkeypatch.setenv("PATH", str(folder))
    layers.detect_layers.cache_clear()


def _need(layer: str) -> None:
    status = layers.available(layer)  # type: ignore[arg-type]
    if not status.available:
        pytest.skip(f"layer {layer} not available here: {status.detail}")


@pytest.mark.parametrize(
    ("keep", "wanted", "expected"),
    [
        (("bwrap", "unshare"), "auto", "bwrap"),
        (("unshare",), "auto", "namespace"),
        (("unshare",), "unshare", "namespace"),
        ((), "any", "process"),
        ((), "process", "process"),
    ],
    ids=["both: bwrap", "bwrap masked: namespace", "old name unshare", "self-check falls back",
         "explicit process"],
)
def test_layer_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, keep: tuple[str, ...],
                      wanted: str, expected: str) -> None:
    mask(monkeypatch, tmp_path, keep)
    if expected != "process":
        _need(expected)
    assert choose_layer(wanted) == expected


def test_without_a_hiding_layer_auto_refuses_and_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mask(monkeypatch, tmp_path, ())
    with pytest.raises(WeakLayerOnly) as caught:
        choose_layer()
    message = str(caught.value)
    assert "apt-get install bubblewrap" in message
    assert "--sandbox process" in message
    with pytest.raises(LookupError):
        choose_layer("namespace")  # asked for by name: never a silent downgrade


@pytest.mark.parametrize(
    ("command", "extra", "exit_code", "sandbox"),
    [
        ("grade", [], 2, None),
        ("grade", ["--sandbox", "process"], 0, "process"),
        ("batch", [], 2, None),
    ],
    ids=["grade refuses", "grade with explicit process", "batch refuses"],
)
def test_grading_commands_without_a_hiding_layer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str, extra: list[str],
    exit_code: int, sandbox: str | None,
) -> None:
    mask(monkeypatch, tmp_path, ())
    args = [command, str(ALICE), "-a", "csc411-a1", *extra]
    if command == "batch":
        args += ["-o", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == exit_code, result.output
    if exit_code == 2:
        assert "--sandbox process" in result.output and "bubblewrap" in result.output
        assert not (tmp_path / "out").exists()
    else:
        assert json.loads(result.stdout)["sandbox"] == sandbox


def test_check_keeps_the_light_layer_for_a_student(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mask(monkeypatch, tmp_path, ())
    result = CliRunner().invoke(cli, ["check", str(ALICE), "-a", "csc411-a1"])
    assert result.exit_code == 0, result.output
    assert os.environ[LAYER_ENV] == "any"  # settled when code runs: the process layer here
    assert "✓ p3b_gradient_code" in result.output and "✓ p4_momentum_code" in result.output
    from grader.sandbox.layers import choose_layer

    assert choose_layer() == "process"


def test_grade_with_bwrap_masked_uses_the_namespace_layer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mask(monkeypatch, tmp_path, ("unshare",))
    _need("namespace")
    result = CliRunner().invoke(cli, ["grade", str(ALICE), "-a", "csc411-a1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["sandbox"] == "namespace"
    code = {q["id"]: q["status"] for q in report["questions"] if q["id"].endswith("_code")}
    assert code == {"p3b_gradient_code": "correct", "p4_momentum_code": "correct"}


@pytest.mark.parametrize(
    ("layers_used", "weak"),
    [(["bwrap", "bwrap"], False), (["namespace", "process"], True)],
    ids=["bwrap only", "some on the process layer"],
)
def test_the_summary_counts_the_layers(tmp_path: Path, layers_used: list[str], weak: bool) -> None:
    from grader.batch.summary import build_summary, render_html
    from grader.core.report import Report
    from grader.core.rubric import load_rubric, resolve_assignment

    golden = REPO / "tests" / "golden" / "csc411-a1" / "alice.json"
    reports = []
    for number, layer in enumerate(layers_used):
        report = Report.model_validate_json(golden.read_text())
        report.submission, report.sandbox = f"s{number}", layer
        reports.append((tmp_path / f"s{number}.json", report))
    summary = build_summary(reports, load_rubric(resolve_assignment("csc411-a1")).rubric,
                            outdir=tmp_path)
    expected: dict[str, int] = {}
    for layer in layers_used:
        expected[layer] = expected.get(layer, 0) + 1
    assert summary.sandboxes == expected
    page = render_html(summary)
    assert "student code ran under: " in page
    assert ("hides no file" in page) is weak


def test_the_cli_spells_the_layer_choices_as_the_sandbox_does() -> None:
    from grader.cli import sandbox as cli_sandbox
    from grader.sandbox import layers

    assert cli_sandbox.CHOICES == layers.CHOICES and cli_sandbox.LAYER_ENV == layers.LAYER_ENV
