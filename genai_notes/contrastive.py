"""Contrastive alignment of glyphs and their captions, CLIP-style, and zero-shot classification.

Chapter 12's outlook on multimodal models. Two encoders map an image and a caption into the
same space of unit vectors; training pulls each image towards its own caption and away from
the others in the batch, with the **symmetric InfoNCE** loss (the loss of CLIP, Radford et
al., 2021). For a batch of ``n`` matching pairs with image vectors ``a_i`` and caption vectors
``b_j``, the similarity matrix is ``S_ij = a_i · b_j / τ`` (``τ``, the temperature), and

.. math::

    L = \\tfrac12 \\Big( \\tfrac1n \\sum_i −\\log \\operatorname{softmax}_j(S_{ij})_{j=i}
        + \\tfrac1n \\sum_j −\\log \\operatorname{softmax}_i(S_{ij})_{i=j} \\Big):

a cross-entropy over each row (which caption is this image's?) and over each column (which
image is this caption's?), the right answers on the diagonal.

**Captions.** A glyph's caption is ``"<width> <shape>"``: ``"thin"`` or ``"thick"`` strokes
(drawn with separate stroke-width ranges, so the word is always right) and the class name.
The caption encoder is a bag of words, one learned vector per word summed, so ``"thick
triangle"`` is encoded from the vectors of ``"thick"`` and ``"triangle"`` even if that caption
never occurred in training. Holding some captions out of training and classifying their
images afterwards is then a real zero-shot test: the classifier is built from caption text
alone, for captions the model never saw paired with an image.

>>> names = caption_names(["circle", "L"])
>>> names
['thin circle', 'thick circle', 'thin L', 'thick L']
>>> bag_of_words(names[:2], ["thin", "thick", "circle", "L"]).tolist()
[[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genai_notes._checks import (
    check_array,
    check_positive_int,
    check_real,
    check_rng,
    check_shape,
    check_str,
    describe,
)
from genai_notes.autograd import Tensor, no_grad, power
from genai_notes.autograd.functional import cross_entropy
from genai_notes.autograd.shape_ops import transpose
from genai_notes.data.glyphs import CLASS_NAMES, GlyphStyle, draw_glyphs
from genai_notes.nn import AdamW, Linear, Module
from genai_notes.vae import MLP

__all__ = [
    "WIDTHS",
    "caption_names",
    "caption_vocabulary",
    "bag_of_words",
    "draw_captioned_glyphs",
    "symmetric_infonce",
    "ContrastiveConfig",
    "ContrastiveModel",
    "ContrastiveHistory",
    "train_contrastive",
    "zero_shot_predict",
]

# Stroke width / image side for each width word (GlyphStyle's units); the ranges do not meet.
WIDTHS: dict[str, tuple[float, float]] = {"thin": (0.05, 0.07), "thick": (0.10, 0.13)}


def caption_names(classes: Sequence[str] = CLASS_NAMES) -> list[str]:
    """Every caption ``"<width> <class>"``, class by class, ``thin`` before ``thick``."""
    return [f"{w} {c}" for c in classes for w in WIDTHS]


def caption_vocabulary(classes: Sequence[str] = CLASS_NAMES) -> list[str]:
    """The caption encoder's words: the width words, then the class names."""
    return [*WIDTHS, *classes]


def bag_of_words(captions: Sequence[str], vocabulary: Sequence[str]) -> np.ndarray:
    """Word counts of each caption over ``vocabulary``: ``(n_captions, vocab_size)`` float64."""
    vocab = {check_str(w, "vocabulary"): i for i, w in enumerate(vocabulary)}
    if isinstance(captions, str):
        raise TypeError(f"captions: expected a sequence of strings, got {describe(captions)}")
    out = np.zeros((len(captions), len(vocab)))
    for row, caption in enumerate(captions):  # a loop over captions (a handful), not tokens
        for word in check_str(caption, "captions").split():
            if word not in vocab:
                raise ValueError(f"captions: the word {word!r} is not in the vocabulary")
            out[row, vocab[word]] += 1.0
    return out


