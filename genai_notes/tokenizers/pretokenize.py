"""GPT-2-style pre-tokenization: cut text into pieces before byte-pair encoding sees it.

BPE never merges across the boundaries drawn here, so a token cannot glue the end of one
word to the start of the next ("dog." stays "dog" + "."), and a word is encoded the same
way wherever it appears. The rule, in order of preference at each position:

* an English contraction suffix: ``'s 't 're 've 'm 'll 'd`` (case-sensitive, as in GPT-2);
* an optional space followed by a run of letters;
* an optional space followed by a run of numbers (digits, and symbols such as ``²``);
* an optional space followed by a run of anything else that is not whitespace
  (punctuation, symbols, the underscore, combining marks, control characters);
* a run of whitespace that is not followed by a non-space (so the *last* space before a word
  is left to join that word), or else any run of whitespace.

The pattern is GPT-2's own, written as GPT-2 writes it, with Unicode property classes:
``\\p{L}`` (letters) and ``\\p{N}`` (numbers, including ``²``, ``½`` and ``Ⅻ``), run by the
``regex`` package, which reads ``\\s`` as Unicode White_Space. That spelling means the same in
every engine that runs GPT-2's pattern: tiktoken's and HuggingFace's Rust engines give the same
pieces, so token ids trained here can be compared with theirs. A spelling with the standard
``re`` module's classes (letters as ``[^\\W\\d_]``) does not: another engine reads ``\\w``
with its own rules, and tiktoken's counts the zero-width joiner U+200D and combining marks as
word characters, so it cuts ``'👨\\u200d'`` (man, zero-width joiner) into two pieces where
GPT-2's rule keeps one.

Every character falls into exactly one class above, so the pieces always concatenate back to
the input, for every string:

>>> pretokenize("Hello world's 42 apples_!!\\n\\n  ok")
['Hello', ' world', "'s", ' 42', ' apples', '_!!', '\\n\\n ', ' ok']
>>> "".join(pretokenize("a\\x00b__c  ")) == "a\\x00b__c  "
True
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import regex

from genai_notes._checks import check_str

__all__ = ["GPT2_SPLIT_PATTERN", "pretokenize", "count_pieces", "split_on_specials"]

GPT2_SPLIT_PATTERN = (
    r"'(?:[sdmt]|ll|ve|re)"  # contraction suffixes: 's 't 're 've 'm 'll 'd
    r"| ?\p{L}+"  # letters
    r"| ?\p{N}+"  # numbers
    r"| ?[^\s\p{L}\p{N}]+"  # everything else that is not whitespace
    r"|\s+(?!\S)"  # whitespace, leaving the last space for the next word
    r"|\s+"  # trailing whitespace at the end of the text
)

_SPLIT = regex.compile(GPT2_SPLIT_PATTERN)


def pretokenize(text: str) -> list[str]:
    """Split ``text`` into GPT-2-style pieces whose concatenation is ``text``.

    >>> pretokenize("I'll pay $3.50 for 2 café-au-laits!")
    ['I', "'ll", ' pay', ' $', '3', '.', '50', ' for', ' 2', ' café', '-', 'au', '-', 'laits', '!']
    >>> pretokenize("")
    []
    """
    return _SPLIT.findall(check_str(text, "text"))


def split_on_specials(text: str, special_tokens: Iterable[str]) -> list[str]:
    """Cut ``text`` at every occurrence of a special token, keeping the specials as items.

    Odd positions of the result hold specials, even positions the ordinary text between them
    (possibly empty). Longer specials win when one is a prefix of another.

    >>> split_on_specials("hi<|endoftext|>there", ["<|endoftext|>"])
    ['hi', '<|endoftext|>', 'there']
    >>> split_on_specials("no specials here", [])
    ['no specials here']
    """
    check_str(text, "text")
    specials = sorted(set(special_tokens), key=lambda s: (-len(s), s))
    if not specials:
        return [text]
    pattern = "(" + "|".join(map(re.escape, specials)) + ")"
    return re.split(pattern, text)


def count_pieces(text: str, special_tokens: Iterable[str] = ()) -> Counter[str]:
    """Count each distinct pre-tokenized piece of ``text`` once, with its frequency.

    Special tokens are cut out first so that their characters never take part in training.

    >>> count_pieces("the cat the dog<pad>the", ["<pad>"])
    Counter({'the': 2, ' cat': 1, ' the': 1, ' dog': 1})
    """
    counts: Counter[str] = Counter()
    parts = split_on_specials(text, special_tokens)
    for part in parts[::2]:
        counts.update(_SPLIT.findall(part))
    return counts
