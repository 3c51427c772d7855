"""Benchmark our byte-level BPE against itself and against HuggingFace ``tokenizers``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_tokenizers.py            # about 1 MB, vocab 1024

The training text (about 1 MB) is built on the machine at run time, from two sources:

* the book's synthetic corpus, ``genai_notes.data.corpus_text`` (half of the text);
* English nobody on this project wrote: the docstrings of Python's own standard library.
  They are read from the standard library's source files with ``ast``, which gives the same
  text as ``__doc__`` (cleaned like ``inspect.cleandoc``) **without importing anything**, so no
  module's import side effects can run (``antigravity`` opens a browser, ``this`` prints, GUI
  packages start Tk). GUI, test and IDE packages are skipped anyway. Modules are visited in
  sorted order, so the text is the same on every run with the same Python.

No third-party text is shipped. Every tenth document is held out to measure compression.

Printed side by side: training time to the same vocabulary (ours incremental, ours reference,
HF's Rust trainer if installed), time to encode all the text, held-out tokens per byte, and
the ratios against the targets. HF is set up to match our trainer: byte-level pre-tokenizer
with the GPT-2 regex and ``add_prefix_space=False``, the 256 bytes as initial alphabet, the same
special tokens counted in the same ``vocab_size``, and ``min_frequency=0`` (we merge any pair
that occurs at least once).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genai_notes.tokenizers import DEFAULT_SPECIAL_TOKENS, BPETokenizer, count_pieces
from genai_notes.tokenizers.bpe_fast import train_fast
from genai_notes.tokenizers.bpe_reference import train_reference

# Packages whose import has side effects or that are not prose worth reading.
SKIP_MODULES = {
    "antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test",
    "lib2to3", "ensurepip", "venv", "pydoc_data", "__main__", "__phello__",
}  # fmt: skip


def stdlib_docstrings() -> list[str]:
    """Docstrings of standard-library modules, classes and functions, in a fixed order."""
    docs: list[str] = []
    for name in sorted(sys.stdlib_module_names):
        if name in SKIP_MODULES or name.startswith(("turtle", "_")):
            continue
        spec = importlib.util.find_spec(name)  # top-level: locates the file, imports nothing
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue  # built-in or C extension: no source to read
        for path in _source_files(spec):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(
                    node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
                ):
                    doc = ast.get_docstring(node)
                    if doc:
                        docs.append(doc)
    return docs


def _source_files(spec: Any) -> list[Path]:
    """The module's file, or every .py file of a package except tests."""
    if not spec.submodule_search_locations:
        return [Path(spec.origin)]
    files = []
    for root in spec.submodule_search_locations:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(("test", "__pycache__")))
            files += [Path(dirpath, f) for f in sorted(filenames) if f.endswith(".py")]
    return files


