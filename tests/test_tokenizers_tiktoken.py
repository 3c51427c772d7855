"""Our BPE against tiktoken's Rust engine: same pre-tokenizer pattern, same merges, same ids.

No download: tiktoken's ``Encoding`` is built directly from our own trained ranks (token bytes
-> id) with ``pat_str`` = our ``GPT2_SPLIT_PATTERN``. The corpus holds what tells regex engines
apart: emoji joined by the zero-width joiner, Devanagari with its combining vowel signs,
decomposed accents, numeric symbols, CJK and contractions.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes.tokenizers import GPT2_SPLIT_PATTERN, BPETokenizer

tiktoken = pytest.importorskip("tiktoken")

CORPUS = (
    "The family 👨\u200d👩\u200d👧 and 👩\u200d💻 coders; 👍🏽 and 🇫🇷 flags. 👨\u200d 👨\u200d👨\n"
    "नमस्ते दुनिया, क्षत्रिय और हिन्दी भाषा। किताबें पढ़ो।\n"
    "Decomposed: cafe\u0301 nai\u0308ve re\u0301sume\u0301, and composed café naïve résumé.\n"
    "Numbers 2024, x² + y² = z², ½ of Ⅻ; it's, we've, you're, I'd, don't, we'll, I'm.\n"
    "中文分词很难。日本語のテキスト。한국어 문장입니다. zero\u200bwidth and\u200cnon-joiner.\n"
) * 6
OURS = BPETokenizer.train(CORPUS, vocab_size=700, special_tokens=[])


def as_tiktoken(tok: BPETokenizer, pattern: str) -> tiktoken.Encoding:
    ranks = {tok.token_bytes(i): i for i in range(tok.n_ordinary)}
    return tiktoken.Encoding(
        name="genai_notes_test", pat_str=pattern, mergeable_ranks=ranks, special_tokens={}
    )


THEIRS = as_tiktoken(OURS, GPT2_SPLIT_PATTERN)

STRINGS = [line for line in CORPUS.splitlines()[:5]] + [
    "👨\u200d", "👨\u200d👩", "e\u0301", "a\u0308b", "क्षि", "हिन्दी", "²", "x²", "½ Ⅻ", "٣٤",
    "\u200b", "\u200c", "a\u200db", "_", "__init__", "'s", "'S", "don't", " you're", "I'd",
    "\x1c\x1d\x1e\x1f", "a\x1fb", "\u00a0x", "\u3000中", "  \n\n x", "\t\tcode", "1234567",
    "🙂🙂🙂", "🇫🇷🇯🇵", "👍🏽!", "(﻿BOM)", "\u0085next", "‖§¶", "emoji👨\u200d💻text", "",
    "Zürich", "ΑΒΓ αβγ", "кириллица", "عربى", "עברית", "ไทย", "a" * 300,
]  # fmt: skip


@pytest.mark.parametrize("text", STRINGS)
def test_same_ids_as_tiktoken_on_hard_strings(text: str) -> None:
    assert OURS.encode(text) == THEIRS.encode_ordinary(text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(STRINGS), st.text(st.characters(exclude_categories=("Cs", "Cn"))))
    ).map("".join)
)
def test_same_ids_as_tiktoken_on_any_text(text: str) -> None:
    assert OURS.encode(text, allowed_special="none") == THEIRS.encode_ordinary(text)


def test_a_pattern_spelled_with_re_classes_is_read_differently_by_tiktoken() -> None:
    # Why the pattern is written with \p{L} and \p{N}: the same rule spelled with the standard
    # re module's classes means one thing to Python and another to tiktoken's engine, which
    # counts the zero-width joiner as a word character and so cuts '👨\u200d' in two.
    re_spelling = r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\w\s]|_)+|\s+(?!\S)|\s+"""
    piece = "👨\u200d"
    ranks = {bytes([b]): b for b in range(256)}
    data = piece.encode("utf-8")
    for k in range(2, len(data) + 1):  # merges that join the whole piece into one token
        ranks[data[:k]] = 254 + k
    whole = tiktoken.Encoding(
        name="t", pat_str=GPT2_SPLIT_PATTERN, mergeable_ranks=ranks, special_tokens={}
    )
    split = tiktoken.Encoding(
        name="t", pat_str=re_spelling, mergeable_ranks=ranks, special_tokens={}
    )
    assert whole.encode_ordinary(piece) == [254 + len(data)]  # one piece, one token
    assert len(split.encode_ordinary(piece)) == 4  # '👨' (one token) + the joiner's 3 bytes
