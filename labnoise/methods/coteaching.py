"""Co-teaching (Han et al., NeurIPS 2018) and Co-teaching+ (Yu et al., ICML 2019).

Two networks see the same mini-batch. Each ranks the batch by its own per-example loss and keeps the
``1 - forget_rate`` fraction with the smallest loss ("small-loss" examples, likely clean); each network is
then updated on the examples its *peer* selected. As in the official code, the forget rate ramps linearly
over the first ``Tk = ramp_epochs`` epochs (default 10, whatever the epoch budget): 0 at epoch 1, the final
value from epoch ``Tk`` on (``linspace(0, rate ** exponent, Tk)``).

Co-teaching+ ("update by disagreement"), as in the official code: plain Co-teaching for the first
``init_epochs`` epochs (official: 20 of 200 epochs on CIFAR-10, 5 of 200 on CIFAR-100; default here: the
CIFAR-10 proportion of the epoch budget, ``max(1, round(epochs / 10))``), then the small-loss selection is
restricted to the examples on which the two networks' predictions disagree; a batch with *no* disagreement
trains both networks with plain cross-entropy on the whole batch. ``epoch_metrics`` records the ``phase``
(0 = plain Co-teaching, 1 = disagreement), the mean ``disagreement_fraction`` of the batches and the number of
``ce_fallback_batches``.

The final forget rate is ``forget_rate`` if given, else ``noise_rate`` (the known or assumed noise rate), else
it is *estimated* at the end of the first epoch (when the rate is still 0) as the fraction of training
examples whose given label disagrees with network 1's prediction: after one epoch a network mostly reflects
the clean structure, so this disagreement approximates the noise rate (clipped to [0, 0.8]).

Selections are exposed for inspection: after every batch ``method.selected`` is a pair of 1-D tensors of
training-set positions kept by network 1 and by network 2 (``state.record["selected"]`` holds the same, and
``state.record["candidates"]`` the positions selection chose from: the batch, or its disagreement subset).
"""
from __future__ import annotations

import math

import torch

from .standard import Method, cross_entropy, hard


