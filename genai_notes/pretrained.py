"""The book's shipped language models: the word-level GPTs of Chapter 8, and the one
command that trains them.

Chapter 8 trains a GPT on the harder synthetic language (:mod:`genai_notes.data.clauses`)
and ships it, so that Chapters 9-11 start from a trained model. This module holds the whole
recipe (tokenizer, batches, schedule, validation) and the checked loader.

* **Tokens are words.** The language has 133 words (``"."`` included); the tokenizer adds
  :data:`EOS`, which separates sentences (and starts each one), and ``<unk>``: 135 ids. A
  sentence has at most 28 words, so one ``block_size = 32`` window holds a whole sentence
  with the separators on both sides: the model can always see the start of the sentence it
  is in, as the true distribution does, so the entropy floor is reachable. The true
  next-token distribution is then the grammar's next-word distribution, with no
  marginalising over ways of spelling a word.
* **Batches** are random windows of the training stream that begin at a sentence start
  (:func:`random_windows`); the targets are the inputs shifted by one token.
* **Validation** is exact per sentence: :func:`sentence_nll` feeds ``EOS + sentence`` and
  scores every word and the closing ``EOS``. Its mean per token is a cross-entropy in nats
  per word token, comparable with ``clauses.entropy(unit="word").per_token``.
* **Files** (in :data:`CHECKPOINT_DIR`): ``ch08_tokenizer.json``, and for each size
  ``ch08_<name>.npz`` (weights, read without pickle) and ``ch08_<name>.json`` (config,
  recipe, recorded validation loss). :func:`load_chapter8_model` checks every field of the
  JSON files before it builds a model, and the weights' names and shapes before reading them.

The command (``python -m genai_notes.pretrained train``) is deterministic: seeded data,
initial weights and batches, and the engine's thread pool gives the same bits for any
number of workers. Another CPU may round float32 sums differently, so a retrained model can
differ there in the last digits of its loss.

>>> model, tok = load_chapter8_model()
>>> tok.vocab_size, model.config.block_size
(135, 32)
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from genai_notes._checks import check_array, check_positive_int, check_rng, describe
from genai_notes.autograd import Tensor, no_grad
from genai_notes.autograd import functional as F
from genai_notes.data import clauses
from genai_notes.gpt import GPT, GPTConfig
from genai_notes.nn import AdamW, History, train, warmup_cosine_lr
from genai_notes.nn.checkpoint import (
    CheckpointError,
    metadata_field,
    read_metadata,
    save_checkpoint_files,
)
from genai_notes.tokenizers import Tokenizer, TokenizerFileError, WordTokenizer

__all__ = [
    "CHECKPOINT_DIR",
    "COMMAND",
    "EOS",
    "MAIN",
    "SIZES",
    "Recipe",
    "make_tokenizer",
    "encode_corpus",
    "random_windows",
    "sentence_batch",
    "sentence_nll",
    "validation_sentences",
    "train_size",
    "save_checkpoint",
    "load_metadata",
    "load_chapter8_model",
]

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
COMMAND = "python -m genai_notes.pretrained train"
EOS = "<|endoftext|>"
FORMAT = "genai_notes.checkpoint"
VERSION = 1
# name -> (d_model, n_layers, n_heads): four sizes spanning 100x in parameters
SIZES: dict[str, tuple[int, int, int]] = {
    "d16": (16, 1, 2),
    "d32": (32, 2, 2),
    "d64": (64, 2, 4),
    "d128": (128, 4, 4),
}
MAIN = "d128"  # the model Chapters 9-11 load
_LIMITS = {"vocab_size": 10_000, "block_size": 1024, "n_layers": 24, "n_heads": 64,
           "d_model": 2048}  # fmt: skip


@dataclass(frozen=True)
class Recipe:
    """How every size is trained (the same data and steps for all)."""

    steps: int = 2000  # optimiser steps
    batch_size: int = 32  # windows per step
    block_size: int = 32  # tokens per window; a whole sentence and both separators fit
    max_lr: float = 3e-3  # peak learning rate, reached at the end of the warm-up
    min_lr: float = 3e-4  # where the cosine ends
    warmup_steps: int = 100  # linear warm-up from max_lr / warmup_steps
    weight_decay: float = 0.1  # AdamW's decoupled decay of the weight matrices
    clip_norm: float = 1.0  # global gradient-norm cap
    n_train: int = 200_000  # training sentences (the stream the windows come from)
    n_val: int = 4_000  # held-out sentences for the recorded validation loss
    train_seed: int = 1  # seeds the training sentences
    val_seed: int = 2  # seeds the validation sentences
    batch_seed: int = 3  # seeds the choice of windows
    model_seed: int = 0  # seeds the initial weights


def make_tokenizer() -> WordTokenizer:
    """The word tokenizer: the language's words in sorted order, then ``EOS`` and ``<unk>``.

    >>> tok = make_tokenizer()
    >>> tok.vocab_size, tok.special_tokens
    (135, {'<|endoftext|>': 133, '<unk>': 134})
    """
    return WordTokenizer(list(clauses.vocabulary()), special_tokens=[EOS])


def encode_corpus(sentences: list[str], tok: Tokenizer) -> tuple[np.ndarray, np.ndarray]:
    """One token stream ``EOS s1 EOS s2 EOS ... EOS`` ``(n_tokens,)`` and the position of
    the ``EOS`` before each sentence ``(n_sentences,)``.

    >>> stream, starts = encode_corpus(["the king rules the kingdom ."], make_tokenizer())
    >>> stream.shape, starts
    ((8,), array([0]))
    """
    eos = tok.special_tokens[EOS]
    text = "".join(f"{EOS} {s} " for s in sentences) + EOS
    stream = np.array(tok.encode(text, allowed_special="all"), dtype=np.int64)
    _check_known(stream, tok)
    return stream, np.flatnonzero(stream == eos)[:-1]


def _check_known(ids: np.ndarray, tok: Tokenizer) -> None:
    unk = getattr(tok, "unk_token", None)
    if unk is not None and (ids == tok.special_tokens[unk]).any():
        raise ValueError("sentences: a word outside the tokenizer's vocabulary became <unk>")


def random_windows(
    stream: np.ndarray, starts: np.ndarray, batch_size: int, block_size: int, rng: Any
) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` windows of ``block_size`` tokens, each beginning at a random sentence
    start, and their targets: the same windows shifted by one token. Both
    ``(batch_size, block_size)``.

    >>> x, y = random_windows(np.arange(10), np.array([0, 4]), 3, 4, rng=0)
    >>> x[0], y[0]
    (array([4, 5, 6, 7]), array([5, 6, 7, 8]))
    """
    stream = check_array(stream, "stream", ndim=1, dtype_kind="iu")
    starts = check_array(starts, "starts", ndim=1, dtype_kind="iu")
    batch_size = check_positive_int(batch_size, "batch_size")
    block_size = check_positive_int(block_size, "block_size")
    usable = starts[starts + block_size + 1 <= len(stream)]
    if usable.size == 0:
        raise ValueError(
            f"stream: no start leaves {block_size + 1} tokens in a stream of {len(stream)}"
        )
    begin = check_rng(rng, "rng").choice(usable, size=batch_size)  # (batch,)
    pos = begin[:, None] + np.arange(block_size)  # (batch, block_size)
    return stream[pos], stream[pos + 1]


