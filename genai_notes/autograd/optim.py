"""Optimisers (SGD with momentum, AdamW), gradient clipping and a learning-rate schedule.

Updates happen in place on ``param.data`` with preallocated buffers, so a step allocates
almost nothing. Python floats are used for every scalar so float32 parameters stay float32.

>>> w = Tensor([1.0], requires_grad=True)
>>> opt = SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step(); w.data      # 1 - 0.1 * 2
array([0.8], dtype=float32)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from genai_notes._checks import check_nonnegative_int, check_real
from genai_notes.autograd import _parallel
from genai_notes.autograd.tensor import Tensor

__all__ = ["Optimizer", "SGD", "AdamW", "clip_grad_norm", "warmup_cosine_lr"]


class Optimizer:
    """Holds the parameters and the learning rate ``lr`` (change it freely between steps)."""

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("params: expected at least one parameter, got none")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"params: item {i} is not a Tensor with requires_grad=True")
        self.lr = check_real(lr, "lr", low=0.0)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient before the next backward pass."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum:
    ``buf = momentum · buf + g``; ``p -= lr · buf``.

    >>> w = Tensor([1.0], requires_grad=True); opt = SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     w.grad = np.array([1.0], dtype=np.float32); opt.step()
    >>> w.data      # 1 - 0.5 * 1 - 0.5 * (0.9 + 1)
    array([-0.45], dtype=float32)
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = check_real(momentum, "momentum", low=0.0, high=1.0)
        self.buffers = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        """Apply one update using the current ``.grad`` of each parameter."""
        for p, buf in zip(self.params, self.buffers):
            if p.grad is None:
                continue
            if self.momentum:
                buf *= self.momentum
                buf += p.grad
                p.data -= self.lr * buf
            else:
                p.data -= self.lr * p.grad


def _is_matrix(p: Tensor) -> bool:
    return p.ndim >= 2


class AdamW(Optimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's formulation.

    For each parameter, at step ``t``::

        p ← p · (1 − lr · weight_decay)                      (only if decay(p))
        m ← β₁ m + (1 − β₁) g;      v ← β₂ v + (1 − β₂) g²
        p ← p − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)

    ``decay`` picks which parameters are decayed; the default decays every parameter with
    ``ndim >= 2``: the weight matrices **and the embedding tables** (as nanoGPT does), but
    not biases or LayerNorm gains, whose decay toward 0 would fight their role.

    Fast path: when all parameters share one dtype, their values, ``m`` and ``v`` live in
    three flat buffers (each ``param.data``, ``m[i]`` and ``v[i]`` is a view into one), the
    decayed parameters first. A step then copies the gradients into a flat buffer and does a
    dozen ufunc calls on cache-sized blocks of it, shared out over the engine's thread pool,
    instead of a dozen calls per parameter. It computes exactly what the per-parameter loop
    computes (the same operations on every element). If ``param.data`` is replaced (e.g. by
    ``load_state_dict``), the new values are copied into the buffer at the next step.
    """

    _BLOCK = 1 << 16  # elements per block of the flat update (five arrays stay in L2 cache)

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        decay: Callable[[Tensor], bool] = _is_matrix,
    ) -> None:
        super().__init__(params, lr)
        if len(betas) != 2:
            raise ValueError(f"betas: expected two numbers, got {betas!r}")
        self.beta1 = check_real(betas[0], "betas[0]", low=0.0, high=1.0)
        self.beta2 = check_real(betas[1], "betas[1]", low=0.0, high=1.0)
        self.eps = check_real(eps, "eps", low=0.0, low_inclusive=False)
        self.weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
        self.decayed = [bool(decay(p)) for p in self.params]
        self.t = 0
        self._flat = len({p.data.dtype for p in self.params}) == 1 and len(
            {id(p) for p in self.params}
        ) == len(self.params)
        if not self._flat:
            self.m = [np.zeros_like(p.data) for p in self.params]
            self.v = [np.zeros_like(p.data) for p in self.params]
            self._scratch = [np.empty_like(p.data) for p in self.params]
            return
        # Decayed parameters first, so that the decay is one slice of the flat buffer.
        order = sorted(range(len(self.params)), key=lambda i: not self.decayed[i])
        dtype = self.params[0].data.dtype
        total = sum(p.data.size for p in self.params)
        self._p, self._g = np.empty(total, dtype), np.empty(total, dtype)
        self._m, self._v = np.zeros(total, dtype), np.zeros(total, dtype)
        self._tmp = np.empty(total, dtype)
        self._slices: list[slice] = [slice(0, 0)] * len(self.params)
        start = 0
        for i in order:
            size = self.params[i].data.size
            self._slices[i] = slice(start, start + size)
            start += size
        self._n_decayed = sum(self.params[i].data.size for i in order if self.decayed[i])
        shapes = [p.data.shape for p in self.params]
        self.m = [self._m[s].reshape(shape) for s, shape in zip(self._slices, shapes)]
        self.v = [self._v[s].reshape(shape) for s, shape in zip(self._slices, shapes)]
        self._views = [self._p[s].reshape(shape) for s, shape in zip(self._slices, shapes)]
        for p, view in zip(self.params, self._views):
            view[...] = p.data
            p.data = view
        self._bounds = list(range(0, total, self._BLOCK)) + [total]

    def step(self) -> None:
        """Apply one AdamW update using the current ``.grad`` of each parameter."""
        self.t += 1
        if self._flat and self._flat_ready():
            for p, s in zip(self.params, self._slices):
                self._g[s] = p.grad.reshape(-1)
            _parallel.run(self._flat_block, len(self._bounds) - 1)
            return
        for i, p in enumerate(self.params):
            if p.grad is not None:
                self._update(p.data, p.grad, self.m[i], self.v[i], self.decayed[i])

    def _flat_ready(self) -> bool:
        """True if every parameter has a gradient and its values are in the flat buffer
        (values replaced since the last step are copied back in)."""
        for p, view in zip(self.params, self._views):
            if p.grad is None or p.grad.shape != view.shape:
                return False
            if p.data is not view:
                if p.data.shape != view.shape or p.data.dtype != view.dtype:
                    return False
                view[...] = p.data
                p.data = view
        return True

    def _flat_block(self, j: int) -> None:
        lo, hi = self._bounds[j], self._bounds[j + 1]
        n_dec = min(max(self._n_decayed - lo, 0), hi - lo)  # decayed elements in the block
        self._update(
            self._p[lo:hi], self._g[lo:hi], self._m[lo:hi], self._v[lo:hi], n_dec, self._tmp[lo:hi]
        )

    def _update(
        self,
        p: np.ndarray,
        g: np.ndarray,
        m: np.ndarray,
        v: np.ndarray,
        decayed: bool | int,
        tmp: np.ndarray | None = None,
    ) -> None:
        """The AdamW update of one parameter or one block, in place; ``decayed``: True/False,
        or the number of leading elements to decay."""
        b1, b2, lr = self.beta1, self.beta2, self.lr
        step_size = lr / (1.0 - b1**self.t)
        inv_sqrt_bc2 = 1.0 / math.sqrt(1.0 - b2**self.t)
        tmp = np.empty_like(p) if tmp is None else tmp
        if self.weight_decay and decayed:
            shrink = 1.0 - lr * self.weight_decay
            if decayed is True:
                p *= shrink
            else:
                p[:decayed] *= shrink
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp *= inv_sqrt_bc2
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        p -= tmp


