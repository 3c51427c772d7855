"""GPT-2-style pre-tokenization: hand-worked splits, and pieces that always rebuild the text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes.tokenizers import count_pieces, pretokenize, split_on_specials

# Pieces that exercise every branch of the pattern and the hard corners of Unicode.
TRICKY = [
    "a", "Z", " ", "  ", "\n", "\t", "\r\n", "\x00", "\x1b", "_", "__", "'s", "'S", "'ll", "'",
    "é", "e\u0301", "中文", "١٢", "²", "👍🏽", "👨\u200d👩\u200d👧", "\u200b", "\u00a0", "<pad>",
    "<|endoftext|>", "123", "!?", "\ufeff", "🇫🇷",
]  # fmt: skip
tricky_text = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=4))).map("".join)


@pytest.mark.parametrize(
    "text, pieces",
    [
        ("Hello world", ["Hello", " world"]),
        ("I'm here, they'll go", ["I", "'m", " here", ",", " they", "'ll", " go"]),
        ("DON'T", ["DON", "'", "T"]),  # contractions are lower-case only, as in GPT-2
        ("abc123def", ["abc", "123", "def"]),
        ("x_y", ["x", "_", "y"]),
        ("  hi", [" ", " hi"]),  # the last space joins the word
        ("hi  ", ["hi", "  "]),
        ("a\x1fb", ["a", "\x1f", "b"]),  # a separator control is a symbol, not whitespace
        ("\n\n\nfoo", ["\n\n", "\n", "foo"]),
        ("e\u0301t\u00e9", ["e", "\u0301", "t\u00e9"]),  # a combining mark is not a letter
        ("中文 字", ["中文", " 字"]),
        ("ok 👍🏽!", ["ok", " 👍🏽!"]),
        ("x² ½", ["x", "²", " ½"]),  # numeric symbols are numbers, \\p{N}, as in GPT-2
        ("👨\u200d👩", ["👨\u200d👩"]),  # the zero-width joiner is not a letter
        ("a\u200db", ["a", "\u200d", "b"]),
        ("", []),
    ],
)
def test_pretokenize_hand_examples(text: str, pieces: list[str]) -> None:
    assert pretokenize(text) == pieces


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.text(), tricky_text))
def test_pieces_concatenate_to_the_input(text: str) -> None:
    pieces = pretokenize(text)
    assert "".join(pieces) == text
    assert all(pieces)


# Code points unassigned in one Unicode database may be assigned in another's; everything else
# must split exactly as GPT-2's pattern does in HuggingFace's Rust engine.
comparable = st.characters(exclude_categories=("Cn", "Cs"))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet=st.characters(codec="ascii")), st.text(alphabet=comparable)))
def test_matches_huggingface_byte_level_split(text: str) -> None:
    """An independent implementation of the GPT-2 pattern (HF's Rust `regex` with \\p{L})."""
    tokenizers = pytest.importorskip("tokenizers")
    split = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    to_text = tokenizers.decoders.ByteLevel()
    theirs = [to_text.decode([piece]) for piece, _ in split.pre_tokenize_str(text)]
    assert pretokenize(text) == theirs


def test_every_contraction_is_its_own_piece() -> None:
    # Dropping any one suffix ('re, say) from the pattern must fail here.
    assert pretokenize("you're we've it's don't I'd I'm we'll") == [
        "you", "'re", " we", "'ve", " it", "'s", " don", "'t", " I", "'d", " I", "'m", " we", "'ll",
    ]  # fmt: skip


def test_pretokenize_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="text: expected a str, got int"):
        pretokenize(123)  # type: ignore[arg-type]


def test_split_on_specials_prefers_the_longest_special() -> None:
    parts = split_on_specials("a<|end|>b<|endoftext|>", ["<|end", "<|endoftext|>"])
    assert parts == ["a", "<|end", "|>b", "<|endoftext|>", ""]


def test_count_pieces_counts_each_distinct_piece_and_skips_specials() -> None:
    counts = count_pieces("the cat<pad> the cat<pad>", ["<pad>"])
    assert dict(counts) == {"the": 1, " cat": 2, " the": 1}
