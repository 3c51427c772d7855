"""The character bigram model, checked against hand counts and a slow reference."""

import math

import numpy as np
import pytest

from genai_notes import bigram
from genai_notes.sampling import apply_temperature, sample_categorical


def test_counts_by_hand():
    # "\n" -> a, a -> b, b -> a, a -> \n
    counts = bigram.bigram_counts("aba\n", "\nab")
    expected = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(counts, expected)


def test_fit_matches_a_slow_reference_with_smoothing():
    text = "the cat .\nthe hat .\n"
    alpha = 0.5
    model = bigram.CharBigram.fit(text, alpha=alpha)
    a = model.alphabet
    for i, x in enumerate(a):
        padded = "\n" + text
        follow = [padded[k + 1] for k in range(len(padded) - 1) if padded[k] == x]
        for j, y in enumerate(a):
            expected = (follow.count(y) + alpha) / (len(follow) + alpha * len(a))
            assert model.probs[i, j] == pytest.approx(expected)


def test_log_prob_by_hand():
    model = bigram.CharBigram.fit("ab\nab\nb\n", alpha=0.0)
    # start -> a: 2/3, a -> b: 1, b -> end: 1
    assert model.log_prob("ab") == pytest.approx(math.log(2 / 3))
    # without boundaries only the inner pair a -> b counts
    assert model.log_prob("ab", boundaries=False) == pytest.approx(0.0)
    assert model.log_prob("ba") == -math.inf


def test_cross_entropy_is_mean_negative_log_prob_per_predicted_char():
    model = bigram.CharBigram.fit("ab\nba\n", alpha=1.0)
    text = "ab\n"
    expected = -(model.log_prob("ab")) / 3  # three predictions: a, b, newline
    assert model.cross_entropy(text) == pytest.approx(expected)


def test_unseen_character_is_a_clear_error():
    model = bigram.CharBigram.fit("ab\n")
    with pytest.raises(ValueError, match="character 'z' is not in the alphabet"):
        model.log_prob("az")
    with pytest.raises(ValueError, match="without newlines"):
        model.log_prob("a\nb")


def test_bad_arguments():
    with pytest.raises(ValueError, match="text: expected a non-empty"):
        bigram.CharBigram.fit("")
    with pytest.raises(ValueError, match="alpha"):
        bigram.CharBigram.fit("ab", alpha=-1)
    with pytest.raises(ValueError, match="alphabet"):
        bigram.bigram_counts("ab", "ab")  # no newline
    with pytest.raises(TypeError, match="text"):
        bigram.CharBigram.fit(["a", "b"])
    model = bigram.CharBigram.fit("ab\n")
    with pytest.raises(ValueError, match="max_len"):
        model.sample(2, max_len=0)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(2, temperature=0)
    with pytest.raises(ValueError, match="char"):
        model.next_char_probs("ab")
    with pytest.raises(ValueError, match="models"):
        bigram.classify("ab", {})


def test_sampling_is_reproducible_and_follows_the_table():
    model = bigram.CharBigram.fit("ab\n" * 5, alpha=0.0)  # deterministic: always "ab"
    assert model.sample(4, seed=0) == ["ab"] * 4
    rich = bigram.CharBigram.fit("the cat sat .\nthe dog ran .\n")
    assert rich.sample(5, seed=1) == rich.sample(5, seed=1)


def test_sampled_first_characters_follow_the_start_distribution():
    model = bigram.CharBigram.fit("a\nb\nb\nb\n", alpha=0.0)  # P(a | start) = 1/4
    firsts = [s[0] for s in model.sample(4000, seed=3)]
    assert abs(firsts.count("a") / 4000 - 0.25) < 0.03


def test_classify_picks_the_language_that_made_the_text():
    en_text, es_text = (
        "the cat is here .\nthe king eats .\n",
        "el gato esta aqui .\nel rey come .\n",
    )
    alphabet = "".join(sorted(set(en_text + es_text)))
    english = bigram.CharBigram.fit(en_text, alphabet=alphabet)
    other = bigram.CharBigram.fit(es_text, alphabet=alphabet)
    best, scores = bigram.classify("the cat", {"en": english, "es": other})
    assert best == "en" and scores["en"] > scores["es"]


def test_temperature_one_is_identity_and_small_temperature_is_argmax():
    p = np.array([0.1, 0.6, 0.3])
    np.testing.assert_allclose(apply_temperature(p, 1.0), p)
    np.testing.assert_allclose(apply_temperature(p, 1e-3), [0, 1, 0], atol=1e-12)
    # by hand: p^2 / sum p^2
    np.testing.assert_allclose(apply_temperature(p, 0.5), p**2 / (p**2).sum())
    # zero-probability options stay at zero and never produce NaN
    q = apply_temperature(np.array([0.0, 1.0]), 3.0)
    np.testing.assert_array_equal(q, [0.0, 1.0])


def test_temperature_rejects_bad_distributions():
    with pytest.raises(ValueError, match="sum to 1"):
        apply_temperature(np.array([0.5, 0.6]), 1.0)
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature(np.array([0.5, 0.5]), -1.0)


def test_sample_categorical_frequencies():
    probs = np.tile([0.2, 0.5, 0.3], (20000, 1))
    draws = sample_categorical(probs, rng=0)
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20000, [0.2, 0.5, 0.3], atol=0.015)


def test_cross_entropy_averages_every_transition_including_the_start():
    # Transitions with different probabilities, so the number averaged matters:
    # P(a | start) = 2/3, P(c | a) = 1/2, P(end | c) = 1.
    model = bigram.CharBigram.fit("ab\nac\nb\n", alpha=0.0)
    expected = -(math.log(2 / 3) + math.log(1 / 2) + math.log(1.0)) / 3
    assert model.cross_entropy("ac\n") == pytest.approx(expected, rel=1e-12)
    # Two sentences: start -> b (1/3), b -> end (1), start -> a (2/3), a -> b (1/2), b -> end.
    two = -(math.log(1 / 3) + 0 + math.log(2 / 3) + math.log(1 / 2) + 0) / 5
    assert model.cross_entropy("b\nab\n") == pytest.approx(two, rel=1e-12)


def test_a_character_never_followed_gets_a_uniform_row_with_alpha_zero():
    # "b" ends the text and is never followed by anything; "z" never appears at all.
    model = bigram.CharBigram.fit("ab", alpha=0.0, alphabet="\nabz")
    np.testing.assert_allclose(model.probs[2], [0.25, 0.25, 0.25, 0.25])
    np.testing.assert_allclose(model.probs[3], [0.25, 0.25, 0.25, 0.25])
    np.testing.assert_allclose(model.probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.probs[1], [0.0, 0.0, 1.0, 0.0])  # a -> b, by count
    assert np.isfinite(model.log_prob("b", boundaries=False))
    assert model.log_prob("ab") == pytest.approx(math.log(0.25))  # b -> end is 1/4


def test_classify_rejects_what_is_not_a_dict_of_models():
    model = bigram.CharBigram.fit("ab\n")
    with pytest.raises(TypeError, match="models: expected a dict from names to CharBigram"):
        bigram.classify("ab", [model])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"models\['en'\]: expected a CharBigram, got 3"):
        bigram.classify("ab", {"en": 3})  # type: ignore[dict-item]
