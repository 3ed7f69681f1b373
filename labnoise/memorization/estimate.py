"""The estimator: per-run correctness -> inclusion, exclusion and memorization; the chunked, checkpointed driver
(:func:`subsample_estimate`) for any trainer; and the two lanes' entry points."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._io import save_json, save_npz
from .._validation import check_features, check_labels
from ..linalg import pca
from .design import _fingerprint, inclusion_weights, subset_masks
from .heads import HeadConfig, HeadTrainer
from .pixels import PixelConfig, PixelTrainer

__all__ = ["memorization_from_runs", "MemorizationResult", "incorrectly_learned", "subsample_estimate",
           "estimate_memorization", "estimate_memorization_pixels"]


def memorization_from_runs(correct, included):
    """Inclusion, exclusion and memorization from per-run correctness and inclusion.

    Parameters
    ----------
    correct, included : (m, N) bool arrays
        ``correct[r, i]``: run ``r`` predicts the given label of ``i``; ``included[r, i]``: ``i`` was in run
        ``r``'s training set.

    Returns
    -------
    inclusion, exclusion, memorization : (N,) float64, NaN where the count is 0
    counts : dict of (N,) int64 arrays ``n_in, n_out, correct_in, correct_out``
    """
    correct = np.asarray(correct, dtype=bool)
    included = np.asarray(included, dtype=bool)
    if correct.shape != included.shape or correct.ndim != 2:
        raise ValueError(f"correct and included must be (m, N) bool arrays of the same shape, got "
                         f"{correct.shape} and {included.shape}.")
    n_in = included.sum(0, dtype=np.int64)
    n_out = correct.shape[0] - n_in
    c_in = (correct & included).sum(0, dtype=np.int64)
    c_out = (correct & ~included).sum(0, dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        inc = np.where(n_in > 0, c_in / np.maximum(n_in, 1), np.nan)
        exc = np.where(n_out > 0, c_out / np.maximum(n_out, 1), np.nan)
    counts = {"n_in": n_in, "n_out": n_out, "correct_in": c_in, "correct_out": c_out}
    return inc, exc, inc - exc, counts


@dataclass
class MemorizationResult:
    """Output of :func:`subsample_estimate` (arrays are over all N training examples).

    Attributes
    ----------
    inclusion, exclusion, memorization : (N,) float64
        P[correct | included], P[correct | excluded] and their difference; NaN where no run included /
        excluded the example (outside the held-out set, ``exclusion`` and ``memorization`` are NaN).
    counts : dict of (N,) int64
        ``n_in, n_out`` (runs that included / excluded the example), ``correct_in, correct_out``.
    held_out : (H,) int64
        Indices of the held-out set.
    masks : (m, H) bool
        ``masks[r, j]``: run ``r`` kept ``held_out[j]``.
    correct : (m, N) bool
        Per-run correctness against the given label.
    m, keep, seed : the design; ``trainer`` describes the models; ``timings`` in seconds (not part of the result
        proper: they differ between an interrupted and an uninterrupted run).
    """

    inclusion: np.ndarray
    exclusion: np.ndarray
    memorization: np.ndarray
    counts: dict
    held_out: np.ndarray
    masks: np.ndarray
    correct: np.ndarray
    m: int
    keep: float
    seed: int
    trainer: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    def summary(self, noisy_mask=None) -> dict:
        """Mean inclusion / exclusion / memorization over the held-out set (split by ``noisy_mask`` if given)."""
        h = self.held_out
        groups = {"held_out": h}
        if noisy_mask is not None:
            nm = np.asarray(noisy_mask, dtype=bool)[h]
            groups = {"incorrect": h[nm], "correct": h[~nm]}
        out = {}
        for name, idx in groups.items():
            out[name] = {"n": int(idx.size),
                         "inclusion": float(np.nanmean(self.inclusion[idx])) if idx.size else float("nan"),
                         "exclusion": float(np.nanmean(self.exclusion[idx])) if idx.size else float("nan"),
                         "memorization": float(np.nanmean(self.memorization[idx])) if idx.size else float("nan")}
        return out


def incorrectly_learned(result: MemorizationResult, noisy_mask, threshold: float = 0.6) -> np.ndarray:
    """Indices of wrongly labelled held-out examples with inclusion > threshold and exclusion > threshold
    (Lim et al.'s "incorrectly learned" labels: predicted even when the example is not trained on)."""
    nm = np.asarray(noisy_mask, dtype=bool)
    h = result.held_out[nm[result.held_out]]
    sel = (result.inclusion[h] > threshold) & (result.exclusion[h] > threshold)
    return h[sel]


def subsample_estimate(trainer, labels, held_out=None, *, m: int = 100, keep: float = 0.7, seed: int = 0,
                       chunk_size: int | None = None, checkpoint_dir=None, progress: bool = True) -> MemorizationResult:
    """The subsampling estimator, for any trainer (see :class:`HeadTrainer`, :class:`PixelTrainer`).

    Parameters
    ----------
    trainer : callable ``trainer(runs, weights, *, seed) -> (len(runs), N) bool`` with ``fingerprint()``
        Trains one model per run on the examples with weight 1 and returns correctness on all N examples.
    labels : (N,) int
        The given labels (correctness is measured against them; the trainer holds the same labels).
    held_out : (H,) int or None
        Indices that are subsampled; ``None``: all examples (plain Feldman-Zhang subsampling).
    m : int
        Number of runs (models).
    keep : float
        Fraction of the held-out set that each run trains on (0.7 in the paper).
    seed : int
        Seeds everything; run ``r`` is determined by ``(seed, r)``.
    chunk_size : int or None
        Runs per chunk (trainer's default if None). Also the checkpoint granularity.
    checkpoint_dir : path, True or None
        Completed chunks are saved there atomically and reused by a later call with the same settings
        (``True``: ``<data root>/cache/memorization``, :func:`labnoise.cache.cache_dir`).
    progress : bool
        Show a tqdm bar over runs.
    """
    labels = check_labels(labels)
    n = labels.shape[0]
    if int(m) != m or m < 2:
        raise ValueError(f"m (the number of runs) must be an integer >= 2, got {m!r}.")
    m = int(m)
    held_out = np.arange(n, dtype=np.int64) if held_out is None else np.asarray(held_out)
    if held_out.ndim != 1 or held_out.size == 0 or not np.issubdtype(held_out.dtype, np.integer):
        raise ValueError("held_out must be a non-empty 1-D array of example indices (see held_out_design).")
    held_out = held_out.astype(np.int64)
    if held_out.min() < 0 or held_out.max() >= n or np.unique(held_out).size != held_out.size:
        raise ValueError(f"held_out must hold distinct indices in [0, {n - 1}].")
    if not 0.0 < keep < 1.0:
        raise ValueError(f"keep must be a fraction in (0, 1) such as 0.7, got {keep!r}.")
    chunk_size = int(chunk_size or getattr(trainer, "chunk_size", 32))
    seed = int(seed)
    own = getattr(trainer, "labels", None)
    if own is not None and not np.array_equal(own, labels):
        raise ValueError("labels differ from the labels the trainer was built with; pass the same given labels "
                         "to the trainer and to subsample_estimate.")

    ckpt = None
    if checkpoint_dir is not None:
        key = _fingerprint(labels, held_out, keep, seed, chunk_size, trainer.fingerprint())
        if checkpoint_dir is True:  # the default place (labnoise.cache owns the layout)
            from ..cache import cache_dir
            checkpoint_dir = cache_dir("memorization")
        ckpt = Path(checkpoint_dir) / f"memorization-{key}"
        ckpt.mkdir(parents=True, exist_ok=True)
        meta = ckpt / "meta.json"
        if not meta.exists():
            save_json(meta, {"n": n, "held_out": int(held_out.size), "keep": keep, "seed": seed,
                             "chunk_size": chunk_size, "trainer": _describe(trainer)})

    masks = subset_masks(held_out.size, np.arange(m), keep=keep, seed=seed)
    correct = np.zeros((m, n), dtype=bool)
    timings = {"train_s": 0.0, "loaded_chunks": 0, "trained_chunks": 0, "trained_runs": 0}
    todo = []
    for start in range(0, m, chunk_size):
        stop = min(start + chunk_size, m)
        path = None if ckpt is None else ckpt / f"chunk-{start:06d}-{stop:06d}.npz"
        chunk = None if path is None else load_chunk(path, stop - start, n)
        if chunk is not None:
            correct[start:stop] = chunk
            timings["loaded_chunks"] += 1
        else:
            todo.append((start, stop, path))
    if todo:
        from functools import partial

        from ..parallel import map_units

        # each chunk depends only on its own runs' seeds, so it may run anywhere (labnoise.parallel: in this
        # process, or on a Dask cluster with --workers/--scheduler) with the same result; each saves its own
        # checkpoint as soon as it is done
        units = [(start, stop, masks[start:stop], path) for start, stop, path in todo]
        done = map_units(partial(_train_chunk, trainer, n, held_out, seed), units, desc="memorization chunks",
                         progress=progress)
        for (start, stop, _), (c, seconds) in zip(todo, done):
            correct[start:stop] = c
            timings["train_s"] += seconds
            timings["trained_chunks"] += 1
            timings["trained_runs"] += stop - start
    timings["train_s"] = round(timings["train_s"], 3)
    timings["s_per_run"] = round(timings["train_s"] / max(1, timings["trained_runs"]), 4)
    included = np.ones((m, n), dtype=bool)
    included[:, held_out] = masks
    inc, exc, mem, counts = memorization_from_runs(correct, included)
    return MemorizationResult(inclusion=inc, exclusion=exc, memorization=mem, counts=counts, held_out=held_out,
                              masks=masks, correct=correct, m=m, keep=keep, seed=seed, trainer=_describe(trainer),
                              timings=timings)


def load_chunk(path, runs: int, n: int):
    """The (runs, n) bool ``correct`` matrix of a checkpointed chunk, or None when the file is missing or
    unreadable (truncated, garbage, another shape): the chunk is then trained again (the cache rule of
    :mod:`labnoise.cache`)."""
    from ..cache import read_npz

    z = read_npz(path, ("correct",))
    if z is None:
        return None
    packed = z["correct"]
    if packed.dtype != np.uint8 or packed.shape != (runs, (n + 7) // 8):
        return None
    return np.unpackbits(packed, axis=1, count=n).astype(bool)


def _train_chunk(trainer, n, held_out, seed, start, stop, masks, path):
    """Train runs ``start..stop-1`` (one chunk) and checkpoint them; returns (correct (runs, n), seconds)."""
    t = time.perf_counter()
    runs = np.arange(start, stop)
    w = inclusion_weights(n, held_out, masks)
    c = np.asarray(trainer(runs, w, seed=seed), dtype=bool)
    if c.shape != (runs.size, n):
        raise RuntimeError(f"trainer returned shape {c.shape}, expected {(runs.size, n)}.")
    if path is not None:
        save_npz(path, correct=np.packbits(c, axis=1), runs=runs)
    return c, time.perf_counter() - t


def _describe(trainer) -> dict:
    d = getattr(trainer, "describe", None)
    return d() if callable(d) else {"trainer": type(trainer).__name__}


def estimate_memorization(features, labels, held_out=None, *, m: int = 100, keep: float = 0.7, seed: int = 0,
                          head: HeadConfig | None = None, pca_dim: int | None = None, num_classes=None,
                          checkpoint_dir=None, device="auto", progress: bool = True) -> MemorizationResult:
    """Memorization of every held-out example with ``m`` MLP heads on frozen features.

    Parameters
    ----------
    features : (N, d) float
        Frozen encoder features (``labnoise.features.embed``).
    labels : (N,) int
        Given (possibly noisy) labels.
    held_out : (H,) int or None
        See :func:`held_out_design`; ``None`` subsamples all examples.
    m, keep, seed : see :func:`subsample_estimate`.
    head : HeadConfig
        Head architecture and optimisation (defaults: 256 hidden units, Adam 3e-3, 30 epochs).
    pca_dim : int or None
        Reduce the features to this many principal components first (:func:`labnoise.linalg.pca`, scaled to
        unit mean variance per dimension).
    num_classes : int or None
    checkpoint_dir : path or None
        Resume from / save completed chunks of runs.
    device : "auto", "cpu", "cuda", ...
    progress : bool
    """
    x = check_features(features)
    if pca_dim is not None:
        x = pca(x, pca_dim, scale="mean")
    trainer = HeadTrainer(x, labels, num_classes=num_classes, config=head, device=device, seed=seed)
    res = subsample_estimate(trainer, labels, held_out, m=m, keep=keep, seed=seed, checkpoint_dir=checkpoint_dir,
                             progress=progress)
    res.trainer["pca_dim"] = pca_dim
    return res


def estimate_memorization_pixels(images, labels, held_out=None, *, m: int = 100, keep: float = 0.7, seed: int = 0,
                                 net: PixelConfig | None = None, num_classes=None, checkpoint_dir=None,
                                 device="auto", chunk_size: int = 4, progress: bool = True) -> MemorizationResult:
    """Memorization with ``m`` FastCifarNet runs on uint8 images (pixel lane; meant for a GPU).

    Parameters as in :func:`estimate_memorization`; ``net`` sets the network and its training, ``chunk_size``
    the number of runs per checkpoint.
    """
    trainer = PixelTrainer(images, labels, num_classes=num_classes, config=net, device=device, chunk_size=chunk_size)
    return subsample_estimate(trainer, labels, held_out, m=m, keep=keep, seed=seed, checkpoint_dir=checkpoint_dir,
                              progress=progress)


