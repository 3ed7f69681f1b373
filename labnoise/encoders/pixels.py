"""Raw pixels as features: flattened, scaled to [0, 1]; optionally projected on the top principal components
of the training split (fitted once per dataset, deterministic)."""
from __future__ import annotations

import numpy as np

#: PCA is fitted on at most this many training images (a fixed, seeded subset when the split is larger).
PCA_FIT_MAX = 10_000


def flatten(images: np.ndarray, flip: bool = False) -> np.ndarray:
    """uint8 ``(N, H, W, C)`` -> float32 ``(N, H*W*C)`` in [0, 1] (``flip``: mirrored left-right first)."""
    x = images[:, :, ::-1] if flip else images
    return np.ascontiguousarray(x, dtype=np.float32).reshape(len(x), -1) / np.float32(255.0)


def fit_pca(train_images: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, components)`` of the training images (float64 eigen-decomposition of the covariance;
    signs fixed so the largest-magnitude loading of each component is positive)."""
    n = len(train_images)
    if n > PCA_FIT_MAX:
        idx = np.sort(np.random.default_rng(0).choice(n, PCA_FIT_MAX, replace=False))
        train_images = train_images[idx]
    x = flatten(train_images).astype(np.float64)
    mean = x.mean(0)
    x -= mean
    cov = x.T @ x / max(len(x) - 1, 1)
    vals, vecs = np.linalg.eigh(cov)
    comps = vecs[:, ::-1][:, :n_components].T  # (k, D), decreasing variance
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(1)])
    comps *= np.where(signs == 0, 1.0, signs)[:, None]
    return mean, comps


def project(x: np.ndarray, mean: np.ndarray, comps: np.ndarray) -> np.ndarray:
    return ((x.astype(np.float64) - mean) @ comps.T).astype(np.float32)
