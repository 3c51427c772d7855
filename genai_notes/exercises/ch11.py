"""Exercises for chapter 11, "Fine-tuning and adaptation": how many numbers a LoRA update
trains, the LoRA layer's forward pass, merging the update into the weight, which tokens of a
chat enter the loss, and the chat template as text.

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it), its test cases, its typical mistakes and its hints.
:mod:`genai_notes.finetuning` computes the same things, and ``tests/test_exercises_ch11.py``
checks that they agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from genai_notes.exercises.core import Mistake, Question, bind

_rng = np.random.default_rng(11)

# A small vocabulary for the chat cases: words 0-9, then the three turn markers.
N_WORDS, USER_ID, ASSISTANT_ID, END_ID = 10, 10, 11, 12


# --- Exercise 1: how many numbers LoRA trains ---------------------------------------------


def lora_parameter_count(d_in, d_out, r):
    # A is (d_in, r) and B is (r, d_out); the weight W itself stays frozen
    return d_in * r + r * d_out


def _full_matrix(d_in, d_out, r):
    return d_in * d_out


def _a_only(d_in, d_out, r):
    return r * d_in


def _b_only(d_in, d_out, r):
    return r * d_out


def _frozen_counted(d_in, d_out, r):
    return r * (d_in + d_out) + d_in * d_out


def _times_rank(d_in, d_out, r):
    return d_in * d_out * r


def _square_formula(d_in, d_out, r):
    return 2 * r * d_in


q1 = Question(
    "Write lora_parameter_count(d_in, d_out, r): the number of trainable numbers in a rank-r "
    "LoRA update of a frozen (d_in, d_out) weight, y = x W + b + (alpha / r) x A B.",
    kind="function",
    reference=lora_parameter_count,
    cases=[(8, 6, 2), (64, 192, 4), (100, 20, 5)],
    hints=[
        "Only A and B are trained. What are their shapes, for a rank r?",
        "A is (d_in, r) and B is (r, d_out): count the numbers in each and add them.",
    ],
    mistakes=[
        Mistake(
            _full_matrix,
            "d_in × d_out is the size of the full weight W, which full fine-tuning trains; "
            "LoRA trains only the two thin matrices A and B",
        ),
        Mistake(_a_only, "you counted A (d_in × r) only; B (r × d_out) is trained too"),
        Mistake(_b_only, "you counted B (r × d_out) only; A (d_in × r) is trained too"),
        Mistake(
            _frozen_counted,
            "you counted the frozen weight W as well; LoRA leaves W unchanged, so only A and "
            "B count",
        ),
        Mistake(
            _times_rank,
            "you multiplied the full weight's size by the rank; LoRA trains A (d_in × r) and "
            "B (r × d_out), far fewer numbers than d_in × d_out",
        ),
        Mistake(
            _square_formula,
            "2 r d counts a square weight; here the weight is (d_in, d_out), so A has "
            "d_in × r numbers and B has r × d_out",
        ),
    ],
    forbid={"lora_parameter_count": "the task is to count the numbers yourself"},
)


# --- Exercise 2: the LoRA layer's forward pass --------------------------------------------


def lora_forward(x, W, b, A, B, alpha):
    # x: (n, d_in), W: (d_in, d_out), b: (d_out,), A: (d_in, r), B: (r, d_out)
    r = A.shape[1]  # the rank of the update
    scale = alpha / r
    base = x @ W + b  # (n, d_out): the frozen layer
    update = (x @ A) @ B  # (n, r) then (n, d_out): the low-rank path
    return base + scale * update


def _no_scale(x, W, b, A, B, alpha):
    return x @ W + b + x @ A @ B


def _scale_alpha(x, W, b, A, B, alpha):
    return x @ W + b + alpha * (x @ A @ B)


def _scale_upside_down(x, W, b, A, B, alpha):
    return x @ W + b + (A.shape[1] / alpha) * (x @ A @ B)


def _no_bias(x, W, b, A, B, alpha):
    return x @ W + (alpha / A.shape[1]) * (x @ A @ B)


def _update_only(x, W, b, A, B, alpha):
    return (alpha / A.shape[1]) * (x @ A @ B)


def _base_only(x, W, b, A, B, alpha):
    return x @ W + b


def _lora_case(n: int, d_in: int, d_out: int, r: int, alpha: float) -> tuple:
    """(x, W, b, A, B, alpha) with a nonzero B, as after some training."""
    return (
        _rng.normal(size=(n, d_in)).round(2),
        _rng.normal(size=(d_in, d_out)).round(2),
        _rng.normal(size=d_out).round(2),
        _rng.normal(size=(d_in, r)).round(2),
        _rng.normal(size=(r, d_out)).round(2),
        alpha,
    )


def _output_place(case, path):
    return f"token {path[0]}, output feature {path[1]}" if len(path) == 2 else None


q2 = Question(
    "Write lora_forward(x, W, b, A, B, alpha): the output (n, d_out) of a LoRA layer for "
    "inputs x (n, d_in), the frozen weight W (d_in, d_out) and bias b (d_out,), and the "
    "update A (d_in, r), B (r, d_out) scaled by alpha / r.",
    kind="function",
    reference=lora_forward,
    cases=[
        _lora_case(5, 4, 3, 2, 8.0),
        _lora_case(3, 6, 4, 3, 1.0),
        _lora_case(2, 3, 5, 1, 4.0),
    ],
    hints=[
        "The output is the frozen layer's output, x W + b, plus the low-rank path x A B.",
        "The rank r is A.shape[1]; the low-rank path is multiplied by alpha / r.",
    ],
    mistakes=[
        Mistake(
            _no_scale,
            "the low-rank path x A B must be multiplied by alpha / r; without it, changing the "
            "rank would change how large the update is",
        ),
        Mistake(_scale_alpha, "you scaled the update by alpha; the scale is alpha / r"),
        Mistake(_scale_upside_down, "you scaled the update by r / alpha; the scale is alpha / r"),
        Mistake(_no_bias, "the frozen layer's bias b is missing: its output is x W + b"),
        Mistake(
            _update_only,
            "you returned the update alone; LoRA adds it to the frozen layer's output x W + b",
        ),
        Mistake(
            _base_only,
            "you returned the frozen layer's output only; add the scaled update x A B. (It is "
            "zero only at the start, while B is zero; here B has been trained)",
        ),
    ],
    forbid={"LoRALinear": "the task is to write the layer's arithmetic yourself"},
    locate=_output_place,
)


# --- Exercise 3: merging the update into the weight ---------------------------------------


def merge_lora(W, A, B, alpha):
    # W: (d_in, d_out), A: (d_in, r), B: (r, d_out)
    r = A.shape[1]
    return W + (alpha / r) * (A @ B)  # (d_in, d_out): one ordinary weight again


def _merge_no_scale(W, A, B, alpha):
    return W + A @ B


def _merge_scale_alpha(W, A, B, alpha):
    return W + alpha * (A @ B)


def _merge_update_only(W, A, B, alpha):
    return (alpha / A.shape[1]) * (A @ B)


def _merge_subtracted(W, A, B, alpha):
    return W - (alpha / A.shape[1]) * (A @ B)


def _merge_transposed(W, A, B, alpha):
    return W + (alpha / A.shape[1]) * (B.T @ A.T)


def _merge_case(d_in: int, d_out: int, r: int, alpha: float) -> tuple:
    _, W, _, A, B, alpha = _lora_case(1, d_in, d_out, r, alpha)
    return (W, A, B, alpha)


def _weight_place(case, path):
    return f"the weight from input {path[0]} to output {path[1]}" if len(path) == 2 else None


# The square case comes first: there the transposed update still fits, so it is told apart
# by its values and diagnosed, instead of failing on a shape.
_SQUARE_MERGE = _merge_case(4, 4, 2, 4.0)

q3 = Question(
    "Write merge_lora(W, A, B, alpha): the single weight (d_in, d_out) that computes what the "
    "frozen weight W (d_in, d_out) and the LoRA update A (d_in, r), B (r, d_out), scaled by "
    "alpha / r, compute together, so that x @ merged + b is the LoRA layer's output.",
    kind="function",
    reference=merge_lora,
    cases=[_SQUARE_MERGE, _merge_case(5, 3, 2, 1.0), _merge_case(3, 6, 3, 12.0)],
    hints=[
        "x W + (alpha / r) x A B = x (W + ...): factor x out of the LoRA layer's output.",
        "A @ B has the shape (d_in, d_out) of W; add it, scaled by alpha / r.",
    ],
    mistakes=[
        Mistake(
            _merge_no_scale, "the update A B must be multiplied by alpha / r before it is added"
        ),
        Mistake(_merge_scale_alpha, "you scaled the update by alpha; the scale is alpha / r"),
        Mistake(
            _merge_update_only,
            "you returned the update alone; the merged weight is the frozen W plus the update",
        ),
        Mistake(
            _merge_subtracted,
            "you subtracted the update; the LoRA layer adds it, so the merged weight is "
            "W + (alpha / r) A B",
        ),
        Mistake(
            _merge_transposed,
            "your update is transposed: it fits only because this weight is square. With "
            "x (n, d_in) on the left, the update is A @ B, (d_in, r) times (r, d_out)",
            cases=[_SQUARE_MERGE],
        ),
    ],
    forbid={"merge": "the task is to merge the weights yourself"},
    locate=_weight_place,
)


# --- Exercise 4: which tokens of a chat enter the loss ------------------------------------


def response_mask(ids, assistant_id, end_id):
    # ids: (seq,) token ids of a chat; returns (seq,) True on the response tokens
    pos = np.arange(len(ids))
    # Where the latest assistant marker sits, at or before each token (-1: none yet).
    last_open = np.maximum.accumulate(np.where(ids == assistant_id, pos, -1))
    # Where the latest END sits, strictly before each token: the END that closes a response
    # belongs to it, so it must not close the turn before it is counted.
    last_end = np.maximum.accumulate(np.where(ids == end_id, pos, -1))
    end_before = np.concatenate([[-1], last_end[:-1]])
    # A response token comes after an open marker (not the marker itself), and no END has
    # closed that turn yet.
    return (last_open < pos) & (last_open > end_before)


def _marker_included(ids, assistant_id, end_id):
    return response_mask(ids, assistant_id, end_id) | (ids == assistant_id)


def _end_excluded(ids, assistant_id, end_id):
    return response_mask(ids, assistant_id, end_id) & (ids != end_id)


def _never_closed(ids, assistant_id, end_id):
    markers_before = np.cumsum(ids == assistant_id) - (ids == assistant_id)
    return markers_before > 0


def _inverted(ids, assistant_id, end_id):
    return ~response_mask(ids, assistant_id, end_id)


def _first_turn_only(ids, assistant_id, end_id):
    return response_mask(ids, assistant_id, end_id) & (np.cumsum(ids == assistant_id) == 1)


def _every_end(ids, assistant_id, end_id):
    return response_mask(ids, assistant_id, end_id) | (ids == end_id)


def _conversation(n_turns: int, n_pad: int) -> tuple:
    """A chat of ``n_turns`` user and assistant turns, then ``n_pad`` padding ENDs."""
    ids: list[int] = []
    for _ in range(n_turns):
        for marker in (USER_ID, ASSISTANT_ID):
            ids += [marker, *_rng.integers(0, N_WORDS, _rng.integers(1, 5)).tolist(), END_ID]
    return (np.array(ids + [END_ID] * n_pad), ASSISTANT_ID, END_ID)


_U, _A, _E = USER_ID, ASSISTANT_ID, END_ID
_CHAT_CASES = [
    (np.array([_U, 3, 4, _E, _A, 5, 6, _E]), _A, _E),
    (np.array([_U, 1, 2, _E, _A, 3, _E, _U, 4, _E, _A, 5, 6, _E, _E, _E]), _A, _E),
    (np.array([0, 5, 6, 2, 1, 7, 8, 2, 2]), 1, 2),  # other marker ids: user 0, assistant 1, END 2
    (np.array([_U, 1, 2, 3, _E, _E]), _A, _E),  # no assistant turn at all
    (np.array([_U, 7, _E, _A]), _A, _E),  # a prompt: the response is not written yet
    _conversation(3, 2),
]


def _token_place(case, path):
    if len(path) != 1:
        return None
    ids, assistant_id, end_id = case
    what = {assistant_id: " (an assistant marker)", end_id: " (an END)"}.get(int(ids[path[0]]), "")
    return f"token {path[0]}{what}"


def _true_on_a_marker(output, case):
    ids, assistant_id, _ = case
    if np.asarray(output, dtype=bool)[ids == assistant_id].any():
        return (
            "the mask is True on an assistant marker; the marker is part of the prompt, and "
            "the response starts at the token after it"
        )
    return None


def _closing_end_left_out(output, case):
    ids, assistant_id, end_id = case
    closing = response_mask(ids, assistant_id, end_id) & (ids == end_id)
    if not np.asarray(output, dtype=bool)[closing].all():
        return (
            "an END that closes an assistant turn is False; it belongs to the response, so "
            "that the model learns to stop"
        )
    return None


q4 = Question(
    "Write response_mask(ids, assistant_id, end_id) for the token ids (seq,) of a chat: a "
    "boolean array (seq,), True on every token after an assistant marker up to and including "
    "the END that closes that turn (there may be several turns), False elsewhere.",
    kind="function",
    reference=response_mask,
    cases=_CHAT_CASES,
    hints=[
        "Follow each token's state: an assistant marker opens a response, the next END closes "
        "it. The marker itself is not in the response; the closing END is.",
        "np.maximum.accumulate(np.where(ids == assistant_id, np.arange(len(ids)), -1)) gives, "
        "at every token, the position of the latest assistant marker so far. Do the same for "
        "END, shifted by one token, and compare the two.",
    ],
    mistakes=[
        Mistake(
            _marker_included,
            "the assistant marker is True; it is part of the prompt, and the response starts at "
            "the token after it",
        ),
        Mistake(
            _end_excluded,
            "the END that closes each response is False; include it, so that the model learns "
            "to stop when its answer is done",
        ),
        Mistake(
            _never_closed,
            "everything after the first assistant marker is True: an END closes the assistant's "
            "turn, so the user's next turn and the padding after it are not part of a response",
        ),
        Mistake(
            _inverted,
            "True and False are swapped: the loss covers the assistant's responses, not the "
            "user's turns",
        ),
        Mistake(
            _first_turn_only,
            "only the first assistant turn is True; every assistant turn of the chat is a response",
        ),
        Mistake(
            _every_end,
            "every END is True; the END that closes a user's turn and the padding ENDs are not "
            "part of a response, only the END that closes an assistant turn is",
        ),
    ],
    diagnose=[_true_on_a_marker, _closing_end_left_out],
    forbid={"response_loss_mask": "the task is to write the mask yourself"},
    locate=_token_place,
)


# --- Exercise 5: the chat template as text ------------------------------------------------


def format_example(instruction, response=None):
    prompt = f"<|user|> {instruction} <|end|> <|assistant|>"
    if response is None:
        return prompt  # what the model reads before it writes a response
    return f"{prompt} {response} <|end|>"  # the END is how the model learns to stop


def _wrong_template(name: str, prompt: str, reply: str) -> Callable[..., str]:
    """A mistaken template: ``prompt`` holds the instruction's place ``{}``, and ``reply``,
    added when there is a response, holds the response's."""

    def wrong(instruction, response=None):
        text = prompt.format(instruction)
        return text if response is None else text + reply.format(response)

    wrong.__name__ = name
    return wrong


