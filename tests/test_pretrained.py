"""The Chapter 8 recipe's pieces and the checked loader of the shipped checkpoints."""

from __future__ import annotations

import fnmatch
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from genai_notes import pretrained as P
from genai_notes.data import clauses
from genai_notes.gpt import GPT, GPTConfig
from genai_notes.nn.checkpoint import CheckpointError
from genai_notes.tokenizers import WordTokenizer

ROOT = Path(__file__).resolve().parents[1]
TOK = P.make_tokenizer()
EOS = TOK.special_tokens[P.EOS]


def test_tokenizer_is_the_languages_words_then_eos_and_unk():
    assert TOK.words == clauses.vocabulary()
    assert (EOS, TOK.vocab_size) == (133, 135)
    assert TOK.decode(TOK.encode("the king rules the kingdom .")) == "the king rules the kingdom ."


def test_encode_corpus_puts_eos_before_each_sentence_and_after_the_last():
    stream, starts = P.encode_corpus(["the king sleeps .", "the owl sleeps ."], TOK)
    words = [TOK.token_str(int(i)) for i in stream]
    assert words == [P.EOS, "the", "king", "sleeps", ".", P.EOS, "the", "owl", "sleeps", ".",
                     P.EOS]  # fmt: skip
    assert starts.tolist() == [0, 5]
    with pytest.raises(ValueError, match="outside the tokenizer's vocabulary"):
        P.encode_corpus(["the owl flies ."], TOK)
    with pytest.raises(ValueError, match="outside the tokenizer's vocabulary"):
        P.sentence_batch(["the owl flies ."], TOK)


def test_random_windows_start_at_sentence_starts_and_targets_are_shifted():
    sentences = clauses.generate_corpus(200, seed=5)
    stream, starts = P.encode_corpus(sentences, TOK)
    x, y = P.random_windows(stream, starts, 64, 32, rng=0)
    assert x.shape == y.shape == (64, 32)
    assert (x[:, 0] == EOS).all()
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    # each window is a stretch of the stream: the targets' last token follows the inputs'
    begin = np.array([np.flatnonzero(np.all(
        np.lib.stride_tricks.sliding_window_view(stream, 32) == row, axis=1))[0] for row in x])  # fmt: skip
    np.testing.assert_array_equal(y[:, -1], stream[begin + 32])
    x2, _ = P.random_windows(stream, starts, 64, 32, rng=0)
    np.testing.assert_array_equal(x, x2)


def test_random_windows_refuses_a_stream_too_short():
    with pytest.raises(ValueError, match="stream: no start leaves 33 tokens"):
        P.random_windows(np.arange(10), np.array([0]), 2, 32, rng=0)
    with pytest.raises(ValueError, match="batch_size"):
        P.random_windows(np.arange(10), np.array([0]), 0, 4, rng=0)


def test_sentence_batch_by_hand():
    x, y = P.sentence_batch(["the king sleeps .", "the kings sleep in the farm ."], TOK)
    ids = TOK.encode("the king sleeps .")
    assert x[0].tolist() == [EOS, *ids, EOS, EOS, EOS]
    assert y[0].tolist() == [*ids, EOS, -1, -1, -1]
    assert y[1].tolist() == [*TOK.encode("the kings sleep in the farm ."), EOS]


def _slow_nll(model: GPT, sentence: str) -> float:
    """One sentence alone, unpadded, its log-softmax summed position by position."""
    ids = TOK.encode(sentence)
    logits = model(np.array([[EOS, *ids]])).data[0].astype(np.float64)
    total = 0.0
    for pos, target in enumerate([*ids, EOS]):
        row = logits[pos]
        total -= row[target] - (row.max() + math.log(np.exp(row - row.max()).sum()))
    return total


def test_sentence_nll_matches_one_sentence_at_a_time_whatever_the_padding():
    model = GPT(GPTConfig(vocab_size=135, block_size=32, n_layers=1, n_heads=2, d_model=16))
    sentences = clauses.generate_corpus(7, seed=3)
    nll, counts = P.sentence_nll(model, TOK, sentences, batch_size=3)
    slow = [_slow_nll(model, s) for s in sentences]
    np.testing.assert_allclose(nll, slow, rtol=1e-5)
    assert counts.tolist() == [len(s.split()) + 1 for s in sentences]


def test_the_true_distribution_reaches_the_entropy_floor_and_a_model_cannot_beat_it():
    """Mean -log p(s) over samples estimates the entropy: within 3 standard errors."""
    sentences = clauses.generate_corpus(4000, seed=11)
    log_p = np.array([clauses.sentence_log_prob(s) for s in sentences])
    lengths = np.array([len(s.split()) + 1 for s in sentences])
    floor = clauses.entropy(unit="word").per_token
    estimate = -log_p.sum() / lengths.sum()
    assert abs(estimate - floor) < 3 * log_p.std() / math.sqrt(len(log_p)) / lengths.mean()


# ----------------------------------------------------------------------------------------
# The loader


def test_shipped_checkpoints_load_and_are_the_recorded_sizes():
    for name, (d_model, n_layers, n_heads) in P.SIZES.items():
        model, tok = P.load_chapter8_model(name)
        cfg = model.config
        assert (cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.vocab_size) == (
            d_model, n_layers, n_heads, tok.vocab_size)  # fmt: skip
        meta = P.load_metadata(name)
        assert meta["parameters"] == model.num_parameters()
        assert not model.training
    sizes = [P.load_metadata(n)["parameters"] for n in P.SIZES]
    assert sizes == sorted(sizes) and sizes[-1] >= 10 * sizes[0]


