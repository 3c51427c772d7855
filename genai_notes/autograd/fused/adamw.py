"""AdamW's update over flat buffers, for speed.

The teaching version is :class:`genai_notes.nn.optim.AdamW` with ``fused=False``: a loop over
the parameters, the update written as the paper writes it. A model has dozens of small
parameters, and a dozen NumPy calls per parameter cost more than the arithmetic. Here every
parameter's values, first moments ``m`` and second moments ``v`` live in three flat buffers
(each ``param.data``, ``m[i]`` and ``v[i]`` is a view into one), the decayed parameters first.
A step copies the gradients into one flat buffer and runs a dozen in-place ufunc calls on
cache-sized blocks of it, shared out over the engine's thread pool. The same operations run
on every element, so the result equals the loop's (``tests/test_optim.py`` checks it).

>>> from genai_notes.autograd import Tensor
>>> w = Tensor(np.ones((2, 2)), requires_grad=True); b = Tensor(np.ones(2), requires_grad=True)
>>> flat = FlatAdamW([w, b], decayed=[True, False])
>>> w.data.base is flat.values, flat.m[0].shape
(True, (2, 2))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from genai_notes.autograd import _parallel
from genai_notes.autograd.tensor import Tensor

__all__ = ["FlatAdamW", "adamw_update"]


def adamw_update(
    p: np.ndarray,
    g: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    n_decayed: int,
    tmp: np.ndarray,
    *,
    lr: float,
    t: int,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
) -> None:
    """One AdamW update of a flat block in place: ``p``, ``m``, ``v``, ``g`` and the scratch
    ``tmp`` are 1-D arrays of one size; the first ``n_decayed`` elements are decayed.

    ``p -= lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)``: the bias corrections are folded
    into two scalars, which saves two passes over the block.
    """
    b1, b2 = betas
    step_size = lr / (1.0 - b1**t)
    inv_sqrt_bc2 = 1.0 / math.sqrt(1.0 - b2**t)
    if weight_decay and n_decayed:
        p[:n_decayed] *= 1.0 - lr * weight_decay
    m *= b1
    np.multiply(g, 1.0 - b1, out=tmp)
    m += tmp
    v *= b2
    np.multiply(g, g, out=tmp)
    tmp *= 1.0 - b2
    v += tmp
    np.sqrt(v, out=tmp)
    tmp *= inv_sqrt_bc2
    tmp += eps
    np.divide(m, tmp, out=tmp)
    tmp *= step_size
    p -= tmp


class FlatAdamW:
    """The flat buffers of AdamW's values and moments, and the blocked update over them.

    params: the parameters (one dtype, no repeats; see :meth:`supports`); decayed: one bool
    per parameter. After construction each ``param.data`` is a view into :attr:`values`.
    """

    BLOCK = 1 << 16  # elements per block of the update (five arrays stay in L2 cache)

    @staticmethod
    def supports(params: Sequence[Tensor]) -> bool:
        """True if the parameters share one dtype and none appears twice."""
        return len({p.data.dtype for p in params}) == 1 and len({id(p) for p in params}) == len(
            params
        )

    def __init__(self, params: Sequence[Tensor], decayed: Sequence[bool]) -> None:
        if not self.supports(params):
            raise ValueError("params: expected parameters of one dtype, each listed once")
        self.params = list(params)
        # Decayed parameters first, so that the decay is one slice of the flat buffer.
        order = sorted(range(len(params)), key=lambda i: not decayed[i])
        dtype, total = params[0].data.dtype, sum(p.data.size for p in params)
        self.values, self.grads = np.empty(total, dtype), np.empty(total, dtype)
        self.m_flat, self.v_flat = np.zeros(total, dtype), np.zeros(total, dtype)
        self._tmp = np.empty(total, dtype)
        self.slices: list[slice] = [slice(0, 0)] * len(params)
        start = 0
        for i in order:
            self.slices[i] = slice(start, start + params[i].data.size)
            start += params[i].data.size
        self.n_decayed = sum(params[i].data.size for i in order if decayed[i])
        shapes = [p.data.shape for p in params]
        self.m = [self.m_flat[s].reshape(shape) for s, shape in zip(self.slices, shapes)]
        self.v = [self.v_flat[s].reshape(shape) for s, shape in zip(self.slices, shapes)]
        self._views = [self.values[s].reshape(shape) for s, shape in zip(self.slices, shapes)]
        for p, view in zip(self.params, self._views):
            view[...] = p.data
            p.data = view
        self._bounds = list(range(0, total, self.BLOCK)) + [total]

    def ready(self) -> bool:
        """True if every parameter has a gradient of its shape and its values are in the
        flat buffer (values replaced since the last step, e.g. by ``load_state_dict``, are
        copied back in)."""
        for p, view in zip(self.params, self._views):
            if p.grad is None or p.grad.shape != view.shape:
                return False
            if p.data is not view:
                if p.data.shape != view.shape or p.data.dtype != view.dtype:
                    return False
                view[...] = p.data
                p.data = view
        return True

    def step(self, **hyper: float) -> None:
        """One update of every parameter; ``hyper`` holds :func:`adamw_update`'s keywords
        (lr, t, betas, eps, weight_decay). Call only when :meth:`ready`."""
        for p, s in zip(self.params, self.slices):
            self.grads[s] = p.grad.reshape(-1)

        def block(j: int) -> None:
            lo, hi = self._bounds[j], self._bounds[j + 1]
            n_dec = min(max(self.n_decayed - lo, 0), hi - lo)  # decayed elements in the block
            part = slice(lo, hi)
            adamw_update(
                self.values[part],
                self.grads[part],
                self.m_flat[part],
                self.v_flat[part],
                n_dec,
                self._tmp[part],
                **hyper,
            )

        _parallel.run(block, len(self._bounds) - 1)
