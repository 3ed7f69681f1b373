"""Figures and tables of chapter 05 (LEND), from :mod:`labnoise.experiments.lend`'s outputs."""
from __future__ import annotations

import numpy as np

from . import FONT, _plt, panel_grid

__all__ = ["toy_panels", "curves_by_setting", "last_best_table", "purity_panels", "steps_panels",
           "selection_panels", "batch_size_plot"]


def _key(kind, rate):
    return f"{kind}_{float(rate):g}"


def _legend_below(fig, axes, ylabel: str, *, ncol: int, bottom: float):
    """The panels' shared y label, one legend (the first panel's lines) under them, and the layout that leaves
    ``bottom`` of the figure's height for it."""
    axes[0].set_ylabel(ylabel)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=ncol, fontsize=FONT["legend"],
               frameon=False)
    _plt().tight_layout(rect=(0, bottom, 1, 1))
    return fig


def toy_panels(x, toy: dict):
    """One row per rule, one panel per ``T`` (and converged): the argmax of ``Z(T)`` on the 2-D toy."""
    plt = _plt()
    rules = list(toy)
    steps = list(toy[rules[0]]["labels"])
    fig, axes = plt.subplots(len(rules), len(steps), figsize=(2.3 * len(steps), 2.5 * len(rules)), squeeze=False)
    for i, rule in enumerate(rules):
        for j, t in enumerate(steps):
            ax = axes[i, j]
            ax.scatter(x[:, 0], x[:, 1], c=toy[rule]["labels"][t], cmap="tab10", vmin=0, vmax=9, s=6)
            name = "given" if t == 0 else (f"converged ({toy[rule]['converged_steps']} steps)" if t == "conv"
                                           else f"T = {t}")
            ax.set_title(f"{rule}, {name}\nlabel acc {toy[rule]['acc'][t]:.0%}", fontsize=FONT["title"] - 1)
            ax.set_xticks([]), ax.set_yticks([]), ax.set_aspect("equal")
    fig.suptitle("argmax of the diluted labels Z(T) on the toy (T = 0: the given noisy labels)",
                 fontsize=FONT["suptitle"])
    fig.tight_layout()
    return fig


def curves_by_setting(curves: dict, settings, titles: dict, methods, names: dict, *, ylabel: str):
    """One panel per setting, one line per method (``curves[method][kind][rate_key]``)."""
    fig, axes, _ = panel_grid(len(settings), 3.4, 2.9, max_cols=3, extra_h=0.5, sharey=True)
    for ax, (kind, r) in zip(axes, settings):
        for m in methods:
            ys = curves.get(m, {}).get(kind, {}).get(f"{float(r):g}")
            if ys:
                ax.plot(np.arange(1, len(ys) + 1), ys, label=names.get(m, m), lw=2.2 if m == "lend" else 1.2)
        ax.set_title(titles[_key(kind, r)], fontsize=FONT["title"] - 1)
        ax.set_xlabel("epoch")
    return _legend_below(fig, axes, ylabel, ncol=len(methods), bottom=0.07)


def last_best_table(summary: dict, settings, titles: dict, methods, names: dict):
    """A DataFrame: rows methods, columns (setting, Last / Best (test-selected)), in %; "mean ± sd" only with
    two or more seeds (the seed count is in the column header then)."""
    import pandas as pd

    def fmt(d):
        return f"{100 * d['mean']:.1f} ± {100 * d['sd']:.1f}" if d["n"] > 1 else f"{100 * d['mean']:.1f}"

    cols = {}
    for kind, r in settings:
        for col, src in (("Last", summary["final_acc"]), ("Best (test-selected)", summary["best_acc"])):
            cells = {names.get(m, m): src[m][kind][f"{float(r):g}"] for m in methods if m in src}
            n = max(c["n"] for c in cells.values())
            head = f"{col} ({n} seeds)" if n > 1 else col
            cols[(titles[_key(kind, r)], head)] = {m: fmt(c) for m, c in cells.items()}
    return pd.DataFrame(cols)


