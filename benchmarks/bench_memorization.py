"""Benchmark: the memorization heads (labnoise.memorization.HeadTrainer), before and after the CPU layout of the
MLP loop, in the same run; optionally against one model at a time.

Rows (all the chapter's offline head: MLP PCA-128 -> 256 -> 10, batch 512, on CIFAR-10 EfficientNet-Lite0
features; ``--pca-dim 0`` keeps the 1280-d features):

* ``after <dtype>``: ``HeadTrainer(...)(runs, ...)``, the MLP loop laid out for speed (bias folded into the
  first product, batches gathered with ``index_select``, transposed logits for the softmax, fused Adam);
* ``before <dtype>``: ``HeadTrainer._train_generic``, the loop the MLP heads used before (same heads, same
  batches, same optimisation); ``agree`` is the fraction of (run, example) correctness values on which the two
  loops agree;
* ``one at a time fp32`` (``--runs N`` > 0): :func:`labnoise.memorization.sequential_reference`, torch.nn +
  autograd + AdamW per run, on a subset.

Each row times one chunk of ``--heads`` heads for ``--epochs`` epochs on all N examples and, separately, the
evaluation pass (every head predicts all N examples once per run); the time for ``--target-m`` heads of
``--target-epochs`` epochs per label set is extrapolated as ``target_m / heads * (target_epochs * epoch_s +
eval_s)`` -- an estimate from a short run, not a measurement. On a shared, busy machine only the ratios within
one run mean anything.

    .venv/bin/python benchmarks/bench_memorization.py [--heads 32] [--epochs 1] [--dtypes bfloat16 float32]
        [--threads 1] [--n 50000] [--pca-dim 128] [--runs 0]

Writes ``_build/bench/bench_memorization.json``.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import write_json  # noqa: E402

from labnoise import linalg  # noqa: E402
from labnoise import memorization as M  # noqa: E402


def load_features(n: int, seed: int = 0):
    try:
        from labnoise import features
        from labnoise.data import load_dataset

        for split in ("train", "test"):
            if features.is_cached("cifar10", split, "efficientnet-lite0", download=False):
                x = features.embed("cifar10", split, "efficientnet-lite0", download=False, progress=False)
                ds = load_dataset("cifar10", download=False)
                y = ds.train_labels if split == "train" else ds.test_labels
                if n < x.shape[0]:
                    idx = np.sort(np.random.default_rng(seed).choice(x.shape[0], n, replace=False))
                    x, y = x[idx], y[idx]
                return x, y, f"CIFAR-10 {split} EfficientNet-Lite0 features (cached)"
    except Exception as e:  # no data root here: fall back to synthetic features
        print(f"(no cached CIFAR-10 features: {type(e).__name__}: {e}; using synthetic clustered features)")
    from labnoise.noise.synthetic import clustered_features

    x, y = clustered_features(n, 1280, 10, seed=seed)
    return x, y, "synthetic clustered features (1280-d)"


def _time(fn):
    """(wall seconds, CPU seconds of this process, result). On a shared machine the CPU seconds are what the
    work costs on a core of its own (wall time also counts the waits for a core); with one torch thread
    they extrapolate to a dedicated core."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=50000, help="examples (all 50,000 CIFAR-10 training images)")
    ap.add_argument("--pca-dim", type=int, default=128, help="PCA components first (the offline profile: 128; 0: none)")
    ap.add_argument("--heads", type=int, default=32, help="heads trained at once in the timed chunk")
    ap.add_argument("--epochs", type=int, default=1, help="epochs in the timed chunk")
    ap.add_argument("--dtypes", nargs="+", default=["bfloat16", "float32"], help="matmul dtypes to time")
    ap.add_argument("--runs", type=int, default=0, help="runs one at a time (torch.nn + autograd; 0: skip)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy 2-core box)")
    ap.add_argument("--target-m", type=int, default=1500,
                    help="heads per label set to extrapolate to (the paper's 1,500 runs)")
    ap.add_argument("--target-epochs", type=int, default=8, help="epochs per head to extrapolate to (offline: 8)")
    ap.add_argument("--label-sets", type=int, default=2, help="label sets per chapter run (human + synthetic)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    x, y, what = load_features(args.n, args.seed)
    if args.pca_dim:
        x = linalg.pca(x, args.pca_dim, scale="mean")
    n = x.shape[0]
    print(f"data: {what}, N={n}, d={x.shape[1]}; torch threads={args.threads}; a chunk of {args.heads} heads, "
          f"{args.epochs} epoch(s); extrapolated to m={args.target_m} x {args.target_epochs} epochs")
    head = M.HeadConfig(kind="mlp", hidden=256, epochs=args.epochs, batch_size=512, lr=0.01, chunk_size=args.heads)
    runs = np.arange(args.heads)
    ho = np.arange(0, n, 2)
    w = M.inclusion_weights(n, ho, M.subset_masks(ho.size, runs, seed=args.seed))
    rows = []
    for dt in args.dtypes:
        tr = M.HeadTrainer(x, y, config=dataclasses.replace(head, matmul_dtype=dt), device="cpu", seed=args.seed)
        small = M.HeadTrainer(x[:2048], y[:2048], config=dataclasses.replace(tr.config, epochs=1), device="cpu")
        small(runs[:2], w[:2, :2048], seed=0)  # untimed warm-up of both loops (allocator, thread pools)
        small._train_generic(runs[:2], w[:2, :2048], seed=0)
        t_eval, c_eval, _ = _time(lambda: tr._correct(tr._init(runs, seed=args.seed)))
        out = {}
        for loop, fn in (("after", tr.__call__), ("before", tr._train_generic)):
            sec, cpu, out[loop] = _time(lambda: fn(runs, w, seed=args.seed))
            per_set = args.target_m / args.heads * (args.target_epochs * max(sec - t_eval, 1e-9) / args.epochs + t_eval)
            per_set_cpu = args.target_m / args.heads * (args.target_epochs * max(cpu - c_eval, 1e-9) / args.epochs
                                                        + c_eval)
            rows.append({"name": f"{loop} {dt}", "seconds": round(sec, 3), "cpu_seconds": round(cpu, 3),
                         "loop": loop, "matmul_dtype": dt, "heads": args.heads, "epochs": args.epochs, "n": n,
                         "d": int(x.shape[1]), "eval_seconds": round(t_eval, 3), "eval_cpu_seconds": round(c_eval, 3),
                         "head_epochs_per_s": round(args.heads * args.epochs / max(sec - t_eval, 1e-9), 3),
                         "head_epochs_per_cpu_s": round(args.heads * args.epochs / max(cpu - c_eval, 1e-9), 3),
                         "extrapolated_min_per_label_set": round(per_set / 60, 2),
                         "extrapolated_min_all_label_sets": round(args.label_sets * per_set / 60, 2),
                         "extrapolated_cpu_min_per_label_set": round(per_set_cpu / 60, 2),
                         "extrapolated_cpu_min_all_label_sets": round(args.label_sets * per_set_cpu / 60, 2)})
        agree = float((out["after"] == out["before"]).mean())
        rows[-2]["agree_with_before"] = rows[-1]["agree_with_before"] = round(agree, 4)
        rows[-2]["speedup_vs_before"] = round(rows[-1]["seconds"] / rows[-2]["seconds"], 3)
        rows[-2]["cpu_speedup_vs_before"] = round(rows[-1]["cpu_seconds"] / rows[-2]["cpu_seconds"], 3)
    if args.runs:
        sub = np.sort(np.random.default_rng(args.seed).choice(n, min(n, 5000), replace=False))
        tr = M.HeadTrainer(x[sub], y[sub], config=head, device="cpu", seed=args.seed)
        b = M.benchmark_heads(tr, runs=args.runs, seed=args.seed)
        rows.append({"name": "one at a time fp32", "seconds": round(b["sequential_s_per_run"] * args.runs, 3),
                     "runs": args.runs, "n": int(sub.size), "epochs": args.epochs,
                     "batched_s_per_run_same_subset": b["batched_s_per_run"], "ratio": b["ratio"],
                     "agreement": b["agreement"]})

    print(f"\n{'row':20s} {'seconds':>8s} {'cpu s':>7s} {'head-epochs/s':>14s} {'speed-up':>9s} {'agree':>6s} "
          f"{'m=' + str(args.target_m) + ' per set':>14s} {str(args.label_sets) + ' sets':>8s} "
          f"{'per set (cpu)':>14s} {str(args.label_sets) + ' sets (cpu)':>14s}")
    for r in rows:
        if "loop" not in r:
            print(f"{r['name']:20s} {r['seconds']:8.2f} (one at a time on {r['n']} examples: {r['ratio']}x slower "
                  f"per run than batched, agreement {r['agreement']})")
            continue
        sp = f"{r['speedup_vs_before']:.2f}x" if "speedup_vs_before" in r else ""
        print(f"{r['name']:20s} {r['seconds']:8.2f} {r['cpu_seconds']:7.2f} {r['head_epochs_per_s']:14.3f} {sp:>9s} "
              f"{r['agree_with_before']:6.3f} {r['extrapolated_min_per_label_set']:10.1f} min "
              f"{r['extrapolated_min_all_label_sets']:5.1f} min {r['extrapolated_cpu_min_per_label_set']:10.1f} min "
              f"{r['extrapolated_cpu_min_all_label_sets']:10.1f} min")
    print("\nspeed-up = before / after wall seconds, same process, same heads and batches; the 'per set' columns "
          "are extrapolated from this short run (estimates, not measurements): from wall time, and from this "
          "process's CPU time (what the work costs on a core of its own, with one torch thread). On a shared, "
          "busy machine compare ratios within one run, not across runs.")
    from labnoise._torch import cpu_flags, resolve_precision
    auto = "bfloat16" if resolve_precision("auto", torch.device("cpu")) == "bf16" else "float32"
    print(f"CPU flags: {cpu_flags()}; matmul_dtype='auto' resolves to {auto} here")
    write_json("bench_memorization", rows, settings=vars(args), data=what, cpu_flags=cpu_flags(),
               matmul_dtype_auto=auto,
               precision_note="each row's matmul_dtype is the heads' matrix-product precision (weights and "
                              "optimiser state stay float32); the offline profile uses 'auto' = matmul_dtype_auto")


if __name__ == "__main__":
    main()
