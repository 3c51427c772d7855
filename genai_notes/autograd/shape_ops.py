"""Operations that move values around: reshape, transpose, indexing, embedding lookup,
concatenate/split, masked_fill and dropout. Their backward rules route each gradient back
to the position its value came from.

>>> x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
>>> y = x.transpose()[1:]          # rows 1, 2 of xᵀ: (2, 2)
>>> y.sum().backward()
>>> x.grad
array([[0., 1., 1.],
       [0., 1., 1.]], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from genai_notes._checks import (
    check_array,
    check_axis,
    check_positive_int,
    check_probability,
    check_rng,
)
from genai_notes.autograd.tensor import Tensor, expect_tensor

__all__ = [
    "reshape",
    "transpose",
    "getitem",
    "embedding",
    "scatter_add_rows",
    "concatenate",
    "split",
    "masked_fill",
    "dropout",
]


def reshape(x: Tensor, shape: Any) -> Tensor:
    """Same values, new shape; the gradient is reshaped back.

    >>> Tensor(np.zeros(6)).reshape(2, -1).shape
    (2, 3)
    """
    expect_tensor(x, "x")
    try:
        out = x.data.reshape(shape)
    except (ValueError, TypeError):
        raise ValueError(f"shape: cannot reshape {x.shape} into {shape}") from None
    return Tensor._node(out, (x,), lambda g: (g.reshape(x.shape),), "reshape")


def transpose(x: Tensor, axes: Sequence[int] | None = None) -> Tensor:
    """Permute axes (reverse them when ``axes`` is None); backward applies the inverse."""
    expect_tensor(x, "x")
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(axes)
    in_range = all(isinstance(a, int | np.integer) and -x.ndim <= a < x.ndim for a in axes)
    if not in_range or sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
        raise ValueError(f"axes: expected a permutation of range({x.ndim}), got {axes}")
    inverse = tuple(np.argsort([a % x.ndim for a in axes]))
    out = x.data.transpose(axes)
    return Tensor._node(out, (x,), lambda g: (g.transpose(inverse),), "transpose")


def _is_basic(index: Any) -> bool:
    """True if ``index`` selects with slices/ints only (no position is picked twice)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, int | slice | type(None)) or p is Ellipsis for p in parts)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with NumPy indexing. Backward scatters ``g`` into zeros of x's shape;
    with integer-array indices a position picked twice receives both gradients (add.at).

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> x[np.array([0, 0, 2])].sum().backward(); x.grad
    array([2., 0., 1.], dtype=float32)
    """
    expect_tensor(x, "x")
    if isinstance(index, Tensor):
        raise TypeError("index: expected ints, slices or integer arrays, got a Tensor")
    try:
        out = x.data[index]
    except IndexError as exc:
        raise IndexError(f"index: {exc} (tensor shape {x.shape})") from None
    basic = _is_basic(index)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        full = np.zeros_like(x.data)
        if basic:
            full[index] = g
        else:
            np.add.at(full, index, g)
        return (full,)

    return Tensor._node(np.asarray(out), (x,), backward, "getitem")


_ONE_HOT_LIMIT = 1 << 18  # largest one-hot matrix (entries) worth building in scatter_add_rows


def scatter_add_rows(ids: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """``out[ids[i]] += rows[i]`` for every i, into zeros of shape ``(n_rows, d)``.

    Sorting the ids and summing each run with ``np.add.reduceat`` is several times faster
    than ``np.add.at``, which handles repeated ids one at a time; for small tables a product
    ``one_hot(ids)ᵀ @ rows`` is faster still.

    >>> scatter_add_rows(np.array([2, 0, 2]), np.ones((3, 1)), 3).ravel()
    array([1., 0., 2.])
    """
    n_rows = check_positive_int(n_rows, "n_rows")
    ids = check_array(ids, "ids", ndim=1, dtype_kind="iu")
    rows = check_array(rows, "rows", ndim=2, dtype_kind="f")
    if rows.shape[0] != ids.size:
        raise ValueError(f"rows: expected one row per id ({ids.size}), got shape {rows.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= n_rows):
        raise ValueError(f"ids: expected values in [0, {n_rows}), got [{ids.min()}, {ids.max()}]")
    if ids.size * n_rows <= _ONE_HOT_LIMIT:
        # Small tables (e.g. characters): a one-hot matrix product is faster still.
        one_hot = np.zeros((n_rows, ids.size), dtype=rows.dtype)
        one_hot[ids, np.arange(ids.size)] = 1.0
        return one_hot @ rows
    out = np.zeros((n_rows, rows.shape[-1]), dtype=rows.dtype)
    if ids.size == 0:
        return out
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1])))
    out[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


def embedding(weight: Tensor, ids: Any) -> Tensor:
    """Look up rows of ``weight (vocab, d_model)`` for integer ``ids`` of any shape.

    Returns ``(*ids.shape, d_model)``; equal to ``one_hot(ids) @ weight`` without building
    the one-hot matrix. Backward adds each output gradient row to its id's row.

    >>> w = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    >>> embedding(w, np.array([[2, 0, 2]])).data
    array([[[4., 5.],
            [0., 1.],
            [4., 5.]]], dtype=float32)
    """
    expect_tensor(weight, "weight")
    ids = check_array(ids, "ids", dtype_kind="iu")
    if weight.ndim != 2:
        raise ValueError(f"weight: expected shape (vocab, d_model), got {weight.shape}")
    vocab = weight.shape[0]
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        raise ValueError(
            f"ids: expected token ids in [0, {vocab}), got values in [{ids.min()}, {ids.max()}]"
        )
    out = weight.data[ids]  # (*ids.shape, d_model)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (scatter_add_rows(ids.reshape(-1), g.reshape(-1, weight.shape[1]), vocab),)

    return Tensor._node(out, (weight,), backward, "embedding")


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along ``axis``; backward hands each input its slice of ``g``.

    >>> concatenate([Tensor([1.0]), Tensor([2.0, 3.0])]).data
    array([1., 2., 3.], dtype=float32)
    """
    tensors = tuple(tensors)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"tensors: expected a non-empty sequence of Tensors, got {tensors!r:.80}")
    try:
        out = np.concatenate([t.data for t in tensors], axis=axis)
    except ValueError as exc:
        shapes = [t.shape for t in tensors]
        raise ValueError(f"tensors: cannot concatenate shapes {shapes} on axis {axis}") from exc
    bounds = np.cumsum([t.shape[axis] for t in tensors])[:-1]

    def backward(g: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.split(g, bounds, axis=axis))

    return Tensor._node(out, tensors, backward, "concatenate")


