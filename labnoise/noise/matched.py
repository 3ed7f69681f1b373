"""Label sets for the memorization case study (chapter 01): a synthetic set with the transition matrix of a
given label set, and a stand-in for human-like noise where no human labels exist.

    >>> import numpy as np
    >>> clean = np.repeat(np.arange(3), 100)
    >>> ref = clean.copy(); ref[:30] = 1
    >>> r = matched_synthetic(clean, ref, seed=0)
    >>> r.kind, r.extras["target_T"][0].round(2).tolist()
    ('matched', [0.7, 0.3, 0.0])
"""
from __future__ import annotations

import numpy as np

from .._validation import check_features, check_labels, check_num_classes, check_rate
from .base import NoiseResult
from .synthetic import transition, transition_from

__all__ = ["matched_synthetic", "confusable_noise"]


def matched_synthetic(clean_labels, reference_labels, *, seed, num_classes=None) -> NoiseResult:
    """A class-dependent label set with the transition matrix of ``reference_labels`` (Lim et al.'s synthetic
    set).

    ``T`` is the row-normalised confusion of ``reference_labels`` against ``clean_labels``; every synthetic label
    is drawn independently from ``T[clean_i]`` with a seeded generator (:func:`labnoise.noise.transition`).

    The synthetic set has (about) the reference's rate, but its wrong labels sit on other examples:

    >>> clean = np.repeat(np.arange(2), 500)
    >>> ref = clean.copy(); ref[:100] = 1                      # the first 100 examples of class 0 are wrong
    >>> syn = matched_synthetic(clean, ref, seed=0)
    >>> abs(syn.realised_rate - 0.1) < 0.03, bool(syn.flipped[100:500].any())
    (True, True)

    Returns
    -------
    NoiseResult with ``kind="matched"``; the target ``T`` (C, C) float64 is ``extras["target_T"]`` (the
    realised one is ``transition_matrix``), its expected rate ``params["expected_rate"]``.
    """
    clean = check_labels(clean_labels, num_classes, name="clean_labels")
    ref = check_labels(reference_labels, num_classes, name="reference_labels", length=clean.shape[0])
    C = check_num_classes(num_classes, np.maximum(clean, ref))
    T = transition_from(clean, ref, C)
    drawn = transition(clean, T, seed=seed, num_classes=C)
    return NoiseResult.from_labels(clean, drawn.noisy_labels, kind="matched",
                                   params={"expected_rate": drawn.params["expected_rate"],
                                           "reference_rate": float(np.mean(ref != clean))},
                                   seed=seed, num_classes=C, extras={"target_T": T})


def confusable_noise(features, clean_labels, rate: float, *, seed, num_classes=None, folds: int = 2,
                     C_reg: float = 0.05) -> NoiseResult:
    """A stand-in for *human-like* noise where no human labels exist (e.g. sklearn digits): structured,
    instance-dependent flips towards the class a weak classifier confuses an image with.

    A strongly regularised logistic regression (inverse regularisation ``C_reg``) gives out-of-fold class
    probabilities (``folds`` seeded folds); the ``round(rate * N)`` examples with the highest probability of some
    *other* class are relabelled with that class. Unlike class-dependent noise, the flipped examples are the
    ambiguous-looking ones, and they cluster.

    Returns
    -------
    NoiseResult with ``kind="confusable"``: exactly ``round(rate * N)`` labels differ from ``clean_labels``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    y = check_labels(clean_labels, num_classes, name="clean_labels")
    x = check_features(features, length=y.shape[0])
    rate = check_rate(rate)
    C = check_num_classes(num_classes, y)
    if int(folds) != folds or folds < 2:
        raise ValueError(f"folds must be an integer >= 2, got {folds!r}.")
    probs = np.zeros((y.size, C))
    skf = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=int(seed))
    for tr, te in skf.split(x, y):
        sc = StandardScaler().fit(x[tr])
        clf = LogisticRegression(C=C_reg, max_iter=500).fit(sc.transform(x[tr]), y[tr])
        probs[np.ix_(te, clf.classes_)] = clf.predict_proba(sc.transform(x[te]))
    other = probs.copy()
    other[np.arange(y.size), y] = -1.0
    target = other.argmax(1)
    score = other.max(1)
    k = int(round(rate * y.size))
    order = np.lexsort((np.arange(y.size), -score))  # highest confusion first, ties by index
    noisy = y.copy()
    noisy[order[:k]] = target[order[:k]]
    return NoiseResult.from_labels(y, noisy, kind="confusable",
                                   params={"rate": rate, "folds": int(folds), "C_reg": float(C_reg)},
                                   seed=seed, num_classes=C)
