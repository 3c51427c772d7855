"""Every data set the book uses, made by code: nothing is downloaded.

* :mod:`~genai_notes.data.sentences`: the synthetic English and Spanish language of
  Chapters 1-7, with exact sentence probabilities and entropy.

>>> generate_corpus(1, seed=0)
['the prince walks to the castle with the horse .']
"""

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

__all__ = [
    "LANGUAGES",
    "Entropy",
    "generate_corpus",
    "corpus_text",
    "parallel_corpus",
    "sentence_log_prob",
    "sentence_distribution",
    "entropy",
]
