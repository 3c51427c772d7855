"""The GPT model: config checks, causality, save/load, generation, and learning."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.autograd import Tensor, cross_entropy
from genai_notes.gpt import GPT, GPTConfig
from genai_notes.nn import AdamW, train, warmup_cosine_lr
from genai_notes.nn.checkpoint import CheckpointError

TINY = GPTConfig(vocab_size=8, block_size=8, n_layers=1, n_heads=2, d_model=16)


def test_parameter_count_by_hand():
    v, t, d, n_layer = 8, 8, 16, 1
    block = 4 * d + 12 * d * d + 9 * d
    expected = v * d + t * d + n_layer * block + 2 * d + d * v
    assert GPT(TINY).num_parameters() == expected  # 3,696: "a few thousand"
    tied = GPT(GPTConfig(**{**TINY.__dict__, "tie_weights": True}))
    assert tied.num_parameters() == expected - d * v


def test_logits_shape_and_causality():
    model = GPT(TINY)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 8, (2, 8))
    changed = idx.copy()
    changed[:, 5:] = (changed[:, 5:] + 1) % 8  # change the future of position 4
    a, b = model(idx).data, model(changed).data
    assert a.shape == (2, 8, 8)
    np.testing.assert_allclose(a[:, :5], b[:, :5], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[:, 5:], b[:, 5:])


def test_initial_loss_is_near_uniform():
    # GPT-2 initialisation gives near-uniform predictions: loss ≈ ln(vocab)
    model = GPT(GPTConfig(vocab_size=50, block_size=16, n_layers=2, n_heads=2, d_model=32))
    idx = np.random.default_rng(0).integers(0, 50, (4, 16))
    assert model.loss(idx, idx).item() == pytest.approx(np.log(50), abs=0.05)


def test_overfits_one_tiny_batch():
    model = GPT(TINY)
    rng = np.random.default_rng(1)
    # four sequences with distinct first tokens, so each is predictable from its prefix
    seqs = np.stack([rng.permutation(8) for _ in range(4)])
    seqs[:, 0] = [0, 1, 2, 3]
    inputs, targets = seqs[:, :-1], seqs[:, 1:]
    opt = AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    for _ in range(300):
        loss = model.loss(inputs, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05


def test_save_load_round_trip_gives_identical_logits(tmp_path):
    model = GPT(TINY)
    idx = np.random.default_rng(2).integers(0, 8, (3, 8))
    opt = AdamW(model.parameters(), lr=1e-2)
    for _ in range(3):  # move away from the initialisation
        loss = model.loss(idx, idx)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.save(tmp_path / "gpt.npz")
    fresh = GPT(GPTConfig(**{**TINY.__dict__, "seed": 5}))
    assert not np.array_equal(fresh(idx).data, model(idx).data)
    fresh.load(tmp_path / "gpt.npz")
    np.testing.assert_array_equal(fresh(idx).data, model(idx).data)
    other = GPT(GPTConfig(vocab_size=8, block_size=8, n_layers=2, n_heads=2, d_model=16))
    with pytest.raises(CheckpointError, match=r"gpt.npz: missing arrays \['blocks.1"):
        other.load(tmp_path / "gpt.npz")


def test_tied_weights_share_one_matrix():
    model = GPT(GPTConfig(**{**TINY.__dict__, "tie_weights": True}))
    idx = np.arange(8)[None]
    logits = model(idx)
    assert model.lm_head is None
    cross_entropy(logits, idx).backward()
    # the table gets gradient from both the lookup and the head: compare to a manual head
    hidden = model.ln_f(model.blocks[0](model.wte(idx) + model.wpe.weight[:8]))
    np.testing.assert_allclose(
        logits.data, hidden.data @ model.wte.weight.data.T, rtol=1e-5, atol=1e-6
    )
    assert model.wte.weight.grad is not None


def test_generate_is_reproducible_and_respects_top_k():
    model = GPT(TINY)
    start = np.array([[1, 2], [3, 4]])
    a = model.generate(start, 10, rng=0)
    assert a.shape == (2, 12)
    np.testing.assert_array_equal(a[:, :2], start)
    np.testing.assert_array_equal(a, model.generate(start, 10, rng=0))
    assert not np.array_equal(a, model.generate(start, 10, rng=1))
    # top_k=1 is greedy decoding: always the argmax of the last position's logits
    greedy = model.generate(start, 1, top_k=1, rng=0)
    np.testing.assert_array_equal(greedy[:, -1], model(start).data[:, -1].argmax(-1))
    assert model.training  # restored


def test_generate_top_k_keeps_exactly_k_tokens_when_logits_tie():
    # Every logit equal: the old rule (keep all tied with the k-th) sampled from the whole
    # vocabulary; top_k_filter keeps exactly k, the lowest ids, as Chapter 9's decoding does.
    model = GPT(GPTConfig(**{**TINY.__dict__, "tie_weights": False}))
    model.lm_head.weight.data[...] = 0.0
    if model.lm_head.bias is not None:
        model.lm_head.bias.data[...] = 0.0
    out = model.generate(np.zeros((4, 1), dtype=int), 30, top_k=2, rng=0)[:, 1:]
    assert set(np.unique(out)) == {0, 1}


def test_generate_longer_than_block_size_crops_the_context():
    out = GPT(TINY).generate(np.zeros((1, 8), dtype=int), 5, temperature=0.5, rng=0)
    assert out.shape == (1, 13) and out.max() < 8


def test_train_helper_records_history():
    model = GPT(TINY)
    rng = np.random.default_rng(0)

    def get_batch(split):
        x = rng.integers(0, 8, (4, 8))
        return x, x

    hist = train(
        model,
        get_batch,
        6,
        AdamW(model.parameters(), lr=1e-2),
        lr_schedule=lambda s: warmup_cosine_lr(s, 1e-2, 2, 6),
        eval_every=4,
        eval_batches=2,
        progress=False,
    )
    assert len(hist.train_loss) == len(hist.lr) == len(hist.grad_norm) == 6
    assert hist.val_steps == [4, 6] and len(hist.val_loss) == 2
    assert hist.lr[:3] == [5e-3, 1e-2, 1e-2]
    assert model.training


def test_char_gpt_beats_a_counted_bigram_model():
    from genai_notes.data import corpus_text, entropy

    text = corpus_text(3000, seed=0)
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    split = int(0.9 * len(ids))
    train_ids, val_ids = ids[:split], ids[split:]
    vocab = len(chars)
    # independent route: a bigram model by counting, with add-0.1 smoothing
    counts = np.full((vocab, vocab), 0.1)
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)
    probs = counts / counts.sum(axis=1, keepdims=True)
    bigram_val = -np.mean(np.log(probs[val_ids[:-1], val_ids[1:]]))

    cfg = GPTConfig(vocab_size=vocab, block_size=32, n_layers=2, n_heads=4, d_model=48)
    model = GPT(cfg)
    rng = np.random.default_rng(0)

    def get_batch(split_name):
        data = train_ids if split_name == "train" else val_ids
        starts = rng.integers(0, len(data) - cfg.block_size - 1, 32)
        window = starts[:, None] + np.arange(cfg.block_size)
        return data[window], data[window + 1]

    steps = 250
    hist = train(
        model,
        get_batch,
        steps,
        AdamW(model.parameters(), lr=3e-3, weight_decay=0.01),
        lr_schedule=lambda s: warmup_cosine_lr(s, 3e-3, 20, steps, 3e-4),
        eval_every=steps,
        eval_batches=20,
        progress=False,
    )
    gpt_val = hist.val_loss[-1]
    print(f"\nchar GPT val loss {gpt_val:.3f} vs counted bigram {bigram_val:.3f}")
    assert gpt_val < bigram_val - 0.3, (gpt_val, bigram_val)
    assert gpt_val > entropy(unit="char").per_token - 0.05  # cannot beat the source's entropy


@pytest.mark.parametrize(
    ("config", "error", "match"),
    [
        (GPTConfig(d_model=30, n_heads=4), ValueError, "n_heads: d_model=30"),
        (GPTConfig(dropout=1.5), ValueError, "dropout: expected a number <= 1"),
        (GPTConfig(vocab_size=0), ValueError, "vocab_size: expected a positive integer"),
        (GPTConfig(block_size=2.5), TypeError, "block_size: expected a positive integer"),
        (GPTConfig(d_ff=0), ValueError, "d_ff: expected a positive integer"),
    ],
)
def test_bad_config(config, error, match):
    with pytest.raises(error, match=match):
        GPT(config)


@pytest.mark.parametrize(
    ("idx", "error", "match"),
    [
        (np.zeros((1, 9), dtype=int), ValueError, "idx: sequence length 9 exceeds block_size=8"),
        (np.full((1, 3), 8), ValueError, r"idx: expected token ids in \[0, 8\)"),
        (np.zeros((1, 3)), TypeError, "idx: expected integer"),
        (np.zeros(3, dtype=int), ValueError, "idx: expected a 2-D array"),
    ],
)
def test_bad_idx(idx, error, match):
    with pytest.raises(error, match=match):
        GPT(TINY)(idx)


def test_bad_generate_arguments_and_config_type():
    model = GPT(TINY)
    with pytest.raises(ValueError, match="temperature: expected a number > 0"):
        model.generate(np.zeros((1, 1), dtype=int), 2, temperature=0.0)
    with pytest.raises(ValueError, match="top_k: expected a positive integer"):
        model.generate(np.zeros((1, 1), dtype=int), 2, top_k=0)
    with pytest.raises(TypeError, match="config: expected a GPTConfig"):
        GPT({"vocab_size": 3})
    with pytest.raises(ValueError, match="targets: expected shape"):
        model.loss(np.zeros((1, 3), dtype=int), np.zeros((1, 2), dtype=int))
    assert isinstance(model(np.zeros((1, 1), dtype=int)), Tensor)