def build_corpus(total_bytes: int) -> tuple[str, str, str]:
    """(training text, held-out text, a description of the sources)."""
    budget = total_bytes
    docs: list[str] = []
    sources = []
    try:
        from genai_notes.data import corpus_text
    except ImportError:  # data.py not there yet: use the standard library alone
        corpus_text = None
    if corpus_text is not None:
        sentences = corpus_text(max(1, total_bytes // 2 // 36), 0).split("\n")
        synthetic = _take(sentences, total_bytes // 2)
        docs += synthetic
        sources.append(f"synthetic corpus {sum(len(d) + 1 for d in synthetic):,} B")
        budget -= sum(len(d) + 1 for d in synthetic)
    stdlib = _take(stdlib_docstrings(), budget)
    docs += stdlib
    sources.append(f"stdlib docstrings {sum(len(d) + 1 for d in stdlib):,} B")
    train = "\n".join(d for k, d in enumerate(docs) if k % 10 != 9)
    held_out = "\n".join(d for k, d in enumerate(docs) if k % 10 == 9)
    return train, held_out, " + ".join(sources)


def _take(docs: list[str], n_bytes: int) -> list[str]:
    taken, size = [], 0
    for doc in docs:
        if size >= n_bytes:
            break
        taken.append(doc)
        size += len(doc.encode("utf-8")) + 1
    return taken


def _spread_slice(text: str, n_bytes: int) -> str:
    """About ``n_bytes`` of ``text``: every k-th line, so both sources are represented."""
    lines = text.split("\n")
    step = max(1, round(len(text.encode()) / n_bytes))
    return "\n".join(lines[::step])


def best_time(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs, in seconds, and the last result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def hf_tokenizer_trainer(vocab_size: int) -> tuple[Any, Any] | None:
    """An HF ByteLevel BPE tokenizer and trainer set up like ours, or None if not installed."""
    try:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    except ImportError:
        return None
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=0,
        special_tokens=list(DEFAULT_SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    return tokenizer, trainer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1.0, help="size of the text")
    parser.add_argument("--vocab-size", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each fast timing")
    parser.add_argument(
        "--reference-bytes", type=int, default=0,
        help="train the reference on this many bytes of the text (0: all of it)",
    )  # fmt: skip
    args = parser.parse_args(argv)

    train_text, held_out, sources = build_corpus(int(args.megabytes * 1_000_000))
    all_text = train_text + "\n" + held_out
    n_merges = args.vocab_size - 256 - len(DEFAULT_SPECIAL_TOKENS)
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"Text: {len(all_text.encode()):,} B ({sources}); held out {len(held_out.encode()):,} B")
    print(f"vocab_size {args.vocab_size} = 256 bytes + {n_merges} merges + 3 specials\n")

    # --- training, end to end (pre-tokenize, count, merge) and the merge loop alone --------
    t_fast, ours = best_time(lambda: BPETokenizer.train(train_text, args.vocab_size), args.repeat)
    pieces = count_pieces(train_text, DEFAULT_SPECIAL_TOKENS)
    t_fast_loop, fast_history = best_time(lambda: train_fast(pieces, n_merges), args.repeat)
    ref_text = (
        _spread_slice(train_text, args.reference_bytes) if args.reference_bytes else train_text
    )
    ref_pieces = count_pieces(ref_text, DEFAULT_SPECIAL_TOKENS)
    t_ref_loop, ref_history = best_time(lambda: train_reference(ref_pieces, n_merges), 1)
    t_fast_same, fast_same = best_time(lambda: train_fast(ref_pieces, n_merges), args.repeat)
    assert fast_same == ref_history, "the two trainers disagree"
    assert [r.pair for r in fast_history] == ours.merges
    t_count, _ = best_time(lambda: count_pieces(ref_text, DEFAULT_SPECIAL_TOKENS), args.repeat)

    # --- encoding all of the text with a cold cache, and held-out compression ---------------
    t_encode, ids = best_time(lambda: BPETokenizer(ours.merges).encode(all_text), args.repeat)
    assert ours.decode(ids) == all_text
    ours_tpb = len(ours.encode(held_out)) / len(held_out.encode())

    hf = hf_tokenizer_trainer(args.vocab_size) is not None
    if hf:
        import tokenizers

        def train_hf(feed: list[str]) -> Any:
            hf_tok, hf_trainer = hf_tokenizer_trainer(args.vocab_size)  # type: ignore[misc]
            hf_tok.train_from_iterator(feed, hf_trainer)
            return hf_tok

        # One string gives HF exactly our pieces; line by line lets it count on every core.
        lines = train_text.splitlines(keepends=True)
        t_hf_lines, _ = best_time(lambda: train_hf(lines), args.repeat)
        t_hf_string, hf_tok = best_time(lambda: train_hf([train_text]), args.repeat)
        t_hf = min(t_hf_string, t_hf_lines)  # compare against HF's faster way
        assert hf_tok.get_vocab_size() == ours.vocab_size == args.vocab_size
        t_hf_encode, _ = best_time(lambda: hf_tok.encode(all_text), args.repeat)
        hf_tpb = len(hf_tok.encode(held_out).ids) / len(held_out.encode())
        hf_name = f"HF tokenizers {tokenizers.__version__}"
    on_slice = "" if not args.reference_bytes else f", {len(ref_text.encode()):,} B slice"
    reference_total = t_count + t_ref_loop
    rows = [
        (f"train to vocab {args.vocab_size} (s)", f"{t_fast:.3f}", "" if on_slice else f"{reference_total:.2f}",
         f"{t_hf_string:.3f}" if hf else "n/a"),
        ("  of which merge loop (s)", f"{t_fast_loop:.3f}", "" if on_slice else f"{t_ref_loop:.2f}",
         ""),
        ("  HF fed line by line (s)", "", "", f"{t_hf_lines:.3f}" if hf else ""),
        ("encode all text (s)", f"{t_encode:.3f}", "", f"{t_hf_encode:.3f}" if hf else "n/a"),
        ("held-out tokens per byte", f"{ours_tpb:.5f}", "", f"{hf_tpb:.5f}" if hf else "n/a"),
    ]  # fmt: skip
    if on_slice:
        rows.insert(3, (f"merge loop{on_slice} (s)", f"{t_fast_same:.3f}", f"{t_ref_loop:.2f}", ""))
    header = ("", "ours, incremental", "ours, reference", hf_name if hf else "HF (not installed)")
    widths = [max(len(str(row[k])) for row in [header, *rows]) + 2 for k in range(4)]
    for row in [header, *rows]:
        print(
            row[0].ljust(widths[0]) + "".join(str(c).rjust(w) for c, w in zip(row[1:], widths[1:]))
        )

    speedup = (t_ref_loop + t_count) / (t_fast_same + t_count)
    print("\nRatios (target in brackets)")
    _verdict(
        f"incremental vs reference, merge loop{on_slice}", t_ref_loop / t_fast_same, ">= 50x", True
    )
    _verdict(f"incremental vs reference, end to end{on_slice}", speedup, ">= 50x", True)
    if hf:
        _verdict("our train time / HF's faster train time", t_fast / t_hf, "<= 2", False)
        difference = 100 * (ours_tpb - hf_tpb) / hf_tpb
        print(f"  held-out compression, ours vs HF: {difference:+.2f}% tokens [within 2%] "
              f"{'met' if abs(difference) <= 2 else 'NOT MET'}")  # fmt: skip
        _verdict("our encode time / HF encode time", t_encode / t_hf_encode, "<= 1", False)


def _verdict(label: str, value: float, target: str, is_speedup: bool) -> None:
    bound = float(target.split()[1].rstrip("x"))
    met = value >= bound if is_speedup else value <= bound
    shown = f"{value:.1f}x" if is_speedup else f"{value:.2f}"
    print(f"  {label}: {shown} [{target}] {'met' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
