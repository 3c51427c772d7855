"""Character and word tokenizers: exact ids by hand, lossless chars, documented word losses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes.tokenizers import N_CODE_POINTS, CharTokenizer, WordTokenizer, split_words

UNICODE = CharTokenizer()
SMALL_CORPUS = "Hello, world! Ça va? 中文 🙂 tabs\tand\nlines <pad>"
ALPHABET_TOK = CharTokenizer.from_text(SMALL_CORPUS)

TRICKY = ["\x00", "e\u0301", "👨\u200d👩\u200d👧", "👍🏽", "<pad>", "<|endoftext|>", "\ud800", "中"]
tricky_text = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=6))).map("".join)


def test_char_ids_are_code_points_then_specials() -> None:
    assert UNICODE.encode("Hi!") == [72, 105, 33]
    assert UNICODE.encode("é🙂") == [0xE9, 0x1F642]
    assert UNICODE.vocab_size == N_CODE_POINTS + 3 == 1_114_115
    assert UNICODE.special_tokens == {
        "<|endoftext|>": 0x110000,
        "<pad>": 0x110001,
        "<mask>": 0x110002,
    }
    assert UNICODE.encode("a<mask>", allowed_special="all") == [97, 0x110002]
    assert UNICODE.decode([104, 0x110001, 105]) == "h<pad>i"


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.text(), tricky_text))
def test_char_round_trip_over_all_of_unicode(text: str) -> None:
    assert UNICODE.decode(UNICODE.encode(text, allowed_special="all")) == text
    assert len(UNICODE.encode(text, allowed_special="none")) == len(text)


def test_alphabet_from_text_by_hand() -> None:
    tok = CharTokenizer.from_text("banana<pad>")
    assert tok.alphabet == "abn"  # sorted, and the special's characters are left out
    assert tok.encode("nab<pad>", allowed_special="all") == [2, 0, 1, 4]
    assert tok.vocab_size == 6


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=sorted(set(SMALL_CORPUS.replace("<pad>", "")))))
def test_char_round_trip_within_the_alphabet(text: str) -> None:
    assert ALPHABET_TOK.decode(ALPHABET_TOK.encode(text)) == text


def test_char_errors() -> None:
    with pytest.raises(ValueError, match="text: the character 'z' at position 2 is not in"):
        ALPHABET_TOK.encode("Hez")
    with pytest.raises(ValueError, match="special_tokens: 'a' collides with the ordinary token"):
        CharTokenizer(special_tokens=["a"])
    with pytest.raises(ValueError, match="special_tokens: 'b' collides"):
        CharTokenizer("ab", special_tokens=["b"])
    CharTokenizer("ab", special_tokens=["c"])  # outside the alphabet: no collision
    with pytest.raises(ValueError, match="alphabet: the character 'a' appears more than once"):
        CharTokenizer("aba")
    with pytest.raises(ValueError, match="text: expected some characters"):
        CharTokenizer.from_text("<pad>")
    with pytest.raises(TypeError, match="text: expected a str, got int"):
        UNICODE.encode(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="id 1114115 at position 0 is out of range"):
        UNICODE.decode([N_CODE_POINTS + 3])


WORDS = WordTokenizer.from_text("the cat sat on the mat . the cat ran !")


def test_word_vocabulary_by_hand() -> None:
    # "the" x3, "cat" x2, then the words seen once in alphabetical order.
    assert WORDS.words == ("the", "cat", "!", ".", "mat", "on", "ran", "sat")
    assert WORDS.special_tokens == {"<|endoftext|>": 8, "<pad>": 9, "<mask>": 10, "<unk>": 11}
    assert WORDS.encode("The cat sat, quietly.") == [11, 1, 7, 11, 11, 3]
    assert WORDS.decode(WORDS.encode("the   dog\nran!")) == "the <unk> ran !"
    assert WORDS.encode("the<pad>cat", allowed_special="all") == [0, 9, 1]


def test_word_limits() -> None:
    tok = WordTokenizer.from_text("a a a b b c", max_words=2, special_tokens=[])
    assert tok.words == ("a", "b") and tok.special_tokens == {"<unk>": 2}
    assert WordTokenizer.from_text("a a a b b c", min_count=2).words == ("a", "b")


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), tricky_text))
def test_word_decoding_is_lossy_exactly_as_documented(text: str) -> None:
    known = set(WORDS.words)
    expected = " ".join(w if w in known else "<unk>" for w in split_words(text))
    assert WORDS.decode(WORDS.encode(text, allowed_special="none")) == expected


def test_word_errors() -> None:
    with pytest.raises(ValueError, match="words: 'two words' at position 1 is not a single word"):
        WordTokenizer(["one", "two words"])
    with pytest.raises(ValueError, match="words: 'one' appears more than once"):
        WordTokenizer(["one", "one"])
    with pytest.raises(ValueError, match="special_tokens: 'cat' collides with the ordinary token"):
        WordTokenizer(["cat"], special_tokens=["cat"])
    with pytest.raises(ValueError, match="text: expected some words"):
        WordTokenizer.from_text("   ")
    with pytest.raises(ValueError, match="max_words: expected a positive integer"):
        WordTokenizer.from_text("a b", max_words=0)
    with pytest.raises(TypeError, match="words: expected a list of strings"):
        WordTokenizer("cat")  # type: ignore[arg-type]
