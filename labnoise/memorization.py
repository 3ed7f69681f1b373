"""Label memorization by subsampling (Feldman & Zhang 2020; Lim et al. 2025's held-out design).

For a training example ``i`` with given (possibly noisy) label ``y_i``::

    mem(i) = P[h(x_i) = y_i | i in train] - P[h(x_i) = y_i | i not in train]
           =        inclusion(i)          -        exclusion(i)

estimated by training ``m`` models, each on a random subset, and averaging per-example correctness (against
the *given* label) over the runs that included ``i`` and over the runs that excluded it. Lim et al. only
subsample a *held-out set* (all wrongly labelled examples plus as many correctly labelled ones); every run keeps
a random ``keep = 70%`` of the held-out set and always trains on everything else.

Two lanes train the ``m`` models:

* :class:`HeadTrainer` (frozen-feature lane): a chunk of heads trained *at once* on cached encoder features --
  MLPs ``d -> hidden -> C`` (one GEMM of the same shape per head), or linear heads on a shared random-feature
  layer. Every run has its own batch order (a function of ``(seed, run)`` alone, one permutation per epoch), so
  the heads of a chunk see different mini-batches, gathered into one batched product per step; an example
  excluded from a run gets weight 0 in that head's loss.
  Forward, backward and Adam are written by hand; :func:`sequential_reference` is the same training one model at
  a time with ``torch.nn`` + autograd, and the tests check that both agree. A head's arithmetic does not depend
  on which other heads share its chunk (also checked).
* :class:`PixelTrainer` (pixel lane, for GPUs): :class:`labnoise.models.FastCifarNet` trained with
  :func:`labnoise.train.fit`, one run after another, on uint8 images kept on the device (random crop + flip in
  torch).

Every random choice of run ``r`` (its subset, its initialisation) is derived from ``(seed, r)`` alone, so the
estimate does not depend on how runs are grouped into chunks. Completed chunks are written atomically to
``checkpoint_dir``; an interrupted estimate resumes where it stopped and gives byte-identical arrays.

    >>> design = held_out_design(given, clean, seed=0)                         # doctest: +SKIP
    >>> res = estimate_memorization(features, given, design, m=200, seed=0)   # doctest: +SKIP
    >>> res.memorization[design]                                                # doctest: +SKIP

Speed (CPU): small tensors on a busy machine run much faster with ``torch.set_num_threads(1)`` than with
oversubscribed threads; ``matmul_dtype="bfloat16"`` is 2-3x faster on CPUs with AVX512-BF16/AMX. See
``benchmarks/bench_memorization.py``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._io import save_json, save_npz
from ._validation import check_features, check_labels, check_num_classes, rng

__all__ = [
    "HeadConfig", "PixelConfig", "MemorizationResult", "HeadTrainer", "PixelTrainer",
    "held_out_design", "run_seed", "run_batch_orders", "subset_masks", "inclusion_weights", "memorization_from_runs",
    "subsample_estimate", "estimate_memorization", "estimate_memorization_pixels", "incorrectly_learned",
    "sequential_reference", "benchmark_heads", "pca_reduce",
    "matched_synthetic", "confusable_noise", "label_set_stats", "confusion_pairs",
]

# purposes of the per-run random streams (part of the seed derivation: do not renumber). Checkpoints are keyed
# by the trainers' fingerprints: a change to the seed derivation or to the training arithmetic must bump the
# version strings in them ("head-v1", "pixel-v1") so that old checkpoints are not reused.
_MASK, _INIT, _PIXEL, _ORDER, _SHARED, _RUN_ORDER = 0, 1, 2, 3, 4, 5


# --------------------------------------------------------------------------------------------------------------
# design: held-out set, per-run subsets
# --------------------------------------------------------------------------------------------------------------
def held_out_design(given_labels, clean_labels, *, n_correct="equal", seed) -> np.ndarray:
    """Lim et al.'s held-out set: every wrongly labelled example plus ``n_correct`` correctly labelled ones.

    Parameters
    ----------
    given_labels, clean_labels : (N,) int arrays
        The given (possibly noisy) labels and the clean labels, in the same order.
    n_correct : "equal" or int
        How many correctly labelled examples to add (drawn uniformly without replacement with ``seed``);
        ``"equal"`` (the paper) adds as many as there are wrong labels.
    seed : int
        Seed of the draw.

    Returns
    -------
    (H,) int64 array of sorted example indices.
    """
    given = check_labels(given_labels, name="given_labels")
    clean = check_labels(clean_labels, name="clean_labels", length=given.shape[0])
    wrong = np.flatnonzero(given != clean)
    right = np.flatnonzero(given == clean)
    k = wrong.size if n_correct == "equal" else n_correct
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= right.size:
        raise ValueError(f"n_correct must be 'equal' or an int in [0, {right.size}] (the number of correctly "
                         f"labelled examples), got {n_correct!r}.")
    if wrong.size == 0 and k == 0:
        raise ValueError("the held-out set would be empty: given_labels equal clean_labels everywhere; "
                         "pass noisy labels or an explicit n_correct > 0.")
    picked = rng(seed).choice(right, size=int(k), replace=False)
    return np.sort(np.concatenate([wrong, picked])).astype(np.int64)


def run_seed(seed: int, run: int, purpose: int = _MASK) -> int:
    """A 63-bit seed derived from ``(seed, run, purpose)`` only (independent of chunking and of ``m``)."""
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(run), int(purpose)))
    hi, lo = (int(v) for v in ss.generate_state(2, dtype=np.uint32))
    return ((hi << 31) + lo) & ((1 << 63) - 1)


def run_batch_orders(seed: int, runs, n: int, epochs: int):
    """Yields, for each of ``epochs`` epochs, a (len(runs), n) int64 array: run ``r``'s permutation of the ``n``
    training examples, drawn from its own generator ``run_seed(seed, r, _RUN_ORDER)`` (so a run's order does not
    depend on chunking or on the other runs). One epoch at a time, to keep memory at (runs, n)."""
    gens = [np.random.default_rng(run_seed(seed, int(r), _RUN_ORDER)) for r in runs]
    for _ in range(int(epochs)):
        yield np.stack([g.permutation(int(n)) for g in gens]) if gens else np.empty((0, int(n)), np.int64)


def subset_masks(n_held_out: int, runs, *, keep: float = 0.7, seed) -> np.ndarray:
    """Which held-out examples each run keeps: (len(runs), n_held_out) bool, exactly ``round(keep * H)`` True
    per row, row ``r`` drawn from ``run_seed(seed, runs[r])`` (so a run's subset never depends on the others)."""
    if not 0.0 < keep < 1.0:
        raise ValueError(f"keep must be a fraction in (0, 1) such as 0.7, got {keep!r}.")
    runs = np.atleast_1d(np.asarray(runs, dtype=np.int64))
    n_keep = int(round(keep * n_held_out))
    out = np.zeros((runs.size, n_held_out), dtype=bool)
    for row, r in enumerate(runs):  # a loop over runs (not examples): one permutation each
        out[row, np.random.default_rng(run_seed(seed, r, _MASK)).permutation(n_held_out)[:n_keep]] = True
    return out


def inclusion_weights(n: int, held_out: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Per-run training weights (runs, n) float32: 1 outside the held-out set, the mask inside it."""
    w = np.ones((masks.shape[0], n), dtype=np.float32)
    w[:, held_out] = masks
    return w


# --------------------------------------------------------------------------------------------------------------
# the estimator itself
# --------------------------------------------------------------------------------------------------------------
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


def _fingerprint(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(str((p.dtype.str, p.shape)).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def subsample_estimate(trainer, labels, held_out=None, *, m: int = 100, keep: float = 0.7, seed: int = 0,
                       chunk_size: int | None = None, checkpoint_dir=None, progress: bool = True) -> MemorizationResult:
    """The subsampling estimator, for any trainer (see :class:`HeadTrainer`, :class:`PixelTrainer`).

    Parameters
    ----------
    trainer : callable ``trainer(runs, weights, seed) -> (len(runs), N) bool`` with ``fingerprint()``
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
    checkpoint_dir : path or None
        Completed chunks are saved there atomically and reused by a later call with the same settings.
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
        if path is not None and path.exists():
            with np.load(path) as z:
                correct[start:stop] = np.unpackbits(z["correct"], axis=1, count=n).astype(bool)
            timings["loaded_chunks"] += 1
        else:
            todo.append((start, stop, path))
    if todo:
        from functools import partial

        from .parallel import map_units

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


def _train_chunk(trainer, n, held_out, seed, start, stop, masks, path):
    """Train runs ``start..stop-1`` (one chunk) and checkpoint them; returns (correct (runs, n), seconds)."""
    t = time.perf_counter()
    runs = np.arange(start, stop)
    w = inclusion_weights(n, held_out, masks)
    c = np.asarray(trainer(runs, w, seed), dtype=bool)
    if c.shape != (runs.size, n):
        raise RuntimeError(f"trainer returned shape {c.shape}, expected {(runs.size, n)}.")
    if path is not None:
        save_npz(path, correct=np.packbits(c, axis=1), runs=runs)
    return c, time.perf_counter() - t


def _describe(trainer) -> dict:
    d = getattr(trainer, "describe", None)
    return d() if callable(d) else {"trainer": type(trainer).__name__}


# --------------------------------------------------------------------------------------------------------------
# frozen-feature lane: many MLP heads at once
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeadConfig:
    """Heads trained on frozen features, many at once, with Adam on the softmax cross-entropy.

    Parameters
    ----------
    kind : "mlp", "random_features" or "linear"
        ``"mlp"``: each head is an MLP ``d -> hidden -> C`` (ReLU) with its own hidden layer (one GEMM of the
        same shape per head). ``"random_features"``: a fixed random ReLU layer ``d -> hidden`` shared by all
        heads (drawn from ``seed``, like a frozen encoder layer) and a trained linear layer ``hidden -> C`` per
        head: all heads of a chunk are one wide GEMM, ~10-50x cheaper per head than ``"mlp"``.
        ``"linear"``: a linear layer ``d -> C`` per head (``hidden`` ignored).
    hidden : int
        Hidden width (``"mlp"``) or number of random features (``"random_features"``).
    epochs : int
        Passes over the training set.
    batch_size : int
        Mini-batch size (all heads of a chunk see the same mini-batch).
    lr : float
        Adam learning rate: constant, then linear decay to 0 over the last ``decay_frac`` of the steps.
    weight_decay : float
        Decoupled (AdamW) weight decay on weight matrices; 0 lets heads memorise freely.
    decay_frac : float
        Fraction of the steps over which the learning rate decays.
    chunk_size : int
        Heads trained at once (memory ~ chunk_size * batch_size * hidden floats for ``"mlp"``).
    matmul_dtype : "float32" or "bfloat16"
        Precision of the matrix products (parameters and optimiser state stay float32); bfloat16 is several
        times faster on CPUs with AVX512-BF16/AMX and on GPUs.
    eval_batch : int
        Examples per evaluation block.
    """

    kind: str = "mlp"
    hidden: int = 256
    epochs: int = 30
    batch_size: int = 512
    lr: float = 3e-3
    weight_decay: float = 0.0
    decay_frac: float = 0.3
    chunk_size: int = 50
    matmul_dtype: str = "float32"
    eval_batch: int = 4096

    def __post_init__(self):
        if self.kind not in ("mlp", "random_features", "linear"):
            raise ValueError(f"HeadConfig.kind must be 'mlp', 'random_features' or 'linear', got {self.kind!r}.")
        if self.epochs < 1 or self.batch_size < 1 or self.chunk_size < 1 or self.eval_batch < 1:
            raise ValueError("HeadConfig: epochs, batch_size, chunk_size and eval_batch must be >= 1.")
        if self.kind != "linear" and self.hidden < 1:
            raise ValueError(f"HeadConfig.hidden must be >= 1 for kind={self.kind!r} (or use kind='linear').")
        if not self.lr > 0 or self.weight_decay < 0 or not 0 <= self.decay_frac <= 1:
            raise ValueError("HeadConfig: lr > 0, weight_decay >= 0 and decay_frac in [0, 1] are required.")
        if self.matmul_dtype not in ("float32", "bfloat16"):
            raise ValueError("HeadConfig.matmul_dtype must be 'float32' or 'bfloat16'.")


class HeadTrainer:
    """Trains a chunk of heads at once on frozen features (the frozen-feature lane of the estimator).

    Parameters
    ----------
    features : (N, d) float array
    labels : (N,) int (the given labels)
    num_classes : int or None
    config : HeadConfig
    device : "auto", "cpu", "cuda", ...
    seed : int
        Seed of the shared random feature layer (``kind="random_features"`` only).

    ``trainer(runs, weights, seed)`` trains ``len(runs)`` heads: head ``r`` is initialised from
    ``run_seed(seed, runs[r], 1)`` and trained on the examples where ``weights[r] == 1``, in its own batch order
    (:func:`run_batch_orders`: a function of ``(seed, run)`` alone). Returns (len(runs), N) bool correctness against the
    given labels. Heads are independent: a head's result does not depend on the other heads of its chunk.
    """

    def __init__(self, features, labels, num_classes=None, config: HeadConfig | None = None, device="auto",
                 seed: int = 0):
        import torch
        from ._torch import resolve_device

        self.labels = check_labels(labels, num_classes)
        self.features = check_features(features, length=self.labels.shape[0])
        self.num_classes = check_num_classes(num_classes, self.labels)
        self.config = config or HeadConfig()
        self.device = resolve_device(device)
        self.chunk_size = self.config.chunk_size
        self.seed = int(seed)
        self._dt = getattr(torch, self.config.matmul_dtype)
        x = torch.from_numpy(self.features).to(self.device)
        if self.config.kind == "random_features":
            x = self._random_features(x)
        # the training inputs, already in the matmul precision (the shared layer is computed once)
        self._x = x.to(self._dt).contiguous()
        self._y = torch.from_numpy(self.labels).to(self.device)
        self._fp = _fingerprint(self.features, self.labels, self.num_classes, dataclasses.asdict(self.config),
                                self.seed if self.config.kind == "random_features" else None, "head-v2")

    def _random_features(self, x):
        """relu(x_std W + b) / scale with W ~ N(0, 1/d), b ~ N(0, 1): a fixed layer shared by every head."""
        import torch

        g = torch.Generator().manual_seed(run_seed(self.seed, 0, _SHARED))
        d, h = x.shape[1], self.config.hidden
        w = (torch.randn(d, h, generator=g) / np.sqrt(d)).to(x.device)
        b = torch.randn(h, generator=g).to(x.device)
        mu, sd = x.mean(0), x.std(0).clamp_min(1e-6)
        out = torch.empty(x.shape[0], h, device=x.device)
        for s in range(0, x.shape[0], 8192):
            out[s:s + 8192] = torch.relu(((x[s:s + 8192] - mu) / sd) @ w + b)
        return out / out.square().mean().sqrt().clamp_min(1e-6)

    def fingerprint(self) -> str:
        return self._fp

    def describe(self) -> dict:
        return {"trainer": "HeadTrainer", "features": list(self.features.shape), "num_classes": self.num_classes,
                **dataclasses.asdict(self.config), "device": str(self.device)}

    # -- parameters ------------------------------------------------------------------------------------------
    def _init(self, runs, seed):
        """Per-head parameters, PyTorch's default Linear init U(+-1/sqrt(fan_in)), biases 0; each head from its
        own generator. mlp: [W1 (k,d,h), b1 (k,1,h), W2 (k,h,C), b2 (k,1,C)]; shared input: [W (D,k,C), b (k,C)]."""
        import torch

        k, d, c = len(runs), self._x.shape[1], self.num_classes
        mlp = self.config.kind == "mlp"
        shapes = [(d, self.config.hidden), (self.config.hidden, c)] if mlp else [(d, c)]
        mats = [torch.empty((k,) + s) for s in shapes]
        for j, r in enumerate(runs):  # a loop over heads, not examples
            g = torch.Generator().manual_seed(run_seed(seed, int(r), _INIT))
            for mat, s in zip(mats, shapes):
                bound = 1.0 / np.sqrt(s[0])
                mat[j] = torch.rand(s, generator=g) * (2 * bound) - bound
        if mlp:
            params = [mats[0], torch.zeros(k, 1, shapes[0][1]), mats[1], torch.zeros(k, 1, c)]
        else:
            params = [mats[0].permute(1, 0, 2).contiguous(), torch.zeros(k, c)]
        return [p.to(self.device) for p in params]

    def _forward(self, x, params):
        """Logits (k, B, C) [mlp] or (B, k, C) [shared input], float32; plus the hidden activations (mlp, kept
        in the matmul precision: no float32 round trip of the largest tensors)."""
        import torch

        dt = self._dt
        if len(params) == 2:
            w, b = params
            d, k, c = w.shape
            return torch.matmul(x, w.view(d, k * c).to(dt)).float().view(-1, k, c).add_(b), None
        w1, b1, w2, b2 = params
        a1 = torch.matmul(x, w1.to(dt))  # (k, B, h): one GEMM of the same shape per head
        a1.add_(b1.to(dt)).relu_()
        return torch.bmm(a1, w2.to(dt)).float().add_(b2), a1

    def _forward_runs(self, xb, params):
        """Training forward with per-head batches ``xb`` (k, B, d): logits (k, B, C) float32 (+ mlp activations)."""
        import torch

        dt = self._dt
        if len(params) == 2:
            w, b = params  # (D, k, C), (k, C)
            return torch.bmm(xb, w.permute(1, 0, 2).to(dt)).float().add_(b[:, None, :]), None
        w1, b1, w2, b2 = params
        a1 = torch.bmm(xb, w1.to(dt))  # (k, B, h)
        a1.add_(b1.to(dt)).relu_()
        return torch.bmm(a1, w2.to(dt)).float().add_(b2), a1

    def _grads_runs(self, xb, params, grad, a1):
        """Gradients for :meth:`_forward_runs` (grad: (k, B, C) d loss / d logits)."""
        import torch

        dt = self._dt
        if a1 is None:
            gw = torch.bmm(xb.transpose(1, 2), grad.to(dt)).float().permute(1, 0, 2)  # (D, k, C)
            return [gw, grad.sum(1)]
        g2 = grad.to(dt)
        gw2 = torch.bmm(a1.transpose(1, 2), g2).float()
        ga1 = torch.ops.aten.threshold_backward(torch.bmm(g2, params[2].transpose(1, 2).to(dt)), a1, 0)  # ReLU'
        gw1 = torch.bmm(xb.transpose(1, 2), ga1).float()
        return [gw1, ga1.sum(1, keepdim=True, dtype=torch.float32), gw2, grad.sum(1, keepdim=True)]

    def _grads(self, xb, params, grad, a1):
        import torch

        dt = self._dt
        if a1 is None:  # grad: (B, k, C)
            b, k, c = grad.shape
            gw = torch.matmul(xb.T, grad.view(b, k * c).to(dt)).float().view(-1, k, c)
            return [gw, grad.sum(0)]
        g2 = grad.to(dt)  # grad: (k, B, C)
        gw2 = torch.bmm(a1.transpose(1, 2), g2).float()
        ga1 = torch.ops.aten.threshold_backward(torch.bmm(g2, params[2].transpose(1, 2).to(dt)), a1, 0)  # ReLU'
        gw1 = torch.matmul(xb.T, ga1).float()
        return [gw1, ga1.sum(1, keepdim=True, dtype=torch.float32), gw2, grad.sum(1, keepdim=True)]

    def __call__(self, runs, weights, seed) -> np.ndarray:
        import torch

        cfg = self.config
        runs = np.asarray(runs, dtype=np.int64)
        k, n = runs.size, self.labels.shape[0]
        weights = np.asarray(weights, dtype=np.float32)
        if weights.shape != (k, n):
            raise ValueError(f"weights must have shape (len(runs), N) = {(k, n)}, got {weights.shape}.")
        dev = self.device
        wts = torch.from_numpy(weights).to(dev)  # (k, N)
        orders = run_batch_orders(seed, runs, n, cfg.epochs)  # one (k, N) array per epoch
        ar_k = torch.arange(k, device=dev)[:, None]
        with torch.no_grad():
            params = self._init(runs, seed)
            m1 = [torch.zeros_like(p) for p in params]
            m2 = [torch.zeros_like(p) for p in params]
            beta1, beta2, eps = 0.9, 0.999, 1e-8
            steps_per_epoch = -(-n // cfg.batch_size)
            total = cfg.epochs * steps_per_epoch
            decay_start = int(round(total * (1 - cfg.decay_frac)))
            step = 0
            for epoch, order_np in zip(range(cfg.epochs), orders):
                order = torch.from_numpy(order_np).to(dev)  # (k, N): every run its own order
                for s in range(steps_per_epoch):
                    idx = order[:, s * cfg.batch_size:(s + 1) * cfg.batch_size]  # (k, B)
                    xb, yb = self._x[idx], self._y[idx]  # (k, B, d), (k, B)
                    logits, a1 = self._forward_runs(xb, params)  # (k, B, C)
                    # d(mean weighted CE)/d(logits) = (softmax - onehot) * w / (sum of w in the batch), per head
                    grad = torch.softmax(logits, dim=-1)
                    wb = wts.gather(1, idx)  # (k, B)
                    grad[ar_k, torch.arange(idx.shape[1], device=dev)[None, :], yb] -= 1.0
                    grad.mul_((wb / wb.sum(1, keepdim=True).clamp_min(1.0))[..., None])
                    grads = self._grads_runs(xb, params, grad, a1)
                    step += 1
                    lr = cfg.lr if step <= decay_start else cfg.lr * (total - step + 1) / max(1, total - decay_start)
                    c1, c2 = 1 - beta1 ** step, 1 - beta2 ** step
                    for i, (p, gr, ma, va) in enumerate(zip(params, grads, m1, m2)):
                        ma.mul_(beta1).add_(gr, alpha=1 - beta1)
                        va.mul_(beta2).addcmul_(gr, gr, value=1 - beta2)
                        if cfg.weight_decay and i % 2 == 0:  # weight matrices only, not biases
                            p.mul_(1 - lr * cfg.weight_decay)
                        p.addcdiv_(ma, va.div(c2).sqrt_().add_(eps), value=-lr / c1)
            return self._correct(params)

    def _correct(self, params) -> np.ndarray:
        import torch

        n, eb = self.labels.shape[0], self.config.eval_batch
        k = params[1].shape[0]
        out = torch.empty((k, n), dtype=torch.bool, device=self.device)
        for s in range(0, n, eb):
            logits, _ = self._forward(self._x[s:s + eb], params)
            pred = logits.argmax(-1)
            pred = pred if self.config.kind == "mlp" else pred.T  # -> (k, B)
            out[:, s:s + eb] = pred == self._y[s:s + eb]
        return out.cpu().numpy()


def sequential_reference(trainer: HeadTrainer, runs, weights, seed) -> np.ndarray:
    """The naive path, for checks and benchmarks: the same heads trained *one at a time* with ``torch.nn``
    modules, autograd and ``torch.optim.AdamW``, from the same initial parameters, over the same mini-batches
    with the same learning-rate schedule (bfloat16 autocast when ``matmul_dtype="bfloat16"``). Agrees with
    ``trainer(runs, weights, seed)`` up to floating-point rounding. Returns (len(runs), N) bool correctness."""
    import torch

    cfg = trainer.config
    runs = np.asarray(runs, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float32)
    x = trainer._x.float()
    y = trainer._y
    n = x.shape[0]
    steps = -(-n // cfg.batch_size)
    total = cfg.epochs * steps
    start = int(round(total * (1 - cfg.decay_frac)))
    out = np.zeros((runs.size, n), dtype=bool)
    for j, r in enumerate(runs):
        params = trainer._init([int(r)], seed)
        if cfg.kind == "mlp":
            model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], cfg.hidden), torch.nn.ReLU(),
                                        torch.nn.Linear(cfg.hidden, trainer.num_classes)).to(trainer.device)
            with torch.no_grad():
                model[0].weight.copy_(params[0][0].T)
                model[0].bias.copy_(params[1][0, 0])
                model[2].weight.copy_(params[2][0].T)
                model[2].bias.copy_(params[3][0, 0])
        else:
            model = torch.nn.Linear(x.shape[1], trainer.num_classes).to(trainer.device)
            with torch.no_grad():
                model.weight.copy_(params[0][:, 0].T)
                model.bias.copy_(params[1][0])
        decay = [p for p in model.parameters() if p.ndim == 2]  # weight matrices; biases are not decayed
        no_decay = [p for p in model.parameters() if p.ndim == 1]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.999),
                                eps=1e-8)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 1.0 if s + 1 <= start else (total - s) / max(1, total - start))
        w = torch.from_numpy(weights[j]).to(trainer.device)
        amp = torch.autocast(trainer.device.type, dtype=torch.bfloat16, enabled=cfg.matmul_dtype == "bfloat16")
        orders = run_batch_orders(seed, [int(r)], n, cfg.epochs)  # the batched path's order for this run
        for epoch, order_np in zip(range(cfg.epochs), orders):
            order = torch.from_numpy(order_np[0]).to(trainer.device)
            for s in range(steps):
                idx = order[s * cfg.batch_size:(s + 1) * cfg.batch_size]
                wb = w[idx]
                with amp:
                    logits = model(x[idx])
                loss = torch.nn.functional.cross_entropy(logits.float(), y[idx], reduction="none")
                loss = (loss * wb).sum() / wb.sum().clamp_min(1.0)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
        with torch.no_grad(), amp:
            out[j] = (model(x).argmax(1) == y).cpu().numpy()
    return out


