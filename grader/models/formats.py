"""Recognising a model file and listing its tensors without running anything.

Accepted: `.safetensors`, and a state_dict saved with `torch.save` (`.pt`/`.pth`), whose zip holds
one `data.pkl` read by `pickle_scan` (never unpickled here). Refused, with a message that says
how to save a state_dict: whole pickled modules, TorchScript (`torch.jit.save`), `torch.export`
archives, raw pickles, the legacy non-zip `torch.save` format, and anything else.
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from grader.models.pickle_scan import (
    ITEM_SIZES,
    PickleRefused,
    TensorRef,
    scan_pickle,
    storage_loader,
)

HOW_TO_SAVE = (
    "save only the weights: `torch.save(model.state_dict(), 'model.pt')`, or "
    "`safetensors.torch.save_file(model.state_dict(), 'model.safetensors')` "
    "(NumPy arrays: `safetensors.numpy.save_file({'W1': W1, ...}, 'model.safetensors')`)"
)
ACCEPTED_SUFFIXES = (".safetensors", ".pt", ".pth")
CONTAINER_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights")
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_PICKLE_BYTES = 32 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_TENSORS = 10_000  # every tensor is listed in the report when the architecture does not match
MAX_RANK = 16
MAX_NAME = 300

SAFETENSORS_DTYPES = {
    "F32": "float32", "F64": "float64", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
    "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
}
FLOAT_DTYPES = ("float32", "float64", "float16", "bfloat16")


class ModelRefused(Exception):
    """The file is not one the grader opens; the message is for the student."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class ModelFile:
    format: Literal["safetensors", "torch"]
    tensors: dict[str, TensorInfo]
    container_key: str | None = None  # a checkpoint dict: the key holding the state_dict
    size: int = 0


def inspect_model_file(path: Path, data: bytes) -> ModelFile:
    """Sniff the bytes and list every tensor (name, dtype, shape); `ModelRefused` otherwise."""
    suffix = path.suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        raise ModelRefused(f"your answer names {path.name}, but a model must be a "
                           f"{', '.join(ACCEPTED_SUFFIXES)} file; {HOW_TO_SAVE}")
    kind = sniff(data)
    if kind == "safetensors":
        model = ModelFile("safetensors", read_safetensors_header(data), size=len(data))
    elif kind == "zip":
        model = read_torch_zip(path, data)
    else:
        raise ModelRefused(f"your file {path.name} is {DESCRIPTIONS[kind]}, which the grader does "
                           f"not open; {HOW_TO_SAVE}")
    _refuse_absurd(path, model.tensors)
    return model


def _refuse_absurd(path: Path, tensors: dict[str, TensorInfo]) -> None:
    """Bounds no real state_dict reaches, so that reports listing the tensors stay small."""
    if len(tensors) > MAX_TENSORS:
        raise ModelRefused(f"your file {path.name} holds {len(tensors):,} tensors; at most "
                           f"{MAX_TENSORS:,} are read; {HOW_TO_SAVE}")
    for name, info in tensors.items():
        if len(name) > MAX_NAME or len(info.shape) > MAX_RANK:
            what = f"a name of {len(name):,} characters" if len(name) > MAX_NAME else \
                f"{len(info.shape)} dimensions"
            raise ModelRefused(f"your file {path.name} holds a tensor with {what}; a layer's "
                               f"weights have at most {MAX_RANK} dimensions and a short name; {HOW_TO_SAVE}")


DESCRIPTIONS = {
    "pickle": "a raw pickle (pickle.dump, or torch.save with _use_new_zipfile_serialization=False)",
    "hdf5": "an HDF5 file (Keras?)",
    "npy": "a NumPy .npy file",
    "empty": "empty",
    "unknown": "not a model file the grader recognises",
}


def sniff(data: bytes) -> str:
    if len(data) == 0:
        return "empty"
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if len(data) >= 10 and data[8:9] == b"{":
        return "safetensors"
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"
    if data[:8] == b"\x89HDF\r\n\x1a\n":
        return "hdf5"
    if data[:6] == b"\x93NUMPY":
        return "npy"
    return "unknown"


def _damaged(what: str) -> ModelRefused:
    return ModelRefused(f"your .safetensors file is damaged: {what}; save it again: {HOW_TO_SAVE}")