_no_closing_end = _wrong_template("_no_closing_end", "<|user|> {} <|end|> <|assistant|>", " {}")
_no_user_end = _wrong_template("_no_user_end", "<|user|> {} <|assistant|>", " {} <|end|>")
_end_after_assistant = _wrong_template(
    "_end_after_assistant", "<|user|> {} <|assistant|> <|end|>", " {} <|end|>"
)
_roles_swapped = _wrong_template(
    "_roles_swapped", "<|assistant|> {} <|end|> <|user|>", " {} <|end|>"
)
_no_spaces = _wrong_template("_no_spaces", "<|user|>{}<|end|><|assistant|>", "{}<|end|>")


def _prompt_closed(instruction, response=None):
    prompt = f"<|user|> {instruction} <|end|> <|assistant|>"
    return f"{prompt} <|end|>" if response is None else f"{prompt} {response} <|end|>"


def _none_written(instruction, response=None):
    return f"<|user|> {instruction} <|end|> <|assistant|> {response} <|end|>"


_MARKER = re.compile(r"<\|(?:user|assistant|end)\|>")


def _markers_out_of_place(output, case):
    expected, got = _MARKER.findall(format_example(*case)), _MARKER.findall(output)
    if got != expected:
        return (
            f"your text's markers read {' '.join(got) or 'nothing'}; the template's read "
            f"{' '.join(expected)}"
        )
    return None


