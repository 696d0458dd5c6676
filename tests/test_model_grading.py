"""Grading model questions end to end: the example submissions, scoring, failures, batching."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import safetensors.torch
import torch
from click.testing import CliRunner

from grader.checkers.base import GradingContext, Verdict
from grader.checkers.model import ModelQuestion, accuracy_credit, prefetch_models
from grader.cli import cli
from grader.core.rubric import load_rubric

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "submissions_example"


def grade(submission: Path, assignment: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["grade", str(submission), "-a", assignment])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.output)
    return {q["id"]: q for q in report["questions"]}


# --- the example submissions ------------------------------------------------------------------

EXAMPLE_CASES = [
    ("csc420-a2", "alice", "p2_mlp_model", "correct", ["held-out images", "Per class", "reaches"]),
    (
        "csc420-a2",
        "bob",
        "p2_mlp_model",
        "incorrect",
        ["not the architecture", "0.weight 100×784", "79,510 parameters", "795,010"],
    ),
    ("csc420-a2", "carol.yaml", "p2_mlp_model", "invalid", ["outside your submission"]),
    (
        "csc420-a2",
        "dave",
        "p2_mlp_model",
        "error",
        ["__main__.Net", "torch.save(model.state_dict()"],
    ),
    ("tdt4265-a2", "alice", "t2_model", "correct", ["Most confused"]),
    ("tdt4265-a2", "bob", "t2_model", "partial", ["short of full marks", "Most confused"]),
    ("tdt4265-a2", "carol.json", "t2_model", "invalid", ["outside your submission"]),
    ("apl405-hw2", "alice", "q4_v_model", "correct", ["reference recipe reaches"]),
    ("apl405-hw2", "alice", "q4_xiii_model", "correct", ["reference recipe reaches"]),
    ("apl405-hw2", "alice", "q5_ii_model", "correct", ["reference recipe reaches"]),
    (
        "apl405-hw2",
        "bob",
        "q5_ii_model",
        "incorrect",
        ["tensor 'W4' has shape 432×200, expected 588×200"],
    ),
    ("apl405-hw2", "bob", "q4_v_model", "missing", []),
]


@pytest.fixture(scope="module")
def example_reports() -> dict[tuple[str, str], dict[str, Any]]:
    pairs = sorted({(a, s) for a, s, *_ in EXAMPLE_CASES})
    return {(a, s): grade(EXAMPLES / a / s, a) for a, s in pairs}


@pytest.mark.parametrize(
    ("assignment", "submission", "question", "status", "fragments"),
    EXAMPLE_CASES,
    ids=[f"{a}/{s}:{q}" for a, s, q, *_ in EXAMPLE_CASES],
)
def test_example_models_grade_as_intended(
    example_reports: dict[tuple[str, str], dict[str, Any]],
    assignment: str,
    submission: str,
    question: str,
    status: str,
    fragments: list[str],
) -> None:
    result = example_reports[(assignment, submission)][question]
    assert result["status"] == status, result["feedback"]
    for fragment in fragments:
        assert fragment in result["feedback"]
    if status in ("correct", "partial"):
        details = result["details"]
        assert 0 < details["accuracy"] <= 1 and details["heldout_size"] == 500
        assert set(details["per_class_accuracy"]) == {str(d) for d in range(10)}
        assert result["feedback"].startswith("your model reaches")


def test_scores_follow_the_credit_line(
    example_reports: dict[tuple[str, str], dict[str, Any]],
) -> None:
    bob = example_reports[("tdt4265-a2", "bob")]["t2_model"]
    details = bob["details"]
    credit = (details["accuracy"] - 0.1) / (details["full_marks_from"] - 0.1)
    assert bob["score"] == pytest.approx(50 * credit, abs=1e-4)


CREDITS = [
    ("at full marks", 0.93, 0.93, 0.1, 1.0),
    ("above the baseline", 0.99, 0.93, 0.1, 1.0),
    ("at chance", 0.1, 0.93, 0.1, 0.0),
    ("below chance", 0.05, 0.93, 0.1, 0.0),
    ("half way", 0.5, 0.9, 0.1, 0.5),
    ("baseline at chance", 0.5, 0.1, 0.1, 1.0),
    ("baseline below chance, model too", 0.05, 0.08, 0.1, 0.0),
]


@pytest.mark.parametrize(
    ("name", "accuracy", "full_at", "chance", "credit"), CREDITS, ids=[c[0] for c in CREDITS]
)
def test_accuracy_credit(
    name: str, accuracy: float, full_at: float, chance: float, credit: float
) -> None:
    assert accuracy_credit(accuracy, full_at, chance) == pytest.approx(credit)


# --- a small rubric of our own: failures, limits, baselines -----------------------------------

ARCHITECTURE = """
    architecture:
      input: [784]
      layers:
        - {type: linear, out_features: 10, weight_name: W, bias_name: b, layout: in_out}
        - {type: softmax}
    preprocess: {scale: 255}"""
RECIPE = """
    baseline:
      function: train_classifier
      params: {optimizer: sgd, lr: 0.5, batch_size: 100, iterations: 150, seed: SEED}"""


def question(qid: str, extra: str = "", seed: int = 7) -> str:
    return (
        f"  - id: {qid}\n    kind: model\n    points: 10{ARCHITECTURE}"
        + RECIPE.replace("SEED", str(seed))
        + (f"\n    {extra}" if extra else "")
        + "\n"
    )


RUBRIC = "assignment: tiny\nquestions:\n" + "".join(
    [
        question("good"),
        question("nan"),
        question("zeros"),
        question("checkpoint"),
        question("slow", "limits: {wall_seconds: 0.05}"),
        question("small", "limits: {max_file_mb: 0.001}"),
        question("unbaselined", seed=8),
    ]
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A rubric, its baseline record (written by `grader baseline`) and a submission."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "tiny.yaml").write_text(RUBRIC)
    baselines = root / "baselines"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADER_BASELINE_DIR", str(baselines))
        result = CliRunner().invoke(cli, ["baseline", str(root / "tiny.yaml"), "good"])
    assert result.exit_code == 0, result.output
    assert "held-out accuracy" in result.output
    submission = root / "sub"
    submission.mkdir()
    weights = _trained_weights(root / "tiny.yaml")
    safetensors.torch.save_file(weights, str(submission / "good.safetensors"))
    safetensors.torch.save_file(
        {k: torch.full_like(v, float("nan")) for k, v in weights.items()},
        str(submission / "nan.safetensors"),
    )
    safetensors.torch.save_file(
        {k: torch.zeros_like(v) for k, v in weights.items()}, str(submission / "zeros.safetensors")
    )
    torch.save({"epoch": 2, "state_dict": weights}, str(submission / "ckpt.pt"))
    (submission / "answers.yaml").write_text(
        "good: good.safetensors\nnan: nan.safetensors\nzeros: zeros.safetensors\n"
        "checkpoint: ckpt.pt\nslow: good.safetensors\nsmall: good.safetensors\n"
        "unbaselined: good.safetensors\n"
    )
    return {"rubric": root / "tiny.yaml", "submission": submission, "baselines": baselines}


def _trained_weights(rubric: Path) -> dict[str, torch.Tensor]:
    from grader.models.build import export_tensors
    from grader.models.data import embedded_digits
    from reference.training import BaselineJob, train_network

    q = load_rubric(rubric).rubric.question("good")
    assert isinstance(q, ModelQuestion)
    params = q.job_params()
    params["recipe"] = {**params["recipe"], "seed": 1}
    net = train_network(BaselineJob.model_validate(params), embedded_digits()).net
    return export_tensors(net, {"l0.weight": "W", "l0.bias": "b"})


TINY_CASES = [
    ("good", "correct", ["reaches"]),
    ("nan", "incorrect", ["NaN or infinity for all 500", "7,850 of its weights"]),
    ("zeros", "incorrect", ["reaches 10.0%", "none at 10.0% (chance)"]),
    ("checkpoint", "correct", ["reaches"]),
    ("slow", "error", ["did not finish evaluating within 0.05 s"]),
    ("small", "error", ["at most 0.001 MB"]),
    ("unbaselined", "error", ["no baseline", "tell your instructor"]),
]


@pytest.fixture(scope="module")
def tiny_report(tiny: dict[str, Path]) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADER_BASELINE_DIR", str(tiny["baselines"]))
        return grade(tiny["submission"], str(tiny["rubric"]))


@pytest.mark.parametrize(("qid", "status", "fragments"), TINY_CASES, ids=[c[0] for c in TINY_CASES])
def test_failures_are_statuses_with_reasons(
    tiny_report: dict[str, Any], qid: str, status: str, fragments: list[str]
) -> None:
    result = tiny_report[qid]
    assert result["status"] == status, result["feedback"]
    for fragment in fragments:
        assert fragment in result["feedback"]


OUTCOMES = [
    (
        "worker crash",
        {"status": "error", "reason": "worker: Segmentation fault"},
        "error",
        "could not be evaluated: Segmentation fault",
    ),
    (
        "wrong output shape",
        {"status": "shape", "reason": "the output has shape [500, 9]"},
        "error",
        "shape [500, 9]",
    ),
    (
        "memory limit",
        {"status": "memory", "reason": "worker: out of memory"},
        "error",
        "more than 3072 MB",
    ),
    ("time limit", {"status": "timeout"}, "error", "within 120 s"),
    ("no predictions", {"status": "ok"}, "error", "no predictions"),
    (
        "some rows NaN",
        {"status": "nonfinite", "nonfinite_rows": 3, "keep": 497},
        "correct",
        "3 images gave NaN",
    ),
    (
        "every row NaN",
        {"status": "nonfinite", "nonfinite_rows": 500, "keep": 0},
        "incorrect",
        "NaN or infinity for all 500",
    ),
]


@pytest.mark.parametrize(
    ("name", "outcome", "status", "fragment"), OUTCOMES, ids=[o[0] for o in OUTCOMES]
)
def test_worker_outcomes_become_statuses(
    tiny: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    outcome: dict[str, Any],
    status: str,
    fragment: str,
) -> None:
    import numpy as np

    from grader.models.data import embedded_digits
    from grader.models.evaluate import EvalOutcome

    monkeypatch.setenv("GRADER_BASELINE_DIR", str(tiny["baselines"]))
    q = load_rubric(tiny["rubric"]).rubric.question("good")
    assert isinstance(q, ModelQuestion)
    prepared = q.prepare("good.safetensors", GradingContext(tiny["submission"], "s"))
    assert not isinstance(prepared, Verdict)
    fields = dict(outcome)
    keep = fields.pop("keep", None)
    if keep is not None:  # right answers where finite, -1 where the worker saw NaN
        labels = embedded_digits().y_heldout
        fields["predictions"] = np.where(np.arange(500) < keep, labels, -1)
    verdict = q.judge(prepared, EvalOutcome(**fields))
    assert verdict.status.value == status, verdict.feedback
    assert fragment in verdict.feedback


def test_missing_baseline_is_a_rubric_problem_that_names_the_command(
    tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADER_BASELINE_DIR", str(tiny["baselines"]))
    result = CliRunner().invoke(cli, ["rubric", "validate", str(tiny["rubric"])])
    assert result.exit_code == 2
    assert (
        "'unbaselined'" in result.output
        and "grader baseline ASSIGNMENT unbaselined" in result.output
    )
    assert "'good'" not in result.output


def test_one_worker_call_grades_every_model_of_a_submission(
    tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import grader.sandbox

    monkeypatch.setenv("GRADER_BASELINE_DIR", str(tiny["baselines"]))
    calls: list[str] = []
    real = grader.sandbox.run_python

    def counting(module: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(module)
        return real(module, *args, **kwargs)

    monkeypatch.setattr(grader.sandbox, "run_python", counting)
    rubric = load_rubric(tiny["rubric"]).rubric
    questions = [rubric.question(q) for q in ("good", "checkpoint", "zeros")]
    answers = {"good": "good.safetensors", "checkpoint": "ckpt.pt", "zeros": "zeros.safetensors"}
    ctx = GradingContext(submission_root=tiny["submission"], student="s")
    assert prefetch_models(list(questions), answers, ctx) == 3
    verdicts = [q.grade(answers[q.id], ctx) for q in questions]
    assert calls == ["grader.models.worker_eval"]
    assert [v.status.value for v in verdicts] == ["correct", "correct", "incorrect"]


def test_one_worker_call_for_models_of_different_input_shapes() -> None:
    """APL405's FNN (784 inputs) and CNN (1×28×28) share the same pixels in one call."""
    rubric = load_rubric(REPO / "rubrics" / "apl405-hw2.yaml").rubric
    questions = [rubric.question(q) for q in ("q4_v_model", "q4_xiii_model", "q5_ii_model")]
    answers = {
        "q4_v_model": "fnn.safetensors",
        "q4_xiii_model": "fivelayers.pt",
        "q5_ii_model": "cnn.safetensors",
    }
    ctx = GradingContext(submission_root=EXAMPLES / "apl405-hw2" / "alice", student="alice")
    assert prefetch_models(questions, answers, ctx) == 3
    verdicts = [q.grade(answers[q.id], ctx) for q in questions]
    assert [v.status.value for v in verdicts] == ["correct"] * 3, [v.feedback for v in verdicts]


