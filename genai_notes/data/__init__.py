"""Every data set the book uses, made by code: nothing is downloaded.

* :mod:`~genai_notes.data.sentences`: the synthetic English and Spanish language of
  Chapters 1-7, with exact sentence probabilities and entropy.
* :mod:`~genai_notes.data.clauses`: the harder language of Chapters 8-9 (relative clauses,
  agreement across a distance, 10^11 sentences), exact too, computed from its grammar
  (:mod:`~genai_notes.data.pcfg`) without listing sentences.
* :mod:`~genai_notes.data.long_range`: the cue-distance task of Chapter 6 (remember a
  marker across ``k`` distractor words), with exact labels and ``k`` chosen by the caller.
* :mod:`~genai_notes.data.toy2d`: 2-D distributions with exact densities (a ring of
  Gaussians, two moons, a spiral) for Chapter 12.
* :mod:`~genai_notes.data.glyphs`: small grey-scale shapes and letters drawn by code, with
  their labels and drawing parameters, for Chapter 12.

>>> generate_corpus(1, seed=0)
['the prince walks to the castle with the horse .']
"""

from genai_notes.data import clauses
from genai_notes.data.glyphs import GlyphBatch, GlyphStyle, draw_glyphs, render_glyphs, tile
from genai_notes.data.long_range import CueBatch, cue_distance_task, cue_vocabulary
from genai_notes.data.sentences import (
    LANGUAGES,
    Entropy,
    corpus_text,
    entropy,
    generate_corpus,
    parallel_corpus,
    sentence_distribution,
    sentence_log_prob,
)
from genai_notes.data.toy2d import GaussianRing, Spiral, TwoMoons, assign_to_centres

__all__ = [
    "clauses",
    "LANGUAGES",
    "Entropy",
    "generate_corpus",
    "corpus_text",
    "parallel_corpus",
    "sentence_log_prob",
    "sentence_distribution",
    "entropy",
    "CueBatch",
    "cue_distance_task",
    "cue_vocabulary",
    "GaussianRing",
    "TwoMoons",
    "Spiral",
    "assign_to_centres",
    "GlyphStyle",
    "GlyphBatch",
    "draw_glyphs",
    "render_glyphs",
    "tile",
]
