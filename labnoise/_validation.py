"""Input validation shared by every public function.

Each check raises one ``ValueError`` (or ``TypeError``) whose message says what was wrong and what to do.
Nothing is written before validation passes.
"""
from __future__ import annotations

import numpy as np


def check_labels(labels, num_classes: int | None = None, *, name: str = "labels", length: int | None = None) -> np.ndarray:
    """Return ``labels`` as a 1-D int64 array after checking shape, integrality and range.

    ``num_classes`` defaults to ``labels.max() + 1``. ``length`` (if given) is the required length.
    """
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {arr.shape}; "
                         "pass one integer label per example (not one-hot).")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one label.")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer class indices, got dtype {arr.dtype}; "
                             "convert with labels.astype(int) if they are whole numbers.")
    arr = arr.astype(np.int64, copy=False)
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} has length {arr.shape[0]} but {length} was expected "
                         "(one label per example, in the same order as the features/images).")
    if num_classes is None:
        num_classes = int(arr.max()) + 1
    if int(num_classes) < 2:
        raise ValueError(f"{name} describe fewer than 2 classes (num_classes={num_classes}); a classification "
                         "with noisy labels needs at least 2 classes: check the labels or pass num_classes.")
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= num_classes:
        raise ValueError(f"{name} must lie in [0, {num_classes - 1}] for num_classes={num_classes}, "
                         f"got values in [{lo}, {hi}]; check num_classes or remap the labels to 0..C-1.")
    return arr


#: how far a row of ``pred_probs`` may sum from 1 (float32 softmax rows sum to 1 within ~1e-6)
PRED_PROBS_ATOL = 1e-3

_PRED_PROBS_HINT = ("pass pred_probs = softmax of out-of-sample logits (each row a probability distribution over "
                    "the K classes, from a model that did not train on that example, e.g. K-fold "
                    "cross-validation)")


def check_pred_probs(pred_probs, *, length: int | None = None, num_classes: int | None = None,
                     name: str = "pred_probs") -> np.ndarray:
    """Return ``pred_probs`` as a float64 (N, K) array after checking it is a probability matrix: 2-D, ``length``
    rows and ``num_classes`` columns (if given), K >= 2, finite, every entry in [0, 1] and every row summing to 1
    within :data:`PRED_PROBS_ATOL`. Rows are then renormalised exactly. One ``ValueError`` per failure, saying
    what to pass (the softmax of out-of-sample logits); raw logits or unnormalised scores are refused, never
    silently rescaled."""
    try:
        arr = np.asarray(pred_probs, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric (N, K) array; {_PRED_PROBS_HINT}.") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, K) array, got shape {arr.shape}; {_PRED_PROBS_HINT}.")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} has {arr.shape[0]} rows but there are {length} labels; {_PRED_PROBS_HINT}, "
                         "one row per label, in the same order.")
    if arr.shape[1] < 2:
        raise ValueError(f"{name} has {arr.shape[1]} column(s); it needs one column per class (K >= 2); "
                         f"{_PRED_PROBS_HINT}.")
    if num_classes is not None and arr.shape[1] != int(num_classes):
        raise ValueError(f"{name} has {arr.shape[1]} columns but num_classes={num_classes}; pass num_classes equal "
                         f"to the width of {name} (or leave it out), or {_PRED_PROBS_HINT}.")
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise ValueError(f"{name} contains NaN or infinite values in {rows.size} row(s) (first: {rows[:5].tolist()}); "
                         f"{_PRED_PROBS_HINT}.")
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(f"{name} must hold probabilities in [0, 1], got values in [{arr.min():.4g}, {arr.max():.4g}] "
                         f"(raw logits?); {_PRED_PROBS_HINT}.")
    sums = arr.sum(1)
    off = np.flatnonzero(np.abs(sums - 1.0) > PRED_PROBS_ATOL)
    if off.size:
        raise ValueError(f"every row of {name} must sum to 1 (within {PRED_PROBS_ATOL:g}); {off.size} row(s) do not "
                         f"(first: row {int(off[0])} sums to {sums[off[0]]:.4g}); {_PRED_PROBS_HINT}.")
    return arr / sums[:, None]


