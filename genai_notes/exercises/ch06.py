"""Exercises for chapter 6, "Sequence models": one RNN step, one LSTM step, the product of
Jacobians that backpropagation through time multiplies, the parameter counts of the three
cells, and which of two layers can run over all positions at once.

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it), its test cases, its typical mistakes and its hints.
:mod:`genai_notes.sequence_models` computes the same things on the autograd engine, and
``tests/test_exercises_ch06.py`` checks that they agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genai_notes.exercises.core import Mistake, Question, bind

_rng = np.random.default_rng(6)


def _named(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    function.__name__ = name
    return function


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _weights(d_in, d_hidden, gates=1):
    w_x = _rng.normal(size=(d_in, gates * d_hidden)).round(2)
    w_h = _rng.normal(size=(d_hidden, gates * d_hidden)).round(2)  # not symmetric
    b = _rng.normal(size=gates * d_hidden).round(2)
    return w_x, w_h, b


# --- Exercise 1: rnn_step -----------------------------------------------------------------


def rnn_step(x, h, W_x, W_h, b):
    # x: (batch, d_in), h: (batch, d_hidden), W_x: (d_in, d_hidden), W_h: (d_hidden, d_hidden)
    return np.tanh(x @ W_x + h @ W_h + b)  # the next hidden state, (batch, d_hidden)


_W1 = _weights(3, 2)
_RNN_CASES = [
    (_rng.normal(size=(1, 3)).round(2), _rng.normal(size=(1, 2)).round(2), *_W1),
    (_rng.normal(size=(4, 3)).round(2), _rng.normal(size=(4, 2)).round(2), *_W1),
    (np.zeros((2, 3)), np.array([[1.0, -1.0], [0.5, 2.0]]), *_W1),
]

q1 = Question(
    "Write rnn_step(x, h, W_x, W_h, b): one step of a tanh RNN, h_t = tanh(x_t W_x + "
    "h_{t-1} W_h + b), for x (batch, d_in), h (batch, d_hidden), W_x (d_in, d_hidden), "
    "W_h (d_hidden, d_hidden) and b (d_hidden,).",
    kind="function",
    reference=rnn_step,
    cases=_RNN_CASES,
    hints=[
        "Rows are sequences, so the inputs multiply from the left: x @ W_x is "
        "(batch, d_hidden), and so is h @ W_h.",
        "Add the two products and the bias, then squash the sum with np.tanh.",
    ],
    mistakes=[
        Mistake(
            _named("no_tanh", lambda x, h, W_x, W_h, b: x @ W_x + h @ W_h + b),
            "you returned the sum before the non-linearity; the new state is tanh of it, so "
            "every unit stays between -1 and 1",
        ),
        Mistake(
            _named("sigmoid", lambda x, h, W_x, W_h, b: _sigmoid(x @ W_x + h @ W_h + b)),
            "that is a sigmoid, between 0 and 1; the RNN's state uses tanh, between -1 and 1",
        ),
        Mistake(
            _named("transposed", lambda x, h, W_x, W_h, b: np.tanh(x @ W_x + h @ W_h.T + b)),
            "W_h is transposed: with row vectors the old state multiplies W_h from the left, "
            "h @ W_h, so unit j of the new state reads column j of W_h",
        ),
        Mistake(
            _named("no_bias", lambda x, h, W_x, W_h, b: np.tanh(x @ W_x + h @ W_h)),
            "the bias b is missing: add it inside the tanh",
        ),
        Mistake(
            _named("no_state", lambda x, h, W_x, W_h, b: np.tanh(x @ W_x + b)),
            "the old state h is missing, so nothing is remembered from one step to the next: "
            "add h @ W_h",
        ),
    ],
    locate=lambda case, path: f"sequence {path[0]}, hidden unit {path[1]}",
)


# --- Exercise 2: lstm_step ----------------------------------------------------------------


def lstm_step(x, h, c, W_x, W_h, b):
    d = h.shape[1]
    a = x @ W_x + h @ W_h + b  # (batch, 4 d): the gates side by side, in the order i, f, g, o
    i = 1 / (1 + np.exp(-a[:, :d]))  # input gate: how much of the candidate to write
    f = 1 / (1 + np.exp(-a[:, d : 2 * d]))  # forget gate: how much of the old cell to keep
    g = np.tanh(a[:, 2 * d : 3 * d])  # the candidate values
    o = 1 / (1 + np.exp(-a[:, 3 * d :]))  # output gate: how much of the cell to show
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    return h_new, c_new


def _lstm_variant(order="ifgo", cell="full", out="tanh", swap=False, candidate="tanh"):
    def wrong(x, h, c, W_x, W_h, b):
        d = h.shape[1]
        a = x @ W_x + h @ W_h + b
        blocks = {name: a[:, k * d : (k + 1) * d] for k, name in enumerate(order)}
        i, f, o = _sigmoid(blocks["i"]), _sigmoid(blocks["f"]), _sigmoid(blocks["o"])
        g = np.tanh(blocks["g"]) if candidate == "tanh" else _sigmoid(blocks["g"])
        c_new = {"full": f * c + i * g, "no_input": f * c + g, "no_forget": c + i * g}[cell]
        h_new = o * np.tanh(c_new) if out == "tanh" else o * c_new
        if out == "old":
            h_new = o * np.tanh(c)
        return (c_new, h_new) if swap else (h_new, c_new)

    return wrong


_W2 = _weights(2, 3, gates=4)
_LSTM_CASES = [
    (_rng.normal(size=(1, 2)).round(2), _rng.normal(size=(1, 3)).round(2),
     _rng.normal(size=(1, 3)).round(2), *_W2),
    (_rng.normal(size=(3, 2)).round(2), _rng.normal(size=(3, 3)).round(2),
     2 * _rng.normal(size=(3, 3)).round(2), *_W2),
]  # fmt: skip

q2 = Question(
    "Write lstm_step(x, h, c, W_x, W_h, b): one LSTM step. a = x W_x + h W_h + b holds the "
    "gates' pre-activations side by side, (batch, 4 d_hidden), in the order input i, forget "
    "f, candidate g, output o; i, f and o are sigmoids, g is a tanh. Return (h_new, c_new) "
    "with c_new = f ⊙ c + i ⊙ g and h_new = o ⊙ tanh(c_new).",
    kind="function",
    reference=lstm_step,
    cases=_LSTM_CASES,
    hints=[
        "With d = h.shape[1], the input gate is a[:, :d], the forget gate a[:, d:2*d], the "
        "candidate a[:, 2*d:3*d] and the output gate a[:, 3*d:].",
        "Compute c_new first; h_new uses the new cell state, squashed by tanh.",
    ],
    mistakes=[
        Mistake(
            _named("swapped", _lstm_variant(swap=True)),
            "you returned (c_new, h_new); return the hidden state first, (h_new, c_new)",
        ),
        Mistake(
            _named("no_tanh_on_cell", _lstm_variant(out="linear")),
            "h_new = o ⊙ tanh(c_new): the cell state goes through a tanh before the output "
            "gate scales it",
        ),
        Mistake(
            _named("old_cell", _lstm_variant(out="old")),
            "h_new must read the new cell state c_new, not the old c",
        ),
        Mistake(
            _named("no_input_gate", _lstm_variant(cell="no_input")),
            "the candidate g is written into the cell only as much as the input gate lets it: "
            "c_new = f ⊙ c + i ⊙ g",
        ),
        Mistake(
            _named("no_forget_gate", _lstm_variant(cell="no_forget")),
            "the old cell state is kept only as much as the forget gate lets it: "
            "c_new = f ⊙ c + i ⊙ g, not c + i ⊙ g",
        ),
        Mistake(
            _named("order_ifog", _lstm_variant(order="ifog")),
            "the gates are in the order i, f, g, o: the candidate is the third block of d "
            "columns and the output gate the fourth",
        ),
        Mistake(
            _named("sigmoid_candidate", _lstm_variant(candidate="sigmoid")),
            "the candidate g is a tanh (values between -1 and 1, so the cell can move down as "
            "well as up); only the three gates are sigmoids",
        ),
    ],
    locate=lambda case, path: (
        f"{('h_new', 'c_new')[path[0]]}, sequence {path[1]}, unit {path[2]}"
        if len(path) == 3
        else None
    ),
)


# --- Exercise 3: state_jacobian -----------------------------------------------------------


def state_jacobian(hs, W_h):
    # hs: (T, d), the states h_1 .. h_T of one sequence; entry [i, j] of the result is
    # the derivative of unit i of h_T with respect to unit j of h_0.
    d = W_h.shape[0]
    product = np.eye(d)
    for h in hs:  # t = 1, ..., T; later steps multiply on the left
        step = np.diag(1 - h**2) @ W_h.T  # ∂h_t/∂h_{t-1}, since tanh' = 1 - tanh²
        product = step @ product
    return product


def _jacobian_variant(order="left", derivative="square", transpose=True, final_t=False):
    def wrong(hs, W_h):
        product = np.eye(W_h.shape[0])
        for h in hs:
            slope = {"square": 1 - h**2, "linear": 1 - h, "none": np.ones_like(h)}[derivative]
            step = np.diag(slope) @ (W_h.T if transpose else W_h)
            product = step @ product if order == "left" else product @ step
        return product.T if final_t else product

    return wrong


_W3 = _rng.normal(size=(3, 3)).round(2)
_HS = [np.tanh(_rng.normal(size=(t, 3))).round(3) for t in (1, 2, 4)]

q3 = Question(
    "Write state_jacobian(hs, W_h) for a tanh RNN h_t = tanh(x_t W_x + h_{t-1} W_h + b) "
    "(row vectors): hs is (T, d), the states h_1, ..., h_T of one sequence. Return the "
    "(d, d) matrix ∂h_T/∂h_0, whose entry [i, j] is the derivative of unit i of h_T with "
    "respect to unit j of h_0: the product of the T one-step Jacobians.",
    kind="function",
    reference=state_jacobian,
    cases=[(hs, _W3) for hs in _HS],
    hints=[
        "One step: unit i of h_t is tanh(... + Σ_j h_{t-1}[j] W_h[j, i]), so "
        "∂h_t[i]/∂h_{t-1}[j] = (1 - h_t[i]²) W_h[j, i]: the matrix np.diag(1 - h_t**2) @ W_h.T.",
        "By the chain rule ∂h_T/∂h_0 = J_T @ ... @ J_2 @ J_1: each later step multiplies "
        "on the left.",
    ],
    mistakes=[
        Mistake(
            _named("reversed", _jacobian_variant(order="right")),
            "the product is in the wrong order: ∂h_T/∂h_0 = J_T ... J_1, so each new step's "
            "Jacobian multiplies on the left (product = step @ product)",
        ),
        Mistake(
            _named("no_derivative", _jacobian_variant(derivative="none")),
            "the tanh's derivative is missing: each step multiplies by diag(1 - h_t²) as well "
            "as by the recurrent weights",
        ),
        Mistake(
            _named("linear_derivative", _jacobian_variant(derivative="linear")),
            "tanh'(a) = 1 - tanh(a)², so the factor is 1 - h_t**2, not 1 - h_t",
        ),
        Mistake(
            _named("not_transposed", _jacobian_variant(transpose=False)),
            "with row vectors ∂h_t[i]/∂h_{t-1}[j] = (1 - h_t[i]²) W_h[j, i]: use W_h.T in "
            "each step, not W_h",
        ),
        Mistake(
            _named("transposed_result", _jacobian_variant(final_t=True)),
            "your matrix is transposed: entry [i, j] must be the derivative of unit i of h_T "
            "(the row) with respect to unit j of h_0 (the column)",
        ),
    ],
    locate=lambda case, path: f"∂h_T[{path[0]}]/∂h_0[{path[1]}]" if len(path) == 2 else None,
)


# --- Exercise 4: parameter_counts ---------------------------------------------------------


def parameter_counts(d_in, d_hidden):
    one_gate = d_in * d_hidden + d_hidden * d_hidden + d_hidden  # W_x, W_h and b of a gate
    return {"rnn": one_gate, "lstm": 4 * one_gate, "gru": 3 * one_gate}


def _counts(gates=(1, 4, 3), biases=1, recurrent=True):
    def wrong(d_in, d_hidden):
        one = d_in * d_hidden + (d_hidden * d_hidden if recurrent else 0) + biases * d_hidden
        return dict(zip(("rnn", "lstm", "gru"), (g * one for g in gates)))

    return wrong


q4 = Question(
    "Write parameter_counts(d_in, d_hidden): the numbers of parameters of one layer of the "
    "book's RNN, LSTM and GRU (one bias vector per gate), as a dict "
    '{"rnn": ..., "lstm": ..., "gru": ...}.',
    kind="function",
    reference=parameter_counts,
    cases=[(10, 20), (3, 4), (1, 7), (16, 18)],
    hints=[
        "Every gate (and the RNN's one transformation) has its own W_x (d_in, d_hidden), "
        "W_h (d_hidden, d_hidden) and b (d_hidden,).",
        "The RNN has one such block, the LSTM four (i, f, g, o) and the GRU three (z, r, n).",
    ],
    mistakes=[
        Mistake(
            _named("no_biases", _counts(biases=0)),
            "you left out the biases: each block has a bias vector of d_hidden numbers",
        ),
        Mistake(
            _named("pytorch_biases", _counts(biases=2)),
            "that is PyTorch's count, with two bias vectors per gate (b_ih and b_hh); the "
            "book's cells have one",
        ),
        Mistake(
            _named("gates_swapped", _counts(gates=(1, 3, 4))),
            "the LSTM has four blocks (input, forget, candidate, output) and the GRU three "
            "(update, reset, candidate)",
        ),
        Mistake(
            _named("no_recurrent", _counts(recurrent=False)),
            "the recurrent weights W_h, d_hidden × d_hidden per block, are missing: they are "
            "what carries the state from one step to the next",
        ),
    ],
    locate=lambda case, path: f"the count for {path[0]}" if path else None,
)


# --- Exercise 5: parallel or sequential ---------------------------------------------------


def parallel_answer():
    # (a) h_t needs h_{t-1}: 100 steps, one after the other.
    # (b) every row of softmax(Q Kᵀ / √d) V needs only Q, K and V, known for all positions.
    return {"parallel": "b", "steps_a": 100, "steps_b": 1}


q5 = Question(
    "A sequence has T = 100 tokens. Layer (a) is a tanh RNN, h_t = tanh(x_t W_x + h_{t-1} W_h "
    "+ b); layer (b) is self-attention, softmax(Q Kᵀ / √d) V. Answer with a dict: "
    '"parallel": the layer, "a" or "b", whose outputs at all positions can be computed at '
    'the same time; "steps_a" and "steps_b": how many steps, one after the other, each '
    "layer needs however many processors there are.",
    kind="value",
    reference=parallel_answer,
    answer="answer",  # the notebook's name for it, which the grader looks up
    hints=[
        "Ask of each output what it needs first. Can h_50 be computed before h_49 is known?",
        "Attention's queries, keys and values come from the layer's input, which is known "
        "for every position at once; its matrix products are one step, however wide.",
    ],
    mistakes=[
        Mistake(
            _named("rnn_parallel", lambda: {"parallel": "a", "steps_a": 1, "steps_b": 100}),
            "the other way round: h_t cannot start before h_{t-1} is known, so the RNN takes "
            "100 steps one after the other, while attention computes every position at once",
        ),
        Mistake(
            _named("rnn_one_step", lambda: {"parallel": "b", "steps_a": 1, "steps_b": 1}),
            "the RNN's 100 states cannot be computed in one step: each needs the previous one, "
            "so steps_a is 100",
        ),
        Mistake(
            _named("quadratic_steps", lambda: {"parallel": "b", "steps_a": 100, "steps_b": 10000}),
            "attention does about 100 × 100 = 10,000 dot products, but none needs another's "
            "result, so they take one step side by side: the cost is work, not waiting",
        ),
        Mistake(
            _named("both_sequential", lambda: {"parallel": "b", "steps_a": 100, "steps_b": 100}),
            "attention does not go through the positions in turn: every output reads the same "
            "Q, K and V, so all 100 come out in one step",
        ),
    ],
)

bind(globals())
