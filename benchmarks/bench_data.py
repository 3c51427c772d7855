"""Time the language with clauses (``genai_notes.data.clauses``): building its grammar,
sampling, parsing and next-word distributions.

Run from the repository root::

    .venv/bin/python benchmarks/bench_data.py             # 100,000 sentences, best of 3
    .venv/bin/python benchmarks/bench_data.py --n 500000 --rounds 5

The target for sampling is 100,000 sentences in a few seconds. Each figure is the best of
``--rounds`` runs (the run least disturbed by other processes, as ``timeit`` does).
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import numpy as np

from genai_notes.data import clauses
from genai_notes.data.clauses_grammar import grammar_rules
from genai_notes.data.clauses_lexicon import FULL
from genai_notes.data.pcfg import Grammar


def best_time(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="sentences to sample")
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure")
    args = parser.parse_args()
    n, rounds = args.n, args.rounds
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")

    build = best_time(lambda: Grammar(grammar_rules(FULL), start=("S",)), rounds)
    print(f"build the full grammar (LL(1) check included): {build:.3f} s")
    g = clauses.grammar()

    ids = best_time(lambda: g.sample_ids(n, np.random.default_rng(0)), rounds)
    text = best_time(lambda: clauses.generate_corpus(n, seed=0), rounds)
    print(f"sample {n:,} sentences as word ids:  {ids:.3f} s ({n / ids:,.0f} per s)")
    print(f"sample {n:,} sentences as strings:   {text:.3f} s ({n / text:,.0f} per s)")

    sentences = clauses.generate_corpus(20_000, seed=1)
    parse = best_time(lambda: [clauses.sentence_log_prob(s) for s in sentences], rounds)
    print(f"parse (sentence_log_prob): {len(sentences) / parse:,.0f} sentences per s")

    prefixes = [" ".join(s.split(" ")[: len(s.split(" ")) // 2]) for s in sentences[:5000]]
    nxt = best_time(lambda: [clauses.next_word_distribution(p) for p in prefixes], rounds)
    print(f"next_word_distribution: {len(prefixes) / nxt:,.0f} prefixes per s")

    e = clauses.entropy(unit="char")
    print(f"{clauses.sentence_count():,} sentences, {e.per_sentence:.4f} nats per sentence")


if __name__ == "__main__":
    main()