def test_grader_reference_prints_the_baseline_records() -> None:
    result = CliRunner().invoke(cli, ["reference", "apl405-hw2", "--json"])
    assert result.exit_code == 0, result.output
    questions = json.loads(result.output)["questions"]
    for qid in ("q4_v_model", "q4_xiii_model", "q5_ii_model"):
        record = next((REPO / "reference" / "baselines").glob(f"apl405-hw2.{qid}.*.json"))
        answer = questions[qid]["answer"]
        assert answer["baseline_accuracy"] == json.loads(record.read_text())["heldout_accuracy"]
        assert answer["full_marks_from"] == pytest.approx(answer["baseline_accuracy"] - 0.03)
        assert questions[qid]["params"]["param_count"] > 0


@pytest.mark.parametrize("assignment", ["csc420-a2", "tdt4265-a2", "apl405-hw2"])
def test_builtin_rubrics_validate_with_their_shipped_baselines(assignment: str) -> None:
    result = CliRunner().invoke(
        cli, ["rubric", "validate", str(REPO / "rubrics" / f"{assignment}.yaml")]
    )
    assert result.exit_code == 0, result.output


# --- torch stays out of the grading process ---------------------------------------------------

TORCH_FREE = [
    ("answers only", "tdt4265-a2", EXAMPLES / "tdt4265-a2" / "carol.json"),
    ("with a model", "tdt4265-a2", EXAMPLES / "tdt4265-a2" / "alice"),
]


