"""The harder language: sentences with clauses, for scaling a tiny GPT (Chapters 8 and 9).

The easy language of :mod:`genai_notes.data.sentences` has a few thousand sentences, and any
reasonable model learns it almost perfectly. This one keeps its world (royals in castles with
horses and owls who rule the kingdom, commoners on farms with cows and goats who work on the
farm, "young" and "plays" for children) and adds what makes a language hard:

* **relative clauses**: "the queen who feeds the owl ...", "the owl that the girl feeds ...";
* **agreement across a distance**: the main verb agrees in number with its subject across a
  relative clause ("the queens that the boy sees rule the kingdom ."), and a pronoun later in
  the sentence names the subject several words back ("the king who helps the girls says that
  he is wise .", "... and then she ...", "... says that the boy helps her ."). In this
  language a pronoun always refers to the subject of the sentence;
* **plurals**, longer sentences (up to 28 words) and a larger vocabulary (133 words, in
  :mod:`~genai_notes.data.clauses_lexicon`).

It follows the easy language's surface conventions: lower-case words separated by single
spaces, ending with " ." (so the same tokenizers work), and a newline after every sentence in
:func:`corpus_text`.

The grammar (its rules are in :mod:`~genai_notes.data.clauses_grammar`) is a
:class:`~genai_notes.data.pcfg.Grammar` with no recursion, and LL(1): the next word always
decides the next choice. So each sentence has exactly one derivation, and every number below
is exact, computed from the grammar's choices rather than by listing sentences: the count,
each sentence's probability, the entropy, and the next-word distribution after any prefix. Two settings share the grammar: ``"full"`` (the language) and ``"small"`` (a few words,
small enough to list every sentence, which the tests do).

>>> sentence_count()
118561983120
>>> generate_corpus(2, seed=0)
['the man that the horse chases walks to the forest with the hen .', 'the mouse that chases the cows chases the horse .']
>>> round(sentence_log_prob("the king rules the kingdom ."), 4)
-6.1025
>>> next_word_distribution("the king says that the girls see")
{'him': 1.0}
"""

from __future__ import annotations

import functools
import math

import numpy as np

from genai_notes._checks import check_nonnegative_int, check_rng, check_str
from genai_notes.data.clauses_grammar import grammar_rules
from genai_notes.data.clauses_lexicon import FULL, SMALL, Vocabulary
from genai_notes.data.pcfg import END, Grammar
from genai_notes.data.sentences import Entropy

__all__ = [
    "SETTINGS",
    "MAX_SENTENCES",
    "END",
    "grammar",
    "vocabulary",
    "sentence_count",
    "generate_corpus",
    "corpus_text",
    "sentence_log_prob",
    "is_grammatical",
    "next_word_distribution",
    "entropy",
    "sentence_distribution",
]

SETTINGS: dict[str, Vocabulary] = {"full": FULL, "small": SMALL}
MAX_SENTENCES = 2_000_000  # larger samples are refused before anything is allocated
_MAX_LISTED = 300_000  # sentence_distribution refuses settings with more sentences

# ----------------------------------------------------------------------------------------
# The public functions


def _check_setting(setting: str) -> str:
    check_str(setting, "setting")
    if setting not in SETTINGS:
        raise ValueError(f"setting: expected one of {tuple(SETTINGS)}, got {setting!r}")
    return setting


@functools.cache
def _grammar(setting: str) -> Grammar:
    return Grammar(grammar_rules(SETTINGS[setting]), start=("S",))


def grammar(setting: str = "full") -> Grammar:
    """The setting's :class:`~genai_notes.data.pcfg.Grammar` (built once, then cached).

    >>> g = grammar("small")
    >>> g.count(), len(g.terminals)
    (225632, 59)
    """
    return _grammar(_check_setting(setting))


def vocabulary(setting: str = "full") -> tuple[str, ...]:
    """Every word the setting can produce, sorted (``"."`` included).

    >>> len(vocabulary()), vocabulary("small")[:4]
    (133, ('.', 'and', 'are', 'because'))
    """
    return grammar(setting).terminals


def sentence_count(setting: str = "full") -> int:
    """The exact number of distinct sentences, from the grammar (no listing).

    Each nonterminal's count is the sum over its rules of the product of its children's
    counts. That counts derivations; the grammar is LL(1), hence unambiguous, so derivations
    and sentences are the same number.

    >>> sentence_count(), sentence_count("small")
    (118561983120, 225632)
    """
    return grammar(setting).count()


def _check_count(n_sentences: int) -> int:
    n_sentences = check_nonnegative_int(n_sentences, "n_sentences")
    if n_sentences > MAX_SENTENCES:
        raise ValueError(
            f"n_sentences: expected at most MAX_SENTENCES={MAX_SENTENCES}, got {n_sentences}"
        )
    return n_sentences


