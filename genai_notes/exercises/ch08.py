"""Exercises for chapter 8, "Training a tiny GPT": perplexity from a loss (per token and per
character), the shift that makes inputs and targets, the learning rate at step t, the
compute estimate 6·N·D, and counting a GPT's parameters.

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it), its test cases, its typical mistakes and its hints.
``tests/test_exercises_ch08.py`` checks the references against the package
(:func:`genai_notes.nn.warmup_cosine_lr`, :class:`genai_notes.gpt.GPT`,
:func:`genai_notes.pretrained.random_windows`) and every mistake's diagnosis.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from genai_notes.exercises.core import Mistake, Question, bind


def _named(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    function.__name__ = name
    return function


# --- Exercise 1: perplexity ---------------------------------------------------------------


def perplexity(loss, chars_per_token):
    # loss: mean cross-entropy in nats per token; chars_per_token: characters per token
    per_char_loss = loss / chars_per_token  # the same nats, spread over more characters
    return {"per_token": math.exp(loss), "per_char": math.exp(per_char_loss)}


def _perplexity(base=math.e, sign=1, per_char="divide"):
    def wrong(loss, chars_per_token):
        per = {"divide": loss / chars_per_token, "multiply": loss * chars_per_token,
               "same": loss}[per_char]  # fmt: skip
        return {"per_token": base ** (sign * loss), "per_char": base ** (sign * per)}

    return wrong


q1 = Question(
    "Write perplexity(loss, chars_per_token): a model's mean cross-entropy is `loss` nats per "
    "token, and a token is `chars_per_token` characters on average. Return a dict with the "
    'perplexity per token, "per_token", and per character, "per_char".',
    kind="function",
    reference=perplexity,
    cases=[(1.1759, 4.27), (0.0, 1.0), (2.0, 0.5), (4.9053, 4.27)],
    hints=[
        "Perplexity is e to the power of the mean cross-entropy, when the loss is in nats.",
        "A text of n tokens has n · chars_per_token characters and the same total loss, so "
        "the loss per character is loss / chars_per_token.",
    ],
    mistakes=[
        Mistake(
            _named("base_two", _perplexity(base=2.0)),
            "2 ** loss is the perplexity of a loss in bits; this loss is in nats (natural "
            "logarithms), so the perplexity is math.exp(loss)",
        ),
        Mistake(
            _named("negative", _perplexity(sign=-1)),
            "the loss is already the negative log-probability: the perplexity is exp(+loss), "
            "at least 1 (a uniform guess among k tokens has perplexity k)",
        ),
        Mistake(
            _named("times_chars", _perplexity(per_char="multiply")),
            "the loss per character is smaller than per token: the same total nats are shared "
            "by chars_per_token times as many characters, so divide by chars_per_token",
        ),
        Mistake(
            _named("per_char_same", _perplexity(per_char="same")),
            "the per-character loss is loss / chars_per_token, so the per-character perplexity "
            "differs from the per-token one whenever a token is longer than one character",
        ),
    ],
    locate=lambda case, path: f'the "{path[0]}" perplexity' if path else None,
)


# --- Exercise 2: the shift ----------------------------------------------------------------


def make_batch(ids, starts, block_size):
    # ids: (n_tokens,) the token stream; starts: (batch,) where each window begins
    positions = starts[:, None] + np.arange(block_size)  # (batch, block_size)
    x = ids[positions]  # the tokens the model reads
    y = ids[positions + 1]  # at each position, the token that comes next
    return x, y


def _batch(shift=1, swap=False, offset=0, short=False):
    def wrong(ids, starts, block_size):
        positions = starts[:, None] + np.arange(block_size)
        x, y = ids[positions + offset], ids[positions + shift]
        if short:
            y = y[:, :-1]
        return (y, x) if swap else (x, y)

    return wrong


_STREAM = np.array([7, 3, 9, 1, 4, 4, 8, 2, 6, 5, 0, 3])  # repeats, like real text
_BATCH_CASES = [
    (_STREAM, np.array([0]), 4),
    (_STREAM, np.array([2, 5, 0]), 3),
    (_STREAM, np.array([1, 7]), 4),
]

q2 = Question(
    "Write make_batch(ids, starts, block_size): for a token stream ids (n_tokens,) and window "
    "starts (batch,), return (x, y), each (batch, block_size): x[b] is the block_size tokens "
    "from starts[b], and y[b, t] is the token that follows x[b, t] in the stream.",
    kind="function",
    reference=make_batch,
    cases=_BATCH_CASES,
    hints=[
        "starts[:, None] + np.arange(block_size) is a (batch, block_size) array of positions, "
        "and ids[positions] picks all the windows at once.",
        "The targets are the same windows moved one position later in the stream.",
    ],
    mistakes=[
        Mistake(
            _named("no_shift", _batch(shift=0)),
            "y equals x: the model would learn to copy the token it already sees; each target "
            "must be the *next* token, one position later",
        ),
        Mistake(
            _named("swapped", _batch(swap=True)),
            "x and y are swapped: x holds the tokens the model reads, y the tokens it must "
            "predict, one position later",
        ),
        Mistake(
            _named("previous_token", _batch(shift=-1)),
            "your targets are the tokens *before* each position; a causal language model "
            "predicts the token after it (position + 1)",
        ),
        Mistake(
            _named("shift_two", _batch(shift=2)),
            "the targets skip a token: they are two positions later, and the shift is one",
        ),
        Mistake(
            _named("short_targets", _batch(short=True)),
            "y has one token fewer than x: every position of the window, the last one "
            "included, has a next token to predict",
        ),
    ],
    locate=lambda case, path: f"window {path[1]}, position {path[2]}" if len(path) == 3 else None,
)


# --- Exercise 3: the learning rate at step t ---------------------------------------------


def learning_rate(step, max_lr, warmup_steps, total_steps, min_lr):
    if step < warmup_steps:  # linear warm-up: max_lr / warmup_steps at step 0
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:  # after the schedule: stay at the floor
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)  # 0 to 1
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * progress))


def _lr(warm_from_zero=False, from_start=False, no_floor=False, no_clamp=False, half=True):
    def wrong(step, max_lr, warmup_steps, total_steps, min_lr):
        low = 0.0 if no_floor else min_lr
        if step < warmup_steps:
            return max_lr * (step if warm_from_zero else step + 1) / warmup_steps
        if step >= total_steps and not no_clamp:
            return low
        begin = 0 if from_start else warmup_steps
        r = (step - begin) / (total_steps - begin)
        return low + (0.5 if half else 1.0) * (max_lr - low) * (1 + math.cos(math.pi * r))

    return wrong


q3 = Question(
    "Write learning_rate(step, max_lr, warmup_steps, total_steps, min_lr): steps count from 0. "
    "During the warm-up the rate is max_lr · (step + 1) / warmup_steps; then, with r = (step - "
    "warmup_steps) / (total_steps - warmup_steps), it is min_lr + ½ (max_lr - min_lr) (1 + "
    "cos(π r)); from total_steps on it stays at min_lr.",
    kind="function",
    reference=learning_rate,
    cases=[
        (0, 1e-3, 10, 100, 1e-4),
        (9, 1e-3, 10, 100, 1e-4),
        (10, 1e-3, 10, 100, 1e-4),
        (55, 1e-3, 10, 100, 1e-4),
        (80, 1e-3, 10, 100, 1e-4),
        (100, 1e-3, 10, 100, 1e-4),
        (130, 1e-3, 10, 100, 1e-4),
        (3, 3e-3, 4, 20, 0.0),
    ],  # fmt: skip
    hints=[
        "Three cases: step < warmup_steps, step >= total_steps, and the cosine in between.",
        "r runs from 0 at the end of the warm-up to 1 at total_steps, so cos(π r) runs from 1 "
        "to -1 and the rate from max_lr to min_lr.",
    ],
    mistakes=[
        Mistake(
            _named("warm_from_zero", _lr(warm_from_zero=True)),
            "at step 0 your rate is 0, so the first step does nothing; the warm-up uses "
            "(step + 1) / warmup_steps and reaches max_lr on its last step",
        ),
        Mistake(
            _named("cosine_from_zero", _lr(from_start=True)),
            "your cosine starts at step 0; it starts after the warm-up, so r = (step - "
            "warmup_steps) / (total_steps - warmup_steps) and the rate is max_lr right after "
            "the warm-up",
        ),
        Mistake(
            _named("no_floor", _lr(no_floor=True)),
            "the cosine ends at min_lr, not at 0: min_lr + ½ (max_lr - min_lr)(1 + cos(π r))",
        ),
        Mistake(
            _named("no_clamp", _lr(no_clamp=True)),
            "after total_steps the cosine would rise again; the rate stays at min_lr",
        ),
        Mistake(
            _named("no_half", _lr(half=False)),
            "1 + cos(π r) runs from 2 to 0, so it needs the factor ½: at r = 0 the rate is "
            "max_lr, not 2 max_lr - min_lr",
        ),
    ],
    locate=lambda case, path: f"step {case[0]}",
)


# --- Exercise 4: 6·N·D -------------------------------------------------------------------


def training_flops(n_params, n_tokens):
    forward = 2 * n_params * n_tokens  # one multiply and one add per weight per token
    backward = 2 * forward  # gradients for the inputs and for the weights
    return forward + backward  # 6 N D


q4 = Question(
    "Write training_flops(n_params, n_tokens): the usual estimate of the floating-point "
    "operations to train a model of n_params parameters on n_tokens tokens, forward and "
    "backward passes together.",
    kind="function",
    reference=training_flops,
    cases=[(8.32e5, 2.048e6), (175e9, 300e9), (1.0, 1.0)],
    hints=[
        "In the forward pass each parameter takes part in one multiply and one add per token.",
        "The backward pass costs about twice the forward pass: one product for the gradient "
        "of the inputs, one for the gradient of the weights.",
    ],
    mistakes=[
        Mistake(
            _named("forward_only", lambda n_params, n_tokens: 2 * n_params * n_tokens),
            "2·N·D is the forward pass alone; training also runs the backward pass, about "
            "twice as costly, so the total is 6·N·D",
        ),
        Mistake(
            _named("one_flop", lambda n_params, n_tokens: n_params * n_tokens),
            "each parameter does a multiply *and* an add per token (2 FLOPs), and the "
            "backward pass doubles it twice over: 6·N·D",
        ),
        Mistake(
            _named("per_token", lambda n_params, n_tokens: 6 * n_params),
            "6·N is the cost of one token; multiply by the number of tokens D",
        ),
        Mistake(
            _named("backward_once", lambda n_params, n_tokens: 4 * n_params * n_tokens),
            "the backward pass computes two products per weight (the gradient of the inputs and "
            "of the weights), so it is 4·N·D on its own and the total is 6·N·D",
        ),
    ],
)


# --- Exercise 5: counting a GPT's parameters ---------------------------------------------


def gpt_parameters(vocab_size, block_size, d_model, n_layers):
    d = d_model
    embeddings = vocab_size * d + block_size * d  # token and position tables
    attention = d * 3 * d + 3 * d + d * d + d  # q, k, v projection and output, with biases
    ffn = d * 4 * d + 4 * d + 4 * d * d + d  # d -> 4d -> d, with biases
    layer_norms = 2 * (2 * d)  # two per block, each a gain and a bias
    head = 2 * d + d * vocab_size  # final layer norm, then the LM head (no bias)
    return embeddings + n_layers * (attention + ffn + layer_norms) + head


def _count(positions=True, head=True, biases=True, norms=True, ffn_width=4):
    def wrong(vocab_size, block_size, d_model, n_layers):
        d = d_model
        block = 4 * d * d + 2 * ffn_width * d * d
        if biases:
            block += 4 * d + ffn_width * d + d
        if norms:
            block += 4 * d
        total = vocab_size * d + (block_size * d if positions else 0) + n_layers * block
        return total + (2 * d if norms else 0) + (d * vocab_size if head else 0)

    return wrong


q5 = Question(
    "Write gpt_parameters(vocab_size, block_size, d_model, n_layers): the number of parameters "
    "of the book's GPT (genai_notes.gpt.GPT): token and learned position embeddings; per block "
    "two LayerNorms (gain and bias), attention with a q/k/v projection and an output "
    "projection, and a feed-forward net d_model -> 4·d_model -> d_model, all with biases; a "
    "final LayerNorm; an LM head without bias, not tied to the embedding.",
    kind="function",
    reference=gpt_parameters,
    cases=[(135, 32, 16, 1), (135, 32, 128, 4), (50257, 1024, 768, 12), (10, 4, 8, 2)],
    hints=[
        "Count one block first: the q, k, v projection is d × 3d plus 3d biases, the output "
        "projection d × d plus d; the FFN is d × 4d + 4d, then 4d × d + d.",
        "Outside the blocks: the token table (vocab × d), the position table (block × d), the "
        "final LayerNorm (2d) and the LM head (d × vocab).",
    ],
    mistakes=[
        Mistake(
            _named("no_positions", _count(positions=False)),
            "the learned position table, block_size × d_model, is missing",
        ),
        Mistake(
            _named("tied_head", _count(head=False)),
            "that count ties the LM head to the token table; the book's GPT has its own "
            "d_model × vocab_size head",
        ),
        Mistake(
            _named("no_biases", _count(biases=False)),
            "the linear layers' biases are missing: 3d + d in attention, 4d + d in the FFN",
        ),
        Mistake(
            _named("no_norms", _count(norms=False)),
            "the LayerNorms have parameters too: a gain and a bias of d_model each, two per "
            "block and one at the end",
        ),
        Mistake(
            _named("ffn_width_d", _count(ffn_width=1)),
            "the feed-forward net widens to 4 · d_model: its two matrices are d × 4d and 4d × d",
        ),
    ],
    locate=lambda case, path: "the total",
)

bind(globals())
