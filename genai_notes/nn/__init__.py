"""Neural-network building blocks on the autograd engine (:mod:`genai_notes.autograd`).
Read the modules in this order:

1. :mod:`~genai_notes.nn.module`: ``Module`` and ``Parameter`` (finding parameters,
   train/eval mode, state dicts, ``.npz`` files);
2. :mod:`~genai_notes.nn.layers`: ``Linear``, ``Embedding``, ``LayerNorm``, ``Dropout``;
3. :mod:`~genai_notes.nn.transformer`: ``FeedForward``, ``MultiHeadAttention`` and the
   pre-LN ``Block``, plain compositions of the engine's ops;
4. :mod:`~genai_notes.nn.optim`: ``SGD``, ``AdamW``, gradient clipping and the warm-up +
   cosine learning-rate schedule;
5. :mod:`~genai_notes.nn.training`: ``train`` and ``evaluate``;
6. for speed, read last: :mod:`~genai_notes.nn.fused_blocks`, the same block through the
   engine's fused nodes.

>>> layer = Linear(3, 2, rng=0)
>>> layer(Tensor(np.ones((4, 3)))).shape
(4, 2)
"""

import numpy as np  # noqa: F401 (for the doctest above)

from genai_notes.autograd import Tensor  # noqa: F401 (for the doctest above)
from genai_notes.nn.fused_blocks import FusedBlock, fused_lm_logits
from genai_notes.nn.layers import Dropout, Embedding, LayerNorm, Linear
from genai_notes.nn.module import Module, Parameter
from genai_notes.nn.optim import SGD, AdamW, Optimizer, clip_grad_norm, warmup_cosine_lr
from genai_notes.nn.training import History, evaluate, train
from genai_notes.nn.transformer import Block, FeedForward, MultiHeadAttention

__all__ = [
    # modules and parameters
    "Module", "Parameter",
    # layers
    "Linear", "Embedding", "LayerNorm", "Dropout",
    # transformer blocks
    "FeedForward", "MultiHeadAttention", "Block", "FusedBlock", "fused_lm_logits",
    # optimisers and schedules
    "Optimizer", "SGD", "AdamW", "clip_grad_norm", "warmup_cosine_lr",
    # training
    "train", "evaluate", "History",
]  # fmt: skip
