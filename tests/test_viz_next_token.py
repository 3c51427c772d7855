"""The next-token explorer: per prompt it stores the top tokens of the two distributions,
ranked by the larger probability and rounded; it draws with the vendored Vega-Lite compiler;
it refuses inputs that are not distributions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genai_notes.viz import Explorer, next_token_explorer
from genai_notes.viz.display import find_urls

DESCRIPTION = "The next token after each prompt, the model's beside the truth."
TOKENS = ["the", "king", "queen", "sleeps", "."]
MODEL = np.array([[0.5, 0.2, 0.2, 0.05, 0.05], [0.0, 0.1, 0.0, 0.3, 0.6]])
TRUE = np.array([[0.6, 0.0, 0.4, 0.0, 0.0], [0.0, 0.0, 0.0, 0.25, 0.75]])
PROMPTS = ["(start)", "the king"]


def _records(**kwargs):
    chart = next_token_explorer(MODEL, TRUE, TOKENS, PROMPTS, description=DESCRIPTION, **kwargs)
    return chart.to_dict()["data"]["values"]


def test_each_prompt_keeps_its_top_tokens_ranked_by_the_larger_probability():
    records = _records(top=3)
    first = [r["w"] for r in records if r["c"] == 0 and r["s"] == "model"]
    # max(model, truth) = 0.6, 0.2, 0.4, 0.05, 0.05: the, queen, king
    assert first == ["the", "queen", "king"]
    second = [r["w"] for r in records if r["c"] == 1 and r["s"] == "truth"]
    assert second == [".", "sleeps", "king"]
    by_key = {(r["c"], r["w"], r["s"]): r["p"] for r in records}
    assert by_key[0, "queen", "truth"] == 0.4 and by_key[1, ".", "model"] == 0.6
    assert [r["r"] for r in records if r["c"] == 0 and r["s"] == "truth"] == [0, 1, 2]


def test_probabilities_are_rounded_and_top_is_capped_by_the_vocabulary():
    model = np.array([[0.123456, 0.876544]])
    records = next_token_explorer(model, [[0.5, 0.5]], ["a", "b"], ["p"], top=10,
                                  description=DESCRIPTION, digits=3).to_dict()["data"]["values"]  # fmt: skip
    assert len(records) == 4
    assert {r["p"] for r in records if r["s"] == "model"} == {0.123, 0.877}


def test_it_draws_offline_and_the_prompt_list_is_its_control():
    vl_convert = pytest.importorskip("vl_convert")
    chart = next_token_explorer(MODEL, TRUE, TOKENS, PROMPTS, description=DESCRIPTION, prompt=1)
    explorer = Explorer(chart)
    assert explorer.description == DESCRIPTION
    assert list(find_urls(explorer.spec)) == []
    params = chart.to_dict()["params"]
    assert [p["name"] for p in params] == ["prompt"] and params[0]["value"] == 1
    svg = vl_convert.vegalite_to_svg(json.dumps(explorer.spec))
    assert "after: the king" in svg


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model_probs": [[0.5, 0.6, 0, 0, 0]] * 2}, ValueError, "row 0 sums to 1.1"),
        ({"true_probs": [[1.0, 0, 0, 0, 0]]}, ValueError, "expected the shape of model_probs"),
        ({"tokens": ["a", "a", "b", "c", "d"]}, ValueError, "expected distinct labels"),
        ({"prompts": ["one"]}, ValueError, "expected 2 labels, got 1"),
        ({"prompt": 2}, ValueError, "expected a row index below 2"),
        ({"top": 0}, ValueError, "top"),
        ({"description": "short"}, ValueError, "description"),
        ({"model_probs": [[-0.5, 1.5, 0, 0, 0]] * 2}, ValueError, "non-negative"),
    ],
)
def test_bad_inputs_are_refused(kwargs, error, message):
    args = {"model_probs": MODEL, "true_probs": TRUE, "tokens": TOKENS, "prompts": PROMPTS,
            "description": DESCRIPTION, **kwargs}  # fmt: skip
    with pytest.raises(error, match=message):
        next_token_explorer(**args)
