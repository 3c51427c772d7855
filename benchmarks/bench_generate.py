"""Time autoregressive generation with and without a KV cache: the engine's GPT and, when
PyTorch is installed, the same model (the same weights) in PyTorch eager mode on the CPU.

Usage::

    python benchmarks/bench_generate.py                   # 5 rounds, table at the end
    python benchmarks/bench_generate.py --rounds 3 --batch 8 --no-torch

The model is the "large" configuration of ``bench_train_step.py`` (vocab 65, d_model 128,
4 heads, 4 layers) with ``block_size=256``, so that an 8-token prompt and 200 new tokens fit
in the context (208 <= 256) and no step has to slide the window. Each measurement generates
200 new tokens for ``--batch`` rows (default 1, one reader waiting for one text).

The modes, all in one process, run in turn within each round, so that load from other
processes on the machine hits them alike; the table gives each mode's median over the
rounds, and the ratios are ratios of medians:

* ``engine, recompute (plain)``: ``GPT.generate(..., use_cache=False)`` with
  ``fused=False``, the path the book teaches: every step runs the whole context again;
* ``engine, recompute (fused)``: the same with ``fused=True``, the engine's fastest way to
  run a whole context (the fair baseline: the cache should beat the best recomputation);
* ``engine, KV cache``: ``GPT.generate(..., use_cache=True)``: the prompt once, then one
  position per step (:class:`genai_notes.gpt.KVCache`);
* ``torch, recompute`` and ``torch, KV cache``: the same two algorithms in PyTorch, with
  explicit attention (``q kᵀ``, masked softmax, ``@ v``) and a preallocated cache written in
  place.

**Threads.** Every library gets ``--threads`` threads (default 1): OpenBLAS (set before
NumPy loads), the engine's pool (``enable_speedups(workers=...)``) and PyTorch
(``torch.set_num_threads``). One row of generation is too little work to share, and on the
project's shared 2-core machine a second thread that waits by spinning made PyTorch's
timings swing by 20x (48.8 s against 2.4 s for the same 200 tokens).

Before timing, the PyTorch model's logits are checked against the engine's (same weights).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _threads_from_argv() -> str:
    """The --threads value, read before NumPy is imported (OpenBLAS reads it at load)."""
    for i, arg in enumerate(sys.argv[:-1]):
        if arg == "--threads":
            return sys.argv[i + 1]
    return "1"


for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads_from_argv()

import numpy as np  # noqa: E402

from genai_notes.autograd import enable_speedups  # noqa: E402
from genai_notes.gpt import GPT, GPTConfig  # noqa: E402

CONFIG = {"vocab": 65, "d_model": 128, "n_heads": 4, "n_layers": 4, "block": 256}
PROMPT, NEW_TOKENS = 8, 200


def engine_model(fused: bool) -> GPT:
    c = CONFIG
    return GPT(
        GPTConfig(
            vocab_size=c["vocab"],
            block_size=c["block"],
            n_layers=c["n_layers"],
            n_heads=c["n_heads"],
            d_model=c["d_model"],
            fused=fused,
        )
    )


def torch_generators(engine: GPT, threads: int):
    """PyTorch versions of ``engine`` (its weights copied): a function that generates by
    recomputing, one that uses a KV cache, and one that returns full-sequence logits."""
    import torch

    torch.set_num_threads(threads)
    d, n_heads, block = CONFIG["d_model"], CONFIG["n_heads"], CONFIG["block"]
    d_head = d // n_heads
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a.data))  # noqa: E731
    wte, wpe = t(engine.wte.weight), t(engine.wpe.weight)
    head = t(engine.lm_head.weight)  # (d_model, vocab)
    ln_f = (t(engine.ln_f.weight), t(engine.ln_f.bias))
    layers = []
    for b in engine.blocks:
        layers.append(
            {
                "ln1": (t(b.ln_attn.weight), t(b.ln_attn.bias)),
                "qkv": (t(b.attn.in_proj.weight), t(b.attn.in_proj.bias)),
                "proj": (t(b.attn.out_proj.weight), t(b.attn.out_proj.bias)),
                "ln2": (t(b.ln_ffn.weight), t(b.ln_ffn.bias)),
                "fc": (t(b.ffn.fc_in.weight), t(b.ffn.fc_in.bias)),
                "fc2": (t(b.ffn.fc_out.weight), t(b.ffn.fc_out.bias)),
            }
        )
    F = torch.nn.functional
    ln = lambda x, p: F.layer_norm(x, (d,), p[0], p[1], 1e-5)  # noqa: E731

    def lin(x, p):  # x (..., d_in) @ weight (d_in, d_out) + bias
        return torch.addmm(p[1], x.reshape(-1, x.shape[-1]), p[0]).view(*x.shape[:-1], -1)

    causal = torch.tril(torch.ones(block, block, dtype=torch.bool))

    def forward(idx, caches=None, start=0):
        """logits (batch, n, vocab) of idx (batch, n); with caches, idx follows ``start``
        cached positions and its keys and values are written after them."""
        batch, n = idx.shape
        x = wte[idx] + wpe[start : start + n]
        for layer, p in enumerate(layers):
            qkv = lin(ln(x, p["ln1"]), p["qkv"])
            q, k, v = (z.view(batch, n, n_heads, d_head).transpose(1, 2) for z in qkv.split(d, 2))
            if caches is not None:
                keys, values = caches[layer]
                keys[:, :, start : start + n] = k
                values[:, :, start : start + n] = v
                k, v = keys[:, :, : start + n], values[:, :, : start + n]
            att = (q @ k.transpose(-2, -1)) * d_head**-0.5
            mask = causal[start : start + n, : start + n]
            y = att.masked_fill(~mask, float("-inf")).softmax(dim=-1) @ v
            x = x + lin(y.transpose(1, 2).reshape(batch, n, d), p["proj"])
            h = F.gelu(lin(ln(x, p["ln2"]), p["fc"]), approximate="tanh")
            x = x + lin(h, p["fc2"])
        return ln(x, ln_f) @ head

    def pick(logits, gen):
        return torch.multinomial(logits.softmax(dim=-1), 1, generator=gen)  # (batch, 1)

    def recompute(prompt, n_new):
        gen = torch.Generator().manual_seed(0)
        idx = torch.from_numpy(prompt)
        with torch.inference_mode():
            for _ in range(n_new):
                nxt = pick(forward(idx[:, -block:])[:, -1], gen)
                idx = torch.cat([idx, nxt], dim=1)
        return idx

    def cached(prompt, n_new):
        gen = torch.Generator().manual_seed(0)
        idx = torch.from_numpy(prompt)
        batch = idx.shape[0]
        caches = [
            (torch.zeros(batch, n_heads, block, d_head), torch.zeros(batch, n_heads, block, d_head))
            for _ in layers
        ]
        with torch.inference_mode():
            logits = forward(idx, caches, 0)[:, -1]
            for step in range(n_new):
                nxt = pick(logits, gen)
                idx = torch.cat([idx, nxt], dim=1)
                if step < n_new - 1:
                    logits = forward(nxt, caches, idx.shape[1] - 1)[:, -1]
        return idx

    def full_logits(ids):
        with torch.inference_mode():
            return forward(torch.from_numpy(ids)).numpy()

    return recompute, cached, full_logits


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="threads for every library")
    parser.add_argument("--no-torch", action="store_true", help="time the engine only")
    parser.add_argument(
        "--no-plain", action="store_true", help="skip the (slow) plain recompute mode"
    )
    args = parser.parse_args()
    enable_speedups(workers=args.threads)  # the engine's pool and memory reuse
    plain, fused = engine_model(fused=False), engine_model(fused=True)
    prompt = np.random.default_rng(0).integers(0, CONFIG["vocab"], (args.batch, PROMPT))
    modes = {}
    if not args.no_plain:
        modes["engine, recompute (plain)"] = lambda: plain.generate(prompt, NEW_TOKENS, rng=0)
    modes["engine, recompute (fused)"] = lambda: fused.generate(prompt, NEW_TOKENS, rng=0)
    modes["engine, KV cache"] = lambda: plain.generate(prompt, NEW_TOKENS, rng=0, use_cache=True)
    # every engine mode samples the same tokens with the same seed (and this warms them up)
    outputs = [fn() for fn in modes.values()]
    same = all(np.array_equal(outputs[0], out) for out in outputs[1:])
    print(f"engine: its {len(outputs)} modes generate the same tokens: {same}")
    torch_version = None
    if not args.no_torch:
        try:
            import torch

            torch_version = torch.__version__
        except ImportError:
            print("PyTorch is not installed: timing the engine only")
    if torch_version:
        recompute, cached, full_logits = torch_generators(plain, args.threads)
        ids = (prompt[:, :1] + np.arange(40)) % CONFIG["vocab"]  # (batch, 40)
        diff = np.abs(full_logits(ids) - plain(ids).data).max()
        print(f"PyTorch {torch_version}: same logits as the engine, largest difference {diff:.1e}")
        assert diff < 1e-4, "the PyTorch model is not the engine's model"
        modes["torch, recompute"] = lambda: recompute(prompt, NEW_TOKENS)
        modes["torch, KV cache"] = lambda: cached(prompt, NEW_TOKENS)
    times: dict[str, list[float]] = {name: [] for name in modes}
    for r in range(args.rounds):
        for name, fn in modes.items():
            times[name].append(seconds(fn))
        print(f"round {r + 1}: " + ", ".join(f"{n} {t[-1]:.3f} s" for n, t in times.items()))
    median = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"\n{NEW_TOKENS} new tokens after a {PROMPT}-token prompt, batch {args.batch}, "
        f"block_size {CONFIG['block']}, {args.threads} thread(s); "
        f"median of {args.rounds} rounds\n"
    )
    print("| mode | seconds | ms per new token |")
    print("|---|---|---|")
    for name, t in median.items():
        print(f"| {name} | {t:.3f} | {t / NEW_TOKENS * 1e3:.2f} |")
    print("\n| KV-cache speed-up (recompute time / cached time) | ratio |")
    print("|---|---|")
    cache = median["engine, KV cache"]
    for base in ("engine, recompute (fused)", "engine, recompute (plain)"):
        if base in median:
            print(f"| engine, against {base.split(', ')[1]} | {median[base] / cache:.2f} |")
    if torch_version:
        ratio = median["torch, recompute"] / median["torch, KV cache"]
        print(f"| torch | {ratio:.2f} |")


if __name__ == "__main__":
    main()
