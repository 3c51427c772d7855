"""Argument checks shared by every module.

Every public function in ``genai_notes`` validates its inputs with these helpers, so that bad
input fails early with one consistent kind of message: the argument's name, what was expected,
and what was received.

>>> check_positive_int(3, "n_sentences")
3
>>> check_positive_int(-1, "n_sentences")
Traceback (most recent call last):
...
ValueError: n_sentences: expected a positive integer, got -1
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = [
    "describe",
    "check_int",
    "check_positive_int",
    "check_nonnegative_int",
    "check_real",
    "check_probability",
    "check_str",
    "check_array",
    "check_shape",
    "check_rng",
]


def describe(value: Any) -> str:
    """A short description of ``value`` for error messages: its repr, or type and shape.

    >>> describe(np.zeros((2, 3)))
    'array of shape (2, 3) and dtype float64'
    >>> describe("abc")
    "'abc'"
    """
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = f"{type(value).__name__} {text[:50]}..."
    return text


def check_int(value: Any, name: str, minimum: int | None = None) -> int:
    """Return ``value`` as ``int`` if it is an integer (not a bool) at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        what = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise TypeError(f"{name}: expected {what}, got {describe(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as ``int`` if it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name}: expected a positive integer, got {describe(value)}")
    if value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value}")
    return int(value)


