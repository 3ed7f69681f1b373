"""Benchmark: every noisy-label detector of labnoise.detect on the same data, in the same run, with the time of
each detector and of each of its stages.

    python benchmarks/bench_detect.py                       # CIFAR-10 train, 50k EfficientNet-Lite0 features
                                                            # (cached), symmetric 0.6: one offline setting-seed
    python benchmarks/bench_detect.py --features synthetic  # 50k x 1280 clustered synthetic features
    python benchmarks/bench_detect.py --quick               # 3,000 synthetic x 128, few epochs (a minute)
    python benchmarks/bench_detect.py --precision fp32      # force fp32 (default: auto = bf16 on native-bf16 CPUs)
    python benchmarks/bench_detect.py --device cuda         # the torch parts on a GPU

The detectors run with the offline profile's settings of chapter 06 (DynaCor: MLP 512-512, 20 epochs, batch 128;
encoder 15 epochs, batch 1024; AUM 20 epochs x 2 runs; Confident Learning 5 folds x 10 epochs of a 512 MLP;
CORES 9 epochs; SimiFeat k 10, 5 passes) unless ``--quick``. As in the chapter, Avg.Encoder reads DynaCor's
margins of the originals (one shared dynamics run). SimiFeat runs twice on two label sets of the same features:
the second run reuses the cached neighbour graphs (``simifeat (2nd label set)``), as the chapter's other
settings do. The flipped view is the cached Lite0 features of the flipped images when they are on disk, else
(said in the JSON) the features plus small Gaussian noise.

Writes ``_build/bench/bench_detect.json`` as ``{"machine": {...}, "data": {...}, "rows": [{"name", "seconds",
...}]}``: one row per detector (wall ``seconds``, this process's ``cpu_seconds``, ``f1``) and one per stage
(``"dynacor: dynamics"``, ... wall seconds), plus the ``reference`` rows (:func:`reference_rows`): the
naive or reference way of the same work in the same run. The machine block records the precision and the CPU's
bf16/AMX flags. Timings on a shared CPU are noisy: compare rows of the same run
only; with one thread on a crowded machine, ``cpu_seconds`` is close to what one free core would take.
"""
from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np


def _lite0(n, root=None):
    from labnoise import data, features
    ds = data.load_dataset("cifar10", root=root)
    x = features.embed(ds, "train", "efficientnet-lite0", root=root, progress=False)
    try:  # only from the disk cache: computing the flipped view takes long on a CPU
        from labnoise.features import cache_path
        have = cache_path(ds, "train", "efficientnet-lite0", flip=True, root=root).exists()
    except Exception:
        have = None
    if have is False:
        xf, view = None, "features + N(0, 0.1^2) (flipped Lite0 features not cached)"
    else:
        xf, view = features.embed(ds, "train", "efficientnet-lite0", flip=True, root=root, progress=False), \
            "Lite0 features of the flipped images"
    clean = np.asarray(ds.train_labels)
    n = min(n or x.shape[0], x.shape[0])
    x, clean = x[:n], clean[:n]
    if xf is None:
        xf = (x + 0.1 * np.random.default_rng(1).standard_normal(x.shape)).astype(np.float32)
    return x, xf[:n], clean, 10, view


def _timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - t, 3), round(time.process_time() - c, 3)


