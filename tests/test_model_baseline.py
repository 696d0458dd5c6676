"""Reference training: `grader baseline` retrains the shipped records, deterministically.

Tolerance: a retrained baseline must reach the shipped held-out accuracy within 0.01 (5 of the
500 held-out images). On the machine that wrote the records the match is exact; another CPU's
BLAS may round differently and move a few borderline images.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from grader.cli import cli
from grader.models.data import embedded_digits
from reference.training import BaselineJob, learning_rate, train_network

REPO = Path(__file__).resolve().parent.parent
TOLERANCE = 0.01


def shipped(assignment: str, question: str) -> dict[str, Any]:
    path = next((REPO / "reference" / "baselines").glob(f"{assignment}.{question}.*.json"))
    record: dict[str, Any] = json.loads(path.read_text())
    return record


def retrain(tmp_path: Path, assignment: str, question: str, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli, ["baseline", assignment, question, "-o", str(tmp_path), *extra]
    )
    assert result.exit_code == 0, result.output
    assert f"{question}: held-out accuracy" in result.output
    path = next(tmp_path.glob(f"*.{question}.*.json"))
    record: dict[str, Any] = json.loads(path.read_text())
    return record


def check_against_shipped(record: dict[str, Any], assignment: str, question: str) -> None:
    reference = shipped(assignment, question)
    assert record["spec_sha256"] == reference["spec_sha256"]
    assert record["data_fingerprint"] == reference["data_fingerprint"]
    assert record["seed"] == reference["seed"]
    assert abs(record["heldout_accuracy"] - reference["heldout_accuracy"]) <= TOLERANCE
    assert record["versions"]["torch"] and record["train_seconds"] > 0


def test_smallest_baseline_retrains_to_the_shipped_accuracy(tmp_path: Path) -> None:
    record = retrain(tmp_path, "tdt4265-a2", "t2_model")
    check_against_shipped(record, "tdt4265-a2", "t2_model")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("assignment", "question"),
    [
        ("csc420-a2", "p2_mlp_model"),
        ("apl405-hw2", "q4_v_model"),
        ("apl405-hw2", "q4_xiii_model"),
        ("apl405-hw2", "q5_ii_model"),
    ],
    ids=["csc420 mlp", "apl405 fnn", "apl405 five layers", "apl405 cnn"],
)
def test_every_baseline_retrains_to_the_shipped_accuracy(
    tmp_path: Path, assignment: str, question: str
) -> None:
    check_against_shipped(retrain(tmp_path, assignment, question), assignment, question)


def test_training_is_deterministic() -> None:
    job = BaselineJob.model_validate(
        {
            "architecture": {
                "input": [784],
                "layers": [
                    {"type": "linear", "out_features": 16},
                    {"type": "sigmoid"},
                    {"type": "linear", "out_features": 10},
                ],
            },
            "preprocess": {"scale": 255},
            "recipe": {
                "optimizer": "adam",
                "lr": 0.01,
                "batch_size": 50,
                "iterations": 60,
                "seed": 3,
            },
        }
    )
    first = train_network(job, embedded_digits())
    second = train_network(job, embedded_digits())
    for key, tensor in first.net.tensors.items():
        assert torch.equal(tensor, second.net.tensors[key])
    assert np.array_equal(first.heldout_predictions, second.heldout_predictions)


SCHEDULES = [
    ("constant", {"lr": 0.1}, [(0, 0.1), (5000, 0.1)]),
    (
        "the sheet's decay",
        {"lr": 0.003, "schedule": {"kind": "exp_decay", "lr_min": 0.0001, "tau": 2000}},
        [(0, 0.003), (2000, 0.0001 + 0.0029 * np.exp(-1)), (10**6, 0.0001)],
    ),
    (
        "StepLR",
        {"lr": 0.05, "schedule": {"kind": "step", "step_size": 100, "gamma": 0.1}},
        [(99, 0.05), (100, 0.005), (250, 0.0005)],
    ),
]


@pytest.mark.parametrize(("name", "recipe", "points"), SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_learning_rate_schedules(
    name: str, recipe: dict[str, Any], points: list[tuple[int, float]]
) -> None:
    from reference.training import Recipe

    parsed = Recipe.model_validate({"batch_size": 1, "iterations": 1, **recipe})
    for iteration, rate in points:
        assert learning_rate(parsed, iteration) == pytest.approx(rate)


def test_baseline_on_a_course_npz_is_found_when_grading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = embedded_digits()
    np.savez(
        tmp_path / "course.npz",
        x_train=data.x_train[:600],
        y_train=data.y_train[:600],
        x_test=data.x_heldout[:200],
        y_test=data.y_heldout[:200],
    )
    rubric = (REPO / "rubrics" / "tdt4265-a2.yaml").read_text()
    rubric = rubric.replace(
        "    data: {source: embedded-digits}\n", "    data: {source: npz, path: course.npz}\n"
    )
    assert "source: npz" in rubric
    (tmp_path / "course.yaml").write_text(rubric)
    monkeypatch.setenv("GRADER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GRADER_BASELINE_DIR", str(tmp_path / "baselines"))

    before = CliRunner().invoke(cli, ["rubric", "validate", str(tmp_path / "course.yaml")])
    assert before.exit_code == 2 and "--data PATH" in before.output
    record = retrain(
        tmp_path / "baselines",
        str(tmp_path / "course.yaml"),
        "t2_model",
        "--data",
        str(tmp_path / "course.npz"),
    )
    assert record["heldout_size"] == 200 and record["train_size"] == 600
    after = CliRunner().invoke(cli, ["rubric", "validate", str(tmp_path / "course.yaml")])
    assert after.exit_code == 0, after.output

    graded = CliRunner().invoke(
        cli,
        [
            "grade",
            str(REPO / "submissions_example/tdt4265-a2/alice"),
            "-a",
            str(tmp_path / "course.yaml"),
        ],
    )
    question = next(q for q in json.loads(graded.output)["questions"] if q["id"] == "t2_model")
    assert question["details"]["heldout_size"] == 200
    assert question["details"]["baseline_accuracy"] == record["heldout_accuracy"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["tdt4265-a2", "t2d_params"], "no model question 't2d_params'"),
        (["csc411-a1", "p3b_gradient_code"], "csc411-a1 has no model questions: there is no baseline to train"),
        (["no-such-assignment"], "unknown assignment"),
    ],
    ids=["not a model question", "assignment without models", "unknown assignment"],
)
def test_baseline_usage_errors(args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(cli, ["baseline", *args])
    assert result.exit_code == 2
    assert fragment in result.output


@pytest.mark.slow
@pytest.mark.parametrize(
    "kernels",
    [None, "avx2"],
    ids=["this CPU's kernels", "AVX2 kernels, as on a CPU without AVX-512"],
)
def test_example_models_regenerate_identically(kernels: str | None) -> None:
    """The committed example models are what their recipes train on any x86-64 CPU: the same
    tensors and held-out accuracy (weights differ by up to 0.74 between AVX-512 and AVX2)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    if kernels is not None:
        env["ATEN_CPU_CAPABILITY"] = kernels  # torch's kernel choice, lowered as on an older CPU
    result = subprocess.run(
        [sys.executable, "scripts/make_example_models.py", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("same") == 9
