"""Descriptive statistics of the case study's label sets."""
from __future__ import annotations

import numpy as np

from .._validation import check_labels, check_num_classes

__all__ = ["label_set_stats", "confusion_pairs"]


def label_set_stats(labels, clean_labels, *, num_classes=None) -> dict:
    """Noise rate, per-class rates and the transition matrix ``T[clean, given]`` of the given ``labels``
    against ``clean_labels`` (JSON-ready: ``{"rate", "per_class_rates", "T"}``)."""
    from ..noise.synthetic import transition_from

    clean = check_labels(clean_labels, num_classes, name="clean_labels")
    noisy = check_labels(labels, num_classes, name="labels", length=clean.shape[0])
    C = check_num_classes(num_classes, np.maximum(clean, noisy))
    T = transition_from(clean, noisy, C)
    per = np.array([np.mean(noisy[clean == c] != c) if np.any(clean == c) else 0.0 for c in range(C)])
    return {"rate": float(np.mean(clean != noisy)), "per_class_rates": per.round(4).tolist(), "T": T.round(4).tolist()}


def confusion_pairs(labels, clean_labels, *, classes=None, top: int = 10) -> list:
    """The ``top`` most frequent ``(clean -> given)`` pairs among wrongly labelled examples, as
    ``[["truck -> automobile", 77], ...]`` (class names if ``classes`` is given; ties by class index)."""
    given = np.asarray(labels, dtype=np.int64)
    clean = np.asarray(clean_labels, dtype=np.int64)
    if clean.shape != given.shape:
        raise ValueError(f"labels and clean_labels must have the same shape, got {given.shape} and {clean.shape}.")
    w = clean != given
    if not w.any():
        return []
    pairs, counts = np.unique(np.stack([clean[w], given[w]], 1), axis=0, return_counts=True)
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -counts))[:int(top)]
    name = (lambda c: str(classes[c])) if classes is not None else str
    return [[f"{name(pairs[i, 0])} -> {name(pairs[i, 1])}", int(counts[i])] for i in order]
