"""Exercises for chapter 2, "Tokenization": byte-pair encoding and UTF-8 by hand.

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it, and using only what the chapter has shown), its test
cases, its typical mistakes and its hints. The references are plain loops written for reading;
:mod:`genai_notes.tokenizers` computes the same things (faster), and the tests check that they
agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genai_notes.exercises.core import Mistake, Question, bind
from genai_notes.tokenizers import BPETokenizer, CharTokenizer, WordTokenizer

# --- Exercise 1: pair_counts --------------------------------------------------------------


def pair_counts(ids, weight=1, counts=None):
    counts = {} if counts is None else counts  # a new dict, or keep adding to the given one
    for pair in zip(ids, ids[1:]):  # every adjacent pair; pairs overlap
        counts[pair] = counts.get(pair, 0) + weight
    return counts


def _tally(pairs, weight, counts, step=None):
    counts = {} if counts is None else counts
    for pair in pairs:
        counts[pair] = step(counts, pair, weight) if step else counts.get(pair, 0) + weight
    return counts


def _count_each_pair_once(ids, weight=1, counts=None):
    return _tally(zip(ids, ids[1:]), weight, counts, step=lambda c, p, w: w)


def _count_even_pairs_only(ids, weight=1, counts=None):
    return _tally(zip(ids[::2], ids[1::2]), weight, counts)


def _count_without_last_pair(ids, weight=1, counts=None):
    return _tally(zip(ids[:-2], ids[1:-1]), weight, counts)


def _count_ignoring_weight(ids, weight=1, counts=None):
    return _tally(zip(ids, ids[1:]), 1, counts)


def _count_into_a_new_dict(ids, weight=1, counts=None):
    return _tally(zip(ids, ids[1:]), weight, None)


_PAIR_CASES = [
    ([1, 2, 3, 1, 2],),
    ([5, 5, 5],),
    ([1, 2, 1, 2, 3],),  # (1, 2) twice and not last: tells "once" from "last pair missing"
    (list(b"the cat sat"),),
    ([7],),
    ([],),
    ([5, 5, 5], 10),  # a piece seen 10 times in the corpus
    ([1, 2, 5], 1, {(1, 2): 1, (9, 9): 4}),  # keep adding to the counts of earlier pieces
    ([4, 4, 4, 4], 3, {(4, 4): 2}),
]

q1 = Question(
    "Write pair_counts(ids, weight=1, counts=None): add weight to counts[pair] for every "
    "adjacent pair (ids[i], ids[i + 1]) of the list, in the dict counts (a new one when counts "
    "is None), and return it. Called once per piece with the piece's frequency as weight, it "
    "counts the pairs of a whole corpus.",
    kind="function",
    reference=pair_counts,
    cases=_PAIR_CASES,
    hints=[
        "zip(ids, ids[1:]) walks over every adjacent pair, overlapping: in [5, 5, 5] the pair "
        "(5, 5) occurs twice.",
        "counts[pair] = counts.get(pair, 0) + weight adds to a count that may not exist yet. "
        "Start with counts = {} only when counts is None (a default of {} would be shared by "
        "every call).",
    ],
    mistakes=[
        Mistake(
            _count_each_pair_once,
            "every pair got the count of one occurrence: add weight to a pair's count each time "
            "it occurs, counts[pair] = counts.get(pair, 0) + weight",
        ),
        Mistake(
            _count_even_pairs_only,
            "adjacent pairs overlap: count (ids[i], ids[i + 1]) for every i, not only for even i",
        ),
        Mistake(
            _count_without_last_pair,
            "the last pair (ids[-2], ids[-1]) is missing; a list of n ids has n - 1 pairs",
        ),
        Mistake(
            _count_ignoring_weight,
            "add weight for each occurrence, not 1: a piece seen weight times in the corpus "
            "gives each of its pairs weight occurrences",
        ),
        Mistake(
            _count_into_a_new_dict,
            "add into the counts dict you are given, so counts from earlier pieces are kept; "
            "start a new dict only when counts is None",
        ),
    ],
    locate=lambda case, path: f"the pair {path[0]!r}",
)


# --- Exercise 2: merge --------------------------------------------------------------------


def merge(ids, pair, new_id):
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


q2 = Question(
    "Write merge(ids, pair, new_id) returning a new list in which every occurrence of the "
    "pair, scanning left to right, is replaced by new_id. Occurrences do not overlap: "
    "merge([7, 7, 7], (7, 7), 8) is [8, 7].",
    kind="function",
    reference=merge,
    cases=[
        ([1, 2, 3, 1, 2], (1, 2), 4),
        ([7, 7, 7], (7, 7), 8),
        ([3, 1, 2], (1, 2), 9),
        (list(b"banana"), (97, 110), 256),
        ([1, 2, 1], (2, 3), 9),
    ],
    hints=[
        "Walk with an index i. If ids[i] and ids[i + 1] form the pair, append new_id and move "
        "on by 2; otherwise append ids[i] and move on by 1.",
        "Check i + 1 < len(ids) before you look at ids[i + 1], and make sure the last id is "
        "still copied when it is not part of a pair.",
    ],
    mistakes=[
        Mistake(
            _merge_without_skipping,
            "after a merge, skip both ids of the pair: the second id is now part of the new "
            "token and must not be copied again",
        ),
        Mistake(
            _merge_dropping_last,
            "the last id is missing: when the scan reaches the final position there is no pair "
            "left to test, but that id must still be copied",
        ),
        Mistake(
            _merge_first_only, "only the first occurrence was merged; replace every occurrence"
        ),
    ],
    locate=lambda case, path: f"token {path[0]} of the result",
)


# --- Exercise 3: encode_word --------------------------------------------------------------


def encode_word(word, merges):
    ids = list(word.encode("utf-8"))  # start from bytes, ids 0 to 255
    for k, pair in enumerate(merges):  # in the order they were learned
        ids = merge(ids, tuple(pair), 256 + k)
    return ids


def _encode_from_code_points(word, merges):
    ids = [ord(char) for char in word]
    for k, pair in enumerate(merges):
        ids = merge(ids, tuple(pair), 256 + k)
    return ids


def _encode_numbering_from(first_id):
    def encode(word, merges):
        ids = list(word.encode("utf-8"))
        for k, pair in enumerate(merges):
            ids = merge(ids, tuple(pair), first_id + k)
        return ids

    encode.__name__ = f"encode_numbering_from_{first_id}"
    return encode


def _encode_in_reverse(word, merges):
    ids = list(word.encode("utf-8"))
    for k in reversed(range(len(merges))):
        ids = merge(ids, tuple(merges[k]), 256 + k)
    return ids


# The first merges learned from "the king sings . the kings sing . the queen sings ." (they are
# the worked example of the chapter): in, ing, " .", " s", he, the, ings.
_SING_MERGES = [(105, 110), (256, 103), (32, 46), (32, 115), (104, 101), (116, 260), (257, 115)]

q3 = Question(
    "Write encode_word(word, merges): start from the UTF-8 bytes of the word (ids 0 to 255), "
    "then apply the merges in the order they were learned; merges[k] = (a, b) makes the new "
    "token 256 + k. Return the list of ids.",
    kind="function",
    reference=encode_word,
    cases=[
        ("hug", [(117, 103), (104, 256)]),
        ("hugs", [(117, 103), (104, 256)]),
        ("aaa", [(97, 97), (256, 97)]),
        ("café", [(99, 97), (256, 102), (195, 169), (257, 258)]),
        (" sings", _SING_MERGES),
        ("kingdom", _SING_MERGES),
    ],
    hints=[
        "list(word.encode('utf-8')) gives the byte ids.",
        "for k, pair in enumerate(merges): ids = merge(ids, pair, 256 + k), using your "
        "function from the previous exercise.",
    ],
    mistakes=[
        Mistake(
            _encode_from_code_points,
            "start from the UTF-8 bytes (word.encode('utf-8')), not from code points: 'é' is "
            "the two bytes 195, 169",
        ),
        Mistake(
            _encode_numbering_from(0),
            "merge k makes token 256 + k; ids 0 to 255 are already taken by the bytes",
        ),
        Mistake(
            _encode_numbering_from(255),
            "merge k makes token 256 + k, so the first merge makes 256, not 255",
        ),
        Mistake(
            _encode_in_reverse,
            "apply the merges in the order they were learned, first merge first: later merges "
            "are built from the tokens earlier ones made",
        ),
    ],
    locate=lambda case, path: f"token {path[0]} of the result",
)


# --- Exercise 4: utf8_byte_counts ---------------------------------------------------------


def utf8_byte_counts(text):
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


def _byte_counts_with_limits(one, two, three):
    """utf8_byte_counts with the three limits (first code points of 2, 3, 4 bytes) moved."""

    def counts(text):
        return [
            1 if ord(c) < one else 2 if ord(c) < two else 3 if ord(c) < three else 4 for c in text
        ]

    counts.__name__ = f"byte_counts_below_{one:x}_{two:x}_{three:x}"
    return counts


def _one_byte_each(text):
    return [1 for _ in text]


def _non_ascii_is_two(text):
    return [1 if ord(char) < 0x80 else 2 for char in text]


_NO_ENCODE = "the task asks you to work it out from ord(char), without encoding the text"

q4 = Question(
    "Write utf8_byte_counts(text) returning, for each character (code point) of the text, the "
    "number of bytes UTF-8 uses for it: 1 below U+0080, 2 below U+0800, 3 below U+10000 and 4 "
    "above. Work from ord(char), without calling encode.",
    kind="function",
    reference=utf8_byte_counts,
    cases=[
        ("hello",),
        ("café",),
        ("año",),
        ("中文",),
        ("Ωμέγα",),
        ("🙂!",),
        ("👍🏽",),
        ("👩\u200d💻",),
        ("\x7f\x80",),  # the last 1-byte and the first 2-byte code points
        ("\u07ff\u0800",),  # the last 2-byte and the first 3-byte code points
        ("\uffff\U00010000",),  # the last 3-byte and the first 4-byte code points
        ("",),
    ],
    hints=[
        "Loop over the characters and compare ord(char) with 0x80, 0x800 and 0x10000.",
        "An emoji with a skin tone is two code points (the emoji and a modifier), and a ZWJ "
        "sequence such as '👩\u200d💻' is three: each gets its own count.",
    ],
    mistakes=[
        Mistake(
            _one_byte_each,
            "every character got 1 byte, but only ASCII (below U+0080) fits in one byte",
        ),
        Mistake(
            _non_ascii_is_two,
            "not every non-ASCII character takes 2 bytes: from U+0800 (such as CJK) UTF-8 uses "
            "3, and from U+10000 (most emoji) 4",
        ),
        Mistake(
            _byte_counts_with_limits(0x81, 0x801, 0x10001),
            "the limits are exclusive: U+0080, U+0800 and U+10000 are the first code points "
            "that need 2, 3 and 4 bytes, so compare with <, not <=",
        ),
        Mistake(
            _byte_counts_with_limits(0x81, 0x800, 0x10000),
            "U+0080 is the first code point that needs 2 bytes: 1 byte is for code points "
            "below 0x80 (ord(char) < 0x80, not <= 0x80)",
        ),
        Mistake(
            _byte_counts_with_limits(0x80, 0x801, 0x10000),
            "U+0800 is the first code point that needs 3 bytes: 2 bytes are for code points "
            "below 0x800 (ord(char) < 0x800, not <= 0x800)",
        ),
        Mistake(
            _byte_counts_with_limits(0x80, 0x800, 0x10001),
            "U+10000 is the first code point that needs 4 bytes: 3 bytes are for code points "
            "below 0x10000 (ord(char) < 0x10000, not <= 0x10000)",
        ),
    ],
    forbid={"encode": _NO_ENCODE, "utf-8": _NO_ENCODE, "utf8": _NO_ENCODE, "UTF-8": _NO_ENCODE},
    locate=lambda case, path: f"character {case[0][path[0]]!r} (position {path[0]})",
)


# --- Exercise 5: estimate_cost ------------------------------------------------------------


def estimate_cost(tokenizer, texts, price_per_1000_tokens):
    n_tokens = 0
    for text in texts:
        n_tokens += len(tokenizer.encode(text))
    return n_tokens / 1000 * price_per_1000_tokens


def _cost_of(count: Callable[[Any, str], int], name: str):
    def cost(tokenizer, texts, price_per_1000_tokens):
        return sum(count(tokenizer, text) for text in texts) / 1000 * price_per_1000_tokens

    cost.__name__ = f"cost_of_{name}"
    return cost


def _cost_per_token(tokenizer, texts, price_per_1000_tokens):
    return estimate_cost(tokenizer, texts, price_per_1000_tokens) * 1000


_HUG_TOKENIZER = BPETokenizer([(117, 103), (104, 256), (32, 257)], special_tokens=["<|endoftext|>"])

q5 = Question(
    "Write estimate_cost(tokenizer, texts, price_per_1000_tokens): the cost of sending every "
    "text in the list to a model billed per token, at the given price per 1,000 tokens.",
    kind="function",
    reference=estimate_cost,
    cases=[
        (CharTokenizer(), ["Hi!", "Hello there."], 2.0),
        (_HUG_TOKENIZER, ["hug hug café", "a hug"], 0.5),
        (_HUG_TOKENIZER, ["hugs and kisses", "café"], 3.0),
        (
            WordTokenizer.from_text("the king eats the bread ."),
            ["the king eats .", "the cat"],
            10.0,
        ),
    ],
    hints=[
        "len(tokenizer.encode(text)) is the number of tokens in one text; add them up.",
        "The price is per 1,000 tokens: divide the total by 1000 before multiplying.",
    ],
    mistakes=[
        Mistake(
            _cost_of(lambda tok, text: len(text), "characters"),
            "that is the cost of the characters; models are billed per token, so count "
            "len(tokenizer.encode(text))",
        ),
        Mistake(
            _cost_of(lambda tok, text: len(text.encode("utf-8")), "bytes"),
            "that is the cost of the UTF-8 bytes; count tokens with tokenizer.encode",
        ),
        Mistake(
            _cost_of(lambda tok, text: len(text.split()), "words"),
            "that is the cost of the words (text.split()); tokens are not words, so count "
            "len(tokenizer.encode(text))",
        ),
        Mistake(_cost_per_token, "the price is per 1,000 tokens: divide the token count by 1000"),
    ],
)

bind(globals())