def draw_captioned_glyphs(
    caption_ids: Any, captions: Sequence[str], seed: Any = 0, size: int = 16
) -> np.ndarray:
    """One random glyph per entry of ``caption_ids`` (indices into ``captions``), drawn with
    the caption's stroke-width range and class. Returns images ``(n, size · size)``."""
    ids = check_array(caption_ids, "caption_ids", ndim=1, dtype_kind="iu")
    if ids.size and (ids.min() < 0 or ids.max() >= len(captions)):
        raise ValueError(
            f"caption_ids: expected indices below {len(captions)}, got {describe(ids)}"
        )
    rng = check_rng(seed)
    out = np.zeros((ids.size, size * size))
    for k in np.unique(ids):  # a loop over the distinct captions, each drawn in one call
        width, shape = check_str(captions[k], "captions").split()
        rows = np.flatnonzero(ids == k)
        style = GlyphStyle(size=size, stroke_width=WIDTHS[width])
        out[rows] = draw_glyphs(rows.size, rng, classes=[shape], style=style).images.reshape(
            rows.size, -1
        )
    return out


def symmetric_infonce(similarity: Tensor, temperature: float = 1.0) -> Tensor:
    """The symmetric InfoNCE loss of similarity matrices whose matching pairs are diagonal.

    similarity: ``(n, n)`` or ``(groups, n, n)`` Tensor, entry ``[i, j]`` = image i · caption
    j. Divided by ``temperature``, then the mean of the row-wise and the column-wise
    cross-entropy with targets ``i``. A scalar Tensor, in nats; ``log n`` for all-equal
    similarities.

    >>> round(symmetric_infonce(Tensor(np.zeros((3, 3)), dtype=np.float64)).item(), 4)
    1.0986
    """
    if not isinstance(similarity, Tensor):
        raise TypeError(f"similarity: expected a Tensor, got {describe(similarity)}")
    if similarity.ndim not in (2, 3) or similarity.shape[-1] != similarity.shape[-2]:
        raise ValueError(
            f"similarity: expected shape (n, n) or (groups, n, n), got {similarity.shape}"
        )
    tau = check_real(temperature, "temperature", low=0.0, low_inclusive=False)
    logits = similarity * (1.0 / tau)
    n = logits.shape[-1]
    targets = np.broadcast_to(np.arange(n), logits.shape[:-1])
    axes = (1, 0) if logits.ndim == 2 else (0, 2, 1)
    rows = cross_entropy(logits, targets)  # each image picks its caption
    cols = cross_entropy(transpose(logits, axes), targets)  # each caption picks its image
    return 0.5 * (rows + cols)


def _unit(x: Tensor) -> Tensor:
    """Each row divided by its length, ``(..., d)``."""
    return x * power((x * x).sum(axis=-1, keepdims=True) + 1e-12, -0.5)


@dataclass
class ContrastiveConfig:
    d_image: int = 256  # pixels per glyph
    vocab_size: int = 10  # words the caption encoder knows
    d_hidden: int = 128  # width of the image encoder's hidden layer
    d_embed: int = 16  # size of the shared space
    temperature: float = 0.1  # τ, fixed here (CLIP learns it)

    def __post_init__(self) -> None:
        for name in ("d_image", "vocab_size", "d_hidden", "d_embed"):
            setattr(self, name, check_positive_int(getattr(self, name), name))
        self.temperature = check_real(self.temperature, "temperature", low=0.0,
                                      low_inclusive=False)  # fmt: skip


