"""The synthetic language: determinism, exact probabilities, entropy, and built-in structure."""

import math
from collections import Counter

import numpy as np
import pytest

from genai_notes import data
from genai_notes.lexicon import CATEGORIES, PEOPLE


def test_same_seed_same_corpus_and_different_seed_differs():
    assert data.generate_corpus(50, seed=3) == data.generate_corpus(50, seed=3)
    assert data.generate_corpus(50, seed=3) != data.generate_corpus(50, seed=4)


def test_generator_object_is_accepted_and_advances():
    rng = np.random.default_rng(0)
    first, second = data.generate_corpus(5, rng), data.generate_corpus(5, rng)
    assert first == data.generate_corpus(5, seed=0)
    assert first != second


def test_english_and_spanish_corpora_are_translations_of_each_other():
    pairs = data.parallel_corpus(30, seed=2)
    assert [en for en, _ in pairs] == data.generate_corpus(30, seed=2)
    assert [es for _, es in pairs] == data.generate_corpus(30, seed=2, language="es")


def test_known_translations_including_contractions():
    table = dict(data.parallel_corpus(3000, seed=0))
    assert table["where is the library ?"] == "¿ dónde está la biblioteca ?"
    assert (
        table["the king walks to the castle with the horse ."]
        == "el rey camina al castillo con su caballo ."
    )
    assert (
        table["the girl sits on the bank of the river ."]
        == "la niña se sienta en la orilla del río ."
    )


def test_corpus_text_ends_every_sentence_with_a_newline():
    text = data.corpus_text(10, seed=1)
    assert text.count("\n") == 10 and text.endswith("\n")
    assert text.splitlines() == data.generate_corpus(10, seed=1)


def test_zero_sentences_is_an_empty_corpus():
    assert data.generate_corpus(0) == [] and data.corpus_text(0) == ""


@pytest.mark.parametrize("bad", [-1, -100])
def test_negative_count_is_rejected(bad):
    with pytest.raises(ValueError, match="n_sentences: expected a non-negative integer, got"):
        data.generate_corpus(bad)


@pytest.mark.parametrize("bad", [2.5, "10", None, True])
def test_non_integer_count_is_rejected(bad):
    with pytest.raises(TypeError, match="n_sentences"):
        data.generate_corpus(bad)


def test_unknown_language_and_bad_seed_are_rejected():
    with pytest.raises(ValueError, match="language: expected one of"):
        data.generate_corpus(3, language="fr")
    with pytest.raises(TypeError, match="seed"):
        data.generate_corpus(3, seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        data.generate_corpus(3, seed=-2)


def test_enumerated_distribution_sums_to_one_in_both_languages():
    for language in data.LANGUAGES:
        dist = data.sentence_distribution(language)
        assert math.isclose(sum(math.exp(v) for v in dist.values()), 1.0, rel_tol=1e-12)


def test_exact_probability_of_a_sentence_worked_out_by_hand():
    # The template weights add up to 1.12; each template is chosen with weight / 1.12.
    total = 1.12
    # "where is the library ?": template weight 0.04, then one of 8 places uniformly.
    assert data.sentence_log_prob("where is the library ?") == pytest.approx(
        math.log(0.04 / total / 8)
    )
    # "the queen rules the kingdom .": weight 0.08, then one of the 4 royals.
    assert data.sentence_log_prob("the queen rules the kingdom .") == pytest.approx(
        math.log(0.08 / total / 4)
    )
    # "the girl works on the farm .": weight 0.08, then one of the 4 commoners.
    assert data.sentence_log_prob("the girl works on the farm .") == pytest.approx(
        math.log(0.08 / total / 4)
    )
    # "the boy is young .": trait template 0.10, person 1/8, "young" has weight 3 of 5.6 for
    # young people (weights 0.5, 1, 1, 0.1, 3).
    assert data.sentence_log_prob("the boy is young .") == pytest.approx(
        math.log(0.10 / total / 8 * 3 / 5.6)
    )


def test_sampled_frequencies_match_exact_probabilities():
    # An independent route: Monte Carlo frequencies agree with the enumerated probabilities.
    n = 40_000
    counts = Counter(data.generate_corpus(n, seed=11))
    dist = data.sentence_distribution()
    for sentence in [
        "where is the library ?",
        "the queen rules the kingdom .",
        "the boy is young .",
    ]:
        p = math.exp(dist[sentence])
        assert abs(counts[sentence] / n - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert set(counts) <= set(dist)


def test_unknown_sentence_raises_a_clear_error():
    with pytest.raises(ValueError, match="cannot be produced by the grammar"):
        data.sentence_log_prob("the king eats the moon .")
    with pytest.raises(TypeError, match="sentence: expected a str"):
        data.sentence_log_prob(42)


def test_entropy_matches_a_direct_computation():
    dist = data.sentence_distribution()
    p = np.exp(np.array(list(dist.values())))
    direct = -(p * np.log(p)).sum()
    e = data.entropy(unit="char")
    assert e.per_sentence == pytest.approx(direct)
    mean_chars = sum(pi * (len(s) + 1) for s, pi in zip(dist, p))
    assert e.per_token == pytest.approx(direct / mean_chars)
    with pytest.raises(ValueError, match="unit"):
        data.entropy(unit="byte")


def test_royals_lean_to_royal_places_and_commoners_to_common_ones():
    sentences = data.generate_corpus(6000, seed=5)
    royal, common = set(CATEGORIES["royalty"]), set(CATEGORIES["commoners"])

    def place_counts(people):
        c = Counter()
        for s in sentences:
            words = s.split()
            if len(words) > 2 and words[1] in people and " in the " in s and "bank" not in s:
                c[words[-2]] += 1
        return c

    r, c = place_counts(royal), place_counts(common)
    assert r["castle"] + r["palace"] > 4 * (r["village"] + r["farm"])
    assert c["village"] + c["farm"] > 4 * (c["castle"] + c["palace"])


def test_pronouns_agree_with_the_person():
    sex = {p.en: p.gender for p in PEOPLE}
    for s in data.generate_corpus(2000, seed=6):
        words = s.split()
        if words[1] in sex:
            wrong = {"m": {"she", "her"}, "f": {"he", "his"}}[sex[words[1]]]
            assert not wrong & set(words), s
