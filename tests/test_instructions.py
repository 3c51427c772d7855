"""Chapter 11's instruction tasks: subjects read off hand-written sentences, every generated
example answered right by another route and fitting the GPT's positions, phrasings kept
out of training made of training words, and greedy answers from a GPT whose every next
token is set by hand."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes import instructions as I
from genai_notes.data import clauses, parallel_corpus
from genai_notes.data.clauses_lexicon import FULL, PLURAL
from genai_notes.finetuning import CHAT_TOKENS, END, instruction_batch
from genai_notes.gpt import GPT, GPTConfig
from genai_notes.pretrained import load_metadata, make_tokenizer

BASE = make_tokenizer()  # Chapter 8's word tokenizer
TOK = I.task_tokenizer(BASE)
BLOCK = load_metadata("d64")["config"]["block_size"]  # the Chapter 8 GPT's positions
ROYAL_WORDS = {"king", "queen", "prince", "princess"}
PEOPLE_AND_ANIMALS = {n.en for n in (*FULL.people, *FULL.animals)}
NOUNS = PEOPLE_AND_ANIMALS | {PLURAL[w] for w in PEOPLE_AND_ANIMALS}
SINGULAR = {PLURAL[w]: w for w in PEOPLE_AND_ANIMALS} | {w: w for w in PEOPLE_AND_ANIMALS}
ADJECTIVES = {a.en for a in FULL.adjectives}
ALL_PHRASINGS = {task: I.TRAIN_PHRASINGS[task] + I.HELD_OUT_PHRASINGS[task] for task in I.TASKS}


# -- subjects --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "subject", "royal"),
    [
        ("the king rules the kingdom .", "king", True),
        ("the queens that the man sees rule the kingdom .", "queens", True),
        ("the owl that the king feeds sleeps in the palace .", "owl", False),
        ("the big owl that the king feeds sleeps in the tower .", "owl", False),
        ("the white hawks chase the mice .", "hawks", False),  # a royal pet, not a royal
        ("the mice that the princess feeds sleep in the barn .", "mice", False),
        ("the girls say that the woman follows them .", "girls", False),
        ("the boy that the queen sees cooks the apple because he is cold .", "boy", False),
        ("the princesses who see the boy are young .", "princesses", True),
        ("the small swan that the princes feed sleeps in the tower .", "swan", False),
        ("the kings say that the boys help them .", "kings", True),
    ],
)
def test_the_subject_is_the_first_noun(sentence, subject, royal):
    assert clauses.is_grammatical(sentence)  # a sentence of Chapter 8's language
    assert I.subject_of(sentence) == subject
    assert I.is_royal_subject(sentence) is royal


def test_subject_of_refuses_what_has_no_noun():
    assert I.subject_of("the owl that the king feeds sleeps .") == "owl"  # any text with a noun
    for text in ["the kingdom is big .", "", "rules the castle ."]:
        with pytest.raises(ValueError, match="sentence: expected a sentence with a person"):
            I.subject_of(text)
    with pytest.raises(ValueError, match="sentence:"):
        I.is_royal_subject("the castle .")
    for value in [3, None, b"the king sleeps .", ["the", "king"]]:
        with pytest.raises(TypeError, match="sentence: expected a string"):
            I.subject_of(value)
        with pytest.raises(TypeError, match="sentence: expected a string"):
            I.is_royal_subject(value)


# -- examples --------------------------------------------------------------------------------


def split_instruction(instruction: str, phrasings: tuple[str, ...]) -> tuple[str, str]:
    """The phrasing an instruction was made from, and the sentence put in its place."""
    found = []
    for p in phrasings:
        before, after = p.split("{}")
        if instruction.startswith(before) and instruction.endswith(after):
            found.append((p, instruction[len(before) : len(instruction) - len(after)]))
    assert len(found) == 1, (instruction, found)
    return found[0]


def subject_by_grammar(sentence: str) -> str:
    """Every sentence of the language opens "the [adjective] noun"."""
    words = sentence.split()
    assert words[0] == "the"
    return words[2] if words[1] in ADJECTIVES else words[1]


@pytest.fixture(scope="module")
def translations() -> dict[str, str]:
    """English to Spanish over many sentences of Chapters 1-7's language (one each)."""
    table: dict[str, str] = {}
    for english, spanish in parallel_corpus(100_000, seed=12345):
        assert table.setdefault(english, spanish) == spanish
    return table


