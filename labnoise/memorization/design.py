"""The subsampling design: Lim et al.'s held-out set, per-run seeds, subsets, batch orders and training weights.

Every random choice of run ``r`` is derived from ``(seed, r)`` alone (:func:`run_seed`), so nothing depends on
how runs are grouped into chunks or on how many runs there are.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

from .._validation import check_labels, rng

__all__ = ["held_out_design", "run_seed", "run_batch_orders", "subset_masks", "inclusion_weights"]

# purposes of the per-run random streams (part of the seed derivation: do not renumber). Checkpoints are keyed
# by the trainers' fingerprints: a change to the seed derivation or to the training arithmetic must bump the
# version strings in them ("head-v3", "pixel-v1") so that old checkpoints are not reused.
_MASK, _INIT, _PIXEL, _ORDER, _SHARED, _RUN_ORDER = 0, 1, 2, 3, 4, 5


def held_out_design(labels, clean_labels, *, n_correct="equal", seed) -> np.ndarray:
    """Lim et al.'s held-out set: every wrongly labelled example plus ``n_correct`` correctly labelled ones.

    Parameters
    ----------
    labels, clean_labels : (N,) int arrays
        The given (possibly noisy) labels and the clean labels, in the same order.
    n_correct : "equal" or int
        How many correctly labelled examples to add (drawn uniformly without replacement with ``seed``);
        ``"equal"`` (the paper) adds as many as there are wrong labels.
    seed : int
        Seed of the draw.

    Returns
    -------
    (H,) int64 array of sorted example indices.

    Examples
    --------
    >>> clean = np.repeat([0, 1], 5); given = clean.copy(); given[[2, 5]] = 1 - given[[2, 5]]
    >>> held = held_out_design(given, clean, seed=0)
    >>> len(held), {2, 5} <= set(held.tolist())
    (4, True)
    """
    given = check_labels(labels, name="labels")
    clean = check_labels(clean_labels, name="clean_labels", length=given.shape[0])
    wrong = np.flatnonzero(given != clean)
    right = np.flatnonzero(given == clean)
    k = wrong.size if n_correct == "equal" else n_correct
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= right.size:
        raise ValueError(f"n_correct must be 'equal' or an int in [0, {right.size}] (the number of correctly "
                         f"labelled examples), got {n_correct!r}.")
    if wrong.size == 0 and k == 0:
        raise ValueError("the held-out set would be empty: labels equal clean_labels everywhere; "
                         "pass noisy labels or an explicit n_correct > 0.")
    picked = rng(seed).choice(right, size=int(k), replace=False)
    return np.sort(np.concatenate([wrong, picked])).astype(np.int64)


def run_seed(run: int, *, seed: int, purpose: int = _MASK) -> int:
    """A 63-bit seed derived from ``(seed, run, purpose)`` only (independent of chunking and of ``m``)."""
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(run), int(purpose)))
    hi, lo = (int(v) for v in ss.generate_state(2, dtype=np.uint32))
    return ((hi << 31) + lo) & ((1 << 63) - 1)


def run_batch_orders(runs, n: int, *, epochs: int, seed: int):
    """Yields, for each of ``epochs`` epochs, a (len(runs), n) int64 array: run ``r``'s permutation of the ``n``
    training examples, drawn from its own generator ``run_seed(r, seed=seed, purpose=_RUN_ORDER)`` (so a run's
    order does not depend on chunking or on the other runs). One epoch at a time, to keep memory at (runs, n)."""
    gens = [np.random.default_rng(run_seed(int(r), seed=seed, purpose=_RUN_ORDER)) for r in runs]
    for _ in range(int(epochs)):
        yield np.stack([g.permutation(int(n)) for g in gens]) if gens else np.empty((0, int(n)), np.int64)


def subset_masks(n_held_out: int, runs, *, keep: float = 0.7, seed) -> np.ndarray:
    """Which held-out examples each run keeps: (len(runs), n_held_out) bool, exactly ``round(keep * H)`` True
    per row, row ``r`` drawn from ``run_seed(runs[r], seed=seed)`` (so a run's subset never depends on the
    others).

    >>> m = subset_masks(10, range(3), keep=0.7, seed=0)
    >>> m.shape, m.sum(1).tolist()
    ((3, 10), [7, 7, 7])
    >>> bool((subset_masks(10, [2], keep=0.7, seed=0)[0] == m[2]).all())   # run 2's subset alone
    True
    """
    if not 0.0 < keep < 1.0:
        raise ValueError(f"keep must be a fraction in (0, 1) such as 0.7, got {keep!r}.")
    runs = np.atleast_1d(np.asarray(runs, dtype=np.int64))
    n_keep = int(round(keep * n_held_out))
    out = np.zeros((runs.size, n_held_out), dtype=bool)
    for row, r in enumerate(runs):  # a loop over runs (not examples): one permutation each
        out[row, np.random.default_rng(run_seed(r, seed=seed, purpose=_MASK)).permutation(n_held_out)[:n_keep]] = True
    return out


def inclusion_weights(n: int, held_out: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Per-run training weights (runs, n) float32: 1 outside the held-out set, the mask inside it.

    >>> inclusion_weights(4, np.array([1, 3]), np.array([[True, False]])).tolist()
    [[1.0, 1.0, 1.0, 0.0]]
    """
    w = np.ones((masks.shape[0], n), dtype=np.float32)
    w[:, held_out] = masks
    return w


def _fingerprint(*parts) -> str:
    """Checkpoint keys: sha256 over arrays' (dtype, shape, bytes) and other parts' JSON (kept byte-for-byte as
    before the package split, so existing checkpoints stay valid)."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(str((p.dtype.str, p.shape)).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]
