"""Chapter 02 (cluster-based noise): the toy blob of Fig 5, the chapter's t-SNE map, CBN and PMD at the
chapter's rates, how concentrated each is, and the paper's released label files -- one call per cell.

The algorithms are in :mod:`labnoise.noise` and :mod:`labnoise.tsne`; the figures in :mod:`labnoise.viz.noise`.
"""
from __future__ import annotations

import numpy as np

from .. import cache as cache_layout
from .. import data, features, noise, tsne
from .common import markdown_table

#: the rates of the paper's released CIFAR-10 label files
REFERENCE_RATES = (0.35, 0.70)


def blob_example(points: int, rate: float, *, n: int, pmd_kind: str, seed: int = 0):
    """Fig 5: one 2-D Gaussian blob split at x = 0, and ``{"uniform", "PMD", "CBN"}`` noise at ``rate``.
    Returns ``(xy, clean labels, {name: NoiseResult})``."""
    xy, yb = noise.two_class_blob(points, seed=seed)
    probs = noise.pmd_probs(xy, yb, epochs=50, hidden=32, seed=seed, device="cpu", progress=False)
    return xy, yb, {"uniform": noise.symmetric(yb, rate, seed=seed),
                    "PMD": noise.pmd(probs, yb, pmd_kind, rate=rate, seed=seed),
                    "CBN": noise.cbn(xy, yb, n=n, target_rate=rate, seed=seed)}


def chapter_features(ds, encoder: str, *, points: int | None = None, seed: int = 0, device="auto", root=None):
    """``(features, labels)`` of the training split, a seeded subset of ``points`` of them when set."""
    x = features.embed(ds, "train", encoder, root=root, device=device)
    y = np.asarray(ds.train_labels)
    if points is not None and points < len(y):
        keep = np.sort(np.random.default_rng(seed).choice(len(y), points, replace=False))
        x, y = x[keep], y[keep]
    return x, y


def chapter_map(x, *, seed: int = 0, profile: str = "smoke", root=None):
    """The 2-D t-SNE map of ``x`` (cached under the data root except in the smoke profile)."""
    cache = None if profile == "smoke" else cache_layout.cache_dir("tsne", root=root)
    return tsne.tsne_map(x, seed=seed, cache=cache)


def quality_table(quality: dict):
    return markdown_table([[k.replace("_", " "), f"{v:.3f}" if isinstance(v, float) else v]
                           for k, v in quality.items()], ["map quality", "value"])


def cbn_at_rates(map_2d, labels, rates, *, seed: int = 0, r_start=None) -> dict:
    """``{"0.35": NoiseResult, ...}``: CBN calibrated to each rate on the map."""
    return {f"{r:.2f}": noise.cbn(map_2d=map_2d, labels=labels, target_rate=r, seed=seed, r_start=r_start)
            for r in rates}


def calibration_table(cbn_results: dict):
    """The ``(n, r)`` the calibration found per target rate, and the rate realised."""
    return markdown_table([[k, v.params["n"], f"{v.params['r']:.3f}", v.params["search"],
                            f"{100 * v.realised_rate:.2f}"] for k, v in cbn_results.items()],
                          ["target rate", "n (centres per class)", "r (map units)", "search", "realised rate (%)"])


def pmd_at_rates(x, labels, rates, *, kind: str, epochs=None, hidden=None, seed: int = 0, device="auto"):
    """``(probs, {"0.35": NoiseResult, ...})``: PMD of type ``kind`` from an MLP head trained on the clean labels."""
    probs = noise.pmd_probs(x, labels, epochs=epochs, hidden=hidden, seed=seed, device=device, progress=False)
    return probs, {f"{r:.2f}": noise.pmd(probs, labels, kind, rate=r, seed=seed) for r in rates}


def concentration(cbn_results: dict, pmd_results: dict) -> dict:
    """Per rate: distinct target classes per class and top-2 share of CBN and PMD, and whether CBN is the more
    concentrated (fewer targets *and* a larger top-2 share)."""
    out = {}
    for k in cbn_results:
        c, p = cbn_results[k].targets_per_class(), pmd_results[k].targets_per_class()
        out[str(k)] = {"holds": bool(c.mean < p.mean and c.top2_share > p.top2_share),
                       "cbn_targets_per_class": round(float(c.mean), 2),
                       "pmd_targets_per_class": round(float(p.mean), 2),
                       "cbn_top2_share": round(float(c.top2_share), 3), "pmd_top2_share": round(float(p.top2_share), 3)}
    return out


def concentration_markdown(conc: dict) -> str:
    return "\n".join(
        f"* Rate {k}: CBN flips go to {v['cbn_targets_per_class']} classes per class on average (top-2 share "
        f"{v['cbn_top2_share']}), PMD to {v['pmd_targets_per_class']} (top-2 share {v['pmd_top2_share']}): CBN is "
        f"more concentrated -- **{'holds' if v['holds'] else 'does not hold'} in this run**." for k, v in conc.items())


def reference_label_sets(root=None) -> tuple[dict, dict, float | None]:
    """The paper's released CIFAR-10 CBN and PMD files at 35% and 70%, against their ``given`` labels.

    Returns ``(results, metrics, same)``: ``{"paper CBN 0.35": NoiseResult, ...}``, ``{"cbn": {"0.35":
    {realised_rate, targets_per_class_mean, top2_share}}, "pmd": ...}`` and the fraction of ``given`` labels equal
    to CIFAR-10N's clean labels (None when those files are not here)."""
    given = data.load_reference_labels("cifar10", "given", root=root)
    same = None
    if data.has_files("cifar10n", root=root):
        same = float(np.mean(given == data.load_label_set("cifar10n", "clean", root=root)))
    ref, metrics = {}, {}
    for kind, label in (("cluster", "CBN"), ("pmd", "PMD")):
        for r in REFERENCE_RATES:
            noisy = data.load_reference_labels("cifar10", kind, r, root=root)
            res = ref[f"paper {label} {r:.2f}"] = noise.NoiseResult.from_labels(given, noisy, kind=f"reference-{kind}",
                                                                                num_classes=10)
            t = res.targets_per_class()
            metrics.setdefault(label.lower(), {})[f"{r:.2f}"] = {
                "realised_rate": round(res.realised_rate, 6), "targets_per_class_mean": round(t.mean, 4),
                "top2_share": round(t.top2_share, 4)}
    return ref, metrics, same


def rate_grid(map_2d, labels, ns, *, seed: int = 0, steps: int = 61):
    """``(ns, rs, grid)``: the CBN rate on the map for every ``n`` of ``ns`` that every class can host and
    ``steps`` radii from 0 to 0.4 map standard deviations; ``grid[i, j]`` is the rate at ``ns[i], rs[j]``."""
    ns = [n for n in ns if n <= int(np.bincount(labels).min())]
    rs = np.linspace(0.0, 0.4 * float(np.std(map_2d)), steps)
    return ns, rs, noise.cbn_rate_grid(map_2d, labels, ns, rs, seed=seed)


def rate_grid_metrics(ns, rs, grid) -> dict:
    """Every tenth radius of the grid, for results.json."""
    return {"ns": list(ns), "rs": [round(float(v), 4) for v in rs[::10]], "rates": np.round(grid[:, ::10], 4).tolist()}
