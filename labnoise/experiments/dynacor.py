"""Chapter 06's driver: DynaCor against five detectors on the same labelled sets, and what the run says.

The algorithms live in :mod:`labnoise.detect` (nothing there imports this module); here are the chapter's
settings (``"cifar10/sym-0.6"``-style names and their labels), the detectors' options from a chapter config, the
comparison loop (one :func:`labnoise.detect.compare_many` call, the corruption-rate sweep included), the
metrics and tables built from it, the figures, the encoder sweeps that reuse one run's dynamics, the papers'
numbers quoted as theirs, and the generated reading (:func:`analysis`), which the "Results at a glance" page
repeats. Every sentence and table here is computed from a run's metrics.
"""
from __future__ import annotations

import warnings

import numpy as np

__all__ = ["PAPER_TABLE1", "PAPER_AVERAGE", "PAPER_SIMIFEAT", "NAMES", "DATASET_OF", "parse_setting",
           "setting_labels", "summarise", "detector_options", "norm_reading", "load_features", "run_comparison",
           "comparison_metrics", "selection_summary", "encoder_sweep", "f1_table", "flagged_table",
           "distance_table", "selection_table", "sweep_table", "plot_signs", "plot_map", "plot_selection",
           "plot_gamma", "analysis"]

#: The DynaCor paper's Table 1 (CLIP ViT-B/32 + MLP), DynaCor's F1 in %, per setting.
PAPER_TABLE1 = {"cifar10/sym-0.6": 98.0, "cifar10/asym-0.3": 94.0, "cifar10/inst-0.4": 92.3,
                "cifar10n/aggre": 79.6, "cifar10n/worse": 92.3, "cifar100/sym-0.6": 94.3,
                "cifar100/asym-0.3": 76.3, "cifar100/inst-0.4": 81.7, "cifar100n/noisy": 80.4}
#: The DynaCor paper's two SimiFeat rows (average F1 %): the rank variant (SimiFeat-R, what ``variant="rank1"``
#: runs) and the vote variant (SimiFeat-V, ``variant="mv"``).
PAPER_SIMIFEAT = {"rank1": ("SimiFeat-R", 84.7), "mv": ("SimiFeat-V", 84.6)}
#: The paper's average F1 (%) over its Table 1 settings, per method; SimiFeat's is the rank variant's
#: (SimiFeat-R), the one chapter 06 runs.
PAPER_AVERAGE = {"dynacor": 87.7, "aum": 83.7, "confident": 81.5, "cores": 50.9, "simifeat": PAPER_SIMIFEAT["rank1"][1],
                 "avg_encoder": 77.6}
#: display names
NAMES = {"dynacor": "DynaCor", "avg_encoder": "Avg.Encoder", "aum": "AUM", "confident": "Confident Learning",
         "simifeat": "SimiFeat", "cores": "CORES"}
#: the dataset whose features a setting's data name uses
DATASET_OF = {"digits": "digits", "cifar10": "cifar10", "cifar10n": "cifar10", "cifar100": "cifar100",
              "cifar100n": "cifar100"}


