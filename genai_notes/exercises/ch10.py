"""Exercises for chapter 10, "Encoder models: BERT": the 80/10/10 masking of one sequence
with a given random stream, which positions enter the MLM loss, one step of the
logistic-regression probe, mean pooling over padding, and the encoder's bidirectional mask.

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it), its test cases, its typical mistakes and its hints.
:mod:`genai_notes.bert` and :mod:`genai_notes.probing` compute the same things, and
``tests/test_exercises_ch10.py`` checks that they agree.
"""

from __future__ import annotations

import numpy as np

from genai_notes.exercises.core import Mistake, Question, bind

_rng = np.random.default_rng(10)

# A small vocabulary for the cases: words 0-9, then [PAD] 10, [CLS] 11, [MASK] 12.
N_WORDS, PAD, CLS, MASK = 10, 10, 11, 12


# --- Exercise 1: the 80/10/10 masking of one sequence -------------------------------------


def mask_tokens(ids, u, v, random_words, mask_id, n_ordinary):
    selected = (u < 0.15) & (ids < n_ordinary)  # 15% of the ordinary words, never specials
    inputs = ids.copy()
    inputs[selected & (v < 0.8)] = mask_id  # 80% of the selected: [MASK]
    swap = selected & (v >= 0.8) & (v < 0.9)  # 10%: a random word
    inputs[swap] = random_words[swap]  # the other 10% stay as they are
    labels = np.where(selected, ids, -100)  # the loss reads the selected positions only
    return inputs, labels


def _all_masked(ids, u, v, random_words, mask_id, n_ordinary):
    selected = (u < 0.15) & (ids < n_ordinary)
    return np.where(selected, mask_id, ids), np.where(selected, ids, -100)


def _no_kept(ids, u, v, random_words, mask_id, n_ordinary):
    selected = (u < 0.15) & (ids < n_ordinary)
    inputs = np.where(selected & (v < 0.8), mask_id, ids)
    inputs = np.where(selected & (v >= 0.8), random_words, inputs)
    return inputs, np.where(selected, ids, -100)


def _specials_selected(ids, u, v, random_words, mask_id, n_ordinary):
    selected = u < 0.15
    inputs = np.where(selected & (v < 0.8), mask_id, ids)
    inputs = np.where(selected & (v >= 0.8) & (v < 0.9), random_words, inputs)
    return inputs, np.where(selected, ids, -100)


def _right_inputs(ids, u, v, random_words, mask_id, n_ordinary):
    selected = (u < 0.15) & (ids < n_ordinary)
    inputs = np.where(selected & (v < 0.8), mask_id, ids)
    return np.where(selected & (v >= 0.8) & (v < 0.9), random_words, inputs)


def _labels_everywhere(ids, u, v, random_words, mask_id, n_ordinary):
    return _right_inputs(ids, u, v, random_words, mask_id, n_ordinary), ids.copy()


def _labels_at_masks_only(ids, u, v, random_words, mask_id, n_ordinary):
    inputs = _right_inputs(ids, u, v, random_words, mask_id, n_ordinary)
    return inputs, np.where(inputs == mask_id, ids, -100)


def _random_everywhere(ids, u, v, random_words, mask_id, n_ordinary):
    selected = (u < 0.15) & (ids < n_ordinary)
    inputs = np.where(selected & (v < 0.8), mask_id, ids)
    inputs = np.where((v >= 0.8) & (v < 0.9) & (ids < n_ordinary), random_words, inputs)
    return inputs, np.where(selected, ids, -100)


def _sequence_case(seq: int) -> tuple:
    ids = np.concatenate([[CLS], _rng.integers(0, N_WORDS, seq - 3), [PAD, PAD]])
    return (ids, _rng.random(seq), _rng.random(seq), _rng.integers(0, N_WORDS, seq), MASK, N_WORDS)


_HAND_CASE = (  # position: 0 CLS, 1 masked, 2 not selected, 3 random, 4 kept, 5 PAD
    np.array([CLS, 3, 5, 7, 2, PAD]),
    np.array([0.05, 0.10, 0.50, 0.02, 0.14, 0.01]),
    np.array([0.30, 0.50, 0.85, 0.85, 0.95, 0.20]),
    np.array([4, 9, 1, 0, 6, 8]),
    MASK,
    N_WORDS,
)


def _masking_place(case, path):
    if len(path) != 2:
        return None
    return f"position {path[1]} of the {'inputs' if path[0] == 0 else 'labels'}"


