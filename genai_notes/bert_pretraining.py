"""The shipped tiny BERTs of Chapter 10 and the one command that trains them.

Pretraining a 4-layer BERT on the easy synthetic language takes several minutes, more than
the chapter's budget, so the chapter loads the result. Two models are trained with the
same recipe, data and masks:

* ``"bidirectional"``: the BERT of the chapter (:class:`genai_notes.bert.BERT`);
* ``"causal"``: the same model with a causal mask, which sees only the left side of a
  blank (the chapter's comparison of the two readers).

**Files** (in :data:`CHECKPOINT_DIR`): ``bert_tokenizer.json``, and for each name
``bert_<name>.npz`` (weights, read without pickle) and ``bert_<name>.json`` (config, recipe,
the recorded validation loss, the training curve, and the validation loss of a 20-step run of
the same recipe, which ``tests/test_bert_pretraining.py`` re-runs). :func:`load_bert`
checks every field of the JSON files, and the tokenizer, before it builds a model.

The command (``python -m genai_notes.bert_pretraining train``) is deterministic: seeded
sentences, masks, batches and initial weights. Another CPU may round float32 sums
differently, so a retrained model can differ there in the last digits of its loss.

>>> model, tok = load_bert()
>>> model.config.n_layers, tok.vocab_size
(4, 76)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from genai_notes._checks import describe
from genai_notes.autograd import no_grad
from genai_notes.bert import BERT, BERTConfig, bert_tokenizer, encode_sentences, mask_tokens
from genai_notes.data import generate_corpus
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
    "NAMES",
    "SHORT_RUN",
    "Recipe",
    "model_config",
    "validation_batch",
    "mlm_validation_loss",
    "pretrain",
    "save_checkpoint",
    "load_metadata",
    "load_bert",
]

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
COMMAND = "python -m genai_notes.bert_pretraining train"
FORMAT = "genai_notes.bert_checkpoint"
VERSION = 1
NAMES = ("bidirectional", "causal")  # name -> BERTConfig(causal=name == "causal")
BLOCK = BERTConfig().block_size  # [CLS] and the longest sentence fit
SHORT_RUN = 20  # steps of the short run whose validation loss the JSON records
_CONFIG_KEYS = {"vocab_size", "block_size", "n_layers", "n_heads", "d_model", "d_ff",
                "dropout", "tie_weights", "n_classes", "causal", "pad_id", "seed"}  # fmt: skip


@dataclass(frozen=True)
class Recipe:
    """How both models are pretrained."""

    n_layers: int = 4  # transformer blocks
    d_model: int = 64  # width of the residual stream
    n_heads: int = 4  # attention heads per block
    steps: int = 3000  # optimiser steps
    batch_size: int = 128  # sentences per step, masked afresh at every step
    max_lr: float = 2e-3  # peak learning rate, reached at the end of the warm-up
    min_lr: float = 2e-4  # where the cosine ends
    warmup_steps: int = 100  # linear warm-up
    weight_decay: float = 0.01  # AdamW's decoupled decay of the weight matrices
    clip_norm: float = 1.0  # global gradient-norm cap
    n_train: int = 50_000  # training sentences
    n_val: int = 2_000  # held-out sentences for the recorded validation loss
    train_seed: int = 1  # seeds the training sentences
    val_seed: int = 2  # seeds the validation sentences
    batch_seed: int = 3  # seeds the batches and their masks
    val_mask_seed: int = 4  # seeds the one fixed masking of the validation sentences
    model_seed: int = 0  # seeds the initial weights


def model_config(name: str, recipe: Recipe | None = None) -> BERTConfig:
    """The :class:`~genai_notes.bert.BERTConfig` of ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise ValueError(f"name: expected one of {NAMES}, got {describe(name)}")
    recipe = recipe or Recipe()
    return BERTConfig(n_layers=recipe.n_layers, d_model=recipe.d_model, n_heads=recipe.n_heads,
                      causal=name == "causal", seed=recipe.model_seed)  # fmt: skip


