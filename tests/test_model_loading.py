"""Model files: what is accepted, what is refused (and why), and that refusing runs nothing."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch
from click.testing import CliRunner
from torch import nn

from grader.cli import cli
from grader.models.formats import ModelRefused, inspect_model_file
from grader.models.pickle_scan import PickleRefused, scan_pickle, storage_loader

# --- writers: each returns the bytes a student's code would produce ---------------------------


def torch_bytes(obj: Any, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 3)


def torchscript_bytes() -> bytes:
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # jit is deprecated, still handed in
        torch.jit.save(torch.jit.script(mlp()), buffer)
    return buffer.getvalue()


def export_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.export.save(torch.export.export(mlp(), (torch.zeros(1, 4),)), buffer)
    return buffer.getvalue()


def npz_bytes() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, W1=np.zeros((4, 3), dtype=np.float32))
    return buffer.getvalue()


def recompressed_torch_zip() -> bytes:
    archive = zipfile.ZipFile(io.BytesIO(torch_bytes(mlp().state_dict())))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as repacked:
        for info in archive.infolist():
            repacked.writestr(info.filename, archive.read(info))
    return out.getvalue()


def damaged_safetensors() -> bytes:
    data = bytearray(safetensors.torch.save({"w": torch.zeros(2, 2)}))
    header = data[8 : 8 + int.from_bytes(data[:8], "little")].replace(b"[0,16]", b"[0,99]")
    return bytes(data[:8]) + bytes(header) + bytes(data[8 + len(header) :])


ACCEPTED: list[
    tuple[str, str, Callable[[], bytes], dict[str, tuple[str, tuple[int, ...]]], str | None]
] = [
    (
        "safetensors from torch",
        "m.safetensors",
        lambda: safetensors.torch.save(mlp().state_dict()),
        {"0.weight": ("float32", (3, 4)), "2.bias": ("float32", (2,))},
        None,
    ),
    (
        "safetensors from numpy",
        "m.safetensors",
        lambda: safetensors.numpy.save({"W1": np.zeros((784, 2), np.float64)}),
        {"W1": ("float64", (784, 2))},
        None,
    ),
    (
        "torch.save state_dict",
        "m.pt",
        lambda: torch_bytes(mlp().state_dict()),
        {"0.weight": ("float32", (3, 4)), "2.weight": ("float32", (2, 3))},
        None,
    ),
    (
        "torch.save dict of nn.Parameter",
        "m.pth",
        lambda: torch_bytes(
            {"W1": nn.Parameter(torch.zeros(5, 2)), "b1": nn.Parameter(torch.zeros(2))}
        ),
        {"W1": ("float32", (5, 2)), "b1": ("float32", (2,))},
        None,
    ),
    (
        "checkpoint dict",
        "m.pt",
        lambda: torch_bytes(
            {
                "epoch": 3,
                "loss": 0.25,
                "model_state_dict": mlp().state_dict(),
                "notes": ["a", None, True],
            }
        ),
        {"0.weight": ("float32", (3, 4))},
        "model_state_dict",
    ),
    (
        "float16 and a transposed view",
        "m.pt",
        lambda: torch_bytes(
            {"a": torch.zeros(3, 2, dtype=torch.float16), "t": torch.zeros(4, 6).t()}
        ),
        {"a": ("float16", (3, 2)), "t": ("float32", (6, 4))},
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "filename", "make", "some", "container"), ACCEPTED, ids=[a[0] for a in ACCEPTED]
)
def test_accepted_files_list_every_tensor(
    name: str,
    filename: str,
    make: Callable[[], bytes],
    some: dict[str, tuple[str, tuple[int, ...]]],
    container: str | None,
) -> None:
    model = inspect_model_file(Path(filename), make())
    for tensor, (dtype, shape) in some.items():
        assert (model.tensors[tensor].dtype, model.tensors[tensor].shape) == (dtype, shape)
    assert model.container_key == container


REFUSED: list[tuple[str, str, Callable[[], bytes], str]] = [
    (
        "whole nn.Sequential",
        "m.pt",
        lambda: torch_bytes(mlp()),
        "pickled object of class torch.nn.modules.container.Sequential",
    ),
    ("whole student class", "m.pt", lambda: torch_bytes(Net()), "whole model"),
    ("TorchScript", "m.pt", torchscript_bytes, "TorchScript"),
    ("torch.export archive", "m.pt", export_bytes, "torch.export"),
    (
        "legacy torch.save",
        "m.pt",
        lambda: torch_bytes(mlp().state_dict(), _use_new_zipfile_serialization=False),
        "raw pickle",
    ),
    ("pickle.dump of a dict", "m.pt", lambda: pickle.dumps({"w": [1.0, 2.0]}), "raw pickle"),
    (
        "pickle protocol 4",
        "m.pt",
        lambda: torch_bytes(mlp().state_dict(), pickle_protocol=4),
        "pickle_protocol 4 or 5",
    ),
    ("npz renamed", "m.pt", npz_bytes, "NumPy .npz"),
    ("torch.save zip recompressed", "m.pt", recompressed_torch_zip, "compressed zip"),
    ("HDF5", "m.pt", lambda: b"\x89HDF\r\n\x1a\n" + bytes(64), "HDF5"),
    ("empty file", "m.pt", lambda: b"", "empty"),
    (
        "unknown bytes",
        "m.pt",
        lambda: b"\x08\x07\x12\x04onnx" + bytes(range(1, 120)),
        "not a model file",
    ),
    (
        "wrong suffix",
        "m.onnx",
        lambda: safetensors.torch.save({"w": torch.zeros(1)}),
        ".safetensors",
    ),
    ("damaged safetensors", "m.safetensors", damaged_safetensors, "damaged"),
    ("a list, not a state_dict", "m.pt", lambda: torch_bytes([torch.zeros(2)]), "not a state_dict"),
    ("a dict of numbers", "m.pt", lambda: torch_bytes({"lr": 0.1}), "not a state_dict"),
]


@pytest.mark.parametrize(
    ("name", "filename", "make", "fragment"), REFUSED, ids=[r[0] for r in REFUSED]
)
def test_refused_files_say_why_and_how_to_save(
    name: str, filename: str, make: Callable[[], bytes], fragment: str
) -> None:
    with pytest.raises(ModelRefused) as refused:
        inspect_model_file(Path(filename), make())
    message = str(refused.value)
    assert message.startswith("your ")
    assert fragment in message
    assert "state_dict" in message


# --- the static pickle reader -----------------------------------------------------------------

PLAIN: list[tuple[str, Any]] = [
    ("nested containers", {"a": [1, 2.5, "x", None, True, False], "b": (1, (2, 3)), "c": {}}),
    ("big and negative ints", {"n": [2**70, -(2**40), -1, 255, 65536]}),
    ("shared references", (lambda shared: {"x": shared, "y": shared})([1, 2])),
]


@pytest.mark.parametrize(("name", "value"), PLAIN, ids=[p[0] for p in PLAIN])
def test_plain_data_reads_back_as_pickle_would(name: str, value: Any) -> None:
    data = pickle.dumps(value, protocol=2)
    assert scan_pickle(data, storage_loader(lambda key: None)) == pickle.loads(data)


class Payload:
    def __init__(self, marker: Path, module: str = "os") -> None:
        self.marker = marker
        self.module = module

    def __reduce__(self) -> tuple[Any, ...]:
        if self.module == "builtins":
            return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize(
    ("name", "module", "named"),
    [
        ("os.system", "os", "system"),
        ("builtins.exec", "builtins", "exec"),
    ],
    ids=["os.system", "builtins.exec"],
)
def test_scanner_names_the_callable_and_does_not_call_it(
    tmp_path: Path, name: str, module: str, named: str
) -> None:
    marker = tmp_path / "ran"
    data = pickle.dumps({"w": Payload(marker, module)}, protocol=2)
    with pytest.raises(PickleRefused) as refused:
        scan_pickle(data, storage_loader(lambda key: None))
    assert f"it calls {name}," in str(refused.value) and refused.value.kind == "code"  # as docs/models.md says
    assert not marker.exists()


# --- a payload saved as model.pt, graded end to end -------------------------------------------

SUBMISSION_ANSWERS = "t2_model: model.pt\n"


def _write_payloads(folder: Path, marker: Path, kind: str) -> None:
    folder.mkdir()
    (folder / "answers.yaml").write_text(SUBMISSION_ANSWERS)
    payload = {"w0": Payload(marker, "builtins")}
    if kind == "torch.save zip":
        (folder / "model.pt").write_bytes(torch_bytes(payload))
    else:
        (folder / "model.pt").write_bytes(pickle.dumps(payload))


@pytest.mark.parametrize("kind", ["torch.save zip", "raw pickle"])
def test_pickle_payload_is_refused_and_runs_nothing(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "payload-ran"
    submission = tmp_path / "mallory"
    _write_payloads(submission, marker, kind)
    # control: the file really is a live payload for anything that unpickles it
    control = tmp_path / "control"
    _write_payloads(control, control / "ran", kind)
    loader = (
        "import torch,sys; torch.load(sys.argv[1], weights_only=False)"
        if kind == "torch.save zip"
        else "import pickle,sys; pickle.load(open(sys.argv[1], 'rb'))"
    )
    subprocess.run(
        [sys.executable, "-c", loader, str(control / "model.pt")], check=True, capture_output=True
    )
    assert (control / "ran").exists()

    result = CliRunner().invoke(cli, ["grade", str(submission), "-a", "tdt4265-a2"])
    assert result.exit_code == 0, result.output
    import json

    question = next(q for q in json.loads(result.output)["questions"] if q["id"] == "t2_model")
    assert question["status"] == "error"
    assert "refused" in question["feedback"] or "raw pickle" in question["feedback"]
    assert not marker.exists()


def test_worker_loader_refuses_a_payload_on_its_own(tmp_path: Path) -> None:
    """Defence in depth: even if the grader's checks were bypassed, the worker's torch.load uses
    weights_only=True and refuses the same payload without running it."""
    from grader.models.worker_eval import load_weights

    marker = tmp_path / "ran"
    data = torch_bytes({"w": Payload(marker, "builtins")})
    with pytest.raises(pickle.UnpicklingError):
        load_weights(data, "torch", None)
    assert not marker.exists()


def test_zip_member_names_are_checked_against_storages() -> None:
    data = torch_bytes({"w": torch.zeros(3)})
    archive = zipfile.ZipFile(io.BytesIO(data))
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w") as out:
        for info in archive.infolist():
            if "/data/" not in info.filename:
                out.writestr(info.filename, archive.read(info))
    with pytest.raises(ModelRefused, match="missing from the archive"):
        inspect_model_file(Path("m.pt"), rebuilt.getvalue())
