"""Attention for the engine: the kernels, and multi-head attention as one graph node.

The teaching versions are :func:`genai_notes.attention.scaled_dot_product_attention` and
:func:`genai_notes.attention.attention_backward`: scores, the row maximum subtracted,
``exp``, normalise, the weighted sum. The kernels here compute the same numbers with fewer
passes over the ``(n_q, n_k)`` scores (``tests/test_autograd_fused.py`` checks them against
the teaching versions, to 1e-6 in float64, on random and adversarial inputs):

* the row maximum is subtracted only when some score exceeds 60 (below that ``exp`` cannot
  overflow float32), since per-row maxima are a slow reduction in NumPy;
* rows are summed with a matrix-vector product against a vector of ones (BLAS);
* the rows are left unnormalised and the small output is scaled instead;
* rows whose exponentials all underflow are recomputed with their exact maximum.

>>> x = Tensor(np.ones((1, 3, 4)))
>>> multi_head_attention(x, Tensor(np.ones((1, 3, 8))), n_heads=2, causal=True).shape
(1, 3, 4)
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from genai_notes._checks import check_positive_int, check_real
from genai_notes.attention import head_mask, split_heads, sum_to_shape
from genai_notes.autograd import _parallel
from genai_notes.autograd.tensor import Tensor

__all__ = ["forward_kernel", "backward_kernel", "multi_head_attention"]

# exp(60) is about 1e26: with no score above this, exp cannot overflow float32 (~3e38).
_MAX_SCORE = 60.0
# A row of exponentials summing to less than this is recomputed with its exact maximum.
_UNDERFLOW = 1e-30


def forward_kernel(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None, scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """:func:`genai_notes.attention.scaled_dot_product_attention` for the engine, without
    argument checks: returns ``(out, exp_scores, inv_sums, operands)``.

    ``weights = exp_scores * inv_sums`` (``inv_sums`` is ``(..., n_q, 1)``), but the rows are
    left unnormalised and ``out = (exp_scores @ v) * inv_sums``: scaling the small ``out``
    is cheaper than a pass over the ``(n_q, n_k)`` scores. ``operands`` holds contiguous
    copies ``(scale · q, v)`` made for BLAS; the engine keeps all four for
    :func:`backward_kernel`. ``mask`` may also be a float array of 0s and 1s.

    Softmax is unchanged by subtracting a constant from a row, and the usual constant is
    the row maximum, so that ``exp`` cannot overflow. Per-row maxima are a slow reduction in
    NumPy, but the maximum of the whole array is fast (SIMD), and when no score exceeds 60
    every ``exp`` stays far below float32's limit (about e⁸⁸): then no shift is needed at
    all. Rows whose exponentials all underflow (sum below 1e-30, possible only if every
    score of the row is below about -69) and chunks with a score above 60 are computed with
    the exact row maximum. A fully masked row gets zero weights and a zero output.
    """
    dtype = np.result_type(q.dtype, k.dtype)
    q_s = np.multiply(q, scale, dtype=dtype)  # (..., n_q, d_k), contiguous
    k_t = np.ascontiguousarray(k.swapaxes(-1, -2), dtype=dtype)  # (..., d_k, n_k)
    v = np.ascontiguousarray(v)  # BLAS is up to 2x faster on contiguous operands
    scores = q_s @ k_t  # (..., n_q, n_k)
    if scores.size and scores.max() > _MAX_SCORE:  # rare: shift every row by its maximum
        _shift_by_row_max(scores, mask)
    np.exp(scores, out=scores)
    if mask is not None:
        scores *= mask  # masked keys get weight 0
    sums = scores @ _ones(scores.shape[-1], dtype)  # (..., n_q)
    low = sums < _UNDERFLOW  # fully masked rows, or rows whose exponentials underflowed
    if low.any():
        rows = (q_s @ k_t)[low]  # (n_low, n_k): recompute those scores, then shift exactly
        _shift_by_row_max(rows, None if mask is None else np.broadcast_to(mask, scores.shape)[low])
        np.exp(rows, out=rows)
        scores[low] = rows
        sums[low] = rows @ _ones(rows.shape[-1], dtype)
    inv_sums = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)[..., None]
    out = scores @ v  # (..., n_q, d_v)
    out *= inv_sums
    return out, scores, inv_sums, (q_s, v)


def _shift_by_row_max(scores: np.ndarray, mask: np.ndarray | None) -> None:
    """In place: masked entries to -inf, then subtract each row's maximum (fully masked rows
    keep -inf everywhere, so ``exp`` turns them into zeros)."""
    if mask is not None:
        scores[np.broadcast_to(mask, scores.shape) == 0] = -np.inf
    shift = scores.max(axis=-1, keepdims=True)
    scores -= np.where(np.isfinite(shift), shift, 0.0)


@lru_cache(maxsize=64)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ones: ``a @ ones`` sums rows with BLAS."""
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


