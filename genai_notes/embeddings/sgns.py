"""The pieces of skip-gram with negative sampling (SGNS), word2vec's training objective.

Skip-gram turns a corpus into (centre, context) pairs: every word is paired with each word
at most ``window`` positions away in the same sentence. Each pair is a *positive* example;
``K`` words drawn from a noise distribution are *negatives*. With ``c`` the centre word's input
vector, ``o`` the context word's output vector and ``n_k`` the negatives' output vectors, the
loss of one pair is (Mikolov et al., 2013, "Distributed Representations of Words and Phrases")

    L = -log σ(c · o) - Σ_k log σ(-c · n_k)

so training pushes ``c · o`` up and every ``c · n_k`` down. Its gradients, derived by hand
with ``dσ(s)/ds = σ(s)(1 - σ(s))`` and so ``d(-log σ(s))/ds = σ(s) - 1``:

    dL/d(c · o)   = σ(c · o) - 1                  (negative: push the score up)
    dL/d(c · n_k) = σ(c · n_k)                    (positive: push the score down)
    dL/dc   = (σ(c · o) - 1) o + Σ_k σ(c · n_k) n_k
    dL/do   = (σ(c · o) - 1) c
    dL/dn_k = σ(c · n_k) c

:func:`sgns_loss` computes the loss and these gradients together, for a batch of pairs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from genai_notes._checks import check_array, check_positive_int, check_real, check_rng, check_shape

__all__ = [
    "log_sigmoid",
    "sigmoid",
    "SGNSGrads",
    "sgns_loss",
    "skipgram_pairs",
    "subsample_keep_probs",
    "noise_distribution",
]


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log σ(x) = -log(1 + e^{-x})``, without overflow for large ``|x|``.

    >>> log_sigmoid(np.array([-1000.0, 0.0, 1000.0])).round(4).tolist()
    [-1000.0, -0.6931, -0.0]
    """
    return -np.logaddexp(0.0, -np.asarray(x, dtype=float))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``σ(x) = 1 / (1 + e^{-x})``, without overflow for large ``|x|``.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    return np.exp(log_sigmoid(x))


class SGNSGrads(NamedTuple):
    """Gradients of the summed loss: ``center (batch, d)``, ``context (batch, d)``,
    ``negatives (batch, K, d)``."""

    center: np.ndarray
    context: np.ndarray
    negatives: np.ndarray


def sgns_loss(
    center: np.ndarray,
    context: np.ndarray,
    negatives: np.ndarray,
    negative_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, SGNSGrads]:
    """The SGNS loss of a batch of pairs, and its gradients (forward and backward together).

    center: ``(batch, d)`` input vectors of the centre words; context: ``(batch, d)`` output
    vectors of the context words; negatives: ``(batch, K, d)`` output vectors of the noise
    words. ``negative_mask``: optional ``(batch, K)`` bool, False for a negative to ignore
    (word2vec skips a noise word that happens to equal the true context word).

    Returns the loss of every pair, ``(batch,)``, and the gradients of their **sum**.

    >>> c = np.array([[1.0, 0.0]]); o = np.array([[2.0, 0.0]]); n = np.array([[[0.0, 3.0]]])
    >>> loss, grads = sgns_loss(c, o, n)
    >>> round(float(loss[0]), 4)  # -log σ(2) - log σ(0) = 0.1269 + 0.6931
    0.8201
    >>> grads.context[0, 0].round(4)  # (σ(2) - 1) c
    np.float64(-0.1192)
    """
    center = check_array(center, "center", ndim=2, dtype_kind="f")
    batch, d = center.shape
    context = check_shape(check_array(context, "context", dtype_kind="f"), "context", (batch, d))
    negatives = check_array(negatives, "negatives", ndim=3, dtype_kind="f")
    check_shape(negatives, "negatives", (batch, None, d))

    pos_score = (center[:, None, :] @ context[:, :, None])[:, 0, 0]  # (batch,)
    neg_score = (negatives @ center[:, :, None])[:, :, 0]  # (batch, K)
    neg_loss = -log_sigmoid(-neg_score)  # (batch, K)
    neg_grad = sigmoid(neg_score)  # dL/d(c·n_k), (batch, K)
    if negative_mask is not None:
        negative_mask = check_array(negative_mask, "negative_mask", dtype_kind="b")
        check_shape(negative_mask, "negative_mask", neg_score.shape)
        neg_loss = neg_loss * negative_mask
        neg_grad = neg_grad * negative_mask
    loss = -log_sigmoid(pos_score) + neg_loss.sum(axis=1)  # (batch,)

    pos_grad = sigmoid(pos_score) - 1.0  # dL/d(c·o), (batch,)
    grad_center = pos_grad[:, None] * context + (neg_grad[:, None, :] @ negatives)[:, 0, :]
    grad_context = pos_grad[:, None] * center  # (batch, d)
    grad_negatives = neg_grad[:, :, None] * center[:, None, :]  # (batch, K, d)
    return loss, SGNSGrads(grad_center, grad_context, grad_negatives)


