"""Instruction tasks over the synthetic world (Chapter 11): what Chapter 8's GPT is tuned
to do, with exact answers, phrasings kept out of training, and a scorer.

Three tasks, each asked in words:

* ``"translate"``: a sentence of Chapters 1-7's language, answered by its Spanish
  translation (:func:`genai_notes.data.parallel_corpus`);
* ``"subject"``: a sentence of Chapter 8's language (with clauses), answered by its subject,
  the first noun ("the big owl that the king feeds sleeps in the tower ." -> ``owl``);
* ``"royal"``: the same kind of sentence, answered ``yes`` if its subject is a king, queen,
  prince or princess (singular or plural), else ``no``.

Each task has four :data:`TRAIN_PHRASINGS` and one phrasing kept out of training
(:data:`HELD_OUT_PHRASINGS`), made of words the training phrasings use, in a new
combination. "tell me" and "please" open several tasks in training, so there only the
task's own word ("spanish", "subject", "royal") says which task is meant; "give the ... of"
and "what is the ... of" open one task each in training and the other one in its held-out
phrasing, which tests whether the task word or the framing decides. :func:`task_of_answer` tells which task an answer
answers, to read a wrong answer.

:func:`answer` decodes greedily (Chapter 9's :func:`~genai_notes.decoding.greedy`, with the
KV cache) until the model closes its turn with ``<|end|>``; :func:`accuracy` compares the
answers with the truth exactly, word for word.

>>> subject_of("the big owl that the king feeds sleeps in the tower .")
'owl'
>>> examples("royal", 2, TRAIN_PHRASINGS["royal"], seed=0)[0]
('tell me if the subject is royal : the woman feeds the goat .', 'no')
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from genai_notes._checks import check_positive_int, check_rng, describe
from genai_notes.data import clauses, parallel_corpus
from genai_notes.data.clauses_lexicon import FULL, PLURAL
from genai_notes.decoding import greedy, model_logits
from genai_notes.finetuning import END, chat_tokenizer, encode_example
from genai_notes.gpt import GPT
from genai_notes.tokenizers import WordTokenizer

__all__ = [
    "TASKS",
    "TRAIN_PHRASINGS",
    "HELD_OUT_PHRASINGS",
    "MAX_WORDS",
    "PHRASING_WORDS",
    "subject_of",
    "is_royal_subject",
    "examples",
    "task_tokenizer",
    "answer",
    "accuracy",
    "task_of_answer",
]

TASKS = ("translate", "subject", "royal")
TRAIN_PHRASINGS: dict[str, tuple[str, ...]] = {
    "translate": (
        "translate into spanish : {}",
        "tell me in spanish : {}",
        "give the spanish of : {}",
        "spanish please : {}",
    ),
    "subject": (
        "name the subject : {}",
        "tell me the subject : {}",
        "what is the subject of : {}",
        "subject please : {}",
    ),
    "royal": (
        "is the subject royal : {}",
        "say if the subject is royal : {}",
        "tell me if the subject is royal : {}",
        "royal or not : {}",
    ),
}
HELD_OUT_PHRASINGS: dict[str, tuple[str, ...]] = {
    "translate": ("what is the spanish of : {}",),
    "subject": ("give the subject of : {}",),
    "royal": ("is the subject royal or not : {}",),
}
# A whole example, <|endoftext|> <|user|> phrasing sentence <|end|> <|assistant|> answer
# <|end|>, must fit the GPT's 32 positions (as inputs, all but its last token): at most
# MAX_WORDS words of sentence and answer, and PHRASING_WORDS words of phrasing.
MAX_WORDS, PHRASING_WORDS = 19, 8
assert all(
    len(p.replace("{}", "").split()) <= PHRASING_WORDS
    for table in (TRAIN_PHRASINGS, HELD_OUT_PHRASINGS)
    for ps in table.values()
    for p in ps
)

_ROYAL = {p.en for p in FULL.people if p.rank == "royal"}
_NOUN_IS_ROYAL = {
    form: noun.en in _ROYAL
    for noun in (*FULL.people, *FULL.animals)
    for form in (noun.en, PLURAL[noun.en])
}


def subject_of(sentence: str) -> str:
    """The subject of a sentence of Chapter 8's language: its first noun, as written
    (singular or plural). Raises ValueError if no word of it is a person or an animal.

    >>> subject_of("the queens that the man sees rule the kingdom .")
    'queens'
    """
    if not isinstance(sentence, str):
        raise TypeError(f"sentence: expected a string, got {describe(sentence)}")
    for word in sentence.split():
        if word in _NOUN_IS_ROYAL:
            return word
    raise ValueError(f"sentence: expected a sentence with a person or animal, got {sentence!r}")


def is_royal_subject(sentence: str) -> bool:
    """True if :func:`subject_of` ``sentence`` is a king, queen, prince or princess.

    >>> is_royal_subject("the princes feed the horse ."), is_royal_subject("the owl sleeps in the tower .")
    (True, False)
    """
    return _NOUN_IS_ROYAL[subject_of(sentence)]


def _check_phrasings(phrasings: Any) -> tuple[str, ...]:
    if isinstance(phrasings, str) or not isinstance(phrasings, Sequence) or not phrasings:
        raise TypeError(f"phrasings: expected a non-empty list of strings, got {phrasings!r}")
    for p in phrasings:
        if not isinstance(p, str) or p.count("{}") != 1 or "{" in p.replace("{}", ""):
            raise ValueError(f"phrasings: each must hold one '{{}}' for the sentence, got {p!r}")
        if len(p.replace("{}", "").split()) > PHRASING_WORDS:
            raise ValueError(
                f"phrasings: expected at most {PHRASING_WORDS} words around the sentence, got {p!r}"
            )
    return tuple(phrasings)


def examples(task: str, n: int, phrasings: Sequence[str], seed: Any = 0) -> list[tuple[str, str]]:
    """``n`` (instruction, answer) pairs of ``task``, each phrasing drawn uniformly from
    ``phrasings``; sentence and answer together have at most :data:`MAX_WORDS` words.

    >>> examples("translate", 1, ["spanish please : {}"], seed=1)
    [('spanish please : the white cow chases the owl .', 'la vaca blanca persigue al búho .')]
    """
    if task not in TASKS:
        raise ValueError(f"task: expected one of {TASKS}, got {task!r}")
    n = check_positive_int(n, "n")
    if n > 100_000:
        raise ValueError(f"n: expected at most 100000 examples, got {n}")
    phrasings = _check_phrasings(phrasings)
    rng = check_rng(seed, "seed")
    pairs: list[tuple[str, str]] = []
    while len(pairs) < n:  # the sentences come from the seeded stream, in order
        draw = int(rng.integers(0, 2**31))
        if task == "translate":
            candidates = parallel_corpus(2 * n, seed=draw)
        else:
            candidates = [(s, s) for s in clauses.generate_corpus(2 * n, seed=draw)]
        for sentence, target in candidates:
            if task == "subject":
                target = subject_of(sentence)
            elif task == "royal":
                target = "yes" if is_royal_subject(sentence) else "no"
            if len(sentence.split()) + len(target.split()) > MAX_WORDS:
                continue
            phrasing = phrasings[int(rng.integers(0, len(phrasings)))]
            pairs.append((phrasing.format(sentence), target))
            if len(pairs) == n:
                break
    return pairs


@functools.lru_cache(maxsize=1)
def _task_words() -> tuple[str, ...]:
    words = {w for table in (TRAIN_PHRASINGS, HELD_OUT_PHRASINGS) for ps in table.values()
             for p in ps for w in p.replace("{}", "").split()}  # fmt: skip
    words |= {"yes", "no"}
    for english, spanish in parallel_corpus(20_000, seed=0):  # every word of that language
        words |= set(english.split()) | set(spanish.split())
    return tuple(sorted(words))


def task_tokenizer(base: WordTokenizer) -> WordTokenizer:
    """``base`` (Chapter 8's word tokenizer) with every word the tasks use (instruction
    words, ``yes``/``no``, the English and Spanish of Chapters 1-7) and the chat tokens.

    >>> from genai_notes.pretrained import make_tokenizer
    >>> tok = task_tokenizer(make_tokenizer())
    >>> tok.vocab_size, tok.encode("la reina")
    (243, [179, 210])
    """
    return chat_tokenizer(base, _task_words())


def answer(model: GPT, tok: WordTokenizer, instructions: Sequence[str]) -> list[str]:
    """The model's greedy answer to each instruction, as text (without ``<|end|>``).

    Each prompt is ``<|endoftext|>`` and the chat template's user turn with the assistant
    marker (:func:`~genai_notes.finetuning.encode_example`). Prompts of equal length are
    decoded together; decoding stops at ``<|end|>`` or at the model's ``block_size``.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"model: expected a GPT, got {describe(model)}")
    if isinstance(instructions, str) or not isinstance(instructions, Sequence):
        raise TypeError(f"instructions: expected a list of strings, got {describe(instructions)}")
    start, end = tok.special_tokens["<|endoftext|>"], tok.special_tokens[END]
    block = model.config.block_size
    by_length: dict[int, list[tuple[int, list[int]]]] = defaultdict(list)
    for i, text in enumerate(instructions):
        ids = [start, *encode_example(tok, text)]
        if len(ids) >= block:
            raise ValueError(
                f"instructions: item {i} takes {len(ids)} tokens, the model holds {block}"
            )
        by_length[len(ids)].append((i, ids))
    answers = [""] * len(instructions)
    for length, group in sorted(by_length.items()):
        prompt = np.array([ids for _, ids in group])  # (group, length)
        out = greedy(model_logits(model, use_cache=True), prompt, block - length, eos_id=end)
        for row, (i, _) in enumerate(group):
            new = out.ids[row, length : out.lengths[row]].tolist()
            answers[i] = tok.decode([t for t in new if t != end])
    return answers


