"""Chapter 2 exercises: the loop references agree with the package, and mistakes are named.

The references in ``genai_notes.exercises.ch02`` are plain loops written for reading. They are
checked here against an independent route: the package's tokenizers (string-based merging,
rank-ordered encoding per piece), Python's own UTF-8 encoder, and token counts done by hand.
"""

import numpy as np
import pytest

from genai_notes.exercises import ch02
from genai_notes.exercises.ch02 import (
    _count_even_pairs_only,
    _count_without_last_pair,
    _encode_from_code_points,
    _encode_in_reverse,
    _encode_numbering_from,
    _merge_dropping_last,
    _merge_first_only,
    _merge_without_skipping,
    _non_ascii_is_two,
    _one_byte_each,
)
from genai_notes.exercises.core import Mistake, Question
from genai_notes.tokenizers import (
    BPETokenizer,
    CharTokenizer,
    WordTokenizer,
    count_pieces,
    merge,
    pair_counts,
    pretokenize,
    train_reference,
)

RNG = np.random.default_rng(0)
RANDOM_ID_LISTS = [RNG.integers(0, 4, size=n).tolist() for n in (0, 1, 2, 3, 10, 50)]


# --- references agree with the package -------------------------------------------------------


@pytest.mark.parametrize("ids", RANDOM_ID_LISTS)
def test_pair_counts_matches_the_package(ids):
    assert ch02.q1.reference(ids) == pair_counts(ids)


def test_pair_counts_with_weights_and_running_counts_by_hand():
    assert ch02.q1.reference([4, 4, 4], 3) == {(4, 4): 6}
    running = {(1, 2): 1}
    assert ch02.q1.reference([1, 2, 5], 2, running) == {(1, 2): 3, (2, 5): 2}
    assert running == {(1, 2): 3, (2, 5): 2}  # the given dict is the one filled in
    assert ch02.q1.reference([1, 2], 5, {}) == pair_counts([1, 2], 5, {})


def test_a_shared_default_dict_is_rejected():
    def shared_default(ids, weight=1, counts={}):  # noqa: B006 - the mistake under test
        for pair in zip(ids, ids[1:]):
            counts[pair] = counts.get(pair, 0) + weight
        return counts

    assert ch02.q1.evaluate(shared_default).status == "incorrect"


