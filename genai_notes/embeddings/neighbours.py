"""Query word vectors: similarity, nearest neighbours and analogies.

:class:`WordVectors` pairs a list of words with a ``(vocab, d_model)`` matrix of their vectors.
Similarity is cosine similarity throughout, so only the direction of a vector matters.

An **analogy** "a is to b as x is to c" is answered with the vector ``a - b + c`` (3CosAdd,
Mikolov et al. 2013): start at ``a``, remove what ``b`` has, add what ``c`` has, and look
for the word nearest to the result. ``analogy("king", "man", "woman")`` asks for
king - man + woman. Each of the three vectors is first scaled to length 1, so that no word
counts more because its vector is longer. The three input words are excluded from the answer,
as is standard; without that rule the nearest word to ``king - man + woman`` is often ``king``
itself.

>>> wv = WordVectors(["a", "b", "c", "d"], np.array([[1.0, 0], [0, 1.0], [1, 1.0], [1, -1.0]]))
>>> wv.nearest("a", k=2)
[('c', 0.7071067811865475), ('d', 0.7071067811865475)]
>>> [w for w, _ in wv.analogy("c", "b", "d", k=1)]  # c - b + d
['a']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from genai_notes._checks import check_array, check_positive_int, check_str
from genai_notes.embeddings.similarity import cosine_similarity, unit_vectors

__all__ = ["WordVectors"]


class WordVectors:
    """Words and their vectors, for similarity queries.

    words: the ``vocab`` words, in the order of the rows of ``vectors``;
    vectors: ``(vocab, d_model)``. No vector may be all zeros (its direction is undefined).
    """

    def __init__(self, words: Sequence[str], vectors: object):
        self.words: tuple[str, ...] = tuple(
            check_str(w, f"words[{k}]") for k, w in enumerate(words)
        )
        self.vectors: np.ndarray = check_array(vectors, "vectors", ndim=2, dtype_kind="f")
        if self.vectors.shape[0] != len(self.words):
            raise ValueError(
                f"vectors: expected {len(self.words)} rows (one per word), "
                f"got shape {self.vectors.shape}"
            )
        if len(set(self.words)) != len(self.words):
            raise ValueError("words: expected distinct words, got a repeated word")
        self._index = {w: i for i, w in enumerate(self.words)}
        self._unit = unit_vectors(self.vectors)  # (vocab, d_model), rows of length 1

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def index(self, word: str) -> int:
        """Row of ``word``; a ``KeyError`` naming the word if it is unknown."""
        check_str(word, "word")
        if word not in self._index:
            raise KeyError(f"word: {word!r} is not in the vocabulary ({len(self.words)} words)")
        return self._index[word]

    def __getitem__(self, word: str) -> np.ndarray:
        """The ``(d_model,)`` vector of ``word``."""
        return self.vectors[self.index(word)]

    def similarity(self, first: str, second: str) -> float:
        """Cosine similarity of two words' vectors."""
        return float(self._unit[self.index(first)] @ self._unit[self.index(second)])

    def similarity_matrix(self, words: Sequence[str]) -> np.ndarray:
        """``(n, n)`` cosine similarities between the given words."""
        rows = self._unit[[self.index(w) for w in words]]
        return rows @ rows.T

    def nearest(
        self, query: str | np.ndarray, k: int = 5, exclude: Iterable[str] = ()
    ) -> list[tuple[str, float]]:
        """The ``k`` words most cosine-similar to ``query``, best first, with their scores.

        ``query`` is a word (which is then excluded from its own neighbours) or a
        ``(d_model,)`` vector. Words in ``exclude`` are left out too. Ties keep vocabulary
        order.
        """
        k = check_positive_int(k, "k")
        skip = {self.index(w) for w in exclude}
        if isinstance(query, str):
            skip.add(self.index(query))
            target = self.vectors[self.index(query)]
        else:
            target = check_array(query, "query", ndim=1, dtype_kind="fiu")
            if target.shape[0] != self.vectors.shape[1]:
                raise ValueError(
                    f"query: expected a vector of dimension {self.vectors.shape[1]}, "
                    f"got shape {target.shape}"
                )
        scores = cosine_similarity(self.vectors, target)  # (vocab,)
        order = np.argsort(-scores, kind="stable")
        ranked = [i for i in order if i not in skip][:k]
        return [(self.words[i], float(scores[i])) for i in ranked]

    def analogy_vector(self, a: str, b: str, c: str) -> np.ndarray:
        """``unit(a) - unit(b) + unit(c)``, the target of the analogy, ``(d_model,)``."""
        return self._unit[self.index(a)] - self._unit[self.index(b)] + self._unit[self.index(c)]

    def analogy(self, a: str, b: str, c: str, k: int = 5) -> list[tuple[str, float]]:
        """Words nearest to ``a - b + c`` (for example king - man + woman), excluding
        ``a``, ``b`` and ``c``: the top ``k`` as (word, cosine similarity), best first."""
        return self.nearest(self.analogy_vector(a, b, c), k=k, exclude=(a, b, c))
