"""Word embeddings, from lookup tables to word2vec (chapter 3).

The modules follow the chapter:

* :mod:`~genai_notes.embeddings.vocab`: words to ids and counts;
* :mod:`~genai_notes.embeddings.table`: one-hot vectors and the embedding lookup;
* :mod:`~genai_notes.embeddings.similarity`: dot product, cosine similarity, distance;
* :mod:`~genai_notes.embeddings.sgns` and :mod:`~genai_notes.embeddings.word2vec`:
  skip-gram with negative sampling, and its trainer;
* :mod:`~genai_notes.embeddings.neighbours`: nearest neighbours and analogies;
* :mod:`~genai_notes.embeddings.pca`: a 2-D map of the vectors;
* :mod:`~genai_notes.embeddings.pooling`: sentence embeddings by mean pooling.

>>> from genai_notes.embeddings import Vocabulary, cosine_similarity
>>> len(Vocabulary.build(["the king rules the kingdom ."]))
5
"""

from genai_notes.embeddings.neighbours import WordVectors
from genai_notes.embeddings.pca import PCAResult, pca
from genai_notes.embeddings.pooling import (
    embed_sentences,
    lengths_to_mask,
    mean_pool,
    mean_pool_backward,
    pad_ids,
)
from genai_notes.embeddings.sgns import (
    log_sigmoid,
    noise_distribution,
    sgns_loss,
    sigmoid,
    skipgram_pairs,
    subsample_keep_probs,
)
from genai_notes.embeddings.similarity import (
    cosine_similarity,
    dot_product,
    euclidean_distance,
    unit_vectors,
)
from genai_notes.embeddings.table import EmbeddingTable, one_hot, scatter_add_rows
from genai_notes.embeddings.vocab import Vocabulary, split_sentences
from genai_notes.embeddings.word2vec import Word2Vec, Word2VecConfig, corpus_ids, train_word2vec

__all__ = [
    "Vocabulary",
    "split_sentences",
    "EmbeddingTable",
    "one_hot",
    "scatter_add_rows",
    "dot_product",
    "cosine_similarity",
    "euclidean_distance",
    "unit_vectors",
    "WordVectors",
    "pca",
    "PCAResult",
    "mean_pool",
    "mean_pool_backward",
    "lengths_to_mask",
    "pad_ids",
    "embed_sentences",
    "sgns_loss",
    "log_sigmoid",
    "sigmoid",
    "skipgram_pairs",
    "subsample_keep_probs",
    "noise_distribution",
    "Word2VecConfig",
    "Word2Vec",
    "train_word2vec",
    "corpus_ids",
]
