"""Cluster-Based Noise (CBN), Algorithm 1 of the seed paper (Lim et al. 2025).

1. Embed the images (CLIP ViT-B/32 in the paper) and reduce to 2-D with t-SNE (:func:`labnoise.tsne.tsne_map`).
2. For every class: the class centre is the mean of its map points (clean labels); ``n`` sub-cluster centres
   are sampled (seeded, without replacement) among the class's points.
3. Every point closer than ``r`` (map units; strictly, ``dist < r`` as in Algorithm 1) to *any* of its own
   class's sub-centres takes the label of the nearest *other* class centre (nearest to the point). The same ``n`` and ``r`` hold for every class.

The paper's CIFAR-10 settings ``n=57, r=2 -> 34.9%`` and ``n=190, r=2 -> 70.2%`` refer to the scale of *its*
t-SNE map (scikit-learn, unseeded); the rate depends on that scale, so :func:`cbn` can calibrate ``n`` (and
``r``) to a target rate. Sub-centres are the first ``n`` points of a seeded per-class permutation, so the
centres for ``n`` are a subset of those for ``n + 1`` and the rate grows monotonically with ``n`` and with
``r``; the search is a bisection over ``n`` followed by an exact solve of ``r`` (a quantile of the distances
to the nearest sub-centre).

    >>> import numpy as np
    >>> from labnoise.noise.synthetic import two_class_blob
    >>> xy, y = two_class_blob(2000, seed=0)
    >>> r = cbn(xy, y, target_rate=0.2, seed=0)     # a 2-column input is used as the map itself
    >>> abs(r.realised_rate - 0.2) <= 0.005
    True
"""
from __future__ import annotations

import numpy as np

from .._validation import check_features, check_labels, check_num_classes, check_rate, rng as make_rng
from .base import NoiseResult

__all__ = ["cbn", "cbn_rate_grid", "cbn_loop", "CBNState"]


class CBNState:
    """Everything of Algorithm 1 that does not depend on ``(n, r)``, computed once (vectorised).

    Attributes: ``map_2d`` (N, 2), ``labels``, ``num_classes``, ``class_centres`` (C, 2), ``nearest_other`` (N,)
    = label of the nearest other class centre for every point, ``members`` = per-class index arrays in a seeded
    random order (the first ``n`` of each are the sub-centres for ``n``).
    """

    def __init__(self, map_2d: np.ndarray, labels: np.ndarray, num_classes: int, seed):
        self.map_2d = map_2d
        self.labels = labels
        self.num_classes = num_classes
        g = make_rng(seed)
        counts = np.bincount(labels, minlength=num_classes)
        if (counts == 0).any():
            raise ValueError(f"every class needs at least one point; classes {np.flatnonzero(counts == 0).tolist()} "
                             "are empty (pass num_classes matching the labels).")
        self.class_sizes = counts
        sums = np.zeros((num_classes, 2))
        np.add.at(sums, labels, map_2d.astype(np.float64))
        self.class_centres = sums / counts[:, None]
        d = np.linalg.norm(map_2d[:, None, :].astype(np.float64) - self.class_centres[None], axis=2)  # (N, C)
        d[np.arange(labels.shape[0]), labels] = np.inf
        self.nearest_other = d.argmin(1).astype(np.int64)
        self.members = [np.flatnonzero(labels == c)[g.permutation(int(counts[c]))] for c in range(num_classes)]
        self._dmin_cache: dict[int, np.ndarray] = {}

    def sub_centres(self, n: int) -> list[np.ndarray]:
        """Indices of the ``n`` sub-centres of every class."""
        return [m[:n] for m in self.members]

    def dmin(self, n: int) -> np.ndarray:
        """Distance of every point to the nearest of its own class's first ``n`` sub-centres (N,)."""
        n = int(n)
        if n not in self._dmin_cache:
            from scipy.spatial import cKDTree

            out = np.empty(self.labels.shape[0])
            for c, m in enumerate(self.members):  # a loop over classes; points are vectorised (k-d tree)
                tree = cKDTree(self.map_2d[m[:n]].astype(np.float64))
                out[m], _ = tree.query(self.map_2d[m].astype(np.float64), k=1)
            if len(self._dmin_cache) > 64:
                self._dmin_cache.clear()
            self._dmin_cache[n] = out
        return self._dmin_cache[n]

    def rate(self, n: int, r: float) -> float:
        return float(np.mean(self.dmin(n) < r))

    def noisy(self, n: int, r: float) -> np.ndarray:
        flip = self.dmin(n) < r   # strict, as Algorithm 1 (dist < r)
        return np.where(flip, self.nearest_other, self.labels).astype(np.int64)


