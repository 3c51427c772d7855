"""Optimisers (SGD with momentum, AdamW), gradient clipping and a learning-rate schedule.

Updates happen in place on ``param.data``. Python floats are used for every scalar so
float32 parameters stay float32. A frozen parameter (``requires_grad=False``, see
:meth:`genai_notes.nn.Module.freeze`) is skipped: not updated, not decayed, not counted in
the gradient norm, whatever its ``.grad`` holds.

>>> w = Tensor([1.0], requires_grad=True)
>>> opt = SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step(); w.data      # 1 - 0.1 * 2
array([0.8], dtype=float32)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from genai_notes._checks import check_nonnegative_int, check_real, describe
from genai_notes.autograd import Tensor
from genai_notes.autograd.fused.adamw import FlatAdamW
from genai_notes.nn.module import Parameter

__all__ = ["Optimizer", "SGD", "AdamW", "clip_grad_norm", "warmup_cosine_lr"]


class Optimizer:
    """Holds the parameters and the learning rate ``lr`` (change it freely between steps).

    Frozen :class:`~genai_notes.nn.Parameter` objects may be among them: each step skips
    every parameter whose ``requires_grad`` is False at that moment. At least one must be
    trainable at the start.
    """

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("params: expected at least one parameter, got none")
        for i, p in enumerate(self.params):
            # A constant Tensor is a mistake; a Parameter with requires_grad=False is frozen.
            if not isinstance(p, Tensor) or not (p.requires_grad or isinstance(p, Parameter)):
                raise TypeError(
                    f"params: item {i} is not a Tensor with requires_grad=True "
                    f"(nor a frozen Parameter), got {describe(p)}"
                )
            if not p.is_leaf:
                raise TypeError(f"params: item {i} is computed by an op, not a leaf tensor")
        if not any(p.requires_grad for p in self.params):
            raise ValueError(
                f"params: all {len(self.params)} parameters are frozen (requires_grad=False); "
                "unfreeze some, or there is nothing to train"
            )
        self.lr = check_real(lr, "lr", low=0.0)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient before the next backward pass."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    def gradient(self, i: int) -> np.ndarray | None:
        """Parameter ``i``'s gradient, checked: None (frozen, or no gradient yet), or a float
        array of the parameter's shape."""
        p = self.params[i]
        g = p.grad
        if g is None or not p.requires_grad:
            return None
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f" or g.shape != p.shape:
            raise ValueError(
                f"params: item {i} of shape {p.shape} has a gradient that is not a float "
                f"array of that shape: {describe(g)}"
            )
        return g


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
        for i, (p, buf) in enumerate(zip(self.params, self.buffers)):
            g = self.gradient(i)
            if g is None:
                continue
            if self.momentum:
                buf *= self.momentum
                buf += g
                p.data -= self.lr * buf
            else:
                p.data -= self.lr * g


def _is_matrix(p: Tensor) -> bool:
    return p.ndim >= 2


