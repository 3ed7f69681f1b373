"""Class-conditional and instance-dependent synthetic label noise, plus two toy data sets.

Every generator takes the clean labels, is seeded, validates its inputs and returns a
:class:`~labnoise.noise.base.NoiseResult`.

    >>> import numpy as np
    >>> y = np.repeat(np.arange(10), 100)
    >>> r = symmetric(y, 0.2, seed=0)
    >>> r.realised_rate
    0.2
    >>> bool((pairflip(y, 0.3, seed=0).noisy_labels[r.flipped] != y[r.flipped]).all())
    True

* :func:`symmetric`, :func:`pairflip`, :func:`asymmetric` flip an *exact* number of labels (the target rate
  times the number of eligible examples, rounded), apportioned to the classes by largest remainder, so every
  class is flipped at the target rate up to one example.
* :func:`transition` draws every label independently from ``T[y]`` (the realised rate fluctuates around the
  expected one); :func:`transition_from` estimates ``T`` from a pair of label sets.
* :func:`instance_dependent` follows Xia et al. (NeurIPS 2020, "Part-dependent label noise").
"""
from __future__ import annotations

import numpy as np

from .._validation import check_features, check_labels, check_num_classes, check_rate, rng as make_rng
from .base import NoiseResult, confusion_counts, row_normalise

__all__ = ["symmetric", "pairflip", "asymmetric", "transition", "transition_from", "instance_dependent",
           "CIFAR10_ASYMMETRIC", "two_class_blob", "clustered_features"]

#: The usual CIFAR-10 class-dependent flips (Patrini et al. 2017): truck -> automobile, bird -> airplane,
#: deer -> horse, cat <-> dog.
CIFAR10_ASYMMETRIC = {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}


def _labels_and_classes(labels, num_classes):
    y = check_labels(labels, num_classes)
    return y, check_num_classes(num_classes, y)


def _exact_selection(y: np.ndarray, eligible: np.ndarray, rate: float, num_classes: int,
                     gen: np.random.Generator) -> np.ndarray:
    """Boolean mask of exactly ``round(rate * eligible.sum())`` eligible examples, stratified by class.

    Each class gets ``floor(rate * n_c)`` picks plus one of the remaining picks by largest remainder (ties
    broken at random), and the picks inside a class are uniform without replacement. Vectorised: a random key
    per example, ranked within its class.
    """
    n_c = np.bincount(y[eligible], minlength=num_classes)
    total = int(np.round(rate * n_c.sum()))
    quota = np.floor(rate * n_c).astype(np.int64)
    left = total - int(quota.sum())
    if left > 0:
        frac = rate * n_c - quota
        tie = gen.random(num_classes)
        order = np.lexsort((tie, -frac))  # largest remainder first, random among equals
        order = order[n_c[order] > quota[order]]
        quota[order[:left]] += 1
    key = gen.random(y.shape[0])
    key[~eligible] = np.inf
    order = np.lexsort((key, y))  # by class, then random key
    sorted_y = y[order]
    starts = np.searchsorted(sorted_y, np.arange(num_classes))
    rank = np.arange(y.shape[0]) - starts[sorted_y]
    chosen = np.zeros(y.shape[0], dtype=bool)
    chosen[order] = rank < quota[sorted_y]
    return chosen & eligible


def symmetric(labels, rate, num_classes: int | None = None, seed: int = 0) -> NoiseResult:
    """Symmetric (uniform) noise: exactly ``round(rate * N)`` labels move to a uniformly drawn *other* class.

    >>> import numpy as np
    >>> y = np.repeat(np.arange(4), 50)
    >>> r = symmetric(y, 0.25, seed=0)
    >>> r.realised_rate, int(r.flipped.sum()), bool((r.noisy_labels[r.flipped] != y[r.flipped]).all())
    (0.25, 50, True)
    >>> r.transition_matrix.sum(1).round(12).tolist()
    [1.0, 1.0, 1.0, 1.0]

    Parameters
    ----------
    labels : int array (N,)
        Clean labels in ``0..C-1``.
    rate : float in [0, 1)
        Fraction of labels to flip. The realised rate is ``round(rate * N) / N``.
    num_classes : int, optional
        C; default ``labels.max() + 1``.
    seed : int
        Seed of the numpy generator; the same seed gives byte-identical labels.
    """
    y, C = _labels_and_classes(labels, num_classes)
    rate = check_rate(rate)
    g = make_rng(seed)
    chosen = _exact_selection(y, np.ones(y.shape[0], bool), rate, C, g)
    noisy = y.copy()
    noisy[chosen] = (y[chosen] + g.integers(1, C, size=int(chosen.sum()))) % C
    return NoiseResult.from_labels(y, noisy, kind="symmetric", params={"rate": rate}, seed=seed, num_classes=C)


