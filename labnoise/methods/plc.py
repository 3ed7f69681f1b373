"""Progressive label correction (PLC; Zhang, Zheng, Wu, Goswami & Chen, ICLR 2021).

After a warm-up of plain cross-entropy, at the end of every epoch the labels are corrected from the network's
softmax ``f(x)`` on the whole training set (eval mode, no augmentation: :meth:`TrainState.predict_train`),
and training continues with cross-entropy on the current (corrected) labels. Corrections are permanent (a
later round may change a label again). Two rules (``rule``):

* ``"ratio"`` (default; the official code's rule, REFERENCE.md): with ``f`` the softmax **averaged over the
  last** ``avg_epochs`` **= 5 epochs**, ``y`` the current label and ``h = argmax f``, the label becomes ``h``
  when the likelihood ratio is small,

      f_y(x) / f_h(x) < delta,

  ``delta`` starts at ``delta0 = 0.3`` and grows by ``delta_step = 0.1`` after every correction round, capped
  at ``delta_max = 0.9`` (``grow_below``: grow only when a round changed fewer than this fraction of the
  labels; default ``None`` = every round). The official code averages *train-mode* softmaxes recorded during
  the epoch; we use eval-mode softmaxes of the whole training set at each epoch's end (no dropout or
  augmentation noise), which is the choice this class makes.
* ``"margin"`` (the rule this package used before): ``f`` is the current epoch's softmax and a label changes
  when ``f_h - f_y >= theta``; ``theta`` starts at ``theta0 = 0.5`` and drops by ``theta_step = 0.05`` (not
  below ``theta_min = 0.2``) whenever a round changes fewer than ``min_change = 0.01`` of the labels. For two
  classes ``f_h - f_y = 2 |f - 1/2|``, the paper's binary confidence.

Warm-up: ``warmup_epochs`` epochs of plain CE before the first correction (official: 8 of 180 epochs; default
here ``max(1, epochs // 4)``, since the small heads of this package fit noisy labels within a few epochs).
"""
from __future__ import annotations

from collections import deque

import torch

from .._validation import check_choice
from .standard import Method, cross_entropy

RULES = ("ratio", "margin")


def ratio_correction(probs, labels, delta):
    """The official PLC rule: a boolean mask of labels to change to ``argmax probs`` and the new labels.

    ``probs`` (N, C) softmax (averaged), ``labels`` (N,) current labels; a label ``y`` is corrected when
    ``probs[y] / probs.max() < delta`` (the argmax itself has ratio 1 and is never corrected).
    """
    pmax, h = probs.max(1)
    py = probs.gather(1, labels[:, None]).squeeze(1)
    flip = (h != labels) & (py < delta * pmax)
    return flip, torch.where(flip, h, labels)


def margin_correction(probs, labels, theta):
    """The margin rule: change ``y`` to ``h = argmax probs`` when ``probs[h] - probs[y] >= theta``."""
    pmax, h = probs.max(1)
    py = probs.gather(1, labels[:, None]).squeeze(1)
    flip = (h != labels) & (pmax - py >= theta)
    return flip, torch.where(flip, h, labels)


class PLC(Method):
    """Progressive label correction (see the module docstring for the two rules).

    Parameters
    ----------
    rule : ``"ratio"`` (official, default) or ``"margin"``.
    warmup_epochs : int, optional
        Epochs of plain CE before the first correction (default ``max(1, epochs // 4)``).
    delta0, delta_step, delta_max, avg_epochs, grow_below : the ratio rule's threshold, its growth per round,
        its cap, the number of last epochs whose softmaxes are averaged, and the optional growth condition.
    theta0, theta_step, theta_min, min_change : the margin rule's threshold, relaxation step, floor, and the
        fraction of changed labels under which it relaxes.
    """

    name = "plc"
    soft_targets = False

    def __init__(self, rule: str = "ratio", warmup_epochs: int | None = None, delta0: float = 0.3,
                 delta_step: float = 0.1, delta_max: float = 0.9, avg_epochs: int = 5,
                 grow_below: float | None = None, theta0: float = 0.5, theta_step: float = 0.05,
                 theta_min: float = 0.2, min_change: float = 0.01):
        check_choice(rule, RULES, name="PLC rule")
        if not (0.0 < theta_min <= theta0 <= 1.0):
            raise ValueError(f"need 0 < theta_min <= theta0 <= 1, got theta_min={theta_min}, theta0={theta0}.")
        if not (0.0 < delta0 <= delta_max <= 1.0):
            raise ValueError(f"need 0 < delta0 <= delta_max <= 1, got delta0={delta0}, delta_max={delta_max}.")
        if warmup_epochs is not None and int(warmup_epochs) < 0:
            raise ValueError(f"warmup_epochs must be >= 0, got {warmup_epochs!r}.")
        if int(avg_epochs) < 1:
            raise ValueError(f"avg_epochs must be >= 1, got {avg_epochs!r}.")
        self.rule = rule
        self.warmup_epochs = warmup_epochs
        self.delta0 = float(delta0)
        self.delta_step = float(delta_step)
        self.delta_max = float(delta_max)
        self.avg_epochs = int(avg_epochs)
        self.grow_below = None if grow_below is None else float(grow_below)
        self.theta0 = float(theta0)
        self.theta_step = float(theta_step)
        self.theta_min = float(theta_min)
        self.min_change = float(min_change)
        self.labels = None   # current corrected labels (training-set positions), a device tensor
        self.theta = float(theta0)
        self.delta = float(delta0)
        self._changed = 0.0
        self._warm = None
        self._label_acc = None
        self._recent = deque()

    def setup(self, state):
        self.labels = state.labels.clone()
        self.theta = self.theta0
        self.delta = self.delta0
        self._recent = deque(maxlen=self.avg_epochs)
        self._warm = max(1, state.epochs // 4) if self.warmup_epochs is None else int(self.warmup_epochs)

    def loss(self, logits, targets, state):
        return cross_entropy(logits[0], self.labels[state.batch_indices])

    def on_epoch_end(self, state):
        self._changed = 0.0
        e = state.epoch + 1   # epochs done
        correct_now = e >= self._warm and e < state.epochs
        if self.rule == "ratio" and e > self._warm - self.avg_epochs and e < state.epochs:
            with torch.no_grad():
                self._recent.append(state.predict_train(0))
        if correct_now:
            with torch.no_grad():
                if self.rule == "ratio":
                    p = torch.stack(list(self._recent)).mean(0)
                    flip, self.labels = ratio_correction(p, self.labels, self.delta)
                else:
                    flip, self.labels = margin_correction(state.predict_train(0), self.labels, self.theta)
                self._changed = float(flip.float().mean())
            if self.rule == "ratio":
                if self.grow_below is None or self._changed < self.grow_below:
                    self.delta = min(self.delta_max, self.delta + self.delta_step)
            elif self._changed < self.min_change:
                self.theta = max(self.theta_min, self.theta - self.theta_step)
        if state.clean_labels is not None:  # monitoring only: how clean the corrected labels are
            self._label_acc = float((self.labels == state.clean_labels).float().mean())

    def epoch_metrics(self):
        out = {"plc_rule": self.rule, "plc_changed": self._changed}
        out["plc_delta" if self.rule == "ratio" else "plc_theta"] = self.delta if self.rule == "ratio" else self.theta
        if self._label_acc is not None:
            out["plc_label_acc"] = self._label_acc
        return out
