"""The grammar engine: exact counts, entropy, parsing, next-word distributions and sampling,
each checked against hand computations or against listing every derivation."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes.data.pcfg import END, Grammar

S, N, A = ("S",), ("N",), ("A",)

# S -> "the" N "." (3/4) | "a" "cat" "." (1/4);  N -> "cat" | "dog" (1/2 each);
# "the" N may be followed by an optional A -> "big" (1/3) or nothing (2/3).
TOY = {
    S: [(3.0, ("the", N, A, ".")), (1.0, ("a", "cat", "."))],
    N: [(1.0, ("cat",)), (1.0, ("dog",))],
    A: [(2.0, ()), (1.0, ("big",))],
}


def toy() -> Grammar:
    return Grammar(TOY, start=S)


def test_counts_entropy_and_probabilities_by_hand():
    g = toy()
    # the cat ., the dog ., the cat big ., the dog big ., a cat .
    assert g.count() == 5
    p = {"the cat .": 3 / 4 * 1 / 2 * 2 / 3, "the dog big .": 3 / 4 * 1 / 2 * 1 / 3}
    p["a cat ."] = 1 / 4
    for sentence, prob in p.items():
        assert g.log_prob(sentence.split()) == pytest.approx(math.log(prob), abs=1e-15)
    probs = np.array([1 / 4, 1 / 4, 1 / 4, 1 / 8, 1 / 8])  # a cat, the cat/dog, ... big
    assert g.entropy() == pytest.approx(-(probs * np.log(probs)).sum(), abs=1e-15)
    # Words per sentence: 3 w.p. 3/4 * 2/3 + 1/4 = 3/4, and 4 w.p. 1/4.
    assert g.expected_sum(lambda w: 1) == pytest.approx(3.25)
    assert g.max_words() == 4
    assert g.terminals == (".", "a", "big", "cat", "dog", "the")


def test_rejected_sentences_have_log_prob_minus_infinity():
    g = toy()
    for words in (["the", "cat"], ["the", "cow", "."], [], ["a", "cat", ".", "."], ["big"]):
        assert g.log_prob(words) == -math.inf


def test_next_distribution_by_hand_including_an_optional_part_and_the_end():
    g = toy()
    assert g.next_distribution([]) == {"a": 0.25, "the": 0.75}
    assert g.next_distribution(["the", "dog"]) == pytest.approx({".": 2 / 3, "big": 1 / 3})
    assert g.next_distribution(["a", "cat", "."]) == {END: 1.0}
    assert g.next_distribution(["the", "cow"]) == {}
    assert g.next_distribution(["a", "cat", ".", "."]) == {}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        # Two derivations of "a": S -> X X with X -> "a" | nothing.
        ({S: [(1, (A, A))], A: [(1, ()), (1, ("a",))]}, "not LL\\(1\\)"),
        # Both rules start with "the".
        ({S: [(1, ("the", "cat")), (1, ("the", "dog"))]}, "not LL\\(1\\)"),
        ({S: [(1, ("a", S))]}, "can reach itself"),
        ({S: [(1, ("a", N))], N: [(1, ("b", A))], A: [(1, (S,))]}, "can reach itself"),
        ({S: [(1, ("a", N))]}, "has no rules"),
        ({S: [(1, ("a",))], N: [(1, ("b",))]}, "cannot be reached"),
        ({S: [(0, ("a",))]}, "weight: expected a number > 0.0"),
        ({S: [(-1, ("a",))]}, "weight"),
        ({S: [(math.nan, ("a",))]}, "weight: expected a finite number"),
        ({S: [(1, ("two words",))]}, "terminal must be a word without spaces"),
        ({S: [(1, ("",))]}, "terminal must be a word"),
        ({S: [(1, ("a\n",))]}, "terminal must be a word"),
        ({S: []}, "non-empty list"),
        ({S: [(1,)]}, "expected \\(weight, rhs\\)"),
    ],
)
def test_bad_grammars_are_refused_with_a_clear_message(rules, message):
    with pytest.raises(ValueError, match=message):
        Grammar(rules, start=S)


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="rules: expected a mapping"):
        Grammar([(S, [])], start=S)
    with pytest.raises(ValueError, match="start"):
        Grammar(TOY, start=("X",))
    with pytest.raises(ValueError, match="start"):
        Grammar(TOY, start="the")
    with pytest.raises(TypeError, match="rhs must be a tuple"):
        Grammar({S: [(1, "a")]}, start=S)
    with pytest.raises(TypeError, match="weight"):
        Grammar({S: [("1", ("a",))]}, start=S)
    with pytest.raises(ValueError, match="limit: the grammar has 5 derivations"):
        toy().derivations(limit=4)
    with pytest.raises(ValueError, match="n: expected a non-negative integer"):
        toy().sample_ids(-1, np.random.default_rng(0))


def test_sampled_frequencies_match_the_probabilities():
    g = toy()
    n = 40_000
    ids, lengths = g.sample_ids(n, np.random.default_rng(3))
    assert ids.shape == (n, g.max_words()) and lengths.shape == (n,)
    assert np.all(ids[np.arange(g.max_words()) >= lengths[:, None]] == -1)
    words = np.array(g.terminals)
    counts = Counter(" ".join(words[row[:k]]) for row, k in zip(ids, lengths))
    for sentence, words_ in g.derivations(limit=10):
        p = math.exp(words_)
        text = " ".join(sentence)
        assert abs(counts[text] / n - p) < 4 * math.sqrt(p * (1 - p) / n), text
    assert sum(counts.values()) == n and len(counts) == 5


def test_samples_do_not_depend_on_how_many_are_drawn():
    g = toy()
    big, big_len = g.sample_ids(5000, np.random.default_rng(7))
    small, small_len = g.sample_ids(10, np.random.default_rng(7))
    assert np.array_equal(big[:10], small) and np.array_equal(big_len[:10], small_len)
    empty, empty_len = g.sample_ids(0, np.random.default_rng(7))
    assert empty.shape == (0, 4) and empty_len.shape == (0,)


# ----------------------------------------------------------------------------------------
# Random grammars, checked against listing every derivation


@st.composite
def random_grammars(draw) -> dict:
    """Grammars with no recursion: nonterminal i uses only nonterminals j > i. Every
    non-empty rule starts with a word of its own, so most are LL(1); optional (empty) rules
    and shared later words make some of them not LL(1), which the constructor must refuse."""
    n_nt = draw(st.integers(1, 5))
    rules, fresh = {}, iter(range(10_000))
    for i in range(n_nt):
        options = []
        if draw(st.booleans()) and i > 0:
            options.append((draw(st.floats(0.1, 5.0)), ()))
        for _ in range(draw(st.integers(1, 3))):
            kids = draw(st.lists(st.integers(i + 1, n_nt - 1), max_size=2)) if i < n_nt - 1 else []
            later = draw(st.lists(st.sampled_from(["x", "y"]), max_size=2))
            rhs = (f"w{next(fresh)}", *[("N", k) for k in kids], *later)
            options.append((draw(st.floats(0.1, 5.0)), rhs))
        rules[("N", i)] = options
    reachable, todo = set(), [("N", 0)]
    while todo:
        nt = todo.pop()
        if nt not in reachable:
            reachable.add(nt)
            todo += [s for _, rhs in rules[nt] for s in rhs if isinstance(s, tuple)]
    return {nt: r for nt, r in rules.items() if nt in reachable}


def prefix_distributions(derivations) -> dict:
    """Next-word probabilities after every prefix, summed over the listed sentences."""
    mass: dict = defaultdict(lambda: defaultdict(float))
    for words, log_p in derivations:
        for k in range(len(words) + 1):
            nxt = words[k] if k < len(words) else END
            mass[words[:k]][nxt] += math.exp(log_p)
    return {pre: {w: m / sum(d.values()) for w, m in d.items()} for pre, d in mass.items()}


@settings(max_examples=150, deadline=None)
@given(random_grammars(), st.integers(0, 2**32 - 1))
def test_dynamic_programs_parser_and_sampler_agree_with_enumeration(rules, seed):
    try:
        g = Grammar(rules, start=("N", 0))
    except ValueError as error:
        assert "not LL(1)" in str(error)
        return
    derivations = g.derivations(limit=100_000)
    texts = [words for words, _ in derivations]
    # Unambiguous: as many distinct sentences as derivations, and the DP count agrees.
    assert len(set(texts)) == len(texts) == g.count()
    log_p = np.array([lp for _, lp in derivations])
    p = np.exp(log_p)
    assert math.isclose(p.sum(), 1.0, abs_tol=1e-12)
    assert g.entropy() == pytest.approx(-(p * log_p).sum(), abs=1e-12)
    words_per_sentence = sum(pi * len(w) for pi, w in zip(p, texts))
    assert g.expected_sum(lambda w: 1) == pytest.approx(words_per_sentence, abs=1e-12)
    assert g.max_words() == max(len(w) for w in texts)
    for words, lp in derivations:
        assert g.log_prob(list(words)) == pytest.approx(lp, abs=1e-12)
    for prefix, dist in prefix_distributions(derivations).items():
        assert g.next_distribution(list(prefix)) == pytest.approx(dist, abs=1e-12)
    ids, lengths = g.sample_ids(300, np.random.default_rng(seed))
    listed = set(texts)
    for row, k in zip(ids, lengths):
        assert tuple(g.terminals[i] for i in row[:k]) in listed
