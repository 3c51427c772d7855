"""Transformer building blocks shared by the GPT (chapter 8), the encoder-decoder
(chapter 7) and BERT (chapter 10).

* :class:`MultiHeadAttention` does self-attention (``forward(x)``) or cross-attention
  (``forward(x, memory=encoder_output)``); ``causal=True`` hides future positions
  (decoders), ``causal=False`` lets every token see every other (encoders, BERT).
* :class:`Block` is a **pre-LayerNorm** block: ``x + Attn(LN(x))``, optionally
  ``+ CrossAttn(LN(x), memory)``, then ``+ FFN(LN(x))``. Normalising the input of each
  branch (rather than the sum, as the 2017 paper did) keeps the residual path an identity,
  which makes deep stacks train without a careful warm-up.

>>> block = Block(d_model=8, n_heads=2, causal=True, rng=0)
>>> block(Tensor(np.ones((2, 5, 8)))).shape
(2, 5, 8)
"""

from __future__ import annotations

from typing import Any

import numpy as np  # noqa: F401 (used by the doctests)

from genai_notes._checks import check_positive_int, check_probability, check_rng
from genai_notes.autograd import functional as F
from genai_notes.autograd import fused
from genai_notes.autograd.nn import Dropout, LayerNorm, Linear, Module
from genai_notes.autograd.tensor import Tensor

__all__ = ["FeedForward", "MultiHeadAttention", "Block"]


def _project_out(layer: Linear, x: Tensor, residual: Tensor | None) -> Tensor:
    """``layer(x)``, plus ``residual`` if given (added in place in the product's output)."""
    if residual is None:
        return layer(x)
    return fused.linear_residual(x, layer.weight, layer.bias, residual)


class FeedForward(Module):
    """Position-wise MLP: ``Linear(d_model, d_ff) -> GELU -> Linear(d_ff, d_model)``.

    ``std``/``out_std`` set the initial weight scales (None: ``1/√d_in``).

    >>> FeedForward(4, 16, rng=0)(Tensor(np.ones((1, 2, 4)))).shape
    (1, 2, 4)
    """

    def __init__(
        self,
        d_model: int,
        d_ff: int,
        *,
        rng: Any,
        std: float | None = None,
        out_std: float | None = None,
    ) -> None:
        rng = check_rng(rng, "rng")
        self.fc_in = Linear(d_model, d_ff, rng=rng, std=std)
        self.fc_out = Linear(d_ff, d_model, rng=rng, std=out_std)

    def forward(
        self, x: Tensor, norm: LayerNorm | None = None, residual: Tensor | None = None
    ) -> Tensor:
        """x: ``(batch, seq, d_model)`` -> same shape (hidden ``(batch, seq, d_ff)``).

        norm: a LayerNorm to apply to ``x`` first, fused into the first layer; residual: a
        tensor to add to the output, fused into the last layer."""
        w, b = self.fc_in.weight, self.fc_in.bias
        if norm is None:
            hidden = fused.linear_gelu(x, w, b)  # gelu(fc_in(x))
        else:
            hidden = fused.layer_norm_linear(x, norm.weight, norm.bias, w, b, norm.eps, gelu=True)
        return _project_out(self.fc_out, hidden, residual)


