"""Figures and explorers for the whole book, in one style.

- :mod:`~genai_notes.viz.figures`: matplotlib helpers (``use_style``, ``heatmap``,
  ``plot_curves``) and HTML token boxes, with the Okabe-Ito palette ``PALETTE``.
- :mod:`~genai_notes.viz.explorers` and :mod:`~genai_notes.viz.steppers`: explorers, Altair
  charts whose controls (:mod:`~genai_notes.viz.controls`) stay live in the browser.
- :mod:`~genai_notes.viz.curves`: curves on a log scale over a precomputed grid (Chapter 6's
  gradient norm against distance).
- :mod:`~genai_notes.viz.alignment`: cross-attention maps of a trained translator, by
  sentence, layer and head (Chapter 7).
- :mod:`~genai_notes.viz.fill_mask`: a model's fillers for a blank beside the grammar's
  exact answer, by sentence and reader (Chapter 10).
- :mod:`~genai_notes.viz.lora`: LoRA's rank against trainable parameters, accuracy and
  forgetting, from a stored study (Chapter 11).
- :mod:`~genai_notes.viz.latent`: Chapter 12's latent walk of a VAE and the diffusion
  sampler's steps, over precomputed grids.
- :mod:`~genai_notes.viz.next_token`: a trained GPT's next-token distribution beside the
  grammar's exact one, by prompt (Chapter 8).
- :mod:`~genai_notes.viz.decoding`: temperature, top-k and top-p acting on one next-token
  distribution, computed in the browser by Vega-Lite window transforms (Chapter 9).
- :mod:`~genai_notes.viz.display`: :class:`Explorer`, one cell output that JupyterLab, Colab
  and the HTML book all draw.

>>> use_style()
>>> len(PALETTE)
8
"""

from genai_notes.viz.alignment import alignment_explorer
from genai_notes.viz.controls import Checkbox, Select, Slider
from genai_notes.viz.curves import gradient_norm_explorer
from genai_notes.viz.decoding import decoding_explorer
from genai_notes.viz.display import Explorer, explorer_html, explorer_spec
from genai_notes.viz.explorers import (
    attention_explorer,
    distribution_explorer,
    matrix_explorer,
)
from genai_notes.viz.figures import (
    DIVERGING_CMAP,
    PALETTE,
    SEQUENTIAL_CMAP,
    TOKEN_TINTS,
    bar_panels,
    curve_panels,
    figure_html,
    heatmap,
    heatmap_panels,
    plot_curves,
    show_figure,
    token_html,
    use_style,
    visible_piece,
)
from genai_notes.viz.fill_mask import fill_mask_explorer
from genai_notes.viz.latent import diffusion_explorer, latent_walk_explorer
from genai_notes.viz.lora import lora_rank_explorer
from genai_notes.viz.neighbours import neighbour_explorer
from genai_notes.viz.next_token import next_token_explorer
from genai_notes.viz.steppers import TokenView, text_explorer, token_explorer

__all__ = [
    "PALETTE",
    "SEQUENTIAL_CMAP",
    "DIVERGING_CMAP",
    "TOKEN_TINTS",
    "use_style",
    "heatmap",
    "plot_curves",
    "heatmap_panels",
    "bar_panels",
    "curve_panels",
    "visible_piece",
    "token_html",
    "figure_html",
    "show_figure",
    "Slider",
    "Select",
    "Checkbox",
    "Explorer",
    "explorer_spec",
    "explorer_html",
    "distribution_explorer",
    "attention_explorer",
    "neighbour_explorer",
    "matrix_explorer",
    "gradient_norm_explorer",
    "alignment_explorer",
    "next_token_explorer",
    "decoding_explorer",
    "fill_mask_explorer",
    "latent_walk_explorer",
    "diffusion_explorer",
    "lora_rank_explorer",
    "TokenView",
    "token_explorer",
    "text_explorer",
]
