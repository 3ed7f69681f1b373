"""SNLS targets and LRA-Diffusion on CIFAR-sized frozen features: ours vs naive, in the same run.

1. SNLS soft labels from a precomputed (N, k) neighbour table:
   ours   one ``np.bincount`` over ``row * C + label`` (labnoise.methods.snls.neighbor_label_freq + soften)
   naive  a per-example Python loop building each histogram (what a direct transcription of the formula does)
   The two outputs are checked to be identical.
2. LRA-Diffusion training: seconds per epoch with fp32 vs bf16 autocast (``precision=``), same data and seed,
   plus the test accuracy of both on a synthetic clustered problem, so that the speed-up is not bought with
   accuracy.
3. LRA-Diffusion inference: seconds per 10,000 examples for 1, 5 and 10 generated labels per example.

The input is synthetic: ``num_classes`` Gaussian clusters of sub-clusters in ``dim`` dimensions
(labnoise.noise.clustered_features), with 35% symmetric label noise.

    python benchmarks/bench_lra.py            # N = 50,000 x 1280 (the size of CIFAR-10 + Lite0 features)
    python benchmarks/bench_lra.py --quick    # N = 10,000 x 256

Timings depend on the machine and its load; compare only numbers from the same run.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labnoise.methods.lra_diffusion import LRADiffusion  # noqa: E402
from labnoise.methods.snls import neighbor_indices, neighbor_label_freq, soften  # noqa: E402


def naive_snls(nbr, labels, C, alpha):
    out = np.zeros((nbr.shape[0], C), np.float32)
    for i in range(nbr.shape[0]):
        for j in nbr[i]:
            out[i, labels[j]] += (1 - alpha) / nbr.shape[1]
        out[i, labels[i]] += alpha
    return out


def data(n, dim, C, seed):
    from labnoise.noise import clustered_features

    res = clustered_features(n + n // 5, num_classes=C, dim=dim, seed=seed, class_sep=0.25, sub_sep=0.25, noise=1.0)
    x, y = res[0], res[1]
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.int64)
    r = np.random.default_rng(seed)
    noisy = y.copy()
    flip = r.random(len(y)) < 0.35
    noisy[flip] = (y[flip] + r.integers(1, C, flip.sum())) % C
    return x[:n], noisy[:n], x[n:], y[n:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10,000 x 256 instead of 50,000 x 1280 (make bench)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    n, dim = (10_000, 256) if args.quick else (50_000, 1280)
    C, k = 10, 100
    X, noisy, Xte, yte = data(n, dim, C, 0)
    print(f"N={n} x {dim}, C={C}, k={k}, torch threads={torch.get_num_threads()}")

    t = time.perf_counter()
    nbr = neighbor_indices(X, k, device="cpu")
    t_knn = time.perf_counter() - t
    t = time.perf_counter()
    ours = soften(neighbor_label_freq(nbr, noisy, num_classes=C), noisy, alpha=0.3)
    t_ours = time.perf_counter() - t
    m = min(n, 5000)
    t = time.perf_counter()
    ref = naive_snls(nbr[:m], noisy, C, 0.3)
    t_naive = (time.perf_counter() - t) * n / m
    assert np.allclose(ours[:m], ref, atol=1e-6), "vectorised and naive SNLS targets differ"
    print("\n1. SNLS targets (k=100, alpha=0.3) from the neighbour table")
    print(f"   exact kNN search (labnoise.neighbors.knn)   {t_knn:8.2f} s")
    print(f"   ours: bincount                              {t_ours:8.3f} s")
    print(f"   naive per-example loop (extrapolated from {m}) {t_naive:8.2f} s   ratio {t_naive / t_ours:7.0f}x")

    print(f"\n2. LRA-Diffusion training on SNLS targets, {args.epochs} epochs, batch 512, hidden 256")
    print(f"   {'precision':10s} {'s/epoch':>8s} {'test acc':>9s}")
    rows = {}
    for prec in ("fp32", "bf16"):
        model = LRADiffusion(seed=0, epochs=args.epochs, batch_size=512, hidden=256, precision=prec, device="cpu",
                             progress=False)
        t = time.perf_counter()
        model.fit(X, ours)
        dt = (time.perf_counter() - t) / args.epochs
        rows[prec] = (dt, model.score(Xte, yte), model)
        print(f"   {prec:10s} {dt:8.2f} {100 * rows[prec][1]:8.2f}%")
    print(f"   bf16 speed-up {rows['fp32'][0] / rows['bf16'][0]:.2f}x")

    print("\n3. LRA-Diffusion inference (bf16 model, 10 DDIM steps), per 10,000 examples")
    model = rows["bf16"][2]
    xs = np.resize(Xte, (10_000, dim)).astype(np.float32)
    infer = {}
    for s in (1, 5, 10):
        t = time.perf_counter()
        model.predict(xs, n_samples=s)
        infer[s] = time.perf_counter() - t
        print(f"   n_samples={s:2d} {infer[s]:8.2f} s")

    from _bench import write_json

    what = f"{n:,} x {dim} synthetic, k={k}"
    out = [{"name": "SNLS targets: ours (bincount)", "kind": "SNLS targets", "seconds": t_ours, "data": what,
            "precision": "fp32"},
           {"name": f"SNLS targets: naive per-example loop (extrapolated from {m:,})", "kind": "SNLS targets",
            "seconds": t_naive, "data": what, "precision": "fp32"},
           {"name": "exact kNN search (labnoise.neighbors.knn)", "kind": "kNN", "seconds": t_knn, "data": what,
            "precision": "auto (bf16 products where the CPU has native bf16)"}]
    out += [{"name": f"LRA-Diffusion epoch, {p}", "kind": "LRA-Diffusion epoch", "seconds": rows[p][0], "data": what,
             "precision": p, "test_accuracy": round(rows[p][1], 4)} for p in ("fp32", "bf16")]
    out += [{"name": f"LRA-Diffusion inference, {s} sample(s) per example, 10,000 examples", "kind": f"inference {s}",
             "seconds": v, "data": what, "precision": "bf16"} for s, v in infer.items()]
    write_json("bench_lra", out, compare=True, precision="per row (fp32 or bf16 autocast)",
               settings={"n": n, "dim": dim, "k": k, "epochs": args.epochs, "batch_size": 512, "hidden": 256,
                         "threads": torch.get_num_threads()})


if __name__ == "__main__":
    main()
