"""Modules: objects that own parameters. ``Module`` finds every :class:`Parameter` in its
attributes (and in sub-modules, lists and tuples of them) in the order they were assigned.

**Freezing.** A parameter with ``requires_grad=False`` is *frozen*: the engine records no
gradient for it (its ``.grad`` stays None) and the optimisers skip it, so it keeps its value
bit for bit. :meth:`Module.freeze` and :meth:`Module.unfreeze` set the flag on every
parameter of a module; ``parameters(trainable_only=True)`` lists the others (Chapter 11).

State is saved as ``.npz`` (NumPy arrays only, loaded with ``allow_pickle=False``), with
parameter names as keys, e.g. ``"blocks.0.attn.in_proj.weight"``.

>>> class Scale(Module):
...     def __init__(self):
...         self.gain = Parameter(np.ones(2))
...     def forward(self, x):
...         return x * self.gain
>>> [(name, p.shape) for name, p in Scale().named_parameters()]
[('gain', (2,))]
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from genai_notes._checks import describe
from genai_notes.autograd import Tensor
from genai_notes.nn.checkpoint import CheckpointError, read_npz, write_npz

__all__ = ["Parameter", "Module"]


class Parameter(Tensor):
    """A leaf tensor that a :class:`Module` registers and an optimiser updates
    (``requires_grad=False``: frozen, see the module docstring)."""

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

    def parameters(self, trainable_only: bool = False) -> list[Parameter]:
        """Every parameter, in a stable order (the order optimisers see them);
        ``trainable_only=True`` leaves out the frozen ones (``requires_grad=False``)."""
        if not isinstance(trainable_only, bool):
            raise TypeError(
                f"trainable_only: expected True or False, got {describe(trainable_only)}"
            )
        return [p for _, p in self.named_parameters() if p.requires_grad or not trainable_only]

    def modules(self) -> Iterator[Module]:
        """This module and all its sub-modules."""
        for _, module in self.named_modules():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module (name ``prefix``, ``""`` by default)
        and every sub-module, parents before children.

        >>> from genai_notes.nn import Block
        >>> [name for name, _ in Block(4, 2, rng=0).named_modules()][:4]
        ['', 'ln_attn', 'attn', 'attn.in_proj']
        """
        yield prefix, self
        for name, child in self._children():
            if isinstance(child, Module):
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def freeze(self) -> Module:
        """Freeze every parameter: ``requires_grad=False`` and ``.grad`` forgotten, so no
        gradient reaches them and no optimiser changes them. Returns ``self``.

        >>> from genai_notes.nn import Linear
        >>> layer = Linear(3, 2, rng=0).freeze()
        >>> layer.num_parameters(), layer.num_parameters(trainable_only=True)
        (8, 0)
        """
        for p in self.parameters():
            p.requires_grad = False
            p.grad = None
        return self

    def unfreeze(self) -> Module:
        """Make every parameter trainable again (``requires_grad=True``). Returns ``self``."""
        for p in self.parameters():
            p.requires_grad = True
        return self

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

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of scalar parameters (``trainable_only=True``: the unfrozen ones)."""
        return sum(p.size for p in self.parameters(trainable_only))

    def astype(self, dtype: Any) -> Module:
        """Convert every parameter to ``dtype`` in place (float64 for gradient checks)."""
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        return self

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, keyed by dotted name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy values from ``state`` into the parameters (dtype kept, shapes must match).

        Everything is checked before anything changes: ``KeyError`` names every missing or
        unexpected key; ``ValueError``/``TypeError`` name a key whose shape differs, whose
        values are not real numbers (complex, object, text, dates), or are not finite after
        conversion to the parameter's dtype (NaN, inf, or 1e300 into float32).
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state: expected a mapping of name -> array, got {describe(state)}")
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise KeyError(
                f"state: missing keys {missing}, unexpected keys {unexpected} "
                f"for {type(self).__name__}"
            )
        converted = {
            name: _checked_values(state[name], name, p.dtype) for name, p in params.items()
        }
        wrong = [
            f"{name}: expected {params[name].shape}, got {converted[name].shape}"
            for name in params
            if converted[name].shape != params[name].shape
        ]
        if wrong:
            raise ValueError("state: shape mismatch for " + "; ".join(wrong))
        for name, p in params.items():  # only now, when every entry has passed
            p.data = converted[name]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state dict to an ``.npz`` file."""
        write_npz(path, self.state_dict())

    def load(self, path: str | os.PathLike[str]) -> None:
        """Read an ``.npz`` written by :meth:`save` into this module. The file is checked
        (names, shapes and dtypes from its headers, no pickle) before anything is read, and
        any problem raises :class:`~genai_notes.nn.checkpoint.CheckpointError`."""
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"path: expected a file name, got {describe(path)}")
        expected = {name: p.shape for name, p in self.named_parameters()}
        try:
            self.load_state_dict(read_npz(path, expected))
        except (TypeError, ValueError) as exc:
            if isinstance(exc, CheckpointError):
                raise
            raise CheckpointError(f"{os.path.basename(os.fspath(path))}: {exc}") from None


def _checked_values(value: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """``value`` as a new array of ``dtype``, if it holds finite real numbers."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"state[{name!r}]: expected an array of numbers, got {describe(value)}"
        ) from None
    if array.dtype.kind not in "fiu":
        raise TypeError(f"state[{name!r}]: expected real numbers, got dtype {array.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        converted = array.astype(dtype)
    if not np.isfinite(converted).all():
        raise ValueError(
            f"state[{name!r}]: expected finite values in {dtype}, got NaN or inf "
            "(or a value too large for the dtype)"
        )
    return converted
