"""The recurrent models: values worked out by hand and by independent NumPy cells, float64
finite-difference checks of every cell and parameter, closed-form parameter counts (and
PyTorch's published ones), BPTT norms against an explicit product of Jacobians, a tiny model
that overfits, and bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes.autograd import Tensor, concatenate, gradcheck
from genai_notes.data import cue_distance_task, cue_vocabulary
from genai_notes.nn import AdamW, train
from genai_notes.sequence_models import (
    GRU,
    LSTM,
    RNN,
    SequenceClassifier,
    TransformerEncoder,
    parameter_count,
    sigmoid,
    state_gradient_norms,
)

RNG = np.random.default_rng(0)
CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


# --- independent NumPy cells, written from the papers' equations ---------------------------


def numpy_rnn(x, h, w_x, w_h, b):
    out = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ w_x + h @ w_h + b)
        out.append(h)
    return np.stack(out, 1), h


def numpy_lstm(x, h, c, w_x, w_h, b):
    d = h.shape[1]
    out = []
    for t in range(x.shape[1]):
        pre = [x[:, t] @ w_x[:, j * d : (j + 1) * d] + h @ w_h[:, j * d : (j + 1) * d]
               + b[j * d : (j + 1) * d] for j in range(4)]  # fmt: skip
        i, f, g, o = _sig(pre[0]), _sig(pre[1]), np.tanh(pre[2]), _sig(pre[3])
        c = f * c + i * g
        h = o * np.tanh(c)
        out.append(h)
    return np.stack(out, 1), h, c


def numpy_gru(x, h, w_x, w_h, w_hn, b, pytorch_reset=False):
    d = h.shape[1]
    out = []
    for t in range(x.shape[1]):
        z = _sig(x[:, t] @ w_x[:, :d] + h @ w_h[:, :d] + b[:d])
        r = _sig(x[:, t] @ w_x[:, d : 2 * d] + h @ w_h[:, d:] + b[d : 2 * d])
        if pytorch_reset:
            n = np.tanh(x[:, t] @ w_x[:, 2 * d :] + b[2 * d :] + r * (h @ w_hn))
        else:
            n = np.tanh(x[:, t] @ w_x[:, 2 * d :] + (r * h) @ w_hn + b[2 * d :])
        h = z * h + (1 - z) * n
        out.append(h)
    return np.stack(out, 1), h


def _random_params(model):
    for p in model.parameters():
        p.data[...] = RNG.normal(0, 0.7, p.shape)
    return model


def test_sigmoid_is_the_logistic_function():
    # (tanh(a/2) + 1) / 2 is exact up to an absolute rounding error of about 1e-16 near 0
    a = np.linspace(-40, 40, 81)
    np.testing.assert_allclose(
        sigmoid(Tensor(a, dtype=np.float64)).data, _sig(a), rtol=1e-12, atol=1e-15
    )


def test_rnn_one_step_by_hand():
    rnn = RNN(1, 1, rng=0).astype(np.float64)
    rnn.w_x.data[...] = 0.5
    rnn.w_h.data[...] = -2.0
    rnn.bias.data[...] = 0.1
    outputs, h = rnn(Tensor(np.array([[[2.0], [1.0]]]), dtype=np.float64),
                     Tensor(np.array([[0.3]]), dtype=np.float64))  # fmt: skip
    h1 = math.tanh(0.5 * 2.0 - 2.0 * 0.3 + 0.1)  # tanh(0.5)
    h2 = math.tanh(0.5 * 1.0 - 2.0 * h1 + 0.1)
    np.testing.assert_allclose(outputs.data.ravel(), [h1, h2], rtol=1e-14)
    np.testing.assert_allclose(h.data, [[h2]], rtol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_cells_match_independent_numpy_cells(cell):
    model = _random_params(CELLS[cell](3, 4, rng=1).astype(np.float64))
    x = RNG.normal(size=(2, 5, 3))
    h0 = RNG.normal(size=(2, 4))
    c0 = RNG.normal(size=(2, 4))
    xt, ht, ct = (Tensor(a, dtype=np.float64) for a in (x, h0, c0))
    if cell == "rnn":
        outputs, h = model(xt, ht)
        want, want_h = numpy_rnn(x, h0, model.w_x.data, model.w_h.data, model.bias.data)
    elif cell == "lstm":
        outputs, (h, c) = model(xt, (ht, ct))
        ps = (model.w_x.data, model.w_h.data, model.bias.data)
        want, want_h, want_c = numpy_lstm(x, h0, c0, *ps)
        np.testing.assert_allclose(c.data, want_c, rtol=1e-12)
    else:
        outputs, h = model(xt, ht)
        ps = (model.w_x.data, model.w_h.data, model.w_hn.data, model.bias.data)
        want, want_h = numpy_gru(x, h0, *ps)
        # PyTorch's placement of the reset gate is a different function
        other, _ = numpy_gru(x, h0, *ps, pytorch_reset=True)
        assert np.abs(other - want).max() > 1e-3
    np.testing.assert_allclose(outputs.data, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h.data, want_h, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_gradcheck_every_input_and_parameter(cell):
    model = _random_params(CELLS[cell](2, 3, rng=2).astype(np.float64))
    names = [name for name, _ in model.named_parameters()]
    values = [p.data.copy() for p in model.parameters()]
    x = RNG.normal(size=(2, 4, 2))
    h0 = RNG.normal(size=(2, 3)) * 0.5
    c0 = RNG.normal(size=(2, 3)) * 0.5

    def fn(x, h, c, *params):
        for name, p in zip(names, params):
            setattr(model, name, p)
        if cell == "lstm":
            outputs, (h_T, c_T) = model(x, (h, c))
            return concatenate([outputs.reshape(2, -1), c_T], axis=1)
        outputs, _ = model(x, h)
        return outputs + 0.0 * c.sum()  # c is unused; its gradient must be 0

    report = gradcheck(fn, [x, h0, c0, *values])
    assert report.passed, report


def test_gradcheck_classifier_through_the_embedding_and_head():
    model = SequenceClassifier(GRU(2, 3, rng=0), vocab_size=5, n_classes=3, rng=1)
    model.astype(np.float64)
    names = [name for name, _ in model.named_parameters()]
    ids = np.array([[0, 3, 1], [4, 4, 2]])
    labels = np.array([2, 0])

    def set_params(module, params):
        for name, p in zip(names, params):
            *path, last = name.split(".")
            owner = module
            for part in path:
                owner = getattr(owner, part)
            setattr(owner, last, p)

    def fn(*params):
        set_params(model, params)
        return model.loss(ids, labels)

    report = gradcheck(fn, [p.data.copy() for p in model.parameters()])
    assert report.passed, report


@pytest.mark.parametrize(("d_in", "d_hidden"), [(1, 1), (3, 4), (16, 18), (7, 2)])
def test_parameter_counts_in_closed_form(d_in, d_hidden):
    for cell, gates in (("rnn", 1), ("lstm", 4), ("gru", 3)):
        model = CELLS[cell](d_in, d_hidden, rng=0)
        expected = gates * (d_in * d_hidden + d_hidden * d_hidden + d_hidden)
        assert model.num_parameters() == parameter_count(cell, d_in, d_hidden) == expected


def test_pytorch_counts_have_two_biases_per_gate():
    # torch.nn.RNN(10, 20), LSTM(10, 20) and GRU(10, 20) have 640, 2560 and 1920 parameters.
    assert parameter_count("rnn", 10, 20, pytorch=True) == 640
    assert parameter_count("lstm", 10, 20, pytorch=True) == 2560
    assert parameter_count("gru", 10, 20, pytorch=True) == 1920
    assert parameter_count("lstm", 10, 20) == 2560 - 4 * 20


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_recurrent_blocks_have_every_singular_value_equal_to_the_scale(cell, scale):
    model = CELLS[cell](3, 5, rng=3, recurrent_scale=scale)
    blocks = [model.w_h.data[:, j * 5 : (j + 1) * 5] for j in range(model.w_h.shape[1] // 5)]
    if cell == "gru":
        blocks.append(model.w_hn.data)
    assert len(blocks) == {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    for block in blocks:
        np.testing.assert_allclose(np.linalg.svd(block, compute_uv=False), scale, rtol=1e-5)
    if cell == "lstm":
        np.testing.assert_array_equal(model.bias.data[5:10], 1.0)  # the forget gate
        np.testing.assert_array_equal(np.delete(model.bias.data, np.s_[5:10]), 0.0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_initial_state_carries_a_sequence_on(cell):
    model = _random_params(CELLS[cell](2, 3, rng=4).astype(np.float64))
    x = Tensor(RNG.normal(size=(2, 6, 2)), dtype=np.float64)
    whole, final = model(x)
    first, state = model(x[:, :4])
    second, final2 = model(x[:, 4:], state)
    np.testing.assert_allclose(concatenate([first, second], axis=1).data, whole.data)
    np.testing.assert_allclose(model.hidden(final2).data, model.hidden(final).data)


def test_gradient_norms_equal_the_product_of_jacobians():
    rnn = _random_params(RNN(3, 4, rng=5).astype(np.float64))
    x = RNG.normal(size=(1, 7, 3))
    norms = state_gradient_norms(rnn, x, seed=3)
    outputs, _ = numpy_rnn(x, np.zeros((1, 4)), rnn.w_x.data, rnn.w_h.data, rnn.bias.data)
    hs = outputs[0]  # (seq, d_hidden)
    r = np.random.default_rng(3).standard_normal(4)
    g = r / np.linalg.norm(r)  # dL/dh_T
    expected = [1.0]
    for t in range(6, 0, -1):  # dL/dh_{t-1} = dL/dh_t diag(1 - h_t²) W_hᵀ
        g = (g * (1 - hs[t] ** 2)) @ rnn.w_h.data.T
        expected.append(np.linalg.norm(g))
    np.testing.assert_allclose(norms[::-1], expected, rtol=1e-10)


def test_small_recurrent_scale_vanishes_below_its_bound():
    # |tanh'| <= 1 and every singular value of W_h is s, so the norm shrinks at least like s^d.
    rnn = RNN(3, 8, rng=6, recurrent_scale=0.5).astype(np.float64)
    norms = state_gradient_norms(rnn, RNG.normal(size=(2, 20, 3)))[::-1]
    assert np.all(norms <= 0.5 ** np.arange(20) * (1 + 1e-9))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "transformer"])
def test_a_tiny_model_overfits_a_batch(cell):
    vocab = cue_vocabulary(4)
    batch = cue_distance_task(16, k=4, seed=7)
    if cell == "transformer":
        encoder = TransformerEncoder(8, n_heads=2, n_layers=1, max_seq=5, rng=0)
    else:
        encoder = CELLS[cell](8, 12, rng=0)
    model = SequenceClassifier(encoder, vocab_size=len(vocab), n_classes=4, rng=1)
    history = train(
        model,
        lambda split: (batch.ids, batch.labels),
        120,
        AdamW(model.parameters(), lr=2e-2, weight_decay=0.0),
        progress=False,
        speedups=False,
    )
    assert history.train_loss[0] > 1.0 and history.train_loss[-1] < 0.05


def test_lstm_gate_values_are_the_forward_pass():
    lstm = _random_params(LSTM(2, 3, rng=8).astype(np.float64))
    x = RNG.normal(size=(2, 5, 2))
    trace = lstm.gate_values(x)
    outputs, (h, c) = lstm(Tensor(x, dtype=np.float64))
    np.testing.assert_allclose(trace["hidden"], outputs.data)
    np.testing.assert_allclose(trace["cell"][:, -1], c.data)
    for name in ("input", "forget", "output"):
        assert trace[name].shape == (2, 5, 3) and 0 < trace[name].min() < trace[name].max() < 1
    # c_t = f c_{t-1} + i g, read off the trace
    c_prev = np.concatenate([np.zeros((2, 1, 3)), trace["cell"][:, :-1]], axis=1)
    np.testing.assert_allclose(
        trace["cell"], trace["forget"] * c_prev + trace["input"] * trace["candidate"]
    )


# --- bad inputs --------------------------------------------------------------------------


def test_bad_arguments_are_named():
    rnn = RNN(3, 4, rng=0)
    with pytest.raises(ValueError, match="x: expected shape"):
        rnn(Tensor(np.ones((2, 5, 2))))
    with pytest.raises(TypeError, match="x: expected a Tensor"):
        rnn([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="state: expected shape"):
        rnn(Tensor(np.ones((2, 5, 3))), Tensor(np.ones((3, 4))))
    with pytest.raises(TypeError, match="state: expected the pair"):
        LSTM(3, 4, rng=0)(Tensor(np.ones((2, 5, 3))), Tensor(np.ones((2, 4))))
    with pytest.raises(ValueError, match="recurrent_scale"):
        GRU(3, 4, rng=0, recurrent_scale=-1.0)
    with pytest.raises(ValueError, match="cell: expected one of"):
        parameter_count("transformer", 3, 4)
    with pytest.raises(ValueError, match="state: a Transformer encoder"):
        TransformerEncoder(4, n_heads=1, n_layers=1, max_seq=3, rng=0)(
            Tensor(np.ones((1, 2, 4))), state=Tensor(np.ones((1, 4)))
        )
    with pytest.raises(ValueError, match="x: expected shape"):
        TransformerEncoder(4, n_heads=1, n_layers=1, max_seq=3, rng=0)(Tensor(np.ones((1, 4, 4))))
    with pytest.raises(TypeError, match="encoder"):
        SequenceClassifier(object(), vocab_size=3, n_classes=2, rng=0)
    with pytest.raises(ValueError, match="ids: expected integer token ids"):
        SequenceClassifier(RNN(2, 2, rng=0), vocab_size=3, n_classes=2, rng=0)(np.ones((2, 3)))
    with pytest.raises(TypeError, match="model: expected an RNN"):
        state_gradient_norms(TransformerEncoder(4, n_heads=1, n_layers=1, max_seq=3, rng=0), 0)


@settings(max_examples=60, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple),
    d_in=st.one_of(st.integers(-2, 4), st.floats(-1, 3), st.none(), st.text(max_size=2)),
)
def test_random_bad_shapes_and_sizes_get_our_errors(cell, shape, d_in):
    try:
        model = CELLS[cell](d_in, 3, rng=0)
    except (TypeError, ValueError) as exc:
        assert "d_in" in str(exc)
        return
    if len(shape) == 3 and shape[1] >= 1 and shape[2] == model.d_in:
        outputs, _ = model(Tensor(np.ones(shape)))  # a valid input (batch may even be 0)
        assert outputs.shape == (shape[0], shape[1], 3)
        return
    with pytest.raises(ValueError, match="x: expected shape"):
        model(Tensor(np.ones(shape)))
