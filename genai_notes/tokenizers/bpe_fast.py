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

**Encoding** uses the same two tricks. ``FastPieceEncoder`` gives the ids of the readable
``bpe_reference.encode_piece`` (a test checks it), but scans a piece as a string of ids in C,
and merges pieces longer than a few words with a heap, so a long run of text costs
O(n log n) instead of O(n^2).

>>> history = train_fast({"hug": 10, "pug": 5, "hugs": 5}, n_merges=2)
>>> [(r.pair, r.count, r.token) for r in history]
[((117, 103), 20, b'ug'), ((104, 256), 15, b'hug')]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from heapq import heapify, heappop, heappush
from itertools import repeat
from operator import add

from genai_notes._checks import check_nonnegative_int, check_str

from .bpe_reference import MergeRecord, check_piece_counts, utf8

__all__ = ["train_fast", "FastPieceEncoder"]

_NO_MERGE = "\U0010ffff\U0010ffff"  # sorts after every 1-character merge result
_LONG_PIECE = 16  # bytes; longer pieces are merged with a heap (measured crossover)


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


class FastPieceEncoder:
    """Encode one piece with ``merges`` (``merges[k]`` makes id ``256 + k``), fast.

    >>> FastPieceEncoder([(117, 103), (104, 256)])("hugs")
    (257, 115)
    """

    def __init__(self, merges: Sequence[tuple[int, int]]) -> None:
        # A pair is a 2-character string, and the merged character chr(256 + k) also gives
        # the rank k, so min() over the pair strings finds the earliest merge.
        self._merge_char = {chr(a) + chr(b): chr(256 + k) for k, (a, b) in enumerate(merges)}
        self._pair_of = {new: pair for pair, new in self._merge_char.items()}
        self._rank = {tuple(pair): 256 + k for k, pair in enumerate(merges)}  # pair -> new id

    def __call__(self, piece: str) -> tuple[int, ...]:
        """Merge the lowest-rank pair of one piece until no learned pair is left.

        Each round scans the whole piece in C, which is fastest for word-sized pieces but
        costs (length) x (merges applied) on a long one, so long pieces use a heap instead.
        """
        data = check_str(piece, "piece").encode("utf-8")  # a lone surrogate: the caller names it
        if len(data) > _LONG_PIECE:
            return _merge_with_heap(list(data), self._rank)
        word = data.decode("latin-1")  # character chr(b) for byte b
        rank_of = self._merge_char.get
        while len(word) > 1:
            best = min(map(rank_of, map(add, word, word[1:]), repeat(_NO_MERGE)))
            if best == _NO_MERGE:
                break
            word = word.replace(self._pair_of[best], best)
        return tuple(map(ord, word))


def _merge_with_heap(ids: list[int], rank: dict[tuple[int, int], int]) -> tuple[int, ...]:
    """The same merges as the scanning loop, in O(n log n) for a piece of n bytes.

    A heap holds ``(new_id, position)`` for every mergeable adjacent pair; the smallest new id
    is the earliest merge, and among its occurrences the leftmost comes first, which is the
    left-to-right rule. Merged-away positions are unlinked from a doubly linked list, and heap
    entries that no longer describe the pair at their position are skipped when popped.
    """
    n = len(ids)
    after = list(range(1, n + 1))
    before = list(range(-1, n - 1))
    heap = [(rank[p], i) for i, p in enumerate(zip(ids, ids[1:])) if p in rank]
    heapify(heap)
    alive: list[int | None] = list(ids)
    while heap:
        new_id, i = heappop(heap)
        j = after[i]
        if alive[i] is None or j >= n or rank.get((alive[i], alive[j])) != new_id:
            continue  # stale: this position was merged away or its pair changed
        alive[i], alive[j] = new_id, None
        after[i] = k = after[j]
        if k < n:
            before[k] = i
            if (alive[i], alive[k]) in rank:
                heappush(heap, (rank[alive[i], alive[k]], i))
        h = before[i]
        if h >= 0 and (alive[h], alive[i]) in rank:
            heappush(heap, (rank[alive[h], alive[i]], h))
    return tuple(token for token in alive if token is not None)
