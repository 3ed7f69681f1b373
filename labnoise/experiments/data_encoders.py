"""Chapter 00 (data, label sets, encoders): the CIFAR-10N noise rates, the grid of human errors and the kNN
comparison of encoders, each one call of the chapter."""
from __future__ import annotations

import contextlib

import numpy as np

from .. import data, evaluation, features
from .common import markdown_table

#: the CIFAR-10N label sets of the chapter, in the paper's order
CIFAR10N_SETS = ("aggre", "worse", "random1", "random2", "random3")


def cifar10n_label_sets(root=None) -> tuple[np.ndarray, dict]:
    """``(clean, {name: labels})`` for the CIFAR-10N sets of :data:`CIFAR10N_SETS`."""
    clean = data.load_label_set("cifar10n", "clean", root=root)
    return clean, {w: data.load_label_set("cifar10n", w, root=root) for w in CIFAR10N_SETS}


def noise_rates(clean_labels, label_sets: dict) -> dict:
    """``{name: noise rate in %, 2 decimals}``."""
    return {w: round(100 * evaluation.noise_rate(clean_labels, y), 2) for w, y in label_sets.items()}


def rates_table(rates: dict, paper: dict | None = None):
    """The measured rates as a Markdown table, with the paper's beside them when given."""
    cols = ["label set", "measured noise rate (%)"] + (["paper (%)"] if paper else [])
    return markdown_table([[w, f"{r:.2f}"] + ([f"{paper[w]:.2f}"] if paper else []) for w, r in rates.items()],
                          cols)


#: CIFAR-10N's rates as published (REFERENCE.md)
PAPER_RATES = {"aggre": 9.01, "worse": 40.21, "random1": 17.23, "random2": 18.12, "random3": 17.64}


def error_grid_sample(given, clean_labels, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` seeded indices where ``given`` differs from ``clean_labels`` (all of them when there are fewer)."""
    wrong = np.flatnonzero(np.asarray(given) != np.asarray(clean_labels))
    return np.random.default_rng(seed).choice(wrong, size=min(n, wrong.size), replace=False)


def knn_comparison(ds, encoders, *, k: int, references: int | None = None, seed: int = 0, device="auto",
                   root=None, run=None) -> dict:
    """kNN-``k`` test accuracy (%) of every encoder's features, all training images (or a seeded subset of
    ``references``) as references. Returns ``{"accuracy": {enc: %}, "dims": {enc: d}, "features": {enc: train
    features}, "labels": reference labels, "references": n}``; ``run`` (a Results) times each step."""
    timer = run.timer if run is not None else (lambda name: contextlib.nullcontext())
    n_train = len(ds.train_labels)
    idx = None
    if references is not None and references < n_train:
        idx = np.sort(np.random.default_rng(seed).choice(n_train, references, replace=False))
    y_ref = ds.train_labels if idx is None else ds.train_labels[idx]
    acc, dims, feats = {}, {}, {}
    for enc in encoders:
        with timer(f"embed_{enc}"):
            xtr = features.embed(ds.name, "train", enc, indices=idx, device=device, root=root)
            xte = features.embed(ds.name, "test", enc, device=device, root=root)
        with timer(f"knn_{enc}"):
            acc[enc] = round(evaluation.knn_accuracy(xtr, y_ref, xte, ds.test_labels, k=k, device=device), 2)
        feats[enc], dims[enc] = xtr, int(xtr.shape[1])
    return {"accuracy": acc, "dims": dims, "features": feats, "labels": y_ref, "references": int(len(y_ref))}


def knn_table(result: dict, k: int):
    return markdown_table([[enc, result["dims"][enc], f"{a:.2f}"] for enc, a in result["accuracy"].items()],
                          ["encoder", "feature dimension", f"kNN-{k} test accuracy (%)"])


def map_sample(n_points: int, n_max: int, *, seed: int = 0) -> np.ndarray:
    """Sorted seeded indices of ``min(n_max, n_points)`` points for the t-SNE map."""
    n = min(n_max, n_points)
    return np.sort(np.random.default_rng(seed).choice(n_points, n, replace=False))