def split(x: Tensor, sections: int | Sequence[int], axis: int = -1) -> list[Tensor]:
    """Split ``x`` along ``axis`` into ``sections`` equal parts, or at the given sizes.

    >>> [t.shape for t in split(Tensor(np.zeros((2, 6))), [2, 4], axis=1)]
    [(2, 2), (2, 4)]
    """
    axis = check_axis(axis, expect_tensor(x, "x").ndim)
    n = x.shape[axis]
    if isinstance(sections, int):
        if sections < 1 or n % sections:
            raise ValueError(f"sections: {n} entries on axis {axis} do not split into {sections}")
        sizes = [n // sections] * sections
    else:
        sizes = [int(s) for s in sections]
        if sum(sizes) != n or min(sizes) < 1:
            raise ValueError(f"sections: expected positive sizes summing to {n}, got {sizes}")
    starts = np.concatenate(([0], np.cumsum(sizes)))
    ax = axis % x.ndim
    pieces = []
    for lo, hi in zip(starts[:-1], starts[1:]):
        index = (slice(None),) * ax + (slice(int(lo), int(hi)),)
        pieces.append(getitem(x, index))
    return pieces


def masked_fill(x: Tensor, mask: Any, value: float) -> Tensor:
    """Replace entries where ``mask`` is True by ``value``; they pass no gradient.

    >>> masked_fill(Tensor([1.0, 2.0]), np.array([True, False]), -1e9).data
    array([-1.e+09,  2.e+00], dtype=float32)
    """
    expect_tensor(x, "x")
    mask = check_array(mask, "mask", dtype_kind="b")
    try:
        np.broadcast_shapes(mask.shape, x.shape)
    except ValueError:
        raise ValueError(f"mask: shape {mask.shape} does not broadcast to {x.shape}") from None
    if np.broadcast_shapes(mask.shape, x.shape) != x.shape:
        raise ValueError(f"mask: shape {mask.shape} would enlarge the tensor of shape {x.shape}")
    out = np.where(mask, np.asarray(value, dtype=x.dtype), x.data)
    return Tensor._node(out, (x,), lambda g: (np.where(mask, 0.0, g).astype(g.dtype),), "fill")


def dropout(x: Tensor, p: float, rng: Any, training: bool = True) -> Tensor:
    """Zero each entry with probability ``p`` and scale survivors by ``1/(1-p)`` (so the
    expected value is unchanged). Identity when ``training`` is False or ``p == 0``.

    ``rng`` (a seed or Generator) draws the mask; the same seed gives the same mask.

    >>> dropout(Tensor(np.ones(4)), 0.5, rng=0).data
    array([2., 2., 2., 0.], dtype=float32)
    """
    expect_tensor(x, "x")
    p = check_probability(p, "p")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        raise ValueError("p: expected a probability below 1 (p=1 would drop everything)")
    rng = check_rng(rng, "rng")
    keep = rng.random(x.shape, dtype=np.float32) >= p
    scale = np.asarray(1.0 / (1.0 - p), dtype=x.dtype)
    mask = keep * scale  # (x.shape) in {0, 1/(1-p)}
    out = x.data * mask
    return Tensor._node(out, (x,), lambda g: (g * mask,), "dropout")
