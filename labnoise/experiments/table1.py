"""Chapter 03 (PMD vs CBN, the seed paper's Table I): inputs, the grid of methods x label sets x seeds through
:func:`labnoise.grid.run_lnl_grid`'s cache, the clean ceiling, and the tables the chapter shows -- one call per
cell. The paper's numbers and the generated reading are in :mod:`labnoise.experiments.tables`.
"""
from __future__ import annotations

import contextlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import cache as cache_layout
from .. import data, features, grid
from .common import markdown_table, mean_sd_text
from .label_sets import make_label_sets
from ..methods import display_name
from .tables import paper_table_percent

CHAPTER = "03_pmd_vs_cbn"

#: the keys of ``cfg`` that are part of every grid cell's cache key (with ``method_settings``)
PARAM_KEYS = ("dataset", "encoder", "lane", "model", "hidden", "epochs", "batch_size", "lr", "optimizer",
              "weight_decay", "augment", "lra_epochs", "lra_k", "lra_inference", "snls_k", "snls_alpha")


def _timer(run, name):
    return run.timer(name) if run is not None else contextlib.nullcontext()


def runnable_methods(methods) -> tuple[list, list]:
    """``(to run, skipped)``: the diffusion methods are skipped when ``labnoise.methods.lra_diffusion`` is not
    installed."""
    have_lra = importlib.util.find_spec("labnoise.methods.lra_diffusion") is not None
    todo = [m for m in methods if have_lra or m not in grid.DIFFUSION_METHODS]
    return todo, sorted(set(methods) - set(todo))


def cell_cache(cache_dir, *, profile: str, root=None) -> Path | None:
    """The per-cell result cache: ``"auto"`` -> ``<data root>/cache/grid/03_pmd_vs_cbn/<profile>``, a path, or
    None (no cache)."""
    if cache_dir == "auto":
        return cache_layout.cache_dir("grid", CHAPTER, profile, root=root)
    return Path(cache_dir) if cache_dir else None


@dataclass
class Inputs:
    """The chapter's arrays: the lane's train/test inputs ``x_tr, x_te``, the encoder's features ``f_tr, f_te``
    (noise generation, LRA-Diffusion's condition), the clean training and the test labels."""

    ds: object
    x_tr: np.ndarray
    x_te: np.ndarray
    f_tr: np.ndarray
    f_te: np.ndarray
    clean: np.ndarray
    y_test: np.ndarray

    def metrics(self, lane: str) -> dict:
        return {"dataset": self.ds.name, "n_train": int(len(self.clean)), "n_test": int(len(self.y_test)),
                "feature_dim": int(self.f_tr.shape[1]), "lane": lane}


def load_inputs(cfg) -> Inputs:
    """The dataset, the encoder's features of both splits and the lane's inputs (features or uint8 images)."""
    ds = data.load_dataset(cfg.dataset, root=cfg.data_root)
    f_tr = features.embed(ds, "train", cfg.encoder, root=cfg.data_root, device=cfg.device)
    f_te = features.embed(ds, "test", cfg.encoder, root=cfg.data_root, device=cfg.device)
    if cfg.lane == "features":
        x_tr, x_te = f_tr, f_te
    else:
        x_tr, x_te = np.asarray(ds.train_images), np.asarray(ds.test_images)
    return Inputs(ds, x_tr, x_te, f_tr, f_te, np.asarray(ds.train_labels), np.asarray(ds.test_labels))


def label_sets(cfg, inp: Inputs):
    """The PMD and CBN label sets of ``cfg.noises`` x ``cfg.rates`` (:func:`make_label_sets`): the paper's
    released files when used, else generated from the encoder's features with ``cfg.noise_seed``."""
    return make_label_sets(cfg.dataset, inp.f_tr, inp.clean, kinds=cfg.noises, rates=cfg.rates, seed=cfg.noise_seed,
                           reference=cfg.use_reference, pmd_kind=cfg.pmd_kind, root=cfg.data_root, tsne_cache=True,
                           device=cfg.device)


def noise_table(summary: dict):
    """``{noise: {rate: summary}}`` as a table: realised rate, targets per class, top-2 share."""
    return markdown_table([[n.upper(), f"{float(r):.0%}", f"{s['realised_rate']:.3f}", s["targets_per_class_mean"],
                            s["top2_share"]] for n, by_rate in summary.items() for r, s in by_rate.items()],
                          ["noise", "rate", "realised rate", "targets per class", "top-2 share"])


