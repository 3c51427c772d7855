"""A decoder-only GPT: token and learned position embeddings, ``n_layers`` pre-LN causal
blocks (:class:`genai_notes.nn.Block`), a final LayerNorm and a linear language-model head.

``GPTConfig(fused=True)`` builds the same model from the engine's fused nodes
(:class:`genai_notes.nn.FusedBlock`), with the same parameters and the same outputs, faster.

Generation can keep a **KV cache** (:class:`KVCache`, ``generate(..., use_cache=True)``):
each layer's keys and values of the tokens seen so far, so that each new token costs one
position's work instead of a forward pass over the whole context (Chapter 9).

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
    check_size,
)
from genai_notes.attention import head_mask, merge_heads, softmax, split_heads
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
from genai_notes.sampling import sample_categorical, top_k_filter

__all__ = ["GPTConfig", "GPT", "KVCache"]


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


class KVCache:
    """The keys and values a GPT has computed so far, one pair of arrays per layer.

    ``keys[layer]`` and ``values[layer]`` are ``(batch, n_heads, block_size, d_head)``
    float32 arrays, allocated once; positions ``0 .. length - 1`` hold the keys and values of
    the tokens seen so far, and each call of :meth:`GPT.forward_cached` writes the new ones
    in place after them. A token's key and value depend only on the tokens up to it (the
    attention is causal), so they never change once written: that is why they can be kept.

    >>> cache = KVCache(n_layers=2, batch=3, n_heads=4, block_size=16, d_head=8)
    >>> cache.keys[0].shape, cache.length
    ((3, 4, 16, 8), 0)
    """

    def __init__(
        self, n_layers: int, batch: int, n_heads: int, block_size: int, d_head: int
    ) -> None:
        shape = tuple(
            check_positive_int(n, name)
            for n, name in (
                (batch, "batch"), (n_heads, "n_heads"),
                (block_size, "block_size"), (d_head, "d_head"),
            )
        )  # fmt: skip
        n_layers = check_positive_int(n_layers, "n_layers")
        check_size((n_layers * 2,) + shape, "n_layers, batch, n_heads, block_size, d_head")
        self.keys = [np.zeros(shape, dtype=np.float32) for _ in range(n_layers)]
        self.values = [np.zeros(shape, dtype=np.float32) for _ in range(n_layers)]
        self.length = 0  # positions filled so far (the same in every layer)

    @classmethod
    def for_model(cls, model: GPT, batch: int) -> KVCache:
        """An empty cache shaped for ``model`` and ``batch`` rows."""
        cfg = model.config
        d_head = cfg.d_model // cfg.n_heads
        return cls(cfg.n_layers, batch, cfg.n_heads, cfg.block_size, d_head)

    def append(self, layer: int, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Write the new keys and values ``(batch, n_heads, n_new, d_head)`` of ``layer``
        after the ``length`` cached ones; return all of them so far,
        ``(batch, n_heads, length + n_new, d_head)`` (views, no copy)."""
        end = self.length + k.shape[2]
        self.keys[layer][:, :, self.length : end] = k
        self.values[layer][:, :, self.length : end] = v
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]


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

    def forward_cached(self, idx: Any, cache: KVCache) -> np.ndarray:
        """The logits of new tokens ``idx (batch, n_new)`` that follow the ``cache.length``
        tokens whose keys and values ``cache`` holds: ``(batch, n_new, vocab)``, equal (up to
        float32 round-off) to the last ``n_new`` positions of :meth:`forward` on the whole
        sequence. Appends the new keys and values to the cache. No graph is recorded.

        Each block runs as :meth:`Block.forward <genai_notes.nn.Block.forward>` does (eval
        mode, so without dropout), except that attention takes its keys and values from the
        cache: the queries are the ``n_new`` new positions only, the keys all
        ``cache.length + n_new``. A model built with ``fused=True`` has the same parameters,
        so it uses the same plain step.

        >>> model = GPT(GPTConfig(vocab_size=5, block_size=8, n_layers=1, n_heads=1, d_model=4))
        >>> cache = KVCache.for_model(model, batch=1)
        >>> model.forward_cached(np.array([[1, 2, 3]]), cache).shape, cache.length
        ((1, 3, 5), 3)
        >>> model.forward_cached(np.array([[4]]), cache).shape, cache.length
        ((1, 1, 5), 4)
        """
        idx = self._check_idx(idx)
        if not isinstance(cache, KVCache):
            raise TypeError(f"cache: expected a KVCache, got {type(cache).__name__}")
        batch, n_new = idx.shape
        start, block_size = cache.length, self.config.block_size
        if cache.keys[0].shape[0] != batch or len(cache.keys) != len(self.blocks):
            raise ValueError(
                f"cache: made for {cache.keys[0].shape[0]} rows and {len(cache.keys)} "
                f"layers, got idx with {batch} rows for a model of {len(self.blocks)} layers"
            )
        if start + n_new > block_size:
            raise ValueError(
                f"idx: the cache holds {start} tokens; {n_new} more would pass "
                f"block_size={block_size} (the positions stop there)"
            )
        with no_grad():
            x = self.wte(idx) + self.wpe.weight[start : start + n_new]  # (batch, n_new, d)
            for layer, block in enumerate(self.blocks):
                x = self._cached_block(block, x, cache, layer)
            head = transpose(self.wte.weight) if self.lm_head is None else self.lm_head.weight
            logits = (self.ln_f(x) @ head).data  # (batch, n_new, vocab)
        cache.length = start + n_new
        return logits

    @staticmethod
    def _cached_block(block: Block, x: Tensor, cache: KVCache, layer: int) -> Tensor:
        """One pre-LN block for the new positions x ``(batch, n_new, d_model)``, with keys
        and values from ``cache``: ``x + attn(ln(x))``, then ``x + ffn(ln(x))``. Attention
        is Chapter 5's, ``softmax(q kᵀ / √d_head) v``, on the arrays the cache holds."""
        attn, n_new = block.attn, x.shape[1]
        qkv = attn.in_proj(block.ln_attn(x)).data  # (batch, n_new, 3 * d_model): [q | k | v]
        q, k, v = (split_heads(a, attn.n_heads) for a in np.split(qkv, 3, axis=-1))
        keys, values = cache.append(layer, k, v)  # (batch, n_heads, n_all, d_head)
        scores = q @ keys.swapaxes(-1, -2) / math.sqrt(q.shape[-1])  # (.., n_new, n_all)
        if n_new > 1:  # new query i sits at position n_all - n_new + i: no later key
            allowed = head_mask(None, x.shape[0], n_new, keys.shape[2], causal=True)
            scores = np.where(allowed, scores, -np.inf)
        heads = softmax(scores) @ values  # (batch, n_heads, n_new, d_head)
        x = x + attn.out_proj(Tensor(merge_heads(heads)))  # (batch, n_new, d_model)
        return x + block.ffn(block.ln_ffn(x))

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
        use_cache: bool = False,
    ) -> np.ndarray:
        """Append ``max_new_tokens`` sampled tokens to each row of ``idx (batch, seq)``.

        Each step feeds the last ``block_size`` tokens, divides the final logits by
        ``temperature`` (lower = greedier), keeps exactly the ``top_k`` largest if given (ties:
        the lower id, as :func:`~genai_notes.sampling.top_k_filter` and Chapter 9), and
        samples from the softmax. Returns ``(batch, seq + max_new_tokens)``.

        ``use_cache=True`` keeps a :class:`KVCache`: the prompt goes through the model once,
        then each step feeds only the token just sampled (:meth:`forward_cached`). The tokens
        are the same as without the cache (the logits agree to float32 round-off). **At the
        block size:** once the context holds ``block_size`` tokens, the window must slide,
        and then every token moves to a new position; its cached key and value were computed
        with the old position's embedding, so none can be reused. From there on each step
        recomputes the whole window, exactly as ``use_cache=False`` does, and the cache no
        longer saves anything. (Models with relative positions, such as RoPE, can keep a
        sliding cache; learned absolute positions cannot.)

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
        if not isinstance(use_cache, bool):
            raise TypeError(f"use_cache: expected True or False, got {use_cache!r}")
        block_size = self.config.block_size
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                cache = KVCache.for_model(self, idx.shape[0]) if use_cache else None
                new = idx  # the tokens the cache has not seen yet
                for _ in range(max_new_tokens):
                    if cache is not None and idx.shape[1] <= block_size:
                        logits = self.forward_cached(new, cache)[:, -1, :]
                    else:  # no cache, or the window slides: recompute it
                        logits = self(idx[:, -block_size:]).data[:, -1, :]
                    logits = logits.astype(np.float64) / temperature
                    if top_k is not None:  # exactly top_k; ties: the lower id
                        logits = top_k_filter(logits, top_k)
                    nxt = sample_categorical(softmax(logits), rng)  # (batch,)
                    new = nxt[:, None].astype(idx.dtype)
                    idx = np.concatenate([idx, new], axis=1)
        finally:
            self.train(was_training)
        return idx