class MultiHeadAttention(Module):
    """Multi-head attention with learned projections.

    ``in_proj`` holds the query, key and value projections side by side, ``(d_model,
    3 * d_model)``: for self-attention one product gives all three; for cross-attention the
    query columns are applied to ``x`` and the key/value columns to ``memory``. ``out_proj``
    mixes the concatenated heads.

    >>> mha = MultiHeadAttention(8, 2, rng=0)
    >>> x, memory = Tensor(np.ones((1, 3, 8))), Tensor(np.ones((1, 5, 8)))
    >>> mha(x).shape, mha(x, memory=memory).shape
    ((1, 3, 8), (1, 3, 8))
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        *,
        causal: bool = False,
        rng: Any,
        std: float | None = None,
        out_std: float | None = None,
    ) -> None:
        self.d_model = check_positive_int(d_model, "d_model")
        self.n_heads = check_positive_int(n_heads, "n_heads")
        if d_model % self.n_heads:
            raise ValueError(
                f"n_heads: d_model={d_model} must be divisible by n_heads={self.n_heads}"
            )
        self.causal = bool(causal)
        rng = check_rng(rng, "rng")
        self.in_proj = Linear(d_model, 3 * d_model, rng=rng, std=std)
        self.out_proj = Linear(d_model, d_model, rng=rng, std=out_std)

    def forward(
        self,
        x: Tensor,
        memory: Tensor | None = None,
        mask: Any = None,
        norm: LayerNorm | None = None,
        residual: Tensor | None = None,
    ) -> Tensor:
        """x: ``(batch, n_q, d_model)``; memory: ``(batch, n_k, d_model)`` or None (then
        ``memory = x``); mask: bool broadcastable to ``(batch, n_q, n_k)``, True = allowed;
        norm: a LayerNorm applied to ``x`` first (fused into the projection); residual: a
        tensor added to the output (fused into ``out_proj``).
        Returns ``(batch, n_q, d_model)``."""
        w, b, d = self.in_proj.weight, self.in_proj.bias, self.d_model
        if memory is None:
            q, kv = self._project(x, w, b, norm), None  # packed (batch, seq, 3 * d_model)
        else:
            q = self._project(x, w[:, :d], b[:d], norm)  # (batch, n_q, d_model)
            kv = F.linear(memory, w[:, d:], b[d:])  # (batch, n_k, 2 * d_model)
        heads = fused.multi_head_attention(q, kv, self.n_heads, mask=mask, causal=self.causal)
        return _project_out(self.out_proj, heads, residual)

    @staticmethod
    def _project(x: Tensor, w: Tensor, b: Tensor, norm: LayerNorm | None) -> Tensor:
        if norm is None:
            return F.linear(x, w, b)
        return fused.layer_norm_linear(x, norm.weight, norm.bias, w, b, norm.eps)


class Block(Module):
    """A pre-LayerNorm transformer block (see the module docstring).

    d_ff defaults to ``4 * d_model``; ``cross_attention=True`` adds a cross-attention
    sub-layer (decoder of an encoder-decoder); ``dropout`` applies to each branch's output.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int | None = None,
        *,
        dropout: float = 0.0,
        causal: bool = False,
        cross_attention: bool = False,
        rng: Any,
        std: float | None = None,
        out_std: float | None = None,
    ) -> None:
        d_model = check_positive_int(d_model, "d_model")
        d_ff = 4 * d_model if d_ff is None else check_positive_int(d_ff, "d_ff")
        dropout = check_probability(dropout, "dropout")
        rng = check_rng(rng, "rng")
        init = {"rng": rng, "std": std, "out_std": out_std}
        self.ln_attn = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, causal=causal, **init)
        self.drop_attn = Dropout(dropout, rng=rng.spawn(1)[0])
        if cross_attention:
            self.ln_cross = LayerNorm(d_model)
            self.cross = MultiHeadAttention(d_model, n_heads, causal=False, **init)
            self.drop_cross = Dropout(dropout, rng=rng.spawn(1)[0])
        else:
            self.cross = None
        self.ln_ffn = LayerNorm(d_model)
        self.ffn = FeedForward(d_model, d_ff, **init)
        self.drop_ffn = Dropout(dropout, rng=rng.spawn(1)[0])

    def forward(
        self,
        x: Tensor,
        mask: Any = None,
        memory: Tensor | None = None,
        memory_mask: Any = None,
    ) -> Tensor:
        """x: ``(batch, seq, d_model)`` -> same shape.

        mask: for self-attention, broadcastable to ``(batch, seq, seq)``; memory:
        ``(batch, n_mem, d_model)`` encoder output, required iff the block has
        cross-attention; memory_mask: broadcastable to ``(batch, seq, n_mem)``.
        """
        # Each LayerNorm is fused into the projection that follows it, and when no dropout
        # is active each residual sum into the projection that precedes it: the same maths
        # as x + attn(ln(x)), with fewer passes over the activations.
        if self._dropout_active():
            x = x + self.drop_attn(self.attn(x, mask=mask, norm=self.ln_attn))
        else:
            x = self.attn(x, mask=mask, norm=self.ln_attn, residual=x)
        if self.cross is not None:
            if memory is None:
                raise ValueError(
                    "memory: this block has cross-attention and needs the "
                    "encoder output (batch, n_mem, d_model), got None"
                )
            cross = self.cross(x, memory=memory, mask=memory_mask, norm=self.ln_cross)
            x = x + self.drop_cross(cross)
        elif memory is not None:
            raise ValueError(
                "memory: this block has no cross-attention; build it with cross_attention=True"
            )
        if self._dropout_active():
            return x + self.drop_ffn(self.ffn(x, norm=self.ln_ffn))
        return self.ffn(x, norm=self.ln_ffn, residual=x)

    def _dropout_active(self) -> bool:
        return self.drop_ffn.training and self.drop_ffn.p > 0.0
