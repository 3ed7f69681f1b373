"""Run several detectors on one labelled set and score them; the DynaCor paper's Table 1 for reference."""
from __future__ import annotations

import time

import numpy as np

from .metrics import f1_noisy, precision_recall_noisy

__all__ = ["compare", "compare_many", "detector_options", "analysis", "PAPER_TABLE1", "PAPER_AVERAGE", "summarise",
           "parse_setting",
           "setting_labels"]

#: The DynaCor paper's Table 1 (CLIP ViT-B/32 + MLP), DynaCor's F1 in %, per setting.
PAPER_TABLE1 = {"cifar10/sym-0.6": 98.0, "cifar10/asym-0.3": 94.0, "cifar10/inst-0.4": 92.3,
                "cifar10n/aggre": 79.6, "cifar10n/worse": 92.3, "cifar100/sym-0.6": 94.3,
                "cifar100/asym-0.3": 76.3, "cifar100/inst-0.4": 81.7, "cifar100n/noisy": 80.4}
#: The paper's average F1 (%) over its Table 1 settings, per method.
PAPER_AVERAGE = {"dynacor": 87.7, "aum": 83.7, "confident": 81.5, "cores": 50.9, "simifeat": 84.6,
                 "avg_encoder": 77.6}


def detector_options(cfg) -> dict[str, dict]:
    """Each detector's keyword options from a chapter config (``profiles.config("06_dynacor", ...)``).
    The training detectors get ``precision`` = the config's ``precision`` when it has one, else ``"auto"``."""
    prec = {"precision": cfg.get("precision") or "auto"}
    mlp = {"hidden": tuple(cfg["hidden"]), "lr": cfg["lr"], "batch_size": cfg["batch_size"],
           "epochs": cfg["epochs"], **prec}
    return {"dynacor": {**mlp, "corruption_rate": cfg["corruption_rate"], "encoder_epochs": cfg["encoder_epochs"],
                        "encoder_lr": cfg["encoder_lr"], "encoder_weight_decay": cfg["encoder_weight_decay"],
                        "encoder_batch_size": cfg["encoder_batch_size"], "embed_dim": cfg["embed_dim"],
                        "alpha": cfg["alpha"], "distance": cfg["distance"]},
            "avg_encoder": dict(mlp), "aum": {**mlp, "percentile": cfg["aum_percentile"]},
            "confident": {"folds": cfg["cl_folds"], "model": cfg["cl_model"], "epochs": cfg["cl_epochs"],
                          "lr": cfg["lr"], "batch_size": cfg["batch_size"], **prec},
            "simifeat": {"k": cfg["simifeat_k"], "passes": cfg["simifeat_passes"],
                         "variant": cfg["simifeat_variant"]},
            "cores": {**mlp, "epochs": cfg["cores_epochs"]}}


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


def summarise(values) -> dict:
    """``{"mean", "sd"}`` of a list (sd None for a single value)."""
    v = np.asarray(values, dtype=float)
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else None, "n": int(v.size)}


def parse_setting(setting: str) -> tuple[str, str, float | None]:
    """``"cifar10/sym-0.6"`` -> ``("cifar10", "sym", 0.6)``; ``"cifar10n/aggre"`` -> ``("cifar10n", "aggre", None)``."""
    try:
        data, noise_name = setting.split("/")
    except ValueError:
        raise ValueError(f"setting {setting!r} must look like 'cifar10/sym-0.6' or 'cifar10n/aggre'.") from None
    if "-" in noise_name:
        kind, rate = noise_name.split("-", 1)
        if kind not in ("sym", "asym", "inst"):
            raise ValueError(f"unknown noise {kind!r} in {setting!r}; choose sym, asym (pair flip) or inst.")
        return data, kind, float(rate)
    return data, noise_name, None


def setting_labels(setting: str, clean_labels, features, *, num_classes: int, seed: int = 0, root=None):
    """The (noisy labels, clean labels) of one setting: generated sym / asym (pair flip i -> i + 1) / inst
    (Xia et al.) noise on ``clean_labels``, or a CIFAR-N human label set (``cifar10n/aggre``, ``cifar10n/worse``,
    ``cifar100n/noisy``), whose clean labels replace ``clean_labels``."""
    from .. import noise

    data, kind, rate = parse_setting(setting)
    if rate is None:
        nr = noise.human("cifar10n" if data == "cifar10n" else "cifar100n", kind, root=root)
    elif kind == "sym":
        nr = noise.symmetric(clean_labels, rate, num_classes=num_classes, seed=seed)
    elif kind == "asym":
        nr = noise.pairflip(clean_labels, rate, num_classes=num_classes, seed=seed)
    else:
        nr = noise.instance_dependent(features, clean_labels, rate, seed=seed, num_classes=num_classes)
    return np.asarray(nr.noisy_labels), np.asarray(nr.clean_labels), float(nr.realised_rate)


