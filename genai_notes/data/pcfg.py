"""Probabilistic grammars with no recursion: exact counts, entropy, parsing and fast sampling.

A grammar is a table of *nonterminals*, each with a list of rules ``(weight, right-hand
side)``; a right-hand side is a sequence of *terminals* (words, ``str``) and nonterminals
(any other hashable, such as tuples). Producing a sentence is a tree of choices: start from
``start`` and, for each nonterminal, choose one of its rules with probability proportional to
its weight. Because no nonterminal can reach itself, the tree has bounded depth, and
everything about the language follows by dynamic programming over the nonterminals, never
by listing sentences:

* the number of derivations, ``N(A) = sum over rules of the product of N(child)``;
* the entropy of the tree of choices, the expected sum of the entropies of the choices made:
  ``H(A) = h(A) + sum_r p_r sum_children H(child)``, with ``h(A) = -sum_r p_r log p_r``;
* expected lengths, and the distribution of the first word of each nonterminal.

The grammar must be **LL(1)**: at every nonterminal, the next word alone decides which rule
applies. The constructor checks this and refuses a grammar that is not. An LL(1) grammar is
unambiguous (each string has at most one derivation), so derivation counts are string counts,
a derivation's probability is its string's probability, and the entropy of the derivations is
the entropy of the strings. Parsing is a loop over the words with a stack, so membership,
log-probabilities and the exact next-word distribution after any prefix are fast and exact.

>>> g = Grammar({("S",): [(3, ("the", ("N",), ".")), (1, ("a", "cat", "."))],
...              ("N",): [(1, ("cat",)), (1, ("dog",))]}, start=("S",))
>>> g.count(), round(g.entropy(), 4)  # probabilities 3/8, 3/8, 1/4
(3, 1.0822)
>>> round(math.exp(g.log_prob("the dog .".split())), 3)
0.375
>>> g.log_prob("the cow .".split())
-inf
>>> g.next_distribution(["the"])
{'cat': 0.5, 'dog': 0.5}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence

import numpy as np

from genai_notes._checks import check_nonnegative_int, check_real, describe

__all__ = ["END", "Grammar"]

END = "\n"  # the end of a sentence, as a key of next_distribution (the corpus's separator)

_CHUNK = 4096  # sentences sampled side by side; fixed, so a longer sample extends a shorter one


class Grammar:
    """A probabilistic LL(1) grammar with no recursion (see the module docstring).

    ``rules`` maps each nonterminal to a non-empty sequence of ``(weight, rhs)`` pairs;
    weights are positive and are normalised per nonterminal. Terminals are non-empty ``str``
    without whitespace. Raises ValueError for an undefined, unreachable or recursive
    nonterminal and for a grammar that is not LL(1).
    """

    def __init__(self, rules: Mapping[Hashable, Sequence[tuple[float, Sequence]]], start: Hashable):
        if not isinstance(rules, Mapping):
            raise TypeError(f"rules: expected a mapping of nonterminals, got {describe(rules)}")
        if isinstance(start, str) or start not in rules:
            raise ValueError(f"start: expected a nonterminal of rules, got {describe(start)}")
        order = _children_first(rules, start)
        if len(order) != len(rules):
            extra = next(nt for nt in rules if nt not in set(order))
            raise ValueError(f"rules: nonterminal {extra!r} cannot be reached from {start!r}")
        words = sorted({s for nt in order for _, rhs in rules[nt] for s in rhs if _is_word(s)})
        self.terminals: tuple[str, ...] = tuple(words)
        self._word_id = {w: i for i, w in enumerate(words)}
        self._end = n_words = len(words)  # id of END as a lookahead
        nt_id = {nt: n_words + i for i, nt in enumerate(order)}
        self._start = nt_id[start]
        # Per nonterminal (index i = id - n_words): rules as (probability, rhs ids).
        self._rules: list[list[tuple[float, tuple[int, ...]]]] = []
        for nt in order:
            weights = [check_real(w, f"rules[{nt!r}] weight", low=0.0, low_inclusive=False)
                       for w, _ in rules[nt]]  # fmt: skip
            total = math.fsum(weights)
            rhs_ids = [tuple(self._word_id[s] if _is_word(s) else nt_id[s] for s in rhs)
                       for _, rhs in rules[nt]]  # fmt: skip
            self._rules.append([(w / total, r) for w, r in zip(weights, rhs_ids)])
        self._names = order
        self._dynamic_programs()
        self._build_table()
        self._build_sampler()

    # ------------------------------------------------------------------------------------
    # Dynamic programs over the nonterminals, children before parents

    def _dynamic_programs(self) -> None:
        n_words = self._end
        counts: list[int] = []  # derivations of each nonterminal (exact integers)
        entropies: list[float] = []  # nats in the tree of choices below each nonterminal
        max_words: list[int] = []  # the longest yield
        max_stack: list[int] = []  # the stack height needed to expand it, alone on the stack
        for rules in self._rules:
            count, entropy, longest, height = 0, 0.0, 0, 1
            for p, rhs in rules:
                kids = [s - n_words for s in rhs if s >= n_words]
                count += math.prod(counts[k] for k in kids)
                # The choice made here, plus the expected entropy of the choices below it.
                entropy += p * (-math.log(p) + math.fsum(entropies[k] for k in kids))
                longest = max(longest, sum(1 if s < n_words else max_words[s - n_words]
                                           for s in rhs))  # fmt: skip
                # The rhs is pushed reversed; child j is expanded above the len - 1 - j after it.
                for j, s in enumerate(rhs):
                    below = len(rhs) - 1 - j
                    height = max(height, below + (1 if s < n_words else max_stack[s - n_words]))
            counts.append(count)
            entropies.append(entropy)
            max_words.append(longest)
            max_stack.append(height)
        self._counts, self._entropies = counts, entropies
        self._max_words, self._max_stack = max_words, max_stack
        # First-word distribution F[i] (n_words,) and the probability eps[i] of the empty
        # string; FIRST sets and nullability as booleans, so no rounding can hide a word.
        self._first = np.zeros((len(self._rules), n_words))
        self._eps = np.zeros(len(self._rules))
        self._first_set = np.zeros((len(self._rules), n_words + 1), dtype=bool)  # + END
        self._nullable = np.zeros(len(self._rules), dtype=bool)
        for i, rules in enumerate(self._rules):
            for p, rhs in rules:
                dist, eps = self._sequence_first(rhs)
                self._first[i] += p * dist
                self._eps[i] += p * eps
                fset, nullable = self._sequence_first_set(rhs)
                self._first_set[i] |= fset
                self._nullable[i] |= nullable

    def _sequence_first(self, rhs: Sequence[int]) -> tuple[np.ndarray, float]:
        dist, mass = np.zeros(self._end), 1.0
        for s in rhs:
            if s < self._end:
                dist[s] += mass
                return dist, 0.0
            dist += mass * self._first[s - self._end]
            mass *= self._eps[s - self._end]
        return dist, mass

    def _sequence_first_set(self, rhs: Sequence[int]) -> tuple[np.ndarray, bool]:
        fset = np.zeros(self._end + 1, dtype=bool)
        for s in rhs:
            if s < self._end:
                fset[s] = True
                return fset, False
            fset |= self._first_set[s - self._end]
            if not self._nullable[s - self._end]:
                return fset, False
        return fset, True

    def _build_table(self) -> None:
        """FOLLOW sets (parents before children), then the LL(1) table: for each nonterminal
        and next word (or END), the one rule that can apply."""
        n = len(self._rules)
        follow = np.zeros((n, self._end + 1), dtype=bool)
        follow[self._start - self._end, self._end] = True
        for i in reversed(range(n)):
            for _, rhs in self._rules[i]:
                for j, s in enumerate(rhs):
                    if s >= self._end:
                        fset, nullable = self._sequence_first_set(rhs[j + 1 :])
                        follow[s - self._end] |= fset | (follow[i] if nullable else False)
        self._table: list[dict[int, tuple[float, tuple[int, ...]]]] = []
        for i, rules in enumerate(self._rules):
            entry: dict[int, tuple[float, tuple[int, ...]]] = {}
            for p, rhs in rules:
                fset, nullable = self._sequence_first_set(rhs)
                for word in np.flatnonzero(fset | (follow[i] if nullable else False)):
                    if int(word) in entry:
                        shown = END if word == self._end else self.terminals[word]
                        raise ValueError(
                            f"rules: the grammar is not LL(1): two rules of {self._names[i]!r} "
                            f"can start with {shown!r}"
                        )
                    entry[int(word)] = (math.log(p), tuple(reversed(rhs)))
            self._table.append(entry)

    # ------------------------------------------------------------------------------------
    # Exact quantities

    def count(self) -> int:
        """The exact number of derivations, which is the number of distinct sentences."""
        return self._counts[self._start - self._end]

    def entropy(self) -> float:
        """The entropy of the sentence source in nats per sentence (exact, by the DP)."""
        return self._entropies[self._start - self._end]

    def expected_sum(self, weight: Callable[[str], float]) -> float:
        """``E[sum of weight(word) over a sentence's words]``; ``weight=lambda w: 1`` gives the
        expected number of words."""
        n_words, values = self._end, []
        leaf = [float(weight(w)) for w in self.terminals]
        for rules in self._rules:
            values.append(math.fsum(
                p * math.fsum(leaf[s] if s < n_words else values[s - n_words] for s in rhs)
                for p, rhs in rules
            ))  # fmt: skip
        return values[self._start - n_words]

    def max_words(self) -> int:
        """The length in words of the longest sentence."""
        return self._max_words[self._start - self._end]

    # ------------------------------------------------------------------------------------
    # Parsing

    def _parse(self, words: Sequence[str], prefix: bool) -> tuple[float, list[int]] | None:
        """Run the LL(1) parser over ``words``. Returns (log-probability of the choices made,
        the symbols still to be produced) or None when the words are rejected. With
        ``prefix``, it stops after the last word instead of requiring the end."""
        ids = [self._word_id.get(w, -1) for w in words]
        if -1 in ids:
            return None
        n = len(ids)
        ids.append(self._end)
        stack, log_p, pos, n_words = [self._start], 0.0, 0, self._end
        while stack and not (prefix and pos == n):
            top, look = stack.pop(), ids[pos]
            if top < n_words:
                if top != look:
                    return None
                pos += 1
                continue
            rule = self._table[top - n_words].get(look)
            if rule is None:
                return None
            log_p += rule[0]
            stack.extend(rule[1])
        return (log_p, stack) if pos == n else None

    def log_prob(self, words: Sequence[str]) -> float:
        """The natural-log probability of the sentence ``words``; ``-inf`` if the grammar
        cannot produce it."""
        result = self._parse(words, prefix=False)
        return -math.inf if result is None else result[0]

    def next_distribution(self, words: Sequence[str]) -> dict[str, float]:
        """The exact distribution of the next word after the prefix ``words``, with
        :data:`END` for the end of the sentence; ``{}`` if no sentence starts with ``words``.
        Only words with positive probability appear, in vocabulary order."""
        result = self._parse(words, prefix=True)
        if result is None:
            return {}
        dist, mass = np.zeros(self._end + 1), 1.0
        for s in reversed(result[1]):  # the top of the stack comes first
            if s < self._end:
                dist[s] += mass
                mass = 0.0
                break
            dist[: self._end] += mass * self._first[s - self._end]
            mass *= self._eps[s - self._end]
        dist[self._end] += mass
        names = (*self.terminals, END)
        return {names[i]: float(dist[i]) for i in np.flatnonzero(dist > 0)}

    # ------------------------------------------------------------------------------------
    # Sampling and enumeration

    def _build_sampler(self) -> None:
        # Rule r of nonterminal i is chosen when i + u falls below bounds[r], for u uniform in
        # [0, 1): the bounds of nonterminal i run from i to i + 1 (one search for all rows).
        bounds, rhs_rev = [], []
        for i, rules in enumerate(self._rules):
            cumulative = np.cumsum([p for p, _ in rules])
            cumulative[-1] = 1.0
            bounds += list(i + cumulative)
            rhs_rev += [tuple(reversed(rhs)) for _, rhs in rules]
        self._bounds = np.array(bounds)
        width = max(len(r) for r in rhs_rev)
        self._rhs_len = np.array([len(r) for r in rhs_rev])
        self._rhs_rev = np.array([list(r) + [0] * (width - len(r)) for r in rhs_rev])

    def sample_ids(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Sample ``n`` sentences as word ids: ``(ids (n, max_words) padded with -1,
        lengths (n,))``, where ``ids[k, :lengths[k]]`` index :attr:`terminals`.

        All sentences of a chunk of 4096 expand side by side: each step pops the top symbol
        of every stack, writes the words and pushes the chosen rules' right-hand sides, so the
        work is vectorised over sentences. Chunks are always full, so the first ``m`` of ``n``
        sentences are the ``m`` sentences for the same generator state.
        """
        n = check_nonnegative_int(n, "n")
        n_words, width = self._end, self._rhs_rev.shape[1]
        depth = self._max_stack[self._start - n_words]
        max_len = self.max_words()
        ids = np.full((n, max_len), -1, dtype=np.int32)
        lengths = np.zeros(n, dtype=np.int64)
        for begin in range(0, n, _CHUNK):
            stack = np.zeros((_CHUNK, depth), dtype=np.int64)
            stack[:, 0] = self._start
            height = np.ones(_CHUNK, dtype=np.int64)
            out = np.full((_CHUNK, max_len), -1, dtype=np.int32)
            size = np.zeros(_CHUNK, dtype=np.int64)
            while True:
                rows = np.flatnonzero(height)  # (active,)
                u = rng.random(_CHUNK)  # one draw per sentence per step, used or not
                if rows.size == 0:
                    break
                height[rows] -= 1
                top = stack[rows, height[rows]]
                word = top < n_words
                w_rows = rows[word]
                out[w_rows, size[w_rows]] = top[word]
                size[w_rows] += 1
                nt_rows, nt = rows[~word], top[~word] - n_words
                rule = np.searchsorted(self._bounds, nt + u[nt_rows], side="right")
                pushed = self._rhs_len[rule]
                for j in range(width):
                    m = pushed > j
                    stack[nt_rows[m], height[nt_rows[m]] + j] = self._rhs_rev[rule[m], j]
                height[nt_rows] += pushed
            stop = min(n, begin + _CHUNK) - begin
            ids[begin : begin + stop], lengths[begin : begin + stop] = out[:stop], size[:stop]
        return ids, lengths

    def derivations(self, limit: int) -> list[tuple[tuple[str, ...], float]]:
        """Every derivation as (words, log-probability), by expanding every rule: the slow,
        independent route the tests compare the dynamic programs with. Refuses (ValueError)
        grammars with more than ``limit`` derivations, before building any."""
        limit = check_nonnegative_int(limit, "limit")
        if self.count() > limit:
            raise ValueError(
                f"limit: the grammar has {self.count()} derivations, more than limit={limit}"
            )
        expansions: list[list[tuple[tuple[str, ...], float]]] = []
        for rules in self._rules:
            found: list[tuple[tuple[str, ...], float]] = []
            for p, rhs in rules:
                partial = [((), math.log(p))]
                for s in rhs:
                    options = ([((self.terminals[s],), 0.0)] if s < self._end
                               else expansions[s - self._end])  # fmt: skip
                    partial = [(w + v, a + b) for w, a in partial for v, b in options]
                found += partial
            expansions.append(found)
        return expansions[self._start - self._end]


def _is_word(symbol: object) -> bool:
    if not isinstance(symbol, str):
        return False
    if not symbol or symbol != symbol.strip() or len(symbol.split()) != 1:
        raise ValueError(f"rules: a terminal must be a word without spaces, got {symbol!r}")
    return True


def _children_first(rules: Mapping, start: Hashable) -> list:
    """The nonterminals reachable from ``start``, each after every nonterminal it uses.
    Raises ValueError on recursion (a nonterminal that can reach itself) and on an undefined
    nonterminal."""
    order: list = []
    state: dict = {}  # nonterminal -> "open" while its children are visited, then "done"
    path: list = [(start, None)]
    while path:
        nt, children = path[-1]
        if children is None:
            options = rules[nt]
            if not isinstance(options, Sequence) or not options:
                raise ValueError(f"rules[{nt!r}]: expected a non-empty list of (weight, rhs)")
            state[nt] = "open"
            found = []
            for option in options:
                if not (isinstance(option, Sequence) and len(option) == 2):
                    raise ValueError(f"rules[{nt!r}]: expected (weight, rhs), got {option!r}")
                rhs = option[1]
                if isinstance(rhs, str) or not isinstance(rhs, Sequence):
                    raise TypeError(f"rules[{nt!r}]: rhs must be a tuple, got {describe(rhs)}")
                found += [s for s in rhs if not _is_word(s)]
            path[-1] = (nt, iter(found))
            continue
        child = next(children, None)
        if child is None:
            state[nt] = "done"
            order.append(nt)
            path.pop()
        elif child not in rules:
            raise ValueError(f"rules: {nt!r} uses {child!r}, which has no rules")
        elif state.get(child) == "open":
            raise ValueError(f"rules: {child!r} can reach itself (recursion is not allowed)")
        elif child not in state:
            path.append((child, None))
    return order