def test_fused_load_gives_the_same_logits():
    plain, _ = P.load_chapter8_model("d16")
    fused, _ = P.load_chapter8_model("d16", fused=True)
    x = np.array([[EOS, *TOK.encode("the king says that he")]])
    np.testing.assert_allclose(fused(x).data, plain(x).data, atol=1e-5)


def test_package_data_ships_every_checkpoint_file():
    text = (ROOT / "pyproject.toml").read_text()
    line = re.search(r"^\[tool\.setuptools\.package-data\]\ngenai_notes = (\[.*\])$", text, re.M)
    patterns = json.loads(line.group(1))
    files = sorted(p.relative_to(ROOT / "genai_notes").as_posix()
                   for p in P.CHECKPOINT_DIR.glob("ch08_*"))  # fmt: skip
    assert files, "no shipped checkpoint"
    for f in files:
        assert any(fnmatch.fnmatch(f, pat) for pat in patterns), f
    assert sum((P.CHECKPOINT_DIR / f.split("/")[-1]).stat().st_size for f in files) < 6e6
    assert len(files) == 2 * len(P.SIZES) + 1  # weights and metadata per size, one tokenizer


@pytest.fixture
def copy(tmp_path):
    for f in P.CHECKPOINT_DIR.glob("ch08_*"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _edit_meta(folder: Path, change, name: str = "d16") -> None:
    path = folder / f"ch08_{name}.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("config"), "the key 'config' is missing"),
        (lambda d: d.update(format="pickle"), "expected format"),
        (lambda d: d.update(name="d32"), "'name' is 'd32', expected 'd16'"),
        (lambda d: d["config"].update(d_model=10**6), "'d_model' = 1000000, expected 1..2048"),
        (lambda d: d["config"].update(n_layers="4"), "'n_layers' has the wrong type"),
        (lambda d: d["config"].update(n_heads=True), "'n_heads' has the wrong type"),
        (lambda d: d["config"].update(n_heads=3), "n_heads: d_model=16 must be divisible"),
        (lambda d: d["config"].update(vocab_size=136), "vocab_size 136 does not match"),
        (lambda d: d["config"].update(dropout=0.5), "expected dropout 0.0"),
        (lambda d: d["config"].update(extra=1), "unknown config keys ['extra']"),
        (lambda d: d.update(val_loss=-1.0), "'val_loss' = -1.0"),
        (lambda d: d["config"].update(block_size=16), "wpe.weight: expected shape (16, 16)"),
    ],
)
def test_bad_metadata_is_refused_before_a_model_is_built(copy, change, message):
    _edit_meta(copy, change)
    with pytest.raises(CheckpointError, match=None) as err:
        P.load_chapter8_model("d16", folder=copy)
    assert message in str(err.value)


def test_a_json_that_is_not_json_or_repeats_a_key_is_refused(copy):
    (copy / "ch08_d16.json").write_text('{"format": "genai_notes.checkpoint", "format": 1}')
    with pytest.raises(CheckpointError, match="ch08_d16.json"):
        P.load_chapter8_model("d16", folder=copy)
    (copy / "ch08_d16.json").write_text("[1, 2")
    with pytest.raises(CheckpointError, match="ch08_d16.json"):
        P.load_chapter8_model("d16", folder=copy)


def test_another_tokenizer_is_refused(copy):
    WordTokenizer(["the", "king"], special_tokens=[P.EOS]).save(copy / "ch08_tokenizer.json")
    with pytest.raises(CheckpointError, match="not the word tokenizer of the language"):
        P.load_chapter8_model("d16", folder=copy)
    (copy / "ch08_tokenizer.json").write_text("{}")
    with pytest.raises(CheckpointError, match="ch08_tokenizer.json"):
        P.load_chapter8_model("d16", folder=copy)


def test_weights_with_a_wrong_shape_an_object_array_or_nan_are_refused(copy):
    path = copy / "ch08_d16.npz"
    arrays = dict(np.load(path))
    np.savez(path, **{**arrays, "ln_f.weight": np.ones(3, np.float32)})
    with pytest.raises(CheckpointError, match=r"ln_f.weight: expected shape \(16,\), got \(3,\)"):
        P.load_chapter8_model("d16", folder=copy)
    np.savez(path, **{**arrays, "ln_f.weight": np.array([object()] * 16)}, allow_pickle=True)
    with pytest.raises(CheckpointError, match="expected real numbers"):
        P.load_chapter8_model("d16", folder=copy)
    np.savez(path, **{**arrays, "ln_f.weight": np.full(16, np.nan, np.float32)})
    with pytest.raises(CheckpointError, match="finite"):
        P.load_chapter8_model("d16", folder=copy)
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="not an .npz archive"):
        P.load_chapter8_model("d16", folder=copy)


def test_missing_files_and_unknown_names(copy):
    with pytest.raises(ValueError, match="name: expected one of"):
        P.load_chapter8_model("d256")
    (copy / "ch08_d16.npz").unlink()
    with pytest.raises(CheckpointError, match="ch08_d16.npz: no such file"):
        P.load_chapter8_model("d16", folder=copy)
    (copy / "ch08_d16.json").unlink()
    with pytest.raises(CheckpointError, match="ch08_d16.json: no such file"):
        P.load_chapter8_model("d16", folder=copy)
