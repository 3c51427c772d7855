"""Elementwise arithmetic, matmul and reductions, each with its backward rule beside it.

Every function takes tensors (or constants: Python numbers and arrays, which never become
graph nodes) and returns a new :class:`Tensor`. The nested ``backward(g)`` receives the
gradient of the output and returns one gradient per tensor parent, in order. A backward
rule never modifies ``g`` in place (it may be shared with other nodes).

>>> a = Tensor([[1.0, 2.0]], requires_grad=True)
>>> b = Tensor([[3.0], [4.0]], requires_grad=True)
>>> (a @ b).backward()
>>> a.grad, b.grad.ravel()
(array([[3., 4.]], dtype=float32), array([1., 2.], dtype=float32))
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from genai_notes._checks import describe
from genai_notes.autograd.tensor import Tensor, is_grad_enabled, unbroadcast

__all__ = [
    "add",
    "sub",
    "mul",
    "div",
    "power",
    "matmul",
    "sum",
    "mean",
    "exp",
    "log",
    "tanh",
    "relu",
    "gelu",
]


def _operand(value: Any, dtype: np.dtype, op: str) -> Any:
    """A constant operand: Python numbers stay Python numbers (NumPy then keeps the tensor's
    dtype instead of upcasting float32 to float64); arrays are cast to the tensor's dtype."""
    if isinstance(value, Real) and not isinstance(value, bool | np.ndarray):
        return float(value)
    array = np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{op}: expected a Tensor, number or array, got {describe(value)}")
    return array.astype(dtype, copy=False)


def _binary(a: Any, b: Any, op: str) -> tuple[Tensor | None, Any, Tensor | None, Any]:
    """Split ``a``, ``b`` into (tensor or None, raw value) pairs with a common dtype."""
    ta = a if isinstance(a, Tensor) else None
    tb = b if isinstance(b, Tensor) else None
    if ta is not None and tb is not None and ta.dtype != tb.dtype:
        raise TypeError(
            f"{op}: operands have different dtypes {ta.dtype} and {tb.dtype}; "
            "convert one of them with Tensor(x, dtype=...)"
        )
    dtype = (ta if ta is not None else tb).dtype
    da = ta.data if ta is not None else _operand(a, dtype, op)
    db = tb.data if tb is not None else _operand(b, dtype, op)
    return ta, da, tb, db


def _broadcast_error(op: str, da: Any, db: Any) -> ValueError:
    return ValueError(f"{op}: shapes {np.shape(da)} and {np.shape(db)} cannot be broadcast")


def _pair_node(
    out: np.ndarray,
    ta: Tensor | None,
    tb: Tensor | None,
    grad_a: Any,
    grad_b: Any,
    op: str,
) -> Tensor:
    """A node for a binary op whose operands may be constants (then they are not parents)."""
    parents = tuple(t for t in (ta, tb) if t is not None)

    def backward(g: np.ndarray) -> tuple[Any, ...]:
        grads = []
        if ta is not None:
            grads.append(unbroadcast(grad_a(g), ta.shape) if ta.requires_grad else None)
        if tb is not None:
            grads.append(unbroadcast(grad_b(g), tb.shape) if tb.requires_grad else None)
        return tuple(grads)

    return Tensor._node(out, parents, backward, op)


def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting; each input gets ``g`` summed over its broadcast axes."""
    ta, da, tb, db = _binary(a, b, "add")
    try:
        out = da + db
    except ValueError:
        raise _broadcast_error("add", da, db) from None
    return _pair_node(out, ta, tb, lambda g: g, lambda g: g, "add")


def sub(a: Any, b: Any) -> Tensor:
    """``a - b`` with broadcasting: ``da = g``, ``db = -g``."""
    ta, da, tb, db = _binary(a, b, "sub")
    try:
        out = da - db
    except ValueError:
        raise _broadcast_error("sub", da, db) from None
    return _pair_node(out, ta, tb, lambda g: g, np.negative, "sub")


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with broadcasting: ``da = g * b``, ``db = g * a``.

    >>> x = Tensor([2.0, 3.0], requires_grad=True)
    >>> (x * 4.0).sum().backward(); x.grad
    array([4., 4.], dtype=float32)
    """
    ta, da, tb, db = _binary(a, b, "mul")
    try:
        out = da * db
    except ValueError:
        raise _broadcast_error("mul", da, db) from None
    return _pair_node(out, ta, tb, lambda g: g * db, lambda g: g * da, "mul")


