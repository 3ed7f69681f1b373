"""Noisy-label detection: flag the examples whose given label is likely wrong.

Notation: N examples, K classes, D feature dimensions. Every detector takes the given ``labels`` (N,) and
frozen ``features`` (N, D) first, options keyword-only, ``seed`` keyword-only, and returns a
:class:`DetectionResult` with ``is_noisy`` (bool, N) and ``score`` (float, N; higher = more suspect), aligned with
the input. The detectors that train take ``precision="auto" | "fp32" | "bf16"`` (auto: bf16 autocast where the
hardware has native bf16 units) and ``device``; what they share is said in each docstring (Avg.Encoder reads
DynaCor's run through :func:`compare`; SimiFeat caches its label-free neighbour graphs; DynaCor evaluates both
distances in one run and can reuse an earlier run's dynamics).

=====================  ===================================================================================
``"dynacor"``          DynaCor (Kim et al., CVPR 2024): corrupted copies + sign dynamics + clustering encoder
``"avg_encoder"``      two-component 1-D GMM on the mean (unquantised) training margin
``"aum"``              area under the margin with threshold examples (Pleiss et al. 2020)
``"confident"``        Confident Learning: ``cleanlab.filter.find_label_issues`` on K-fold out-of-sample
                       ``pred_probs``
``"simifeat"``         training-free cosine kNN label voting (Zhu et al. 2022), ``rank1`` / ``mv`` variants
``"cores"``            confidence-regularised sample sieve (Cheng et al. 2021)
=====================  ===================================================================================

    >>> import numpy as np
    >>> from labnoise.detect import find_noisy, f1_noisy
    >>> rng = np.random.default_rng(0)
    >>> clean = np.repeat([0, 1], 100); x = rng.normal(size=(200, 4)); x[:, 0] += 8 * clean - 4
    >>> y = clean.copy(); y[:20] = 1
    >>> res = find_noisy(y, x, method="simifeat", seed=0)
    >>> f1_noisy(res.is_noisy, y, clean) > 0.9
    True

The same detectors as scikit-learn-style estimators (``get_params``, ``fit(labels, features)``, fitted
``is_noisy_`` / ``score_``, ``NotFittedError`` before fit): ``DynaCor``, ``AvgEncoder``, ``AUM``,
``ConfidentLearning``, ``SimiFeat``, ``CORES`` (:mod:`labnoise.detect.estimators`).
"""
from __future__ import annotations

from ._base import DetectionResult, check_inputs, note_num_classes
from .aum import aum
from .avg_encoder import avg_encoder
from .compare import compare, compare_many
from .confident import confident_learning
from .cores import cores
from .dynacor import dynacor
from .metrics import f1_noisy, precision_recall_noisy
from .simifeat import simifeat

METHODS = {"dynacor": dynacor, "avg_encoder": avg_encoder, "aum": aum, "confident": confident_learning,
           "simifeat": simifeat, "cores": cores}

__all__ = ["find_noisy", "DetectionResult", "check_inputs", "f1_noisy", "precision_recall_noisy", "METHODS",
           "dynacor", "avg_encoder", "aum", "confident_learning", "simifeat", "cores", "compare", "compare_many",
           "DynaCor", "AvgEncoder", "AUM", "ConfidentLearning", "SimiFeat", "CORES", "ESTIMATORS"]

_ESTIMATOR_OF = {"dynacor": "DynaCor", "avg_encoder": "AvgEncoder", "aum": "AUM", "confident": "ConfidentLearning",
                 "simifeat": "SimiFeat", "cores": "CORES"}


def __getattr__(name):
    """The estimator classes load scikit-learn, so they are imported on first use (``labnoise.detect`` itself
    stays light for the runner); ``ESTIMATORS`` maps each method to its class."""
    import importlib
    if name not in _ESTIMATOR_OF.values() and name != "ESTIMATORS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    estimators = importlib.import_module(f"{__name__}.estimators")
    if name == "ESTIMATORS":
        return {m: getattr(estimators, c) for m, c in _ESTIMATOR_OF.items()}
    return getattr(estimators, name)


def _options_of(fn) -> set[str]:
    import inspect
    return {p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY}


def find_noisy(labels, features, *, method: str = "dynacor", flipped_features=None, seed: int = 0,
               **options) -> DetectionResult:
    """Flag examples whose given label is likely wrong.

    labels : int array (N,), values 0..K-1, the given (possibly noisy) labels.
    features : float array (N, D), frozen encoder features of the same N examples.
    method : {"dynacor", "avg_encoder", "aum", "confident", "simifeat", "cores"}
    flipped_features : optional float array (N, D), the same encoder's features of the horizontally flipped
        images; used by the detectors that take a second view (DynaCor's copies, one SimiFeat pass), validated
        and then not needed by the others.
    seed : int, controls every random choice of the detector.
    options : the detector's own keyword options (see each function), e.g. ``num_classes``, ``epochs``,
        ``precision``, ``device``; an option the detector does not have is an error. ``num_classes`` not given:
        K = the largest label + 1 (Confident Learning with ``pred_probs``: their width), and a class gap (a label
        of 12 in a 4-class set) is refused; ``result.settings["num_classes_source"]`` says which rule gave K.
    Returns a :class:`DetectionResult` with ``is_noisy`` (bool, N) and ``score`` (float, N; higher = more suspect).
    Invalid inputs (labels, features, ``pred_probs``) raise one ``ValueError`` before any work starts.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}.")
    fn = METHODS[method]
    known = _options_of(fn)
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"{method} has no option {', '.join(map(repr, unknown))}; its options are: "
                         f"{', '.join(sorted(known - {'seed', 'flipped_features'}))}.")
    if "flipped_features" in known:
        options["flipped_features"] = flipped_features
    elif flipped_features is not None:
        check_inputs(labels, features, num_classes=options.get("num_classes"), flipped_features=flipped_features)
    res = fn(labels, features, seed=seed, **options)
    return note_num_classes(res, labels, options.get("num_classes"), options.get("pred_probs"))