def generate_corpus(
    n_sentences: int, seed: int | np.random.Generator = 0, setting: str = "full"
) -> list[str]:
    """Sample ``n_sentences`` sentences, reproducibly (a list of ``n_sentences`` str).

    Sampling is vectorised over sentences (:meth:`~genai_notes.data.pcfg.Grammar.sample_ids`):
    100,000 sentences take about half a second (``benchmarks/bench_data.py``). The first ``m`` sentences of a larger
    sample are the sample of ``m``. At most :data:`MAX_SENTENCES` at a time.

    >>> generate_corpus(3, seed=1)
    ['the king feeds the white hawk .', 'the hen that the man feeds sleeps in the farm .', 'the boy that the queen sees cooks the apple because he is cold .']
    >>> generate_corpus(-1)
    Traceback (most recent call last):
    ...
    ValueError: n_sentences: expected a non-negative integer, got -1
    """
    n_sentences = _check_count(n_sentences)
    rng = check_rng(seed)
    g = grammar(setting)
    ids, lengths = g.sample_ids(n_sentences, rng)
    words = np.array(g.terminals, dtype=object)
    return [" ".join(words[row[:k]]) for row, k in zip(ids, lengths)]


def corpus_text(
    n_sentences: int, seed: int | np.random.Generator = 0, setting: str = "full"
) -> str:
    """The corpus as one string: every sentence followed by a newline.

    >>> corpus_text(1, seed=1)
    'the king feeds the white hawk .\\n'
    """
    return "".join(s + "\n" for s in generate_corpus(n_sentences, seed, setting))


def _words(sentence: str, name: str) -> list[str]:
    check_str(sentence, name)
    return sentence.split(" ") if sentence else []


def sentence_log_prob(sentence: str, setting: str = "full") -> float:
    """The exact natural-log probability of ``sentence``; ``-inf`` if the grammar cannot
    produce it (unlike :func:`genai_notes.data.sentences.sentence_log_prob`, which raises).

    The sentence is parsed against the grammar (no table of sentences): words separated by
    single spaces, ending with ``"."``, no newline.

    >>> round(sentence_log_prob("the queen who feeds the owl rules the kingdom ."), 4)
    -10.8618
    >>> sentence_log_prob("the queen who feeds the owl rule the kingdom .")
    -inf
    """
    words = _words(sentence, "sentence")
    return grammar(setting).log_prob(words)


def is_grammatical(sentence: str, setting: str = "full") -> bool:
    """Whether the grammar can produce ``sentence`` (exactly this string).

    >>> is_grammatical("the king who helps the girls says that he is wise .")
    True
    >>> is_grammatical("the king who helps the girls says that she is wise .")
    False
    """
    return sentence_log_prob(sentence, setting) > -math.inf


def next_word_distribution(prefix: str, setting: str = "full") -> dict[str, float]:
    """The exact distribution of the next word after ``prefix`` (words separated by single
    spaces; ``""`` for the start), as ``{word: probability}`` summing to 1. :data:`END`
    (``"\\n"``) stands for the end of the sentence. ``{}`` if no sentence starts with
    ``prefix``.

    >>> next_word_distribution("the king says that")
    {'he': 0.6, 'the': 0.4}
    >>> next_word_distribution("the kings rule the kingdom")
    {'.': 0.75, 'and': 0.25}
    >>> next_word_distribution("the kings rule the kingdom .")
    {'\\n': 1.0}
    >>> next_word_distribution("the queens who feeds")
    {}
    """
    words = _words(prefix, "prefix")
    return grammar(setting).next_distribution(words)


def entropy(setting: str = "full", unit: str = "char") -> Entropy:
    """The exact entropy of the sentence source, per sentence and per token, in nats.

    As in :func:`genai_notes.data.sentences.entropy`, each sentence is followed by one
    separator token (the newline of :func:`corpus_text`). ``unit="char"`` counts characters
    including the spaces and the newline (``len(sentence) + 1``); ``unit="word"`` counts the
    words, ``"."`` included, plus the newline. ``per_token = per_sentence /
    tokens_per_sentence`` is the floor of a model's average cross-entropy per token.

    All three numbers come from dynamic programs over the grammar (see
    :class:`~genai_notes.data.pcfg.Grammar`), not from listing sentences.

    >>> e = entropy(unit="word")
    >>> round(e.per_sentence, 3), round(e.tokens_per_sentence, 3), round(e.per_token, 4)
    (14.417, 12.26, 1.1759)
    >>> round(entropy(unit="char").per_token, 4)
    0.2754
    """
    check_str(unit, "unit")
    if unit not in ("char", "word"):
        raise ValueError(f"unit: expected 'char' or 'word', got {unit!r}")
    g = grammar(setting)
    if unit == "char":  # each word with the space after it, or the newline after the last
        tokens = g.expected_sum(lambda word: len(word) + 1)
    else:  # the words and the newline
        tokens = g.expected_sum(lambda word: 1) + 1
    return Entropy(g.entropy(), g.entropy() / tokens, tokens)


def sentence_distribution(setting: str = "small") -> dict[str, float]:
    """Every sentence of a small setting, mapped to its log-probability, by expanding every
    rule: the slow route the tests check the exact computations against. Settings with more
    than 300,000 sentences are refused before anything is built.

    >>> dist = sentence_distribution("small")
    >>> len(dist), round(sum(math.exp(lp) for lp in dist.values()), 12)
    (225632, 1.0)
    >>> sentence_distribution("full")
    Traceback (most recent call last):
    ...
    ValueError: setting: 'full' has 118561983120 sentences, too many to list (at most 300000)
    """
    g = grammar(setting)
    if g.count() > _MAX_LISTED:
        raise ValueError(
            f"setting: {setting!r} has {g.count()} sentences, too many to list "
            f"(at most {_MAX_LISTED})"
        )
    derivations = g.derivations(limit=_MAX_LISTED)
    return {" ".join(words): log_p for words, log_p in derivations}