def test_pair_counts_by_hand():
    assert ch02.q1.reference([5, 5, 5]) == {(5, 5): 2}
    assert ch02.q1.reference([1, 2, 3, 1, 2]) == {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    assert ch02.q1.reference([]) == {}


@pytest.mark.parametrize("ids", RANDOM_ID_LISTS)
@pytest.mark.parametrize("pair", [(0, 0), (1, 2), (3, 3)])
def test_merge_matches_the_package(ids, pair):
    assert ch02.q2.reference(ids, pair, 99) == merge(ids, pair, 99)


def test_merge_by_hand():
    assert ch02.q2.reference([7, 7, 7], (7, 7), 8) == [8, 7]
    assert ch02.q2.reference([7, 7, 7, 7], (7, 7), 8) == [8, 8]
    assert ch02.q2.reference([1, 2, 1], (2, 3), 9) == [1, 2, 1]


TEXT = "the king sings . the kings sing . the queen sings ."


def test_sing_merges_are_what_training_learns():
    # The comment in ch02 says these are the first merges of the worked example; check it.
    history = train_reference(count_pieces(TEXT), n_merges=len(ch02._SING_MERGES))
    assert [r.pair for r in history] == ch02._SING_MERGES


@pytest.mark.parametrize(
    "text", [TEXT, "a kingdom of singing queens, 2024!", "café 中文 🙂 naïve", "   \n  x"]
)
def test_encode_word_per_piece_matches_the_tokenizer(text):
    # The package encodes each piece by repeatedly merging the lowest-rank pair present, with
    # string replacement; the reference applies every merge in order. They must agree.
    history = train_reference(count_pieces(TEXT + "\n" + "the kingdom sings"), n_merges=40)
    merges = [r.pair for r in history]
    tokenizer = BPETokenizer(merges, special_tokens=[])
    ours = [i for piece in pretokenize(text) for i in ch02.q3.reference(piece, merges)]
    assert ours == tokenizer.encode(text)
    assert tokenizer.decode(ours) == text


def test_encode_word_by_hand():
    assert ch02.q3.reference("hug", [(117, 103), (104, 256)]) == [257]
    assert ch02.q3.reference("hugs", [(117, 103), (104, 256)]) == [257, 115]
    assert ch02.q3.reference("é", []) == [195, 169]


@pytest.mark.parametrize("case", ch02.q4.cases)
def test_utf8_byte_counts_match_python_encoder(case):
    (text,) = case
    assert ch02.q4.reference(text) == [len(char.encode("utf-8")) for char in text]


def test_utf8_boundaries():
    edges = "\x7f\x80\u07ff\u0800\uffff\U00010000\U0010ffff"
    assert ch02.q4.reference(edges) == [1, 2, 2, 3, 3, 4, 4]


def test_estimate_cost_by_hand():
    # "Hi!" and "Hello there." are 3 + 12 characters, one token each: 15 tokens.
    assert ch02.q5.reference(CharTokenizer(), ["Hi!", "Hello there."], 2.0) == pytest.approx(
        15 / 1000 * 2.0
    )
    # hug | " hug" | " " c a f \xc3 \xa9  and  a | " hug": 8 + 2 = 10 tokens.
    assert ch02.q5.reference(ch02._HUG_TOKENIZER, ["hug hug café", "a hug"], 0.5) == (
        pytest.approx(10 / 1000 * 0.5)
    )
    # the king eats .  and  the <unk>: 4 + 2 = 6 words.
    words = WordTokenizer.from_text("the king eats the bread .")
    assert ch02.q5.reference(words, ["the king eats .", "the cat"], 10.0) == pytest.approx(0.06)


# --- typical mistakes get the right message ----------------------------------------------------

MISTAKES = [
    (ch02.q1, _count_even_pairs_only, "adjacent pairs overlap"),
    (ch02.q1, _count_without_last_pair, "the last pair (ids[-2], ids[-1]) is missing"),
    (ch02.q2, _merge_without_skipping, "skip both ids of the pair"),
    (ch02.q2, _merge_dropping_last, "the last id is missing"),
    (ch02.q2, _merge_first_only, "only the first occurrence was merged"),
    (ch02.q3, _encode_from_code_points, "start from the UTF-8 bytes"),
    (ch02.q3, _encode_numbering_from(0), "ids 0 to 255 are already taken"),
    (ch02.q3, _encode_numbering_from(255), "the first merge makes 256, not 255"),
    (ch02.q3, _encode_in_reverse, "apply the merges in the order they were learned"),
    (ch02.q4, _one_byte_each, "only ASCII (below U+0080) fits in one byte"),
    (ch02.q4, _non_ascii_is_two, "from U+0800 (such as CJK) UTF-8 uses 3"),
    (
        ch02.q5,
        lambda tok, texts, price: sum(map(len, texts)) / 1000 * price,
        "that is the cost of the characters",
    ),
    (
        ch02.q5,
        lambda tok, texts, price: sum(len(t.encode()) for t in texts) / 1000 * price,
        "that is the cost of the UTF-8 bytes",
    ),
    (
        ch02.q5,
        lambda tok, texts, price: sum(len(t.split()) for t in texts) / 1000 * price,
        "that is the cost of the words",
    ),
    (
        ch02.q5,
        lambda tok, texts, price: sum(len(tok.encode(t)) for t in texts) * price,
        "divide the token count by 1000",
    ),
]


@pytest.mark.parametrize(
    ("question", "wrong", "message"), MISTAKES, ids=[f"{q.name}-{m[:24]}" for q, _, m in MISTAKES]
)
def test_typical_mistake_is_explained(question, wrong, message):
    feedback = question.evaluate(wrong)
    assert feedback.status == "incorrect"
    assert message in feedback.message


def test_a_mistake_does_not_get_another_mistakes_message():
    # A merge that drops the last id is not "only the first occurrence" or "no skipping".
    message = ch02.q2.evaluate(_merge_dropping_last).message
    assert "first occurrence" not in message and "skip both" not in message
    # Returning a whole count instead of a list is a type error, reported as such.
    message = ch02.q4.evaluate(lambda text: len(text)).message
    assert "expected a list, got int" in message


def test_a_plain_wrong_answer_gets_no_misleading_diagnosis():
    feedback = ch02.q2.evaluate(lambda ids, pair, new_id: [new_id])
    assert feedback.status == "incorrect"
    assert "Also:" not in feedback.message


def test_a_mistake_rule_that_could_never_fire_is_rejected():
    with pytest.raises(ValueError, match="mistakes: pair_counts agrees with the reference"):
        Question(
            "x",
            kind="function",
            reference=ch02.pair_counts,
            cases=ch02._PAIR_CASES,
            mistakes=[Mistake(ch02.pair_counts, "never")],
        )


# --- the mistakes the issue lists, written as a learner would ----------------------------------


def test_counting_each_pair_once_is_not_called_a_missing_last_pair():
    def once(ids, weight=1, counts=None):
        counts = {} if counts is None else counts
        for pair in zip(ids, ids[1:]):
            counts[pair] = weight
        return counts

    message = ch02.q1.evaluate(once).message
    assert "every pair got the count of one occurrence" in message
    assert "last pair" not in message
    assert "the pair (1, 2): expected 2, got 1" in message


def _counts_with_le_at(*limits_with_le):
    """The learner's loop, with <= instead of < at the given limits."""

    def below(code_point, limit):
        return code_point <= limit if limit in limits_with_le else code_point < limit

    def counts(text):
        out = []
        for char in text:
            if below(ord(char), 0x80):
                out.append(1)
            elif below(ord(char), 0x800):
                out.append(2)
            elif below(ord(char), 0x10000):
                out.append(3)
            else:
                out.append(4)
        return out

    return counts


@pytest.mark.parametrize(
    ("limits", "diagnosis"),
    [
        ((0x80,), "not <= 0x80"),
        ((0x800,), "not <= 0x800"),
        ((0x10000,), "not <= 0x10000"),
        ((0x80, 0x800, 0x10000), "compare with <, not <="),
    ],
)
def test_off_by_one_limits_are_rejected_with_their_own_diagnosis(limits, diagnosis):
    feedback = ch02.q4.evaluate(_counts_with_le_at(*limits))
    assert feedback.status == "incorrect"
    assert diagnosis in feedback.message


def _by_encoding(text):
    return [len(char.encode("utf-8")) for char in text]


def _helper_counts(char):
    return len(char.encode())


@pytest.mark.parametrize(
    "answer",
    [
        _by_encoding,
        lambda text: [len(c.encode()) for c in text],
        lambda text: [len(bytes(c, "utf-8")) for c in text],
        lambda text: [len(str.encode(c)) for c in text],
        lambda text: [_helper_counts(c) for c in text],
    ],
)
def test_using_encode_is_rejected_although_the_counts_are_right(answer):
    assert answer("héllo 中🙂") == [1, 2, 1, 1, 1, 1, 3, 4]
    feedback = ch02.q4.evaluate(answer)
    assert feedback.status == "incorrect"
    assert "without encoding the text" in feedback.message


def test_a_stub_that_mentions_nothing_forbidden_is_still_not_attempted():
    def utf8_byte_counts(text):
        raise NotImplementedError

    assert ch02.q4.evaluate(utf8_byte_counts).status == "not attempted"


def test_byte_counts_are_reported_by_character():
    message = ch02.q4.evaluate(_non_ascii_is_two).message
    assert "character '中' (position 0): expected 3, got 2" in message