def reference_rows(x, K, args, *, simifeat_k=10, steps=40):
    """The naive or reference way to do what the detectors do, timed in the same run (rows marked
    ``reference``): one SimiFeat view's neighbour graph (cosine, k) from scikit-learn's brute force, from
    labnoise.neighbors in fp32 (the default) and with the symmetric bf16 self-join (certified against fp32),
    with how many rows agree; and Confident Learning's K fold MLPs stepped one at a time (what the library
    does) vs as one batched model (a bmm prototype of the same steps) -- ``steps`` SGD steps each; and the
    dynamics recording (:func:`_recording_rows`)."""
    import torch
    from sklearn.neighbors import NearestNeighbors

    from labnoise import neighbors

    rows = []
    k = int(simifeat_k)
    (_, i32), s32, c32 = _timed(lambda: neighbors.knn(x, k, include_self=False, metric="cosine", device="cpu",
                                                      precision="fp32"))
    (_, i16), s16, c16 = _timed(lambda: neighbors.knn(x, k, include_self=False, metric="cosine", device="cpu",
                                                      precision="bf16"))
    fb = neighbors.LAST_RUN.get("fallback_rows")
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="cosine", n_jobs=args.threads)
    (_, isk), ssk, csk = _timed(lambda: nn.fit(x).kneighbors())

    def same(a, b):
        return round(float(np.mean([set(p) == set(q) for p, q in zip(a, b)])), 5)
    for name, sec, cpu, extra in (
            ("simifeat graph (one view): labnoise.neighbors fp32", s32, c32, {"precision": "fp32"}),
            ("simifeat graph (one view): labnoise.neighbors bf16 (certified)", s16, c16,
             {"precision": "bf16", "fallback_rows": fb, "same_sets_as_fp32": same(i16, i32)}),
            ("simifeat graph (one view): scikit-learn brute force", ssk, csk,
             {"precision": "fp32 (sklearn, float32 input)", "same_sets_as_fp32": same(isk, i32)})):
        rows.append({"name": name, "seconds": sec, "cpu_seconds": cpu, "reference": True, "k": k, **extra})
        print(f"{name:64s} {sec:8.2f} s wall {cpu:8.2f} s cpu", flush=True)

    # Confident Learning's fold models: one at a time vs one batched model, same shapes and steps
    import torch.nn.functional as F

    from labnoise._torch import autocast, resolve_precision
    prec = resolve_precision(args.precision, torch.device("cpu"))
    folds, B, H = 5, 128, 512
    X = torch.as_tensor(x)
    n, d = X.shape
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, n, (steps, folds, B), generator=g)
    Y = torch.randint(0, K, (steps, folds, B), generator=g)

    def one_at_a_time():
        ms = [torch.nn.Sequential(torch.nn.Linear(d, H), torch.nn.ReLU(), torch.nn.Linear(H, K))
              for _ in range(folds)]
        opts = [torch.optim.SGD(m.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4) for m in ms]
        for s in range(steps):
            for f, (m, o) in enumerate(zip(ms, opts)):
                with autocast("cpu", prec):
                    lo = m(X[idx[s, f]])
                loss = F.cross_entropy(lo.float(), Y[s, f])
                o.zero_grad()
                loss.backward()
                o.step()

    def batched():
        W1 = (0.02 * torch.randn(folds, d, H)).requires_grad_()
        b1 = torch.zeros(folds, 1, H, requires_grad=True)
        W2 = (0.02 * torch.randn(folds, H, K)).requires_grad_()
        b2 = torch.zeros(folds, 1, K, requires_grad=True)
        o = torch.optim.SGD([W1, b1, W2, b2], lr=0.02, momentum=0.9, weight_decay=5e-4)
        for s in range(steps):
            with autocast("cpu", prec):
                z = torch.relu(torch.baddbmm(b1, X[idx[s]], W1))
                lo = torch.baddbmm(b2, z, W2)
            loss = F.cross_entropy(lo.float().reshape(-1, K), Y[s].reshape(-1)) * folds
            o.zero_grad()
            loss.backward()
            o.step()
    _, s1, c1 = _timed(one_at_a_time)
    _, s2, c2 = _timed(batched)
    rows += _recording_rows(K)
    for name, sec, cpu in (("confident: 5 fold MLPs one at a time (the library), per step", s1, c1),
                           ("confident: 5 fold MLPs as one batched model (bmm prototype), per step", s2, c2)):
        rows.append({"name": name, "seconds": round(sec / steps, 5), "cpu_seconds": round(cpu / steps, 5),
                     "reference": True, "steps_timed": steps, "precision": prec, "hidden": H, "batch": B})
        print(f"{name:64s} {sec / steps * 1e3:8.2f} ms/step", flush=True)
    return rows


