"""AUM, area under the margin (Pleiss et al., NeurIPS 2020), with threshold examples.

``N / (K + 1)`` randomly chosen examples are relabelled to a fake extra class K and the network (K + 1 outputs)
is trained on all; each example's AUM is the mean over epochs of ``logit[assigned] - max other logit`` on its
training mini-batch. Examples with an AUM below the 99th percentile of the threshold examples' AUM are flagged.
As in the public code, two runs with disjoint threshold sets give every example an AUM from a run in which it
kept its own label.
"""
from __future__ import annotations

import numpy as np

from ._base import DetectionResult, check_inputs
from ._dynamics import train_dynamics

__all__ = ["aum"]


def aum(labels, features, *, num_classes=None, seed: int = 0, percentile: float = 99.0, hidden=(512, 512),
        epochs: int = 20, batch_size: int = 128, lr: float = 0.02, momentum: float = 0.9,
        weight_decay: float = 5e-4, device="cpu", **_ignored) -> DetectionResult:
    """Flag examples whose AUM is below the ``percentile`` of the threshold examples' AUM.

    Returns ``score = -AUM`` (higher = more suspect); ``extras``: ``aum``, ``thresholds`` (one per run).
    """
    y, X, K, _ = check_inputs(labels, features, num_classes=num_classes)
    n = y.size
    rng = np.random.default_rng(int(seed))
    perm = rng.permutation(n)
    m = max(1, n // (K + 1))
    sets = [perm[:m], perm[m:2 * m]]
    value = np.full(n, np.nan)
    flagged = np.zeros(n, bool)
    thresholds = []
    for r, thr_idx in enumerate(sets):
        yy = y.copy()
        yy[thr_idx] = K
        dyn = train_dynamics(X, yy, num_classes=K + 1, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr,
                             momentum=momentum, weight_decay=weight_decay, seed=int(seed) + r, device=device)
        a = dyn["margins"].mean(0)
        thr = float(np.percentile(a[thr_idx], percentile))
        thresholds.append(thr)
        own = np.ones(n, bool)
        own[thr_idx] = False
        take = own & np.isnan(value)
        value[take] = a[take]
        flagged[take] = a[take] < thr
    return DetectionResult(is_noisy=flagged, score=-value, method="aum",
                           settings={"percentile": percentile, "epochs": epochs, "lr": lr, "seed": seed},
                           extras={"aum": value, "thresholds": thresholds})