@pytest.mark.parametrize(
    ("name", "assignment", "submission"), TORCH_FREE, ids=[t[0] for t in TORCH_FREE]
)
def test_grader_check_never_imports_torch(name: str, assignment: str, submission: Path) -> None:
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from grader.cli import cli\n"
        f"result = CliRunner().invoke(cli, ['check', {str(submission)!r}, '-a', {assignment!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in ('torch', 'sklearn', 'safetensors') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


CHANCE = [
    ("just above chance: 0 points, told so", 52, "incorrect", "your model is at chance"),
    ("clearly above chance: partial", 100, "partial", "short of full marks"),
]


@pytest.mark.parametrize(("keep", "status", "fragment"), [c[1:] for c in CHANCE], ids=[c[0] for c in CHANCE])
def test_a_model_at_chance_earns_nothing_and_is_told(
    tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch, keep: int, status: str, fragment: str,
) -> None:
    import numpy as np

    from grader.models.data import embedded_digits
    from grader.models.evaluate import EvalOutcome

    monkeypatch.setenv("GRADER_BASELINE_DIR", str(tiny["baselines"]))
    q = load_rubric(tiny["rubric"]).rubric.question("good")
    assert isinstance(q, ModelQuestion)
    prepared = q.prepare("good.safetensors", GradingContext(tiny["submission"], "s"))
    assert not isinstance(prepared, Verdict)
    labels = embedded_digits().y_heldout[:500]
    predictions = np.where(np.arange(len(labels)) < keep, labels, (labels + 1) % 10)
    verdict = q.judge(prepared, EvalOutcome(status="ok", predictions=predictions))
    assert verdict.status.value == status and fragment in verdict.feedback, verdict.feedback
    assert (verdict.credit == 0) == (status == "incorrect")
