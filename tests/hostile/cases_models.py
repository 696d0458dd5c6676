"""Hostile model files: pickle payloads under every accepted extension, lying safetensors headers,
absurd tensors. A payload that ran would leave a marker file in the scene's `outside` folder."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.hostile.corpus import ANCHORS, Builder, Case, Expect, Scene, new_folder

A = "tdt4265-a2"  # t2_model: w0 785×64 and w1 64×10, float32
SHAPES = {"w0": (785, 64), "w1": (64, 10)}


class Payload:
    """Unpickling it runs `exec`, which writes the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def torch_bytes(obj: Any, **kwargs: Any) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def right_shapes(fill: float = 0.0) -> dict[str, Any]:
    import torch

    return {name: torch.full(shape, fill) for name, shape in SHAPES.items()}


def safetensors_file(header: dict[str, Any], body: bytes = b"", *, size: int | None = None) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if size is None else size) + raw + body


def _entry(shape: list[int], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": "F32", "shape": shape, "data_offsets": [begin, end]}


def torchscript() -> bytes:
    import torch

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w0 = torch.nn.Parameter(torch.zeros(785, 64))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x @ self.w0

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(Net()), buffer)
    return buffer.getvalue()


def recompressed(data: bytes, padding: int = 0) -> bytes:
    """torch.save's archive with every member deflated, plus `padding` bytes of zeros: a bomb."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        prefix = source.infolist()[0].filename.split("/")[0]
        if padding:
            target.writestr(f"{prefix}/data/999", b"\0" * padding)
    return out.getvalue()


def storage_cut_short() -> bytes:
    """torch.save's archive of the right tensors, the storage of w0 cut to 4 bytes."""
    data = torch_bytes(right_shapes())
    archive = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        for info in archive.infolist():
            content = archive.read(info)
            target.writestr(info, content[:4] if info.filename.endswith("/data/0") else content)
    return out.getvalue()


def expanded(shape: tuple[int, ...]) -> bytes:
    """One float seen through stride 0 as a tensor of `shape`: a tiny file, an absurd tensor."""
    import torch

    return torch_bytes({"w0": torch.zeros(1, 1).expand(*shape), "w1": torch.zeros(64, 10)})


def with_index(index: bytes) -> bytes:
    """torch.save's archive of the right tensors, its index (data.pkl) replaced."""
    archive = zipfile.ZipFile(io.BytesIO(torch_bytes(right_shapes())))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        for info in archive.infolist():
            target.writestr(info, index if info.filename.endswith("/data.pkl") else archive.read(info))
    return out.getvalue()


def damaged_member() -> bytes:
    """torch.save's archive with the local headers after the first one damaged."""
    data = bytearray(torch_bytes(right_shapes()))
    first = data.index(b"PK\x03\x04")
    at = data.find(b"PK\x03\x04", first + 4)
    while at != -1:
        data[at + 3] = 0x05
        at = data.find(b"PK\x03\x04", at + 4)
    return bytes(data)


HUGE_INDEX = b"\x80\x02]q\x00(" + b"K\x01" * 2_100_000 + b"e."  # a list of 2.1 million small ints
# {((((...)))): 1}, the key nesting a million tuples: hashing it overflowed the grader's C stack
DEEP_KEY = b"\x80\x02}" + b")" + b"\x85" * 1_000_000 + b"K\x01s."


# name, file, make, status (or any of several), piece of the feedback
ModelRow = tuple[str, str, Callable[[Scene, Path], bytes], str | tuple[str, ...], str]


def _payload_zip(scene: Scene, folder: Path) -> bytes:
    return torch_bytes({"w0": Payload(scene.marker(f"payload-{folder.name}"))})


def _payload_raw(scene: Scene, folder: Path) -> bytes:
    return pickle.dumps({"w0": Payload(scene.marker(f"payload-{folder.name}"))}, protocol=2)


