"""Progressive label correction (PLC; Zhang, Zheng, Wu, Goswami & Chen, ICLR 2021).

After a warm-up of plain cross-entropy, at the end of every epoch the network's softmax ``f(x)`` on the whole
training set (eval mode, no augmentation) is compared with the *current* label ``y`` of each example; when the
network is confident enough that another class ``h = argmax f(x)`` is right,

    f_h(x) - f_y(x) >= theta,

the label is changed to ``h``. Corrections are permanent (later rounds may change a label again). The
threshold starts high (only very confident corrections) and is *relaxed* progressively: whenever a round
changes fewer than ``min_change`` of the labels, ``theta`` drops by ``theta_step`` (not below
``theta_min``), so that the corrected region grows outwards from the confident cores of the classes, as in
the paper's Fig. 1. Training always uses the current (corrected) labels with cross-entropy.

Choices made here (the paper states the principle; these constants are ours): the margin test
``f_h - f_y`` (for two classes it equals ``2 |f - 1/2|``, the paper's binary confidence), ``theta0 = 0.5``,
``theta_step = 0.05``, ``theta_min = 0.2``, ``min_change = 0.01``, warm-up of ``max(1, epochs // 4)`` epochs.
"""
from __future__ import annotations

import torch

from .standard import Method, cross_entropy


class PLC(Method):
    """Progressive label correction with a relaxing confidence threshold.

    Parameters
    ----------
    warmup_epochs : int, optional
        Epochs of plain CE before the first correction (default ``max(1, epochs // 4)``).
    theta0, theta_step, theta_min : float
        Initial margin threshold, relaxation step, floor.
    min_change : float
        Relax when a round changes fewer than this fraction of labels.
    """

    name = "plc"
    soft_targets = False

    def __init__(self, warmup_epochs: int | None = None, theta0: float = 0.5, theta_step: float = 0.05,
                 theta_min: float = 0.2, min_change: float = 0.01):
        if not (0.0 < theta_min <= theta0 <= 1.0):
            raise ValueError(f"need 0 < theta_min <= theta0 <= 1, got theta_min={theta_min}, theta0={theta0}.")
        if warmup_epochs is not None and int(warmup_epochs) < 0:
            raise ValueError(f"warmup_epochs must be >= 0, got {warmup_epochs!r}.")
        self.warmup_epochs = warmup_epochs
        self.theta0 = float(theta0)
        self.theta_step = float(theta_step)
        self.theta_min = float(theta_min)
        self.min_change = float(min_change)
        self.labels = None   # current corrected labels (training-set positions), a device tensor
        self.theta = float(theta0)
        self._changed = 0.0
        self._warm = None
        self._label_acc = None

    def setup(self, state):
        self.labels = state.labels.clone()
        self.theta = self.theta0
        self._warm = max(1, state.epochs // 4) if self.warmup_epochs is None else int(self.warmup_epochs)

    def loss(self, logits, targets, state):
        return cross_entropy(logits[0], self.labels[state.batch_indices])

    def on_epoch_end(self, state):
        self._changed = 0.0
        if state.epoch + 1 >= self._warm and state.epoch + 1 < state.epochs:
            with torch.no_grad():
                p = state.predict_train(0)
                pmax, h = p.max(1)
                py = p.gather(1, self.labels[:, None]).squeeze(1)
                flip = (h != self.labels) & (pmax - py >= self.theta)
                self.labels[flip] = h[flip]
                self._changed = float(flip.float().mean())
            if self._changed < self.min_change:
                self.theta = max(self.theta_min, self.theta - self.theta_step)
        if state.clean_labels is not None:  # monitoring only: how clean the corrected labels are
            self._label_acc = float((self.labels == state.clean_labels).float().mean())

    def epoch_metrics(self):
        out = {"plc_theta": self.theta, "plc_changed": self._changed}
        if self._label_acc is not None:
            out["plc_label_acc"] = self._label_acc
        return out