def method_settings(todo) -> dict:
    """The settings (not the training state) of Co-teaching+ and PLC, part of every cell's cache key."""
    from ..methods import get_method

    return {m: {k: v for k, v in get_method(m).params().items() if k not in ("selected", "labels", "theta", "delta")}
            for m in ("coteaching+", "plc") if m in todo}


@dataclass
class GridSetup:
    """What every cell of the grid receives besides its labels and seed."""

    params: dict
    train_kwargs: dict
    cache: Path | None
    neighbors: np.ndarray | None = None


def grid_setup(cfg, inp: Inputs, todo, cache: Path | None, *, run=None) -> GridSetup:
    """The training settings, the cache key's ``params`` (with ``method_settings``) and, when a diffusion method
    runs, one exact kNN table of the features (``max(lra_k, snls_k)`` neighbours, cached with the cells)."""
    train_kwargs = dict(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, optimizer=cfg.optimizer,
                        weight_decay=cfg.weight_decay, augment=cfg.augment, threads=cfg.threads,
                        num_classes=inp.ds.num_classes)
    if cfg.model in ("mlp", "linear"):
        train_kwargs["model_kwargs"] = {"hidden": tuple(cfg.hidden)}
    params = {k: cfg[k] for k in PARAM_KEYS}
    params["method_settings"] = method_settings(todo)   # new defaults, new cells
    neighbors = None
    if any(m in grid.DIFFUSION_METHODS for m in todo):
        from ..neighbors import knn_table

        with _timer(run, "knn"):
            neighbors = knn_table(inp.f_tr, max(cfg.lra_k, cfg.snls_k), device=cfg.device,
                                  cache_dir=cache_layout.cache_dir("knn", root=cfg.data_root) if cache else None)
    return GridSetup(params, train_kwargs, cache, neighbors)


def run_table1_grid(cfg, inp: Inputs, label_sets_: dict, todo, setup: GridSetup) -> list[dict]:
    """Every method of ``todo`` on every ``(noise, rate) -> labels`` of ``label_sets_`` and every seed of
    ``cfg.seeds``; finished cells come from the cache. Returns the grid's records."""
    n_classes = inp.ds.num_classes
    return grid.run_lnl_grid(
        inp.x_tr, label_sets_, todo, cfg.seeds, x_test=inp.x_te, y_test=inp.y_test, clean_labels=inp.clean,
        cache_dir=setup.cache, params=setup.params, model=cfg.model, train_kwargs=setup.train_kwargs,
        neighbors=setup.neighbors, features=inp.f_tr, features_test=inp.f_te, device=cfg.device,
        precision=cfg.precision, method_params={m: {"lra_samples": cfg.lra_samples} for m in grid.DIFFUSION_METHODS},
        lra_kwargs={"epochs": cfg.lra_epochs, "k": cfg.lra_k, "inference": cfg.lra_inference,
                    "n_samples": cfg.lra_samples, "num_classes": n_classes},
        snls_kwargs={"k": cfg.snls_k, "alpha": cfg.snls_alpha, "num_classes": n_classes})


def clean_ceiling(cfg, inp: Inputs, setup: GridSetup) -> dict:
    """Standard CE on the *clean* labels, same model and settings: ``{"mean", "sd", "n_seeds"}`` of its test
    accuracy over the seeds."""
    recs = grid.run_lnl_grid(inp.x_tr, {("clean", 0.0): inp.clean}, ["ce"], cfg.seeds, x_test=inp.x_te,
                             y_test=inp.y_test, clean_labels=inp.clean, cache_dir=setup.cache, params=setup.params,
                             model=cfg.model, train_kwargs=setup.train_kwargs, device=cfg.device,
                             precision=cfg.precision)
    return grid.summarize(recs, "test_acc")["ce"]["clean"]["0"]


def ceiling_text(ceiling: dict) -> str:
    n = ceiling["n_seeds"]
    return (f"Standard CE, clean labels: {mean_sd_text(ceiling['mean'], ceiling['sd'], n, scale=100)}% test accuracy "
            f"({n} seed{'s' if n != 1 else ''}{', mean ± sample sd' if n > 1 else ''}).")


