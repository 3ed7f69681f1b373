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


def check_num_classes(num_classes, labels: np.ndarray | None = None) -> int:
    if num_classes is None:
        if labels is None:
            raise ValueError("num_classes is required.")
        return int(np.asarray(labels).max()) + 1
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
