"""Descriptive statistics of the case study's label sets."""
from __future__ import annotations

import numpy as np

from .._validation import check_labels, check_num_classes

__all__ = ["label_set_stats", "confusion_pairs", "region_indices", "closest_to_medoid"]


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


def region_indices(result, noisy_mask, inclusion=(0.6, 1.0), exclusion=(0.6, 1.0), only_incorrect: bool = True):
    """Held-out examples whose inclusion and exclusion lie in the given closed ranges (only those whose given
    label is wrong, ``noisy_mask``, unless ``only_incorrect=False``): the regions of the seed paper's Fig 3."""
    h = result.held_out
    if only_incorrect:
        h = h[np.asarray(noisy_mask, dtype=bool)[h]]
    inc, exc = result.inclusion[h], result.exclusion[h]
    sel = (inc >= inclusion[0]) & (inc <= inclusion[1]) & (exc >= exclusion[0]) & (exc <= exclusion[1])
    return h[sel]


def closest_to_medoid(features, idx, k: int = 10) -> np.ndarray:
    """The ``k`` members of ``idx`` closest (Euclidean, in ``features``) to the medoid of ``idx``: a tight
    group, i.e. the densest part of the set."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size <= k:
        return idx
    f = np.asarray(features, dtype=np.float64)[idx]
    sq = (f * f).sum(1)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * f @ f.T, 0))
    med = int(np.argmin(d.sum(1)))
    return idx[np.argsort(d[med], kind="stable")[:k]]
