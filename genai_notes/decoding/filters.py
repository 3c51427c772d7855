"""Filters on next-token logits ``(batch, vocab)``, pure functions that decoding applies
before it picks a token: a repetition penalty, top-k and top-p (nucleus). A filtered-out
token gets logit ``-inf`` (probability 0). Temperature is
:func:`genai_notes.sampling.apply_temperature`, which acts on probabilities:
``apply_temperature(softmax(logits), T) == softmax(logits / T)``.

>>> top_k_filter(np.array([[0.5, 2.0, 1.0]]), 2)
array([[-inf,   2.,   1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genai_notes._checks import check_array, check_real
from genai_notes.attention import softmax
from genai_notes.sampling import apply_temperature, check_logits, ranked_tokens, top_k_filter

__all__ = [
    "apply_temperature",
    "check_logits",
    "repetition_penalty",
    "top_k_filter",
    "top_p_filter",
    "next_token_probs",
    "log_softmax",
]


def repetition_penalty(logits: Any, generated: Any, penalty: float) -> np.ndarray:
    """Make the tokens each row has already generated less likely (Keskar et al. 2019, CTRL).

    logits: ``(batch, vocab)``; generated: ids ``(batch, n)`` (n may be 0); penalty >= 1.
    For every token in a row's ``generated``, a positive logit is divided by ``penalty`` and
    a negative one multiplied by it, so either way it moves down; other tokens are unchanged.
    (CTRL divides the logit, which is the same for the positive logits it meant; multiplying
    the negative ones keeps "less likely" true for them too.) ``penalty=1`` changes nothing.

    >>> repetition_penalty(np.array([[2.0, -1.0, 0.5]]), np.array([[0, 1, 0]]), 2.0)
    array([[ 1. , -2. ,  0.5]])
    """
    logits = check_logits(logits)
    penalty = check_real(penalty, "penalty", low=1.0)
    generated = check_array(generated, "generated", ndim=2, dtype_kind="iu")
    if generated.shape[0] != logits.shape[0]:
        raise ValueError(
            f"generated: expected {logits.shape[0]} rows (one per row of logits), "
            f"got shape {generated.shape}"
        )
    if generated.size and (generated.min() < 0 or generated.max() >= logits.shape[1]):
        raise ValueError(f"generated: expected ids in [0, {logits.shape[1]}), got out of range")
    seen = np.zeros(logits.shape, dtype=bool)  # (batch, vocab): True where already generated
    seen[np.arange(logits.shape[0])[:, None], generated] = True
    scaled = np.where(logits > 0, logits / penalty, logits * penalty)
    return np.where(seen, scaled, logits)


def top_p_filter(logits: Any, p: float) -> np.ndarray:
    """Nucleus filter (Holtzman et al. 2020): keep the smallest set of most likely tokens
    whose probability reaches ``p``; the others become ``-inf``.

    logits: ``(batch, vocab)``; p in (0, 1]. Tokens are added from the most likely down (ties:
    the lower id first) until their total probability is at least ``p``; the token that
    crosses ``p`` is kept. In symbols, with probabilities ``π`` sorted so, token ``j`` is kept
    when the probability *before* it, ``π_1 + ... + π_(j-1)``, is below ``p - 1e-12`` (the
    small margin stops round-off in the sum from adding one more token). The most likely
    token is always kept; ``p=1`` keeps every token of non-zero probability.

    >>> logits = np.log(np.array([[0.5, 0.125, 0.25, 0.125]]))
    >>> np.isfinite(top_p_filter(logits, 0.7))   # 0.5, then 0.25 crosses 0.7
    array([[ True, False,  True, False]])
    >>> np.isfinite(top_p_filter(logits, 0.75))  # 0.5 + 0.25 reaches 0.75 exactly
    array([[ True, False,  True, False]])
    """
    logits = check_logits(logits)
    p = check_real(p, "p", low=0.0, high=1.0, low_inclusive=False)
    order = ranked_tokens(logits)  # (batch, vocab)
    rows = np.arange(logits.shape[0])[:, None]
    probs = softmax(logits, axis=1)[rows, order]  # (batch, vocab), sorted, largest first
    before = np.cumsum(probs, axis=1) - probs  # probability of the tokens ranked above
    keep_sorted = (before < p - 1e-12) & (probs > 0)
    keep_sorted[:, 0] = True
    keep = np.zeros(logits.shape, dtype=bool)
    keep[rows, order] = keep_sorted
    return np.where(keep, logits, -np.inf)


def next_token_probs(
    logits: Any,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    penalty: float = 1.0,
    generated: Any = None,
) -> np.ndarray:
    """The distribution :func:`sample` draws from: logits ``(batch, vocab)`` -> probabilities
    ``(batch, vocab)``, in this order: repetition penalty (on ``generated (batch, n)``),
    temperature, top-k, top-p. Temperature comes before top-p because it changes which
    tokens make up probability ``p``; it does not change the order, so top-k is the same
    before or after it.

    >>> next_token_probs(np.log([[0.5, 0.3, 0.2]]), top_k=2).round(3)
    array([[0.625, 0.375, 0.   ]])
    """
    logits = check_logits(logits)
    if penalty != 1.0:
        if generated is None:
            raise ValueError("generated: a repetition penalty needs the generated ids, got None")
        logits = repetition_penalty(logits, generated, penalty)
    probs = apply_temperature(softmax(logits, axis=1), temperature)  # softmax(logits / T)
    if top_k is None and top_p is None:
        return probs
    with np.errstate(divide="ignore"):
        logits = np.log(probs)  # log-probabilities are logits too; a zero becomes -inf
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return softmax(logits, axis=1)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities of each row of ``logits (batch, vocab)``, computed stably.

    >>> log_softmax(np.array([[0.0, np.log(3.0)]])).round(4)
    array([[-1.3863, -0.2877]])
    """
    logits = check_logits(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
