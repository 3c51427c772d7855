"""BERT (Chapter 10): the masking's proportions measured over many batches, the loss reading
only the selected positions, bidirectional attention against causal, padding, pooling, the
heads, gradients against finite differences, and the grammar's exact answer for a blank."""

import math

import numpy as np
import pytest
from finite_differences import numeric_grad

from genai_notes.autograd import Tensor
from genai_notes.bert import (
    BERT,
    IGNORE,
    KEPT,
    MASKED,
    RANDOM,
    BERTConfig,
    bert_tokenizer,
    encode_sentences,
    fill_mask,
    mask_tokens,
    mean_pool,
    true_fillers,
)
from genai_notes.data import generate_corpus, sentence_distribution

TOK = bert_tokenizer()
PAD, CLS, MASK = (TOK.special_tokens[t] for t in ("[PAD]", "[CLS]", "[MASK]"))
N_WORDS = TOK.n_ordinary


def small(**kwargs):
    defaults = dict(n_layers=2, n_heads=2, d_model=8, block_size=12, seed=3)
    return BERTConfig(**{**defaults, **kwargs})


def corpus_ids(n, seed=0):
    return encode_sentences(TOK, generate_corpus(n, seed=seed), block_size=12)


def test_the_default_config_fits_the_tokenizer():
    config = BERTConfig()
    assert (config.vocab_size, config.pad_id) == (TOK.vocab_size, PAD) == (76, 72)
    longest = max(len(s.split()) for s in sentence_distribution())
    assert config.block_size >= longest + 1  # [CLS] and every sentence fit


def test_encode_puts_cls_first_and_pads_the_rest():
    ids = encode_sentences(TOK, ["the king rules the kingdom .", "the [MASK] is wise ."], 9)
    assert ids.shape == (2, 9)
    assert list(ids[:, 0]) == [CLS, CLS]
    assert TOK.decode(ids[1, 1:6]) == "the [MASK] is wise ."
    assert list(ids[1, 6:]) == [PAD] * 3 and ids[1, 2] == MASK
    with pytest.raises(ValueError, match="block_size=5"):
        encode_sentences(TOK, ["the king rules the kingdom ."], 5)
    with pytest.raises(TypeError, match="sentences"):
        encode_sentences(TOK, "the king", 9)


# ----------------------------------------------------------------------------------------
# The masking


def test_masking_proportions_over_many_batches():
    """Over 200 batches of 64 sentences (about 110,000 word tokens), every measured
    proportion is within 5 standard errors of its target (a binomial standard error,
    sqrt(q (1 - q) / n) for a proportion q over n trials)."""
    ids = corpus_ids(64 * 200, seed=5)
    rng = np.random.default_rng(11)
    actions = np.concatenate(
        [
            mask_tokens(batch, rng, mask_id=MASK, n_ordinary=N_WORDS).action
            for batch in np.split(ids, 200)
        ]
    )
    words = ids < N_WORDS
    n_words = int(words.sum())
    selected = actions > 0
    n_selected = int(selected.sum())

    def within(count, total, q):
        return abs(count / total - q) < 5 * math.sqrt(q * (1 - q) / total)

    assert n_words > 100_000
    assert not selected[~words].any()  # [CLS] and [PAD] are never selected
    assert within(n_selected, n_words, 0.15)
    assert within(int((actions == MASKED).sum()), n_selected, 0.8)
    assert within(int((actions == RANDOM).sum()), n_selected, 0.1)
    assert within(int((actions == KEPT).sum()), n_selected, 0.1)


def test_what_each_action_does_to_the_input_and_the_labels():
    ids = corpus_ids(2000, seed=6)
    batch = mask_tokens(ids, 7, mask_id=MASK, n_ordinary=N_WORDS)
    selected = batch.action > 0
    np.testing.assert_array_equal(batch.labels[selected], ids[selected])
    assert np.all(batch.labels[~selected] == IGNORE)
    assert np.all(batch.inputs[batch.action == MASKED] == MASK)
    np.testing.assert_array_equal(batch.inputs[~selected], ids[~selected])
    np.testing.assert_array_equal(batch.inputs[batch.action == KEPT], ids[batch.action == KEPT])
    random_words = batch.inputs[batch.action == RANDOM]
    assert random_words.max() < N_WORDS  # random replacements are words, never specials
    assert len(np.unique(random_words)) > 40  # drawn across the vocabulary


def test_masking_follows_the_documented_random_stream():
    ids = np.array([[CLS, 5, 6, 7, 8, 9, PAD]])
    rng = np.random.default_rng(4)
    u, v, words = rng.random(ids.shape), rng.random(ids.shape), rng.integers(0, N_WORDS, ids.shape)
    batch = mask_tokens(ids, np.random.default_rng(4), mask_id=MASK, n_ordinary=N_WORDS, p=0.6)
    for j in range(ids.shape[1]):
        chosen = u[0, j] < 0.6 and ids[0, j] < N_WORDS
        expected = ids[0, j]
        if chosen and v[0, j] < 0.8:
            expected = MASK
        elif chosen and v[0, j] < 0.9:
            expected = words[0, j]
        assert batch.inputs[0, j] == expected
        assert batch.labels[0, j] == (ids[0, j] if chosen else IGNORE)


