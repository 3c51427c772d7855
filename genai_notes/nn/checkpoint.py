"""Reading and writing ``.npz`` checkpoints safely.

A checkpoint is a file people download and share, so reading one must never run code and
never trust what the file says about itself. :func:`read_npz` opens the zip archive, reads
each array's header first (name, dtype, shape), checks it against what the caller expects,
and only then reads the data, with ``allow_pickle=False``. Every problem, a truncated or
empty file, a plain ``.npy``, an object array, a header claiming an enormous shape, becomes a
:class:`CheckpointError` that names the file and what is wrong.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> path = os.path.join(folder, "w.npz")
>>> write_npz(path, {"w": np.ones((2, 3), np.float32)})
>>> read_npz(path, {"w": (2, 3)})["w"].shape
(2, 3)
>>> read_npz(path, {"w": (3, 2)})
Traceback (most recent call last):
...
genai_notes.nn.checkpoint.CheckpointError: w.npz: w: expected shape (3, 2), got (2, 3)
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from genai_notes._checks import check_size, describe
from genai_notes.tokenizers import TokenizerFileError
from genai_notes.tokenizers.jsonfile import read_json

__all__ = [
    "CheckpointError",
    "read_npz",
    "write_npz",
    "metadata_field",
    "read_metadata",
    "save_checkpoint_files",
]

_MAX_HEADER = 10_000  # bytes: a real header is under 200


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read: corrupt, of another kind, or not matching."""


def write_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` (name -> real-valued array) to an uncompressed ``.npz`` file."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path: expected a file name, got {describe(path)}")
    np.savez(path, **{name: np.asarray(a) for name, a in arrays.items()})


def read_npz(
    path: str | os.PathLike[str], expected: Mapping[str, tuple[int, ...]]
) -> dict[str, np.ndarray]:
    """Read the arrays of an ``.npz`` file whose names and shapes must be ``expected``.

    Returns name -> array. Raises :class:`CheckpointError` naming the file for anything
    else: not a zip archive (an empty, truncated or ``.npy`` file), missing or unexpected
    names, a shape other than expected (checked from the header, before the data are read),
    a dtype that is not a real number, or data that cannot be read.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path: expected a file name, got {describe(path)}")
    label = os.path.basename(os.fspath(path))
    if not os.path.isfile(path):
        raise CheckpointError(f"{label}: no such file")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{label}: not an .npz archive (a zip file of .npy arrays); empty, truncated, or "
            "another format such as a single .npy array"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            headers = {
                _array_name(label, i.filename): _header(label, archive, i)
                for i in archive.infolist()
            }
            _match(label, headers, expected)
            arrays = {}
            for info in archive.infolist():
                with archive.open(info) as handle:
                    arrays[_array_name(label, info.filename)] = np.lib.format.read_array(
                        handle, allow_pickle=False
                    )
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"{label}: cannot be read: {exc}") from None
    return arrays


def _array_name(label: str, member: str) -> str:
    if not member.endswith(".npy"):
        raise CheckpointError(f"{label}: the archive holds {member!r}, which is not an .npy array")
    return member[: -len(".npy")]


def _header(
    label: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo
) -> tuple[tuple[int, ...], np.dtype]:
    """An array's shape and dtype, from its header alone."""
    name = _array_name(label, info.filename)
    with archive.open(info) as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle, _MAX_HEADER)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle, _MAX_HEADER)
        else:
            raise CheckpointError(f"{label}: {name}: unsupported .npy version {version}")
    if dtype.hasobject or dtype.kind not in "fiu":
        raise CheckpointError(f"{label}: {name}: expected real numbers, got dtype {dtype}")
    return tuple(shape), dtype


def _match(
    label: str,
    headers: Mapping[str, tuple[tuple[int, ...], np.dtype]],
    expected: Mapping[str, tuple[int, ...]],
) -> None:
    missing = sorted(set(expected) - set(headers))
    unexpected = sorted(set(headers) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{label}: missing arrays {missing}, unexpected arrays {unexpected}")
    for name, (shape, _) in headers.items():
        if shape != tuple(expected[name]):
            raise CheckpointError(
                f"{label}: {name}: expected shape {tuple(expected[name])}, got {shape}"
            )
        try:
            check_size(shape, name)
        except ValueError as exc:
            raise CheckpointError(f"{label}: {exc}") from None


# ----------------------------------------------------------------------------------------
# The JSON metadata beside a shipped model (Chapters 8 and 10 share these)


def metadata_field(
    data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str
) -> Any:
    """``data[key]``, which must exist and be a ``kind`` (a bool is never an int here);
    else :class:`CheckpointError` naming ``where`` and the key.

    >>> metadata_field({"steps": 3}, "steps", int, "m.json")
    3
    >>> metadata_field({"steps": True}, "steps", int, "m.json")
    Traceback (most recent call last):
    ...
    genai_notes.nn.checkpoint.CheckpointError: m.json: 'steps' has the wrong type: True
    """
    if key not in data:
        raise CheckpointError(f"{where}: the key {key!r} is missing")
    value = data[key]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise CheckpointError(f"{where}: {key!r} has the wrong type: {describe(value)}")
    return value


def read_metadata(path: str | os.PathLike[str], fmt: str, version: int) -> dict[str, Any]:
    """Read a model's JSON metadata with the book's checked JSON reader (size, depth,
    duplicate keys, no NaN) and check that it is an object of format ``fmt`` and
    ``version``. Errors name the file, not its whole path."""
    path = Path(path)
    where = path.name
    try:
        data = read_json(path)
    except TokenizerFileError as exc:  # the same checked JSON reader as the tokenizers'
        raise CheckpointError(str(exc).replace(str(path), where)) from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{where}: expected a JSON object, got {type(data).__name__}")
    same_format = metadata_field(data, "format", str, where) == fmt
    if not same_format or metadata_field(data, "version", int, where) != version:
        raise CheckpointError(f"{where}: expected format {fmt!r} version {version}")
    return data


def save_checkpoint_files(
    folder: str | os.PathLike[str], prefix: str, model: Any, meta: dict[str, Any], tokenizer: Any
) -> None:
    """Write ``<prefix>_<name>.npz`` (``model.save``), ``<prefix>_<name>.json`` (``meta``,
    sorted keys) and ``<prefix>_tokenizer.json`` (``tokenizer.save``) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / f"{prefix}_{meta['name']}.npz")
    text = json.dumps(meta, indent=1, sort_keys=True) + "\n"
    (folder / f"{prefix}_{meta['name']}.json").write_text(text, encoding="utf-8")
    tokenizer.save(folder / f"{prefix}_tokenizer.json")
