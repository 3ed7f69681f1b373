"""The package's one PCA: exact (covariance + symmetric eigensolver), deterministic, sign-fixed.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 6)).astype("float32") * np.arange(6, 0, -1)
    >>> z = pca(x, 2)
    >>> z.shape, z.dtype.name
    ((200, 2), 'float32')
    >>> basis = fit_pca(x, 2)
    >>> bool(np.array_equal(basis.transform(x), z))
    True

Callers: :func:`labnoise.tsne.tsne_map` (50 components before t-SNE, ``precision="float32"``), the memorization
heads (``scale="mean"``) and the ``pixels:pcaN`` encoder (:mod:`labnoise.encoders.pixels`, fitted on at most
``max_rows`` training images).

Determinism: no randomness unless ``solver="randomized"`` (seeded); each component's sign is fixed so that its
largest-magnitude loading is positive.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_features

__all__ = ["PCABasis", "fit_pca", "pca"]

_BLOCK = 8192  # rows per block of the float64 covariance accumulation (bounded memory)
_SCALES = (None, "mean", "whiten")


@dataclass(frozen=True)
class PCABasis:
    """A fitted PCA.

    Attributes
    ----------
    mean : (D,) array
        The mean that is subtracted (float64; float32 when fitted with ``precision="float32"``).
    components : (k, D) float64
        Principal axes, rows in decreasing order of variance, signs fixed.
    variances : (k,) float64
        Variance along each axis (eigenvalues of the covariance, divided by ``N - 1``).
    """

    mean: np.ndarray
    components: np.ndarray
    variances: np.ndarray

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def transform(self, features, *, scale: str | None = None) -> np.ndarray:
        """``(features - mean) @ components.T`` as float32 (N, k), one float32 product.

        scale : None, "mean" or "whiten"
            None: plain coordinates. ``"mean"``: divided by one number so that the mean variance per dimension
            is 1 (keeps the components' relative scale). ``"whiten"``: every component to unit variance.
        """
        if scale not in _SCALES:
            raise ValueError(f"scale must be None, 'mean' or 'whiten', got {scale!r}.")
        x = check_features(features)
        if x.shape[1] != self.components.shape[1]:
            raise ValueError(f"features have {x.shape[1]} columns but the PCA was fitted on "
                             f"{self.components.shape[1]}; transform features of the same kind.")
        vecs = self.components.T  # (D, k) float64
        if scale == "whiten":
            vecs = vecs / np.sqrt(np.maximum(self.variances, 1e-12))
        elif scale == "mean":
            vecs = vecs / np.sqrt(max(self.variances.mean(), 1e-12))
        return np.ascontiguousarray((x - self.mean.astype(np.float32)) @ vecs.astype(np.float32), dtype=np.float32)


def fit_pca(features, n_components: int, *, precision: str = "float64", solver: str = "eigh",
            max_rows: int | None = None, seed: int = 0) -> PCABasis:
    """Fit the top ``n_components`` principal axes of ``features`` (N, D).

    >>> x = np.random.default_rng(0).normal(size=(500, 3)) * [5.0, 1.0, 0.1]
    >>> basis = fit_pca(x, 2)
    >>> np.abs(basis.components.round(1)).tolist()        # the two widest axes, in order
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]

    Parameters
    ----------
    features : (N, D) float array
    n_components : int in [1, D]
    precision : "float64" or "float32"
        Arithmetic of the mean and the covariance. ``"float64"``: float64 accumulation in row blocks (accurate,
        bounded memory). ``"float32"``: one float32 ``X^T X`` product (about twice as fast; enough for t-SNE's
        preprocessing).
    solver : "eigh" or "randomized"
        ``"eigh"``: exact, a D x D symmetric eigensolver. ``"randomized"``: scikit-learn's seeded randomized SVD
        (for D in the thousands, where the eigensolver dominates).
    max_rows : int or None
        Fit on at most this many rows: a seeded (``seed``), sorted subset when N is larger.
    seed : int
        Seed of the row subset and of the randomized solver.
    """
    x = check_features(features)
    n, d = x.shape
    if int(n_components) != n_components or not 1 <= int(n_components) <= d:
        raise ValueError(f"n_components must be an integer in [1, {d}] (the feature dimension), got {n_components!r}.")
    if precision not in ("float64", "float32"):
        raise ValueError(f"precision must be 'float64' or 'float32', got {precision!r}.")
    if solver not in ("eigh", "randomized"):
        raise ValueError(f"solver must be 'eigh' or 'randomized', got {solver!r}.")
    if n < 2:
        raise ValueError(f"PCA needs at least 2 rows, got {n}.")
    k = int(n_components)
    if max_rows is not None and n > int(max_rows):
        x = x[np.sort(np.random.default_rng(int(seed)).choice(n, int(max_rows), replace=False))]
        n = x.shape[0]
    if precision == "float32":
        mu = x.mean(0)
        xc = x - mu
        if solver == "eigh":
            vals, vecs = np.linalg.eigh((xc.T @ xc).astype(np.float64))
            vals = vals / (n - 1)
    else:
        mu = x.mean(0, dtype=np.float64)
        if solver == "eigh":
            cov = np.zeros((d, d))
            for s in range(0, n, _BLOCK):
                xb = x[s:s + _BLOCK].astype(np.float64) - mu
                cov += xb.T @ xb
            cov /= n - 1
            vals, vecs = np.linalg.eigh(cov)
        else:
            xc = x.astype(np.float64) - mu
    if solver == "eigh":
        vals, vecs = vals[::-1][:k], vecs[:, ::-1][:, :k]
    else:
        from sklearn.utils.extmath import randomized_svd

        _, sv, vt = randomized_svd(xc, k, n_iter=4, random_state=int(seed))
        vals, vecs = sv.astype(np.float64) ** 2 / (n - 1), vt.T.astype(np.float64)
    vecs = vecs * np.where(vecs[np.abs(vecs).argmax(0), np.arange(k)] < 0, -1.0, 1.0)
    return PCABasis(mean=mu, components=np.ascontiguousarray(vecs.T), variances=np.maximum(vals, 0.0))


def pca(features, n_components: int, *, scale: str | None = None, precision: str = "float64",
        solver: str = "eigh", max_rows: int | None = None, seed: int = 0) -> np.ndarray:
    """``features`` projected on their own top ``n_components`` principal axes, float32 (N, k):
    ``fit_pca(features, ...).transform(features, scale=scale)`` (see :func:`fit_pca` and
    :meth:`PCABasis.transform` for the options)."""
    basis = fit_pca(features, n_components, precision=precision, solver=solver, max_rows=max_rows, seed=seed)
    return basis.transform(features, scale=scale)
