"""A long-range task with a dial for distance: remember a cue across ``k`` distractors.

Each example is a row of ``seq`` tokens. One of them is a **marker**, one of ``n_markers``
special tokens ``<A>``, ``<B>``, ...; every other token is a word of the synthetic language
(:mod:`genai_notes.data.sentences`), read from a stream of its sentences, so the distractors
look like text. The marker sits ``k`` tokens before the end: ``k`` distractors follow it. The
label is the marker's index, so it is exact by construction, and a model that reads the row
to its last token must carry the marker across ``k`` steps. ``k`` is chosen by the caller,
one for all rows or one per row; with ``seq = k + 1`` the marker comes first.

Token ids: the markers are ``0 .. n_markers - 1``, then the language's 72 words in sorted
order (:func:`cue_vocabulary`).

>>> batch = cue_distance_task(2, k=3, seed=0)
>>> batch.ids.shape, batch.labels.tolist(), batch.distance.tolist()
((2, 4), [3, 2], [3, 3])
>>> batch.text(0)
'<D> king eats the'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from genai_notes._checks import check_array, check_int, check_positive_int, check_rng, describe
from genai_notes.data.sentences import generate_corpus, sentence_distribution

__all__ = ["CueBatch", "cue_vocabulary", "cue_distance_task", "MAX_MARKERS"]

MAX_MARKERS = 8
_MARKERS = tuple(f"<{letter}>" for letter in "ABCDEFGH")


@functools.cache
def _words() -> tuple[str, ...]:
    """Every word of the English synthetic language, sorted (exact: from its enumeration)."""
    return tuple(sorted({w for s in sentence_distribution("en") for w in s.split()}))


def _check_markers(n_markers: Any) -> int:
    n_markers = check_int(n_markers, "n_markers", minimum=2)
    if n_markers > MAX_MARKERS:
        raise ValueError(f"n_markers: expected at most {MAX_MARKERS}, got {n_markers}")
    return n_markers


def cue_vocabulary(n_markers: int = 4) -> tuple[str, ...]:
    """The tokens of the task: ``n_markers`` markers, then the language's words.

    >>> vocab = cue_vocabulary(2)
    >>> vocab[:3], len(vocab)
    (('<A>', '<B>', '.'), 74)
    """
    return _MARKERS[: _check_markers(n_markers)] + _words()


@dataclass(frozen=True)
class CueBatch:
    """Examples of the cue-distance task."""

    ids: np.ndarray  # (n, seq) int64 token ids; exactly one marker per row
    labels: np.ndarray  # (n,) int64: which marker, 0 .. n_markers - 1 (the marker's id)
    distance: np.ndarray  # (n,) int64: tokens after the marker, k
    vocab: tuple[str, ...]  # id -> token

    def text(self, i: int) -> str:
        """Row ``i`` as text."""
        i = check_int(i, "i", minimum=0)
        if i >= len(self.ids):
            raise ValueError(f"i: expected a row below {len(self.ids)}, got {i}")
        return " ".join(self.vocab[t] for t in self.ids[i])


def cue_distance_task(
    n: int, k: Any, *, seq: int | None = None, n_markers: int = 4, seed: Any = 0
) -> CueBatch:
    """``n`` rows of ``seq`` tokens with a marker ``k`` tokens before the end.

    k: an int for every row, or an integer array ``(n,)``, one distance per row, each in
    ``[0, seq - 1]``. seq: the row length, at least ``max(k) + 1`` (the default). The labels
    are drawn uniformly from the markers, the distractors from a stream of sentences of the
    synthetic language, both from ``seed`` (an int or a Generator).

    >>> batch = cue_distance_task(3, k=np.array([0, 2, 4]), seq=6, seed=1)
    >>> [row.index(label) for row, label in zip(batch.ids.tolist(), batch.labels.tolist())]
    [5, 3, 1]
    """
    n = check_positive_int(n, "n")
    n_markers = _check_markers(n_markers)
    rng = check_rng(seed, "seed")
    if isinstance(k, bool):
        raise TypeError(f"k: expected an integer or an integer array (n,), got {describe(k)}")
    distance = check_array(k, "k", ndim=(0, 1), dtype_kind="iu").astype(np.int64)
    if distance.ndim == 0:
        distance = np.full(n, int(distance))
    if distance.shape != (n,):
        raise ValueError(f"k: expected one distance per row, shape ({n},), got {distance.shape}")
    if distance.min() < 0:
        raise ValueError(f"k: expected distances >= 0, got {int(distance.min())}")
    longest = int(distance.max())
    seq = longest + 1 if seq is None else check_positive_int(seq, "seq")
    if seq <= longest:
        raise ValueError(f"seq: expected at least max(k) + 1 = {longest + 1}, got {seq}")
    vocab = cue_vocabulary(n_markers)
    index = {word: i for i, word in enumerate(vocab)}
    labels = rng.integers(n_markers, size=n)
    stream: list[int] = []
    while len(stream) < n * seq:  # about 8 words a sentence
        for sentence in generate_corpus((n * seq - len(stream)) // 8 + 1, seed=rng):
            stream += [index[w] for w in sentence.split()]
    ids = np.array(stream[: n * seq], dtype=np.int64).reshape(n, seq)
    ids[np.arange(n), seq - 1 - distance] = labels  # the marker, k tokens before the end
    return CueBatch(ids, labels.astype(np.int64), distance, vocab)