_NAMES = {"dynacor": "DynaCor", "avg_encoder": "Avg.Encoder", "aum": "AUM", "confident": "Confident Learning",
          "simifeat": "SimiFeat", "cores": "CORES"}


def analysis(metrics: dict, *, encoder: str | None = None, encoder_lr: float | None = None) -> list[str]:
    """Chapter 06's reading of its own run: sentences generated only from ``metrics`` (a chapter-06
    results.json's ``metrics``), so the page and the "Results at a glance" page never state a number or a
    verdict the run did not compute. Empty when the run lacks DynaCor."""
    f1, avg = metrics.get("f1") or {}, metrics.get("avg_f1") or {}
    if "dynacor" not in f1 or len(avg) < 2:
        return []
    pc = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    out = []
    settings = list(f1["dynacor"])
    base = [m for m in f1 if m != "dynacor"]
    wins = [s for s in settings if all(f1["dynacor"][s]["mean"] > f1[m][s]["mean"] for m in base)]
    best = max(base, key=lambda m: avg[m])
    holds = avg["dynacor"] > avg[best]
    out.append(f"The paper's claim {'holds' if holds else 'does not hold'} in this run: DynaCor's average F1 is "
               f"{pc(avg['dynacor'])} against {pc(avg[best])} for the best baseline ({_NAMES.get(best, best)}); "
               f"DynaCor is the best detector in {len(wins)} of {len(settings)} settings"
               + (f" ({', '.join(wins)})." if wins else "."))
    paper = [(s, PAPER_TABLE1[s]) for s in settings if s in PAPER_TABLE1]
    if paper:
        gap = float(np.mean([100 * f1["dynacor"][s]["mean"] - p for s, p in paper]))
        out.append(f"Against the paper's Table 1 on the same {len(paper)} settings, our DynaCor F1 is {gap:+.1f} "
                   "points on average" + (f"; the paper used CLIP ViT-B/32 features, this run {encoder}."
                                          if encoder and encoder != "clip" else "."))
    sel = metrics.get("selection") or {}
    if sel:
        e = sel.get("selected_epoch")
        lr = f" at the encoder learning rate {encoder_lr:g}" if encoder_lr is not None else ""
        if e == 0:
            out.append(f"Eq. 9 kept encoder epoch 0, the untrained encoder{lr}: no training epoch raised the "
                       f"label-free metric above its starting value, so DynaCor's flags come from the two initial centres "
                       f"(F1 {pc(sel['f1_selected'])}; the best trained epoch in hindsight {pc(sel['f1_best_epoch'])}).")
        elif e is not None:
            out.append(f"Eq. 9 kept encoder epoch {e}{lr} (F1 {pc(sel['f1_selected'])}); the best trained epoch in "
                       f"hindsight reaches {pc(sel['f1_best_epoch'])} and the untrained encoder {pc(sel['f1_before_training'])}.")
    al = (metrics.get("alpha_sweep") or {}).get("results") or {}
    if al:
        a_best = max(al, key=lambda a: al[a]["f1_selected"])
        spread = max(v["f1_selected"] for v in al.values()) - min(v["f1_selected"] for v in al.values())
        out.append(f"The alignment weight {'barely matters' if spread < 0.01 else 'matters'} on "
                   f"{metrics['alpha_sweep'].get('setting')}: F1 at the label-free epoch "
                   + ", ".join(f"alpha {a}: {pc(v['f1_selected'])}" for a, v in al.items())
                   + f" (best alpha {a_best}).")
    gs = (metrics.get("gamma_sweep") or {}).get("f1") or {}
    if gs:
        g_best = max(gs, key=lambda g: gs[g]["mean"])
        out.append(f"Over the corruption rates {', '.join(gs)}, DynaCor's F1 is highest at gamma = {g_best} "
                   f"({pc(gs[g_best]['mean'])}).")
    fl, rates = metrics.get("flagged_fraction") or {}, metrics.get("realised_noise_rate") or {}
    over = [(m, s, fl[m][s], rates[s]) for m in fl for s in fl[m] if s in rates and fl[m][s] > 1.25 * rates[s]
            and fl[m][s] > rates[s] + 0.1]
    if over:
        out.append("Flagging far more than the noise rate buys recall with precision: " + "; ".join(
            f"{_NAMES.get(m, m)} flags {pc(v)} of {s} (noise {pc(r)})" for m, s, v, r in over[:6])
            + ("; ..." if len(over) > 6 else "") + ".")
    return out

