"""The one result type every label-noise generator returns: :class:`NoiseResult`.

    >>> import numpy as np
    >>> r = NoiseResult.from_labels(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), kind="demo")
    >>> r.realised_rate, r.per_class_rates.tolist()
    (0.25, [0.5, 0.0])
    >>> r.transition_matrix.tolist()
    [[0.5, 0.5], [0.0, 1.0]]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .._validation import check_labels, check_num_classes

__all__ = ["NoiseResult", "TargetCounts", "confusion_counts", "row_normalise"]


class TargetCounts(NamedTuple):
    """How many distinct *wrong* classes the flipped labels of each clean class go to.

    per_class : int array (C,)
        Number of distinct wrong target classes per clean class (0 for a class with no flipped label).
    mean : float
        Mean of ``per_class`` over the classes that have at least one flipped label (NaN if none).
    top2_share : float
        Fraction of all flipped labels that go to their class's two most frequent targets (1.0 means every
        class flips to at most two classes; symmetric noise on 10 classes gives about 2/9).
    """

    per_class: np.ndarray
    mean: float
    top2_share: float


def confusion_counts(clean: np.ndarray, noisy: np.ndarray, num_classes: int) -> np.ndarray:
    """``counts[i, j]`` = number of examples with clean label ``i`` and given label ``j`` (int64, C x C).

    >>> confusion_counts(np.array([0, 0, 1]), np.array([0, 1, 1]), 2).tolist()
    [[1, 1], [0, 1]]
    """
    return np.bincount(clean * num_classes + noisy, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes).astype(np.int64)


def row_normalise(counts: np.ndarray) -> np.ndarray:
    """Rows divided by their sums; an empty row (a class with no examples) becomes the identity row.

    >>> row_normalise([[1, 3], [0, 0]]).tolist()
    [[0.25, 0.75], [0.0, 1.0]]
    """
    counts = np.asarray(counts, dtype=np.float64)
    sums = counts.sum(1, keepdims=True)
    out = np.divide(counts, sums, out=np.zeros_like(counts), where=sums > 0)
    empty = sums[:, 0] == 0
    out[empty, np.flatnonzero(empty)] = 1.0
    return out


def _jsonable(value):
    """Params are kept JSON-friendly (python scalars, lists) so they can go straight into results.json."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(eq=False)
class NoiseResult:
    """Noisy labels plus everything needed to describe them.

    Attributes
    ----------
    noisy_labels, clean_labels : int64 arrays (N,)
        The generated (given) labels and the clean labels they were generated from.
    realised_rate : float
        Fraction of examples whose noisy label differs from the clean one (what was *realised*, not the
        target).
    per_class_rates : float array (C,)
        Realised noise rate within each clean class (0 for a class without examples).
    transition_matrix : float array (C, C)
        Row-normalised confusion ``T[clean, noisy]`` of the realised labels (rows sum to 1).
    params : dict
        The generator's parameters, including solved ones (e.g. CBN's ``n`` and ``r``, PMD's ``factor``);
        JSON-serialisable.
    seed : int or None
        The seed that produced the labels (None for deterministic sources such as human label sets).
    kind : str
        ``"symmetric"``, ``"pairflip"``, ``"asymmetric"``, ``"transition"``, ``"instance"``, ``"pmd"``,
        ``"cbn"`` or ``"human"``.
    extras : dict
        Generator-specific arrays for figures (e.g. CBN's 2-D map and sampled sub-centres); not compared,
        not serialised.
    """

    noisy_labels: np.ndarray
    clean_labels: np.ndarray
    realised_rate: float
    per_class_rates: np.ndarray
    transition_matrix: np.ndarray
    params: dict
    seed: int | None
    kind: str
    extras: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_labels(cls, clean, noisy, *, kind: str, params: dict | None = None, seed=None,
                    num_classes: int | None = None, extras: dict | None = None) -> "NoiseResult":
        """Build a result (rates and transition matrix computed here) from clean and noisy labels."""
        clean = check_labels(clean, name="clean_labels")
        num_classes = check_num_classes(num_classes, np.maximum(clean.max(), np.asarray(noisy).max()))
        clean = check_labels(clean, num_classes, name="clean_labels")
        noisy = check_labels(noisy, num_classes, name="noisy_labels", length=clean.shape[0])
        counts = confusion_counts(clean, noisy, num_classes)
        T = row_normalise(counts)
        per_class = 1.0 - np.diag(T)
        return cls(noisy_labels=noisy, clean_labels=clean, realised_rate=float(np.mean(noisy != clean)),
                   per_class_rates=per_class, transition_matrix=T, params=_jsonable(dict(params or {})),
                   seed=None if seed is None else int(seed), kind=kind, extras=dict(extras or {}))

    # ------------------------------------------------------------------------------------------ helpers
    @property
    def num_classes(self) -> int:
        return int(self.transition_matrix.shape[0])

    @property
    def flipped(self) -> np.ndarray:
        """Boolean mask of the examples whose label was changed."""
        return self.noisy_labels != self.clean_labels

    @property
    def counts(self) -> np.ndarray:
        """Confusion counts ``[clean, noisy]`` (C x C, int64)."""
        return confusion_counts(self.clean_labels, self.noisy_labels, self.num_classes)

    def targets_per_class(self, min_fraction: float = 0.0) -> TargetCounts:
        """Number of distinct wrong target classes per clean class, their mean, and the top-2 share.

        Parameters
        ----------
        min_fraction : float
            Count a target class only if it receives at least this fraction of the class's flipped labels
            (0 counts every target that receives at least one label; 0.05 ignores stray flips).

        Examples
        --------
        >>> clean = np.array([0, 0, 0, 0, 1, 1, 2, 2])
        >>> noisy = np.array([1, 1, 2, 0, 1, 1, 2, 2])
        >>> t = NoiseResult.from_labels(clean, noisy, kind="demo").targets_per_class()
        >>> t.per_class.tolist(), t.mean, t.top2_share
        ([2, 0, 0], 2.0, 1.0)
        """
        if not 0.0 <= float(min_fraction) < 1.0:
            raise ValueError(f"min_fraction must be in [0, 1), got {min_fraction!r}.")
        off = self.counts.astype(np.float64)
        np.fill_diagonal(off, 0.0)
        flips = off.sum(1)
        share = np.divide(off, flips[:, None], out=np.zeros_like(off), where=flips[:, None] > 0)
        per_class = ((off > 0) & (share >= min_fraction)).sum(1).astype(np.int64)
        has = flips > 0
        mean = float(per_class[has].mean()) if has.any() else float("nan")
        top2 = np.sort(off, axis=1)[:, -2:].sum()
        top2_share = float(top2 / flips.sum()) if flips.sum() > 0 else float("nan")
        return TargetCounts(per_class, mean, top2_share)

    def summary(self, min_fraction: float = 0.0) -> dict:
        """A JSON-ready dict: kind, realised_rate, targets_per_class_mean, top2_share, params."""
        t = self.targets_per_class(min_fraction)
        return {"kind": self.kind, "realised_rate": round(self.realised_rate, 6),
                "targets_per_class_mean": None if np.isnan(t.mean) else round(t.mean, 4),
                "top2_share": None if np.isnan(t.top2_share) else round(t.top2_share, 4),
                "params": self.params}

    def __repr__(self) -> str:
        return (f"NoiseResult(kind={self.kind!r}, n={self.clean_labels.shape[0]}, classes={self.num_classes}, "
                f"realised_rate={self.realised_rate:.4f}, params={self.params}, seed={self.seed})")
