"""Tokenizer files: human-readable JSON, read back with a clear error for every defect.

A file is one JSON object with a ``format`` name, a ``version`` number, a ``type`` and the
type's own fields. Reading refuses what ``json`` would quietly accept: a key given twice
(``json`` keeps the last one) and the non-standard constants ``NaN`` and ``Infinity``. It also
refuses, with this module's own error, what would make ``json`` fail from deep inside: a file
larger than :data:`MAX_FILE_BYTES` (checked before it is read), arrays or objects nested more
than :data:`MAX_DEPTH` deep, and integers longer than :data:`MAX_INT_DIGITS` digits.
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from genai_notes._checks import describe

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "TokenizerFileError",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_INT_DIGITS",
    "check_path",
    "require",
    "read_json",
    "format_json",
]

FORMAT_NAME = "genai_notes.tokenizer"
FORMAT_VERSION = 1

# A trained tokenizer file of this book is well under 1 MB; 64 MB leaves room for any
# vocabulary a learner could train here, and stops a wrong file from filling the memory.
MAX_FILE_BYTES = 64 * 2**20
# Our files nest three levels ({"merges": [[104, 105], ...]}); the limit only has to stop a
# hostile file before Python's own recursion limit does.
MAX_DEPTH = 32
# Ids and versions are small; Python refuses integers of over 4,300 digits with an error of
# its own, so a long digit string is refused here first.
MAX_INT_DIGITS = 20


class TokenizerFileError(ValueError):
    """A tokenizer file could not be read: bad JSON, a missing key, a wrong type, ..."""


def require(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    """Return ``data[key]``, checking that it exists and has Python type ``kind``.

    >>> require({"merges": []}, "merges", list, "tok.json")
    []
    >>> require({"merges": 3}, "merges", list, "tok.json")
    Traceback (most recent call last):
    ...
    genai_notes.tokenizers.jsonfile.TokenizerFileError: tok.json: 'merges' should be a list, got int 3
    """
    if key not in data:
        raise TokenizerFileError(f"{where}: the key {key!r} is missing")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        names = {list: "a list", str: "a string", int: "an integer", dict: "an object"}
        raise TokenizerFileError(
            f"{where}: {key!r} should be {names.get(kind, kind.__name__)}, "
            f"got {type(value).__name__} {describe(value)}"
        )
    return value


def check_path(path: Any, name: str = "path") -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`, refusing anything that is not a path.

    >>> check_path("tok.json")
    PosixPath('tok.json')
    >>> check_path(None)
    Traceback (most recent call last):
    ...
    TypeError: path: expected a file name (str or pathlib.Path), got NoneType None
    """
    if isinstance(path, bytes) or not isinstance(path, (str, PathLike)):
        raise TypeError(
            f"{name}: expected a file name (str or pathlib.Path), "
            f"got {type(path).__name__} {describe(path)}"
        )
    if str(path) == "":
        raise ValueError(f"{name}: expected a file name, got the empty string")
    return Path(path)


def _depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit``, without parsing.

    Vectorised: brackets inside JSON strings are masked out by the parity of the unescaped
    quotes before them, then the running depth is a cumulative sum.

    >>> _depth_exceeds('[[1], {"a": "[[[["}]', 2), _depth_exceeds("[[[1]]]", 2)
    (False, True)
    """
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    backslash = codes == ord("\\")
    # A character is escaped when an odd run of backslashes precedes it.
    run = np.zeros(codes.size, dtype=np.int64)
    if backslash.any():
        index = np.arange(codes.size)
        last_other = np.maximum.accumulate(np.where(~backslash, index, -1))
        run[1:] = (index[:-1] - last_other[:-1]) * backslash[:-1]
    quote = (codes == ord('"')) & (run % 2 == 0)
    inside = (np.cumsum(quote) - quote) % 2 == 1
    opens = ((codes == ord("[")) | (codes == ord("{"))) & ~inside
    closes = ((codes == ord("]")) | (codes == ord("}"))) & ~inside
    depth = np.cumsum(opens.astype(np.int64) - closes)
    return bool(depth.size) and int(depth.max()) > limit


def read_json(path: str | Path) -> Any:
    """Parse a tokenizer file, with :class:`TokenizerFileError` for every defect.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "deep.json"
    >>> _ = path.write_text("[" * 100_000)
    >>> read_json(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    genai_notes.tokenizers.jsonfile.TokenizerFileError: ...deep.json: arrays or objects nest more than 32 levels deep
    """
    path = check_path(path)
    where = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise TokenizerFileError(f"{where}: no such file") from None
    if size > MAX_FILE_BYTES:
        raise TokenizerFileError(
            f"{where}: the file has {size:,} bytes; a tokenizer file has at most "
            f"{MAX_FILE_BYTES:,} (jsonfile.MAX_FILE_BYTES)"
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TokenizerFileError(
            f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None

    def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:
                raise TokenizerFileError(f"{where}: the key {key!r} appears more than once")
        return dict(pairs)

    def no_constants(name: str) -> Any:
        raise TokenizerFileError(f"{where}: {name} is not allowed (standard JSON has no {name})")

    def short_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            raise TokenizerFileError(
                f"{where}: an integer with {len(digits.lstrip('-')):,} digits; ids and "
                f"versions have at most {MAX_INT_DIGITS}"
            )
        return int(digits)

    if _depth_exceeds(text, MAX_DEPTH):
        raise TokenizerFileError(
            f"{where}: arrays or objects nest more than {MAX_DEPTH} levels deep"
        )
    try:
        return json.loads(
            text,
            object_pairs_hook=no_duplicate_keys,
            parse_constant=no_constants,
            parse_int=short_int,
        )
    except json.JSONDecodeError as exc:
        raise TokenizerFileError(
            f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def format_json(payload: dict[str, Any], ensure_ascii: bool) -> str:
    """JSON with one list item per line, so a diff shows exactly which merge changed."""
    lines = []
    for key, value in payload.items():
        head = f"  {json.dumps(key)}: "
        if isinstance(value, list) and value:
            items = ",\n".join("    " + json.dumps(v, ensure_ascii=ensure_ascii) for v in value)
            lines.append(f"{head}[\n{items}\n  ]")
        else:
            lines.append(head + json.dumps(value, ensure_ascii=ensure_ascii))
    return "{\n" + ",\n".join(lines) + "\n}\n"
