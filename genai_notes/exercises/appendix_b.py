"""Exercises for Appendix B, "A math refresher": unit vectors, the shape of a matrix product,
log-sum-exp, the Jacobian of softmax, entropy and the KL divergence.

The appendix is a page of the book, not a notebook, so a reader runs these from a notebook or
Colab session of their own::

    from genai_notes.exercises import appendix_b as ex
    ex.q1.check(normalize_rows)

Each question keeps together its reference solution (named as the learner's function is
named, since ``solution()`` prints it, and calling only what the appendix shows), its test
cases, its typical mistakes and its hints. ``tests/test_exercises_appendix_b.py`` checks the
references against values worked out by hand and against the package, and feeds every mistake
to its checker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from genai_notes.attention import softmax
from genai_notes.exercises.core import Mistake, Question, bind

_rng = np.random.default_rng(20)


def _named(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    function.__name__ = name
    return function


def _row_place(case: tuple, path: tuple) -> str | None:
    """Positions of a row-wise result: one number per row, or an entry of a row."""
    if len(path) == 2:
        return f"row {path[0]}, entry {path[1]}"
    if len(path) == 1:
        return f"row {path[0]}"
    return None


# --- Exercise 1: normalize_rows -----------------------------------------------------------


def normalize_rows(x):
    x = np.asarray(x, dtype=float)
    lengths = np.sqrt((x * x).sum(axis=-1, keepdims=True))  # (n, 1): one length per row
    return x / lengths  # (n, d) / (n, 1): each row divided by its own length


def _by_squared_length(x):
    return x / (x * x).sum(axis=-1, keepdims=True)


def _by_whole_norm(x):
    return x / np.linalg.norm(x)


def _by_column_norms(x):
    return x / np.linalg.norm(x, axis=0, keepdims=True)


def _by_l1_norm(x):
    return x / np.abs(x).sum(axis=-1, keepdims=True)


def _without_keepdims(x):
    return x / np.linalg.norm(x, axis=-1)  # (n, d) / (n,): runs only when n == d


def _rows_are_not_unit(output: Any, case: tuple) -> str | None:
    rows = np.asarray(output, dtype=float)
    if rows.shape != np.shape(case[0]):
        return None
    lengths = np.sqrt((rows * rows).sum(axis=-1))
    bad = np.flatnonzero(~np.isclose(lengths, 1.0))
    if bad.size == 0:
        return None
    return (
        f"row {bad[0]} has length {lengths[bad[0]]:.4g}, not 1: divide every row by its own "
        "Euclidean length, the square root of the sum of its squared entries"
    )


_SQUARE = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, -2.0], [1.0, 2.0, 2.0]])  # 5, 2, 3
_NORMALIZE_CASES = [
    # square and not symmetric, and first: a (3,) vector of lengths broadcasts over the
    # columns here, so that mistake gets its diagnosis before a later case makes it raise
    (_SQUARE,),
    (np.array([[3.0, 4.0], [0.0, -2.0], [1.0, 1.0]]),),
    (np.array([[1.0, 2.0, 2.0]]),),
]

q1 = Question(
    "Write normalize_rows(x): for x of shape (n, d), return the array of the same shape whose "
    "row i is row i of x divided by its Euclidean length (norm), so that every row has "
    "length 1.",
    kind="function",
    reference=normalize_rows,
    cases=_NORMALIZE_CASES,
    hints=[
        "The length of a vector v is np.sqrt((v * v).sum()); for every row at once, sum along "
        "the last axis, axis=-1.",
        "Keep the lengths as a column with keepdims=True, shape (n, 1), so that x / lengths "
        "divides each row by its own length.",
    ],
    mistakes=[
        Mistake(
            _by_squared_length,
            "you divided by the squared length (the sum of squares); the length is its square root",
        ),
        Mistake(
            _by_whole_norm,
            "np.linalg.norm(x) without an axis is the length of the whole array, all rows "
            "together; take one length per row with axis=-1, keepdims=True",
        ),
        Mistake(
            _by_column_norms,
            "you divided by the length of each column (axis=0); a row is a vector here, so "
            "take the length along axis=-1",
        ),
        Mistake(
            _by_l1_norm,
            "you divided by the sum of the absolute values (the L1 norm); the Euclidean length "
            "is the square root of the sum of squares",
        ),
        Mistake(
            _without_keepdims,
            "the lengths have shape (n,), so x / lengths divides column j by the length of "
            "row j; keep them as a column, keepdims=True, shape (n, 1)",
            cases=[_NORMALIZE_CASES[0]],
        ),
    ],
    diagnose=[_rows_are_not_unit],
    locate=_row_place,
)


# --- Exercise 2: product_shape -------------------------------------------------------------


def product_shape(a_shape, b_shape):
    *batch_a, n, k = a_shape  # a: (..., n, k)
    *batch_b, k_b, m = b_shape  # b: (..., k, m); every case here has k == k_b
    batch = np.broadcast_shapes(tuple(batch_a), tuple(batch_b))  # the leading axes
    return (*batch, n, m)


def _rows_and_columns_swapped(a_shape, b_shape):
    *batch, n, m = product_shape(a_shape, b_shape)
    return (*batch, m, n)


def _batch_dropped(a_shape, b_shape):
    return (a_shape[-2], b_shape[-1])


def _batch_from_a(a_shape, b_shape):
    return (*a_shape[:-2], a_shape[-2], b_shape[-1])


def _batch_concatenated(a_shape, b_shape):
    return (*a_shape[:-2], *b_shape[:-2], a_shape[-2], b_shape[-1])


def _elementwise_shape(a_shape, b_shape):
    return np.broadcast_shapes(tuple(a_shape), tuple(b_shape))


def _axis_place(case: tuple, path: tuple) -> str | None:
    return f"axis {path[0]} of the result" if len(path) == 1 else None


q2 = Question(
    "Write product_shape(a_shape, b_shape): the shape of a @ b, as a tuple, for arrays a of "
    "shape a_shape = (..., n, k) and b of shape b_shape = (..., k, m). Each has at least two "
    "axes, the inner sizes k agree, and the leading axes broadcast.",
    kind="function",
    reference=product_shape,
    cases=[
        # a row times a column, first: the shape of a * b exists only here
        ((1, 3), (3, 1)),
        ((2, 3), (3, 4)),
        ((8, 5, 16), (16, 32)),  # x (batch, seq, d_model) @ W (d_model, d_out)
        ((2, 4, 5, 8), (2, 4, 8, 5)),  # q @ k.swapaxes(-1, -2), per batch and head
        ((3, 4), (6, 4, 2)),  # only b has a batch axis
        ((7, 1, 2, 3), (5, 3, 4)),  # leading axes (7, 1) and (5,) broadcast to (7, 5)
    ],
    hints=[
        "Only the last two axes take part in the product: (n, k) @ (k, m) is (n, m); the "
        "shared size k disappears.",
        "The leading axes of a and b are broadcast as for a + b: np.broadcast_shapes((7, 1), "
        "(5,)) is (7, 5). Put them in front of (n, m).",
    ],
    mistakes=[
        Mistake(
            _rows_and_columns_swapped,
            "the rows of a @ b come from a and the columns from b: (n, k) @ (k, m) has shape "
            "(n, m), not (m, n)",
        ),
        Mistake(
            _batch_dropped,
            "the leading (batch) axes stay in front of the result: (8, 5, 16) @ (16, 32) is "
            "(8, 5, 32), one (5, 32) product for each of the 8 items",
        ),
        Mistake(
            _batch_from_a,
            "the leading axes come from both arrays: (3, 4) @ (6, 4, 2) is (6, 3, 2), because "
            "a is broadcast against each of b's 6 matrices",
        ),
        Mistake(
            _batch_concatenated,
            "the leading axes are broadcast against each other, not placed side by side: "
            "(2, 4) with (2, 4) stays (2, 4), and (7, 1) with (5,) gives (7, 5)",
        ),
        Mistake(
            _elementwise_shape,
            "that is the shape of the elementwise product a * b; a @ b sums over the shared "
            "axis k, so (1, 3) @ (3, 1) is (1, 1), not (3, 3)",
        ),
    ],
    locate=_axis_place,
)


# --- Exercise 3: logsumexp -------------------------------------------------------------------


def logsumexp(z):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=-1, keepdims=True)  # (..., 1): the largest logit of each row
    # log Σ exp(z) = m + log Σ exp(z - m), and every exp(z - m) is at most 1
    return m[..., 0] + np.log(np.exp(z - m).sum(axis=-1))  # (...,): one number per row


def _naive_logsumexp(z):
    return np.log(np.exp(z).sum(axis=-1))


def _forgot_the_max(z):
    m = z.max(axis=-1, keepdims=True)
    return np.log(np.exp(z - m).sum(axis=-1))


def _global_max(z):
    m = z.max()
    return m + np.log(np.exp(z - m).sum(axis=-1))


def _logsumexp_columns(z):
    m = z.max(axis=0, keepdims=True)
    return m[0] + np.log(np.exp(z - m).sum(axis=0))


def _outside_the_bounds(output: Any, case: tuple) -> str | None:
    """max(z) <= logsumexp(z) <= max(z) + log n holds for every row."""
    z = np.asarray(case[0], dtype=float)
    got = np.asarray(output, dtype=float)
    if got.shape != z.shape[:-1] or np.isnan(got).any():
        return None
    low, high = z.max(axis=-1), z.max(axis=-1) + np.log(z.shape[-1])
    bad = np.flatnonzero(np.atleast_1d((got < low - 1e-9) | (got > high + 1e-9)))
    if bad.size == 0:
        return None
    return (
        f"row {bad[0]} came out outside its bounds: the log-sum-exp of a row is at least its "
        "largest logit and at most that plus log n"
    )


q3 = Question(
    "Write logsumexp(z): log Σ_j exp(z_j) along the last axis of z (one number per row), "
    "computed so that logits as large as ±1e4 give the right answer instead of inf or -inf.",
    kind="function",
    reference=logsumexp,
    cases=[
        (np.array([1.0, 2.0, 3.0]),),
        (np.array([[1e4, 1e4 - np.log(3.0)]]),),  # exp(1e4) overflows
        (np.array([[-1e4, -1e4 + np.log(3.0)]]),),  # exp(-1e4) underflows to 0
        # a row 800 below the other: shifted by the global maximum, it underflows
        (np.array([[800.0, 800.0], [0.0, np.log(3.0)], [1.5, -0.5]]),),
        (_rng.normal(size=(2, 4)).round(2),),
    ],
    hints=[
        "log Σ exp(z) = m + log Σ exp(z - m) for any number m: take m = the row's largest "
        "logit, z.max(axis=-1, keepdims=True).",
        "After the shift every exp(z - m) is at most 1, so nothing overflows, and the largest "
        "term is exp(0) = 1, so the sum is at least 1 and its log is never -inf.",
    ],
    mistakes=[
        Mistake(
            _naive_logsumexp,
            "exp overflowed or underflowed (e^10000 is inf in float64, e^-10000 is 0): "
            "subtract each row's maximum m before exp and add it back after the log",
        ),
        Mistake(
            _forgot_the_max,
            "you subtracted the maximum m before exp but did not add it back: "
            "log Σ exp(z) = m + log Σ exp(z - m)",
        ),
        Mistake(
            _global_max,
            "you subtracted the maximum of the whole array; use each row's own maximum "
            "(z.max(axis=-1, keepdims=True)), or a row far below it underflows to log 0 = -inf",
        ),
        Mistake(
            _logsumexp_columns,
            "you reduced the columns (axis=0); log-sum-exp runs along each row, the last axis",
        ),
    ],
    diagnose=[_outside_the_bounds],
    forbid={"logsumexp": "the task is to write the shift by the maximum yourself"},
    locate=lambda case, path: f"row {path[0]}" if len(path) == 1 else None,
)


# --- Exercise 4: softmax_jacobian ---------------------------------------------------------


def softmax_jacobian(z):
    y = softmax(np.asarray(z, dtype=float))  # (n,)
    # J[i, j] = ∂y_i/∂z_j = y_i (δ_ij - y_j): y_i on the diagonal, minus y_i y_j everywhere
    return np.diag(y) - np.outer(y, y)  # (n, n)


def _diagonal_only(z):
    return np.diag(softmax(z))


def _y_one_minus_y_only(z):
    y = softmax(z)
    return np.diag(y * (1.0 - y))


def _plus_outer(z):
    y = softmax(z)
    return np.diag(y) + np.outer(y, y)


def _on_the_logits(z):
    return np.diag(z) - np.outer(z, z)


def _columns_do_not_sum_to_zero(output: Any, case: tuple) -> str | None:
    """Σ_i y_i = 1 for every z, so Σ_i ∂y_i/∂z_j = 0 for every logit j."""
    jacobian = np.asarray(output, dtype=float)
    n = np.shape(case[0])[0]
    if jacobian.shape != (n, n) or np.isnan(jacobian).any():
        return None
    sums = jacobian.sum(axis=0)
    bad = np.flatnonzero(~np.isclose(sums, 0.0, atol=1e-9))
    if bad.size == 0:
        return None
    return (
        f"column {bad[0]} sums to {sums[bad[0]]:.4g}, not 0: the outputs always sum to 1, so "
        "raising one logit cannot change their total, and each column must sum to 0"
    )


q4 = Question(
    "Write softmax_jacobian(z): for a vector z of n logits, the (n, n) Jacobian of "
    "y = softmax(z), whose entry (i, j) is ∂y_i/∂z_j. You may use softmax from "
    "genai_notes.attention.",
    kind="function",
    reference=softmax_jacobian,
    cases=[
        (np.array([0.0, 0.0]),),
        (np.array([1.0, 2.0, 3.0]),),
        (np.array([0.0, np.log(2.0), np.log(5.0), -1.0]),),
        (np.array([1e4, 1e4 - np.log(3.0), -1e4]),),
    ],
    hints=[
        "Differentiate y_i = exp(z_i) / Σ_k exp(z_k) with the quotient rule: for j = i you "
        "get y_i - y_i², and for j ≠ i you get -y_i y_j.",
        "Both cases at once: J = np.diag(y) - np.outer(y, y), with y = softmax(z).",
    ],
    mistakes=[
        Mistake(
            _diagonal_only,
            "you kept only the diagonal y_i; every output y_i depends on every logit z_j "
            "through the sum in the denominator, so subtract y_i y_j everywhere: "
            "np.diag(y) - np.outer(y, y)",
        ),
        Mistake(
            _y_one_minus_y_only,
            "the diagonal y_i (1 - y_i) is right, but the entries off the diagonal are "
            "-y_i y_j, not 0: raising one logit lowers every other probability",
        ),
        Mistake(
            _plus_outer,
            "the sign of y_i y_j is wrong: raising logit j lowers every other probability, so "
            "J = np.diag(y) - np.outer(y, y)",
        ),
        Mistake(
            _on_the_logits,
            "the formula uses the probabilities y = softmax(z), not the logits z",
        ),
    ],
    diagnose=[_columns_do_not_sum_to_zero],
    locate=lambda case, path: (
        f"the derivative of probability {path[0]} with respect to logit {path[1]}"
        if len(path) == 2
        else None
    ),
)


# --- Exercise 5: entropy -------------------------------------------------------------------


def entropy(p):
    p = np.asarray(p, dtype=float)
    safe = np.where(p > 0, p, 1.0)  # log 1 = 0: a zero probability adds 0 log 0 = 0
    return -(p * np.log(safe)).sum(axis=-1)  # in nats, one number per row


def _entropy_in_bits(p):
    safe = np.where(p > 0, p, 1.0)
    return -(p * np.log2(safe)).sum(axis=-1)


def _entropy_without_minus(p):
    safe = np.where(p > 0, p, 1.0)
    return (p * np.log(safe)).sum(axis=-1)


def _entropy_nan_at_zero(p):
    return -(p * np.log(p)).sum(axis=-1)


def _entropy_columns(p):
    safe = np.where(p > 0, p, 1.0)
    return -(p * np.log(safe)).sum(axis=0)


def _entropy_negative(output: Any, case: tuple) -> str | None:
    got = np.atleast_1d(np.asarray(output, dtype=float))
    bad = np.flatnonzero(got < -1e-12)
    if bad.size == 0:
        return None
    return (
        f"row {bad[0]} has a negative entropy; -p log p is never negative for 0 <= p <= 1, "
        "so check the minus sign"
    )


q5 = Question(
    "Write entropy(p): the entropy H(p) = -Σ_i p_i log p_i, in nats (natural log), of each "
    "distribution p along the last axis, counting 0 log 0 as 0.",
    kind="function",
    reference=entropy,
    cases=[
        (np.array([0.5, 0.5]),),
        (np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]),),
        (np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.25, 0.25, 0.5]]),),
    ],
    hints=[
        "A fair coin, p = (0.5, 0.5), has entropy log 2 ≈ 0.693 nats; a certain outcome, "
        "p = (1, 0, 0), has entropy 0.",
        "np.log(0) is -inf and 0 * -inf is NaN: take the log of np.where(p > 0, p, 1.0) "
        "instead, since log 1 = 0.",
    ],
    mistakes=[
        Mistake(
            _entropy_in_bits,
            "you measured in bits (np.log2); the book measures entropy in nats, with the "
            "natural log np.log",
        ),
        Mistake(
            _entropy_without_minus,
            "the minus sign is missing: log p_i is at most 0, so H(p) = -Σ p_i log p_i is at "
            "least 0",
        ),
        Mistake(
            _entropy_nan_at_zero,
            "an outcome of probability 0 gave 0 * log 0 = 0 * (-inf) = NaN; count it as 0, "
            "for example with the log of np.where(p > 0, p, 1.0)",
        ),
        Mistake(
            _entropy_columns,
            "you summed the columns (axis=0); each row is one distribution, so sum along the "
            "last axis",
        ),
    ],
    diagnose=[_entropy_negative],
    locate=lambda case, path: f"row {path[0]}" if len(path) == 1 else None,
)


# --- Exercise 6: kl_divergence ---------------------------------------------------------------


def kl_divergence(p, q):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    safe = np.where(p > 0, p, 1.0)  # an outcome with p_i = 0 adds 0
    return (p * (np.log(safe) - np.log(q))).sum(axis=-1)  # Σ p_i log(p_i / q_i), nats


def _kl_swapped(p, q):
    return kl_divergence(q, p)


def _kl_is_cross_entropy(p, q):
    return -(p * np.log(q)).sum(axis=-1)


def _kl_wrong_sign(p, q):
    return -kl_divergence(p, q)


def _kl_in_bits(p, q):
    return kl_divergence(p, q) / np.log(2.0)


def _kl_nan_at_zero(p, q):
    return (p * np.log(p / q)).sum(axis=-1)


def _kl_negative(output: Any, case: tuple) -> str | None:
    got = np.atleast_1d(np.asarray(output, dtype=float))
    bad = np.flatnonzero(got < -1e-12)
    if bad.size == 0:
        return None
    return (
        f"row {bad[0]} came out negative; the KL divergence is never negative, and it is 0 "
        "only when the two distributions are equal"
    )


_KL_CASES = [
    (np.array([0.5, 0.5]), np.array([0.9, 0.1])),
    (
        np.array([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5]]),
        np.array([[1 / 3, 1 / 3, 1 / 3], [0.1, 0.6, 0.3]]),
    ),
    (
        np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]),
        np.array([[0.5, 0.25, 0.25], [0.25, 0.25, 0.5]]),
    ),
    (np.array([[0.2, 0.8]]), np.array([[0.2, 0.8]])),
]

q6 = Question(
    "Write kl_divergence(p, q): KL(p ‖ q) = Σ_i p_i log(p_i / q_i), in nats, for each pair of "
    "distributions along the last axis, counting terms with p_i = 0 as 0 (every q_i here is "
    "above 0).",
    kind="function",
    reference=kl_divergence,
    cases=_KL_CASES,
    hints=[
        "KL(p ‖ q) is the cross-entropy H(p, q) = -Σ p_i log q_i minus the entropy "
        "H(p) = -Σ p_i log p_i; it is 0 when p equals q.",
        "Weight the log ratio by p, the first argument, and give a zero p_i the term 0, as in "
        "your entropy.",
    ],
    mistakes=[
        Mistake(
            _kl_swapped,
            "you computed KL(q ‖ p); the KL divergence is not symmetric, and KL(p ‖ q) weights "
            "log(p_i / q_i) by p_i, the first argument",
            cases=_KL_CASES[:2],
        ),
        Mistake(
            _kl_is_cross_entropy,
            "that is the cross-entropy H(p, q); the KL divergence subtracts the entropy H(p) "
            "from it, so it is 0 when p equals q",
        ),
        Mistake(
            _kl_wrong_sign,
            "the sign is reversed: Σ p_i log(q_i / p_i) is minus the KL divergence",
        ),
        Mistake(
            _kl_in_bits,
            "you measured in bits (log2); the book uses nats, the natural log np.log",
        ),
        Mistake(
            _kl_nan_at_zero,
            "an outcome with p_i = 0 gave 0 * log 0 = NaN; such a term counts as 0",
        ),
    ],
    diagnose=[_kl_negative],
    locate=lambda case, path: f"row {path[0]}" if len(path) == 1 else None,
)

bind(globals())