def skipgram_pairs(
    ids: np.ndarray,
    sentence: np.ndarray,
    window: int,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every (centre, context) pair at most ``window`` positions apart within one sentence.

    ids: ``(n_tokens,)`` word ids of the whole corpus laid end to end; sentence: ``(n_tokens,)``
    the sentence each token belongs to (pairs never cross a sentence boundary). Built with
    one array comparison per offset, never a loop over tokens.

    With ``rng`` given, each centre word draws its own window ``b`` uniformly from
    ``1..window`` and keeps only contexts within ``b`` (word2vec's "dynamic window"): a
    context at distance ``o`` survives with probability ``(window - o + 1) / window``, so near
    words count more than far ones.

    Returns ``(centres, contexts)``, two ``(n_pairs,)`` arrays: for offset 1 the pairs whose
    context is to the right, then those whose context is to the left, then offset 2, ...

    >>> c, o = skipgram_pairs(np.array([5, 6, 7, 8]), np.array([0, 0, 0, 1]), window=1)
    >>> c.tolist(), o.tolist()
    ([5, 6, 6, 7], [6, 7, 5, 6])
    """
    ids = check_array(ids, "ids", ndim=1, dtype_kind="iu")
    sentence = check_array(sentence, "sentence", ndim=1, dtype_kind="iu")
    check_shape(sentence, "sentence", ids.shape)
    window = check_positive_int(window, "window")
    reach = None if rng is None else check_rng(rng, "rng").integers(1, window + 1, size=ids.shape)
    centres, contexts = [ids[:0]], [ids[:0]]  # (0,) each: no pairs for a one-token corpus
    # Offsets beyond the corpus give no pairs: a huge window must not loop over them.
    for offset in range(1, min(window, ids.size - 1) + 1):  # over offsets, not tokens
        left, right = slice(None, -offset), slice(offset, None)
        same = sentence[left] == sentence[right]  # (n_tokens - offset,)
        if reach is None:
            forward = backward = same
        else:
            forward = same & (reach[left] >= offset)  # the left word is the centre
            backward = same & (reach[right] >= offset)  # the right word is the centre
        centres += [ids[left][forward], ids[right][backward]]
        contexts += [ids[right][forward], ids[left][backward]]
    return np.concatenate(centres), np.concatenate(contexts)


def subsample_keep_probs(frequencies: np.ndarray, threshold: float) -> np.ndarray:
    """Probability of keeping each occurrence of a word, from its corpus frequency.

    Mikolov et al. (2013) discard each occurrence of word ``w`` with probability
    ``1 - sqrt(t / f(w))``, where ``f(w)`` is the word's share of all tokens and ``t`` a
    threshold (they used about 1e-5 on billions of words). So a word is kept with probability
    ``min(1, sqrt(t / f(w)))``: words rarer than ``t`` are always kept, and very frequent
    words such as "the" lose most of their occurrences. They carry little information about
    their neighbours, and dropping them both speeds training and lets the window reach
    further. (The released word2vec code uses a slightly different formula,
    ``(sqrt(f/t) + 1) t / f``; we follow the paper.)

    frequencies: ``(vocab,)`` shares summing to 1. Returns ``(vocab,)`` probabilities.

    >>> subsample_keep_probs(np.array([0.64, 0.32, 0.04]), threshold=0.04)
    array([0.25      , 0.35355339, 1.        ])
    """
    frequencies = check_array(frequencies, "frequencies", ndim=1, dtype_kind="f")
    if np.any(frequencies <= 0):
        raise ValueError("frequencies: expected positive shares, got a zero or negative entry")
    threshold = check_real(threshold, "threshold", low=0.0, low_inclusive=False)
    return np.minimum(1.0, np.sqrt(threshold / frequencies))


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """The distribution negatives are drawn from: ``counts ** power``, normalised.

    Mikolov et al. (2013) found the unigram distribution raised to the 3/4 power worked best:
    it samples frequent words less, and rare words more, than their raw frequency.

    counts: ``(vocab,)`` word counts. Returns ``(vocab,)`` probabilities summing to 1.

    >>> noise_distribution(np.array([16, 1]), power=0.75)
    array([0.88888889, 0.11111111])
    """
    counts = check_array(counts, "counts", ndim=1, dtype_kind="fiu")
    if counts.size == 0 or np.any(counts <= 0):
        raise ValueError("counts: expected a non-empty array of positive counts")
    power = check_real(power, "power", low=0.0)
    weights = counts.astype(float) ** power
    return weights / weights.sum()