class AdamW(Optimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's formulation.

    For each parameter, at step ``t``::

        p ← p · (1 − lr · weight_decay)                      (only if decay(p))
        m ← β₁ m + (1 − β₁) g;      v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ);          v̂ = v / (1 − β₂ᵗ)
        p ← p − lr · m̂ / (√v̂ + eps)

    ``decay`` picks which parameters are decayed; the default decays every parameter with
    ``ndim >= 2``: the weight matrices **and the embedding tables** (as nanoGPT does), but
    not biases or LayerNorm gains, whose decay toward 0 would fight their role.

    ``fused=True`` runs the same update over flat buffers of all the parameters
    (:class:`genai_notes.autograd.fused.adamw.FlatAdamW`), which is much faster for a model
    of many small parameters; each ``param.data`` then becomes a view into one buffer.

    **Frozen parameters** get no moments (``m[i]`` and ``v[i]`` are None until the
    parameter is unfrozen) and no update, not even the weight decay. The flat buffers hold
    only the parameters trainable when the optimiser is made; if the set changes later, the
    step falls back to the loop (same numbers, slower), so freeze before making it. A
    parameter unfrozen later starts with zero moments, bias-corrected with the optimiser's
    step count ``t``.

    >>> w = Tensor([1.0], requires_grad=True); opt = AdamW([w], lr=0.1, weight_decay=0.0)
    >>> w.grad = np.array([5.0], dtype=np.float32); opt.step()
    >>> w.data      # the first step moves by lr, whatever the gradient's size
    array([0.9], dtype=float32)
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        decay: Callable[[Tensor], bool] = _is_matrix,
        fused: bool = False,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, tuple | list):
            raise TypeError(f"betas: expected a pair (beta1, beta2), got {describe(betas)}")
        if len(betas) != 2:
            raise ValueError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
        # β = 1 would make the bias correction 1 − βᵗ zero.
        self.beta1 = check_real(betas[0], "betas[0]", low=0.0, high=1.0, high_inclusive=False)
        self.beta2 = check_real(betas[1], "betas[1]", low=0.0, high=1.0, high_inclusive=False)
        self.eps = check_real(eps, "eps", low=0.0, low_inclusive=False)
        self.weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
        self.decayed = [bool(decay(p)) for p in self.params]
        self.t = 0
        self._flat = None
        self._flat_ids: list[int] = []  # the parameters the flat buffers hold
        trainable = [i for i, p in enumerate(self.params) if p.requires_grad]
        self.m: list[np.ndarray | None] = [None] * len(self.params)
        self.v: list[np.ndarray | None] = [None] * len(self.params)
        chosen = [self.params[i] for i in trainable]
        if fused and FlatAdamW.supports(chosen):
            self._flat = FlatAdamW(chosen, [self.decayed[i] for i in trainable])
            self._flat_ids = trainable
            for i, m, v in zip(trainable, self._flat.m, self._flat.v):
                self.m[i], self.v[i] = m, v
        else:
            for i in trainable:
                self.m[i] = np.zeros_like(self.params[i].data)
                self.v[i] = np.zeros_like(self.params[i].data)

    def step(self) -> None:
        """Apply one AdamW update using the current ``.grad`` of each parameter."""
        self.t += 1
        lr, b1, b2 = self.lr, self.beta1, self.beta2
        trainable = [i for i, p in enumerate(self.params) if p.requires_grad]
        if self._flat is not None and trainable == self._flat_ids and self._flat.ready():
            self._flat.step(
                lr=lr, t=self.t, betas=(b1, b2), eps=self.eps, weight_decay=self.weight_decay
            )
            return
        for i in trainable:
            g = self.gradient(i)
            if g is None:
                continue
            if self.m[i] is None:  # unfrozen since the optimiser was made
                self.m[i], self.v[i] = np.zeros_like(g), np.zeros_like(g)
            p, m, v, decayed = self.params[i], self.m[i], self.v[i], self.decayed[i]
            if decayed and self.weight_decay:
                p.data *= 1.0 - lr * self.weight_decay
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            v += (1.0 - b2) * g * g
            m_hat = m / (1.0 - b1**self.t)
            v_hat = v / (1.0 - b2**self.t)
            p.data -= lr * m_hat / (np.sqrt(v_hat) + self.eps)


def clip_grad_norm(params: Iterable[Tensor], max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most ``max_norm``.

    Returns the norm *before* clipping (useful to log). Parameters without a gradient, and
    frozen ones (``requires_grad=False``), are skipped.

    >>> a = Tensor([0.0], requires_grad=True); a.grad = np.array([3.0], dtype=np.float32)
    >>> b = Tensor([0.0], requires_grad=True); b.grad = np.array([4.0], dtype=np.float32)
    >>> clip_grad_norm([a, b], 1.0), a.grad, b.grad
    (5.0, array([0.6], dtype=float32), array([0.8], dtype=float32))
    """
    max_norm = check_real(max_norm, "max_norm", low=0.0, low_inclusive=False)
    grads = []
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"params: item {i} is not a Tensor, got {describe(p)}")
        if p.grad is None or not p.requires_grad:
            continue
        if not isinstance(p.grad, np.ndarray) or p.grad.dtype.kind != "f":
            raise TypeError(f"params: item {i} has a gradient that is not a float array")
        grads.append(p.grad)
    total = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))
    if not math.isfinite(total):
        # Scaling an inf by max_norm / inf = 0 would give NaN: say so instead.
        raise ValueError(f"params: the gradient norm is {total}; some gradient is not finite")
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
