"""How alike two vectors are: dot product, cosine similarity and Euclidean distance.

All three functions follow one rule for shapes. Each argument is either a single vector
``(d,)`` or a stack of vectors ``(n, d)``, and **every vector of ``a`` is compared with every
vector of ``b``**:

==============  ==============  ===========
``a``           ``b``           result
==============  ==============  ===========
``(d,)``        ``(d,)``        a float
``(n, d)``      ``(d,)``        ``(n,)``
``(d,)``        ``(m, d)``      ``(m,)``
``(n, d)``      ``(m, d)``      ``(n, m)``
==============  ==============  ===========

>>> a = np.array([1.0, 0.0]); b = np.array([1.0, 1.0])
>>> dot_product(a, b), round(cosine_similarity(a, b), 4), euclidean_distance(a, b)
(1.0, 0.7071, 1.0)
>>> cosine_similarity(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[3.0, 0.0], [1.0, 1.0]])).round(4)
array([[1.    , 0.7071],
       [0.    , 0.7071]])
"""

from __future__ import annotations

import numpy as np

from genai_notes._checks import check_array

__all__ = ["dot_product", "cosine_similarity", "euclidean_distance", "unit_vectors"]


def _as_rows(a: object, b: object) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Both arguments as 2-D stacks of rows, plus the shape the result must take."""
    a = check_array(a, "a", ndim=(1, 2), dtype_kind="fiu")
    b = check_array(b, "b", ndim=(1, 2), dtype_kind="fiu")
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"b: expected vectors of dimension {a.shape[-1]} to match a, got shape {b.shape} "
            f"(a has shape {a.shape})"
        )
    out_shape = a.shape[:-1] + b.shape[:-1]
    return np.atleast_2d(a).astype(float), np.atleast_2d(b).astype(float), out_shape


def _finish(result: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray | float:
    result = result.reshape(out_shape)
    return float(result) if result.ndim == 0 else result


def _norms(x: np.ndarray, name: str) -> np.ndarray:
    norms = np.sqrt(np.square(x).sum(axis=-1))  # (n,)
    zero = np.flatnonzero(norms == 0.0)
    if zero.size:
        raise ValueError(
            f"{name}: row {zero[0]} is the zero vector; cosine similarity is undefined for a "
            "vector of length 0"
        )
    return norms


def dot_product(a: object, b: object) -> np.ndarray | float:
    """``a · b`` for every pair of vectors (see the module docstring for shapes).

    >>> dot_product(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
    array([3., 7.])
    """
    a2, b2, out_shape = _as_rows(a, b)
    return _finish(a2 @ b2.T, out_shape)  # (n, m)


def unit_vectors(x: object) -> np.ndarray:
    """Each vector of ``(d,)`` or ``(n, d)`` divided by its length; a zero vector is an error.

    >>> unit_vectors(np.array([3.0, 4.0]))
    array([0.6, 0.8])
    """
    x = check_array(x, "x", ndim=(1, 2), dtype_kind="fiu").astype(float)
    return x / _norms(np.atleast_2d(x), "x").reshape(x.shape[:-1] + (1,))


def cosine_similarity(a: object, b: object) -> np.ndarray | float:
    """``a · b / (|a| |b|)``, in [-1, 1], for every pair of vectors.

    It ignores length and compares direction only. A zero vector has no direction, so it
    raises ``ValueError`` instead of returning NaN.

    >>> round(cosine_similarity(np.array([1.0, 1.0]), np.array([-2.0, -2.0])), 6)
    -1.0
    >>> cosine_similarity(np.array([1.0, 1.0]), np.zeros(2))
    Traceback (most recent call last):
    ...
    ValueError: b: row 0 is the zero vector; cosine similarity is undefined for a vector of length 0
    """
    a2, b2, out_shape = _as_rows(a, b)
    cos = (a2 @ b2.T) / _norms(a2, "a")[:, None] / _norms(b2, "b")[None, :]  # (n, m)
    return _finish(np.clip(cos, -1.0, 1.0), out_shape)  # rounding can leave 1 + 1e-16


def euclidean_distance(a: object, b: object) -> np.ndarray | float:
    """``|a - b|`` for every pair of vectors.

    Computed as ``sqrt(|a|^2 + |b|^2 - 2 a·b)``, a matrix product instead of an
    ``(n, m, d)`` array of differences. Rounding can make the sum slightly negative for
    (nearly) equal vectors, so it is clipped at 0. The price of the shortcut: distances near 0
    are only accurate to about ``1e-7`` times the vectors' length, not exactly 0.

    >>> euclidean_distance(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([0.0, 0.0]))
    array([0., 5.])
    """
    a2, b2, out_shape = _as_rows(a, b)
    squared = (
        np.square(a2).sum(axis=-1)[:, None] + np.square(b2).sum(axis=-1)[None, :] - 2 * a2 @ b2.T
    )  # (n, m)
    return _finish(np.sqrt(np.maximum(squared, 0.0)), out_shape)
