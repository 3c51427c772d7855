"""Small grey-scale glyphs (shapes and letters) drawn by code: Chapter 12's image data.

Each class is a few strokes in a glyph frame ``[-1, 1]²`` with ``v`` pointing up (the circle is
a ring of radius 0.8). One image places its glyph with four drawing parameters, all in pixels
or degrees:

* ``centre (x, y)``: where the glyph frame's origin lands; ``x`` runs along a row (columns),
  ``y`` down the image (rows), and pixel ``(row i, column j)`` has its centre at
  ``(j + 1/2, i + 1/2)``, so the image centre is ``(size/2, size/2)``;
* ``scale``: how many pixels one glyph unit spans (the glyph's half-size);
* ``rotation``: counter-clockwise, as the image is displayed;
* ``stroke_width``: the width of every stroke.

Rasterisation works on whole arrays of images at once. Every pixel of every image is mapped
into its glyph frame; its distance ``d`` (in pixels) to the nearest stroke is a minimum over
the class's segments; and its ink is the stroke's *coverage* along the normal, the length of
``[d - 1/2, d + 1/2] ∩ [-w/2, w/2]``. That is a 1-pixel box filter across the stroke, so
edges are anti-aliased, and a straight stroke of length ``L`` carries ink ``L · w`` (summed
over pixels, exactly so for an axis-aligned stroke) for any width ``w``, even below a pixel.
Ink is 1 and background 0; values lie in ``[0, 1]``.

>>> batch = draw_glyphs(4, seed=0)
>>> batch.images.shape, batch.labels.tolist(), batch.class_names[:4]
((4, 16, 16), [6, 5, 4, 2], ('circle', 'square', 'triangle', 'plus'))
>>> tile(batch.images, n_cols=2).shape
(33, 33)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from genai_notes._checks import (
    check_array,
    check_int,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_rng,
    check_shape,
    check_str,
    describe,
)

__all__ = [
    "CLASS_NAMES",
    "MAX_PIXELS",
    "GlyphStyle",
    "GlyphBatch",
    "draw_glyphs",
    "render_glyphs",
    "tile",
]

MAX_PIXELS = 1 << 25  # the most pixels one call may produce: 256 MB of float64
_BLOCK_PIXELS = 1 << 19  # pixels rasterised at once, so the temporaries stay near 4 MB each
_FAR = 1e6  # bound on |centre|, |rotation|, scale and stroke width

_TRIANGLE = [
    (0.85 * math.cos(math.radians(a)), 0.85 * math.sin(math.radians(a))) for a in (90, 210, 330)
]
# Each class is a list of polylines in the glyph frame; the circle is drawn from its distance.
_STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "circle": [],
    "square": [[(-0.7, -0.7), (0.7, -0.7), (0.7, 0.7), (-0.7, 0.7), (-0.7, -0.7)]],
    "triangle": [[*_TRIANGLE, _TRIANGLE[0]]],
    "plus": [[(-0.8, 0.0), (0.8, 0.0)], [(0.0, -0.8), (0.0, 0.8)]],
    "H": [[(-0.6, -0.8), (-0.6, 0.8)], [(0.6, -0.8), (0.6, 0.8)], [(-0.6, 0.0), (0.6, 0.0)]],
    "L": [[(-0.5, 0.8), (-0.5, -0.8), (0.6, -0.8)]],
    "T": [[(-0.7, 0.8), (0.7, 0.8)], [(0.0, 0.8), (0.0, -0.8)]],
    "Z": [[(-0.6, 0.8), (0.6, 0.8), (-0.6, -0.8), (0.6, -0.8)]],
}
CIRCLE_RADIUS = 0.8  # in glyph units
CLASS_NAMES: tuple[str, ...] = tuple(_STROKES)


def _check_range(value: Any, name: str, low: float, high: float) -> tuple[float, float]:
    """A pair ``(lo, hi)`` of reals with ``low < lo <= hi <= high``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name}: expected a pair (low, high), got {describe(value)}")
    lo = check_real(value[0], name, low=low, high=high, low_inclusive=False)
    hi = check_real(value[1], name, low=low, high=high, low_inclusive=False)
    if lo > hi:
        raise ValueError(f"{name}: expected low <= high, got {value!r}")
    return lo, hi