def seconds_per_cell(records, todo) -> dict:
    return {m: round(float(np.mean([r["metrics"]["seconds"] for r in records if r["method"] == m])), 2) for m in todo}


def _columns(table: dict):
    return sorted({(n, r) for m in table for n in table[m] for r in table[m][n]},
                  key=lambda c: (float(c[1]), c[0] != "pmd", c[0]))


def table1_markdown(table: dict, paper: dict | None, *, dataset: str, status: dict | None = None) -> str:
    """Table I as Markdown: a row of ours per method (mean ± sample sd over seeds when there are at least two)
    and, where the paper has the method, a row of the paper's values; a caption generated to match.
    ``status`` (:func:`~labnoise.experiments.tables.paper_table_status`) names the paper's rows not transcribed."""
    cols, paper = _columns(table), paper or {}
    n_seeds = sorted({c["n_seeds"] for m in table for n in table[m] for c in table[m][n].values()})
    with_paper = any(m in paper for m in table)
    rows = []
    for m in table:
        cells = [table[m].get(n, {}).get(r) for n, r in cols]
        rows.append([display_name(m) + (" (ours)" if with_paper else "")]
                    + ["" if c is None else mean_sd_text(c["mean"], c["sd"], c["n_seeds"], scale=100) for c in cells])
        if m in paper:
            rows.append([f"{display_name(m)} (paper)"]
                        + [f"{paper[m].get(n, {}).get(r):.2f}" if paper[m].get(n, {}).get(r) is not None else ""
                           for n, r in cols])
    seeds_txt = (f"mean ± sample standard deviation over {n_seeds[0]} seeds" if n_seeds == [n_seeds[0]] and n_seeds[0] > 1
                 else f"one seed, so no spread is shown" if n_seeds == [1]
                 else f"mean (± sample sd where a cell has two or more seeds) over {', '.join(map(str, n_seeds))} seeds")
    missing = [display_name(m) for m, v in (status or {}).items() if v != "transcribed" and m in table]
    if with_paper:
        ptxt = (f"rows marked *(paper)* give the paper's {dataset} values (its own encoders and models: compare the "
                "pattern, not the level)")
        if missing:
            ptxt += f"; the paper's rows for {', '.join(missing)} are not transcribed in this package"
    else:
        ptxt = f"the paper reports no {dataset} values, so only ours are shown"
    caption = f"**Table I, last-epoch test accuracy (%)** on {dataset}: {seeds_txt}; {ptxt}."
    head = ["method"] + [f"{n.upper()} {float(r):.0%}" for n, r in cols]
    return str(markdown_table(rows, head, caption=caption))


def gaps(table: dict, harder: dict, paper: dict | None = None) -> tuple[dict, list]:
    """``(points, rows)``: PMD minus CBN mean accuracy in points per method and rate, and table rows with the
    verdict, the larger of the two sds (when there are two or more seeds) and the paper's gap."""
    points, rows, paper = {}, [], paper or {}
    for m, by_rate in harder.items():
        for r, ok in by_rate.items():
            p_, c_ = table[m]["pmd"][r], table[m]["cbn"][r]
            gap = 100 * (p_["mean"] - c_["mean"])
            points.setdefault(m, {})[r] = round(gap, 2)
            multi = min(p_["n_seeds"], c_["n_seeds"]) > 1
            pg = paper.get(m)
            rows.append([display_name(m), f"{float(r):.0%}", "CBN < PMD" if ok else "CBN >= PMD", f"{gap:+.2f}",
                         f"{100 * max(p_['sd'], c_['sd']):.2f}" if multi else "",
                         f"{pg['pmd'][r] - pg['cbn'][r]:+.2f}" if pg else ""])
    return points, rows


def gaps_table(rows: list, *, headline: bool):
    """The rows of :func:`gaps` as a table; the sd and paper columns are left out when no row has a value."""
    cols = ["method", "rate", "verdict", "gap PMD - CBN (points)", "larger sd (points)", "paper's gap"]
    keep = [j for j in range(len(cols)) if j < 4 or any(r[j] for r in rows)]
    return markdown_table([[r[j] for j in keep] for r in rows], [cols[j] for j in keep],
                          caption="**Headline (CBN harder for every method at both rates): "
                                  + ("reproduced" if headline else "NOT reproduced in every cell") + ".**")


def paper_table(dataset: str) -> dict:
    return paper_table_percent(dataset)
