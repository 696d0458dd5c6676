"""Architectures as rubric data: shapes, parameter counts, matching tensors, the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from grader.checkers.model import ModelQuestion
from grader.core.rubric import RubricError, load_rubric, resolve_assignment
from grader.models.build import SpecNetwork, load_into
from grader.models.formats import TensorInfo
from grader.models.matching import match_tensors
from grader.models.spec import Architecture


def builtin(assignment: str, question: str) -> ModelQuestion:
    q = load_rubric(resolve_assignment(assignment)).rubric.question(question)
    assert isinstance(q, ModelQuestion)
    return q


# facts: ASSIGNMENTS.md (t2d's bias-trick count, q4_xii, q5_i's U3flat = 588 feeding W4)
BUILTIN_COUNTS = [
    ("csc420-a2", "p2_mlp_model", 784 * 1000 + 1000 + 1000 * 10 + 10),
    ("tdt4265-a2", "t2_model", 50_880),
    ("apl405-hw2", "q4_v_model", 784 * 200 + 200 + 200 * 10 + 10),
    ("apl405-hw2", "q4_xiii_model", 185_300),
    (
        "apl405-hw2",
        "q5_ii_model",
        4 * 25 + 4 + 8 * 4 * 25 + 8 + 12 * 8 * 16 + 12 + 588 * 200 + 200 + 200 * 10 + 10,
    ),
]


@pytest.mark.parametrize(
    ("assignment", "question", "count"),
    BUILTIN_COUNTS,
    ids=[f"{a}:{q}" for a, q, _ in BUILTIN_COUNTS],
)
def test_builtin_architectures_count_their_parameters(
    assignment: str, question: str, count: int
) -> None:
    arch = builtin(assignment, question).architecture
    assert arch.param_count() == count
    assert arch.output_shape == (10,)


def test_cnn_flattens_to_u3flat() -> None:
    shapes = builtin("apl405-hw2", "q5_ii_model").architecture.shapes()
    assert shapes[4] == (12, 7, 7)
    assert shapes[6] == (588,)


BAD_ARCHITECTURES = [
    (
        "linear after conv without flatten",
        {
            "input": [1, 28, 28],
            "layers": [
                {"type": "conv2d", "out_channels": 2, "kernel": 3},
                {"type": "linear", "out_features": 10},
            ],
        },
        "add a flatten",
    ),
    (
        "kernel larger than input",
        {"input": [1, 4, 4], "layers": [{"type": "conv2d", "out_channels": 2, "kernel": 7}]},
        "does not fit",
    ),
    (
        "some layers named",
        {
            "input": [4],
            "layers": [
                {"type": "linear", "out_features": 3, "weight_name": "W1", "bias_name": "b1"},
                {"type": "linear", "out_features": 2},
            ],
        },
        "or none of them",
    ),
    (
        "bias trick with bias",
        {"input": [4], "layers": [{"type": "linear", "out_features": 3, "bias_trick": True}]},
        "bias: false",
    ),
    (
        "in_features contradicts the input",
        {"input": [784], "layers": [{"type": "linear", "out_features": 3, "in_features": 785}]},
        "in_features 785",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "fragment"), BAD_ARCHITECTURES, ids=[b[0] for b in BAD_ARCHITECTURES]
)
def test_inconsistent_architectures_are_rubric_errors(
    tmp_path: Path, name: str, data: Any, fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment):
        Architecture.model_validate(data)
    rubric = tmp_path / "r.yaml"
    import yaml

    rubric.write_text(
        yaml.safe_dump(
            {
                "assignment": "t",
                "questions": [
                    {
                        "id": "m",
                        "kind": "model",
                        "points": 1,
                        "architecture": data,
                        "baseline": {
                            "function": "train_classifier",
                            "params": {"lr": 0.1, "batch_size": 8, "iterations": 1},
                        },
                    }
                ],
            }
        )
    )
    with pytest.raises(RubricError) as err:
        load_rubric(rubric)
    assert "'m'" in str(err.value) and "architecture" in str(err.value)


def test_rubric_recipe_errors_are_located(tmp_path: Path) -> None:
    rubric = tmp_path / "r.yaml"
    rubric.write_text("""
