"""Exercises for chapter 2, "Tokenization": byte-pair encoding and UTF-8 by hand.

The reference solutions are written for reading, with plain loops; the package's own
:mod:`genai_notes.tokenizers` computes the same things (faster), and the tests check that they
agree. Each ``diagnose`` rule recognises one typical mistake by recomputing, for every test
case, what that mistake would return, and explains it when the learner's output matches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genai_notes.exercises.core import Question, mistake
from genai_notes.tokenizers import BPETokenizer, CharTokenizer, WordTokenizer

# ---------------------------------------------------------------------------------------------
# Reference solutions


def _count_pairs(ids):
    counts = {}
    for left, right in zip(ids, ids[1:]):  # every adjacent pair; pairs overlap
        counts[(left, right)] = counts.get((left, right), 0) + 1
    return counts


def _merge(ids, pair, new_id):
    out = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2  # both ids of the pair are now one token
        else:
            out.append(ids[i])
            i += 1
    return out


def _encode_word(word, merges):
    ids = list(word.encode("utf-8"))  # start from bytes, ids 0 to 255
    for k, pair in enumerate(merges):  # in the order they were learned
        ids = _merge(ids, tuple(pair), 256 + k)
    return ids


def _utf8_byte_counts(text):
    counts = []
    for char in text:
        code_point = ord(char)
        if code_point < 0x80:  # ASCII
            counts.append(1)
        elif code_point < 0x800:  # accented Latin, Greek, Cyrillic, Hebrew, Arabic, ...
            counts.append(2)
        elif code_point < 0x10000:  # the rest of the Basic Multilingual Plane, such as CJK
            counts.append(3)
        else:  # most emoji, historic scripts
            counts.append(4)
    return counts


def _estimate_cost(tokenizer, texts, price_per_1000_tokens):
    n_tokens = 0
    for text in texts:
        n_tokens += len(tokenizer.encode(text))
    return n_tokens / 1000 * price_per_1000_tokens


# ---------------------------------------------------------------------------------------------
# Typical mistakes, recognised by what they return


def _count_even_pairs_only(ids):
    return _count_pairs_of(list(zip(ids[::2], ids[1::2])))


def _count_without_last_pair(ids):
    return _count_pairs_of(list(zip(ids[:-2], ids[1:-1])))


def _count_pairs_of(pairs):
    counts = {}
    for pair in pairs:
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def _merge_without_skipping(ids, pair, new_id):
    out = []
    for i in range(len(ids)):
        out.append(new_id if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair else ids[i])
    return out


def _merge_dropping_last(ids, pair, new_id):
    out = []
    i = 0
    while i < len(ids) - 1:
        if (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _merge_first_only(ids, pair, new_id):
    for i in range(len(ids) - 1):
        if (ids[i], ids[i + 1]) == pair:
            return [*ids[:i], new_id, *ids[i + 2 :]]
    return list(ids)


def _encode_from_code_points(word, merges):
    ids = [ord(char) for char in word]
    for k, pair in enumerate(merges):
        ids = _merge(ids, tuple(pair), 256 + k)
    return ids


def _encode_numbering_from(first_id):
    def encode(word, merges):
        ids = list(word.encode("utf-8"))
        for k, pair in enumerate(merges):
            ids = _merge(ids, tuple(pair), first_id + k)
        return ids

    return encode


def _encode_in_reverse(word, merges):
    ids = list(word.encode("utf-8"))
    for k in reversed(range(len(merges))):
        ids = _merge(ids, tuple(merges[k]), 256 + k)
    return ids


def _one_byte_each(text):
    return [1 for _ in text]


def _non_ascii_is_two(text):
    return [1 if ord(char) < 0x80 else 2 for char in text]


def _cost_of(count: Callable[[Any, str], int]):
    def cost(tokenizer, texts, price_per_1000_tokens):
        return sum(count(tokenizer, text) for text in texts) / 1000 * price_per_1000_tokens

    return cost


# ---------------------------------------------------------------------------------------------
# Test cases

_PAIR_CASES = [
    ([1, 2, 3, 1, 2],),
    ([5, 5, 5],),
    (list(b"the cat sat"),),
    ([7],),
    ([],),
]

_MERGE_CASES = [
    ([1, 2, 3, 1, 2], (1, 2), 4),
    ([7, 7, 7], (7, 7), 8),
    ([3, 1, 2], (1, 2), 9),
    (list(b"banana"), (97, 110), 256),
    ([1, 2, 1], (2, 3), 9),
]

# The first merges learned from "the king sings . the kings sing . the queen sings ." (they are
# the worked example of the chapter): in, ing, " .", " s", he, the, ings.
_SING_MERGES = [(105, 110), (256, 103), (32, 46), (32, 115), (104, 101), (116, 260), (257, 115)]

_ENCODE_CASES = [
    ("hug", [(117, 103), (104, 256)]),
    ("hugs", [(117, 103), (104, 256)]),
    ("aaa", [(97, 97), (256, 97)]),
    ("café", [(99, 97), (256, 102), (195, 169), (257, 258)]),
    (" sings", _SING_MERGES),
    ("kingdom", _SING_MERGES),
]

_UTF8_CASES = [
    ("hello",),
    ("café",),
    ("año",),
    ("中文",),
    ("Ωμέγα",),
    ("🙂!",),
    ("👍🏽",),
    ("👩\u200d💻",),
    ("",),
]

_HUG_TOKENIZER = BPETokenizer([(117, 103), (104, 256), (32, 257)], special_tokens=["<|endoftext|>"])
_COST_CASES = [
    (CharTokenizer(), ["Hi!", "Hello there."], 2.0),
    (_HUG_TOKENIZER, ["hug hug café", "a hug"], 0.5),
    (_HUG_TOKENIZER, ["hugs and kisses", "café"], 3.0),
    (WordTokenizer.from_text("the king eats the bread ."), ["the king eats .", "the cat"], 10.0),
]

# ---------------------------------------------------------------------------------------------
# The questions

q1 = Question(
    "q1",
    "Write count_pairs(ids) returning a dict that maps every adjacent pair (ids[i], ids[i + 1]) "
    "to the number of times it occurs in the list.",
    kind="function",
    reference=_count_pairs,
    cases=_PAIR_CASES,
    hints=[
        "zip(ids, ids[1:]) walks over every adjacent pair, overlapping: in [5, 5, 5] the pair "
        "(5, 5) occurs twice.",
        "counts[pair] = counts.get(pair, 0) + 1 adds one to a count that may not exist yet.",
    ],
    diagnose=[
        mistake(
            _count_even_pairs_only,
            _PAIR_CASES,
            _count_pairs,
            "adjacent pairs overlap: count (ids[i], ids[i + 1]) for every i, not only for even i",
        ),
        mistake(
            _count_without_last_pair,
            _PAIR_CASES,
            _count_pairs,
            "the last pair (ids[-2], ids[-1]) is missing; a list of n ids has n - 1 pairs",
        ),
    ],
)

q2 = Question(
    "q2",
    "Write merge_pair(ids, pair, new_id) returning a new list in which every occurrence of the "
    "pair, scanning left to right, is replaced by new_id. Occurrences do not overlap: "
    "merge_pair([7, 7, 7], (7, 7), 8) is [8, 7].",
    kind="function",
    reference=_merge,
    cases=_MERGE_CASES,
    hints=[
        "Walk with an index i. If ids[i] and ids[i + 1] form the pair, append new_id and move "
        "on by 2; otherwise append ids[i] and move on by 1.",
        "Check i + 1 < len(ids) before you look at ids[i + 1], and make sure the last id is "
        "still copied when it is not part of a pair.",
    ],
    diagnose=[
        mistake(
            _merge_without_skipping,
            _MERGE_CASES,
            _merge,
            "after a merge, skip both ids of the pair: the second id is now part of the new "
            "token and must not be copied again",
        ),
        mistake(
            _merge_dropping_last,
            _MERGE_CASES,
            _merge,
            "the last id is missing: when the scan reaches the final position there is no pair "
            "left to test, but that id must still be copied",
        ),
        mistake(
            _merge_first_only,
            _MERGE_CASES,
            _merge,
            "only the first occurrence was merged; replace every occurrence",
        ),
    ],
)

q3 = Question(
    "q3",
    "Write encode_word(word, merges): start from the UTF-8 bytes of the word (ids 0 to 255), "
    "then apply the merges in the order they were learned; merges[k] = (a, b) makes the new "
    "token 256 + k. Return the list of ids.",
    kind="function",
    reference=_encode_word,
    cases=_ENCODE_CASES,
    hints=[
        "list(word.encode('utf-8')) gives the byte ids.",
        "for k, pair in enumerate(merges): ids = merge_pair(ids, pair, 256 + k), using your "
        "function from the previous exercise.",
    ],
    diagnose=[
        mistake(
            _encode_from_code_points,
            _ENCODE_CASES,
            _encode_word,
            "start from the UTF-8 bytes (word.encode('utf-8')), not from code points: 'é' is "
            "the two bytes 195, 169",
        ),
        mistake(
            _encode_numbering_from(0),
            _ENCODE_CASES,
            _encode_word,
            "merge k makes token 256 + k; ids 0 to 255 are already taken by the bytes",
        ),
        mistake(
            _encode_numbering_from(255),
            _ENCODE_CASES,
            _encode_word,
            "merge k makes token 256 + k, so the first merge makes 256, not 255",
        ),
        mistake(
            _encode_in_reverse,
            _ENCODE_CASES,
            _encode_word,
            "apply the merges in the order they were learned, first merge first: later merges "
            "are built from the tokens earlier ones made",
        ),
    ],
)

q4 = Question(
    "q4",
    "Write utf8_byte_counts(text) returning, for each character (code point) of the text, the "
    "number of bytes UTF-8 uses for it: 1 below U+0080, 2 below U+0800, 3 below U+10000 and 4 "
    "above. Work from ord(char), without calling encode.",
    kind="function",
    reference=_utf8_byte_counts,
    cases=_UTF8_CASES,
    hints=[
        "Loop over the characters and compare ord(char) with 0x80, 0x800 and 0x10000.",
        "An emoji with a skin tone is two code points (the emoji and a modifier), and a ZWJ "
        "sequence such as '👩\u200d💻' is three: each gets its own count.",
    ],
    diagnose=[
        mistake(
            _one_byte_each,
            _UTF8_CASES,
            _utf8_byte_counts,
            "every character got 1 byte, but only ASCII (below U+0080) fits in one byte",
        ),
        mistake(
            _non_ascii_is_two,
            _UTF8_CASES,
            _utf8_byte_counts,
            "not every non-ASCII character takes 2 bytes: from U+0800 (such as CJK) UTF-8 uses "
            "3, and from U+10000 (most emoji) 4",
        ),
    ],
)

q5 = Question(
    "q5",
    "Write estimate_cost(tokenizer, texts, price_per_1000_tokens): the cost of sending every "
    "text in the list to a model billed per token, at the given price per 1,000 tokens.",
    kind="function",
    reference=_estimate_cost,
    cases=_COST_CASES,
    hints=[
        "len(tokenizer.encode(text)) is the number of tokens in one text; add them up.",
        "The price is per 1,000 tokens: divide the total by 1000 before multiplying.",
    ],
    diagnose=[
        mistake(
            _cost_of(lambda tok, text: len(text)),
            _COST_CASES,
            _estimate_cost,
            "that is the cost of the characters; models are billed per token, so count "
            "len(tokenizer.encode(text))",
        ),
        mistake(
            _cost_of(lambda tok, text: len(text.encode("utf-8"))),
            _COST_CASES,
            _estimate_cost,
            "that is the cost of the UTF-8 bytes; count tokens with tokenizer.encode",
        ),
        mistake(
            _cost_of(lambda tok, text: len(text.split())),
            _COST_CASES,
            _estimate_cost,
            "that is the cost of the words (text.split()); tokens are not words, so count "
            "len(tokenizer.encode(text))",
        ),
        mistake(
            lambda tok, texts, price: _estimate_cost(tok, texts, price) * 1000,
            _COST_CASES,
            _estimate_cost,
            "the price is per 1,000 tokens: divide the token count by 1000",
        ),
    ],
)
