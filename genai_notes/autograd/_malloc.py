"""Ask glibc to keep freed memory for reuse instead of returning it to the kernel.

A training step allocates and frees tens of megabytes of activations and gradients.
By default glibc gives large freed blocks straight back to the kernel, so the next step
takes a page fault on every 4 KiB page it touches again (measured on the small GPT of
``benchmarks/bench_train_step.py``: about 4,700 faults, roughly a quarter of the step
time). Raising the ``mmap`` and ``trim`` thresholds with ``mallopt`` makes the process reuse
that memory. The setting is process-wide, so importing the engine never makes it:
:func:`genai_notes.autograd.speed.enable_speedups` does (the training loop and the benchmarks
call it); set the environment variable ``GENAI_NOTES_KEEP_MEMORY=0`` to skip it. Elsewhere
than Linux/glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1  # constants from glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(trim_bytes: int = 512 << 20, mmap_bytes: int = 32 << 20) -> bool:
    """Serve allocations below ``mmap_bytes`` from the reusable heap, and keep up to
    ``trim_bytes`` of free heap in the process. Returns True if glibc accepted both."""
    if not sys.platform.startswith("linux") or os.environ.get("GENAI_NOTES_KEEP_MEMORY") == "0":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_bytes)) and bool(
        mallopt(_M_TRIM_THRESHOLD, trim_bytes)
    )