def benchmark_heads(trainer: HeadTrainer, runs: int = 4, *, seed: int = 0, held_out=None, keep: float = 0.7,
                    reference_dtype: str | None = "float32") -> dict:
    """Time ``runs`` heads trained at once (``trainer``) against the same heads trained one at a time
    (:func:`sequential_reference`), in the same process.

    ``reference_dtype``: precision of the one-at-a-time path (``"float32"``, the faster choice for autograd on a
    CPU, where bfloat16 autocast is several times slower; ``None``: the trainer's own). Returns seconds per run for
    both paths, their ratio and the fraction of (run, example) correctness values on which they agree."""
    n = trainer.labels.shape[0]
    held_out = np.arange(0, n, 2) if held_out is None else np.asarray(held_out)
    masks = subset_masks(held_out.size, np.arange(int(runs)), keep=keep, seed=seed)
    w = inclusion_weights(n, held_out, masks)
    ref = trainer
    if reference_dtype is not None and reference_dtype != trainer.config.matmul_dtype:
        ref = HeadTrainer(trainer.features, trainer.labels, trainer.num_classes,
                          dataclasses.replace(trainer.config, matmul_dtype=reference_dtype), trainer.device,
                          seed=trainer.seed)
    # untimed warm-up of both paths (allocator, thread pools, first autograd calls), on one short run
    sub = slice(0, min(n, 2 * trainer.config.batch_size))
    for tr in {id(trainer): trainer, id(ref): ref}.values():
        small = HeadTrainer(tr.features[sub], tr.labels[sub], tr.num_classes,
                            dataclasses.replace(tr.config, epochs=1), tr.device, seed=tr.seed)
        small([0], w[:1, sub], seed)
        sequential_reference(small, [0], w[:1, sub], seed)
    t = time.perf_counter()
    seq = sequential_reference(ref, np.arange(runs), w, seed)
    t_seq = (time.perf_counter() - t) / runs
    t = time.perf_counter()
    bat = trainer(np.arange(runs), w, seed)
    t_bat = (time.perf_counter() - t) / runs
    return {"runs": int(runs), "examples": int(n), "sequential_dtype": ref.config.matmul_dtype,
            "batched_dtype": trainer.config.matmul_dtype, "sequential_s_per_run": round(t_seq, 4),
            "batched_s_per_run": round(t_bat, 4), "ratio": round(t_seq / max(t_bat, 1e-9), 2),
            "agreement": round(float((seq == bat).mean()), 4)}


