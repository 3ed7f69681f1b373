"""Figures of chapter 03 (PMD vs CBN, the seed paper's Table I). The paper's numbers and the analysis are in
:mod:`labnoise.experiments.tables`; the label sets in :mod:`labnoise.experiments.label_sets`.

* :func:`plot_table` -- ours beside the paper's, one panel per rate.
* :func:`plot_curves` -- test accuracy per epoch, one panel per (noise, rate).
"""
from __future__ import annotations

import numpy as np

from ..methods import display_name
from . import FONT, panel_grid, style_axes

__all__ = ["plot_table", "plot_curves"]


def plot_table(table: dict, paper: dict | None = None, *, title: str = "", ours_label: str = "ours",
               ceiling: float | None = None):
    """Grouped bars: per method, PMD and CBN accuracy (ours, mean ± sd over seeds), the paper's values as
    black markers, and optionally ``ceiling`` (accuracy with clean labels, a fraction) as a dashed line.
    One panel per rate (two per row), one legend under them. Returns the matplotlib Figure."""
    rates = sorted({r for m in table for n in table[m] for r in table[m][n]}, key=float)
    methods = list(table)
    fig, axes, ncols = panel_grid(len(rates), 5.2, 3.8, max_cols=2, extra_h=0.4, sharey=True)
    colours = {"pmd": "#4C72B0", "cbn": "#DD8452"}
    w = 0.38
    for ax, r in zip(axes, rates):
        xs = np.arange(len(methods))
        for j, noise in enumerate(("pmd", "cbn")):
            means = [100 * table[m].get(noise, {}).get(r, {}).get("mean", np.nan) for m in methods]
            sds = [100 * (table[m].get(noise, {}).get(r, {}).get("sd") or 0.0) for m in methods]
            off = (j - 0.5) * w
            ax.bar(xs + off, means, w, yerr=sds, color=colours[noise], label=f"{noise.upper()} ({ours_label})",
                   capsize=2)
            if paper:
                pv = [paper.get(m, {}).get(noise, {}).get(r, np.nan) for m in methods]
                ax.scatter(xs + off, pv, marker="_", s=250, color="k", zorder=3,
                           label="paper's value (CIFAR-10, their models)" if j == 0 else None)
        if ceiling is not None:
            ax.axhline(100 * ceiling, ls="--", color="0.4", lw=1, label="Standard, clean labels (ours)")
        ax.set_xticks(xs, [display_name(m) for m in methods], rotation=30, ha="right")
        style_axes(ax)
        ax.set_title(f"noise rate {float(r):.0%}", fontsize=FONT["title"])
        ax.set_ylim(0, 100)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[::ncols]:
        ax.set_ylabel("test accuracy (%)", fontsize=FONT["label"])
    handles, labels = axes[0].get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    if title:
        fig.suptitle(title, fontsize=FONT["suptitle"])
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(uniq.values(), uniq.keys(), loc="lower center", ncol=2, frameon=False, bbox_to_anchor=(0.5, -0.02),
               fontsize=FONT["legend"])
    return fig


def plot_curves(records: list[dict], *, seed=None):
    """Test accuracy per epoch for each method, one panel per (noise, rate), two per row (a row per rate when
    both noises are there); mean over seeds; one legend under the panels."""
    keys = sorted({(r["noise"], float(r["rate"])) for r in records}, key=lambda k: (k[1], k[0] != "pmd", k[0]))
    n = len(keys)
    fig, axes, ncols = panel_grid(n, 4.5, 3.0, max_cols=2, extra_h=0.6, sharey=True)
    for i, (ax, (noise, rate)) in enumerate(zip(axes, keys)):
        by_m: dict = {}
        for r in records:
            curve = r["metrics"].get("test_acc_curve")
            if r["noise"] == noise and float(r["rate"]) == rate and curve and (seed is None or r["seed"] == seed):
                by_m.setdefault(r["method"], []).append([np.nan if v is None else v for v in curve])
        for m, curves in by_m.items():
            L = min(len(c) for c in curves)
            mean = 100 * np.nanmean(np.array([c[:L] for c in curves]), 0)
            ax.plot(np.arange(1, L + 1), mean, label=display_name(m))
        ax.set_title(f"{noise.upper()} {rate:.0%}", fontsize=FONT["title"])
        if i + ncols >= n:  # the bottom panel of its column
            ax.set_xlabel("epoch", fontsize=FONT["label"])
        if i % ncols == 0:
            ax.set_ylabel("test accuracy (%)", fontsize=FONT["label"])
        style_axes(ax)
        ax.grid(alpha=0.3)
    handles, labels = {}, {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.tight_layout(rect=(0, 0.55 / fig.get_figheight(), 1, 1))
    if handles:
        fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(3, len(handles)), frameon=False,
                   fontsize=FONT["legend"])
    return fig
