"""Measuring transfer (Chapter 11): fine-tune Chapter 10's pretrained BERT on a small
labelled task, in full or with LoRA, against the same model trained from scratch, and
measure what fine-tuning costs the pretraining objective (forgetting).

**The task** is Chapter 10's "is the subject royal?" (:func:`genai_notes.probing.
royal_subject_task`) over all eight person words, with ``n_train`` labelled sentences and
one fixed test set of 400 (:func:`test_task`).

**A run** (:class:`Run`, :func:`fine_tune`) builds the classifier in float64, so that
another CPU prints the same numbers: either every weight from pretraining except the new
classification head (``init="pretrained"``), or every weight random (``init="scratch"``).
Full fine-tuning trains every weight; a LoRA run (``lora_rank > 0``) freezes the model, wraps
the ``lora_targets`` layers in :class:`~genai_notes.finetuning.LoRALinear`, and trains the
adapters and the head. AdamW with a constant learning rate, batches drawn with replacement.

**Forgetting** is the change of the masked-language-model loss on held-out sentences
(:data:`DRIFT_RECIPE`: 500 sentences masked once with a fixed seed) from the pretrained
model's value: how much worse the model has become at the task it was pretrained on.

**The stored study** (:data:`STUDY_FILE`, made by :data:`COMMAND`): LoRA at several ranks on
two target sets, and full fine-tuning, with three seeds each; Chapter 11's explorer draws it,
and ``tests/test_transfer.py`` re-runs one of its runs.

>>> result = fine_tune(Run(n_train=16, steps=2, lora_targets=("in_proj",), lora_rank=1))
>>> result.trainable == 4 * lora_parameter_count(64, 192, 1) + 64 * 2 + 2   # + the head
True
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from genai_notes._checks import check_positive_int, check_real, describe
from genai_notes.autograd import no_grad
from genai_notes.bert import BERT, BERTConfig, bert_tokenizer, encode_sentences
from genai_notes.bert_pretraining import (
    CHECKPOINT_DIR,
    Recipe,
    load_bert,
    load_metadata,
    mlm_validation_loss,
)
from genai_notes.finetuning import apply_lora, lora_parameter_count  # noqa: F401 (doctest)
from genai_notes.lexicon import PEOPLE
from genai_notes.nn import AdamW, train
from genai_notes.nn.checkpoint import CheckpointError, read_metadata
from genai_notes.probing import RankTask, royal_subject_task

__all__ = [
    "COMMAND",
    "STUDY_FILE",
    "DRIFT_RECIPE",
    "TARGET_SETS",
    "PERSON_WORDS",
    "Run",
    "Result",
    "test_task",
    "build_classifier",
    "pretrained_mlm_loss",
    "fine_tune",
    "lora_study",
    "save_study",
    "load_study",
]

COMMAND = "python -m genai_notes.transfer study"
STUDY_FILE = CHECKPOINT_DIR / "ch11_lora_study.json"
FORMAT, VERSION = "genai_notes.lora_study", 1
DRIFT_RECIPE = Recipe(n_val=500)  # the held-out MLM sentences that measure forgetting
SEQ = 12  # [CLS] and the longest sentence of the language fit
# The layers LoRA adapts: the attention's packed query/key/value projection, or every
# Linear inside the blocks (never the embeddings, the MLM head or the new head).
TARGET_SETS: dict[str, tuple[str, ...]] = {
    "attention in_proj": ("in_proj",),
    "every Linear": ("in_proj", "out_proj", "fc_in", "fc_out"),
}
PERSON_WORDS = tuple(p.en for p in PEOPLE)  # king, queen, ..., girl: all eight
_BLOCK_LINEARS = frozenset(TARGET_SETS["every Linear"])
_LIMITS = {"n_train": 100_000, "steps": 100_000, "batch_size": 4_096, "lora_rank": 64}


@dataclass(frozen=True)
class Run:
    """How one classifier is trained (see the module docstring)."""

    n_train: int = 64  # labelled training sentences
    seed: int = 0  # seeds the sentences, the batches, the new head and LoRA's A
    init: str = "pretrained"  # "pretrained" (Chapter 10's weights) or "scratch"
    lora_targets: tuple[str, ...] = ()  # layer names LoRA wraps; () with rank 0: full
    lora_rank: int = 0  # 0: full fine-tuning (every weight trains)
    lr: float = 1e-3  # AdamW's constant learning rate
    steps: int = 60  # optimiser steps
    batch_size: int = 32  # sentences per step (at most n_train)

    def __post_init__(self) -> None:
        for name in ("n_train", "steps", "batch_size"):
            value = check_positive_int(getattr(self, name), name)
            if value > _LIMITS[name]:
                raise ValueError(f"{name}: expected at most {_LIMITS[name]}, got {value}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise TypeError(f"seed: expected an int >= 0, got {describe(self.seed)}")
        if self.seed < 0:
            raise ValueError(f"seed: expected an int >= 0, got {self.seed}")
        if self.init not in ("pretrained", "scratch"):
            raise ValueError(f"init: expected 'pretrained' or 'scratch', got {self.init!r}")
        if not isinstance(self.lora_targets, tuple) or not all(
            isinstance(t, str) for t in self.lora_targets
        ):
            raise TypeError(
                f"lora_targets: expected a tuple of layer names, got {describe(self.lora_targets)}"
            )
        unknown = sorted(set(self.lora_targets) - _BLOCK_LINEARS)
        if unknown:
            raise ValueError(
                f"lora_targets: expected Linear layers of the blocks {sorted(_BLOCK_LINEARS)}, "
                f"got {unknown}"
            )
        rank = self.lora_rank
        if not isinstance(rank, int) or isinstance(rank, bool):
            raise TypeError(f"lora_rank: expected an int from 0 to 64, got {describe(rank)}")
        if not 0 <= rank <= 64:
            raise ValueError(f"lora_rank: expected an int from 0 to 64, got {rank}")
        if (rank == 0) != (not self.lora_targets):
            raise ValueError(
                "lora_rank, lora_targets: give both (a LoRA run) or neither (full fine-tuning), "
                f"got rank {rank} and targets {self.lora_targets}"
            )
        if rank and self.init != "pretrained":
            raise ValueError("init: LoRA adapts a pretrained model; expected 'pretrained'")
        check_real(self.lr, "lr", low=0.0, low_inclusive=False)


class Result(NamedTuple):
    """What :func:`fine_tune` measured."""

    accuracy: float  # on test_task(): the share of its 400 sentences classified right
    trainable: int  # parameters the optimiser moved
    drift_steps: tuple[int, ...]  # the steps after which forgetting was measured
    drift: tuple[float, ...]  # MLM loss then, minus the pretrained model's (nats)


@functools.lru_cache(maxsize=1)
def _test_set() -> tuple[RankTask, np.ndarray]:
    task = royal_subject_task(PERSON_WORDS, 400, seed=100)
    return task, encode_sentences(bert_tokenizer(), task.sentences, SEQ)


def test_task() -> RankTask:
    """The fixed test set: 400 sentences over all eight person words (seed 100)."""
    return _test_set()[0]


test_task.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


@functools.lru_cache(maxsize=1)
def _pretrained_state() -> dict[str, np.ndarray]:
    model, _ = load_bert("bidirectional")
    return model.state_dict()


def build_classifier(init: str, seed: int) -> BERT:
    """A float64 BERT of Chapter 10's size: with ``init="pretrained"`` every weight but the
    new classification head (seeded by ``seed``) is Chapter 10's; with ``"scratch"``
    every weight is random (seeded by ``seed``)."""
    if init not in ("pretrained", "scratch"):
        raise ValueError(f"init: expected 'pretrained' or 'scratch', got {init!r}")
    config = {**load_metadata()["config"], "seed": seed + 1, "fused": False}
    model = BERT(BERTConfig(**config))
    if init == "pretrained":
        head = {k: v for k, v in model.state_dict().items() if k.startswith("cls_")}
        model.load_state_dict({**_pretrained_state(), **head})
    return model.astype(np.float64)


@functools.lru_cache(maxsize=1)
def pretrained_mlm_loss() -> float:
    """The pretrained BERT's MLM loss on :data:`DRIFT_RECIPE`'s sentences, in float64."""
    return mlm_validation_loss(build_classifier("pretrained", 0), DRIFT_RECIPE)


def fine_tune(run: Run, drift_every: int = 0) -> Result:
    """Train the classifier ``run`` describes and score it on :func:`test_task`.

    ``drift_every`` > 0 measures forgetting (the MLM loss minus
    :func:`pretrained_mlm_loss`) after every ``drift_every`` steps and at the end; 0 skips
    it (a from-scratch model has nothing to forget).

    >>> result = fine_tune(Run(n_train=16, steps=4, init="scratch"))
    >>> 0.0 <= result.accuracy <= 1.0, result.drift
    (True, ())
    """
    if not isinstance(run, Run):
        raise TypeError(f"run: expected a Run, got {describe(run)}")
    if not isinstance(drift_every, int) or isinstance(drift_every, bool):
        raise TypeError(f"drift_every: expected an int >= 0, got {describe(drift_every)}")
    if drift_every < 0:
        raise ValueError(f"drift_every: expected an int >= 0, got {drift_every}")
    if drift_every and run.init != "pretrained":
        raise ValueError("drift_every: a model trained from scratch has no pretraining to forget")
    model = build_classifier(run.init, run.seed)
    if run.lora_rank:
        apply_lora(model, run.lora_targets, r=run.lora_rank, rng=run.seed)
        model.cls_head.unfreeze()  # the new head always trains
    task = royal_subject_task(PERSON_WORDS, run.n_train, seed=run.seed)
    ids = encode_sentences(bert_tokenizer(), task.sentences, SEQ)  # (n_train, SEQ)
    rng = np.random.default_rng(run.seed)
    batch = min(run.batch_size, run.n_train)

    def get_batch(split: str) -> tuple[np.ndarray, np.ndarray]:
        rows = rng.integers(0, len(ids), batch)
        return ids[rows], task.labels[rows]

    def loss_fn(m: BERT, x: np.ndarray, y: np.ndarray) -> Any:
        return m.classification_loss(x, y, "cls")

    opt = AdamW(model.parameters(trainable_only=True), lr=run.lr, weight_decay=0.01)
    # Training in chunks changes nothing (constant learning rate, one optimiser), and lets
    # the MLM loss be measured in between.
    chunk = drift_every or run.steps
    steps_done, drift_steps, drift = 0, [], []
    while steps_done < run.steps:
        n = min(chunk, run.steps - steps_done)
        train(model, get_batch, n, opt, loss_fn=loss_fn, progress=False)
        steps_done += n
        if drift_every:
            drift_steps.append(steps_done)
            drift.append(mlm_validation_loss(model, DRIFT_RECIPE) - pretrained_mlm_loss())
    model.eval()
    test, test_ids = _test_set()
    with no_grad():
        predicted = model.classify(test_ids).data.argmax(axis=1)  # (400,)
    return Result(
        accuracy=float((predicted == test.labels).mean()),
        trainable=model.num_parameters(trainable_only=True),
        drift_steps=tuple(drift_steps),
        drift=tuple(float(d) for d in drift),
    )


# ----------------------------------------------------------------------------------------
# The stored study


def lora_study(
    ranks: Sequence[int] = (1, 2, 4, 8, 16),
    seeds: Sequence[int] = (0, 1, 2),
    base: Run | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run LoRA at every rank on every :data:`TARGET_SETS` entry, and full fine-tuning,
    once per seed, all with ``base``'s other settings; return the study as a JSON-ready
    dict (accuracies and drifts per target set, ``(n_ranks, n_seeds)``)."""
    base = base or Run()
    ranks = [check_positive_int(r, "ranks") for r in ranks]
    seeds = [int(s) for s in seeds]
    setup = {k: v for k, v in asdict(base).items() if k in ("n_train", "lr", "steps", "batch_size")}

    def measure(**changes: Any) -> Result:
        result = fine_tune(Run(**{**setup, **changes}), drift_every=base.steps)
        if progress:
            print(changes, round(result.accuracy, 3), file=sys.stderr)
        return result

    runs = {}
    for label, targets in TARGET_SETS.items():
        grid = [[measure(seed=s, lora_targets=targets, lora_rank=r) for s in seeds] for r in ranks]
        runs[label] = {
            "targets": list(targets),
            "trainable": [row[0].trainable for row in grid],
            "accuracy": [[res.accuracy for res in row] for row in grid],
            "drift": [[res.drift[-1] for res in row] for row in grid],
        }
    full = [measure(seed=s) for s in seeds]
    return {
        "format": FORMAT,
        "version": VERSION,
        "command": COMMAND,
        "setup": setup,
        "ranks": ranks,
        "seeds": seeds,
        "pretrained_mlm_loss": pretrained_mlm_loss(),
        "lora": runs,
        "full": {
            "trainable": full[0].trainable,
            "accuracy": [r.accuracy for r in full],
            "drift": [r.drift[-1] for r in full],
        },
    }


