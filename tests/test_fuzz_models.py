"""Fuzzing the model-file readers (grader/models): any bytes are a list of tensors or a refusal
(`ModelRefused`, `PickleRefused` for the pickle scanner), never another exception, within a
deadline. Inputs: random bytes, safetensors headers built from random JSON, and mutations (flipped,
cut, inserted bytes) of real torch.save and safetensors files. Profiles: tests/hostile/fuzzing.py.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from grader.models.formats import ModelRefused, inspect_model_file, read_safetensors_header
from grader.models.pickle_scan import PickleRefused, scan_pickle, storage_loader
from tests.hostile.fuzzing import fuzz


def _torch_state_dict() -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.manual_seed(0)
    torch.save(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)).state_dict(),
               buffer)
    return buffer.getvalue()


def _safetensors() -> bytes:
    import numpy as np
    import safetensors.numpy

    return safetensors.numpy.save({"W1": np.ones((4, 3), np.float32), "b1": np.zeros(3, np.float32)})


TORCH = _torch_state_dict()
SAFETENSORS = _safetensors()
INDEX = next(zipfile.ZipFile(io.BytesIO(TORCH)).read(n) for n in zipfile.ZipFile(io.BytesIO(TORCH)).namelist()
             if n.endswith("data.pkl"))


@st.composite
def mutated(draw: Any, original: bytes) -> bytes:
    """The original with a few bytes flipped, a piece cut out, or bytes inserted."""
    data = bytearray(original)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not data:
            break
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip":
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif action == "cut":
            del data[at:at + draw(st.integers(min_value=1, max_value=64))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at:]
    return bytes(data)


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(),
                         st.text(max_size=8))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=6), inner, max_size=5)),
    max_leaves=20,
)
entries = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F64", "F16", "BF16", "I64", "U8", "BOOL", "F8_E4M3", "x", 3]),
    "shape": st.one_of(st.lists(st.integers(min_value=-2, max_value=2**40), max_size=5), json_values),
    "data_offsets": st.one_of(st.lists(st.integers(min_value=-4, max_value=2**40), min_size=2, max_size=2),
                              json_values),
})


@st.composite
def safetensors_files(draw: Any) -> bytes:
    header = draw(st.one_of(st.dictionaries(st.text(max_size=10), st.one_of(entries, json_values), max_size=6),
                            json_values))
    raw = json.dumps(header).encode()
    size = draw(st.one_of(st.just(len(raw)), st.integers(min_value=0, max_value=2**64 - 1)))
    body: bytes = draw(st.binary(max_size=256))
    return struct.pack("<Q", size) + raw + body


model_bytes = st.one_of(
    st.binary(max_size=512), safetensors_files(), mutated(TORCH), mutated(SAFETENSORS),
    st.binary(max_size=256).map(lambda b: b"PK\x03\x04" + b),
)


@fuzz
@given(safetensors_files())
def test_a_safetensors_header_is_read_or_refused(data: bytes) -> None:
    try:
        tensors = read_safetensors_header(data)
    except ModelRefused as err:
        assert str(err).startswith("your")
        return
    assert all(all(isinstance(s, int) and s >= 0 for s in t.shape) for t in tensors.values())


@pytest.mark.parametrize("name", ["m.pt", "m.pth", "m.safetensors"])
@fuzz
@given(data=model_bytes)
def test_any_bytes_are_a_model_or_a_refusal(name: str, data: bytes) -> None:
    try:
        model = inspect_model_file(Path(name), data)
    except ModelRefused as err:
        assert str(err).startswith("your")
        return
    assert all(isinstance(k, str) and v.numel >= 0 for k, v in model.tensors.items())


def _loader() -> Any:
    return storage_loader(lambda key: 1 << 20)


# pickle opcodes a state_dict uses, each repeated up to thousands of times: deep nesting, long runs
OPCODES = [b"(", b")", b"\x85", b"\x86", b"\x87", b"t", b"]", b"}", b"a", b"e", b"s", b"u", b"K\x01", b"N",
           b"\x88", b"\x89", b"q\x00", b"h\x00", b"r\x01\x00\x00\x00", b"j\x01\x00\x00\x00", b"R", b"b", b"Q",
           b"\x81", b"X\x01\x00\x00\x00a", b"G?\xf0\x00\x00\x00\x00\x00\x00", b"\x8a\x01\x01",
           b"ccollections\nOrderedDict\n", b"ctorch._utils\n_rebuild_tensor_v2\n", b"ctorch\nFloatStorage\n",
           b"cos\nsystem\n", b"."]
opcode_soup = st.lists(st.tuples(st.sampled_from(OPCODES), st.sampled_from([1, 1, 1, 2, 3, 100, 5000])),
                       max_size=40).map(lambda runs: b"\x80\x02" + b"".join(op * n for op, n in runs) + b".")


@fuzz
@given(st.one_of(mutated(INDEX), mutated(pickle.dumps({"w": [1.0, 2, "x", None], "t": (1, 2)}, protocol=2)),
                 st.binary(max_size=256).map(lambda b: b"\x80\x02" + b), opcode_soup))
@example(b"\x80\x02}" + b")" + b"\x85" * 200_000 + b"K\x01s.")  # found: hashing such a key crashed Python
@example(b"\x80\x02}(}\x85K\x01u.")  # found: an unhashable key ({},) raised TypeError
def test_the_pickle_scanner_reads_or_refuses_any_bytes(data: bytes) -> None:
    try:
        scan_pickle(data, _loader())
    except PickleRefused as err:
        assert str(err)


plain = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
              st.floats(allow_nan=False), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.tuples(inner, inner),
                            st.dictionaries(st.text(max_size=5), inner, max_size=5)),
    max_leaves=25,
)


@fuzz
@given(plain)
def test_plain_data_scans_as_pickle_loads_it(value: Any) -> None:
    data = pickle.dumps(value, protocol=2)
    assert scan_pickle(data, _loader()) == pickle.loads(data)
