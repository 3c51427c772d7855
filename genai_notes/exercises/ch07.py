"""Exercises for chapter 7, "The Transformer": the parameters of an encoder layer, a post-LN
block from a pre-LN one, the decoder's mask, and the shift-right of teacher forcing.

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it), its test cases, its typical mistakes and its hints.
:mod:`genai_notes.transformer` computes the same things, and ``tests/test_exercises_ch07.py``
checks that they agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from genai_notes.exercises.core import Mistake, Question, bind

_rng = np.random.default_rng(7)


# --- Exercise 1: the parameters of one encoder layer --------------------------------------


def encoder_layer_parameters(d_model, d_ff):
    attention = 4 * (d_model * d_model + d_model)  # W_q, W_k, W_v, W_o, each with a bias
    ffn = d_model * d_ff + d_ff + d_ff * d_model + d_model  # two Linear layers with biases
    norms = 2 * (2 * d_model)  # two LayerNorms, each a gain and a bias per channel
    return attention + ffn + norms


def _no_biases(d_model, d_ff):
    return 4 * d_model * d_model + 2 * d_model * d_ff + 4 * d_model


def _no_output_projection(d_model, d_ff):
    return encoder_layer_parameters(d_model, d_ff) - (d_model * d_model + d_model)


def _no_norms(d_model, d_ff):
    return encoder_layer_parameters(d_model, d_ff) - 4 * d_model


def _norm_gain_only(d_model, d_ff):
    return encoder_layer_parameters(d_model, d_ff) - 2 * d_model


def _one_ffn_matrix(d_model, d_ff):
    return encoder_layer_parameters(d_model, d_ff) - d_ff * d_model - d_model


def _decoder_layer(d_model, d_ff):
    return encoder_layer_parameters(d_model, d_ff) + 4 * (d_model * d_model + d_model) + 2 * d_model


q1 = Question(
    "Write encoder_layer_parameters(d_model, d_ff): the number of parameters of one encoder "
    "layer: multi-head self-attention (query, key, value and output projections, with "
    "biases), the feed-forward net (two Linear layers with biases) and two LayerNorms.",
    kind="function",
    reference=encoder_layer_parameters,
    cases=[(512, 2048), (8, 32), (6, 10), (3, 5)],
    hints=[
        "The number of heads does not matter: the heads split the d_model channels of W_q, "
        "W_k and W_v between them. Each projection is a d_model x d_model matrix plus a bias.",
        "A Linear(d_in, d_out) layer has d_in * d_out + d_out parameters; a LayerNorm over "
        "d_model channels has a gain and a bias: 2 * d_model.",
    ],
    mistakes=[
        Mistake(_no_biases, "you left out the biases: each Linear layer adds one per output"),
        Mistake(
            _no_output_projection,
            "you counted W_q, W_k and W_v but not the output projection W_o, which mixes the "
            "heads back together (another d_model x d_model matrix and bias)",
        ),
        Mistake(_no_norms, "you left out the two LayerNorms (a gain and a bias per channel each)"),
        Mistake(_norm_gain_only, "a LayerNorm has a bias as well as a gain: 2 * d_model each"),
        Mistake(
            _one_ffn_matrix,
            "the feed-forward net has two Linear layers, d_model -> d_ff and d_ff -> d_model",
        ),
        Mistake(
            _decoder_layer,
            "that is a decoder layer: an encoder layer has no cross-attention and two norms",
        ),
    ],
)


# --- Exercise 2: a post-LN block ----------------------------------------------------------


class Sublayer:
    """A named stand-in for a sub-layer (attention, FFN or a LayerNorm) in the checks."""

    def __init__(self, name: str, function: Any) -> None:
        self.name, self.function = name, function

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.function(x)

    def __repr__(self) -> str:
        return self.name


def post_ln_block(x, attn, ffn, ln_1, ln_2):
    x = ln_1(x + attn(x))  # add the sub-layer's output to its input, then normalise the sum
    x = ln_2(x + ffn(x))
    return x


def _pre_ln(x, attn, ffn, ln_1, ln_2):
    x = x + attn(ln_1(x))
    return x + ffn(ln_2(x))


def _no_residual(x, attn, ffn, ln_1, ln_2):
    x = ln_1(attn(x))
    return ln_2(ffn(x))


def _norms_swapped(x, attn, ffn, ln_1, ln_2):
    x = ln_2(x + attn(x))
    return ln_1(x + ffn(x))


def _one_norm_at_the_end(x, attn, ffn, ln_1, ln_2):
    x = x + attn(x)
    return ln_2(x + ffn(x))


def _norm_before_adding(x, attn, ffn, ln_1, ln_2):
    x = x + ln_1(attn(x))
    return x + ln_2(ffn(x))


def _layer_norm(gain: float, bias: float) -> Any:
    def norm(x: np.ndarray) -> np.ndarray:
        centred = x - x.mean(axis=-1, keepdims=True)
        return gain * centred / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + 1e-5) + bias

    return norm


_MIX = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5], [0.0, 0.4, 0.6]])  # (seq, seq) weights
_W1, _W2 = _rng.normal(size=(4, 6)).round(2), _rng.normal(size=(6, 4)).round(2)
_ATTN = Sublayer("attn", lambda x: _MIX @ x * 2.0)
_FFN = Sublayer("ffn", lambda x: np.maximum(x @ _W1, 0.0) @ _W2)
_LN_1 = Sublayer("ln_1", _layer_norm(1.5, 0.1))
_LN_2 = Sublayer("ln_2", _layer_norm(0.5, -0.2))


def _block_place(case, path):
    return f"token {path[0]}, channel {path[1]}" if len(path) == 2 else None


q2 = Question(
    "Write post_ln_block(x, attn, ffn, ln_1, ln_2), the 2017 layout of a block, for x of "
    "shape (seq, d_model): attention, add the input, normalise with ln_1; then the FFN, add, "
    "normalise with ln_2. (The pre-LN block is x = x + attn(ln_1(x)); x = x + ffn(ln_2(x)).)",
    kind="function",
    reference=post_ln_block,
    cases=[
        (_rng.normal(size=(3, 4)).round(2), _ATTN, _FFN, _LN_1, _LN_2),
        (np.arange(12.0).reshape(3, 4) / 4, _ATTN, _FFN, _LN_1, _LN_2),
    ],
    hints=[
        "Post-LN normalises the residual sum: the LayerNorm sits outside, ln_1(x + attn(x)).",
        "The second sub-layer reads the first one's normalised output, so update x in between.",
    ],
    mistakes=[
        Mistake(
            _pre_ln,
            "that is the pre-LN block (the norm inside the branch, x + attn(ln_1(x))); post-LN "
            "normalises the sum: ln_1(x + attn(x))",
        ),
        Mistake(
            _no_residual,
            "the residual connection is missing: add each sub-layer's input to its output "
            "before normalising, ln_1(x + attn(x))",
        ),
        Mistake(_norms_swapped, "ln_1 belongs to the attention step and ln_2 to the FFN step"),
        Mistake(
            _one_norm_at_the_end,
            "each sub-layer gets its own LayerNorm: normalise after the attention too",
        ),
        Mistake(
            _norm_before_adding,
            "you normalised the branch before adding it; post-LN normalises after the sum",
        ),
    ],
    locate=_block_place,
)


# --- Exercise 3: the decoder's mask -------------------------------------------------------


def make_decoder_mask(tgt_in, pad_id):
    batch, seq = tgt_in.shape
    causal = np.tril(np.ones((seq, seq), dtype=bool))  # (seq, seq): key j <= query i
    real_keys = (tgt_in != pad_id)[:, None, :]  # (batch, 1, seq): the key is not padding
    return causal[None] & real_keys  # (batch, seq, seq)


def _causal_only(tgt_in, pad_id):
    seq = tgt_in.shape[1]
    return np.broadcast_to(np.tril(np.ones((seq, seq), dtype=bool)), (len(tgt_in), seq, seq))


def _padding_only(tgt_in, pad_id):
    seq = tgt_in.shape[1]
    return np.broadcast_to((tgt_in != pad_id)[:, None, :], (len(tgt_in), seq, seq))


def _padding_on_queries(tgt_in, pad_id):
    seq = tgt_in.shape[1]
    return np.tril(np.ones((seq, seq), dtype=bool))[None] & (tgt_in != pad_id)[:, :, None]


def _strictly_causal(tgt_in, pad_id):
    seq = tgt_in.shape[1]
    return np.tril(np.ones((seq, seq), dtype=bool), k=-1)[None] & (tgt_in != pad_id)[:, None, :]


def _future_allowed(tgt_in, pad_id):
    seq = tgt_in.shape[1]
    return np.triu(np.ones((seq, seq), dtype=bool))[None] & (tgt_in != pad_id)[:, None, :]


def _pads_allowed(tgt_in, pad_id):
    seq = tgt_in.shape[1]
    return np.tril(np.ones((seq, seq), dtype=bool))[None] & (tgt_in == pad_id)[:, None, :]


def _mask_place(case, path):
    if len(path) != 3:
        return None
    b, i, j = path
    return f"sentence {b}: query position {i} looking at key position {j}"


q3 = Question(
    "Write make_decoder_mask(tgt_in, pad_id) for decoder inputs tgt_in (batch, seq): a "
    "boolean (batch, seq, seq) array, True where query position i may attend to key position "
    "j: j is not after i, and key j is not padding.",
    kind="function",
    reference=make_decoder_mask,
    cases=[
        (np.array([[1, 5, 6, 0, 0], [1, 7, 8, 9, 4]]), 0),
        (np.array([[9, 3, 2], [9, 2, 2]]), 2),
        (np.array([[1, 4]]), 0),
    ],
    hints=[
        "Build the two masks separately: np.tril(np.ones((seq, seq), dtype=bool)) for the "
        "causal part, and tgt_in != pad_id for the real tokens.",
        "Padding is about the keys, the columns: give the padding mask the shape "
        "(batch, 1, seq) so that it broadcasts over the queries, then combine with &.",
    ],
    mistakes=[
        Mistake(_causal_only, "the causal part is right, but real tokens still attend to pads"),
        Mistake(_padding_only, "pads are hidden, but every position can see the future"),
        Mistake(
            _padding_on_queries,
            "you masked the pad *queries* (rows); mask the pad *keys* (columns), so that no "
            "position reads a pad",
        ),
        Mistake(
            _strictly_causal,
            "each position may attend to itself too: keep the diagonal (j <= i, np.tril with k=0)",
        ),
        Mistake(
            _future_allowed,
            "that lets each position see the *later* ones (np.triu): the decoder may only "
            "look back",
        ),
        Mistake(_pads_allowed, "True should mark the real keys, tgt_in != pad_id, not the pads"),
    ],
    locate=_mask_place,
)


# --- Exercise 4: the shift-right of teacher forcing ---------------------------------------


def teacher_forcing(tgt, bos_id, eos_id):
    decoder_input = [bos_id] + list(tgt)  # what the decoder reads
    target = list(tgt) + [eos_id]  # what it must predict at each position
    return decoder_input, target


def _no_shift(tgt, bos_id, eos_id):
    return [bos_id] + list(tgt), [bos_id] + list(tgt)


def _no_eos(tgt, bos_id, eos_id):
    return [bos_id] + list(tgt[:-1]), list(tgt)


def _shifted_left(tgt, bos_id, eos_id):
    return list(tgt) + [eos_id], [bos_id] + list(tgt)


def _bos_at_the_end(tgt, bos_id, eos_id):
    return list(tgt) + [bos_id], list(tgt) + [eos_id]


def _targets_with_bos(tgt, bos_id, eos_id):
    return [bos_id] + list(tgt), [bos_id] + list(tgt) + [eos_id]


def _shift_place(case, path):
    if len(path) != 2:
        return None
    return f"position {path[1]} of the {'decoder input' if path[0] == 0 else 'target'}"


q4 = Question(
    "Write teacher_forcing(tgt, bos_id, eos_id): from a target sentence's ids, return the "
    "pair (decoder_input, target) of two lists of equal length, so that at each position the "
    "decoder reads the tokens so far and must predict the next one, ending with eos.",
    kind="function",
    reference=teacher_forcing,
    cases=[([7, 8, 9], 1, 2), ([5], 1, 2), ([4, 4, 6, 3], 0, 9)],
    hints=[
        "The decoder starts from bos_id, and the last thing it must predict is eos_id.",
        "Position i of the target is position i + 1 of the input: shift right by one.",
    ],
    mistakes=[
        Mistake(
            _no_shift,
            "the target equals the input: the decoder would only copy the token it reads; the "
            "target at each position is the *next* token",
        ),
        Mistake(
            _no_eos,
            "no eos in the target (you dropped the last word to make room): the model would "
            "never learn to stop. Predict every word, then eos",
        ),
        Mistake(_shifted_left, "input and target are swapped: the decoder reads bos first"),
        Mistake(_bos_at_the_end, "bos opens the decoder input; it does not close it"),
        Mistake(
            _targets_with_bos,
            "the two lists must have equal length: the target has no bos (nothing predicts it)",
        ),
    ],
    locate=_shift_place,
)

bind(globals())