def test_the_loss_reads_the_selected_positions_only():
    model = BERT(small()).astype(np.float64)
    ids = corpus_ids(8, seed=1)
    batch = mask_tokens(ids, 2, mask_id=MASK, n_ordinary=N_WORDS, p=0.3)
    selected = batch.labels != IGNORE
    logits = model.mlm_logits(batch.inputs).data
    # by hand: the mean of -log softmax at the selected positions
    z = logits[selected]
    log_p = (
        z
        - z.max(1, keepdims=True)
        - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
    )
    by_hand = -log_p[np.arange(len(z)), batch.labels[selected]].mean()
    assert model.mlm_loss(batch.inputs, batch.labels).item() == pytest.approx(by_hand, rel=1e-12)
    # any change of the logits at the other positions leaves the loss and gradient alone
    from genai_notes.autograd import functional as F

    noisy = logits.copy()
    noisy[~selected] += np.random.default_rng(0).normal(0, 50, noisy[~selected].shape)
    t = Tensor(noisy, requires_grad=True, dtype=np.float64)
    loss = F.cross_entropy(t, batch.labels, ignore_index=IGNORE)
    assert loss.item() == pytest.approx(by_hand, rel=1e-12)
    loss.backward()
    assert np.all(t.grad[~selected] == 0.0)
    assert np.all(np.abs(t.grad[selected]).sum(axis=-1) > 0)


def test_bad_masking_arguments():
    ids = np.array([[CLS, 5, 6]])
    with pytest.raises(ValueError, match="mask_id"):
        mask_tokens(ids, 0, mask_id=3, n_ordinary=N_WORDS)
    with pytest.raises(ValueError, match="p_mask, p_random"):
        mask_tokens(ids, 0, mask_id=MASK, n_ordinary=N_WORDS, p_mask=0.95, p_random=0.1)
    with pytest.raises(ValueError, match="p:"):
        mask_tokens(ids, 0, mask_id=MASK, n_ordinary=N_WORDS, p=1.5)
    with pytest.raises(ValueError, match="ids"):
        mask_tokens(ids[0], 0, mask_id=MASK, n_ordinary=N_WORDS)


# ----------------------------------------------------------------------------------------
# The model


def test_attention_is_bidirectional_unless_causal():
    a = encode_sentences(TOK, ["the king rules the kingdom ."], 12)
    b = encode_sentences(TOK, ["the king works on the farm ."], 12)  # differs from position 3
    both = BERT(small()).astype(np.float64)
    left = BERT(small(causal=True)).astype(np.float64)
    ha, hb = both(a).data[0], both(b).data[0]
    assert not np.allclose(ha[:3], hb[:3])  # earlier positions see the later words
    la, lb = left(a).data[0], left(b).data[0]
    np.testing.assert_allclose(la[:3], lb[:3], rtol=1e-12)  # a causal model cannot
    assert not np.allclose(la[3], lb[3])


def test_padding_changes_nothing_at_the_real_positions():
    model = BERT(small()).astype(np.float64)
    sentences = ["the cat chases the dog .", "the queen walks to the castle with the horse ."]
    batch = encode_sentences(TOK, sentences, 12)
    out = model(batch).data
    for i, sentence in enumerate(sentences):
        n = len(sentence.split()) + 1
        alone = model(encode_sentences(TOK, [sentence], n)).data[0]  # no padding at all
        np.testing.assert_allclose(out[i, :n], alone, rtol=1e-10, atol=1e-12)


def test_tied_and_untied_heads():
    tied, untied = BERT(small()), BERT(small(tie_weights=False))
    assert tied.mlm_head is None
    assert untied.num_parameters() - tied.num_parameters() == 76 * 8
    ids = corpus_ids(3)
    expected = tied(ids).data @ tied.wte.weight.data.T + tied.mlm_bias.data
    np.testing.assert_allclose(tied.mlm_logits(ids).data, expected, rtol=1e-5, atol=1e-6)


def test_parameter_count_by_hand():
    config = small()
    d, v, t, layers = 8, 76, 12, 2
    block = 4 * (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d) + 2 * 2 * d
    expected = v * d + t * d + layers * block + 2 * d + v + (d * 2 + 2)
    assert BERT(config).num_parameters() == expected


def test_fused_blocks_give_the_same_numbers():
    ids = corpus_ids(4)
    plain, fast = BERT(small()), BERT(small(fused=True))
    np.testing.assert_allclose(plain.mlm_logits(ids).data, fast.mlm_logits(ids).data, atol=1e-5)