q1 = Question(
    "Write mask_tokens(ids, u, v, random_words, mask_id, n_ordinary) for one sequence of ids: "
    "an ordinary word (id < n_ordinary) is selected where u < 0.15; a selected word becomes "
    "mask_id where v < 0.8, random_words at its position where 0.8 <= v < 0.9, and stays "
    "itself otherwise. Return (inputs, labels): labels hold the original id at the selected "
    "positions and -100 elsewhere.",
    kind="function",
    reference=mask_tokens,
    cases=[_HAND_CASE, _sequence_case(40), _sequence_case(60)],
    hints=[
        "Make one boolean array `selected` first, from u and from ids < n_ordinary; every "
        "other rule is 'selected & (a condition on v)'.",
        "np.where(selected, ids, -100) gives the labels. Copy ids before you change them.",
    ],
    mistakes=[
        Mistake(
            _all_masked,
            "every selected word became [MASK]; only 80% should. 10% become a random word and "
            "10% stay themselves, so that the model cannot assume that an unmasked word is "
            "always right",
        ),
        Mistake(
            _no_kept,
            "all the selected words that are not masked became random words: the last 10% "
            "(v >= 0.9) stay unchanged",
        ),
        Mistake(
            _specials_selected,
            "[CLS] and [PAD] were selected too: only ordinary words (ids < n_ordinary) may be "
            "masked and predicted",
        ),
        Mistake(
            _labels_everywhere,
            "the labels hold every token; unselected positions must be -100, so that the loss "
            "skips them",
        ),
        Mistake(
            _labels_at_masks_only,
            "the labels mark only the [MASK] positions; the random and unchanged selected words "
            "must be predicted too: label every selected position",
        ),
        Mistake(
            _random_everywhere,
            "words that were not selected were replaced by random words; only selected words "
            "change",
        ),
    ],
    forbid={"mask_tokens": "the task is to write the masking yourself"},
    locate=_masking_place,
)


# --- Exercise 2: which positions enter the loss -------------------------------------------


def mlm_loss(logits, inputs, labels, mask_id):
    chosen = labels != -100  # every selected position: [MASK], random word or unchanged
    z = logits[chosen]  # (n_chosen, vocab)
    z = z - z.max(axis=1, keepdims=True)  # stable log-softmax
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(z)), labels[chosen]].mean())


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _only_masks(logits, inputs, labels, mask_id):
    chosen = inputs == mask_id
    return float(-_log_softmax(logits[chosen])[np.arange(chosen.sum()), labels[chosen]].mean())


def _every_position(logits, inputs, labels, mask_id):
    targets = np.where(labels != -100, labels, inputs)
    return float(-_log_softmax(logits)[np.arange(len(targets)), targets].mean())


def _summed(logits, inputs, labels, mask_id):
    chosen = labels != -100
    return float(-_log_softmax(logits[chosen])[np.arange(chosen.sum()), labels[chosen]].sum())


def _over_the_sequence(logits, inputs, labels, mask_id):
    chosen = labels != -100
    total = -_log_softmax(logits[chosen])[np.arange(chosen.sum()), labels[chosen]].sum()
    return float(total / len(labels))


def _predicts_the_input(logits, inputs, labels, mask_id):
    chosen = labels != -100
    return float(-_log_softmax(logits[chosen])[np.arange(chosen.sum()), inputs[chosen]].mean())


def _loss_case(seq: int, vocab: int = 13) -> tuple:
    ids = _rng.integers(0, N_WORDS, seq)
    labels = np.full(seq, -100)
    inputs = ids.copy()
    picks = _rng.choice(seq, size=4, replace=False)
    inputs[picks[:2]] = MASK  # two masked, one random word, one unchanged
    inputs[picks[2]] = (ids[picks[2]] + 1) % N_WORDS
    labels[picks] = ids[picks]
    return (_rng.normal(0, 2, (seq, vocab)).round(2), inputs, labels, MASK)


q2 = Question(
    "Write mlm_loss(logits, inputs, labels, mask_id) for one sequence: logits (seq, vocab), "
    "the inputs the model read and the labels from the masking (-100 where not selected). "
    "Return the mean of -log softmax(logits)[label] over the positions the loss covers.",
    kind="function",
    reference=mlm_loss,
    cases=[_loss_case(9), _loss_case(12), _loss_case(7)],
    hints=[
        "The labels say which positions count: labels != -100. The inputs do not: a selected "
        "word may still look like itself, or like a random word.",
        "Log-softmax each chosen row (subtract its max first), pick the label's entry, and "
        "average over the chosen positions only.",
    ],
    mistakes=[
        Mistake(
            _only_masks,
            "you scored only the [MASK] positions; the selected words that became random or "
            "stayed unchanged are predicted too. Use labels != -100, not inputs == mask_id",
        ),
        Mistake(
            _every_position,
            "you scored every position; the MLM loss covers the selected positions only "
            "(labels != -100)",
        ),
        Mistake(_summed, "you summed the losses: take their mean over the selected positions"),
        Mistake(
            _over_the_sequence,
            "you divided by the length of the sequence; divide by the number of selected positions",
        ),
        Mistake(
            _predicts_the_input,
            "the target is the original word (the label), not what the model read: at a "
            "[MASK] or a random word the input is not the answer",
        ),
    ],
)


