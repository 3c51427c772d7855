"""Positional encodings: the properties chapter 4 relies on, proved numerically."""

import itertools

import numpy as np
import pytest

from genai_notes.attention import scaled_dot_product_attention
from genai_notes.embeddings import euclidean_distance
from genai_notes.positional import (
    LearnedPositions,
    apply_rope,
    relative_rotation,
    rope_backward,
    rope_rotation_matrix,
    sinusoidal_at,
    sinusoidal_encoding,
    sinusoidal_frequencies,
)

# --- sinusoidal ------------------------------------------------------------------------------


def test_sinusoidal_matches_the_paper_formula_entry_by_entry():
    seq, d_model = 12, 10
    pe = sinusoidal_encoding(seq, d_model)
    assert pe.shape == (seq, d_model)
    for p, i in itertools.product(range(seq), range(d_model // 2)):
        angle = p / 10000 ** (2 * i / d_model)
        assert pe[p, 2 * i] == pytest.approx(np.sin(angle), abs=1e-15)
        assert pe[p, 2 * i + 1] == pytest.approx(np.cos(angle), abs=1e-15)


def test_offset_and_arbitrary_positions():
    np.testing.assert_allclose(sinusoidal_encoding(4, 8, offset=6), sinusoidal_encoding(10, 8)[6:])
    np.testing.assert_allclose(
        sinusoidal_at(np.array([[2, 3]]), 8)[0], sinusoidal_encoding(4, 8)[2:]
    )
    assert sinusoidal_frequencies(8)[0] == 1.0


def test_every_position_up_to_2048_has_a_distinct_encoding_at_d_model_64():
    pe = sinusoidal_encoding(2048, 64)
    distance = euclidean_distance(pe, pe)
    np.fill_diagonal(distance, np.inf)
    # The closest pair is still far apart: every row has length sqrt(32) ~ 5.66.
    assert distance.min() > 1.0  # (it is 1.47, between neighbouring positions)
    # Direct check on the closest pair, avoiding the matrix-product shortcut.
    i, j = np.unravel_index(np.argmin(distance), distance.shape)
    assert np.linalg.norm(pe[i] - pe[j]) == pytest.approx(distance[i, j], rel=1e-6)


def test_every_encoding_has_the_same_length():
    pe = sinusoidal_encoding(100, 16)
    np.testing.assert_allclose(np.linalg.norm(pe, axis=1), np.sqrt(8))


@pytest.mark.parametrize("k", [1, 5, 37, -3])
def test_shifting_by_k_is_a_fixed_rotation(k):
    d_model = 16
    m_k = relative_rotation(k, d_model)
    positions = np.arange(0, 500, 7)
    pe = sinusoidal_at(positions, d_model)  # (n, d_model)
    np.testing.assert_allclose(pe @ m_k.T, sinusoidal_at(positions + k, d_model), atol=1e-9)
    np.testing.assert_allclose(m_k @ m_k.T, np.eye(d_model), atol=1e-12)  # orthogonal
    np.testing.assert_allclose(np.linalg.det(m_k), 1.0)  # a rotation, not a reflection


def test_relative_rotation_block_by_hand():
    angle = 3 * 1.0  # k = 3, pair 0 has frequency 1
    block = relative_rotation(3, 4)[:2, :2]
    np.testing.assert_allclose(
        block, [[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]]
    )
    np.testing.assert_array_equal(relative_rotation(3, 4)[:2, 2:], 0.0)


def test_dot_product_between_positions_depends_only_on_the_offset():
    d_model = 32
    pe = sinusoidal_encoding(200, d_model)
    omega = sinusoidal_frequencies(d_model)
    for k in (0, 1, 10, 50):
        dots = np.sum(pe[: 200 - k] * pe[k:], axis=1)
        np.testing.assert_allclose(dots, np.cos(k * omega).sum(), atol=1e-9)  # closed form


def test_sinusoidal_errors():
    with pytest.raises(ValueError, match="d_model: expected an even number"):
        sinusoidal_encoding(4, 7)
    with pytest.raises(ValueError, match="seq: expected a positive integer"):
        sinusoidal_encoding(0, 8)
    with pytest.raises(ValueError, match="base: expected a number > 1.0"):
        sinusoidal_encoding(4, 8, base=1.0)
    with pytest.raises(ValueError, match="offset: expected an integer >= 0"):
        sinusoidal_encoding(4, 8, offset=-1)


# --- learned positions -----------------------------------------------------------------------


def test_learned_table_rows_and_errors():
    table = LearnedPositions(max_seq=6, d_model=4, seed=1)
    np.testing.assert_array_equal(table(3, offset=2), table.weight[2:5])
    np.testing.assert_array_equal(LearnedPositions(6, 4, seed=1).weight, table.weight)
    table(6)  # exactly the table's length is fine
    with pytest.raises(ValueError, match="seq: positions 0 to 6 were requested"):
        table(7)
    with pytest.raises(ValueError, match="seq: positions 4 to 6 were requested"):
        table(3, offset=4)


def test_learned_table_backward_matches_finite_differences():
    rng = np.random.default_rng(0)
    table = LearnedPositions(max_seq=5, d_model=3, seed=0)
    upstream = rng.normal(size=(2, 3, 3))  # a batch of 2 sequences of length 3, offset 1

    def loss(weight):
        t = LearnedPositions(5, 3)
        t.weight = weight
        return float((np.broadcast_to(t(3, offset=1), (2, 3, 3)) * upstream).sum())

    grad = table.backward(upstream, offset=1)
    numeric = np.zeros_like(table.weight)
    for index in np.ndindex(numeric.shape):
        plus, minus = table.weight.copy(), table.weight.copy()
        plus[index] += 1e-6
        minus[index] -= 1e-6
        numeric[index] = (loss(plus) - loss(minus)) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)


# --- RoPE ------------------------------------------------------------------------------------


def test_rope_equals_the_block_rotation_matrix():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 8))
    out = apply_rope(x, offset=3)
    for t in range(5):
        np.testing.assert_allclose(out[t], rope_rotation_matrix(3 + t, 8) @ x[t], atol=1e-12)
    # pair 0 of position 1 turns by exactly 1 radian, counter-clockwise
    np.testing.assert_allclose(
        apply_rope(np.array([[0, 0], [1.0, 0.0]]))[1], [np.cos(1), np.sin(1)]
    )


