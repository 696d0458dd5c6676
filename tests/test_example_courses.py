"""The two example courses (courses/) validate and grade their example submissions as expected:
every question's status, and the known mistake each mistaken answer is recognised as."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader.core.grading import grade_path
from grader.core.rubric import load_rubric

COURSES = Path(__file__).resolve().parent.parent / "courses"

EXPECTED: dict[tuple[str, str], dict[str, tuple[str, str | None]]] = {
    ("cnn-optim", "correct"): {
        **{q: ("correct", None) for q in (
            "q1_output_shape", "q2_receptive_field", "q3_separable_params", "q4_batchnorm_params",
            "q5_conv_values", "q6_maxpool_values", "q7_adam_two_steps", "q8_nesterov", "q9_cosine_lr",
            "q10_he_std", "q11_backprop", "q12_flops", "q13_conv_code")},
        "q14_why_batchnorm": ("manual", None),
    },
    ("cnn-optim", "mistaken"): {
        "q1_output_shape": ("incorrect", "dilation_ignored"),
        "q2_receptive_field": ("incorrect", "strides_ignored"),
        "q3_separable_params": ("incorrect", "standard_conv"),
        "q4_batchnorm_params": ("incorrect", "running_stats"),
        "q5_conv_values": ("incorrect", "flipped_kernel"),
        "q6_maxpool_values": ("incorrect", "average"),
        "q7_adam_two_steps": ("incorrect", "no_bias_correction"),
        "q8_nesterov": ("incorrect", "plain_momentum"),
        "q9_cosine_lr": ("incorrect", None),
        "q10_he_std": ("incorrect", "xavier"),
        "q11_backprop": ("incorrect", "sigmoid_derivative"),
        "q12_flops": ("incorrect", "mac_as_one"),
        "q13_conv_code": ("incorrect", "flipped"),
        "q14_why_batchnorm": ("missing", None),
    },
    ("attention", "correct"): {
        **{q: ("correct", None) for q in (
            "a1_attention_params", "a2_block_params", "a3_lstm_params", "a4_attention_weights",
            "a5_cross_entropy", "a6_score_shape", "a7_causal", "a8_query_gradient", "a9_scaled_sigmoid_grad",
            "a10_attention_code", "a11_layernorm_code")},
        "a12_why_scale": ("manual", None),
    },
    ("attention", "mistaken"): {
        "a1_attention_params": ("incorrect", "no_output_projection"),
        "a2_block_params": ("incorrect", "norms_left_out"),
        "a3_lstm_params": ("correct", "one_bias_per_gate"),
        "a4_attention_weights": ("incorrect", "unscaled"),
        "a5_cross_entropy": ("incorrect", "log2"),
        "a6_score_shape": ("incorrect", None),
        "a7_causal": ("incorrect", None),
        "a8_query_gradient": ("incorrect", None),
        "a9_scaled_sigmoid_grad": ("incorrect", None),
        "a10_attention_code": ("partial", "unscaled"),
        "a11_layernorm_code": ("incorrect", "unbiased"),
        "a12_why_scale": ("missing", None),
    },
}
UNREADABLE = {"cnn-optim": ["invalid"] * 12 + ["error", "missing"],
              "attention": ["invalid"] * 10 + ["error", "missing"]}


def _report(course: str, student: str) -> Any:
    loaded = load_rubric(COURSES / course / f"{course}.yaml")
    return grade_path(loaded, COURSES / course / "submissions" / student)


@pytest.mark.parametrize("course", ["cnn-optim", "attention"])
def test_example_course_validates(course: str) -> None:
    rubric = load_rubric(COURSES / course / f"{course}.yaml", compute_references=True).rubric
    assert rubric.assignment == course


@pytest.mark.parametrize(("course", "student"), list(EXPECTED), ids=[f"{c}-{s}" for c, s in EXPECTED])
def test_example_course_grades_as_expected(course: str, student: str) -> None:
    report = _report(course, student)
    got = {q.id: (q.status, q.mistake) for q in report.questions}
    assert got == EXPECTED[(course, student)]


@pytest.mark.parametrize("course", list(UNREADABLE))
def test_example_course_unreadable_answers_are_invalid(course: str) -> None:
    report = _report(course, "unreadable")
    assert [q.status for q in report.questions] == UNREADABLE[course]
    assert report.score == 0
