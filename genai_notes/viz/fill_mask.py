"""An explorer of filled blanks: pick a sentence with a ``[MASK]`` (and, if there are
several, a reader), and see a model's top fillers beside the grammar's exact answer
(Chapter 10).

The probabilities are computed in Python, by the model and by the grammar, for a list of
preset sentences; the spec stores, for each reader and sentence, the ``top_k`` words (ranked
by the larger of the two probabilities) with both probabilities rounded to 3 decimals. The
browser only picks the records the controls choose, so the explorer is live in the HTML book
with no kernel.

>>> vocab = ["king", "queen", "man"]
>>> model = np.array([[0.5, 0.4, 0.1]])
>>> truth = np.array([[0.5, 0.5, 0.0]])
>>> chart = fill_mask_explorer(["the [MASK] rules ."], vocab, {"both sides": (model, truth)},
...     description="The model's fillers for the blank beside the grammar's, per sentence.")
>>> [p["name"] for p in chart.to_dict()["params"]]
['sentence']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np

from genai_notes._checks import check_array, check_int, describe
from genai_notes.viz._data import check_description, check_labels, clean, js_literal
from genai_notes.viz.controls import Select, state_index
from genai_notes.viz.figures import PALETTE

__all__ = ["fill_mask_explorer", "top_fillers"]


def _check_readers(readers: Any, n_sentences: int, n_words: int) -> dict[str, tuple]:
    if not isinstance(readers, Mapping) or not readers:
        raise TypeError(
            "readers: expected a non-empty dict from a reader's name to a pair of "
            f"(model, truth) arrays, got {describe(readers)}"
        )
    checked = {}
    for name, pair in readers.items():
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"readers: expected names that are non-empty strings, got {describe(name)}"
            )
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError(
                f"readers[{name!r}]: expected a (model, truth) pair, got {describe(pair)}"
            )
        arrays = []
        for label, a in zip(("model", "truth"), pair):
            a = check_array(a, f"readers[{name!r}] {label}", ndim=2, dtype_kind="fiu").astype(float)
            if a.shape != (n_sentences, n_words):
                raise ValueError(
                    f"readers[{name!r}] {label}: expected shape ({n_sentences}, {n_words}) for "
                    f"{n_sentences} sentences and {n_words} words, got {a.shape}"
                )
            if (a < 0).any() or not np.allclose(a.sum(axis=1), 1.0, atol=1e-6):
                raise ValueError(
                    f"readers[{name!r}] {label}: expected each row to be a distribution "
                    "(non-negative, summing to 1)"
                )
            arrays.append(a)
        checked[name] = tuple(arrays)
    return checked


def top_fillers(model: Any, truth: Any, top_k: int) -> np.ndarray:
    """The ``top_k`` word indices of each row, ranked by ``max(model, truth)`` (ties: the
    model's probability, then the lower index): ``(n_sentences, top_k)``.

    >>> top_fillers(np.array([[0.1, 0.6, 0.3]]), np.array([[0.7, 0.2, 0.1]]), 2)
    array([[0, 1]])
    """
    model = np.asarray(model, dtype=float)
    truth = np.asarray(truth, dtype=float)
    top_k = check_int(top_k, "top_k", minimum=1)
    score = np.maximum(model, truth)
    order = np.lexsort((np.arange(model.shape[1])[None].repeat(len(model), 0), -model, -score))
    return order[:, : min(top_k, model.shape[1])]


def fill_mask_explorer(
    sentences: Sequence[str],
    vocabulary: Sequence[str],
    readers: Mapping[str, tuple[Any, Any]],
    *,
    description: str,
    series: tuple[str, str] = ("model", "grammar"),
    top_k: int = 6,
    sentence: int = 0,
    xlabel: str = "word in the blank",
    ylabel: str = "probability",
    width: int = 360,
    height: int = 220,
) -> alt.Chart:
    """Grouped bars of the top fillers of a blank: the model's probability and the truth's.

    sentences: the preset sentences, each with its blank; vocabulary: ``(n_words,)`` labels;
    readers: name -> ``(model, truth)``, two ``(n_sentences, n_words)`` arrays of
    distributions (one per sentence) for that way of reading the sentence (for example
    "both sides" and "left only"); a radio button picks the reader when there are several.
    series: the legend's names for the two bars.
    """
    check_description(description)
    for name, labels in (("sentences", sentences), ("vocabulary", vocabulary)):
        if isinstance(labels, str) or not isinstance(labels, Sequence) or not labels:
            raise TypeError(f"{name}: expected a non-empty list of strings, got {describe(labels)}")
    sentences = check_labels(sentences, len(sentences), "sentences")
    vocabulary = check_labels(vocabulary, len(vocabulary), "vocabulary")
    readers = _check_readers(readers, len(sentences), len(vocabulary))
    series = tuple(check_labels(list(series), 2, "series"))
    if check_int(sentence, "sentence", minimum=0) >= len(sentences):
        raise ValueError(f"sentence: expected an index below {len(sentences)}, got {sentence}")
    names = list(readers)
    controls = [Select("sentence", "sentence", list(range(len(sentences))), sentences, sentence)]
    if len(names) > 1:
        controls.append(Select("reader", "context", list(range(len(names))), names, 0, True))
    _, index = state_index(controls)
    records = []
    for s in range(len(sentences)):
        for r, name in enumerate(names):
            model, truth = readers[name]
            k = s * len(names) + r
            for rank, w in enumerate(top_fillers(model[s : s + 1], truth[s : s + 1], top_k)[0]):
                for who, p in zip(series, (model[s, w], truth[s, w])):
                    p = clean(round(float(p), 3))
                    reading = f"{vocabulary[w]}: {who} {p:.3f}"
                    records.append({"k": k, "rank": rank, "word": vocabulary[w], "who": who, "p": p, "reading": reading})  # fmt: skip
    title = f"{js_literal(sentences)}[sentence]"
    if len(names) > 1:
        title += f" + ' (' + {js_literal(names)}[reader] + ')'"
    chart = (
        alt.Chart(alt.Data(values=records))
        .mark_bar()
        .encode(
            x=alt.X(
                "word:N",
                sort=alt.EncodingSortField("rank", op="min"),
                title=xlabel,
                axis=alt.Axis(labelAngle=0),
            ),
            xOffset=alt.XOffset("who:N", sort=list(series)),
            y=alt.Y("p:Q", title=ylabel, scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "who:N",
                scale=alt.Scale(domain=list(series), range=[PALETTE[0], PALETTE[1]]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            tooltip=[
                alt.Tooltip("word:N", title=xlabel),
                alt.Tooltip("who:N", title="source"),
                alt.Tooltip("p:Q", title=ylabel, format=".3f"),
            ],
            description=alt.Description("reading:N"),
        )  # fmt: skip
        .add_params(*(c.param() for c in controls))
        .properties(
            width=width,
            height=height,
            description=description,
            title=alt.TitleParams(text=alt.ExprRef(expr=title), fontSize=12),
        )
    )
    chart.transform = [{"filter": f"datum.k === {index}"}]
    return chart
