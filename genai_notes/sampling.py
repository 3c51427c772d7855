"""Turning a probability distribution into choices: temperature and sampling.

Chapter 1 uses temperature on a bigram model; chapter 9 adds the other decoding rules.

>>> apply_temperature(np.array([0.5, 0.25, 0.25]), 1.0)
array([0.5 , 0.25, 0.25])
>>> apply_temperature(np.array([0.5, 0.25, 0.25]), 0.5).round(4)
array([0.6667, 0.1667, 0.1667])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genai_notes._checks import check_array, check_positive_int, check_real, check_rng

__all__ = [
    "apply_temperature",
    "sample_categorical",
    "check_distributions",
    "check_logits",
    "ranked_tokens",
    "top_k_filter",
]


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Sharpen (T < 1) or flatten (T > 1) distributions: p_i^(1/T) / sum_j p_j^(1/T).

    probs: (..., n_options), each row summing to 1. Returns the same shape.
    Dividing log-probabilities by T is the same rule, so this equals
    ``softmax(logits / T)`` when ``probs = softmax(logits)``. Zero-probability options stay
    at zero. Work happens in log space so that small T does not underflow to 0/0.
    """
    temperature = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
    probs = check_distributions(probs)
    with np.errstate(divide="ignore"):
        log_probs = np.log(probs)
    # Shift before dividing: the largest entry becomes 0 and stays 0 for any T, so a tiny T
    # gives (near-)greedy rows instead of -inf - (-inf) = NaN.
    shifted = log_probs - log_probs.max(axis=-1, keepdims=True)
    with np.errstate(over="ignore"):
        weights = np.exp(shifted / temperature)
    return weights / weights.sum(axis=-1, keepdims=True)


def check_distributions(probs: Any, name: str = "probs") -> np.ndarray:
    """``probs`` as a float array of rows ``(..., n_options)``, each non-negative, finite and
    summing to 1 (within 1e-6), with at least one option. Returns float64.

    >>> check_distributions([0.5, 0.6])
    Traceback (most recent call last):
    ...
    ValueError: probs: expected each row to sum to 1, got a row summing to 1.1
    """
    probs = check_array(probs, name, dtype_kind="fiu").astype(float)
    if probs.ndim == 0 or probs.shape[-1] == 0:
        raise ValueError(
            f"{name}: expected at least one option on the last axis, got shape {probs.shape}"
        )
    if np.any(probs < 0):
        raise ValueError(f"{name}: expected non-negative probabilities, got min {probs.min():.4g}")
    sums = probs.sum(axis=-1)
    bad = np.abs(sums - 1.0) > 1e-6
    if bad.any():
        raise ValueError(
            f"{name}: expected each row to sum to 1, got a row summing to {sums[bad].flat[0]:.4g}"
        )
    return probs


def sample_categorical(probs: np.ndarray, rng: np.random.Generator | int) -> np.ndarray:
    """Draw one index from each row of ``probs`` (..., n_options). Returns shape (...).

    One uniform number per row is compared with the row's cumulative sum, so a whole batch
    of rows is sampled without a Python loop.

    >>> sample_categorical(np.array([[0.0, 1.0], [1.0, 0.0]]), rng=0)
    array([1, 0])
    """
    rng = check_rng(rng, "rng")
    probs = check_distributions(probs)
    cumulative = np.cumsum(probs, axis=-1)
    u = rng.random(probs.shape[:-1] + (1,)) * cumulative[..., -1:]
    index = (cumulative <= u).sum(axis=-1)
    # Rounding can push u past the last cumulative value; clip to a valid option.
    return np.minimum(index, probs.shape[-1] - 1)


# Logits filters shared by GPT.generate (Chapter 8) and the decoding strategies (Chapter 9);
# the others live in genai_notes.decoding.filters.


def check_logits(logits: Any, name: str = "logits") -> np.ndarray:
    """``logits`` as float64 ``(batch, vocab)``: no NaN or ``+inf``; ``-inf`` (a token already
    filtered out) is allowed, but every row keeps at least one finite logit.

    >>> check_logits([[0.0, np.nan]])
    Traceback (most recent call last):
    ...
    ValueError: logits: expected real logits or -inf, got NaN or +inf in an array of shape (1, 2)
    """
    logits = check_array(logits, name, ndim=2, dtype_kind="fiu", finite=False)
    logits = logits.astype(np.float64)
    if np.isnan(logits).any() or np.isposinf(logits).any():
        raise ValueError(
            f"{name}: expected real logits or -inf, got NaN or +inf in an array of shape "
            f"{logits.shape}"
        )
    if logits.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one token (vocab >= 1), got {logits.shape}")
    if not np.isfinite(logits).any(axis=1).all():
        row = int(np.flatnonzero(~np.isfinite(logits).any(axis=1))[0])
        raise ValueError(f"{name}: row {row} has no token left (every logit is -inf)")
    return logits


def ranked_tokens(logits: np.ndarray) -> np.ndarray:
    """Token ids of each row from the largest logit down; ties: the lower id first."""
    return np.argsort(-logits, axis=1, kind="stable")  # (batch, vocab)


def top_k_filter(logits: Any, k: int) -> np.ndarray:
    """Keep the ``k`` largest logits of each row ``(batch, vocab)``; the others become
    ``-inf``. Ties go to the lower token id, so exactly ``min(k, vocab)`` tokens stay
    (fewer only if a row had fewer finite logits to begin with).

    >>> top_k_filter(np.array([[1.0, 3.0, 2.0, 3.0]]), 2)
    array([[-inf,   3., -inf,   3.]])
    """
    logits = check_logits(logits)
    k = check_positive_int(k, "k")
    keep = np.zeros(logits.shape, dtype=bool)
    rows = np.arange(logits.shape[0])[:, None]
    keep[rows, ranked_tokens(logits)[:, :k]] = True
    return np.where(keep, logits, -np.inf)
