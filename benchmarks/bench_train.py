"""Benchmark: seconds per training epoch in the frozen-feature lane, naive loop against :func:`labnoise.train.fit`,
fp32 against bf16, and one chapter-03 grid cell; optionally the pixel lane.

    python benchmarks/bench_train.py                 # 50k Lite0 features (random when not cached), 1 thread
    python benchmarks/bench_train.py --quick         # 10k rows, 2 repeats, a 2-epoch cell: a minute or two

* features: the cached EfficientNet-Lite0 features of CIFAR-10 (train, and test for the evaluation) when the data
  root has them, else random float32 features of the same shape; MLP 1280-512-10, batch 128, SGD (lr 0.05,
  momentum 0.9, weight decay 5e-4, cosine): chapter 03's offline settings.
* ``naive fp32`` / ``naive bf16``: a plain PyTorch loop (per-batch gather of float32 rows, torch's default
  SGD step, bf16 by autocast per batch) -- what the training loop did before it was tuned;
  ``fit fp32`` / ``fit bf16``: :func:`labnoise.train.fit` with ``precision=`` (fused optimiser step and the
  features rounded to bf16 once in bf16; fp32 is the default and reproduces earlier numbers bit for bit).
  Epoch time includes fit's per-epoch evaluation on the 10k test rows (the naive loop evaluates the same way).
  Each epoch row is one-epoch runs repeated ``--repeats`` times, the variants interleaved so that a burst of
  load on a shared machine hits all of them; ``seconds`` is the fastest repeat, ``median_s`` the median.
* ``cell``: :func:`labnoise.grid.lnl_cell` as chapter 03 runs it (``--cell-epochs`` epochs, test accuracy every
  epoch), per method in ``--cell-methods``, fp32 and bf16.
* ``--pixel-n N``: also one epoch per pixel model on N random images, extrapolated to 50,000.

Writes ``_build/bench/bench_train.json`` (``benchmarks/_bench.write_json``; every row says its precision).
Timings on a shared, busy CPU are noisy: compare rows of the same run only.
"""
from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np


def _features(n, dim, progress=False):
    """Lite0 CIFAR-10 features (train[:n], test) when cached, else random ones; and a description."""
    try:
        from labnoise.features import cache_path, embed
        paths = [cache_path("cifar10", s, "efficientnet-lite0") for s in ("train", "test")]
        if all(p is not None and Path(p).exists() for p in paths):
            x = embed("cifar10", "train", "efficientnet-lite0", progress=progress)[:n]
            xt = embed("cifar10", "test", "efficientnet-lite0", progress=progress)
            return x, xt, "cached CIFAR-10 EfficientNet-Lite0 features"
    except Exception as e:  # noqa: BLE001 - any missing piece -> random features
        print(f"(no cached Lite0 features: {e}; using random ones)")
    rng = np.random.default_rng(0)
    c = rng.normal(size=(10, dim)).astype(np.float32)
    y, yt = rng.integers(0, 10, n), rng.integers(0, 10, 10000)
    return (c[y] + rng.normal(size=(n, dim)).astype(np.float32),
            c[yt] + rng.normal(size=(10000, dim)).astype(np.float32), "random features")


