"""Train word vectors with skip-gram and negative sampling (word2vec), vectorised in NumPy.

One epoch:

1. **subsample**: drop each occurrence of a frequent word with Mikolov's probability
   (:func:`~genai_notes.embeddings.sgns.subsample_keep_probs`);
2. **pair**: build every (centre, context) pair of the epoch with array operations
   (:func:`~genai_notes.embeddings.sgns.skipgram_pairs`), and shuffle them;
3. **train**: for each mini-batch of pairs, draw ``K`` negatives per pair from the unigram
   distribution raised to the 3/4 power, compute the loss and its hand-derived gradients
   (:func:`~genai_notes.embeddings.sgns.sgns_loss`), and take a plain SGD step. Words that
   appear several times in a batch receive the sum of their gradients, scattered with
   ``np.add.at``, as if the pairs had been processed one after the other.

The learning rate falls linearly to almost zero over training, as in the original word2vec.
Each word has two vectors: an *input* vector (its row of ``w_in``, used when it is the centre)
and an *output* vector (``w_out``, used when it is a context or a negative). As is usual, the
input vectors are the word embeddings.

>>> corpus = ["the cat eats the fish .", "the dog eats the bone ."] * 50
>>> model = train_word2vec(corpus, Word2VecConfig(d_model=8, epochs=2, seed=0), progress=False)
>>> model.w_in.shape, len(model.loss_history) > 0
((7, 8), True)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from genai_notes._checks import check_positive_int, check_real, check_rng
from genai_notes.embeddings.neighbours import WordVectors
from genai_notes.embeddings.sgns import (
    noise_distribution,
    sgns_loss,
    skipgram_pairs,
    subsample_keep_probs,
)
from genai_notes.embeddings.table import scatter_add_rows
from genai_notes.embeddings.vocab import Vocabulary, split_sentences

__all__ = ["Word2VecConfig", "Word2Vec", "train_word2vec", "corpus_ids"]


@dataclass(frozen=True)
class Word2VecConfig:
    """Settings for :func:`train_word2vec`."""

    d_model: int = 32  # length of each word vector
    window: int = 5  # largest distance between a centre word and a context word
    dynamic_window: bool = True  # draw each centre's window from 1..window (near words count more)
    negatives: int = 5  # noise words drawn for every (centre, context) pair
    noise_power: float = 0.75  # negatives come from counts ** noise_power, normalised
    subsample: float | None = 1e-2  # Mikolov's threshold t for dropping frequent words; None: off
    min_count: int = 1  # words seen fewer times than this are left out of the vocabulary
    epochs: int = 5  # passes over the corpus (each with fresh subsampling and shuffling)
    batch_size: int = 256  # (centre, context) pairs per SGD step
    lr: float = 0.025  # learning rate at the start; it falls linearly towards 0 over training
    min_lr_fraction: float = 1e-4  # a floor for the learning rate, as a fraction of lr
    seed: int = 0  # seeds the initial vectors, subsampling, windows, shuffling and negatives

    def __post_init__(self) -> None:
        for name in ("d_model", "window", "negatives", "min_count", "epochs", "batch_size"):
            check_positive_int(getattr(self, name), name)
        check_real(self.noise_power, "noise_power", low=0.0)
        check_real(self.lr, "lr", low=0.0, low_inclusive=False)
        check_real(self.min_lr_fraction, "min_lr_fraction", low=0.0, high=1.0)
        if self.subsample is not None:
            check_real(self.subsample, "subsample", low=0.0, low_inclusive=False)
        check_rng(self.seed)


@dataclass
class Word2Vec:
    """A trained model: its vocabulary, both vector tables and the loss during training.

    w_in: ``(vocab, d_model)`` input (centre) vectors, the embeddings.
    w_out: ``(vocab, d_model)`` output (context) vectors.
    loss_history: mean loss per pair of every mini-batch, in training order.
    """

    vocab: Vocabulary
    w_in: np.ndarray
    w_out: np.ndarray
    config: Word2VecConfig
    loss_history: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def vectors(self) -> WordVectors:
        """The input vectors wrapped for similarity, neighbour and analogy queries."""
        return WordVectors(self.vocab.words, self.w_in)


def corpus_ids(sentences: list[list[str]], vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """The corpus laid end to end: ``(n_tokens,)`` word ids and the sentence of each token.
    Words missing from ``vocab`` (below ``min_count``) are dropped."""
    ids = [vocab.encode(words, skip_unknown=True) for words in sentences]
    lengths = np.array([len(s) for s in ids])
    sentence = np.repeat(np.arange(len(ids)), lengths)
    return np.concatenate(ids), sentence


def train_word2vec(
    sentences: str | Iterable[str],
    config: Word2VecConfig | None = None,
    progress: bool = True,
) -> Word2Vec:
    """Train skip-gram with negative sampling on ``sentences`` (strings of words).

    ``progress`` shows a progress bar (one step per epoch); turn it off in notebooks whose
    outputs must be identical run after run.
    """
    config = Word2VecConfig() if config is None else config
    if not isinstance(config, Word2VecConfig):
        raise TypeError(f"config: expected a Word2VecConfig, got {type(config).__name__}")
    words = split_sentences(sentences)
    vocab = Vocabulary.build([" ".join(w) for w in words], min_count=config.min_count)
    ids, sentence = corpus_ids(words, vocab)
    rng = check_rng(config.seed)
    vocab_size, d = len(vocab), config.d_model

    # word2vec's initialisation: small random input vectors, zero output vectors.
    w_in = (rng.random((vocab_size, d)) - 0.5) / d
    w_out = np.zeros((vocab_size, d))
    keep = (
        np.ones(vocab_size)
        if config.subsample is None
        else subsample_keep_probs(vocab.frequencies, config.subsample)
    )
    noise_cdf = np.cumsum(noise_distribution(vocab.counts, config.noise_power))
    noise_cdf[-1] = 1.0  # guard against rounding leaving the last bin just short of 1

    lr_floor = config.lr * config.min_lr_fraction
    losses: list[float] = []

    epochs = tqdm(range(config.epochs), desc="word2vec", unit="epoch", disable=not progress)
    for epoch in epochs:
        kept = rng.random(ids.shape) < keep[ids]  # (n_tokens,) subsampling
        centres, contexts = skipgram_pairs(
            ids[kept], sentence[kept], config.window, rng if config.dynamic_window else None
        )
        if len(centres) == 0:  # everything subsampled away, or one-word sentences
            continue
        order = rng.permutation(len(centres))
        centres, contexts = centres[order], contexts[order]
        n_batches = -(-len(centres) // config.batch_size)
        for batch, start in enumerate(range(0, len(centres), config.batch_size)):
            c_ids = centres[start : start + config.batch_size]  # (batch,)
            o_ids = contexts[start : start + config.batch_size]  # (batch,)
            n_ids = np.searchsorted(noise_cdf, rng.random((len(c_ids), config.negatives)))
            done = (epoch + batch / n_batches) / config.epochs  # fraction of training done
            lr = max(lr_floor, config.lr * (1.0 - done))
            loss, grads = sgns_loss(
                w_in[c_ids], w_out[o_ids], w_out[n_ids], negative_mask=n_ids != o_ids[:, None]
            )
            w_in -= lr * scatter_add_rows(c_ids, grads.center, vocab_size)
            w_out -= lr * (
                scatter_add_rows(o_ids, grads.context, vocab_size)
                + scatter_add_rows(n_ids, grads.negatives, vocab_size)
            )
            losses.append(float(loss.mean()))
        if losses:
            epochs.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
    if not losses:
        raise ValueError(
            "sentences: the corpus gave no (centre, context) pairs; sentences need at least two "
            "words that survive subsampling"
        )
    return Word2Vec(vocab, w_in, w_out, config, np.array(losses))
