"""The transformer block and the language-model head through the engine's fused nodes.

:class:`FusedBlock` has the parameters of :class:`~genai_notes.nn.transformer.Block` and
computes the same function (``tests/test_fused_blocks.py`` checks values and gradients), with
fewer passes over the activations: each LayerNorm is folded into the projection that follows
it, the attention heads are split, attended and merged in one node, and, when no dropout is
active, each residual sum is formed in the output of the projection before it. Models choose
it with ``fused=True`` (:class:`genai_notes.gpt.GPTConfig`).

>>> block = FusedBlock(d_model=8, n_heads=2, causal=True, rng=0)
>>> block(Tensor(np.ones((2, 5, 8)))).shape
(2, 5, 8)
"""

from __future__ import annotations

from typing import Any

import numpy as np  # noqa: F401 (used by the doctests)

from genai_notes.autograd import Tensor, fused
from genai_notes.autograd import functional as F
from genai_notes.nn.layers import LayerNorm, Linear
from genai_notes.nn.transformer import Block, FeedForward, MultiHeadAttention

__all__ = ["FusedBlock", "fused_lm_logits"]


class FusedBlock(Block):
    """:class:`~genai_notes.nn.transformer.Block`, computed with the fused nodes."""

    def forward(
        self,
        x: Tensor,
        mask: Any = None,
        memory: Tensor | None = None,
        memory_mask: Any = None,
    ) -> Tensor:
        """Same arguments and result as :meth:`Block.forward`."""
        self.check_memory(memory)
        dropping = self.drop_ffn.training and self.drop_ffn.p > 0.0
        if dropping:  # dropout sits between a branch and the residual sum: no fused sum
            x = x + self.drop_attn(_attention(self.attn, x, None, mask, self.ln_attn, None))
        else:
            x = _attention(self.attn, x, None, mask, self.ln_attn, residual=x)
        if self.cross is not None:
            cross = _attention(self.cross, x, memory, memory_mask, self.ln_cross, None)
            x = x + self.drop_cross(cross)
        if dropping:
            return x + self.drop_ffn(_feed_forward(self.ffn, x, self.ln_ffn, None))
        return _feed_forward(self.ffn, x, self.ln_ffn, residual=x)


def fused_lm_logits(x: Tensor, ln_f: LayerNorm, head: Tensor) -> Tensor:
    """``ln_f(x) @ head`` as one node: x ``(batch, seq, d_model)``, head
    ``(d_model, vocab)`` -> logits ``(batch, seq, vocab)``."""
    return fused.layer_norm_linear(x, ln_f.weight, ln_f.bias, head, None, ln_f.eps)


def _attention(
    mha: MultiHeadAttention,
    x: Tensor,
    memory: Tensor | None,
    mask: Any,
    norm: LayerNorm,
    residual: Tensor | None,
) -> Tensor:
    """``residual + mha(norm(x), memory, mask)`` (residual may be None)."""
    w, b, d = mha.in_proj.weight, mha.in_proj.bias, mha.d_model
    if memory is None:  # one product makes [q | k | v], (batch, seq, 3 * d_model)
        q = fused.layer_norm_linear(x, norm.weight, norm.bias, w, b, norm.eps)
        kv = None
    else:
        q = fused.layer_norm_linear(x, norm.weight, norm.bias, w[:, :d], b[:d], norm.eps)
        kv = F.linear(memory, w[:, d:], b[d:])  # (batch, n_k, 2 * d_model)
    heads = fused.multi_head_attention(q, kv, mha.n_heads, mask=mask, causal=mha.causal)
    return _project_out(mha.out_proj, heads, residual)


def _feed_forward(ffn: FeedForward, x: Tensor, norm: LayerNorm, residual: Tensor | None) -> Tensor:
    """``residual + ffn(norm(x))`` (residual may be None)."""
    w, b = ffn.fc_in.weight, ffn.fc_in.bias
    hidden = fused.layer_norm_linear(x, norm.weight, norm.bias, w, b, norm.eps, gelu=True)
    return _project_out(ffn.fc_out, hidden, residual)


def _project_out(layer: Linear, x: Tensor, residual: Tensor | None) -> Tensor:
    """``layer(x)``, plus ``residual`` if given (added in place in the product's output)."""
    if residual is None:
        return layer(x)
    return fused.linear_residual(x, layer.weight, layer.bias, residual)
