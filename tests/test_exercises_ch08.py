"""Chapter 8 exercises: the references agree with the package (the schedule, the GPT's own
parameter count, the recipe's windows) and with hand values; then each typical mistake,
written as a learner would write it, gets its own diagnosis."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genai_notes import pretrained
from genai_notes.exercises import ch08
from genai_notes.gpt import GPT, GPTConfig
from genai_notes.nn import warmup_cosine_lr


def test_perplexity_by_hand():
    assert ch08.perplexity(0.0, 3.0) == {"per_token": 1.0, "per_char": 1.0}
    out = ch08.perplexity(math.log(8), 3.0)  # 8 choices per token = 2 per character
    assert out["per_token"] == pytest.approx(8.0) and out["per_char"] == pytest.approx(2.0)


def test_make_batch_matches_the_recipes_windows():
    stream = np.arange(100, 160)
    starts = np.array([0, 10, 20, 30, 40])
    x, y = pretrained.random_windows(stream, starts, 6, 8, rng=4)
    begin = x[:, 0] - 100
    ours = ch08.make_batch(stream, begin, 8)
    np.testing.assert_array_equal(ours[0], x)
    np.testing.assert_array_equal(ours[1], y)


@pytest.mark.parametrize("step", [0, 1, 9, 10, 11, 37, 99, 100, 150])
def test_learning_rate_matches_the_package(step):
    assert ch08.learning_rate(step, 3e-3, 10, 100, 3e-4) == pytest.approx(
        warmup_cosine_lr(step, 3e-3, 10, 100, 3e-4), rel=1e-12
    )


def test_training_flops_by_hand():
    assert ch08.training_flops(10, 7) == 420


@pytest.mark.parametrize("shape", [(135, 32, 16, 1, 2), (135, 32, 128, 4, 4), (11, 5, 12, 3, 3)])
def test_gpt_parameters_matches_the_model(shape):
    vocab, block, d, layers, heads = shape
    model = GPT(GPTConfig(vocab_size=vocab, block_size=block, d_model=d, n_layers=layers,
                          n_heads=heads))  # fmt: skip
    assert ch08.gpt_parameters(vocab, block, d, layers) == model.num_parameters()


def test_every_reference_passes_its_own_check():
    for q in (ch08.q1, ch08.q2, ch08.q3, ch08.q4, ch08.q5):
        assert q.evaluate(q.reference).correct, q.name


# --- typical mistakes get specific feedback -----------------------------------------------


def _message(question, answer):
    with np.errstate(all="ignore"):
        feedback = question.evaluate(answer)
    assert feedback.status == "incorrect", feedback
    return feedback.message


def test_perplexity_mistakes():
    def learner(power=math.exp, per=lambda loss, c: loss / c):
        def perplexity(loss, chars_per_token):
            return {"per_token": power(loss), "per_char": power(per(loss, chars_per_token))}

        return perplexity

    assert ch08.q1.evaluate(learner()).correct
    assert "a loss in bits" in _message(ch08.q1, learner(power=lambda v: 2**v))
    assert "exp(+loss)" in _message(ch08.q1, learner(power=lambda v: math.exp(-v)))
    assert "divide by chars_per_token" in _message(ch08.q1, learner(per=lambda v, c: v * c))
    assert "differs from the per-token one" in _message(ch08.q1, learner(per=lambda v, c: v))


def test_make_batch_mistakes():
    def learner(x_from=0, y_from=1, y_len=0, swap=False):
        def make_batch(ids, starts, block_size):
            xs = np.stack([ids[s + x_from : s + x_from + block_size] for s in starts])
            ys = np.stack([ids[s + y_from : s + y_from + block_size - y_len] for s in starts])
            return (ys, xs) if swap else (xs, ys)

        return make_batch

    assert ch08.q2.evaluate(learner()).correct
    assert "learn to copy" in _message(ch08.q2, learner(y_from=0))
    assert "x and y are swapped" in _message(ch08.q2, learner(swap=True))
    assert "two positions later" in _message(ch08.q2, learner(y_from=2))
    assert "one token fewer" in _message(ch08.q2, learner(y_len=1))

    # the previous-token mistake, written with np.roll
    def previous(ids, starts, block_size):
        pos = starts[:, None] + np.arange(block_size)
        return ids[pos], np.roll(ids, 1)[pos]

    assert "tokens *before* each position" in _message(ch08.q2, previous)


def test_learning_rate_mistakes():
    def learner(first=1, begin_at_warmup=True, floor=True, clamp=True, half=0.5):
        def learning_rate(step, max_lr, warmup_steps, total_steps, min_lr):
            if step < warmup_steps:
                return max_lr * (step + first) / warmup_steps
            low = min_lr if floor else 0.0
            if clamp and step >= total_steps:
                return low
            begin = warmup_steps if begin_at_warmup else 0
            frac = (step - begin) / (total_steps - begin)
            return low + half * (max_lr - low) * (1 + np.cos(np.pi * frac))

        return learning_rate

    assert ch08.q3.evaluate(learner()).correct
    assert "at step 0 your rate is 0" in _message(ch08.q3, learner(first=0))
    assert "your cosine starts at step 0" in _message(ch08.q3, learner(begin_at_warmup=False))
    assert "ends at min_lr, not at 0" in _message(ch08.q3, learner(floor=False))
    assert "would rise again" in _message(ch08.q3, learner(clamp=False))
    assert "needs the factor ½" in _message(ch08.q3, learner(half=1.0))


def test_training_flops_mistakes():
    assert ch08.q4.evaluate(lambda n_params, n_tokens: 6.0 * n_params * n_tokens).correct
    assert "forward pass alone" in _message(
        ch08.q4, lambda n_params, n_tokens: 2 * n_params * n_tokens
    )
    assert "multiply *and* an add" in _message(
        ch08.q4, lambda n_params, n_tokens: n_params * n_tokens
    )
    assert "multiply by the number of tokens" in _message(
        ch08.q4, lambda n_params, n_tokens: 6 * n_params
    )
    assert "4·N·D on its own" in _message(
        ch08.q4, lambda n_params, n_tokens: 4 * n_params * n_tokens
    )


def test_gpt_parameters_mistakes():
    def learner(pos=1, head=1, bias=1, norm=1, width=4):
        def gpt_parameters(vocab_size, block_size, d_model, n_layers):
            d = d_model
            per_block = (3 * d * d + bias * 3 * d) + (d * d + bias * d)
            per_block += (d * width * d + bias * width * d) + (width * d * d + bias * d)
            per_block += norm * 4 * d
            return (vocab_size * d + pos * block_size * d + n_layers * per_block
                    + norm * 2 * d + head * d * vocab_size)  # fmt: skip

        return gpt_parameters

    assert ch08.q5.evaluate(learner()).correct
    assert "position table" in _message(ch08.q5, learner(pos=0))
    assert "ties the LM head" in _message(ch08.q5, learner(head=0))
    assert "biases are missing" in _message(ch08.q5, learner(bias=0))
    assert "LayerNorms have parameters too" in _message(ch08.q5, learner(norm=0))
    assert "widens to 4 · d_model" in _message(ch08.q5, learner(width=1))
