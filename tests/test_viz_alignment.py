"""The cross-attention explorer: its spec holds every map (rounded, inline, one record per
target row) in control order, labels the axes with the chosen sentence's tokens, and checks
its inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genai_notes.viz import Explorer, alignment_explorer
from genai_notes.viz.display import find_urls

DESCRIPTION = "Cross-attention weights for the chosen sentence, decoder layer and head."
RNG = np.random.default_rng(0)


def _maps():
    # two sentences of different sizes, 2 layers and 3 heads each; rows sum to 1
    shapes = [(2, 3, 4, 3), (2, 3, 2, 5)]
    return [RNG.dirichlet(np.ones(s[-1]), size=s[:-1]) for s in shapes]


SOURCES = [["the", "cat", "."], ["the", "black", "cat", "runs", "."]]
TARGETS = [["el", "gato", ".", "<eos>"], ["gato", "negro"]]


def _unpacked(spec):
    """The inline records as the transforms read them: state k, row i -> weights."""
    return {
        (r["k"], r["i"]): np.array(r["w"].split(","), dtype=float) for r in spec["data"]["values"]
    }


def test_every_map_is_stored_rounded_in_control_order():
    maps = _maps()
    spec = alignment_explorer(maps, SOURCES, TARGETS, description=DESCRIPTION).to_dict()
    rows = _unpacked(spec)
    # the first control (the sentence) varies slowest: k = (s * 2 + layer) * 3 + head
    for s, m in enumerate(maps):
        for layer in range(2):
            for head in range(3):
                k = (s * 2 + layer) * 3 + head
                for i in range(m.shape[2]):
                    np.testing.assert_allclose(rows[k, i], m[layer, head, i], atol=0.005 + 1e-12)
    assert len(rows) == 2 * 3 * (4 + 2)
    assert [p["name"] for p in spec["params"]] == ["sentence", "layer", "head"]
    assert spec["params"][0]["bind"]["labels"] == ["the cat .", "the black cat runs ."]
    assert spec["params"][1]["bind"] == {
        "input": "radio", "options": [0, 1], "labels": ["1", "2"], "name": "decoder layer"
    }  # fmt: skip
    transforms = spec["layer"][0]["transform"]
    assert transforms[0]["filter"] == (
        "datum.k === indexof([0,1], sentence) * 6 + indexof([0,1], layer) * 3"
        " + indexof([0,1,2], head)"
    )
    labels = spec["layer"][0]["encoding"]["x"]["axis"]["labelExpr"]
    assert labels == f"{json.dumps(SOURCES, separators=(',', ':'))}[sentence][datum.value]"
    assert spec["description"] == DESCRIPTION
    assert list(find_urls(Explorer(alignment_explorer(maps, SOURCES, TARGETS,
                                                      description=DESCRIPTION)).spec)) == []  # fmt: skip


def test_start_and_names():
    chart = alignment_explorer(_maps(), SOURCES, TARGETS, description=DESCRIPTION,
                               names=["one", "two"], sentence=1, layer=1, head=2)  # fmt: skip
    params = {p["name"]: p for p in chart.to_dict()["params"]}
    assert (params["sentence"]["value"], params["layer"]["value"], params["head"]["value"]) == (
        1, 1, 2
    )  # fmt: skip
    assert params["sentence"]["bind"]["labels"] == ["one", "two"]


@pytest.mark.parametrize(
    "change, error, words",
    [
        ({"maps": np.zeros((1, 1, 2, 2))}, TypeError, "maps: expected a non-empty list"),
        ({"sources": SOURCES[:1]}, ValueError, "sources: expected 2 token lists"),
        ({"targets": [TARGETS[0], ["x"]]}, ValueError, r"targets\[1\]: expected 2 labels"),
        ({"maps": [np.zeros((2, 3, 4, 3)), np.zeros((1, 3, 2, 5))]}, ValueError, r"maps\[1\]"),
        (
            {"maps": [np.full((2, 3, 4, 3), 2.0), np.zeros((2, 3, 2, 5))]},
            ValueError,
            "in \\[0, 1\\]",
        ),
        ({"head": 3}, ValueError, "head: expected an index below 3"),
        ({"description": "maps"}, ValueError, "description"),
    ],
)
def test_bad_inputs_name_the_argument(change, error, words):
    kwargs = {"maps": _maps(), "sources": SOURCES, "targets": TARGETS, "description": DESCRIPTION}
    kwargs.update(change)
    with pytest.raises(error, match=words):
        alignment_explorer(**kwargs)
