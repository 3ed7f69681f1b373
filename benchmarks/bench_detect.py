"""Benchmark: every noisy-label detector of labnoise.detect on the same data, in the same run.

    python benchmarks/bench_detect.py               # 50k x 1280 synthetic clustered features, 40% symmetric noise
    python benchmarks/bench_detect.py --quick       # 3,000 x 128, fewer epochs (seconds to a minute on a CPU)
    python benchmarks/bench_detect.py --device cuda # the torch parts on a GPU

The detectors run with the paper's settings (DynaCor: MLP 512-512, 20 epochs, batch 128; encoder 15 epochs,
batch 1024) unless ``--quick``. Writes ``_build/bench/bench_detect.json`` as ``{"machine": {...}, "rows":
[{"name", "seconds", "f1", ...}]}``. Timings on a shared CPU are noisy: compare rows of the same run only.
"""
from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--dim", type=int, default=None)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--rate", type=float, default=0.4)
    ap.add_argument("--quick", action="store_true", help="small sizes and few epochs")
    ap.add_argument("--methods", nargs="*", default=None)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--out", default="_build/bench/bench_detect.json")
    args = ap.parse_args(argv)

    import torch

    from labnoise import noise, results
    from labnoise.detect import METHODS, f1_noisy, find_noisy

    if args.threads:
        torch.set_num_threads(args.threads)
    n = args.n or (3000 if args.quick else 50000)
    dim = args.dim or (128 if args.quick else 1280)
    x, clean = noise.clustered_features(n=n, dim=dim, num_classes=args.classes, seed=0)
    rng = np.random.default_rng(1)
    flipped = (x + 0.1 * rng.standard_normal(x.shape)).astype(np.float32)
    y = noise.symmetric(clean, args.rate, num_classes=args.classes, seed=0).noisy_labels
    ep = {"epochs": 5} if args.quick else {}
    opts = {"dynacor": {**ep, **({"encoder_epochs": 5, "encoder_lr": 1e-3} if args.quick else {})},
            "avg_encoder": dict(ep), "aum": dict(ep), "confident": {"epochs": 3} if args.quick else {},
            "simifeat": {}, "cores": {"epochs": 6 if args.quick else 9}}  # 9: see labnoise/detect/cores.py
    rows = []
    for m in args.methods or list(METHODS):
        o = dict(opts[m])
        if m in ("dynacor", "simifeat"):
            o["flipped_features"] = flipped
        if m != "simifeat":
            o["device"] = args.device
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            r = find_noisy(y, x, method=m, seed=0, **o)
        sec = time.perf_counter() - t
        rows.append({"name": m, "seconds": round(sec, 3), "f1": round(f1_noisy(r.is_noisy, y, clean), 4),
                     "flagged": int(r.is_noisy.sum())})
        print(f"{m:12s} {sec:8.2f} s   F1 {rows[-1]['f1']:.3f}", flush=True)
    out = {"machine": {**results.machine(), "torch_threads": torch.get_num_threads(), "device": args.device},
           "data": {"n": n, "dim": dim, "classes": args.classes, "noise": f"symmetric {args.rate}",
                    "features": "noise.clustered_features (synthetic)", "quick": args.quick},
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
