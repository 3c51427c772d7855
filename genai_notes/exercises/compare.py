"""Compare a learner's answer with the expected value, and say in words where they differ.

``compare(expected, got)`` returns None when the answer matches, or one message that names the
first difference: the wrong type, the wrong shape (expected versus got), the wrong kind of
number, or where the values differ and by how much. The rules hold for every checker:

* an integer task wants integers: ``2.0`` is not accepted for the count ``2``, and an array of
  floats is not accepted for an array of counts;
* ``True`` is not accepted for ``1``, nor a boolean array for numbers, nor numbers for a
  boolean array (a mask);
* numbers match within ``rtol`` and ``atol`` (``numpy.isclose``), so a near miss such as
  ``1.0001`` for ``1`` is rejected at the default tolerance.

Positions are named by ``locate(path)``, a function from a position to words, when the checker
gives one: ``path`` holds the item of a tuple or list, the key of a dict, and then the index
into an array, so a question can say "the pair ('\\n', 'a')" or "query 1, key 2" instead of
"index (0, 1)". Without it, positions read "item 1", "at key 'a'" and "index (0, 1)".

>>> compare(np.zeros((4, 8)), np.zeros((8, 4)))
'expected shape (4, 8), got (8, 4)'
>>> compare(np.eye(2), np.array([[1.0, 0.5], [0.0, 1.0]]), locate=lambda p: f"row {p[0]}, column {p[1]}")
'1 of 4 values differ; the largest difference is at row 0, column 1: expected 0, got 0.5'
>>> compare(2, 2.0)
'expected an integer, got float 2.0'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Integral, Number
from typing import Any

import numpy as np

from genai_notes._checks import describe

__all__ = ["compare", "type_name", "Locate"]

# A position inside an answer: sequence items and array indices are ints, dict keys are _Key.
Locate = Callable[[tuple], "str | None"]


@dataclass(frozen=True)
class _Key:
    key: Any


def type_name(value: Any) -> str:
    """A learner-friendly name for the type of ``value``.

    >>> type_name(np.zeros(2)), type_name(len), type_name(3)
    ('NumPy array', 'function', 'int')
    """
    if isinstance(value, np.ndarray):
        return "NumPy array"
    if callable(value) and not isinstance(value, type):
        return "function"
    return type(value).__name__


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _array_kind(dtype: np.dtype) -> str:
    """What an array holds, in words: the learner sees this when the kind is wrong."""
    if dtype.kind == "b":
        return "a boolean array (True/False)"
    if dtype.kind in "iu":
        return f"an array of integers (dtype {dtype})"
    return f"an array of floats (dtype {dtype})"


def compare(
    expected: Any, got: Any, rtol: float = 1e-6, atol: float = 1e-8, locate: Locate | None = None
) -> str | None:
    """Compare an answer with the expected value. Returns None if they match, else a message.

    Supports numbers, booleans, strings, NumPy arrays, lists, tuples and dicts (recursively).

    >>> compare({"a": 1}, {"b": 1})
    "missing key 'a'; unexpected key 'b'"
    >>> compare(1, True)
    'expected a number, got bool True'
    >>> compare(object(), 1)
    Traceback (most recent call last):
    ...
    TypeError: expected: cannot check answers against a value of type object; supported types are numbers, bool, str, NumPy arrays, list, tuple and dict
    """
    return _Comparison(rtol, atol, locate).run(expected, got, ())


@dataclass(frozen=True)
class _Comparison:
    rtol: float
    atol: float
    locate: Locate | None

    # -- where ----------------------------------------------------------------------------

    def _named(self, path: tuple) -> str | None:
        if self.locate is None or not path:
            return None
        try:
            plain = tuple(p.key if isinstance(p, _Key) else p for p in path)
            return self.locate(plain) or None
        except Exception:  # a position the question does not name: use the default words
            return None

    def prefix(self, path: tuple) -> str:
        """Words for a position, ending in ': ', or '' at the top level."""
        named = self._named(path)
        if named:
            return f"{named}: "
        return "".join(
            f"at key {p.key!r}: " if isinstance(p, _Key) else f"item {p}: " for p in path
        )

    def at_index(self, path: tuple, index: tuple[int, ...], always_tuple: bool = False) -> str:
        """Words for one entry of an array found at ``path``."""
        named = self._named(path + index)
        if named:
            return named
        shown = index if (len(index) > 1 or always_tuple) else index[0]
        return f"index {shown}"

    # -- what -----------------------------------------------------------------------------

    def run(self, expected: Any, got: Any, path: tuple) -> str | None:
        if _is_bool(expected):
            return self._bool(expected, got, path)
        if isinstance(expected, Number) and not isinstance(expected, complex):
            return self._number(expected, got, path)
        if isinstance(expected, str):
            return self._str(expected, got, path)
        if isinstance(expected, np.ndarray):
            return self._array(expected, got, path)
        if isinstance(expected, (list, tuple)):
            return self._sequence(expected, got, path)
        if isinstance(expected, Mapping):
            return self._mapping(expected, got, path)
        raise TypeError(
            f"expected: cannot check answers against a value of type {type(expected).__name__}; "
            "supported types are numbers, bool, str, NumPy arrays, list, tuple and dict"
        )

    def _bool(self, expected: Any, got: Any, path: tuple) -> str | None:
        where = self.prefix(path)
        if not _is_bool(got):
            return f"{where}expected True or False, got {type_name(got)} {describe(got)}"
        if bool(got) == bool(expected):
            return None
        return f"{where}expected {bool(expected)}, got {bool(got)}"

    def _number(self, expected: Any, got: Any, path: tuple) -> str | None:
        where = self.prefix(path)
        if isinstance(got, np.ndarray) and got.shape == ():
            got = got.item()
        if _is_bool(got) or not isinstance(got, Number) or isinstance(got, complex):
            return f"{where}expected a number, got {type_name(got)} {describe(got)}"
        if isinstance(expected, Integral) and not isinstance(got, Integral):
            return f"{where}expected an integer, got {type_name(got)} {describe(got)}"
        if np.isnan(float(got)):
            return f"{where}expected {expected:.6g}, got NaN"
        if np.isclose(float(got), float(expected), rtol=self.rtol, atol=self.atol):
            return None
        off = float(got) - float(expected)
        return f"{where}expected {expected:.6g}, got {got:.6g} (off by {off:.3g})"

    def _str(self, expected: str, got: Any, path: tuple) -> str | None:
        where = self.prefix(path)
        if not isinstance(got, str):
            return f"{where}expected a str, got {type_name(got)} {describe(got)}"
        if got == expected:
            return None
        first = next(
            (i for i, (a, b) in enumerate(zip(expected, got)) if a != b),
            min(len(got), len(expected)),
        )
        return (
            f"{where}expected {describe(expected)}, got {describe(got)} "
            f"(they first differ at character {first})"
        )

    def _array(self, expected: np.ndarray, got: Any, path: tuple) -> str | None:
        where = self.prefix(path)
        if isinstance(got, (str, bytes)) or (
            not isinstance(got, (np.ndarray, list, tuple)) and not np.isscalar(got)
        ):
            return f"{where}expected a NumPy array, got {type_name(got)} {describe(got)}"
        try:
            got = np.asarray(got)
        except ValueError:
            return f"{where}expected a NumPy array, got a ragged nested list"
        if got.dtype == object or got.dtype.kind not in "biuf":
            return f"{where}expected an array of numbers, got an array of dtype {got.dtype}"
        kinds = {"b": "b", "i": "iu", "u": "iu", "f": "iuf"}[expected.dtype.kind]
        if got.dtype.kind not in kinds:
            return f"{where}expected {_array_kind(expected.dtype)}, got {_array_kind(got.dtype)}"
        if got.shape != expected.shape:
            return f"{where}expected shape {expected.shape}, got {got.shape}"
        if expected.size == 0:
            return None
        expected_f, got_f = expected.astype(float), got.astype(float)
        if np.isnan(got_f).any() and not np.isnan(expected_f).any():
            first = tuple(int(i) for i in np.argwhere(np.isnan(got_f))[0])
            return f"{where}your array contains NaN, first at {self.at_index(path, first, True)}"
        close = np.isclose(got_f, expected_f, rtol=self.rtol, atol=self.atol, equal_nan=True)
        if close.all():
            return None
        with np.errstate(invalid="ignore"):  # inf - inf where both are inf (and so close)
            error = np.where(close, 0.0, np.abs(got_f - expected_f))
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(error), error.shape))
        return (
            f"{where}{int((~close).sum())} of {close.size} values differ; the largest difference "
            f"is at {self.at_index(path, worst)}: expected {expected_f[worst]:.6g}, "
            f"got {got_f[worst]:.6g}"
        )

    def _sequence(self, expected: list | tuple, got: Any, path: tuple) -> str | None:
        where = self.prefix(path)
        if not isinstance(got, (list, tuple)):
            return (
                f"{where}expected a {type(expected).__name__}, got {type_name(got)} {describe(got)}"
            )
        if len(got) != len(expected):
            return f"{where}expected {len(expected)} items, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            message = self.run(e, g, path + (i,))
            if message:
                return message
        return None

    def _mapping(self, expected: Mapping, got: Any, path: tuple) -> str | None:
        where = self.prefix(path)
        if not isinstance(got, Mapping):
            return f"{where}expected a dict, got {type_name(got)} {describe(got)}"
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        if missing or extra:
            parts = [f"missing key {describe(missing[0])}"] if missing else []
            parts += [f"unexpected key {describe(extra[0])}"] if extra else []
            return where + "; ".join(parts)
        for key in expected:
            message = self.run(expected[key], got[key], path + (_Key(key),))
            if message:
                return message
        return None