def infer_num_classes(labels: np.ndarray, *, name: str = "labels") -> int:
    """The documented rule when ``num_classes`` is not given: K = largest label + 1, and every class 0..K-1 must
    then occur in ``labels`` (a gap means a stray label, e.g. one 12 in a 4-class set, or classes absent from this
    subset): otherwise one ``ValueError`` that says to pass ``num_classes``. ``labels``: checked int labels."""
    K = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=K)
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        top = int(labels.max())
        raise ValueError(f"num_classes was not given, so it is inferred as the largest label + 1 = {K}; but "
                         f"{name} never use class(es) {_ranges(missing)}, so the largest label ({top}, held by "
                         f"{int(counts[top])} example(s)) looks like a stray; pass num_classes=K explicitly "
                         "(then labels >= K are refused) or remap the labels to 0..K-1.")
    return K


def _ranges(idx) -> str:
    """[4, 5, 6, 9] -> '4..6, 9' (short, for messages)."""
    idx = [int(i) for i in idx]
    out, start = [], idx[0]
    for a, b in zip(idx, idx[1:] + [None]):
        if b != a + 1:
            out.append(str(start) if start == a else f"{start}..{a}")
            start = b
    return ", ".join(out[:6]) + (", ..." if len(out) > 6 else "")


def check_num_classes(num_classes, labels: np.ndarray | None = None) -> int:
    """``num_classes`` as an int >= 2; when it is None, inferred from ``labels`` by the documented rule of
    :func:`infer_num_classes` (largest label + 1, no class gap) for a label array, or largest value + 1 for a
    scalar."""
    if num_classes is None:
        if labels is None:
            raise ValueError("num_classes is required.")
        arr = np.asarray(labels)
        if arr.ndim == 1 and arr.size > 1 and np.issubdtype(arr.dtype, np.integer) and arr.min() >= 0:
            return infer_num_classes(arr)
        return int(arr.max()) + 1
    if int(num_classes) != num_classes or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}.")
    return int(num_classes)


def check_features(features, *, name: str = "features", length: int | None = None, ndim: int = 2) -> np.ndarray:
    """Return ``features`` as a float32 array with ``ndim`` dims, finite, with ``length`` rows if given."""
    try:
        import torch
        if isinstance(features, torch.Tensor):
            features = features.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    arr = np.asarray(features)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array (examples x dims), got shape {arr.shape}.")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}.")
    arr = arr.astype(np.float32, copy=False)
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); pass at least one row and one column.")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} has {arr.shape[0]} rows but {length} were expected "
                         "(one row per example, in the same order as the labels).")
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise ValueError(f"{name} contains NaN or infinite values in {rows.size} row(s) (first: {rows[:5].tolist()}); "
                         "re-compute the features or drop those rows before calling.")
    return arr


def check_rate(rate, *, name: str = "rate", upper: float = 1.0) -> float:
    """A noise rate in [0, upper)."""
    try:
        r = float(rate)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, {upper}), got {rate!r}.") from None
    if not (0.0 <= r < upper) or not np.isfinite(r):
        raise ValueError(f"{name} must be in [0, {upper}), got {rate!r}; "
                         "pass a fraction such as 0.35 (not a percentage such as 35).")
    return r


def check_choice(value, choices, *, name: str) -> str:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of: {', '.join(map(str, choices))}.")
    return value


def check_positive_int(value, *, name: str) -> int:
    """``value`` as an int >= 1 (a numeric string is accepted: environment variables), else one ValueError
    naming ``name``."""
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive integer, got {value!r}.") from None
    if out < 1:
        raise ValueError(f"{name} must be a positive integer, got {out}.")
    return out


def rng(seed) -> np.random.Generator:
    """A numpy Generator from an int seed (or pass a Generator through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise ValueError("seed is required (an int) so that results are reproducible.")
    return np.random.default_rng(int(seed))