def _spacing_only(output, case):
    spaced = " ".join(_MARKER.sub(r" \g<0> ", output).split())
    if spaced == format_example(*case):
        return (
            "the markers and the words are right, the spaces are not: one space between each "
            "marker and the text beside it, none at either end"
        )
    return None


q5 = Question(
    "Write format_example(instruction, response=None): the chat template as text, the user's "
    "turn <|user|> instruction <|end|>, then <|assistant|> response <|end|>, with one space "
    "between the pieces. With response=None, return the prompt, which ends with <|assistant|>.",
    kind="function",
    reference=format_example,
    cases=[
        # Short texts first, so that the feedback can show the whole of a wrong answer.
        ("who rules ?", "king"),
        ("is the girl royal ?", None),
        ("count the words : the old dog runs .",),  # response left at its default
        ("name the subject : the king rules .", "the king"),
    ],
    hints=[
        "Each turn opens with its marker and closes with <|end|>: the user's turn first, then "
        "the assistant's.",
        "Build the prompt f'<|user|> {instruction} <|end|> <|assistant|>' first; add "
        "' {response} <|end|>' only when there is a response.",
    ],
    mistakes=[
        Mistake(
            _no_closing_end,
            "the <|end|> after the response is missing; it closes the assistant's turn, and the "
            "model learns to stop by predicting it",
        ),
        Mistake(
            _no_user_end,
            "the <|end|> after the instruction is missing; it closes the user's turn, before "
            "<|assistant|> opens the response",
        ),
        Mistake(
            _end_after_assistant,
            "the <|end|> that closes the user's turn comes after <|assistant|>; it must come "
            "before it, right after the instruction",
        ),
        Mistake(
            _roles_swapped,
            "the markers are swapped: the instruction is the user's turn (<|user|> first) and "
            "the response is the assistant's (<|assistant|> second)",
        ),
        Mistake(
            _no_spaces,
            "the markers touch the words; put one space between each marker and the text beside it",
        ),
        Mistake(
            _prompt_closed,
            "with response=None the prompt must end with <|assistant|>: the model writes the "
            "response and its <|end|> itself",
        ),
        Mistake(
            _none_written,
            "with response=None your text contains the word None; return the prompt alone, "
            "ending with <|assistant|>",
        ),
    ],
    diagnose=[_markers_out_of_place, _spacing_only],
    forbid={"format_example": "the task is to write the template yourself"},
)

bind(globals())
