"""The method interface used by :func:`labnoise.train.fit`, and standard cross-entropy training.

A method turns the logits of a mini-batch into a loss. It never sees the inputs, so it works unchanged in the
frozen-feature lane (MLP heads on cached features) and in the pixel lane (CNNs on augmented images).

Interface (all hooks optional except :meth:`Method.loss`)::

    class MyMethod(Method):
        name = "mine"
        num_models = 1                  # 2 for Co-teaching-style methods (fit builds/receives two nets)
        soft_targets = True             # whether (N, C) soft targets are accepted
        def setup(self, state): ...     # once, before the first epoch
        def on_epoch_start(self, state): ...
        def loss(self, logits, targets, state): ...   # logits: list (one per model) of (B, C) tensors
        def on_epoch_end(self, state): ...
        def epoch_metrics(self) -> dict: ...          # merged into the epoch's history row

``state`` is a :class:`labnoise.train.TrainState`: epoch, epochs, step, num_classes, n_train, device,
``batch_indices`` (positions of the batch in the training set), ``labels`` (the full training targets on the
device) and ``predict_train(i)`` (softmax of model ``i`` on all training inputs, eval mode, no augmentation).

Settings follow scikit-learn's conventions: every constructor argument is stored under its own name, so
``get_params()`` / ``set_params(**params)`` read and change them (``set_params`` re-validates through the
constructor). A method object is a *template*: :func:`labnoise.train.fit` trains a deep copy, so the instance
you pass never changes; the trained copy, with its per-run state, is ``FitResult.method``.
"""
from __future__ import annotations

import inspect

import torch.nn.functional as F

__all__ = ["Method", "StandardCE", "cross_entropy"]


def cross_entropy(logits, targets, reduction: str = "mean"):
    """Cross-entropy for int labels (B,) or soft targets (B, C) (``-sum_c t_c log p_c``)."""
    if targets.dtype.is_floating_point:
        loss = -(targets * F.log_softmax(logits.float(), dim=1)).sum(1)
        return loss.mean() if reduction == "mean" else (loss.sum() if reduction == "sum" else loss)
    return F.cross_entropy(logits.float(), targets, reduction=reduction)


def hard(targets):
    """Int labels from int labels or soft targets (argmax)."""
    return targets.argmax(1) if targets.dtype.is_floating_point else targets


class Method:
    """Base class: plain cross-entropy on one model. Subclasses override :meth:`loss` and the hooks."""

    name = "ce"
    num_models = 1
    soft_targets = True

    def setup(self, state) -> None:
        pass

    def on_epoch_start(self, state) -> None:
        pass

    def loss(self, logits, targets, state):
        return cross_entropy(logits[0], targets)

    def on_epoch_end(self, state) -> None:
        pass

    def epoch_metrics(self) -> dict:
        return {}

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self"
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments and their current values (scikit-learn's ``get_params``)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Change settings (scikit-learn's ``set_params``); the new values are validated by the constructor,
        which also resets any per-run state. Returns ``self``."""
        names = self._param_names()
        bad = sorted(set(params) - set(names))
        if bad:
            raise ValueError(f"{type(self).__name__} has no parameter {', '.join(map(repr, bad))}; its parameters "
                             f"are: {', '.join(names) or 'none'}.")
        self.__init__(**{**self.get_params(), **params})
        return self

    def params(self) -> dict:
        """The method's settings (for results.json): :meth:`get_params` with JSON-able values."""
        return {k: v for k, v in self.get_params().items() if _plain(v)}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


class StandardCE(Method):
    """Standard training: cross-entropy on the given (noisy) labels, or on soft targets."""

    name = "ce"


def _plain(v):
    return v is None or isinstance(v, (bool, int, float, str, tuple, list))
