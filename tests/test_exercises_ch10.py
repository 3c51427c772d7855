"""Chapter 10 exercises: the references agree with the package, every typical mistake gets its
own diagnosis, and right answers written differently pass."""

import numpy as np
import pytest

from genai_notes.autograd import Tensor
from genai_notes.autograd import functional as F
from genai_notes.bert import BERT, IGNORE, BERTConfig, mask_tokens, mean_pool
from genai_notes.exercises import ch10
from genai_notes.probing import probe_step


def test_masking_reference_equals_the_package_on_its_random_stream():
    rng = np.random.default_rng(3)
    ids = np.concatenate([[11], rng.integers(0, 10, 60), [10, 10]])
    draw = np.random.default_rng(8)
    u, v = draw.random((1, len(ids))), draw.random((1, len(ids)))
    words = draw.integers(0, 10, (1, len(ids)))
    batch = mask_tokens(ids[None], np.random.default_rng(8), mask_id=12, n_ordinary=10)
    inputs, labels = ch10.mask_tokens(ids, u[0], v[0], words[0], 12, 10)
    np.testing.assert_array_equal(inputs, batch.inputs[0])
    np.testing.assert_array_equal(labels, batch.labels[0])
    assert IGNORE == -100


def test_loss_reference_equals_the_engines_cross_entropy():
    logits, inputs, labels, _ = ch10._loss_case(10)
    expected = F.cross_entropy(Tensor(logits, dtype=np.float64), labels, ignore_index=-100)
    assert ch10.mlm_loss(logits, inputs, labels, 12) == pytest.approx(expected.item(), rel=1e-12)


def test_probe_and_pooling_references_equal_the_package():
    w, b, x, y, lr = ch10._probe_case(8, 3)
    ours, package = ch10.probe_step(w, b, x, y, lr), probe_step(w, b, x, y, lr)
    np.testing.assert_allclose(ours[0], package[0], rtol=1e-12)
    assert ours[1] == pytest.approx(package[1], rel=1e-12)
    hidden, real = ch10._pool_case([2, 4], 4, 3)
    np.testing.assert_allclose(ch10.mean_pool(hidden, real), mean_pool(hidden, real), rtol=1e-12)


def test_encoder_mask_reference_equals_the_models_attention_mask():
    ids = np.array([[73, 5, 6, 72, 72], [73, 1, 2, 3, 4]])
    model = BERT(BERTConfig(n_layers=1, d_model=8, n_heads=2, block_size=5))
    expected = np.broadcast_to(model.attention_mask(ids), (2, 5, 5))
    np.testing.assert_array_equal(ch10.encoder_mask(ids, 72), expected)


# Every reference passing and every listed mistake's own diagnosis are checked for all
# chapters in tests/test_exercises.py; here, what is particular to this chapter.


def test_the_package_functions_are_refused():
    from genai_notes import bert

    def wrapped(ids, u, v, random_words, mask_id, n_ordinary):
        batch = bert.mask_tokens(ids[None], 0, mask_id=mask_id, n_ordinary=n_ordinary)
        return batch.inputs[0], batch.labels[0]

    assert "write the masking yourself" in ch10.q1.evaluate(wrapped).message

    def pooled(hidden, real):
        return bert.mean_pool(hidden, real)

    assert "write the pooling yourself" in ch10.q4.evaluate(pooled).message


def test_right_answers_written_differently_pass():
    def masking(ids, u, v, random_words, mask_id, n_ordinary):
        chosen = (ids < n_ordinary) & (u < 0.15)
        inputs = np.select([chosen & (v < 0.8), chosen & (v < 0.9)], [mask_id, random_words], ids)
        return inputs, np.where(chosen, ids, -100)

    assert ch10.q1.evaluate(masking).correct

    def loss(logits, inputs, labels, mask_id):
        rows = np.flatnonzero(labels >= 0)
        z = logits[rows]
        log_z = np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)) + z.max(1)
        return float(np.mean(log_z - z[np.arange(len(rows)), labels[rows]]))

    assert ch10.q2.evaluate(loss).correct

    def step(w, b, features, labels, lr):
        p = 0.5 * (1 + np.tanh((features @ w + b) / 2))
        return w - lr * np.mean((p - labels)[:, None] * features, axis=0), b - lr * np.mean(
            p - labels
        )

    assert ch10.q3.evaluate(step).correct

    def pool(hidden, real):
        return np.stack([h[r].mean(axis=0) for h, r in zip(hidden, real)])

    assert ch10.q4.evaluate(pool).correct

    def mask(ids, pad_id):
        return np.repeat((ids != pad_id)[:, None, :], ids.shape[1], axis=1)

    assert ch10.q5.evaluate(mask).correct
