"""The layers every model in the book is built from: ``Linear``, ``Embedding``,
``LayerNorm`` and ``Dropout``. Each is a :class:`~genai_notes.nn.module.Module` whose
``forward`` calls one op of the engine.

>>> layer = Linear(3, 2, rng=0)
>>> [(name, p.shape) for name, p in layer.named_parameters()]
[('weight', (3, 2)), ('bias', (2,))]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genai_notes._checks import (
    check_positive_int,
    check_probability,
    check_real,
    check_rng,
    check_size,
)
from genai_notes.autograd import Tensor
from genai_notes.autograd import functional as F
from genai_notes.autograd.shape_ops import dropout, embedding
from genai_notes.nn.module import Module, Parameter

__all__ = ["Linear", "Embedding", "LayerNorm", "Dropout"]


class Linear(Module):
    """``y = x @ weight + bias`` with weight ``(d_in, d_out)`` and bias ``(d_out,)``.

    Weights are drawn from ``N(0, std²)`` with ``std = 1/√d_in`` unless given (this keeps
    the output variance near the input variance); the bias starts at 0.

    >>> Linear(4, 2, rng=0)(Tensor(np.ones((3, 4)))).shape
    (3, 2)
    """

    def __init__(
        self, d_in: int, d_out: int, bias: bool = True, *, rng: Any, std: float | None = None
    ) -> None:
        d_in = check_positive_int(d_in, "d_in")
        d_out = check_positive_int(d_out, "d_out")
        check_size((d_in, d_out), "d_in, d_out")
        std = d_in**-0.5 if std is None else check_real(std, "std", low=0.0)
        self.weight = Parameter(check_rng(rng, "rng").normal(0.0, std, (d_in, d_out)))
        self.bias = Parameter(np.zeros(d_out)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        """x: ``(..., d_in)`` -> ``(..., d_out)``."""
        return F.linear(x, self.weight, self.bias)


class Embedding(Module):
    """A ``(vocab_size, d_model)`` table of learned vectors; ``forward(ids)`` looks rows up.

    Initialised from ``N(0, 0.02²)`` by default (the GPT-2 choice).

    >>> Embedding(10, 4, rng=0)(np.array([[1, 2, 3]])).shape
    (1, 3, 4)
    """

    def __init__(self, vocab_size: int, d_model: int, *, rng: Any, std: float = 0.02) -> None:
        vocab_size = check_positive_int(vocab_size, "vocab_size")
        d_model = check_positive_int(d_model, "d_model")
        std = check_real(std, "std", low=0.0)
        shape = check_size((vocab_size, d_model), "vocab_size, d_model")
        self.weight = Parameter(check_rng(rng, "rng").normal(0.0, std, shape))

    def forward(self, ids: Any) -> Tensor:
        """ids: integer array of any shape -> ``(*ids.shape, d_model)``."""
        return embedding(self.weight, ids)


class LayerNorm(Module):
    """Layer normalisation over the last axis with a learned gain (1) and bias (0).

    >>> y = LayerNorm(3)(Tensor([[1.0, 2.0, 6.0]]))
    >>> round(float(y.data.mean()), 6), round(float(y.data.var()), 4)
    (0.0, 1.0)
    """

    def __init__(self, d_model: int, eps: float = 1e-5) -> None:
        d_model = check_size((check_positive_int(d_model, "d_model"),), "d_model")[0]
        self.eps = check_real(eps, "eps", low=0.0, low_inclusive=False)
        self.weight = Parameter(np.ones(d_model))
        self.bias = Parameter(np.zeros(d_model))

    def forward(self, x: Tensor) -> Tensor:
        """x: ``(..., d_model)`` -> same shape."""
        return F.layer_norm(x, self.weight, self.bias, self.eps)


class Dropout(Module):
    """Randomly zero activations with probability ``p`` in training mode (identity in eval).

    The module owns its random generator, seeded once, so a run is reproducible.

    >>> drop = Dropout(0.5, rng=0)
    >>> drop.eval()(Tensor(np.ones(3))).data
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, p: float, *, rng: Any) -> None:
        self.p = check_probability(p, "p")
        self.rng = check_rng(rng, "rng")

    def forward(self, x: Tensor) -> Tensor:
        """x: any shape -> the same shape. In training mode each entry is zeroed with
        probability ``p`` and the survivors are scaled by ``1 / (1 - p)``, so the expected
        value is unchanged; in eval mode ``x`` passes through."""
        return dropout(x, self.p, self.rng, training=self.training)
