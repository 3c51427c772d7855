"""A small training loop: forward, backward, clip, step, with a loss history and periodic
validation.

Before its first step, :func:`train` turns on the engine's speed settings
(:func:`genai_notes.autograd.enable_speedups`: a thread pool and memory reuse, both
process-wide); ``speedups=False`` leaves the process as it is. The numbers do not depend on
them.

>>> from genai_notes.nn import Linear, AdamW
>>> model = Linear(2, 3, rng=0)            # logits for 3 classes from 2 features
>>> batch = lambda split: (Tensor(np.eye(2)), np.array([0, 2]))
>>> hist = train(model, batch, steps=50, optimizer=AdamW(model.parameters(), lr=0.1),
...              progress=False, speedups=False)
>>> hist.train_loss[-1] < 0.1 * hist.train_loss[0]
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from genai_notes._checks import check_nonnegative_int, check_positive_int, check_real, describe
from genai_notes.autograd import Tensor, enable_speedups, no_grad
from genai_notes.autograd.functional import cross_entropy
from genai_notes.nn.module import Module
from genai_notes.nn.optim import Optimizer, clip_grad_norm

__all__ = ["History", "train", "evaluate"]

Batch = tuple[Any, Any]


@dataclass
class History:
    """What :func:`train` records: one entry per step, and one per evaluation."""

    train_loss: list[float] = field(default_factory=list)  # training loss at every step
    lr: list[float] = field(default_factory=list)  # learning rate used at every step
    grad_norm: list[float] = field(default_factory=list)  # gradient norm before clipping
    val_steps: list[int] = field(default_factory=list)  # steps after which we validated
    val_loss: list[float] = field(default_factory=list)  # mean validation loss there


def _default_loss(model: Module, inputs: Any, targets: Any) -> Tensor:
    """``model.loss(inputs, targets)`` if the model defines one (the GPT does), else the
    cross-entropy of ``model(inputs)`` against the targets."""
    loss = getattr(model, "loss", None)
    if callable(loss):
        return loss(inputs, targets)
    return cross_entropy(model(inputs), targets)


def evaluate(
    model: Module,
    get_batch: Callable[[str], Batch],
    n_batches: int = 10,
    split: str = "val",
    loss_fn: Callable[[Module, Any, Any], Tensor] = _default_loss,
) -> float:
    """Mean loss over ``n_batches`` batches of ``split``, in eval mode and without a graph."""
    n_batches = check_positive_int(n_batches, "n_batches")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            losses = [loss_fn(model, *get_batch(split)).item() for _ in range(n_batches)]
    finally:
        model.train(was_training)
    return float(np.mean(losses))


def train(
    model: Module,
    get_batch: Callable[[str], Batch],
    steps: int,
    optimizer: Optimizer,
    *,
    lr_schedule: Callable[[int], float] | None = None,
    clip_norm: float | None = 1.0,
    eval_every: int = 0,
    eval_batches: int = 10,
    loss_fn: Callable[[Module, Any, Any], Tensor] = _default_loss,
    progress: bool = True,
    speedups: bool = True,
) -> History:
    """Train ``model`` for ``steps`` optimiser steps and return the :class:`History`.

    get_batch(split) returns ``(inputs, targets)`` for ``split`` in ``{"train", "val"}``
    (for a GPT: token ids ``(batch, seq)`` and the next ids ``(batch, seq)``).
    lr_schedule(step) sets ``optimizer.lr`` before each step; clip_norm caps the global
    gradient norm (None: no clipping); every ``eval_every`` steps (0: never) the mean loss
    of ``eval_batches`` validation batches is recorded. ``progress=False`` hides the tqdm
    bar (deterministic notebook output). ``speedups`` (see the module docstring) turns on
    the engine's thread pool and memory reuse first.
    """
    steps = check_positive_int(steps, "steps")
    eval_every = check_nonnegative_int(eval_every, "eval_every")
    if clip_norm is not None:
        clip_norm = check_real(clip_norm, "clip_norm", low=0.0, low_inclusive=False)
    if not isinstance(model, Module):
        raise TypeError(f"model: expected a genai_notes.nn.Module, got {describe(model)}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"optimizer: expected a genai_notes.nn Optimizer, got {describe(optimizer)}"
        )
    if speedups:
        enable_speedups()
    history = History()
    model.train()
    bar = tqdm(range(steps), disable=not progress, desc="training")
    for step in bar:
        if lr_schedule is not None:
            optimizer.lr = check_real(lr_schedule(step), f"lr_schedule({step})", low=0.0)
        inputs, targets = get_batch("train")
        loss = loss_fn(model, inputs, targets)
        optimizer.zero_grad()
        loss.backward()
        norm = clip_grad_norm(optimizer.params, clip_norm) if clip_norm else float("nan")
        optimizer.step()
        history.train_loss.append(loss.item())
        history.lr.append(optimizer.lr)
        history.grad_norm.append(norm)
        if eval_every and ((step + 1) % eval_every == 0 or step + 1 == steps):
            history.val_steps.append(step + 1)
            history.val_loss.append(evaluate(model, get_batch, eval_batches, "val", loss_fn))
            bar.set_postfix(loss=f"{history.train_loss[-1]:.3f}", val=f"{history.val_loss[-1]:.3f}")
        elif progress and step % 10 == 0:
            bar.set_postfix(loss=f"{history.train_loss[-1]:.3f}")
    bar.close()
    return history
