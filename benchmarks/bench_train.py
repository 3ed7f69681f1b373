"""Benchmark: seconds per training epoch, per method, in each lane, on this machine (CPU unless a GPU is found).

    python benchmarks/bench_train.py                      # features lane 50k x 1280 MLP; pixel lane on 256 images
    python benchmarks/bench_train.py --n 10000 --pixel-n 128 --threads 1

* features lane: random float32 features (N x 1280), MLP 1280-512-10, batch 128, SGD; two epochs per method,
  the mean epoch time is reported. PLC runs with ``warmup_epochs=0`` so that its end-of-epoch correction pass
  over all N examples (after epoch 1) is included.
* pixel lane: random uint8 images (n x 32 x 32 x 3) with on-device crop+flip, batch 64; one epoch per model and
  method; the per-epoch time for 50,000 images is extrapolated linearly (``x 50000 / n``).

Timings on a shared, busy CPU are noisy; compare rows of the same run.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--dim", type=int, default=1280)
    ap.add_argument("--pixel-n", type=int, default=256)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--methods", default="ce,gce,coteaching,coteaching+,plc")
    ap.add_argument("--models", default="fastcifar,resnet18")
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()

    import torch

    from labnoise._torch import resolve_device
    from labnoise.methods import get_method
    from labnoise.train import fit
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = resolve_device(args.device)
    methods = args.methods.split(",")
    print(f"device {dev}; torch threads {torch.get_num_threads()}; cpus {os.cpu_count()}; "
          f"load avg {os.getloadavg()[0]:.1f}" + ("" if dev.type == "cuda" else "; no GPU here: pixel-lane rows "
                                                   "are CPU numbers, extrapolated"))
    rng = np.random.default_rng(0)
    C = 10
    centres = rng.normal(size=(C, args.dim)).astype(np.float32)
    y = rng.integers(0, C, args.n)
    x = centres[y] + rng.normal(size=(args.n, args.dim)).astype(np.float32)

    def make(name):
        return get_method(name, warmup_epochs=0) if name == "plc" else (
            get_method(name, noise_rate=0.35) if name.startswith("coteaching") else get_method(name))

    print(f"\nfeatures lane: {args.n} x {args.dim}, MLP 1280-512-{C}, batch 128, mean of 2 epochs")
    print("| method | s / epoch | vs ce |\n|---|---|---|")
    base = None
    for m in methods:
        r = fit("mlp", x, y, method=make(m), epochs=2, batch_size=128, lr=0.05, seed=0, progress=False,
                device=dev)
        s = float(np.mean([h["time_s"] for h in r.history]))
        base = base or s
        print(f"| {m} | {s:.2f} | {s / base:.2f}x |", flush=True)

    n = args.pixel_n
    if n <= 0:
        return
    imgs = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    ly = rng.integers(0, C, n)
    print(f"\npixel lane: {n} images 32x32x3, crop+flip on the device, batch 64, 1 epoch, extrapolated to 50,000")
    print("| model | method | s / epoch (n) | s / epoch (50k, extrapolated) | img/s |\n|---|---|---|---|---|")
    for model in args.models.split(","):
        for m in (methods if model == args.models.split(",")[0] else ["ce", "coteaching+"]):
            if m not in methods:
                continue
            r = fit(model, imgs, ly, method=make(m), epochs=1, batch_size=64, lr=0.05, seed=0, progress=False,
                    augment="crop_flip", device=dev, num_classes=C)
            s = r.history[0]["time_s"]
            print(f"| {model} | {m} | {s:.2f} | {s * 50000 / n:.0f} | {n / s:.0f} |", flush=True)


if __name__ == "__main__":
    main()
