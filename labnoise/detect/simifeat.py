"""SimiFeat (Zhu et al., ICML 2022): training-free detection by cosine k-nearest-neighbour label voting on frozen
features.

Each *pass* embeds one view of the data -- the original features, the flipped-image features when given, and
random feature dropout views -- finds each example's ``k`` (10) nearest neighbours by cosine similarity (itself
excluded) and builds the neighbours' label histogram ``h`` (N, K). Per pass an example is flagged by

* ``"mv"``: the neighbours' majority label differs from its given label;
* ``"rank1"``: the score ``-log h[label]`` is ranked within each given class and the top ``e_c`` fraction is
  flagged, with the class noise rate ``e_c`` estimated as the fraction of the class whose neighbours' majority
  disagrees with the label (a simple kNN consensus estimate standing in for the paper's HOC estimator of the
  transition matrix; the ranking then decides *which* examples are flagged).

The final flag is the majority vote over passes; ``score`` is the mean ``-log h[label]``.

**What is computed once.** A view's neighbour graph depends on its features only, never on the labels, so it
is kept in a small in-memory cache keyed by a fingerprint of the features' bytes (and, for a dropout view, the
dropout rate, the seed and the pass): every label set on the same features -- CIFAR-10's symmetric, pair-flip
and instance noise and the CIFAR-10N sets -- reuses the graphs, and only the voting runs again. The
neighbours are exact (:func:`labnoise.neighbors.knn`, cosine). :func:`clear_cache` empties the cache.
"""
from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

import numpy as np

from ._base import DetectionResult, check_inputs

__all__ = ["simifeat", "knn_label_histogram", "knn_indices", "clear_cache"]

VARIANTS = ("rank1", "mv")

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 64  # neighbour tables (N x k int64: 4 MB each at 50k x 10)


def clear_cache() -> None:
    """Forget the cached neighbour graphs."""
    _CACHE.clear()


def _fingerprint(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def _knn_precision(precision, device) -> str:
    """The :func:`labnoise.neighbors.knn` precision for ``precision``: ``"auto"`` is its certified bf16
    self-join on a CPU with native bf16 (the same neighbours as fp32, ties aside), fp32 elsewhere."""
    from .._torch import resolve_device, resolve_precision

    dev = resolve_device(device)
    if precision == "auto":
        return "bf16" if dev.type == "cpu" and resolve_precision("auto", dev) == "bf16" else "fp32"
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}.")
    return precision


def knn_indices(features, *, k: int = 10, key=None, device="cpu", precision: str = "auto") -> np.ndarray:
    """(N, k) indices of each row's ``k`` exact cosine nearest neighbours among the rows (itself excluded).
    ``key``: a hashable that identifies ``features`` (default: a fingerprint of its bytes); tables are cached
    under ``(key, k, precision)``. ``precision``: see :func:`_knn_precision` (both give the fp32 neighbours up
    to ties at the k-th distance; the resolved one is part of the cache key)."""
    from ..neighbors import knn

    X = np.ascontiguousarray(features, dtype=np.float32)
    k = int(min(k, X.shape[0] - 1))
    prec = _knn_precision(precision, device)
    ck = (_fingerprint(X) if key is None else key, k, prec)
    if ck in _CACHE:
        _CACHE.move_to_end(ck)
        return _CACHE[ck]
    _, idx = knn(X, k, include_self=False, metric="cosine", device=device, precision=prec)
    idx.setflags(write=False)
    _CACHE[ck] = idx
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return idx


def _histogram(idx, labels, num_classes):
    """(N, K) label fractions among the neighbours ``idx`` (N, k)."""
    n, k = idx.shape
    flat = (np.arange(n)[:, None] * num_classes + np.asarray(labels)[idx]).ravel()
    return np.bincount(flat, minlength=n * num_classes).reshape(n, num_classes) / float(k)


def knn_label_histogram(labels, features, *, num_classes: int, k: int = 10, device="cpu") -> np.ndarray:
    """(N, K) fraction of each example's ``k`` cosine nearest neighbours (itself excluded) with each label."""
    return _histogram(knn_indices(features, k=k, device=device), labels, num_classes)


def simifeat(labels, features, *, flipped_features=None, num_classes=None, seed: int = 0, k: int = 10,
             variant: str = "rank1", passes: int = 5, dropout: float = 0.2, device="cpu",
             precision: str = "auto") -> DetectionResult:
    """Flag examples by kNN label voting over ``passes`` views (original, flipped if given, then feature dropout
    with rate ``dropout``, pass ``j``'s mask drawn from ``(seed, j)``), majority vote across passes.
    ``variant`` in {"rank1", "mv"}. The neighbour graphs are cached across calls (module docstring).
    ``precision`` of the neighbour search (:func:`_knn_precision`; exact either way, ties aside).
    ``extras["timings"]``: ``knn`` (graph construction, ~0 when cached) and ``voting``."""
    y, X, K, Fl = check_inputs(labels, features, num_classes=num_classes, flipped_features=flipped_features)
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of: {', '.join(VARIANTS)}.")
    if int(passes) != passes or int(passes) < 1:
        raise ValueError(f"passes must be an integer >= 1, got {passes!r}.")
    if not (0.0 <= float(dropout) < 1.0):
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
    if int(k) != k or int(k) < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}.")
    prec = _knn_precision(precision, device)
    t0 = time.perf_counter()
    fx = _fingerprint(X)
    views = [(X, (fx, "view")), *([(Fl, None)] if Fl is not None else [])]
    j = len(views)
    while len(views) < int(passes):
        vkey = (fx, "dropout", float(dropout), int(seed), j)
        mk = None
        if (vkey, int(min(k, y.size - 1)), prec) not in _CACHE:
            rng = np.random.default_rng([int(seed), j])
            mk = X * (rng.random(X.shape, dtype=np.float32) >= dropout)
        views.append((mk, vkey))
        j += 1
    views = views[:int(passes)]
    tables = [knn_indices(v if v is not None else X, k=k, key=key, device=device, precision=prec)
              for v, key in views]
    t_knn = time.perf_counter() - t0
    t0 = time.perf_counter()
    votes = np.zeros(y.size, int)
    scores = np.zeros(y.size)
    rates = []
    for idx in tables:
        h = _histogram(idx, y, K)
        agree = h[np.arange(y.size), y]
        s = -np.log(agree + 1e-3)
        scores += s / len(views)
        if variant == "mv":
            flag = h.argmax(1) != y
        else:
            flag = np.zeros(y.size, bool)
            est = np.zeros(K)
            for c in range(K):
                idx = np.flatnonzero(y == c)
                if idx.size == 0:
                    continue
                est[c] = float((h[idx].argmax(1) != c).mean())
                top = int(round(est[c] * idx.size))
                if top:
                    flag[idx[np.argsort(-s[idx], kind="stable")[:top]]] = True
            rates.append(est)
        votes += flag
    is_noisy = votes > len(views) / 2
    extras = {"votes": votes, "passes": len(views), "timings": {"knn": t_knn, "voting": time.perf_counter() - t0}}
    if rates:
        extras["estimated_class_noise_rates"] = np.mean(rates, 0)
    return DetectionResult(is_noisy=is_noisy, score=scores, method="simifeat",
                           settings={"k": k, "variant": variant, "passes": len(views), "dropout": dropout,
                                     "seed": seed, "flipped_view": Fl is not None, "precision": prec},
                           extras=extras)
