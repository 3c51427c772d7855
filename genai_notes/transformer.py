"""The Transformer of Vaswani et al. (2017), encoder and decoder, for translation (Chapter 7).

* :class:`Encoder`: a stack of non-causal self-attention blocks. It returns **one vector per
  source token**, ``(batch, src, d_model)``, never a single summary vector.
* :class:`Decoder`: masked (causal) self-attention over the target so far, cross-attention
  over the encoder's output, then the feed-forward net, in every block.
* :class:`EncoderDecoder`: token embeddings (one table shared by both languages, or two),
  scaled by ``√d_model`` and added to sinusoidal positions (:mod:`genai_notes.positional`),
  the encoder, the decoder, and a linear output over the target vocabulary (by default the
  target embedding, transposed, as in the paper).

The blocks are :class:`genai_notes.nn.Block`, pre-LN by default; ``post_ln=True`` gives the
2017 layout ``LN(x + sublayer(x))``. Batches are padded (:func:`collate`), the padded keys
are masked (:func:`key_padding_mask`, :func:`decoder_mask`), and padded targets are left out
of the loss by the cross-entropy's ``ignore_index``.

>>> config = TransformerConfig(src_vocab_size=12, tgt_vocab_size=12, d_model=8, n_heads=2)
>>> model = EncoderDecoder(config)
>>> src, tgt_in = np.array([[3, 4, 5, 0]]), np.array([[1, 6, 7]])    # pad_id 0, bos_id 1
>>> model.encode(src).shape, model(src, tgt_in).shape
((1, 4, 8), (1, 3, 12))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from genai_notes._checks import (
    check_array,
    check_nonnegative_int,
    check_positive_int,
    check_probability,
    describe,
)
from genai_notes.attention import causal_mask
from genai_notes.autograd import Tensor, no_grad, transpose
from genai_notes.autograd import functional as F
from genai_notes.nn import Block, Dropout, Embedding, LayerNorm, Linear, Module
from genai_notes.positional import sinusoidal_encoding

__all__ = [
    "TransformerConfig",
    "Encoder",
    "Decoder",
    "EncoderDecoder",
    "Batch",
    "key_padding_mask",
    "decoder_mask",
    "shift_right",
    "collate",
    "translate",
    "split_distinct",
    "translation_scores",
    "count_parameters",
]


@dataclass
class TransformerConfig:
    """Hyper-parameters of :class:`EncoderDecoder` (one object, nanoGPT style)."""

    src_vocab_size: int = 64  # distinct source token ids
    tgt_vocab_size: int = 64  # distinct target token ids (equal to the source's if shared)
    d_model: int = 64  # width of every token vector
    n_heads: int = 4  # attention heads per sub-layer; must divide d_model
    n_layers: int = 2  # encoder blocks
    n_decoder_layers: int | None = None  # decoder blocks; None means n_layers
    d_ff: int | None = None  # hidden width of each feed-forward net; None means 4 * d_model
    max_len: int = 64  # longest source or target sequence (positions are precomputed)
    dropout: float = 0.0  # drop probability after the embeddings and on every branch
    post_ln: bool = False  # the 2017 layout LN(x + f(x)); False: pre-LN, x + f(LN(x))
    activation: str = "relu"  # the FFN's non-linearity: "relu" (2017) or "gelu" (GPT-2)
    shared_embeddings: bool = True  # one table for source and target tokens
    tie_output: bool = True  # output projection = target embedding table, transposed
    pad_id: int = 0  # the padding token (masked as a key, ignored in the loss)
    bos_id: int = 1  # begin-of-sentence: the decoder's first input
    eos_id: int = 2  # end-of-sentence: the decoder's last target; decoding stops there
    seed: int = 0  # seeds the initial weights and the dropout masks

    @property
    def decoder_layers(self) -> int:
        """The number of decoder blocks."""
        return self.n_layers if self.n_decoder_layers is None else self.n_decoder_layers

    @property
    def ff_width(self) -> int:
        """The hidden width of each feed-forward net."""
        return 4 * self.d_model if self.d_ff is None else self.d_ff

    def validate(self) -> TransformerConfig:
        """Check every field; return ``self``."""
        for name in ("src_vocab_size", "tgt_vocab_size", "d_model", "n_heads", "n_layers"):
            check_positive_int(getattr(self, name), name)
        for name in ("max_len", "decoder_layers", "ff_width"):
            check_positive_int(getattr(self, name), name)
        if self.d_model % self.n_heads or self.d_model % 2:
            raise ValueError(
                f"d_model: expected an even number divisible by n_heads={self.n_heads}, "
                f"got {self.d_model}"
            )
        check_probability(self.dropout, "dropout")
        if self.activation not in ("relu", "gelu"):
            raise ValueError(
                f"activation: expected 'relu' or 'gelu', got {describe(self.activation)}"
            )
        for name in ("post_ln", "shared_embeddings", "tie_output"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(
                    f"{name}: expected True or False, got {describe(getattr(self, name))}"
                )
        if self.shared_embeddings and self.src_vocab_size != self.tgt_vocab_size:
            raise ValueError(
                "shared_embeddings: one table needs src_vocab_size == tgt_vocab_size, got "
                f"{self.src_vocab_size} and {self.tgt_vocab_size}"
            )
        ids = {name: getattr(self, name) for name in ("pad_id", "bos_id", "eos_id")}
        for name, value in ids.items():
            check_nonnegative_int(value, name)
            if value >= min(self.src_vocab_size, self.tgt_vocab_size):
                raise ValueError(f"{name}: expected an id below both vocabulary sizes, got {value}")
        if len(set(ids.values())) != 3:
            raise ValueError(f"pad_id, bos_id, eos_id: expected three different ids, got {ids}")
        check_nonnegative_int(self.seed, "seed")
        return self


# ----------------------------------------------------------------------------------------
# Masks and batches


def key_padding_mask(ids: Any, pad_id: int) -> np.ndarray:
    """``(batch, 1, seq)``: True where the key is a real token, False where it is padding.

    Broadcast over the queries, it stops every query from attending to a pad.

    >>> key_padding_mask(np.array([[5, 6, 0]]), pad_id=0).astype(int)
    array([[[1, 1, 0]]])
    """
    ids = check_array(ids, "ids", ndim=2, dtype_kind="iu")
    return (ids != pad_id)[:, None, :]


def decoder_mask(tgt_in: Any, pad_id: int) -> np.ndarray:
    """``(batch, seq, seq)``: query ``i`` may see key ``j`` iff ``j <= i`` (causal) and key
    ``j`` is not padding.

    >>> decoder_mask(np.array([[1, 7, 0]]), pad_id=0).astype(int)[0]
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 0]])
    """
    keys = key_padding_mask(tgt_in, pad_id)  # (batch, 1, seq)
    return causal_mask(keys.shape[-1])[None] & keys


def shift_right(tgt: Sequence[int], bos_id: int, eos_id: int) -> tuple[list[int], list[int]]:
    """Teacher forcing: the decoder reads ``[bos] + tgt`` and must predict ``tgt + [eos]``,
    so position ``i``'s target is the input at position ``i + 1``.

    >>> shift_right([7, 8, 9], bos_id=1, eos_id=2)
    ([1, 7, 8, 9], [7, 8, 9, 2])
    """
    tgt = [int(t) for t in tgt]
    return [bos_id, *tgt], [*tgt, eos_id]


class Batch(NamedTuple):
    """A padded batch of sentence pairs, made by :func:`collate`."""

    src: np.ndarray  # (batch, src) source ids, padded with pad_id
    tgt_in: np.ndarray  # (batch, tgt) decoder inputs: bos + target, padded
    tgt_out: np.ndarray  # (batch, tgt) targets: target + eos, padded with pad_id
    src_mask: np.ndarray  # (batch, 1, src) True on real source tokens
    tgt_mask: np.ndarray  # (batch, tgt, tgt) causal and padding mask of the decoder


def _pad(rows: Sequence[Sequence[int]], pad_id: int, name: str) -> np.ndarray:
    if not rows or any(len(r) == 0 for r in rows):
        raise ValueError(f"{name}: expected a non-empty list of non-empty token lists")
    out = np.full((len(rows), max(len(r) for r in rows)), pad_id, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def collate(
    pairs: Sequence[tuple[Sequence[int], Sequence[int]]], pad_id: int, bos_id: int, eos_id: int
) -> Batch:
    """Pad a list of ``(source ids, target ids)`` pairs to the longest in the batch, shift
    the targets right (:func:`shift_right`) and build both masks.

    >>> b = collate([([5, 6, 7], [8]), ([5], [8, 9])], pad_id=0, bos_id=1, eos_id=2)
    >>> b.src.tolist(), b.tgt_in.tolist(), b.tgt_out.tolist()
    ([[5, 6, 7], [5, 0, 0]], [[1, 8, 0], [1, 8, 9]], [[8, 2, 0], [8, 9, 2]])
    """
    if isinstance(pairs, str) or not isinstance(pairs, Sequence):
        raise TypeError(
            f"pairs: expected a list of (source ids, target ids), got {describe(pairs)}"
        )
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise TypeError(
                f"pairs: item {i} is not a (source ids, target ids) pair: {describe(pair)}"
            )
    shifted = [shift_right(tgt, bos_id, eos_id) for _, tgt in pairs]
    src = _pad([list(s) for s, _ in pairs], pad_id, "pairs")
    tgt_in = _pad([i for i, _ in shifted], pad_id, "pairs")
    tgt_out = _pad([o for _, o in shifted], pad_id, "pairs")
    return Batch(src, tgt_in, tgt_out, key_padding_mask(src, pad_id), decoder_mask(tgt_in, pad_id))


# ----------------------------------------------------------------------------------------
# The model


def _blocks(config: TransformerConfig, n: int, decoder: bool, rng: np.random.Generator) -> list:
    return [
        Block(
            config.d_model,
            config.n_heads,
            config.ff_width,
            dropout=config.dropout,
            causal=decoder,
            cross_attention=decoder,
            post_ln=config.post_ln,
            rng=rng,
            activation=config.activation,
        )
        for _ in range(n)
    ]


class Encoder(Module):
    """``n_layers`` self-attention blocks; pre-LN stacks end with a LayerNorm.

    forward(x ``(batch, src, d_model)``, src_mask ``(batch, 1, src)``) -> ``(batch, src,
    d_model)``: one vector per source token.
    """

    def __init__(self, config: TransformerConfig, rng: np.random.Generator) -> None:
        self.blocks = _blocks(config, config.n_layers, False, rng)
        self.ln_f = None if config.post_ln else LayerNorm(config.d_model)

    def forward(self, x: Tensor, src_mask: Any) -> Tensor:
        for block in self.blocks:
            x = block(x, mask=src_mask)
        return x if self.ln_f is None else self.ln_f(x)


class Decoder(Module):
    """Blocks of masked self-attention, cross-attention over ``memory`` and a FFN.

    forward(y ``(batch, tgt, d_model)``, memory ``(batch, src, d_model)``, tgt_mask
    ``(batch, tgt, tgt)``, src_mask ``(batch, 1, src)``) -> ``(batch, tgt, d_model)``.
    """

    def __init__(self, config: TransformerConfig, rng: np.random.Generator) -> None:
        self.blocks = _blocks(config, config.decoder_layers, True, rng)
        self.ln_f = None if config.post_ln else LayerNorm(config.d_model)

    def forward(self, y: Tensor, memory: Tensor, tgt_mask: Any, src_mask: Any) -> Tensor:
        for block in self.blocks:
            y = block(y, mask=tgt_mask, memory=memory, memory_mask=src_mask)
        return y if self.ln_f is None else self.ln_f(y)


class EncoderDecoder(Module):
    """The encoder-decoder Transformer (see the module docstring)."""

    def __init__(self, config: TransformerConfig) -> None:
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"config: expected a TransformerConfig, got {describe(config)}")
        self.config = config.validate()
        rng = np.random.default_rng(config.seed)
        d = config.d_model
        self.src_embed = Embedding(config.src_vocab_size, d, rng=rng, std=d**-0.5)
        self.tgt_embed = (
            self.src_embed
            if config.shared_embeddings
            else Embedding(config.tgt_vocab_size, d, rng=rng, std=d**-0.5)
        )
        self.positions = sinusoidal_encoding(config.max_len, d)  # (max_len, d_model), fixed
        self.drop = Dropout(config.dropout, rng=rng.spawn(1)[0])
        self.encoder = Encoder(config, rng)
        self.decoder = Decoder(config, rng)
        self.out = (
            None if config.tie_output else Linear(d, config.tgt_vocab_size, bias=False, rng=rng)
        )

    def _ids(self, ids: Any, name: str, vocab: int) -> np.ndarray:
        ids = check_array(ids, name, ndim=2, dtype_kind="iu")
        if ids.shape[1] == 0 or ids.shape[1] > self.config.max_len:
            raise ValueError(
                f"{name}: expected 1 to max_len={self.config.max_len} tokens per row, "
                f"got shape {ids.shape}"
            )
        if ids.min() < 0 or ids.max() >= vocab:
            raise ValueError(
                f"{name}: expected token ids in [0, {vocab}), got values in "
                f"[{ids.min()}, {ids.max()}]"
            )
        return ids

    def embed(self, ids: np.ndarray, table: Embedding) -> Tensor:
        """ids ``(batch, seq)`` -> ``table(ids) · √d_model + PE[:seq]``, ``(batch, seq, d_model)``."""
        x = table(ids) * math.sqrt(self.config.d_model) + self.positions[: ids.shape[1]]
        return self.drop(x)

    def encode(self, src: Any) -> Tensor:
        """src ``(batch, src)`` -> the encoder's output ``(batch, src, d_model)``."""
        src = self._ids(src, "src", self.config.src_vocab_size)
        return self.encoder(
            self.embed(src, self.src_embed), key_padding_mask(src, self.config.pad_id)
        )

    def decode(self, tgt_in: Any, memory: Tensor, src: Any) -> Tensor:
        """Logits ``(batch, tgt, tgt_vocab)`` for the token after each position of
        ``tgt_in``, given the encoder's output ``memory`` for the source ``src``."""
        cfg = self.config
        tgt_in = self._ids(tgt_in, "tgt_in", cfg.tgt_vocab_size)
        src = self._ids(src, "src", cfg.src_vocab_size)
        if memory.shape[:2] != src.shape or tgt_in.shape[0] != src.shape[0]:
            raise ValueError(
                f"memory: expected shape ({src.shape[0]}, {src.shape[1]}, {cfg.d_model}) for "
                f"src {src.shape} and tgt_in {tgt_in.shape}, got {memory.shape}"
            )
        y = self.embed(tgt_in, self.tgt_embed)
        y = self.decoder(
            y, memory, decoder_mask(tgt_in, cfg.pad_id), key_padding_mask(src, cfg.pad_id)
        )
        head = transpose(self.tgt_embed.weight) if self.out is None else self.out.weight
        return y @ head

    def forward(self, src: Any, tgt_in: Any) -> Tensor:
        """src ``(batch, src)``, tgt_in ``(batch, tgt)`` -> logits ``(batch, tgt, tgt_vocab)``."""
        return self.decode(tgt_in, self.encode(src), src)

    def loss(self, inputs: tuple[Any, Any], tgt_out: Any) -> Tensor:
        """Mean cross-entropy over the real target tokens: inputs is ``(src, tgt_in)``, and
        positions where ``tgt_out`` is ``pad_id`` are ignored."""
        src, tgt_in = inputs
        return F.cross_entropy(self(src, tgt_in), tgt_out, ignore_index=self.config.pad_id)

    def cross_attention_weights(self, src: Any, tgt_in: Any) -> np.ndarray:
        """The cross-attention weights of every decoder layer and head, in eval mode:
        ``(n_decoder_layers, batch, n_heads, tgt, src)``; entry ``[l, b, h, i, j]`` is how
        much target position ``i`` reads source token ``j`` in layer ``l``, head ``h``."""
        was_training = self.training
        crosses = [block.cross for block in self.decoder.blocks]
        self.eval()
        try:
            for cross in crosses:
                cross.keep_weights = True
            with no_grad():
                self(src, tgt_in)
            return np.stack([cross.weights for cross in crosses])
        finally:
            for cross in crosses:
                cross.keep_weights, cross.weights = False, None
            self.train(was_training)