# --- Exercise 3: one step of the logistic-regression probe --------------------------------


def probe_step(w, b, features, labels, lr):
    p = 1 / (1 + np.exp(-(features @ w + b)))  # (n,) predicted probability of label 1
    error = p - labels  # (n,)
    grad_w = features.T @ error / len(labels)  # the mean logistic loss's gradient
    grad_b = error.mean()
    return w - lr * grad_w, b - lr * grad_b


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _ascent(w, b, features, labels, lr):
    error = _sigmoid(features @ w + b) - labels
    return w + lr * features.T @ error / len(labels), b + lr * error.mean()


def _summed_gradient(w, b, features, labels, lr):
    error = _sigmoid(features @ w + b) - labels
    return w - lr * features.T @ error, b - lr * error.sum()


def _no_sigmoid(w, b, features, labels, lr):
    error = features @ w + b - labels
    return w - lr * features.T @ error / len(labels), b - lr * error.mean()


def _bias_left_alone(w, b, features, labels, lr):
    error = _sigmoid(features @ w + b) - labels
    return w - lr * features.T @ error / len(labels), b


def _squared_error(w, b, features, labels, lr):
    p = _sigmoid(features @ w + b)
    error = (p - labels) * p * (1 - p)
    return w - lr * features.T @ error / len(labels), b - lr * error.mean()


def _probe_case(n: int, d: int) -> tuple:
    return (
        _rng.normal(size=d).round(2),
        0.3,
        _rng.normal(size=(n, d)).round(2),
        _rng.integers(0, 2, n),
        0.5,
    )


def _probe_place(case, path):
    if path[:1] == (1,):
        return "the bias b"
    return f"weight {path[1]} of w" if len(path) == 2 else None


q3 = Question(
    "Write probe_step(w, b, features, labels, lr): one gradient-descent step on the mean "
    "logistic loss of a linear probe, p = sigmoid(features @ w + b), for features (n, d) and "
    "labels (n,) of 0 and 1. Return the new (w, b).",
    kind="function",
    reference=probe_step,
    cases=[_probe_case(6, 3), _probe_case(10, 4), _probe_case(5, 2)],
    hints=[
        "For the logistic loss the gradient with respect to the logit is simply p - labels.",
        "Then grad_w = features.T @ (p - labels) / n and grad_b = mean(p - labels); step "
        "against the gradient.",
    ],
    mistakes=[
        Mistake(_ascent, "you stepped up the gradient: subtract lr * gradient to lower the loss"),
        Mistake(
            _summed_gradient,
            "you summed the gradient over the examples; the loss is a mean, so divide by n",
        ),
        Mistake(
            _no_sigmoid,
            "you used the logit features @ w + b as the prediction; apply the sigmoid first, "
            "p = 1 / (1 + exp(-logit))",
        ),
        Mistake(_bias_left_alone, "the bias must move too: b - lr * mean(p - labels)"),
        Mistake(
            _squared_error,
            "that is the gradient of the squared error (p - y)²/2, with its extra p (1 - p); "
            "the logistic loss's gradient at the logit is just p - y",
        ),
    ],
    forbid={"probe_step": "the task is to write the step yourself", "fit_probe": "write one step"},
    locate=_probe_place,
)


# --- Exercise 4: mean pooling with padding ------------------------------------------------


def mean_pool(hidden, real):
    weights = real / real.sum(axis=1, keepdims=True)  # (batch, seq): 1/n on the real tokens
    return (hidden * weights[:, :, None]).sum(axis=1)  # (batch, d_model)


def _with_pads(hidden, real):
    return hidden.mean(axis=1)


def _sum_only(hidden, real):
    return (hidden * real[:, :, None]).sum(axis=1)


def _over_seq(hidden, real):
    return (hidden * real[:, :, None]).sum(axis=1) / hidden.shape[1]


def _first_token(hidden, real):
    return hidden[:, 0]


def _pads_averaged(hidden, real):
    pads = ~real
    counts = np.maximum(pads.sum(axis=1, keepdims=True), 1)
    return (hidden * pads[:, :, None]).sum(axis=1) / counts


