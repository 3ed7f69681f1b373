"""The result type and the input validation every detector shares."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_features, check_labels, infer_num_classes

__all__ = ["DetectionResult", "check_inputs", "check_precision", "PRECISIONS", "note_num_classes"]

#: the ``precision`` values of the detectors that train (see :mod:`labnoise.detect._dynamics`)
PRECISIONS = ("auto", "fp32", "bf16")


def check_precision(precision) -> str:
    """Validate a detector's ``precision`` option before any work starts."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, got {precision!r}; "
                         "'auto' is bf16 where the hardware has native bf16 units, else fp32.")
    return precision


@dataclass
class DetectionResult:
    """What every detector returns, aligned with the N input examples.

    is_noisy : bool (N,), the flagged examples (the given label is believed wrong).
    score : float (N,), higher = more suspect; ``is_noisy`` is a threshold of it (method-specific).
    method : the detector's name; settings : the options it ran with; extras : method-specific diagnostics
    (DynaCor: sign sequences, copies, per-epoch history, encoder maps; AUM: AUM values; ...). Every detector puts
    the wall seconds of its stages in ``extras["timings"]`` (e.g. DynaCor: ``dynamics``, ``encoder``).
    """

    is_noisy: np.ndarray
    score: np.ndarray
    method: str
    settings: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.is_noisy.size)


def check_inputs(labels, features, *, num_classes=None, flipped_features=None):
    """Validate the detector inputs once: labels (N,) integers in 0..K-1 with K >= 2, features (N, D) finite.

    ``num_classes`` not given: K is inferred as the largest label + 1, and then every class 0..K-1 must occur
    (:func:`labnoise._validation.infer_num_classes`): a stray label (one 12 in a 4-class set) is refused instead
    of silently making K = 13. Given: labels >= K are refused.

    Returns ``(labels int64, features float32, K, flipped float32 or None)``. Raises one ``ValueError`` that
    says what to do.
    """
    raw = np.asarray(labels)
    if raw.ndim == 1 and raw.size and not np.issubdtype(raw.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices 0..K-1, got dtype {raw.dtype}; "
                         "convert with np.asarray(labels).astype(int) (one integer per example, not one-hot).")
    if features is None:
        raise ValueError("features are required: pass the (N, D) frozen encoder features of the N labelled examples.")
    feats = np.asarray(features) if not hasattr(features, "detach") else features
    n_feat = getattr(feats, "shape", (None,))[0] if getattr(feats, "ndim", 0) >= 1 else None
    if n_feat is not None and raw.ndim == 1 and raw.shape[0] != n_feat:
        raise ValueError(f"labels has {raw.shape[0]} entries but features has {n_feat} rows; pass one label per "
                         "feature row, in the same order.")
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
                                    or int(num_classes) < 2):
        raise ValueError(f"num_classes must be an integer >= 2 (the number of classes K), got {num_classes!r}.")
    y = check_labels(raw, None if num_classes is None else int(num_classes), name="labels")
    K = int(num_classes) if num_classes is not None else infer_num_classes(y)
    if np.unique(y).size < 2:
        raise ValueError("labels hold a single class; noisy-label detection needs at least 2 classes present.")
    X = check_features(feats, name="features", length=y.size)
    F = None
    if flipped_features is not None:
        F = check_features(flipped_features, name="flipped_features", length=y.size)
        if F.shape[1] != X.shape[1]:
            raise ValueError(f"flipped_features has {F.shape[1]} columns but features has {X.shape[1]}; pass the "
                             "same encoder's features of the horizontally flipped images.")
    return y, X, K, F


def note_num_classes(result: DetectionResult, labels, num_classes=None, pred_probs=None) -> DetectionResult:
    """Say where K came from, in ``result.settings``: ``num_classes`` and ``num_classes_source`` (``"given"``,
    ``"pred_probs width"`` or ``"inferred: largest label + 1"``). Called once by the public entry points
    (:func:`labnoise.detect.find_noisy`, the estimators' ``fit``) after the detector validated its inputs."""
    if num_classes is not None:
        K, source = int(num_classes), "given"
    elif pred_probs is not None:
        K, source = int(np.shape(pred_probs)[1]), "pred_probs width"
    else:
        K, source = int(np.max(labels)) + 1, "inferred: largest label + 1"
    result.settings.setdefault("num_classes", K)
    result.settings["num_classes_source"] = source
    return result
