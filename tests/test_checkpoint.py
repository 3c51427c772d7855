"""Loading weights: load_state_dict checks everything before it changes anything, and a bad
checkpoint file gives one clear CheckpointError naming the file, never a library error."""

from __future__ import annotations

import datetime
import io
import zipfile

import numpy as np
import pytest

from genai_notes.nn import Linear
from genai_notes.nn.checkpoint import CheckpointError


def fresh() -> Linear:
    return Linear(3, 2, rng=0)


def test_load_state_dict_changes_nothing_when_one_entry_is_bad():
    layer = fresh()
    before = {k: v.copy() for k, v in layer.state_dict().items()}
    with pytest.raises(TypeError, match=r"state\['bias'\]: expected real numbers"):
        layer.load_state_dict({"weight": np.full((3, 2), 7.0), "bias": np.array(["a", "b"])})
    for name, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[name])  # weight was not overwritten


@pytest.mark.parametrize(
    ("bias", "error", "match"),
    [
        (np.array([np.nan, 0.0]), ValueError, "finite"),
        (np.array([np.inf, 0.0]), ValueError, "finite"),
        (np.array([None, None]), TypeError, "dtype object"),
        (np.array([1 + 2j, 0.0]), TypeError, "dtype complex128"),
        (np.array([1e300, 0.0]), ValueError, "too large"),  # float32 parameters: inf
        (
            np.array([datetime.datetime(2020, 1, 1)] * 2, dtype="datetime64[s]"),
            TypeError,
            "datetime64",
        ),
        (np.zeros(2, dtype=[("a", "f4")]), TypeError, "expected real numbers"),
    ],
    ids=["nan", "inf", "None", "complex", "overflow", "datetime", "structured"],
)
def test_load_state_dict_rejects_values_that_are_not_finite_reals(bias, error, match):
    layer = fresh()
    with pytest.raises(error, match=rf"state\['bias'\]: .*{match}"):
        layer.load_state_dict({"weight": np.ones((3, 2)), "bias": bias})
    assert np.all(layer.bias.data == 0)


def _bad_file(tmp_path, kind: str):
    path = tmp_path / "model.npz"
    good = io.BytesIO()
    np.savez(good, weight=np.ones((3, 2), np.float32), bias=np.zeros(2, np.float32))
    data = good.getvalue()
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "npy":
        np.save(path.with_suffix(".npy"), np.ones(3))
        path.with_suffix(".npy").rename(path)
    elif kind == "object array":
        np.savez(
            path, weight=np.array([object()] * 6, dtype=object).reshape(3, 2), bias=np.zeros(2)
        )
    elif kind == "huge header":
        header = {"descr": "<f4", "fortran_order": False, "shape": (100_000, 1_000_000)}
        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(buffer, header)
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("weight.npy", np.lib.format.magic(1, 0) + buffer.getvalue()[8:])
            archive.writestr("bias.npy", _npy(np.zeros(2, np.float32)))
    elif kind == "other file in the archive":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("weight.npy", _npy(np.ones((3, 2), np.float32)))
            archive.writestr("bias.npy", _npy(np.zeros(2, np.float32)))
            archive.writestr("notes.txt", "hello")
    elif kind == "corrupt data":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("weight.npy", _npy(np.ones((3, 2), np.float32))[:-8])
            archive.writestr("bias.npy", _npy(np.zeros(2, np.float32)))
    return path


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("empty", "not an .npz archive"),
        ("truncated", "not an .npz archive"),
        ("npy", "not an .npz archive"),
        ("object array", "weight: expected real numbers, got dtype object"),
        ("huge header", r"weight: expected shape \(3, 2\), got \(100000, 1000000\)"),
        ("other file in the archive", "'notes.txt', which is not an .npy array"),
        ("corrupt data", "cannot be read"),
    ],
)
def test_bad_checkpoint_files_raise_one_clear_error(tmp_path, kind, match):
    layer = fresh()
    with pytest.raises(CheckpointError, match=rf"model.npz: .*{match}"):
        layer.load(_bad_file(tmp_path, kind))
    assert np.all(layer.bias.data == 0)


def test_a_missing_file_and_a_bad_path_are_named(tmp_path):
    with pytest.raises(CheckpointError, match="nothing.npz: no such file"):
        fresh().load(tmp_path / "nothing.npz")
    with pytest.raises(TypeError, match="path: expected a file name, got None"):
        fresh().load(None)


def test_a_good_file_round_trips(tmp_path):
    layer, other = fresh(), Linear(3, 2, rng=1)
    layer.save(tmp_path / "model.npz")
    other.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(other.weight.data, layer.weight.data)