def save_study(study: dict[str, Any], path: str | Path = STUDY_FILE) -> None:
    """Write ``study`` as JSON (checked first with the loader's rules)."""
    _check_study(json.loads(json.dumps(study)), Path(path).name)
    Path(path).write_text(json.dumps(study, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _numbers(
    value: Any, shape: tuple[int, ...], where: str, low: float, high: float, ints: bool = False
) -> None:
    array = np.asarray(value, dtype=object)
    kinds = int if ints else int | float
    if array.shape != shape or not all(
        isinstance(v, kinds) and not isinstance(v, bool) for v in array.ravel()
    ):
        what = "ints" if ints else "numbers"
        raise CheckpointError(f"{where}: expected {what} of shape {shape}")
    numbers = array.astype(float)
    if not (np.isfinite(numbers).all() and (numbers >= low).all() and (numbers <= high).all()):
        raise CheckpointError(f"{where}: expected finite values in [{low}, {high}]")


def _check_study(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise CheckpointError(f"{where}: expected a JSON object, got {type(data).__name__}")
    keys = {"format", "version", "command", "setup", "ranks", "seeds", "pretrained_mlm_loss",
            "lora", "full"}  # fmt: skip
    if set(data) != keys:
        raise CheckpointError(f"{where}: keys {sorted(data)}, expected {sorted(keys)}")
    if data["format"] != FORMAT or data["version"] != VERSION:
        raise CheckpointError(f"{where}: expected format {FORMAT!r} version {VERSION}")
    try:
        Run(**data["setup"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{where}: setup: {exc}") from None
    ranks, seeds = data["ranks"], data["seeds"]
    for name, values in (("ranks", ranks), ("seeds", seeds)):
        if not isinstance(values, list) or not values or len(values) > 64:
            raise CheckpointError(f"{where}: {name!r} must be a list of 1 to 64 ints")
        _numbers(values, (len(values),), f"{where}: {name}", 0, 2**31, ints=True)
    if sorted(set(ranks)) != ranks or ranks[0] < 1 or ranks[-1] > _LIMITS["lora_rank"]:
        raise CheckpointError(f"{where}: 'ranks' must increase, from 1 to at most 64")
    _numbers([data["pretrained_mlm_loss"]], (1,), f"{where}: pretrained_mlm_loss", 0.0, 20.0)
    shape = (len(ranks), len(seeds))
    lora = data["lora"]
    if not isinstance(lora, dict) or set(lora) != set(TARGET_SETS):
        raise CheckpointError(f"{where}: 'lora' must have the target sets {list(TARGET_SETS)}")
    for label, entry in lora.items():
        at = f"{where}: lora[{label!r}]"
        if not isinstance(entry, dict) or set(entry) != {"targets", "trainable", "accuracy",
                                                         "drift"}:  # fmt: skip
            raise CheckpointError(f"{at}: expected targets, trainable, accuracy and drift")
        if entry["targets"] != list(TARGET_SETS[label]):
            raise CheckpointError(
                f"{at}: targets {entry['targets']}, expected {TARGET_SETS[label]}"
            )
        _numbers(entry["trainable"], (len(ranks),), f"{at}: trainable", 1, 10**9, ints=True)
        _numbers(entry["accuracy"], shape, f"{at}: accuracy", 0.0, 1.0)
        _numbers(entry["drift"], shape, f"{at}: drift", -20.0, 20.0)
    full = data["full"]
    if not isinstance(full, dict) or set(full) != {"trainable", "accuracy", "drift"}:
        raise CheckpointError(f"{where}: 'full' must have trainable, accuracy and drift")
    _numbers([full["trainable"]], (1,), f"{where}: full trainable", 1, 10**9, ints=True)
    _numbers(full["accuracy"], (len(seeds),), f"{where}: full accuracy", 0.0, 1.0)
    _numbers(full["drift"], (len(seeds),), f"{where}: full drift", -20.0, 20.0)
    return data


def load_study(path: str | Path = STUDY_FILE) -> dict[str, Any]:
    """Read and check the stored study (every key, type, shape and range) before use.
    Problems raise :class:`~genai_notes.nn.checkpoint.CheckpointError`.

    >>> study = load_study()
    >>> study["ranks"], list(study["lora"])
    ([1, 2, 4, 8, 16], ['attention in_proj', 'every Linear'])
    """
    path = Path(path)
    return _check_study(read_metadata(path, FORMAT, VERSION), path.name)


def main(argv: list[str] | None = None) -> int:
    """``python -m genai_notes.transfer study [--out FILE]``: re-run the stored study."""
    parser = argparse.ArgumentParser(prog="python -m genai_notes.transfer")
    parser.add_argument("action", choices=["study"])
    parser.add_argument("--out", default=str(STUDY_FILE), help="where to write the JSON")
    args = parser.parse_args(argv)
    study = lora_study(progress=True)
    save_study(study, args.out)
    print(f"wrote {args.out}: {len(study['ranks'])} ranks x {len(TARGET_SETS)} target sets "
          f"x {len(study['seeds'])} seeds, and full fine-tuning; "
          f"pretrained MLM loss {study['pretrained_mlm_loss']:.4f}")  # fmt: skip
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
