"""The language with clauses: exact numbers against enumeration (small setting), membership
against mutations, sampling against exact probabilities, and the structure of its world."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes.data import clauses
from genai_notes.data.clauses_lexicon import FULL, PLURAL
from genai_notes.lexicon import PEOPLE

# Every verb of the grammar in its plural (base) form; the singular adds "s".
BASES = {"rule", "work", "feed", "walk", "play", "live", "sleep", "run", *FULL.food_verbs}
BASES |= {*FULL.person_verbs, *FULL.hunt_verbs, *FULL.care_verbs, *FULL.say_verbs}
FLIP_NUMBER = {"is": "are", "are": "is"}
FLIP_NUMBER |= {b: b + "s" for b in BASES} | {b + "s": b for b in BASES}
SUBJECT_PRONOUNS, OBJECT_PRONOUNS = ("he", "she", "it", "they"), ("him", "her", "them")


@pytest.fixture(scope="module")
def small() -> dict[str, float]:
    return clauses.sentence_distribution("small")


@pytest.fixture(scope="module")
def sample() -> list[str]:
    return clauses.generate_corpus(3000, seed=42)


# ----------------------------------------------------------------------------------------
# Exact numbers against the list of every sentence of the small setting


def test_small_setting_is_unambiguous_and_its_count_is_exact(small):
    derivations = clauses.grammar("small").derivations(limit=300_000)
    assert len(derivations) == len(small) == clauses.sentence_count("small") == 225_632
    assert math.fsum(math.exp(lp) for lp in small.values()) == pytest.approx(1.0, abs=1e-12)


def test_entropy_and_lengths_equal_the_enumerated_ones(small):
    log_p = np.array(list(small.values()))
    p = np.exp(log_p)
    direct = float(-(p * log_p).sum())
    chars = float(sum(pi * (len(s) + 1) for s, pi in zip(small, p)))
    words = float(sum(pi * (len(s.split(" ")) + 1) for s, pi in zip(small, p)))
    by_char, by_word = clauses.entropy("small", "char"), clauses.entropy("small", "word")
    assert by_char.per_sentence == pytest.approx(direct, abs=1e-12)
    assert by_word.per_sentence == pytest.approx(direct, abs=1e-12)
    assert by_char.tokens_per_sentence == pytest.approx(chars, abs=1e-10)
    assert by_word.tokens_per_sentence == pytest.approx(words, abs=1e-12)
    assert by_char.per_token == pytest.approx(direct / chars, abs=1e-12)


def test_parser_log_prob_equals_the_enumerated_one_for_every_sentence(small):
    worst = max(abs(clauses.sentence_log_prob(s, "small") - lp) for s, lp in small.items())
    assert worst < 1e-12
    assert all(clauses.is_grammatical(s, "small") for s in list(small)[:2000])


def test_next_word_distributions_equal_the_enumerated_conditionals(small):
    rng = np.random.default_rng(0)
    texts = list(small)
    chosen = {tuple(texts[i].split(" ")) for i in rng.choice(len(texts), 300, replace=False)}
    prefixes = {words[:k] for words in chosen for k in range(len(words) + 1)}
    mass: dict = defaultdict(lambda: defaultdict(float))
    for text, lp in small.items():
        words = text.split(" ")
        for k in range(len(words) + 1):
            if tuple(words[:k]) not in prefixes:
                break
            mass[tuple(words[:k])][words[k] if k < len(words) else clauses.END] += math.exp(lp)
    for prefix, counts in mass.items():
        total = sum(counts.values())
        truth = {w: m / total for w, m in counts.items()}
        got = clauses.next_word_distribution(" ".join(prefix), "small")
        assert got == pytest.approx(truth, abs=1e-12), prefix


def test_mutations_are_judged_exactly_as_the_list_says(small):
    """Swapped, replaced, deleted and inserted words, and truncations: the parser accepts a
    mutant exactly when it is in the list of every sentence, with the listed probability."""
    rng = np.random.default_rng(1)
    texts, vocab = list(small), clauses.vocabulary("small")
    verdicts = Counter()
    for i in rng.choice(len(texts), 1500, replace=False):
        words = texts[i].split(" ")
        j = int(rng.integers(len(words) - 1))
        other = vocab[int(rng.integers(len(vocab)))]
        mutants = [
            words[:j] + [words[j + 1], words[j]] + words[j + 2 :],
            words[:j] + [other] + words[j + 1 :],
            words[:j] + words[j + 1 :],
            words[:j] + [other] + words[j:],
            words[: j + 1],
        ]
        for mutant in map(" ".join, mutants):
            listed = mutant in small
            assert clauses.is_grammatical(mutant, "small") == listed, mutant
            log_p = clauses.sentence_log_prob(mutant, "small")
            assert log_p == pytest.approx(small.get(mutant, -math.inf), abs=1e-12)
            verdicts[listed] += 1
    assert verdicts[False] > 5000 and verdicts[True] > 50  # both kinds were tried


# ----------------------------------------------------------------------------------------
# The full setting: counts, exact probabilities by hand, agreement


def test_full_setting_has_more_than_a_million_sentences():
    assert clauses.sentence_count() == 118_561_983_120 > 10**6
    assert len(clauses.vocabulary()) == 133
    assert clauses.grammar().max_words() == 28


def test_exact_probabilities_worked_out_by_hand():
    # Subject "king": people get 0.7, one of 8, singular 0.75. No relative clause: 0.5.
    # Main clause of an adult royal: 7 options with weights summing to 0.88, "rules" 0.08.
    # No "and then": 0.75.
    king = 0.7 / 8 * 0.75 * 0.5 * (0.08 / 0.88) * 0.75
    assert clauses.sentence_log_prob("the king rules the kingdom .") == pytest.approx(
        math.log(king), abs=1e-13
    )
    # "queens" (plural 0.25) "who" (0.3) "live" (1 of 6 relative-clause verbs) "in the
    # castle" (royal places weigh 4, neutral 1, common 0.25: 4 / 20.25), then "rule ...".
    queens = 0.7 / 8 * 0.25 * 0.3 * (1 / 6) * (4 / 20.25) * (0.08 / 0.88) * 0.75
    sentence = "the queens who live in the castle rule the kingdom ."
    assert clauses.sentence_log_prob(sentence) == pytest.approx(math.log(queens), abs=1e-13)


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        # The main verb agrees with the head across a relative clause and its attractor.
        (
            "the queens who feed the owl rule the kingdom .",
            "the queens who feed the owl rules the kingdom .",
        ),
        (
            "the queen that the boys see rules the kingdom .",
            "the queen that the boys see rule the kingdom .",
        ),
        (
            "the queen that the boys see rules the kingdom .",
            "the queen that the boys sees rules the kingdom .",
        ),
        # The pronoun names the subject, eight words back.
        (
            "the king who helps the girls says that he is wise .",
            "the king who helps the girls says that she is wise .",
        ),
        (
            "the girls who feed the cow work on the farm and then they are happy .",
            "the girls who feed the cow work on the farm and then she is happy .",
        ),
        (
            "the princess says that the dogs chase her .",
            "the princess says that the dogs chase him .",
        ),
        (
            "the fox that the queen feeds runs to the garden because it is hungry .",
            "the fox that the queen feeds runs to the garden because they are hungry .",
        ),
        # Royals rule and commoners work; only children play.
        ("the prince rules the kingdom .", "the prince works on the farm ."),
        ("the girl plays with the cow in the farm .", "the woman plays with the cow in the farm ."),
    ],
)
def test_agreement_and_the_world_by_example(good, bad):
    assert clauses.is_grammatical(good) and clauses.sentence_log_prob(good) > -math.inf
    assert not clauses.is_grammatical(bad) and clauses.sentence_log_prob(bad) == -math.inf


def test_royals_lean_to_castles_and_commoners_to_farms_exactly():
    def ratio(subject: str, verb: str) -> float:
        castle = f"the {subject} {verb} to the castle with the horse ."
        farm = f"the {subject} {verb} to the farm with the horse ."
        return math.exp(clauses.sentence_log_prob(castle) - clauses.sentence_log_prob(farm))

    # Places of the person's rank weigh 4, of the other rank 0.25: a ratio of 16.
    for person in PEOPLE:
        expected = 16.0 if person.rank == "royal" else 1 / 16
        assert ratio(person.en, "walks") == pytest.approx(expected, rel=1e-12)
    owls = "the owls sleep in the tower .", "the owls sleep in the barn ."
    assert clauses.sentence_log_prob(owls[0]) - clauses.sentence_log_prob(owls[1]) == (
        pytest.approx(math.log(16))
    )


def test_eaters_are_more_often_hungry_exactly():
    def ratio(verb: str) -> float:
        hungry = clauses.sentence_log_prob(f"the king {verb} the bread because he is hungry .")
        tired = clauses.sentence_log_prob(f"the king {verb} the bread because he is tired .")
        return math.exp(hungry - tired)

    assert ratio("eats") == pytest.approx(3.0, rel=1e-12)
    assert ratio("cooks") == pytest.approx(1.0, rel=1e-12)


def test_every_pronoun_of_a_sample_names_the_subject(sample):
    # Checked by reading the words, not by the grammar: the subject's noun is word 1 (or 2
    # after a colour), and every pronoun in the sentence must fit its sex and number.
    sex = {p.en: p.gender for p in PEOPLE} | {PLURAL[p.en]: "pl" for p in PEOPLE}
    animals = {a.en: "it" for a in FULL.animals} | {PLURAL[a.en]: "pl" for a in FULL.animals}
    fitting = {"m": {"he", "him"}, "f": {"she", "her"}, "it": {"it"}, "pl": {"they", "them"}}
    seen = 0
    for sentence in sample:
        words = sentence.split(" ")
        noun = words[2] if words[1] in {a.en for a in FULL.adjectives} else words[1]
        kind = sex.get(noun) or animals[noun]
        for word in words:
            if word in SUBJECT_PRONOUNS or word in OBJECT_PRONOUNS:
                assert word in fitting[kind], sentence
                seen += 1
    assert seen > 500


def pronoun_mutants(sentence: str):
    """Each pronoun replaced by each other pronoun of the same case, and how far the pronoun
    is from the subject's noun (word 1, or 2 after a colour)."""
    words = sentence.split(" ")
    for i, word in enumerate(words):
        for group in (SUBJECT_PRONOUNS, OBJECT_PRONOUNS):
            if word in group:
                for other in group:
                    if other != word:
                        yield " ".join(words[:i] + [other] + words[i + 1 :]), i - 1