# ----------------------------------------------------------------------------------------
# Decoding and counting


def translate(
    model: EncoderDecoder, sentences: Sequence[Any], max_len: int, tokenizer: Any = None
) -> list[Any]:
    """Greedy decoding of a batch: encode every source once, then repeatedly append each
    row's most likely next token, until every row has produced ``eos`` or ``max_len``
    tokens. Returns the target ids without ``bos`` and ``eos``, or, with a ``tokenizer``
    (one shared vocabulary), takes and returns strings.

    >>> config = TransformerConfig(src_vocab_size=9, tgt_vocab_size=9, d_model=8, n_heads=2)
    >>> out = translate(EncoderDecoder(config), [[3, 4], [5]], max_len=4)
    >>> len(out), all(len(row) <= 4 for row in out)
    (2, True)
    """
    if not isinstance(model, EncoderDecoder):
        raise TypeError(f"model: expected an EncoderDecoder, got {describe(model)}")
    cfg = model.config
    max_len = check_positive_int(max_len, "max_len")
    if max_len + 1 > cfg.max_len:
        raise ValueError(
            f"max_len: expected at most {cfg.max_len - 1} (config.max_len - 1), got {max_len}"
        )
    if isinstance(sentences, str) or not isinstance(sentences, Sequence) or not sentences:
        raise TypeError(f"sentences: expected a non-empty list, got {describe(sentences)}")
    rows = [tokenizer.encode(s) for s in sentences] if tokenizer is not None else sentences
    src = _pad([list(r) for r in rows], cfg.pad_id, "sentences")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            memory = model.encode(src)
            out = np.full((len(src), 1), cfg.bos_id, dtype=np.int64)
            done = np.zeros(len(src), dtype=bool)
            for _ in range(max_len):
                logits = model.decode(out, memory, src).data[:, -1]  # (batch, tgt_vocab)
                nxt = np.where(done, cfg.pad_id, logits.argmax(axis=-1))
                out = np.concatenate([out, nxt[:, None]], axis=1)
                done |= nxt == cfg.eos_id
                if done.all():
                    break
    finally:
        model.train(was_training)
    result = []
    for row in out[:, 1:].tolist():
        row = row[: row.index(cfg.eos_id)] if cfg.eos_id in row else row
        result.append(row if tokenizer is None else tokenizer.decode(row))
    return result


