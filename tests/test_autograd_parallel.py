"""The engine's thread pool: every chunk runs once, errors reach the caller, the multi-chunk
code paths of the fused nodes pass finite-difference checks, and training gives bitwise the
same numbers with any number of workers."""

from __future__ import annotations

import multiprocessing
import os
import threading

import numpy as np
import pytest

from genai_notes.autograd import Tensor, _parallel, fused, gradcheck
from genai_notes.gpt import GPT, GPTConfig
from genai_notes.nn import AdamW

RNG = np.random.default_rng(7)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


@pytest.fixture
def workers():
    """Restore the worker count after the test."""
    before = _parallel.num_workers()
    yield _parallel.set_num_workers
    _parallel.set_num_workers(before)


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Cut even test-sized arrays into several chunks (attention: one sequence per block)."""
    monkeypatch.setattr(_parallel, "MIN_CHUNK_ELEMENTS", 1)
    monkeypatch.setattr(fused.attention, "_ATTENTION_BLOCK", 1)


def test_chunk_bounds_cut_a_range_into_near_equal_pieces():
    assert _parallel.chunk_bounds(10, 3) == [0, 4, 7, 10]
    assert _parallel.chunk_bounds(4, 4) == [0, 1, 2, 3, 4]
    assert _parallel.chunk_bounds(7, 1) == [0, 7]


def test_number_of_chunks_depends_on_the_shape_only(workers):
    seen = set()
    for n in (1, 3):
        workers(n)
        seen.add((_parallel.chunks(2048, 64), _parallel.chunks(4, 64), _parallel.chunks(1, 10**6)))
    assert seen == {(2, 1, 1)}


@pytest.mark.parametrize("n_workers", [1, 2, 3])
def test_run_calls_every_chunk_exactly_once(workers, n_workers):
    workers(n_workers)
    calls, lock = [], threading.Lock()

    def record(i: int) -> None:
        with lock:
            calls.append(i)

    _parallel.run(record, 7)
    assert sorted(calls) == list(range(7))


def test_run_reraises_an_error_from_a_worker_and_keeps_working(workers):
    workers(2)

    def fail_on_one(i: int) -> None:
        if i == 1:
            raise KeyError("chunk 1")

    with pytest.raises(KeyError, match="chunk 1"):
        _parallel.run(fail_on_one, 2)
    out = np.zeros(4)
    _parallel.run(lambda i: out.__setitem__(i, i + 1.0), 4)
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0, 4.0])


def test_a_region_started_inside_a_region_runs_serially(workers):
    workers(2)
    out = np.zeros((2, 3))

    def outer(i: int) -> None:
        _parallel.run(lambda j: out.__setitem__((i, j), 10 * i + j), 3)  # must not deadlock

    _parallel.run(outer, 2)
    np.testing.assert_array_equal(out, [[0, 1, 2], [10, 11, 12]])


def _child_uses_the_pool() -> None:
    out = np.zeros(4)
    _parallel.run(lambda i: out.__setitem__(i, 1.0), 4)
    os._exit(0 if out.sum() == 4.0 else 1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_its_own_workers(workers):
    workers(2)
    child = multiprocessing.get_context("fork").Process(target=_child_uses_the_pool)
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_set_num_workers_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="n: expected a positive int"):
        _parallel.set_num_workers(bad)


CHUNKED_CASES = [
    (
        "layer_norm_linear",
        lambda x, g, b, w, c: fused.layer_norm_linear(x, g, b, w, c),
        [rand(2, 3, 5), rand(5), rand(5), rand(5, 4), rand(4)],
    ),
    (
        "layer_norm_linear gelu",
        lambda x, g, b, w, c: fused.layer_norm_linear(x, g, b, w, c, gelu=True),
        [rand(3, 2, 4), rand(4), rand(4), rand(4, 6), rand(6)],
    ),
    (
        "layer_norm_linear wide input (row-split weight gradient)",
        lambda x, g, b, w: fused.layer_norm_linear(x, g, b, w),
        [rand(4, 6), rand(6), rand(6), rand(6, 2)],
    ),
    ("linear_gelu", lambda x, w, b: fused.linear_gelu(x, w, b), [rand(5, 3), rand(3, 4), rand(4)]),
    (
        "linear_residual",
        lambda x, w, b, r: fused.linear_residual(x, w, b, r),
        [rand(2, 3, 6), rand(6, 2), rand(2), rand(2, 3, 2)],
    ),
    (
        "causal self-attention, one sequence per block",
        lambda qkv: fused.multi_head_attention(qkv, None, 2, causal=True),
        [rand(3, 4, 12)],
    ),
    (
        "cross-attention with a padding mask",
        lambda q, kv: fused.multi_head_attention(
            q, kv, 2, mask=np.array([[[True, True, False]], [[True, True, True]]])
        ),
        [rand(2, 2, 4), rand(2, 3, 8)],
    ),
]


@pytest.mark.parametrize(("name", "fn", "inputs"), CHUNKED_CASES, ids=[c[0] for c in CHUNKED_CASES])
def test_chunked_fused_nodes_pass_gradcheck(tiny_chunks, workers, name, fn, inputs):
    workers(2)
    report = gradcheck(fn, inputs)
    assert report.passed, f"{name}: {report}"


@pytest.mark.parametrize(("name", "fn", "inputs"), CHUNKED_CASES, ids=[c[0] for c in CHUNKED_CASES])
def test_chunked_fused_nodes_equal_the_unchunked_ones(monkeypatch, name, fn, inputs):
    def value_and_grads() -> list[np.ndarray]:
        tensors = [Tensor(a, requires_grad=True, dtype=np.float64) for a in inputs]
        out = fn(*tensors)
        out.backward(np.cos(np.arange(out.size)).reshape(out.shape))
        return [out.data] + [t.grad for t in tensors]

    whole = value_and_grads()  # test sizes are far below the chunking threshold: one chunk
    monkeypatch.setattr(_parallel, "MIN_CHUNK_ELEMENTS", 1)
    monkeypatch.setattr(fused.attention, "_ATTENTION_BLOCK", 1)
    assert _parallel.chunks(6, 4) == 2
    for got, want in zip(value_and_grads(), whole):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _train(n_workers: int, config: GPTConfig, batch: int, steps: int) -> list[np.ndarray]:
    _parallel.set_num_workers(n_workers)
    model = GPT(config)  # the configs are fused: the fused nodes are what runs in parallel
    opt = AdamW(model.parameters(), lr=1e-2, weight_decay=0.1, fused=True)
    rng = np.random.default_rng(3)
    idx = rng.integers(0, config.vocab_size, (batch, config.block_size))
    targets = rng.integers(0, config.vocab_size, (batch, config.block_size))
    losses = []
    for _ in range(steps):
        loss = model.loss(idx, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data.copy())
    return losses + [p.data.copy() for p in model.parameters()]


@pytest.mark.parametrize(
    ("config", "batch"),
    [
        (GPTConfig(vocab_size=11, block_size=8, n_layers=2, n_heads=2, d_model=16, fused=True), 3),
        # the benchmark's small configuration: chunked at the real thresholds
        (
            GPTConfig(vocab_size=65, block_size=64, n_layers=2, n_heads=4, d_model=64, fused=True),
            32,
        ),
    ],
    ids=["tiny chunks", "benchmark size"],
)
def test_training_is_bitwise_identical_for_any_number_of_workers(
    monkeypatch, workers, config, batch
):
    if config.d_model == 16:
        monkeypatch.setattr(_parallel, "MIN_CHUNK_ELEMENTS", 1)
        monkeypatch.setattr(fused.attention, "_ATTENTION_BLOCK", 1)
    runs = [_train(n, config, batch, steps=3) for n in (1, 2, 3)]
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            np.testing.assert_array_equal(a, b)
    assert runs[0][2] < runs[0][0]  # and it trains