def _pc(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


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
    """The (noisy labels, clean labels, realised rate) of one setting: generated sym / asym (pair flip
    i -> i + 1) / inst (Xia et al.) noise on ``clean_labels``, or a CIFAR-N human label set (``cifar10n/aggre``,
    ``cifar10n/worse``, ``cifar100n/noisy``), whose clean labels replace ``clean_labels``."""
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


def summarise(values) -> dict:
    """``{"mean", "sd", "n"}`` of a list (sd None for a single value): :func:`labnoise.stats.mean_sd`."""
    from ..stats import mean_sd
    return mean_sd(values)


def _cell(d) -> str:
    """``mean ± sd`` in %, the ``±`` only with two or more values."""
    return _pc(d["mean"]) + (f" ± {100 * d['sd']:.1f}" if d.get("sd") is not None and d.get("n", 0) > 1 else "")


def detector_options(cfg, *, device=None) -> dict[str, dict]:
    """Each detector's keyword options from a chapter config (``profiles.config("06_dynacor", ...)``).

    The training detectors share the classifier (``hidden``, ``lr``, ``batch_size``, ``epochs``) and get
    ``precision`` = the config's ``precision`` when it has one, else ``"auto"``, and ``device`` (default: the
    config's, ``"auto"`` read as cpu); SimiFeat trains nothing and takes no device."""
    dev = device or cfg.get("device") or "cpu"
    dev = "cpu" if dev == "auto" else dev
    run = {"precision": cfg.get("precision") or "auto", "device": dev}
    mlp = {"hidden": tuple(cfg["hidden"]), "lr": cfg["lr"], "batch_size": cfg["batch_size"],
           "epochs": cfg["epochs"], **run}
    dyn = {k: cfg[k] for k in ("corruption_rate", "encoder_epochs", "encoder_lr", "encoder_weight_decay",
                               "encoder_batch_size", "embed_dim", "alpha", "distance") if k in cfg}
    dyn.update({k: cfg[k] for k in ("target", "holdout", "selection_over") if cfg.get(k) is not None})
    return {"dynacor": {**mlp, **dyn}, "avg_encoder": dict(mlp), "aum": {**mlp, "percentile": cfg["aum_percentile"]},
            "confident": {"folds": cfg["cl_folds"], "model": cfg["cl_model"], "epochs": cfg["cl_epochs"],
                          "lr": cfg["lr"], "batch_size": cfg["batch_size"], **run},
            "simifeat": {"k": cfg["simifeat_k"], "passes": cfg["simifeat_passes"],
                         "variant": cfg["simifeat_variant"]},
            "cores": {**mlp, "epochs": cfg["cores_epochs"]}}


def load_features(cfg) -> dict:
    """``{dataset: (features, flipped_features, clean_labels, num_classes)}`` for the config's settings."""
    from .. import data, features

    out = {}
    for s in cfg.settings:
        name = DATASET_OF[parse_setting(s)[0]]
        if name not in out:
            ds = data.load_dataset(name, root=cfg.data_root)
            x = features.embed(ds, "train", cfg.encoder, root=cfg.data_root, device=cfg.device)
            xf = features.embed(ds, "train", cfg.encoder, flip=True, root=cfg.data_root, device=cfg.device)
            out[name] = (x, xf, np.asarray(ds.train_labels), ds.num_classes)
    return out


def run_comparison(cfg, feats: dict, options: dict, *, progress: bool = False) -> dict:
    """Every detector on every setting and seed, plus DynaCor at each other corruption rate of ``cfg.gammas``
    on the first setting, in one :func:`labnoise.detect.compare_many` call.

    Returns ``{"runs": {(setting, seed): {method: compare-entry}}, "labels": {setting: (noisy, clean)},
    "rates": {setting: realised rate}, "gamma_f1": {(gamma, seed): F1}}``.
    """
    from ..detect import compare_many

    labels, rates = {}, {}
    for s in cfg.settings:
        x, _, clean0, K = feats[DATASET_OF[parse_setting(s)[0]]]
        *labels[s], rates[s] = setting_labels(s, clean0, x, num_classes=K, seed=cfg.noise_seed, root=cfg.data_root)
    keys = [(s, sd) for s in cfg.settings for sd in cfg.seeds]
    units = [{"data": DATASET_OF[parse_setting(s)[0]], "labels": labels[s][0], "clean_labels": labels[s][1],
              "seed": sd, "map_points": cfg.map_points if (s, sd) == keys[0] else 0} for s, sd in keys]
    gammas = [g for g in cfg.gammas if float(g) != float(cfg.corruption_rate)] if "dynacor" in cfg.methods else []
    gkeys = [(g, sd) for g in gammas for sd in cfg.seeds]
    units += [{**units[0], "seed": sd, "map_points": 0, "methods": ["dynacor"],
               "options": {"dynacor": {"corruption_rate": g}}} for g, sd in gkeys]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = compare_many({k: v[:2] for k, v in feats.items()}, units, methods=cfg.methods, options=options,
                           threads=cfg.threads, progress=progress)
    return {"runs": dict(zip(keys, out[:len(keys)])), "labels": labels, "rates": rates,
            "gamma_f1": {k: r["dynacor"]["f1"] for k, r in zip(gkeys, out[len(keys):])}}


def _f1(flag, noisy, clean) -> float:
    from ..detect import f1_noisy
    return f1_noisy(np.asarray(flag), noisy, clean)


def _norm_summary(hists) -> dict:
    """Mean over runs of the embeddings' mean norm, the centres' norms and the number flagged, before training
    and at the last encoder epoch (empty for histories recorded without norms)."""
    if not hists or "embedding_norm" not in hists[0][0]:
        return {}
    at = lambda i, key: float(np.mean([h[i][key] for h in hists]))  # noqa: E731
    cn = lambda i: [float(np.mean([h[i]["centre_norms"][j] for h in hists])) for j in (0, 1)]  # noqa: E731
    return {"norms": {"embedding_before": at(0, "embedding_norm"), "embedding_last": at(-1, "embedding_norm"),
                      "embedding_max": float(np.mean([max(v["embedding_norm"] for v in h) for h in hists])),
                      "centres_before": cn(0), "centres_last": cn(-1),
                      "centre_cosine_last": at(-1, "centre_cosine"),
                      "flagged_before": at(0, "flagged"), "flagged_last": at(-1, "flagged")}}


def _norm_sentence(nm: dict, distance: str) -> str:
    """What the runs' norms did, from :func:`_norm_summary`'s numbers."""
    (cn0, cc0), (cn1, cc1) = nm["centres_before"], nm["centres_last"]
    grew = nm["embedding_max"] / nm["embedding_before"] - 1
    larger = "clean" if cc1 > cn1 else "noisy"
    text = (f"The training loss (1 - cos) does not see norms, but the {distance} evaluation does: averaged over the "
            f"runs, the embeddings' mean norm went from {nm['embedding_before']:.2f} before training to at most "
            f"{nm['embedding_max']:.2f} ({100 * grew:+.0f}%) and {nm['embedding_last']:.2f} at the last epoch, "
            f"while the noisy and clean centres went from {cn0:.2f} and {cc0:.2f} to {cn1:.2f} and {cc1:.2f}; "
            f"the originals flagged went from {nm['flagged_before']:,.0f} to {nm['flagged_last']:,.0f}.")
    if distance == "sqeuclidean" and grew > 0.1 and nm["centre_cosine_last"] > 0.9:
        text += (f" The two centres point almost the same way (cosine {nm['centre_cosine_last']:.2f}), so under "
                 f"squared Euclidean distance an embedding along that direction that moves outwards comes nearer the "
                 f"{larger} centre, the one with the larger norm, whatever the loss did to its direction.")
        fb, fl = nm["flagged_before"], nm["flagged_last"]
        if fb > 0 and abs(fl - fb) >= 0.1 * fb and (fl < fb) == (larger == "clean"):
            text += (f" The flags moved that way: {100 * (fl / fb - 1):+.0f}% from the untrained encoder to the "
                     "last epoch.")
    return text


def norm_reading(metrics: dict) -> str:
    """The norms sentence of the run's evaluation distance (from ``metrics["selection"]``), "" without norms."""
    sel = metrics.get("selection") or {}
    s = sel.get(sel.get("distance")) if isinstance(sel.get(sel.get("distance")), dict) else None
    if not (s and s.get("norms")):
        return ""
    text = _norm_sentence(s["norms"], s["distance"])
    o = sel.get("cosine") if s["distance"] != "cosine" else None  # the same runs under the distance without norms
    if isinstance(o, dict) and o.get("norms"):
        text += (f" Under cosine, which ignores norms, the same runs' flags went from {o['norms']['flagged_before']:,.0f} "
                 f"to {o['norms']['flagged_last']:,.0f}")
        if o["f1_last_epoch"] < o["f1_before_training"] - 0.05:
            text += (f" and the last epoch's F1 averages {_pc(o['f1_last_epoch'])}% (untrained encoder: "
                     f"{_pc(o['f1_before_training'])}%), against {_pc(s['f1_last_epoch'])}% "
                     f"({_pc(s['f1_before_training'])}%) under {s['distance']}: the norms alone do not account for "
                     "what the encoder's training does to the flags")
        text += "."
    return text


def selection_summary(results, distance: str) -> dict:
    """Eq. 9's label-free epoch choice over DynaCor ``results`` (a list of DetectionResults run with clean
    labels), under one evaluation ``distance``: how many runs kept epoch 0 (the untrained encoder), the mean F1
    at the kept / best trained / last / untrained epoch, how many runs had an epoch flagging nothing, and the
    correlation across encoder epochs (1 on) between the label-free metric and the true F1, per run
    (``{"mean", "sd", "n"}`` over the runs where both vary) and pooled over all runs' epochs."""
    hists = [r.extras["by_distance"][distance]["history"] for r in results]
    sels = [int(r.extras["by_distance"][distance]["selected_epoch"]) for r in results]
    corrs, pooled_m, pooled_f = [], [], []
    for h in hists:
        m, f = np.array([v["metric"] for v in h[1:]]), np.array([v["f1"] for v in h[1:]])
        pooled_m += list(m)
        pooled_f += list(f)
        if m.size > 1 and m.std() > 0 and f.std() > 0:
            corrs.append(float(np.corrcoef(m, f)[0, 1]))
    pm, pf = np.array(pooled_m), np.array(pooled_f)
    pooled = float(np.corrcoef(pm, pf)[0, 1]) if pm.size > 1 and pm.std() > 0 and pf.std() > 0 else None
    mean = lambda xs: float(np.mean(xs))  # noqa: E731
    return {"distance": distance, "runs": len(results), "selected_epochs": sels,
            "kept_epoch_0": int(sum(e == 0 for e in sels)),
            "f1_selected": mean([h[e]["f1"] for h, e in zip(hists, sels)]),
            "f1_best_epoch": mean([max(v["f1"] for v in h[1:]) for h in hists]),
            "f1_last_epoch": mean([h[-1]["f1"] for h in hists]), "f1_before_training": mean([h[0]["f1"] for h in hists]),
            "runs_with_collapsed_epoch": int(sum(any(v["flagged"] == 0 for v in h) for h in hists)),
            **_norm_summary(hists),
            "corr_metric_f1": summarise(corrs) if corrs else None, "corr_metric_f1_pooled": pooled}


def comparison_metrics(comp: dict, cfg) -> dict:
    """The chapter's metrics from :func:`run_comparison`: per-method F1 (mean, sd, n over seeds), average F1,
    seconds, flagged shares, realised rates; the paper's claim; DynaCor's evaluation distance, target rule and
    F1 under both distances (``distance_check``); Eq. 9's choice over all runs (``selection``, both distances);
    the corruption-rate sweep."""
    runs, labels, seeds, settings = comp["runs"], comp["labels"], cfg.seeds, cfg.settings
    f1 = {m: {s: summarise([runs[s, sd][m]["f1"] for sd in seeds]) for s in settings} for m in cfg.methods}
    avg = {m: float(np.mean([f1[m][s]["mean"] for s in settings])) for m in cfg.methods}
    out = {"f1": f1, "avg_f1": avg, "encoder": cfg.encoder, "realised_noise_rate": comp["rates"],
           "seconds_per_run": {m: float(np.mean([runs[k][m]["seconds"] for k in runs])) for m in cfg.methods},
           "flagged_fraction": {m: {s: float(np.mean([runs[s, sd][m]["result"].is_noisy.mean() for sd in seeds]))
                                    for s in settings} for m in cfg.methods}}
    base = [m for m in cfg.methods if m != "dynacor"]
    if "dynacor" in cfg.methods and base:
        best = max(base, key=lambda m: avg[m])
        out["claim_dynacor_above_every_baseline"] = {"holds": bool(all(avg["dynacor"] > avg[m] for m in base)),
                                                     "dynacor": avg["dynacor"], "best_baseline": best,
                                                     "best_baseline_f1": avg[best]}
    if "dynacor" not in cfg.methods:
        return out
    res = {k: r["dynacor"]["result"] for k, r in runs.items()}
    dists = list(res[next(iter(res))].extras["by_distance"])
    by_d = {d: {s: summarise([_f1(res[s, sd].extras["by_distance"][d]["score"] > 0.5, *labels[s]) for sd in seeds])
                for s in settings} for d in dists}
    st = res[next(iter(res))].settings
    out["distance_check"] = {"evaluation_distance": st["distance"], "target": st["target"],
                             "selection_over": st["selection_over"], "holdout": st["holdout"],
                             "hidden": st["hidden"], "precision": st["precision"], "f1": by_d,
                             "avg_f1": {d: float(np.mean([v[s]["mean"] for s in settings])) for d, v in by_d.items()}}
    out["selection"] = {"distance": st["distance"], "target": st["target"],
                        **{d: selection_summary(list(res.values()), d) for d in dists}}
    s0 = settings[0]
    out["gamma_sweep"] = {"setting": s0, "f1": {str(g): summarise(
        [runs[s0, sd]["dynacor"]["f1"] if float(g) == float(cfg.corruption_rate) else comp["gamma_f1"][g, sd]
         for sd in seeds]) for g in cfg.gammas}}
    return out


def encoder_sweep(comp: dict, cfg, feats: dict, options: dict) -> dict:
    """DynaCor's encoder re-run on the first setting's first-seed dynamics (the classifier is not trained again)
    for each alpha of ``cfg.alphas`` with the configured target rule, and once with the other target rule at
    ``cfg.alpha``. Returns ``{"setting", "seed", "results": {label: {"alpha", "target", "f1_selected",
    "f1_last", "f1_before_training", "selected_epoch", "collapsed_epochs"}}}``."""
    from ..detect import dynacor as run_dynacor
    from ..detect.dynacor import TARGETS

    s0, sd = cfg.settings[0], cfg.seeds[0]
    (y, c), first = comp["labels"][s0], comp["runs"][s0, sd]["dynacor"]["result"]
    x, xf = feats[DATASET_OF[parse_setting(s0)[0]]][:2]
    target = first.settings["target"]
    variants = [(a, target) for a in cfg.alphas] + [(cfg.alpha, t) for t in TARGETS if t != target]
    out = {}
    for a, t in variants:
        r = run_dynacor(y, x, flipped_features=xf, seed=sd, clean_labels=c, dynamics=first,
                        **{**options["dynacor"], "alpha": a, "target": t})
        h = r.extras["history"]
        out[f"alpha {a}, target {t}"] = {
            "alpha": a, "target": t, "f1_selected": _f1(r.is_noisy, y, c), "f1_last": h[-1]["f1"],
            "f1_before_training": h[0]["f1"], "selected_epoch": int(r.extras["selected_epoch"]),
            "collapsed_epochs": int(sum(v["flagged"] == 0 for v in h))}
    return {"setting": s0, "seed": sd, "results": out}


# ---------------------------------------------------------------------------------------------------- tables
def _labels(cfg) -> dict:
    return dict(NAMES, simifeat=PAPER_SIMIFEAT.get(cfg.get("simifeat_variant"), ("SimiFeat",))[0])


def f1_table(metrics: dict, cfg) -> str:
    """Markdown: F1 (%) per method and setting (mean ± sd over the seeds), the average, the paper's row."""
    f1, avg, settings = metrics["f1"], metrics["avg_f1"], cfg.settings
    n = len(cfg.seeds)
    label = _labels(cfg)
    rows = [f"| {label[m]} | " + " | ".join(_cell(f1[m][s]) for s in settings) + f" | {_pc(avg[m])} |"
            for m in f1]
    paper = ("| paper (CLIP+MLP): DynaCor | " + " | ".join(
        f"{PAPER_TABLE1[s]:.1f}" if s in PAPER_TABLE1 else "–" for s in settings) + " | – |")
    quoted = ", ".join(f"{label[m]} {PAPER_AVERAGE[m]:.1f}" for m in f1 if m in PAPER_AVERAGE)
    return (f"**F1 (%) of the noisy-label detection, {cfg.encoder} features, "
            + (f"mean ± sd over {n} seeds" if n > 1 else "one seed") + ".** The last row is the paper's Table 1 "
            "(CLIP ViT-B/32 + MLP) for the same settings, cited as the paper's; the paper's averages over its "
            f"Table 1 are {quoted} (SimiFeat: the paper's rank variant, SimiFeat-R, the one run here).\n\n"
            "| method | " + " | ".join(settings) + " | average |\n|---|" + "---|" * (len(settings) + 1) + "\n"
            + "\n".join(rows + [paper]) + "\n")


def flagged_table(metrics: dict, cfg) -> str:
    """Markdown: the share (%) of originals each detector flags beside the truly noisy share."""
    fl, rates, settings = metrics["flagged_fraction"], metrics["realised_noise_rate"], cfg.settings
    return ("| method | " + " | ".join(settings) + " |\n|---|" + "---|" * len(settings) + "\n"
            + "| truly noisy | " + " | ".join(_pc(rates[s]) for s in settings) + " |\n"
            + "".join(f"| {_labels(cfg)[m]} | " + " | ".join(_pc(fl[m][s]) for s in settings) + " |\n" for m in fl))


def distance_table(metrics: dict, cfg) -> str:
    """Markdown: DynaCor's F1 (%) per setting under each evaluation distance (same runs)."""
    dc = metrics["distance_check"]
    name = {"sqeuclidean": "squared Euclidean (public code)", "cosine": "cosine (training distance)"}
    return ("| evaluation distance | " + " | ".join(cfg.settings) + " | average |\n|---|"
            + "---|" * (len(cfg.settings) + 1) + "\n"
            + "".join(f"| {name.get(d, d)}{' (used)' if d == dc['evaluation_distance'] else ''} | "
                      + " | ".join(_cell(v[s]) for s in cfg.settings) + f" | {_pc(dc['avg_f1'][d])} |\n"
                      for d, v in dc["f1"].items()))


def selection_table(metrics: dict) -> str:
    """Markdown: Eq. 9's choice over all DynaCor runs, per evaluation distance."""
    sel = metrics["selection"]
    rows = [(d, v) for d, v in sel.items() if isinstance(v, dict)]

    def corr(v):
        c = v["corr_metric_f1"]
        if c is None:
            return "–"
        return f"{c['mean']:.2f}" + (f" ± {c['sd']:.2f} ({c['n']} runs)" if c["n"] > 1 else " (1 run)")

    return ("| distance | runs | kept epoch 0 | F1 kept epoch | F1 best trained epoch | F1 last epoch | F1 untrained "
            "| runs with an epoch flagging nothing | corr(metric, F1) per run | pooled |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n"
            + "".join(f"| {d} | {v['runs']} | {v['kept_epoch_0']} | {_pc(v['f1_selected'])} | {_pc(v['f1_best_epoch'])} "
                      f"| {_pc(v['f1_last_epoch'])} | {_pc(v['f1_before_training'])} | {v['runs_with_collapsed_epoch']} "
                      f"| {corr(v)} | " + ("–" if v["corr_metric_f1_pooled"] is None else
                                           f"{v['corr_metric_f1_pooled']:.2f}") + " |\n" for d, v in rows))


def sweep_table(sweep: dict) -> str:
    """Markdown: the encoder sweep of :func:`encoder_sweep`."""
    return ("| alpha | DEC target | F1, label-free epoch | F1, last epoch | F1, untrained | selected epoch "
            "| epochs flagging nothing |\n|---|---|---|---|---|---|---|\n"
            + "".join(f"| {v['alpha']} | {v['target']} | {_pc(v['f1_selected'])} | {_pc(v['f1_last'])} "
                      f"| {_pc(v['f1_before_training'])} | {v['selected_epoch']} | {v['collapsed_epochs']} |\n"
                      for v in sweep["results"].values()))


# --------------------------------------------------------------------------------------------------- figures
def _first(comp, cfg):
    key = (cfg.settings[0], cfg.seeds[0])
    return comp["runs"][key]["dynacor"]["result"], comp["labels"][cfg.settings[0]]


def plot_signs(comp: dict, cfg, *, examples: int = 40):
    """Sign sequences of truly clean, truly noisy originals and copies of the first setting (first seed).
    Returns ``(figure, {group: share with a positive margin}, {group: same in the first epoch})``."""
    import matplotlib.pyplot as plt

    res, (y, c) = _first(comp, cfg)
    signs, n = res.extras["signs"], y.size
    groups = {"truly clean": np.flatnonzero(y == c), "truly noisy": np.flatnonzero(y != c),
              "corrupted copies": n + np.arange(res.extras["copy_of"].size)}
    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4), sharey=True)
    for ax, (g, idx) in zip(axes, groups.items()):
        pick = rng.choice(idx, size=min(examples, idx.size), replace=False)
        ax.imshow(signs[pick], cmap="gray", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
        ax.set(title=g, xlabel="epoch")
    axes[0].set_ylabel("example")
    fig.tight_layout()
    last = {g: float((signs[idx, -1] > 0).mean()) for g, idx in groups.items()}
    first = {g: float((signs[idx, 0] > 0).mean()) for g, idx in groups.items()}
    return fig, last, first


def plot_map(comp: dict, cfg):
    """2-D PCA of the encoder's embeddings of the map sample before and after training (None without a map)."""
    import matplotlib.pyplot as plt

    res, (y, c) = _first(comp, cfg)
    ex = res.extras
    if "map_index" not in ex:
        return None
    idx, n = ex["map_index"], y.size
    j = np.minimum(idx, n - 1)
    kind = np.where(idx >= n, 2, np.where(y[j] != c[j], 1, 0))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, title in zip(axes, ("map_before", "map_after"), ("before training", "after the last epoch")):
        z = ex[key] - ex[key].mean(0)
        p2 = z @ np.linalg.svd(z, full_matrices=False)[2][:2].T
        p2 = p2 + np.random.default_rng(1).normal(scale=0.02 * p2.std(), size=p2.shape)  # identical sequences
        for k, (lab, col) in enumerate([("truly clean", "tab:blue"), ("truly noisy", "tab:red"),
                                        ("corrupted copy", "tab:orange")]):
            ax.scatter(*p2[kind == k].T, s=6, alpha=0.6, c=col, label=lab)
        ax.set_title(f"encoder map, {title}")
    axes[0].legend(markerscale=3)
    fig.tight_layout()
    return fig


def plot_selection(comp: dict, cfg):
    """True F1 and the label-free metric per encoder epoch, every run of the first setting (evaluation
    distance used), the kept epochs marked."""
    import matplotlib.pyplot as plt

    s0 = cfg.settings[0]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.5), sharex=True)
    for sd in cfg.seeds:
        r = comp["runs"][s0, sd]["dynacor"]["result"]
        h, e = r.extras["history"], r.extras["selected_epoch"]
        line, = ax.plot([v["epoch"] for v in h], [100 * v["f1"] for v in h], "o-", ms=3, label=f"seed {sd}")
        ax2.plot([v["epoch"] for v in h], [v["metric"] for v in h], "s--", ms=3, c=line.get_color())
        ax.plot([e], [100 * h[e]["f1"]], "k*", ms=10)
    ax.set(xlabel="encoder epoch (0 = before training)", ylabel="true F1 (%)", title=f"{s0}: true F1 (* = kept)")
    ax2.set(xlabel="encoder epoch", ylabel="Eq. 9", title="label-free metric (Eq. 9)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_gamma(metrics: dict):
    """DynaCor's F1 against the corruption rate (mean, ± sd where there are >= 2 seeds)."""
    import matplotlib.pyplot as plt

    gs = metrics["gamma_sweep"]
    g = [float(k) for k in gs["f1"]]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.errorbar(g, [100 * v["mean"] for v in gs["f1"].values()],
                yerr=[100 * (v["sd"] or 0) for v in gs["f1"].values()], marker="o")
    ax.set(xlabel="corruption rate gamma", ylabel="DynaCor F1 (%)", title=gs["setting"])
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------- reading
def analysis(metrics: dict, *, encoder: str | None = None, encoder_lr: float | None = None) -> list[str]:
    """Chapter 06's reading of its own run: sentences generated only from ``metrics`` (a chapter-06
    results.json's ``metrics``), so the page and the "Results at a glance" page never state a number or a
    verdict the run did not compute. Empty when the run lacks DynaCor."""
    f1, avg = metrics.get("f1") or {}, metrics.get("avg_f1") or {}
    if "dynacor" not in f1 or len(avg) < 2:
        return []
    out = []
    settings = list(f1["dynacor"])
    base = [m for m in f1 if m != "dynacor"]
    wins = [s for s in settings if all(f1["dynacor"][s]["mean"] > f1[m][s]["mean"] for m in base)]
    best = max(base, key=lambda m: avg[m])
    holds = avg["dynacor"] > avg[best]
    n = (f1["dynacor"][settings[0]] or {}).get("n")
    seeds = f" (mean over {n} seeds per setting)" if n and n > 1 else ""
    out.append(f"The paper's claim {'holds' if holds else 'does not hold'} in this run: DynaCor's average F1 is "
               f"{_pc(avg['dynacor'])}% against {_pc(avg[best])}% for the best baseline ({NAMES.get(best, best)})"
               f"{seeds}; DynaCor is the best detector in {len(wins)} of {len(settings)} settings"
               + (f" ({', '.join(wins)})." if wins else "."))
    paper = [(s, PAPER_TABLE1[s]) for s in settings if s in PAPER_TABLE1]
    if paper:
        gap = float(np.mean([100 * f1["dynacor"][s]["mean"] - p for s, p in paper]))
        out.append(f"Against the paper's Table 1 on the same {len(paper)} settings, our DynaCor F1 is {gap:+.1f} "
                   "points on average" + (f"; the paper used CLIP ViT-B/32 features, this run {encoder}."
                                          if encoder and encoder != "clip" else "."))
    dc = metrics.get("distance_check") or {}
    if dc.get("avg_f1"):
        used, other = dc["evaluation_distance"], [d for d in dc["avg_f1"] if d != dc["evaluation_distance"]]
        out.append(f"Evaluated with the {used} distance (the DEC target rule: {dc.get('target')}), DynaCor's "
                   f"average F1 is {_pc(dc['avg_f1'][used])}%"
                   + "".join(f"; the same runs evaluated with {d} give {_pc(dc['avg_f1'][d])}%" for d in other) + ".")
    sel = metrics.get("selection") or {}
    s = sel.get(sel.get("distance")) if isinstance(sel.get(sel.get("distance")), dict) else None
    if s:
        lr = f" at the encoder learning rate {encoder_lr:g}" if encoder_lr is not None else ""
        c = s.get("corr_metric_f1")
        corr = (f"; across encoder epochs the label-free metric and the true F1 correlate at {c['mean']:.2f} on "
                f"average over {c['n']} run{'s' if c['n'] != 1 else ''}" if c else
                "; the metric or the F1 did not vary across epochs in any run")
        out.append(f"Eq. 9 kept the untrained encoder (epoch 0) in {s['kept_epoch_0']} of {s['runs']} runs{lr}; "
                   f"the kept epochs' F1 averages {_pc(s['f1_selected'])}%, the best trained epoch in hindsight "
                   f"{_pc(s['f1_best_epoch'])}%, the last epoch {_pc(s['f1_last_epoch'])}% and the untrained encoder "
                   f"{_pc(s['f1_before_training'])}%{corr}."
                   + (f" In {s['runs_with_collapsed_epoch']} runs some epoch flagged nothing (every example on the "
                      "clean centre)." if s.get("runs_with_collapsed_epoch") else ""))
        if s.get("norms"):
            out.append(norm_reading(metrics))
    al = (metrics.get("alpha_sweep") or {}).get("results") or {}
    if al:
        k_best = max(al, key=lambda k: al[k]["f1_selected"])
        spread = max(v["f1_selected"] for v in al.values()) - min(v["f1_selected"] for v in al.values())
        out.append(f"The encoder's settings {'barely matter' if spread < 0.01 else 'matter'} on "
                   f"{metrics['alpha_sweep'].get('setting')} (one seed, same dynamics): F1 at the label-free epoch "
                   + ", ".join(f"{k}: {_pc(v['f1_selected'])}%" for k, v in al.items()) + f" (best: {k_best}).")
    gs = (metrics.get("gamma_sweep") or {}).get("f1") or {}
    if gs:
        g_best = max(gs, key=lambda g: gs[g]["mean"])
        out.append(f"Over the corruption rates {', '.join(gs)}, DynaCor's F1 is highest at gamma = {g_best} "
                   f"({_pc(gs[g_best]['mean'])}%).")
    fl, rates = metrics.get("flagged_fraction") or {}, metrics.get("realised_noise_rate") or {}
    over = [(m, s, fl[m][s], rates[s]) for m in fl for s in fl[m] if s in rates and fl[m][s] > 1.25 * rates[s]
            and fl[m][s] > rates[s] + 0.1]
    if over:
        out.append("Flagging far more than the noise rate buys recall with precision: " + "; ".join(
            f"{NAMES.get(m, m)} flags {_pc(v)}% of {s} (noise {_pc(r)}%)" for m, s, v, r in over) + ".")
    return out
