"""Speed kernels: the engine's fast versions of what the chapters teach.

Everything a chapter quotes is written plainly elsewhere: the ops in
:mod:`~genai_notes.autograd.ops`, the closed-form gradients in
:mod:`~genai_notes.autograd.functional`, attention in :mod:`genai_notes.attention`, AdamW in
:mod:`genai_notes.nn.optim`. The nodes here compute the same numbers with fewer passes over
memory, because in NumPy a pass over a large array costs about as much as a small matrix
product. Each is tested against its plain version (``tests/test_autograd_fused.py``,
``tests/test_optim.py``) and by finite differences.

* :mod:`.linear`: ``r + x W + b`` summed in the product's output (:func:`linear_residual`),
  and ``gelu(x W + b)`` in cache-sized blocks (:func:`linear_gelu`);
* :mod:`.layer_norm`: ``LayerNorm(x) W + b`` with the norm's gain and shift folded into
  ``W`` and ``b`` (:func:`layer_norm_linear`);
* :mod:`.attention`: the attention kernels and multi-head attention as one node
  (:func:`multi_head_attention`);
* :mod:`.cross_entropy`, :mod:`.gelu`, :mod:`.adamw`: cross-entropy, GELU and the AdamW
  update with fewer passes.

The nodes spread their work over the engine's thread pool
(:mod:`~genai_notes.autograd._parallel`) when it is on: forward passes and input gradients on
blocks of rows, weight gradients on blocks of output columns, attention on blocks of
sequences. The blocks depend only on the array shapes, so the numbers do not depend on the
number of threads. The models use these nodes when built with ``fused=True``
(:class:`genai_notes.gpt.GPTConfig`).

>>> x = Tensor(np.ones((2, 3, 4)))
>>> layer_norm_linear(x, Tensor(np.ones(4)), Tensor(np.zeros(4)), Tensor(np.ones((4, 5)))).shape
(2, 3, 5)
"""

import numpy as np  # noqa: F401 (for the doctest above)

from genai_notes.autograd.fused.adamw import FlatAdamW, adamw_update
from genai_notes.autograd.fused.attention import (
    backward_kernel,
    forward_kernel,
    multi_head_attention,
)
from genai_notes.autograd.fused.cross_entropy import cross_entropy
from genai_notes.autograd.fused.gelu import gelu_kernel
from genai_notes.autograd.fused.layer_norm import layer_norm_linear
from genai_notes.autograd.fused.linear import linear_gelu, linear_residual
from genai_notes.autograd.tensor import Tensor  # noqa: F401 (for the doctest above)

__all__ = [
    "linear_residual",
    "linear_gelu",
    "layer_norm_linear",
    "multi_head_attention",
    "cross_entropy",
    "forward_kernel",
    "backward_kernel",
    "gelu_kernel",
    "FlatAdamW",
    "adamw_update",
]
