"""Raw pixels as features: flattened, scaled to [0, 1]; optionally projected on the top principal components
of the training split (fitted once per dataset with :func:`labnoise.linalg.fit_pca`, deterministic)."""
from __future__ import annotations

import numpy as np

from ..linalg import PCABasis, fit_pca

#: PCA is fitted on at most this many training images (a fixed, seeded subset when the split is larger).
PCA_FIT_MAX = 10_000


def flatten(images: np.ndarray, flip: bool = False) -> np.ndarray:
    """uint8 ``(N, H, W, C)`` -> float32 ``(N, H*W*C)`` in [0, 1] (``flip``: mirrored left-right first)."""
    x = images[:, :, ::-1] if flip else images
    return np.ascontiguousarray(x, dtype=np.float32).reshape(len(x), -1) / np.float32(255.0)


def pca_basis(train_images: np.ndarray, n_components: int) -> PCABasis:
    """The principal axes of the flattened training images (at most :data:`PCA_FIT_MAX` of them, a subset
    seeded with 0); project any split with ``basis.transform(flatten(images))``."""
    n = len(train_images)
    if n > PCA_FIT_MAX:  # subset the uint8 images before flattening (float32 copies of 50k images are 600 MB)
        train_images = train_images[np.sort(np.random.default_rng(0).choice(n, PCA_FIT_MAX, replace=False))]
    return fit_pca(flatten(train_images), n_components)
