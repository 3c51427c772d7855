"""The committed command makes the shipped checkpoints, and their recorded losses are real.

1. A shortened run of the command (the smallest size, 20 steps) writes files that the loader
   accepts, whose recorded validation loss equals a fresh measurement of the written weights,
   and equals the loss this run gave when the checkpoints were made (4.4012 nats per token,
   recorded on the project's machine; another CPU's float32 rounding moves it far less than
   the tolerance of 1e-3).
2. Every shipped file records the committed recipe, and its recorded validation loss equals a
   re-measurement of the shipped weights on the recipe's validation sentences.
"""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from genai_notes import pretrained as P
from genai_notes.data import clauses

SHORT_RUN_VAL_LOSS = 4.4012  # `--names d16 --steps 20`, recorded when the files were made


def _measure(model, tok, recipe: P.Recipe) -> float:
    nll, counts = P.sentence_nll(model, tok, P.validation_sentences(recipe))
    return float(nll.sum() / counts.sum())


def test_a_shortened_run_of_the_command(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "genai_notes.pretrained", "train", "--names", "d16",
           "--steps", "20", "--out", str(tmp_path), "--no-progress"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    meta = P.load_metadata("d16", tmp_path)
    assert meta["recipe"] == dataclasses.asdict(P.Recipe(steps=20, warmup_steps=10))
    assert meta["tokens_seen"] == 20 * 32 * 32
    model, tok = P.load_chapter8_model("d16", folder=tmp_path, fused=True)
    recipe = P.Recipe(**meta["recipe"])
    assert meta["val_loss"] == pytest.approx(_measure(model, tok, recipe), abs=1e-5)
    assert meta["val_loss"] == pytest.approx(SHORT_RUN_VAL_LOSS, abs=1e-3)
    assert meta["val_loss"] < math.log(tok.vocab_size) - 0.4  # it learned something
    assert f"val_loss {meta['val_loss']:.4f}" in done.stdout


@pytest.mark.parametrize("name", list(P.SIZES))
def test_shipped_files_record_the_recipe_and_a_loss_that_re_measures(name):
    meta = P.load_metadata(name)
    assert meta["command"] == P.COMMAND
    assert meta["recipe"] == dataclasses.asdict(P.Recipe())
    model, tok = P.load_chapter8_model(name, fused=True)  # the same numbers, faster
    assert meta["val_loss"] == pytest.approx(_measure(model, tok, P.Recipe()), abs=1e-4)


def test_shipped_losses_fall_with_size_and_stay_above_the_floor():
    floor = clauses.entropy(unit="word").per_token
    losses = np.array([P.load_metadata(n)["val_loss"] for n in P.SIZES])
    assert (np.diff(losses) < 0).all(), losses
    # 4,000 sentences: the estimate's standard error is below 0.01 nats per token
    assert (losses > floor - 0.02).all() and losses[-1] < floor + 0.1
