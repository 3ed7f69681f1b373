"""Benchmark: exact kNN self-join, labnoise.neighbors.knn against scikit-learn brute force and faiss IndexFlatL2.

    python benchmarks/bench_knn.py                 # 50k x 1280, k=100: random features, then the cached
                                                   # CIFAR-10 train EfficientNet-Lite0 features if present
    python benchmarks/bench_knn.py --quick         # 5k points (make bench)
    python benchmarks/bench_knn.py --n 10000 --no-real

All methods run in the same process on the same data, one after the other; the script prints wall times and
ratios, checks that every method finds the same neighbours (a row that differs only where the k-th and the
(k+1)-th distances are equal up to float32 rounding counts as a tie), and writes the table to
``_build/bench/bench_knn.json`` (rows ``labnoise``, ``labnoise-bf16``, ``sklearn``, ``faiss`` per data set).
Timings on a shared CPU are noisy: compare ratios from the same run only.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import write_json  # noqa: E402


def random_features(n, dim):
    rng = np.random.default_rng(0)
    # clustered random features: 10 Gaussian clusters, roughly the spread of real encoder features
    c = rng.normal(size=(10, dim)).astype(np.float32)
    x = c[rng.integers(0, 10, n)] + 0.7 * rng.normal(size=(n, dim)).astype(np.float32)
    return x.astype(np.float32), f"random: 10 Gaussian clusters in {dim}-d"


def real_features(n, root):
    from labnoise.features import embed, is_cached
    if not is_cached("cifar10", "train", "efficientnet-lite0", root=root, download=False):
        return None, None
    x = embed("cifar10", "train", "efficientnet-lite0", root=root, download=False, progress=False)
    return np.ascontiguousarray(x[:n]), "CIFAR-10 train, EfficientNet-Lite0 (cached)"


def agree(ref, other, k):
    """Fractions of rows with the same neighbour set as ``ref``: exactly, and up to ties at the k-th distance."""
    (d_ref, i_ref), (d, i) = ref, other
    same = np.array([np.array_equal(np.sort(a), np.sort(b)) for a, b in zip(i_ref, i)])
    # a row differing only through near-equal distances: its sorted *squared* distances match within float32
    # rounding of the expanded form |q|^2 + |x|^2 - 2 q.x (squared: a square root would blow up the rounding
    # of a self-distance near 0)
    sq_ref, sq = np.sort(d_ref.astype(np.float64) ** 2, 1), np.sort(d.astype(np.float64) ** 2, 1)
    tol = 1e-5 * max(1.0, float(sq_ref.max()))
    tie = np.abs(sq - sq_ref).max(1) <= tol
    return float(same.mean()), float((same | tie).mean())


def run_one(x, what, k, methods, threads):
    import torch

    from labnoise import neighbors
    n, d = x.shape
    print(f"\ndata: {what}; {n} x {d}, k={k}; torch threads {torch.get_num_threads()}, "
          f"load avg {os.getloadavg()[0]:.1f}", flush=True)
    res, rows = {}, []
    for m in methods:
        t = time.perf_counter()
        extra = {}
        if m in ("labnoise", "labnoise-bf16"):
            res[m] = neighbors.knn(x, k, precision="fp32" if m == "labnoise" else "bf16", device="cpu")
            extra["precision"] = neighbors.LAST_RUN.get("precision")
            if m == "labnoise-bf16":
                extra["fallback_rows"] = neighbors.LAST_RUN.get("fallback_rows")
                extra["symmetric"] = bool(neighbors.LAST_RUN.get("symmetric"))
        elif m == "sklearn":
            from sklearn.neighbors import NearestNeighbors
            nn = NearestNeighbors(n_neighbors=k, algorithm="brute", n_jobs=threads).fit(x)
            res[m] = nn.kneighbors(x)
            extra["precision"] = "fp32 (sklearn brute force)"
        elif m == "faiss":
            try:
                import faiss
            except ImportError:
                print("  faiss: not installed (pip install faiss-cpu); skipped")
                continue
            if threads:
                faiss.omp_set_num_threads(threads)
            index = faiss.IndexFlatL2(d)
            index.add(x)
            d2, i = index.search(x, k)
            res[m] = (np.sqrt(np.maximum(d2, 0)), i.astype(np.int64))
            extra["precision"] = "fp32"
        sec = time.perf_counter() - t
        rows.append({"name": m, "data": what, "n": n, "dim": d, "k": k, "seconds": round(sec, 3), **extra,
                     "load_avg_1min_after": round(os.getloadavg()[0], 2)})
        print(f"  {m:<14} {sec:8.2f} s", flush=True)
    ref = "sklearn" if "sklearn" in res else next(iter(res))
    for r in rows:
        exact, up_to_ties = agree(res[ref], res[r["name"]], k)
        r.update(agrees_with=ref, rows_identical=round(exact, 5), rows_identical_up_to_ties=round(up_to_ties, 5))
        base = next((q["seconds"] for q in rows if q["name"] == "sklearn"), None)
        r["speedup_vs_sklearn"] = round(base / r["seconds"], 2) if base else None
        print(f"  {r['name']:<14} same neighbours as {ref}: {exact:.4f} of rows, {up_to_ties:.4f} up to ties")
    return rows


def matmul_gflops(seconds=1.0):
    """GFLOP/s of a (1024 x 1280) x (1280 x 4096) matmul in fp32 and in bf16 (fp32 accumulation), same run:
    whether the bf16 pre-screen can pay on this CPU (AMX: several times fp32; AVX512-BF16 alone: ~2x)."""
    import torch
    out = {}
    for name, dt in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a, b = torch.randn(1024, 1280).to(dt), torch.randn(4096, 1280).to(dt)
        a @ b.T
        reps, t = 0, time.perf_counter()
        while time.perf_counter() - t < seconds:
            a @ b.T
            reps += 1
        out[name] = round(2 * 1024 * 4096 * 1280 * reps / (time.perf_counter() - t) / 1e9, 1)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--dim", type=int, default=1280)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="5,000 points (for make bench)")
    ap.add_argument("--no-real", action="store_true", help="skip the cached CIFAR-10 features")
    ap.add_argument("--no-random", action="store_true", help="skip the random features")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--methods", default="labnoise,labnoise-bf16,sklearn,faiss")
    ap.add_argument("--name", default="bench_knn", help="JSON name under _build/bench/")
    args = ap.parse_args()
    if args.quick:
        args.n = min(args.n, 5000)

    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    methods = args.methods.split(",")
    rows = []
    if not args.no_random:
        rows += run_one(*random_features(args.n, args.dim), args.k, methods, args.threads)
    missing = []
    if not args.no_real:
        x, what = real_features(args.n, args.data_root or os.environ.get("LABNOISE_DATA"))
        if x is None:
            missing.append("cached CIFAR-10 train EfficientNet-Lite0 features (run chapter 00 or labnoise embed)")
            print("no cached CIFAR-10 Lite0 features found; skipped")
        else:
            rows += run_one(x, what, args.k, methods, args.threads)
    bad = [r for r in rows if r["rows_identical_up_to_ties"] < 1.0]
    gf = matmul_gflops()
    print(f"matmul GFLOP/s on this machine: {gf}")
    from labnoise._torch import cpu_flags
    flags = cpu_flags()
    print(f"CPU flags: {flags}")
    # the matmul limit: a symmetric self-join needs n^2 d multiply-adds (half the n x n matrix, 2 flops each)
    limit = {}
    for r in rows:
        if r["name"] in ("labnoise", "labnoise-bf16"):
            flop = float(r["n"]) ** 2 * r["dim"]
            best = max(gf.values())
            r["matmul_limit_s"] = round(flop / (best * 1e9), 2)
            r["seconds_over_matmul_limit"] = round(r["seconds"] / r["matmul_limit_s"], 2)
            limit[r["name"] + " / " + r["data"]] = r["seconds_over_matmul_limit"]
    # issue 23's target: the 50k x 1280, k = 100 self-join in at most 5 s on 2 cores (it assumes AMX; judged
    # by report.py from the rows); matmul_limit_s says what this machine's own matmul rate allows
    targets = [{"what": "exact kNN self-join, 50k x 1280, k = 100", "row": {"name": name, "n": 50000, "k": 100},
                "max_seconds": 5.0} for name in ("labnoise", "labnoise-bf16")]
    write_json(args.name, rows, title="Exact kNN self-join", compare=True, quick=bool(args.quick), skipped=missing,
               all_agree=not bad, **{"matmul_GFLOP/s_same_run": gf}, targets=targets, cpu_flags=flags,
               precision_note=("labnoise runs fp32 (its default, 'auto') and bf16 (opt-in: a bf16 pre-screen "
                               "certified per row against the fp32 answer); faiss fp32, sklearn fp64"),
               matmul_limit_note=("matmul_limit_s = n^2 d flops (the symmetric self-join's half of the n x n "
                                  "products) at the faster of the fp32/bf16 matmul rates of the same run"),
               seconds_over_matmul_limit=limit)
    print("\n| data | method | seconds | vs sklearn | same neighbours (up to ties) |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['data']} | {r['name']} | {r['seconds']:.2f} | {r['speedup_vs_sklearn']}x | "
              f"{r['rows_identical_up_to_ties']:.4f} |")
    if bad:
        print("DISAGREEMENT: " + ", ".join(f"{r['name']} on {r['data']}" for r in bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
