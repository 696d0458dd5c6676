"""The CLI through click's runner: every command, and every exit code named in ExitCode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import ExitCode, cli

EXAMPLES = Path(__file__).resolve().parent.parent / "submissions_example"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_grade_prints_a_report() -> None:
    code, out, _ = run("grade", str(EXAMPLES / "csc420-a2" / "carol.yaml"), "-a", "csc420-a2")
    report = json.loads(out)
    assert code == ExitCode.OK
    assert report["schema_version"] == 1 and report["assignment"] == "csc420-a2"
    assert report["submission"] == "carol"
    assert report["score"] == sum(q["score"] for q in report["questions"])
    assert {q["status"] for q in report["questions"]} >= {"invalid", "missing"}


def test_grade_writes_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "r" / "report.json"
    code, _, _ = run("grade", str(EXAMPLES / "csc420-a2" / "carol.yaml"), "-a", "csc420-a2", "-o", str(out))
    assert code == ExitCode.OK and json.loads(out.read_text())["submission"] == "carol"


def test_grade_gradescope_format() -> None:
    code, out, _ = run("grade", str(EXAMPLES / "csc420-a2" / "carol.yaml"), "-a", "csc420-a2",
                       "--format", "gradescope")
    results = json.loads(out)
    assert code == ExitCode.OK
    assert {"score", "tests"} <= set(results) and results["tests"][0]["name"] == "q1_effective_weight"


def test_grade_with_a_rubric_path(tmp_path: Path) -> None:
    rubric = tmp_path / "mine.yaml"
    rubric.write_text("assignment: mine\nquestions:\n  - {id: q, kind: number, points: 2, "
                      "reference: {function: mlp_params, params: {sizes: [3, 2]}}}\n")
    answers = tmp_path / "s.yaml"
    answers.write_text("q: 8\n")
    code, out, _ = run("grade", str(answers), "-a", str(rubric))
    assert code == ExitCode.OK and json.loads(out)["score"] == 2


def test_check_is_readable_and_hides_hidden(tmp_path: Path) -> None:
    rubric = tmp_path / "r.yaml"
    rubric.write_text(
        "assignment: r\nquestions:\n"
        "  - {id: shown, kind: number, points: 1, reference: {function: mlp_params, params: {sizes: [3, 2]}}}\n"
        "  - {id: secret_q, kind: number, points: 1, hidden: true,"
        " reference: {function: mlp_params, params: {sizes: [3, 2]}}}\n")
    answers = tmp_path / "s.yaml"
    answers.write_text("shown: 8\nsecret_q: 7\n")
    code, out, _ = run("check", str(answers), "-a", str(rubric))
    assert code == ExitCode.OK
    assert "shown" in out and "secret_q" not in out
    assert "1 hidden question(s)" in out


USAGE_ERRORS = [
    ("unknown assignment", ["grade", str(EXAMPLES / "csc420-a2" / "carol.yaml"), "-a", "nope"], "unknown assignment"),
    ("missing submission", ["grade", "/does/not/exist", "-a", "csc420-a2"], "does not exist"),
    ("bad format", ["grade", str(EXAMPLES / "csc420-a2" / "carol.yaml"), "-a", "csc420-a2", "--format", "xml"],
     "xml"),
    ("no assignment", ["check", str(EXAMPLES / "csc420-a2" / "carol.yaml")], "Missing option"),
    ("unknown command", ["frobnicate"], "No such command"),
]


@pytest.mark.parametrize("args,message", [c[1:] for c in USAGE_ERRORS], ids=[c[0] for c in USAGE_ERRORS])
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    code, _, err = run(*args)
    assert code == ExitCode.USAGE_ERROR
    assert message in err


def test_broken_rubric_is_a_usage_error_with_location(tmp_path: Path) -> None:
    rubric = tmp_path / "r.yaml"
    rubric.write_text("assignment: r\nquestions:\n  - {id: q, kind: number, points: x}\n")
    code, _, err = run("grade", str(EXAMPLES / "csc420-a2" / "carol.yaml"), "-a", str(rubric))
    assert code == ExitCode.USAGE_ERROR and "r.yaml:3" in err and "points" in err


def test_rubric_validate(tmp_path: Path) -> None:
    good = Path(__file__).resolve().parent.parent / "rubrics" / "csc420-a2.yaml"
    code, out, _ = run("rubric", "validate", str(good))
    assert code == ExitCode.OK and "valid: 13 questions" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("assignment: r\nquestions: []\n")
    code, _, err = run("rubric", "validate", str(bad))
    assert code == ExitCode.USAGE_ERROR and "questions" in err


def test_rubric_schema_lists_kinds_and_functions() -> None:
    code, out, _ = run("rubric", "schema")
    schema = json.loads(out)
    assert code == ExitCode.OK
    assert "conv_pool_flops" in schema["$defs"]["ReferenceSpec"]["properties"]["function"]["enum"]
    assert {"number", "choice", "interval", "edges", "manual"} <= set(json.dumps(schema).split('"'))


def test_assignments_lists_builtins() -> None:
    code, out, _ = run("assignments")
    assert code == ExitCode.OK
    for name in ["csc420-a2", "tdt4265-a2", "apl405-hw2", "csc411-a1"]:
        assert name in out
    assert "13 questions" in out


def test_reference_json_shape() -> None:
    code, out, _ = run("reference", "csc420-a2", "--json")
    data = json.loads(out)
    assert code == ExitCode.OK
    q3 = data["questions"]["q3_flops_no_bias"]
    assert q3["answer"] == 1_153_840
    assert {"in_channels", "in_size", "filters", "kernel", "padding", "stride", "pool_kernel",
            "pool_stride"} <= set(q3["params"])
    assert set(data["questions"]["q2_dL_dw3"]["params"]) >= {"w", "x", "y"}


def test_reference_follows_changed_params(tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parent.parent / "rubrics" / "csc420-a2.yaml").read_text()
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("filters: 20", "filters: 10"))
    code, out, _ = run("reference", str(changed), "--json")
    assert code == ExitCode.OK
    assert json.loads(out)["questions"]["q3_flops_no_bias"]["answer"] == 1_153_840 // 2


def test_template_round_trips_with_reference_answers(tmp_path: Path) -> None:
    code, out, _ = run("template", "apl405-hw2")
    assert code == ExitCode.OK and "q4_iv_iters_per_epoch:" in out
    import yaml

    assert set(yaml.safe_load(out)) >= {"q4_iv_iters_per_epoch", "q1_threshold_net"}


def test_internal_error_exits_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import grader.cli as cli_module

    def boom() -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(cli_module.cli, "main", lambda **_: boom())
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    assert exit_info.value.code == ExitCode.INTERNAL_ERROR
    assert "internal error" in capsys.readouterr().err
