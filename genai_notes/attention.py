"""Scaled dot-product attention in plain NumPy, forward and backward.

This is the single source of truth for chapter 5's worked examples *and* for the autograd
engine: :func:`genai_notes.autograd.functional.scaled_dot_product_attention` and the fused
multi-head attention node call :func:`scaled_dot_product_attention` for their forward pass
and :func:`attention_backward` for their backward pass.

Conventions used everywhere in the book:

* ``q: (..., n_q, d_k)``, ``k: (..., n_k, d_k)``, ``v: (..., n_k, d_v)``;
* a **mask is boolean and True where attention is allowed**; it broadcasts to
  ``(..., n_q, n_k)``;
* a query whose every key is masked out gets **all-zero weights and a zero output**
  (never NaN), which is also what its gradient says: such a row does not depend on anything.

>>> q = np.array([[1.0, 0.0]]); k = np.array([[1.0, 0.0], [0.0, 1.0]]); v = np.eye(2)
>>> out, w = scaled_dot_product_attention(q, k, v)
>>> np.round(w, 4)
array([[0.6698, 0.3302]])
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from genai_notes._checks import check_array, check_positive_int, check_real

__all__ = [
    "softmax",
    "softmax_backward",
    "causal_mask",
    "padding_mask",
    "split_heads",
    "merge_heads",
    "scaled_dot_product_attention",
    "attention_backward",
    "attention_scale",
    "forward_kernel",
    "backward_kernel",
]

# exp(60) is about 1e26: with no score above this, exp cannot overflow float32 (~3e38).
_MAX_SCORE = 60.0
# A row of exponentials summing to less than this is recomputed with its exact maximum.
_UNDERFLOW = 1e-30


def _exp_normalise(x: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Overwrite ``x`` with exp(x - shift) normalised along its last axis.

    Returns the row sums *before* normalising, shape ``(..., 1)``, so callers can spot rows
    whose exponentials underflowed. Rows that are entirely -inf (fully masked) have no
    finite shift; they become zeros and report a sum of 0.
    """
    shift = np.where(np.isfinite(shift), shift, 0.0).astype(x.dtype, copy=False)
    np.subtract(x, shift, out=x)
    np.exp(x, out=x)
    # A matrix-vector product sums rows several times faster than x.sum(-1) for short rows.
    total = (x @ np.ones(x.shape[-1], dtype=x.dtype))[..., None]  # (..., 1)
    np.multiply(x, 1.0 / np.where(total == 0.0, 1.0, total), out=x)
    return total


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis``.

    Subtracting the row maximum first leaves the result unchanged (softmax is invariant to
    adding a constant to every logit) but keeps ``exp`` from overflowing, so logits of
    ``±1e4`` are fine. ``-inf`` entries get probability 0; a row that is entirely ``-inf``
    returns all zeros instead of NaN. Float32 stays float32.

    >>> softmax(np.array([1e4, 1e4 - np.log(3.0)]))
    array([0.75, 0.25])
    >>> softmax(np.array([[-np.inf, -np.inf]]))
    array([[0., 0.]])
    """
    x = check_array(x, "x", finite=False, dtype_kind="fiu")
    if np.isnan(x).any() or np.isposinf(x).any():
        raise ValueError(f"x: expected finite values or -inf, got NaN or +inf in {x.shape}")
    x = np.moveaxis(x.astype(np.result_type(x.dtype, np.float32)), axis, -1)
    out = x.copy()
    _exp_normalise(out, x.max(axis=-1, keepdims=True))
    return np.moveaxis(out, -1, axis)


def softmax_backward(y: np.ndarray, dy: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of a loss through ``y = softmax(x)``: ``dx = y * (dy - sum(dy * y))``.

    The Jacobian of softmax is ``diag(y) - y yᵀ``; multiplying it by ``dy`` gives the
    formula above without ever building the ``(n, n)`` matrix.

    >>> y = softmax(np.array([0.0, 0.0]))
    >>> softmax_backward(y, np.array([1.0, 0.0]))
    array([ 0.25, -0.25])
    """
    y = check_array(y, "y")
    dy = check_array(dy, "dy")
    if y.shape != dy.shape:
        raise ValueError(f"dy: expected the shape of y {y.shape}, got {dy.shape}")
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