def pca_reduce(features, dim: int, *, center: bool = True, whiten: bool = False) -> np.ndarray:
    """Project ``features`` onto their top ``dim`` principal components (deterministic: covariance eigh in
    float64, signs fixed so each component's largest loading is positive), scaled so that the reduced
    features have unit mean variance per dimension (``whiten=True``: unit variance per component)."""
    x = check_features(features)
    if not 1 <= int(dim) <= x.shape[1]:
        raise ValueError(f"dim must be in [1, {x.shape[1]}] (the feature dimension), got {dim!r}.")
    mu = x.mean(0, dtype=np.float64) if center else np.zeros(x.shape[1])
    cov = np.zeros((x.shape[1], x.shape[1]))
    for s in range(0, x.shape[0], 8192):  # float64 accumulation in row blocks (bounded memory)
        xc = x[s:s + 8192].astype(np.float64) - mu
        cov += xc.T @ xc
    cov /= max(1, x.shape[0] - 1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:int(dim)]
    vals, vecs = vals[order], vecs[:, order]
    vecs *= np.where(vecs[np.abs(vecs).argmax(0), np.arange(vecs.shape[1])] < 0, -1.0, 1.0)
    scale = np.sqrt(np.maximum(vals, 1e-12)) if whiten else np.sqrt(max(vals.mean(), 1e-12))
    proj = (vecs / scale).astype(np.float32)
    z = (x - mu.astype(np.float32)) @ proj
    return z.astype(np.float32)


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
        Reduce the features to this many principal components first (:func:`pca_reduce`).
    num_classes : int or None
    checkpoint_dir : path or None
        Resume from / save completed chunks of runs.
    device : "auto", "cpu", "cuda", ...
    progress : bool
    """
    x = check_features(features)
    if pca_dim is not None:
        x = pca_reduce(x, pca_dim)
    trainer = HeadTrainer(x, labels, num_classes=num_classes, config=head, device=device, seed=seed)
    res = subsample_estimate(trainer, labels, held_out, m=m, keep=keep, seed=seed, checkpoint_dir=checkpoint_dir,
                             progress=progress)
    res.trainer["pca_dim"] = pca_dim
    return res


# --------------------------------------------------------------------------------------------------------------
# pixel lane: labnoise.models.FastCifarNet trained with labnoise.train.fit, one run after another on the device
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PixelConfig:
    """Pixel-lane training of :class:`labnoise.models.FastCifarNet` with :func:`labnoise.train.fit`: SGD with
    momentum, cosine schedule, random crop (pad 4) + horizontal flip on the device.

    Parameters
    ----------
    width : int
        FastCifarNet width (64: ~6.6M parameters; 16: ~0.4M).
    epochs, batch_size, lr, momentum, weight_decay : SGD settings.
    augment : bool
        Random crop + flip (``augment="crop_flip"`` of :func:`labnoise.train.fit`).
    eval_batch : int
        Images per evaluation batch.
    """

    width: int = 32
    epochs: int = 15
    batch_size: int = 512
    lr: float = 0.2
    momentum: float = 0.9
    weight_decay: float = 5e-4
    augment: bool = True
    eval_batch: int = 2048

    def __post_init__(self):
        if self.width < 1 or self.epochs < 1 or self.batch_size < 2 or self.eval_batch < 1 or not self.lr > 0:
            raise ValueError("PixelConfig: width >= 1, epochs >= 1, batch_size >= 2, eval_batch >= 1, lr > 0.")


class PixelTrainer:
    """Pixel lane of the estimator: one :class:`labnoise.models.FastCifarNet` per run, trained sequentially
    with :func:`labnoise.train.fit` on uint8 NHWC images that stay on the device (normalised and augmented
    there). Correctness is measured on the un-augmented training images. Meant for a GPU; on a CPU only tiny
    subsets are practical.

    Parameters
    ----------
    images : (N, H, W, C) uint8
    labels : (N,) int (given labels)
    num_classes : int or None
    config : PixelConfig
    device : "auto", "cpu", "cuda", ...
    chunk_size : int
        Runs per checkpoint chunk.
    progress : bool
        A tqdm bar over each run's epochs.

    Run ``r`` is trained with ``fit(..., seed=run_seed(seed, r, 2))``. Bitwise determinism on a GPU additionally
    needs ``torch.use_deterministic_algorithms(True)``.
    """

    def __init__(self, images, labels, num_classes=None, config: PixelConfig | None = None, device="auto",
                 chunk_size: int = 4, progress: bool = False):
        import torch
        from ._torch import resolve_device

        imgs = np.asarray(images)
        if imgs.ndim != 4 or imgs.dtype != np.uint8 or imgs.shape[-1] not in (1, 3):
            raise ValueError(f"images must be a (N, H, W, C) uint8 array with 1 or 3 channels "
                             f"(Dataset.train_images), got {imgs.dtype} {imgs.shape}.")
        self.labels = check_labels(labels, num_classes, length=imgs.shape[0])
        self.num_classes = check_num_classes(num_classes, self.labels)
        self.config = config or PixelConfig()
        self.device = resolve_device(device)
        self.chunk_size = int(chunk_size)
        self.progress = progress
        self._x = torch.from_numpy(np.ascontiguousarray(imgs)).to(self.device)  # uint8 NHWC, on the device
        self._fp = _fingerprint(imgs[:: max(1, imgs.shape[0] // 512)], imgs.shape, self.labels, self.num_classes,
                                dataclasses.asdict(self.config), "pixel-v1")

    def fingerprint(self) -> str:
        return self._fp

    def describe(self) -> dict:
        return {"trainer": "PixelTrainer", "model": "labnoise.models.FastCifarNet", "images": list(self._x.shape),
                "num_classes": self.num_classes, **dataclasses.asdict(self.config), "device": str(self.device)}

    def train_one(self, run: int, train_idx, seed: int):
        """Train run ``run``'s net on the examples ``train_idx``; returns the :class:`labnoise.train.FitResult`."""
        import torch
        from .train import fit

        cfg = self.config
        idx = torch.as_tensor(np.asarray(train_idx, dtype=np.int64), device=self.device)
        return fit("fastcifar", self._x[idx], self.labels[np.asarray(train_idx)], epochs=cfg.epochs,
                   batch_size=cfg.batch_size, lr=cfg.lr, optimizer="sgd", momentum=cfg.momentum,
                   weight_decay=cfg.weight_decay, schedule="cosine", augment="crop_flip" if cfg.augment else None,
                   seed=run_seed(seed, run, _PIXEL), device=self.device, progress=self.progress,
                   num_classes=self.num_classes, model_kwargs={"width": cfg.width})

    def __call__(self, runs, weights, seed) -> np.ndarray:
        from .train import predict_proba

        weights = np.asarray(weights)
        out = np.zeros((len(runs), self.labels.shape[0]), dtype=bool)
        for k, r in enumerate(runs):
            res = self.train_one(int(r), np.flatnonzero(weights[k] > 0), seed)
            pred = predict_proba(res.model, self._x, device=self.device, batch_size=self.config.eval_batch).argmax(1)
            out[k] = pred == self.labels
        return out


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