def check_nonnegative_int(value: Any, name: str) -> int:
    """Return ``value`` as ``int`` if it is an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name}: expected a non-negative integer, got {describe(value)}")
    if value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value}")
    return int(value)


def check_real(
    value: Any,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as ``float`` if it is a finite real number in the given range.

    >>> check_real(0.5, "temperature", low=0.0, low_inclusive=False)
    0.5
    >>> check_real(0.0, "temperature", low=0.0, low_inclusive=False)
    Traceback (most recent call last):
    ...
    ValueError: temperature: expected a number > 0.0, got 0.0
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name}: expected a real number, got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    if low is not None:
        ok = value >= low if low_inclusive else value > low
        if not ok:
            sign = ">=" if low_inclusive else ">"
            raise ValueError(f"{name}: expected a number {sign} {low}, got {value}")
    if high is not None:
        ok = value <= high if high_inclusive else value < high
        if not ok:
            sign = "<=" if high_inclusive else "<"
            raise ValueError(f"{name}: expected a number {sign} {high}, got {value}")
    return value


def check_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """Return ``axis`` as an index in ``[0, ndim)`` if it names an axis of an array with
    ``ndim`` dimensions (negative axes count from the end, as in NumPy).

    >>> check_axis(-1, 3)
    2
    >>> check_axis(5, 3)
    Traceback (most recent call last):
    ...
    ValueError: axis: expected an axis of a 3-d array, in [-3, 3), got 5
    """
    if isinstance(axis, bool) or not isinstance(axis, Integral):
        raise TypeError(f"{name}: expected an integer axis, got {describe(axis)}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{name}: expected an axis of a {ndim}-d array, in [{-ndim}, {ndim}), got {axis}"
        )
    return int(axis) % ndim


# The most elements an array made from a size argument may have (2**28: 1 GiB of float32).
# Absurd sizes are refused before anything is allocated; raise it with set_max_elements.
_limits = {"max_elements": 1 << 28}


def set_max_elements(n: int) -> int:
    """Set the size limit of :func:`check_size` (elements per array); return the old one.

    >>> old = set_max_elements(10**9); set_max_elements(old) == 10**9
    True
    """
    n = check_positive_int(n, "n")
    old, _limits["max_elements"] = _limits["max_elements"], n
    return old


def check_size(shape: tuple[int, ...], name: str) -> tuple[int, ...]:
    """Refuse, before allocating, an array of ``shape`` above the size limit.

    >>> check_size((10**6, 10**5), "d_in, d_out")
    Traceback (most recent call last):
    ...
    ValueError: d_in, d_out: an array of shape (1000000, 100000) would hold 100000000000 elements, more than the limit of 268435456 (raise it with genai_notes._checks.set_max_elements)
    """
    total = 1
    for n in shape:
        total *= int(n)
    if total > _limits["max_elements"]:
        raise ValueError(
            f"{name}: an array of shape {tuple(shape)} would hold {total} elements, more than "
            f"the limit of {_limits['max_elements']} (raise it with "
            "genai_notes._checks.set_max_elements)"
        )
    return tuple(shape)


def check_probability(value: Any, name: str) -> float:
    """Return ``value`` as ``float`` if it lies in [0, 1]."""
    return check_real(value, name, low=0.0, high=1.0)


def check_str(value: Any, name: str) -> str:
    """Return ``value`` if it is a ``str``."""
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected a str, got {type(value).__name__} {describe(value)}")
    return value


def check_array(
    value: Any,
    name: str,
    ndim: int | Sequence[int] | None = None,
    dtype_kind: str | None = None,
    finite: bool = True,
) -> np.ndarray:
    """Convert ``value`` to an array and check its rank, dtype kind and finiteness.

    ``dtype_kind`` is a string of accepted ``numpy`` kind codes: ``"f"`` float, ``"iu"``
    integers, ``"b"`` bool, ``"fiu"`` any real number.

    >>> check_array([[1.0, 2.0]], "x", ndim=2).shape
    (1, 2)
    >>> check_array([1.0, 2.0], "x", ndim=2)
    Traceback (most recent call last):
    ...
    ValueError: x: expected a 2-D array, got array of shape (2,) and dtype float64
    """
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise TypeError(
            f"{name}: expected an array-like of numbers, got {describe(value)}"
        ) from exc
    if array.dtype == object:
        raise TypeError(f"{name}: expected an array-like of numbers, got {describe(value)}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name}: expected a {want} array, got {describe(array)}")
    if dtype_kind is not None and array.dtype.kind not in dtype_kind:
        kinds = {"f": "float", "i": "integer", "u": "unsigned integer", "b": "bool"}
        want = " or ".join(kinds.get(k, k) for k in dtype_kind)
        raise TypeError(f"{name}: expected {want} values, got {describe(array)}")
    if finite and array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
        raise ValueError(
            f"{name}: expected finite values, got NaN or infinity in {describe(array)}"
        )
    return array


def check_shape(array: np.ndarray, name: str, expected: Sequence[int | None]) -> np.ndarray:
    """Check ``array.shape`` against ``expected``, where ``None`` matches any size.

    >>> check_shape(np.zeros((4, 8)), "w", (None, 8)).shape
    (4, 8)
    >>> check_shape(np.zeros((8, 4)), "w", (4, 8))
    Traceback (most recent call last):
    ...
    ValueError: w: expected shape (4, 8), got (8, 4)
    """
    expected = tuple(expected)
    ok = len(array.shape) == len(expected) and all(
        want is None or want == got for want, got in zip(expected, array.shape)
    )
    if not ok:
        shown = "(" + ", ".join("any" if d is None else str(d) for d in expected)
        shown += ",)" if len(expected) == 1 else ")"
        raise ValueError(f"{name}: expected shape {shown}, got {array.shape}")
    return array


def check_rng(seed_or_rng: Any, name: str = "seed") -> np.random.Generator:
    """Turn an ``int`` seed or an existing ``np.random.Generator`` into a Generator.

    ``None`` is refused on purpose: everything random in the book is reproducible.

    >>> int(check_rng(0).integers(10)) == int(check_rng(0).integers(10))
    True
    """
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if isinstance(seed_or_rng, bool) or not isinstance(seed_or_rng, Integral):
        raise TypeError(
            f"{name}: expected an integer seed or a numpy Generator, got {describe(seed_or_rng)}"
        )
    if seed_or_rng < 0:
        raise ValueError(f"{name}: expected a non-negative integer seed, got {seed_or_rng}")
    return np.random.default_rng(int(seed_or_rng))