def pairflip(labels, rate, num_classes: int | None = None, seed: int = 0) -> NoiseResult:
    """Pair-flip noise: exactly ``round(rate * N)`` labels move from class ``i`` to ``(i + 1) mod C``.

    Parameters are those of :func:`symmetric`.
    """
    y, C = _labels_and_classes(labels, num_classes)
    rate = check_rate(rate)
    g = make_rng(seed)
    chosen = _exact_selection(y, np.ones(y.shape[0], bool), rate, C, g)
    noisy = y.copy()
    noisy[chosen] = (y[chosen] + 1) % C
    return NoiseResult.from_labels(y, noisy, kind="pairflip", params={"rate": rate}, seed=seed, num_classes=C)


def asymmetric(labels, rate, seed: int = 0, mapping: dict | None = None,
               num_classes: int | None = None) -> NoiseResult:
    """Class-dependent flips along ``mapping`` (default: the CIFAR-10 pairs of :data:`CIFAR10_ASYMMETRIC`).

    Exactly ``round(rate * n)`` of the ``n`` examples of the *source* classes are flipped (stratified), so the
    realised rate over the whole data set is ``rate`` times the fraction of examples in source classes
    (about ``rate / 2`` on CIFAR-10, where 5 of the 10 classes are sources).

    Parameters
    ----------
    labels : int array (N,)
    rate : float in [0, 1)
        Flip rate within each source class.
    seed : int
    mapping : dict {source: target}, optional
        Default: truck -> automobile, bird -> airplane, deer -> horse, cat <-> dog (needs 10 classes).
    num_classes : int, optional
    """
    if mapping is None:
        mapping = CIFAR10_ASYMMETRIC
        num_classes = 10 if num_classes is None else num_classes
        if num_classes != 10:
            raise ValueError("the default asymmetric mapping is CIFAR-10's (10 classes); pass mapping={source: "
                             "target} for other label spaces.")
    y, C = _labels_and_classes(labels, num_classes)
    rate = check_rate(rate)
    lut = np.arange(C)
    for s, t in dict(mapping).items():
        if not (0 <= int(s) < C and 0 <= int(t) < C) or int(s) == int(t):
            raise ValueError(f"mapping entry {s!r} -> {t!r} is invalid for {C} classes; sources and targets must be "
                             "distinct class indices in 0..C-1.")
        lut[int(s)] = int(t)
    eligible = lut[y] != y
    g = make_rng(seed)
    chosen = _exact_selection(y, eligible, rate, C, g)
    noisy = np.where(chosen, lut[y], y)
    return NoiseResult.from_labels(y, noisy, kind="asymmetric",
                                   params={"rate": rate, "mapping": {int(k): int(v) for k, v in dict(mapping).items()}},
                                   seed=seed, num_classes=C)


def _check_transition(T, num_classes: int | None) -> np.ndarray:
    T = np.asarray(T, dtype=np.float64)
    if T.ndim != 2 or T.shape[0] != T.shape[1]:
        raise ValueError(f"T must be a square C x C matrix (rows: clean class, columns: noisy class), got shape "
                         f"{T.shape}.")
    if num_classes is not None and T.shape[0] != num_classes:
        raise ValueError(f"T is {T.shape[0]} x {T.shape[0]} but num_classes={num_classes}.")
    if not np.all(np.isfinite(T)) or (T < 0).any():
        raise ValueError("T must hold finite, non-negative probabilities.")
    rows = T.sum(1)
    if not np.allclose(rows, 1.0, atol=1e-6):
        bad = np.flatnonzero(~np.isclose(rows, 1.0, atol=1e-6))
        raise ValueError(f"every row of T must sum to 1 (rows {bad[:5].tolist()} sum to {rows[bad[:5]].round(4).tolist()}); "
                         "row-normalise it, e.g. T / T.sum(1, keepdims=True), or build it with transition_from().")
    return T / rows[:, None]


def transition(labels, T, seed: int = 0, num_classes: int | None = None) -> NoiseResult:
    """Class-conditional noise: every noisy label is drawn independently from row ``T[y]``.

    Vectorised inverse-CDF sampling: one uniform per example, compared with the cumulative row of its class.
    The expected noise rate is ``sum_c p_c (1 - T[c, c])``; the realised one fluctuates around it.

    Parameters
    ----------
    labels : int array (N,)
    T : array (C, C)
        Row-stochastic transition matrix ``T[clean, noisy]``.
    seed : int
    num_classes : int, optional
        Default: ``T.shape[0]``.
    """
    T = _check_transition(T, num_classes)
    C = T.shape[0]
    y = check_labels(labels)
    if int(y.max()) >= C:
        raise ValueError(f"T is {C} x {C} but labels hold class {int(y.max())}: T needs one row and one column per "
                         f"class, i.e. at least {int(y.max()) + 1} x {int(y.max()) + 1}; pass the full C x C matrix "
                         "(e.g. from transition_from(clean, noisy, num_classes=C)).")
    g = make_rng(seed)
    cdf = np.cumsum(T, axis=1)
    cdf[:, -1] = 1.0
    u = g.random(y.shape[0])
    noisy = (u[:, None] >= cdf[y]).sum(1)
    noisy = np.minimum(noisy, C - 1).astype(np.int64)
    exp_rate = float(np.mean(1.0 - np.diag(T)[y]))
    return NoiseResult.from_labels(y, noisy, kind="transition", params={"expected_rate": exp_rate}, seed=seed,
                                   num_classes=C, extras={"T": T})


