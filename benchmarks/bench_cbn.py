"""CBN end to end on CIFAR-sized features: ours vs the reference approach, in the same run.

ours       labnoise.tsne.tsne_map (PCA-50, Annoy-10, FFT gradients, 125 + 375 iterations, all cores)
           + labnoise.noise.cbn calibrated to 35% and to 70% (vectorised, bisection over n, exact r)
reference  sklearn.manifold.TSNE with its defaults on the raw features (what the seed paper's public code
           does) + Algorithm 1 as a per-point Python loop (labnoise.noise.cbn_loop) at the paper's
           (n=57, r=2) and (n=190, r=2), i.e. two passes and no calibration at all
middle     openTSNE with its defaults on the raw features (optional), to separate the two speed-ups

The input is synthetic by default: ``num_classes`` Gaussian clusters of Gaussian sub-clusters in ``dim``
dimensions (labnoise.noise.clustered_features); ``--dataset cifar10`` uses real cached encoder features instead.
Map quality is reported for every map: k-NN label agreement in the map (classes), sub-cluster agreement (the
structure CBN turns into noise; synthetic data only), neighbourhood preservation, and the CBN parameters each
map needs for 35% / 70%.

    python benchmarks/bench_cbn.py                       # full: 50k x 512, sklearn takes ~5 min or more
    python benchmarks/bench_cbn.py --quick               # reference on a 5,000-point subsample only
    python benchmarks/bench_cbn.py --skip-reference      # ours only
    python benchmarks/bench_cbn.py --dataset cifar10 --encoder efficientnet-lite0 --skip-reference --opentsne-defaults

Timings depend on the machine and its load; compare only numbers from the same run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labnoise.noise import cbn, cbn_loop, clustered_features  # noqa: E402
from labnoise.tsne import map_quality, tsne_map  # noqa: E402

PAPER = {"0.35": (57, 2.0), "0.70": (190, 2.0)}


def _n(n, y):
    """The paper's n, capped at the smallest class (small data sets such as digits)."""
    return int(min(n, np.bincount(y).min()))


def _quality(x, m, y, sub, seed):
    q = map_quality(x, m, y, k=10, sample=2000, seed=seed)
    if sub is None:  # real features: no ground-truth sub-clusters
        q["subcluster_agreement"] = float("nan")
        return q
    from labnoise.neighbors import knn

    key = y * 1000 + sub
    g = np.random.default_rng(seed)
    qi = np.sort(g.choice(len(m), size=min(2000, len(m)), replace=False))  # the same queries as map_quality
    _, idx = knn(m, 11, query=m[qi])
    nn = np.stack([row[row != i][:10] for row, i in zip(idx, qi)])
    q["subcluster_agreement"] = round(float(np.mean(key[nn] == key[qi, None])), 4)
    return q


def _summary(r):
    t = r.targets_per_class()
    return {"n": r.params["n"], "r": r.params["r"], "search": r.params["search"],
            "realised_rate": round(r.realised_rate, 4), "targets_per_class_mean": round(t.mean, 2),
            "top2_share": round(t.top2_share, 3)}


def _calibration(m, y, seed):
    return {rate: _summary(cbn(map_2d=m, labels=y, target_rate=float(rate), seed=seed)) for rate in PAPER}


def ours(x, y, seed):
    t0 = time.perf_counter()
    m = tsne_map(x, seed=seed)
    t1 = time.perf_counter()
    results = {rate: cbn(map_2d=m, labels=y, target_rate=float(rate), seed=seed) for rate in PAPER}
    t2 = time.perf_counter()
    return m, results, {"tsne_s": t1 - t0, "cbn_s": t2 - t1, "total_s": t2 - t0}


def reference(x, y, seed):
    from sklearn.manifold import TSNE

    t0 = time.perf_counter()
    m = TSNE(n_components=2, random_state=seed).fit_transform(x).astype(np.float32)  # defaults otherwise
    t1 = time.perf_counter()
    labels = {rate: cbn_loop(m, y, _n(n, y), r, seed=seed) for rate, (n, r) in PAPER.items()}
    t2 = time.perf_counter()
    return m, labels, {"tsne_s": t1 - t0, "cbn_s": t2 - t1, "total_s": t2 - t0}


