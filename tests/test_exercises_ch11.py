"""Chapter 11 exercises: the references agree with the package and with values worked out by
hand, every typical mistake gets its own diagnosis, and right answers written differently
pass."""

import numpy as np
import pytest

from genai_notes import finetuning
from genai_notes.autograd import Tensor
from genai_notes.exercises import ch11
from genai_notes.finetuning import LoRALinear, lora_parameter_count, response_loss_mask
from genai_notes.nn import Linear

# --- the references agree with the package and with hand values ---------------------------


def test_count_reference_equals_the_package_and_the_layers_trainable_numbers():
    assert ch11.lora_parameter_count(8, 6, 2) == 8 * 2 + 2 * 6 == 28
    for d_in, d_out, r in [(8, 6, 2), (64, 192, 4), (5, 3, 3), (1, 7, 1)]:
        assert ch11.lora_parameter_count(d_in, d_out, r) == lora_parameter_count(d_in, d_out, r)
        layer = LoRALinear(Linear(d_in, d_out, rng=0), r=r, rng=0)
        assert layer.num_parameters(trainable_only=True) == ch11.lora_parameter_count(
            d_in, d_out, r
        )


def trained_lora(d_in: int, d_out: int, r: int, alpha: float, seed: int) -> LoRALinear:
    """A float64 LoRALinear whose B is nonzero and whose bias is not zero, as after training."""
    rng = np.random.default_rng(seed)
    base = Linear(d_in, d_out, rng=seed).astype(np.float64)
    base.bias.data = rng.normal(size=d_out)
    layer = LoRALinear(base, r=r, alpha=alpha, rng=seed)
    layer.lora_b.data = rng.normal(size=(r, d_out))
    assert layer.lora_b.dtype == np.float64
    return layer


def arrays_of(layer: LoRALinear):
    return (
        layer.base.weight.data,
        layer.base.bias.data,
        layer.lora_a.data,
        layer.lora_b.data,
        layer.alpha,
    )


@pytest.mark.parametrize("d_in, d_out, r, alpha", [(6, 4, 2, 8.0), (3, 5, 3, 1.0), (4, 4, 1, 2.5)])
def test_forward_and_merge_references_equal_the_lora_layer(d_in, d_out, r, alpha):
    layer = trained_lora(d_in, d_out, r, alpha, seed=d_in + r)
    W, b, A, B, alpha = arrays_of(layer)
    x = np.random.default_rng(1).normal(size=(7, d_in))
    expected = layer(Tensor(x, dtype=np.float64)).data
    np.testing.assert_allclose(ch11.lora_forward(x, W, b, A, B, alpha), expected, rtol=1e-12)
    merged = ch11.merge_lora(W, A, B, alpha)
    np.testing.assert_allclose(merged, layer.merge().weight.data, rtol=1e-12, atol=1e-12)
    # The merged weight computes the same outputs as the frozen layer plus its update.
    np.testing.assert_allclose(x @ merged + b, expected, rtol=1e-12, atol=1e-12)


def test_forward_and_merge_on_values_worked_out_by_hand():
    x = np.array([[1.0, 2.0]])
    W, b = np.eye(2), np.array([0.5, -0.5])
    A, B = np.array([[1.0], [0.0]]), np.array([[2.0, 3.0]])  # rank 1, alpha 2: scale 2
    # x W + b = [1.5, 1.5]; x A = [1]; (x A) B = [2, 3]; times 2 = [4, 6]
    np.testing.assert_allclose(ch11.lora_forward(x, W, b, A, B, 2.0), [[5.5, 7.5]])
    np.testing.assert_allclose(ch11.merge_lora(W, A, B, 2.0), [[5.0, 6.0], [0.0, 1.0]])


def walked_mask(ids, assistant_id, end_id):
    """The response mask by walking the chat token by token: an independent route."""
    mask, inside = [], False
    for token in ids:
        mask.append(inside)  # the marker itself is outside; the closing END is inside
        if inside and token == end_id:
            inside = False
        elif not inside and token == assistant_id:
            inside = True
    return np.array(mask, dtype=bool)


def test_mask_reference_equals_the_package_and_a_walk_through_the_chat():
    hand = ch11.response_mask(np.array([0, 5, 6, 2, 1, 7, 8, 2, 2]), 1, 2)
    assert hand.tolist() == [False] * 5 + [True] * 3 + [False]
    conversations = [ch11._conversation(turns, pad) for turns, pad in [(1, 0), (2, 3), (5, 1)]]
    for case in [*ch11.q4.cases, *conversations]:
        ours = ch11.response_mask(*case)
        np.testing.assert_array_equal(ours, response_loss_mask(*case))
        np.testing.assert_array_equal(ours, walked_mask(*case))


