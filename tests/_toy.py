"""Planted-noise toy problems shared by the method tests."""
import numpy as np


def blobs(n, seed, d=20, c=5):
    """``n`` points of ``c`` Gaussian blobs in ``d`` dims (centres fixed, samples seeded): (x float32, y)."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(size=(c, d)) * 1.2
    y = rng.integers(0, c, n)
    return (centres[y] + rng.normal(size=(n, d))).astype(np.float32), y


def symmetric(y, rate, c=5, seed=0):
    """Flip each label with probability ``rate`` to a class drawn uniformly from the other ``c - 1``."""
    rng = np.random.default_rng(seed)
    flip = rng.random(len(y)) < rate
    out = y.copy()
    out[flip] = (y[flip] + rng.integers(1, c, flip.sum())) % c
    return out
