"""The shipped BERT checkpoints of Chapter 10: the recorded losses are re-measured, a short
run of the command's recipe gives the loss it recorded, the files are packaged and small, and
the loader refuses files that do not describe this model."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from genai_notes import bert_pretraining as P
from genai_notes.bert import bert_tokenizer, encode_sentences, fill_mask
from genai_notes.data import generate_corpus
from genai_notes.nn.checkpoint import CheckpointError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", P.NAMES)
def test_recorded_validation_loss_is_measured_again(name):
    model, tok = P.load_bert(name)
    meta = P.load_metadata(name)
    assert model.config.causal == (name == "causal") and not model.training
    recipe = P.Recipe(**meta["recipe"])
    assert abs(P.mlm_validation_loss(model, recipe) - meta["val_loss"]) < 1e-3
    assert meta["parameters"] == model.num_parameters()
    assert tok.vocab_size == model.config.vocab_size


def test_a_short_run_of_the_recipe_gives_the_recorded_loss():
    meta = P.load_metadata("bidirectional")
    recipe = replace(P.Recipe(**meta["recipe"]), steps=meta["short_run_steps"])
    _, history, short = P.pretrain("bidirectional", recipe, progress=False)
    assert len(history.train_loss) == P.SHORT_RUN
    assert abs(short["val_loss"] - meta["short_run_val_loss"]) < 1e-3
    assert meta["val_loss"] < short["val_loss"]  # the full run went further


def test_the_bidirectional_model_learned_the_grammar():
    model, tok = P.load_bert("bidirectional")
    fast, _ = P.load_bert("bidirectional", fused=True)
    p = fill_mask(model, tok, ["the [MASK] rules the kingdom ."])[0]
    np.testing.assert_allclose(
        fill_mask(fast, tok, ["the [MASK] rules the kingdom ."])[0], p, atol=1e-5
    )
    royals = [tok.encode(w)[0] for w in ("king", "queen", "prince", "princess")]
    assert p[royals].sum() > 0.9 and p[royals].min() > 0.1
    assert P.load_metadata("bidirectional")["val_loss"] < P.load_metadata("causal")["val_loss"]


def test_validation_batch_is_fixed_and_masked():
    inputs, labels = P.validation_batch()
    again, labels_again = P.validation_batch()
    np.testing.assert_array_equal(inputs, again)
    np.testing.assert_array_equal(labels, labels_again)
    recipe = P.Recipe()
    tok = bert_tokenizer()
    ids = encode_sentences(tok, generate_corpus(recipe.n_val, seed=recipe.val_seed), 12)
    selected = labels >= 0
    np.testing.assert_array_equal(labels[selected], ids[selected])
    assert 0.14 < selected.sum() / (ids < tok.n_ordinary).sum() < 0.16


def test_package_data_ships_every_checkpoint_file():
    text = (ROOT / "pyproject.toml").read_text()
    line = re.search(r"^\[tool\.setuptools\.package-data\]\ngenai_notes = (\[.*\])$", text, re.M)
    patterns = json.loads(line.group(1))
    files = sorted(p.name for p in P.CHECKPOINT_DIR.glob("bert_*"))
    assert files == sorted(
        ["bert_tokenizer.json"] + [f"bert_{n}.{x}" for n in P.NAMES for x in ("npz", "json")]
    )
    for f in files:
        assert any(fnmatch.fnmatch(f"checkpoints/{f}", pat) for pat in patterns), f
    assert sum((P.CHECKPOINT_DIR / f).stat().st_size for f in files) < 4e6


@pytest.fixture
def copy(tmp_path):
    for f in P.CHECKPOINT_DIR.glob("bert_*"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _edit(folder, name, change):
    path = folder / f"bert_{name}.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d.update(name="causal"), "name"),
        (lambda d: d["config"].update(n_layers=40), "not the recipe's"),
        (lambda d: d["config"].update(extra=1), "config keys"),
        (lambda d: d["recipe"].update(steps="many"), "recipe"),
        (lambda d: d["recipe"].update(d_model=0), "d_model"),
        (lambda d: d["recipe"].update(unknown=1), "recipe"),
        (lambda d: d.update(val_loss=-1.0), "val_loss"),
        (lambda d: d.pop("short_run_val_loss"), "short_run_val_loss"),
    ],
)
def test_loader_refuses_wrong_metadata(copy, change, match):
    _edit(copy, "bidirectional", change)
    with pytest.raises(CheckpointError, match=match):
        P.load_bert("bidirectional", folder=copy)


def test_loader_refuses_another_tokenizer_and_broken_weights(copy):
    path = copy / "bert_tokenizer.json"
    data = json.loads(path.read_text())
    data["words"] = [w if w != "cat" else "cats" for w in data["words"]]
    path.write_text(json.dumps(data))
    with pytest.raises(CheckpointError, match="bert_tokenizer.json"):
        P.load_bert("bidirectional", folder=copy)
    shutil.copy(P.CHECKPOINT_DIR / "bert_tokenizer.json", path)
    (copy / "bert_causal.npz").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="bert_causal.npz"):
        P.load_bert("causal", folder=copy)
    with pytest.raises(ValueError, match="name"):
        P.load_bert("left")
