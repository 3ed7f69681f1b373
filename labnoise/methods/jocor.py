"""JoCoR: joint training with co-regularisation (Wei et al., CVPR 2020).

Two networks are trained together on one joint loss per example,

    l_i = (1 - lambda) (CE(p1_i, y_i) + CE(p2_i, y_i)) + lambda (KL(p1_i || p2_i) + KL(p2_i || p1_i)),

the ``ceil((1 - forget rate) * B)`` examples with the smallest joint loss are kept and the loss is their mean.
The forget rate ramps linearly from 0 to the (known, assumed or estimated) noise rate over ``ramp_epochs``
epochs, exactly as in :class:`labnoise.methods.CoTeaching` (whose rate machinery this class reuses).
``co_lambda = 0.1`` is the official code's default for CIFAR-10.

``method.selected`` (and ``state.record["selected"]``) holds the kept training-set positions after every batch.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .coteaching import CoTeaching
from .standard import cross_entropy

__all__ = ["JoCoR", "jocor_loss"]


def jocor_loss(logits1, logits2, targets, co_lambda: float = 0.1):
    """Per-example joint loss (B,) of JoCoR: weighted CE of both networks plus symmetric KL between them."""
    ce = cross_entropy(logits1, targets, reduction="none") + cross_entropy(logits2, targets, reduction="none")
    lp1, lp2 = F.log_softmax(logits1.float(), 1), F.log_softmax(logits2.float(), 1)
    kl = (lp1.exp() * (lp1 - lp2)).sum(1) + (lp2.exp() * (lp2 - lp1)).sum(1)
    return (1.0 - co_lambda) * ce + co_lambda * kl


class JoCoR(CoTeaching):
    """JoCoR (two networks, joint loss with symmetric-KL co-regularisation, small-loss selection on it).

    Parameters: those of :class:`CoTeaching` plus ``co_lambda`` (weight of the co-regularisation, 0.1).
    """

    name = "jocor"
    num_models = 2
    soft_targets = False

    def __init__(self, noise_rate: float | None = None, forget_rate: float | None = None, ramp_epochs: int = 10,
                 exponent: float = 1.0, co_lambda: float = 0.1):
        super().__init__(noise_rate, forget_rate, ramp_epochs, exponent)
        if not (0.0 <= float(co_lambda) <= 1.0):
            raise ValueError(f"co_lambda must be in [0, 1], got {co_lambda!r}.")
        self.co_lambda = float(co_lambda)

    def loss(self, logits, targets, state):
        joint = jocor_loss(logits[0], logits[1], targets, self.co_lambda)
        rate = self.current_rate(state.epoch)
        with torch.no_grad():
            keep = self._select(joint.detach(), rate)
        self.selected = state.batch_indices[keep]
        state.record["selected"] = self.selected
        state.record["candidates"] = state.batch_indices
        self._kept += keep.numel()
        self._seen += joint.numel()
        return joint[keep].mean()
