"""A small reverse-mode autograd engine in NumPy: the engine only. The layers, optimisers
and training loop built on it are in :mod:`genai_notes.nn`, and the models in top-level
modules such as :mod:`genai_notes.gpt`. Read the modules in this order:

1. :mod:`~genai_notes.autograd.tensor`: the ``Tensor`` and ``backward``;
2. :mod:`~genai_notes.autograd.ops` and :mod:`~genai_notes.autograd.shape_ops`: the basic ops,
   each with its backward rule beside it, and :mod:`~genai_notes.autograd.operators`, which
   makes ``a + b``, ``a @ b`` and ``x[i]`` call them;
3. :mod:`~genai_notes.autograd.functional`: closed-form gradients (linear, softmax, layer
   norm, cross-entropy, attention), one graph node each;
4. :mod:`~genai_notes.autograd.gradcheck`: checking gradients with finite differences;
5. for speed, read last: :mod:`~genai_notes.autograd.fused` (kernels that compute the same
   numbers with fewer passes, each tested against its plain version) and
   :mod:`~genai_notes.autograd.speed` (a thread pool and memory reuse, off until
   :func:`enable_speedups` turns them on).

Importing the engine changes nothing outside it: no thread starts and no process-wide
setting is made.

>>> x = Tensor([3.0], requires_grad=True)
>>> y = (x * x + 2.0 * x).sum()      # dy/dx = 2x + 2 = 8
>>> y.backward(); x.grad
array([8.], dtype=float32)
"""

# The tensor and its ops
from genai_notes.autograd.tensor import Tensor, as_tensor, is_grad_enabled, no_grad  # isort: skip
from genai_notes.autograd import operators  # noqa: F401  # isort: skip (attaches a + b, a @ b, ...)
from genai_notes.autograd import functional, fused
from genai_notes.autograd._parallel import num_workers, set_num_workers
from genai_notes.autograd.functional import (
    cross_entropy,
    layer_norm,
    linear,
    log_softmax,
    scaled_dot_product_attention,
    softmax,
)
from genai_notes.autograd.gradcheck import GradcheckReport, gradcheck
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
from genai_notes.autograd.speed import Speedups, enable_speedups

__all__ = [
    # the tensor and the graph
    "Tensor", "no_grad", "is_grad_enabled", "as_tensor",
    # element-wise ops, products and reductions (ops.py)
    "add", "sub", "mul", "div", "power", "matmul", "mean", "exp", "log", "tanh", "relu",
    "gelu",
    # shape ops (shape_ops.py)
    "reshape", "transpose", "getitem", "embedding", "concatenate", "split",
    "masked_fill", "dropout",
    # closed-form gradients (functional.py)
    "functional", "linear", "softmax", "log_softmax", "layer_norm", "cross_entropy",
    "scaled_dot_product_attention",
    # checking gradients
    "gradcheck", "GradcheckReport",
    # speed: kernels, the thread pool and memory reuse
    "fused", "enable_speedups", "Speedups", "set_num_workers", "num_workers",
]  # fmt: skip
