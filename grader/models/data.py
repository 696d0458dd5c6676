"""Training and held-out images for model questions, NumPy only (no torch), cached per process.

The embedded default is scikit-learn's bundled 8×8 digits (1,797 real handwritten digits, pixel
values 0..16), made MNIST-like: each image is resized to 20×20 with bilinear interpolation
(half-pixel centres, edges clamped: `torch.nn.functional.interpolate(mode="bilinear",
align_corners=False)`), scaled to 0..255, rounded to uint8 and padded by 4 pixels on each side to
28×28, as MNIST centres its digits in a 20×20 box of a 28×28 frame. The split is fixed and
stratified: with `numpy.random.default_rng(EMBEDDED_SEED)`, 50 images of each digit are held out
(500), the other 1,297 are for training.

A course's own data: MNIST IDX files (gzipped or not) or a `.npz` with `x_train, y_train, x_test,
y_test`; the `test` part is the held-out set.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from grader.models.spec import DataSource, Preprocess

EMBEDDED_SEED = 2024
HELDOUT_PER_CLASS = 50
EMBEDDED_SIZE = 20
FRAME_SIZE = 28
MAX_DATA_BYTES = 1024 * 1024 * 1024
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IDX_NAMES = {
    "x_train": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "y_train": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "x_test": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "y_test": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


class DataError(Exception):
    """The data named by a rubric cannot be loaded; the message names the file and the problem."""


@dataclass(frozen=True)
class Dataset:
    """Images as (N, H, W) arrays of raw pixel values, labels as int64 class indices."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_heldout: np.ndarray
    y_heldout: np.ndarray
    classes: tuple[str, ...]
    description: str
    fingerprint: str

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def load_dataset(source: DataSource, override: Path | None = None) -> Dataset:
    """The data a rubric names (or `override`: an IDX folder or a .npz file), cached."""
    if override is not None:
        kind = "npz" if override.suffix == ".npz" else "idx"
        source = source.model_copy(update={"source": kind, "path": str(override)})
    if source.source == "embedded-digits":
        data = embedded_digits()
    else:
        path = resolve_data_path(source.path or "")
        stat = path.stat()
        data = _load_files(source.source, path, stat.st_mtime_ns, stat.st_size,
                           tuple(sorted(source.keys.items())))
    if source.max_heldout is not None and len(data.y_heldout) > source.max_heldout:
        data = _cut_heldout(data, source.max_heldout)
    if source.classes is not None:
        if len(source.classes) < int(max(data.y_train.max(), data.y_heldout.max())) + 1:
            raise DataError(f"the rubric names {len(source.classes)} classes but the labels go "
                            f"up to {int(data.y_heldout.max())}")
        data = Dataset(data.x_train, data.y_train, data.x_heldout, data.y_heldout,
                       tuple(source.classes), data.description, data.fingerprint)
    return data