def purity_panels(pur: dict, settings, titles: dict):
    """Per setting: LEND's per-epoch neighbour purity, diluted- and predicted-label accuracy, and the given
    labels' accuracy (dashed)."""
    fig, axes, _ = panel_grid(len(settings), 3.4, 2.9, max_cols=3, extra_h=0.6, sharey=True)
    for ax, (kind, r) in zip(axes, settings):
        row = pur[kind][f"{float(r):g}"]
        ep = np.arange(1, len(row["neighbour_purity"]) + 1)
        f = lambda v: np.array([np.nan if a is None else a for a in v], dtype=float)  # noqa: E731
        ax.plot(ep, f(row["neighbour_purity"]), lw=2.2, label="neighbour purity (LEND's embedding)")
        ax.plot(ep, f(row["diluted_label_acc"]), label="diluted labels (LEND store)")
        ax.plot(ep, f(row["predicted_label_acc"]), label="model's predicted labels")
        ax.axhline(row["given_label_acc"][-1], ls="--", c="grey", lw=1, label="given labels")
        ax.set_title(titles[_key(kind, r)], fontsize=FONT["title"] - 1)
        ax.set_xlabel("epoch")
    return _legend_below(fig, axes, "share (vs clean labels)", ncol=2, bottom=0.12)


def steps_panels(effect: dict, titles: dict):
    """Per setting and embedding: diluted-label accuracy against T for both rules (the converged value at the
    right, dotted), given labels dashed."""
    items = [(s, e, res) for s, by in effect.items() for e, res in by.items()]
    fig, axes, _ = panel_grid(len(items), 3.6, 3.0, max_cols=2, extra_h=0.5, sharey=True)
    for ax, (s, e, res) in zip(axes, items):
        xs = np.maximum(np.array(res["steps"], dtype=float), 0.5)
        for i, rule in enumerate(r for r in ("knn", "two_hop") if r in res):
            ax.plot(xs, res[rule]["acc"], "o-", ms=3, color=f"C{i}", label=rule)
            ax.axhline(res[rule]["acc_conv"], ls=":", color=f"C{i}", lw=1.2, label=f"{rule} converged")
        ax.axhline(res["given_acc"], ls="--", c="grey", lw=1, label="given labels")
        ax.set_xscale("log")
        ax.set_xlabel("dilution steps T (T = 0 drawn at 0.5)")
        ax.set_title(f"{titles.get(s, s)}\nembedding after {e} epoch(s)", fontsize=FONT["title"] - 1)
    return _legend_below(fig, axes, "diluted label accuracy", ncol=5, bottom=0.08)


def selection_panels(sel: dict, settings, titles: dict, selectors, names: dict):
    """Per setting: precision (solid) and recall (dashed) of each selecting method's selection, per epoch."""
    fig, axes, _ = panel_grid(len(settings), 3.4, 2.9, max_cols=3, extra_h=0.6, sharey=True)
    for ax, (kind, r) in zip(axes, settings):
        for m in selectors:
            v = sel[m][kind][f"{float(r):g}"]
            ep = np.arange(1, len(v["selection_precision"]) + 1)
            line, = ax.plot(ep, v["selection_precision"], label=f"{names.get(m, m)} precision")
            ax.plot(ep, v["selection_recall"], ls="--", c=line.get_color(), label=f"{names.get(m, m)} recall")
        ax.set_title(titles[_key(kind, r)], fontsize=FONT["title"] - 1)
        ax.set_xlabel("epoch")
    return _legend_below(fig, axes, "precision (solid),\nrecall (dashed)", ncol=4, bottom=0.1)


def batch_size_plot(bs, title: str):
    """Last and the last epoch's diluted-label accuracy against the batch size (a DataFrame by batch size)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(bs.index, bs["last"], "o-", label="test accuracy (Last)")
    ax.plot(bs.index, bs["diluted_label_acc"], "s--", label="diluted label accuracy (train)")
    ax.plot(bs.index, bs["neighbour_purity"], "^:", label="neighbour purity")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size")
    ax.set_title(f"LEND, {title}", fontsize=FONT["title"])
    ax.legend(fontsize=FONT["legend"])
    fig.tight_layout()
    return fig