def accuracy(model: GPT, tok: WordTokenizer, pairs: Sequence[tuple[str, str]]) -> float:
    """The share of ``(instruction, answer)`` pairs the model answers exactly right."""
    if isinstance(pairs, str) or not isinstance(pairs, Sequence) or not pairs:
        raise TypeError(f"pairs: expected a non-empty list of pairs, got {describe(pairs)}")
    said = answer(model, tok, [instruction for instruction, _ in pairs])
    return float(np.mean([s == truth for s, (_, truth) in zip(said, pairs)]))


@functools.lru_cache(maxsize=1)
def _languages() -> tuple[frozenset[str], frozenset[str]]:
    english, spanish = set(clauses.vocabulary()), set()
    for en, es in parallel_corpus(20_000, seed=0):
        english |= set(en.split())
        spanish |= set(es.split())
    return frozenset(english), frozenset(spanish - english)


def task_of_answer(text: str) -> str:
    """Which task ``text`` answers, read from its form: ``"royal"`` for yes or no,
    ``"subject"`` for one person or animal word, ``"translate"`` if a word is Spanish (and
    not English), else ``"other"``.

    >>> [task_of_answer(t) for t in ["no", "owls", "el rey come .", "the king", ""]]
    ['royal', 'subject', 'translate', 'other', 'other']
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a string, got {describe(text)}")
    words = text.split()
    if words in (["yes"], ["no"]):
        return "royal"
    if len(words) == 1 and words[0] in _NOUN_IS_ROYAL:
        return "subject"
    if any(w in _languages()[1] for w in words):
        return "translate"
    return "other"
