"""Transformer building blocks shared by the GPT (Chapter 8), the encoder-decoder
(Chapter 7) and BERT (Chapter 10), written as plain compositions of the engine's ops.

* :class:`MultiHeadAttention` does self-attention (``forward(x)``) or cross-attention
  (``forward(x, memory=encoder_output)``): project to queries, keys and values, split the
  heads, attend, merge the heads, project out. ``causal=True`` hides future positions
  (decoders); ``causal=False`` lets every token see every other (encoders, BERT).
* :class:`FeedForward` is the position-wise MLP, ``Linear -> GELU -> Linear``.
* :class:`Block` is a **pre-LayerNorm** block: ``x + Attn(LN(x))``, optionally
  ``+ CrossAttn(LN(x), memory)``, then ``+ FFN(LN(x))``. Normalising the input of each
  branch (rather than the sum, as the 2017 paper did) keeps the residual path an identity,
  which makes deep stacks train without a careful warm-up. ``post_ln=True`` gives the 2017
  layout instead, ``x = LN(x + Attn(x))`` after every sub-layer (Chapter 7 compares them).

The same blocks run faster through the engine's fused nodes as
:class:`~genai_notes.nn.fused_blocks.FusedBlock` (same parameters, same numbers).

>>> block = Block(d_model=8, n_heads=2, causal=True, rng=0)
>>> block(Tensor(np.ones((2, 5, 8)))).shape
(2, 5, 8)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genai_notes._checks import check_positive_int, check_probability, check_rng, describe
from genai_notes.attention import head_mask
from genai_notes.attention import scaled_dot_product_attention as plain_attention
from genai_notes.autograd import Tensor, gelu, relu
from genai_notes.autograd import functional as F
from genai_notes.nn.layers import Dropout, LayerNorm, Linear
from genai_notes.nn.module import Module

__all__ = ["FeedForward", "MultiHeadAttention", "Block"]


ACTIVATIONS = {"gelu": gelu, "relu": relu}  # the FFN's non-linearity: GPT-2's, or 2017's


class FeedForward(Module):
    """Position-wise MLP: ``Linear(d_model, d_ff) -> GELU -> Linear(d_ff, d_model)``.

    ``std``/``out_std`` set the initial weight scales (None: ``1/√d_in``);
    ``activation="relu"`` uses ReLU, as the 2017 Transformer did.

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
        activation: str = "gelu",
    ) -> None:
        rng = check_rng(rng, "rng")
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation: expected one of {sorted(ACTIVATIONS)}, got {describe(activation)}"
            )
        self.activation = activation
        self.fc_in = Linear(d_model, d_ff, rng=rng, std=std)
        self.fc_out = Linear(d_ff, d_model, rng=rng, std=out_std)

    def forward(self, x: Tensor) -> Tensor:
        """x: ``(batch, seq, d_model)`` -> same shape (hidden ``(batch, seq, d_ff)``)."""
        return self.fc_out(ACTIVATIONS[self.activation](self.fc_in(x)))


