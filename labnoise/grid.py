"""A small grid runner: methods x noise kinds x rates x seeds, one cached JSON file per cell.

    def cell(method, noise, rate, seed):
        ...train...
        return {"test_acc": 0.83}

    records = run_grid(cell, ["ce", "gce"], ["pmd", "cbn"], [0.35, 0.70], [0, 1, 2],
                       cache_dir="cache/03", params=cfg)
    table = summarize(records, "test_acc")     # table["gce"]["cbn"]["0.35"] == {"mean":..., "sd":..., "n": 3, "n_seeds": 3}
    print(format_table(table))

Each finished cell is written atomically to ``cache_dir/<method>__<noise>__<rate>__s<seed>.json``, so an
interrupted grid resumes where it stopped; a cell is reused only if the ``params`` it was computed with (a
JSON-able dict, fingerprinted) are the same as now. Failed cells raise and are not cached.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ._io import save_json
from .stats import mean_sd, mean_sd_text
from .cache import read_json_object
from ._torch import with_precision

__all__ = ["run_grid", "summarize", "format_table", "cell_path", "rate_key", "to_frame"]


def rate_key(rate) -> str:
    """The string key of a rate in tables and JSON: ``0.35 -> "0.35"``, ``0.7 -> "0.7"``."""
    return f"{float(rate):g}"


def _fingerprint(params) -> str:
    blob = json.dumps(params if params is not None else {}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cell_path(cache_dir, method, noise, rate, seed) -> Path:
    name = f"{method}__{noise}__{rate_key(rate)}__s{int(seed)}"
    return Path(cache_dir) / (re.sub(r"[^A-Za-z0-9_.+-]", "_", name) + ".json")


def run_grid(fn: Callable, methods: Iterable, noises: Iterable, rates: Iterable, seeds: Iterable, *,
             cache_dir=None, params=None, overwrite: bool = False, progress: bool = True) -> list[dict]:
    """Run ``fn(method, noise, rate, seed) -> dict`` over the grid, caching each cell.

    Parameters
    ----------
    fn : callable returning a JSON-able dict of metrics for one cell.
    methods, noises, rates, seeds : the grid axes (methods and noises are names; rates floats; seeds ints).
    cache_dir : folder for the per-cell JSON files; ``None`` disables caching.
    params : JSON-able settings shared by all cells; cached cells computed with other params are recomputed.
    overwrite : recompute every cell.
    progress : tqdm bar over cells.

    Returns
    -------
    list of records ``{"method", "noise", "rate", "seed", "metrics", "seconds", "cached"}`` in grid order.
    """
    cells = [(m, n, float(r), int(s)) for m in methods for n in noises for r in rates for s in seeds]
    if not cells:
        raise ValueError("the grid is empty; pass at least one method, noise kind, rate and seed.")
    fp = _fingerprint(params)
    return _run_cells(fn, [(c, fp) for c in cells], cache_dir=cache_dir, overwrite=overwrite, progress=progress)


def _run_cells(fn, cells_fp, *, cache_dir, overwrite, progress) -> list[dict]:
    """Load each cached cell whose fingerprint matches; run the others through :func:`labnoise.parallel.map_units`
    (in this process, or on a Dask cluster when one is configured: same results)."""
    recs, todo = [None] * len(cells_fp), []
    for j, ((m, n, r, s), fp) in enumerate(cells_fp):
        path = cell_path(cache_dir, m, n, r, s) if cache_dir is not None else None
        if path is not None and path.exists() and not overwrite:
            # an unreadable cell file (truncated, not a JSON object, no metrics) is a miss: the cell is recomputed
            old = read_json_object(path, required=("fingerprint", "metrics"))
            if old is not None and old["fingerprint"] == fp and isinstance(old["metrics"], dict):
                old["cached"] = True
                recs[j] = old
                continue
        todo.append((j, path))
    if todo:
        from functools import partial

        from .parallel import map_units

        # each cell writes its own cache file as soon as it is done (an interrupted grid resumes from there)
        done = map_units(partial(_run_cell, fn), [(*cells_fp[j][0], cells_fp[j][1], path) for j, path in todo],
                         desc="grid", progress=progress)
        for (j, _), rec in zip(todo, done):
            recs[j] = rec
    return recs


def _run_cell(fn, m, n, r, s, fp, path):
    t = time.perf_counter()
    metrics = fn(m, n, r, s)
    if not isinstance(metrics, dict):
        raise ValueError(f"the cell function must return a dict of metrics, got {type(metrics).__name__}.")
    rec = {"method": m, "noise": n, "rate": r, "seed": s, "metrics": metrics,
           "seconds": round(time.perf_counter() - t, 3), "fingerprint": fp}
    if path is not None:
        save_json(path, rec)
    rec["cached"] = False
    return rec


def summarize(records: list[dict], metric: str = "test_acc") -> dict:
    """``table[method][noise][rate_key] = {"mean", "sd", "n", "n_seeds"}`` over seeds, by
    :func:`labnoise.stats.mean_sd` (sd: sample sd, ddof=1; None for a single seed, which has no spread);
    ``n_seeds`` repeats ``n``. Records whose metric is missing or None are skipped."""
    groups: dict = {}
    for rec in records:
        v = rec["metrics"].get(metric)
        if v is None:
            continue
        groups.setdefault(rec["method"], {}).setdefault(rec["noise"], {}).setdefault(rate_key(rec["rate"]), []).append(float(v))
    table: dict = {}
    for m, by_noise in groups.items():
        for n, by_rate in by_noise.items():
            for r, vals in by_rate.items():
                cell = mean_sd(vals)
                table.setdefault(m, {}).setdefault(n, {})[r] = {**cell, "n_seeds": cell["n"]}
    return table


def format_table(table: dict, scale: float = 100.0, digits: int = 2, reference: dict | None = None) -> str:
    """A markdown table: one row per method, one column per (noise, rate), cells ``mean ± sd`` (the ``±`` only
    where a cell has two or more seeds).

    ``reference`` (same nesting, plain numbers, already in display units) adds a "paper" value per cell.
    """
    cols = sorted({(n, r) for m in table for n in table[m] for r in table[m][n]}, key=lambda c: (c[1], c[0]))
    head = "| method | " + " | ".join(f"{n} {float(r):.0%}" for n, r in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 1)]
    for m in table:
        cells = []
        for n, r in cols:
            c = table[m].get(n, {}).get(r)
            s = "" if c is None else mean_sd_text(c["mean"], c["sd"], c["n_seeds"], scale=scale, digits=digits)
            ref = (reference or {}).get(m, {}).get(n, {}).get(r)
            if ref is not None:
                s += f" (paper {ref:.{digits}f})"
            cells.append(s)
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_frame(records: list[dict]):
    """Records as a pandas DataFrame (one row per cell, metrics flattened); needs pandas."""
    import pandas as pd
    rows = [{"method": r["method"], "noise": r["noise"], "rate": r["rate"], "seed": r["seed"],
             "seconds": r.get("seconds"), **{k: v for k, v in r["metrics"].items() if not isinstance(v, (list, dict))}}
            for r in records]
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------------------
# learning with noisy labels over a grid of label sets
# ----------------------------------------------------------------------------------------------------------
#: extra method names understood by :func:`lnl_cell` besides :data:`labnoise.methods.METHOD_NAMES`
DIFFUSION_METHODS = ("lra_diffusion", "lra_snls")


def lnl_cell(method: str, x, labels, *, x_test, y_test, clean_labels=None, rate=None, model="mlp",
             train_kwargs: dict | None = None, lra_kwargs: dict | None = None, snls_kwargs: dict | None = None,
             neighbors=None, features=None, features_test=None, seed: int = 0, device="auto",
             precision: str | None = None) -> dict:
    """Train one method on ``(x, labels)`` (the given, possibly noisy labels) and report test accuracy of the *last* epoch (no test-set selection).

    ``method``: a name of :data:`labnoise.methods.METHOD_NAMES` (trained with :func:`labnoise.train.fit`,
    Co-teaching(+) given ``noise_rate=rate``), ``"lra_diffusion"`` (LRA-Diffusion on features, labels retrieved
    from the neighbours) or ``"lra_snls"`` (LRA-Diffusion trained on SNLS soft targets); the two diffusion
    methods need float features: ``features``/``features_test`` when given (e.g. CLIP features while the
    other methods train on pixels), else ``x``/``x_test``; they use ``neighbors`` (an (N, >= k) kNN table of
    those features) when given.

    ``precision``: ``"fp32"``, ``"bf16"`` or ``"auto"`` (:func:`labnoise._torch.resolve_precision`) for every
    learner of the cell; ``None`` keeps each learner's default (:func:`labnoise.train.fit`: fp32;
    :class:`~labnoise.methods.lra_diffusion.LRADiffusion`: its ``precision`` in ``lra_kwargs``, default auto).

    Returns a JSON-able dict: ``test_acc``, ``train_acc_clean`` (when ``clean_labels`` is given and the method reports
    it), ``test_acc_curve`` (per epoch, when available) and ``seconds``.
    """
    import time

    t0 = time.perf_counter()
    if method in DIFFUSION_METHODS:
        from .methods.lra_diffusion import LRADiffusion
        x = x if features is None else features
        x_test = x_test if features_test is None else features_test
        from .methods.snls import snls_targets
        kw = with_precision(lra_kwargs, precision, name="lra_kwargs")
        k = int(kw.get("k", 10))
        nb = None if neighbors is None else neighbors[:, :max(k, 1)]
        lra = LRADiffusion(seed=seed, device=device, progress=False, **kw)
        if method == "lra_snls":
            skw = dict(snls_kwargs or {})
            ks = int(skw.get("k", 100))
            tgt = snls_targets(x, labels, device=device,
                               neighbors=None if neighbors is None or neighbors.shape[1] < ks else neighbors[:, :ks],
                               **skw)
            lra.fit(x, tgt)
        else:
            lra.fit(x, labels, neighbors=nb if nb is not None and nb.shape[1] >= k else None)
        return {"test_acc": float(lra.score(x_test, y_test)), "seconds": round(time.perf_counter() - t0, 2),
                "precision": lra.precision_}

    from .methods import get_method
    from .train import fit
    m = get_method(method, noise_rate=rate) if method.startswith("coteaching") else get_method(method)
    tkw = with_precision(train_kwargs, precision, name="train_kwargs")
    res = fit(model, x, labels, method=m, x_test=x_test, y_test=y_test, clean_labels=clean_labels, seed=seed,
              device=device, progress=False, **tkw)
    out = {"test_acc": res.final["test_acc"], "seconds": round(time.perf_counter() - t0, 2),
           "test_acc_curve": [r.get("test_acc") for r in res.history], "precision": res.precision}
    if "train_acc_clean" in res.final:
        out["train_acc_clean"] = res.final["train_acc_clean"]
    if "plc_label_acc" in res.final:
        out["plc_label_acc"] = res.final["plc_label_acc"]
    return out


def _jsonable(v) -> bool:
    try:
        json.dumps(v, sort_keys=True)
        return True
    except (TypeError, ValueError):
        return False


def run_lnl_grid(x, label_sets: dict, methods, seeds, *, x_test, y_test, clean_labels=None, cache_dir=None,
                 params=None, method_params: dict | None = None, progress: bool = True,
                 precision: str | None = None, **cell_kwargs) -> list[dict]:
    """:func:`run_grid` over ``methods x label_sets x seeds`` with :func:`lnl_cell`.

    ``label_sets`` maps ``(noise_name, rate) -> noisy labels`` (e.g. ``{("pmd", 0.35): y1, ("cbn", 0.35): y2}``);
    ``cell_kwargs`` go to :func:`lnl_cell` (``model``, ``train_kwargs``, ``lra_kwargs``, ``neighbors``, ...).
    Only the cells whose label set exists are run (a missing combination is skipped, not faked). The cache
    fingerprint of each cell includes ``params``, a hash of its noisy labels and ``method_params[method]``
    (settings that concern one method only, so that changing them does not retrain the others).
    ``precision`` goes to every :func:`lnl_cell` and is part of every cell's key (a bf16 cell is never
    reused for an fp32 run, nor the other way round).
    """
    noises = sorted({k[0] for k in label_sets}, key=lambda n: list(dict.fromkeys(k[0] for k in label_sets)).index(n))
    rates = sorted({float(k[1]) for k in label_sets})
    keyed = {(n, float(r)): v for (n, r), v in label_sets.items()}

    def fn(method, noise, rate, seed):
        return lnl_cell(method, x, keyed[(noise, rate)], x_test=x_test, y_test=y_test, clean_labels=clean_labels,
                        rate=rate,
                        seed=seed, precision=precision, **cell_kwargs)

    # The cell key covers everything a cell receives: the arrays by content, every keyword of lnl_cell
    # (model, training/LRA/SNLS settings, neighbour table, side features, device), the shared params, the
    # package version. Hashes of the big arrays are computed once per call, not once per cell.
    from . import __version__
    from ._io import content_hash

    def _id(a):
        return None if a is None else content_hash(np.asarray(a), length=16)

    inputs = {"x": _id(x), "x_test": _id(x_test), "y_test": _id(y_test), "clean_labels": _id(clean_labels),
              "labnoise": __version__, "precision": precision}
    kw_key = {}
    for name, val in sorted(cell_kwargs.items()):
        is_array = hasattr(val, "shape") and hasattr(val, "dtype")
        kw_key[name] = _id(val) if is_array else (val if _jsonable(val) else repr(val))
    cells_fp = []
    for noise in noises:
        for rate in rates:
            if (noise, rate) not in keyed:
                continue
            lab = np.ascontiguousarray(np.asarray(keyed[(noise, rate)], dtype=np.int64))
            for method in methods:
                cell_params = {"params": params, "labels_sha256": hashlib.sha256(lab.tobytes()).hexdigest()[:16],
                               "n_train": int(len(lab)), "inputs": inputs, "cell_kwargs": kw_key}
                extra = (method_params or {}).get(method)
                if extra:
                    cell_params["method_params"] = extra
                fp = _fingerprint(cell_params)
                cells_fp += [((method, noise, rate, int(s)), fp) for s in seeds]
    if not cells_fp:
        raise ValueError("the grid is empty; pass at least one method, label set and seed.")
    recs = _run_cells(fn, cells_fp, cache_dir=cache_dir, overwrite=False, progress=progress)
    order = {m: i for i, m in enumerate(methods)}
    recs.sort(key=lambda r: (order[r["method"]], noises.index(r["noise"]), r["rate"], r["seed"]))
    return recs