N = 80


@pytest.mark.parametrize("task", I.TASKS)
@pytest.mark.parametrize("kept_out", [False, True])
def test_examples_are_answered_right(task, kept_out, translations):
    phrasings = (I.HELD_OUT_PHRASINGS if kept_out else I.TRAIN_PHRASINGS)[task]
    pairs = I.examples(task, N, phrasings, seed=3)
    assert len(pairs) == N and len(set(pairs)) > N // 2
    used, unseen = set(), 0
    for instruction, answer in pairs:
        phrasing, sentence = split_instruction(instruction, phrasings)
        used.add(phrasing)
        assert len(sentence.split()) + len(answer.split()) <= I.MAX_WORDS
        if task == "translate":
            if sentence not in translations:
                unseen += 1
                continue
            assert translations[sentence] == answer
        else:
            assert clauses.is_grammatical(sentence)
            subject = subject_by_grammar(sentence)
            assert subject in NOUNS
            if task == "subject":
                assert answer == subject
            else:
                assert answer == ("yes" if SINGULAR[subject] in ROYAL_WORDS else "no")
    assert used == set(phrasings)  # every phrasing is drawn
    assert unseen <= N // 40  # the translation table misses at most a rare sentence or two


def test_royal_examples_have_both_answers():
    answers = [a for _, a in I.examples("royal", 200, I.TRAIN_PHRASINGS["royal"], seed=0)]
    assert 0.2 < answers.count("yes") / len(answers) < 0.8


@pytest.mark.parametrize("task", I.TASKS)
def test_examples_are_fixed_by_the_seed(task):
    phrasings = I.TRAIN_PHRASINGS[task]
    assert I.examples(task, 30, phrasings, seed=5) == I.examples(task, 30, phrasings, seed=5)
    assert I.examples(task, 30, phrasings, seed=5) != I.examples(task, 30, phrasings, seed=6)
    rng = np.random.default_rng(5)
    assert I.examples(task, 30, phrasings, seed=rng) == I.examples(task, 30, phrasings, seed=5)


@pytest.mark.parametrize("task", I.TASKS)
def test_the_longest_examples_fit_the_gpt_with_every_phrasing(task):
    pairs = I.examples(task, 400, I.TRAIN_PHRASINGS[task], seed=1)
    split = [(split_instruction(i, I.TRAIN_PHRASINGS[task])[1], a) for i, a in pairs]
    size = [len(s.split()) + len(a.split()) for s, a in split]
    assert max(size) == I.MAX_WORDS  # the limit is reached: these are the longest there are
    longest = [pair for pair, n in zip(split, size) if n == I.MAX_WORDS]
    rows = [(p.format(s), a) for p in ALL_PHRASINGS[task] for s, a in longest]
    inputs, _ = instruction_batch(rows, TOK)
    # <|endoftext|> <|user|> words <|end|> <|assistant|> answer <|end|>, all but the last
    by_hand = 4 + max(len(i.split()) + len(a.split()) for i, a in rows)
    assert inputs.shape[1] == by_hand <= BLOCK == 32
    assert 4 + I.PHRASING_WORDS + I.MAX_WORDS <= BLOCK  # and so does any phrasing allowed


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"task": "translation"}, ValueError, "task: expected one of"),
        ({"n": 0}, ValueError, "n: expected a positive integer"),
        ({"n": 2.5}, TypeError, "n: expected a positive integer"),
        ({"n": 100_001}, ValueError, "n: expected at most 100000"),
        (
            {"phrasings": "translate into spanish : {}"},
            TypeError,
            "phrasings: expected a non-empty",
        ),
        ({"phrasings": []}, TypeError, "phrasings: expected a non-empty"),
        ({"phrasings": ["no place for the sentence"]}, ValueError, "phrasings: each must hold"),
        ({"phrasings": ["{} and {}"]}, ValueError, "phrasings: each must hold one"),
        ({"phrasings": [3]}, ValueError, "phrasings: each must hold"),
        ({"phrasings": ["a b c d e f g h i : {}"]}, ValueError, "phrasings: expected at most 8"),
        ({"seed": "one"}, TypeError, "seed"),
    ],
)
def test_examples_refuse_bad_arguments(kwargs, error, match):
    arguments = {"task": "subject", "n": 3, "phrasings": I.TRAIN_PHRASINGS["subject"], **kwargs}
    with pytest.raises(error, match=match):
        I.examples(**arguments)


