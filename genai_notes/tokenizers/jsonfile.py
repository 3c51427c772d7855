"""Tokenizer files: human-readable JSON, read back with a clear error for every defect.

A file is one JSON object with a ``format`` name, a ``version`` number, a ``type`` and the
type's own fields. Reading refuses what ``json`` would quietly accept: a key given twice
(``json`` keeps the last one) and the non-standard constants ``NaN`` and ``Infinity``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from genai_notes._checks import describe

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "TokenizerFileError",
    "require",
    "read_json",
    "format_json",
]

FORMAT_NAME = "genai_notes.tokenizer"
FORMAT_VERSION = 1


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


def read_json(path: str | Path) -> Any:
    where = str(path)
    raw = Path(path).read_bytes()
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
        raise TokenizerFileError(f"{where}: {name} is not allowed in a tokenizer file")

    try:
        return json.loads(text, object_pairs_hook=no_duplicate_keys, parse_constant=no_constants)
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
