"""EfficientNet-Lite0 embedding speed on this machine, and what the fast settings cost in kNN accuracy.

    python benchmarks/bench_embed.py [--root DIR] [--n 256] [--refs 2000] [--queries 500] [--json out.json]
    python benchmarks/bench_embed.py --quick     # 128 images, one round (make bench)

Writes ``_build/bench/bench_embed.json`` (``benchmarks/_bench.write_json``).

1. Speed (images/s, same images, same run): the naive loop (fp32, NCHW, unfused batch norms, torch.no_grad,
   224 px, default threads) against labnoise's path (``embed``: batch norms folded, channels_last, bf16 where the
   CPU has native bf16, inference_mode, all cores, 128 px), plus the steps in between, so that each gain shows.
2. Accuracy (CIFAR-10, needs the data root): cosine kNN-10 accuracy of ``--queries`` test images against ``--refs``
   training images (class-balanced, seeded) for 128 vs 224 px, bf16 vs fp32, and right vs wrong input scaling;
   and, when the full offline cache exists, kNN-10 on the whole test set against all 50k training images.

Timings depend on the machine's load: run it on a quiet machine, and compare ratios within one run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labnoise import features  # noqa: E402
from labnoise._torch import cpu_threads  # noqa: E402
from labnoise.encoders.efficientnet_lite import lite0, preprocess  # noqa: E402


def _images(root, n):
    from labnoise import data

    if data.has_files("cifar10", root):
        ds = data.load_dataset("cifar10", root=root, download=False)
        return ds, np.ascontiguousarray(ds.test_images[:n])
    print("CIFAR-10 not in the data root: timing on random 32x32 images, no accuracy part.")
    return None, np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def _rate(fn, n, batch):
    """Images per second of ``fn(start, stop)`` over rows [0, n) in batches (after one warm-up batch)."""
    fn(0, min(batch, n))  # warm-up (oneDNN picks its kernels on the first call)
    t = time.perf_counter()
    for s in range(0, n, batch):
        fn(s, min(s + batch, n))
    return n / (time.perf_counter() - t)


def speed(images, batch=64, rounds=3):
    default_threads = torch.get_num_threads()
    naive = lite0(fuse=False)

    def naive_loop(a, b, size=224):
        with torch.no_grad():
            x = preprocess(torch.from_numpy(images[a:b].copy()), size).contiguous()  # NCHW
            return naive.forward_features(x).numpy()

    def variant(size, channels_last, fused, dtype):
        net = lite0(fuse=fused).to(dtype)
        if channels_last:
            net = net.to(memory_format=torch.channels_last)

        def run(a, b):
            torch.set_num_threads(cpu_threads())
            with torch.inference_mode():
                x = preprocess(torch.from_numpy(images[a:b].copy()), size).to(dtype)
                x = x if channels_last else x.contiguous()
                return net.feature_map(x).float().mean((2, 3)).numpy()
        return run

    bf16 = torch.bfloat16 if features._cpu_has_bf16() else torch.float32
    tag = "bf16" if bf16 is torch.bfloat16 else "fp32 (no native bf16 on this CPU)"
    rows = [("naive: fp32 NCHW unfused no_grad 224 px, default threads", lambda a, b: naive_loop(a, b, 224)),
            ("fp32 channels_last, 224 px", variant(224, True, False, torch.float32)),
            ("fp32 channels_last + BN folded, 224 px", variant(224, True, True, torch.float32)),
            (f"{tag} channels_last + BN folded, 224 px", variant(224, True, True, bf16)),
            ("naive settings at 128 px", lambda a, b: naive_loop(a, b, 128)),
            (f"{tag} channels_last + BN folded, 128 px", variant(128, True, True, bf16))]
    # the real thing, end to end: labnoise.features.embed on a Dataset of these images (cache off)
    from labnoise.data import Dataset

    ds = Dataset("bench", ["x"], images, np.zeros(len(images), int), images[:1], np.zeros(1, int))

    def labnoise_embed(a, b):  # embed() sets the threads itself
        return features.embed(ds, "train", "efficientnet-lite0", indices=np.arange(a, b), cache=False,
                              progress=False, batch_size=batch)
    rows.append(("labnoise embed() end to end (128 px, auto precision)", labnoise_embed))

    # round-robin rounds, best round per setting: the load of a shared machine changes from minute to minute
    out = {name: 0.0 for name, _ in rows}
    for r in range(rounds):
        for name, fn in rows:
            torch.set_num_threads(default_threads)
            out[name] = max(out[name], _rate(fn, len(images), batch))
        print(f"  round {r + 1}/{rounds} done", flush=True)
    torch.set_num_threads(default_threads)
    base = out[rows[0][0]]
    for name, _ in rows:
        print(f"  {out[name]:8.1f} img/s  {out[name] / base:5.1f}x  {name}")
    print(f"  speed-up of embed() over the naive loop: {out[rows[-1][0]] / base:.1f}x "
          f"(same settings at 224 px: {out[rows[3][0]] / base:.1f}x)")
    return out


def knn_accuracy(train_x, train_y, test_x, test_y, k=10, num_classes=10, cosine=True):
    """kNN-k accuracy (majority vote) with cosine similarity (default) or Euclidean distance."""
    tr, te = torch.tensor(train_x, dtype=torch.float32), torch.tensor(test_x, dtype=torch.float32)
    if cosine:
        tr, te = torch.nn.functional.normalize(tr, dim=1), torch.nn.functional.normalize(te, dim=1)
    ytr = torch.tensor(train_y)
    correct = 0
    for s in range(0, len(te), 1000):
        if cosine:
            nn_idx = (te[s:s + 1000] @ tr.T).topk(k).indices
        else:
            nn_idx = torch.cdist(te[s:s + 1000], tr).topk(k, largest=False).indices
        votes = torch.nn.functional.one_hot(ytr[nn_idx], num_classes).sum(1)
        correct += int((votes.argmax(1).numpy() == test_y[s:s + 1000]).sum())
    return correct / len(te)


def accuracy(ds, refs, queries, root):
    g = np.random.default_rng(0)
    per = refs // ds.num_classes
    tr_idx = np.concatenate([g.choice(np.flatnonzero(ds.train_labels == c), per, replace=False)
                             for c in range(ds.num_classes)])
    te_idx = np.sort(g.choice(len(ds.test_labels), queries, replace=False))
    ytr, yte = ds.train_labels[tr_idx], ds.test_labels[te_idx]

    def emb(images, size, dtype, scale):
        net = lite0().to(dtype).to(memory_format=torch.channels_last)
        out = []
        torch.set_num_threads(cpu_threads())
        with torch.inference_mode():
            for s in range(0, len(images), 64):
                x = preprocess(torch.from_numpy(images[s:s + 64].copy()), size)
                if scale == "unit":  # a wrong scaling: [0, 1] instead of (x - 127) / 128
                    x = (x * 128 + 127) / 255
                out.append(net.feature_map(x.to(dtype)).float().mean((2, 3)).numpy())
        return np.concatenate(out)

    bf16 = torch.bfloat16 if features._cpu_has_bf16() else torch.float32
    settings = [("128 px, bf16, (x-127)/128  [labnoise default]", 128, bf16, "tf"),
                ("224 px, bf16, (x-127)/128", 224, bf16, "tf"),
                ("128 px, fp32, (x-127)/128", 128, torch.float32, "tf"),
                ("128 px, bf16, x/255  [wrong scaling]", 128, bf16, "unit"),
                ("32 px (no resize), bf16, (x-127)/128", 32, bf16, "tf")]
    out = {}
    print(f"kNN-10 accuracy (cosine), {queries} CIFAR-10 test images vs {len(tr_idx)} training images "
          "(class-balanced, seed 0):")
    for name, size, dtype, scale in settings:
        t = time.perf_counter()
        acc = knn_accuracy(emb(ds.train_images[tr_idx], size, dtype, scale), ytr,
                           emb(ds.test_images[te_idx], size, dtype, scale), yte)
        out[name] = acc
        print(f"  {100 * acc:5.1f} %  {name}   ({time.perf_counter() - t:.0f} s)", flush=True)

    try:
        full = all(features.is_cached("cifar10", s, "efficientnet-lite0", root=root, download=False)
                   for s in ("train", "test"))
    except Exception:
        full = False
    if full:
        xtr = features.embed("cifar10", "train", "efficientnet-lite0", root=root, progress=False)
        xte = features.embed("cifar10", "test", "efficientnet-lite0", root=root, progress=False)
        for cosine in (True, False):
            acc = knn_accuracy(xtr, ds.train_labels, xte, ds.test_labels, cosine=cosine)
            name = f"full: 10k test vs 50k train, cached features, {'cosine' if cosine else 'Euclidean'}"
            out[name] = acc
            print(f"  {100 * acc:5.1f} %  all 10,000 test vs all 50,000 training images (the offline cache), "
                  f"{'cosine' if cosine else 'Euclidean'}")
    else:
        print("  (offline cache of all CIFAR-10 features not found: full-set kNN skipped)")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=None, help="data root (default $LABNOISE_DATA)")
    p.add_argument("--n", type=int, default=256, help="images per speed measurement")
    p.add_argument("--refs", type=int, default=2000, help="kNN reference (training) images")
    p.add_argument("--queries", type=int, default=500, help="kNN query (test) images")
    p.add_argument("--rounds", type=int, default=3, help="round-robin timing rounds (best round is reported)")
    p.add_argument("--skip-accuracy", action="store_true")
    p.add_argument("--json", default=None, help="also write the numbers to this file")
    p.add_argument("--quick", action="store_true", help="128 images, one round, kNN on 500 / 200 images (make bench)")
    a = p.parse_args(argv)
    if a.quick:
        a.n, a.rounds, a.refs, a.queries = 128, 1, 500, 200
    ds, images = _images(a.root, a.n)
    print(f"torch {torch.__version__}, {cpu_threads()} CPU threads, native bf16: {features._cpu_has_bf16()}")
    print(f"EfficientNet-Lite0 speed on {len(images)} CIFAR-sized images, batch 64, best of {a.rounds} rounds:")
    res = {"speed_img_per_s": speed(images, rounds=a.rounds)}
    if ds is not None and not a.skip_accuracy:
        res["knn10_accuracy"] = accuracy(ds, a.refs, a.queries, a.root)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2) + "\n")
    from _bench import write_json

    speeds = res["speed_img_per_s"]
    base = next(iter(speeds.values()))
    rows = [{"name": name, "kind": "speed", "images_per_s": round(v, 1), "vs_naive": round(v / base, 2)}
            for name, v in speeds.items()]
    rows += [{"name": name, "kind": "kNN-10 accuracy", "accuracy": round(v, 4)}
             for name, v in (res.get("knn10_accuracy") or {}).items()]
    write_json("bench_embed", rows, precision="per row (named in each row; bf16 only where the CPU has native "
               f"bf16: {features._cpu_has_bf16()})", images=len(images), rounds=a.rounds,
               knn_images=None if "knn10_accuracy" not in res else {"train": a.refs, "test": a.queries})


if __name__ == "__main__":
    main()
