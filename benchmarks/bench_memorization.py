"""Benchmark: many heads trained at once (labnoise.memorization.HeadTrainer) vs one model at a time.

The one-at-a-time path (:func:`labnoise.memorization.sequential_reference`) is what one would write first: per
run a fresh ``torch.nn`` model, autograd and ``torch.optim.AdamW``, from the same initial parameters, over the
same mini-batches with the same schedule, in float32 (on this CPU bfloat16 autocast makes autograd several times
slower, so float32 is the fair baseline). The batched path trains a chunk of heads with hand-written batched
matrix products (one GEMM of the same shape per head for ``mlp`` heads, one wide GEMM for heads on a shared
random-feature layer). Both run in the same process on the same subset; ``agree`` is the fraction of
(run, example) correctness values on which the two paths agree (1.0 up to summation order).

Features: CIFAR-10 EfficientNet-Lite0 features from the cache under the data root (train split, else test
split), else synthetic clustered 1280-d features. A subset keeps the one-at-a-time path short; the time per run
is extrapolated linearly in N (examples) and m (runs) to the chapter's target of m = 1000 runs on all 50,000
CIFAR-10 training images.

    .venv/bin/python benchmarks/bench_memorization.py [--n 5000] [--runs 4] [--heads 100] [--epochs 2]
        [--threads 1]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from labnoise import memorization as M


def load_features(n: int, seed: int = 0):
    try:
        from labnoise import features
        from labnoise.data import load_dataset

        for split in ("train", "test"):
            if features.is_cached("cifar10", split, "efficientnet-lite0", download=False):
                x = features.embed("cifar10", split, "efficientnet-lite0", download=False, progress=False)
                ds = load_dataset("cifar10", download=False)
                y = ds.train_labels if split == "train" else ds.test_labels
                idx = np.sort(np.random.default_rng(seed).choice(x.shape[0], min(n, x.shape[0]), replace=False))
                return x[idx], y[idx], f"CIFAR-10 {split} EfficientNet-Lite0 features (cached)"
    except Exception as e:  # no data root here: fall back to synthetic features
        print(f"(no cached CIFAR-10 features: {type(e).__name__}: {e}; using synthetic clustered features)")
    from labnoise.noise.synthetic import clustered_features

    x, y = clustered_features(n, 1280, 10, seed=seed)
    return x, y, "synthetic clustered features (1280-d)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=5000, help="examples in the subset")
    ap.add_argument("--runs", type=int, default=4, help="runs trained one at a time (and batched, for agreement)")
    ap.add_argument("--heads", type=int, default=25, help="runs trained at once in one chunk (throughput)")
    ap.add_argument("--epochs", type=int, default=2, help="epochs per run in this benchmark")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy 2-core box)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    x, y, what = load_features(args.n, args.seed)
    print(f"data: {what}, subset N={x.shape[0]}, d={x.shape[1]}; torch threads={args.threads}; "
          f"{args.epochs} epochs per run")
    x128 = M.pca_reduce(x, 128)
    configs = {
        "mlp PCA128-256-10 bf16 (offline)": (x128, dict(kind="mlp", hidden=256, batch_size=512, lr=1e-2,
                                                   matmul_dtype="bfloat16")),
        "mlp PCA128-256-10 float32": (x128, dict(kind="mlp", hidden=256, batch_size=512, lr=1e-2)),
        "random features 2048 bf16": (x, dict(kind="random_features", hidden=2048, batch_size=512, lr=1e-2,
                                                matmul_dtype="bfloat16")),
        "linear 1280 bf16": (x, dict(kind="linear", batch_size=512, lr=1e-2, matmul_dtype="bfloat16")),
    }
    rows = []
    for name, (feats, kw) in configs.items():
        cfg = M.HeadConfig(epochs=args.epochs, chunk_size=args.heads, **kw)
        tr = M.HeadTrainer(feats, y, config=cfg, seed=args.seed, device="cpu")
        b = M.benchmark_heads(tr, runs=args.runs, seed=args.seed)
        ho = np.arange(0, x.shape[0], 2)
        w = M.inclusion_weights(x.shape[0], ho, M.subset_masks(ho.size, np.arange(args.heads), seed=args.seed))
        t = time.perf_counter()
        tr(np.arange(args.heads), w, args.seed)
        t_chunk = (time.perf_counter() - t) / args.heads
        scale = 50000 / x.shape[0] * 1000 * 10 / args.epochs  # seconds per run here -> 1000 runs x 50k x 10 epochs
        rows.append((name, b["sequential_s_per_run"], b["batched_s_per_run"], t_chunk, b["agreement"],
                     b["sequential_s_per_run"] * scale, t_chunk * scale))
    print()
    bx, bh = f"batched x{args.runs}", f"batched x{args.heads}"
    print(f"{'heads':32s} {'1-at-a-time':>11s} {bx:>11s} {bh:>12s} {'speed-up':>9s} {'agree':>6s} "
          f"{'1000 runs x 50k x 10 epochs: 1-at-a-time':>42s} {'batched':>9s}")
    for name, ts, tb, tc, agree, es, ec in rows:
        print(f"{name:32s} {ts:9.3f} s {tb:9.4f} s {tc:10.4f} s {ts / tc:8.1f}x {agree:6.3f} {es / 60:38.1f} min "
              f"{ec / 60:5.1f} min")
    print("\ncolumns: seconds per run (one at a time; batched in a chunk of --runs; batched in a chunk of --heads); "
          "speed-up = one-at-a-time / batched x heads, same process. The last two columns extrapolate linearly in "
          "N and m (and epochs) from this subset; they are estimates, not measurements.")
    print("timings taken on a shared, busy 2-core machine: compare ratios within one run, not across runs.")


if __name__ == "__main__":
    main()
