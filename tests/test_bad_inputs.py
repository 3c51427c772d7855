"""Every bad input to the engine, the layers, attention and sampling gets the project's own
ValueError or TypeError naming the argument, or a documented finite result: never NaN, a
hang, or an error from deep inside NumPy. The cases are the ones a learner met (issue 10,
section 5), then a property test throws random bad inputs at every public function."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genai_notes import attention, sampling
from genai_notes.autograd import Tensor, exp, fused, gelu, gradcheck, relu, split, tanh
from genai_notes.autograd import functional as F
from genai_notes.autograd.shape_ops import scatter_add_rows
from genai_notes.embeddings import skipgram_pairs
from genai_notes.embeddings.pooling import embed_sentences
from genai_notes.gpt import GPT, GPTConfig
from genai_notes.nn import AdamW, Linear, clip_grad_norm, train

TINY = GPTConfig(vocab_size=5, block_size=4, n_layers=1, n_heads=1, d_model=4)


def _param(grad) -> Tensor:
    p = Tensor(np.zeros(2), requires_grad=True)
    p.grad = grad
    return p


def _train_with_lr(lr):
    model = Linear(2, 2, rng=0)
    batch = lambda split: (Tensor(np.eye(2)), np.array([0, 1]))  # noqa: E731
    opt = AdamW(model.parameters())
    return train(model, batch, 1, opt, lr_schedule=lambda s: lr, progress=False, speedups=False)


def _adamw_step_with(grad):
    p = Tensor(np.zeros((2, 2)), requires_grad=True)
    p.grad = grad
    AdamW([p]).step()


ones = np.ones((1, 2, 4))
CASES = [
    # divisions by zero
    (
        lambda: attention.scaled_dot_product_attention(
            np.ones((2, 0)), np.ones((2, 0)), np.ones((2, 1))
        ),
        ValueError,
        "q: expected d_k >= 1",
    ),
    (
        lambda: F.scaled_dot_product_attention(
            Tensor(np.ones((2, 0))), Tensor(np.ones((2, 0))), Tensor(np.ones((2, 1)))
        ),
        ValueError,
        "q: expected d_k >= 1",
    ),
    (
        lambda: GPT(TINY)(np.zeros((1, 0), dtype=int)),
        ValueError,
        "idx: expected at least one token",
    ),
    (
        lambda: GPT(TINY).generate(np.zeros((1, 0), dtype=int), 2),
        ValueError,
        "idx: expected at least one token",
    ),
    (
        lambda: fused.multi_head_attention(Tensor(np.ones((1, 0, 12))), None, 2),
        ValueError,
        "at least one position",
    ),
    (lambda: Tensor(np.zeros((0, 3))).mean(), ValueError, "averages no entries"),
    (
        lambda: AdamW([Tensor([1.0], requires_grad=True)], betas=(1.0, 0.999)),
        ValueError,
        r"betas\[0\]: expected a number < 1",
    ),
    # sampling validates its distributions
    (
        lambda: sampling.sample_categorical(np.array([-0.5, 1.5]), 0),
        ValueError,
        "probs: expected non-negative",
    ),
    (
        lambda: sampling.sample_categorical(np.array([0.0, 0.0]), 0),
        ValueError,
        "probs: expected each row to sum to 1",
    ),
    (
        lambda: sampling.sample_categorical(np.array([2.0, 2.0]), 0),
        ValueError,
        "probs: expected each row to sum to 1",
    ),
    (
        lambda: sampling.sample_categorical(np.zeros((2, 0)), 0),
        ValueError,
        "probs: expected at least one option",
    ),
    (
        lambda: sampling.sample_categorical(np.array(1.0), 0),
        ValueError,
        "probs: expected at least one option",
    ),
    # silent NaN from finite inputs
    (
        lambda: clip_grad_norm([_param(np.array([np.inf, 1.0], np.float32))], 1.0),
        ValueError,
        "gradient norm is inf",
    ),
    (
        lambda: attention.scaled_dot_product_attention(
            np.full((1, 2), np.nan), np.ones((1, 2)), np.ones((1, 1))
        ),
        ValueError,
        "q: expected finite values",
    ),
    (
        lambda: attention.scaled_dot_product_attention(
            np.ones((1, 2)), np.ones((1, 2)), np.full((1, 1), np.inf)
        ),
        ValueError,
        "v: expected finite values",
    ),
    (lambda: _train_with_lr(-1.0), ValueError, r"lr_schedule\(0\): expected a number >= 0"),
    (
        lambda: _train_with_lr(float("nan")),
        ValueError,
        r"lr_schedule\(0\): expected a finite number",
    ),
    # AttributeError on plain arrays and lists
    (lambda: F.linear(np.ones((2, 3)), Tensor(np.ones((3, 2)))), TypeError, "x: expected a Tensor"),
    (
        lambda: F.layer_norm(np.ones((2, 3)), Tensor(np.ones(3)), Tensor(np.zeros(3))),
        TypeError,
        "x: expected a Tensor",
    ),
    (
        lambda: F.cross_entropy(np.ones((2, 3)), np.array([0, 1])),
        TypeError,
        "logits: expected a Tensor",
    ),
    (
        lambda: fused.layer_norm_linear(
            np.ones((2, 3)), Tensor(np.ones(3)), Tensor(np.zeros(3)), Tensor(np.ones((3, 2)))
        ),
        TypeError,
        "x: expected a Tensor",
    ),
    (lambda: exp([1.0, 2.0]), TypeError, "x: expected a Tensor"),
    (lambda: tanh([1.0]), TypeError, "x: expected a Tensor"),
    (lambda: relu([1.0]), TypeError, "x: expected a Tensor"),
    (lambda: gelu([1.0]), TypeError, "x: expected a Tensor"),
    (lambda: clip_grad_norm([np.ones(2)], 1.0), TypeError, "params: item 0 is not a Tensor"),
    (lambda: train(Linear(2, 2, rng=0), lambda s: None, 1, None), TypeError, "optimizer: expected"),
    (
        lambda: embed_sentences(["the king"], None, np.ones((3, 2))),
        TypeError,
        "vocab: expected a Vocabulary",
    ),
    # NumPy's own AxisError, IndexError and broadcast messages
    (
        lambda: attention.softmax(np.ones(3), axis=5),
        ValueError,
        "axis: expected an axis of a 1-d array",
    ),
    (
        lambda: Tensor(np.ones((2, 3))).transpose(0, 5),
        ValueError,
        r"axes: expected a permutation of range\(2\)",
    ),
    (lambda: scatter_add_rows(0, 1.0, 3), ValueError, "ids: expected a 1-D array"),
    (
        lambda: F.layer_norm(Tensor(1.0), Tensor(np.ones(1)), Tensor(np.zeros(1))),
        ValueError,
        "x: expected shape",
    ),
    (
        lambda: split(Tensor(np.ones((2, 4))), 2, axis=5),
        ValueError,
        "axis: expected an axis of a 2-d array",
    ),
    (lambda: attention.softmax(np.ones((2, 0))), ValueError, "x: expected at least one entry"),
    (
        lambda: _adamw_step_with(np.ones((3, 2), np.float32)),
        ValueError,
        r"params: item 0 of shape \(2, 2\)",
    ),
    (
        lambda: AdamW([Tensor([1.0], requires_grad=True)], betas=0.9),
        TypeError,
        "betas: expected a pair",
    ),
    (lambda: clip_grad_norm([_param(np.array([1, 2]))], 1.0), TypeError, "not a float array"),
    (lambda: gradcheck("not a function", [np.ones(2)]), TypeError, "fn: expected a function"),
    (
        lambda: F.layer_norm(Tensor(np.ones((2, 0))), Tensor(np.ones(0)), Tensor(np.zeros(0))),
        ValueError,
        "d >= 1",
    ),
    (lambda: Tensor(np.ones((2, 3))).sum(axis=(0, 0)), ValueError, "axis: expected each axis once"),
    # absurd sizes, refused before allocating
    (lambda: attention.causal_mask(10**6), ValueError, "seq: an array of shape"),
    (lambda: Linear(10**6, 10**5, rng=0), ValueError, "d_in, d_out: an array of shape"),
    # lists where arrays are expected
    (lambda: attention.split_heads([[1.0, 2.0]], 1), ValueError, "x: expected a 3-D array"),
    (lambda: attention.merge_heads([[1.0]]), ValueError, "x: expected a 4-D array"),
]


@pytest.mark.parametrize(("call", "error", "match"), CASES, ids=[c[2][:40] for c in CASES])
def test_bad_input_gets_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_split_and_merge_heads_accept_lists_of_numbers():
    heads = attention.split_heads(np.arange(8.0).reshape(1, 2, 4).tolist(), 2)
    assert heads.shape == (1, 2, 2, 2)


def test_a_huge_window_does_not_loop_over_offsets_that_cannot_pair():
    centres, contexts = skipgram_pairs([1, 2], [0, 0], window=10**9)
    assert centres.tolist() == [1, 2] and contexts.tolist() == [2, 1]


def test_a_tiny_temperature_is_greedy_not_nan():
    probs = sampling.apply_temperature(np.array([0.5, 0.5]), 1e-310)
    np.testing.assert_allclose(probs, [0.5, 0.5])  # a tie stays a tie
    probs = sampling.apply_temperature(np.array([0.6, 0.3, 0.1]), 1e-310)
    np.testing.assert_array_equal(probs, [1.0, 0.0, 0.0])


def test_gelu_has_a_finite_gradient_for_huge_inputs():
    x = Tensor([-1e30, 1e30], requires_grad=True)
    gelu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


# -- planted bugs that the suite once let through ------------------------------------------


def test_scatter_add_rows_with_repeated_ids_far_apart_in_the_large_table_path():
    n_rows = 1 << 14  # ids.size * n_rows above the one-hot limit: the sorting path
    ids = np.array([3, 900, 3, 17, 900, 3] * 10)
    rows = np.random.default_rng(0).standard_normal((ids.size, 2))
    expected = np.zeros((n_rows, 2))
    np.add.at(expected, ids, rows)
    np.testing.assert_allclose(scatter_add_rows(ids, rows, n_rows), expected, rtol=1e-12)


def test_generate_at_a_tiny_temperature_is_greedy_decoding():
    model = GPT(GPTConfig(vocab_size=7, block_size=6, n_layers=1, n_heads=1, d_model=8, seed=3))
    start = np.array([[1, 2]])
    sampled = model.generate(start, 4, temperature=1e-4, rng=0)
    greedy = start
    for _ in range(4):
        logits = model(greedy[:, -6:]).data[:, -1]
        greedy = np.concatenate([greedy, logits.argmax(axis=-1)[:, None]], axis=1)
    np.testing.assert_array_equal(sampled, greedy)
    hot = [model.generate(start, 4, temperature=50.0, rng=s)[0, 2:].tolist() for s in range(6)]
    assert len({tuple(h) for h in hot}) > 1  # a high temperature really samples


# -- property test: random bad inputs ------------------------------------------------------

OUR_ERRORS = (ValueError, TypeError)

bad_arrays = st.one_of(
    st.just(np.array([])),
    st.just(np.array(3.0)),
    st.just(np.full((2, 3), np.nan)),
    st.just(np.full((2, 3), np.inf)),
    st.just(np.zeros((2, 0))),
    st.just(np.array([["a", "b"]])),
    st.just(np.array([1 + 1j, 2])),
    st.just([[1.0, 2.0], [3.0]]),
    st.just(None),
    st.just("text"),
    st.integers(-5, 5),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
    st.builds(
        lambda shape: np.ones(shape), st.lists(st.integers(0, 3), min_size=0, max_size=4).map(tuple)
    ),
)

FUNCTIONS = {
    "softmax": lambda a: attention.softmax(a),
    "softmax_backward": lambda a: attention.softmax_backward(a, a),
    "sdpa": lambda a: attention.scaled_dot_product_attention(a, a, a),
    "causal_mask": lambda a: attention.causal_mask(a),
    "padding_mask": lambda a: attention.padding_mask(a, 3),
    "split_heads": lambda a: attention.split_heads(a, 2),
    "merge_heads": lambda a: attention.merge_heads(a),
    "apply_temperature": lambda a: sampling.apply_temperature(a, 0.5),
    "sample_categorical": lambda a: sampling.sample_categorical(a, 0),
    "Tensor": lambda a: Tensor(a),
    "exp": lambda a: exp(Tensor(a)),
    "gelu": lambda a: gelu(Tensor(a)),
    "F.softmax": lambda a: F.softmax(Tensor(a)),
    "F.log_softmax": lambda a: F.log_softmax(Tensor(a)),
    "F.layer_norm": lambda a: F.layer_norm(Tensor(a), Tensor(np.ones(3)), Tensor(np.zeros(3))),
    "F.linear": lambda a: F.linear(Tensor(a), Tensor(np.ones((3, 2)))),
    "F.cross_entropy": lambda a: F.cross_entropy(Tensor(a), np.zeros(np.shape(a)[:-1], int)),
    "sum": lambda a: Tensor(a).sum(axis=1),
    "mean": lambda a: Tensor(a).mean(),
    "transpose": lambda a: Tensor(a).transpose(1, 0),
    "GPT": lambda a: GPT(TINY)(a),
    "Linear": lambda a: Linear(3, 2, rng=0)(Tensor(a)),
    "load_state_dict": lambda a: Linear(3, 2, rng=0).load_state_dict({"weight": a, "bias": a}),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=bad_arrays)
def test_public_functions_give_our_errors_or_finite_results(name, value):
    try:
        result = FUNCTIONS[name](value)
    except OUR_ERRORS as exc:
        assert type(exc).__module__ in ("builtins", "genai_notes.nn.checkpoint"), exc
        assert ":" in str(exc), f"the message should name the argument: {exc}"
        return
    outputs = result if isinstance(result, tuple) else (result,)
    for out in outputs:
        data = out.data if isinstance(out, Tensor) else np.asarray(out)
        if data.dtype.kind == "f":
            assert np.isfinite(data).all() or name in ("Tensor", "exp", "gelu"), data