def test_a_wrong_pronoun_far_from_its_subject_is_ungrammatical(sample):
    distances = []
    for sentence in sample:
        for mutant, distance in pronoun_mutants(sentence):
            assert not clauses.is_grammatical(mutant), mutant
            assert clauses.sentence_log_prob(mutant) == -math.inf
            distances.append(distance)
    assert len(distances) > 1000 and sum(d >= 8 for d in distances) > 200


def test_a_verb_of_the_wrong_number_is_ungrammatical(sample):
    flipped = 0
    for sentence in sample:
        words = sentence.split(" ")
        for i, word in enumerate(words):
            if word in FLIP_NUMBER:
                mutant = " ".join(words[:i] + [FLIP_NUMBER[word]] + words[i + 1 :])
                assert not clauses.is_grammatical(mutant), mutant
                flipped += 1
    assert flipped > len(sample)  # every sentence has a verb


def test_truncated_doubled_and_extended_sentences_are_ungrammatical(sample):
    # (A swap of two words can be grammatical: "the boy that the man thanks sees ..." and
    # "... sees thanks ...". Swaps are judged against the small setting's list above.)
    for sentence in sample[:1000]:
        words = sentence.split(" ")
        mutants = [" ".join(words[:k]) for k in range(len(words))]  # every truncation
        mutants += [" ".join(words[: j + 1] + words[j:]) for j in range(len(words))]  # doubled
        mutants += [sentence + " the", sentence + " .", sentence + " ", " " + sentence]
        mutants += [sentence.replace(" ", "  ", 1), sentence + "\n", sentence.upper()]
        for mutant in mutants:
            assert clauses.sentence_log_prob(mutant) == -math.inf, mutant


