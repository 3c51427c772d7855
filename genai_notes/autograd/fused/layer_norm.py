"""LayerNorm fused into the linear layer that follows it (optionally with GELU after).

The teaching version is :func:`genai_notes.autograd.functional.layer_norm` followed by
:func:`~genai_notes.autograd.functional.linear`. Since
``(x̂ ⊙ γ + β) W + b = x̂ (γ ⊙ W) + (β W + b)``, the norm's gain and shift fold into a small
weight matrix and bias, which saves two passes over ``(n, d)`` forward and one backward.

>>> x = Tensor(np.ones((2, 3, 4)))
>>> layer_norm_linear(x, Tensor(np.ones(4)), Tensor(np.zeros(4)), Tensor(np.ones((4, 5)))).shape
(2, 3, 5)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genai_notes._checks import check_real
from genai_notes.autograd import _parallel
from genai_notes.autograd.functional import check_linear
from genai_notes.autograd.fused._work import row_bounds, row_mean, split_work, weight_grad_columns
from genai_notes.autograd.fused.gelu import gelu_kernel
from genai_notes.autograd.tensor import Tensor, expect_tensor, is_grad_enabled

__all__ = ["layer_norm_linear"]


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
    ``(d_out,)``. Returns ``(..., d_out)``. Backward maps the folded gradients back to the
    four parameters and applies the LayerNorm backward
    ``dx = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) / σ``.

    Every row is normalised, multiplied and activated independently, so the forward pass
    and ``dx`` run on row chunks in the thread pool; the weight gradients run on column
    chunks (see :mod:`~genai_notes.autograd._parallel`).
    """
    for name, t in (("x", x), ("norm_weight", norm_weight), ("norm_bias", norm_bias)):
        expect_tensor(t, name)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"x: expected shape (..., d) with d >= 1, got {x.shape}")
    d = x.shape[-1]
    for name, t in (("norm_weight", norm_weight), ("norm_bias", norm_bias)):
        if t.shape != (d,):
            raise ValueError(f"{name}: expected shape ({d},) to match x {x.shape}, got {t.shape}")
    _, d_out = check_linear(x, weight, bias)
    eps = check_real(eps, "eps", low=0.0, low_inclusive=False)
    gamma, beta = norm_weight.data, norm_bias.data
    w_folded = gamma[:, None] * weight.data  # (d, d_out)
    b_folded = beta @ weight.data  # (d_out,)
    if bias is not None:
        b_folded = b_folded + bias.data
    need_grad = is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, norm_weight, norm_bias, weight, bias)
    )
    x2 = x.data.reshape(-1, d)  # (n, d)
    out, x_hat, inv_std, deriv = _forward(x2, w_folded, b_folded, eps, gelu, need_grad)

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        g2 = g.reshape(-1, d_out)
        dx, d_wf, d_bf = _backward(g2, x_hat, inv_std, w_folded, deriv, x.requires_grad)
        d_w = gamma[:, None] * d_wf + np.outer(beta, d_bf)  # back through W' = γ ⊙ W, b'
        d_gamma = (d_wf * weight.data) @ np.ones(d_out, dtype=weight.dtype)
        d_beta = weight.data @ d_bf
        grads = (None if dx is None else dx.reshape(x.shape), d_gamma, d_beta, d_w)
        return grads if bias is None else (*grads, d_bf)

    parents = (x, norm_weight, norm_bias, weight)
    parents = parents if bias is None else (*parents, bias)
    op = "layer_norm_linear_gelu" if gelu else "layer_norm_linear"
    return Tensor._node(
        out.reshape(*x.shape[:-1], d_out), parents, _parallel.single_blas_thread(backward), op
    )


def _forward(
    x2: np.ndarray,
    w_folded: np.ndarray,
    b_folded: np.ndarray,
    eps: float,
    gelu: bool,
    need_grad: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Normalise the rows of ``x2 (n, d)`` and multiply by the folded weight, in row chunks.
    Returns ``out (n, d_out)``, ``x̂ (n, d)``, ``1/σ (n, 1)`` and ``gelu'`` (or None)."""
    (n, d), d_out = x2.shape, w_folded.shape[1]
    x_hat = np.empty_like(x2)
    inv_std = np.empty((n, 1), dtype=x2.dtype)  # 1 / √(σ² + eps) per row
    out = np.empty((n, d_out), dtype=np.result_type(x2.dtype, w_folded.dtype))
    deriv = np.empty_like(out) if gelu and need_grad else None
    bounds = row_bounds(n, d + (3 if gelu else 1) * d_out)

    def rows(i: int) -> None:
        r = slice(bounds[i], bounds[i + 1])
        xh = x_hat[r]
        np.subtract(x2[r], row_mean(x2[r])[:, None], out=xh)  # centred, then scaled
        var = row_mean(np.square(xh))
        np.sqrt(var + eps, out=var)
        np.divide(1.0, var, out=inv_std[r, 0])
        xh *= inv_std[r]
        o = out[r]
        np.matmul(xh, w_folded, out=o)
        if gelu:  # the bias is added inside the cache-blocked kernel
            part = None if deriv is None else deriv[r]
            gelu_kernel(o, need_grad, b_folded, inplace=True, deriv_out=part)
        else:
            o += b_folded

    _parallel.run(rows, len(bounds) - 1)
    return out, x_hat, inv_std, deriv


def _backward(
    g2: np.ndarray,
    x_hat: np.ndarray,
    inv_std: np.ndarray,
    w_folded: np.ndarray,
    deriv: np.ndarray | None,
    need_dx: bool,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of the input and of the folded weight and bias, given ``g2 (n, d_out)``:
    rows (``dx``, and ``g ⊙ gelu'``) and weight-gradient columns in the thread pool."""
    (n, d), d_out, dtype = x_hat.shape, g2.shape[1], x_hat.dtype
    gd = g2 if deriv is None else np.empty_like(g2)  # gradient before the GELU
    d_wf = np.empty((d, d_out), dtype=dtype)  # gradient of the folded weight
    d_bf = np.empty(d_out, dtype=dtype)  # gradient of the folded bias
    dx = np.empty((n, d), dtype=dtype) if need_dx else None
    # dx̂ - mean(dx̂) in one product: the row mean of g W'ᵀ is g times the mean of W' over
    # its d axis, so centre W' first (a small matrix) instead of dx̂ (large).
    w_centred_t = (w_folded - w_folded.mean(axis=0, keepdims=True)).T  # (d_out, d)
    row_b = row_bounds(n, d + 2 * d_out)

    def rows(i: int) -> None:
        r = slice(row_b[i], row_b[i + 1])
        if deriv is not None:
            np.multiply(g2[r], deriv[r], out=gd[r])
        if dx is None:
            return
        dxr, xh = dx[r], x_hat[r]
        np.matmul(gd[r], w_centred_t, out=dxr)  # dx̂ - mean(dx̂), turned into dx in place
        tmp = dxr * xh  # rows of x̂ sum to 0, so the centring does not change this mean
        np.multiply(xh, row_mean(tmp)[:, None], out=tmp)
        dxr -= tmp
        dxr *= inv_std[r]

    col_b, columns = weight_grad_columns(x_hat, gd, d_wf, d_bf)
    split_work(
        rows if dx is not None or deriv is not None else None,
        len(row_b) - 1,
        columns,
        len(col_b) - 1,
        cols_after_rows=deriv is not None,
    )
    return dx, d_wf, d_bf
