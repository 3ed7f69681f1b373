"""Detection metrics; the positive class is *noisy* (given label != clean label)."""
from __future__ import annotations

import numpy as np

from .._validation import check_labels

__all__ = ["f1_noisy", "precision_recall_noisy"]


def precision_recall_noisy(is_noisy, labels, clean_labels) -> tuple[float, float]:
    """Precision and recall of the flagged set ``is_noisy`` (bool, N) against the truly noisy examples
    (``labels != clean_labels``). Precision is 0 when nothing is flagged, recall 0 when nothing is noisy.

    >>> labels, clean = np.array([0, 1, 1, 0]), np.array([0, 0, 1, 1])     # examples 1 and 3 are noisy
    >>> precision_recall_noisy(np.array([False, True, True, False]), labels, clean)
    (0.5, 0.5)
    """
    flag = np.asarray(is_noisy)
    if flag.ndim != 1 or flag.dtype != bool:
        raise ValueError(f"is_noisy must be a 1-D boolean mask, got shape {flag.shape} and dtype {flag.dtype}; "
                         "pass result.is_noisy.")
    y = check_labels(labels, name="labels", length=flag.size, num_classes=max(2, int(np.max(labels)) + 1))
    c = check_labels(clean_labels, name="clean_labels", length=flag.size,
                     num_classes=max(2, int(np.max(clean_labels)) + 1))
    truth = y != c
    tp = float(np.sum(flag & truth))
    precision = tp / flag.sum() if flag.sum() else 0.0
    recall = tp / truth.sum() if truth.sum() else 0.0
    return float(precision), float(recall)


def f1_noisy(is_noisy, labels, clean_labels) -> float:
    """F1 of the noisy-label detection (positive = noisy): harmonic mean of precision and recall, 0 when both
    are 0. All three arrays are aligned with the N original examples (never DynaCor's corrupted copies).

    A detector that flags nothing scores 0, however rare the noise:

    >>> labels, clean = np.array([0, 1, 1, 0]), np.array([0, 0, 1, 1])
    >>> f1_noisy(np.zeros(4, dtype=bool), labels, clean), f1_noisy(labels != clean, labels, clean)
    (0.0, 1.0)
    """
    p, r = precision_recall_noisy(is_noisy, labels, clean_labels)
    return 0.0 if p + r == 0 else float(2 * p * r / (p + r))
