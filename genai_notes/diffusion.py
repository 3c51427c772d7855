"""A tiny denoising diffusion model (DDPM, Ho et al., 2020) for low-dimensional data.

**Forward process.** A noise schedule ``β_1, ..., β_T`` in (0, 1) adds a little Gaussian noise
at each step: ``x_t = √(1 − β_t) x_{t−1} + √β_t ε_t``. With ``α_t = 1 − β_t`` and
``ᾱ_t = α_1 ⋯ α_t``, the steps compose in closed form:

.. math::  q(x_t \\mid x_0) = \\mathcal{N}\\big(\\sqrt{ᾱ_t}\\, x_0,\\; (1 − ᾱ_t) I\\big),

so ``x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε`` in one draw. When ``ᾱ_T ≈ 0``, ``x_T`` is close to
``N(0, I)`` whatever the data.

**Training.** A network ``ε_θ(x_t, t)`` learns to predict the noise ``ε`` that made ``x_t``
from ``x_0``: the loss is ``E ‖ε − ε_θ(x_t, t)‖²`` over data, ``t`` uniform in ``1..T`` and
``ε ~ N(0, I)`` (Ho et al.'s simplified loss). Here ``ε_θ`` is an MLP that reads ``x_t`` and
a sinusoidal embedding of ``t``, added into every hidden layer.

**Ancestral sampling.** Start from ``x_T ~ N(0, I)`` and for ``t = T, ..., 1`` draw

.. math::  x_{t−1} = \\frac{1}{\\sqrt{α_t}} \\Big(x_t − \\frac{β_t}{\\sqrt{1 − ᾱ_t}}\\,
           ε_θ(x_t, t)\\Big) + σ_t z, \\qquad z \\sim \\mathcal{N}(0, I),

with ``σ_t² = β_t`` (one of Ho et al.'s two choices) and no noise at the last step.

Arrays of the schedule are indexed by ``t = 0..T``: entry 0 is the data itself (``β_0 = 0``,
``ᾱ_0 = 1``).

>>> s = NoiseSchedule.linear(10, 1e-3, 0.2)
>>> s.n_steps, s.alpha_bar.shape, float(s.alpha_bar[0])
(10, (11,), 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genai_notes._checks import (
    check_array,
    check_positive_int,
    check_real,
    check_rng,
    check_shape,
    describe,
)
from genai_notes.autograd import Tensor, no_grad, relu
from genai_notes.nn import AdamW, Linear, Module

__all__ = [
    "NoiseSchedule",
    "q_sample",
    "noise_step_by_step",
    "time_embedding",
    "NoisePredictor",
    "ddpm_loss",
    "DiffusionHistory",
    "train_ddpm",
    "ancestral_sample",
]


@dataclass(frozen=True)
class NoiseSchedule:
    """``β_t`` for ``t = 0..T`` (``β_0 = 0``), with ``α_t = 1 − β_t`` and ``ᾱ_t = Π_{s≤t} α_s``.

    >>> s = NoiseSchedule(np.array([0.0, 0.5, 0.5]))
    >>> s.alpha_bar.tolist()
    [1.0, 0.5, 0.25]
    """

    betas: np.ndarray  # (T + 1,): 0, then β_1 .. β_T, each in (0, 1)

    def __post_init__(self) -> None:
        b = check_array(self.betas, "betas", ndim=1, dtype_kind="fiu").astype(np.float64)
        if b.shape[0] < 2 or b[0] != 0.0 or b[1:].min() <= 0.0 or b[1:].max() >= 1.0:
            raise ValueError(
                f"betas: expected 0 followed by at least one value in (0, 1), got {describe(b)}"
            )
        b.setflags(write=False)
        object.__setattr__(self, "betas", b)

    @classmethod
    def linear(
        cls, n_steps: int, beta_start: float = 1e-4, beta_end: float = 0.02
    ) -> NoiseSchedule:
        """``β_t`` evenly spaced from ``beta_start`` (t = 1) to ``beta_end`` (t = T = n_steps).

        Ho et al. used ``T = 1000`` from 1e-4 to 0.02; a shorter chain needs larger steps.
        """
        n = check_positive_int(n_steps, "n_steps")
        lo = check_real(beta_start, "beta_start", low=0.0, high=1.0, low_inclusive=False,
                        high_inclusive=False)  # fmt: skip
        hi = check_real(beta_end, "beta_end", low=lo, high=1.0, high_inclusive=False)
        return cls(np.concatenate([[0.0], np.linspace(lo, hi, n)]))

    @property
    def n_steps(self) -> int:
        """T, the number of noising steps."""
        return self.betas.shape[0] - 1

    @property
    def alphas(self) -> np.ndarray:
        """``α_t = 1 − β_t``, (T + 1,)."""
        return 1.0 - self.betas

    @property
    def alpha_bar(self) -> np.ndarray:
        """``ᾱ_t = α_1 ⋯ α_t``, (T + 1,), with ``ᾱ_0 = 1``; it falls from 1 towards 0."""
        return np.cumprod(self.alphas)


def _check_schedule(schedule: Any) -> NoiseSchedule:
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule: expected a NoiseSchedule, got {describe(schedule)}")
    return schedule


def _check_times(t: Any, n: int, schedule: NoiseSchedule, low: int = 0) -> np.ndarray:
    times = np.broadcast_to(check_array(t, "t", ndim=(0, 1), dtype_kind="iu"), (n,))
    if times.size and (times.min() < low or times.max() > schedule.n_steps):
        raise ValueError(
            f"t: expected steps in [{low}, {schedule.n_steps}], got {describe(np.asarray(t))}"
        )
    return times.astype(np.int64)


def q_sample(x0: Any, t: Any, eps: Any, schedule: NoiseSchedule) -> np.ndarray:
    """``x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε``: a draw from ``q(x_t | x_0)`` in one step.

    x0, eps: ``(n, d)``; t: one step or ``(n,)`` steps in ``0..T``. Returns ``(n, d)``.

    >>> s = NoiseSchedule(np.array([0.0, 0.75]))        # ᾱ_1 = 0.25
    >>> q_sample(np.array([[2.0]]), 1, np.array([[1.0]]), s)   # 0.5 · 2 + √0.75 · 1
    array([[1.8660254]])
    """
    schedule = _check_schedule(schedule)
    x = check_array(x0, "x0", ndim=2, dtype_kind="fiu").astype(np.float64)
    e = check_shape(check_array(eps, "eps", dtype_kind="fiu"), "eps", x.shape)
    ab = schedule.alpha_bar[_check_times(t, x.shape[0], schedule)][:, None]  # (n, 1)
    return np.sqrt(ab) * x + np.sqrt(1.0 - ab) * e


def noise_step_by_step(x0: Any, schedule: NoiseSchedule, seed: Any = 0) -> np.ndarray:
    """Run the forward chain one step at a time: ``x_t = √α_t x_{t−1} + √β_t ε_t``.

    x0: ``(n, d)``. Returns every state, ``(T + 1, n, d)`` with entry 0 equal to ``x0``. Its
    entry ``t`` has the distribution :func:`q_sample` draws from directly.
    """
    schedule = _check_schedule(schedule)
    x = check_array(x0, "x0", ndim=2, dtype_kind="fiu").astype(np.float64)
    rng = check_rng(seed)
    path = np.empty((schedule.n_steps + 1, *x.shape))
    path[0] = x
    for t in range(1, schedule.n_steps + 1):  # a loop over noising steps, each on all points
        noise = rng.standard_normal(x.shape)
        path[t] = math.sqrt(schedule.alphas[t]) * path[t - 1] + math.sqrt(schedule.betas[t]) * noise
    return path


def time_embedding(t: Any, d_embed: int, max_period: float = 1000.0) -> np.ndarray:
    """Sinusoidal features of the step: ``[sin(t ω_k), cos(t ω_k)]`` with
    ``ω_k = max_period^(−k / (d/2))`` for ``k = 0..d/2 − 1`` (as Chapter 4's positions).

    t: ``(n,)`` integer steps; d_embed even. Returns ``(n, d_embed)`` float64.

    >>> time_embedding(np.array([0]), 4).tolist()
    [[0.0, 0.0, 1.0, 1.0]]
    """
    times = check_array(t, "t", ndim=1, dtype_kind="iu").astype(np.float64)
    d = check_positive_int(d_embed, "d_embed")
    if d % 2:
        raise ValueError(f"d_embed: expected an even number, got {d}")
    period = check_real(max_period, "max_period", low=1.0)
    freqs = period ** (-np.arange(d // 2) / (d // 2))  # (d/2,)
    angles = times[:, None] * freqs[None, :]  # (n, d/2)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


class NoisePredictor(Module):
    """``ε_θ(x_t, t)``: an MLP over ``x_t`` with the step's embedding added in every hidden
    layer, ``h_1 = relu(x W_1 + e(t) U_1 + b_1)``, ``h_k = relu(h_{k−1} W_k + e(t) U_k + b_k)``,
    output ``h W_out + b_out``.

    x: ``(batch, d_data)``; t: ``(batch,)`` steps. Returns ``(batch, d_data)``.

    >>> NoisePredictor(2, rng=0)(np.zeros((3, 2)), np.array([1, 5, 9])).shape
    (3, 2)
    """

    def __init__(
        self, d_data: int, d_hidden: int = 128, n_hidden: int = 3, d_time: int = 32, *,
        rng: Any
    ) -> None:  # fmt: skip
        self.d_data = check_positive_int(d_data, "d_data")
        d_hidden = check_positive_int(d_hidden, "d_hidden")
        n_hidden = check_positive_int(n_hidden, "n_hidden")
        self.d_time = check_positive_int(d_time, "d_time")
        if self.d_time % 2:
            raise ValueError(f"d_time: expected an even number, got {self.d_time}")
        g = check_rng(rng, "rng")
        sizes = [self.d_data] + [d_hidden] * n_hidden
        self.layers = [Linear(a, b, rng=g) for a, b in zip(sizes[:-1], sizes[1:])]
        self.time_layers = [Linear(self.d_time, d_hidden, bias=False, rng=g) for _ in sizes[1:]]
        self.out = Linear(d_hidden, self.d_data, rng=g)

    def forward(self, x: Any, t: Any) -> Tensor:
        dtype = self.out.weight.dtype
        h = (
            x
            if isinstance(x, Tensor)
            else Tensor(check_array(x, "x", dtype_kind="fiu"), dtype=dtype)
        )
        check_shape(h.data, "x", (None, self.d_data))
        times = check_shape(check_array(t, "t", ndim=1, dtype_kind="iu"), "t", (h.shape[0],))
        e = Tensor(time_embedding(times, self.d_time), dtype=dtype)  # (batch, d_time)
        for layer, time_layer in zip(self.layers, self.time_layers):
            h = relu(layer(h) + time_layer(e))
        return self.out(h)


def ddpm_loss(model: NoisePredictor, x0: Any, schedule: NoiseSchedule, rng: Any) -> Tensor:
    """``mean ‖ε − ε_θ(x_t, t)‖²`` (summed over coordinates, averaged over the batch), with
    ``t`` uniform in ``1..T``, ``ε ~ N(0, I)`` and ``x_t`` from :func:`q_sample`.

    x0: ``(batch, d_data)``. Returns a scalar Tensor.
    """
    schedule = _check_schedule(schedule)
    x = check_array(x0, "x0", ndim=2, dtype_kind="fiu").astype(np.float64)
    g = check_rng(rng, "rng")
    t = g.integers(1, schedule.n_steps + 1, size=x.shape[0])  # (batch,)
    eps = g.standard_normal(x.shape)
    x_t = q_sample(x, t, eps, schedule)
    diff = model(x_t, t) - eps.astype(model.out.weight.dtype)
    return (diff * diff).sum(axis=-1).mean()


@dataclass
class DiffusionHistory:
    """The loss of :func:`train_ddpm` at every step."""

    loss: list[float] = field(default_factory=list)


def train_ddpm(
    model: NoisePredictor,
    data: Any,
    schedule: NoiseSchedule,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> DiffusionHistory:
    """Minimise :func:`ddpm_loss` with AdamW on random mini-batches of ``data`` (n, d_data)."""
    if not isinstance(model, NoisePredictor):
        raise TypeError(f"model: expected a NoisePredictor, got {describe(model)}")
    x = check_shape(check_array(data, "data", ndim=2, dtype_kind="fiu"), "data",
                    (None, model.d_data))  # fmt: skip
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    rng = check_rng(seed)
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    history = DiffusionHistory()
    for _ in range(steps):
        loss = ddpm_loss(model, x[rng.integers(len(x), size=batch_size)], schedule, rng)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.loss.append(loss.item())
    return history


def ancestral_sample(
    model: NoisePredictor,
    schedule: NoiseSchedule,
    n: int,
    seed: Any = 0,
    return_path: bool = False,
) -> np.ndarray:
    """Draw ``n`` samples by running the reverse chain from ``x_T ~ N(0, I)`` down to ``x_0``.

    Returns ``(n, d_data)``, or with ``return_path`` every state ``(T + 1, n, d_data)``,
    indexed by ``t`` (entry ``T`` is the starting noise, entry 0 the samples).
    """
    schedule = _check_schedule(schedule)
    n = check_positive_int(n, "n")
    rng = check_rng(seed)
    T = schedule.n_steps
    x = rng.standard_normal((n, model.d_data))
    path = np.empty((T + 1, n, model.d_data)) if return_path else None
    if path is not None:
        path[T] = x
    b, a, ab = schedule.betas, schedule.alphas, schedule.alpha_bar
    for t in range(T, 0, -1):  # a loop over denoising steps, each on all samples at once
        with no_grad():
            eps_hat = model(x, np.full(n, t)).data.astype(np.float64)
        mean = (x - b[t] / math.sqrt(1.0 - ab[t]) * eps_hat) / math.sqrt(a[t])
        x = mean + math.sqrt(b[t]) * rng.standard_normal(x.shape) if t > 1 else mean
        if path is not None:
            path[t - 1] = x
    return path if return_path else x