def opentsne_defaults(x, seed):
    from openTSNE import TSNE

    from labnoise._torch import cpu_threads

    t0 = time.perf_counter()
    m = np.asarray(TSNE(n_jobs=cpu_threads(), random_state=seed).fit(x.astype(np.float64)), dtype=np.float32)
    return m, {"tsne_s": time.perf_counter() - t0, "total_s": time.perf_counter() - t0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="run the reference on a subsample (--quick-n points)")
    ap.add_argument("--quick-n", type=int, default=5000)
    ap.add_argument("--skip-reference", action="store_true", help="ours only (no sklearn)")
    ap.add_argument("--opentsne-defaults", action="store_true", help="also time openTSNE with its defaults")
    ap.add_argument("--json", type=str, default=None, help="write all numbers to this JSON file")
    ap.add_argument("--dataset", type=str, default=None,
                    help="use real training features instead of the synthetic ones, e.g. cifar10 or digits")
    ap.add_argument("--encoder", type=str, default="efficientnet-lite0", help="encoder of --dataset's features")
    ap.add_argument("--data-root", type=str, default=None)
    a = ap.parse_args(argv)

    import os
    import platform

    if a.dataset:
        from labnoise import data, features

        ds = data.load_dataset(a.dataset, root=a.data_root)
        x = features.embed(ds, "train", a.encoder, root=a.data_root)
        y, sub = np.asarray(ds.train_labels), None
        a.n, a.dim, a.classes = x.shape[0], x.shape[1], ds.num_classes
        what = f"{a.dataset} {a.encoder}"
    else:
        x, y, sub = clustered_features(a.n, a.dim, num_classes=a.classes, seed=a.seed, return_subclusters=True)
        what = "synthetic"
    print(f"# CBN end to end: {a.n} x {a.dim} {what} features, {a.classes} classes; python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    report = {"n": a.n, "dim": a.dim, "classes": a.classes, "seed": a.seed, "features": what,
              "load_start": os.getloadavg()[0], "runs": {}}

    m, res, t = ours(x, y, a.seed)
    report["runs"]["ours"] = {"timings": t, "quality": _quality(x, m, y, sub, a.seed),
                              "cbn": {k: _summary(r) for k, r in res.items()}}
    print(f"ours       t-SNE {t['tsne_s']:7.1f} s + CBN calibration x2 {t['cbn_s']:5.2f} s = {t['total_s']:7.1f} s")

    if a.opentsne_defaults:
        mo, to = opentsne_defaults(x, a.seed)
        report["runs"]["opentsne_defaults"] = {"timings": to, "quality": _quality(x, mo, y, sub, a.seed),
                                               "cbn": _calibration(mo, y, a.seed)}
        print(f"openTSNE defaults t-SNE {to['tsne_s']:7.1f} s")

    if not a.skip_reference:
        if a.quick:
            idx = np.sort(np.random.default_rng(a.seed).choice(a.n, size=min(a.quick_n, a.n), replace=False))
            xs, ys, subs = x[idx], y[idx], (None if sub is None else sub[idx])
            _, _, ts = ours(xs, ys, a.seed)
            report["runs"]["ours_subsample"] = {"n": len(idx), "timings": ts}
            print(f"ours       on the {len(idx)}-point subsample: {ts['total_s']:7.1f} s")
        else:
            xs, ys, subs = x, y, sub
        mr, labels, tr = reference(xs, ys, a.seed)
        rates = {k: round(float(np.mean(v != ys)), 4) for k, v in labels.items()}
        report["runs"]["reference"] = {"n": len(ys), "timings": tr, "quality": _quality(xs, mr, ys, subs, a.seed),
                                       "paper_settings_rates": rates, "cbn": _calibration(mr, ys, a.seed)}
        print(f"reference  t-SNE {tr['tsne_s']:7.1f} s + per-point loop x2 {tr['cbn_s']:5.2f} s = "
              f"{tr['total_s']:7.1f} s  (n={len(ys)})")
        # the vectorised CBN and the loop agree on the reference map
        same = all(np.array_equal(cbn(map_2d=mr, labels=ys, n=_n(n, ys), r=r, seed=a.seed).noisy_labels, labels[k])
                   for k, (n, r) in PAPER.items())
        report["runs"]["reference"]["vectorised_equals_loop"] = bool(same)
        base = report["runs"]["ours_subsample"]["timings"] if a.quick else t
        ratio = tr["total_s"] / base["total_s"]
        report["speedup_end_to_end"] = ratio
        print(f"\nspeed-up end to end (reference / ours, same n): {ratio:5.1f}x   "
              f"(CBN step alone: loop x2 {tr['cbn_s']:.2f} s vs calibrated x2 {base['cbn_s']:.2f} s; "
              f"vectorised == loop: {same})")

    print("\n| map | knn label agreement | sub-cluster agreement | neighbour preservation | scale | "
          "n, r for 35% | n, r for 70% | targets/class 35% / 70% |")
    print("|---|---|---|---|---|---|---|---|")
    for name, run in report["runs"].items():
        if "quality" not in run:
            continue
        q, c = run["quality"], run["cbn"]
        print(f"| {name} | {q['knn_label_agreement']:.3f} | {q['subcluster_agreement']:.3f} | "
              f"{q['neighbour_preservation']:.3f} | {q['scale']:.1f} | {c['0.35']['n']}, {c['0.35']['r']:.2f} | "
              f"{c['0.70']['n']}, {c['0.70']['r']:.2f} | {c['0.35']['targets_per_class_mean']} / "
              f"{c['0.70']['targets_per_class_mean']} |")
    if "reference" in report["runs"]:
        pr = report["runs"]["reference"]["paper_settings_rates"]
        print(f"\nreference map at the paper's settings: (57, 2) -> {pr['0.35']:.3f}, (190, 2) -> {pr['0.70']:.3f}")
    report["load_end"] = os.getloadavg()[0]
    print(f"load average at the end: {report['load_end']:.1f} (a shared, busy machine inflates every timing)")
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=2, default=float) + "\n")
    _write_rows(report, a)
    return report


