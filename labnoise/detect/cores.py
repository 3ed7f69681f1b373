"""CORES, the confidence-regularised sample sieve (Cheng et al., ICLR 2021).

The head is trained with ``CE - beta * mean_c(-log p_c)`` (the confidence regulariser pushes predictions away
from uniform; each class probability is clamped at 1e-4 so that the loss stays bounded); ``beta`` is 0 for the
first third of the epochs, then ramps linearly to ``beta_max`` (2) by the end. From the second third on, each epoch's sieve keeps only the examples whose cross-entropy minus their mean
cross-entropy over all classes is <= 0 (their given label is more likely than an average class); the loss runs on
those alone. The noisy set is the examples above 0 under the final model.

On frozen features an MLP head memorises noisy labels within a few epochs, long before the first third of a
30-epoch run ends; the sieve then keeps almost everything and flags almost nothing (measured: F1 0.85 with 9
epochs, 0.02 with 30, on 5,000 synthetic examples at 40% symmetric noise). The chapter's profiles therefore run
CORES for 9 epochs (3 of warm-up).
"""
from __future__ import annotations

import time

import numpy as np

from ._base import DetectionResult, check_inputs, check_precision
from ._dynamics import predict_probs, train_dynamics

__all__ = ["cores", "sieve_values"]


def sieve_values(labels, pred_probs) -> np.ndarray:
    """CE(given) - mean over classes of CE(class), per example (N,), from ``pred_probs`` (N, K)."""
    logp = np.log(np.clip(pred_probs, 1e-12, None))
    return -logp[np.arange(len(labels)), labels] - (-logp).mean(1)


def cores(labels, features, *, num_classes=None, seed: int = 0, beta_max: float = 2.0, hidden=(512, 512),
          epochs: int = 30, batch_size: int = 128, lr: float = 0.02, momentum: float = 0.9,
          weight_decay: float = 5e-4, device="cpu", precision: str = "auto") -> DetectionResult:
    """Train with the confidence regulariser and the sieve; flag examples with sieve value > 0.

    CORES trains its own run (its loss and sieve change the dynamics, so no shared run can stand in).
    ``precision``: see :mod:`labnoise.detect._dynamics` (the sieve's predictions use the same one).
    Returns ``score`` = the sieve value; ``extras``: ``kept_fraction`` per sieved epoch, ``timings``."""
    import torch
    import torch.nn.functional as F

    y, X, K, _ = check_inputs(labels, features, num_classes=num_classes)
    check_precision(precision)
    warm = max(1, int(epochs) // 3)
    sieve_from = max(warm, 2 * int(epochs) // 3)
    state = {"model": None, "kept": []}

    def beta(ep):
        if ep < warm:
            return 0.0
        return float(beta_max) * min(1.0, (ep - warm + 1) / max(1, int(epochs) - warm))

    def loss_fn(logits, targets, ep):
        logp = F.log_softmax(logits, 1)
        ce = -logp.gather(1, targets[:, None]).squeeze(1)
        b = beta(ep)
        if b == 0.0:
            return ce
        # the regulariser is unbounded below (confidence -> infinity); clamp p at 1e-4 as the published loss
        # effectively needs to stay finite, so each class term is at most -log(1e-4)
        reg = -torch.log(torch.softmax(logits, 1).clamp_min(1e-4)).mean(1)
        return ce - b * reg

    def weights_fn(ep):
        if ep < sieve_from or state["model"] is None:
            return None
        keep = sieve_values(y, predict_probs(state["model"], X, precision=precision)) <= 0
        state["kept"].append(float(keep.mean()))
        return keep.astype(np.float32)

    t0 = time.perf_counter()
    dyn = train_dynamics(X, y, num_classes=K, loss_fn=loss_fn, weights_fn=weights_fn,
                         on_model=lambda m: state.__setitem__("model", m), hidden=hidden, epochs=epochs,
                         batch_size=batch_size, lr=lr, momentum=momentum, weight_decay=weight_decay, seed=seed,
                         device=device, precision=precision)
    with torch.no_grad():
        v = sieve_values(y, predict_probs(dyn["model"], X, precision=precision))
    return DetectionResult(is_noisy=v > 0, score=v, method="cores",
                           settings={"beta_max": beta_max, "epochs": epochs, "warmup": warm,
                                     "sieve_from": sieve_from, "lr": lr, "seed": seed, "precision": dyn["precision"]},
                           extras={"kept_fraction": state["kept"],
                                   "timings": {"training_and_sieve": time.perf_counter() - t0}})

