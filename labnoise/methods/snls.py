"""Soft Neighbour Label Sampling (SNLS): soft training targets from the labels of feature-space neighbours.

For example ``i`` with (possibly noisy) label ``y_i`` and its ``k`` nearest neighbours in a frozen encoder's
feature space,

    soft(i) = (1 - alpha) * freq_k(i) + alpha * onehot(y_i),

where ``freq_k(i)`` is the normalised histogram of the neighbours' noisy labels and ``alpha`` the trust in the
given label. The paper states ``k = 100`` (Sec. IV-B, Fig. 6 and the conclusion) and ``alpha = 0.30``
(Sec. V), the defaults here. The exact form of the soft vector above, Euclidean distances on the un-normalised
features and the example counting among its own ``k`` neighbours (``include_self=True``) come from the
authors' public code.

A *wide* neighbourhood matters under cluster-based noise (CBN), which relabels whole sub-clusters: with a small
``k`` every neighbour of a point in a mislabelled sub-cluster carries the same wrong label, while ``k = 100``
reaches past the sub-cluster into the surrounding correctly labelled class cluster.

This module is the algorithm only; the chapter-level drivers (label sets, host comparisons) live in
:mod:`labnoise.experiments.snls`.

The targets are used (a) as soft cross-entropy targets (``labnoise.train.fit`` with an ``N x C`` ``y``) and
(b) as the target of LRA-Diffusion, where the soft vector replaces the one-hot label sampled from the
neighbours (:class:`labnoise.methods.lra_diffusion.LRADiffusion`). The paper pairs SNLS with LRA-Diffusion
only; (a) is this project's experiment, not a claim of the paper.

    >>> soft = snls_targets(features, labels, k=100, alpha=0.3)     # doctest: +SKIP
    >>> soft.shape, soft.sum(1).round(6).min()                              # doctest: +SKIP
    ((50000, 10), 1.0)
"""
from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_features, check_labels, check_num_classes

from ..neighbors import METRICS, neighbor_indices  # noqa: F401  (neighbor_indices re-exported)

__all__ = ["snls_targets", "neighbor_indices", "neighbor_label_freq", "soften", "soft_label_accuracy"]


def neighbor_label_freq(neighbors, labels, *, num_classes: int | None = None, k: int | None = None) -> np.ndarray:
    """Normalised label histogram (N, C) float32 of the first ``k`` columns of ``neighbors`` (vectorised bincount)."""
    lab = check_labels(labels, num_classes, name="labels")
    C = check_num_classes(num_classes, lab)
    nbr = np.asarray(neighbors)
    if nbr.ndim != 2 or not np.issubdtype(nbr.dtype, np.integer):
        raise ValueError(f"neighbors must be an (N, k) integer index array, got shape {nbr.shape} dtype {nbr.dtype}.")
    if k is not None:
        if k < 1 or k > nbr.shape[1]:
            raise ValueError(f"k={k} but neighbors has {nbr.shape[1]} columns; compute more neighbours or lower k.")
        nbr = nbr[:, :k]
    if nbr.size and (nbr.min() < 0 or nbr.max() >= lab.shape[0]):
        raise ValueError("neighbors contains indices outside the label array; they must index labels.")
    n, kk = nbr.shape
    flat = (np.arange(n, dtype=np.int64)[:, None] * C + lab[nbr]).ravel()
    counts = np.bincount(flat, minlength=n * C).reshape(n, C)
    return (counts / np.float32(kk)).astype(np.float32)


def soften(freq, labels, *, alpha: float = 0.3) -> np.ndarray:
    """``(1 - alpha) * freq + alpha * onehot(labels)`` as float32 (rows of ``freq`` must sum to 1)."""
    freq = np.asarray(freq, dtype=np.float32)
    lab = check_labels(labels, freq.shape[1], name="labels", length=freq.shape[0])
    a = _check_alpha(alpha)
    out = (1.0 - a) * freq
    out[np.arange(len(lab)), lab] += a
    return out.astype(np.float32)


def snls_targets(features, labels, *, k: int = 100, alpha: float = 0.3, include_self: bool = True,
                 metric: str = "euclidean", num_classes: int | None = None, device="auto",
                 neighbors=None, progress: bool = False) -> np.ndarray:
    """SNLS soft labels (N, C) float32: ``(1 - alpha) * freq_k + alpha * onehot(y)``; rows sum to 1.

    Parameters
    ----------
    features : (N, D) frozen encoder features (un-normalised; the public code used CLIP ViT-L/14).
    labels : (N,) the given (possibly noisy) labels.
    k : neighbours whose labels form the histogram (paper: 100).
    alpha : trust in the given label, in [0, 1] (paper: 0.3). ``alpha = 1`` returns the one-hot labels.
    include_self : the example counts among its own ``k`` neighbours (public code: True).
    metric : ``"euclidean"`` (public code) or ``"cosine"``.
    num_classes : C (default: ``max(label) + 1``).
    device : where the kNN search runs (``"auto"``: GPU if available).
    neighbors : optional precomputed (N, >= k) table from :func:`neighbor_indices` with the same
        ``include_self``/``metric`` (lets a sweep over ``k`` reuse one search); ``features`` is then only
        checked for its length.
    progress : tqdm bar for the kNN search.
    """
    X = check_features(features)
    lab = check_labels(labels, num_classes, name="labels", length=X.shape[0])
    C = check_num_classes(num_classes, lab)
    a = _check_alpha(alpha)
    check_choice(metric, METRICS, name="metric")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    if a == 1.0:
        return np.eye(C, dtype=np.float32)[lab]
    if neighbors is None:
        nbr = neighbor_indices(X, int(k), include_self=include_self, metric=metric, device=device, progress=progress)
    else:
        nbr = np.asarray(neighbors)
        if nbr.ndim != 2 or nbr.shape[0] != X.shape[0] or nbr.shape[1] < k:
            raise ValueError(f"neighbors must have shape (N, >= k) = ({X.shape[0]}, >= {k}), got {nbr.shape}; "
                             "compute it with neighbor_indices(features, k).")
    freq = neighbor_label_freq(nbr, lab, num_classes=C, k=int(k))
    return soften(freq, lab, alpha=a)


# ---------------------------------------------------------------------------------------------- internals
def _check_alpha(alpha) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}.") from None
    if not (0.0 <= a <= 1.0):
        raise ValueError(f"alpha must be in [0, 1] (trust in the given label; paper 0.3), got {alpha!r}.")
    return a


# ---------------------------------------------------------------------------------------- experiment helpers
def soft_label_accuracy(neighbors, labels, clean_labels, ks, alphas,
                        num_classes: int | None = None) -> np.ndarray:
    """Accuracy (%) of ``argmax soft(i)`` against the clean labels on a (len(ks), len(alphas)) grid.

    One neighbour table (N, >= max(ks)) serves the whole grid (each k uses its first k columns). Ties in the
    argmax go to the lowest class index (numpy's argmax).
    """
    lab = check_labels(labels, num_classes, name="labels")
    C = check_num_classes(num_classes, lab)
    clean = check_labels(clean_labels, C, name="clean_labels", length=lab.shape[0])
    out = np.empty((len(ks), len(alphas)))
    for i, k in enumerate(ks):            # a loop over grid points; examples are vectorised
        freq = neighbor_label_freq(neighbors, lab, num_classes=C, k=int(k))
        for j, a in enumerate(alphas):
            out[i, j] = 100.0 * np.mean(soften(freq, lab, alpha=a).argmax(1) == clean)
    return out
