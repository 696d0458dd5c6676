"""The in-notebook self-check in a real Jupyter kernel (nbclient + ipykernel): the test fills a
template notebook's answer cells, saves it, runs every cell, and reads what the check cells show.
Skipped, with the reason, when no kernel can start on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.notebook_helpers import fill, notebook, save, template

MOMENTUM = ("def momentum_step(W, grad, velocity, lr, momentum):\n"
            "    velocity = momentum * velocity - lr * grad\n    return W + velocity, velocity\n")
MEAN_GRADIENT = ("import numpy as np\n\n\ndef basic_gradient(W, x, b, y):\n"
                 "    o = x @ W + b\n    p = np.exp(o - o.max(axis=1, keepdims=True))\n"
                 "    p /= p.sum(axis=1, keepdims=True)\n"
                 "    return x.T @ (p - y) / len(x), (p - y).mean(axis=0)\n")


def _run(nb: Any, folder: Path) -> Any:
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute()
    return nb


@pytest.fixture(scope="module")
def kernel_works(tmp_path_factory: pytest.TempPathFactory) -> None:
    pytest.importorskip("nbclient", reason="nbclient is not installed (pip install -e '.[dev]')")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e '.[dev]')")
    folder = tmp_path_factory.mktemp("kernel-probe")
    try:
        probe = _run(notebook(("code", "1 + 1")), folder)
    except Exception as err:  # no kernel spec, no ports, a sandboxed CI without sockets...
        pytest.skip(f"no Jupyter kernel can start here: {type(err).__name__}: {err}")
    assert probe.cells[0].outputs[0]["data"]["text/plain"] == "2"


def _shown(nb: Any, source: str) -> dict[str, str]:
    cell = next(c for c in nb.cells if c.source == source)
    [result] = [o for o in cell.outputs if o["output_type"] == "execute_result"]
    return dict(result["data"])


def test_check_cells_show_verdicts_in_a_kernel(tmp_path: Path, kernel_works: None) -> None:
    nb = template("csc411-a1")
    fill(nb, "p3a_softmax_grad", "$(P - Y) X^T$")
    fill(nb, "p3b_gradient_code", MEAN_GRADIENT)
    fill(nb, "p4_momentum_code", MOMENTUM)
    fill(nb, "p6_complexity", "Backpropagation reuses each layer's error signal.")
    save(nb, tmp_path / "hw1.ipynb")  # the checks read the saved file
    ran = _run(nbformat.read(tmp_path / "hw1.ipynb", as_version=4), tmp_path)

    formula = _shown(ran, "check('p3a_softmax_grad')")
    assert "✓ p3a_softmax_grad" in formula["text/plain"] and "10 / 10" in formula["text/plain"]
    assert "<table" in formula["text/html"] and ">correct<" in formula["text/html"]
    assert "as saved at" in formula["text/plain"]

    mistake = _shown(ran, "check('p3b_gradient_code')")
    assert "averaged over the batch" in mistake["text/plain"]
    assert "averaged over the batch" in mistake["text/html"]

    everything = _shown(ran, "check.all()")
    assert "✓ p4_momentum_code" in everything["text/plain"]
    assert "? p6_complexity" in everything["text/plain"]
    assert "~ p3b_gradient_code" in everything["text/plain"]  # the known mistake: partial credit
    assert "Visible questions: 23.75 / 40 points" in everything["text/plain"]
    assert "<b>Visible questions: 23.75 / 40 points</b>" in everything["text/html"]
