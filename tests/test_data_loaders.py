"""Held-out data: the embedded digits, MNIST IDX files, .npz files, preprocessing and caching."""

from __future__ import annotations

import gzip
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.models.data import (
    DataError,
    embedded_digits,
    load_dataset,
    prepare_inputs,
    read_idx,
    upscale_digits,
    write_idx,
)
from grader.models.spec import DataSource, Preprocess

REPO = Path(__file__).resolve().parent.parent


# --- the embedded default ---------------------------------------------------------------------


def test_embedded_split_is_fixed_and_stratified() -> None:
    data = embedded_digits()
    assert (len(data.y_train), len(data.y_heldout)) == (1297, 500)
    assert np.bincount(data.y_heldout).tolist() == [50] * 10
    assert data.x_train.shape[1:] == (28, 28) and data.x_train.dtype == np.uint8
    assert data.num_classes == 10


def test_embedded_digits_sit_in_mnist_frame() -> None:
    images = embedded_digits().x_heldout
    border = np.ones((28, 28), dtype=bool)
    border[4:24, 4:24] = False
    assert not images[:, border].any()
    assert images.max() == 255 or images.max() > 200


def test_upscaling_is_torch_bilinear_without_corner_alignment() -> None:
    rng = np.random.default_rng(0)
    small = rng.integers(0, 17, size=(3, 8, 8)).astype(np.float64)
    ours = upscale_digits(small)[:, 4:24, 4:24].astype(np.int64)
    theirs = (
        F.interpolate(
            torch.from_numpy(small)[:, None], size=(20, 20), mode="bilinear", align_corners=False
        )[:, 0].numpy()
        * 255
        / 16
    )
    assert np.abs(ours - np.rint(theirs)).max() <= 1


def test_shipped_baselines_were_made_on_this_data() -> None:
    fingerprints = {
        json.loads(p.read_text())["data_fingerprint"]
        for p in (REPO / "reference" / "baselines").glob("*.json")
    }
    assert fingerprints == {embedded_digits().fingerprint}


# --- IDX files --------------------------------------------------------------------------------


def idx_by_hand(array: np.ndarray) -> bytes:
    """IDX written with struct, independently of the module's own writer."""
    code = {np.uint8: 0x08, np.int32: 0x0C}[array.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def small_mnist(folder: Path, *, compress: bool, dotted: bool = False) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(1)
    x_train = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
    y_train = np.arange(12, dtype=np.uint8) % 10
    x_test = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    y_test = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    sep = "." if dotted else "-"
    for stem, array in (
        (f"train-images{sep}idx3-ubyte", x_train),
        (f"train-labels{sep}idx1-ubyte", y_train),
        (f"t10k-images{sep}idx3-ubyte", x_test),
        (f"t10k-labels{sep}idx1-ubyte", y_test),
    ):
        body = idx_by_hand(array)
        if compress:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(body))
        else:
            (folder / stem).write_bytes(body)
    return x_train, y_train, x_test, y_test


@pytest.mark.parametrize(
    ("name", "compress", "dotted"),
    [
        ("plain", False, False),
        ("gzipped", True, False),
        ("dotted names", False, True),
    ],
    ids=["plain", "gzipped", "dotted names"],
)
def test_idx_folders_load(tmp_path: Path, name: str, compress: bool, dotted: bool) -> None:
    x_train, y_train, x_test, y_test = small_mnist(
        tmp_path / "mnist", compress=compress, dotted=dotted
    )
    data = load_dataset(DataSource(source="idx", path=str(tmp_path / "mnist")))
    assert np.array_equal(data.x_train, x_train) and np.array_equal(data.y_train, y_train)
    assert np.array_equal(data.x_heldout, x_test) and np.array_equal(data.y_heldout, y_test)
    assert data.y_train.dtype == np.int64 and data.classes == tuple(str(i) for i in range(10))