def test_template_reference_equals_the_package():
    assert (finetuning.USER, finetuning.ASSISTANT, finetuning.END) == (
        "<|user|>",
        "<|assistant|>",
        "<|end|>",
    )
    for case in ch11.q5.cases:
        assert ch11.format_example(*case) == finetuning.format_example(*case)
    assert ch11.format_example("who rules ?", "king") == (
        "<|user|> who rules ? <|end|> <|assistant|> king <|end|>"
    )


# --- the checkers ---------------------------------------------------------------------------


# Every reference passing and every listed mistake's own diagnosis are checked for all
# chapters in tests/test_exercises.py; here, what is particular to this chapter.


def test_a_transposed_update_fails_on_a_shape_when_the_weight_is_not_square():
    square, *others = ch11.q3.cases
    assert square[0].shape[0] == square[0].shape[1]
    W, A, B, alpha = others[0]
    assert W.shape[0] != W.shape[1]
    with pytest.raises(ValueError):
        ch11._merge_transposed(W, A, B, alpha)


def test_two_mistakes_at_once_in_the_mask_are_still_explained():
    def marker_in_end_out(ids, assistant_id, end_id):
        return ch11._marker_included(ids, assistant_id, end_id) & (ids != end_id)

    feedback = ch11.q4.evaluate(marker_in_end_out)
    assert not feedback.correct
    assert "True on an assistant marker" in feedback.message

    def the_wrong_ends(ids, assistant_id, end_id):  # every END but the closing ones
        right = ch11.response_mask(ids, assistant_id, end_id)
        return (right & (ids != end_id)) | (~right & (ids == end_id))

    message = " ".join(ch11.q4.evaluate(the_wrong_ends).message.split())
    assert "an END that closes an assistant turn is False" in message


def test_mask_feedback_names_tokens_and_markers():
    message = " ".join(ch11.q4.evaluate(ch11._marker_included).message.split())
    assert "token 4 (an assistant marker)" in message
    assert "index" not in message


def test_two_mistakes_at_once_in_the_template_are_still_explained():
    def squashed_and_unclosed(instruction, response=None):
        prompt = f"<|user|>{instruction}<|end|><|assistant|>"
        return prompt if response is None else f"{prompt}{response}"

    message = " ".join(ch11.q5.evaluate(squashed_and_unclosed).message.split())
    assert (
        "your text's markers read <|user|> <|end|> <|assistant|>; the template's read "
        "<|user|> <|end|> <|assistant|> <|end|>" in message
    )

    def doubled_spaces(instruction, response=None):
        prompt = f"<|user|>  {instruction}  <|end|> <|assistant|>"
        return prompt if response is None else f"{prompt} {response} <|end|> "

    message = " ".join(ch11.q5.evaluate(doubled_spaces).message.split())
    assert "the markers and the words are right, the spaces are not" in message


def test_the_package_functions_are_refused():
    def counted(d_in, d_out, r):
        return finetuning.lora_parameter_count(d_in, d_out, r)

    assert "count the numbers yourself" in ch11.q1.evaluate(counted).message

    def masked(ids, assistant_id, end_id):
        return finetuning.response_loss_mask(ids, assistant_id, end_id)

    assert "write the mask yourself" in ch11.q4.evaluate(masked).message

    def formatted(instruction, response=None):
        return finetuning.format_example(instruction, response)

    assert "write the template yourself" in ch11.q5.evaluate(formatted).message


def test_right_answers_written_differently_pass():
    def count(d_in, d_out, r):
        return r * (d_in + d_out)

    assert ch11.q1.evaluate(count).correct

    def forward_through_the_product(x, W, b, A, B, alpha):
        r = A.shape[1]
        return x @ W + b + (alpha / r) * (x @ (A @ B))

    assert ch11.q2.evaluate(forward_through_the_product).correct

    def forward_through_the_merged_weight(x, W, b, A, B, alpha):
        return x @ (W + alpha / A.shape[1] * A @ B) + b

    assert ch11.q2.evaluate(forward_through_the_merged_weight).correct

    def merge(W, A, B, alpha):
        return (B.T @ (A.T * alpha / A.shape[1])).T + W

    assert ch11.q3.evaluate(merge).correct

    assert ch11.q4.evaluate(walked_mask).correct

    def template(instruction, response=None):
        parts = [finetuning.USER, instruction, finetuning.END, finetuning.ASSISTANT]
        if response is not None:
            parts += [response, finetuning.END]
        return " ".join(parts)

    assert ch11.q5.evaluate(template).correct
