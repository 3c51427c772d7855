"""Byte-pair encoding, the fast way: update pair counts only where a merge happened.

The reference trainer (``bpe_reference``) recounts every pair of every piece after each merge,
although one merge changes only the few pieces that contain the merged pair, and only the
pairs right next to each merge site. This trainer gives **identical merges** (same pairs, same
counts, same tie-break) while avoiding that repeated work:

* **Pair counts are kept, not recounted.** A dict holds the count of every pair over the
  corpus. When a piece changes, its old pairs are subtracted and its new pairs added, weighted
  by the piece's frequency. Pieces that do not contain the merged pair are never looked at.
* **An index says where each pair lives.** ``where[pair]`` is the set of pieces that contain
  (or once contained) the pair, so a merge visits only those pieces. Entries go stale when a
  piece loses a pair; rather than removing them eagerly, a piece is skipped when it no longer
  contains the pair.
* **A heap finds the best pair without a scan.** Picking the most frequent pair by scanning
  all pairs costs a pass over tens of thousands of pairs per merge. Instead, a heap holds
  ``(-count, pair)`` entries, pushed whenever a pair's count grows. Counts that shrank leave
  stale entries with too-high counts behind (lazy deletion): when popped, an entry is checked
  against the current count and pushed back with it if they differ. An entry that matches is
  the true maximum, and because entries compare as ``(-count, pair)``, ties go to the smallest
  pair, the same rule as the reference trainer.
* **Pieces are strings of token ids, so merging runs in C.** Each piece is stored as a
  ``str`` whose characters are ``chr(id)``: a pair is a 2-character string, ``pair in piece``
  is a substring test, and ``piece.replace(pair, chr(new_id))`` merges every occurrence left
  to right without overlaps, exactly as ``merge`` does. Comparing 2-character strings compares
  ``(a, b)`` as ids, so the tie-break is unchanged. ``bytes.decode("latin-1")`` turns a piece's
  UTF-8 bytes into this form (byte ``b`` becomes character ``chr(b)``) in one C call.

The total work is proportional to the number of times pieces are changed by merges, instead of
(number of merges) x (corpus size).

>>> history = train_fast({"hug": 10, "pug": 5, "hugs": 5}, n_merges=2)
>>> [(r.pair, r.count, r.token) for r in history]
[((117, 103), 20, b'ug'), ((104, 256), 15, b'hug')]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from heapq import heapify, heappop, heappush

from genai_notes._checks import check_nonnegative_int

from .bpe_reference import MergeRecord, check_piece_counts, utf8

__all__ = ["train_fast"]


def train_fast(piece_counts: Mapping[str, int], n_merges: int) -> list[MergeRecord]:
    """Learn up to ``n_merges`` merges from ``{piece: count}``, updating counts incrementally.

    Gives the same merges as ``train_reference``, including the tie-break and the early stop
    when no pair is left.

    >>> [r.token for r in train_fast({"aaab": 1}, n_merges=5)]
    [b'aa', b'ab', b'aaab']
    """
    pieces = check_piece_counts(piece_counts)
    check_nonnegative_int(n_merges, "n_merges")
    # A piece is a str of token ids: character chr(i) stands for token i.
    words = [utf8(piece).decode("latin-1") for piece in pieces]
    freqs = list(pieces.values())

    counts: defaultdict[str, int] = defaultdict(int)  # pair -> occurrences in the corpus
    where: defaultdict[str, set[int]] = defaultdict(set)  # pair -> pieces that hold it
    for index, (word, freq) in enumerate(zip(words, freqs)):
        for i in range(len(word) - 1):
            pair = word[i : i + 2]
            counts[pair] += freq
            where[pair].add(index)
    heap = [(-count, pair) for pair, count in counts.items()]
    heapify(heap)

    token_bytes = [bytes([b]) for b in range(256)]
    history: list[MergeRecord] = []
    for new_id in range(256, 256 + n_merges):
        best = _pop_most_frequent(heap, counts)
        if best is None:  # every piece is one token: nothing left to merge
            break
        best_count = counts[best]
        new = chr(new_id)
        grown: set[str] = set()  # pairs with the new token, whose counts went up
        for index in where.pop(best):
            word = words[index]
            if best not in word:  # a stale index entry
                continue
            freq = freqs[index]
            merged = word.replace(best, new)
            words[index] = merged
            for i in range(len(word) - 1):
                counts[word[i : i + 2]] -= freq
            for i in range(len(merged) - 1):
                pair = merged[i : i + 2]
                counts[pair] += freq
                if new in pair:
                    where[pair].add(index)
                    grown.add(pair)
        del counts[best]  # now zero: a merged pair can never form again
        first, second = ord(best[0]), ord(best[1])
        token_bytes.append(token_bytes[first] + token_bytes[second])
        history.append(MergeRecord((first, second), best_count, new_id, token_bytes[new_id]))
        for pair in grown:
            heappush(heap, (-counts[pair], pair))
    return history


def _pop_most_frequent(heap: list[tuple[int, str]], counts: Mapping[str, int]) -> str | None:
    """Pop heap entries until one matches its pair's current count (lazy deletion)."""
    while heap:
        negative_count, pair = heappop(heap)
        count = counts.get(pair, 0)
        if count == -negative_count:
            return pair
        if count > 0:  # stale: the count shrank since this entry was pushed
            heappush(heap, (-count, pair))
    return None
