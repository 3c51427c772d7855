"""What the fused nodes share: cutting work into blocks for the thread pool, fast row means
and sums, and the backward pass of a linear layer split over rows and columns.

>>> row_bounds(4, 64)   # too little work to split
[0, 4]
>>> row_mean(np.array([[1.0, 3.0], [2.0, 2.0]]))
array([2., 2.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genai_notes.autograd import _parallel
from genai_notes.autograd.tensor import Tensor

__all__ = [
    "split_work",
    "row_bounds",
    "weight_grad_columns",
    "chunked_linear_backward",
    "row_mean",
    "column_sum",
]


def row_mean(a: np.ndarray) -> np.ndarray:
    """Mean over the last axis of a 2-D array, ``(n, d) -> (n,)``, as a BLAS mat-vec
    (several times faster than ``a.mean(-1)`` for short rows)."""
    return a @ np.full(a.shape[-1], 1.0 / a.shape[-1], dtype=a.dtype)


def column_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the rows of a 2-D array, ``(n, d) -> (d,)``, as a BLAS vec-mat."""
    return np.ones(a.shape[0], dtype=a.dtype) @ a


def split_work(
    rows_fn: Callable[[int], None] | None,
    n_row_chunks: int,
    cols_fn: Callable[[int], None] | None,
    n_col_chunks: int,
    cols_after_rows: bool,
) -> None:
    """Run ``rows_fn`` on every row chunk and ``cols_fn`` on every column chunk in the
    thread pool: one parallel region if the two are independent, else rows first."""
    if rows_fn is None:
        n_row_chunks = 0
    if cols_fn is None:
        n_col_chunks = 0
    if cols_after_rows:
        if n_row_chunks:
            _parallel.run(rows_fn, n_row_chunks)
        if n_col_chunks:
            _parallel.run(cols_fn, n_col_chunks)
        return

    def both(i: int) -> None:
        if i < n_row_chunks:
            rows_fn(i)
        if i < n_col_chunks:
            cols_fn(i)

    _parallel.run(both, max(n_row_chunks, n_col_chunks))


def row_bounds(n: int, elements_per_item: int) -> list[int]:
    """Chunk boundaries of ``n`` rows (or columns) of ``elements_per_item`` values each."""
    return _parallel.chunk_bounds(n, _parallel.chunks(n, elements_per_item))


def weight_grad_columns(
    inputs: np.ndarray, g2: np.ndarray, dw: np.ndarray | None, db: np.ndarray | None
) -> tuple[list[int], Callable[[int], None]]:
    """Chunks of ``dw = inputsᵀ g2 (d_in, d_out)`` and ``db = Σ_rows g2 (d_out,)``: the weight
    gradients are cut along the longer of their two axes (row blocks of ``dw`` come from
    column blocks of ``inputs``), so that each entry is still one full sum over the ``n``
    rows of the batch (a split of the batch would need partial sums added afterwards)."""
    n, d_out = g2.shape
    d_in = inputs.shape[1]
    by_rows = dw is not None and d_in > d_out  # split dw's rows (d_in) rather than columns
    parts = _parallel.chunks(max(d_in, d_out) if dw is not None else d_out, n)
    bounds = _parallel.chunk_bounds(d_in if by_rows else d_out, parts)
    db_bounds = _parallel.chunk_bounds(d_out, parts)
    ones = np.ones(n, dtype=g2.dtype)

    def columns(j: int) -> None:
        part = slice(bounds[j], bounds[j + 1])
        if dw is not None and by_rows:
            np.matmul(inputs[:, part].T, g2, out=dw[part])
        elif dw is not None:
            np.matmul(inputs.T, g2[:, part], out=dw[:, part])
        if db is not None:
            c = slice(db_bounds[j], db_bounds[j + 1])
            np.matmul(ones, g2[:, c], out=db[c])

    return bounds, columns


def chunked_linear_backward(
    x: Tensor,
    x2: np.ndarray,
    weight: Tensor,
    bias: Tensor | None,
    g2: np.ndarray,
    deriv: np.ndarray | None = None,
) -> tuple[Any, ...]:
    """Gradients of ``act(x2 @ weight + bias)`` given ``g2 (n, d_out)``, where ``deriv`` is
    ``act'`` (None for no activation): with ``G = g2 ⊙ deriv``, ``dx = G Wᵀ`` (row chunks),
    ``dW = x2ᵀ G`` and ``db = Σ_rows G`` (column chunks), in the thread pool."""
    n, d_out = g2.shape
    d_in = x2.shape[1]
    dtype = g2.dtype
    dx = np.empty((n, d_in), dtype=dtype) if x.requires_grad else None
    dw = np.empty((d_in, d_out), dtype=dtype) if weight.requires_grad else None
    db = np.empty(d_out, dtype=dtype) if bias is not None and bias.requires_grad else None
    gd = g2 if deriv is None else np.empty_like(g2)
    w_t = weight.data.T
    row_b = row_bounds(n, d_in + 2 * d_out)

    def rows(i: int) -> None:
        r = slice(row_b[i], row_b[i + 1])
        if deriv is not None:
            np.multiply(g2[r], deriv[r], out=gd[r])
        if dx is not None:
            np.matmul(gd[r], w_t, out=dx[r])

    col_b, columns = weight_grad_columns(x2, gd, dw, db)
    need_rows = dx is not None or deriv is not None
    split_work(
        rows if need_rows else None,
        len(row_b) - 1,
        columns if dw is not None or db is not None else None,
        len(col_b) - 1,
        cols_after_rows=deriv is not None,
    )
    dx = None if dx is None else dx.reshape(x.shape)
    return (dx, dw) if bias is None else (dx, dw, db)
