"""Generalised cross-entropy (Zhang & Sabuncu, NeurIPS 2018): ``L_q = (1 - p_y^q) / q``.

q -> 0 recovers cross-entropy, q = 1 is the (noise-robust, slow to train) MAE; q = 0.7 is the usual
setting. Soft targets use ``(1 - sum_c t_c p_c^q) / q``, which equals the above for one-hot targets.
The truncated variant of the paper (pruning examples with ``p_y <= k``) is not implemented.
"""
from __future__ import annotations

import torch

from .standard import Method


class GCE(Method):
    """Generalised cross-entropy with exponent ``q`` in (0, 1]."""

    name = "gce"

    def __init__(self, q: float = 0.7):
        if not (0.0 < float(q) <= 1.0):
            raise ValueError(f"GCE q must be in (0, 1], got {q!r}; the paper uses q=0.7.")
        self.q = float(q)

    def loss(self, logits, targets, state):
        return gce_loss(logits[0], targets, self.q).mean()


def gce_loss(logits, targets, q: float = 0.7):
    """Per-example GCE loss for int labels (B,) or soft targets (B, C)."""
    p = torch.softmax(logits.float(), dim=1).clamp_min(1e-7)
    if targets.dtype.is_floating_point:
        return (1.0 - (targets * p.pow(q)).sum(1)) / q
    return (1.0 - p.gather(1, targets[:, None]).squeeze(1).pow(q)) / q