def _pool_case(lengths: list[int], seq: int, d: int) -> tuple:
    real = np.arange(seq)[None, :] < np.array(lengths)[:, None]
    hidden = _rng.normal(size=(len(lengths), seq, d)).round(2)
    hidden[~real] = 9.0  # what sits at a padded position must not matter
    return (hidden, real)


def _pool_place(case, path):
    return f"sentence {path[0]}, channel {path[1]}" if len(path) == 2 else None


q4 = Question(
    "Write mean_pool(hidden, real): from hidden (batch, seq, d_model) and real (batch, seq), "
    "True on real tokens and False on padding, return (batch, d_model): each sentence's mean "
    "vector over its real tokens.",
    kind="function",
    reference=mean_pool,
    cases=[_pool_case([3, 5, 1], 5, 4), _pool_case([2, 2], 4, 3), _pool_case([6], 6, 2)],
    hints=[
        "Zero the padded vectors (multiply by real[:, :, None]), sum over the seq axis...",
        "...and divide each sentence by its own number of real tokens, real.sum(axis=1).",
    ],
    mistakes=[
        Mistake(_with_pads, "the padded positions entered the mean: average the real tokens only"),
        Mistake(_sum_only, "you summed the real vectors: divide by each sentence's real count"),
        Mistake(
            _over_seq,
            "you divided by the padded length seq; divide each sentence by its own number of "
            "real tokens",
        ),
        Mistake(_first_token, "that is [CLS] pooling (the first position); take the mean"),
        Mistake(_pads_averaged, "you averaged the padding: True in real marks the real tokens"),
    ],
    forbid={"mean_pool": "the task is to write the pooling yourself"},
    locate=_pool_place,
)


# --- Exercise 5: the encoder's bidirectional mask -----------------------------------------


def encoder_mask(ids, pad_id):
    real_keys = (ids != pad_id)[:, None, :]  # (batch, 1, seq): key j is a real token
    seq = ids.shape[1]
    return np.broadcast_to(real_keys, (len(ids), seq, seq))  # the same for every query


def _causal(ids, pad_id):
    seq = ids.shape[1]
    return np.tril(np.ones((seq, seq), dtype=bool))[None] & (ids != pad_id)[:, None, :]


def _pad_queries(ids, pad_id):
    seq = ids.shape[1]
    return np.broadcast_to((ids != pad_id)[:, :, None], (len(ids), seq, seq))


def _pad_rows_too(ids, pad_id):
    real = ids != pad_id
    return real[:, :, None] & real[:, None, :]


def _everything(ids, pad_id):
    seq = ids.shape[1]
    return np.ones((len(ids), seq, seq), dtype=bool)


def _pads_marked(ids, pad_id):
    seq = ids.shape[1]
    return np.broadcast_to((ids == pad_id)[:, None, :], (len(ids), seq, seq))


def _mask_place(case, path):
    if len(path) != 3:
        return None
    b, i, j = path
    return f"sentence {b}: query position {i} looking at key position {j}"


q5 = Question(
    "Write encoder_mask(ids, pad_id) for token ids (batch, seq): a boolean (batch, seq, seq) "
    "array, True where query position i may attend to key position j in a BERT encoder: "
    "every query sees every real token, before or after it, and no padding.",
    kind="function",
    reference=encoder_mask,
    cases=[
        (np.array([[11, 3, 4, 5, 10, 10], [11, 6, 7, 8, 9, 2]]), 10),
        (np.array([[11, 2, 10]]), 10),
        (np.array([[5, 0, 0, 7], [5, 5, 0, 0]]), 0),
    ],
    hints=[
        "No np.tril here: an encoder reads both sides. Only padding is hidden.",
        "Padding is about the keys, the columns: (ids != pad_id)[:, None, :] has the shape "
        "(batch, 1, seq); broadcast it to (batch, seq, seq).",
    ],
    mistakes=[
        Mistake(
            _causal,
            "that is a decoder's causal mask: an encoder lets each token see the tokens after "
            "it too. Keep only the padding mask",
        ),
        Mistake(
            _pad_queries,
            "you masked the pad *queries* (rows); mask the pad *keys* (columns), so that no "
            "position reads a pad",
        ),
        Mistake(
            _pad_rows_too,
            "a pad query's row is all False, and a softmax over no allowed key is 0/0 (NaN); "
            "hide the pad keys only and let the pad rows read the real tokens (their outputs "
            "are never used)",
        ),
        Mistake(_everything, "every key is allowed, padding included: hide the pad keys"),
        Mistake(_pads_marked, "True should mark the real keys, ids != pad_id, not the pads"),
    ],
    locate=_mask_place,
)

bind(globals())