@dataclass(frozen=True)
class GlyphStyle:
    """How :func:`draw_glyphs` draws its random parameters; each is uniform on its range.

    Lengths are fractions of the image side ``size``, so a style keeps its look at any size.
    With the defaults a 16 × 16 glyph has half-size 4.5 to 6.1 px, its centre within 1 px of
    the image centre, a rotation within ±15° and strokes 1 to 1.9 px wide.
    """

    size: int = 16  # image height and width, pixels, in [8, 128]
    scale: tuple[float, float] = (0.28, 0.38)  # glyph half-size / size
    shift: float = 0.06  # largest offset of the centre from the image centre / size, per axis
    rotation: float = 15.0  # largest |rotation|, degrees, in [0, 180]
    stroke_width: tuple[float, float] = (0.06, 0.12)  # stroke width / size

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", _check_size(self.size))  # frozen: normalise in place
        object.__setattr__(self, "scale", _check_range(self.scale, "scale", 0.0, 0.5))
        object.__setattr__(self, "shift", check_real(self.shift, "shift", low=0.0, high=0.25))
        object.__setattr__(
            self, "rotation", check_real(self.rotation, "rotation", low=0.0, high=180.0)
        )
        width = _check_range(self.stroke_width, "stroke_width", 0.0, 0.5)
        object.__setattr__(self, "stroke_width", width)


@dataclass(frozen=True)
class GlyphBatch:
    """Images with their labels and the parameters that drew them (n images, side H = W)."""

    images: np.ndarray  # (n, H, W) float64 in [0, 1]; 1 is ink
    labels: np.ndarray  # (n,) int64, an index into class_names
    class_names: tuple[str, ...]  # the classes, in label order
    centre: np.ndarray  # (n, 2) float64, the glyph centre (x, y) in pixels
    scale: np.ndarray  # (n,) float64, pixels per glyph unit (the half-size)
    rotation: np.ndarray  # (n,) float64, degrees counter-clockwise
    stroke_width: np.ndarray  # (n,) float64, pixels


def _check_classes(classes: Any) -> tuple[str, ...]:
    if classes is None:
        return CLASS_NAMES
    if isinstance(classes, str) or not isinstance(classes, Sequence):
        raise TypeError(f"classes: expected a sequence of class names, got {describe(classes)}")
    names = tuple(check_str(c, "classes") for c in classes)
    unknown = [c for c in names if c not in _STROKES]
    if not names or unknown or len(set(names)) != len(names):
        raise ValueError(
            f"classes: expected distinct names from {CLASS_NAMES}, got {describe(classes)}"
        )
    return names


def _check_size(size: Any) -> int:
    size = check_int(size, "size", minimum=8)
    if size > 128:
        raise ValueError(f"size: expected an integer <= 128, got {size}")
    return size


def _check_values(value: Any, name: str, shape: tuple, low: float, high: float) -> np.ndarray:
    arr = check_array(value, name, ndim=len(shape), dtype_kind="fiu")
    arr = check_shape(arr, name, shape).astype(np.float64)
    if arr.size and (arr.min() < low or arr.max() > high):
        raise ValueError(f"{name}: expected values in [{low:g}, {high:g}], got {describe(arr)}")
    return arr


def _check_pixels(n: int, size: int) -> None:
    if n * size * size > MAX_PIXELS:
        raise ValueError(
            f"n: expected at most {MAX_PIXELS // (size * size)} images of {size} × {size}, got {n}"
        )


