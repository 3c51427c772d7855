"""A tiny persistent thread pool that spreads a node's work over the CPU cores.

Why threads help a NumPy engine: a NumPy ufunc runs on one core, while PyTorch runs its
kernels on every core. NumPy releases the GIL inside ufunc loops and inside matrix
products, so two Python threads that each work on half of the rows of an activation run
at the same time. The fused nodes of :mod:`~genai_notes.autograd.fused` and the AdamW
update cut their work into **chunks** (row blocks of the activations, column blocks of a
weight gradient, blocks of sequences for attention) and hand them to :func:`run`.

What it buys depends on the work. Matrix products and ``tanh`` scale well: on the 2-core
machine of ``benchmarks/README.md`` two row blocks in two threads multiply about 1.7x
faster than one OpenBLAS call with two threads, and the GPT training step is about 1.5x
faster with 2 workers than with 1. Simple passes (``a * b``, ``a + b``) barely speed up there:
they are limited by what the two cores share (measure on your machine with
``set_num_workers``). The handover costs about 10 µs, so small arrays are not split.

Determinism: the chunks depend only on the array shapes (see :func:`chunks`), never on the
number of workers, and every chunk is computed by the same code whichever thread runs it.
So a step gives bitwise the same numbers with 1 worker or with 8 (``tests`` check this).

BLAS threads: OpenBLAS has its own thread pool for large products, and its idle threads
spin for a while before they sleep. Two pools on two cores fight: measured on the small GPT
of ``benchmarks/bench_train_step.py``, a step took 17 ms with single-threaded BLAS and 24 ms
when the engine's workers shared the cores with OpenBLAS's spinning threads. So while the
engine's pool has more than one worker, every BLAS call the engine makes is single-threaded,
through OpenBLAS's per-thread setting ``openblas_set_num_threads_local`` (OpenBLAS >=
0.3.27): :func:`blas_single` around parallel regions, the fused nodes and the whole backward
pass. NumPy code outside the engine keeps its usual BLAS threads.

Nothing happens on import: the engine starts with one worker (no thread, no OpenBLAS
lookup). :func:`set_num_workers` starts the pool, and :func:`genai_notes.autograd.speed.enable_speedups`
(called by :func:`genai_notes.nn.train` and the benchmarks) starts it with
:func:`default_workers` workers: the CPU cores the process may use, at most :data:`MAX_CHUNKS`
(more could not get work), or the environment variable ``GENAI_NOTES_WORKERS`` (``1`` keeps
the pool off).

>>> out = np.zeros(6)
>>> def fill(i):
...     out[bounds[i]:bounds[i + 1]] = i
>>> bounds = chunk_bounds(6, 3)
>>> run(fill, 3); out
array([0., 0., 1., 1., 2., 2.])
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "set_num_workers",
    "num_workers",
    "run",
    "chunk_bounds",
    "chunks",
    "blas_single",
    "single_blas_thread",
    "default_workers",
]

# Split an activation only if each chunk keeps at least this many elements: below it the
# hand-over between threads (tens of microseconds) costs more than the work it shares.
MIN_CHUNK_ELEMENTS = 1 << 14
# Number of chunks an activation is cut into at most. It is a constant (not the number of
# workers) so that results never depend on the worker count; 2 suits a 2-core machine.
# Changing it moves chunk boundaries, which may change results in the last bit.
MAX_CHUNKS = 2


def _load_blas_local() -> Callable[[int], int] | None:
    """OpenBLAS's ``openblas_set_num_threads_local`` from NumPy's bundled library, or None."""
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")
    for path in sorted(glob.glob(libs)):
        try:
            fn = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        fn.argtypes = (ctypes.c_int,)
        fn.restype = ctypes.c_int
        return fn
    return None


# Looked up when the pool first gets a second worker (never on import).
_blas_local: Callable[[int], int] | None = None
_blas_looked_up = False


class blas_single:  # noqa: N801 (used like a function: ``with blas_single():``)
    """Context manager: BLAS calls of *this thread* run on one core inside the block
    (a no-op when the OpenBLAS setting is unavailable or the pool has one worker)."""

    __slots__ = ("_previous",)

    def __enter__(self) -> None:
        self._previous = None
        if _blas_local is not None and _state.workers > 1:
            self._previous = _blas_local(1)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            _blas_local(self._previous)


F = TypeVar("F", bound=Callable[..., Any])


def single_blas_thread(fn: F) -> F:
    """Decorator: run ``fn`` inside :func:`blas_single` (for the engine's heavy ops)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with blas_single():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class _State:
    workers = 1
    threads: list[tuple[threading.Thread, queue.SimpleQueue]] = []
    lock = threading.Lock()
    pid = os.getpid()  # a forked child has no worker threads: it starts its own
    local = threading.local()  # .busy: this thread is inside a parallel region


_state = _State()


def _worker(tasks: queue.SimpleQueue) -> None:
    if _blas_local is not None:
        _blas_local(1)  # this thread only ever does a share of a parallel region
    _state.local.busy = True  # a region started from a task runs serially (no deadlock)
    while True:
        item = tasks.get()
        if item is None:
            return
        fn, indices, done = item
        try:
            for i in indices:
                fn(i)
        except BaseException as exc:  # handed to the caller, raised there
            done.put(exc)
        else:
            done.put(None)


def set_num_workers(n: int) -> None:
    """Use ``n`` threads (the caller's included) for the engine's parallel regions.

    ``n = 1`` stops the pool's threads; ``n > 1`` starts ``n - 1`` threads and looks up
    OpenBLAS's per-thread setting (see the module docstring)."""
    global _blas_local, _blas_looked_up
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: expected a positive int, got {n!r}")
    if n > 1 and not _blas_looked_up:
        _blas_local, _blas_looked_up = _load_blas_local(), True
    with _state.lock:
        for _, tasks in _state.threads:
            tasks.put(None)
        for thread, _ in _state.threads:
            thread.join()
        _state.threads = []
        for _ in range(n - 1):
            tasks: queue.SimpleQueue = queue.SimpleQueue()
            thread = threading.Thread(target=_worker, args=(tasks,), daemon=True)
            thread.start()
            _state.threads.append((thread, tasks))
        _state.workers = n
        _state.pid = os.getpid()


def num_workers() -> int:
    """The number of threads the engine's parallel regions use."""
    return _state.workers


def default_workers() -> int:
    """``GENAI_NOTES_WORKERS`` if set, else the usable cores, at most MAX_CHUNKS."""
    env = os.environ.get("GENAI_NOTES_WORKERS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"GENAI_NOTES_WORKERS: expected a positive int, got {env!r}") from None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_CHUNKS))


def chunk_bounds(n: int, parts: int) -> list[int]:
    """``parts + 1`` boundaries that cut ``range(n)`` into near-equal consecutive pieces.

    >>> chunk_bounds(10, 3)
    [0, 4, 7, 10]
    """
    base, extra = divmod(n, parts)
    bounds = [0]
    for i in range(parts):
        bounds.append(bounds[-1] + base + (1 if i < extra else 0))
    return bounds


def chunks(n: int, elements_per_item: int) -> int:
    """How many chunks to cut ``n`` items (rows) of ``elements_per_item`` each into:
    a function of the shape only, so results do not depend on the number of workers.

    >>> chunks(2048, 64), chunks(4, 64)
    (2, 1)
    """
    return max(1, min(MAX_CHUNKS, n, (n * elements_per_item) // MIN_CHUNK_ELEMENTS))


def run(fn: Callable[[int], object], n_chunks: int) -> None:
    """Call ``fn(i)`` for ``i`` in ``range(n_chunks)``, spread over the workers; return when
    all are done. The calling thread takes chunks too. Exceptions are re-raised here."""
    if _state.pid != os.getpid():  # in a child process forked after the pool started
        _state.threads, _state.lock = [], threading.Lock()  # the parent's, not ours
        set_num_workers(_state.workers)
    workers = min(_state.workers, n_chunks)
    if workers <= 1 or getattr(_state.local, "busy", False):
        with blas_single():
            for i in range(n_chunks):
                fn(i)
        return
    done: queue.SimpleQueue = queue.SimpleQueue()
    for w in range(1, workers):
        _state.threads[w - 1][1].put((fn, range(w, n_chunks, workers), done))
    error = None
    _state.local.busy = True
    with blas_single():
        try:
            for i in range(0, n_chunks, workers):
                fn(i)
        except BaseException as exc:
            error = exc
        finally:
            _state.local.busy = False
    for _ in range(1, workers):
        result = done.get()
        error = error or result
    if error is not None:
        raise error
