"""A decoder-only GPT: token and learned position embeddings, ``n_layers`` pre-LN causal
blocks (:class:`genai_notes.nn.Block`), a final LayerNorm and a linear language-model head.

``GPTConfig(fused=True)`` builds the same model from the engine's fused nodes
(:class:`genai_notes.nn.FusedBlock`), with the same parameters and the same outputs, faster.

>>> model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layers=1, n_heads=2, d_model=8))
>>> model(np.zeros((2, 5), dtype=int)).shape
(2, 5, 11)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from genai_notes._checks import (
    check_array,
    check_nonnegative_int,
    check_positive_int,
    check_probability,
    check_real,
    check_rng,
)
from genai_notes.attention import softmax
from genai_notes.autograd import Tensor, fused, no_grad, transpose
from genai_notes.autograd import functional as F
from genai_notes.nn import (
    Block,
    Dropout,
    Embedding,
    FusedBlock,
    LayerNorm,
    Linear,
    Module,
    fused_lm_logits,
)
from genai_notes.sampling import sample_categorical

__all__ = ["GPTConfig", "GPT"]


@dataclass
class GPTConfig:
    """Hyper-parameters of :class:`GPT` (one object, nanoGPT style)."""

    vocab_size: int = 65  # number of distinct token ids (characters, for a char-level model)
    block_size: int = 64  # longest context the model sees; also the number of positions
    n_layers: int = 2  # transformer blocks stacked on the residual stream
    n_heads: int = 4  # attention heads per block; must divide d_model
    d_model: int = 64  # width of the residual stream (embedding size)
    d_ff: int | None = None  # hidden width of each feed-forward net; None means 4 * d_model
    dropout: float = 0.0  # drop probability after embeddings and on every residual branch
    tie_weights: bool = False  # reuse the token embedding (transposed) as the LM head
    seed: int = 0  # seeds the initial weights and the dropout masks
    fused: bool = False  # compute with the engine's fused nodes: same numbers, faster

    def validate(self) -> GPTConfig:
        """Check every field; return ``self``."""
        for name in ("vocab_size", "block_size", "n_layers", "n_heads", "d_model"):
            check_positive_int(getattr(self, name), name)
        if self.d_ff is not None:
            check_positive_int(self.d_ff, "d_ff")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"n_heads: d_model={self.d_model} must be divisible by n_heads={self.n_heads}"
            )
        check_probability(self.dropout, "dropout")
        check_nonnegative_int(self.seed, "seed")
        return self


class GPT(Module):
    """Decoder-only transformer language model.

    Initialisation follows GPT-2: weights ``N(0, 0.02²)``, and the two projections that
    write into the residual stream in each block (attention output, second FFN layer)
    scaled by ``1/√(2·n_layers)`` so the stream's variance does not grow with depth.

    With ``tie_weights`` the logits are ``x @ wte.weightᵀ``: the same table maps ids to
    vectors and vectors to scores (fewer parameters, as in GPT-2); otherwise ``lm_head``
    is a separate ``(d_model, vocab)`` matrix without bias.
    """

    def __init__(self, config: GPTConfig) -> None:
        if not isinstance(config, GPTConfig):
            raise TypeError(f"config: expected a GPTConfig, got {type(config).__name__}")
        self.config = config.validate()
        rng = check_rng(config.seed, "config.seed")
        std, out_std = 0.02, 0.02 / math.sqrt(2 * config.n_layers)
        d = config.d_model
        self.wte = Embedding(config.vocab_size, d, rng=rng, std=std)
        self.wpe = Embedding(config.block_size, d, rng=rng, std=std)
        self.drop = Dropout(config.dropout, rng=rng.spawn(1)[0])
        block = FusedBlock if config.fused else Block
        self.blocks = [
            block(
                d,
                config.n_heads,
                config.d_ff,
                dropout=config.dropout,
                causal=True,
                rng=rng,
                std=std,
                out_std=out_std,
            )
            for _ in range(config.n_layers)
        ]
        self.ln_f = LayerNorm(d)
        self.lm_head = (
            None
            if config.tie_weights
            else Linear(d, config.vocab_size, bias=False, rng=rng, std=std)
        )

    def _check_idx(self, idx: Any, name: str = "idx") -> np.ndarray:
        idx = check_array(idx, name, ndim=2, dtype_kind="iu")
        cfg = self.config
        if idx.shape[1] == 0:
            raise ValueError(f"{name}: expected at least one token per row, got shape {idx.shape}")
        if idx.shape[1] > cfg.block_size:
            raise ValueError(
                f"{name}: sequence length {idx.shape[1]} exceeds block_size={cfg.block_size}"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= cfg.vocab_size):
            raise ValueError(
                f"{name}: expected token ids in [0, {cfg.vocab_size}), got "
                f"values in [{idx.min()}, {idx.max()}]"
            )
        return idx

    def forward(self, idx: Any) -> Tensor:
        """idx: integer token ids ``(batch, seq)`` with ``seq <= block_size``.
        Returns logits ``(batch, seq, vocab)`` for the token that follows each position."""
        idx = self._check_idx(idx)
        seq = idx.shape[1]
        x = self.wte(idx) + self.wpe.weight[:seq]  # (batch, seq, d_model) + (seq, d_model)
        x = self.drop(x)
        for block in self.blocks:
            x = block(x)
        head = transpose(self.wte.weight) if self.lm_head is None else self.lm_head.weight
        if self.config.fused:  # the same maths as below, as one node
            return fused_lm_logits(x, self.ln_f, head)
        return self.ln_f(x) @ head  # logits (batch, seq, vocab)

    def loss(self, idx: Any, targets: Any) -> Tensor:
        """Mean next-token cross-entropy; targets ``(batch, seq)`` are idx shifted by one."""
        cross_entropy = fused.cross_entropy if self.config.fused else F.cross_entropy
        return cross_entropy(self(idx), targets)

    def generate(
        self,
        idx: Any,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        rng: Any = 0,
    ) -> np.ndarray:
        """Append ``max_new_tokens`` sampled tokens to each row of ``idx (batch, seq)``.

        Each step feeds the last ``block_size`` tokens, divides the final logits by
        ``temperature`` (lower = greedier), keeps the ``top_k`` largest if given, and
        samples from the softmax. Returns ``(batch, seq + max_new_tokens)``.

        >>> model = GPT(GPTConfig(vocab_size=5, block_size=4, n_layers=1, n_heads=1, d_model=4))
        >>> model.generate(np.array([[0]]), 6, rng=0).shape
        (1, 7)
        """
        idx = self._check_idx(idx)
        max_new_tokens = check_nonnegative_int(max_new_tokens, "max_new_tokens")
        temperature = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
        if top_k is not None:
            top_k = min(check_positive_int(top_k, "top_k"), self.config.vocab_size)
        rng = check_rng(rng, "rng")
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for _ in range(max_new_tokens):
                    context = idx[:, -self.config.block_size :]
                    logits = self(context).data[:, -1, :].astype(np.float64) / temperature
                    if top_k is not None:
                        kth = np.sort(logits, axis=-1)[:, -top_k][:, None]
                        logits = np.where(logits < kth, -np.inf, logits)
                    nxt = sample_categorical(softmax(logits), rng)  # (batch,)
                    idx = np.concatenate([idx, nxt[:, None].astype(idx.dtype)], axis=1)
        finally:
            self.train(was_training)
        return idx
