"""Character tokenization: one token per Unicode character.

Two vocabularies are possible:

* **all of Unicode** (``alphabet=None``, the default): the id of a character is its code point,
  ``ord(ch)``. Nothing is ever unknown, and ``decode(encode(s)) == s`` for every string, but
  the vocabulary has 1,114,112 ordinary ids, far too many rows for an embedding table.
* **a fixed alphabet** (``CharTokenizer.from_text(corpus)``): the characters seen in a corpus,
  in sorted order. The vocabulary is small, but a character outside it cannot be encoded, and
  ``encode`` raises ValueError naming it. (The byte-level BPE tokenizer solves this.)

>>> tok = CharTokenizer.from_text("hello")
>>> tok.encode("hole"), tok.vocab_size
([1, 3, 2, 0], 7)
>>> tok.decode([1, 0, 2, 2, 3, 4])
'hello<|endoftext|>'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genai_notes._checks import check_str, describe

from .base import (
    DEFAULT_SPECIAL_TOKENS,
    Tokenizer,
    check_special_tokens,
)
from .jsonfile import TokenizerFileError, require
from .pretokenize import split_on_specials

__all__ = ["CharTokenizer", "N_CODE_POINTS"]

N_CODE_POINTS = 0x110000  # every Unicode code point, U+0000 to U+10FFFF


class CharTokenizer(Tokenizer):
    """One token per character, over all of Unicode or over a fixed alphabet.

    >>> tok = CharTokenizer()
    >>> tok.encode("Hi!")
    [72, 105, 33]
    >>> tok.encode("a<pad>", allowed_special="all"), tok.vocab_size
    ([97, 1114113], 1114115)
    >>> tok.decode(tok.encode("café 🙂"))
    'café 🙂'
    """

    kind = "char"

    def __init__(
        self,
        alphabet: str | None = None,
        special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
    ) -> None:
        if alphabet is None:
            self._alphabet: str | None = None
            self._char_to_id: dict[str, int] = {}
        else:
            check_str(alphabet, "alphabet")
            if not alphabet:
                raise ValueError("alphabet: expected at least one character, got ''")
            if len(set(alphabet)) != len(alphabet):
                twice = next(ch for k, ch in enumerate(alphabet) if ch in alphabet[:k])
                raise ValueError(f"alphabet: the character {twice!r} appears more than once")
            self._alphabet = alphabet
            self._char_to_id = {ch: k for k, ch in enumerate(alphabet)}
        super().__init__(special_tokens)

    @classmethod
    def from_text(
        cls, text: str, special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS
    ) -> CharTokenizer:
        """A tokenizer whose alphabet is the sorted set of characters in ``text``.

        Special tokens written in ``text`` are cut out first, so ``<pad>`` adds no characters.

        >>> CharTokenizer.from_text("banana<pad>").alphabet
        'abn'
        """
        check_str(text, "text")
        specials = check_special_tokens(special_tokens)
        chars = set("".join(split_on_specials(text, specials)[::2]))
        if not chars:
            raise ValueError(
                f"text: expected some characters to take the alphabet from, got {describe(text)}"
            )
        return cls("".join(sorted(chars)), specials)

    @property
    def alphabet(self) -> str | None:
        """The characters of a fixed alphabet in id order, or None for all of Unicode."""
        return self._alphabet

    @property
    def n_ordinary(self) -> int:
        """Number of character ids: the alphabet's length, or every code point."""
        return N_CODE_POINTS if self._alphabet is None else len(self._alphabet)

    def _encode_ordinary(self, text: str) -> list[int]:
        if self._alphabet is None:
            return list(map(ord, text))
        try:
            return list(map(self._char_to_id.__getitem__, text))
        except KeyError as exc:
            position = next(k for k, ch in enumerate(text) if ch not in self._char_to_id)
            raise ValueError(
                f"text: the character {exc.args[0]!r} at position {position} is not in this "
                f"tokenizer's alphabet of {len(self._alphabet)} characters"
            ) from None

    def _decode_checked(self, ids: list[int], errors: str) -> str:
        spell = chr if self._alphabet is None else self._alphabet.__getitem__
        n = self.n_ordinary
        if not ids or max(ids) < n:
            return "".join(map(spell, ids))
        return "".join(spell(i) if i < n else self._specials[i - n] for i in ids)

    def _ordinary_id(self, token: str) -> int | None:
        if len(token) != 1:
            return None
        if self._alphabet is None:
            return ord(token)
        return self._char_to_id.get(token)

    def _ordinary_token_str(self, token_id: int) -> str:
        return chr(token_id) if self._alphabet is None else self._alphabet[token_id]

    def _payload(self) -> dict[str, Any]:
        return {"alphabet": None if self._alphabet is None else list(self._alphabet)}

    @classmethod
    def _from_payload(
        cls, data: dict[str, Any], specials: tuple[str, ...], where: str
    ) -> CharTokenizer:
        if "alphabet" not in data:
            raise TokenizerFileError(f"{where}: the key 'alphabet' is missing")
        if data["alphabet"] is None:
            return cls(None, specials)
        chars = require(data, "alphabet", list, where)
        for position, ch in enumerate(chars):
            if not isinstance(ch, str) or len(ch) != 1:
                raise TokenizerFileError(
                    f"{where}: 'alphabet'[{position}] should be a single character, got {ch!r}"
                )
        return cls("".join(chars), specials)