def read_safetensors_header(data: bytes) -> dict[str, TensorInfo]:
    size = int.from_bytes(data[:8], "little")
    body = len(data) - 8 - size
    if size > MAX_HEADER_BYTES or body < 0:
        raise _damaged("its header size is wrong")
    try:
        header = json.loads(data[8:8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _damaged("its header is not JSON") from None
    except RecursionError:
        raise _damaged("its header is nested too deeply") from None
    if not isinstance(header, dict):
        raise _damaged("its header is not a mapping")
    tensors: dict[str, TensorInfo] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        tensors[name] = _safetensors_entry(name, entry, body)
    return tensors


def _safetensors_entry(name: str, entry: Any, body: int) -> TensorInfo:
    damaged = _damaged(f"tensor {name!r} has a bad record")
    if not isinstance(entry, dict):
        raise damaged
    dtype = SAFETENSORS_DTYPES.get(str(entry.get("dtype")))
    shape = entry.get("shape")
    offsets = entry.get("data_offsets")
    if dtype is None:
        raise ModelRefused(f"your tensor {name!r} has dtype {entry.get('dtype')!r}, which the "
                           f"grader does not read; use float32 and {HOW_TO_SAVE}")
    if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
        raise damaged
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(isinstance(o, int) for o in offsets)):
        raise damaged
    begin, end = offsets
    if not 0 <= begin <= end <= body or end - begin != math.prod(shape) * ITEM_SIZES[dtype]:
        raise damaged
    return TensorInfo(name, dtype, tuple(shape))


# --- torch.save archives ------------------------------------------------------------------------


def read_torch_zip(path: Path, data: bytes) -> ModelFile:
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ModelRefused(f"your file {path.name} is a damaged zip archive; "
                           f"{HOW_TO_SAVE}") from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ModelRefused(f"your file {path.name} has too many members to be a state_dict")
    names = [info.filename for info in infos]
    _refuse_other_archives(path, names)
    if any(info.compress_type != zipfile.ZIP_STORED for info in infos):
        # torch.save stores every member uncompressed; compression here is a repacked archive
        # (or a zip bomb), and the sizes the grader checks could not be trusted
        raise ModelRefused(f"your file {path.name} is a compressed zip, not one written by "
                           f"torch.save; {HOW_TO_SAVE}")
    pickles = [n for n in names if n.count("/") == 1 and n.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise ModelRefused(f"your file {path.name} is a zip archive but not one written by "
                           f"torch.save; {HOW_TO_SAVE}")
    prefix = pickles[0][: -len("data.pkl")]
    _check_byteorder(path, archive, prefix, names)
    info = archive.getinfo(pickles[0])
    if info.file_size > MAX_PICKLE_BYTES:
        raise ModelRefused(f"your file {path.name} has an index too large for a state_dict")
    sizes = {i.filename[len(prefix) + len("data/"):]: i.file_size for i in infos
             if i.filename.startswith(prefix + "data/")}
    try:
        obj = scan_pickle(_read_member(path, archive, info), storage_loader(sizes.get))
    except PickleRefused as err:
        raise ModelRefused(_refusal_text(path, err)) from None
    return _state_dict_of(path, obj, len(data))


def _refuse_other_archives(path: Path, names: list[str]) -> None:
    parts = {p for n in names for p in n.split("/")[1:2]}
    if "constants.pkl" in parts or "code" in parts:
        raise ModelRefused(f"your file {path.name} is a TorchScript archive (torch.jit.save), "
                           "which the grader does not load: its loader unpickles code; "
                           f"{HOW_TO_SAVE}")
    if {"archive_format", "models"} & parts or path.suffix.lower() == ".pt2":
        raise ModelRefused(f"your file {path.name} is a torch.export archive, which the grader "
                           f"does not load; {HOW_TO_SAVE}")
    if names and all(n.endswith(".npy") for n in names):
        raise ModelRefused(f"your file {path.name} is a NumPy .npz archive; {HOW_TO_SAVE}")


def _read_member(path: Path, archive: zipfile.ZipFile, member: str | zipfile.ZipInfo) -> bytes:
    """A member's bytes; a damaged archive (bad offsets, names, sizes) is a refusal."""
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        # RuntimeError: an encrypted member; ValueError covers bad seeks and undecodable names
        raise ModelRefused(f"your file {path.name} is a damaged zip archive; {HOW_TO_SAVE}") from None


def _check_byteorder(path: Path, archive: zipfile.ZipFile, prefix: str, names: list[str]) -> None:
    if prefix + "byteorder" in names and _read_member(path, archive, prefix + "byteorder").strip() != b"little":
        raise ModelRefused("your file was saved on a big-endian machine; save it again on a "
                           "usual (little-endian) computer")


def _refusal_text(path: Path, err: PickleRefused) -> str:
    if err.kind == "module":
        return (f"your file {path.name} is refused: {err}. torch.save(model) pickles the whole "
                f"model, and loading it would run code; {HOW_TO_SAVE}")
    return f"your file {path.name} is refused: {err}; {HOW_TO_SAVE}"


def _state_dict_of(path: Path, obj: Any, size: int) -> ModelFile:
    if _is_tensor_dict(obj):
        return ModelFile("torch", _infos(obj), size=size)
    if isinstance(obj, dict):
        for key in CONTAINER_KEYS:
            if _is_tensor_dict(obj.get(key)):
                return ModelFile("torch", _infos(obj[key]), container_key=key, size=size)
        keys = ", ".join(repr(k) for k in list(obj)[:8])
        raise ModelRefused(f"your file {path.name} holds a dict ({keys}) that is not a state_dict "
                           f"(names mapped to tensors); {HOW_TO_SAVE}")
    raise ModelRefused(f"your file {path.name} holds a {type(obj).__name__}, not a state_dict; "
                       f"{HOW_TO_SAVE}")


def _is_tensor_dict(obj: Any) -> bool:
    return (isinstance(obj, dict) and bool(obj)
            and all(isinstance(k, str) and isinstance(v, TensorRef) for k, v in obj.items()))


def _infos(obj: dict[str, TensorRef]) -> dict[str, TensorInfo]:
    return {name: TensorInfo(name, ref.dtype, ref.shape) for name, ref in obj.items()}
