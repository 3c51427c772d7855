"""The ``Tensor``: an array that remembers how it was computed, and reverse-mode autodiff.

Every operation on tensors that need gradients records a *node*: its parent tensors and a
``backward`` rule that maps the gradient of the output to gradients of the parents. Calling
:meth:`Tensor.backward` visits the nodes in reverse topological order and applies the
rules (the chain rule, once per node).

Gradient semantics (as in PyTorch):

* gradients **accumulate** into ``.grad`` of leaf tensors (those created by the user, such
  as parameters): calling ``backward`` twice adds the gradients twice; call
  :meth:`Tensor.zero_grad` (or an optimiser's ``zero_grad``) between steps;
* intermediate tensors do not keep their gradient unless :meth:`Tensor.retain_grad` was
  called on them;
* unlike PyTorch, the graph is kept after ``backward``, so a second call needs no
  ``retain_graph`` flag; the graph is freed when the output tensor is garbage-collected;
* inside ``with no_grad():`` no graph is recorded (inference, optimiser updates).

Python's operators on tensors (``a + b``, ``a @ b``, ``x[i]``, ``x.sum()``, ...) are the ops
of :mod:`~genai_notes.autograd.ops` and :mod:`~genai_notes.autograd.shape_ops`; they are
attached to the class in :mod:`~genai_notes.autograd.operators`, so this file, which every op
imports, imports no op itself.

>>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
array([2., 4., 6.], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from genai_notes._checks import describe

__all__ = ["Tensor", "no_grad", "is_grad_enabled", "as_tensor", "unbroadcast", "expect_tensor"]

BackwardFn = Callable[[np.ndarray], tuple[Any, ...]]
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class _GradMode:
    enabled = True


@contextmanager
def no_grad() -> Iterator[None]:
    """Context manager that stops recording the graph (for inference and updates).

    >>> w = Tensor([2.0], requires_grad=True)
    >>> with no_grad():
    ...     y = w * 3.0
    >>> y.requires_grad
    False
    """
    previous = _GradMode.enabled
    _GradMode.enabled = False
    try:
        yield
    finally:
        _GradMode.enabled = previous


def is_grad_enabled() -> bool:
    """True unless inside a :func:`no_grad` block."""
    return _GradMode.enabled


def _as_float_array(data: Any, dtype: Any, name: str) -> np.ndarray:
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"dtype: expected float32 or float64, got {dtype}")
    if isinstance(data, Tensor):
        data = data.data
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name}: expected an array-like of numbers, got {describe(data)}") from exc
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected an array-like of numbers, got {describe(data)}")
    with np.errstate(over="ignore"):
        array = array.astype(dtype, copy=False)
    # NaN or inf in a tensor the user makes would only come back later as a NaN loss.
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(
            f"{name}: expected finite values, got NaN or inf (or a value too large for {dtype})"
        )
    return array


class Tensor:
    """A float32 (default) or float64 array with an optional gradient.

    data: the values, an ``np.ndarray`` of any shape. grad: the accumulated gradient of the
    last ``backward`` calls (same shape as ``data``) or None. requires_grad: whether
    operations on this tensor are recorded for differentiation.

    >>> t = Tensor([[1, 2]], requires_grad=True)
    >>> t.shape, t.dtype, t.requires_grad
    ((1, 2), dtype('float32'), True)
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_op", "_retain")
    # Makes ``ndarray * Tensor`` call Tensor.__rmul__ instead of NumPy broadcasting over us.
    __array_priority__ = 100.0

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = _as_float_array(data, dtype, "data")
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._backward: BackwardFn | None = None
        self._op = ""
        self._retain = False

    @classmethod
    def _node(
        cls, data: np.ndarray, parents: tuple[Tensor, ...], backward: BackwardFn, op: str
    ) -> Tensor:
        """The output of an operation: records ``parents`` and ``backward`` only if needed."""
        out = cls.__new__(cls)
        out.data = data
        out.grad = None
        out._op = op
        out._retain = False
        if _GradMode.enabled and any(p.requires_grad for p in parents):
            out.requires_grad = True
            out._parents = parents
            out._backward = backward
        else:
            out.requires_grad = False
            out._parents = ()
            out._backward = None
        return out

    # -- basic properties --------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by an operation."""
        return self._backward is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        op = f", op={self._op}" if self._backward is not None else ""
        return f"Tensor({np.array2string(self.data, precision=4)}{grad}{op})"

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item: expected a tensor with one element, got shape {self.shape}")
        return float(self.data.reshape(()))

    def detach(self) -> Tensor:
        """A new leaf tensor sharing ``data`` and cut off from the graph."""
        return Tensor(self.data, dtype=self.data.dtype)

    def retain_grad(self) -> Tensor:
        """Keep this intermediate tensor's ``.grad`` after backward (for inspection)."""
        self._retain = True
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``.grad`` to None)."""
        self.grad = None

    # -- reverse-mode differentiation --------------------------------------------------
    def _topological_order(self) -> list[Tensor]:
        """Nodes that lead to ``self``, parents before children (iterative DFS).

        An explicit stack instead of recursion: a graph thousands of nodes deep (a long RNN
        unrolled in time) would otherwise hit Python's recursion limit.
        """
        order: list[Tensor] = []
        visited: set[int] = set()
        stack: list[tuple[Tensor, bool]] = [(self, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for parent in node._parents:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
        return order

    def backward(self, grad: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``grad`` is the gradient of some final scalar with respect to ``self``; it may be
        omitted only when ``self`` holds a single element (then it is 1).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad (no input had requires_grad=True,"
                " or it was computed under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad must be given for a non-scalar tensor of shape "
                    f"{self.shape}; reduce it to a scalar first (e.g. .sum() or .mean())"
                )
            seed = np.ones_like(self.data)
        else:
            seed = _as_float_array(grad, self.data.dtype, "grad")
            if seed.shape != self.shape:
                raise ValueError(f"grad: expected shape {self.shape}, got {seed.shape}")
        pending: dict[int, np.ndarray] = {id(self): seed}  # gradients still to propagate
        for node in reversed(self._topological_order()):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            if node._backward is None or node._retain:
                node._accumulate(g)
            if node._backward is None:
                continue
            for parent, parent_grad in zip(node._parents, node._backward(g)):
                if parent_grad is None or not parent.requires_grad:
                    continue
                if parent_grad.shape != parent.data.shape:  # a bug in a backward rule
                    raise RuntimeError(
                        f"backward of {node._op!r} returned a gradient of shape "
                        f"{parent_grad.shape} for an input of shape {parent.data.shape}"
                    )
                key = id(parent)
                if key in pending:
                    # Not in place: backward rules may hand the same array to two parents.
                    pending[key] = pending[key] + parent_grad
                else:
                    pending[key] = parent_grad

    def _accumulate(self, g: np.ndarray) -> None:
        if self.grad is None:
            # A private copy: g may be a view shared with other tensors' gradients.
            self.grad = np.array(g, dtype=self.data.dtype, copy=True)
        else:
            self.grad += g


def expect_tensor(value: Any, name: str) -> Tensor:
    """Return ``value`` if it is a Tensor; otherwise raise a TypeError naming the argument
    (an op given a list or an array would otherwise fail deep inside with AttributeError).

    >>> expect_tensor([1.0], "x")
    Traceback (most recent call last):
    ...
    TypeError: x: expected a Tensor (wrap arrays as Tensor(x)), got [1.0]
    """
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{name}: expected a Tensor (wrap arrays as Tensor(x)), got {describe(value)}"
        )
    return value


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` if it is a Tensor, else a constant (no-grad) Tensor of ``like``'s dtype."""
    if isinstance(value, Tensor):
        return value
    return Tensor(value, dtype=None if like is None else like.dtype)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` back to ``shape`` over the axes that broadcasting stretched.

    If ``a`` of shape ``(3,)`` was added to ``b`` of shape ``(2, 3)``, each entry of ``a``
    was used twice, so its gradient is the sum of the two rows of the output gradient.

    >>> unbroadcast(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    >>> unbroadcast(np.ones((2, 3)), (2, 1))
    array([[3.],
           [3.]])
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead:
        grad = grad.sum(axis=tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad
