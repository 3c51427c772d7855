"""Freezing in the engine, LoRA (counts, the zero start, merging, gradients) and the
instruction-tuning pieces (template, response-only mask and loss), against values worked
out by hand, finite differences and slow references."""

from __future__ import annotations

import numpy as np
import pytest
from finite_differences import numeric_grad
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_notes.autograd import Tensor
from genai_notes.finetuning import (
    ASSISTANT,
    CHAT_TOKENS,
    END,
    IGNORE,
    USER,
    LoRALinear,
    apply_lora,
    chat_tokenizer,
    encode_example,
    format_example,
    instruction_batch,
    lora_parameter_count,
    merge_lora,
    resize_vocabulary,
    response_loss,
    response_loss_mask,
)
from genai_notes.gpt import GPT, GPTConfig, KVCache
from genai_notes.nn import SGD, AdamW, Block, Linear, Parameter, clip_grad_norm, train
from genai_notes.pretrained import make_tokenizer


def tiny_gpt(fused: bool = False, vocab_size: int = 13) -> GPT:
    config = GPTConfig(vocab_size=vocab_size, block_size=16, n_layers=2, n_heads=2, d_model=8)
    config.fused = fused
    return GPT(config)


def lm_batch(vocab_size: int = 13, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab_size, (3, 11))
    return ids[:, :-1], ids[:, 1:]


# -- freezing ---------------------------------------------------------------------------


def test_freeze_unfreeze_and_trainable_counts():
    d = 8
    block = Block(d, 2, rng=0)
    total = block.num_parameters()
    block.attn.freeze()
    attn = 4 * d * d + 4 * d  # in_proj (d, 3d) + (3d,), out_proj (d, d) + (d,)
    assert block.num_parameters(trainable_only=True) == total - attn
    assert block.num_parameters() == total
    trainable = block.parameters(trainable_only=True)
    assert all(p.requires_grad for p in trainable) and len(trainable) == 8
    block.unfreeze()
    assert block.num_parameters(trainable_only=True) == total
    with pytest.raises(TypeError, match="trainable_only: expected True or False"):
        block.parameters(trainable_only="yes")


def test_freeze_forgets_the_gradient():
    layer = Linear(3, 2, rng=0)
    layer(Tensor(np.ones((1, 3)))).sum().backward()
    assert layer.weight.grad is not None
    layer.freeze()
    assert layer.weight.grad is None and layer.bias.grad is None


@pytest.mark.parametrize("fused", [False, True])
def test_frozen_parameters_are_unchanged_bit_for_bit_with_weight_decay(fused):
    model = tiny_gpt()
    frozen = {id(p): p.data.copy() for p in model.blocks[0].parameters()}
    model.blocks[0].freeze()
    others = {id(p): p.data.copy() for p in model.parameters(trainable_only=True)}
    opt = AdamW(model.parameters(), lr=1e-2, weight_decay=0.5, fused=fused)
    x, y = lm_batch()
    for _ in range(3):
        opt.zero_grad()
        model.loss(x, y).backward()
        for p in model.blocks[0].parameters():
            assert p.grad is None  # the engine gave it no gradient
        opt.step()
    for p in model.blocks[0].parameters():
        np.testing.assert_array_equal(p.data, frozen[id(p)])  # no update, no decay
        assert opt.m[opt.params.index(p)] is None  # and no optimiser state
    assert all((p.data != others[id(p)]).any() for p in model.parameters(trainable_only=True))
    if fused:  # the flat buffers hold only the trainable parameters
        assert opt._flat is not None and len(opt._flat.params) == len(others)


@pytest.mark.parametrize("fused", [False, True])
def test_a_stale_gradient_on_a_frozen_parameter_is_ignored(fused):
    w = Parameter(np.ones((2, 2)))
    b = Parameter(np.ones(2))
    opt = AdamW([w, b], lr=0.1, weight_decay=0.5, fused=fused)
    w.grad = np.ones((2, 2), dtype=np.float32)
    b.grad = np.ones(2, dtype=np.float32)
    w.requires_grad = False  # frozen after the gradient was computed, and after the optimiser
    opt.step()
    np.testing.assert_array_equal(w.data, 1.0)
    np.testing.assert_allclose(b.data, 0.9, rtol=1e-6)  # first Adam step: lr against sign
    w.requires_grad = True  # unfrozen: its moments start now, at the optimiser's step t = 2
    opt.step()
    m_hat, v_hat = 0.1 / (1 - 0.9**2), 0.001 / (1 - 0.999**2)
    np.testing.assert_allclose(w.data, 0.95 - 0.1 * m_hat / np.sqrt(v_hat), rtol=1e-6)
    assert opt.m[0] is not None


def test_fused_adamw_with_frozen_parameters_equals_the_plain_loop():
    results = []
    for fused in (True, False):
        model = tiny_gpt().astype(np.float64)
        model.wte.freeze()
        model.blocks[1].ffn.freeze()
        opt = AdamW(model.parameters(), lr=1e-2, weight_decay=0.1, fused=fused)
        x, y = lm_batch()
        for _ in range(3):
            opt.zero_grad()
            model.loss(x, y).backward()
            opt.step()
        results.append([p.data.copy() for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_sgd_and_clipping_skip_frozen_parameters():
    a = Parameter(np.zeros(1))
    b = Parameter(np.zeros(1))
    a.grad = np.array([3.0], dtype=np.float32)
    b.grad = np.array([4.0], dtype=np.float32)
    b.requires_grad = False
    assert clip_grad_norm([a, b], 10.0) == 3.0  # only a's gradient counts
    SGD([a, b], lr=1.0).step()
    assert a.data.tolist() == [-3.0] and b.data.tolist() == [0.0]


def test_an_optimiser_needs_something_to_train():
    layer = Linear(2, 2, rng=0).freeze()
    with pytest.raises(ValueError, match="params: all 2 parameters are frozen"):
        AdamW(layer.parameters())
    with pytest.raises(TypeError, match="params: item 0 is not a Tensor with requires_grad"):
        AdamW([Tensor([1.0])])  # a constant, not a frozen parameter


def test_train_leaves_a_frozen_part_alone():
    model = tiny_gpt()
    model.lm_head.freeze()
    head = model.lm_head.weight.data.copy()
    x, y = lm_batch()
    opt = AdamW(model.parameters(), lr=1e-2, weight_decay=0.1, fused=True)
    history = train(model, lambda split: (x, y), 5, opt, progress=False, speedups=False)
    assert history.train_loss[-1] < history.train_loss[0]
    np.testing.assert_array_equal(model.lm_head.weight.data, head)
    assert model.lm_head.weight.grad is None


# -- LoRA -------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 12))
def test_lora_parameter_count_matches_the_module(d_in, d_out, r):
    if r > min(d_in, d_out):
        with pytest.raises(ValueError, match="r: expected at most"):
            LoRALinear(Linear(d_in, d_out, rng=0), r, rng=0)
        return
    lora = LoRALinear(Linear(d_in, d_out, rng=0), r, rng=0)
    assert lora.num_parameters(trainable_only=True) == lora_parameter_count(d_in, d_out, r)
    assert lora_parameter_count(d_in, d_out, r) == r * (d_in + d_out)
    assert lora.num_parameters() == d_in * d_out + d_out + r * (d_in + d_out)


def test_lora_starts_exactly_at_the_base_layer():
    base = Linear(6, 5, rng=0)
    lora = LoRALinear(base, r=3, alpha=12.0, rng=1)
    x = Tensor(np.random.default_rng(2).standard_normal((4, 2, 6)))
    np.testing.assert_array_equal(lora(x).data, base(x).data)
    np.testing.assert_array_equal(lora.weight.data, base.weight.data)
    assert not lora.lora_b.data.any() and lora.lora_a.data.std() > 0.1


def with_random_b(lora: LoRALinear, seed: int = 3) -> LoRALinear:
    b = np.random.default_rng(seed).standard_normal(lora.lora_b.shape)
    lora.lora_b.data = b.astype(lora.lora_b.dtype)
    return lora


def test_lora_forward_is_the_formula():
    lora = with_random_b(LoRALinear(Linear(6, 5, rng=0), r=2, alpha=8.0, rng=1).astype(np.float64))
    x = np.random.default_rng(4).standard_normal((3, 6))
    w, b = lora.base.weight.data, lora.base.bias.data
    a_, b_ = lora.lora_a.data, lora.lora_b.data
    expected = x @ w + b + 4.0 * (x @ a_) @ b_  # alpha / r = 8 / 2
    np.testing.assert_allclose(lora(Tensor(x, dtype=np.float64)).data, expected, rtol=1e-12)
    np.testing.assert_allclose(lora.weight.data, w + 4.0 * a_ @ b_, rtol=1e-12)
    assert np.linalg.matrix_rank(lora.delta()) == 2


@pytest.mark.parametrize(("dtype", "tol"), [(np.float32, 1e-6), (np.float64, 1e-12)])
def test_merged_layer_gives_the_same_outputs(dtype, tol):
    lora = with_random_b(LoRALinear(Linear(8, 6, rng=0), r=3, alpha=1.5, rng=1).astype(dtype))
    x = Tensor(np.random.default_rng(5).uniform(-1, 1, (10, 8)), dtype=dtype)
    merged = lora.merge()
    assert type(merged) is Linear and merged.weight.dtype == dtype
    np.testing.assert_allclose(merged(x).data, lora(x).data, rtol=tol, atol=tol)
    assert not (merged.weight.data == lora.base.weight.data).all()  # the update is in W


def test_lora_gradients_match_finite_differences():
    lora = with_random_b(LoRALinear(Linear(4, 3, rng=0), r=2, alpha=3.0, rng=1).astype(np.float64))
    x = np.random.default_rng(6).standard_normal((5, 4))
    weights = np.random.default_rng(7).standard_normal((5, 3))  # L = Σ y ⊙ weights

    def loss_of(array: np.ndarray, which: str) -> float:
        saved = getattr(lora, which).data
        getattr(lora, which).data = array
        value = float((lora(Tensor(x, dtype=np.float64)).data * weights).sum())
        getattr(lora, which).data = saved
        return value

    xt = Tensor(x.copy(), requires_grad=True, dtype=np.float64)
    (lora(xt) * Tensor(weights, dtype=np.float64)).sum().backward()
    for which in ("lora_a", "lora_b"):
        numeric = numeric_grad(lambda a, w=which: loss_of(a, w), getattr(lora, which).data.copy())
        np.testing.assert_allclose(getattr(lora, which).grad, numeric, rtol=1e-7, atol=1e-9)

    def loss_of_x(array: np.ndarray) -> float:
        return float((lora(Tensor(array, dtype=np.float64)).data * weights).sum())

    np.testing.assert_allclose(xt.grad, numeric_grad(loss_of_x, x.copy()), rtol=1e-7, atol=1e-9)
    assert lora.base.weight.grad is None and lora.base.bias.grad is None  # frozen


def test_apply_lora_on_a_gpt_freezes_the_rest_and_changes_nothing_at_first():
    model = tiny_gpt()
    x, y = lm_batch()
    before = model(x).data
    names = list(model.state_dict())
    adapters = apply_lora(model, ("in_proj", "out_proj"), r=2, alpha=4.0, rng=0)
    assert list(adapters) == [
        "blocks.0.attn.in_proj", "blocks.0.attn.out_proj",
        "blocks.1.attn.in_proj", "blocks.1.attn.out_proj",
    ]  # fmt: skip
    expected = 2 * (lora_parameter_count(8, 24, 2) + lora_parameter_count(8, 8, 2))
    assert model.num_parameters(trainable_only=True) == expected
    assert {id(p) for p in model.parameters(trainable_only=True)} == {
        id(p) for lora in adapters.values() for p in (lora.lora_a, lora.lora_b)
    }
    np.testing.assert_array_equal(model(x).data, before)
    assert merge_lora(model) == list(adapters)
    assert list(model.state_dict()) == names  # the original layout is back


def train_lora(model: GPT, steps: int = 4) -> dict[str, LoRALinear]:
    adapters = apply_lora(model, ("in_proj", "fc_out"), r=2, rng=0)
    x, y = lm_batch()
    opt = AdamW(model.parameters(), lr=3e-2, weight_decay=0.1, fused=True)
    train(model, lambda split: (x, y), steps, opt, progress=False, speedups=False)
    return adapters


def test_lora_training_moves_only_a_and_b_and_merges_back():
    model = tiny_gpt()
    frozen = {name: p.data.copy() for name, p in model.named_parameters()}
    adapters = train_lora(model)
    for name, p in model.named_parameters():
        if "lora_" not in name:
            key = name.replace(".base.", ".")
            np.testing.assert_array_equal(p.data, frozen[key])  # bit for bit
    assert all(lora.lora_b.data.any() for lora in adapters.values())
    x, _ = lm_batch(seed=1)
    adapted = model(x).data
    merge_lora(model)
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    np.testing.assert_allclose(model(x).data, adapted, rtol=1e-5, atol=1e-6)


def test_lora_works_on_the_fused_and_cached_paths():
    plain, fast = tiny_gpt(), tiny_gpt(fused=True)
    for model in (plain, fast):
        for lora in apply_lora(model, ("in_proj", "out_proj", "fc_in"), r=2, rng=0).values():
            with_random_b(lora)
    x, y = lm_batch()
    np.testing.assert_allclose(fast(x).data, plain(x).data, rtol=1e-5, atol=1e-6)
    for model in (plain, fast):
        model.loss(x, y).backward()
    for (name, p), (_, q) in zip(plain.named_parameters(), fast.named_parameters()):
        assert (p.grad is None) == (q.grad is None) == ("lora_" not in name)
        if p.grad is not None:
            np.testing.assert_allclose(q.grad, p.grad, rtol=1e-4, atol=1e-6, err_msg=name)
    cache = KVCache.for_model(plain, batch=x.shape[0])
    cached = plain.forward_cached(x, cache)  # calls in_proj(x): the low-rank path
    np.testing.assert_allclose(cached, plain(x).data, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: apply_lora(m, r=0), ValueError, "r: expected a positive integer"),
        (lambda m: apply_lora(m, r=2.0), TypeError, "r: expected a positive integer"),
        (lambda m: apply_lora(m, r=9), ValueError, r"r: expected at most 8 for 'blocks.0"),
        (lambda m: apply_lora(m, ("ln_attn",)), TypeError, "targets: 'blocks.0.ln_attn' is a"),
        (lambda m: apply_lora(m, ("query",)), ValueError, "targets: no module .* 'in_proj'"),
        (lambda m: apply_lora(m, ("q", "v")), ValueError, "targets: .* target 'in_proj'"),
        (lambda m: apply_lora(m, 3), TypeError, "targets: expected module names"),
        (lambda m: apply_lora(m, alpha="8"), TypeError, "alpha:"),
        (lambda m: apply_lora(m, rng=None), TypeError, "rng:"),
        (lambda m: apply_lora(m.wte.weight), TypeError, "model: expected"),
        (lambda m: merge_lora("model"), TypeError, "model: expected"),
    ],
)
def test_apply_lora_bad_inputs_change_nothing(call, error, match):
    model = tiny_gpt()
    with pytest.raises(error, match=match):
        call(model)
    assert model.num_parameters(trainable_only=True) == model.num_parameters()
    assert not any(isinstance(m, LoRALinear) for m in model.modules())


def test_lora_bad_inputs():
    with pytest.raises(TypeError, match="base: expected a genai_notes.nn.Linear"):
        LoRALinear(Block(4, 2, rng=0), 1, rng=0)
    model = tiny_gpt()
    apply_lora(model, r=1)
    with pytest.raises(ValueError, match="already has LoRA; merge_lora"):
        apply_lora(model, ("in_proj",), r=1)
    with pytest.raises(TypeError, match="is itself a LoRALinear"):
        merge_lora(LoRALinear(Linear(2, 2, rng=0), 1, rng=0))


def test_a_predicate_picks_modules_by_full_name():
    model = tiny_gpt()
    adapters = apply_lora(model, lambda name: name.startswith("blocks.1.ffn."), r=1)
    assert list(adapters) == ["blocks.1.ffn.fc_in", "blocks.1.ffn.fc_out"]
    assert model.num_parameters(trainable_only=True) == 2 * lora_parameter_count(8, 32, 1)


# -- instruction tuning -----------------------------------------------------------------


@pytest.fixture(scope="module")
def tok():
    return chat_tokenizer(make_tokenizer())


def test_the_template_and_its_ids(tok):
    text = format_example("the king rules .", "king")
    assert text == f"{USER} the king rules . {END} {ASSISTANT} king {END}"
    ids = encode_example(tok, "the king rules .", "king")
    assert ids == tok.encode(text, allowed_special=CHAT_TOKENS)
    assert encode_example(tok, "the king rules .") == ids[:-2]  # the prompt stops at ASSISTANT
    assert [tok.token_str(i) for i in ids[-3:]] == [ASSISTANT, "king", END]
    with pytest.raises(ValueError, match=r"<\|end\|>"):  # a marker typed by the user
        encode_example(tok, f"the king {END} rules .", "king")


def test_chat_tokenizer_keeps_the_old_ids():
    old = make_tokenizer()
    new = chat_tokenizer(old, ["rey", "king"])  # "king" is already there
    assert new.words[: len(old.words)] == old.words and new.words[-1] == "rey"
    assert list(new.special_tokens)[:-1] == [*old.special_tokens][:-1] + list(CHAT_TOKENS)
    assert new.vocab_size == old.vocab_size + 4


def slow_mask(row: list[int], assistant: int, end: int) -> list[bool]:
    """A response runs from the token after an assistant marker to the next end marker."""
    inside, mask = False, []
    for token in row:
        mask.append(inside and token != assistant)  # a marker itself is never scored
        if token == assistant:
            inside = True
        elif token == end:
            inside = False
    return mask


def test_response_mask_by_hand():
    u, a, e, pad = 1, 2, 3, 3
    row = [0, u, 5, 6, e, a, 7, 8, e, u, 9, e, a, 4, e, pad, pad]
    want = [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0]  # two turns, ends included
    assert response_loss_mask(row, a, e).astype(int).tolist() == want
    both = response_loss_mask(np.array([row, row[::-1]]), a, e)
    assert both.shape == (2, len(row)) and both[0].astype(int).tolist() == want


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=30))
def test_response_mask_matches_a_slow_reference(row):
    assert response_loss_mask(row, 1, 2).tolist() == slow_mask(row, 1, 2)


def test_masked_loss_is_the_mean_over_response_tokens(tok):
    pairs = [("name the subject : the king rules .", "king"), ("the girl sleeps .", "girl")]
    x, y = instruction_batch(pairs, tok)
    scored = [tok.decode(y[i][y[i] != IGNORE].tolist()) for i in range(2)]
    assert scored == [f"king {END}", f"girl {END}"]  # only the responses and their ends
    model = tiny_gpt(vocab_size=tok.vocab_size)
    loss = response_loss(model, x, y).item()
    logits = model(x).data.astype(np.float64)  # (batch, seq, vocab)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    rows, cols = np.nonzero(y != IGNORE)
    by_hand = -log_p[rows, cols, y[rows, cols]].mean()
    assert len(rows) == 4
    np.testing.assert_allclose(loss, by_hand, rtol=1e-5)
    fused = tiny_gpt(fused=True, vocab_size=tok.vocab_size)
    np.testing.assert_allclose(response_loss(fused, x, y).item(), loss, rtol=1e-5)


def test_resize_vocabulary_keeps_the_trained_rows(tok):
    old = make_tokenizer()
    model = tiny_gpt(vocab_size=old.vocab_size)
    ids = np.array([[old.special_tokens["<|endoftext|>"], *old.encode("the king rules .")]])
    before = model(ids).data
    resize_vocabulary(model, old, tok, rng=0)
    assert model.config.vocab_size == tok.vocab_size == model.wte.weight.shape[0]
    after = model(ids).data  # (1, seq, new vocab): every old token's logit is unchanged
    keep = [tok.special_tokens.get(old.token_str(i), i) for i in range(old.vocab_size)]
    np.testing.assert_allclose(after[..., keep], before, rtol=1e-6, atol=1e-7)
    with pytest.raises(
        ValueError, match="old: has 135 tokens, but the model was built for vocab_size=138"
    ):
        resize_vocabulary(model, old, tok, rng=0)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda t: response_loss_mask([0.0, 1.0], 1, 2), TypeError, "ids:"),
        (lambda t: response_loss_mask(np.zeros((2, 2, 2), int), 1, 2), ValueError, "ids:"),
        (lambda t: response_loss_mask([0, 1], 1, 1), ValueError, "end_id: must differ"),
        (lambda t: response_loss_mask([0, 1], -1, 2), ValueError, "assistant_id:"),
        (lambda t: encode_example(make_tokenizer(), "the king", "x"), ValueError, "tok: has no"),
        (lambda t: format_example(3, "x"), TypeError, "instruction:"),
        (lambda t: format_example("x", 3), TypeError, "response:"),
        (lambda t: instruction_batch([], t), TypeError, "pairs:"),
        (lambda t: instruction_batch([("a", "b", "c")], t), TypeError, "pairs: item 0"),
        (lambda t: chat_tokenizer("words"), TypeError, "base:"),
        (lambda t: resize_vocabulary(Linear(2, 2, rng=0), t, t, rng=0), TypeError, "model:"),
        (lambda t: response_loss(Linear(2, 2, rng=0), None, None), TypeError, "model:"),
    ],
)
def test_instruction_bad_inputs(tok, call, error, match):
    with pytest.raises(error, match=match):
        call(tok)
