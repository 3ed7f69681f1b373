"""Avg.Encoder (the DynaCor paper's baseline): a two-component 1-D Gaussian mixture on each example's mean
(unquantised) training margin; the component with the lower mean is the noisy one."""
from __future__ import annotations

import time

import numpy as np

from ._base import DetectionResult, check_inputs, check_precision
from ._dynamics import train_dynamics

__all__ = ["avg_encoder"]


def avg_encoder(labels, features, *, num_classes=None, seed: int = 0, margins=None, hidden=(512, 512),
                epochs: int = 20, batch_size: int = 128, lr: float = 0.02, momentum: float = 0.9,
                weight_decay: float = 5e-4, device="cpu", precision: str = "auto") -> DetectionResult:
    """Flag examples whose mean margin falls in the low-margin GMM component.

    margins : optional float (T, N) training margins of the N examples (e.g. ``dynacor(...).extras
        ["margins_originals"]``, which :func:`labnoise.detect.compare` passes: the paper's Avg.Encoder reads
        the same training run as DynaCor); None trains the dynamics classifier here (plain CE on the originals).
        ``hidden`` ... ``precision`` only configure that run.
    Returns ``score`` = posterior of the low-mean component, ``is_noisy`` = score > 0.5; ``extras["mean_margin"]``.
    """
    from sklearn.mixture import GaussianMixture

    y, X, K, _ = check_inputs(labels, features, num_classes=num_classes)
    check_precision(precision)
    timings = {}
    shared = margins is not None
    if margins is None:
        t0 = time.perf_counter()
        margins = train_dynamics(X, y, num_classes=K, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr,
                                 momentum=momentum, weight_decay=weight_decay, seed=seed, device=device,
                                 precision=precision)["margins"]
        timings["dynamics"] = time.perf_counter() - t0
    margins = np.asarray(margins, dtype=np.float64)
    if margins.ndim != 2 or margins.shape[1] != y.size:
        raise ValueError(f"margins must be (T, N) with N = {y.size} (one column per example), got {margins.shape}.")
    t0 = time.perf_counter()
    mean = margins.mean(0)
    gmm = GaussianMixture(2, random_state=int(seed), reg_covar=1e-6).fit(mean[:, None])
    low = int(np.argmin(gmm.means_.ravel()))
    score = gmm.predict_proba(mean[:, None])[:, low]
    return DetectionResult(is_noisy=score > 0.5, score=score, method="avg_encoder",
                           settings={"epochs": int(margins.shape[0]), "seed": seed, "shared_margins": shared},
                           extras={"mean_margin": mean, "timings": {**timings, "gmm": time.perf_counter() - t0}})
