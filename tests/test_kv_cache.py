"""The GPT's KV cache: cached logits equal the full forward's (to 1e-6, float32), cached
generation gives identical tokens, the block-size rule (the window slides and recomputes),
the fused model, the cache's shapes, and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.gpt import GPT, GPTConfig, KVCache

SMALL = GPTConfig(vocab_size=13, block_size=12, n_layers=2, n_heads=2, d_model=16, seed=3)


def config(**changes) -> GPTConfig:
    return GPTConfig(**{**SMALL.__dict__, **changes})


def trained_looking(model: GPT, seed: int = 0, scale: float = 0.1) -> GPT:
    """Add noise to the weights so that logits spread as in a trained model (the GPT-2
    initialisation gives near-uniform logits, which would make the comparison too easy)."""
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p.data[...] = p.data + rng.normal(0.0, scale, p.shape).astype(p.data.dtype)
    return model


@pytest.mark.parametrize("chunks", [[12], [1] * 12, [5, 1, 1, 5], [3, 4, 5], [11, 1]])
@pytest.mark.parametrize("changes", [{}, {"tie_weights": True}, {"fused": True}])
def test_cached_logits_equal_the_full_forward(chunks, changes):
    model = trained_looking(GPT(config(**changes)))
    ids = np.random.default_rng(1).integers(0, 13, (3, 12))
    full = model(ids).data  # (batch, seq, vocab), the uncached forward
    cache = KVCache.for_model(model, batch=3)
    pieces, start = [], 0
    for n in chunks:
        pieces.append(model.forward_cached(ids[:, start : start + n], cache))
        start += n
    cached = np.concatenate(pieces, axis=1)
    assert cached.shape == full.shape and cached.dtype == np.float32
    assert np.abs(full).max() > 0.5  # logits far from uniform
    np.testing.assert_allclose(cached, full, rtol=0, atol=1e-6)


@pytest.mark.parametrize("fused", [False, True])
def test_cached_logits_agree_to_1e_6_of_their_scale_when_logits_are_large(fused):
    # float32 round-off grows with the logits (one-row products and many-row products sum
    # in different orders): the bound is 1e-6 of the largest logit
    model = trained_looking(GPT(config(fused=fused)), scale=0.3)
    ids = np.random.default_rng(1).integers(0, 13, (3, 12))
    full = model(ids).data
    cache = KVCache.for_model(model, batch=3)
    steps = [model.forward_cached(ids[:, t : t + 1], cache) for t in range(12)]
    scale = np.abs(full).max()
    assert scale > 3.0
    assert np.abs(np.concatenate(steps, axis=1) - full).max() < 1e-6 * scale


def test_the_fused_model_caches_through_the_plain_step():
    plain = trained_looking(GPT(SMALL))
    fused = GPT(config(fused=True))
    fused.load_state_dict(plain.state_dict())
    ids = np.random.default_rng(2).integers(0, 13, (2, 9))
    cache = KVCache.for_model(fused, batch=2)
    np.testing.assert_allclose(fused.forward_cached(ids, cache), fused(ids).data, rtol=0, atol=1e-5)
    a = fused.generate(ids[:, :2], 20, rng=0, use_cache=True)
    np.testing.assert_array_equal(a, plain.generate(ids[:, :2], 20, rng=0, use_cache=True))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_cached_generation_gives_identical_tokens(seed):
    model = trained_looking(GPT(SMALL), seed=seed)
    prompt = np.random.default_rng(seed).integers(0, 13, (4, 3))
    for kwargs in ({}, {"temperature": 0.7}, {"top_k": 3}, {"temperature": 2.0, "top_k": 5}):
        # 25 new tokens: the context passes block_size = 12 and the window slides
        a = model.generate(prompt, 25, rng=seed, **kwargs)
        b = model.generate(prompt, 25, rng=seed, use_cache=True, **kwargs)
        np.testing.assert_array_equal(a, b)


def test_each_cached_step_matches_the_uncached_forward_of_its_prefix():
    model = trained_looking(GPT(SMALL))
    ids = model.generate(np.array([[1], [2]]), 11, rng=0, use_cache=True)  # (2, 12)
    cache = KVCache.for_model(model, batch=2)
    model.forward_cached(ids[:, :1], cache)
    for t in range(1, 12):
        step = model.forward_cached(ids[:, t : t + 1], cache)[:, 0]  # (batch, vocab)
        np.testing.assert_allclose(step, model(ids[:, : t + 1]).data[:, -1], atol=1e-6)


def test_the_cache_holds_every_layers_keys_and_values_in_place():
    model = GPT(SMALL)
    cache = KVCache.for_model(model, batch=2)
    assert len(cache.keys) == len(cache.values) == SMALL.n_layers
    assert cache.keys[0].shape == (2, SMALL.n_heads, SMALL.block_size, 8)  # d_head = 16 / 2
    arrays = [id(a) for a in cache.keys + cache.values]
    ids = np.array([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]])
    model.forward_cached(ids[:, :3], cache)
    model.forward_cached(ids[:, 3:], cache)
    assert cache.length == 5
    assert [id(a) for a in cache.keys + cache.values] == arrays  # written in place
    # the cached keys of layer 0 are the first block's key projection of LN(x)
    x = model.wte.weight.data[ids] + model.wpe.weight.data[:5]  # (batch, seq, d_model)
    block = model.blocks[0]
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    h = (x - mu) / np.sqrt(var + block.ln_attn.eps) * block.ln_attn.weight.data
    h = h + block.ln_attn.bias.data
    d = SMALL.d_model
    k = h @ block.attn.in_proj.weight.data[:, d : 2 * d] + block.attn.in_proj.bias.data[d : 2 * d]
    k = k.reshape(2, 5, SMALL.n_heads, -1).transpose(0, 2, 1, 3)  # (batch, n_heads, seq, d_head)
    np.testing.assert_allclose(cache.keys[0][:, :, :5], k, atol=1e-6)
    assert not cache.keys[0][:, :, 5:].any()  # the rest is still empty


def test_dropout_is_off_in_the_cached_step_and_training_mode_comes_back():
    model = trained_looking(GPT(config(dropout=0.5)))
    ids = np.random.default_rng(3).integers(0, 13, (2, 6))
    model.train()
    cached = model.forward_cached(ids, KVCache.for_model(model, batch=2))
    model.eval()
    np.testing.assert_allclose(cached, model(ids).data, atol=1e-6)
    model.train()
    model.generate(ids, 3, use_cache=True)
    assert model.training


def test_a_full_cache_refuses_more_tokens():
    model = GPT(SMALL)
    cache = KVCache.for_model(model, batch=1)
    model.forward_cached(np.zeros((1, 10), dtype=int), cache)
    with pytest.raises(ValueError, match="idx: the cache holds 10 tokens; 3 more would pass"):
        model.forward_cached(np.zeros((1, 3), dtype=int), cache)
    model.forward_cached(np.zeros((1, 2), dtype=int), cache)  # exactly block_size is fine
    assert cache.length == SMALL.block_size


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m: m.forward_cached(np.zeros((1, 2), int), None), TypeError, "cache: expected"),
        (
            lambda m: m.forward_cached(np.zeros((2, 2), int), KVCache.for_model(m, 1)),
            ValueError,
            "cache: made for 1 rows",
        ),
        (lambda m: m.forward_cached(np.zeros((1, 2)), KVCache.for_model(m, 1)), TypeError, "idx"),
        (lambda m: m.generate(np.zeros((1, 2), int), 2, use_cache=1), TypeError, "use_cache"),
        (lambda m: KVCache(0, 1, 1, 1, 1), ValueError, "n_layers"),
        (lambda m: KVCache(1, 1, 1, 1, 2.0), TypeError, "d_head"),
        (lambda m: KVCache(10**4, 10**3, 8, 10**3, 64), ValueError, "would hold"),
    ],
)
def test_bad_cache_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call(GPT(SMALL))