class MultiHeadAttention(Module):
    """Multi-head attention with learned projections.

    ``in_proj`` holds the query, key and value projections side by side, a
    ``(d_model, 3 * d_model)`` matrix ``[W_q | W_k | W_v]`` (so that the fused path can make
    all three with one product); ``out_proj`` mixes the concatenated heads. Each head sees
    ``d_head = d_model / n_heads`` channels.

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
        # Set keep_weights = True to keep the last forward's attention weights (a NumPy
        # array (batch, n_heads, n_q, n_k)) in self.weights, for figures; off by default.
        self.keep_weights = False
        self.weights: np.ndarray | None = None

    def forward(self, x: Tensor, memory: Tensor | None = None, mask: Any = None) -> Tensor:
        """x: ``(batch, n_q, d_model)``; memory: ``(batch, n_k, d_model)`` or None (then
        ``memory = x``); mask: bool broadcastable to ``(batch, n_q, n_k)``, True = allowed.
        Returns ``(batch, n_q, d_model)``."""
        source = x if memory is None else memory
        d, w, b = self.d_model, self.in_proj.weight, self.in_proj.bias
        q = F.linear(x, w[:, :d], b[:d])  # (batch, n_q, d_model)
        k = F.linear(source, w[:, d : 2 * d], b[d : 2 * d])  # (batch, n_k, d_model)
        v = F.linear(source, w[:, 2 * d :], b[2 * d :])  # (batch, n_k, d_model)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        mask = head_mask(mask, x.shape[0], x.shape[1], source.shape[1], causal=self.causal)
        heads = F.scaled_dot_product_attention(q, k, v, mask=mask)  # (batch, heads, n_q, d_head)
        if self.keep_weights:  # recomputed outside the graph, only when asked for
            self.weights = plain_attention(q.data, k.data, v.data, mask)[1]
        return self.out_proj(self.merge_heads(heads))

    def split_heads(self, x: Tensor) -> Tensor:
        """``(batch, seq, d_model)`` -> ``(batch, n_heads, seq, d_head)``: head ``h`` gets
        channels ``h * d_head`` to ``(h + 1) * d_head - 1``."""
        batch, seq, _ = x.shape
        return x.reshape(batch, seq, self.n_heads, -1).transpose(0, 2, 1, 3)

    def merge_heads(self, x: Tensor) -> Tensor:
        """``(batch, n_heads, seq, d_head)`` -> ``(batch, seq, d_model)``."""
        batch, _, seq, _ = x.shape
        return x.transpose(0, 2, 1, 3).reshape(batch, seq, self.d_model)


class Block(Module):
    """A pre-LayerNorm transformer block (see the module docstring).

    d_ff defaults to ``4 * d_model``; ``cross_attention=True`` adds a cross-attention
    sub-layer (decoder of an encoder-decoder); ``dropout`` applies to each branch's output.
    ``activation`` is the FFN's (``"gelu"`` or ``"relu"``). ``post_ln=True`` normalises
    after each residual sum instead (the 2017 layout):
    ``x = LN(x + Attn(x))``, ``x = LN(x + CrossAttn(x, memory))``, ``x = LN(x + FFN(x))``.

    >>> post = Block(d_model=8, n_heads=2, post_ln=True, rng=0)
    >>> y = post(Tensor(np.arange(16.0).reshape(1, 2, 8))).data   # (batch, seq, d_model)
    >>> bool(np.allclose(y.mean(axis=-1), 0, atol=1e-5)), np.round(y.std(axis=-1), 3)
    (True, array([[1., 1.]], dtype=float32))
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
        post_ln: bool = False,
        rng: Any,
        std: float | None = None,
        out_std: float | None = None,
        activation: str = "gelu",
    ) -> None:
        if not isinstance(post_ln, bool):
            raise TypeError(f"post_ln: expected True or False, got {describe(post_ln)}")
        if type(self).forward is not Block.forward and (post_ln or activation != "gelu"):
            raise ValueError(
                f"post_ln, activation: only the plain Block has the post-LN layout and ReLU, "
                f"not {type(self).__name__}"
            )
        self.post_ln = post_ln
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
        self.ffn = FeedForward(d_model, d_ff, activation=activation, **init)
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
        self.check_memory(memory)
        if self.post_ln:
            return self.forward_post_ln(x, mask, memory, memory_mask)
        x = x + self.drop_attn(self.attn(self.ln_attn(x), mask=mask))
        if self.cross is not None:
            cross = self.cross(self.ln_cross(x), memory=memory, mask=memory_mask)
            x = x + self.drop_cross(cross)
        return x + self.drop_ffn(self.ffn(self.ln_ffn(x)))

    def forward_post_ln(
        self, x: Tensor, mask: Any, memory: Tensor | None, memory_mask: Any
    ) -> Tensor:
        """The 2017 layout: each sub-layer's residual sum is normalised, ``LN(x + f(x))``,
        so the residual path passes through every LayerNorm. Same shapes as :meth:`forward`."""
        x = self.ln_attn(x + self.drop_attn(self.attn(x, mask=mask)))
        if self.cross is not None:
            cross = self.cross(x, memory=memory, mask=memory_mask)
            x = self.ln_cross(x + self.drop_cross(cross))
        return self.ln_ffn(x + self.drop_ffn(self.ffn(x)))

    def check_memory(self, memory: Tensor | None) -> None:
        """Raise unless ``memory`` is given exactly when the block has cross-attention."""
        if self.cross is not None and memory is None:
            raise ValueError(
                "memory: this block has cross-attention and needs the "
                "encoder output (batch, n_mem, d_model), got None"
            )
        if self.cross is None and memory is not None:
            raise ValueError(
                "memory: this block has no cross-attention; build it with cross_attention=True"
            )
