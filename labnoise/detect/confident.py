"""Confident Learning (Northcutt et al., JAIR 2021) through cleanlab: ``cleanlab.filter.find_label_issues`` on
out-of-sample ``pred_probs`` from stratified K-fold cross-validation of a model on the frozen features."""
from __future__ import annotations

import time

import numpy as np

from .._validation import check_pred_probs
from ._base import DetectionResult, check_inputs, check_precision
from ._dynamics import train_dynamics

__all__ = ["confident_learning", "out_of_sample_pred_probs"]

MODELS = ("mlp", "logreg")


def out_of_sample_pred_probs(labels, features, *, num_classes: int, folds: int = 5, model: str = "mlp",
                             seed: int = 0, hidden=(512,), epochs: int = 10, lr: float = 0.02,
                             batch_size: int = 128, device="cpu", precision: str = "auto") -> np.ndarray:
    """(N, K) predicted probabilities, each row from a model that never saw that example (stratified K-fold).
    ``model="mlp"``: an MLP head (SGD, cosine); ``"logreg"``: scikit-learn LogisticRegression on standardised
    features."""
    from sklearn.model_selection import StratifiedKFold

    y, X = np.asarray(labels), np.asarray(features, dtype=np.float32)
    n_splits = int(min(folds, np.bincount(y, minlength=num_classes)[np.bincount(y, minlength=num_classes) > 0].min()))
    if n_splits < 2:
        raise ValueError("confident learning needs at least 2 examples of every labelled class for cross-validation.")
    out = np.zeros((y.size, num_classes), np.float32)
    skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=int(seed))
    for f, (tr, te) in enumerate(skf.split(X, y)):
        if model == "logreg":
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X[tr], y[tr])
            out[np.ix_(te, clf.classes_)] = clf.predict_proba(X[te])
        else:
            from ._dynamics import predict_probs
            dyn = train_dynamics(X[tr], y[tr], num_classes=num_classes, hidden=hidden, epochs=epochs,
                                 batch_size=batch_size, lr=lr, seed=int(seed) + f, device=device,
                                 precision=precision)
            out[te] = predict_probs(dyn["model"], X[te], precision=precision)
    return out


def _resolved(precision, device) -> str:
    from .._torch import resolve_device, resolve_precision
    return resolve_precision(precision, resolve_device(device))


def confident_learning(labels, features, *, num_classes=None, seed: int = 0, folds: int = 5, model: str = "mlp",
                       filter_by: str = "prune_by_noise_rate", hidden=(512,), epochs: int = 10, lr: float = 0.02,
                       batch_size: int = 128, pred_probs=None, device="cpu", precision: str = "auto") -> DetectionResult:
    """Flag label issues with cleanlab. ``pred_probs`` (N, K) out-of-sample probabilities may be passed (the
    softmax of out-of-sample logits: finite, in [0, 1], rows summing to 1 within
    :data:`labnoise._validation.PRED_PROBS_ATOL`, K columns = ``num_classes``, which defaults to their width;
    anything else is refused with one ``ValueError``); otherwise they come from ``folds``-fold cross-validation of ``model`` in {"mlp", "logreg"} (``precision``:
    the MLP folds', see :mod:`labnoise.detect._dynamics`).
    Returns ``score`` = 1 - self-confidence (1 - pred_probs[i, labels[i]]); ``extras``: ``pred_probs``,
    ``timings`` (``cross_validation``, ``cleanlab``)."""
    from cleanlab.filter import find_label_issues

    if pred_probs is not None:  # validated first: its width is K when num_classes is not given
        pred_probs = check_pred_probs(pred_probs, length=np.shape(labels)[0] if np.ndim(labels) == 1 else None,
                                      num_classes=num_classes)
        raw = np.asarray(labels)
        if num_classes is None and raw.ndim == 1 and raw.size and np.issubdtype(raw.dtype, np.integer) \
                and int(raw.max()) >= pred_probs.shape[1]:
            raise ValueError(f"labels hold class {int(raw.max())} but pred_probs has {pred_probs.shape[1]} columns "
                             f"(classes 0..{pred_probs.shape[1] - 1}): labels and pred_probs disagree; pass the "
                             "labels the model was trained on, and pred_probs with one column per class.")
        num_classes = pred_probs.shape[1] if num_classes is None else num_classes
    y, X, K, _ = check_inputs(labels, features, num_classes=num_classes)
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of: {', '.join(MODELS)}.")
    check_precision(precision)
    timings = {}
    t0 = time.perf_counter()
    if pred_probs is None:
        pred_probs = out_of_sample_pred_probs(y, X, num_classes=K, folds=folds, model=model, seed=seed,
                                              hidden=hidden, epochs=epochs, lr=lr, batch_size=batch_size,
                                              device=device, precision=precision)
        timings["cross_validation"] = time.perf_counter() - t0
    pp = np.clip(np.asarray(pred_probs, dtype=np.float64), 1e-12, None)
    pp = pp / pp.sum(1, keepdims=True)
    t0 = time.perf_counter()
    # n_jobs=1: cleanlab's own process pool cannot start inside a Dask worker (a daemon process), and the
    # result does not depend on it
    flagged = find_label_issues(y, pp, filter_by=filter_by, n_jobs=1)
    timings["cleanlab"] = time.perf_counter() - t0
    score = 1.0 - pp[np.arange(y.size), y]
    return DetectionResult(is_noisy=np.asarray(flagged, bool), score=score, method="confident",
                           settings={"folds": folds, "model": model, "filter_by": filter_by, "seed": seed,
                                     "precision": _resolved(precision, device) if model == "mlp" else None},
                           extras={"pred_probs": pp.astype(np.float32), "timings": timings})