def validation_batch(recipe: Recipe | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The held-out sentences, masked once with a fixed seed: inputs and labels,
    ``(n_val, block_size)`` each."""
    recipe = recipe or Recipe()
    tok = bert_tokenizer()
    ids = encode_sentences(tok, generate_corpus(recipe.n_val, seed=recipe.val_seed), BLOCK)
    batch = mask_tokens(ids, recipe.val_mask_seed, mask_id=tok.special_tokens["[MASK]"],
                        n_ordinary=tok.n_ordinary)  # fmt: skip
    return batch.inputs, batch.labels


def mlm_validation_loss(model: BERT, recipe: Recipe | None = None) -> float:
    """The mean MLM loss over every selected position of :func:`validation_batch` (eval
    mode, no graph), in nats per selected token."""
    inputs, labels = validation_batch(recipe)
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for i in range(0, len(inputs), 500):
                x, y = inputs[i : i + 500], labels[i : i + 500]
                n = int((y >= 0).sum())
                total += model.mlm_loss(x, y).item() * n
                count += n
    finally:
        model.train(was_training)
    return total / count


def pretrain(
    name: str, recipe: Recipe | None = None, progress: bool = True
) -> tuple[BERT, History, dict[str, Any]]:
    """Pretrain ``name`` with ``recipe``; return the model (``fused=False``), its training
    history and the metadata that :func:`save_checkpoint` writes."""
    recipe = recipe or Recipe()
    tok = bert_tokenizer()
    mask_id, n_words = tok.special_tokens["[MASK]"], tok.n_ordinary
    config = model_config(name, recipe)
    model = BERT(replace(config, fused=True))  # the same model, computed faster
    ids = encode_sentences(tok, generate_corpus(recipe.n_train, seed=recipe.train_seed), BLOCK)
    val = validation_batch(recipe)
    rng = np.random.default_rng(recipe.batch_seed)

    def get_batch(split: str) -> tuple[np.ndarray, np.ndarray]:
        if split != "train":
            return val[0][:256], val[1][:256]
        rows = ids[rng.integers(0, len(ids), recipe.batch_size)]
        batch = mask_tokens(rows, rng, mask_id=mask_id, n_ordinary=n_words)
        return batch.inputs, batch.labels

    def schedule(step: int) -> float:
        return warmup_cosine_lr(step, recipe.max_lr, min(recipe.warmup_steps, recipe.steps - 1),
                                recipe.steps, recipe.min_lr)  # fmt: skip

    opt = AdamW(model.parameters(), lr=recipe.max_lr, weight_decay=recipe.weight_decay,
                fused=True)  # fmt: skip
    history = train(model, get_batch, recipe.steps, opt, lr_schedule=schedule,
                    clip_norm=recipe.clip_norm, eval_every=max(1, recipe.steps // 30),
                    eval_batches=1, progress=progress)  # fmt: skip
    plain = BERT(config)
    plain.load_state_dict(model.state_dict())
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "command": COMMAND,
        "config": {k: v for k, v in asdict(config).items() if k != "fused"},
        "recipe": asdict(recipe),
        "parameters": plain.num_parameters(),
        "val_loss": round(mlm_validation_loss(plain, recipe), 6),
        "val_loss_unit": "nats per selected token",
        "history": {  # the training curve (validation on 256 masked sentences)
            "val_steps": history.val_steps,
            "val_loss": [round(v, 4) for v in history.val_loss],
        },
    }
    return plain, history, meta


def save_checkpoint(model: BERT, meta: dict[str, Any], folder: str | Path) -> None:
    """Write ``bert_<name>.npz``, ``bert_<name>.json`` and ``bert_tokenizer.json``."""
    save_checkpoint_files(folder, "bert", model, meta, bert_tokenizer())


def load_metadata(name: str = "bidirectional", folder: str | Path | None = None) -> dict[str, Any]:
    """Read and check ``bert_<name>.json``: format, version, name, the config (every key
    known, and the model it builds must match :func:`model_config` of the recorded recipe
    in size), the recorded losses.

    >>> load_metadata("causal")["config"]["causal"]
    True
    """
    if name not in NAMES:
        raise ValueError(f"name: expected one of {NAMES}, got {describe(name)}")
    path = Path(folder or CHECKPOINT_DIR) / f"bert_{name}.json"
    where = path.name
    data = read_metadata(path, FORMAT, VERSION)
    if metadata_field(data, "name", str, where) != name:
        raise CheckpointError(f"{where}: 'name' is {data['name']!r}, expected {name!r}")
    recipe_fields = metadata_field(data, "recipe", dict, where)
    defaults = asdict(Recipe())
    if set(recipe_fields) != set(defaults):
        raise CheckpointError(
            f"{where}: recipe keys {sorted(recipe_fields)}, expected {sorted(defaults)}"
        )
    for key, value in recipe_fields.items():
        kind = (int, float) if isinstance(defaults[key], float) else int
        metadata_field(recipe_fields, key, kind, f"{where}: recipe")
        if value <= 0 and key.endswith(("steps", "size", "layers", "model", "heads")):
            raise CheckpointError(f"{where}: recipe {key!r} = {value}, expected a positive number")
    recipe = Recipe(**recipe_fields)
    cfg = metadata_field(data, "config", dict, where)
    if set(cfg) != _CONFIG_KEYS:
        raise CheckpointError(
            f"{where}: config keys {sorted(cfg)}, expected {sorted(_CONFIG_KEYS)}"
        )
    expected = {k: v for k, v in asdict(model_config(name, recipe)).items() if k != "fused"}
    if cfg != expected:
        raise CheckpointError(f"{where}: config {cfg} is not the recipe's {expected}")
    for key in ("val_loss", "short_run_val_loss"):
        loss = metadata_field(data, key, float, where)
        if not 0.0 < loss < 20.0:
            raise CheckpointError(f"{where}: {key!r} = {loss}, expected a loss in (0, 20) nats")
    return data


def load_bert(
    name: str = "bidirectional", folder: str | Path | None = None, fused: bool = False
) -> tuple[BERT, WordTokenizer]:
    """The pretrained model ``name`` (eval mode) and its tokenizer; ``fused=True`` computes it
    with the engine's fused blocks (the same parameters and numbers, faster). Everything is checked
    first (:func:`load_metadata`; the tokenizer file must be :func:`bert_tokenizer`); then
    the weights' names and shapes from the ``.npz`` headers, before the data are read.
    Problems raise :class:`~genai_notes.nn.checkpoint.CheckpointError`."""
    meta = load_metadata(name, folder)
    folder = Path(folder or CHECKPOINT_DIR)
    try:
        tok = Tokenizer.load(folder / "bert_tokenizer.json")
    except TokenizerFileError as exc:
        raise CheckpointError(f"bert_tokenizer.json: {exc}") from None
    reference = bert_tokenizer()
    if not isinstance(tok, WordTokenizer) or (tok.words, tok.special_tokens) != (
        reference.words,
        reference.special_tokens,
    ):
        raise CheckpointError("bert_tokenizer.json: not the word tokenizer of the language")
    if not isinstance(fused, bool):
        raise TypeError(f"fused: expected True or False, got {describe(fused)}")
    model = BERT(BERTConfig(**meta["config"], fused=fused))
    model.load(folder / f"bert_{name}.npz")  # names and shapes first; finite values
    return model.eval(), tok


def main(argv: list[str] | None = None) -> int:
    """``python -m genai_notes.bert_pretraining train [--names ...] [--steps N] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m genai_notes.bert_pretraining")
    parser.add_argument("command", choices=["train"])
    parser.add_argument("--names", nargs="+", choices=NAMES, default=list(NAMES))
    parser.add_argument("--steps", type=int, default=Recipe.steps)
    parser.add_argument("--out", default=str(CHECKPOINT_DIR))
    args = parser.parse_args(argv)
    recipe = replace(Recipe(), steps=args.steps)
    for name in args.names:
        _, _, short = pretrain(name, replace(recipe, steps=SHORT_RUN), progress=False)
        model, _, meta = pretrain(name, recipe)
        meta["short_run_steps"] = SHORT_RUN
        meta["short_run_val_loss"] = short["val_loss"]
        save_checkpoint(model, meta, args.out)
        print(f"{name}: validation loss {meta['val_loss']:.4f} nats per selected token")
    return 0


if __name__ == "__main__":
    sys.exit(main())
