"""Recurrent sequence models on the autograd engine: the tanh RNN, the LSTM and the GRU, a
small Transformer encoder with the same interface, and a classifier head for any of the four.

Every model is batch first. ``forward(x, state=None)`` takes ``x: (batch, seq, d_in)`` and
returns ``(outputs, state)``: every hidden state ``outputs: (batch, seq, d_hidden)`` and the
final state (``h: (batch, d_hidden)``; for the LSTM the pair ``(h, c)``). The recurrent
models unroll a Python loop over the time steps, calling ``step`` once per position, and
backpropagation through time is the engine's own ``backward`` running over that loop.

Conventions (row vectors, as everywhere in the book: ``x_t: (batch, d_in)``,
``h: (batch, d_hidden)``, ``σ`` the logistic sigmoid, ``⊙`` the element-wise product):

* **RNN** (Elman's tanh cell): ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``.
* **LSTM** (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000), gates in
  the order input, forget, candidate, output along the columns of ``w_x: (d_in, 4 d_hidden)``,
  ``w_h: (d_hidden, 4 d_hidden)`` and ``bias: (4 d_hidden,)``::

      i = σ(x_t W_xi + h W_hi + b_i)      f = σ(x_t W_xf + h W_hf + b_f)
      g = tanh(x_t W_xg + h W_hg + b_g)   o = σ(x_t W_xo + h W_ho + b_o)
      c_t = f ⊙ c_{t-1} + i ⊙ g           h_t = o ⊙ tanh(c_t)

* **GRU** (Cho et al. 2014), gates update ``z`` and reset ``r``::

      z = σ(x_t W_xz + h W_hz + b_z)      r = σ(x_t W_xr + h W_hr + b_r)
      n = tanh(x_t W_xn + (r ⊙ h) W_hn + b_n)
      h_t = z ⊙ h + (1 − z) ⊙ n

  The reset gate multiplies ``h`` *before* the product with ``W_hn``, as in the paper.
  PyTorch's ``nn.GRU`` applies it *after*, ``n = tanh(x_t W_in + b_in + r ⊙ (h W_hn + b_hn))``,
  which lets all three recurrent products be one matrix product; the two cells compute
  different functions. PyTorch also keeps two bias vectors per gate (``b_ih`` and ``b_hh``),
  so its RNN, LSTM and GRU have ``d_hidden`` more parameters per gate than ours
  (:func:`parameter_count` with ``pytorch=True``).

Initialisation: input weights from ``N(0, 1/d_in)``; each gate's recurrent block is
``recurrent_scale`` times a random orthogonal matrix, so every singular value of it equals
``recurrent_scale``; biases 0, except the LSTM's forget gate, which starts at ``forget_bias``
(1.0) so that the cell keeps its state at first.

>>> rnn = RNN(3, 4, rng=0)
>>> outputs, h = rnn(Tensor(np.ones((2, 5, 3))))
>>> outputs.shape, h.shape
((2, 5, 4), (2, 4))
>>> parameter_count("lstm", 10, 20), parameter_count("lstm", 10, 20, pytorch=True)
(2480, 2560)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genai_notes._checks import check_positive_int, check_real, check_rng, check_str, describe
from genai_notes.autograd import Tensor, concatenate, no_grad, split, tanh
from genai_notes.autograd import functional as F
from genai_notes.nn import Block, Embedding, LayerNorm, Linear, Module, Parameter

__all__ = [
    "sigmoid",
    "RNN",
    "LSTM",
    "GRU",
    "TransformerEncoder",
    "SequenceClassifier",
    "parameter_count",
    "state_gradient_norms",
    "CELLS",
]

CELLS = ("rnn", "lstm", "gru")
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # weight blocks per cell


def sigmoid(x: Tensor) -> Tensor:
    """The logistic function ``σ(x) = 1 / (1 + e^{-x})``, written as ``(tanh(x/2) + 1) / 2``
    (the same function, and it cannot overflow). Any shape.

    >>> sigmoid(Tensor([0.0, 2.0])).data.round(4)
    array([0.5   , 0.8808], dtype=float32)
    """
    return 0.5 * tanh(0.5 * x) + 0.5


def parameter_count(cell: str, d_in: int, d_hidden: int, pytorch: bool = False) -> int:
    """The number of parameters of one layer of ``cell`` ("rnn", "lstm" or "gru"):
    ``gates · d_hidden · (d_in + d_hidden + 1)`` with 1, 4 and 3 gates; ``pytorch=True``
    counts PyTorch's two bias vectors per gate, ``gates · d_hidden · (d_in + d_hidden + 2)``.

    >>> parameter_count("rnn", 3, 4), parameter_count("gru", 3, 4)
    (32, 96)
    """
    cell = _check_cell(cell)
    d_in = check_positive_int(d_in, "d_in")
    d_hidden = check_positive_int(d_hidden, "d_hidden")
    return _GATES[cell] * d_hidden * (d_in + d_hidden + (2 if pytorch else 1))


def _check_cell(cell: Any) -> str:
    check_str(cell, "cell")
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {CELLS}, got {cell!r}")
    return cell


def _orthogonal(rng: np.random.Generator, d: int, scale: float) -> np.ndarray:
    """``scale`` times a random orthogonal ``(d, d)`` matrix (QR of a Gaussian, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return scale * q * np.sign(np.diag(r))


class _Recurrent(Module):
    """What the three cells share: parameters, argument checks and the time loop."""

    n_blocks = 1

    def __init__(self, d_in: int, d_hidden: int, *, rng: Any, recurrent_scale: float = 1.0) -> None:
        self.d_in = check_positive_int(d_in, "d_in")
        self.d_hidden = check_positive_int(d_hidden, "d_hidden")
        scale = check_real(recurrent_scale, "recurrent_scale", low=0.0)
        rng = check_rng(rng, "rng")
        n = self.n_blocks * d_hidden
        self.w_x = Parameter(rng.normal(0.0, d_in**-0.5, (d_in, n)))
        blocks = [_orthogonal(rng, d_hidden, scale) for _ in range(self.n_blocks)]
        self.w_h = Parameter(np.concatenate(blocks, axis=1))
        self.bias = Parameter(np.zeros(n))

    # -- checks ---------------------------------------------------------------------------

    def _input(self, x: Any) -> Tensor:
        if isinstance(x, np.ndarray):
            x = Tensor(x, dtype=self.w_x.dtype)
        if not isinstance(x, Tensor):
            raise TypeError(f"x: expected a Tensor (batch, seq, d_in), got {describe(x)}")
        if x.ndim != 3 or x.shape[2] != self.d_in or x.shape[1] < 1:
            raise ValueError(
                f"x: expected shape (batch, seq, d_in={self.d_in}) with seq >= 1, got {x.shape}"
            )
        return x

    def _hidden(self, h: Any, batch: int, name: str) -> Tensor:
        if isinstance(h, np.ndarray):
            h = Tensor(h, dtype=self.w_x.dtype)
        if not isinstance(h, Tensor):
            raise TypeError(f"{name}: expected a Tensor (batch, d_hidden), got {describe(h)}")
        if h.shape != (batch, self.d_hidden):
            raise ValueError(
                f"{name}: expected shape (batch={batch}, d_hidden={self.d_hidden}), got {h.shape}"
            )
        return h

    def initial_state(self, batch: int) -> Any:
        """The zero state for ``batch`` sequences: ``h`` (for the LSTM, ``(h, c)``)."""
        batch = check_positive_int(batch, "batch")
        return Tensor(np.zeros((batch, self.d_hidden)), dtype=self.w_x.dtype)

    def check_state(self, state: Any, batch: int) -> Any:
        """``state`` checked against ``batch``, or the zero state if it is None."""
        if state is None:
            return self.initial_state(batch)
        return self._hidden(state, batch, "state")

    @staticmethod
    def hidden(state: Any) -> Tensor:
        """The hidden state ``h`` held in ``state``."""
        return state

    # -- the time loop --------------------------------------------------------------------

    def step(self, x_t: Tensor, state: Any) -> Any:
        """One time step: ``x_t: (batch, d_in)`` and the state -> the next state."""
        raise NotImplementedError

    def forward(self, x: Any, state: Any = None) -> tuple[Tensor, Any]:
        """x: ``(batch, seq, d_in)``; state: the initial state or None (zeros).
        Returns ``(outputs (batch, seq, d_hidden), final state)``."""
        x = self._input(x)
        batch, seq, _ = x.shape
        state = self.check_state(state, batch)
        outputs = []
        for x_t in split(x, seq, axis=1):  # the time loop: one step per position
            state = self.step(x_t.reshape(batch, self.d_in), state)
            outputs.append(self.hidden(state).reshape(batch, 1, self.d_hidden))
        return concatenate(outputs, axis=1), state

    def gate_inputs(self, x_t: Tensor, h: Tensor) -> Tensor:
        """``x_t W_x + h W_h + b``: every gate's pre-activation, ``(batch, blocks · d_hidden)``."""
        return F.linear(x_t, self.w_x, self.bias) + h @ self.w_h


class RNN(_Recurrent):
    """The tanh RNN cell unrolled over time: ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``.

    ``w_x: (d_in, d_hidden)``, ``w_h: (d_hidden, d_hidden)``, ``bias: (d_hidden,)``.

    >>> RNN(2, 3, rng=0).num_parameters() == parameter_count("rnn", 2, 3)
    True
    """

    def step(self, x_t: Tensor, state: Tensor) -> Tensor:
        """``x_t: (batch, d_in)``, ``h: (batch, d_hidden)`` -> the next ``h``."""
        return tanh(self.gate_inputs(x_t, state))


class LSTM(_Recurrent):
    """The LSTM with a forget gate (equations in the module docstring). State ``(h, c)``.

    >>> lstm = LSTM(2, 3, rng=0)
    >>> _, (h, c) = lstm(Tensor(np.ones((1, 4, 2))))
    >>> h.shape, c.shape, lstm.num_parameters()
    ((1, 3), (1, 3), 72)
    """

    n_blocks = 4

    def __init__(
        self,
        d_in: int,
        d_hidden: int,
        *,
        rng: Any,
        recurrent_scale: float = 1.0,
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__(d_in, d_hidden, rng=rng, recurrent_scale=recurrent_scale)
        forget_bias = check_real(forget_bias, "forget_bias")
        self.bias.data[d_hidden : 2 * d_hidden] = forget_bias

    def initial_state(self, batch: int) -> tuple[Tensor, Tensor]:
        h = super().initial_state(batch)
        return h, Tensor(np.zeros(h.shape), dtype=h.dtype)

    def check_state(self, state: Any, batch: int) -> tuple[Tensor, Tensor]:
        if state is None:
            return self.initial_state(batch)
        if not isinstance(state, tuple | list) or len(state) != 2:
            raise TypeError(f"state: expected the pair (h, c), got {describe(state)}")
        return self._hidden(state[0], batch, "state[0] (h)"), self._hidden(
            state[1], batch, "state[1] (c)"
        )

    @staticmethod
    def hidden(state: tuple[Tensor, Tensor]) -> Tensor:
        return state[0]

    def gates(self, x_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """The input, forget, candidate and output gates ``(i, f, g, o)``, each
        ``(batch, d_hidden)``."""
        a, d = self.gate_inputs(x_t, h), self.d_hidden  # (batch, 4 d_hidden)
        s = sigmoid(a)  # one call for the three sigmoid gates (its g block goes unused)
        return s[:, :d], s[:, d : 2 * d], tanh(a[:, 2 * d : 3 * d]), s[:, 3 * d :]

    def step(self, x_t: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        """``x_t: (batch, d_in)``, ``(h, c)`` -> the next ``(h, c)``."""
        h, c = state
        i, f, g, o = self.gates(x_t, h)
        c = f * c + i * g  # the cell state: keep part of the old, write part of the new
        return o * tanh(c), c

    def gate_values(self, x: Any, state: Any = None) -> dict[str, np.ndarray]:
        """Run without a graph and return every gate and the cell state at every step:
        ``{"input", "forget", "candidate", "output", "cell", "hidden"}``, each
        ``(batch, seq, d_hidden)``."""
        x = self._input(x)
        batch, seq, _ = x.shape
        names = ("input", "forget", "candidate", "output", "cell", "hidden")
        trace: dict[str, list[np.ndarray]] = {name: [] for name in names}
        with no_grad():
            h, c = self.check_state(state, batch)
            for x_t in split(x, seq, axis=1):
                x_t = x_t.reshape(batch, self.d_in)
                i, f, g, o = self.gates(x_t, h)
                h, c = self.step(x_t, (h, c))
                for name, value in zip(names, (i, f, g, o, c, h)):
                    trace[name].append(value.data)
        return {name: np.stack(values, axis=1) for name, values in trace.items()}


class GRU(_Recurrent):
    """The GRU of Cho et al. 2014 (equations in the module docstring), reset gate before the
    recurrent product. ``w_x: (d_in, 3 d_hidden)`` holds the z, r and n columns,
    ``w_h: (d_hidden, 2 d_hidden)`` the z and r columns and ``w_hn: (d_hidden, d_hidden)``
    the candidate's.

    >>> GRU(2, 3, rng=0).num_parameters() == parameter_count("gru", 2, 3)
    True
    """

    n_blocks = 3

    def __init__(self, d_in: int, d_hidden: int, *, rng: Any, recurrent_scale: float = 1.0) -> None:
        super().__init__(d_in, d_hidden, rng=rng, recurrent_scale=recurrent_scale)
        d = self.d_hidden
        self.w_hn = Parameter(self.w_h.data[:, 2 * d :].copy())
        self.w_h = Parameter(self.w_h.data[:, : 2 * d].copy())

    def step(self, x_t: Tensor, state: Tensor) -> Tensor:
        """``x_t: (batch, d_in)``, ``h: (batch, d_hidden)`` -> the next ``h``."""
        h = state
        a, d = F.linear(x_t, self.w_x, self.bias), self.d_hidden  # (batch, 3 d_hidden)
        zr = sigmoid(a[:, : 2 * d] + h @ self.w_h)  # both gates, (batch, 2 d_hidden)
        z = zr[:, :d]  # update gate: how much of the old state to keep
        r = zr[:, d:]  # reset gate: how much of the old state the candidate sees
        n = tanh(a[:, 2 * d :] + (r * h) @ self.w_hn)  # the candidate, (batch, d_hidden)
        return z * h + (1.0 - z) * n


class TransformerEncoder(Module):
    """A small Transformer encoder with the recurrent models' interface: learned positions
    ``(max_seq, d_model)`` added to ``x: (batch, seq, d_model)``, ``n_layers`` pre-LN blocks
    without a causal mask (every position sees every other), and a final LayerNorm.
    ``forward(x, state=None)`` returns ``(outputs (batch, seq, d_model), None)``.

    >>> encoder = TransformerEncoder(8, n_heads=2, n_layers=1, max_seq=6, rng=0)
    >>> encoder(Tensor(np.ones((2, 5, 8))))[0].shape
    (2, 5, 8)
    """

    def __init__(
        self,
        d_model: int,
        *,
        n_heads: int,
        n_layers: int,
        max_seq: int,
        rng: Any,
        d_ff: int | None = None,
    ) -> None:
        self.d_in = self.d_hidden = check_positive_int(d_model, "d_model")
        self.max_seq = check_positive_int(max_seq, "max_seq")
        n_layers = check_positive_int(n_layers, "n_layers")
        rng = check_rng(rng, "rng")
        self.positions = Parameter(rng.normal(0.0, 0.02, (self.max_seq, d_model)))
        self.blocks = [
            Block(d_model, n_heads, d_ff, causal=False, rng=rng) for _ in range(n_layers)
        ]
        self.ln_f = LayerNorm(d_model)

    def forward(self, x: Any, state: Any = None) -> tuple[Tensor, None]:
        """x: ``(batch, seq, d_model)`` with ``seq <= max_seq``; state must be None."""
        if state is not None:
            raise ValueError("state: a Transformer encoder carries no state; pass None")
        if not isinstance(x, Tensor):
            raise TypeError(f"x: expected a Tensor (batch, seq, d_model), got {describe(x)}")
        if x.ndim != 3 or x.shape[2] != self.d_in or not 1 <= x.shape[1] <= self.max_seq:
            raise ValueError(
                f"x: expected shape (batch, seq <= {self.max_seq}, d_model={self.d_in}), "
                f"got {x.shape}"
            )
        x = x + self.positions[: x.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x), None


class SequenceClassifier(Module):
    """Token ids ``(batch, seq)`` -> class logits ``(batch, n_classes)``: an embedding table,
    any encoder above (RNN, LSTM, GRU or TransformerEncoder), and a linear head on the
    encoder's output at the **last** position.

    The embedding starts from ``N(0, 1)``, so the recurrent cells see inputs of unit scale.

    >>> model = SequenceClassifier(GRU(4, 6, rng=0), vocab_size=10, n_classes=3, rng=1)
    >>> model(np.zeros((2, 7), dtype=int)).shape
    (2, 3)
    """

    def __init__(self, encoder: Module, *, vocab_size: int, n_classes: int, rng: Any) -> None:
        if not isinstance(encoder, Module) or not hasattr(encoder, "d_hidden"):
            raise TypeError(
                f"encoder: expected an RNN, LSTM, GRU or TransformerEncoder, got "
                f"{describe(encoder)}"
            )
        rng = check_rng(rng, "rng")
        self.embed = Embedding(vocab_size, encoder.d_in, rng=rng, std=1.0)
        self.encoder = encoder
        self.head = Linear(encoder.d_hidden, check_positive_int(n_classes, "n_classes"), rng=rng)

    def forward(self, ids: Any) -> Tensor:
        """ids: integer ``(batch, seq)`` -> logits ``(batch, n_classes)``."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.dtype.kind not in "iu":
            raise ValueError(f"ids: expected integer token ids (batch, seq), got {describe(ids)}")
        outputs, _ = self.encoder(self.embed(ids))  # (batch, seq, d_hidden)
        return self.head(outputs[:, -1])  # (batch, n_classes)

    def loss(self, ids: Any, labels: Any) -> Tensor:
        """Mean cross-entropy of the logits against integer ``labels (batch,)``."""
        return F.cross_entropy(self(ids), labels)


def state_gradient_norms(model: _Recurrent, x: Any, state: Any = None, seed: int = 0) -> np.ndarray:
    """How far back the gradient reaches: ``‖∂L/∂h_t‖`` for every step ``t``, where
    ``L = Σ_batch r · h_T`` reads the last hidden state along a fixed random unit vector ``r``
    (from ``seed``). The norm is the root mean square over the batch of each sequence's
    ``‖∂L/∂h_t‖``, so it is exactly 1 at the last step.

    x: ``(batch, seq, d_in)``. Returns ``(seq,)``; entry ``t`` is at distance ``seq - 1 - t``
    from the end (reverse it to read the norms against distance). Backpropagation through
    time is the engine's ``backward``; each ``h_t`` keeps its gradient with ``retain_grad``.

    >>> rnn = RNN(2, 4, rng=0, recurrent_scale=0.5)
    >>> norms = state_gradient_norms(rnn, np.zeros((1, 6, 2)))
    >>> bool(norms[0] < norms[-1]), round(float(norms[-1]), 6)    # ‖r‖ = 1 at the end
    (True, 1.0)
    """
    if not isinstance(model, _Recurrent):
        raise TypeError(f"model: expected an RNN, LSTM or GRU, got {describe(model)}")
    x = model._input(x)
    batch, seq, _ = x.shape
    state = model.check_state(state, batch)
    hs = []
    for x_t in split(x, seq, axis=1):
        state = model.step(x_t.reshape(batch, model.d_in), state)
        hs.append(model.hidden(state).retain_grad())
    r = check_rng(seed, "seed").standard_normal(model.d_hidden)
    r /= np.linalg.norm(r)
    (hs[-1] * r).sum().backward()
    norms = [0.0 if h.grad is None else np.linalg.norm(h.grad.astype(np.float64)) for h in hs]
    return np.array(norms) / np.sqrt(batch)
