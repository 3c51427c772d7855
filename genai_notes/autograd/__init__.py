"""A small reverse-mode autograd engine in NumPy, with the layers, optimisers and GPT
built on it. Read the modules in this order:

1. :mod:`~genai_notes.autograd.tensor`: the ``Tensor`` and ``backward``;
2. :mod:`~genai_notes.autograd.ops` and :mod:`~genai_notes.autograd.shape_ops`: basic ops;
3. :mod:`~genai_notes.autograd.functional`: fused ops (softmax, layer norm, cross-entropy,
   attention) with hand-derived gradients;
4. :mod:`~genai_notes.autograd.gradcheck`: checking gradients with finite differences;
5. :mod:`~genai_notes.autograd.nn` and :mod:`~genai_notes.autograd.transformer`: modules;
6. :mod:`~genai_notes.autograd.gpt`: the GPT model;
7. :mod:`~genai_notes.autograd.optim` and :mod:`~genai_notes.autograd.training`;
8. for speed: :mod:`~genai_notes.autograd.fused` (transformer nodes that save passes over
   memory), :mod:`~genai_notes.autograd._parallel` (a small thread pool that shares each
   node's work among the CPU cores; :func:`set_num_workers` sets its size) and
   :mod:`~genai_notes.autograd._malloc` (memory reuse between steps).

>>> x = Tensor([3.0], requires_grad=True)
>>> y = (x * x + 2.0 * x).sum()      # dy/dx = 2x + 2 = 8
>>> y.backward(); x.grad
array([8.], dtype=float32)
"""

from genai_notes.autograd import functional, fused
from genai_notes.autograd._malloc import keep_freed_memory
from genai_notes.autograd._parallel import num_workers, set_num_workers
from genai_notes.autograd.functional import (
    cross_entropy,
    layer_norm,
    linear,
    log_softmax,
    scaled_dot_product_attention,
    softmax,
)
from genai_notes.autograd.fused import layer_norm_linear, linear_gelu, multi_head_attention
from genai_notes.autograd.gpt import GPT, GPTConfig
from genai_notes.autograd.gradcheck import GradcheckReport, gradcheck
from genai_notes.autograd.nn import Dropout, Embedding, LayerNorm, Linear, Module, Parameter
from genai_notes.autograd.ops import (
    add,
    div,
    exp,
    gelu,
    log,
    matmul,
    mean,
    mul,
    power,
    relu,
    sub,
    tanh,
)
from genai_notes.autograd.ops import sum as sum_  # noqa: F401 (``sum`` would shadow a builtin)
from genai_notes.autograd.optim import SGD, AdamW, Optimizer, clip_grad_norm, warmup_cosine_lr
from genai_notes.autograd.shape_ops import (
    concatenate,
    dropout,
    embedding,
    getitem,
    masked_fill,
    reshape,
    split,
    transpose,
)
from genai_notes.autograd.tensor import Tensor, as_tensor, is_grad_enabled, no_grad
from genai_notes.autograd.training import History, evaluate, train
from genai_notes.autograd.transformer import Block, FeedForward, MultiHeadAttention

__all__ = [
    "Tensor", "no_grad", "is_grad_enabled", "as_tensor",
    "add", "sub", "mul", "div", "power", "matmul", "mean", "exp", "log", "tanh", "relu",
    "gelu", "reshape", "transpose", "getitem", "embedding", "concatenate", "split",
    "masked_fill", "dropout",
    "functional", "linear", "softmax", "log_softmax", "layer_norm", "cross_entropy",
    "scaled_dot_product_attention",
    "fused", "linear_gelu", "layer_norm_linear", "multi_head_attention",
    "gradcheck", "GradcheckReport",
    "Module", "Parameter", "Linear", "Embedding", "LayerNorm", "Dropout",
    "FeedForward", "MultiHeadAttention", "Block",
    "GPT", "GPTConfig",
    "Optimizer", "SGD", "AdamW", "clip_grad_norm", "warmup_cosine_lr",
    "train", "evaluate", "History",
    "set_num_workers", "num_workers",
]  # fmt: skip

keep_freed_memory()  # see _malloc.py: avoids a page fault per reused page on every step