def test_chain_rule_over_the_next_word_distributions_gives_the_log_prob(sample):
    for sentence in sample[:300]:
        words = sentence.split(" ")
        total = 0.0
        for k, word in enumerate([*words, clauses.END]):
            dist = clauses.next_word_distribution(" ".join(words[:k]))
            assert math.fsum(dist.values()) == pytest.approx(1.0, abs=1e-12)
            total += math.log(dist[word])
        assert total == pytest.approx(clauses.sentence_log_prob(sentence), abs=1e-12)


# ----------------------------------------------------------------------------------------
# Sampling


def test_every_sampled_sentence_is_grammatical_and_well_formed(sample):
    pattern = re.compile(r"[a-z]+( [a-z]+)* \.")
    for sentence in sample:
        assert pattern.fullmatch(sentence), sentence
        assert clauses.is_grammatical(sentence), sentence
    assert max(len(s.split(" ")) for s in sample) <= clauses.grammar().max_words()


def test_sampling_is_deterministic_and_extends_a_shorter_sample():
    assert clauses.generate_corpus(50, seed=3) == clauses.generate_corpus(50, seed=3)
    assert clauses.generate_corpus(50, seed=3) != clauses.generate_corpus(50, seed=4)
    assert clauses.generate_corpus(6000, seed=5)[:10] == clauses.generate_corpus(10, seed=5)
    rng = np.random.default_rng(0)
    first, second = clauses.generate_corpus(5, rng), clauses.generate_corpus(5, rng)
    assert first == clauses.generate_corpus(5, seed=0) and first != second
    assert clauses.generate_corpus(0) == [] and clauses.corpus_text(0) == ""
    text = clauses.corpus_text(20, seed=1)
    assert text.endswith(" .\n") and text.splitlines() == clauses.generate_corpus(20, seed=1)


