"""SimiFeat (Zhu et al., ICML 2022): training-free detection by cosine k-nearest-neighbour label voting on frozen
features.

Each *pass* embeds one view of the data -- the original features, the flipped-image features when given, and
random feature dropout views -- finds each example's ``k`` (10) nearest neighbours by cosine similarity (itself
excluded) and builds the neighbours' label histogram ``h`` (N, K). Per pass an example is flagged by

* ``"mv"``: the neighbours' majority label differs from its given label;
* ``"rank1"``: the score ``-log h[label]`` is ranked within each given class and the top ``e_c`` fraction is
  flagged, with the class noise rate ``e_c`` estimated as the fraction of the class whose neighbours' majority
  disagrees with the label (a simple kNN consensus estimate standing in for the paper's HOC estimator of the
  transition matrix; the ranking then decides *which* examples are flagged).

The final flag is the majority vote over passes; ``score`` is the mean ``-log h[label]``.
"""
from __future__ import annotations

import numpy as np

from ._base import DetectionResult, check_inputs

__all__ = ["simifeat", "knn_label_histogram"]

VARIANTS = ("rank1", "mv")


def knn_label_histogram(features, labels, *, num_classes: int, k: int = 10, block: int = 4096) -> np.ndarray:
    """(N, K) fraction of each example's ``k`` cosine nearest neighbours (itself excluded) with each label."""
    import torch
    X = torch.as_tensor(np.ascontiguousarray(features, dtype=np.float32))
    X = torch.nn.functional.normalize(X, dim=1)
    Y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    n = X.shape[0]
    k = int(min(k, n - 1))
    hist = torch.zeros((n, num_classes))
    for s in range(0, n, block):
        sim = X[s:s + block] @ X.T
        rows = torch.arange(s, min(s + block, n))
        sim[torch.arange(rows.numel()), rows] = -torch.inf
        nb = sim.topk(k, dim=1).indices
        hist[rows] = torch.nn.functional.one_hot(Y[nb], num_classes).float().mean(1)
    return hist.numpy()


def simifeat(labels, features, *, flipped_features=None, num_classes=None, seed: int = 0, k: int = 10,
             variant: str = "rank1", passes: int = 5, dropout: float = 0.2, **_ignored) -> DetectionResult:
    """Flag examples by kNN label voting over ``passes`` views (original, flipped if given, then feature dropout
    with rate ``dropout``), majority vote across passes. ``variant`` in {"rank1", "mv"}."""
    y, X, K, Fl = check_inputs(labels, features, num_classes=num_classes, flipped_features=flipped_features)
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of: {', '.join(VARIANTS)}.")
    if int(passes) < 1:
        raise ValueError(f"passes must be >= 1, got {passes!r}.")
    rng = np.random.default_rng(int(seed))
    views = [X] + ([Fl] if Fl is not None else [])
    while len(views) < int(passes):
        views.append(X * (rng.random(X.shape) >= dropout).astype(np.float32))
    views = views[:int(passes)]
    votes = np.zeros(y.size, int)
    scores = np.zeros(y.size)
    rates = []
    for v in views:
        h = knn_label_histogram(v, y, num_classes=K, k=k)
        agree = h[np.arange(y.size), y]
        s = -np.log(agree + 1e-3)
        scores += s / len(views)
        if variant == "mv":
            flag = h.argmax(1) != y
        else:
            flag = np.zeros(y.size, bool)
            est = np.zeros(K)
            for c in range(K):
                idx = np.flatnonzero(y == c)
                if idx.size == 0:
                    continue
                est[c] = float((h[idx].argmax(1) != c).mean())
                top = int(round(est[c] * idx.size))
                if top:
                    flag[idx[np.argsort(-s[idx], kind="stable")[:top]]] = True
            rates.append(est)
        votes += flag
    is_noisy = votes > len(views) / 2
    extras = {"votes": votes, "passes": len(views)}
    if rates:
        extras["estimated_class_noise_rates"] = np.mean(rates, 0)
    return DetectionResult(is_noisy=is_noisy, score=scores, method="simifeat",
                           settings={"k": k, "variant": variant, "passes": len(views), "dropout": dropout,
                                     "seed": seed, "flipped_view": Fl is not None}, extras=extras)
