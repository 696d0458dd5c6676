"""`grader new COURSE_DIR/ASSIGNMENT`: an instructor-owned course folder with a worked example of
each question kind, the course's own references, a solution file, data and an example submission."""

from __future__ import annotations

import re
from pathlib import Path

import click

RUBRIC = """\
# {assignment}: a worked example of each question kind (docs/rubrics.md explains every field).
# Paths are relative to this file. `grader rubric validate {assignment}.yaml` checks it;
# `grader check submissions/{assignment}/example -a {assignment}.yaml` grades the example.
assignment: {assignment}
title: "{assignment} (scaffolded by grader new)"
# The course's own reference functions: Python files next to this rubric, trusted like it.
references: [references/{assignment}.py]
questions:
  # a number computed by the course's own reference function, with a known mistake
  - id: q1_dense_params
    kind: number
    points: 2
    text: "How many parameters has a dense layer from {{inputs}} inputs to {{outputs}} outputs?"
    reference: {{function: dense_params, params: {{inputs: 784, outputs: 10}}}}
    answer: 7850  # optional: `rubric validate` checks that it agrees with the reference
    known_mistakes:
      - {{name: no_bias, feedback: "your answer leaves out the biases", params: {{bias: false}}}}

  # a number computed by a reference-library function (see docs/rubrics.md for the list)
  - id: q2_conv_output
    kind: number_array
    points: 2
    text: "The output shape (channels, height, width) of a 3×3 convolution, 8 filters, stride 2, padding 1, on 3×32×32"
    reference:
      function: layer_output_shape
      params:
        input: [3, 32, 32]
        layers: [{{type: conv, out_channels: 8, kernel: 3, stride: 2, padding: 1}}]

  # backpropagation by hand: the loss as a sequence of definitions over given numbers
  - id: q2b_backprop
    kind: number
    points: 2
    text: >-
      z = w1 x, h = σ(z), ŷ = w2 h, L = (ŷ − y)²; w1 = 0.5, w2 = −1, x = 2, y = 1.
      ∂L/∂w1, every step rounded to 4 decimals
    reference:
      function: chain_rule_gradient
      params:
        definitions: {{z: "w1*x", h: "sigmoid(z)", y_hat: "w2*h", L: "(y_hat - y)^2"}}
        values: {{w1: 0.5, w2: -1, x: 2, y: 1}}
        wrt: w1
        round_decimals: 4
    accepted:
      - {{name: unrounded, feedback: "your answer is the exact value; fine", params: {{round_decimals: null}}}}
    known_mistakes:
      - name: sigma_of_minus_z
        feedback: "your answer takes σ(−z) for σ(z) at h"
        params: {{replace: {{h: "sigmoid(-z)"}}}}

  # literal answers: nothing to compute from
  - id: q3_learning_rate
    kind: number
    points: 1
    text: "The learning rate used in the lecture's example"
    answer: 0.01
  - id: q4_relu_dead
    kind: choice
    points: 1
    text: "Can a ReLU unit whose input is always negative learn? (yes/no)"
    options: ["yes", "no"]
    answer: "no"
  - id: q5_sigmoid_range
    kind: interval
    points: 1
    text: "The range of the logistic sigmoid"
    answer: "(0, 1)"
  - id: q6_graph
    kind: edges
    points: 1
    text: "The computation graph of h = relu(W x), L = loss(h)"
    nodes: [x, W, h, L]
    answer: ["x -> h", "W -> h", "h -> L"]
  - id: q7_sigmoid_grad
    kind: expression
    points: 2
    text: "dσ/dz written with y = σ(z) alone"
    variables: {{y: [0.05, 0.95]}}
    answer: "y*(1-y)"
  - id: q8_collapsed_weight
    kind: matrix_expression
    points: 2
    text: "y1 = W1 @ x, y2 = W2 @ y1: the weight of the single equivalent layer"
    reference:
      params:
        symbols: {{W1: [4, 3], W2: [2, 4]}}
    answer: "W2 @ W1"
    known_mistakes:
      - {{name: order, feedback: "your answer multiplies the weights in the wrong order", value: "W1 @ W2"}}

  # code: the student's function against the course's own solution on drawn inputs
  - id: q9_relu_backward
    kind: code
    points: 3
    text: "relu_backward(x, upstream) returns dL/dx of y = relu(x) given dL/dy"
    function: relu_backward
    solution: solutions/{assignment}_relu.py:relu_backward
    inputs:
      - {{name: x, shape: [n]}}
      - {{name: upstream, shape: [n]}}
    outputs: [{{name: dL/dx}}]
    dims: {{n: [2, 8]}}
    cases:
      - {{name: vectors, draws: 3}}
      - {{name: hidden vectors, draws: 2, hidden: true}}
    known_mistakes:
      - {{name: leaky, feedback: "it looks like a leaky ReLU; this one is plain", params: {{leaky: 0.01}}}}

  # a trained model, graded on held-out accuracy against a baseline trained on the course's data
  - id: q10_model
    kind: model
    points: 4
    text: "Hand in a softmax classifier as model.safetensors with tensors W (784×10) and b (10)"
    architecture:
      input: [784]
      layers:
        - {{type: linear, out_features: 10, weight_name: W, bias_name: b, layout: in_out}}
        - {{type: softmax}}
    preprocess: {{scale: 255}}
    data: {{source: npz, path: data/digits.npz}}
    baseline:
      function: train_classifier
      params: {{optimizer: sgd, lr: 0.5, batch_size: 50, iterations: 200, seed: 1}}

  # a hand-designed hard-threshold network, decided exactly over all real inputs
  - id: q11_threshold_net
    kind: threshold_network
    points: 2
    text: >-
      A 3-2-1 network with σ(z) = 1 if z ≥ 0 else 0 in both layers outputs 1 exactly when
      x1 > x2 > x3 (ties give 0). Give W1 (2×3), b1 (2), w2 (2) and b2.
    reference:
      function: threshold_network_design
      params:
        inputs: 3
        hidden_units: 2
        threshold: ge
        target: {{all_of: ["x1 > x2", "x2 > x3"]}}
    arrays: {{hidden_weights: W1, hidden_bias: b1, output_weights: w2, output_bias: b2}}

  - id: q12_explain
    kind: manual
    points: 2
    text: "Explain why the ReLU's gradient is zero for negative inputs"
"""