def _recording_rows(K, *, batches=200, batch=128):
    """Recording the training dynamics (DynaCor, Avg.Encoder, AUM): the public DynaCor code's per-example
    Python loop (``record_dynamics``: one target logit and one largest other logit per example, appended to a
    list) against labnoise's vectorised margin (:func:`labnoise.detect._dynamics._margin`) on the same logits;
    seconds per batch, and whether the two give the same margins."""
    import torch

    from labnoise.detect._dynamics import _margin

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(batches, batch, K, generator=g)
    targets = torch.randint(0, K, (batches, batch), generator=g)

    def loop():
        out = []
        for lo, ta in zip(logits, targets):
            for i in range(lo.shape[0]):
                t = int(ta[i])
                other = torch.cat([lo[i, :t], lo[i, t + 1:]]).max()
                out.append(lo[i, t].item() - other.item())
        return np.array(out, dtype=np.float32)

    def vectorised():
        return torch.cat([_margin(lo, ta) for lo, ta in zip(logits, targets)]).numpy()
    a, s1, c1 = _timed(loop)
    b, s2, c2 = _timed(vectorised)
    same = bool(np.allclose(a, b, atol=1e-6))
    rows = []
    for name, sec, cpu in (("dynamics recording: per-example Python loop (public DynaCor code), per batch", s1, c1),
                           ("dynamics recording: vectorised margin (labnoise), per batch", s2, c2)):
        rows.append({"name": name, "seconds": round(sec / batches, 6), "cpu_seconds": round(cpu / batches, 6),
                     "reference": True, "batches_timed": batches, "batch": batch, "same_margins": same})
        print(f"{name:64s} {sec / batches * 1e3:8.3f} ms/batch", flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", choices=("lite0", "synthetic"), default=None,
                    help="lite0 (default; synthetic with --quick)")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--dim", type=int, default=None, help="synthetic only")
    ap.add_argument("--classes", type=int, default=10, help="synthetic only")
    ap.add_argument("--rate", type=float, default=0.6, help="symmetric noise rate")
    ap.add_argument("--quick", action="store_true", help="small sizes and few epochs")
    ap.add_argument("--methods", nargs="*", default=None)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: one core)")
    ap.add_argument("--out", default="_build/bench/bench_detect.json")
    args = ap.parse_args(argv)

    import torch

    from labnoise import noise, results
    from labnoise._torch import resolve_precision
    from labnoise.detect import METHODS, f1_noisy, find_noisy

    if args.threads:
        torch.set_num_threads(args.threads)
    kind = args.features or ("synthetic" if args.quick else "lite0")
    if kind == "lite0":
        x, flipped, clean, K, view = _lite0(args.n)
    else:
        n = args.n or (3000 if args.quick else 50000)
        dim = args.dim or (128 if args.quick else 1280)
        K = args.classes
        x, clean = noise.clustered_features(n=n, dim=dim, num_classes=K, seed=0)
        flipped = (x + 0.1 * np.random.default_rng(1).standard_normal(x.shape)).astype(np.float32)
        view = "features + N(0, 0.1^2)"
    y = noise.symmetric(clean, args.rate, num_classes=K, seed=0).noisy_labels
    y2 = noise.pairflip(clean, 0.3, num_classes=K, seed=0).noisy_labels
    ep = {"epochs": 5} if args.quick else {}
    prec = {"precision": args.precision, "device": args.device}
    opts = {"dynacor": {**ep, **prec, **({"encoder_epochs": 5, "encoder_lr": 1e-3} if args.quick else {})},
            "avg_encoder": {**ep, **prec}, "aum": {**ep, **prec},
            "confident": {"epochs": 3 if args.quick else 10, "hidden": (512,), **prec},
            "simifeat": {**prec}, "cores": {"epochs": 6 if args.quick else 9, **prec}}
    rows, results_ = [], {}
    for m in args.methods or list(METHODS):
        o = dict(opts[m])
        if m == "avg_encoder" and "dynacor" in results_:   # the chapter's shared dynamics run
            o["margins"] = results_["dynacor"].extras["margins_originals"]
        t, c = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            r = find_noisy(y, x, method=m, seed=0, flipped_features=flipped, **o)
        sec, cpu = time.perf_counter() - t, time.process_time() - c
        results_[m] = r
        rows.append({"name": m, "seconds": round(sec, 3), "cpu_seconds": round(cpu, 3),
                     "f1": round(f1_noisy(r.is_noisy, y, clean), 4), "flagged": int(r.is_noisy.sum()),
                     "precision": r.settings.get("precision")})
        print(f"{m:28s} {sec:8.2f} s wall {cpu:8.2f} s cpu   F1 {rows[-1]['f1']:.3f}", flush=True)
        for stage, s in r.extras.get("timings", {}).items():
            rows.append({"name": f"{m}: {stage}", "seconds": round(s, 3)})
            print(f"  {stage:26s} {s:8.2f} s wall", flush=True)
        if m == "dynacor":  # same inputs, same seed, same process: the flags must come back byte-identical
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                again, sec2, cpu2 = _timed(lambda: find_noisy(y, x, method=m, seed=0, flipped_features=flipped, **o))
            rows.append({"name": "dynacor, run again with the same seed", "seconds": sec2, "cpu_seconds": cpu2,
                         "identical_flags": bool(again.is_noisy.tobytes() == r.is_noisy.tobytes()),
                         "identical_scores": bool(again.score.tobytes() == r.score.tobytes())})
            print(f"{'dynacor again (same seed)':28s} identical flags: {rows[-1]['identical_flags']}", flush=True)
        if m == "avg_encoder" and "margins" in o:  # the reference: Avg.Encoder training its own classifier
            o2 = {k: v for k, v in o.items() if k != "margins"}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                r_own, sec2, cpu2 = _timed(lambda: find_noisy(y, x, method=m, seed=0, **o2))
            rows.append({"name": "avg_encoder, its own training run (not sharing DynaCor's dynamics)",
                         "seconds": sec2, "cpu_seconds": cpu2, "reference": True,
                         "f1": round(f1_noisy(r_own.is_noisy, y, clean), 4)})
            print(f"{'avg_encoder (own run)':28s} {sec2:8.2f} s wall {cpu2:8.2f} s cpu", flush=True)
        if m == "simifeat":  # a second label set on the same features: the neighbour graphs are cached
            t, c = time.perf_counter(), time.process_time()
            r2 = find_noisy(y2, x, method=m, seed=0, flipped_features=flipped, **o)
            sec, cpu = time.perf_counter() - t, time.process_time() - c
            rows.append({"name": "simifeat (2nd label set, cached graphs)", "seconds": round(sec, 3),
                         "cpu_seconds": round(cpu, 3), "f1": round(f1_noisy(r2.is_noisy, y2, clean), 4)})
            print(f"{'simifeat (2nd label set)':28s} {sec:8.2f} s wall {cpu:8.2f} s cpu", flush=True)
    rows += reference_rows(x, K, args, simifeat_k=opts["simifeat"].get("k", 10))
    main_rows = [r for r in rows if r["name"] in METHODS]  # one row per detector, not its stages or extra runs
    total = sum(r["seconds"] for r in main_rows)
    total_cpu = sum(r["cpu_seconds"] for r in main_rows)
    rows.append({"name": "total (one setting-seed)", "seconds": round(total, 3), "cpu_seconds": round(total_cpu, 3)})
    print(f"{'total (one setting-seed)':28s} {total:8.2f} s wall {total_cpu:8.2f} s cpu", flush=True)
    from labnoise._torch import cpu_flags
    out = {"machine": {**results.machine(), "torch_threads": torch.get_num_threads(), "device": args.device,
                       "precision": resolve_precision(args.precision, torch.device(args.device)),
                       "precision_requested": args.precision, "cpu_flags": cpu_flags(),
                       "load_avg_1min_end": round(__import__("os").getloadavg()[0], 2)},
           "reference_note": ("rows with reference=true time the same work done the naive or reference way, in "
                              "the same run: a SimiFeat view's graph from scikit-learn vs labnoise.neighbors, "
                              "its symmetric bf16 self-join, Confident Learning's fold models stepped one at "
                              "a time vs as one batched (bmm) model, Avg.Encoder training its own classifier vs "
                              "reading DynaCor's dynamics, and the public DynaCor code's per-example recording "
                              "loop vs the vectorised margin"),
           "data": {"n": int(x.shape[0]), "dim": int(x.shape[1]), "classes": K,
                    "noise": f"symmetric {args.rate} (SimiFeat's 2nd set: pair flip 0.3)", "features": kind,
                    "flipped_view": view, "quick": args.quick},
           "rows": rows}
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=2))
    tmp.replace(path)
    print(f"wrote {path}")
    return out


if __name__ == "__main__":
    main()