class ContrastiveModel(Module):
    """An image encoder (an MLP) and a caption encoder (a bag of words times a matrix, so one
    vector per word, summed), each followed by normalisation to unit length."""

    def __init__(self, config: ContrastiveConfig, *, rng: Any) -> None:
        if not isinstance(config, ContrastiveConfig):
            raise TypeError(f"config: expected a ContrastiveConfig, got {describe(config)}")
        self.config = c = config
        g = check_rng(rng, "rng")
        self.image_encoder = MLP([c.d_image, c.d_hidden, c.d_embed], rng=g)
        self.text_encoder = Linear(c.vocab_size, c.d_embed, bias=False, rng=g)

    def _tensor(self, x: Any, name: str, width: int) -> Tensor:
        t = x if isinstance(x, Tensor) else Tensor(check_array(x, name, dtype_kind="fiu"),
                                                   dtype=self.text_encoder.weight.dtype)  # fmt: skip
        if t.ndim < 2 or t.shape[-1] != width:
            raise ValueError(f"{name}: expected shape (..., {width}), got {t.shape}")
        return t

    def embed_images(self, images: Any) -> Tensor:
        """images: ``(..., d_image)`` -> unit vectors ``(..., d_embed)``."""
        return _unit(self.image_encoder(self._tensor(images, "images", self.config.d_image)))

    def embed_texts(self, bags: Any) -> Tensor:
        """bags of words: ``(n, vocab_size)`` -> unit vectors ``(n, d_embed)``."""
        return _unit(self.text_encoder(self._tensor(bags, "bags", self.config.vocab_size)))

    def loss(self, images: Any, bags: Any) -> Tensor:
        """images ``(groups, n, d_image)``, image ``i`` of each group matching caption ``i``
        of bags ``(n, vocab_size)``: the symmetric InfoNCE loss of their similarities."""
        a = self.embed_images(images)  # (groups, n, d_embed)
        b = self.embed_texts(bags)  # (n, d_embed)
        return symmetric_infonce(a @ transpose(b, (1, 0)), self.config.temperature)


@dataclass
class ContrastiveHistory:
    """The loss of :func:`train_contrastive` at every step."""

    loss: list[float] = field(default_factory=list)


def train_contrastive(
    model: ContrastiveModel,
    images: Any,
    caption_ids: Any,
    bags: Any,
    steps: int,
    groups: int = 8,
    lr: float = 3e-3,
    seed: int = 0,
) -> ContrastiveHistory:
    """Train on a pool of glyphs ``images`` ``(n, d_image)`` whose captions are
    ``caption_ids`` ``(n,)``, indices into the rows of ``bags`` ``(k, vocab_size)``.

    Each step draws ``groups`` batches holding one random pool glyph of every caption, so no
    two pairs in a batch share a caption; every caption needs at least one glyph.
    """
    if not isinstance(model, ContrastiveModel):
        raise TypeError(f"model: expected a ContrastiveModel, got {describe(model)}")
    pool = check_shape(check_array(images, "images", ndim=2, dtype_kind="fiu"), "images",
                       (None, model.config.d_image))  # fmt: skip
    ids = check_shape(check_array(caption_ids, "caption_ids", ndim=1, dtype_kind="iu"),
                      "caption_ids", (pool.shape[0],))  # fmt: skip
    words = check_shape(check_array(bags, "bags", ndim=2, dtype_kind="fiu"), "bags",
                        (None, model.config.vocab_size))  # fmt: skip
    k = words.shape[0]
    members = [np.flatnonzero(ids == c) for c in range(k)]
    if ids.size and (ids.min() < 0 or ids.max() >= k) or any(m.size == 0 for m in members):
        raise ValueError(f"caption_ids: expected every caption 0..{k - 1} at least once")
    steps = check_positive_int(steps, "steps")
    groups = check_positive_int(groups, "groups")
    lr = check_real(lr, "lr", low=0.0, low_inclusive=False)
    rng = check_rng(seed)
    optimizer = AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    history = ContrastiveHistory()
    for _ in range(steps):
        picks = np.stack([m[rng.integers(m.size, size=groups)] for m in members], axis=1)
        loss = model.loss(pool[picks], words)  # picks: (groups, k) pool rows
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.loss.append(loss.item())
    return history


def zero_shot_predict(model: ContrastiveModel, images: Any, bags: Any) -> np.ndarray:
    """For each image ``(n, d_image)``, the index of the most similar caption among ``bags``
    ``(k, vocab_size)``: classification from caption text alone. Returns ``(n,)`` int64."""
    with no_grad():
        a = model.embed_images(images).data  # (n, d_embed)
        b = model.embed_texts(bags).data  # (k, d_embed)
    return np.argmax(a @ b.T, axis=1).astype(np.int64)
