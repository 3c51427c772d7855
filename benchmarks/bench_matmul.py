"""NumPy's BLAS against PyTorch's on the matrix products of one GPT training step.

Most of a training step of ``bench_train_step.py``'s GPT is matrix products, so the speed of
the BLAS library underneath bounds the whole step. NumPy's wheels ship OpenBLAS; PyTorch's CPU
wheels use Intel MKL. This script times the same float32 products in both, one thread each
(so that thread pools do not blur the comparison), for the shapes of the ``large``
configuration: a forward product ``x @ W``, an input gradient ``g @ Wᵀ`` and a weight
gradient ``xᵀ @ g``, for the attention projection and both feed-forward layers.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_matmul.py
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_train_step import median_seconds  # this folder is on sys.path when run

TOKENS = 16 * 128  # batch x block of the large configuration
D_MODEL = 128
# (name, rows of the left operand, inner size, columns, which operand is stored transposed)
SHAPES = [
    ("qkv forward   x @ W", TOKENS, D_MODEL, 3 * D_MODEL, None),
    ("ffn in fwd    x @ W", TOKENS, D_MODEL, 4 * D_MODEL, None),
    ("ffn out fwd   x @ W", TOKENS, 4 * D_MODEL, D_MODEL, None),
    ("ffn in dx     g @ Wᵀ", TOKENS, 4 * D_MODEL, D_MODEL, "right"),
    ("ffn in dW     xᵀ @ g", D_MODEL, TOKENS, 4 * D_MODEL, "left"),
    ("ffn out dW    xᵀ @ g", 4 * D_MODEL, TOKENS, D_MODEL, "left"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    else:
        torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else ""))
    print(f"{'product':22} {'numpy GFLOP/s':>14} {'torch GFLOP/s':>14} {'numpy/torch':>12}")
    for name, m, k, n, transposed in SHAPES:
        # A transposed operand is stored the other way round, as activations and weights are,
        # and read through a transposed view, as the engine does.
        left = rng.standard_normal((k, m) if transposed == "left" else (m, k), dtype=np.float32)
        right = rng.standard_normal((n, k) if transposed == "right" else (k, n), dtype=np.float32)
        if transposed == "left":
            left = left.T
        if transposed == "right":
            right = right.T
        flops = 2.0 * m * k * n
        numpy_rate = flops / median_seconds(lambda a=left, b=right: a @ b, 3, args.repeats) / 1e9
        row = f"{name:22} {numpy_rate:14.1f}"
        if torch is not None:
            # from_numpy keeps the strides, so torch reads the same transposed views
            t_left, t_right = torch.from_numpy(left), torch.from_numpy(right)
            torch_rate = (
                flops / median_seconds(lambda a=t_left, b=t_right: a @ b, 3, args.repeats) / 1e9
            )
            row += f" {torch_rate:14.1f} {numpy_rate / torch_rate:12.2f}"
        print(row)


if __name__ == "__main__":
    main()
