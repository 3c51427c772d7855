"""Fused transformer kernels: single graph nodes that do the work of several, for speed.

:mod:`~genai_notes.autograd.functional` holds the textbook fused ops; the nodes here exist
because a NumPy pass over a large array costs about as much as a small matrix product, so
each pass saved on the model's widest activations shows in the step time:

* :func:`linear_residual`: ``r + x W + b``, summed in place in the product's output;
* :func:`linear_gelu`: ``gelu(x W + b)``, the bias and GELU applied in cache-sized blocks;
* :func:`layer_norm_linear`: ``LayerNorm(x) W + b`` with the norm's gain and shift folded
  into ``W`` and ``b`` (optionally followed by GELU);
* :func:`multi_head_attention`: head splitting, attention and head merging in one node.

Each node also spreads its work over the engine's thread pool
(:mod:`~genai_notes.autograd._parallel`): the forward pass and the input gradient on blocks
of rows, the weight gradients on blocks of output columns (so each entry stays one whole
sum over the batch), attention on blocks of sequences. The blocks depend only on the array
shapes, so the numbers do not depend on the number of threads.

Each is checked against the composition of the plain ops and by finite differences in
``tests/test_autograd_fused.py``.

>>> x = Tensor(np.ones((2, 3, 4)))
>>> layer_norm_linear(x, Tensor(np.ones(4)), Tensor(np.zeros(4)), Tensor(np.ones((4, 5)))).shape
(2, 3, 5)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from genai_notes import attention as _attn
from genai_notes._checks import check_array, check_positive_int, check_real
from genai_notes.autograd import _parallel
from genai_notes.autograd.functional import _check_linear, _row_mean
from genai_notes.autograd.ops import gelu_kernel
from genai_notes.autograd.tensor import Tensor, is_grad_enabled

__all__ = ["linear_residual", "linear_gelu", "layer_norm_linear", "multi_head_attention"]


def _split_work(
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


def _bounds(n: int, elements_per_item: int) -> list[int]:
    """Chunk boundaries of ``n`` rows (or columns) of ``elements_per_item`` values each."""
    return _parallel.chunk_bounds(n, _parallel.chunks(n, elements_per_item))


def _weight_grad_columns(
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


def _chunked_linear_backward(
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
    row_b = _bounds(n, d_in + 2 * d_out)

    def rows(i: int) -> None:
        r = slice(row_b[i], row_b[i + 1])
        if deriv is not None:
            np.multiply(g2[r], deriv[r], out=gd[r])
        if dx is not None:
            np.matmul(gd[r], w_t, out=dx[r])

    col_b, columns = _weight_grad_columns(x2, gd, dw, db)
    need_rows = dx is not None or deriv is not None
    _split_work(
        rows if need_rows else None,
        len(row_b) - 1,
        columns if dw is not None or db is not None else None,
        len(col_b) - 1,
        cols_after_rows=deriv is not None,
    )
    dx = None if dx is None else dx.reshape(x.shape)
    return (dx, dw) if bias is None else (dx, dw, db)


@_parallel.single_blas_thread
def linear_residual(x: Tensor, weight: Tensor, bias: Tensor | None, residual: Tensor) -> Tensor:
    """``residual + x @ weight + bias``: a linear layer that adds into the residual stream.

    x ``(..., d_in)``, weight ``(d_in, d_out)``, bias ``(d_out,)``, residual ``(..., d_out)``.
    The sum is formed in place in the product's fresh output instead of in a new array.
    Backward: the residual receives ``g`` unchanged; the rest is the linear backward. Rows
    (forward, ``dx``) and weight-gradient columns are shared out over the thread pool.

    >>> r = Tensor(np.ones((2, 3)))
    >>> linear_residual(Tensor(np.ones((2, 4))), Tensor(np.ones((4, 3))), None, r).data[0]
    array([5., 5., 5.], dtype=float32)
    """
    d_in, d_out = _check_linear(x, weight, bias)
    if residual.shape != (*x.shape[:-1], d_out):
        raise ValueError(f"residual: expected shape {(*x.shape[:-1], d_out)}, got {residual.shape}")
    x2 = x.data.reshape(-1, d_in)  # (n, d_in)
    res2 = residual.data.reshape(-1, d_out)
    w = weight.data
    out = np.empty((x2.shape[0], d_out), dtype=np.result_type(x2, w))
    bounds = _bounds(x2.shape[0], d_in + 2 * d_out)

    def rows(i: int) -> None:
        r = slice(bounds[i], bounds[i + 1])
        o = out[r]
        np.matmul(x2[r], w, out=o)
        o += res2[r]
        if bias is not None:
            o += bias.data

    _parallel.run(rows, len(bounds) - 1)

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        return (*_chunked_linear_backward(x, x2, weight, bias, g.reshape(-1, d_out)), g)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._node(out.reshape(residual.shape), (*parents, residual), backward, "linear+res")


@_parallel.single_blas_thread
def linear_gelu(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``gelu(x @ weight + bias)`` as one node (the first layer of a feed-forward net).

    Same shapes as :func:`linear`. Fusing saves a pass over the widest activation
    ``(n, d_ff)``: the bias is added inside the cache-blocked GELU kernel, and backward
    multiplies ``g`` by the stored ``gelu'`` before the usual linear backward.

    >>> y = linear_gelu(Tensor(np.ones((1, 2))), Tensor(np.ones((2, 3))), Tensor(np.zeros(3)))
    >>> np.round(y.data, 4)
    array([[1.9546, 1.9546, 1.9546]], dtype=float32)
    """
    d_in, d_out = _check_linear(x, weight, bias)
    x2 = x.data.reshape(-1, d_in)  # (n, d_in)
    need_grad = is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, weight, bias)
    )
    w, b = weight.data, None if bias is None else bias.data
    out = np.empty((x2.shape[0], d_out), dtype=np.result_type(x2, w))
    deriv = np.empty_like(out) if need_grad else None
    bounds = _bounds(x2.shape[0], d_in + 3 * d_out)

    def rows(i: int) -> None:
        r = slice(bounds[i], bounds[i + 1])
        np.matmul(x2[r], w, out=out[r])
        gelu_kernel(
            out[r], need_grad, b, inplace=True, deriv_out=None if deriv is None else deriv[r]
        )

    _parallel.run(rows, len(bounds) - 1)

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        return _chunked_linear_backward(x, x2, weight, bias, g.reshape(-1, d_out), deriv)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._node(out.reshape(*x.shape[:-1], d_out), parents, backward, "linear_gelu")


