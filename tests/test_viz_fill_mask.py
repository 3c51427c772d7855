"""The fill-mask explorer: its spec holds, for every sentence and reader, the top fillers with
both probabilities (rounded, in control order), its controls are the sentence list and the
reader's radio buttons, and it checks its inputs."""

from __future__ import annotations

import numpy as np
import pytest

from genai_notes.viz import Explorer, fill_mask_explorer
from genai_notes.viz.display import find_urls
from genai_notes.viz.fill_mask import top_fillers

DESCRIPTION = "The model's fillers for the blank beside the grammar's exact answer."
VOCAB = ["king", "queen", "man", "woman", "cat"]
SENTENCES = ["the [MASK] rules .", "the [MASK] works ."]
RNG = np.random.default_rng(0)


def _pair():
    return RNG.dirichlet(np.ones(5), size=2), RNG.dirichlet(np.ones(5), size=2)


def test_records_hold_the_top_fillers_of_every_state_in_control_order():
    readers = {"both sides": _pair(), "left only": _pair()}
    spec = fill_mask_explorer(SENTENCES, VOCAB, readers, description=DESCRIPTION, top_k=3).to_dict()
    records = spec["data"]["values"]
    assert len(records) == 2 * 2 * 3 * 2  # sentences x readers x top_k x (model, grammar)
    for s in range(2):
        for r, (model, truth) in enumerate(readers.values()):
            mine = [x for x in records if x["k"] == s * 2 + r]  # the sentence varies slowest
            words = [
                x["word"] for x in sorted(mine, key=lambda x: x["rank"]) if x["who"] == "model"
            ]
            best = np.argsort(-np.maximum(model[s], truth[s]))[:3]
            assert words == [VOCAB[i] for i in best]
            for x in mine:
                source = model if x["who"] == "model" else truth
                assert x["p"] == pytest.approx(source[s, VOCAB.index(x["word"])], abs=5e-4 + 1e-12)
    assert [p["name"] for p in spec["params"]] == ["sentence", "reader"]
    assert spec["params"][0]["bind"]["labels"] == SENTENCES
    assert spec["params"][1]["bind"]["input"] == "radio"
    assert spec["params"][1]["bind"]["labels"] == ["both sides", "left only"]
    assert spec["transform"] == [
        {"filter": "datum.k === indexof([0,1], sentence) * 2 + indexof([0,1], reader)"}
    ]
    assert spec["encoding"]["xOffset"]["field"] == "who"
    assert spec["description"] == DESCRIPTION
    assert (
        list(
            find_urls(
                Explorer(
                    fill_mask_explorer(SENTENCES, VOCAB, readers, description=DESCRIPTION)
                ).spec
            )
        )
        == []
    )


def test_one_reader_has_no_reader_control():
    spec = fill_mask_explorer(
        SENTENCES, VOCAB, {"both": _pair()}, description=DESCRIPTION
    ).to_dict()
    assert [p["name"] for p in spec["params"]] == ["sentence"]
    assert len(spec["data"]["values"]) == 2 * 5 * 2  # top_k 6 is cut to the 5 words


def test_top_fillers_rank_by_the_larger_probability_then_the_model():
    model = np.array([[0.1, 0.3, 0.3, 0.3, 0.0]])
    truth = np.array([[0.6, 0.1, 0.3, 0.0, 0.0]])
    # word 0 by the truth; words 1, 2, 3 tie on max 0.3 and on the model: lower index first
    assert top_fillers(model, truth, 4).tolist() == [[0, 1, 2, 3]]


def test_bad_inputs():
    pair = _pair()
    with pytest.raises(ValueError, match="expected shape"):
        fill_mask_explorer(SENTENCES, VOCAB[:4], {"a": pair}, description=DESCRIPTION)
    with pytest.raises(ValueError, match="distribution"):
        fill_mask_explorer(SENTENCES, VOCAB, {"a": (pair[0] * 2, pair[1])}, description=DESCRIPTION)
    with pytest.raises(TypeError, match="readers"):
        fill_mask_explorer(SENTENCES, VOCAB, {}, description=DESCRIPTION)
    with pytest.raises(TypeError, match="pair"):
        fill_mask_explorer(SENTENCES, VOCAB, {"a": pair[0]}, description=DESCRIPTION)
    with pytest.raises(ValueError, match="sentence"):
        fill_mask_explorer(SENTENCES, VOCAB, {"a": pair}, description=DESCRIPTION, sentence=2)
    with pytest.raises(TypeError, match="sentences"):
        fill_mask_explorer("the [MASK] .", VOCAB, {"a": pair}, description=DESCRIPTION)
    with pytest.raises(ValueError, match="description"):
        fill_mask_explorer(SENTENCES, VOCAB, {"a": pair}, description="bars")
