"""Python's operators on a :class:`~genai_notes.autograd.tensor.Tensor`: ``a + b``,
``a * b``, ``a @ b``, ``-a``, ``a ** 2``, ``x[i]``, ``x.sum()``, ``x.T`` and the rest.

Each method below is one line that calls an op of :mod:`~genai_notes.autograd.ops` or
:mod:`~genai_notes.autograd.shape_ops`. Those modules import ``Tensor``, so ``tensor.py`` cannot
import them back; instead, this module (imported by ``genai_notes.autograd`` itself, so always
before any tensor is made) copies the methods onto the class. Imports then run one way:
tensor, then the ops, then the operators.

>>> a = Tensor([1.0, 2.0], requires_grad=True)
>>> y = (a * a + 1.0).sum()
>>> y.backward(); a.grad
array([2., 4.], dtype=float32)
"""

from __future__ import annotations

from typing import Any

from genai_notes.autograd import ops as _ops
from genai_notes.autograd import shape_ops as _shape_ops
from genai_notes.autograd.tensor import Tensor

__all__: list[str] = []


class _TensorOperators:
    """The methods attached to ``Tensor`` (a plain class, never instantiated)."""

    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __neg__(self) -> Tensor:
        return _ops.mul(self, -1.0)

    def __pow__(self, exponent: float) -> Tensor:
        return _ops.power(self, exponent)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __getitem__(self, index: Any) -> Tensor:
        return _shape_ops.getitem(self, index)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis, keepdims)

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def gelu(self) -> Tensor:
        return _ops.gelu(self)

    def reshape(self, *shape: Any) -> Tensor:
        return _shape_ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Tensor:
        return _shape_ops.transpose(self, axes[0] if len(axes) == 1 else (axes or None))

    @property
    def T(self) -> Tensor:  # noqa: N802 (NumPy's name)
        return _shape_ops.transpose(self, None)

    def masked_fill(self, mask: Any, value: float) -> Tensor:
        return _shape_ops.masked_fill(self, mask, value)


# Attributes every class has, which are not operators.
_CLASS_ATTRIBUTES = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"}
_CLASS_ATTRIBUTES |= {"__firstlineno__", "__static_attributes__"}  # Python 3.13

for _name, _member in vars(_TensorOperators).items():
    if _name not in _CLASS_ATTRIBUTES:
        setattr(Tensor, _name, _member)