def _write_rows(report, a):
    """The runs as ``_build/bench/bench_cbn.json`` rows (``benchmarks/_bench.write_json``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _bench import write_json

    names = {"ours": "ours: openTSNE FFT map + calibrated vectorised CBN",
             "ours_subsample": "ours: openTSNE FFT map + calibrated vectorised CBN",
             "opentsne_defaults": "openTSNE with its defaults (map only)",
             "reference": "reference: sklearn TSNE + per-point loop at the paper's (n, r)"}
    rows = []
    for key, run in report["runs"].items():
        n = run.get("n", report["n"])
        t = run["timings"]
        row = {"name": names.get(key, key), "seconds": round(t["total_s"], 3), "tsne_s": round(t["tsne_s"], 3),
               "cbn_s": round(t.get("cbn_s", 0.0), 3), "data": f"{n:,} x {report['dim']} {report['features']}"}
        q = run.get("quality")
        if q:
            row["knn_label_agreement"] = q.get("knn_label_agreement")
            row["neighbour_preservation"] = q.get("neighbour_preservation")
        rows.append(row)
    extra = {k: report[k] for k in ("speedup_end_to_end",) if k in report}
    ref = report["runs"].get("reference") or {}
    if "vectorised_equals_loop" in ref:
        extra["vectorised_cbn_equals_loop"] = ref["vectorised_equals_loop"]
    write_json("bench_cbn", rows, compare=True, precision="t-SNE in float64 (openTSNE, sklearn), maps float32",
               quick=bool(a.quick), classes=report["classes"], seed=report["seed"], **extra)


if __name__ == "__main__":
    main()
