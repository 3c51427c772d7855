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

from genai_notes._checks import check_array, check_real, check_rng

__all__ = ["apply_temperature", "sample_categorical", "check_distributions"]


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
