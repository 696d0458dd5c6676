"""The sandbox runner's promises, through its public API and `grader doctor`."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader.checkers.base import GradingContext
from grader.checkers.code import CodeQuestion
from grader.cli import cli
from grader.core.report import Status
from grader.core.rubric import load_rubric, resolve_assignment
from grader.sandbox import Limits, SandboxResult, SandboxUnavailable, run_python
from grader.sandbox.layers import LAYER_ENV, LAYERS, available

EXAMPLES = Path(__file__).resolve().parent.parent / "submissions_example" / "csc411-a1"


def run_student(
    source: str,
    folder: Path,
    *,
    layer: str | None = None,
    collect: tuple[str, ...] = ("seen.json",),
) -> SandboxResult:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "probe.py").write_text(textwrap.dedent(source))
    (folder / "notes.txt").write_text("mine")
    call = {"file": "submission/probe.py", "function": "f", "calls": 1, "args": [], "outputs": 1}
    empty = io.BytesIO()
    np.savez(empty)
    return run_python(
        "grader.sandbox.worker_call",
        [],
        student_dir=folder,
        layer=layer,
        limits=Limits(wall_seconds=5),
        collect=collect,
        inputs={"call.json": json.dumps(call).encode(), "inputs.npz": empty.getvalue()},
    )


SEEN = """
import json, os, sys
def f():
    seen = {"env": sorted(os.environ), "isolated": sys.flags.isolated,
            "files": sorted(os.listdir(".")), "submission": sorted(os.listdir("submission"))}
    with open("seen.json", "w") as out:
        json.dump(seen, out)
    return 1
"""


def _skip_unless(layer: str) -> None:
    status = available(layer)  # type: ignore[arg-type]
    if not status.available:
        pytest.skip(f"layer {layer} not available here: {status.detail}")


@pytest.mark.parametrize("layer", LAYERS)
def test_child_sees_an_allowlisted_environment_and_only_its_files(
    layer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _skip_unless(layer)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    result = run_student(SEEN, tmp_path / "alice", layer=layer)
    assert result.status == "ok", result.stderr
    seen = json.loads(result.files["seen.json"])
    assert "AWS_SECRET_ACCESS_KEY" not in seen["env"]
    assert set(seen["env"]) <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LC_ALL",
        "PWD",
        "MPLBACKEND",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
        "LANG",
        "TZ",
    }
    assert seen["isolated"] == 1
    assert seen["submission"] == ["notes.txt", "probe.py"]
    assert set(seen["files"]) <= {"submission", "call.json", "inputs.npz", "progress.txt"}
    assert result.layer == layer


def test_layer_from_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LAYER_ENV, "process")
    assert run_student(SEEN, tmp_path / "s").layer == "process"


def test_an_unknown_layer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SandboxUnavailable, match="unknown sandbox layer"):
        run_student(SEEN, tmp_path / "s", layer="chroot")


def test_input_names_cannot_leave_the_box(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        run_python("grader.sandbox.boot", [], student_dir=None, inputs={"../evil": b""})


def test_a_result_file_that_is_not_json_is_ignored(tmp_path: Path) -> None:
    source = """
    import atexit
    def f():
        atexit.register(lambda: open("result.json", "w").write("[not json"))
        return 1
    """
    result = run_student(source, tmp_path / "s", layer="process")
    assert result.status == "ok"
    assert result.result is None


def test_output_files_are_capped_by_the_file_size_limit(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "probe.py").write_text(
        "def f():\n    open('big.bin', 'wb').write(b'x' * (3 * 1024 * 1024))\n    return 1\n"
    )
    call = {"file": "submission/probe.py", "function": "f", "calls": 1, "args": [], "outputs": 1}
    empty = io.BytesIO()
    np.savez(empty)
    result = run_python(
        "grader.sandbox.worker_call",
        [],
        student_dir=folder,
        collect=("big.*",),
        limits=Limits(file_mb=1),
        layer="process",
        inputs={"call.json": json.dumps(call).encode(), "inputs.npz": empty.getvalue()},
    )
    calls = (result.result or {})["calls"]
    assert calls[0]["status"] == "raised" and "File too large" in calls[0]["message"]
    assert len(result.files.get("big.bin", b"")) <= 1024 * 1024


@pytest.mark.parametrize("layer", LAYERS)
def test_code_question_grades_alike_under_every_layer(
    layer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _skip_unless(layer)
    monkeypatch.setenv(LAYER_ENV, layer)
    q = load_rubric(resolve_assignment("csc411-a1")).rubric.question("p3b_gradient_code")
    assert isinstance(q, CodeQuestion)
    ctx = GradingContext(submission_root=EXAMPLES / "alice", student="alice")
    verdict = q.grade("gradient.py", ctx)
    assert verdict.status is Status.CORRECT, verdict.feedback
    assert ctx.sandbox_layer == layer


def test_doctor_lists_the_layers_and_the_one_in_use() -> None:
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 0, result.output
    for layer in LAYERS:
        assert f"  {layer} " in result.output
    assert "Layer used (GRADER_SANDBOX_LAYER=" in result.output
    assert "Test run: ok under" in result.output


def test_doctor_json_names_an_unavailable_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LAYER_ENV, "chroot")
    result = CliRunner().invoke(cli, ["doctor", "--json"])
    report = json.loads(result.output)
    assert report["default"] is None and "unknown sandbox layer" in report["problem"]
    assert [entry["layer"] for entry in report["layers"]] == list(LAYERS)
