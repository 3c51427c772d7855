"""Scaled dot-product attention in plain NumPy, forward and backward: the code Chapter 5
teaches, line by line.

The autograd engine's attention node
(:func:`genai_notes.autograd.functional.scaled_dot_product_attention`) calls
:func:`scaled_dot_product_attention` for its forward pass and :func:`attention_backward` for
its backward pass. The engine's fast multi-head node uses kernels that compute the same
numbers with fewer passes (:mod:`genai_notes.autograd.fused.attention`, tested against the
functions here).

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
from typing import Any

import numpy as np

from genai_notes._checks import check_array, check_axis, check_positive_int, check_real, check_size

__all__ = [
    "softmax",
    "softmax_backward",
    "causal_mask",
    "padding_mask",
    "split_heads",
    "merge_heads",
    "scaled_dot_product_attention",
    "attention_backward",
    "sum_to_shape",
    "head_mask",
]


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
    axis = check_axis(axis, x.ndim, "axis")
    if x.shape[axis] == 0:
        raise ValueError(f"x: expected at least one entry along axis {axis}, got shape {x.shape}")
    x = x.astype(np.result_type(x.dtype, np.float32), copy=False)
    row_max = x.max(axis=axis, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)  # an all -inf row stays -inf
    exps = np.exp(x - row_max)  # every entry <= 1: no overflow
    total = exps.sum(axis=axis, keepdims=True)
    return exps / np.where(total == 0.0, 1.0, total)  # an all -inf row gives zeros


def softmax_backward(y: np.ndarray, dy: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of a loss through ``y = softmax(x)``: ``dx = y * (dy - sum(dy * y))``.

    The Jacobian of softmax is ``diag(y) - y yᵀ``; multiplying it by ``dy`` gives the
    formula above without ever building the ``(n, n)`` matrix.

    >>> y = softmax(np.array([0.0, 0.0]))
    >>> softmax_backward(y, np.array([1.0, 0.0]))
    array([ 0.25, -0.25])
    """
    y = check_array(y, "y", dtype_kind="f")
    dy = check_array(dy, "dy", dtype_kind="fiu")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError(
            f"y: expected softmax outputs in [0, 1], got [{y.min():.4g}, {y.max():.4g}]"
        )
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
    return np.tril(np.ones(check_size((seq, seq), "seq"), dtype=bool))


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
    check_size((lengths.size, seq), "lengths, seq")
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
    x = check_array(x, "x", ndim=3, finite=False)
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
    x = check_array(x, "x", ndim=4, finite=False)
    batch, n_heads, seq, d_head = x.shape
    return x.transpose(0, 2, 1, 3).reshape(batch, seq, n_heads * d_head)


def head_mask(mask: Any, batch: int, n_q: int, n_k: int, causal: bool = False) -> np.ndarray | None:
    """The mask multi-head attention applies: the user's ``mask`` (bool, broadcastable to
    ``(batch, n_q, n_k)``, True = allowed, or None) AND, if ``causal``, the causal mask, with
    an axis for the heads, so broadcastable to ``(batch, n_heads, n_q, n_k)``. The queries are
    the last ``n_q`` of the ``n_k`` positions (as with a KV cache): query ``i`` sees keys up to
    ``n_k - n_q + i``.

    >>> head_mask(None, 1, 2, 3, causal=True).astype(int)
    array([[1, 1, 0],
           [1, 1, 1]])
    """
    allowed = np.tril(np.ones((n_q, n_k), dtype=bool), k=n_k - n_q) if causal else None
    if mask is None:
        return allowed
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
    return mask if allowed is None else mask & allowed


def _check_qkv(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None) -> None:
    for name, a in (("q", q), ("k", k), ("v", v)):
        if a.ndim < 2 or a.dtype.kind != "f":
            raise ValueError(f"{name}: expected a float array (..., n, d), got {a.dtype} {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name}: expected finite values, got NaN or inf in {a.shape}")
    if q.shape[-1] == 0:
        raise ValueError(f"q: expected d_k >= 1 (the last axis), got shape {q.shape}")
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
    entries, so the softmax does not saturate as d_k grows.

    >>> q = np.array([[1.0, 1.0], [0.0, 2.0]]); k = np.array([[2.0, 0.0], [0.0, 2.0]])
    >>> out, w = scaled_dot_product_attention(q, k, np.array([[1.0], [3.0]]))
    >>> np.round(w, 4), np.round(out, 4)
    (array([[0.5   , 0.5   ],
           [0.0558, 0.9442]]), array([[2.    ],
           [2.8884]]))
    """
    q, k, v = (check_array(a, n, finite=False) for a, n in ((q, "q"), (k, "k"), (v, "v")))
    mask = None if mask is None else check_array(mask, "mask", finite=False)
    _check_qkv(q, k, v, mask)
    temperature = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
    d_k = q.shape[-1]
    scores = q @ k.swapaxes(-1, -2) / (math.sqrt(d_k) * temperature)  # (..., n_q, n_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # a masked key gets weight exp(-inf) = 0
    weights = softmax(scores, axis=-1)  # (..., n_q, n_k); a fully masked row is all 0
    out = weights @ v  # (..., n_q, d_v)
    return out, weights


def attention_backward(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    weights: np.ndarray,
    d_out: np.ndarray,
    temperature: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dq, dk, dv)`` of a loss through :func:`scaled_dot_product_attention`.

    With ``S = scale · q kᵀ`` (``scale = 1 / (√d_k · temperature)``), ``W = softmax(S)`` and
    ``out = W v``, the chain rule backwards through each line of the forward pass gives
    ``dv = Wᵀ d_out``, ``dW = d_out vᵀ``, ``dS = W ⊙ (dW − rowsum(dW ⊙ W))`` (softmax's
    backward) and then ``dq = scale · dS k``, ``dk = scale · dSᵀ q``. Masked entries have
    ``W = 0``, so they pass no gradient. Shapes are those of the forward pass; ``d_out`` is
    ``(..., n_q, d_v)``; weights is the forward's ``(..., n_q, n_k)``.

    >>> q = np.ones((1, 2)); k = np.ones((3, 2)); v = np.arange(3.0)[:, None]
    >>> out, w = scaled_dot_product_attention(q, k, v)
    >>> dq, dk, dv = attention_backward(q, k, v, w, np.ones((1, 1)))
    >>> np.round(dv.ravel(), 4)   # each value row received weight 1/3
    array([0.3333, 0.3333, 0.3333])
    """
    temperature = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
    scale = 1.0 / (math.sqrt(q.shape[-1]) * temperature)
    dv = weights.swapaxes(-1, -2) @ d_out  # (..., n_k, d_v)
    d_weights = d_out @ v.swapaxes(-1, -2)  # (..., n_q, n_k)
    d_scores = softmax_backward(weights, d_weights) * scale  # through the softmax and scale
    dq = d_scores @ k  # (..., n_q, d_k)
    dk = d_scores.swapaxes(-1, -2) @ q  # (..., n_k, d_k)
    return sum_to_shape(dq, q.shape), sum_to_shape(dk, k.shape), sum_to_shape(dv, v.shape)


def sum_to_shape(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the batch axes that were broadcast in the forward pass, so that it
    has ``shape``, the shape of the input it belongs to.

    >>> sum_to_shape(np.ones((2, 3, 4)), (1, 3, 4)).shape
    (1, 3, 4)
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    return grad.sum(axis=axes, keepdims=True).reshape(shape)
