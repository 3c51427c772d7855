"""Modules: objects that own parameters. ``Module`` finds every :class:`Parameter` in its
attributes (and in sub-modules, lists and tuples of them) in the order they were assigned.

State is saved as ``.npz`` (NumPy arrays only, loaded with ``allow_pickle=False``), with
parameter names as keys, e.g. ``"blocks.0.attn.q_proj.weight"``.

>>> layer = Linear(3, 2, rng=0)
>>> [(name, p.shape) for name, p in layer.named_parameters()]
[('weight', (3, 2)), ('bias', (2,))]
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from genai_notes._checks import check_positive_int, check_probability, check_real, check_rng
from genai_notes.autograd import functional as F
from genai_notes.autograd.shape_ops import dropout, embedding
from genai_notes.autograd.tensor import Tensor

__all__ = ["Parameter", "Module", "Linear", "Embedding", "LayerNorm", "Dropout"]


class Parameter(Tensor):
    """A leaf tensor that a :class:`Module` registers and an optimiser updates."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)


class Module:
    """Base class: parameter discovery, train/eval mode, state dicts and .npz files."""

    training: bool = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def _children(self) -> Iterator[tuple[str, Any]]:
        for name, value in vars(self).items():
            if isinstance(value, Parameter | Module):
                yield name, value
            elif isinstance(value, list | tuple):
                for i, item in enumerate(value):
                    if isinstance(item, Parameter | Module):
                        yield f"{name}.{i}", item

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs, sub-modules included, each parameter once."""
        seen: set[int] = set()
        for name, param in self._named_parameters(prefix):
            if id(param) not in seen:  # a tied weight appears under its first name only
                seen.add(id(param))
                yield name, param

    def _named_parameters(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name, child in self._children():
            if isinstance(child, Parameter):
                yield prefix + name, child
            else:
                yield from child._named_parameters(f"{prefix}{name}.")

    def parameters(self) -> list[Parameter]:
        """Every parameter, in a stable order (the order optimisers see them)."""
        return [p for _, p in self.named_parameters()]

    def modules(self) -> Iterator[Module]:
        """This module and all its sub-modules."""
        yield self
        for _, child in self._children():
            if isinstance(child, Module):
                yield from child.modules()

    def train(self, mode: bool = True) -> Module:
        """Switch dropout on (``mode=True``) or off, in this module and all sub-modules."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Same as ``train(False)``: deterministic forward passes for evaluation."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's accumulated gradient."""
        for p in self.parameters():
            p.grad = None

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return sum(p.size for p in self.parameters())

    def astype(self, dtype: Any) -> Module:
        """Convert every parameter to ``dtype`` in place (float64 for gradient checks)."""
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        return self

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, keyed by dotted name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy values from ``state`` into the parameters (dtype kept, shapes must match).

        Raises ``KeyError`` naming every missing or unexpected key and ``ValueError`` naming
        every key whose shape differs, before changing anything.
        """
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise KeyError(
                f"state: missing keys {missing}, unexpected keys {unexpected} "
                f"for {type(self).__name__}"
            )
        wrong = [
            f"{name}: expected {params[name].shape}, got {np.shape(state[name])}"
            for name in params
            if np.shape(state[name]) != params[name].shape
        ]
        if wrong:
            raise ValueError("state: shape mismatch for " + "; ".join(wrong))
        for name, p in params.items():
            p.data = np.array(state[name], dtype=p.data.dtype)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state dict to an ``.npz`` file."""
        np.savez(path, **self.state_dict())

    def load(self, path: str | os.PathLike[str]) -> None:
        """Read an ``.npz`` written by :meth:`save` (no pickle allowed) into this module."""
        with np.load(path, allow_pickle=False) as archive:
            self.load_state_dict({name: archive[name] for name in archive.files})


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
        std = d_in**-0.5 if std is None else check_real(std, "std", low=0.0)
        self.weight = Parameter(check_rng(rng, "rng").normal(0.0, std, (d_in, d_out)))
        self.bias = Parameter(np.zeros(d_out)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        """x: ``(..., d_in)`` -> ``(..., d_out)``."""
        return F.linear(x, self.weight, self.bias)


class Embedding(Module):
    """A ``(vocab, d_model)`` table of learned vectors; ``forward(ids)`` looks rows up.

    Initialised from ``N(0, 0.02²)`` by default (the GPT-2 choice).

    >>> Embedding(10, 4, rng=0)(np.array([[1, 2, 3]])).shape
    (1, 3, 4)
    """

    def __init__(self, vocab: int, d_model: int, *, rng: Any, std: float = 0.02) -> None:
        vocab = check_positive_int(vocab, "vocab")
        d_model = check_positive_int(d_model, "d_model")
        std = check_real(std, "std", low=0.0)
        self.weight = Parameter(check_rng(rng, "rng").normal(0.0, std, (vocab, d_model)))

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
        d_model = check_positive_int(d_model, "d_model")
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
        return dropout(x, self.p, self.rng, training=self.training)