def chi_square_tail(statistic: float, df: int) -> float:
    """P(X > statistic) for X ~ chi-square with an even ``df``, in closed form."""
    assert df % 2 == 0
    half = statistic / 2
    return math.exp(-half) * math.fsum(half**i / math.factorial(i) for i in range(df // 2))


def test_chi_square_tail_by_known_values():
    assert chi_square_tail(2.0, 2) == pytest.approx(math.exp(-1))
    assert chi_square_tail(59.703, 30) == pytest.approx(0.001, rel=1e-3)  # table value


def test_sampled_frequencies_of_the_likeliest_sentences_match_exact_probabilities():
    # The 30 most frequent sentences of one sample (seed 20) are tested on another sample
    # (seed 21), so the choice does not bias the test. Tolerance: each count within 4.5
    # standard deviations, and the chi-square test over the 30 and "all others" has a
    # p-value above 0.001.
    top = [s for s, _ in Counter(clauses.generate_corpus(50_000, seed=20)).most_common(30)]
    n = 200_000
    counts = Counter(clauses.generate_corpus(n, seed=21))
    p = np.array([math.exp(clauses.sentence_log_prob(s)) for s in top])
    observed = np.array([counts[s] for s in top])
    assert np.all(np.abs(observed - n * p) < 4.5 * np.sqrt(n * p * (1 - p)))
    cells_o = np.append(observed, n - observed.sum())
    cells_e = np.append(n * p, n * (1 - p.sum()))
    statistic = float(((cells_o - cells_e) ** 2 / cells_e).sum())
    assert chi_square_tail(statistic, df=30) > 0.001
    assert p.max() > 1e-3  # the likeliest sentences are seen hundreds of times


def test_monte_carlo_entropy_and_length_agree_with_the_exact_ones():
    sentences = clauses.generate_corpus(20_000, seed=9)
    surprisal = -np.array([clauses.sentence_log_prob(s) for s in sentences])
    exact = clauses.entropy(unit="char")
    error = surprisal.std() / math.sqrt(len(sentences))
    assert abs(surprisal.mean() - exact.per_sentence) < 4 * error
    chars = np.array([len(s) + 1 for s in sentences])
    assert abs(chars.mean() - exact.tokens_per_sentence) < 4 * chars.std() / math.sqrt(20_000)
    words = clauses.entropy(unit="word")
    assert words.per_sentence == exact.per_sentence
    assert words.per_token * words.tokens_per_sentence == pytest.approx(words.per_sentence)


# ----------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("bad", [-1, -100])
def test_negative_counts_are_refused(bad):
    with pytest.raises(ValueError, match="n_sentences: expected a non-negative integer"):
        clauses.generate_corpus(bad)


@pytest.mark.parametrize("bad", [2.5, "10", None, True])
def test_non_integer_counts_are_refused(bad):
    with pytest.raises(TypeError, match="n_sentences"):
        clauses.generate_corpus(bad)


@pytest.mark.parametrize("bad", [clauses.MAX_SENTENCES + 1, 10**15])
def test_absurd_sizes_are_refused_before_allocating(bad):
    with pytest.raises(ValueError, match="n_sentences: expected at most MAX_SENTENCES"):
        clauses.corpus_text(bad)


def test_bad_seeds_settings_units_and_types_are_refused():
    with pytest.raises(TypeError, match="seed"):
        clauses.generate_corpus(3, seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        clauses.generate_corpus(3, seed=-2)
    with pytest.raises(TypeError, match="seed"):
        clauses.generate_corpus(3, seed=None)
    with pytest.raises(ValueError, match="setting: expected one of"):
        clauses.sentence_count("huge")
    with pytest.raises(TypeError, match="setting: expected a str"):
        clauses.is_grammatical("the king rules the kingdom .", setting=1)
    with pytest.raises(ValueError, match="unit: expected 'char' or 'word'"):
        clauses.entropy(unit="byte")
    with pytest.raises(TypeError, match="sentence: expected a str"):
        clauses.sentence_log_prob(["the", "king"])
    with pytest.raises(TypeError, match="sentence: expected a str"):
        clauses.is_grammatical(None)
    with pytest.raises(TypeError, match="prefix: expected a str"):
        clauses.next_word_distribution(b"the")
    with pytest.raises(ValueError, match="too many to list"):
        clauses.sentence_distribution("full")


VOCAB = clauses.vocabulary()
near_sentences = st.lists(
    st.sampled_from([*VOCAB, "", "\n", "The", "dragon", "kings.", "the\tking"]), max_size=30
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), near_sentences))
def test_random_strings_never_crash_the_parser(text):
    grammatical = clauses.is_grammatical(text)
    log_p = clauses.sentence_log_prob(text)
    assert isinstance(grammatical, bool)
    assert log_p == -math.inf if not grammatical else (math.isfinite(log_p) and log_p < 0)
    dist = clauses.next_word_distribution(text)
    assert dist == {} or math.fsum(dist.values()) == pytest.approx(1.0, abs=1e-12)
    if grammatical:  # a sentence is complete: nothing may follow it
        assert dist == {clauses.END: 1.0}
