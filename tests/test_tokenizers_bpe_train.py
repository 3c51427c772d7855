"""BPE training: the teaching functions, a hand-worked run, and the two trainers agreeing."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes.data import corpus_text
from genai_notes.tokenizers import (
    BPETokenizer,
    MergeRecord,
    count_pieces,
    merge,
    pair_counts,
    train_fast,
    train_reference,
)


def test_pair_counts_by_hand() -> None:
    assert pair_counts([1, 2, 3, 1, 2]) == {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    assert pair_counts([4, 4, 4, 4], weight=3) == {(4, 4): 9}  # overlapping pairs all count
    assert pair_counts([7]) == {} and pair_counts([]) == {}
    running = pair_counts([1, 2])
    assert pair_counts([1, 2, 5], counts=running) == {(1, 2): 2, (2, 5): 1}


def test_merge_by_hand() -> None:
    assert merge([1, 2, 3, 1, 2], (1, 2), 9) == [9, 3, 9]
    assert merge([5, 5, 5, 5, 5], (5, 5), 6) == [6, 6, 5]  # left to right, no overlap
    assert merge([1, 2], (2, 1), 9) == [1, 2]
    assert merge([3, 1, 2], (1, 2), 9) == [3, 9]


def test_merge_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="pair: expected a tuple of two ids"):
        merge([1, 2], [1, 2], 9)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="new_id: expected an integer"):
        merge([1, 2], (1, 2), 9.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="weight: expected an integer"):
        pair_counts([1, 2], weight="3")  # type: ignore[arg-type]


# "ab ab ab abc" has the pieces "ab" x1, " ab" x2, " abc" x1. Pair counts: (a, b) 4, (" ", a)
# 3, (b, c) 1. After ab -> 256: (" ", 256) 3, (256, c) 1. After " ab" -> 257: (257, c) 1.
# After " abc" -> 258 every piece is one token, so training stops after 3 merges.
HAND_HISTORY = [
    MergeRecord((97, 98), 4, 256, b"ab"),
    MergeRecord((32, 256), 3, 257, b" ab"),
    MergeRecord((257, 99), 1, 258, b" abc"),
]


@pytest.mark.parametrize("trainer", ["fast", "reference"])
def test_worked_example_and_early_stop(trainer: str) -> None:
    tok = BPETokenizer.train("ab ab ab abc", vocab_size=300, trainer=trainer)
    assert tok.history == HAND_HISTORY
    assert tok.merges == [(97, 98), (32, 256), (257, 99)]
    assert tok.vocab_size == 259 + 3  # stopped early; the specials follow the last merge
    assert tok.special_tokens == {"<|endoftext|>": 259, "<pad>": 260, "<mask>": 261}
    assert tok.encode("ab abc") == [256, 258]


@pytest.mark.parametrize("train", [train_reference, train_fast])
def test_tie_break_takes_the_smallest_pair(train: Callable[..., list[MergeRecord]]) -> None:
    # (98, 97) "ba" and (97, 98) "ab" both occur once; (97, 98) is smaller, so it goes first.
    history = train({"ba": 1, "ab": 1}, n_merges=2)
    assert [r.pair for r in history] == [(97, 98), (98, 97)]
    assert [r.count for r in history] == [1, 1]


def _random_text(seed: int, alphabet: str, length: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(length))


CORPORA = {
    "synthetic": corpus_text(300, seed=0),
    "tie-heavy permutations": " ".join(
        "".join(random.Random(k).sample("abcdefgh", 8)) for k in range(200)
    ),
    "one repeated char": "a" * 1000 + " " + "a" * 37,
    "two letters": _random_text(1, "ab ", 3000),
    "unicode": "naïve café 中文字 🙂🙂 👍🏽 e\u0301 " * 5 + _random_text(2, "éa中🙂 ", 500),
    "code": "def f(x_1):\n    return x_1 ** 2  # square\n" * 20 + "x = [i for i in range(9)]",
}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_trainers_give_identical_merges(name: str) -> None:
    pieces = count_pieces(CORPORA[name])
    reference = train_reference(pieces, n_merges=300)
    assert train_fast(pieces, n_merges=300) == reference
    assert len({r.token for r in reference}) == len(reference)  # every token is new


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="aab b\n🙂", min_size=1, max_size=80), st.integers(0, 40))
def test_trainers_agree_on_random_small_corpora(text: str, n_merges: int) -> None:
    pieces = count_pieces(text)
    assert train_fast(pieces, n_merges) == train_reference(pieces, n_merges)


def test_counts_in_history_are_true_pair_counts() -> None:
    """Replay the merges with ``merge`` and recount each chosen pair independently."""
    text = CORPORA["synthetic"]
    words = {piece: list(piece.encode()) for piece in count_pieces(text)}
    weights = count_pieces(text)
    for record in train_fast(count_pieces(text), n_merges=60):
        counted = sum(pair_counts(w, weights[p]).get(record.pair, 0) for p, w in words.items())
        assert counted == record.count
        everything: dict = {}
        for p, w in words.items():
            pair_counts(w, weights[p], everything)
        assert max(everything.values()) == record.count
        words = {p: merge(w, record.pair, record.new_id) for p, w in words.items()}


def test_specials_take_no_part_in_training() -> None:
    tok = BPETokenizer.train("<pad><pad><pad>ab", vocab_size=300, special_tokens=["<pad>"])
    assert [r.token for r in tok.history] == [b"ab"]


def test_train_reaches_the_requested_vocab_size() -> None:
    tok = BPETokenizer.train(CORPORA["synthetic"], vocab_size=300)
    assert tok.vocab_size == 300 and len(tok.merges) == 300 - 256 - 3


def test_train_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"vocab_size: expected at least 259 \(256 byte tokens"):
        BPETokenizer.train("some text", vocab_size=258)
    with pytest.raises(ValueError, match="vocab_size: expected at least 256"):
        BPETokenizer.train("some text", vocab_size=100, special_tokens=[])
    with pytest.raises(TypeError, match="vocab_size: expected an integer"):
        BPETokenizer.train("some text", vocab_size=300.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="text: expected a non-empty training corpus"):
        BPETokenizer.train("", vocab_size=300)
    with pytest.raises(ValueError, match="text: expected a non-empty training corpus"):
        BPETokenizer.train("<pad><pad>", vocab_size=300)
    with pytest.raises(TypeError, match="text: expected a str"):
        BPETokenizer.train(["a list"], vocab_size=300)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="trainer: expected 'fast' or 'reference'"):
        BPETokenizer.train("abc", vocab_size=300, trainer="slow")
    with pytest.raises(ValueError, match="special_tokens: 'x' collides with the ordinary token"):
        BPETokenizer.train("abc", vocab_size=300, special_tokens=["x"])
    with pytest.raises(ValueError, match="special_tokens: '<pad>' appears more than once"):
        BPETokenizer.train("abc", vocab_size=300, special_tokens=["<pad>", "<pad>"])
    with pytest.raises(ValueError, match="n_merges: expected a non-negative integer"):
        train_fast({"ab": 1}, n_merges=-1)
    with pytest.raises(ValueError, match="lone surrogate"):
        BPETokenizer.train("ab\ud800", vocab_size=300)
