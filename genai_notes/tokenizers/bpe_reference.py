"""Byte-pair encoding, the readable way: count every pair, merge the most frequent, repeat.

Training starts from bytes. Each distinct pre-tokenized piece (see ``pretokenize``) becomes
the list of its UTF-8 byte values, ids 0 to 255, and is counted once with its frequency. Then,
``n_merges`` times:

1. count every adjacent pair of ids, over all pieces, weighted by piece frequency;
2. pick the most frequent pair. **Tie-break:** among pairs with the same count, the
   lexicographically smallest pair of ids, ``min((a, b))``. This makes training deterministic
   and is what both trainers in this package do;
3. give it the next free id (256, 257, ...) and replace it, left to right, in every piece.

Training stops early, with fewer merges than asked for, when no pair is left: every piece has
become a single token.

This trainer recounts every pair after each merge, so it costs (number of merges) x (size of
the corpus). ``bpe_fast`` gives the identical merges while touching only the pieces a merge
changed.

**Encoding** one pre-tokenized piece (``encode_piece``) replays what training learned: start
from the piece's bytes, and merge the adjacent pair with the lowest rank (the earliest learned
merge) until no learned pair is left. ``bpe_fast`` has a faster encoder that gives the same ids.

>>> history = train_reference({"hug": 10, "pug": 5, "hugs": 5}, n_merges=2)
>>> [(r.pair, r.count, r.token) for r in history]
[((117, 103), 20, b'ug'), ((104, 256), 15, b'hug')]
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genai_notes._checks import (
    check_int,
    check_nonnegative_int,
    check_positive_int,
    check_str,
    describe,
)

__all__ = [
    "MergeRecord",
    "pair_counts",
    "merge",
    "train_reference",
    "encode_piece",
    "check_piece_counts",
]


@dataclass(frozen=True)
class MergeRecord:
    """One step of BPE training: which pair was merged, how often it occurred, the result.

    >>> MergeRecord(pair=(104, 101), count=3, new_id=256, token=b"he")
    MergeRecord(pair=(104, 101), count=3, new_id=256, token=b'he')
    """

    pair: tuple[int, int]  # the two ids merged, left then right
    count: int  # occurrences of the pair in the corpus when it was chosen
    new_id: int  # the id given to the merged token
    token: bytes  # the bytes the new token stands for


def pair_counts(
    ids: Sequence[Hashable], weight: int = 1, counts: dict[Any, int] | None = None
) -> dict[Any, int]:
    """Count adjacent pairs in ``ids``, adding ``weight`` per occurrence into ``counts``.

    Pairs appear in the order they are first met. Pass ``counts`` to accumulate over pieces.

    >>> pair_counts([1, 2, 3, 1, 2])
    {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    >>> pair_counts([5, 5, 5], weight=10)
    {(5, 5): 20}
    """
    check_int(weight, "weight")
    counts = {} if counts is None else counts
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + weight
    return counts


def merge(ids: Sequence[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``ids`` by ``new_id``, scanning left to right.

    Occurrences never overlap: in ``a a a`` the pair ``(a, a)`` is merged once, at the left.

    >>> merge([1, 2, 3, 1, 2], (1, 2), 9)
    [9, 3, 9]
    >>> merge([7, 7, 7], (7, 7), 8)
    [8, 7]
    """
    if not (isinstance(pair, tuple) and len(pair) == 2):
        raise TypeError(f"pair: expected a tuple of two ids, got {describe(pair)}")
    check_int(new_id, "new_id")
    first, second = pair
    out: list[int] = []
    i = 0
    while i < len(ids):
        if ids[i] == first and i + 1 < len(ids) and ids[i + 1] == second:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def check_piece_counts(piece_counts: Any) -> dict[str, int]:
    """Check a mapping from distinct text pieces to positive counts, as training expects.

    >>> check_piece_counts({"ab": 2})
    {'ab': 2}
    >>> check_piece_counts({})
    Traceback (most recent call last):
    ...
    ValueError: text: expected a non-empty training corpus, got no text to train on
    """
    if not isinstance(piece_counts, Mapping):
        raise TypeError(
            f"piece_counts: expected a mapping from str to counts, got {describe(piece_counts)}"
        )
    if not piece_counts:
        raise ValueError("text: expected a non-empty training corpus, got no text to train on")
    for piece, count in piece_counts.items():
        if not isinstance(piece, str) or not piece:
            raise TypeError(f"piece_counts: keys must be non-empty strings, got {describe(piece)}")
        check_positive_int(count, f"piece_counts[{piece!r}]")
    return dict(piece_counts)


def utf8(text: str, name: str = "text") -> bytes:
    """UTF-8 bytes of ``text``, with a clear error for lone surrogates (they have none).

    >>> utf8("é")
    b'\\xc3\\xa9'
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{name}: the lone surrogate {text[exc.start]!r} at position {exc.start} has no "
            "UTF-8 encoding, so a byte-level tokenizer cannot represent it"
        ) from None


def train_reference(piece_counts: Mapping[str, int], n_merges: int) -> list[MergeRecord]:
    """Learn up to ``n_merges`` merges from ``{piece: count}``, recounting pairs every step.

    >>> [r.token for r in train_reference({"aaab": 1}, n_merges=5)]
    [b'aa', b'ab', b'aaab']
    """
    pieces = check_piece_counts(piece_counts)
    check_nonnegative_int(n_merges, "n_merges")
    words = [list(utf8(piece)) for piece in pieces]
    freqs = list(pieces.values())
    token_bytes = [bytes([b]) for b in range(256)]
    history: list[MergeRecord] = []
    for new_id in range(256, 256 + n_merges):
        counts: dict[tuple[int, int], int] = {}
        for word, freq in zip(words, freqs):
            pair_counts(word, freq, counts)
        if not counts:  # every piece is one token: nothing left to merge
            break
        best = min(counts, key=lambda pair: (-counts[pair], pair))
        words = [merge(word, best, new_id) for word in words]
        token_bytes.append(token_bytes[best[0]] + token_bytes[best[1]])
        history.append(MergeRecord(best, counts[best], new_id, token_bytes[new_id]))
    return history


def encode_piece(piece: str, ranks: Mapping[tuple[int, int], int]) -> list[int]:
    """Encode one pre-tokenized piece with learned merges; ``ranks[(a, b)]`` is the id that
    merge (a, b) makes, so the lowest id is the earliest merge.

    Start from the UTF-8 bytes; while some adjacent pair has been learned, merge every
    occurrence of the lowest-ranked one.

    >>> encode_piece("hugs", {(117, 103): 256, (104, 256): 257})
    [257, 115]
    """
    check_str(piece, "piece")
    if not isinstance(ranks, Mapping):
        raise TypeError(f"ranks: expected a dict from (id, id) pairs to ids, got {describe(ranks)}")
    ids = list(piece.encode("utf-8"))
    while len(ids) >= 2:
        pair = min(zip(ids, ids[1:]), key=lambda p: ranks.get(p, math.inf))
        if pair not in ranks:  # no learned pair is left
            break
        ids = merge(ids, pair, ranks[pair])
    return ids
