"""Chapter 6 exercises: the references agree with the package's cells (another route: the
engine's ops, fused gate blocks, autograd), with finite differences and with hand counts; then
each typical mistake, written as a learner would write it, gets its own diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.autograd import Tensor
from genai_notes.exercises import ch06
from genai_notes.sequence_models import GRU, LSTM, RNN, parameter_count

RNG = np.random.default_rng(1)


def _set(model, **arrays):
    for name, value in arrays.items():
        getattr(model, name).data[...] = value
    return model


def test_rnn_step_matches_the_package():
    x, h = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 5))
    w_x, w_h, b = RNG.normal(size=(4, 5)), RNG.normal(size=(5, 5)), RNG.normal(size=5)
    rnn = _set(RNN(4, 5, rng=0).astype(np.float64), w_x=w_x, w_h=w_h, bias=b)
    step = rnn.step(Tensor(x, dtype=np.float64), Tensor(h, dtype=np.float64))
    np.testing.assert_allclose(ch06.rnn_step(x, h, w_x, w_h, b), step.data, rtol=1e-12)


def test_lstm_step_matches_the_package():
    x, h, c = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 4)), RNG.normal(size=(2, 4))
    w_x, w_h, b = RNG.normal(size=(3, 16)), RNG.normal(size=(4, 16)), RNG.normal(size=16)
    lstm = _set(LSTM(3, 4, rng=0).astype(np.float64), w_x=w_x, w_h=w_h, bias=b)
    h_new, c_new = lstm.step(Tensor(x, dtype=np.float64), (Tensor(h, dtype=np.float64),
                                                           Tensor(c, dtype=np.float64)))  # fmt: skip
    ours = ch06.lstm_step(x, h, c, w_x, w_h, b)
    np.testing.assert_allclose(ours[0], h_new.data, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours[1], c_new.data, rtol=1e-12, atol=1e-15)


def test_state_jacobian_matches_finite_differences():
    w_x, w_h, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 3)), RNG.normal(size=3)
    xs, h0 = RNG.normal(size=(5, 2)), RNG.normal(size=3) * 0.3

    def run(h):
        states = []
        for x in xs:
            h = np.tanh(x @ w_x + h @ w_h + b)
            states.append(h)
        return np.array(states)

    eps = 1e-6
    numeric = np.zeros((3, 3))
    for j in range(3):
        step = np.eye(3)[j] * eps
        numeric[:, j] = (run(h0 + step)[-1] - run(h0 - step)[-1]) / (2 * eps)
    np.testing.assert_allclose(ch06.state_jacobian(run(h0), w_h), numeric, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize(("d_in", "d_hidden"), [(10, 20), (1, 1), (16, 18)])
def test_parameter_counts_match_the_modules(d_in, d_hidden):
    counts = ch06.parameter_counts(d_in, d_hidden)
    for cell, cls in (("rnn", RNN), ("lstm", LSTM), ("gru", GRU)):
        assert counts[cell] == parameter_count(cell, d_in, d_hidden)
        assert counts[cell] == cls(d_in, d_hidden, rng=0).num_parameters()
    # by hand for (10, 20): 10·20 + 20·20 + 20 = 620 per block
    assert ch06.parameter_counts(10, 20) == {"rnn": 620, "lstm": 2480, "gru": 1860}


def test_parallel_answer():
    assert ch06.parallel_answer() == {"parallel": "b", "steps_a": 100, "steps_b": 1}


# --- typical mistakes get specific feedback ---------------------------------------------------


def _message(question, answer):
    with np.errstate(all="ignore"):
        feedback = question.evaluate(answer)
    assert feedback.status == "incorrect", feedback
    return feedback.message


def _sig(a):
    return 1 / (1 + np.exp(-a))


def test_rnn_step_mistakes():
    assert "before the non-linearity" in _message(
        ch06.q1, lambda x, h, W_x, W_h, b: x @ W_x + h @ W_h + b
    )
    assert "that is a sigmoid" in _message(
        ch06.q1, lambda x, h, W_x, W_h, b: _sig(x @ W_x + h @ W_h + b)
    )
    assert "W_h is transposed" in _message(
        ch06.q1, lambda x, h, W_x, W_h, b: np.tanh(x @ W_x + (W_h @ h.T).T + b)
    )
    assert "the bias b is missing" in _message(
        ch06.q1, lambda x, h, W_x, W_h, b: np.tanh(np.dot(x, W_x) + np.dot(h, W_h))
    )
    assert "nothing is remembered" in _message(
        ch06.q1, lambda x, h, W_x, W_h, b: np.tanh(x @ W_x + b)
    )


def _learner_lstm(swap=False, cell_tanh=True, use_old=False, input_gate=True, forget=True,
                  order="ifgo", candidate=np.tanh):  # fmt: skip
    def lstm_step(x, h, c, W_x, W_h, b):
        d = h.shape[1]
        gates = np.split(x @ W_x + h @ W_h + b, 4, axis=1)
        named = dict(zip(order, gates))
        i, f, o = _sig(named["i"]), _sig(named["f"]), _sig(named["o"])
        g = candidate(named["g"])
        c_new = (f if forget else 1.0) * c + (i if input_gate else 1.0) * g
        source = c if use_old else c_new
        h_new = o * (np.tanh(source) if cell_tanh else source)
        assert h_new.shape[1] == d
        return (c_new, h_new) if swap else (h_new, c_new)

    return lstm_step


def test_lstm_step_mistakes():
    assert ch06.q2.evaluate(_learner_lstm()).correct
    assert "return the hidden state first" in _message(ch06.q2, _learner_lstm(swap=True))
    assert "goes through a tanh" in _message(ch06.q2, _learner_lstm(cell_tanh=False))
    assert "not the old c" in _message(ch06.q2, _learner_lstm(use_old=True))
    assert "as much as the input gate" in _message(ch06.q2, _learner_lstm(input_gate=False))
    assert "not c + i ⊙ g" in _message(ch06.q2, _learner_lstm(forget=False))
    assert "the order i, f, g, o" in _message(ch06.q2, _learner_lstm(order="ifog"))
    assert "the candidate g is a tanh" in _message(ch06.q2, _learner_lstm(candidate=_sig))


def _learner_jacobian(left=True, slope=lambda h: 1 - h * h, use_t=True, result_t=False):
    def state_jacobian(hs, W_h):
        J = np.eye(len(W_h))
        for h in hs:
            step = slope(h)[:, None] * (W_h.T if use_t else W_h)
            J = step @ J if left else J @ step
        return J.T if result_t else J

    return state_jacobian


def test_state_jacobian_mistakes():
    assert ch06.q3.evaluate(_learner_jacobian()).correct
    assert "wrong order" in _message(ch06.q3, _learner_jacobian(left=False))
    assert "derivative is missing" in _message(ch06.q3, _learner_jacobian(slope=np.ones_like))
    assert "not 1 - h_t" in _message(ch06.q3, _learner_jacobian(slope=lambda h: 1 - h))
    assert "use W_h.T in each step" in _message(ch06.q3, _learner_jacobian(use_t=False))
    assert "your matrix is transposed" in _message(ch06.q3, _learner_jacobian(result_t=True))


def test_parameter_count_mistakes():
    def counts(blocks=(1, 4, 3), bias=1, recurrent=1):
        def parameter_counts(d_in, d_hidden):
            per = d_hidden * (d_in + recurrent * d_hidden + bias)
            return {"rnn": blocks[0] * per, "lstm": blocks[1] * per, "gru": blocks[2] * per}

        return parameter_counts

    assert ch06.q4.evaluate(counts()).correct
    assert "left out the biases" in _message(ch06.q4, counts(bias=0))
    assert "PyTorch's count" in _message(ch06.q4, counts(bias=2))
    assert "the LSTM has four blocks" in _message(ch06.q4, counts(blocks=(1, 3, 4)))
    assert "recurrent weights W_h" in _message(ch06.q4, counts(recurrent=0))


def test_parallel_mistakes():
    assert "the other way round" in _message(
        ch06.q5, {"parallel": "a", "steps_a": 1, "steps_b": 100}
    )
    assert "steps_a is 100" in _message(ch06.q5, {"parallel": "b", "steps_a": 1, "steps_b": 1})
    assert "the cost is work, not waiting" in _message(
        ch06.q5, {"parallel": "b", "steps_a": 100, "steps_b": 10_000}
    )
    assert "all 100 come out in one step" in _message(
        ch06.q5, {"parallel": "b", "steps_a": 100, "steps_b": 100}
    )
    # a mistake the list does not name still gets the main feedback
    assert "expected 'b', got 'rnn'" in _message(
        ch06.q5, {"parallel": "rnn", "steps_a": 100, "steps_b": 1}
    )
