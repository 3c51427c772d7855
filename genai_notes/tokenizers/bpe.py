"""The byte-level BPE tokenizer: train it, encode with it, decode with it, save it.

Ids 0 to 255 are the 256 byte values, so any text can be encoded: nothing is ever unknown.
Id ``256 + k`` is the result of merge ``k``. The special tokens come after the last merge.

**Encoding** cuts the text with the GPT-2 pattern (``pretokenize``), then encodes each
distinct piece once: starting from its UTF-8 bytes, it repeatedly merges the adjacent pair
with the lowest merge rank (the earliest learned) until no learned pair is left. That is
``bpe_reference.encode_piece``, the version to read; by default the tokenizer runs
``bpe_fast.FastPieceEncoder``, which gives the same ids faster (``encoder="reference"`` picks
the readable one). The result for each piece is kept in a cache of at most ``cache_size``
pieces, emptied before it would grow past that, so memory stays bounded however much text
passes through.

**Decoding** joins the bytes of the tokens and reads them as UTF-8. Tokens can end in the
middle of a character (half of an emoji): with ``errors="replace"`` (the default) such bytes
become U+FFFD, with ``errors="strict"`` decoding raises ValueError saying which token is at
fault. ``decode_bytes`` and ``token_bytes`` give the raw bytes.

>>> tok = BPETokenizer.train("low lower lowest " * 20, vocab_size=262)
>>> tok.encode("lowest!")
[257, 101, 115, 116, 33]
>>> [tok.token_str(i) for i in tok.encode("lowest!")]
['low', 'e', 's', 't', '!']
>>> tok.decode(tok.encode("lowest 🙂"))
'lowest 🙂'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import accumulate, chain
from typing import Any

import numpy as np

from genai_notes._checks import check_int, check_positive_int, check_str, describe

from .base import (
    DEFAULT_SPECIAL_TOKENS,
    Tokenizer,
    check_special_tokens,
)
from .bpe_fast import FastPieceEncoder, train_fast
from .bpe_reference import MergeRecord, encode_piece, train_reference, utf8
from .jsonfile import TokenizerFileError, require
from .pretokenize import count_pieces, pretokenize

__all__ = ["BPETokenizer", "bytes_to_readable", "readable_to_bytes"]

_TRAINERS = {"fast": train_fast, "reference": train_reference}
_ENCODERS = ("fast", "reference")
_MAX_MERGES = 0x110000 - 256  # every id must be a valid code point
_ESCAPE = re.compile(r"\\\\|\\x[0-9a-f]{2}|\\")


def bytes_to_readable(data: bytes) -> str:
    """Spell bytes as text: valid UTF-8 as itself, other bytes as ``\\xNN``, ``\\`` as ``\\\\``.

    The spelling is reversible (see ``readable_to_bytes``), so tokens that are fragments of a
    character can still be written in a JSON file.

    >>> bytes_to_readable(b"caf\\xc3\\xa9")
    'café'
    >>> bytes_to_readable("🙂".encode()[:2] + b"\\\\")
    '\\\\xf0\\\\x9f\\\\\\\\'
    """
    return data.replace(b"\\", b"\\\\").decode("utf-8", errors="backslashreplace")


def readable_to_bytes(text: str) -> bytes:
    """Invert ``bytes_to_readable``.

    >>> readable_to_bytes("\\\\xf0\\\\x9f") + readable_to_bytes("\\\\\\\\")
    b'\\xf0\\x9f\\\\'
    """
    check_str(text, "text")
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(text):
        out += text[position : match.start()].encode("utf-8")
        escape = match.group()
        if escape == "\\":
            raise ValueError(
                f"text: a backslash must start '\\\\' or '\\xNN' (lower-case hex), got {text!r}"
            )
        out += b"\\" if escape == "\\\\" else bytes([int(escape[2:], 16)])
        position = match.end()
    out += text[position:].encode("utf-8")
    return bytes(out)


class BPETokenizer(Tokenizer):
    """Byte-level BPE: 256 byte tokens, then one token per merge, then the special tokens.

    ``merges[k] = (a, b)`` says that token ``256 + k`` is token ``a`` followed by token ``b``;
    both must exist before merge ``k``. Build one with ``BPETokenizer.train`` or ``load``.

    >>> tok = BPETokenizer([(104, 105)], special_tokens=["<|endoftext|>"])
    >>> tok.encode("hi hi<|endoftext|>", allowed_special="all"), tok.vocab_size
    ([256, 32, 256, 257], 258)
    """

    kind = "bpe"

    def __init__(
        self,
        merges: Sequence[tuple[int, int]] = (),
        special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
        cache_size: int = 65536,
        encoder: str = "fast",
    ) -> None:
        if encoder not in _ENCODERS:
            raise ValueError(f"encoder: expected 'fast' or 'reference', got {describe(encoder)}")
        if isinstance(merges, str) or not isinstance(merges, Sequence):
            raise TypeError(f"merges: expected a list of (id, id) pairs, got {describe(merges)}")
        if len(merges) > _MAX_MERGES:  # ids are also stored as characters chr(id)
            raise ValueError(f"merges: expected at most {_MAX_MERGES} merges, got {len(merges)}")
        self._vocab = [bytes([b]) for b in range(256)]  # id -> bytes
        self._id_of = {token: i for i, token in enumerate(self._vocab)}  # bytes -> id
        self._merges: list[tuple[int, int]] = []
        for k, pair in enumerate(merges):
            self._add_merge(k, pair)
        self._ranks = {pair: 256 + k for k, pair in enumerate(self._merges)}  # pair -> new id
        super().__init__(special_tokens)
        self._all_bytes = self._vocab + [s.encode("utf-8") for s in self._specials]
        if encoder == "fast":
            encode: Any = FastPieceEncoder(self._merges)
        else:
            ranks = self._ranks

            def encode(piece: str) -> tuple[int, ...]:
                return tuple(encode_piece(piece, ranks))

        self._cache = _PieceCache(encode, check_positive_int(cache_size, "cache_size"))
        self.history: list[MergeRecord] | None = None  # filled in by ``train``

    def _add_merge(self, k: int, pair: Any) -> None:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"merges[{k}]: expected a pair of two ids, got {describe(pair)}")
        new_id = 256 + k
        for side in pair:
            check_int(side, f"merges[{k}]")
            if not 0 <= side < new_id:
                raise ValueError(
                    f"merges[{k}]: id {side} does not exist yet; merge {k} may only use ids "
                    f"0 to {new_id - 1} (bytes and earlier merges)"
                )
        token = self._vocab[pair[0]] + self._vocab[pair[1]]
        if token in self._id_of:
            raise ValueError(
                f"merges[{k}]: {pair} makes the token {bytes_to_readable(token)!r}, which is "
                f"already token {self._id_of[token]}; every token must be unique"
            )
        self._merges.append((int(pair[0]), int(pair[1])))
        self._id_of[token] = new_id
        self._vocab.append(token)

    @classmethod
    def train(
        cls,
        text: str,
        vocab_size: int,
        special_tokens: Sequence[str] = DEFAULT_SPECIAL_TOKENS,
        trainer: str = "fast",
    ) -> BPETokenizer:
        """Learn merges from ``text`` until ``vocab_size`` ids (specials included) exist.

        Special tokens in ``text`` are cut out before counting, so they take no part in
        merges. Training stops early, with a smaller vocabulary, if every piece has become
        a single token. ``trainer`` is ``"fast"`` (incremental) or ``"reference"`` (recounts
        every pair each step); both give the same merges. ``history`` records each merge.

        >>> tok = BPETokenizer.train("aaab", vocab_size=300, special_tokens=[])
        >>> [(r.pair, r.count, r.token) for r in tok.history]
        [((97, 97), 2, b'aa'), ((97, 98), 1, b'ab'), ((256, 257), 1, b'aaab')]
        >>> tok.vocab_size
        259
        """
        check_str(text, "text")
        specials = check_special_tokens(special_tokens)
        vocab_size = check_int(vocab_size, "vocab_size")
        smallest = 256 + len(specials)
        if vocab_size < smallest:
            raise ValueError(
                f"vocab_size: expected at least {smallest} (256 byte tokens + "
                f"{len(specials)} special tokens), got {vocab_size}"
            )
        if vocab_size > 0x110000:  # ids are stored as characters chr(id) while training
            raise ValueError(f"vocab_size: expected at most {0x110000}, got {vocab_size}")
        if trainer not in _TRAINERS:
            raise ValueError(f"trainer: expected 'fast' or 'reference', got {describe(trainer)}")
        if not text:
            raise ValueError("text: expected a non-empty training corpus, got ''")
        cls([], specials)  # fail now, not after training, if a special clashes with a byte
        history = _TRAINERS[trainer](count_pieces(text, specials), vocab_size - smallest)
        tokenizer = cls([record.pair for record in history], specials)
        tokenizer.history = history
        return tokenizer

    @property
    def merges(self) -> list[tuple[int, int]]:
        """The learned merges in rank order: ``merges[k]`` made token ``256 + k``.

        >>> BPETokenizer.train("abab", vocab_size=258, special_tokens=[]).merges
        [(97, 98), (256, 256)]
        """
        return list(self._merges)

    @property
    def n_ordinary(self) -> int:
        """256 byte tokens plus one token per merge."""
        return len(self._vocab)

    def token_bytes(self, token_id: int) -> bytes:
        """The raw bytes of one token (a special gives its UTF-8 text).

        >>> BPETokenizer([]).token_bytes(0xF0)
        b'\\xf0'
        """
        return self._all_bytes[self._check_token_id(token_id)]

    def decode_bytes(self, ids: Sequence[int] | np.ndarray) -> bytes:
        """The bytes of ``ids`` joined, without reading them as UTF-8.

        >>> BPETokenizer([]).decode_bytes([240, 159])
        b'\\xf0\\x9f'
        """
        return b"".join(map(self._all_bytes.__getitem__, self._check_ids(ids)))

    def _decode_checked(self, ids: list[int], errors: str) -> str:
        data = b"".join(map(self._all_bytes.__getitem__, ids))
        try:
            return data.decode("utf-8", errors=errors)
        except UnicodeDecodeError as exc:
            ends = list(accumulate(len(self._all_bytes[i]) for i in ids))
            position = next(k for k, end in enumerate(ends) if end > exc.start)
            raise ValueError(
                f"ids: the bytes are not valid UTF-8 ({exc.reason} at byte {exc.start}, in "
                f"token {ids[position]} at position {position}); a token can hold part of a "
                "character, so decode with errors='replace' or use decode_bytes"
            ) from None

    def _encode_ordinary(self, text: str) -> list[int]:
        try:
            return list(chain.from_iterable(map(self._cache.__getitem__, pretokenize(text))))
        except UnicodeEncodeError:
            utf8(text)  # raises a ValueError naming the lone surrogate
            raise

    def _ordinary_id(self, token: str) -> int | None:
        return self._id_of.get(utf8(token, "special_tokens"))

    def _ordinary_token_str(self, token_id: int) -> str:
        return bytes_to_readable(self._vocab[token_id])

    def _payload(self) -> dict[str, Any]:
        spell = self._ordinary_token_str
        return {"merges": [[spell(a), spell(b)] for a, b in self._merges]}

    @classmethod
    def _from_payload(
        cls, data: dict[str, Any], specials: tuple[str, ...], where: str
    ) -> BPETokenizer:
        id_of = {bytes([b]): b for b in range(256)}
        merges = []
        for k, item in enumerate(require(data, "merges", list, where)):
            if not (
                isinstance(item, list) and len(item) == 2 and all(isinstance(s, str) for s in item)
            ):
                raise TokenizerFileError(
                    f"{where}: 'merges'[{k}] should be a pair of two strings, got {describe(item)}"
                )
            pair = []
            for side in item:
                try:
                    token = readable_to_bytes(side)
                except ValueError as exc:
                    raise TokenizerFileError(f"{where}: 'merges'[{k}]: {exc}") from None
                if token not in id_of:
                    raise TokenizerFileError(
                        f"{where}: 'merges'[{k}]: {side!r} is not a token known before this "
                        "merge (the 256 bytes and the results of earlier merges)"
                    )
                pair.append(id_of[token])
            merged = readable_to_bytes(item[0]) + readable_to_bytes(item[1])
            if merged in id_of:
                raise TokenizerFileError(
                    f"{where}: 'merges'[{k}] makes the token {bytes_to_readable(merged)!r}, "
                    f"which is already token {id_of[merged]} (duplicate token)"
                )
            id_of[merged] = 256 + k
            merges.append((pair[0], pair[1]))
        return cls(merges, specials)


class _PieceCache(dict):
    """piece -> token ids, computed on first use; emptied before it would hold more than
    ``max_size`` pieces, so it never does."""

    def __init__(self, encode_piece: Any, max_size: int) -> None:
        super().__init__()
        self._encode_piece = encode_piece
        self._max_size = max_size

    def __missing__(self, piece: str) -> tuple[int, ...]:
        ids = self._encode_piece(piece)
        if len(self) >= self._max_size:
            self.clear()
        self[piece] = ids
        return ids