ROWS: list[ModelRow] = [
    ("pickle payload in torch.save, .pt", "model.pt", _payload_zip, "error", "refused"),
    ("pickle payload in torch.save, .pth", "model.pth", _payload_zip, "error", "refused"),
    ("pickle payload in torch.save, named .safetensors", "model.safetensors", _payload_zip, "error", "refused"),
    ("raw pickle payload, .pt", "model.pt", _payload_raw, "error", "raw pickle"),
    ("raw pickle payload, .pth", "model.pth", _payload_raw, "error", "raw pickle"),
    ("raw pickle payload, named .safetensors", "model.safetensors", _payload_raw, "error", "raw pickle"),
    ("whole pickled module with a payload", "model.pt",
     lambda s, f: torch_bytes({"w0": right_shapes()["w0"], "opt": Payload(s.marker(f"payload-{f.name}"))}),
     "error", "refused"),
    ("safetensors offsets beyond the file", "model.safetensors",
     lambda s, f: safetensors_file({"w0": _entry([785, 64], 0, 785 * 64 * 4), "w1": _entry([64, 10], 0, 2560)},
                                   b"\0" * 64), "error", "damaged"),
    ("safetensors huge declared shape", "model.safetensors",
     lambda s, f: safetensors_file({"w0": _entry([10**12, 10**12], 0, 16)}, b"\0" * 16), "error", "damaged"),
    ("safetensors header size of 2**63", "model.safetensors",
     lambda s, f: safetensors_file({"w0": _entry([1], 0, 4)}, b"\0" * 4, size=2**63), "error", "header size"),
    ("safetensors header nested 100,000 deep", "model.safetensors",
     lambda s, f: struct.pack("<Q", 200_011) + b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}" + b" " * 5,
     "error", "damaged"),
    ("safetensors overlapping tensors", "model.safetensors",
     lambda s, f: safetensors_file({"w0": _entry([785, 64], 0, 785 * 64 * 4), "w1": _entry([64, 10], 0, 2560)},
                                   b"\0" * (785 * 64 * 4)), ("error", "incorrect"), ""),
    ("safetensors of 20,000 tensors", "model.safetensors",
     lambda s, f: safetensors_file({f"t{i}": _entry([0], 0, 0) for i in range(20_000)}), "error", "20,000 tensors"),
    ("a tensor of 100,000 dimensions", "model.safetensors",
     lambda s, f: safetensors_file({"w0": _entry([1] * 100_000, 0, 4)}, b"\0" * 4), "error", "dimensions"),
    ("a tensor name of 100,000 characters", "model.safetensors",
     lambda s, f: safetensors_file({"w" * 100_000: _entry([1], 0, 4)}, b"\0" * 4), "error", "characters"),
    ("unknown dtype", "model.safetensors",
     lambda s, f: safetensors_file({"w0": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}, b"\0"),
     "error", "dtype"),
    ("weights of NaN", "model.safetensors",
     lambda s, f: __import__("safetensors.torch").torch.save(right_shapes(float("nan"))), "incorrect", ""),
    ("a storage shorter than its record", "model.pt", lambda s, f: storage_cut_short(), "error", "shorter"),
    ("a 10**6 x 10**6 tensor through stride 0", "model.pt", lambda s, f: expanded((10**6, 10**6)), "incorrect",
     "not the architecture"),
    ("the right shape through stride 0", "model.pt", lambda s, f: expanded((785, 64)), ("incorrect", "error"), ""),
    ("TorchScript", "model.pt", lambda s, f: torchscript(), "error", "TorchScript"),
    ("damaged zip members", "model.pt", lambda s, f: damaged_member(), "error", "damaged zip"),
    ("torch.save archive deflated into a bomb", "model.pt",
     lambda s, f: recompressed(torch_bytes(right_shapes()), padding=40 << 20), "error", "compressed zip"),
    ("an index of 2.1 million ints", "model.pt", lambda s, f: with_index(HUGE_INDEX), "error", "too large"),
    ("a dict key nesting a million tuples", "model.pt", lambda s, f: with_index(DEEP_KEY), "error", "too deeply"),
    ("an empty file", "model.pt", lambda s, f: b"", "error", "empty"),
]


def _model_case(scene: Scene, index: int, row: ModelRow) -> Case:
    name, filename, make, status, message = row
    folder = new_folder(scene, A, f"m{index:02d}")
    (folder / filename).write_bytes(make(scene, folder))
    anchor_id, anchor_value, anchor_status = ANCHORS[A]
    (folder / "answers.yaml").write_text(f"t2_model: {filename}\n{anchor_id}: {anchor_value}\n")
    return Case(f"model: {name}", A, folder, "models",
                {"t2_model": Expect(status, message), anchor_id: Expect(anchor_status)})


def model_rows(scene: Scene) -> list[Case]:
    return [_model_case(scene, i, row) for i, row in enumerate(ROWS)]


def too_large(scene: Scene) -> list[Case]:
    """60 MB (a sparse file: nothing is written) against the 50 MB limit."""
    folder = new_folder(scene, A, "m_too_large")
    with open(folder / "model.safetensors", "wb") as handle:
        handle.truncate(60 << 20)
    (folder / "answers.yaml").write_text("t2_model: model.safetensors\n")
    return [Case("model: a 60 MB file", A, folder, "models", {"t2_model": Expect("error", "at most")})]


def paths_out(scene: Scene) -> list[Case]:
    """Model answers naming files outside the submission: absolute, relative, through a link."""
    cases: list[Case] = []
    classmate = scene.folder("csc420-a2") / "alice" / "model.safetensors"
    for name, answer, link in [("absolute path", "/etc/passwd", None),
                               ("a classmate's model", "../alice/model.safetensors", None),
                               ("a link to a classmate's model", "model.safetensors", classmate)]:
        folder = new_folder(scene, "csc420-a2", f"m_out_{len(cases)}")
        if link is not None:
            (folder / "model.safetensors").symlink_to(link)
        (folder / "answers.yaml").write_text(f"p2_mlp_model: {json.dumps(answer)}\nq4_lenet_params: 61706\n")
        cases.append(Case(f"model: {name}", "csc420-a2", folder, "models", {
            "p2_mlp_model": Expect("invalid", "outside"), "q4_lenet_params": Expect("correct")}))
    return cases


def payloads_elsewhere(scene: Scene) -> list[Case]:
    """The same payload on the other assignments' model questions."""
    cases = []
    for assignment, qid, anchor in [("csc420-a2", "p2_mlp_model", "q4_lenet_params: 61706"),
                                    ("apl405-hw2", "q4_xiii_model", "q4_iii_params: 7850"),
                                    ("apl405-hw2", "q5_ii_model", "q4_iii_params: 7850")]:
        folder = new_folder(scene, assignment, f"m_payload_{qid}")
        (folder / "model.pth").write_bytes(torch_bytes({"W1": Payload(scene.marker(f"payload-{qid}"))}))
        (folder / "answers.yaml").write_text(f"{qid}: model.pth\n{anchor}\n")
        anchor_id = anchor.split(":")[0]
        cases.append(Case(f"model: pickle payload on {assignment} {qid}", assignment, folder, "models", {
            qid: Expect("error", "refused"), anchor_id: Expect("correct")}))
    return cases


assert os.sep == "/", "the corpus writes POSIX paths"
BUILDERS: list[Builder] = [model_rows, too_large, paths_out, payloads_elsewhere]
