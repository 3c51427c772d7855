"""The BPE tokenizer: lossless round trips, encoding by ranks, special tokens, bad input."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes.tokenizers import BPETokenizer, CharTokenizer, WordTokenizer, merge, pretokenize
from genai_notes.tokenizers.bpe_fast import FastPieceEncoder
from genai_notes.tokenizers.bpe_reference import encode_piece

MIXED_CORPUS = (
    "The quick brown fox jumps over the lazy dog. It's 2024, and we'll see 3.14 apples!\n"
    "Naïve café owners in Zürich serve crème brûlée.\tTabs\tand  double  spaces.\n"
    "中文分词很难。日本語のテキスト。한국어 문장입니다.\n"
    "Emoji: 🙂👍🏽👨\u200d👩\u200d👧 and flags 🇫🇷🇯🇵; combining e\u0301 and a\u0308.\n"
    "def tokenize(text_in):\n    return [t for t in text_in.split() if t != '']  # ok\n"
) * 8
TOK = BPETokenizer.train(MIXED_CORPUS, vocab_size=420)

TRICKY = [
    "a", " ", "\n", "\t", "\r\n", "\x00", "é", "e\u0301", "中", "🙂", "👍🏽", "👨\u200d👩\u200d👧\u200d👦",
    "🇫🇷", "_", "'s", "<pad>", "<|endoftext|>", "<|endof", "\ufffd", "\U0010ffff", "9", "the",
]  # fmt: skip
tricky_text = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=6))).map("".join)
any_text = st.one_of(st.text(), tricky_text)


@settings(max_examples=1000, deadline=None)
@given(any_text)
def test_decode_encode_round_trip(text: str) -> None:
    assert TOK.decode(TOK.encode(text, allowed_special="all")) == text
    assert TOK.decode(TOK.encode(text, allowed_special="none")) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ASCII",
        "àéîõü ÀÉÎÕÜ",
        "漢字かなカナ",
        "👩🏾\u200d💻 👨\u200d👩\u200d👧\u200d👦 👍🏻👍🏿",
        "e\u0301\u0302\u0303",
        "\x00\x01\x1f\x7f",
        "line\nbreaks\r\nand\ttabs",
        "a" * 10_000,
        " " * 5000 + "x",
        "🙂" * 3000,
        "<|endoftext|><pad><mask>",
    ],
)
def test_round_trip_on_hard_strings(text: str) -> None:
    assert TOK.decode(TOK.encode(text, allowed_special="all")) == text


def slow_encode(tok: BPETokenizer, text: str) -> list[int]:
    """The definition of BPE encoding: apply every merge, in the order learned, to each piece."""
    ids: list[int] = []
    for piece in pretokenize(text):
        word = list(piece.encode("utf-8"))
        for k, pair in enumerate(tok.merges):
            word = merge(word, pair, 256 + k)
        ids += word
    return ids


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_encode_by_ranks_equals_applying_merges_in_order(text: str) -> None:
    assert TOK.encode(text, allowed_special="none") == slow_encode(TOK, text)


LONG_PIECES = {
    "random letters": "".join(
        random.Random(0).choice("abcdefghijklmnopqrstuvwxyz") for _ in range(3000)
    ),
    "one letter": "a" * 5000,
    "emoji run": "🙂👍🏽" * 400,
    "spaceless corpus": MIXED_CORPUS.replace(" ", "")[:4000],
    "just over the threshold": "thequickbrownfoxes",
}


@pytest.mark.parametrize("name", sorted(LONG_PIECES))
def test_long_pieces_encode_like_short_ones(name: str) -> None:
    """Long pieces take the heap path; it must agree with the definition too."""
    text = LONG_PIECES[name]
    assert TOK.encode(text) == slow_encode(TOK, text)


def test_encoding_the_training_text_uses_the_learned_tokens() -> None:
    ids = TOK.encode(MIXED_CORPUS)
    assert ids == slow_encode(TOK, MIXED_CORPUS)
    assert len(ids) < len(MIXED_CORPUS.encode()) / 2  # merges pay off on their own corpus


def test_a_small_cache_gives_the_same_ids_and_stays_bounded() -> None:
    tiny = BPETokenizer(TOK.merges, cache_size=3)
    assert tiny.encode(MIXED_CORPUS) == TOK.encode(MIXED_CORPUS)
    assert len(tiny._cache) <= 3  # the bound is what keeps memory flat on endless text
    for piece in pretokenize(MIXED_CORPUS[:400]):  # and it holds after every insertion
        tiny.encode(piece)
        assert len(tiny._cache) <= 3


def test_special_tokens_policy() -> None:
    eot, pad = TOK.special_tokens["<|endoftext|>"], TOK.special_tokens["<pad>"]
    assert TOK.encode("<|endoftext|>", allowed_special="all") == [eot]
    ids = TOK.encode("hi<pad>there<|endoftext|>", allowed_special="all")
    assert ids.count(pad) == 1 and ids[-1] == eot
    plain = TOK.encode("hi<pad>", allowed_special="none")
    assert pad not in plain and TOK.decode(plain) == "hi<pad>"
    only_pad = TOK.encode("<pad><|endoftext|>", allowed_special={"<pad>"})
    assert only_pad[0] == pad and eot not in only_pad
    assert TOK.decode([eot, pad]) == "<|endoftext|><pad>"


def test_half_an_emoji_follows_the_decoding_policy() -> None:
    emoji = "🙂".encode()  # 4 bytes; byte tokens 0..255 can split it
    half = list(emoji[:2])
    assert TOK.decode(half) == "\ufffd"
    assert TOK.decode(half + [ord("a")]) == "\ufffda"
    assert TOK.decode_bytes(half) == emoji[:2]
    with pytest.raises(
        ValueError, match="not valid UTF-8 .* at byte 1, in token 240 at position 1"
    ):
        TOK.decode([ord("a"), *half], errors="strict")
    with pytest.raises(ValueError, match="errors: expected 'replace' or 'strict'"):
        TOK.decode(half, errors="ignore")


def test_token_bytes_and_token_str() -> None:
    assert TOK.token_bytes(ord("A")) == b"A"
    assert TOK.token_bytes(0xF0) == b"\xf0" and TOK.token_str(0xF0) == "\\xf0"
    merged = TOK.history[0]
    assert TOK.token_bytes(merged.new_id) == merged.token
    assert TOK.token_bytes(TOK.special_tokens["<pad>"]) == b"<pad>"
    assert TOK.token_str(TOK.special_tokens["<mask>"]) == "<mask>"
    assert b"".join(TOK.token_bytes(i) for i in TOK.encode("naïve 🙂")) == "naïve 🙂".encode()


def test_decode_accepts_numpy_arrays_and_numpy_integers() -> None:
    ids = TOK.encode("Zürich")
    assert TOK.decode(np.array(ids)) == "Zürich"
    assert TOK.decode([np.int64(i) for i in ids]) == "Zürich"


def test_bad_input_gives_clear_errors() -> None:
    with pytest.raises(TypeError, match="text: expected a str, got int 123"):
        TOK.encode(123)  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"id 9999 at position 1 is out of range; valid ids are 0 to 419"
    ):
        TOK.decode([1, 9999])
    with pytest.raises(ValueError, match="id -1 at position 0 is out of range"):
        TOK.decode([-1])
    with pytest.raises(TypeError, match="ids: expected integer token ids, got 'a' at position 1"):
        TOK.decode([1, "a"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="got 1.5 at position 0"):
        TOK.decode([1.5])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="got True at position 0"):
        TOK.decode([True])
    with pytest.raises(TypeError, match="ids: expected a list of integer token ids, got 'abc'"):
        TOK.decode("abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ids: expected a 1-D array of integers"):
        TOK.decode(np.zeros(3))
    with pytest.raises(
        ValueError, match="token_id: id 420 is out of range; valid ids are 0 to 419"
    ):
        TOK.token_bytes(420)
    with pytest.raises(TypeError, match="token_id: expected an integer, got '7'"):
        TOK.token_str("7")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lone surrogate '\\\\ud800' at position 1"):
        TOK.encode("a\ud800b")
    with pytest.raises(ValueError, match="allowed_special: '<bos>' is not a special token"):
        TOK.encode("x", allowed_special={"<bos>"})
    with pytest.raises(ValueError, match="allowed_special: expected 'raise', 'all', 'none'"):
        TOK.encode("x", allowed_special="some")
    with pytest.raises(TypeError, match="allowed_special: expected 'raise'"):
        TOK.encode("x", allowed_special=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="encoder: expected 'fast' or 'reference'"):
        BPETokenizer([], encoder="heap")


def test_constructor_checks_merges_and_specials() -> None:
    with pytest.raises(ValueError, match=r"merges\[0\]: id 256 does not exist yet"):
        BPETokenizer([(256, 1)])
    with pytest.raises(ValueError, match=r"merges\[1\]: \(97, 98\) makes the token 'ab'.*unique"):
        BPETokenizer([(97, 98), (97, 98)])
    with pytest.raises(TypeError, match=r"merges\[0\]: expected a pair of two ids"):
        BPETokenizer([(1, 2, 3)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="special_tokens: 'ab' collides with the ordinary token"):
        BPETokenizer([(97, 98)], special_tokens=["ab"])
    with pytest.raises(ValueError, match="special_tokens: the empty string cannot be a token"):
        BPETokenizer([], special_tokens=[""])
    with pytest.raises(ValueError, match="special_tokens: '<pad>' appears more than once"):
        BPETokenizer([], special_tokens=["<pad>", "<mask>", "<pad>"])
    with pytest.raises(ValueError, match="cache_size: expected a positive integer"):
        BPETokenizer([], cache_size=0)


@pytest.mark.parametrize(
    ("text", "special", "position"),
    [
        ("<|endoftext|>", "<|endoftext|>", 0),
        ("hi<pad>there<|endoftext|>", "<pad>", 2),  # the first one in the text is named
        ("ignore this <mask> and <pad>", "<mask>", 12),
    ],
)
def test_special_text_is_refused_unless_the_caller_allows_it(text, special, position) -> None:
    # The safe default: untrusted text can never produce a control token by accident.
    for tok in (TOK, CharTokenizer(), WordTokenizer(["hi"])):
        with pytest.raises(
            ValueError,
            match=f"contains the special token '{re.escape(special)}' at position {position}",
        ):
            tok.encode(text)
        with pytest.raises(ValueError, match=re.escape(special)):
            tok.encode(text, allowed_special="raise")
        assert tok.encode(text, allowed_special="none") == tok.encode(text, allowed_special=())
    assert TOK.encode("<|endof text", allowed_special="raise") == TOK.encode("<|endof text", "none")
    assert TOK.encode("plain text") == TOK.encode("plain text", allowed_special="all")


def test_the_cache_never_holds_more_than_its_size() -> None:
    # Checked after every insertion: a cache that clears only once it is over its size (at
    # `> max_size` instead of `>=`) holds cache_size + 1 pieces for a moment, and fails here.
    tiny = BPETokenizer(TOK.merges, cache_size=3)
    for word in ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]:
        tiny.encode(word)
        assert 1 <= len(tiny._cache) <= 3
    assert word in tiny._cache


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_the_readable_encoder_gives_the_fast_encoders_ids(text: str) -> None:
    readable = BPETokenizer(TOK.merges, encoder="reference")
    assert readable.encode(text, allowed_special="none") == TOK.encode(text, "none")


@pytest.mark.parametrize("name", sorted(LONG_PIECES))
def test_the_readable_encoder_agrees_on_long_pieces(name: str) -> None:
    text = LONG_PIECES[name][:1500]  # the readable encoder is quadratic; long enough for the heap
    assert BPETokenizer(TOK.merges, encoder="reference").encode(text) == TOK.encode(text)


def test_encode_piece_by_hand() -> None:
    ranks = {(104, 105): 256, (256, 256): 257}  # "hi", then "hihi"
    assert encode_piece("hihih", ranks) == [257, 104]
    assert list(FastPieceEncoder([(104, 105), (256, 256)])("hihih")) == [257, 104]
    assert encode_piece("", ranks) == [] and encode_piece("é", ranks) == [195, 169]


def test_the_piece_encoders_check_their_arguments() -> None:
    with pytest.raises(TypeError, match="piece: expected a str, got int"):
        encode_piece(3, {})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ranks: expected a dict"):
        encode_piece("ab", [(97, 98)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="piece: expected a str, got bytes"):
        FastPieceEncoder([(97, 98)])(b"ab")  # type: ignore[arg-type]
