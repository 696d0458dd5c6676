"""A course folder written from scratch in a temp dir: rubric, references.py, a solution file,
a data file, and a small class of submissions (correct, mistaken, unreadable, empty)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

REFERENCES = '''
"""The instructor's own references (trusted like the rubric)."""
from pydantic import BaseModel, Field

from reference.registry import reference


class Dense(BaseModel):
    inputs: int = Field(gt=0)
    outputs: int = Field(gt=0)
    bias: bool = True


@reference("dense_params", Dense)
def dense_params(p: Dense) -> int:
    """Weights and biases of a dense layer."""
    return p.inputs * p.outputs + (p.outputs if p.bias else 0)
'''

SOLUTION = '''
import numpy as np


def relu_backward(x, upstream, leaky=0.0):
    """dL/dx of ReLU given dL/dy."""
    return upstream * np.where(x > 0, 1.0, leaky)
'''

RUBRIC = """
assignment: course-hw1
title: "A course's own homework"
references: [references.py]
questions:
  - id: q1_dense
    kind: number
    points: 2
    reference: {function: dense_params, params: {inputs: 784, outputs: 10}}
    answer: 7850
    known_mistakes:
      - {name: no_bias, feedback: "you left out the biases", params: {bias: false}}
  - id: q2_literal
    kind: number
    points: 1
    answer: "0.25"
  - id: q3_choice
    kind: choice
    points: 1
    options: ["yes", "no"]
    answer: "no"
  - id: q4_interval
    kind: interval
    points: 1
    answer: "(0, 1)"
  - id: q5_edges
    kind: edges
    points: 1
    nodes: [x, h, y]
    answer: ["x -> h", "h -> y"]
  - id: q6_expression
    kind: expression
    points: 1
    variables: {x: [-2, 2]}
    answer: "x*(1-x)"
  - id: q7_matrix
    kind: matrix_expression
    points: 1
    reference:
      params:
        dims: {n: 3, k: 2}
        symbols: {W1: [k, n], W2: [k, k]}
    answer: "W2 @ W1"
  - id: q8_code
    kind: code
    points: 3
    function: relu_backward
    solution: solutions/relu.py:relu_backward
    inputs:
      - {name: x, shape: [n]}
      - {name: upstream, shape: [n]}
    outputs: [{name: dL/dx}]
    dims: {n: [2, 6]}
    cases: [{name: vectors, draws: 2}]
    known_mistakes:
      - {name: leaky, feedback: "it looks like a leaky ReLU", params: {leaky: 0.1}}
  - id: q9_model
    kind: model
    points: 2
    architecture:
      input: [784]
      layers:
        - {type: linear, out_features: 10, weight_name: W, bias_name: b, layout: in_out}
        - {type: softmax}
    preprocess: {scale: 255}
    data: {source: npz, path: data/digits.npz}
    baseline:
      function: train_classifier
      params: {optimizer: sgd, lr: 0.5, batch_size: 50, iterations: 60, seed: 3}
"""

CORRECT_CODE = "import numpy as np\n\ndef relu_backward(x, upstream):\n    return upstream * (x > 0)\n"
LEAKY_CODE = "import numpy as np\n\ndef relu_backward(x, upstream):\n    return upstream * np.where(x > 0, 1, 0.1)\n"


def write_course(root: Path) -> Path:
    """The course folder under `root`; returns the rubric's path."""
    (root / "solutions").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "references.py").write_text(REFERENCES)
    (root / "solutions" / "relu.py").write_text(SOLUTION)
    (root / "hw1.yaml").write_text(RUBRIC)
    write_digits(root / "data" / "digits.npz")
    return root / "hw1.yaml"


def write_digits(path: Path, train: int = 600, test: int = 200) -> None:
    from grader.models.data import embedded_digits

    data = embedded_digits()
    np.savez(path, x_train=data.x_train[:train], y_train=data.y_train[:train],
             x_test=data.x_heldout[:test], y_test=data.y_heldout[:test])


def write_class(root: Path) -> Path:
    """Submissions: correct, mistaken, unreadable and empty."""
    answers = {
        "correct": ("q1_dense: 7850\nq2_literal: 0.25\nq3_choice: no\nq4_interval: '(0, 1)'\n"
                    "q5_edges: ['x -> h', 'h -> y']\nq6_expression: x - x^2\nq7_matrix: W2 @ W1\n"
                    "q8_code: grad.py\nq9_model: model.safetensors\n", CORRECT_CODE),
        "mistaken": ("q1_dense: 7840\nq2_literal: 0.5\nq3_choice: yes\nq4_interval: '[0, 1]'\n"
                     "q5_edges: ['x -> y']\nq6_expression: x\nq7_matrix: W1 @ W2\nq8_code: grad.py\n",
                     LEAKY_CODE),
        "unreadable": ("q1_dense: lots\nq2_literal: [1]\nq3_choice: maybe\nq4_interval: 'between'\n"
                       "q5_edges: 7\nq6_expression: 'x +* 2'\nq7_matrix: 'W1 @@ W2'\nq8_code: 12\n", None),
        "empty": ("{}\n", None),
    }
    for student, (text, code) in answers.items():
        folder = root / student
        folder.mkdir(parents=True)
        (folder / "answers.yaml").write_text(text)
        if code is not None:
            (folder / "grad.py").write_text(code)
    return root


def write_model(rubric: Path, folder: Path, question: str = "q9_model") -> None:
    """A trained softmax layer for the model question, as model.safetensors in `folder`."""
    import safetensors.torch

    from grader.checkers.model import ModelQuestion
    from grader.core.rubric import load_rubric
    from grader.models.build import export_tensors
    from grader.models.data import load_dataset
    from reference.training import BaselineJob, train_network

    q = load_rubric(rubric).rubric.question(question)
    assert isinstance(q, ModelQuestion)
    params = q.job_params()
    params["recipe"] = {**params["recipe"], "seed": 11}
    net = train_network(BaselineJob.model_validate(params), load_dataset(q.data)).net
    safetensors.torch.save_file(export_tensors(net, {"l0.weight": "W", "l0.bias": "b"}),
                                str(folder / "model.safetensors"))