@_parallel.single_blas_thread
def clip_grad_norm(params: Iterable[Tensor], max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns the norm *before* clipping (useful to log). Parameters without a gradient are
    skipped.

    >>> a = Tensor([0.0], requires_grad=True); a.grad = np.array([3.0], dtype=np.float32)
    >>> b = Tensor([0.0], requires_grad=True); b.grad = np.array([4.0], dtype=np.float32)
    >>> clip_grad_norm([a, b], 1.0), a.grad, b.grad
    (5.0, array([0.6], dtype=float32), array([0.8], dtype=float32))
    """
    max_norm = check_real(max_norm, "max_norm", low=0.0, low_inclusive=False)
    grads = [p.grad for p in params if p.grad is not None]
    total = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))
    if total > max_norm:
        scale = max_norm / total
        for g in grads:
            g *= scale
    return total


def warmup_cosine_lr(
    step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0
) -> float:
    """Learning rate at ``step`` (counting from 0): linear warm-up, then cosine decay.

    * ``step < warmup_steps``: ``max_lr · (step + 1) / warmup_steps`` (reaches ``max_lr``
      on the last warm-up step);
    * ``warmup_steps <= step <= total_steps``: with ``r = (step - warmup) / (total - warmup)``,
      ``min_lr + ½ (max_lr − min_lr) (1 + cos(π r))``: ``max_lr`` at r = 0, the mean of the
      two at r = ½, ``min_lr`` at r = 1;
    * later steps: ``min_lr``.

    >>> [round(warmup_cosine_lr(s, 1.0, 2, 6), 3) for s in range(8)]
    [0.5, 1.0, 1.0, 0.854, 0.5, 0.146, 0.0, 0.0]
    """
    step = check_nonnegative_int(step, "step")
    warmup_steps = check_nonnegative_int(warmup_steps, "warmup_steps")
    total_steps = check_nonnegative_int(total_steps, "total_steps")
    max_lr = check_real(max_lr, "max_lr", low=0.0)
    min_lr = check_real(min_lr, "min_lr", low=0.0, high=max_lr)
    if total_steps <= warmup_steps:
        raise ValueError(
            f"total_steps: expected more than warmup_steps={warmup_steps}, got {total_steps}"
        )
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    ratio = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * ratio))