REFERENCES = '''\
"""{assignment}: the course's own reference functions (trusted like the rubric: never student code).

Each function takes a params model (pydantic) whose fields the rubric's `params` fill in; a known
mistake is another value of a field. Names must not clash with built-in references.
"""

from pydantic import BaseModel, Field

from reference.registry import reference


class DenseParams(BaseModel):
    inputs: int = Field(gt=0, description="input features")
    outputs: int = Field(gt=0, description="output features")
    bias: bool = Field(True, description="False models the mistake of leaving out the biases")


@reference("dense_params", DenseParams)
def dense_params(p: DenseParams) -> int:
    """Weights and biases of a dense layer."""
    return p.inputs * p.outputs + (p.outputs if p.bias else 0)
'''

SOLUTION = '''\
"""{assignment}: the instructor's solution, called with the question's inputs by name."""

import numpy as np


def relu_backward(x, upstream, leaky=0.0):
    """dL/dx of y = relu(x) given dL/dy; `leaky` models a known mistake."""
    return upstream * np.where(x > 0, 1.0, leaky)
'''

EXAMPLE_ANSWERS = """\
student_id: example
q1_dense_params: 7850
q2_conv_output: [8, 16, 16]
q2b_backprop: 1.3614
q3_learning_rate: 0.01
q4_relu_dead: "no"
q5_sigmoid_range: "(0, 1)"
q6_graph: ["x -> h", "W -> h", "h -> L"]
q7_sigmoid_grad: "y - y^2"
q8_collapsed_weight: "W2 @ W1"
q9_relu_backward: relu.py
# q10_model: model.safetensors   (train one and save it here)
q11_threshold_net: {W1: [[-1, 1, 0], [0, -1, 1]], b1: [0, 0], w2: [-1, -1], b2: 0.5}
q12_explain: "Its derivative is 0 where the input is negative, so no gradient flows back."
"""

