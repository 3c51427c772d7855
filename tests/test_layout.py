"""The package's layout: imports run one way (data up to exercises and cli), there are no
import cycles, importing changes nothing process-wide, and each concept has one name."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "genai_notes"

# Each top-level module or package of genai_notes, by layer: a module may import only from
# its own layer or the layers below it. A new module must be added here.
LAYERS = {
    "_checks": 0,
    "lexicon": 0,
    "data": 1,
    "tokenizers": 2,
    "sampling": 3,
    "bigram": 3,
    "embeddings": 3,
    "positional": 3,
    "attention": 3,
    "sample_quality": 3,
    "probing": 3,  # the linear probe of Chapter 10 (NumPy only)
    "autograd": 4,
    "nn": 5,
    "gpt": 6,  # the models
    "sequence_models": 6,
    "transformer": 6,
    "bert": 6,
    "vae": 6,
    "gan": 6,
    "diffusion": 6,
    "contrastive": 6,
    "decoding": 7,  # training and decoding on top of the models
    "finetuning": 7,
    "transfer": 7,  # Chapter 11's measurements on the Chapter 10 BERT
    "instructions": 7,  # Chapter 11's instruction tasks for the Chapter 8 GPT
    "bert_pretraining": 7,  # the shipped Chapter 10 BERTs and the command that trains them
    "pretrained": 7,  # the shipped Chapter 8 models and the command that trains them
    "viz": 8,  # what the chapters use to show and check things
    "exercises": 8,
    "chapters": 8,
    "student": 9,
    "grading": 9,  # genai-notes grade: runs submissions in kernels, checks with exercises
    "book_site": 9,  # what the Colab copies read from the book's files
    "colab": 9,
    "cli": 10,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(path: Path) -> set[str]:
    """The genai_notes modules that ``path`` imports (anywhere in the file)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("genai_notes")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not node.module.startswith("genai_notes"):
                continue
            for alias in node.names:  # ``from pkg import submodule`` imports the submodule
                sub = f"{node.module}.{alias.name}"
                found.add(sub if _is_module(sub) else node.module)
    return found


GRAPH = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    assert top in LAYERS, f"{module}: add its top-level name {top!r} to LAYERS"
    return LAYERS[top]


def test_every_module_has_a_layer():
    for module in GRAPH:
        if module != "genai_notes":
            _layer(module)


def test_nothing_imports_upward():
    upward = [
        f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
        for module, targets in GRAPH.items()
        if module != "genai_notes"
        for target in targets
        if target != "genai_notes" and _layer(target) > _layer(module)
    ]
    assert not upward, "\n".join(upward)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first search (each reported once, from its first node)."""
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_cycles():
    # A package's __init__ importing its own submodules is how a package is built, not a
    # cycle; a submodule importing names back from its package's __init__ would be one.
    graph = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in GRAPH.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# Modules whose code the chapters quote: no speed machinery may leak into them.
TEACHING_MODULES = [
    "genai_notes/attention.py",
    "genai_notes/autograd/tensor.py",
    "genai_notes/autograd/ops.py",
    "genai_notes/autograd/shape_ops.py",
    "genai_notes/autograd/functional.py",
    "genai_notes/nn/module.py",
    "genai_notes/nn/layers.py",
    "genai_notes/nn/transformer.py",
]


@pytest.mark.parametrize("path", TEACHING_MODULES)
def test_teaching_modules_do_not_use_the_speed_machinery(path):
    targets = _imports(ROOT / path)
    speed = {t for t in targets if ".fused" in t or t.endswith(("_parallel", "_malloc", "speed"))}
    assert not speed, f"{path} imports {sorted(speed)}"


IMPORT_CHECK = """
import ctypes, threading
loaded = []
original = ctypes.CDLL.__init__
def record(self, name, *args, **kwargs):
    loaded.append(name)
    original(self, name, *args, **kwargs)
ctypes.CDLL.__init__ = record
before = threading.active_count()
import genai_notes, genai_notes.autograd, genai_notes.nn, genai_notes.gpt
import genai_notes.attention, genai_notes.data, genai_notes.tokenizers, genai_notes.viz
from genai_notes.autograd import _parallel, num_workers, speed
print(threading.active_count() - before, loaded, num_workers(), speed._memory_kept)
speed.enable_speedups(workers=2)
print(threading.active_count() - before, num_workers())
"""


def test_importing_changes_nothing_process_wide():
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "", "GENAI_NOTES_KEEP_MEMORY": "0"},
    ).stdout.splitlines()
    assert out[0] == "0 [] 1 False"  # no thread, no C library loaded, no pool, no mallopt
    assert out[1] == "1 2"  # asking for the pool starts one worker thread


def test_the_speedups_can_be_switched_off():
    code = "from genai_notes.autograd import enable_speedups; print(enable_speedups())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "", "GENAI_NOTES_SPEEDUPS": "0"},
    ).stdout.strip()
    assert out == "Speedups(workers=1, keep_memory=False)"


# One name per concept: the old spellings must not come back.
OLD_NAMES = {
    r"\bn_head\b": "n_heads",
    r"\bn_layer\b": "n_layers",
    r"\bseq_len\b": "seq",
    r"Embedding\(vocab\b": "Embedding(vocab_size",
}


def _sources() -> list[Path]:
    files = list(PACKAGE.rglob("*.py")) + list((ROOT / "notebooks").glob("*.ipynb"))
    files += list((ROOT / "book").glob("*.md")) + [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    return files + list((ROOT / "benchmarks").glob("*.py"))


@pytest.mark.parametrize(("old", "new"), OLD_NAMES.items())
def test_one_spelling_per_concept(old, new):
    hits = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in _sources()
        for match in re.finditer(old, path.read_text(encoding="utf-8"))
    ]
    assert not hits, f"use {new!r}: " + ", ".join(hits)
