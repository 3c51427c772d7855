"""An encoder-only Transformer in the style of BERT (Devlin et al., 2019), for Chapter 10.

* **The model** (:class:`BERT`): token embeddings plus learned positions, ``n_layers`` pre-LN
  blocks (:class:`genai_notes.nn.Block`) with **bidirectional** attention (no causal mask:
  every token sees every other real token; only padding is hidden), a final LayerNorm, a
  masked-language-model head (the token embedding transposed, or its own matrix) and a
  classification head over a pooled vector (the first token, ``[CLS]``, or the mean).
  ``causal=True`` builds the same model with a causal mask, the one change that turns it
  into a left-to-right reader (Chapter 10 compares the two on the same blank).
* **The masking** (:func:`mask_tokens`): each ordinary token is *selected* with
  probability 15%; a selected token becomes ``[MASK]`` with probability 80%, a random word
  with probability 10%, and stays itself with probability 10%. The labels hold the original
  token at the selected positions and :data:`IGNORE` everywhere else, so the loss
  (:meth:`BERT.mlm_loss`) covers the selected positions only.
* **Tokens are words** (:func:`bert_tokenizer`): the 72 words of the easy synthetic language,
  then ``[PAD]``, ``[CLS]``, ``[MASK]`` and ``<unk>``. :func:`encode_sentences` puts
  ``[CLS]`` first and pads every row to ``block_size``.
* **The grammar's answer** (:func:`true_fillers`): the exact probability of each word in a
  blank, given the rest of the sentence (or only its left part), from the grammar's 3,432
  sentences (:func:`genai_notes.data.sentence_distribution`).

>>> tok = bert_tokenizer()
>>> ids = encode_sentences(tok, ["the king rules the kingdom ."], block_size=8)
>>> [tok.token_str(i) for i in ids[0]]
['[CLS]', 'the', 'king', 'rules', 'the', 'kingdom', '.', '[PAD]']
>>> BERT(BERTConfig(n_layers=1, d_model=8, n_heads=2, block_size=8))(ids).shape
(1, 8, 8)
"""

from __future__ import annotations

import functools
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
    check_rng,
    check_str,
    describe,
)
from genai_notes.autograd import Tensor, no_grad, transpose
from genai_notes.autograd import functional as F
from genai_notes.data import sentence_distribution
from genai_notes.nn import (
    Block,
    Dropout,
    Embedding,
    FusedBlock,
    LayerNorm,
    Linear,
    Module,
    Parameter,
)
from genai_notes.tokenizers import WordTokenizer

__all__ = [
    "IGNORE",
    "SPECIAL_TOKENS",
    "KEPT",
    "MASKED",
    "RANDOM",
    "BERTConfig",
    "BERT",
    "MaskedBatch",
    "mask_tokens",
    "mean_pool",
    "bert_tokenizer",
    "encode_sentences",
    "fill_mask",
    "true_fillers",
]

IGNORE = -100  # the label of every position that the MLM loss skips
SPECIAL_TOKENS = ("[PAD]", "[CLS]", "[MASK]")  # then WordTokenizer adds "<unk>"
MASKED, RANDOM, KEPT = 1, 2, 3  # what mask_tokens did to a selected token (0: not selected)


