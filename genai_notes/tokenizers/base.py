"""The interface every tokenizer shares: special tokens, id checks and JSON files.

A tokenizer maps text to a list of integer ids, ``encode(text) -> list[int]``, and back,
``decode(ids) -> str``. Ordinary tokens take the ids ``0 .. n - 1``; the special tokens follow
them, in the order given, so ``vocab_size`` is ``n + len(special_tokens)``.

**Special tokens** (``<|endoftext|>``, ``<pad>``, ``<mask>`` by default) mark structure, not
text. They are never split or merged: a special is one id. Text that comes from users (a
message, a web page) must not be able to produce one, so the policy of ``encode`` is set by
``allowed_special``, and the default is the safe one:

* ``"raise"`` (the default): text that contains a special token raises ValueError naming it,
  so a control token never appears by accident;
* ``"all"``: a special written in the text becomes its id (for text you wrote yourself, such
  as documents joined with ``<|endoftext|>``);
* ``"none"``: the text is treated as plain characters, so ``"<pad>"`` is encoded like any other
  string. Use this for untrusted text that may contain such strings;
* a collection of specials: only those become ids; any other special is plain text.

``decode`` always writes a special back as its text, so ``decode(encode(s)) == s`` holds under
every policy that does not raise, for the lossless tokenizers.

**Files** are human-readable JSON with a ``format`` name and a ``version`` number. ``load``
checks everything it reads and raises :class:`TokenizerFileError` naming the file and what is
wrong. No pickle, no eval.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from genai_notes._checks import check_int, check_str, describe

from .jsonfile import (
    FORMAT_NAME,
    FORMAT_VERSION,
    TokenizerFileError,
    check_path,
    format_json,
    read_json,
    require,
)
from .pretokenize import split_on_specials

__all__ = [
    "DEFAULT_SPECIAL_TOKENS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Tokenizer",
    "TokenizerFileError",
    "check_special_tokens",
    "load_tokenizer",
]

DEFAULT_SPECIAL_TOKENS: tuple[str, ...] = ("<|endoftext|>", "<pad>", "<mask>")


def check_special_tokens(special_tokens: Any) -> tuple[str, ...]:
    """Return ``special_tokens`` as a tuple of distinct, non-empty strings.

    >>> check_special_tokens(["<pad>", "<mask>"])
    ('<pad>', '<mask>')
    >>> check_special_tokens(["<pad>", "<pad>"])
    Traceback (most recent call last):
    ...
    ValueError: special_tokens: '<pad>' appears more than once
    """
    if isinstance(special_tokens, str) or not isinstance(special_tokens, Sequence):
        raise TypeError(
            f"special_tokens: expected a list of strings, got {describe(special_tokens)}"
        )
    seen: set[str] = set()
    for position, token in enumerate(special_tokens):
        if not isinstance(token, str):
            raise TypeError(
                f"special_tokens: expected strings, got {describe(token)} at position {position}"
            )
        if not token:
            raise ValueError(
                f"special_tokens: the empty string cannot be a token (position {position})"
            )
        if token in seen:
            raise ValueError(f"special_tokens: {token!r} appears more than once")
        seen.add(token)
    return tuple(special_tokens)


class Tokenizer(ABC):
    """Base class: subclasses provide the ordinary vocabulary, this class the rest.

    Subclasses set ``kind`` (the ``"type"`` written to files) and implement
    ``n_ordinary``, ``_encode_ordinary``, ``_decode_checked``, ``_ordinary_id``,
    ``_ordinary_token_str``, ``_payload`` and ``_from_payload``.
    """

    kind: ClassVar[str] = ""
    _registry: ClassVar[dict[str, type[Tokenizer]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Tokenizer._registry[cls.kind] = cls

    def __init__(self, special_tokens: Sequence[str]) -> None:
        specials = check_special_tokens(special_tokens)
        for token in specials:
            clash = self._ordinary_id(token)
            if clash is not None:
                raise ValueError(
                    f"special_tokens: {token!r} collides with the ordinary token {token!r} "
                    f"(id {clash}); a special token must not be an existing token string"
                )
        self._specials = specials
        self._special_ids = {tok: self.n_ordinary + k for k, tok in enumerate(specials)}

    # ----- what subclasses provide -------------------------------------------------------
    @property
    @abstractmethod
    def n_ordinary(self) -> int:
        """Number of ordinary (non-special) tokens; they hold ids ``0 .. n_ordinary - 1``."""

    @abstractmethod
    def _encode_ordinary(self, text: str) -> list[int]:
        """Encode text that contains no special token to be recognised."""

    @abstractmethod
    def _decode_checked(self, ids: list[int], errors: str) -> str:
        """Decode ids already checked to be ints in ``range(vocab_size)``."""

    @abstractmethod
    def _ordinary_id(self, token: str) -> int | None:
        """The id of the ordinary token spelled ``token``, or None."""

    @abstractmethod
    def _ordinary_token_str(self, token_id: int) -> str:
        """A readable spelling of ordinary token ``token_id``."""

    @abstractmethod
    def _payload(self) -> dict[str, Any]:
        """The type-specific fields of the JSON file."""

    @classmethod
    @abstractmethod
    def _from_payload(cls, data: dict[str, Any], specials: tuple[str, ...], where: str) -> Any:
        """Rebuild a tokenizer from a parsed file whose header has been checked."""

    # ----- the shared interface ----------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Number of ids, ordinary tokens plus special tokens.

        >>> from genai_notes.tokenizers import CharTokenizer
        >>> CharTokenizer("abc", special_tokens=["<pad>"]).vocab_size
        4
        """
        return self.n_ordinary + len(self._specials)

    @property
    def special_tokens(self) -> dict[str, int]:
        """The special tokens and their ids, in id order.

        >>> from genai_notes.tokenizers import CharTokenizer
        >>> CharTokenizer("abc").special_tokens
        {'<|endoftext|>': 3, '<pad>': 4, '<mask>': 5}
        """
        return dict(self._special_ids)

    def encode(self, text: str, allowed_special: str | Collection[str] = "raise") -> list[int]:
        """Encode ``text`` into token ids; see the module docstring for ``allowed_special``.

        >>> from genai_notes.tokenizers import CharTokenizer
        >>> tok = CharTokenizer("<>abdp")
        >>> tok.encode("ab<pad>", allowed_special="all"), tok.encode("ab<pad>", allowed_special="none")
        ([2, 3, 7], [2, 3, 0, 5, 2, 4, 1])
        >>> tok.encode("ab<pad>")
        Traceback (most recent call last):
        ...
        ValueError: text: contains the special token '<pad>' at position 2; pass allowed_special='all' (or a set of specials) to encode it as its id, or allowed_special='none' to encode it as plain text
        """
        check_str(text, "text")
        allowed = self._allowed_specials(allowed_special)
        if allowed is None:
            self._refuse_specials(text)
            return self._encode_ordinary(text)
        if not allowed or not any(token in text for token in allowed):
            return self._encode_ordinary(text)
        ids: list[int] = []
        for position, part in enumerate(split_on_specials(text, allowed)):
            if position % 2:
                ids.append(self._special_ids[part])
            elif part:
                ids.extend(self._encode_ordinary(part))
        return ids

    def _refuse_specials(self, text: str) -> None:
        found = [(text.find(token), token) for token in self._specials if token in text]
        if found:
            position, token = min(found)
            raise ValueError(
                f"text: contains the special token {token!r} at position {position}; pass "
                "allowed_special='all' (or a set of specials) to encode it as its id, or "
                "allowed_special='none' to encode it as plain text"
            )

    def decode(self, ids: Sequence[int] | np.ndarray, errors: str = "replace") -> str:
        """Turn token ids back into text; special tokens are written as their text.

        ``errors`` matters only for byte-level tokenizers, whose ids can stop in the middle
        of a character: ``"replace"`` writes U+FFFD there, ``"strict"`` raises ValueError.

        >>> from genai_notes.tokenizers import CharTokenizer
        >>> CharTokenizer("ab").decode([1, 0, 3])
        'ba<pad>'
        >>> CharTokenizer("ab").decode([9])
        Traceback (most recent call last):
        ...
        ValueError: ids: id 9 at position 0 is out of range; valid ids are 0 to 4 (vocab_size 5)
        """
        if errors not in ("replace", "strict"):
            raise ValueError(f"errors: expected 'replace' or 'strict', got {describe(errors)}")
        return self._decode_checked(self._check_ids(ids), errors)

    def token_str(self, token_id: int) -> str:
        """A readable spelling of one token, for display.

        >>> from genai_notes.tokenizers import CharTokenizer
        >>> [CharTokenizer("ab").token_str(i) for i in range(5)]
        ['a', 'b', '<|endoftext|>', '<pad>', '<mask>']
        """
        token_id = self._check_token_id(token_id)
        if token_id >= self.n_ordinary:
            return self._specials[token_id - self.n_ordinary]
        return self._ordinary_token_str(token_id)

    def save(self, path: str | Path) -> None:
        """Write the tokenizer as human-readable JSON (one merge or word per line).

        >>> import tempfile, pathlib
        >>> from genai_notes.tokenizers import CharTokenizer
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "chars.json"
        >>> CharTokenizer("ab", special_tokens=["<pad>"]).save(path)
        >>> print(path.read_text())
        {
          "format": "genai_notes.tokenizer",
          "version": 1,
          "type": "char",
          "special_tokens": [
            "<pad>"
          ],
          "alphabet": [
            "a",
            "b"
          ]
        }
        <BLANKLINE>
        >>> CharTokenizer.load(path).encode("ba<pad>", allowed_special="all")
        [1, 0, 2]
        """
        path = check_path(path)  # before anything is computed or written
        payload = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "type": self.kind,
            "special_tokens": list(self._specials),
            **self._payload(),
        }
        text = format_json(payload, ensure_ascii=False)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates have no UTF-8 form: escape everything
            data = format_json(payload, ensure_ascii=True).encode("ascii")
        path.write_bytes(data)

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Read a file written by ``save``; ``Tokenizer.load`` accepts any type of tokenizer.

        >>> import tempfile, pathlib
        >>> from genai_notes.tokenizers import BPETokenizer, CharTokenizer
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "bpe.json"
        >>> BPETokenizer([(104, 105)]).save(path)
        >>> Tokenizer.load(path)
        BPETokenizer(vocab_size=260, specials=['<|endoftext|>', '<pad>', '<mask>'])
        >>> CharTokenizer.load(path)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        genai_notes.tokenizers.jsonfile.TokenizerFileError: ...bpe.json: 'type' should be char, got 'bpe'
        """
        where = str(path)
        data = read_json(path)
        if not isinstance(data, dict):
            raise TokenizerFileError(f"{where}: expected a JSON object, got {type(data).__name__}")
        if data.get("format") != FORMAT_NAME:
            raise TokenizerFileError(
                f"{where}: 'format' should be {FORMAT_NAME!r}, got {describe(data.get('format'))}"
            )
        version = require(data, "version", int, where)
        if version != FORMAT_VERSION:
            raise TokenizerFileError(
                f"{where}: unsupported 'version' {version}; this code reads version {FORMAT_VERSION}"
            )
        kind = require(data, "type", str, where)
        target = cls._registry.get(kind)
        if target is None or (cls.kind and cls is not target):
            want = cls.kind or " or ".join(map(repr, sorted(cls._registry)))
            raise TokenizerFileError(f"{where}: 'type' should be {want}, got {kind!r}")
        raw_specials = require(data, "special_tokens", list, where)
        try:
            specials = check_special_tokens(raw_specials)
        except (TypeError, ValueError) as exc:
            raise TokenizerFileError(f"{where}: {exc}") from None
        try:
            return target._from_payload(data, specials, where)
        except TokenizerFileError:
            raise
        except (TypeError, ValueError) as exc:  # e.g. a special that collides with a token
            raise TokenizerFileError(f"{where}: {exc}") from None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(vocab_size={self.vocab_size}, specials={list(self._specials)})"
        )

    # ----- helpers -----------------------------------------------------------------------
    def _allowed_specials(self, allowed_special: Any) -> tuple[str, ...] | None:
        """The specials to recognise, or None for "raise if the text holds one"."""
        expected = "expected 'raise', 'all', 'none' or a collection of special tokens"
        if isinstance(allowed_special, str):
            policies = {"raise": None, "all": self._specials, "none": ()}
            if allowed_special not in policies:
                raise ValueError(f"allowed_special: {expected}, got {allowed_special!r}")
            return policies[allowed_special]
        if not isinstance(allowed_special, Collection):
            raise TypeError(f"allowed_special: {expected}, got {describe(allowed_special)}")
        for token in allowed_special:
            if token not in self._special_ids:
                raise ValueError(
                    f"allowed_special: {token!r} is not a special token of this tokenizer "
                    f"(they are {list(self._specials)})"
                )
        return tuple(allowed_special)

    def _check_token_id(self, token_id: Any) -> int:
        if isinstance(token_id, np.integer):
            token_id = int(token_id)
        token_id = check_int(token_id, "token_id")
        if not 0 <= token_id < self.vocab_size:
            raise ValueError(
                f"token_id: id {token_id} is out of range; valid ids are 0 to "
                f"{self.vocab_size - 1} (vocab_size {self.vocab_size})"
            )
        return token_id

    def _check_ids(self, ids: Any, name: str = "ids") -> list[int]:
        if isinstance(ids, np.ndarray):
            if ids.ndim != 1 or ids.dtype.kind not in "iu":
                raise TypeError(f"{name}: expected a 1-D array of integers, got {describe(ids)}")
            ids = ids.tolist()
        elif isinstance(ids, (str, bytes)) or not isinstance(ids, (Sequence, range)):
            raise TypeError(f"{name}: expected a list of integer token ids, got {describe(ids)}")
        ids = list(ids)
        if ids and set(map(type, ids)) != {int}:
            for position, value in enumerate(ids):
                if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                    raise TypeError(
                        f"{name}: expected integer token ids, got {describe(value)} "
                        f"at position {position}"
                    )
            ids = [int(value) for value in ids]
        if ids and (min(ids) < 0 or max(ids) >= self.vocab_size):
            position, bad = next((p, i) for p, i in enumerate(ids) if not 0 <= i < self.vocab_size)
            raise ValueError(
                f"{name}: id {bad} at position {position} is out of range; valid ids are "
                f"0 to {self.vocab_size - 1} (vocab_size {self.vocab_size})"
            )
        return ids


def load_tokenizer(path: str | Path) -> Tokenizer:
    """Load any tokenizer saved with ``save``; the file's ``"type"`` picks the class.

    >>> import tempfile, pathlib
    >>> from genai_notes.tokenizers import WordTokenizer
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "words.json"
    >>> WordTokenizer(["hi"], special_tokens=[]).save(path)
    >>> load_tokenizer(path).encode("hi there")
    [0, 1]
    """
    return Tokenizer.load(path)
