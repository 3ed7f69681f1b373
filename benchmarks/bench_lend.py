"""Benchmark: LEND's seconds per epoch against Standard cross-entropy in the same run (frozen-feature lane).

    python benchmarks/bench_lend.py                    # 50,000 x 1280 synthetic features, MLP 1280-512-10
    python benchmarks/bench_lend.py --n 10000 --threads 1

Both methods train the same MLP on the same synthetic features (10 planted Gaussian classes, 40% symmetric
noise) with batch 256 (the paper's); rounds alternate Standard and LEND and each row is the best (minimum)
epoch time over the rounds, which is robust to the load of a shared machine. LEND's extra work per batch is
a B x B similarity, a top-k, ``A^T A`` (B^3) and T = 5 dilution steps (B^2 C each), plus the momentum store.
Target: LEND <= 1.5x Standard. Writes ``_build/bench/bench_lend.json`` as
``{"machine": {...}, "rows": [{"name": ..., "seconds": ...}], "ratio": ...}``.
"""
from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--dim", type=int, default=1280)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", default="_build/bench/bench_lend.json")
    args = ap.parse_args()

    import torch

    from labnoise._io import save_json
    from labnoise._torch import resolve_device
    from labnoise.methods import get_method
    from labnoise.train import fit

    dev = resolve_device(args.device)
    rng = np.random.default_rng(0)
    C = 10
    centres = rng.normal(size=(C, args.dim)).astype(np.float32) * 0.1
    y = rng.integers(0, C, args.n)
    x = centres[y] + rng.normal(size=(args.n, args.dim)).astype(np.float32) * 0.1
    flip = rng.random(args.n) < 0.4
    yn = y.copy()
    yn[flip] = (y[flip] + rng.integers(1, C, flip.sum())) % C
    machine = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
               "cpus": os.cpu_count(), "device": str(dev), "torch": torch.__version__,
               "torch_threads": args.threads, "load_avg_start": os.getloadavg()[0]}
    print(f"device {dev}; threads {args.threads}; cpus {os.cpu_count()}; load avg {os.getloadavg()[0]:.1f}")
    print(f"features {args.n} x {args.dim}, MLP {args.dim}-512-{C}, batch {args.batch_size}, "
          f"best epoch of {args.rounds} round(s)")
    best = {"ce": float("inf"), "lend": float("inf")}
    for r in range(args.rounds):
        for name in ("ce", "lend"):
            res = fit("mlp", x, yn, method=get_method(name), epochs=1, batch_size=args.batch_size, lr=0.05,
                      seed=r, progress=False, device=dev, threads=args.threads)
            best[name] = min(best[name], res.history[0]["time_s"])
            print(f"  round {r}: {name} {res.history[0]['time_s']:.2f} s/epoch", flush=True)
    ratio = best["lend"] / best["ce"]
    print("| method | s / epoch |\n|---|---|")
    for k, v in best.items():
        print(f"| {k} | {v:.2f} |")
    print(f"LEND / Standard = {ratio:.2f}x (target <= 1.5x): {'met' if ratio <= 1.5 else 'MISSED'}")
    machine["load_avg_end"] = os.getloadavg()[0]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_json(out, {"machine": machine,
                    "rows": [{"name": "standard_ce_epoch", "seconds": best["ce"]},
                             {"name": "lend_epoch", "seconds": best["lend"]}],
                    "ratio": ratio, "target": 1.5,
                    "settings": {"n": args.n, "dim": args.dim, "batch_size": args.batch_size,
                                 "rounds": args.rounds}})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