def transition_from(clean, noisy, num_classes: int | None = None) -> np.ndarray:
    """Row-normalised confusion ``T[clean, noisy]`` of two label sets (a class absent from ``clean`` gets the
    identity row), e.g. CIFAR-10N ``random1`` against ``clean``."""
    clean = check_labels(clean, num_classes, name="clean")
    C = check_num_classes(num_classes, np.maximum(clean.max(), np.asarray(noisy).max()))
    clean = check_labels(clean, C, name="clean")
    noisy = check_labels(noisy, C, name="noisy", length=clean.shape[0])
    return row_normalise(confusion_counts(clean, noisy, C))


def instance_dependent(features, labels, rate, seed: int = 0, num_classes: int | None = None,
                       std: float = 0.1, normalize: bool = True) -> NoiseResult:
    """Instance-dependent noise of Xia et al. (2020), Algorithm 2 of "Part-dependent label noise".

    For every example: a flip rate ``q_i`` drawn from N(rate, std^2) truncated to [0, 1]; logits
    ``x_i @ W[y_i]`` with a random projection ``W[c]`` (D x C, entries N(0, 1)) per class; the clean class's
    logit is set to -inf, the rest soft-maxed and scaled by ``q_i``; the clean class keeps ``1 - q_i``; the
    noisy label is drawn from that distribution. The realised rate is close to ``rate`` (the mean of the
    truncated normal), not exact.

    Parameters
    ----------
    features : float array (N, D)
        Any per-example features (pixels, encoder features); NaN/inf rejected.
    labels : int array (N,)
    rate : float in [0, 1)
    seed : int
    num_classes : int, optional
    std : float
        Standard deviation of the per-example flip rate (0.1 in the paper).
    normalize : bool
        L2-normalise feature rows first (default), so the logits are O(1) whatever the feature scale. The paper
        applies ``W`` to flattened images; with raw features the softmax is nearly one-hot.
    """
    from scipy.special import ndtr, ndtri

    y, C = _labels_and_classes(labels, num_classes)
    x = check_features(features, length=y.shape[0]).astype(np.float64)
    rate = check_rate(rate)
    if not std > 0:
        raise ValueError(f"std must be positive, got {std!r}.")
    if normalize:
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    g = make_rng(seed)
    lo, hi = ndtr((0.0 - rate) / std), ndtr((1.0 - rate) / std)  # truncated normal by inverse CDF
    q = np.clip(rate + std * ndtri(lo + g.random(y.shape[0]) * (hi - lo)), 0.0, 1.0)
    W = g.standard_normal((C, x.shape[1], C))
    logits = np.empty((y.shape[0], C))
    for c in range(C):  # a loop over classes; examples are vectorised
        m = y == c
        logits[m] = x[m] @ W[c]
    logits[np.arange(y.shape[0]), y] = -np.inf
    logits -= logits.max(1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    p *= q[:, None]
    p[np.arange(y.shape[0]), y] = 1.0 - q
    cdf = np.cumsum(p, axis=1)
    cdf[:, -1] = 1.0
    u = g.random(y.shape[0])
    noisy = np.minimum((u[:, None] >= cdf).sum(1), C - 1).astype(np.int64)
    return NoiseResult.from_labels(y, noisy, kind="instance", params={"rate": rate, "std": std, "normalize": normalize},
                                   seed=seed, num_classes=C, extras={"flip_rates": q})


# ------------------------------------------------------------------------------------------------ toy data
def two_class_blob(n: int = 2000, seed: int = 0, std: float = 1.0):
    """Fig 5 of the seed paper: one 2-D Gaussian blob split by the vertical line x = 0 into two classes.

    Returns ``(points float32 (n, 2), labels int64 (n,))`` with label 1 for x > 0.
    """
    if int(n) < 4:
        raise ValueError(f"n must be at least 4, got {n!r}.")
    g = make_rng(seed)
    x = (g.standard_normal((int(n), 2)) * std).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def clustered_features(n: int = 50000, dim: int = 512, num_classes: int = 10, subclusters: int = 6,
                       seed: int = 0, class_sep: float = 1.0, sub_sep: float = 0.5, noise: float = 0.7,
                       return_subclusters: bool = False):
    """Synthetic encoder-like features: ``num_classes`` Gaussian clusters, each made of ``subclusters``
    Gaussian sub-clusters (the structure CBN exploits). Returns ``(features float32 (n, dim), labels int64)``,
    plus the sub-cluster index of every point (0..subclusters-1) when ``return_subclusters``.
    """
    g = make_rng(seed)
    centres = g.standard_normal((num_classes, dim)) * class_sep
    subs = centres[:, None, :] + g.standard_normal((num_classes, subclusters, dim)) * sub_sep
    y = g.integers(0, num_classes, int(n))
    s = g.integers(0, subclusters, int(n))
    x = subs[y, s] + g.standard_normal((int(n), dim)) * noise
    if return_subclusters:
        return x.astype(np.float32), y.astype(np.int64), s.astype(np.int64)
    return x.astype(np.float32), y.astype(np.int64)
