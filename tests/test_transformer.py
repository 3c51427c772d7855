"""The encoder-decoder Transformer of Chapter 7: parameter counts, masks, padding, teacher
forcing, gradients, greedy decoding, the post-LN block and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.attention import softmax
from genai_notes.autograd import Tensor
from genai_notes.nn import AdamW, Block, FeedForward, FusedBlock, train
from genai_notes.transformer import (
    EncoderDecoder,
    TransformerConfig,
    collate,
    count_parameters,
    decoder_mask,
    key_padding_mask,
    shift_right,
    split_distinct,
    translate,
    translation_scores,
)

RNG = np.random.default_rng(7)
PAD, BOS, EOS = 0, 1, 2


def small(**overrides) -> TransformerConfig:
    fields = dict(src_vocab_size=11, tgt_vocab_size=11, d_model=8, n_heads=2, max_len=12)
    return TransformerConfig(**(fields | overrides))


def pairs_batch():
    # Two sentence pairs of different lengths, so both are padded somewhere.
    return [([3, 4, 5, 6], [7, 8]), ([9, 3], [10, 4, 5, 7])]


# --- counting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"post_ln": True},
        {"shared_embeddings": False, "tgt_vocab_size": 13},
        {"shared_embeddings": False, "tie_output": False, "tgt_vocab_size": 13},
        {"n_layers": 1, "n_decoder_layers": 3, "d_ff": 5},
    ],
)
def test_closed_form_count_equals_the_modules_count(overrides):
    config = small(**overrides)
    assert count_parameters(config)["total"] == EncoderDecoder(config).num_parameters()


def test_the_2017_base_model_by_hand():
    base = TransformerConfig(
        src_vocab_size=37000,
        tgt_vocab_size=37000,
        d_model=512,
        n_heads=8,
        n_layers=6,
        d_ff=2048,
        max_len=8,
        post_ln=True,
    )
    counts = count_parameters(base)
    assert counts["embeddings"] == 18_944_000  # 37,000 rows of 512, shared and tied
    # one encoder layer: 4 projections of 512 x 512 (+ biases), the FFN and two norms
    encoder_layer = 4 * (512 * 512 + 512) + (512 * 2048 + 2048 + 2048 * 512 + 512) + 2 * 1024
    assert encoder_layer == 3_152_384
    decoder_layer = encoder_layer + 4 * (512 * 512 + 512) + 1024
    assert counts["total"] == 18_944_000 + 6 * encoder_layer + 6 * decoder_layer == 63_082_496


# --- masks and batches ---------------------------------------------------------------------


def test_collate_pads_shifts_and_masks_by_hand():
    b = collate(pairs_batch(), PAD, BOS, EOS)
    assert b.src.tolist() == [[3, 4, 5, 6], [9, 3, 0, 0]]
    assert b.tgt_in.tolist() == [[1, 7, 8, 0, 0], [1, 10, 4, 5, 7]]
    assert b.tgt_out.tolist() == [[7, 8, 2, 0, 0], [10, 4, 5, 7, 2]]
    assert b.src_mask.tolist() == [[[True] * 4], [[True, True, False, False]]]
    assert b.tgt_mask.shape == (2, 5, 5)
    # sentence 0: query 4 (a pad) may see keys 0..2 only (key 3 and 4 are pads)
    assert b.tgt_mask[0, 4].tolist() == [True, True, True, False, False]
    assert b.tgt_mask[1].astype(int).tolist() == np.tril(np.ones((5, 5), int)).tolist()
    assert shift_right([5], BOS, EOS) == ([1, 5], [5, 2])


def test_masks_combine_causality_and_padding():
    ids = np.array([[1, 5, 6, 0]])
    assert key_padding_mask(ids, 0).shape == (1, 1, 4)
    m = decoder_mask(ids, 0)[0]
    assert not m[1, 2] and m[2, 1] and not m[3, 3] and m[3, 2]


def test_split_distinct_never_shares_a_pair():
    pairs = [(f"s{i % 7}", f"t{i % 7}") for i in range(30)]
    train_pairs, test_pairs = split_distinct(pairs, 0.3, seed=1)
    assert len(train_pairs) + len(test_pairs) == 7 and len(test_pairs) == 2
    assert not set(train_pairs) & set(test_pairs)


def test_translation_scores_by_hand():
    exact, token = translation_scores(["a b c", "a x", "a b"], ["a b c", "a b", "a b c ."])
    assert exact == pytest.approx(1 / 3)
    assert token == pytest.approx((3 + 1 + 2) / 9)


# --- the model -----------------------------------------------------------------------------


def test_encoder_gives_one_vector_per_source_token():
    model = EncoderDecoder(small())
    src = np.array([[3, 4, 5, 6, 7]])
    assert model.encode(src).shape == (1, 5, 8)


@pytest.mark.parametrize("post_ln", [False, True])
def test_padding_does_not_change_the_real_tokens(post_ln):
    model = EncoderDecoder(small(post_ln=post_ln)).astype(np.float64)
    pairs = pairs_batch()
    both = collate(pairs, PAD, BOS, EOS)
    logits = model(both.src, both.tgt_in).data
    losses, counts = [], []
    for i, pair in enumerate(pairs):
        alone = collate([pair], PAD, BOS, EOS)
        own = model(alone.src, alone.tgt_in).data
        n = alone.tgt_in.shape[1]
        np.testing.assert_allclose(logits[i, :n], own[0], rtol=1e-10, atol=1e-12)
        losses.append(model.loss((alone.src, alone.tgt_in), alone.tgt_out).item())
        counts.append(n)
    padded = model.loss((both.src, both.tgt_in), both.tgt_out).item()
    # the batch's loss is the mean over real target tokens: the count-weighted mean
    assert padded == pytest.approx(np.dot(losses, counts) / sum(counts), rel=1e-12)


def test_the_decoder_cannot_see_later_target_tokens():
    model = EncoderDecoder(small()).astype(np.float64)
    src = np.array([[3, 4, 5]])
    a = model(src, np.array([[1, 6, 7, 8]])).data
    b = model(src, np.array([[1, 6, 9, 10]])).data
    np.testing.assert_allclose(a[0, :2], b[0, :2], rtol=1e-12)
    assert not np.allclose(a[0, 2], b[0, 2])


def test_cross_attention_weights_are_rows_of_a_softmax_that_skip_padding():
    model = EncoderDecoder(small(n_decoder_layers=3))
    b = collate(pairs_batch(), PAD, BOS, EOS)
    w = model.cross_attention_weights(b.src, b.tgt_in)
    assert w.shape == (3, 2, 2, 5, 4)  # (layers, batch, heads, tgt, src)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-5)
    assert np.all(w[:, 1, :, :, 2:] == 0.0)  # sentence 1's padded source keys
    assert all(block.cross.weights is None for block in model.decoder.blocks)


def test_kept_weights_equal_attention_computed_by_hand():
    model = EncoderDecoder(small(n_layers=1)).astype(np.float64)
    src, tgt_in = np.array([[3, 4, 5]]), np.array([[1, 6]])
    memory = model.encode(src).data
    layer = model.decoder.blocks[0]
    # the cross-attention's input: after self-attention, through its LayerNorm (pre-LN)
    y = model.embed(tgt_in, model.tgt_embed)
    y = y + layer.attn(layer.ln_attn(y), mask=decoder_mask(tgt_in, PAD))
    h = layer.ln_cross(y).data[0]  # (tgt, d_model)
    w, b, d = layer.cross.in_proj.weight.data, layer.cross.in_proj.bias.data, 8
    q = h @ w[:, :d] + b[:d]
    k = memory[0] @ w[:, d : 2 * d] + b[d : 2 * d]
    head0 = softmax(q[:, :4] @ k[:, :4].T / 2.0)  # head 0: channels 0..3, √d_head = 2
    got = model.cross_attention_weights(src, tgt_in)[0, 0, 0]
    np.testing.assert_allclose(got, head0, rtol=1e-10)


def test_post_ln_block_against_a_numpy_reference():
    block = Block(8, 2, d_ff=16, post_ln=True, activation="relu", rng=3).astype(np.float64)
    x = RNG.standard_normal((1, 3, 8))

    def ln(z, norm):
        z = (z - z.mean(-1, keepdims=True)) / np.sqrt(z.var(-1, keepdims=True) + norm.eps)
        return z * norm.weight.data + norm.bias.data

    def mha(z):
        w, b = block.attn.in_proj.weight.data, block.attn.in_proj.bias.data
        q, k, v = np.split(z[0] @ w + b, 3, axis=-1)
        heads = [softmax(q[:, s] @ k[:, s].T / 2.0) @ v[:, s] for s in (slice(0, 4), slice(4, 8))]
        return np.concatenate(heads, -1) @ block.attn.out_proj.weight.data + (
            block.attn.out_proj.bias.data
        )

    def ffn(z):
        f = block.ffn
        hidden = np.maximum(z @ f.fc_in.weight.data + f.fc_in.bias.data, 0.0)
        return hidden @ f.fc_out.weight.data + f.fc_out.bias.data

    h = ln(x[0] + mha(x), block.ln_attn)
    expected = ln(h + ffn(h), block.ln_ffn)
    np.testing.assert_allclose(block(Tensor(x, dtype=np.float64)).data[0], expected, rtol=1e-10)


@pytest.mark.parametrize("post_ln", [False, True])
def test_gradients_through_a_two_layer_model_with_padding(post_ln):
    model = EncoderDecoder(small(n_layers=2, post_ln=post_ln, d_ff=12, seed=4)).astype(np.float64)
    b = collate(pairs_batch(), PAD, BOS, EOS)
    inputs = (b.src, b.tgt_in)
    model.loss(inputs, b.tgt_out).backward()
    rng = np.random.default_rng(0)
    checked = 0
    for name, p in model.named_parameters():
        analytic = p.grad
        for _ in range(3):  # three random entries of every parameter
            i = tuple(int(rng.integers(0, n)) for n in p.shape)
            old = p.data[i]
            p.data[i] = old + 1e-6
            plus = model.loss(inputs, b.tgt_out).item()
            p.data[i] = old - 1e-6
            minus = model.loss(inputs, b.tgt_out).item()
            p.data[i] = old
            numeric = (plus - minus) / 2e-6
            scale = max(abs(numeric), abs(analytic[i]), 1e-4)
            assert abs(analytic[i] - numeric) / scale < 1e-5, (name, i, analytic[i], numeric)
            checked += 1
    assert checked == 3 * len(model.parameters())


def test_a_tiny_model_overfits_a_batch_and_translates_it():
    pairs = [([3, 4, 5], [6, 7, 8, 9]), ([4, 3], [7, 6]), ([5, 5, 3, 4], [10, 8, 6])]
    model = EncoderDecoder(small(d_model=16, n_heads=2, seed=1))
    b = collate(pairs, PAD, BOS, EOS)
    history = train(
        model,
        lambda split: ((b.src, b.tgt_in), b.tgt_out),
        steps=150,
        optimizer=AdamW(model.parameters(), lr=1e-2),
        progress=False,
        speedups=False,
    )
    assert history.train_loss[-1] < 0.02 < history.train_loss[0]
    assert translate(model, [s for s, _ in pairs], max_len=6) == [t for _, t in pairs]


def _always(token: int) -> EncoderDecoder:
    """A model whose every prediction is ``token``: final norm constant, head one-hot."""
    model = EncoderDecoder(small(tie_output=False, shared_embeddings=False))
    model.decoder.ln_f.weight.data[:] = 0.0
    model.decoder.ln_f.bias.data[:] = 1.0
    model.out.weight.data[:] = 0.0
    model.out.weight.data[:, token] = 1.0
    return model


def test_translate_stops_at_eos_and_at_max_len():
    sources = [[3, 4], [5, 6, 7]]
    assert translate(_always(EOS), sources, max_len=5) == [[], []]
    assert translate(_always(9), sources, max_len=5) == [[9] * 5, [9] * 5]


def test_batched_greedy_equals_one_sentence_at_a_time():
    model = EncoderDecoder(small(seed=2))
    sources = [[3, 4, 5, 6], [7], [8, 9, 3]]
    together = translate(model, sources, max_len=6)
    assert together == [translate(model, [s], max_len=6)[0] for s in sources]


# --- bad inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, error, words",
    [
        ({"d_model": 7}, ValueError, "d_model"),
        ({"n_heads": 3}, ValueError, "d_model"),
        ({"tgt_vocab_size": 13}, ValueError, "shared_embeddings"),
        ({"eos_id": 0}, ValueError, "pad_id, bos_id, eos_id"),
        ({"bos_id": 11}, ValueError, "bos_id"),
        ({"dropout": 1.5}, ValueError, "dropout"),
        ({"post_ln": 1}, TypeError, "post_ln"),
        ({"activation": "tanh"}, ValueError, "activation"),
        ({"n_decoder_layers": 0}, ValueError, "decoder_layers"),
    ],
)
def test_bad_configs_name_the_field(overrides, error, words):
    with pytest.raises(error, match=words):
        EncoderDecoder(small(**overrides))


def test_bad_calls_name_the_argument():
    model = EncoderDecoder(small())
    with pytest.raises(TypeError, match="config"):
        EncoderDecoder({"d_model": 8})
    with pytest.raises(ValueError, match="src: expected token ids in"):
        model.encode(np.array([[3, 11]]))
    with pytest.raises(ValueError, match="src: expected 1 to max_len"):
        model.encode(np.zeros((1, 13), dtype=int))
    with pytest.raises(TypeError, match="src"):
        model.encode(np.array([[3.0, 4.0]]))
    with pytest.raises(ValueError, match="memory"):
        model.decode(np.array([[1]]), model.encode(np.array([[3, 4]])), np.array([[3, 4, 5]]))
    with pytest.raises(TypeError, match="model"):
        translate("model", [[3]], max_len=3)
    with pytest.raises(ValueError, match="max_len"):
        translate(model, [[3]], max_len=12)
    with pytest.raises(TypeError, match="sentences"):
        translate(model, "the cat", max_len=3)
    with pytest.raises(TypeError, match="pairs"):
        collate([([3], [4], [5])], PAD, BOS, EOS)
    with pytest.raises(ValueError, match="pairs"):
        collate([([], [4])], PAD, BOS, EOS)
    with pytest.raises(TypeError, match="config"):
        count_parameters("base")
    with pytest.raises(ValueError, match="predicted"):
        translation_scores(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="held_out"):
        split_distinct([("a", "b")], 1.5)


def test_block_options_are_checked():
    with pytest.raises(TypeError, match="post_ln"):
        Block(8, 2, post_ln="yes", rng=0)
    with pytest.raises(ValueError, match="post_ln, activation"):
        FusedBlock(8, 2, post_ln=True, rng=0)
    with pytest.raises(ValueError, match="post_ln, activation"):
        FusedBlock(8, 2, activation="relu", rng=0)
    with pytest.raises(ValueError, match="activation"):
        FeedForward(8, 16, activation="swish", rng=0)