def test_idx_writer_matches_the_format(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    write_idx(tmp_path / "a", array)
    assert (tmp_path / "a").read_bytes() == idx_by_hand(array)
    write_idx(tmp_path / "b.gz", array, compress=True)
    assert np.array_equal(read_idx(tmp_path / "b.gz"), array)


BROKEN_IDX = [
    ("bad magic", b"\x01\x02\x08\x01" + struct.pack(">I", 3) + bytes(3), "bad magic"),
    (
        "truncated data",
        b"\x00\x00\x08\x02" + struct.pack(">II", 2, 2) + bytes(3),
        "holds 3 data bytes",
    ),
    ("extra data", b"\x00\x00\x08\x01" + struct.pack(">I", 2) + bytes(5), "holds 5 data bytes"),
    ("truncated header", b"\x00\x00\x08\x03" + bytes(4), "truncated IDX header"),
    ("damaged gzip", gzip.compress(idx_by_hand(np.zeros(4, np.uint8)))[:-6], "damaged gzip"),
]


@pytest.mark.parametrize(
    ("name", "content", "fragment"), BROKEN_IDX, ids=[b[0] for b in BROKEN_IDX]
)
def test_broken_idx_files_name_the_file(
    tmp_path: Path, name: str, content: bytes, fragment: str
) -> None:
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert str(path) in str(err.value) and fragment in str(err.value)


def test_missing_idx_file_is_named(tmp_path: Path) -> None:
    small_mnist(tmp_path / "m", compress=False)
    (tmp_path / "m" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        load_dataset(DataSource(source="idx", path=str(tmp_path / "m")))


# --- .npz files -------------------------------------------------------------------------------


def write_npz(path: Path, **arrays: np.ndarray) -> None:
    np.savez(path, **arrays)  # type: ignore[arg-type]


NPZ_CASES = [
    (
        "standard names",
        {},
        lambda x, y: {"x_train": x, "y_train": y, "x_test": x[:3], "y_test": y[:3]},
    ),
    (
        "custom names",
        {"x_train": "images", "y_train": "labels", "x_test": "vx", "y_test": "vy"},
        lambda x, y: {"images": x, "labels": y, "vx": x[:3], "vy": y[:3]},
    ),
    (
        "flat rows",
        {},
        lambda x, y: {
            "x_train": x.reshape(len(x), -1),
            "y_train": y,
            "x_test": x[:3].reshape(3, -1),
            "y_test": y[:3],
        },
    ),
    (
        "one-hot labels and a channel axis",
        {},
        lambda x, y: {
            "x_train": x[:, None],
            "y_train": np.eye(10)[y].astype(np.int64),
            "x_test": x[:3, None],
            "y_test": np.eye(10)[y[:3]].astype(np.int64),
        },
    ),
]


@pytest.mark.parametrize(("name", "keys", "arrays"), NPZ_CASES, ids=[c[0] for c in NPZ_CASES])
def test_npz_files_load(tmp_path: Path, name: str, keys: dict[str, str], arrays: object) -> None:
    x = np.arange(8 * 784, dtype=np.uint8).reshape(8, 28, 28)
    y = np.array([0, 1, 2, 3, 4, 5, 6, 9])
    write_npz(tmp_path / "d.npz", **arrays(x, y))  # type: ignore[operator]
    data = load_dataset(DataSource(source="npz", path=str(tmp_path / "d.npz"), keys=keys))
    assert np.array_equal(data.x_train, x) and np.array_equal(data.y_heldout, y[:3])
    assert data.num_classes == 10


@pytest.mark.parametrize(
    ("name", "arrays", "fragment"),
    [
        (
            "a key missing",
            {
                "x_train": np.zeros((2, 4, 4)),
                "y_train": np.zeros(2, int),
                "x_test": np.zeros((1, 4, 4)),
            },
            "no array 'y_test'",
        ),
        (
            "pickled objects",
            {
                "x_train": np.array([{"a": 1}], dtype=object),
                "y_train": np.zeros(1, int),
                "x_test": np.zeros((1, 4, 4)),
                "y_test": np.zeros(1, int),
            },
            "cannot be read",
        ),
        (
            "labels and images disagree",
            {
                "x_train": np.zeros((2, 4, 4)),
                "y_train": np.zeros(3, int),
                "x_test": np.zeros((1, 4, 4)),
                "y_test": np.zeros(1, int),
            },
            "2 train images but 3 labels",
        ),
        (
            "float labels",
            {
                "x_train": np.zeros((2, 4, 4)),
                "y_train": np.zeros(2),
                "x_test": np.zeros((1, 4, 4)),
                "y_test": np.zeros(1, int),
            },
            "integers",
        ),
    ],
    ids=["a key missing", "pickled objects", "labels and images disagree", "float labels"],
)
def test_broken_npz_files_are_data_errors(
    tmp_path: Path, name: str, arrays: dict[str, np.ndarray], fragment: str
) -> None:
    write_npz(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataError, match=fragment):
        load_dataset(DataSource(source="npz", path=str(tmp_path / "d.npz")))


# --- caching and paths ------------------------------------------------------------------------


def test_data_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    x, y = np.zeros((4, 4, 4), np.uint8), np.arange(4)
    write_npz(path, x_train=x, y_train=y, x_test=x, y_test=y)
    source = DataSource(source="npz", path=str(path))
    first = load_dataset(source)
    assert load_dataset(source) is first
    later = path.stat().st_mtime_ns + 10**9
    write_npz(path, x_train=x + 1, y_train=y, x_test=x, y_test=y)
    os.utime(path, ns=(later, later))
    second = load_dataset(source)
    assert second is not first and second.fingerprint != first.fingerprint


def test_relative_paths_come_from_grader_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_mnist(tmp_path / "course" / "mnist", compress=True)
    monkeypatch.setenv("GRADER_DATA_DIR", str(tmp_path / "course"))
    assert len(load_dataset(DataSource(source="idx", path="mnist")).y_heldout) == 5
    monkeypatch.setenv("GRADER_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="GRADER_DATA_DIR"):
        load_dataset(DataSource(source="idx", path="mnist"))


def test_override_path_replaces_the_rubric_data(tmp_path: Path) -> None:
    small_mnist(tmp_path / "mnist", compress=False)
    data = load_dataset(DataSource(), override=tmp_path / "mnist")
    assert len(data.y_train) == 12


def test_max_heldout_cuts_and_refingerprints() -> None:
    full = load_dataset(DataSource())
    cut = load_dataset(DataSource(max_heldout=100))
    assert len(cut.y_heldout) == 100 and cut.fingerprint != full.fingerprint


# --- preprocessing ----------------------------------------------------------------------------

PIXELS = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
TRAIN = np.array([[[0, 0], [255, 255]]], dtype=np.uint8)

PREPROCESSING = [
    ("scale to [0, 1]", Preprocess(scale=255), (4,), [0.0, 1.0, 0.2, 0.4]),
    (
        "Normalize(0.5, 0.5)",
        Preprocess(scale=255, mean=0.5, std=0.5),
        (4,),
        [-1.0, 1.0, -0.6, -0.2],
    ),
    (
        "training mean and std",
        Preprocess(scale=1, mean="train", std="train"),
        (4,),
        [-1.0, 1.0, 51 / 127.5 - 1, 102 / 127.5 - 1],
    ),
    ("channels first", Preprocess(scale=255), (1, 2, 2), [[[0.0, 1.0], [0.2, 0.4]]]),
]


@pytest.mark.parametrize(
    ("name", "preprocess", "shape", "expected"), PREPROCESSING, ids=[p[0] for p in PREPROCESSING]
)
def test_preprocessing_follows_the_rubric(
    name: str, preprocess: Preprocess, shape: tuple[int, ...], expected: object
) -> None:
    x = prepare_inputs(PIXELS, preprocess, shape, TRAIN)
    assert x.dtype == np.float32 and x.shape == (1, *shape)
    assert np.allclose(x[0], np.array(expected), atol=1e-6)


def test_input_shape_must_fit_the_images() -> None:
    with pytest.raises(DataError, match="4 pixels"):
        prepare_inputs(PIXELS, Preprocess(), (784,), TRAIN)
