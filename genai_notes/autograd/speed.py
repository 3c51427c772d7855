"""The engine's process-wide speed settings, off until something asks for them.

Two settings make training steps faster but reach beyond the engine, so ``import
genai_notes.autograd`` makes neither of them:

* a **thread pool** (:mod:`~genai_notes.autograd._parallel`): the fused nodes and AdamW share
  their work among the CPU cores, and OpenBLAS runs one thread per worker. It starts threads
  and changes a setting of the BLAS library that NumPy loaded.
* **memory reuse** (:mod:`~genai_notes.autograd._malloc`): glibc keeps freed memory for the
  next step instead of returning it to the kernel (a setting of the whole process).

:func:`enable_speedups` turns both on. :func:`genai_notes.nn.train` calls it before its first
step, and so do the benchmarks; pass ``speedups=False`` to ``train``, or set the environment
variable ``GENAI_NOTES_SPEEDUPS=0``, to keep the process as it was. ``GENAI_NOTES_WORKERS=N``
and ``GENAI_NOTES_KEEP_MEMORY=0`` set the two parts one at a time. Results do not depend on
either setting: the engine splits its work by array shapes, never by the number of workers.

>>> enable_speedups(workers=1, keep_memory=False).workers   # one worker: no pool threads
1
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from genai_notes._checks import check_positive_int
from genai_notes.autograd import _malloc, _parallel

__all__ = ["Speedups", "enable_speedups", "SPEEDUPS_ENV_VAR"]

SPEEDUPS_ENV_VAR = "GENAI_NOTES_SPEEDUPS"  # "0" makes enable_speedups do nothing


@dataclass(frozen=True)
class Speedups:
    """What :func:`enable_speedups` left in force."""

    workers: int  # threads sharing the engine's parallel regions (1: no pool)
    keep_memory: bool  # glibc keeps freed memory for reuse


_memory_kept = False


def enable_speedups(workers: int | None = None, keep_memory: bool = True) -> Speedups:
    """Start the thread pool with ``workers`` threads (None: the usable cores, at most 2, or
    ``GENAI_NOTES_WORKERS``) and, if ``keep_memory``, ask glibc to reuse freed memory.

    Calling it again is cheap: the pool is restarted only if its size changes. With
    ``GENAI_NOTES_SPEEDUPS=0`` in the environment it changes nothing and reports the
    current state.
    """
    global _memory_kept
    if os.environ.get(SPEEDUPS_ENV_VAR) == "0":
        return Speedups(_parallel.num_workers(), _memory_kept)
    n = _parallel.default_workers() if workers is None else check_positive_int(workers, "workers")
    if n != _parallel.num_workers():
        _parallel.set_num_workers(n)
    if keep_memory and not _memory_kept:
        _memory_kept = _malloc.keep_freed_memory()
    return Speedups(_parallel.num_workers(), _memory_kept)