def div(a: Any, b: Any) -> Tensor:
    """``a / b`` with broadcasting: ``da = g / b``, ``db = -g * a / b²``."""
    ta, da, tb, db = _binary(a, b, "div")
    try:
        out = da / db
    except ValueError:
        raise _broadcast_error("div", da, db) from None
    return _pair_node(out, ta, tb, lambda g: g / db, lambda g: -g * out / db, "div")


def power(x: Tensor, exponent: float) -> Tensor:
    """``x ** exponent`` for a constant real exponent: ``dx = g · p · x^(p-1)``."""
    if isinstance(exponent, bool) or not isinstance(exponent, Real):
        raise TypeError(f"exponent: expected a real number, got {describe(exponent)}")
    p = float(exponent)
    out = x.data**p

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (g * (p * x.data ** (p - 1.0)),)

    return Tensor._node(out, (x,), backward, "pow")


def matmul(a: Any, b: Any) -> Tensor:
    """``a @ b`` with NumPy's rules (batch axes broadcast; 1-D operands are vectors).

    Backward: ``da = g @ bᵀ`` and ``db = aᵀ @ g``, summed over broadcast batch axes.
    """
    ta, da, tb, db = _binary(a, b, "matmul")
    if np.ndim(da) == 0 or np.ndim(db) == 0:
        raise ValueError(
            f"matmul: expected arrays of rank >= 1, got shapes {np.shape(da)} and {np.shape(db)}"
        )
    if da.shape[-1] != db.shape[-2 if db.ndim > 1 else 0]:
        raise ValueError(
            f"matmul: inner dimensions differ: a has shape {da.shape} (last axis "
            f"{da.shape[-1]}), b has shape {db.shape} (axis -2 must match)"
        )
    a2 = da if da.ndim > 1 else da[None, :]  # vectors as (1, n) and (n, 1) matrices
    b2 = db if db.ndim > 1 else db[:, None]
    try:
        out2 = a2 @ b2
    except ValueError:
        raise ValueError(
            f"matmul: batch axes of shapes {da.shape} and {db.shape} cannot be broadcast"
        ) from None
    out = out2
    if da.ndim == 1:
        out = out.squeeze(-2)
    if db.ndim == 1:
        out = out.squeeze(-1)

    def grad_a(g: np.ndarray) -> np.ndarray:
        grad = g.reshape(out2.shape) @ b2.swapaxes(-1, -2)
        return unbroadcast(grad, a2.shape).reshape(da.shape)

    def grad_b(g: np.ndarray) -> np.ndarray:
        grad = a2.swapaxes(-1, -2) @ g.reshape(out2.shape)
        return unbroadcast(grad, b2.shape).reshape(db.shape)

    return _pair_node(out, ta, tb, grad_a, grad_b, "matmul")