def causal_mask(seq: int) -> np.ndarray:
    """A ``(seq, seq)`` boolean mask, True on and below the diagonal.

    Query ``i`` may attend to keys ``0..i`` only: a language model must not see the future.

    >>> causal_mask(3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    """
    seq = check_positive_int(seq, "seq")
    return np.tril(np.ones((seq, seq), dtype=bool))


def padding_mask(lengths: np.ndarray, seq: int) -> np.ndarray:
    """A ``(batch, 1, seq)`` key mask, True on the real tokens of each sequence.

    Sequence ``b`` holds ``lengths[b]`` real tokens followed by padding. The middle axis of
    size 1 broadcasts over the queries, so the mask applies to scores of shape
    ``(batch, n_q, seq)``; the multi-head layers insert the head axis themselves.

    >>> padding_mask(np.array([2, 3]), 3).astype(int)
    array([[[1, 1, 0]],
    <BLANKLINE>
           [[1, 1, 1]]])
    """
    seq = check_positive_int(seq, "seq")
    lengths = check_array(lengths, "lengths", ndim=1, dtype_kind="iu")
    if lengths.size and (lengths.min() < 0 or lengths.max() > seq):
        raise ValueError(f"lengths: expected values in [0, {seq}], got {lengths.tolist()}")
    return (np.arange(seq) < lengths[:, None])[:, None, :]