assignment: t
questions:
  - id: m
    kind: model
    points: 1
    architecture: {input: [4], layers: [{type: linear, out_features: 2}]}
    baseline:
      function: train_classifier
      params: {lr: 0.1, batch_size: 8, iterations: 1, optimiser: adam}
""")
    with pytest.raises(RubricError) as err:
        load_rubric(rubric)
    assert "question 'm'" in str(err.value) and "baseline.params" in str(err.value)


# --- matching ---------------------------------------------------------------------------------

MLP = Architecture.model_validate(
    {
        "input": [6],
        "layers": [
            {"type": "linear", "out_features": 4},
            {"type": "relu"},
            {"type": "linear", "out_features": 4},
            {"type": "relu"},
            {"type": "linear", "out_features": 4},
            {"type": "relu"},
            {"type": "linear", "out_features": 2},
        ],
    }
)
NAMED = Architecture.model_validate(
    {
        "input": [6],
        "layers": [
            {
                "type": "linear",
                "out_features": 4,
                "weight_name": "W1",
                "bias_name": "b1",
                "layout": "in_out",
            },
            {"type": "sigmoid"},
            {
                "type": "linear",
                "out_features": 2,
                "weight_name": "W2",
                "bias_name": "b2",
                "layout": "in_out",
            },
        ],
    }
)


def infos(shapes: dict[str, tuple[int, ...]], dtype: str = "float32") -> dict[str, TensorInfo]:
    return {name: TensorInfo(name, dtype, shape) for name, shape in shapes.items()}


def linear_names(names: list[str]) -> dict[str, tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = [(4, 6), (4, 4), (4, 4), (2, 4)]
    out: dict[str, tuple[int, ...]] = {}
    for name, shape in zip(names, shapes, strict=True):
        out[f"{name}.weight"], out[f"{name}.bias"] = shape, shape[:1]
    return out


MATCHES = [
    ("nn.Sequential indices", MLP, linear_names(["0", "2", "4", "6"]), ["0", "2", "4", "6"]),
    (
        "fc2 before fc10",
        MLP,
        linear_names(["fc1", "fc2", "fc10", "fc11"]),
        ["fc1", "fc2", "fc10", "fc11"],
    ),
    (
        "nested modules",
        MLP,
        linear_names(["net.layers.0", "net.layers.1", "net.layers.2", "head"]),
        ["net.layers.0", "net.layers.1", "net.layers.2", "head"],
    ),
    (
        "names out of order, shapes decide",
        MLP,
        linear_names(["b", "c", "d", "a_out"]),
        ["b", "c", "d", "a_out"],
    ),
    (
        "starter-code names",
        NAMED,
        {"W1": (6, 4), "b1": (4,), "W2": (4, 2), "b2": (2,)},
        ["W1", "W2"],
    ),
]


@pytest.mark.parametrize(("name", "arch", "found", "order"), MATCHES, ids=[m[0] for m in MATCHES])
def test_files_match_by_structure_or_name(
    name: str, arch: Architecture, found: dict[str, tuple[int, ...]], order: list[str]
) -> None:
    match = match_tensors(arch, infos(found))
    assert match.ok, match.problems
    weights = [match.mapping[t.key] for t in arch.expected_tensors() if t.role == "weight"]
    assert [w.removesuffix(".weight") for w in weights] == order


MISMATCHES = [
    (
        "hidden layer too narrow",
        MLP,
        {**linear_names(["0", "2", "4", "6"]), "0.weight": (3, 6)},
        "layer 1 (linear, 4 units) should have weight 4×6 and bias 4, but your file's 0 has "
        "0.weight 3×6 and 0.bias 4",
    ),
    (
        "a layer missing",
        MLP,
        {k: v for k, v in linear_names(["0", "2", "4", "6"]).items() if not k.startswith("4.")},
        "and your file has no such layer",
    ),
    (
        "an extra batch-norm buffer",
        MLP,
        {**linear_names(["0", "2", "4", "6"]), "bn.running_mean": (4,)},
        "neither a layer's weight",
    ),
    (
        "bias missing",
        MLP,
        {k: v for k, v in linear_names(["0", "2", "4", "6"]).items() if k != "6.bias"},
        "but your file's 6 has 6.weight 2×4",
    ),
    (
        "transposed starter weight",
        NAMED,
        {"W1": (4, 6), "b1": (4,), "W2": (4, 2), "b2": (2,)},
        "tensor 'W1' has shape 4×6, expected 6×4",
    ),
    (
        "nn.Linear names for starter code",
        NAMED,
        {"fc1.weight": (4, 6), "fc1.bias": (4,), "fc2.weight": (2, 4), "fc2.bias": (2,)},
        "tensor 'W1' of shape 6×4 is missing",
    ),
]


@pytest.mark.parametrize(
    ("name", "arch", "found", "fragment"), MISMATCHES, ids=[m[0] for m in MISMATCHES]
)
def test_mismatches_list_expected_against_found(
    name: str, arch: Architecture, found: dict[str, tuple[int, ...]], fragment: str
) -> None:
    match = match_tensors(arch, infos(found))
    assert not match.ok and not match.mapping
    assert any(fragment in p for p in match.problems), match.problems
    assert match.expected_params == arch.param_count()
    assert match.found_params == sum(torch.Size(s).numel() for s in found.values())


def test_integer_tensors_are_refused_by_matching() -> None:
    match = match_tensors(
        NAMED, infos({"W1": (6, 4), "b1": (4,), "W2": (4, 2), "b2": (2,)}, dtype="int64")
    )
    assert any("floating point" in p for p in match.problems)


# --- the network built from data equals the sheets' code --------------------------------------


def test_named_cnn_runs_like_the_sheets_code() -> None:
    arch = builtin("apl405-hw2", "q5_ii_model").architecture
    torch.manual_seed(1)
    weights = {t.name or "": 0.1 * torch.randn(t.shape) for t in arch.expected_tensors()}
    net = SpecNetwork(arch)
    load_into(net, weights, {t.key: t.name or "" for t in arch.expected_tensors()})
    x = torch.rand(3, 1, 28, 28)
    w = weights
    q1 = F.relu(F.conv2d(x, w["W1"], bias=w["b1"], stride=1, padding=2))
    q2 = F.relu(F.conv2d(q1, w["W2"], bias=w["b2"], stride=2, padding=2))
    q3 = F.relu(F.conv2d(q2, w["W3"], bias=w["b3"], stride=2, padding=1))
    q4 = F.relu(q3.view(-1, 588).mm(w["W4"]) + w["b4"])
    expected = q4.mm(w["W5"]) + w["b5"]
    with torch.no_grad():
        assert torch.allclose(net(x), expected, atol=1e-6)


def test_bias_trick_appends_a_one_to_the_input() -> None:
    arch = builtin("tdt4265-a2", "t2_model").architecture
    torch.manual_seed(2)
    w0, w1 = torch.randn(785, 64), torch.randn(64, 10)
    net = SpecNetwork(arch)
    load_into(net, {"w0": w0, "w1": w1}, {"l0.weight": "w0", "l2.weight": "w1"})
    x = torch.randn(5, 784)
    hidden = torch.sigmoid(torch.cat([x, torch.ones(5, 1)], dim=1) @ w0)
    with torch.no_grad():
        assert torch.allclose(net(x), torch.softmax(hidden @ w1, dim=1), atol=1e-6)
