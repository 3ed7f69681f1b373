"""scikit-learn-style estimators around the detector functions: ``DynaCor``, ``AvgEncoder``, ``AUM``,
``ConfidentLearning``, ``SimiFeat``, ``CORES``.

Each class's constructor takes exactly the function's keyword options (``seed`` included) and stores them
unchanged, so ``get_params`` / ``set_params`` / ``sklearn.base.clone`` work; ``fit(labels, features, ...)`` runs
the detector and sets the fitted attributes with a trailing underscore: ``is_noisy_`` (bool, N), ``score_``
(float, N), ``result_`` (the :class:`~labnoise.detect.DetectionResult`), ``n_features_in_``, ``num_classes_`` (K;
``result_.settings["num_classes_source"]`` says whether it was given or inferred). The data-like
inputs -- ``flipped_features``, ``clean_labels``, DynaCor's ``dynamics``, Avg.Encoder's ``margins``, Confident
Learning's ``pred_probs`` -- are ``fit`` arguments, not parameters. Before ``fit``, :meth:`label_issues` raises
``sklearn.exceptions.NotFittedError``.

    >>> import numpy as np
    >>> from labnoise.detect import SimiFeat
    >>> rng = np.random.default_rng(0)
    >>> clean = np.repeat([0, 1], 100); x = rng.normal(size=(200, 4)); x[:, 0] += 8 * clean - 4
    >>> y = clean.copy(); y[:20] = 1
    >>> det = SimiFeat(k=10, seed=0).fit(y, x)
    >>> det.get_params()["k"], int(det.is_noisy_.sum()) > 0
    (10, True)
"""
from __future__ import annotations

import inspect

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._base import note_num_classes
from .aum import aum
from .avg_encoder import avg_encoder
from .confident import confident_learning
from .cores import cores
from .dynacor import dynacor
from .simifeat import simifeat

__all__ = ["DynaCor", "AvgEncoder", "AUM", "ConfidentLearning", "SimiFeat", "CORES"]

#: inputs that are data of one labelled set (``fit`` arguments), not options of the detector
FIT_INPUTS = ("flipped_features", "clean_labels", "dynamics", "margins", "pred_probs")


class _Detector(BaseEstimator):
    _method: str = ""
    _fn = None

    def fit(self, labels, features, **fit_inputs):
        """Run the detector on ``labels`` (N,) and ``features`` (N, D); ``fit_inputs``: the detector's data-like
        inputs among :data:`FIT_INPUTS` (e.g. ``flipped_features``). Returns ``self``."""
        allowed = set(FIT_INPUTS) & set(inspect.signature(type(self)._fn).parameters)
        bad = sorted(set(fit_inputs) - allowed)
        if bad:
            raise ValueError(f"{type(self).__name__}.fit takes no {', '.join(map(repr, bad))}; its data inputs are: "
                             f"{', '.join(sorted(allowed)) or 'none besides labels and features'}.")
        params = self.get_params()
        res = type(self)._fn(labels, features, **fit_inputs, **params)
        note_num_classes(res, labels, params.get("num_classes"), fit_inputs.get("pred_probs"))
        self.num_classes_ = res.settings["num_classes"]
        self.result_ = res
        self.is_noisy_ = res.is_noisy
        self.score_ = res.score
        self.n_features_in_ = int(np.asarray(features).shape[1])
        return self

    def fit_predict(self, labels, features, **fit_inputs) -> np.ndarray:
        """``fit`` and return ``is_noisy_``."""
        return self.fit(labels, features, **fit_inputs).is_noisy_

    def label_issues(self) -> np.ndarray:
        """Indices of the flagged examples, most suspect first (cleanlab's ``return_indices_ranked_by``)."""
        check_is_fitted(self, "is_noisy_")
        idx = np.flatnonzero(self.is_noisy_)
        return idx[np.argsort(-self.score_[idx], kind="stable")]


def _estimator(name: str, fn, method: str, summary: str):
    """A ``_Detector`` subclass whose ``__init__`` signature is ``fn``'s keyword options (what ``get_params``
    reads), each stored unchanged."""
    params = [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
              for p in inspect.signature(fn).parameters.values()
              if p.kind is p.KEYWORD_ONLY and p.name not in FIT_INPUTS]
    names = [p.name for p in params]

    def __init__(self, **options):
        bad = sorted(set(options) - set(names))
        if bad:
            raise TypeError(f"{name} has no parameter {', '.join(map(repr, bad))}; its parameters are: "
                            f"{', '.join(names)}.")
        for p in params:
            setattr(self, p.name, options.get(p.name, p.default))

    __init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] + params)
    doc = (f"{summary}\n\nA scikit-learn-style wrapper of :func:`labnoise.detect.{fn.__name__}`; parameters: "
           f"{', '.join(names)} (see that function). Fitted: ``is_noisy_``, ``score_``, ``result_``, "
           "``n_features_in_``.")
    return type(name, (_Detector,), {"__init__": __init__, "__doc__": doc, "_method": method,
                                     "_fn": staticmethod(fn), "__module__": __name__})


DynaCor = _estimator("DynaCor", dynacor, "dynacor", "DynaCor: corrupted copies, sign dynamics, clustering encoder.")
AvgEncoder = _estimator("AvgEncoder", avg_encoder, "avg_encoder", "Avg.Encoder: 1-D GMM on the mean margin.")
AUM = _estimator("AUM", aum, "aum", "AUM: area under the margin with threshold examples.")
ConfidentLearning = _estimator("ConfidentLearning", confident_learning, "confident",
                               "Confident Learning (cleanlab) on K-fold out-of-sample pred_probs.")
SimiFeat = _estimator("SimiFeat", simifeat, "simifeat", "SimiFeat: training-free kNN label voting.")
CORES = _estimator("CORES", cores, "cores", "CORES: the confidence-regularised sample sieve.")