def split_heads(x: np.ndarray, n_heads: int) -> np.ndarray:
    """Reshape ``(batch, seq, d_model)`` to ``(batch, n_heads, seq, d_head)`` (a view).

    Head ``h`` owns channels ``h * d_head`` to ``(h + 1) * d_head - 1`` of ``d_model``.

    >>> split_heads(np.arange(8.0).reshape(1, 2, 4), 2)[0, 1]
    array([[2., 3.],
           [6., 7.]])
    """
    n_heads = check_positive_int(n_heads, "n_heads")
    if x.ndim != 3:
        raise ValueError(f"x: expected shape (batch, seq, d_model), got {x.shape}")
    batch, seq, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads: d_model={d_model} is not divisible by n_heads={n_heads}")
    return x.reshape(batch, seq, n_heads, d_model // n_heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`split_heads`: ``(batch, n_heads, seq, d_head)`` to
    ``(batch, seq, n_heads * d_head)``.

    >>> x = np.arange(8.0).reshape(1, 2, 4)
    >>> np.array_equal(merge_heads(split_heads(x, 2)), x)
    True
    """
    if x.ndim != 4:
        raise ValueError(f"x: expected shape (batch, n_heads, seq, d_head), got {x.shape}")
    batch, n_heads, seq, d_head = x.shape
    return x.transpose(0, 2, 1, 3).reshape(batch, seq, n_heads * d_head)


def _check_qkv(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None) -> None:
    for name, a in (("q", q), ("k", k), ("v", v)):
        if a.ndim < 2 or a.dtype.kind != "f":
            raise ValueError(f"{name}: expected a float array (..., n, d), got {a.dtype} {a.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"k: expected d_k={q.shape[-1]} (the last axis of q), got {k.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"v: expected n_k={k.shape[-2]} rows (like k {k.shape}), got {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"k: the batch axes of q {q.shape}, k {k.shape} and v {v.shape} do not broadcast"
        ) from None
    scores_shape = (*batch, q.shape[-2], k.shape[-2])
    if mask is not None:
        try:
            ok = np.broadcast_shapes(mask.shape, scores_shape) == scores_shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"mask: expected a shape broadcastable to the scores {scores_shape}, "
                f"got {mask.shape}"
            )
    if mask is not None and mask.dtype != bool:
        raise TypeError(f"mask: expected a bool array (True = allowed), got {mask.dtype}")


def scaled_dot_product_attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None = None,
    temperature: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``softmax(q kᵀ / (√d_k · temperature)) v``, returning ``(out, weights)``.

    q: ``(..., n_q, d_k)``, k: ``(..., n_k, d_k)``, v: ``(..., n_k, d_v)``;
    mask: bool, broadcastable to ``(..., n_q, n_k)``, True where attention is allowed.
    Returns out ``(..., n_q, d_v)`` and weights ``(..., n_q, n_k)`` (rows sum to 1, or to 0
    for a fully masked query, whose output is then 0).

    Dividing by √d_k keeps the scores' variance near 1 when q and k have unit-variance
    entries, so the softmax does not saturate as d_k grows. The work is done by
    :func:`forward_kernel`, which the autograd engine calls too.

    >>> q = np.array([[1.0, 1.0], [0.0, 2.0]]); k = np.array([[2.0, 0.0], [0.0, 2.0]])
    >>> out, w = scaled_dot_product_attention(q, k, np.array([[1.0], [3.0]]))
    >>> np.round(w, 4), np.round(out, 4)
    (array([[0.5   , 0.5   ],
           [0.0558, 0.9442]]), array([[2.    ],
           [2.8884]]))
    """
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    mask = None if mask is None else np.asarray(mask)
    _check_qkv(q, k, v, mask)
    temperature = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
    out, weights, inv_sums, _ = forward_kernel(q, k, v, mask, attention_scale(q, temperature))
    weights *= inv_sums  # normalise the rows: exp(s) / Σ exp(s)
    return out, weights


def attention_scale(q: np.ndarray, temperature: float = 1.0) -> float:
    """The factor ``1 / (√d_k · temperature)`` applied to the scores, as a Python float (a
    NumPy float64 scalar would silently turn float32 arrays into float64)."""
    return 1.0 / (math.sqrt(q.shape[-1]) * temperature)


def forward_kernel(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None, scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Attention without argument checks: returns ``(out, exp_scores, inv_sums, operands)``.

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


def attention_backward(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    weights: np.ndarray,
    d_out: np.ndarray,
    temperature: float = 1.0,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dq, dk, dv)`` of a loss through :func:`scaled_dot_product_attention`.

    With ``S = scale · q kᵀ``, ``W = softmax(S)`` and ``out = W v``:
    ``dv = Wᵀ d_out``, ``dW = d_out vᵀ``, ``dS = W ⊙ (dW − rowsum(dW ⊙ W))`` and then
    ``dq = scale · dS k``, ``dk = scale · dSᵀ q``. Masked entries have ``W = 0`` so they pass
    no gradient. Shapes are those of the forward pass; ``d_out`` is ``(..., n_q, d_v)``.

    The row sums need no ``(n_q, n_k)`` temporary: ``rowsum(dW ⊙ W)_i = Σ_j W_ij d_out_i·v_j
    = d_out_i · out_i``. Pass the forward ``out`` to skip recomputing it.

    >>> q = np.ones((1, 2)); k = np.ones((3, 2)); v = np.arange(3.0)[:, None]
    >>> out, w = scaled_dot_product_attention(q, k, v)
    >>> dq, dk, dv = attention_backward(q, k, v, w, np.ones((1, 1)))
    >>> np.round(dv.ravel(), 4)   # each value row received weight 1/3
    array([0.3333, 0.3333, 0.3333])
    """
    temperature = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
    if out is None:
        out = weights @ v
    return backward_kernel(q, k, v, weights, None, d_out, out, attention_scale(q, temperature))


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
    """:func:`attention_backward` without checks, for ``W = exp_scores * inv_sums``
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
    return _sum_to(dq, q.shape), _sum_to(dk, k.shape), _sum_to(dv, v.shape)


def _sum_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the batch axes that were broadcast in the forward pass."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    return grad.sum(axis=axes, keepdims=True).reshape(shape)
