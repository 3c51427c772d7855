"""An embedding table: one learned row per token, read by integer id.

Looking a row up is the same as multiplying a one-hot vector by the table:
``one_hot(ids, vocab) @ weight == weight[ids]``. The lookup is what every model does, because
it costs ``d_model`` reads instead of a ``vocab x d_model`` product; the one-hot form is how to
think about it, and it gives the backward rule at once: the gradient of the table is
``one_hot(ids).T @ grad``, that is, each row adds up the gradients of the positions that read it.

>>> table = EmbeddingTable.from_matrix(np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]))
>>> table.lookup(np.array([2, 0]))
array([[4., 5.],
       [0., 1.]])
>>> one_hot(np.array([2, 0]), 3) @ table.weight
array([[4., 5.],
       [0., 1.]])
"""

from __future__ import annotations

import numpy as np

from genai_notes._checks import (
    check_array,
    check_positive_int,
    check_real,
    check_rng,
    check_shape,
    describe,
)

__all__ = ["one_hot", "check_ids", "scatter_add_rows", "EmbeddingTable"]


def check_ids(ids: object, n_rows: int, name: str = "ids") -> np.ndarray:
    """Return ``ids`` as an integer array after checking every id is in ``[0, n_rows)``."""
    ids = check_array(ids, name, dtype_kind="iu")
    if ids.size and (ids.min() < 0 or ids.max() >= n_rows):
        bad = ids[(ids < 0) | (ids >= n_rows)].flat[0]
        raise ValueError(
            f"{name}: expected integers in [0, {n_rows}), got {bad} in {describe(ids)}"
        )
    return ids


def one_hot(ids: object, vocab_size: int, dtype: type = np.float64) -> np.ndarray:
    """One-hot vectors: ids of any shape ``(...)`` to ``(..., vocab_size)``, 1 at each id.

    >>> one_hot(np.array([1, 0]), 3)
    array([[0., 1., 0.],
           [1., 0., 0.]])
    """
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    ids = check_ids(ids, vocab_size)
    return (ids[..., None] == np.arange(vocab_size)).astype(dtype)


def scatter_add_rows(ids: object, values: object, n_rows: int) -> np.ndarray:
    """Add ``values[i]`` into row ``ids[i]`` of a zero ``(n_rows, d)`` matrix.

    ids: ``(...)`` integers; values: ``(..., d)``. Repeated ids accumulate, which is exactly
    the backward rule of a lookup (and equals ``one_hot(ids).T @ values``, flattened).

    >>> scatter_add_rows(np.array([1, 1, 0]), np.array([[1.0], [2.0], [5.0]]), 3)
    array([[5.],
           [3.],
           [0.]])
    """
    n_rows = check_positive_int(n_rows, "n_rows")
    ids = check_ids(ids, n_rows)
    values = check_array(values, "values", dtype_kind="fiu")
    if values.shape[:-1] != ids.shape:
        raise ValueError(
            f"values: expected shape {(*ids.shape, 'd')} to match ids, got {values.shape}"
        )
    out = np.zeros((n_rows, values.shape[-1]), dtype=np.result_type(values.dtype, np.float32))
    # np.add.at, unlike out[ids] += values, adds every repeated id instead of keeping one.
    np.add.at(out, ids.reshape(-1), values.reshape(-1, values.shape[-1]))
    return out


class EmbeddingTable:
    """A ``(vocab, d_model)`` table of vectors, read with :meth:`lookup`.

    Entries start as independent normal draws with standard deviation ``scale`` (PyTorch's
    ``nn.Embedding`` uses 1, GPT-2 used 0.02). Training then moves the rows.

    >>> table = EmbeddingTable(vocab_size=10, d_model=4, seed=0)
    >>> table.lookup(np.array([[1, 2, 3], [4, 5, 6]])).shape
    (2, 3, 4)
    """

    def __init__(
        self, vocab_size: int, d_model: int, seed: int | np.random.Generator = 0, scale: float = 1.0
    ):
        vocab_size = check_positive_int(vocab_size, "vocab_size")
        d_model = check_positive_int(d_model, "d_model")
        scale = check_real(scale, "scale", low=0.0)
        rng = check_rng(seed)
        self.weight: np.ndarray = rng.normal(0.0, scale, size=(vocab_size, d_model))

    @classmethod
    def from_matrix(cls, weight: object) -> EmbeddingTable:
        """Wrap an existing ``(vocab, d_model)`` matrix (it is not copied)."""
        weight = check_array(weight, "weight", ndim=2, dtype_kind="f")
        table = cls.__new__(cls)
        table.weight = weight
        return table

    @property
    def vocab_size(self) -> int:
        return self.weight.shape[0]

    @property
    def d_model(self) -> int:
        return self.weight.shape[1]

    def lookup(self, ids: object) -> np.ndarray:
        """Rows for ``ids`` of any shape ``(...)``: returns ``(..., d_model)``."""
        return self.weight[check_ids(ids, self.vocab_size)]

    __call__ = lookup

    def backward(self, ids: object, grad_out: object) -> np.ndarray:
        """Gradient of a loss with respect to ``weight``, given ``grad_out``:
        ``(..., d_model)``, the gradient with respect to ``lookup(ids)``. Returns
        ``(vocab, d_model)``: each row sums the gradients of the positions that read it."""
        grad_out = check_array(grad_out, "grad_out", dtype_kind="f")
        ids = check_ids(ids, self.vocab_size)
        check_shape(grad_out, "grad_out", (*ids.shape, self.d_model))
        return scatter_add_rows(ids, grad_out, self.vocab_size)

    def __repr__(self) -> str:
        return f"EmbeddingTable(vocab_size={self.vocab_size}, d_model={self.d_model})"
