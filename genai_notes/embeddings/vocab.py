"""A word vocabulary: words to integer ids and back, with each word's count.

The synthetic corpus (:mod:`genai_notes.data`) is lower-case words separated by single
spaces, so a "tokenizer" here is just ``sentence.split()``. Ids are given in order of
decreasing count, ties broken alphabetically, so the same corpus always gives the same ids.

>>> vocab = Vocabulary.build(["the cat sat .", "the dog ."])
>>> vocab.words
('.', 'the', 'cat', 'dog', 'sat')
>>> vocab.encode("the dog sat")
array([1, 3, 4])
>>> vocab.counts
array([2, 2, 1, 1, 1])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from genai_notes._checks import check_array, check_positive_int, check_str, describe

__all__ = ["Vocabulary", "split_sentences"]


def split_sentences(sentences: str | Iterable[str]) -> list[list[str]]:
    """Split a corpus into sentences of words.

    ``sentences`` is either one string (one sentence per line) or an iterable of sentence
    strings. Words are separated by whitespace.

    >>> split_sentences("the cat .\\nthe dog .\\n")
    [['the', 'cat', '.'], ['the', 'dog', '.']]
    """
    if isinstance(sentences, str):
        sentences = sentences.splitlines()
    out = []
    for k, sentence in enumerate(sentences):
        check_str(sentence, f"sentences[{k}]")
        words = sentence.split()
        if words:
            out.append(words)
    return out


class Vocabulary:
    """A fixed list of words with their ids (positions in the list) and corpus counts.

    words: the words, id 0 first.  counts: ``(vocab,)`` integer counts in the corpus.
    """

    def __init__(self, words: Sequence[str], counts: Sequence[int] | np.ndarray):
        words = tuple(check_str(w, f"words[{k}]") for k, w in enumerate(words))
        counts = check_array(counts, "counts", ndim=1, dtype_kind="iu")
        if not words:
            raise ValueError("words: expected at least one word, got an empty list")
        if len(counts) != len(words):
            raise ValueError(
                f"counts: expected {len(words)} counts (one per word), got {len(counts)}"
            )
        if len(set(words)) != len(words):
            duplicate = next(w for w in words if words.count(w) > 1)
            raise ValueError(f"words: expected distinct words, got {duplicate!r} twice")
        self.words: tuple[str, ...] = words
        self.counts: np.ndarray = counts.astype(np.int64)
        self._index = {w: i for i, w in enumerate(words)}

    @classmethod
    def build(cls, sentences: str | Iterable[str], min_count: int = 1) -> Vocabulary:
        """Count the words of a corpus and keep those seen at least ``min_count`` times.

        >>> Vocabulary.build("a b b\\nc b", min_count=2).words
        ('b',)
        >>> Vocabulary.build([])
        Traceback (most recent call last):
        ...
        ValueError: sentences: expected a corpus with at least one word, got an empty corpus
        """
        min_count = check_positive_int(min_count, "min_count")
        counter = Counter(w for words in split_sentences(sentences) for w in words)
        if not counter:
            raise ValueError(
                "sentences: expected a corpus with at least one word, got an empty corpus"
            )
        kept = sorted(
            (w for w, c in counter.items() if c >= min_count), key=lambda w: (-counter[w], w)
        )
        if not kept:
            raise ValueError(
                f"min_count: no word occurs {min_count} times or more "
                f"(the most frequent occurs {max(counter.values())} times)"
            )
        return cls(kept, [counter[w] for w in kept])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} words, {int(self.counts.sum())} tokens)"

    @property
    def frequencies(self) -> np.ndarray:
        """``(vocab,)`` each word's share of all counted tokens (sums to 1)."""
        return self.counts / self.counts.sum()

    def id(self, word: str) -> int:
        """The id of ``word``; a clear ``KeyError`` if it is not in the vocabulary.

        >>> Vocabulary(["a", "b"], [2, 1]).id("z")
        Traceback (most recent call last):
        ...
        KeyError: "word: 'z' is not in the vocabulary (2 words, for example 'a', 'b')"
        """
        check_str(word, "word")
        try:
            return self._index[word]
        except KeyError:
            examples = ", ".join(repr(w) for w in self.words[:5])
            raise KeyError(
                f"word: {word!r} is not in the vocabulary ({len(self)} words, for example "
                f"{examples})"
            ) from None

    def encode(self, sentence: str | Sequence[str], skip_unknown: bool = False) -> np.ndarray:
        """Turn a sentence (a string or a list of words) into ``(seq,)`` integer ids.

        Unknown words raise ``KeyError`` unless ``skip_unknown`` is True, which drops them.
        """
        words = check_str(sentence, "sentence").split() if isinstance(sentence, str) else sentence
        if skip_unknown:
            return np.array([self._index[w] for w in words if w in self._index], dtype=np.int64)
        return np.array([self.id(w) for w in words], dtype=np.int64)

    def decode(self, ids: Sequence[int] | np.ndarray) -> list[str]:
        """Turn ``(seq,)`` integer ids back into words.

        >>> Vocabulary(["a", "b"], [2, 1]).decode([1, 0])
        ['b', 'a']
        """
        ids = check_array(ids, "ids", ndim=1, dtype_kind="iu")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(
                f"ids: expected integers in [0, {len(self)}), got values from {ids.min()} to "
                f"{ids.max()} in {describe(ids)}"
            )
        return [self.words[i] for i in ids]
