"""Principal component analysis (PCA) through the singular value decomposition.

To draw ``d_model``-dimensional vectors on a page we project them onto the two directions
along which they vary most. With the rows of ``x`` centred (their mean subtracted), the SVD
``x_c = U S Vᵀ`` gives those directions as the first rows of ``Vᵀ``; the coordinates of the
points are ``x_c V[:, :k] = U[:, :k] S[:k]``, and component ``j`` explains the share
``S[j]² / Σ S²`` of the total variance. (The same directions are the top eigenvectors of the
covariance matrix ``x_cᵀ x_c / (n - 1)``, whose eigenvalues are ``S² / (n - 1)``.)

A direction's sign is arbitrary (``v`` and ``-v`` span the same line), so we fix it: the
entry of largest magnitude in each component is made positive. Figures then do not flip
between runs or libraries.

>>> x = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0], [2.0, 1.0], [2.0, -1.0]])
>>> result = pca(x, n_components=2)
>>> result.components.round(6) + 0.0
array([[1., 0.],
       [0., 1.]])
>>> result.explained_variance_ratio.round(4)
array([0.8, 0.2])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from genai_notes._checks import check_array, check_positive_int

__all__ = ["PCAResult", "pca"]


class PCAResult(NamedTuple):
    """The output of :func:`pca`.

    coords: ``(n, k)`` the points in the new axes; components: ``(k, d)`` unit directions,
    one per row; explained_variance_ratio: ``(k,)`` share of the variance along each one;
    mean: ``(d,)`` the mean that was subtracted.
    """

    coords: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray
    mean: np.ndarray

    def transform(self, x: object) -> np.ndarray:
        """Project new points ``(m, d)`` (or one point ``(d,)``) onto the same axes."""
        x = check_array(x, "x", ndim=(1, 2), dtype_kind="fiu")
        if x.shape[-1] != self.mean.shape[0]:
            raise ValueError(
                f"x: expected vectors of dimension {self.mean.shape[0]}, got shape {x.shape}"
            )
        return (x - self.mean) @ self.components.T


def pca(x: object, n_components: int = 2) -> PCAResult:
    """Project the rows of ``x``: ``(n, d)`` onto their top ``n_components`` principal axes.

    Returns a :class:`PCAResult` with coordinates ``(n, n_components)`` and the share of the
    variance each axis explains.
    """
    x = check_array(x, "x", ndim=2, dtype_kind="fiu").astype(float)
    n_components = check_positive_int(n_components, "n_components")
    n, d = x.shape
    if n < 2:
        raise ValueError(f"x: expected at least 2 points to measure variance, got {n}")
    if n_components > min(n, d):
        raise ValueError(
            f"n_components: expected at most min(n_points, dimension) = {min(n, d)}, "
            f"got {n_components}"
        )
    mean = x.mean(axis=0)  # (d,)
    centred = x - mean  # (n, d)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)  # vt: (min(n, d), d)
    total = float(np.square(singular).sum())
    if total == 0.0:
        raise ValueError("x: all points are identical, so there is no variance to explain")
    components = vt[:n_components]  # (k, d)
    biggest = np.argmax(np.abs(components), axis=1)  # (k,)
    signs = np.sign(components[np.arange(n_components), biggest])
    components = components * signs[:, None]
    ratio = np.square(singular[:n_components]) / total
    return PCAResult(centred @ components.T, components, ratio, mean)