def _check_map(map_2d, n_points):
    m = check_features(map_2d, name="map_2d", length=n_points)
    if m.shape[1] != 2:
        raise ValueError(f"map_2d must be an (N, 2) map (one 2-D point per example), got shape {m.shape}; pass "
                         "the t-SNE map (labnoise.tsne.tsne_map), or pass features as the first argument to have "
                         "it computed.")
    return m


def _as_map(features_or_map, map_2d, n_points, seed, tsne_kwargs, cache):
    """Return (map, how): a given 2-D map, a 2-column input used as the map, or a t-SNE of the features."""
    if map_2d is not None:
        return _check_map(map_2d, n_points), "given map_2d"
    if features_or_map is None:
        raise ValueError("pass the encoder features (t-SNE is run on them) or a 2-D map via map_2d=.")
    x = check_features(features_or_map, length=n_points)
    if x.shape[1] == 2:
        return x, "2-column input used as the map"
    from ..tsne import tsne_map

    kw = dict(tsne_kwargs or {})
    kw.setdefault("seed", seed)
    return tsne_map(x, cache=cache, **kw), "tsne_map"


def cbn(features_or_map=None, labels=None, n: int | None = None, r: float | None = None, seed: int = 0, *,
        map_2d=None, target_rate: float | None = None, tol: float = 0.005, r_start: float = 2.0,
        n_max: int | None = None, num_classes: int | None = None, tsne_kwargs: dict | None = None,
        cache=None) -> NoiseResult:
    """Cluster-Based Noise (Algorithm 1), with fixed ``(n, r)`` or calibrated to ``target_rate``.

    Parameters
    ----------
    features_or_map : float array (N, D), optional
        Encoder features (a seeded t-SNE map is computed with :func:`labnoise.tsne.tsne_map`), or a 2-column
        array used directly as the map.
    labels : int array (N,)
        Clean labels.
    n : int, optional
        Sub-cluster centres per class (``1 <= n <= smallest class size``).
    r : float, optional
        Radius in map units; a point flips when its distance to a sub-centre is strictly below ``r``.
    seed : int
        Seeds the sub-centre sampling (and the t-SNE map when one is computed).
    map_2d : float array (N, 2), optional
        A precomputed map (skips t-SNE; ``features_or_map`` is then ignored).
    target_rate : float in [0, 1), optional
        Calibrate instead of using fixed ``(n, r)``:

        * ``r`` given: bisection over ``n`` at that ``r``; if no ``n`` lands within ``tol``, a ValueError states
          the reachable range at that ``r`` (the largest reachable rate is the one at ``n_max``).
        * ``n`` given: ``r`` solved exactly (a quantile of the distances to the nearest sub-centre).
        * neither: bisection over ``n`` at ``r = r_start``; if ``n`` alone cannot get within ``tol`` (the step
          between ``n`` and ``n + 1`` is too coarse, or the target lies beyond ``n_max``/below ``n = 1``), ``r``
          is then solved for the ``n`` found. ``params["search"]`` says which happened.
    tol : float
        Required ``|realised - target|``.
    r_start : float
        Starting radius of the search (the paper's r = 2).
    n_max : int, optional
        Largest ``n`` searched (default: half the smallest class; at most the smallest class size).
    num_classes : int, optional
    tsne_kwargs : dict, optional
        Passed to :func:`labnoise.tsne.tsne_map` when a map is computed.
    cache : optional
        t-SNE map cache (see :func:`labnoise.tsne.tsne_map`).

    Returns
    -------
    NoiseResult (kind ``"cbn"``) with ``params = {n, r, target_rate, search, map}`` and ``extras`` holding
    ``map_2d``, ``class_centres`` (C, 2), ``sub_centres`` (list of index arrays) and ``nearest_other``.
    """
    if labels is None:
        raise ValueError("labels (the clean labels) are required.")
    y = check_labels(labels, num_classes)
    C = check_num_classes(num_classes, y)
    if target_rate is None and (n is None or r is None):
        raise ValueError("pass both n and r, or a target_rate= to calibrate them (optionally fixing one of them).")
    if target_rate is not None and n is not None and r is not None:
        raise ValueError("with target_rate= pass at most one of n and r (the other one is searched).")
    # every check that needs only the labels runs before the (possibly expensive) t-SNE map
    counts = np.bincount(y, minlength=C)
    if (counts == 0).any():
        raise ValueError(f"every class needs at least one point; classes {np.flatnonzero(counts == 0).tolist()} "
                         "are empty (pass num_classes matching the labels).")
    smallest = int(counts.min())
    if n is not None and (int(n) != n or not 1 <= int(n) <= smallest):
        raise ValueError(f"n must be an integer in [1, {smallest}] (the smallest class has {smallest} points), "
                         f"got {n!r}.")
    if r is not None and not (np.isfinite(r) and r >= 0):
        raise ValueError(f"r must be a non-negative radius in map units, got {r!r}.")
    n_max = max(1, smallest // 2) if n_max is None else int(n_max)
    if not 1 <= n_max <= smallest:
        raise ValueError(f"n_max must be in [1, {smallest}], got {n_max}.")
    target = None if target_rate is None else check_rate(target_rate, name="target_rate")
    m, how = _as_map(features_or_map, map_2d, y.shape[0], seed, tsne_kwargs, cache)
    state = CBNState(m, y, C, seed)
    search = None
    if target is None:
        n, r = int(n), float(r)
    else:
        if n is not None:
            n, search = int(n), "r"
            r = _solve_r(state, n, target, tol)
        else:
            r0 = float(r) if r is not None else float(r_start)
            n, ok = _search_n(state, r0, target, tol, n_max)
            if ok:
                r, search = r0, "n"
            elif r is not None:
                lo, hi = state.rate(1, r0), state.rate(n_max, r0)
                raise ValueError(f"CBN cannot reach a noise rate of {target:.4f} at r={r0:g} within tol={tol}: with "
                                 f"n in [1, {n_max}] the reachable rates lie in [{lo:.4f}, {hi:.4f}] (the largest "
                                 f"reachable rate at this r is {hi:.4f}); pass a larger r, raise n_max, or leave "
                                 "r=None to let the radius be searched too.")
            else:
                r, search = _solve_r(state, n, target, tol), "n+r"
    noisy = state.noisy(n, r)
    params = {"n": int(n), "r": float(r), "target_rate": None if target_rate is None else float(target_rate),
              "search": search, "map": how, "map_scale": round(float(m.std()), 4)}
    extras = {"map_2d": m, "class_centres": state.class_centres, "sub_centres": state.sub_centres(n),
              "nearest_other": state.nearest_other, "dmin": state.dmin(n)}
    return NoiseResult.from_labels(y, noisy, kind="cbn", params=params, seed=seed, num_classes=C, extras=extras)


def _search_n(state: CBNState, r: float, target: float, tol: float, n_max: int):
    """Smallest n whose rate at r reaches the target (bisection; rate is monotone in n), then the closer of
    n - 1 and n. Returns (n, within_tol)."""
    lo, hi = 1, n_max
    if state.rate(hi, r) < target:
        return hi, abs(state.rate(hi, r) - target) <= tol
    while lo < hi:
        mid = (lo + hi) // 2
        if state.rate(mid, r) >= target:
            hi = mid
        else:
            lo = mid + 1
    best = lo
    if lo > 1 and abs(state.rate(lo - 1, r) - target) < abs(state.rate(lo, r) - target):
        best = lo - 1
    return best, abs(state.rate(best, r) - target) <= tol


def _solve_r(state: CBNState, n: int, target: float, tol: float) -> float:
    """The radius at which exactly round(target * N) points lie closer than r to a sub-centre (midpoint of the
    gap between consecutive sorted distances; the test is strict, ``dist < r``)."""
    d = np.sort(state.dmin(n))
    N = d.shape[0]
    k = int(np.round(target * N))
    min_rate = float(np.mean(d <= 0.0))   # what flips at any r > 0: the sub-centres themselves
    if k == 0 or target + tol < min_rate:
        if target <= tol:
            return 0.0                        # r = 0: nothing is closer than 0 (strict test)
        raise ValueError(f"CBN cannot reach a noise rate as low as {target:.4f} with n={n}: the sub-centres "
                         f"themselves flip at any r > 0 ({min_rate:.4f}). Use a smaller n (the largest reachable rate "
                         "is just below 1.0 for any n).")
    r = float(np.nextafter(d[k - 1], np.inf)) if k >= N else 0.5 * (float(d[k - 1]) + float(d[k]))
    if abs(state.rate(n, r) - target) > tol:  # heavy ties; take the closer side (just above d[k-1])
        r = float(np.nextafter(d[k - 1], np.inf))
        if abs(state.rate(n, r) - target) > tol:
            raise ValueError(f"CBN cannot get within tol={tol} of {target:.4f} with n={n} (many tied distances in "
                             "the map); relax tol or jitter the map.")
    return r


def cbn_rate_grid(map_2d, labels, ns, rs, seed: int = 0, num_classes: int | None = None) -> np.ndarray:
    """Realised CBN noise rate for every ``(n, r)`` pair: array (len(ns), len(rs)). Each ``n`` costs one
    nearest-sub-centre query; all radii then come from one sorted array (for the explorer figure)."""
    y = check_labels(labels, num_classes)
    m = _check_map(map_2d, y.shape[0])
    state = CBNState(m, y, check_num_classes(num_classes, y), seed)
    rs = np.asarray(rs, dtype=np.float64)
    out = np.empty((len(ns), rs.size))
    for i, n in enumerate(ns):
        d = np.sort(state.dmin(int(n)))
        out[i] = np.searchsorted(d, rs, side="left") / d.shape[0]   # count of d < r (strict)
    return out


def cbn_loop(map_2d, labels, n: int, r: float, seed: int = 0, num_classes: int | None = None) -> np.ndarray:
    """Algorithm 1 written the direct way, one point at a time (the reference implementation the benchmark and
    tests compare against). Same sub-centres as :func:`cbn` for the same seed; returns the noisy labels."""
    y = check_labels(labels, num_classes)
    m = _check_map(map_2d, y.shape[0]).astype(np.float64)
    C = check_num_classes(num_classes, y)
    state = CBNState(m, y, C, seed)  # shares the seeded sub-centre draw and the class centres
    if not 1 <= int(n) <= int(state.class_sizes.min()):
        raise ValueError(f"n must be an integer in [1, {int(state.class_sizes.min())}], got {n!r}.")
    centres = state.class_centres
    subs = [m[s] for s in state.sub_centres(int(n))]
    noisy = y.copy()
    for i in range(y.shape[0]):
        p, c = m[i], int(y[i])
        inside = False
        for q in subs[c]:
            if (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 < r * r:   # Algorithm 1: dist < r
                inside = True
                break
        if inside:
            best, best_d = -1, np.inf
            for k in range(C):
                if k == c:
                    continue
                dk = np.hypot(p[0] - centres[k, 0], p[1] - centres[k, 1])
                if dk < best_d:
                    best, best_d = k, dk
            noisy[i] = best
    return noisy