def backward_kernel(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    exp_scores: np.ndarray,
    inv_sums: np.ndarray | None,
    d_out: np.ndarray,
    out: np.ndarray,
    scale: float,
    row_dot: np.ndarray | None = None,
    q_scaled: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`genai_notes.attention.attention_backward` without checks, for
    ``W = exp_scores * inv_sums``
    (``inv_sums=None`` means the weights are already normalised). Optional shortcuts from
    the forward pass: ``row_dot = rowsum(d_out ⊙ out)``, shape ``(..., n_q)``, and
    ``q_scaled = scale · q`` (contiguous, so faster to read than a strided view of q).

    The per-row factor ``r = inv_sums`` is moved onto the small operands:
    ``dv = Eᵀ (r ⊙ d_out)``, ``G = E ⊙ (d_out vᵀ − D)``, ``dq = scale · r ⊙ (G k)``,
    ``dk = scale · Gᵀ (r ⊙ q)``, where ``D_i = d_out_i · out_i``.
    """
    dtype, d_v = exp_scores.dtype, v.shape[-1]
    if row_dot is None:
        row_dot = (d_out * out) @ _ones(d_v, dtype)  # D: (..., n_q)
    # d_out vᵀ - D as one product: append -D_i to each row of d_out and a 1 to each value
    # (subtracting a per-row constant would be a slow extra pass over (n_q, n_k)).
    d_aug = np.empty((*row_dot.shape, d_v + 1), dtype=dtype)  # [d_out, -D]
    d_aug[..., :d_v] = d_out
    np.negative(row_dot, out=d_aug[..., d_v])
    v_aug = np.empty((*v.shape[:-2], d_v + 1, v.shape[-2]), dtype=dtype)  # [vᵀ; 1]
    v_aug[..., :d_v, :] = v.swapaxes(-1, -2)
    v_aug[..., d_v, :] = 1.0
    grad = d_aug @ v_aug  # (..., n_q, n_k)
    grad *= exp_scores  # G (dS = scale · r ⊙ G)
    if q_scaled is None:
        q_scaled = q * scale
    if inv_sums is None:
        dv = exp_scores.swapaxes(-1, -2) @ d_out
        dq = grad @ k
        dq *= scale
        dk = grad.swapaxes(-1, -2) @ q_scaled
    else:
        dv = exp_scores.swapaxes(-1, -2) @ (d_out * inv_sums)
        dq = grad @ k
        dq *= inv_sums * scale
        dk = grad.swapaxes(-1, -2) @ (q_scaled * inv_sums)
    return sum_to_shape(dq, q.shape), sum_to_shape(dk, k.shape), sum_to_shape(dv, v.shape)


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
    heads at once through :func:`forward_kernel`, and heads are merged back: returns
    ``(batch, n_q, d_model)``.

    mask: bool, broadcastable to ``(batch, n_q, n_k)`` (True = allowed), e.g. a
    :func:`~genai_notes.attention.padding_mask` ``(batch, 1, n_k)``; the head axis is added
    here. ``causal=True`` also forbids keys after each query (the queries being the last
    ``n_q`` positions of the ``n_k``).
    """
    n_heads = check_positive_int(n_heads, "n_heads")
    temperature = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
    packed = kv is None
    source = q if packed else kv
    d_model = _check_heads(q, kv, n_heads)
    batch, n_q, n_k = q.shape[0], q.shape[1], source.shape[1]
    full_mask = head_mask(mask, batch, n_q, n_k, causal=causal)
    if full_mask is not None:
        full_mask = full_mask.astype(q.dtype)  # multiplying by 0/1 is faster than a where=
    scale = 1.0 / (math.sqrt(d_model // n_heads) * temperature)
    k_at = d_model if packed else 0  # where keys start in ``source``
    q_h = split_heads(q.data[..., :d_model], n_heads)  # (batch, n_heads, n_q, d_head)
    k_h = split_heads(source.data[..., k_at : k_at + d_model], n_heads)
    v_h = split_heads(source.data[..., k_at + d_model :], n_heads)
    out = np.empty((batch, n_q, d_model), dtype=q.dtype)
    out_h = split_heads(out, n_heads)  # a view: heads are merged as they are written
    # A few sequences at a time, so each (n_heads, n_q, n_k) block of scores stays in cache
    # through the passes over it (in isolation about 1.4x faster than all at once). The
    # blocks are independent, so the thread pool shares them out.
    per_block = max(1, _ATTENTION_BLOCK // (n_heads * n_q * n_k))
    blocks = [slice(b, min(b + per_block, batch)) for b in range(0, batch, per_block)]
    saved: list[Any] = [None] * len(blocks)

    def forward_block(i: int) -> None:
        rows = blocks[i]
        o, exp_scores, inv_sums, (q_scaled, v_c) = forward_kernel(
            q_h[rows], k_h[rows], v_h[rows], _mask_rows(full_mask, rows, batch), scale
        )
        out_h[rows] = o
        saved[i] = (exp_scores, inv_sums, q_scaled, v_c)

    _parallel.run(forward_block, len(blocks))

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        d_q = np.empty(q.shape, dtype=q.dtype)
        d_kv = d_q if packed else np.empty(kv.shape, dtype=kv.dtype)
        d_heads = (
            split_heads(d_q[..., :d_model], n_heads),
            split_heads(d_kv[..., k_at : k_at + d_model], n_heads),
            split_heads(d_kv[..., k_at + d_model :], n_heads),
        )
        heads = (q_h, k_h, out, out_h)
        _parallel.run(
            lambda i: _backward_block(blocks[i], saved[i], g, heads, d_heads, scale),
            len(blocks),
        )
        return (d_q,) if packed else (d_q, d_kv)

    parents = (q,) if packed else (q, kv)
    return Tensor._node(
        out, parents, _parallel.single_blas_thread(backward), "multi_head_attention"
    )


_ATTENTION_BLOCK = 1 << 17  # attention scores per block: 512 KB of float32


def _check_heads(q: Tensor, kv: Tensor | None, n_heads: int) -> int:
    """Check the shapes of :func:`multi_head_attention`'s inputs; return ``d_model``."""
    packed = kv is None
    for name, t in (("q", q), ("kv", q if packed else kv)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(t).__name__}")
    source = q if packed else kv
    if q.ndim != 3 or source.ndim != 3:
        raise ValueError(
            f"q, kv: expected 3-D (batch, seq, features), got {q.shape}, {source.shape}"
        )
    batch, n_q, width = q.shape
    if n_q == 0 or source.shape[1] == 0:
        raise ValueError(f"q, kv: expected at least one position, got {q.shape}, {source.shape}")
    d_model = width // 3 if packed else width
    if packed and width % 3:
        raise ValueError(f"q: expected packed [q|k|v] of width 3 * d_model, got {q.shape}")
    if d_model == 0 or d_model % n_heads:
        raise ValueError(f"n_heads: d_model={d_model} is not divisible by n_heads={n_heads}")
    if not packed and (kv.shape[0] != batch or kv.shape[2] != 2 * d_model):
        raise ValueError(f"kv: expected shape ({batch}, n_k, {2 * d_model}), got {kv.shape}")
    return d_model


def _backward_block(
    rows: slice,
    saved: tuple[np.ndarray, ...],
    g: np.ndarray,
    heads: tuple[np.ndarray, ...],
    d_heads: tuple[np.ndarray, ...],
    scale: float,
) -> None:
    """The backward pass of one block of sequences, written into the views ``d_heads``."""
    q_h, k_h, out, out_h = heads
    exp_scores, inv_sums, q_scaled, v_c = saved
    n_rows, n_q, n_heads, d_head = rows.stop - rows.start, q_h.shape[2], q_h.shape[1], q_h.shape[3]
    # D = rowsum(g ⊙ out) per head, on the contiguous merged layout (faster)
    ones = np.ones(d_head, g.dtype)
    d_per_head = (g[rows] * out[rows]).reshape(n_rows, n_q, n_heads, d_head) @ ones
    row_dot = d_per_head.transpose(0, 2, 1)  # (n_rows, n_heads, n_q)
    grads = backward_kernel(
        q_h[rows],
        k_h[rows],
        v_c,  # the forward's contiguous copy: faster to read than the strided view
        exp_scores,
        inv_sums,
        split_heads(g[rows], n_heads),
        out_h[rows],
        scale,
        row_dot,
        q_scaled,
    )
    for target, grad in zip(d_heads, grads):
        target[rows] = grad


def _mask_rows(mask: np.ndarray | None, rows: slice, batch: int) -> np.ndarray | None:
    """The part of a (batch or 1, 1, n_q or 1, n_k) or (n_q, n_k) mask for ``rows``."""
    if mask is None or mask.ndim < 4 or mask.shape[0] != batch:
        return mask
    return mask[rows]
