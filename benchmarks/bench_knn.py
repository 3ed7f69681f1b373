"""Benchmark: exact kNN (labnoise.neighbors.knn) vs scikit-learn NearestNeighbors(algorithm="brute").

    python benchmarks/bench_knn.py                 # 50k x 1280, k=100, random features
    python benchmarks/bench_knn.py --real          # CIFAR-10 train EfficientNet-Lite0 features if cached
    python benchmarks/bench_knn.py --n 10000       # smaller

Both run in the same process on the same data; the script prints wall times, the ratio, and checks that the
neighbour indices agree (rows whose k-th and (k+1)-th distances are within 1e-4 are counted as ties).
Timings on a shared CPU are noisy: repeat, and compare ratios from the same run only.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def load_features(args):
    if args.real:
        from labnoise.features import embed, is_cached
        root = args.data_root or os.environ.get("LABNOISE_DATA")
        if is_cached("cifar10", "train", "efficientnet-lite0", root=root, download=False):
            x = embed("cifar10", "train", "efficientnet-lite0", root=root, download=False, progress=False)
            return x[: args.n], "CIFAR-10 train, EfficientNet-Lite0 (cached)"
        print("no cached CIFAR-10 Lite0 features found; using random features instead")
    rng = np.random.default_rng(0)
    # clustered random features: 10 Gaussian clusters, roughly the spread of real encoder features
    c = rng.normal(size=(10, args.dim)).astype(np.float32)
    x = c[rng.integers(0, 10, args.n)] + 0.7 * rng.normal(size=(args.n, args.dim)).astype(np.float32)
    return x.astype(np.float32), f"random: 10 Gaussian clusters in {args.dim}-d"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--dim", type=int, default=1280)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--precisions", default="fp32,bf16", help="comma-separated: fp32 (auto), bf16")
    args = ap.parse_args()

    import torch
    from sklearn.neighbors import NearestNeighbors

    from labnoise.neighbors import knn
    if args.threads:
        torch.set_num_threads(args.threads)
    x, what = load_features(args)
    n, d = x.shape
    print(f"data: {what}; {n} x {d}, k={args.k}; torch threads {torch.get_num_threads()}, "
          f"cpus {os.cpu_count()}, load avg {os.getloadavg()[0]:.1f}")
    rows = []
    res = {}
    precs = args.precisions.split(",")
    for prec in precs:
        t = time.perf_counter()
        res[prec] = knn(x, args.k, precision=prec, device="cpu")
        rows.append((f"labnoise knn ({prec})", time.perf_counter() - t))
        print(f"  {rows[-1][0]:<32} {rows[-1][1]:8.2f} s", flush=True)
    if len(res) == 2:
        same = (res["fp32"][1] == res["bf16"][1]).all(1).mean()
        print(f"  fp32 vs bf16 rows with identical neighbour lists: {same:.4f}")
    if not args.skip_sklearn:
        t = time.perf_counter()
        nn = NearestNeighbors(n_neighbors=args.k, algorithm="brute").fit(x)
        d_ref, i_ref = nn.kneighbors(x)
        rows.append(("sklearn NearestNeighbors brute", time.perf_counter() - t))
        print(f"  {rows[-1][0]:<32} {rows[-1][1]:8.2f} s", flush=True)
        for prec in precs:
            dist, idx = res[prec]
            agree = (idx == i_ref).all(1)
            # rows that differ only through near-ties (equal distances up to float32 rounding)
            tie_ok = np.abs(dist - d_ref).max(1) < 1e-3 * max(1.0, float(d_ref.max()))
            print(f"  {prec}: rows identical to sklearn {agree.mean():.4f}; rows identical up to ties "
                  f"{(agree | tie_ok).mean():.4f}; max |distance diff| {np.abs(dist - d_ref).max():.2e}")
        base = rows[-1][1]
        print("\n| method | seconds | speed-up vs sklearn |\n|---|---|---|")
        for name, s in rows:
            print(f"| {name} | {s:.2f} | {base / s:.2f}x |")


if __name__ == "__main__":
    main()
