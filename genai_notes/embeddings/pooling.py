"""Sentence embeddings by mean pooling: one vector for a whole sentence.

The simplest sentence embedding is the average of its word vectors. A batch of sentences
of different lengths is padded to the longest one, and a **mask** (True on real words, False
on padding) keeps the padding out of the average:

    pooled[b] = Σ_t mask[b, t] x[b, t] / Σ_t mask[b, t]

The backward rule sits next to it: each real position receives ``grad[b] / length[b]``,
and padding positions receive nothing.

>>> x = np.array([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])  # (batch=1, seq=3, d_model=2)
>>> mean_pool(x, mask=np.array([[True, True, False]]))
array([[2., 3.]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from genai_notes._checks import check_array, check_int, check_shape, describe
from genai_notes.embeddings.vocab import Vocabulary

__all__ = ["lengths_to_mask", "pad_ids", "mean_pool", "mean_pool_backward", "embed_sentences"]


def lengths_to_mask(lengths: object, seq: int) -> np.ndarray:
    """``(batch, seq)`` bool mask, True on the first ``lengths[b]`` positions of row ``b``.

    >>> lengths_to_mask(np.array([1, 3]), 3)
    array([[ True, False, False],
           [ True,  True,  True]])
    """
    lengths = check_array(lengths, "lengths", ndim=1, dtype_kind="iu")
    seq = check_int(seq, "seq", minimum=1)
    if lengths.size and (lengths.min() < 1 or lengths.max() > seq):
        raise ValueError(f"lengths: expected integers in [1, {seq}], got {lengths.tolist()}")
    return np.arange(seq)[None, :] < lengths[:, None]


def pad_ids(sequences: Sequence[Sequence[int]], pad_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pad integer sequences to one length: ``ids (batch, seq)`` and ``mask (batch, seq)``.

    >>> ids, mask = pad_ids([[5, 6, 7], [8]])
    >>> ids.tolist(), mask.sum(axis=1).tolist()
    ([[5, 6, 7], [8, 0, 0]], [3, 1])
    """
    pad_id = check_int(pad_id, "pad_id")
    if len(sequences) == 0:
        raise ValueError("sequences: expected at least one sequence, got none")
    lengths = np.array([len(s) for s in sequences])
    if lengths.min() == 0:
        raise ValueError(f"sequences: sequence {int(np.argmin(lengths))} is empty")
    mask = lengths_to_mask(lengths, int(lengths.max()))
    ids = np.full(mask.shape, pad_id, dtype=np.int64)
    ids[mask] = np.concatenate(
        [check_array(s, "sequences", ndim=1, dtype_kind="iu") for s in sequences]
    )
    return ids, mask


def _mask_for(x: np.ndarray, mask: object | None, lengths: object | None) -> np.ndarray:
    batch, seq = x.shape[0], x.shape[1]
    if mask is not None and lengths is not None:
        raise ValueError("mask, lengths: give at most one of them, got both")
    if lengths is not None:
        mask = lengths_to_mask(lengths, seq)
    if mask is None:
        return np.ones((batch, seq), dtype=bool)
    mask = check_array(mask, "mask", ndim=2, dtype_kind="bui")
    check_shape(mask, "mask", (batch, seq))
    if not np.isin(mask, (0, 1)).all():
        raise ValueError(f"mask: expected booleans or 0/1 values, got {describe(mask)}")
    empty = np.flatnonzero(mask.sum(axis=1) == 0)
    if empty.size:
        raise ValueError(f"mask: row {empty[0]} masks out every position; its mean is undefined")
    return mask.astype(bool)


def mean_pool(x: object, mask: object | None = None, lengths: object | None = None) -> np.ndarray:
    """Average ``x: (batch, seq, d_model)`` over the real positions: ``(batch, d_model)``.

    ``mask``: ``(batch, seq)`` True on real positions; or ``lengths``: ``(batch,)`` the number
    of real positions at the start of each row. With neither, every position counts.
    """
    x = check_array(x, "x", ndim=3, dtype_kind="fiu")
    weights = _mask_for(x, mask, lengths).astype(float)  # (batch, seq)
    weights /= weights.sum(axis=1, keepdims=True)
    return (weights[:, None, :] @ x)[:, 0, :]  # (batch, 1, seq) @ (batch, seq, d_model)


def mean_pool_backward(grad_out: object, mask: object) -> np.ndarray:
    """Gradient through :func:`mean_pool`: ``grad_out (batch, d_model)`` to
    ``(batch, seq, d_model)``, given the forward pass's ``mask (batch, seq)`` (build it with
    :func:`lengths_to_mask` if you pooled with ``lengths``).

    >>> mean_pool_backward(np.array([[6.0]]), np.array([[True, True, False]]))[0, :, 0]
    array([3., 3., 0.])
    """
    grad_out = check_array(grad_out, "grad_out", ndim=2, dtype_kind="f")
    mask = check_array(mask, "mask", ndim=2, dtype_kind="bui")
    weights = _mask_for(np.empty((grad_out.shape[0], mask.shape[1], 0)), mask, None)
    weights = weights / weights.sum(axis=1, keepdims=True)  # (batch, seq)
    return weights[:, :, None] * grad_out[:, None, :]


def embed_sentences(sentences: Sequence[str], vocab: object, vectors: object) -> np.ndarray:
    """Mean-pooled embeddings ``(n_sentences, d_model)`` of whitespace-separated sentences.

    ``vocab`` is a :class:`~genai_notes.embeddings.vocab.Vocabulary` and ``vectors`` its
    ``(vocab, d_model)`` table. Unknown words raise ``KeyError``.
    """
    if not isinstance(vocab, Vocabulary):
        raise TypeError(f"vocab: expected a Vocabulary, got {type(vocab).__name__}")
    vectors = check_array(vectors, "vectors", ndim=2, dtype_kind="f")
    ids, mask = pad_ids([vocab.encode(s) for s in sentences])
    return mean_pool(vectors[ids], mask=mask)
