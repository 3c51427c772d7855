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
from genai_notes.autograd.tensor import Tensor, expect_tensor, unbroadcast

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
    if ta is None and tb is None:
        raise TypeError(
            f"{op}: expected at least one Tensor operand, got {describe(a)}, {describe(b)}"
        )
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
    expect_tensor(x, "x")
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
        if isinstance(ax, bool) or not isinstance(ax, int) or not -ndim <= ax < ndim:
            raise ValueError(f"axis: expected integers in [-{ndim}, {ndim}), got {axis}")
    normalised = sorted(ax % ndim for ax in axes)
    if len(set(normalised)) != len(normalised):
        raise ValueError(f"axis: expected each axis once, got {axis}")
    return tuple(normalised)


def sum(x: Tensor, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis``; backward copies ``g`` back to every summed position.

    >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0)
    Tensor([4. 6.])
    """
    axes = _axes(axis, expect_tensor(x, "x").ndim)
    out = x.data.sum(axis=axes, keepdims=keepdims)
    kept_shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (np.broadcast_to(g.reshape(kept_shape), x.shape),)

    return Tensor._node(out, (x,), backward, "sum")


def mean(x: Tensor, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``: a sum divided by the number of averaged entries."""
    axes = _axes(axis, expect_tensor(x, "x").ndim)
    count = math.prod(x.shape[i] for i in axes)
    if count == 0:
        raise ValueError(f"x: the mean over axis {axis} of shape {x.shape} averages no entries")
    return mul(sum(x, axes, keepdims), 1.0 / count)


def exp(x: Tensor) -> Tensor:
    """``exp(x)``; its derivative is itself: ``dx = g · out``. An ``x`` whose exp would
    overflow the dtype (above about 88.7 in float32) is refused rather than turned into inf."""
    data = expect_tensor(x, "x").data
    limit = np.log(np.finfo(data.dtype).max)  # about 88.7 in float32, 709.8 in float64
    if data.size and data.max() > limit:
        raise ValueError(
            f"x: exp overflows {data.dtype} above {limit:.1f}, got max {data.max():.4g}; "
            "subtract the maximum first (as softmax does)"
        )
    out = np.exp(data)
    return Tensor._node(out, (x,), lambda g: (g * out,), "exp")


def log(x: Tensor) -> Tensor:
    """Natural log of a positive tensor: ``dx = g / x``."""
    if not np.all(expect_tensor(x, "x").data > 0):
        raise ValueError(f"log: expected positive values, got min {x.data.min()}")
    out = np.log(x.data)
    return Tensor._node(out, (x,), lambda g: (g / x.data,), "log")


def tanh(x: Tensor) -> Tensor:
    """``tanh(x)``: ``dx = g · (1 - out²)``."""
    out = np.tanh(expect_tensor(x, "x").data)
    return Tensor._node(out, (x,), lambda g: (g * (1.0 - out * out),), "tanh")


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)``: the gradient passes where ``x > 0`` (we take 0 at exactly 0)."""
    positive = expect_tensor(x, "x").data > 0
    out = x.data * positive
    return Tensor._node(out, (x,), lambda g: (g * positive,), "relu")


# GELU's constants (tanh approximation): c = √(2/π) and a.
GELU_C = math.sqrt(2.0 / math.pi)
GELU_A = 0.044715
# Beyond |x| = 20 the tanh is ±1 to float64 precision, so clipping x there changes no output
# but keeps x³ finite: the derivative is then 0 · finite, never inf · 0 = NaN.
_GELU_CLIP = 20.0


def gelu(x: Tensor) -> Tensor:
    """GELU, tanh approximation (as in GPT-2): ``0.5 x (1 + tanh(c (x + a x³)))`` with
    ``c = √(2/π)`` and ``a = 0.044715``. It differs from the exact ``x Φ(x)`` by less than
    1e-3.

    Derivative, with ``t = tanh(c (x + a x³))``:
    ``gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t²) c (1 + 3 a x²)``.

    >>> np.round(gelu(Tensor([-1.0, 0.0, 1.0])).data, 4)
    array([-0.1588,  0.    ,  0.8412], dtype=float32)
    """
    x_clipped = np.clip(expect_tensor(x, "x").data, -_GELU_CLIP, _GELU_CLIP)
    # x * x * x, not x**3: NumPy's float32 power by a scalar 3 takes the slow general path,
    # about 100 times slower, and GELU runs on every hidden unit of every block.
    t = np.tanh(GELU_C * (x_clipped + GELU_A * (x_clipped * x_clipped * x_clipped)))
    out = 0.5 * x.data * (1.0 + t)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        slope = GELU_C * (1.0 + 3.0 * GELU_A * x_clipped**2)  # d/dx of c (x + a x³)
        deriv = 0.5 * (1.0 + t) + 0.5 * x_clipped * (1.0 - t * t) * slope
        return (g * deriv,)

    return Tensor._node(out, (x,), backward, "gelu")