def test_pooling():
    h = np.arange(24.0).reshape(2, 3, 4)
    real = np.array([[True, True, True], [True, False, False]])
    np.testing.assert_allclose(mean_pool(h, real), [h[0].mean(0), h[1, 0]])
    t = Tensor(h, requires_grad=True, dtype=np.float64)
    mean_pool(t, real).sum().backward()
    np.testing.assert_allclose(t.grad[:, :, 0], [[1 / 3] * 3, [1, 0, 0]])
    with pytest.raises(ValueError, match="no real token"):
        mean_pool(h, np.zeros((2, 3), dtype=bool))
    with pytest.raises(ValueError, match="real"):
        mean_pool(h, real[:, :2])
    model = BERT(small())
    ids = encode_sentences(TOK, ["the cat chases the dog .", "the boy is young ."], 12)
    hidden = model(ids).data
    np.testing.assert_allclose(model.pool(hidden, ids, "cls"), hidden[:, 0])
    np.testing.assert_allclose(model.pool(hidden, ids, "mean")[1], hidden[1, :6].mean(0), rtol=1e-5)
    with pytest.raises(ValueError, match="pooling"):
        model.pool(hidden, ids, "max")


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_gradients_match_finite_differences(pooling):
    model = BERT(small(n_layers=1, d_model=4)).astype(np.float64)
    ids = encode_sentences(TOK, ["the cat chases the dog .", "the boy is young ."], 8)
    batch = mask_tokens(ids, 0, mask_id=MASK, n_ordinary=N_WORDS, p=0.5)
    labels = np.array([0, 1])
    params = {
        "wte": model.wte.weight,
        "in_proj": model.blocks[0].attn.in_proj.weight,
        "cls_head": model.cls_head.weight,
    }

    def total():
        return model.mlm_loss(batch.inputs, batch.labels) + model.classification_loss(
            ids, labels, pooling
        )

    model.zero_grad()
    total().backward()
    for name, p in params.items():
        analytic = p.grad.copy()

        def f(values, p=p):
            saved = p.data
            p.data = values
            try:
                return total().item()
            finally:
                p.data = saved

        numeric = numeric_grad(f, p.data.copy())
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8, err_msg=name)


def test_bad_config_and_ids():
    with pytest.raises(ValueError, match="n_heads"):
        BERT(small(n_heads=3))
    with pytest.raises(ValueError, match="pad_id"):
        BERT(small(pad_id=76))
    with pytest.raises(TypeError, match="causal"):
        BERT(small(causal=1))
    with pytest.raises(TypeError, match="config"):
        BERT({"n_layers": 1})
    model = BERT(small())
    with pytest.raises(ValueError, match="block_size=12"):
        model(np.zeros((1, 13), dtype=int))
    with pytest.raises(ValueError, match="token ids"):
        model(np.array([[76]]))


# ----------------------------------------------------------------------------------------
# Filling a blank


def test_fill_mask_gives_a_distribution_at_the_blank():
    model = BERT(small())
    p = fill_mask(model, TOK, ["the [MASK] rules the kingdom .", "where is the [MASK] ?"])
    assert p.shape == (2, 76)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="exactly one"):
        fill_mask(model, TOK, ["the king rules the kingdom ."])


def test_true_fillers_by_hand():
    # the ruler is one of the four royals, uniformly; where-is asks about any of 8 places
    assert true_fillers("the [MASK] rules the kingdom .") == pytest.approx(
        {w: 0.25 for w in ("king", "queen", "prince", "princess")}
    )
    assert true_fillers("where is the [MASK] ?") == pytest.approx(
        {w: 1 / 8 for w in ("castle", "palace", "garden", "library", "village", "market",
                            "farm", "kitchen")}
    )  # fmt: skip
    assert true_fillers("the king [MASK] the kingdom .") == {"rules": pytest.approx(1.0)}
    # the first word, from the left alone: "where" starts one template, of weight 0.04 / 1.12
    first = true_fillers("[MASK] is the castle ?", right_context=False)
    assert first == pytest.approx({"the": 1.08 / 1.12, "where": 0.04 / 1.12})
    # a royal "feeds" a horse or an owl 4x as often as a neutral animal (and 16x a cow)
    pets = true_fillers("the king feeds the black [MASK] .")
    assert pets["horse"] == pytest.approx(4 * pets["dog"]) == pytest.approx(16 * pets["cow"])
    assert sum(pets.values()) == pytest.approx(1.0)


def test_true_fillers_errors():
    with pytest.raises(ValueError, match="exactly one"):
        true_fillers("the [MASK] rules the [MASK] .")
    with pytest.raises(ValueError, match="no sentence"):
        true_fillers("the [MASK] rules the farm .")