class CoTeaching(Method):
    """Co-teaching with a linearly ramped forget rate.

    Parameters
    ----------
    noise_rate : float, optional
        Known or assumed noise rate; the final forget rate when ``forget_rate`` is None.
    forget_rate : float, optional
        Final forget rate (overrides ``noise_rate``). If both are None the rate is estimated (see module doc).
    ramp_epochs : int
        ``Tk``: epochs over which the forget rate grows from 0 to its final value (official: 10).
    exponent : float
        The ramp is ``forget_rate * min(1, epoch / ramp) ** exponent`` (1 = linear, as in the paper).
    """

    name = "coteaching"
    num_models = 2
    disagreement = False

    def __init__(self, noise_rate: float | None = None, forget_rate: float | None = None, ramp_epochs: int = 10,
                 exponent: float = 1.0):
        for nm, v in (("noise_rate", noise_rate), ("forget_rate", forget_rate)):
            if v is not None and not (0.0 <= float(v) < 1.0):
                raise ValueError(f"{nm} must be a fraction in [0, 1), got {v!r} (e.g. 0.35 for 35% noise).")
        if int(ramp_epochs) < 1:
            raise ValueError(f"ramp_epochs must be >= 1, got {ramp_epochs!r}.")
        self.noise_rate = noise_rate
        self.forget_rate = forget_rate
        self.ramp_epochs = int(ramp_epochs)
        self.exponent = float(exponent)
        self.selected = None
        self._final = None
        self._ramp = None
        self._kept = 0
        self._seen = 0
        self._estimated = None
        self._rate_now = 0.0
        self._phase_now = False
        self._dis = self._fallback = self._batches = 0

    def setup(self, state):
        f = self.forget_rate if self.forget_rate is not None else self.noise_rate
        self._final = None if f is None else float(f)
        self._ramp = self.ramp_epochs

    def current_rate(self, epoch: int) -> float:
        """Forget rate of (0-based) ``epoch``: ``linspace(0, final ** exponent, Tk)`` then ``final``."""
        if self._final is None:
            return 0.0
        if epoch >= self._ramp - 1:
            return self._final
        return self._final ** self.exponent * epoch / (self._ramp - 1)

    def on_epoch_start(self, state):
        self._kept = self._seen = 0
        self._dis = self._fallback = self._batches = 0
        self._rate_now = self.current_rate(state.epoch)
        self._phase_now = self.in_disagreement_phase(state.epoch)

    def in_disagreement_phase(self, epoch: int) -> bool:
        return False

    def _select(self, loss, rate):
        """Positions (into ``loss``) of the ``ceil((1 - rate) * len)`` smallest losses."""
        n_keep = max(1, int(math.ceil((1.0 - rate) * loss.numel())))
        return torch.argsort(loss, stable=True)[:n_keep]

    def loss(self, logits, targets, state):
        l1 = cross_entropy(logits[0], targets, reduction="none")
        l2 = cross_entropy(logits[1], targets, reduction="none")
        rate = self.current_rate(state.epoch)
        self._batches += 1
        if self.in_disagreement_phase(state.epoch):
            with torch.no_grad():
                pool = (logits[0].argmax(1) != logits[1].argmax(1)).nonzero().flatten()
            self._dis += pool.numel() / max(1, l1.numel())
            if pool.numel() == 0:   # official: no disagreement -> plain CE on the whole batch, both networks
                self._fallback += 1
                allb = state.batch_indices
                self.selected = (allb, allb)
                state.record["selected"] = self.selected
                state.record["candidates"] = allb
                state.record["ce_fallback"] = True
                self._kept += l1.numel()
                self._seen += l1.numel()
                return l1.mean() + l2.mean()
        else:
            pool = torch.arange(l1.numel(), device=l1.device)
        with torch.no_grad():
            k1 = pool[self._select(l1.detach()[pool], rate)]   # network 1's small-loss picks
            k2 = pool[self._select(l2.detach()[pool], rate)]
        state.record["ce_fallback"] = False
        self.selected = (state.batch_indices[k1], state.batch_indices[k2])
        state.record["selected"] = self.selected
        state.record["candidates"] = state.batch_indices[pool]
        self._kept += k1.numel()
        self._seen += l1.numel()
        # each network learns from its peer's selection
        return l1[k2].mean() + l2[k1].mean()

    def on_epoch_end(self, state):
        if self._final is None and state.epoch == 0:
            with torch.no_grad():
                pred = state.predict_train(0).argmax(1)
                est = float((pred != hard(state.labels)).float().mean())
            self._estimated = min(0.8, max(0.0, est))
            self._final = self._estimated

    def epoch_metrics(self):
        out = {"forget_rate": self._rate_now, "kept_fraction": self._kept / max(1, self._seen)}
        if self.disagreement:
            out["phase"] = int(self._phase_now)
            out["disagreement_fraction"] = self._dis / max(1, self._batches)
            out["ce_fallback_batches"] = int(self._fallback)
        if self._estimated is not None:
            out["estimated_noise_rate"] = self._estimated
        return out



class CoTeachingPlus(CoTeaching):
    """Co-teaching+: small-loss selection among the examples on which the two networks disagree.

    ``init_epochs`` epochs of plain Co-teaching come first (official: 20 of 200 on CIFAR-10, 5 of 200 on
    CIFAR-100); ``None`` (default) scales the CIFAR-10 proportion to the budget: ``max(1, round(epochs / 10))``.
    """

    name = "coteaching+"
    disagreement = True

    def __init__(self, noise_rate: float | None = None, forget_rate: float | None = None, ramp_epochs: int = 10,
                 exponent: float = 1.0, init_epochs: int | None = None):
        super().__init__(noise_rate, forget_rate, ramp_epochs, exponent)
        if init_epochs is not None and int(init_epochs) < 0:
            raise ValueError(f"init_epochs must be >= 0 or None, got {init_epochs!r}.")
        self.init_epochs = None if init_epochs is None else int(init_epochs)
        self._init = 0

    def setup(self, state):
        super().setup(state)
        self._init = max(1, round(state.epochs / 10)) if self.init_epochs is None else self.init_epochs

    def in_disagreement_phase(self, epoch: int) -> bool:
        return epoch >= self._init