def test_rope_keeps_lengths_and_leaves_position_zero_alone():
    x = np.random.default_rng(2).normal(size=(2, 3, 10, 6))  # (batch, heads, seq, d_head)
    out = apply_rope(x)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1))
    np.testing.assert_allclose(out[..., 0, :], x[..., 0, :])


def test_rope_scores_depend_only_on_the_relative_offset():
    rng = np.random.default_rng(3)
    d_head = 16
    q, k = rng.normal(size=d_head), rng.normal(size=d_head)

    def score(m, n):
        return float(apply_rope(q[None], positions=[m])[0] @ apply_rope(k[None], positions=[n])[0])

    for offset in (0, 1, 7, -4):
        scores = [score(m, m - offset) for m in (4, 10, 33, 250, 1000)]
        np.testing.assert_allclose(scores, scores[0], rtol=1e-9, atol=1e-9)
    assert abs(score(5, 4) - score(5, 1)) > 1e-3  # ... and the offset does matter


def test_rope_offset_equals_explicit_positions():
    x = np.random.default_rng(4).normal(size=(3, 4))
    np.testing.assert_allclose(apply_rope(x, offset=9), apply_rope(x, positions=[9, 10, 11]))


def test_rope_backward_matches_finite_differences():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 4, 6))
    upstream = rng.normal(size=x.shape)
    grad = rope_backward(upstream, offset=2)
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += 1e-6
        minus[index] -= 1e-6
        diff = apply_rope(plus, offset=2) - apply_rope(minus, offset=2)
        numeric[index] = (diff * upstream).sum() / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_rope_errors():
    with pytest.raises(ValueError, match=r"x.shape\[-1\] \(d_head\): expected an even number"):
        apply_rope(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"positions: expected shape \(3,\)"):
        apply_rope(np.zeros((3, 4)), positions=[0, 1])
    with pytest.raises(ValueError, match="offset: give either positions or offset"):
        apply_rope(np.zeros((3, 4)), positions=[0, 1, 2], offset=1)
    with pytest.raises(ValueError, match="x: expected a 2-D or 3-D or 4-D or 5-D array"):
        apply_rope(np.zeros(4))


# --- positions and attention --------------------------------------------------------------------


def _self_attention(x, w_q, w_k, w_v):
    out, _ = scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v)
    return out


def test_attention_without_positions_is_permutation_equivariant_and_positions_break_it():
    rng = np.random.default_rng(6)
    seq, d_model = 6, 8
    x = rng.normal(size=(seq, d_model))
    w_q, w_k, w_v = (rng.normal(size=(d_model, d_model)) / np.sqrt(d_model) for _ in range(3))
    perm = rng.permutation(seq)
    assert not np.array_equal(perm, np.arange(seq))

    plain = _self_attention(x, w_q, w_k, w_v)
    np.testing.assert_allclose(_self_attention(x[perm], w_q, w_k, w_v), plain[perm], atol=1e-12)

    pe = sinusoidal_encoding(seq, d_model)  # positions stay in place: slot t always gets pe[t]
    with_pos = _self_attention(x + pe, w_q, w_k, w_v)
    shuffled = _self_attention(x[perm] + pe, w_q, w_k, w_v)
    assert np.abs(shuffled - with_pos[perm]).max() > 1e-2


def test_rope_attention_is_no_longer_permutation_equivariant():
    rng = np.random.default_rng(7)
    seq, d = 5, 8
    q, k, v = rng.normal(size=(3, seq, d))
    perm = np.array([4, 2, 0, 1, 3])
    out, _ = scaled_dot_product_attention(apply_rope(q), apply_rope(k), v)
    out_perm, _ = scaled_dot_product_attention(apply_rope(q[perm]), apply_rope(k[perm]), v[perm])
    assert np.abs(out_perm - out[perm]).max() > 1e-2
