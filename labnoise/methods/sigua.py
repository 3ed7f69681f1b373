"""SIGUA: stochastic integrated gradient underweighted ascent (Han et al., ICML 2020), small-loss variant.

One network. In each mini-batch the ``ceil((1 - forget rate) * B)`` smallest-loss examples are taken as clean
and get gradient *descent* on their cross-entropy; the rest are taken as noisy and get gradient *ascent*,
scaled down by ``ascent`` (the paper's underweighting factor gamma):

    loss = (sum_{good} CE_i - ascent * sum_{bad} CE_i) / B.

The forget rate ramps from 0 to the noise rate over ``ramp_epochs`` epochs (as Co-teaching's). Plain
gradient ascent on a cross-entropy is unbounded; ``ascent`` must stay small (default 0.01) and a bad example's
ascent term is dropped once its loss exceeds ``max_ascent_loss`` (default ``log C`` + 2: well past chance),
which keeps the ascent from driving logits to infinity -- a safeguard the paper's stochastic setting gets
from its small gamma and finite training; it is a choice made here and exposed.

``method.selected`` / ``state.record["selected"]`` holds the positions taken as clean after every batch.
"""
from __future__ import annotations

import math

import torch

from .coteaching import CoTeaching
from .standard import cross_entropy

__all__ = ["SIGUA"]


class SIGUA(CoTeaching):
    """SIGUA_SL: descent on selected-clean small-loss examples, scaled ascent on the others.

    Parameters: ``noise_rate``, ``forget_rate``, ``ramp_epochs``, ``exponent`` as for :class:`CoTeaching`;
    ``ascent`` (the underweighting factor, 0.01); ``max_ascent_loss`` (None: ``log C + 2``).
    """

    name = "sigua"
    num_models = 1
    soft_targets = False

    def __init__(self, noise_rate: float | None = None, forget_rate: float | None = None, ramp_epochs: int = 10,
                 exponent: float = 1.0, ascent: float = 0.01, max_ascent_loss: float | None = None):
        super().__init__(noise_rate, forget_rate, ramp_epochs, exponent)
        if not (0.0 <= float(ascent) <= 1.0):
            raise ValueError(f"ascent must be in [0, 1], got {ascent!r}.")
        self.ascent = float(ascent)
        self.max_ascent_loss = None if max_ascent_loss is None else float(max_ascent_loss)

    def loss(self, logits, targets, state):
        ce = cross_entropy(logits[0], targets, reduction="none")
        rate = self.current_rate(state.epoch)
        with torch.no_grad():
            keep = self._select(ce.detach(), rate)
            good = torch.zeros_like(ce, dtype=torch.bool)
            good[keep] = True
            cap = self.max_ascent_loss if self.max_ascent_loss is not None else math.log(state.num_classes) + 2
            bad = ~good & (ce.detach() < cap)
        self.selected = state.batch_indices[keep]
        state.record["selected"] = self.selected
        state.record["candidates"] = state.batch_indices
        self._kept += keep.numel()
        self._seen += ce.numel()
        return ((ce * good.float()).sum() - self.ascent * (ce * bad.float()).sum()) / ce.numel()
