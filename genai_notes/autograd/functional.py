"""Closed-form gradients: the layers' maths as one graph node each, with the backward rule
derived by hand and written beside the forward.

Building softmax, layer norm or cross-entropy out of ``exp``, ``sum`` and ``div`` nodes works
(and is a good exercise), but costs several temporaries per step and loses precision. Each
node below computes its forward pass in plain NumPy, keeps what its backward rule needs, and
applies the closed-form gradient. Every rule is checked against finite differences in
``tests/test_autograd_functional.py``. These are the versions the chapters teach; the speed
kernels that compute the same numbers with fewer passes live in
:mod:`genai_notes.autograd.fused`.

>>> logits = Tensor([[2.0, 0.0, 0.0]], requires_grad=True)
>>> loss = cross_entropy(logits, np.array([0]))
>>> round(loss.item(), 4)   # -log(e² / (e² + 2))
0.2395
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genai_notes import attention as _attn
from genai_notes._checks import check_array, check_axis, check_real
from genai_notes.autograd.tensor import Tensor, expect_tensor

__all__ = [
    "linear",
    "softmax",
    "log_softmax",
    "layer_norm",
    "cross_entropy",
    "cross_entropy_targets",
    "scaled_dot_product_attention",
    "check_linear",
]


def check_linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> tuple[int, int]:
    """Check the shapes of a linear layer, ``x (..., d_in)``, ``weight (d_in, d_out)`` and
    ``bias (d_out,)`` or None; return ``(d_in, d_out)``."""
    expect_tensor(x, "x")
    expect_tensor(weight, "weight")
    if bias is not None:
        expect_tensor(bias, "bias")
    if weight.ndim != 2:
        raise ValueError(f"weight: expected shape (d_in, d_out), got {weight.shape}")
    d_in, d_out = weight.shape
    if x.ndim < 1 or x.shape[-1] != d_in:
        raise ValueError(f"x: expected a last axis of size d_in={d_in}, got shape {x.shape}")
    if bias is not None and bias.shape != (d_out,):
        raise ValueError(f"bias: expected shape ({d_out},), got {bias.shape}")
    return d_in, d_out


def _linear_backward(
    x: Tensor, x2: np.ndarray, weight: Tensor, bias: Tensor | None, g2: np.ndarray
) -> tuple[Any, ...]:
    """Gradients of ``x2 @ weight + bias`` given ``g2 (n, d_out)``: ``dx = g Wᵀ``,
    ``dW = xᵀ g``, ``db = Σ_rows g`` (only those that are needed)."""
    dx = (g2 @ weight.data.T).reshape(x.shape) if x.requires_grad else None
    dw = x2.T @ g2 if weight.requires_grad else None  # (d_in, d_out)
    if bias is None:
        return dx, dw
    return dx, dw, (g2.sum(axis=0) if bias.requires_grad else None)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight + bias`` for ``x (..., d_in)``, ``weight (d_in, d_out)``, ``bias (d_out,)``.

    All leading axes are flattened into one, so the product is a single 2-D GEMM
    ``(n, d_in) @ (d_in, d_out)``, the fastest shape for BLAS. Backward:
    ``dx = g Wᵀ``, ``dW = xᵀ g``, ``db = Σ_rows g``.

    >>> linear(Tensor(np.ones((2, 3, 4))), Tensor(np.ones((4, 5))), Tensor(np.ones(5))).shape
    (2, 3, 5)
    """
    d_in, d_out = check_linear(x, weight, bias)
    x2 = x.data.reshape(-1, d_in)  # (n, d_in)
    out = x2 @ weight.data  # (n, d_out)
    if bias is not None:
        out += bias.data

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        return _linear_backward(x, x2, weight, bias, g.reshape(-1, d_out))

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._node(out.reshape(*x.shape[:-1], d_out), parents, backward, "linear")


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` (forward and backward from :mod:`genai_notes.attention`).

    >>> softmax(Tensor([0.0, np.log(3.0)])).data
    array([0.25, 0.75], dtype=float32)
    """
    out = _attn.softmax(expect_tensor(x, "x").data, axis=axis)
    return Tensor._node(
        out, (x,), lambda g: (_attn.softmax_backward(out, g, axis=axis),), "softmax"
    )


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis``, computed stably (max subtracted first).

    Backward: ``dx = g - softmax(x) · Σ g`` (the sum runs along ``axis``).

    >>> np.round(log_softmax(Tensor([0.0, 0.0])).data, 4)
    array([-0.6931, -0.6931], dtype=float32)
    """
    data = expect_tensor(x, "x").data
    axis = check_axis(axis, data.ndim)
    if data.shape[axis] == 0:
        raise ValueError(f"x: expected at least one entry along axis {axis}, got {data.shape}")
    shifted = data - data.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)

    return Tensor._node(out, (x,), backward, "log_softmax")


def layer_norm(x: Tensor, weight: Tensor, bias: Tensor, eps: float = 1e-5) -> Tensor:
    """Normalise each row of ``x (..., d)`` to mean 0 and variance 1, then scale and shift:
    ``y = x̂ · weight + bias`` with ``x̂ = (x - μ) / √(σ² + eps)`` (biased variance).

    Backward (per row): ``dx = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) / √(σ² + eps)`` with
    ``dx̂ = g · weight``; ``dweight = Σ g · x̂`` and ``dbias = Σ g`` over all rows.

    >>> y = layer_norm(Tensor([[1.0, 2.0, 3.0]]), Tensor(np.ones(3)), Tensor(np.zeros(3)))
    >>> np.round(y.data, 4)
    array([[-1.2247,  0.    ,  1.2247]], dtype=float32)
    """
    for name, t in (("x", x), ("weight", weight), ("bias", bias)):
        expect_tensor(t, name)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"x: expected shape (..., d) with d >= 1, got {x.shape}")
    d = x.shape[-1]
    for name, t in (("weight", weight), ("bias", bias)):
        if t.shape != (d,):
            raise ValueError(f"{name}: expected shape ({d},) to match x {x.shape}, got {t.shape}")
    eps = check_real(eps, "eps", low=0.0, low_inclusive=False)
    x2 = x.data.reshape(-1, d)  # (n, d)
    centred = x2 - x2.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + eps)  # (n, 1)
    x_hat = centred * inv_std  # (n, d)
    out = x_hat * weight.data + bias.data

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        g2 = g.reshape(-1, d)
        d_xhat = g2 * weight.data
        dx = d_xhat - d_xhat.mean(axis=-1, keepdims=True)
        dx -= x_hat * (d_xhat * x_hat).mean(axis=-1, keepdims=True)
        dx *= inv_std
        return dx.reshape(x.shape), (g2 * x_hat).sum(axis=0), g2.sum(axis=0)

    return Tensor._node(out.reshape(x.shape), (x, weight, bias), backward, "layer_norm")


def cross_entropy_targets(
    targets: Any, logits_shape: tuple[int, ...], ignore_index: int | None, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Check ``targets`` against ``logits_shape`` ``(..., vocab)``. Returns the flat target
    ids ``(n,)`` (ignored positions pick class 0, which their weight of 0 cancels) and each
    position's weight in the mean ``(n,)``: ``1 / n_used``, or 0 where ignored."""
    targets = check_array(targets, "targets", dtype_kind="iu")
    if targets.shape != logits_shape[:-1]:
        raise ValueError(
            f"targets: expected shape {logits_shape[:-1]} (logits without the vocab axis), "
            f"got {targets.shape}"
        )
    vocab = logits_shape[-1]
    flat = targets.reshape(-1)
    valid = np.ones(flat.shape, dtype=bool) if ignore_index is None else flat != ignore_index
    checked = flat[valid]
    if checked.size == 0:
        raise ValueError("targets: every target equals ignore_index; the mean loss is undefined")
    if checked.min() < 0 or checked.max() >= vocab:
        raise ValueError(
            f"targets: expected class ids in [0, {vocab}), got values in "
            f"[{checked.min()}, {checked.max()}]"
        )
    weights = np.where(valid, 1.0 / checked.size, 0.0).astype(dtype)
    return np.where(valid, flat, 0), weights


def cross_entropy(logits: Tensor, targets: Any, ignore_index: int | None = None) -> Tensor:
    """Mean of ``-log softmax(logits)[target]`` over positions whose target is not
    ``ignore_index`` (padding).

    logits: ``(n, vocab)`` or ``(batch, seq, vocab)``; targets: integer array of the same
    shape without the last axis. Each row's log-softmax subtracts the row maximum first, so
    ``exp`` cannot overflow. Backward: ``dlogits = (softmax(logits) - one_hot) / n_used`` on
    used positions and 0 on ignored ones.

    >>> logits = Tensor([[0.0, 0.0], [5.0, 0.0]])
    >>> round(cross_entropy(logits, np.array([1, -1]), ignore_index=-1).item(), 4)
    0.6931
    """
    if expect_tensor(logits, "logits").ndim < 2:
        raise ValueError(f"logits: expected shape (..., vocab), got {logits.shape}")
    flat, weights = cross_entropy_targets(targets, logits.shape, ignore_index, logits.dtype)
    z = logits.data.reshape(-1, logits.shape[-1])  # (n, vocab)
    shifted = z - z.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # (n, vocab)
    rows = np.arange(z.shape[0])
    losses = -log_probs[rows, flat]  # (n,): the target's negative log-probability
    loss = np.asarray((losses * weights).sum(), dtype=z.dtype)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        dz = np.exp(log_probs)  # softmax(z)
        dz[rows, flat] -= 1.0  # minus the one-hot target
        dz *= (weights * g)[:, None]  # 1 / n_used on used rows, 0 on ignored ones
        return (dz.reshape(logits.shape),)

    return Tensor._node(loss, (logits,), backward, "cross_entropy")


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Any = None, temperature: float = 1.0
) -> Tensor:
    """Attention as one graph node; forward and backward are the plain-NumPy functions of
    :mod:`genai_notes.attention` (same shapes and mask convention: True = allowed).

    q ``(..., n_q, d_k)``, k ``(..., n_k, d_k)``, v ``(..., n_k, d_v)`` -> ``(..., n_q, d_v)``.

    >>> x = Tensor(np.eye(2))
    >>> scaled_dot_product_attention(x, x, x, mask=np.eye(2, dtype=bool)).data
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        expect_tensor(t, name)
    out, weights = _attn.scaled_dot_product_attention(q.data, k.data, v.data, mask, temperature)

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _attn.attention_backward(q.data, k.data, v.data, weights, g, temperature)

    return Tensor._node(out, (q, k, v), backward, "attention")