@_parallel.single_blas_thread
def layer_norm_linear(
    x: Tensor,
    norm_weight: Tensor,
    norm_bias: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    eps: float = 1e-5,
    gelu: bool = False,
) -> Tensor:
    """``layer_norm(x, norm_weight, norm_bias, eps) @ weight + bias`` (then GELU if ``gelu``).

    x: ``(..., d)``; norm_weight, norm_bias: ``(d,)``; weight: ``(d, d_out)``; bias:
    ``(d_out,)``. Returns ``(..., d_out)``. Since ``(x̂ ⊙ γ + β) W + b = x̂ (γ ⊙ W) + (β W + b)``,
    the norm's gain and shift fold into a small weight matrix and bias, which saves two
    passes over ``(n, d)`` forward and one backward. Backward maps the folded gradients back
    to the four parameters and applies the LayerNorm backward
    ``dx = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) / σ``.

    Every row is normalised, multiplied and activated independently, so the forward pass
    and ``dx`` run on row chunks in the thread pool; the weight gradients run on column
    chunks (see :mod:`~genai_notes.autograd._parallel`).
    """
    d = x.shape[-1]
    for name, t in (("norm_weight", norm_weight), ("norm_bias", norm_bias)):
        if t.shape != (d,):
            raise ValueError(f"{name}: expected shape ({d},) to match x {x.shape}, got {t.shape}")
    _, d_out = _check_linear(x, weight, bias)
    eps = check_real(eps, "eps", low=0.0, low_inclusive=False)
    x2 = x.data.reshape(-1, d)  # (n, d)
    n, dtype = x2.shape[0], x2.dtype
    w, gamma, beta = weight.data, norm_weight.data, norm_bias.data
    w_folded = gamma[:, None] * w  # (d, d_out)
    b_folded = beta @ w if bias is None else beta @ w + bias.data  # (d_out,)
    need_grad = is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, norm_weight, norm_bias, weight, bias)
    )
    x_hat = np.empty_like(x2)  # (n, d)
    inv_std = np.empty((n, 1), dtype=dtype)  # 1 / √(σ² + eps) per row
    out = np.empty((n, d_out), dtype=np.result_type(dtype, w_folded.dtype))
    deriv = np.empty_like(out) if gelu and need_grad else None
    bounds = _bounds(n, d + (3 if gelu else 1) * d_out)

    def rows(i: int) -> None:
        r = slice(bounds[i], bounds[i + 1])
        xh = x_hat[r]
        np.subtract(x2[r], _row_mean(x2[r])[:, None], out=xh)  # centred, then scaled
        var = _row_mean(np.square(xh))
        np.sqrt(var + eps, out=var)
        np.divide(1.0, var, out=inv_std[r, 0])
        xh *= inv_std[r]
        o = out[r]
        np.matmul(xh, w_folded, out=o)
        if gelu:  # the bias is added inside the cache-blocked kernel
            gelu_kernel(
                o, need_grad, b_folded, inplace=True, deriv_out=None if deriv is None else deriv[r]
            )
        else:
            o += b_folded

    _parallel.run(rows, len(bounds) - 1)

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        g2 = g.reshape(-1, d_out)
        gd = g2 if deriv is None else np.empty_like(g2)  # gradient before the GELU
        d_wf = np.empty((d, d_out), dtype=dtype)  # gradient of the folded weight
        d_bf = np.empty(d_out, dtype=dtype)  # gradient of the folded bias
        dx = np.empty((n, d), dtype=dtype) if x.requires_grad else None
        # dx̂ - mean(dx̂) in one product: the row mean of g W'ᵀ is g times the mean of W'
        # over its d axis, so centre W' first (a small matrix) instead of dx̂ (large).
        w_centred_t = (w_folded - w_folded.mean(axis=0, keepdims=True)).T  # (d_out, d)
        row_b = _bounds(n, d + 2 * d_out)

        def rows_backward(i: int) -> None:
            r = slice(row_b[i], row_b[i + 1])
            if deriv is not None:
                np.multiply(g2[r], deriv[r], out=gd[r])
            if dx is None:
                return
            dxr, xh = dx[r], x_hat[r]
            np.matmul(gd[r], w_centred_t, out=dxr)  # dx̂ - mean(dx̂), turned into dx in place
            tmp = dxr * xh  # rows of x̂ sum to 0, so the centring does not change this mean
            np.multiply(xh, _row_mean(tmp)[:, None], out=tmp)
            dxr -= tmp
            dxr *= inv_std[r]

        col_b, columns = _weight_grad_columns(x_hat, gd, d_wf, d_bf)
        _split_work(
            rows_backward if dx is not None or deriv is not None else None,
            len(row_b) - 1,
            columns,
            len(col_b) - 1,
            cols_after_rows=deriv is not None,
        )
        d_w = gamma[:, None] * d_wf + np.outer(beta, d_bf)
        d_gamma = (d_wf * w) @ np.ones(d_out, dtype=w.dtype)
        d_beta = w @ d_bf
        grads = (None if dx is None else dx.reshape(x.shape), d_gamma, d_beta, d_w)
        return grads if bias is None else (*grads, d_bf)

    parents = (x, norm_weight, norm_bias, weight)
    parents = parents if bias is None else (*parents, bias)
    op = "layer_norm_linear_gelu" if gelu else "layer_norm_linear"
    return Tensor._node(out.reshape(*x.shape[:-1], d_out), parents, backward, op)