# -- phrasings and the tokenizer ---------------------------------------------------------


def words_of(phrasing: str) -> list[str]:
    return phrasing.replace("{}", "").split()


def test_held_out_phrasings_are_new_combinations_of_training_words():
    train = {p for ps in I.TRAIN_PHRASINGS.values() for p in ps}
    train_words = {w for p in train for w in words_of(p)}
    for task, held_out in I.HELD_OUT_PHRASINGS.items():
        assert held_out, task
        for phrasing in held_out:
            assert set(words_of(phrasing)) <= train_words, phrasing
            assert phrasing not in train and phrasing.endswith(": {}")
    assert set(I.TRAIN_PHRASINGS) == set(I.HELD_OUT_PHRASINGS) == set(I.TASKS)
    assert all(len(ps) == 4 for ps in I.TRAIN_PHRASINGS.values())


def task_named_by(phrasing: str) -> str:
    """Only the task's own word says which task is meant ("royal" questions mention the
    subject too, so that word decides first)."""
    words = set(words_of(phrasing))
    return next(task for word, task in [("royal", "royal"), ("subject", "subject"),
                                        ("spanish", "translate")] if word in words)  # fmt: skip


def test_the_task_word_names_the_task_in_every_phrasing():
    for task, phrasings in ALL_PHRASINGS.items():
        assert all(task_named_by(p) == task for p in phrasings), task
        assert all(len(words_of(p)) <= I.PHRASING_WORDS for p in phrasings)


def test_the_task_tokenizer_knows_every_word_of_every_example():
    unk = TOK.special_tokens[TOK.unk_token]
    for task, phrasings in ALL_PHRASINGS.items():
        for instruction, answer in I.examples(task, 300, phrasings, seed=2):
            for text in (instruction, answer):
                ids = TOK.encode(text)
                assert unk not in ids and len(ids) == len(text.split()), text
                assert TOK.decode(ids) == text
    assert unk not in TOK.encode("yes no")
    assert set(CHAT_TOKENS) <= set(TOK.special_tokens)


def test_the_task_tokenizer_keeps_chapter_8_ids():
    assert TOK.words[: len(BASE.words)] == BASE.words
    for word in BASE.words:
        assert TOK.encode(word) == BASE.encode(word), word
    assert TOK.vocab_size > BASE.vocab_size
    spanish = {w for _, es in parallel_corpus(2000, seed=4) for w in es.split()}
    assert spanish - set(BASE.words) <= set(TOK.words)  # the new words are there


# -- answers ---------------------------------------------------------------------------------


def scripted_gpt(script: dict[int, str]) -> GPT:
    """A GPT whose next token depends only on the position it reads: ``script[p]`` at
    position p, ``<|end|>`` at every other position.

    The blocks add nothing to the residual stream (all their weights are zero), the token
    embedding is zero and position p's embedding is the p-th unit vector, so the final
    LayerNorm gives c (e_p - 1/BLOCK) for one c > 0, and the logits are c (row p of the
    head - the head's mean row). Each row holds a single 1, at its token, and no column
    is all ones: that token scores above 0, every other token at most 0.
    """
    model = GPT(GPTConfig(vocab_size=TOK.vocab_size, block_size=BLOCK, n_layers=1, n_heads=1,
                          d_model=BLOCK))  # fmt: skip
    for p in model.blocks[0].parameters():
        p.data[...] = 0.0
    model.wte.weight.data[...] = 0.0
    model.wpe.weight.data[...] = np.eye(BLOCK)
    head = np.zeros((BLOCK, TOK.vocab_size))
    head[:, TOK.special_tokens[END]] = 1.0
    for position, word in script.items():
        head[position] = 0.0
        head[position, TOK.encode(word)[0]] = 1.0
    model.lm_head.weight.data[...] = head
    return model


