"""Linear layers fused with what follows them: the residual sum, or the bias and GELU.

The teaching versions are :func:`genai_notes.autograd.functional.linear` followed by ``+``
or by :func:`genai_notes.autograd.ops.gelu`. A NumPy pass over a large array costs about as
much as a small matrix product, so each pass saved on the model's widest activations shows in
the step time. Rows (forward, ``dx``) and weight-gradient columns are shared out over the
engine's thread pool.

>>> y = linear_gelu(Tensor(np.ones((1, 2))), Tensor(np.ones((2, 3))), Tensor(np.zeros(3)))
>>> np.round(y.data, 4)
array([[1.9546, 1.9546, 1.9546]], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genai_notes.autograd import _parallel
from genai_notes.autograd.functional import check_linear
from genai_notes.autograd.fused._work import chunked_linear_backward, row_bounds
from genai_notes.autograd.fused.gelu import gelu_kernel
from genai_notes.autograd.tensor import Tensor, is_grad_enabled

__all__ = ["linear_residual", "linear_gelu"]


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
    d_in, d_out = check_linear(x, weight, bias)
    if not isinstance(residual, Tensor):
        raise TypeError(f"residual: expected a Tensor, got {type(residual).__name__}")
    if residual.shape != (*x.shape[:-1], d_out):
        raise ValueError(f"residual: expected shape {(*x.shape[:-1], d_out)}, got {residual.shape}")
    x2 = x.data.reshape(-1, d_in)  # (n, d_in)
    res2 = residual.data.reshape(-1, d_out)
    w = weight.data
    out = np.empty((x2.shape[0], d_out), dtype=np.result_type(x2, w))
    bounds = row_bounds(x2.shape[0], d_in + 2 * d_out)

    def rows(i: int) -> None:
        r = slice(bounds[i], bounds[i + 1])
        o = out[r]
        np.matmul(x2[r], w, out=o)
        o += res2[r]
        if bias is not None:
            o += bias.data

    _parallel.run(rows, len(bounds) - 1)

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        return (*chunked_linear_backward(x, x2, weight, bias, g.reshape(-1, d_out)), g)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._node(
        out.reshape(residual.shape),
        (*parents, residual),
        _parallel.single_blas_thread(backward),
        "linear+res",
    )


@_parallel.single_blas_thread
def linear_gelu(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``gelu(x @ weight + bias)`` as one node (the first layer of a feed-forward net).

    Same shapes as :func:`linear`. Fusing saves a pass over the widest activation
    ``(n, d_ff)``: the bias is added inside the cache-blocked GELU kernel, and backward
    multiplies ``g`` by the stored ``gelu'`` before the usual linear backward.
    """
    d_in, d_out = check_linear(x, weight, bias)
    x2 = x.data.reshape(-1, d_in)  # (n, d_in)
    need_grad = is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, weight, bias)
    )
    w, b = weight.data, None if bias is None else bias.data
    out = np.empty((x2.shape[0], d_out), dtype=np.result_type(x2, w))
    deriv = np.empty_like(out) if need_grad else None
    bounds = row_bounds(x2.shape[0], d_in + 3 * d_out)

    def rows(i: int) -> None:
        r = slice(bounds[i], bounds[i + 1])
        np.matmul(x2[r], w, out=out[r])
        gelu_kernel(
            out[r], need_grad, b, inplace=True, deriv_out=None if deriv is None else deriv[r]
        )

    _parallel.run(rows, len(bounds) - 1)

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        return chunked_linear_backward(x, x2, weight, bias, g.reshape(-1, d_out), deriv)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._node(
        out.reshape(*x.shape[:-1], d_out),
        parents,
        _parallel.single_blas_thread(backward),
        "linear_gelu",
    )