@dataclass
class BERTConfig:
    """Hyper-parameters of :class:`BERT`; the defaults fit :func:`bert_tokenizer`."""

    vocab_size: int = 76  # 72 words + [PAD], [CLS], [MASK], <unk>
    block_size: int = 12  # positions: [CLS] + the longest sentence (10 words) + 1 spare
    n_layers: int = 2  # transformer blocks
    n_heads: int = 4  # attention heads per block; must divide d_model
    d_model: int = 64  # width of the residual stream
    d_ff: int | None = None  # hidden width of each feed-forward net; None means 4 * d_model
    dropout: float = 0.0  # drop probability after the embeddings and on every branch
    tie_weights: bool = True  # MLM head = token embedding transposed (plus a bias)
    n_classes: int = 2  # outputs of the classification head
    causal: bool = False  # True: each token sees only itself and the tokens before it
    pad_id: int = 72  # the [PAD] id: padded keys are hidden from attention
    seed: int = 0  # seeds the initial weights and the dropout masks
    fused: bool = False  # compute the blocks with the engine's fused nodes: same numbers

    def validate(self) -> BERTConfig:
        """Check every field; return ``self``."""
        for name in ("vocab_size", "block_size", "n_layers", "n_heads", "d_model", "n_classes"):
            check_positive_int(getattr(self, name), name)
        if self.d_ff is not None:
            check_positive_int(self.d_ff, "d_ff")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"n_heads: d_model={self.d_model} must be divisible by n_heads={self.n_heads}"
            )
        check_probability(self.dropout, "dropout")
        check_nonnegative_int(self.seed, "seed")
        if check_nonnegative_int(self.pad_id, "pad_id") >= self.vocab_size:
            raise ValueError(
                f"pad_id: expected an id below vocab_size={self.vocab_size}, got {self.pad_id}"
            )
        for name in ("tie_weights", "causal", "fused"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(
                    f"{name}: expected True or False, got {describe(getattr(self, name))}"
                )
        return self


def mean_pool(hidden: Any, real: Any) -> Any:
    """The mean of each row's vectors over its real (non-padding) positions.

    hidden: ``(batch, seq, d_model)``, a NumPy array or a Tensor; real: bool ``(batch, seq)``,
    True on real tokens. Returns ``(batch, d_model)`` (a Tensor for a Tensor). Padding gets
    weight 0, so a padded row has the mean of its unpadded self.

    >>> h = np.array([[[1.0, 2.0], [3.0, 4.0], [99.0, 99.0]]])
    >>> mean_pool(h, np.array([[True, True, False]]))
    array([[2., 3.]])
    """
    real = check_array(real, "real", ndim=2, dtype_kind="b")
    if tuple(hidden.shape[:2]) != real.shape or len(hidden.shape) != 3:
        raise ValueError(
            f"real: expected shape {tuple(hidden.shape[:2])} (hidden's batch and seq), got {real.shape}"
        )
    counts = real.sum(axis=1, keepdims=True)  # (batch, 1)
    if (counts == 0).any():
        raise ValueError(f"real: row {int(np.argmin(counts[:, 0]))} has no real token to average")
    weights = (real / counts).astype(hidden.dtype)  # (batch, seq), each row sums to 1
    return (hidden * weights[:, :, None]).sum(axis=1)  # (batch, d_model)


class BERT(Module):
    """Encoder-only Transformer with an MLM head and a classification head.

    Initialisation as in :class:`genai_notes.gpt.GPT`: ``N(0, 0.02²)``, and the projections
    that write into the residual stream scaled by ``1/√(2·n_layers)``. The attention mask
    hides padded keys (and, if ``causal``, later positions).
    """

    def __init__(self, config: BERTConfig) -> None:
        if not isinstance(config, BERTConfig):
            raise TypeError(f"config: expected a BERTConfig, got {describe(config)}")
        self.config = config.validate()
        rng = check_rng(config.seed, "config.seed")
        std, out_std = 0.02, 0.02 / math.sqrt(2 * config.n_layers)
        d = config.d_model
        self.wte = Embedding(config.vocab_size, d, rng=rng, std=std)
        self.wpe = Embedding(config.block_size, d, rng=rng, std=std)
        self.drop = Dropout(config.dropout, rng=rng.spawn(1)[0])
        block = FusedBlock if config.fused else Block
        self.blocks = [
            block(d, config.n_heads, config.d_ff, dropout=config.dropout, causal=config.causal,
                  rng=rng, std=std, out_std=out_std)
            for _ in range(config.n_layers)
        ]  # fmt: skip
        self.ln_f = LayerNorm(d)
        self.mlm_head = (
            None
            if config.tie_weights
            else Linear(d, config.vocab_size, bias=False, rng=rng, std=std)
        )
        self.mlm_bias = Parameter(np.zeros(config.vocab_size))
        self.cls_head = Linear(d, config.n_classes, rng=rng, std=std)

    def check_ids(self, ids: Any, name: str = "ids") -> np.ndarray:
        """``ids`` as an integer ``(batch, seq)`` array of valid ids with ``seq <= block_size``."""
        ids = check_array(ids, name, ndim=2, dtype_kind="iu")
        cfg = self.config
        if not 1 <= ids.shape[1] <= cfg.block_size:
            raise ValueError(
                f"{name}: expected 1 to block_size={cfg.block_size} tokens per row, got {ids.shape[1]}"
            )
        if ids.size and (ids.min() < 0 or ids.max() >= cfg.vocab_size):
            raise ValueError(
                f"{name}: expected token ids in [0, {cfg.vocab_size}), got values in "
                f"[{ids.min()}, {ids.max()}]"
            )
        return ids

    def attention_mask(self, ids: Any) -> np.ndarray:
        """``(batch, 1, seq)``: True on the keys a query may read, the real (non-pad) tokens.
        The same for every query: attention is bidirectional (the blocks add the causal
        mask themselves if ``causal``)."""
        return (self.check_ids(ids) != self.config.pad_id)[:, None, :]

    def hidden_states(self, ids: Any) -> list[Tensor]:
        """The residual stream after the embeddings and after each block: ``n_layers + 1``
        tensors ``(batch, seq, d_model)`` (before the final LayerNorm)."""
        ids = self.check_ids(ids)
        mask = self.attention_mask(ids)
        x = self.drop(self.wte(ids) + self.wpe.weight[: ids.shape[1]])  # (batch, seq, d)
        states = [x]
        for block in self.blocks:
            x = block(x, mask=mask)
            states.append(x)
        return states

    def forward(self, ids: Any) -> Tensor:
        """ids ``(batch, seq)`` -> the final vectors ``(batch, seq, d_model)``, normalised."""
        return self.ln_f(self.hidden_states(ids)[-1])

    def mlm_logits(self, ids: Any) -> Tensor:
        """Scores of every word at every position: ``(batch, seq, vocab_size)``."""
        head = transpose(self.wte.weight) if self.mlm_head is None else self.mlm_head.weight
        return self(ids) @ head + self.mlm_bias

    def mlm_loss(self, inputs: Any, labels: Any) -> Tensor:
        """Mean cross-entropy over the positions whose label is not :data:`IGNORE`."""
        return F.cross_entropy(self.mlm_logits(inputs), labels, ignore_index=IGNORE)

    def loss(self, inputs: Any, labels: Any) -> Tensor:
        """The pretraining loss, :meth:`mlm_loss` (what :func:`genai_notes.nn.train` calls)."""
        return self.mlm_loss(inputs, labels)

    def pool(self, hidden: Any, ids: Any, pooling: str = "cls") -> Any:
        """One vector per row from ``hidden (batch, seq, d_model)``: the first token's
        (``"cls"``) or the mean over the real tokens (``"mean"``). Returns ``(batch, d_model)``."""
        if pooling == "cls":
            return hidden[:, 0]
        if pooling == "mean":
            return mean_pool(hidden, self.check_ids(ids) != self.config.pad_id)
        raise ValueError(f"pooling: expected 'cls' or 'mean', got {describe(pooling)}")

    def classify(self, ids: Any, pooling: str = "cls") -> Tensor:
        """Class logits ``(batch, n_classes)`` from the pooled final vectors."""
        return self.cls_head(self.pool(self(ids), ids, pooling))

    def classification_loss(self, ids: Any, labels: Any, pooling: str = "cls") -> Tensor:
        """Mean cross-entropy of :meth:`classify` against integer ``labels (batch,)``."""
        return F.cross_entropy(self.classify(ids, pooling), labels)


# ----------------------------------------------------------------------------------------
# The masking


class MaskedBatch(NamedTuple):
    """What :func:`mask_tokens` returns; every array is ``(batch, seq)``."""

    inputs: np.ndarray  # what the model reads: [MASK], a random word, or the token itself
    labels: np.ndarray  # the original token where selected, IGNORE elsewhere
    action: np.ndarray  # 0 not selected, MASKED, RANDOM or KEPT


def mask_tokens(
    ids: Any,
    rng: Any,
    *,
    mask_id: int,
    n_ordinary: int,
    p: float = 0.15,
    p_mask: float = 0.8,
    p_random: float = 0.1,
) -> MaskedBatch:
    """BERT's masking of a batch ``ids (batch, seq)``.

    Ordinary tokens (ids below ``n_ordinary``; ``[CLS]``, ``[PAD]`` and the other specials
    come after them) are each selected with probability ``p``. With ``u`` and ``v`` two
    uniform draws per position, ``rng.random(ids.shape)`` each in this order, then one
    random word per position, ``rng.integers(0, n_ordinary, ids.shape)``:

    * selected: ``u < p`` on an ordinary token;
    * ``v < p_mask``: the input becomes ``mask_id``;
    * ``p_mask <= v < p_mask + p_random``: it becomes the random word (which, as in BERT's
      code, can happen to be the token itself, with probability ``1 / n_ordinary``);
    * otherwise it stays unchanged.

    >>> batch = mask_tokens(np.array([[73, 5, 6, 7, 8, 9]]), rng=5, mask_id=74,
    ...                     n_ordinary=72, p=0.5)
    >>> batch.inputs.tolist(), batch.labels.tolist(), batch.action.tolist()
    ([[73, 5, 6, 7, 74, 74]], [[-100, -100, -100, 7, 8, 9]], [[0, 0, 0, 3, 1, 1]])
    """
    ids = check_array(ids, "ids", ndim=2, dtype_kind="iu")
    rng = check_rng(rng, "rng")
    n_ordinary = check_positive_int(n_ordinary, "n_ordinary")
    mask_id = check_nonnegative_int(mask_id, "mask_id")
    if mask_id < n_ordinary:
        raise ValueError(
            f"mask_id: expected a special id (>= n_ordinary={n_ordinary}), got {mask_id}"
        )
    p, p_mask, p_random = (
        check_probability(x, n) for x, n in ((p, "p"), (p_mask, "p_mask"), (p_random, "p_random"))
    )
    if p_mask + p_random > 1.0:
        raise ValueError(
            f"p_mask, p_random: expected a sum of at most 1, got {p_mask} + {p_random}"
        )
    u = rng.random(ids.shape)  # (batch, seq): chooses the selected positions
    v = rng.random(ids.shape)  # (batch, seq): chooses what a selected token becomes
    random_words = rng.integers(0, n_ordinary, ids.shape)
    selected = (u < p) & (ids < n_ordinary)
    masked = selected & (v < p_mask)
    randomised = selected & (v >= p_mask) & (v < p_mask + p_random)
    inputs = np.where(masked, mask_id, np.where(randomised, random_words, ids))
    labels = np.where(selected, ids, IGNORE)
    action = np.select([masked, randomised, selected], [MASKED, RANDOM, KEPT], 0)
    return MaskedBatch(inputs.astype(ids.dtype), labels.astype(np.int64), action.astype(np.int8))


# ----------------------------------------------------------------------------------------
# Tokens, and blanks filled by the model and by the grammar


def bert_tokenizer() -> WordTokenizer:
    """The words of the easy synthetic language in alphabetical order (ids 0-71), then
    ``[PAD]``, ``[CLS]``, ``[MASK]`` and ``<unk>`` (72-75).

    >>> tok = bert_tokenizer()
    >>> tok.vocab_size, tok.special_tokens["[MASK]"]
    (76, 74)
    """
    words = sorted({w for s in sentence_distribution() for w in s.split()})
    return WordTokenizer(words, special_tokens=SPECIAL_TOKENS)


def encode_sentences(
    tokenizer: WordTokenizer, sentences: Sequence[str], block_size: int
) -> np.ndarray:
    """``[CLS]`` + each sentence's word ids, padded with ``[PAD]``: ``(batch, block_size)``.
    ``[MASK]`` written in a sentence becomes the mask id."""
    if isinstance(sentences, str) or not isinstance(sentences, Sequence) or not sentences:
        raise TypeError(
            f"sentences: expected a non-empty list of strings, got {describe(sentences)}"
        )
    block_size = check_positive_int(block_size, "block_size")
    specials = tokenizer.special_tokens
    rows = [[specials["[CLS]"], *tokenizer.encode(check_str(s, "sentences"), allowed_special={"[MASK]"})]
            for s in sentences]  # fmt: skip
    longest = max(len(r) for r in rows)
    if longest > block_size:
        raise ValueError(
            f"sentences: the longest needs {longest} positions with [CLS], more than block_size={block_size}"
        )
    ids = np.full((len(rows), block_size), specials["[PAD]"], dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    return ids


def fill_mask(model: BERT, tokenizer: WordTokenizer, sentences: Sequence[str]) -> np.ndarray:
    """The model's probabilities for the one ``[MASK]`` of each sentence: ``(batch, vocab)``."""
    ids = encode_sentences(tokenizer, sentences, model.config.block_size)
    mask_id = tokenizer.special_tokens["[MASK]"]
    rows, cols = np.nonzero(ids == mask_id)
    if not np.array_equal(rows, np.arange(len(ids))):
        raise ValueError("sentences: expected exactly one [MASK] in each sentence")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            logits = model.mlm_logits(ids).data[rows, cols].astype(np.float64)  # (batch, vocab)
    finally:
        model.train(was_training)
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


@functools.lru_cache(maxsize=1)
def _grammar() -> tuple[list[list[str]], np.ndarray]:
    table = sentence_distribution()
    return [s.split() for s in table], np.exp(np.array(list(table.values())))


def true_fillers(sentence: str, *, right_context: bool = True) -> dict[str, float]:
    """The grammar's exact distribution of the word in the one ``[MASK]`` of ``sentence``.

    With ``right_context`` it conditions on every other word (what a bidirectional model
    can know); without it, on the words before the blank only (what a left-to-right model
    can know). Returns word -> probability, most probable first (ties alphabetically).

    >>> true_fillers("the [MASK] rules the kingdom .")
    {'king': 0.25, 'prince': 0.25, 'princess': 0.25, 'queen': 0.25}
    >>> round(true_fillers("the [MASK] rules the kingdom .", right_context=False)["king"], 4)
    0.1065
    """
    words = check_str(sentence, "sentence").split()
    blanks = [i for i, w in enumerate(words) if w == "[MASK]"]
    if len(blanks) != 1:
        raise ValueError(
            f"sentence: expected exactly one [MASK], got {len(blanks)} in {sentence!r}"
        )
    i = blanks[0]
    totals: dict[str, float] = {}
    for other, prob in zip(*_grammar()):
        if right_context:
            fits = len(other) == len(words) and all(
                a == b for j, (a, b) in enumerate(zip(other, words)) if j != i
            )
        else:
            fits = len(other) > i and other[:i] == words[:i]
        if fits:
            totals[other[i]] = totals.get(other[i], 0.0) + float(prob)
    if not totals:
        raise ValueError(f"sentence: no sentence of the grammar fits {sentence!r}")
    total = sum(totals.values())
    return {w: totals[w] / total for w in sorted(totals, key=lambda w: (-round(totals[w], 12), w))}
