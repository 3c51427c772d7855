"""The decoding explorer: its Vega-Lite transforms (softmax at T, a row_number window for
top-k, a running-sum window for top-p) give, drawn offline, the same distributions as
genai_notes.decoding.next_token_probs; it stores only the logits; it refuses bad input."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from genai_notes.decoding import next_token_probs
from genai_notes.viz import Explorer, decoding_explorer
from genai_notes.viz.display import find_urls

DESCRIPTION = "Temperature, top-k and top-p acting on a next-token distribution."
TOKENS = ["the", "a", "king", "queen", "sleeps", ".", "and"]
# a tie (1.0, 1.0) so that the lower-id rule matters at the top-k and top-p edges
LOGITS = np.array([2.0, 1.0, 1.0, 0.5, -1.0, 0.0, -2.5])


def drawn(temperature, k, p, logits=LOGITS, tokens=TOKENS):
    """The two distributions as the browser computes them: render the spec with the
    sliders at (T, k, p) and read each bar's text alternative."""
    vl_convert = pytest.importorskip("vl_convert")
    chart = decoding_explorer(logits, tokens, description=DESCRIPTION)
    spec = Explorer(chart).spec
    values = {"T": temperature, "k": k, "p": p}
    for param in spec["params"]:
        param["value"] = values[param["name"]]
    svg = vl_convert.vegalite_to_svg(json.dumps(spec))
    found = re.findall(r"(softmax at T|after top-k and top-p): p\((.+?)\) = ([0-9.]+)", svg)
    out = {"softmax at T": np.zeros(len(tokens)), "after top-k and top-p": np.zeros(len(tokens))}
    for series, token, prob in found:
        out[series][tokens.index(token)] = float(prob)
    assert len(found) == 2 * len(tokens)
    return out["softmax at T"], out["after top-k and top-p"]


@pytest.mark.parametrize(
    "temperature, k, p",
    [(1.0, 7, 1.0), (0.7, 4, 0.8), (1.0, 2, 1.0), (2.0, 7, 0.5), (0.3, 3, 0.95), (1.5, 5, 0.05)],
)
def test_the_browser_computes_what_decoding_computes(temperature, k, p):
    before, after = drawn(temperature, k, p)
    z = LOGITS / temperature
    softmax = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(before, softmax, atol=6e-4)
    want = next_token_probs(LOGITS[None], temperature=temperature, top_k=k, top_p=p)[0]
    np.testing.assert_allclose(after, want, atol=6e-4)
    np.testing.assert_array_equal(after > 0, want > 0)  # the same kept set


def test_ties_go_to_the_lower_id():
    # k = 2: "the", then "a" (id 1) rather than "king" (id 2), which has the same logit
    _, after = drawn(1.0, 2, 1.0)
    assert after[1] > 0 and after[2] == 0


def test_it_stores_only_the_logits_and_draws_offline():
    chart = decoding_explorer(LOGITS, TOKENS, description=DESCRIPTION, top_k=3, top_p=0.9)
    spec = chart.to_dict()
    records = spec["data"]["values"]
    assert [r["w"] for r in records] == ["the", "a", "king", "queen", ".", "sleeps", "and"]
    assert {r["z"] for r in records} == set((LOGITS - LOGITS.max()).round(6).tolist())
    assert {p["name"]: p["value"] for p in spec["params"]} == {"T": 1.0, "k": 3, "p": 0.9}
    assert list(find_urls(Explorer(chart).spec)) == []
    assert Explorer(chart).description == DESCRIPTION


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"logits": [1.0]}, ValueError, "at least two tokens"),
        ({"logits": [[1.0, 2.0]]}, ValueError, "logits: expected a 1-D"),
        ({"logits": [1.0, np.nan]}, ValueError, "logits: expected finite"),
        ({"tokens": ["a", "a", "b", "c", "d", "e", "f"]}, ValueError, "tokens"),
        ({"tokens": ["a"]}, ValueError, "tokens"),
        ({"temperature": 0.0}, ValueError, "temperature"),
        ({"top_k": 0}, ValueError, "top_k"),
        ({"top_p": 1.5}, ValueError, "top_p"),
        ({"description": "short"}, ValueError, "description"),
    ],
)
def test_bad_inputs(kwargs, error, match):
    args = {"logits": LOGITS, "tokens": TOKENS, "description": DESCRIPTION, **kwargs}
    with pytest.raises(error, match=match):
        decoding_explorer(args.pop("logits"), args.pop("tokens"), **args)