def resolve_data_path(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = Path(os.environ.get("GRADER_DATA_DIR", ".")) / path
    if not path.exists():
        raise DataError(f"data not found: {path} (set GRADER_DATA_DIR or give an absolute path)")
    return path


def _cut_heldout(data: Dataset, limit: int) -> Dataset:
    x, y = data.x_heldout[:limit], data.y_heldout[:limit]
    return Dataset(data.x_train, data.y_train, x, y, data.classes,
                   f"{data.description}, first {limit} held-out images",
                   fingerprint(data.x_train, data.y_train, x, y))


# --- the embedded default ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def embedded_digits() -> Dataset:
    pixels, labels = _read_bundled_digits()
    images = upscale_digits(pixels.reshape(-1, 8, 8))
    rng = np.random.default_rng(EMBEDDED_SEED)
    heldout = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        heldout[rng.permutation(members)[:HELDOUT_PER_CLASS]] = True
    train, held = np.flatnonzero(~heldout), np.flatnonzero(heldout)
    return Dataset(
        images[train], labels[train], images[held], labels[held],
        tuple(str(d) for d in range(10)),
        f"embedded digits (scikit-learn's 8×8 digits at 28×28): {len(train)} training, "
        f"{len(held)} held-out images",
        fingerprint(images[train], labels[train], images[held], labels[held]),
    )


def _read_bundled_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits.csv.gz, read directly (importing sklearn costs about a second)."""
    spec = importlib.util.find_spec("sklearn")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        csv = Path(location) / "datasets" / "data" / "digits.csv.gz"
        if csv.is_file():
            table = np.loadtxt(csv, delimiter=",", dtype=np.float64)
            return table[:, :-1], table[:, -1].astype(np.int64)
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError("the embedded digits need scikit-learn: pip install scikit-learn") from None
    bunch = load_digits()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


def bilinear_matrix(size_in: int, size_out: int) -> np.ndarray:
    """Rows interpolate `size_in` samples at `size_out` half-pixel centres, edges clamped."""
    matrix = np.zeros((size_out, size_in))
    coords = np.clip((np.arange(size_out) + 0.5) * size_in / size_out - 0.5, 0, size_in - 1)
    low = np.floor(coords).astype(int)
    high = np.minimum(low + 1, size_in - 1)
    weight = coords - low
    matrix[np.arange(size_out), low] += 1 - weight
    matrix[np.arange(size_out), high] += weight
    return matrix


def upscale_digits(images: np.ndarray) -> np.ndarray:
    """(N, 8, 8) values 0..16 -> (N, 28, 28) uint8 0..255, the digit in the central 20×20."""
    rows = bilinear_matrix(images.shape[1], EMBEDDED_SIZE)
    cols = bilinear_matrix(images.shape[2], EMBEDDED_SIZE)
    big = np.einsum("ij,njk,lk->nil", rows, images, cols) * (255.0 / 16.0)
    pad = (FRAME_SIZE - EMBEDDED_SIZE) // 2
    framed = np.zeros((len(images), FRAME_SIZE, FRAME_SIZE), dtype=np.uint8)
    framed[:, pad:pad + EMBEDDED_SIZE, pad:pad + EMBEDDED_SIZE] = np.clip(np.rint(big), 0, 255)
    return framed


def fingerprint(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{contiguous.dtype.str}{contiguous.shape}".encode())
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


# --- a course's own files ------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _load_files(kind: str, path: Path, _mtime: int, _size: int,
                keys: tuple[tuple[str, str], ...]) -> Dataset:
    parts = read_npz(path, dict(keys)) if kind == "npz" else read_idx_folder(path)
    x_train, y_train = _images(parts["x_train"], "x_train"), _labels(parts["y_train"], "y_train")
    x_test, y_test = _images(parts["x_test"], "x_test"), _labels(parts["y_test"], "y_test")
    for x, y, what in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if len(x) != len(y):
            raise DataError(f"{path}: {len(x)} {what} images but {len(y)} labels")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"{path}: train images are {x_train.shape[1:]}, test {x_test.shape[1:]}")
    classes = int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1
    return Dataset(x_train, y_train, x_test, y_test, tuple(str(c) for c in range(classes)),
                   f"{path.name}: {len(y_train)} training, {len(y_test)} held-out images",
                   fingerprint(x_train, y_train, x_test, y_test))


def _images(array: np.ndarray, what: str) -> np.ndarray:
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 2:
        side = round(float(np.sqrt(array.shape[1])))
        if side * side != array.shape[1]:
            raise DataError(f"{what}: rows of {array.shape[1]} pixels are not square images")
        array = array.reshape(-1, side, side)
    if array.ndim != 3 or not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{what}: expected images (N, H, W), got shape {array.shape} {array.dtype}")
    return array


def _labels(array: np.ndarray, what: str) -> np.ndarray:
    if array.ndim == 2 and array.shape[1] > 1:  # one-hot
        array = array.argmax(axis=1)
    array = array.reshape(-1)
    if not np.issubdtype(array.dtype, np.integer) or (array.size and array.min() < 0):
        raise DataError(f"{what}: labels must be non-negative integers")
    return array.astype(np.int64)


def read_npz(path: Path, keys: dict[str, str]) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            out = {}
            for part in IDX_NAMES:
                name = keys.get(part, part)
                if name not in archive.files:
                    raise DataError(f"{path}: no array {name!r} (has {', '.join(archive.files)})")
                out[part] = archive[name]
            return out
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: cannot be read as .npz: {err}") from None


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    if not folder.is_dir():
        raise DataError(f"{folder}: an IDX data source is a folder holding the four MNIST files")
    out = {}
    for part, stems in IDX_NAMES.items():
        candidates = [folder / (stem + ext) for stem in stems for ext in ("", ".gz")]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise DataError(f"{folder}: missing {stems[0]} (or .gz)")
        out[part] = read_idx(found)
    return out


def read_idx(path: Path, max_bytes: int = MAX_DATA_BYTES) -> np.ndarray:
    """One IDX file (the MNIST format), gzipped or not."""
    with open(path, "rb") as handle:
        raw = handle.read(max_bytes + 1)
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
                raw = unzipped.read(max_bytes + 1)
        except (OSError, EOFError) as err:
            raise DataError(f"{path}: damaged gzip: {err}") from None
    if len(raw) > max_bytes:
        raise DataError(f"{path}: larger than {max_bytes:,} bytes")
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(f"{path}: header says {dims} but holds {len(raw) - header} data bytes "
                        f"(expected {expected})")
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> None:
    """Write an IDX file (for tests and tools); `.gz` when `compress`."""
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_DTYPES.items()}
    code = codes[array.dtype.newbyteorder("=")]
    header = bytes([0, 0, code, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    body = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(body, mtime=0) if compress else body)


# --- preprocessing -------------------------------------------------------------------------------


def prepare_inputs(images: np.ndarray, preprocess: Preprocess, input_shape: tuple[int, ...],
                   train_images: np.ndarray) -> np.ndarray:
    """Raw pixels -> the network's float32 input, shaped (N, *input_shape)."""
    x = images.astype(np.float32) / np.float32(preprocess.scale)
    mean, std = _statistics(preprocess, train_images)
    x = (x - np.float32(mean)) / np.float32(std)
    per_image = int(np.prod(images.shape[1:]))
    if int(np.prod(input_shape)) != per_image:
        raise DataError(f"the architecture takes inputs of shape {list(input_shape)} but the "
                        f"images have {per_image} pixels")
    return np.ascontiguousarray(x.reshape((len(images), *input_shape)), dtype=np.float32)


def _statistics(preprocess: Preprocess, train_images: np.ndarray) -> tuple[float, float]:
    """The mean and std to use; `train` means the training images' own, after scaling."""
    if preprocess.mean != "train" and preprocess.std != "train":
        return preprocess.mean, preprocess.std
    scaled = train_images.astype(np.float64) / preprocess.scale
    mean = float(scaled.mean()) if preprocess.mean == "train" else preprocess.mean
    std = float(scaled.std()) if preprocess.std == "train" else preprocess.std
    return mean, std
