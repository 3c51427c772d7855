"""Time full GPT training steps (forward, backward, AdamW; float32) of the NumPy engine and,
when PyTorch is installed, of the same model in PyTorch eager mode on the CPU.

Usage::

    python benchmarks/bench_train_step.py                 # both configs, table at the end
    python benchmarks/bench_train_step.py --configs small --rounds 3 --steps 30
    python benchmarks/bench_train_step.py engine --config small   # one measurement (JSON)
    python benchmarks/bench_train_step.py --baseline /tmp/old --no-torch  # against a checkout

``--baseline DIR`` times a second checkout of the project (for example a worktree of an older
commit, ``git worktree add /tmp/old <commit>``) side by side with this one: each round runs
DIR's own ``benchmarks/bench_train_step.py engine`` with DIR first on ``PYTHONPATH``, and the
table adds the ratio of the two step times.

PyTorch runs the same architecture with two attention implementations: ``sdpa``
(``F.scaled_dot_product_attention``, a fused flash-attention kernel, as nanoGPT uses) and
``manual`` (explicit ``q kᵀ``, masked softmax, ``@ v``: the algorithm the engine uses).

Both sides use the machine's cores: PyTorch through ``torch.set_num_threads(2)``, the engine
through its thread pool (``genai_notes.autograd.set_num_workers``, by default one worker per
core up to 2; ``GENAI_NOTES_WORKERS=1`` turns it off), which also keeps OpenBLAS to one
thread per worker so the two pools do not compete for the cores.

Each measurement runs in its own process (a fresh interpreter, so neither framework warms
the other's caches or thread pools). Rounds alternate engine and torch so that load from
other processes on the machine hits both sides alike. Each round reports the median step
time after warm-up steps; the table uses each side's best round (the one least disturbed by
other processes, as ``timeit`` does) and also lists every round.

FLOP estimate per token (the usual estimate, as in the PaLM paper's appendix B and nanoGPT's MFU):
``6 · N + 12 · n_layers · seq · d_model`` where N counts the weights used in matrix
products (every Linear and the LM head, not the embedding lookups); the first term is the
forward (2N) and backward (4N) matmuls, the second the attention scores and weighted sums.
Achieved GFLOP/s is set against NumPy's own large-matmul (2048³ float32) GFLOP/s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

CONFIGS = {
    "small": {"vocab": 65, "d_model": 64, "n_heads": 4, "n_layers": 2, "block": 64, "batch": 32},
    "large": {"vocab": 65, "d_model": 128, "n_heads": 4, "n_layers": 4, "block": 128, "batch": 16},
}


def flops_per_step(cfg: dict[str, int]) -> float:
    """Estimated FLOPs of one training step (see the module docstring)."""
    d, n_layers, seq = cfg["d_model"], cfg["n_layers"], cfg["block"]
    n_matmul = n_layers * 12 * d * d + d * cfg["vocab"]  # qkv, out, 2 FFN layers; LM head
    per_token = 6 * n_matmul + 12 * n_layers * seq * d
    return per_token * cfg["batch"] * seq


def median_seconds(step, warmup: int, steps: int) -> float:
    """Median wall time of ``step()`` over ``steps`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_engine(cfg: dict[str, int], warmup: int, steps: int) -> dict[str, float]:
    from genai_notes.autograd import enable_speedups, num_workers
    from genai_notes.gpt import GPT, GPTConfig
    from genai_notes.nn import AdamW

    enable_speedups()  # the thread pool and memory reuse, as genai_notes.nn.train does
    model = GPT(
        GPTConfig(
            vocab_size=cfg["vocab"],
            block_size=cfg["block"],
            n_layers=cfg["n_layers"],
            n_heads=cfg["n_heads"],
            d_model=cfg["d_model"],
            fused=True,
        )
    )
    opt = AdamW(model.parameters(), lr=1e-3, weight_decay=0.1, fused=True)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, cfg["vocab"], (cfg["batch"], cfg["block"]))
    targets = rng.integers(0, cfg["vocab"], (cfg["batch"], cfg["block"]))

    def step() -> None:
        loss = model.loss(idx, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return {
        "step_s": median_seconds(step, warmup, steps),
        "params": model.num_parameters(),
        "workers": num_workers(),
    }


def run_torch(cfg: dict[str, int], warmup: int, steps: int, attention: str) -> dict[str, float]:
    import torch
    import torch.nn.functional as tf
    from torch import nn

    torch.set_num_threads(2)
    torch.manual_seed(0)
    d, n_heads, seq = cfg["d_model"], cfg["n_heads"], cfg["block"]

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
            self.register_buffer("mask", torch.tril(torch.ones(seq, seq, dtype=torch.bool)))

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            q, k, v = (z.view(b, t, n_heads, d // n_heads).transpose(1, 2) for z in (q, k, v))
            if attention == "sdpa":
                y = tf.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (d // n_heads) ** -0.5
                att = att.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(dim=-1)
                y = att @ v
            x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
            return x + self.fc2(tf.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte, self.wpe = nn.Embedding(cfg["vocab"], d), nn.Embedding(seq, d)
            self.blocks = nn.ModuleList(Block() for _ in range(cfg["n_layers"]))
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, cfg["vocab"], bias=False)

        def forward(self, idx, targets):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            logits = self.head(self.ln_f(x))
            return tf.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    model = Model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    rng = np.random.default_rng(0)
    idx = torch.from_numpy(rng.integers(0, cfg["vocab"], (cfg["batch"], seq)))
    targets = torch.from_numpy(rng.integers(0, cfg["vocab"], (cfg["batch"], seq)))

    def step() -> None:
        loss = model(idx, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()

    n_params = sum(p.numel() for p in model.parameters())
    return {
        "step_s": median_seconds(step, warmup, steps),
        "params": n_params,
        "torch": torch.__version__,
    }


def run_matmul() -> dict[str, float]:
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    seconds = median_seconds(lambda: a @ a, 2, 10)
    return {"gflops": 2 * 2048**3 / seconds / 1e9}


def _child(args: list[str], checkout: str | None = None) -> dict[str, float]:
    """Run this script (or, with ``checkout``, that checkout's copy of it) in a fresh
    interpreter and return the JSON it prints last."""
    script, env = __file__, None
    if checkout is not None:
        script = os.path.join(checkout, "benchmarks", "bench_train_step.py")
        env = {**os.environ, "PYTHONPATH": checkout}
    out = subprocess.run(
        [sys.executable, script, *args], check=True, capture_output=True, text=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def main_table(args: argparse.Namespace) -> None:
    have_torch = _torch_available() and not args.no_torch
    variants = ("sdpa", "manual") if args.attention == "both" else (args.attention,)
    common = ["--warmup", str(args.warmup), "--steps", str(args.steps)]
    matmul = max(_child(["matmul"])["gflops"] for _ in range(2))
    print(
        f"numpy {np.__version__}, BLAS large-matmul: {matmul:.0f} GFLOP/s; "
        f"{args.rounds} rounds of {args.steps} timed steps after {args.warmup} warm-up"
    )
    rows = []
    for name in args.configs:
        cfg = CONFIGS[name]
        times: dict[str, list[float]] = {"engine": []}
        for _ in range(args.rounds):
            result = _child(["engine", "--config", name, *common])
            times["engine"].append(result["step_s"])
            if args.baseline:
                run = _child(["engine", "--config", name, *common], args.baseline)
                times.setdefault("baseline", []).append(run["step_s"])
            for variant in variants if have_torch else ():
                run = _child(["torch", "--config", name, "--attention", variant, *common])
                times.setdefault(variant, []).append(run["step_s"])
        tokens, flops = cfg["batch"] * cfg["block"], flops_per_step(cfg)
        best = {key: min(values) for key, values in times.items()}
        row = {"config": name, "params": result["params"], "matmul_gflops": matmul}
        for key, step in best.items():
            row[f"{key}_tok_s"] = tokens / step
            row[f"{key}_gflops"] = flops / step / 1e9
            row[f"{key}_rounds_ms"] = [round(t * 1e3, 2) for t in times[key]]
            if key != "engine":
                row[f"ratio_vs_{key}"] = step / best["engine"]
        row["engine_workers"] = result["workers"]
        rows.append(row)
        print(json.dumps(row))
    print()
    header = ["config", "params", "engine tok/s"]
    for v in variants if have_torch else ():
        header += [f"torch ({v}) tok/s", f"engine/torch ({v})"]
    if args.baseline:
        header += ["baseline tok/s", "baseline/engine time"]
    header += ["engine GFLOP/s"] + [f"torch ({v}) GFLOP/s" for v in variants if have_torch]
    header += ["numpy matmul GFLOP/s"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        cells = [r["config"], f"{r['params']:,}", f"{r['engine_tok_s']:,.0f}"]
        for v in variants if have_torch else ():
            cells += [f"{r[v + '_tok_s']:,.0f}", f"{r['ratio_vs_' + v]:.2f}"]
        if args.baseline:
            cells += [f"{r['baseline_tok_s']:,.0f}", f"{r['ratio_vs_baseline']:.2f}"]
        cells += [f"{r['engine_gflops']:.1f}"]
        cells += [f"{r[v + '_gflops']:.1f}" for v in variants if have_torch]
        cells += [f"{r['matmul_gflops']:.0f}"]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    for command in ("engine", "torch"):
        p = sub.add_parser(command, help=f"time one {command} run and print JSON")
        p.add_argument("--config", choices=sorted(CONFIGS), required=True)
        p.add_argument("--warmup", type=int, default=5)
        p.add_argument("--steps", type=int, default=25)
        if command == "torch":
            p.add_argument("--attention", choices=("sdpa", "manual"), default="sdpa")
    sub.add_parser("matmul", help="NumPy 2048x2048 float32 matmul GFLOP/s (JSON)")
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=["small", "large"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument(
        "--attention",
        choices=("sdpa", "manual", "both"),
        default="both",
        help="torch attention: F.scaled_dot_product_attention (a fused flash kernel), "
        "explicit masked softmax (the engine's algorithm), or both",
    )
    parser.add_argument("--no-torch", action="store_true", help="time the engine only")
    parser.add_argument(
        "--baseline", metavar="DIR", help="also time the engine of another checkout, side by side"
    )
    args = parser.parse_args()
    if args.command == "engine":
        print(json.dumps(run_engine(CONFIGS[args.config], args.warmup, args.steps)))
    elif args.command == "torch":
        print(json.dumps(run_torch(CONFIGS[args.config], args.warmup, args.steps, args.attention)))
    elif args.command == "matmul":
        print(json.dumps(run_matmul()))
    else:
        main_table(args)


if __name__ == "__main__":
    main()