# Prompt length = <|endoftext|> <|user|> + the words + <|end|> <|assistant|>, so a prompt of
# L tokens is answered from position L - 1 on.
A = "name the subject : the king rules the kingdom ."  # 10 words: 14 tokens, answered from 13
B = "tell me the subject : the boy that the queen sees is wise ."  # 14 words: 18 tokens
C = "is the subject royal : the king rules the kingdom ."  # 11 words: 15 tokens
D = (
    "name the subject : the queen who helps the princess says that the boy who sees "
    "the king helps her and then she is tired ."
)  # 26 words: 30 tokens
SCRIPT = {13: "king", 15: "owl", 17: "owl", 18: "owls", 29: "yes", 30: "no"}
# A: "king" then <|end|> at 14; decoding must stop there, before the "owl" at 15.
# B: "owl owls" then <|end|> at 19.  C: <|end|> at once, at 14.
# D: "yes no", then the block is full (no <|end|>).
EXPECTED = {A: "king", B: "owl owls", C: "", D: "yes no"}


@pytest.fixture(scope="module")
def scripted() -> GPT:
    return scripted_gpt(SCRIPT)


def test_the_scripted_gpt_emits_its_script(scripted):
    assert [len(TOK.encode(x)) for x in (A, B, C, D)] == [10, 14, 11, 26]
    emitted = scripted(np.zeros((1, BLOCK), dtype=np.int64)).data[0].argmax(axis=-1)
    expected = [TOK.encode(SCRIPT[p])[0] if p in SCRIPT else TOK.special_tokens[END]
                for p in range(BLOCK)]  # fmt: skip
    assert emitted.tolist() == expected


def test_answers_stop_at_end_and_come_back_in_order(scripted):
    A2 = "name the subject : the queen rules the kingdom ."  # as long as A: decoded with it
    assert len(TOK.encode(A2)) == len(TOK.encode(A))
    order = [B, A, D, C, A2, B]
    said = I.answer(scripted, TOK, order)
    assert said == [EXPECTED[B], "king", "yes no", "", "king", EXPECTED[B]]
    assert all(END not in s for s in said)
    assert said == [I.answer(scripted, TOK, [x])[0] for x in order]  # alone, the same
    assert I.answer(scripted, TOK, []) == []


def test_an_instruction_too_long_for_the_positions_is_refused(scripted):
    longest = " ".join(["the"] * (BLOCK - 5))  # 27 words: a 31-token prompt, one new token
    assert I.answer(scripted, TOK, [longest]) == ["no"]  # position 30's word, and no room left
    with pytest.raises(
        ValueError, match="instructions: item 1 takes 32 tokens, the model holds 32"
    ):
        I.answer(scripted, TOK, [A, longest + " king"])


def test_accuracy_counts_exact_answers(scripted):
    assert I.accuracy(scripted, TOK, [(A, "king"), (B, "owl owls"), (D, "yes no")]) == 1.0
    pairs = [(A, "king"), (B, "owl"), (C, "no"), (D, "yes no")]  # B half right counts 0
    assert I.accuracy(scripted, TOK, pairs) == 0.5
    assert I.accuracy(scripted, TOK, [(A, "the king")]) == 0.0
    assert I.accuracy(scripted, TOK, [(C, "")]) == 1.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: I.answer("gpt", TOK, [A]), TypeError, "model: expected a GPT"),
        (lambda m: I.answer(m, TOK, A), TypeError, "instructions: expected a list of strings"),
        (lambda m: I.answer(m, TOK, None), TypeError, "instructions: expected a list"),
        (lambda m: I.accuracy(m, TOK, []), TypeError, "pairs: expected a non-empty list"),
        (lambda m: I.accuracy(m, TOK, "A"), TypeError, "pairs: expected a non-empty list"),
    ],
)
def test_answer_and_accuracy_refuse_bad_arguments(scripted, call, error, match):
    with pytest.raises(error, match=match):
        call(scripted)


def test_task_of_answer_reads_the_kind_of_answer():
    assert [I.task_of_answer(t) for t in ["yes", "no", "princesses", "la reina duerme ."]] == [
        "royal", "royal", "subject", "translate"]  # fmt: skip
    assert [I.task_of_answer(t) for t in ["yes no", "the king", "kingdom", ""]] == ["other"] * 4
    with pytest.raises(TypeError, match="text: expected a string"):
        I.task_of_answer(None)