@lru_cache(maxsize=32)
def _causal(n_q: int, n_k: int) -> np.ndarray:
    """``(n_q, n_k)`` causal mask; queries are the *last* n_q positions (as with a KV cache)."""
    mask = np.tril(np.ones((n_q, n_k), dtype=bool), k=n_k - n_q)
    mask.flags.writeable = False
    return mask


@_parallel.single_blas_thread
def multi_head_attention(
    q: Tensor,
    kv: Tensor | None,
    n_heads: int,
    mask: Any = None,
    causal: bool = False,
    temperature: float = 1.0,
) -> Tensor:
    """Multi-head attention over already-projected inputs, as one graph node.

    q: ``(batch, n_q, d_model)`` queries and kv: ``(batch, n_k, 2 * d_model)``, keys then
    values side by side (cross-attention); or, for self-attention, kv=None and q packed as
    ``(batch, seq, 3 * d_model)`` = [queries | keys | values] (one projection makes all
    three). Heads are split inside (``(batch, n_heads, seq, d_head)``), attention runs on all
    heads at once through :func:`genai_notes.attention.forward_kernel` (the same code as
    :func:`genai_notes.attention.scaled_dot_product_attention`), and heads are merged back:
    returns ``(batch, n_q, d_model)``.

    mask: bool, broadcastable to ``(batch, n_q, n_k)`` (True = allowed), e.g. a
    :func:`~genai_notes.attention.padding_mask` ``(batch, 1, n_k)``; the head axis is added
    here. ``causal=True`` also forbids keys after each query.

    >>> x = Tensor(np.ones((1, 3, 4)))
    >>> multi_head_attention(x, Tensor(np.ones((1, 3, 8))), n_heads=2, causal=True).shape
    (1, 3, 4)
    """
    n_heads = check_positive_int(n_heads, "n_heads")
    temperature = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
    packed = kv is None
    source = q if packed else kv
    if q.ndim != 3 or source.ndim != 3:
        raise ValueError(
            f"q, kv: expected 3-D (batch, seq, features), got {q.shape}, {source.shape}"
        )
    batch, n_q, width = q.shape
    d_model = width // 3 if packed else width
    if packed and width % 3:
        raise ValueError(f"q: expected packed [q|k|v] of width 3 * d_model, got {q.shape}")
    if d_model % n_heads:
        raise ValueError(f"n_heads: d_model={d_model} is not divisible by n_heads={n_heads}")
    if not packed and (kv.shape[0] != batch or kv.shape[2] != 2 * d_model):
        raise ValueError(f"kv: expected shape ({batch}, n_k, {2 * d_model}), got {kv.shape}")
    n_k = source.shape[1]
    full_mask = _combined_mask(mask, causal, batch, n_q, n_k)
    if full_mask is not None:
        full_mask = full_mask.astype(q.dtype)  # multiplying by 0/1 is faster than a where=
    scale = 1.0 / (math.sqrt(d_model // n_heads) * temperature)
    k_at = d_model if packed else 0  # where keys start in ``source``
    q_h = _attn.split_heads(q.data[..., :d_model], n_heads)  # (batch, n_heads, n_q, d_head)
    k_h = _attn.split_heads(source.data[..., k_at : k_at + d_model], n_heads)
    v_h = _attn.split_heads(source.data[..., k_at + d_model :], n_heads)
    out = np.empty((batch, n_q, d_model), dtype=q.dtype)
    out_h = _attn.split_heads(out, n_heads)  # a view: heads are merged as they are written
    # A few sequences at a time, so each (n_heads, n_q, n_k) block of scores stays in cache
    # through the passes over it (in isolation about 1.4x faster than all at once). The
    # blocks are independent, so the thread pool shares them out.
    per_block = max(1, _ATTENTION_BLOCK // (n_heads * n_q * n_k))
    blocks = [slice(b, min(b + per_block, batch)) for b in range(0, batch, per_block)]
    saved: list[Any] = [None] * len(blocks)

    def forward_block(i: int) -> None:
        rows = blocks[i]
        o, exp_scores, inv_sums, (q_scaled, v_c) = _attn.forward_kernel(
            q_h[rows], k_h[rows], v_h[rows], _mask_rows(full_mask, rows, batch), scale
        )
        out_h[rows] = o
        saved[i] = (exp_scores, inv_sums, q_scaled, v_c)

    _parallel.run(forward_block, len(blocks))
    d_head = d_model // n_heads

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        g_h = _attn.split_heads(g, n_heads)
        d_q = np.empty(q.shape, dtype=q.dtype)
        d_kv = d_q if packed else np.empty(kv.shape, dtype=kv.dtype)
        d_q_h = _attn.split_heads(d_q[..., :d_model], n_heads)
        d_k_h = _attn.split_heads(d_kv[..., k_at : k_at + d_model], n_heads)
        d_v_h = _attn.split_heads(d_kv[..., k_at + d_model :], n_heads)
        ones = np.ones(d_head, g.dtype)

        def backward_block(i: int) -> None:
            rows = blocks[i]
            n_rows = rows.stop - rows.start
            # D = rowsum(g ⊙ out) per head, on the contiguous merged layout (faster)
            d_heads = (g[rows] * out[rows]).reshape(n_rows, n_q, n_heads, d_head) @ ones
            row_dot = d_heads.transpose(0, 2, 1)  # (n_rows, n_heads, n_q)
            exp_scores, inv_sums, q_scaled, v_c = saved[i]
            grads = _attn.backward_kernel(
                q_h[rows],
                k_h[rows],
                v_c,  # the forward's contiguous copy: faster to read than v_h[rows]
                exp_scores,
                inv_sums,
                g_h[rows],
                out_h[rows],
                scale,
                row_dot,
                q_scaled,
            )
            d_q_h[rows], d_k_h[rows], d_v_h[rows] = grads

        _parallel.run(backward_block, len(blocks))
        return (d_q,) if packed else (d_q, d_kv)

    parents = (q,) if packed else (q, kv)
    return Tensor._node(out, parents, backward, "multi_head_attention")


_ATTENTION_BLOCK = 1 << 17  # attention scores per block: 512 KB of float32


def _mask_rows(mask: np.ndarray | None, rows: slice, batch: int) -> np.ndarray | None:
    """The part of a (batch or 1, 1, n_q or 1, n_k) or (n_q, n_k) mask for ``rows``."""
    if mask is None or mask.ndim < 4 or mask.shape[0] != batch:
        return mask
    return mask[rows]


def _combined_mask(mask: Any, causal: bool, batch: int, n_q: int, n_k: int) -> np.ndarray | None:
    """The user's (batch, n_q, n_k)-broadcastable mask AND the causal mask, with a head axis."""
    combined = _causal(n_q, n_k) if causal else None
    if mask is None:
        return combined
    mask = check_array(mask, "mask", ndim=(2, 3), dtype_kind="b")
    try:
        ok = np.broadcast_shapes(mask.shape, (batch, n_q, n_k)) == (batch, n_q, n_k)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"mask: expected a shape broadcastable to {(batch, n_q, n_k)}, got {mask.shape}"
        )
    if mask.ndim == 3:
        mask = mask[:, None]  # (batch, 1, n_q or 1, n_k): the same mask for every head
    return mask if combined is None else mask & combined
