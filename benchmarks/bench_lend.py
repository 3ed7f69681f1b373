"""Benchmark: LEND's seconds per epoch against Standard cross-entropy in the same run (frozen-feature lane).

    python benchmarks/bench_lend.py                    # 50,000 x 1280 synthetic features, MLP 1280-512-10
    python benchmarks/bench_lend.py --n 10000 --threads 1
    python benchmarks/bench_lend.py --quick            # 10,000 x 1280, one round (make bench)

Both methods train the same MLP on the same synthetic features (10 planted Gaussian classes, 40% symmetric
noise) with batch 256 (the paper's); rounds alternate Standard and LEND and each row is the best (minimum)
epoch time over the rounds, which is robust to the load of a shared machine. LEND's extra work per batch is
a B x B similarity, a top-k, ``A^T A`` (B^3) and T = 5 dilution steps (B^2 C each), plus the momentum store.
Target: LEND <= 1.5x Standard. Writes ``_build/bench/bench_lend.json`` (``benchmarks/_bench.write_json``).
"""
from __future__ import annotations

import argparse
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--dim", type=int, default=1280)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--precision", default="fp32", choices=("auto", "fp32", "bf16"),
                    help="training precision of both methods (labnoise.train.fit's default: fp32)")
    ap.add_argument("--quick", action="store_true", help="10,000 x 1280 features, one round (make bench)")
    args = ap.parse_args()
    if args.quick:
        args.n, args.rounds = 10_000, 1  # the width (1280) stays: it sets the ratio

    from _bench import write_json
    from labnoise._torch import resolve_device, resolve_precision
    from labnoise.methods import get_method
    from labnoise.train import fit

    dev = resolve_device(args.device)
    precision = resolve_precision(args.precision, dev)
    rng = np.random.default_rng(0)
    C = 10
    centres = rng.normal(size=(C, args.dim)).astype(np.float32) * 0.1
    y = rng.integers(0, C, args.n)
    x = centres[y] + rng.normal(size=(args.n, args.dim)).astype(np.float32) * 0.1
    flip = rng.random(args.n) < 0.4
    yn = y.copy()
    yn[flip] = (y[flip] + rng.integers(1, C, flip.sum())) % C
    print(f"device {dev}; threads {args.threads}; cpus {os.cpu_count()}; load avg {os.getloadavg()[0]:.1f}")
    print(f"features {args.n} x {args.dim}, MLP {args.dim}-512-{C}, batch {args.batch_size}, "
          f"best epoch of {args.rounds} round(s)")
    best = {"ce": float("inf"), "lend": float("inf")}
    for r in range(args.rounds):
        for name in ("ce", "lend"):
            res = fit("mlp", x, yn, method=get_method(name), epochs=1, batch_size=args.batch_size, lr=0.05,
                      seed=r, progress=False, device=dev, threads=args.threads, precision=precision)
            best[name] = min(best[name], res.history[0]["time_s"])
            print(f"  round {r}: {name} {res.history[0]['time_s']:.2f} s/epoch", flush=True)
    ratio = best["lend"] / best["ce"]
    print("| method | s / epoch |\n|---|---|")
    for k, v in best.items():
        print(f"| {k} | {v:.2f} |")
    print(f"LEND / Standard = {ratio:.2f}x (target <= 1.5x): {'met' if ratio <= 1.5 else 'MISSED'}")
    data = f"{args.n:,} x {args.dim} synthetic"
    write_json("bench_lend", [{"name": "Standard (CE), one epoch", "seconds": best["ce"], "data": data},
                              {"name": "LEND, one epoch", "seconds": best["lend"], "data": data}],
               compare=True, precision=precision, lend_over_standard=round(ratio, 3),
               targets=[{"what": "LEND epoch at most 1.5x Standard's", "row": {"name": "LEND, one epoch"},
                         "max_seconds": round(1.5 * best["ce"], 3)}],
               settings={"n": args.n, "dim": args.dim, "batch_size": args.batch_size, "rounds": args.rounds,
                         "threads": args.threads, "device": str(dev)})


if __name__ == "__main__":
    main()