def sentence_batch(sentences: list[str], tok: Tokenizer) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``EOS + words`` and targets ``words + EOS``, padded to the longest sentence:
    ``(n, longest + 1)`` each. Padded targets are -1 (ignored); padded inputs are ``EOS``,
    which the causal mask keeps from touching the real positions.

    >>> x, y = sentence_batch(["the king sleeps .", "the kings sleep in the farm ."],
    ...                       make_tokenizer())
    >>> x.shape, y[0].tolist()[3:]
    ((2, 8), [0, 133, -1, -1, -1])
    """
    eos = tok.special_tokens[EOS]
    rows = [tok.encode(s) for s in sentences]
    _check_known(np.array([i for r in rows for i in r]), tok)
    width = max(len(r) for r in rows) + 1
    inputs = np.full((len(rows), width), eos, dtype=np.int64)
    targets = np.full((len(rows), width), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        inputs[i, 1 : len(r) + 1] = r
        targets[i, : len(r) + 1] = [*r, eos]
    return inputs, targets


def sentence_nll(
    model: GPT, tok: Tokenizer, sentences: list[str], batch_size: int = 250
) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's negative log-likelihood under ``model`` in nats, words and closing
    ``EOS`` included, ``(n,)``, and its number of tokens ``(n,)``. Eval mode, no graph.

    A model built with ``fused=True`` gives the same numbers several times faster.
    The true model gives ``-clauses.sentence_log_prob(s)``: the mean of ``nll +
    sentence_log_prob`` is the Monte-Carlo estimate of the KL divergence per sentence.
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    # shortest first, so that each batch pads little; the results go back in input order
    order = np.argsort([s.count(" ") for s in sentences], kind="stable")
    nll, counts = [], []
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for i in range(0, len(sentences), batch_size):
                x, y = sentence_batch([sentences[j] for j in order[i : i + batch_size]], tok)
                z = model(x).data.astype(np.float64)  # (n, seq, vocab)
                z -= z.max(axis=-1, keepdims=True)
                log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
                picked = np.take_along_axis(log_p, np.maximum(y, 0)[..., None], -1)[..., 0]
                nll.append(-np.where(y >= 0, picked, 0.0).sum(axis=1))
                counts.append((y >= 0).sum(axis=1))
    finally:
        model.train(was_training)
    back = np.argsort(order)
    return np.concatenate(nll)[back], np.concatenate(counts)[back]


def validation_sentences(recipe: Recipe | None = None) -> list[str]:
    """The held-out sentences of the recipe (a seed the training data never uses)."""
    recipe = recipe or Recipe()
    return clauses.generate_corpus(recipe.n_val, seed=recipe.val_seed)


def _config(name: str, recipe: Recipe, vocab_size: int) -> GPTConfig:
    if name not in SIZES:
        raise ValueError(f"name: expected one of {sorted(SIZES)}, got {describe(name)}")
    d_model, n_layers, n_heads = SIZES[name]
    return GPTConfig(vocab_size=vocab_size, block_size=recipe.block_size, n_layers=n_layers,
                     n_heads=n_heads, d_model=d_model, seed=recipe.model_seed)  # fmt: skip


def train_size(
    name: str, recipe: Recipe | None = None, progress: bool = True
) -> tuple[GPT, History, dict[str, Any]]:
    """Train the size ``name`` of :data:`SIZES` with ``recipe``; return the model (plain,
    ``fused=False``), the training history and the metadata that :func:`save_checkpoint`
    writes (with the validation loss measured on :func:`validation_sentences`)."""
    recipe = recipe or Recipe()
    tok = make_tokenizer()
    cfg = _config(name, recipe, tok.vocab_size)
    cfg.fused = True  # the same model, computed faster
    model = GPT(cfg)
    stream, starts = encode_corpus(clauses.generate_corpus(recipe.n_train, recipe.train_seed), tok)
    val = validation_sentences(recipe)
    val_x, val_y = sentence_batch(val[:256], tok)
    rng = np.random.default_rng(recipe.batch_seed)

    def get_batch(split: str) -> tuple[np.ndarray, np.ndarray]:
        if split == "train":
            return random_windows(stream, starts, recipe.batch_size, recipe.block_size, rng)
        return val_x, val_y

    def loss_fn(m: GPT, x: np.ndarray, y: np.ndarray) -> Tensor:
        return F.cross_entropy(m(x), y, ignore_index=-1)

    def schedule(step: int) -> float:
        return warmup_cosine_lr(step, recipe.max_lr, recipe.warmup_steps, recipe.steps,
                                recipe.min_lr)  # fmt: skip

    opt = AdamW(model.parameters(), lr=recipe.max_lr, weight_decay=recipe.weight_decay,
                fused=True)  # fmt: skip
    history = train(model, get_batch, recipe.steps, opt, lr_schedule=schedule,
                    clip_norm=recipe.clip_norm, eval_every=max(1, recipe.steps // 20),
                    eval_batches=1, loss_fn=loss_fn, progress=progress)  # fmt: skip
    nll, counts = sentence_nll(model, tok, val)  # the fused model: same numbers, faster
    plain = GPT(_config(name, recipe, tok.vocab_size))
    plain.load_state_dict(model.state_dict())
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "command": COMMAND,
        "config": {k: v for k, v in asdict(plain.config).items() if k != "fused"},
        "recipe": asdict(recipe),
        "parameters": plain.num_parameters(),
        "tokens_seen": recipe.steps * recipe.batch_size * recipe.block_size,
        "val_loss": round(float(nll.sum() / counts.sum()), 6),  # nats per word token
        "val_loss_unit": "nats per word token",
        "history": {  # the training curve, for plots (validation on 256 sentences)
            "val_steps": history.val_steps,
            "val_loss": [round(v, 4) for v in history.val_loss],
            "train_loss_per_20_steps": [
                round(float(np.mean(history.train_loss[i : i + 20])), 4)
                for i in range(0, len(history.train_loss), 20)
            ],
        },
    }
    return plain, history, meta


def save_checkpoint(model: GPT, meta: dict[str, Any], folder: str | Path) -> None:
    """Write ``ch08_<name>.npz``, ``ch08_<name>.json`` and ``ch08_tokenizer.json``."""
    save_checkpoint_files(folder, "ch08", model, meta, make_tokenizer())


def load_metadata(name: str = MAIN, folder: str | Path | None = None) -> dict[str, Any]:
    """Read and check ``ch08_<name>.json``: format, version, name, every config field (type
    and range, so no config can make an enormous model), the recorded validation loss.

    >>> meta = load_metadata("d16")
    >>> meta["config"]["d_model"], meta["val_loss_unit"]
    (16, 'nats per word token')
    """
    if name not in SIZES:
        raise ValueError(f"name: expected one of {sorted(SIZES)}, got {describe(name)}")
    path = Path(folder or CHECKPOINT_DIR) / f"ch08_{name}.json"
    where = path.name
    data = read_metadata(path, FORMAT, VERSION)
    if metadata_field(data, "name", str, where) != name:
        raise CheckpointError(f"{where}: 'name' is {data['name']!r}, expected {name!r}")
    cfg = metadata_field(data, "config", dict, where)
    for key, high in _LIMITS.items():
        value = metadata_field(cfg, key, int, where)
        if not 1 <= value <= high:
            raise CheckpointError(f"{where}: config {key!r} = {value}, expected 1..{high}")
    if cfg.get("d_ff") is not None:
        raise CheckpointError(f"{where}: config 'd_ff' must be null (4 * d_model)")
    if cfg.get("dropout") != 0.0 or cfg.get("tie_weights") is not False:
        raise CheckpointError(f"{where}: expected dropout 0.0 and tie_weights false")
    metadata_field(cfg, "seed", int, where)
    extra = sorted(set(cfg) - {*_LIMITS, "d_ff", "dropout", "tie_weights", "seed"})
    if extra:
        raise CheckpointError(f"{where}: unknown config keys {extra}")
    loss = metadata_field(data, "val_loss", float, where)
    if not 0.0 < loss < 20.0:
        raise CheckpointError(f"{where}: 'val_loss' = {loss}, expected a loss in (0, 20) nats")
    return data


def load_chapter8_model(
    name: str = MAIN, folder: str | Path | None = None, fused: bool = False
) -> tuple[GPT, WordTokenizer]:
    """The trained GPT ``name`` (eval mode) and its tokenizer, from :data:`CHECKPOINT_DIR`
    or ``folder``. Everything is checked first (see :func:`load_metadata`; the tokenizer
    must be this module's word tokenizer, with the config's ``vocab_size``); then the
    weights' names and shapes are checked from the ``.npz`` headers before the data are read,
    and every value must be finite. Problems raise
    :class:`~genai_notes.nn.checkpoint.CheckpointError`.

    >>> model, tok = load_chapter8_model("d16")
    >>> model.num_parameters(), tok.decode(model.generate(np.array([[133]]), 3)[0][1:].tolist())
    (8144, 'the girl buys')
    """
    meta = load_metadata(name, folder)
    folder = Path(folder or CHECKPOINT_DIR)
    try:
        tok = Tokenizer.load(folder / "ch08_tokenizer.json")
    except TokenizerFileError as exc:
        raise CheckpointError(f"ch08_tokenizer.json: {exc}") from None
    reference = make_tokenizer()
    if not isinstance(tok, WordTokenizer) or (tok.words, tok.special_tokens) != (
        reference.words,
        reference.special_tokens,
    ):
        raise CheckpointError("ch08_tokenizer.json: not the word tokenizer of the language")
    if meta["config"]["vocab_size"] != tok.vocab_size:
        raise CheckpointError(
            f"ch08_{name}.json: vocab_size {meta['config']['vocab_size']} does not match "
            f"the tokenizer's {tok.vocab_size}"
        )
    config = GPTConfig(**meta["config"], fused=bool(fused))
    try:
        config.validate()
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"ch08_{name}.json: {exc}") from None
    model = GPT(config)
    model.load(folder / f"ch08_{name}.npz")  # names and shapes first; finite values
    return model.eval(), tok


def main(argv: list[str] | None = None) -> int:
    """``python -m genai_notes.pretrained train [--names ...] [--steps N] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m genai_notes.pretrained")
    parser.add_argument("action", choices=["train"])
    parser.add_argument("--names", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--steps", type=int, default=Recipe.steps, help="shorter runs for tests")
    parser.add_argument("--out", default=str(CHECKPOINT_DIR))
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    recipe = Recipe(steps=args.steps, warmup_steps=min(Recipe.warmup_steps, args.steps // 2))
    for name in args.names:
        start = time.perf_counter()
        model, _, meta = train_size(name, recipe, progress=not args.no_progress)
        save_checkpoint(model, meta, args.out)
        print(f"{name}: {meta['parameters']:,} parameters, val_loss {meta['val_loss']:.4f}, "
              f"{time.perf_counter() - start:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
