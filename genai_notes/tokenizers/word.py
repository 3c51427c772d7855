"""Word tokenization: one token per word from a fixed vocabulary, and ``<unk>`` for the rest.

The text is cut into words (runs of letters, digits and underscores, ``\\w+``) and single
punctuation characters; whitespace is dropped. A word missing from the vocabulary becomes the
unknown token ``<unk>``. This tokenizer is **lossy by design**, and its exact behaviour is:

    ``decode(encode(s)) == " ".join(w if w in vocabulary else "<unk>" for w in words(s))``

so spacing is normalised to single spaces, a space appears before punctuation, and unknown
words are gone for good. (With ``allowed_special="all"``, special tokens in the text are kept,
like any known word.)

>>> tok = WordTokenizer.from_text("the cat sat on the mat .")
>>> tok.encode("the dog sat!")
[0, 9, 5, 9]
>>> tok.decode(tok.encode("the   dog sat!"))
'the <unk> sat <unk>'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from itertools import repeat
from typing import Any

from genai_notes._checks import check_positive_int, check_str, describe

from .base import (
    DEFAULT_SPECIAL_TOKENS,
    Tokenizer,
    check_special_tokens,
)
from .jsonfile import TokenizerFileError, require
from .pretokenize import split_on_specials

__all__ = ["WordTokenizer", "WORD_PATTERN", "split_words"]

WORD_PATTERN = r"\w+|[^\w\s]"
_WORDS = re.compile(WORD_PATTERN)


def split_words(text: str) -> list[str]:
    """Cut text into words and single punctuation marks, dropping whitespace.

    >>> split_words("Transformers are amazing!")
    ['Transformers', 'are', 'amazing', '!']
    """
    return _WORDS.findall(check_str(text, "text"))


class WordTokenizer(Tokenizer):
    """A fixed list of words, plus ``unk_token`` (added to the specials if not among them).

    >>> tok = WordTokenizer(["hello", "world"], special_tokens=[])
    >>> tok.encode("hello, world"), tok.special_tokens
    ([0, 2, 1], {'<unk>': 2})
    """

    kind = "word"

    def __init__(
        self,
        words: Sequence[str],
        special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
        unk_token: str = "<unk>",
    ) -> None:
        if isinstance(words, str) or not isinstance(words, Sequence):
            raise TypeError(f"words: expected a list of strings, got {describe(words)}")
        self._words = tuple(words)
        self._word_to_id: dict[str, int] = {}
        for position, word in enumerate(self._words):
            if not isinstance(word, str) or not _WORDS.fullmatch(word):
                raise ValueError(
                    f"words: {describe(word)} at position {position} is not a single word or "
                    f"punctuation mark (pattern {WORD_PATTERN!r}), so encode could never produce it"
                )
            if word in self._word_to_id:
                raise ValueError(f"words: {word!r} appears more than once")
            self._word_to_id[word] = position
        check_str(unk_token, "unk_token")
        specials = special_tokens
        if isinstance(specials, Sequence) and not isinstance(specials, str):
            if unk_token not in specials:
                specials = (*specials, unk_token)
        super().__init__(specials)
        self._unk_token = unk_token
        self._unk_id = self._special_ids[unk_token]
        self._spelling = [*self._words, *self._specials]  # id -> text, for decode

    @classmethod
    def from_text(
        cls,
        text: str,
        max_words: int | None = None,
        min_count: int = 1,
        special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
        unk_token: str = "<unk>",
    ) -> WordTokenizer:
        """Keep the words of ``text`` seen at least ``min_count`` times, most frequent first
        (ties in alphabetical order), at most ``max_words`` of them.

        >>> WordTokenizer.from_text("b a b c b a", max_words=2).words
        ('b', 'a')
        """
        check_str(text, "text")
        special_tokens = check_special_tokens(special_tokens)
        check_positive_int(min_count, "min_count")
        if max_words is not None:
            check_positive_int(max_words, "max_words")
        counts: Counter[str] = Counter()
        for part in split_on_specials(text, special_tokens)[::2]:
            counts.update(_WORDS.findall(part))
        if not counts:
            raise ValueError("text: expected some words to build a vocabulary from, got none")
        ranked = sorted(
            (w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w)
        )
        return cls(ranked[:max_words], special_tokens, unk_token)

    @property
    def words(self) -> tuple[str, ...]:
        """The ordinary vocabulary, in id order."""
        return self._words

    @property
    def unk_token(self) -> str:
        """The special token that stands for every word outside the vocabulary."""
        return self._unk_token

    @property
    def n_ordinary(self) -> int:
        """Number of words in the vocabulary."""
        return len(self._words)

    def _encode_ordinary(self, text: str) -> list[int]:
        return list(map(self._word_to_id.get, _WORDS.findall(text), repeat(self._unk_id)))

    def _decode_checked(self, ids: list[int], errors: str) -> str:
        return " ".join(map(self._spelling.__getitem__, ids))

    def _ordinary_id(self, token: str) -> int | None:
        return self._word_to_id.get(token)

    def _ordinary_token_str(self, token_id: int) -> str:
        return self._words[token_id]

    def _payload(self) -> dict[str, Any]:
        return {"unk_token": self._unk_token, "words": list(self._words)}

    @classmethod
    def _from_payload(
        cls, data: dict[str, Any], specials: tuple[str, ...], where: str
    ) -> WordTokenizer:
        unk = require(data, "unk_token", str, where)
        if unk not in specials:
            raise TokenizerFileError(f"{where}: 'unk_token' {unk!r} is not in 'special_tokens'")
        words = require(data, "words", list, where)
        return cls(words, specials, unk)