# --------------------------------------------------------------------------------------------------------------
# label sets for the case study
# --------------------------------------------------------------------------------------------------------------
def matched_synthetic(clean, noisy, *, seed, num_classes=None):
    """A class-dependent label set with the transition matrix of ``noisy`` (Lim et al.'s synthetic set).

    ``T`` is the row-normalised confusion of ``noisy`` against ``clean``; every synthetic label is drawn
    independently from ``T[clean_i]`` with a seeded generator (:func:`labnoise.noise.synthetic.transition`).

    Returns
    -------
    labels : (N,) int64
    T : (C, C) float64
    """
    from .noise.synthetic import transition, transition_from

    clean = check_labels(clean, num_classes, name="clean")
    C = check_num_classes(num_classes, np.maximum(clean, np.asarray(noisy)))
    T = transition_from(clean, noisy, C)
    return transition(clean, T, seed=seed, num_classes=C).noisy_labels, T


def confusable_noise(features, labels, rate: float, *, seed, num_classes=None, folds: int = 2, C_reg: float = 0.05):
    """A stand-in for *human-like* noise where no human labels exist (e.g. sklearn digits): structured,
    instance-dependent flips towards the class a weak classifier confuses an image with.

    A strongly regularised logistic regression gives out-of-fold class probabilities (``folds`` seeded folds);
    the ``round(rate * N)`` examples with the highest probability of some *other* class are relabelled with that
    class. Unlike class-dependent noise, the flipped examples are the ambiguous-looking ones, and they cluster.

    Returns (N,) int64 noisy labels (exactly ``round(rate * N)`` of them differ from ``labels``).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    from ._validation import check_rate

    y = check_labels(labels, num_classes)
    x = check_features(features, length=y.shape[0])
    rate = check_rate(rate)
    C = check_num_classes(num_classes, y)
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
    return noisy


def label_set_stats(clean, noisy, num_classes=None) -> dict:
    """Noise rate, per-class rates and the transition matrix ``T[clean, noisy]`` of a label set (JSON-ready)."""
    from .noise.synthetic import transition_from

    clean = check_labels(clean, num_classes, name="clean")
    noisy = check_labels(noisy, num_classes, name="noisy", length=clean.shape[0])
    C = check_num_classes(num_classes, np.maximum(clean, noisy))
    T = transition_from(clean, noisy, C)
    per = np.array([np.mean(noisy[clean == c] != c) if np.any(clean == c) else 0.0 for c in range(C)])
    return {"rate": float(np.mean(clean != noisy)), "per_class_rates": per.round(4).tolist(), "T": T.round(4).tolist()}


def confusion_pairs(clean, given, classes=None, top: int = 10) -> list:
    """The ``top`` most frequent ``(clean -> given)`` pairs among wrongly labelled examples, as
    ``[["truck -> automobile", 77], ...]`` (class names if ``classes`` is given)."""
    clean = np.asarray(clean, dtype=np.int64)
    given = np.asarray(given, dtype=np.int64)
    if clean.shape != given.shape:
        raise ValueError(f"clean and given must have the same shape, got {clean.shape} and {given.shape}.")
    w = clean != given
    if not w.any():
        return []
    pairs, counts = np.unique(np.stack([clean[w], given[w]], 1), axis=0, return_counts=True)
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -counts))[:int(top)]
    name = (lambda c: str(classes[c])) if classes is not None else str
    return [[f"{name(pairs[i, 0])} -> {name(pairs[i, 1])}", int(counts[i])] for i in order]