def split_distinct(
    pairs: Sequence[tuple[str, str]], held_out: float, seed: int = 0
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Split the *distinct* pairs at random into ``(train, held_out)``, so that no held-out
    pair also occurs in training (a sampled corpus repeats its common sentences).

    >>> train, test = split_distinct([("a", "x"), ("b", "y"), ("a", "x")], 0.5, seed=0)
    >>> sorted(train + test), set(train) & set(test)
    ([('a', 'x'), ('b', 'y')], set())
    """
    if isinstance(pairs, str) or not isinstance(pairs, Sequence):
        raise TypeError(f"pairs: expected a list of (source, target) pairs, got {describe(pairs)}")
    fraction = check_probability(held_out, "held_out")
    distinct = sorted(set(map(tuple, pairs)))
    order = np.random.default_rng(check_nonnegative_int(seed, "seed")).permutation(len(distinct))
    n_held = int(round(fraction * len(distinct)))
    return [distinct[i] for i in order[n_held:]], [distinct[i] for i in order[:n_held]]


def translation_scores(predicted: Sequence[str], reference: Sequence[str]) -> tuple[float, float]:
    """``(exact match, token accuracy)``: the fraction of sentences translated exactly, and
    the fraction of reference words that the prediction has at the same position (a
    prediction that is too short misses the rest; words it adds cost nothing more).

    >>> translation_scores(["el gato .", "la vaca"], ["el gato .", "la vaca ."])
    (0.5, 0.8333333333333334)
    """
    if len(predicted) != len(reference) or not reference:
        raise ValueError(
            f"predicted: expected one sentence per reference ({len(reference)}), got {len(predicted)}"
        )
    exact = float(np.mean([p == r for p, r in zip(predicted, reference)]))
    hits = [[a == b for a, b in zip(p.split(), r.split())] for p, r in zip(predicted, reference)]
    token = sum(map(sum, hits)) / sum(len(r.split()) for r in reference)
    return exact, float(token)


def count_parameters(config: TransformerConfig) -> dict[str, int]:
    """Parameters of :class:`EncoderDecoder` by component, in closed form, and ``total``.

    With ``d = d_model`` and ``f = d_ff``: an attention sub-layer has ``4d² + 4d`` (query,
    key, value and output projections with biases), a FFN ``2df + f + d``, a LayerNorm
    ``2d``. An encoder layer has one attention, a FFN and two norms; a decoder layer two
    attentions, a FFN and three norms; a pre-LN stack adds a final norm.

    >>> count_parameters(TransformerConfig(src_vocab_size=10, tgt_vocab_size=10, d_model=4,
    ...                                    n_heads=1, n_layers=1))["total"]
    632
    """
    if not isinstance(config, TransformerConfig):
        raise TypeError(f"config: expected a TransformerConfig, got {describe(config)}")
    cfg = config.validate()
    d, f = cfg.d_model, cfg.ff_width
    attention, ffn, norm = 4 * d * d + 4 * d, 2 * d * f + f + d, 2 * d
    n_enc, n_dec = cfg.n_layers, cfg.decoder_layers
    final_norms = 0 if cfg.post_ln else 2 * norm
    counts = {
        "embeddings": cfg.src_vocab_size * d
        + (0 if cfg.shared_embeddings else cfg.tgt_vocab_size * d),
        "encoder attention": n_enc * attention,
        "encoder feed-forward": n_enc * ffn,
        "decoder self-attention": n_dec * attention,
        "decoder cross-attention": n_dec * attention,
        "decoder feed-forward": n_dec * ffn,
        "layer norms": (2 * n_enc + 3 * n_dec) * norm + final_norms,
        "output projection": 0 if cfg.tie_output else d * cfg.tgt_vocab_size,
    }
    counts["total"] = sum(counts.values())
    return counts