def _segment_distance2(u: np.ndarray, v: np.ndarray, a: tuple, b: tuple) -> np.ndarray:
    """Squared distance from points (u, v) to the segment a–b, elementwise (any shape)."""
    ex, ey = b[0] - a[0], b[1] - a[1]
    pu, pv = u - a[0], v - a[1]
    t = np.clip((pu * ex + pv * ey) / (ex * ex + ey * ey), 0.0, 1.0)
    return np.square(pu - t * ex) + np.square(pv - t * ey)


def _glyph_distance(name: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Distance, in glyph units, from points of the glyph frame to the class's strokes."""
    if name == "circle":
        return np.abs(np.sqrt(u * u + v * v) - CIRCLE_RADIUS)
    d2 = np.full(u.shape, np.inf)
    for line in _STROKES[name]:  # a loop over strokes; each step covers every pixel
        for a, b in zip(line[:-1], line[1:]):
            np.minimum(d2, _segment_distance2(u, v, a, b), out=d2)
    return np.sqrt(d2)


def _rasterise(name: str, size: int, centre, scale, rotation, width) -> np.ndarray:
    """Images (m, size, size) of one class; parameters are (m, 2) and (m,) arrays."""
    pix = np.arange(size) + 0.5  # pixel centres
    dx = pix[None, None, :] - centre[:, 0, None, None]  # (m, 1, W): right
    dy = centre[:, 1, None, None] - pix[None, :, None]  # (m, H, 1): up
    cos = np.cos(np.radians(rotation))[:, None, None]
    sin = np.sin(np.radians(rotation))[:, None, None]
    s = scale[:, None, None]
    u = (dx * cos + dy * sin) / s  # (m, H, W): undo the rotation, then the scale
    v = (dy * cos - dx * sin) / s
    d = _glyph_distance(name, u, v) * s  # (m, H, W), pixels
    half = width[:, None, None] / 2
    return np.clip(np.minimum(d + 0.5, half) - np.maximum(d - 0.5, -half), 0.0, 1.0)


def render_glyphs(
    labels: Any,
    centre: Any,
    scale: Any,
    rotation: Any,
    stroke_width: Any,
    size: int = 16,
    class_names: Sequence[str] = CLASS_NAMES,
) -> np.ndarray:
    """Draw glyphs from explicit parameters (see the module docstring for their units).

    labels: (n,) ints indexing ``class_names``.  centre: (n, 2) pixels ``(x, y)``.
    scale, stroke_width: (n,) pixels, positive.  rotation: (n,) degrees.
    Returns images (n, size, size) float64 in [0, 1].

    >>> img = render_glyphs([3], [[8.0, 8.0]], [6.0], [0.0], [2.0])  # a plus, 2 px strokes
    >>> float(img[0, 7:9, 4:12].min()), float(img[0, 0].max()), round(float(img.sum()), 2)
    (1.0, 0.0, 41.12)
    """
    names = _check_classes(class_names)
    size = _check_size(size)
    labels = check_array(labels, "labels", ndim=1, dtype_kind="iu")
    n = labels.shape[0]
    _check_pixels(n, size)
    if n and (labels.min() < 0 or labels.max() >= len(names)):
        raise ValueError(f"labels: expected values in [0, {len(names)}), got {describe(labels)}")
    # Bounded ranges keep every coordinate in the glyph frame far from overflow.
    centre = _check_values(centre, "centre", (n, 2), -_FAR, _FAR)
    scale = _check_values(scale, "scale", (n,), 1e-3, _FAR)
    rotation = _check_values(rotation, "rotation", (n,), -_FAR, _FAR)
    width = _check_values(stroke_width, "stroke_width", (n,), 1e-3, _FAR)
    images = np.zeros((n, size, size))
    block = max(1, _BLOCK_PIXELS // (size * size))
    for k, name in enumerate(names):  # a loop over classes, then over blocks of images
        index = np.flatnonzero(labels == k)
        for start in range(0, index.size, block):
            i = index[start : start + block]
            images[i] = _rasterise(name, size, centre[i], scale[i], rotation[i], width[i])
    return images


def draw_glyphs(
    n: int, seed: Any = 0, classes: Sequence[str] | None = None, style: GlyphStyle | None = None
) -> GlyphBatch:
    """``n`` random glyphs: class, position, scale, rotation and stroke width drawn per image.

    classes: names from :data:`CLASS_NAMES` (default: all of them); labels index this tuple.
    style: the parameter ranges (default :class:`GlyphStyle()`). Each parameter is uniform on
    its range and the class uniform over ``classes``. Returns a :class:`GlyphBatch`.

    >>> b = draw_glyphs(2, seed=1, classes=["circle", "L"])
    >>> b.class_names, b.labels.tolist(), b.images.shape, b.centre.shape
    (('circle', 'L'), [0, 1], (2, 16, 16), (2, 2))
    """
    n = check_nonnegative_int(n, "n")
    names = _check_classes(classes)
    style = GlyphStyle() if style is None else style
    if not isinstance(style, GlyphStyle):
        raise TypeError(f"style: expected a GlyphStyle, got {describe(style)}")
    size = style.size
    _check_pixels(n, size)
    rng = check_rng(seed)
    labels = rng.integers(len(names), size=n)  # (n,)
    centre = size / 2 + rng.uniform(-style.shift, style.shift, size=(n, 2)) * size  # (n, 2)
    scale = rng.uniform(*style.scale, size=n) * size
    rotation = rng.uniform(-style.rotation, style.rotation, size=n)
    width = rng.uniform(*style.stroke_width, size=n) * size
    images = render_glyphs(labels, centre, scale, rotation, width, size=size, class_names=names)
    return GlyphBatch(images, labels, names, centre, scale, rotation, width)


def tile(images: Any, n_cols: int, pad: int = 1, pad_value: float = 0.5) -> np.ndarray:
    """Lay images (n, H, W) out in a grid, row by row, for a figure.

    The grid has ``ceil(n / n_cols)`` rows and ``n_cols`` columns, ``pad`` pixels of
    ``pad_value`` between cells, and blank cells at the end filled with ``pad_value``.
    Returns (rows·H + (rows-1)·pad, n_cols·W + (n_cols-1)·pad) float64.

    >>> tile(np.ones((3, 2, 2)), n_cols=2, pad=1, pad_value=0.0)
    array([[1., 1., 0., 1., 1.],
           [1., 1., 0., 1., 1.],
           [0., 0., 0., 0., 0.],
           [1., 1., 0., 0., 0.],
           [1., 1., 0., 0., 0.]])
    """
    imgs = check_array(images, "images", ndim=3, dtype_kind="fiu")
    n, H, W = imgs.shape
    if n == 0:
        raise ValueError("images: expected at least one image, got shape (0, H, W)")
    n_cols = check_positive_int(n_cols, "n_cols")
    pad = check_nonnegative_int(pad, "pad")
    pad_value = check_real(pad_value, "pad_value")
    n_rows = -(-n // n_cols)
    if n_rows * n_cols * (H + pad) * (W + pad) > MAX_PIXELS:
        raise ValueError(
            f"n_cols: a grid of {n_rows} × {n_cols} cells of {H} × {W} pixels exceeds "
            f"{MAX_PIXELS} pixels, got n_cols={n_cols}"
        )
    cells = np.full((n_rows * n_cols, H + pad, W + pad), pad_value)
    cells[:n, :H, :W] = imgs
    grid = cells.reshape(n_rows, n_cols, H + pad, W + pad).transpose(0, 2, 1, 3)
    grid = grid.reshape(n_rows * (H + pad), n_cols * (W + pad))
    return np.ascontiguousarray(grid[: grid.shape[0] - pad, : grid.shape[1] - pad])