def naive_epochs(x, y, xt, yt, *, epochs=1, precision, batch_size=128, lr=0.05, hidden=512, seed=0):
    """Seconds per epoch of a plain loop: fp32 rows gathered per batch, default SGD step, autocast per batch."""
    import contextlib

    import torch
    torch.manual_seed(seed)
    C = int(max(y.max(), yt.max()) + 1)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, C))
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    X, Y = torch.from_numpy(np.array(x, np.float32)), torch.from_numpy(np.array(y, np.int64))
    Xt, Yt = torch.from_numpy(np.array(xt, np.float32)), torch.from_numpy(np.array(yt, np.int64))
    steps = math.ceil(len(x) / batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / (steps * epochs))))
    amp = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        for idx in torch.randperm(len(x)).split(batch_size):
            with amp():
                out = net(X[idx])
            loss = torch.nn.functional.cross_entropy(out.float(), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        with torch.no_grad(), amp():
            acc = float((net(Xt).argmax(1) == Yt).float().mean())
        times.append(time.perf_counter() - t)
    return float(np.mean(times)), acc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--dim", type=int, default=1280, help="width of the random features (cached ones: 1280)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved one-epoch repeats per epoch-time row")
    ap.add_argument("--methods", default="ce,coteaching", help="methods of the fit rows")
    ap.add_argument("--cell-methods", default="ce", help="methods of the chapter-03 cell rows ('' = none)")
    ap.add_argument("--cell-epochs", type=int, default=10)
    ap.add_argument("--pixel-n", type=int, default=0)
    ap.add_argument("--models", default="fastcifar,resnet18")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (chapter 03 trains on 1)")
    ap.add_argument("--quick", action="store_true", help="10k rows, 2 repeats, a 2-epoch cell")
    args = ap.parse_args()
    if args.quick:
        args.n, args.repeats, args.cell_epochs = min(args.n, 10000), 2, 2

    import torch

    from labnoise._torch import cpu_has_bf16
    from labnoise.grid import lnl_cell
    from labnoise.methods import get_method
    from labnoise.train import fit

    torch.set_num_threads(args.threads)
    x, xt, source = _features(args.n, args.dim)
    # the labels do not change the cost; the clean ones make the accuracies meaningful when they are at hand
    try:
        from labnoise.data import load_dataset
        ds = load_dataset("cifar10", download=False)
        y, yt = np.asarray(ds.train_labels)[:len(x)], np.asarray(ds.test_labels)
        assert len(y) == len(x) and len(yt) == len(xt)
    except Exception:  # noqa: BLE001
        rng = np.random.default_rng(1)
        y, yt = rng.integers(0, 10, len(x)), rng.integers(0, 10, len(xt))
    print(f"{source}: train {x.shape}, test {xt.shape}; torch {torch.__version__}, {torch.get_num_threads()} "
          f"thread(s), native bf16: {cpu_has_bf16()}, load avg {os.getloadavg()[0]:.1f}")
    rows = []

    def row(name, seconds, **extra):
        precision = "bf16" if "bf16" in name else "fp32"  # every row names its precision; fit's default is fp32
        rows.append({"name": name, "seconds": round(float(seconds), 3), "precision": precision, **extra})
        acc = f"  test acc {extra['test_acc']:.3f}" if "test_acc" in extra else ""
        print(f"{name:44s} {seconds:8.2f} s{acc}", flush=True)

    def make(name):
        return get_method(name, noise_rate=0.35) if name.startswith("coteaching") else get_method(name)

    kw = dict(epochs=1, batch_size=128, lr=0.05, weight_decay=5e-4, seed=0, progress=False,
              device="cpu", model_kwargs={"hidden": (512,)}, x_test=xt, y_test=yt)
    print(f"\nseconds per epoch (fastest of {args.repeats} interleaved repeats), MLP {x.shape[1]}-512-10, "
          "batch 128, SGD")

    def fit_epoch(m, prec):
        r = fit("mlp", x, y, method=make(m), precision=prec, **kw)
        return r.history[0]["time_s"], r.final["test_acc"]

    variants = {f"epoch: naive {p} (ce)": (lambda p=p: naive_epochs(x, y, xt, yt, precision=p))
                for p in ("fp32", "bf16")}
    for m in [m for m in args.methods.split(",") if m]:
        for p in ("fp32", "bf16"):
            variants[f"epoch: fit {p} ({m})"] = lambda m=m, p=p: fit_epoch(m, p)
    times = {k: [] for k in variants}
    accs = {}
    for _ in range(args.repeats):
        for name, f in variants.items():
            t, accs[name] = f()
            times[name].append(t)
    for name, ts in times.items():
        row(name, min(ts), median_s=round(float(np.median(ts)), 3), all_s=[round(t, 3) for t in ts],
            test_acc=accs[name], kind="epoch")
    base = {r["name"]: r["seconds"] for r in rows}
    for prec in ("fp32", "bf16"):
        key = f"epoch: fit {prec} (ce)"
        if key in base:
            print(f"  fit {prec} (ce): {base['epoch: naive fp32 (ce)'] / base[key]:.2f}x the speed of naive fp32")

    cell_methods = [m for m in args.cell_methods.split(",") if m]
    if cell_methods:
        print(f"\nchapter-03 grid cell: {args.cell_epochs} epochs, test accuracy every epoch")
        tkw = dict(epochs=args.cell_epochs, batch_size=128, lr=0.05, optimizer="sgd", weight_decay=5e-4,
                   threads=args.threads, model_kwargs={"hidden": (512,)})
        for m in cell_methods:
            for prec in ("fp32", "bf16"):
                t = time.perf_counter()
                out = lnl_cell(m, x, y, x_test=xt, y_test=yt, rate=0.35, train_kwargs=tkw, seed=0, device="cpu",
                               precision=prec)
                row(f"cell: {m} {prec}", time.perf_counter() - t, test_acc=out["test_acc"], kind="cell",
                    epochs=args.cell_epochs)

    if args.pixel_n > 0:
        n = args.pixel_n
        rng = np.random.default_rng(0)
        imgs = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        ly = rng.integers(0, 10, n)
        print(f"\npixel lane: {n} random images, crop+flip, batch 64, 1 epoch, extrapolated to 50,000")
        for model in args.models.split(","):
            r = fit(model, imgs, ly, epochs=1, batch_size=64, lr=0.05, seed=0, progress=False,
                    augment="crop_flip", device="auto", num_classes=10)
            s = r.history[0]["time_s"]
            row(f"pixels: {model} ce (50k extrapolated)", s * 50000 / n, kind="pixels", n=n)

    from _bench import write_json

    write_json("bench_train", rows, data={"source": source, "n_train": int(len(x)), "n_test": int(len(xt)),
                                          "dim": int(x.shape[1])}, threads=args.threads)


if __name__ == "__main__":
    main()