def _axes(axis: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis: expected values in [-{ndim}, {ndim}), got {axis}")
    return tuple(sorted(ax % ndim for ax in axes))


def sum(x: Tensor, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis``; backward copies ``g`` back to every summed position.

    >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0)
    Tensor([4. 6.])
    """
    axes = _axes(axis, x.ndim)
    out = x.data.sum(axis=axes, keepdims=keepdims)
    kept_shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (np.broadcast_to(g.reshape(kept_shape), x.shape),)

    return Tensor._node(out, (x,), backward, "sum")


def mean(x: Tensor, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``: a sum divided by the number of averaged entries."""
    axes = _axes(axis, x.ndim)
    count = math.prod(x.shape[i] for i in axes)
    return mul(sum(x, axes, keepdims), 1.0 / count)


def exp(x: Tensor) -> Tensor:
    """``exp(x)``; its derivative is itself: ``dx = g · out``."""
    out = np.exp(x.data)
    return Tensor._node(out, (x,), lambda g: (g * out,), "exp")


def log(x: Tensor) -> Tensor:
    """Natural log of a positive tensor: ``dx = g / x``."""
    if not np.all(x.data > 0):
        raise ValueError(f"log: expected positive values, got min {x.data.min()}")
    out = np.log(x.data)
    return Tensor._node(out, (x,), lambda g: (g / x.data,), "log")


def tanh(x: Tensor) -> Tensor:
    """``tanh(x)``: ``dx = g · (1 - out²)``."""
    out = np.tanh(x.data)
    return Tensor._node(out, (x,), lambda g: (g * (1.0 - out * out),), "tanh")


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)``: the gradient passes where ``x > 0`` (we take 0 at exactly 0)."""
    positive = x.data > 0
    out = x.data * positive
    return Tensor._node(out, (x,), lambda g: (g * positive,), "relu")


_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_A = 0.044715
_CHUNK = 1 << 16  # elements per block: 256 KB of float32, so the temporaries stay in L2 cache


def gelu_kernel(
    z: np.ndarray,
    need_grad: bool,
    bias: np.ndarray | None = None,
    inplace: bool = False,
    deriv_out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """GELU of a C-contiguous array ``z (..., d)`` and, if ``need_grad``, its derivative.

    If ``bias (d,)`` is given it is first added to ``z`` **in place**, and with
    ``inplace=True`` the result overwrites ``z`` too (for callers that own ``z``, such as the
    fused linear-GELU nodes: it saves writing a second ``(n, d)`` array); ``deriv_out``, an
    array of ``z``'s shape, receives the derivative (for callers that fill a larger buffer
    chunk by chunk from several threads). The dozen elementwise passes run on one
    cache-sized block of rows at a time rather than on the whole array, which avoids a round
    trip to main memory per pass (blocks of 64k elements: smaller ones pay NumPy's call
    overhead, about 1 µs a call, too often, and make two threads contend for the GIL). With ``h = (1 + t) / 2`` and ``out = h·x``, the derivative
    ``h + x (1 - t²) c (1 + 3 a x²) / 2`` is rewritten as ``h + out (1 - h)(2c + 6ac x²)``
    (since ``1 - t² = 4 h (1 - h)``), which takes fewer passes.
    """
    # Rows of length d only matter for the bias; otherwise any contiguous blocking will do.
    rows = z.reshape(-1, z.shape[-1] if bias is not None else 1)
    out = rows if inplace else np.empty_like(rows)
    if not need_grad:
        deriv = None
    elif deriv_out is not None:
        deriv = deriv_out.reshape(rows.shape)
    else:
        deriv = np.empty_like(rows)
    step = max(1, _CHUNK // rows.shape[1])
    t_buf = np.empty((min(step, rows.shape[0]), rows.shape[1]), dtype=rows.dtype)
    u_buf = np.empty_like(t_buf)
    for start in range(0, rows.shape[0], step):
        stop = min(start + step, rows.shape[0])
        x, o = rows[start:stop], out[start:stop]
        t, u = t_buf[: stop - start], u_buf[: stop - start]
        if bias is not None:
            x += bias
        np.multiply(x, x, out=u)  # x²
        np.multiply(u, _GELU_A * _GELU_C, out=t)
        t += _GELU_C
        t *= x  # c (x + a x³)
        np.tanh(t, out=t)
        t *= 0.5
        t += 0.5  # h = (1 + tanh) / 2
        np.multiply(t, x, out=o)  # gelu(x) = h x
        if deriv is not None:
            d = deriv[start:stop]
            u *= 6.0 * _GELU_A * _GELU_C
            u += 2.0 * _GELU_C  # 2c + 6ac x²
            np.subtract(1.0, t, out=d)
            d *= o
            d *= u
            d += t  # h + out (1 - h)(2c + 6ac x²)
    shape = z.shape
    return out.reshape(shape), None if deriv is None else deriv.reshape(shape)


def gelu(x: Tensor) -> Tensor:
    """GELU, tanh approximation (as in GPT-2): ``0.5 x (1 + tanh(c (x + 0.044715 x³)))``
    with ``c = √(2/π)``. It differs from the exact ``x Φ(x)`` by less than 1e-3.

    Derivative, with ``t = tanh(c (x + a x³))``:
    ``gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t²) c (1 + 3 a x²)``. The forward pass computes it
    while ``x`` and ``t`` are in cache (see :func:`gelu_kernel`), so backward is a single
    product ``g · gelu'(x)``.

    >>> np.round(gelu(Tensor([-1.0, 0.0, 1.0])).data, 4)
    array([-0.1588,  0.    ,  0.8412], dtype=float32)
    """
    need_grad = is_grad_enabled() and x.requires_grad
    out, deriv = gelu_kernel(np.ascontiguousarray(x.data), need_grad)
    return Tensor._node(out, (x,), lambda g: (g * deriv,), "gelu")
