"""Chapter 7 exercises: the references agree with the package, every typical mistake gets its
own diagnosis, and right answers written differently pass."""

import numpy as np

from genai_notes.autograd import Tensor
from genai_notes.exercises import ch07
from genai_notes.nn import Block
from genai_notes.transformer import TransformerConfig, count_parameters, decoder_mask, shift_right


def test_encoder_layer_count_matches_the_package():
    for d_model, d_ff in [(512, 2048), (8, 32), (6, 10)]:
        config = dict(src_vocab_size=10, tgt_vocab_size=10, d_model=d_model, n_heads=2, d_ff=d_ff)
        one = count_parameters(TransformerConfig(**config, n_layers=1, n_decoder_layers=1))
        two = count_parameters(TransformerConfig(**config, n_layers=2, n_decoder_layers=1))
        assert two["total"] - one["total"] == ch07.encoder_layer_parameters(d_model, d_ff)
        block = Block(d_model, 2, d_ff, rng=0)
        assert block.num_parameters() == ch07.encoder_layer_parameters(d_model, d_ff)


def test_post_ln_reference_equals_the_packages_post_ln_block():
    block = Block(4, 2, d_ff=8, post_ln=True, rng=1).astype(np.float64)
    x = np.random.default_rng(2).normal(size=(3, 4))
    ours = ch07.post_ln_block(
        x,
        lambda z: block.attn(Tensor(z[None], dtype=np.float64)).data[0],
        lambda z: block.ffn(Tensor(z, dtype=np.float64)).data,
        lambda z: block.ln_attn(Tensor(z, dtype=np.float64)).data,
        lambda z: block.ln_ffn(Tensor(z, dtype=np.float64)).data,
    )
    np.testing.assert_allclose(ours, block(Tensor(x[None], dtype=np.float64)).data[0], rtol=1e-12)


def test_decoder_mask_and_shift_match_the_package():
    ids = np.array([[1, 5, 6, 0, 0], [1, 7, 8, 9, 4]])
    np.testing.assert_array_equal(ch07.make_decoder_mask(ids, 0), decoder_mask(ids, 0))
    assert ch07.teacher_forcing([7, 8, 9], 1, 2) == shift_right([7, 8, 9], 1, 2)


# Every reference passing and every listed mistake's own diagnosis are checked for all
# chapters in tests/test_exercises.py; here, what is particular to this chapter.


def test_a_few_mistakes_in_the_learners_own_words():
    def count_without_biases(d_model, d_ff):
        return 4 * d_model**2 + d_model * d_ff * 2 + 2 * 2 * d_model

    assert "biases" in ch07.q1.evaluate(count_without_biases).message

    def mask_on_rows(tgt_in, pad_id):
        seq = tgt_in.shape[1]
        rows = np.repeat((tgt_in != pad_id)[:, :, None], seq, axis=2)
        return rows & np.tri(seq, dtype=bool)

    assert "pad *queries*" in ch07.q3.evaluate(mask_on_rows).message

    def gpt_shift(tgt, bos_id, eos_id):
        ids = [bos_id, *tgt]
        return ids[:-1], ids[1:]

    assert "never learn to stop" in ch07.q4.evaluate(gpt_shift).message


def test_right_answers_written_differently_pass():
    def count(d_model, d_ff):
        linear = lambda i, o: i * o + o  # noqa: E731
        return (
            4 * linear(d_model, d_model)
            + linear(d_model, d_ff)
            + linear(d_ff, d_model)
            + 4 * d_model
        )

    assert ch07.q1.evaluate(count).correct

    def block(x, attn, ffn, ln_1, ln_2):
        h = ln_1(attn(x) + x)
        return ln_2(ffn(h) + h)

    assert ch07.q2.evaluate(block).correct

    def mask(tgt_in, pad_id):
        seq = tgt_in.shape[1]
        i, j = np.arange(seq)[:, None], np.arange(seq)[None, :]
        return (j <= i) & (tgt_in[:, None, :] != pad_id)

    assert ch07.q3.evaluate(mask).correct

    def shift(tgt, bos_id, eos_id):
        ids = [bos_id, *tgt, eos_id]
        return ids[:-1], ids[1:]

    assert ch07.q4.evaluate(shift).correct
