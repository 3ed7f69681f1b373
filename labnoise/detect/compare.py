"""Run several detectors on one labelled set and score them (in this process or on a cluster).

Chapter 06's settings, paper tables, options-from-config and reading live in :mod:`labnoise.experiments.dynacor`;
this module knows no chapter."""
from __future__ import annotations

import time

from .metrics import f1_noisy, precision_recall_noisy

__all__ = ["compare", "compare_many"]


def compare(labels, features, clean_labels, *, methods, options=None, seed: int = 0, flipped_features=None,
            map_points: int = 0) -> dict:
    """Run ``methods`` on one labelled set; return ``{method: {"result", "f1", "precision", "recall",
    "seconds"}}``. Avg.Encoder reuses DynaCor's training margins of the originals when DynaCor runs first (one
    dynamics run, as in the paper's comparison); ``clean_labels`` only score the results and fill DynaCor's
    per-epoch true F1 history (never used for selection)."""
    from . import METHODS

    options = options or {}
    out = {}
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}; choose from: {', '.join(METHODS)}.")
        opts = dict(options.get(m, {}))
        if m in ("dynacor", "simifeat"):
            opts["flipped_features"] = flipped_features
        if m == "dynacor":
            opts.update(clean_labels=clean_labels, map_points=map_points)
        if m == "avg_encoder" and "dynacor" in out:
            opts["margins"] = out["dynacor"]["result"].extras["margins_originals"]
        t = time.perf_counter()
        res = METHODS[m](labels, features, seed=seed, **opts)
        p, r = precision_recall_noisy(res.is_noisy, labels, clean_labels)
        out[m] = {"result": res, "f1": f1_noisy(res.is_noisy, labels, clean_labels), "precision": p, "recall": r,
                  "seconds": time.perf_counter() - t}
    return out


def _compare_unit(data, methods, options, threads, unit):
    if threads:
        import torch
        torch.set_num_threads(int(threads))
    x, xf = data[unit["data"]]
    opts = {m: {**options.get(m, {}), **unit.get("options", {}).get(m, {})} for m in unit.get("methods", methods)}
    return compare(unit["labels"], x, unit["clean_labels"], methods=unit.get("methods", methods), options=opts,
                   seed=unit["seed"], flipped_features=xf, map_points=unit.get("map_points", 0))


def compare_many(features, units, *, methods, options=None, threads=None, workers=None, scheduler=None,
                 progress: bool = False) -> list[dict]:
    """:func:`compare` for each of ``units``, in this process or on a Dask cluster
    (:func:`labnoise.parallel.map_units`: ``workers=N``, ``scheduler=ADDRESS`` or ``labnoise run --workers N``).

    Parameters
    ----------
    features : dict
        ``{name: (features, flipped_features)}``, sent once to each worker (not once per unit).
    units : list of dict
        Each ``{"data": name, "labels", "clean_labels", "seed"}``, optionally ``"map_points"``, ``"methods"``
        (default ``methods``) and ``"options"`` (``{method: {option: value}}`` laid over ``options``).
    threads : int, optional
        torch CPU threads inside each unit (a worker process does not inherit the caller's setting).

    Every unit is seeded by its own ``seed``, so a cluster run returns what the sequential run returns, in the
    order of ``units``.
    """
    from functools import partial

    from ..parallel import map_units

    units = list(units)
    for i, u in enumerate(units):
        missing = {"data", "labels", "clean_labels", "seed"} - set(u)
        if missing:
            raise ValueError(f"unit {i} lacks {sorted(missing)}; each unit needs data, labels, clean_labels, seed.")
        if u["data"] not in features:
            raise ValueError(f"unit {i} names data {u['data']!r}, not one of {sorted(features)}.")
    fn = partial(_compare_unit, dict(features), list(methods), dict(options or {}), threads)
    return map_units(fn, units, workers=workers, scheduler=scheduler, desc="detector runs", progress=progress)
