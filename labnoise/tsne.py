"""2-D t-SNE maps via openTSNE, tuned for speed at the CIFAR scale (50k points) and cached on disk.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(300, 20)).astype("float32")
    >>> m = tsne_map(x, seed=0)
    >>> m.shape, m.dtype.name
    ((300, 2), 'float32')

What makes it fast (50k x 512 features, 2 CPU cores; the numbers are in ``benchmarks/bench_cbn.py``):

* **PCA to 50 dimensions first** (exact: one covariance matmul and an eigensolver): the neighbour search
  then works on 50 instead of 512 (or 1280) dimensions. This is the standard t-SNE preprocessing (van der
  Maaten's reference implementation does the same), and the map starts from the first two components.
* **Approximate neighbours**: Annoy with 10 trees instead of openTSNE's 50 (at the defaults the affinity step
  was the most expensive part). t-SNE only needs a good kNN graph, not the exact one.
* **FFT-accelerated gradients** (FIt-SNE interpolation) on all cores, instead of Barnes-Hut (for maps of
  fewer than 10,000 points Barnes-Hut on one thread is faster and is used instead).
* **Fewer iterations**: 100 early-exaggeration + 250 regular iterations instead of openTSNE's 250 + 500 (and
  scikit-learn's 1000 in all). With the "auto" learning rate (N / 12, then N) t-SNE converges in far fewer
  iterations than the classic schedule (Belkina et al. 2019).

The effect on the map, measured on the 50,000 CIFAR-10 training images with EfficientNet-Lite0 features
(10-NN of 2,000 random points): the share of each point's 10 feature-space neighbours kept among its 10 map
neighbours drops from 0.197 (openTSNE defaults on the raw features) to 0.148, the share of map neighbours
with the same class from 0.607 to 0.598, and CBN's structure is unchanged (6.3 distinct targets per class,
93% of the flips to the top-2 targets, at 35% noise with either map). Only the map's scale changes (std 29
instead of 36), which moves the ``(n, r)`` that gives a rate: that is why :func:`labnoise.noise.cbn`
calibrates.

Determinism: with a fixed seed and fixed ``n_jobs`` the output is byte-identical run to run (checked in the
tests); different thread counts may differ in the last bits. The cache key includes every parameter, a hash of
the input bytes and the openTSNE version.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ._validation import check_features, check_labels
from .cache import read_npy
from .linalg import pca

__all__ = ["tsne_map", "map_quality", "default_cache_dir"]

_CACHE_VERSION = 2


def default_cache_dir() -> Path:
    """``<data root>/cache/tsne``: :func:`labnoise.cache.cache_dir` (the one owner of the cache layout)."""
    from .cache import cache_dir

    return cache_dir("tsne")


def _hash_array(x: np.ndarray) -> str:
    from ._io import content_hash  # the package's one content hash (same bytes as before: keys unchanged)

    return content_hash(np.asarray(x))


def tsne_map(features, seed: int = 0, *, cache=None, pca_dims: int | None = 50, perplexity: float = 30.0,
             early_exaggeration_iter: int = 100, n_iter: int = 250, n_trees: int = 10, neighbors: str = "auto",
             n_jobs: int | None = None, negative_gradient_method: str = "auto", verbose: bool = False,
             progress: bool = False) -> np.ndarray:
    """A seeded 2-D t-SNE map of ``features`` (see the module docstring for the speed choices).

    Parameters
    ----------
    features : float array (N, D)
        Encoder features (rows in the order of the labels). NaN/inf are rejected.
    seed : int
        Seeds the Annoy index (and the randomized PCA above 2,048 dimensions). With exact neighbours (fewer
        than 10,000 points) the map is a deterministic function of the features: the PCA, the initialisation
        (the first two principal components) and the gradients involve no randomness.
    cache : None, False, True or path
        None/False: no cache. A directory: the map is stored there as ``tsne-<key>.npy`` (written atomically)
        and reloaded when the features and every parameter match. True: :func:`default_cache_dir`.
    pca_dims : int or None
        Reduce to this many principal components first (None: no PCA).
    perplexity : float
        t-SNE perplexity (clipped to ``(N - 1) / 3`` for small N).
    early_exaggeration_iter, n_iter : int
        Iterations with exaggeration 12, then without (openTSNE defaults: 250 and 500).
    n_trees : int
        Annoy trees (openTSNE default: 50).
    neighbors : {"auto", "annoy", "exact"}
        "auto": Annoy for N >= 10,000, exact (scikit-learn) below.
    n_jobs : int, optional
        Threads; default all cores (``labnoise._torch.cpu_threads``) for N >= 10,000 and 1 below (thread
        start-up and barriers cost more than they save on small maps, badly so on a busy machine).
    negative_gradient_method : {"auto", "fft", "bh"}
        "auto": FFT-interpolated gradients for N >= 10,000, Barnes-Hut below (faster for small N).
    verbose : bool
        openTSNE's own timing log.
    progress : bool
        A tqdm bar over the iterations.

    Returns
    -------
    float32 array (N, 2).
    """
    from ._torch import cpu_threads

    x = check_features(features)
    if x.shape[0] < 5:
        raise ValueError(f"t-SNE needs at least 5 points, got {x.shape[0]}.")
    if neighbors not in ("auto", "annoy", "exact"):
        raise ValueError(f"unknown neighbors {neighbors!r}; choose one of: auto, annoy, exact.")
    if negative_gradient_method not in ("auto", "fft", "bh"):
        raise ValueError(f"unknown negative_gradient_method {negative_gradient_method!r}; choose auto, fft or bh.")
    large = x.shape[0] >= 10000
    n_jobs = (cpu_threads() if large else 1) if n_jobs is None else int(n_jobs)
    grad = negative_gradient_method if negative_gradient_method != "auto" else ("fft" if large else "bh")
    method = neighbors if neighbors != "auto" else ("annoy" if x.shape[0] >= 10000 else "exact")
    perp = float(min(perplexity, (x.shape[0] - 1) / 3.0))
    params = {"seed": int(seed), "pca_dims": pca_dims, "perplexity": perp, "ee_iter": int(early_exaggeration_iter),
              "n_iter": int(n_iter), "n_trees": int(n_trees), "neighbors": method, "n_jobs": n_jobs,
              "grad": grad}

    path = None
    if cache is not None and cache is not False:
        import openTSNE

        folder = default_cache_dir() if cache is True else Path(cache).expanduser()
        key = hashlib.sha256(json.dumps({"x": _hash_array(x), "p": params, "v": _CACHE_VERSION,
                                         "openTSNE": openTSNE.__version__}, sort_keys=True).encode()).hexdigest()
        path = folder / f"tsne-{key[:24]}.npy"
        # an unreadable, misshaped or non-finite file is a miss: recomputed (labnoise.cache's one rule)
        m = read_npy(path, shape=(x.shape[0], 2), finite=True)
        if m is not None and np.issubdtype(m.dtype, np.floating):
            return m.astype(np.float32, copy=False)

    z = x
    if pca_dims and x.shape[1] > int(pca_dims):
        # exact PCA up to 2,048 dimensions (one float32 X^T X product and an eigensolver: faster than a
        # randomized SVD at these sizes, and free of randomness); above, a seeded randomized SVD
        z = pca(x, int(pca_dims), precision="float32", solver="eigh" if x.shape[1] <= 2048 else "randomized",
                seed=seed)
    init = None
    if pca_dims and z.shape[1] >= 2 and z[:, 0].std() > 0:
        # the map starts from the first two principal components (what openTSNE's "pca" initialisation computes
        # again from scratch), scaled to standard deviation 1e-4 as openTSNE does
        init = np.ascontiguousarray(z[:, :2] / z[:, 0].std() * 1e-4, dtype=np.float64)
    m = _run_opentsne(z, params, verbose=verbose, progress=progress, init=init)
    if path is not None:
        from ._io import save_npy

        save_npy(path, m)
    return m


def _run_opentsne(z: np.ndarray, params: dict, verbose: bool, progress: bool, init=None) -> np.ndarray:
    from openTSNE import TSNE

    callbacks, bar = None, None
    every = 25
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=params["ee_iter"] + params["n_iter"], desc="t-SNE", leave=False)

        def _cb(iteration, error, embedding):  # noqa: ARG001 - openTSNE's callback signature
            bar.update(every)
            return False

        callbacks = [_cb]
    tsne = TSNE(n_components=2, perplexity=params["perplexity"], n_iter=params["n_iter"],
                early_exaggeration_iter=params["ee_iter"], initialization="pca", metric="euclidean",
                neighbors=params["neighbors"],
                knn_kwargs={"n_trees": params["n_trees"]} if params["neighbors"] == "annoy" else None,
                negative_gradient_method=params["grad"], n_jobs=params["n_jobs"], random_state=params["seed"],
                callbacks=callbacks, callbacks_every_iters=every, verbose=verbose)
    try:
        emb = tsne.fit(np.ascontiguousarray(z, dtype=np.float64), initialization=init)
    finally:
        if bar is not None:
            bar.close()
    return np.ascontiguousarray(np.asarray(emb), dtype=np.float32)


def map_quality(features, map_2d, labels=None, k: int = 10, sample: int = 2000, seed: int = 0) -> dict:
    """How faithful a 2-D map is, on ``sample`` random query points (exact neighbours on both sides).

    Returns ``{"neighbour_preservation": mean |kNN_D(i) & kNN_2D(i)| / k, "knn_label_agreement": mean fraction
    of the k map neighbours that share the query's label (if labels are given), "scale": std of the map
    coordinates}``.
    """
    from .neighbors import knn

    x = check_features(features)
    m = check_features(map_2d, name="map_2d", length=x.shape[0])
    g = np.random.default_rng(seed)
    q = np.sort(g.choice(x.shape[0], size=min(int(sample), x.shape[0]), replace=False))

    def _knn(a, qi):  # exact, chunked (labnoise.neighbors); the query point itself is dropped
        _, idx = knn(a, k + 1, query=a[qi])
        not_self = idx != qi[:, None]
        return np.stack([row[keep][:k] for row, keep in zip(idx, not_self)])

    hi, lo = _knn(x, q), _knn(m, q)
    pres = float(np.mean([np.intersect1d(a, b).size for a, b in zip(hi, lo)]) / k)
    out = {"neighbour_preservation": round(pres, 4), "scale": round(float(m.std()), 4)}
    if labels is not None:
        y = check_labels(labels, length=x.shape[0])
        out["knn_label_agreement"] = round(float(np.mean(y[lo] == y[q, None])), 4)
    return out