EXAMPLE_CODE = """\
import numpy as np


def relu_backward(x, upstream):
    return upstream * (x > 0)
"""

README = """\
# {course}: a grader course folder

Rubrics (`*.yaml`) and the files they name, all relative to the rubric: `references/` (the
course's own reference functions), `solutions/` (code-question solutions), `data/` (model
questions' data) and `baselines/` (written by `grader baseline`). Every command takes a rubric
path where it takes a built-in name:

    grader rubric validate ASSIGNMENT.yaml
    grader baseline ASSIGNMENT.yaml            # once per model question and data set
    grader check submissions/ASSIGNMENT/example -a ASSIGNMENT.yaml
    grader batch SUBMISSIONS -a ASSIGNMENT.yaml -o out
    grader gradescope-package ASSIGNMENT.yaml  # carries this folder's files along

The references and solutions here are answers: never hand them to students.
"""


@click.command("new")
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--no-baseline", is_flag=True, help="do not train the model question's baseline now")
def new(target: Path, no_baseline: bool) -> None:
    """Scaffold COURSE_DIR/ASSIGNMENT: a rubric with a worked example of each question kind, the
    course's own references, a solution file, data and an example submission."""
    course, assignment = target.parent, target.name.removesuffix(".yaml")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", assignment):
        raise click.UsageError(f"{assignment!r}: an assignment name is letters, digits, '_', '.' and '-'")
    rubric = course / f"{assignment}.yaml"
    if rubric.exists():
        raise click.UsageError(f"{rubric} exists already")
    written = scaffold(course, assignment)
    for path in written:
        click.echo(f"wrote {path}")
    if not no_baseline:
        _train_baseline(rubric)
    click.echo(f"next: grader rubric validate {rubric}")


def scaffold(course: Path, assignment: str) -> list[Path]:
    """Write the course files (never overwriting one); the paths written."""
    files = {
        course / f"{assignment}.yaml": RUBRIC.format(assignment=assignment),
        course / "references" / f"{assignment}.py": REFERENCES.format(assignment=assignment),
        course / "solutions" / f"{assignment}_relu.py": SOLUTION.format(assignment=assignment),
        course / "submissions" / assignment / "example" / "answers.yaml": EXAMPLE_ANSWERS,
        course / "submissions" / assignment / "example" / "relu.py": EXAMPLE_CODE,
        course / "README.md": README.format(course=course.name or "course"),
    }
    written = []
    for path, text in files.items():
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    data = course / "data" / "digits.npz"
    if not data.exists():
        write_digits_npz(data)
        written.append(data)
    return written


def write_digits_npz(path: Path, train: int = 1200, test: int = 400) -> None:
    """Example data in the .npz layout a course uses for its own: the embedded digits, cut down."""
    import numpy as np

    from grader.models.data import embedded_digits

    digits = embedded_digits()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x_train=digits.x_train[:train], y_train=digits.y_train[:train],
                        x_test=digits.x_heldout[:test], y_test=digits.y_heldout[:test])


def _train_baseline(rubric: Path) -> None:
    from grader.checkers.model import ModelQuestion
    from grader.cli.common import load_assignment
    from grader.cli.models import train_record
    from grader.models.baselines import save_record

    loaded = load_assignment(str(rubric))
    for q in loaded.rubric.questions:
        if isinstance(q, ModelQuestion):
            record = train_record(loaded.rubric.assignment, q, None)
            path = save_record(record, rubric.parent / "baselines")
            click.echo(f"{q.id}: baseline held-out accuracy {record.heldout_accuracy:.2%} -> {path}")
