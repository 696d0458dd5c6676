"""Broken rubrics: every error names the file, the line, the question and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.core.rubric import RubricError, builtin_names, load_rubric, resolve_assignment

GOOD_QUESTION = """
  - id: q1
    kind: number
    points: 5
    reference: {function: mlp_params, params: {sizes: [784, 10]}}
"""

BROKEN = [
    ("unknown kind", "  - id: q2\n    kind: magic\n    points: 1\n", ["questions[1]", "'q2'", ":9:", "kind"]),
    ("missing points", "  - id: q2\n    kind: manual\n", ["'q2'", "points", "Field required"]),
    ("negative points", "  - id: q2\n    kind: manual\n    points: -1\n", ["'q2'", "points", ":10:"]),
    ("typo in field", "  - id: q2\n    kind: manual\n    points: 1\n    hiden: true\n", ["hiden", ":11:"]),
    ("bad tolerance", "  - id: q2\n    kind: number\n    points: 1\n    tolerance: {mode: fuzzy}\n"
     "    reference: {function: mlp_params, params: {sizes: [1, 2]}}\n", ["'q2'", "tolerance"]),
    ("duplicate id", "  - id: q1\n    kind: manual\n    points: 1\n", ["appears twice"]),
    ("unknown reference", "  - id: q2\n    kind: number\n    points: 1\n"
     "    reference: {function: nope}\n", ["'q2'", "reference.function", "unknown reference function"]),
    ("reference params wrong", "  - id: q2\n    kind: number\n    points: 1\n"
     "    reference: {function: mlp_params, params: {sizez: [1]}}\n", ["'q2'", "sizez"]),
    ("mistake params wrong", "  - id: q2\n    kind: number\n    points: 1\n"
     "    reference: {function: mlp_params, params: {sizes: [2, 1]}}\n"
     "    known_mistakes: [{name: m, feedback: f, params: {bias: sometimes}}]\n", ["known_mistakes.m", "bias"]),
    ("reference fails to compute", "  - id: q2\n    kind: number\n    points: 1\n"
     "    reference: {function: conv_pool_flops, params: {in_channels: 1, in_size: 2, filters: 1,"
     " kernel: 5, pool_kernel: 1}}\n", ["'q2'", "does not fit"]),
    ("mistake with both sources", "  - id: q2\n    kind: number\n    points: 1\n"
     "    reference: {function: mlp_params, params: {sizes: [2, 1]}}\n"
     "    known_mistakes: [{name: m, feedback: f, value: 1, params: {}}]\n", ["exactly one of"]),
]


def _rubric(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text("schema_version: 1\nassignment: t\nquestions:" + GOOD_QUESTION + extra)
    return path


@pytest.mark.parametrize(("extra", "needles"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_located_errors(tmp_path: Path, extra: str, needles: list[str]) -> None:
    path = _rubric(tmp_path, extra)
    with pytest.raises(RubricError) as err:
        load_rubric(path, compute_references=True)
    text = "\n".join(err.value.problems)
    assert str(path) in text
    for needle in needles:
        assert needle in text, text


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("assignment: t\nquestions: [\n  {id: q1\n")
    with pytest.raises(RubricError, match=r"r\.yaml:\d+:\d+: not valid YAML"):
        load_rubric(path)


def test_good_rubric_loads(tmp_path: Path) -> None:
    assert load_rubric(_rubric(tmp_path, ""), compute_references=True).rubric.max_score == 5


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_rubrics_validate_and_compute(name: str) -> None:
    loaded = load_rubric(resolve_assignment(name), compute_references=True)
    assert loaded.rubric.assignment == name


def test_builtins_have_every_contract_question_id() -> None:
    expected = {
        "csc420-a2": ["q1_effective_weight", "q1_effective_bias", "q1_proof", "q2_dL_dw3", "q3_flops_no_bias",
                      "q3_flops_with_bias", "q4_lenet_params", "q5_sigmoid_grad_from_output", "q5_argument",
                      "q6a_tanh_range", "q6b_tanh_grad", "q6c_when_to_use", "p2_mlp_model"],
        "tdt4265-a2": ["t1a_hidden_delta", "t1b_grad_shape_w1", "t1b_grad_shape_w2", "t2d_params",
                       "t4d_width_for_equal_params", "t4d_params_two_hidden", "t4e_params_ten_hidden", "t2_model"],
        "apl405-hw2": ["q1_threshold_net", "q2_relu_zero_grads", "q3a_graph", "q3b_x_bar", "q4_iii_params",
                       "q4_iv_iters_per_epoch", "q4_v_model", "q4_xii_params", "q4_xiii_model", "q5_i_u3flat",
                       "q5_ii_model"],
        "csc411-a1": ["p3a_softmax_grad", "p3b_gradient_code", "p4_momentum_code", "p6_complexity"],
    }
    for name, ids in expected.items():
        assert [q.id for q in load_rubric(resolve_assignment(name)).rubric.questions] == ids


EXTENDS = [
    ("unknown base", "extends: nope\nassignment: x\n", "field extends: unknown assignment"),
    ("unknown override", "extends: csc420-a2\nassignment: x\noverrides: {q99: {points: 1}}\n", "no question 'q99'"),
    ("override breaks a field", "extends: csc420-a2\nassignment: x\noverrides: {q2_dL_dw3: {points: -1}}\n",
     "'q2_dL_dw3'"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in EXTENDS], ids=[c[0] for c in EXTENDS])
def test_extends_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "derived.yaml"
    path.write_text(text)
    with pytest.raises(RubricError, match=message):
        load_rubric(path)


def test_extends_merges_overrides_deeply(tmp_path: Path) -> None:
    path = tmp_path / "derived.yaml"
    path.write_text("extends: csc420-a2\nassignment: mine\n"
                    "overrides: {q3_flops_no_bias: {points: 1, reference: {params: {filters: 10}}}}\n")
    rubric = load_rubric(path).rubric
    q3 = rubric.question("q3_flops_no_bias")
    assert rubric.assignment == "mine" and q3.points == 1
    assert q3.reference_params_for(rubric.context())["in_channels"] == 50  # type: ignore[attr-defined]
    assert q3.reference_answer(rubric.context()) == 1_153_840 // 2
