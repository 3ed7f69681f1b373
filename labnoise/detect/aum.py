"""AUM, area under the margin (Pleiss et al., NeurIPS 2020), with threshold examples.

``N / (K + 1)`` randomly chosen examples are relabelled to a fake extra class K and the network (K + 1 outputs)
is trained on all; each example's AUM is the mean over epochs of ``logit[assigned] - max other logit`` on its
training mini-batch. Examples with an AUM below the 99th percentile of the threshold examples' AUM are flagged.
As in the public code, two runs with disjoint threshold sets give every example an AUM from a run in which it
kept its own label.
"""
from __future__ import annotations

import time

import numpy as np

from ._base import DetectionResult, check_inputs, check_precision
from ._dynamics import train_dynamics

__all__ = ["aum"]


def aum(labels, features, *, num_classes=None, seed: int = 0, percentile: float = 99.0, hidden=(512, 512),
        epochs: int = 20, batch_size: int = 128, lr: float = 0.02, momentum: float = 0.9,
        weight_decay: float = 5e-4, device="cpu", precision: str = "auto") -> DetectionResult:
    """Flag examples whose AUM is below the ``percentile`` of the threshold examples' AUM.

    AUM trains its own two runs (K + 1 outputs, its threshold examples relabelled): no other detector's
    dynamics can stand in for them. ``precision``: see :mod:`labnoise.detect._dynamics`.
    Returns ``score = -AUM`` (higher = more suspect); ``extras``: ``aum``, ``thresholds`` (one per run),
    ``timings`` (``run_1``, ``run_2``).
    """
    y, X, K, _ = check_inputs(labels, features, num_classes=num_classes)
    check_precision(precision)
    if not (0.0 < float(percentile) <= 100.0):
        raise ValueError(f"percentile must be in (0, 100], got {percentile!r}; the paper uses 99.")
    n = y.size
    rng = np.random.default_rng(int(seed))
    perm = rng.permutation(n)
    m = max(1, n // (K + 1))
    sets = [perm[:m], perm[m:2 * m]]
    value = np.full(n, np.nan)
    flagged = np.zeros(n, bool)
    thresholds = []
    timings = {}
    for r, thr_idx in enumerate(sets):
        t0 = time.perf_counter()
        yy = y.copy()
        yy[thr_idx] = K
        dyn = train_dynamics(X, yy, num_classes=K + 1, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr,
                             momentum=momentum, weight_decay=weight_decay, seed=int(seed) + r, device=device,
                             precision=precision)
        a = dyn["margins"].mean(0)
        thr = float(np.percentile(a[thr_idx], percentile))
        thresholds.append(thr)
        own = np.ones(n, bool)
        own[thr_idx] = False
        take = own & np.isnan(value)
        value[take] = a[take]
        flagged[take] = a[take] < thr
        timings[f"run_{r + 1}"] = time.perf_counter() - t0
    return DetectionResult(is_noisy=flagged, score=-value, method="aum",
                           settings={"percentile": percentile, "epochs": epochs, "lr": lr, "seed": seed,
                                     "precision": dyn["precision"]},
                           extras={"aum": value, "thresholds": thresholds, "timings": timings})
