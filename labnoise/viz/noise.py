"""Figures and the interactive explorer of chapter 02 (cluster-based noise).

Every function returns a matplotlib figure (the explorer returns an ipywidgets widget, or None without
ipywidgets), so a chapter cell stays one call per figure.
"""
from __future__ import annotations

import numpy as np

from . import heatmaps, scatter_map

__all__ = ["noise_panels", "algorithm_steps", "transition_panels", "targets_per_class_bars", "rate_grid_figure",
           "cbn_explorer", "summary_table", "top_flips"]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _colors(c):
    plt = _plt()
    cmap = plt.get_cmap("tab10" if c <= 10 else "tab20")
    return [cmap(k % cmap.N) for k in range(c)]


def noise_panels(points, results: dict, classes=None, boundary_x: float | None = 0.0, s: float = 6.0,
                 suptitle: str | None = None):
    """Fig 5 of the seed paper: one panel per label set, points coloured by their (noisy) label, flipped
    points ringed. ``results`` maps a title to a NoiseResult (or to a clean label array)."""
    plt = _plt()
    pts = np.asarray(points)
    fig, axes = plt.subplots(1, len(results), figsize=(3.3 * len(results), 3.4), squeeze=False)
    for ax, (title, r) in zip(axes[0], results.items()):
        labels = r if isinstance(r, np.ndarray) else r.noisy_labels
        c = int(labels.max()) + 1 if classes is None else len(classes)
        cols = np.array(_colors(max(c, 2)))
        ax.scatter(pts[:, 0], pts[:, 1], s=s, c=cols[labels], linewidths=0, alpha=0.8)
        if not isinstance(r, np.ndarray):
            f = r.flipped
            ax.scatter(pts[f, 0], pts[f, 1], s=s * 2.2, facecolors="none", edgecolors="black", linewidths=0.5)
            title = f"{title}\n{100 * r.realised_rate:.1f}% flipped"
        if boundary_x is not None:
            ax.axvline(boundary_x, color="black", lw=0.8, ls="--")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def algorithm_steps(result, classes=None, max_circles: int = 400, s: float = 2.0, seed: int = 0):
    """Algorithm 1 on a map, in three panels: (1) the t-SNE map by clean class with the class centres,
    (2) the sampled sub-centres with their radius-r discs, (3) the flipped points drawn in their new label's
    colour. ``result`` is a CBN NoiseResult (its ``extras`` hold the map and the centres)."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Circle

    plt = _plt()
    m = result.extras["map_2d"]
    y, noisy = result.clean_labels, result.noisy_labels
    C = result.num_classes
    cols = np.array(_colors(C))
    centres = result.extras["class_centres"]
    n, r = result.params["n"], result.params["r"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.2))
    scatter_map(m, y, classes, ax=axes[0], s=s, title="1. t-SNE map (clean labels) and class centres")
    axes[0].scatter(centres[:, 0], centres[:, 1], marker="*", s=220, c=cols, edgecolors="black", linewidths=1.0)

    axes[1].scatter(m[:, 0], m[:, 1], s=s, c=cols[y], alpha=0.25, linewidths=0)
    subs = result.extras["sub_centres"]
    circles, ccols = [], []
    all_subs = [(c, i) for c, idx in enumerate(subs) for i in idx]
    if len(all_subs) > max_circles:  # draw a random subset of the discs when there are very many
        pick = np.random.default_rng(seed).choice(len(all_subs), max_circles, replace=False)
        all_subs = [all_subs[k] for k in np.sort(pick)]
    for c, i in all_subs:
        circles.append(Circle(m[i], r))
        ccols.append(cols[c])
    axes[1].add_collection(PatchCollection(circles, facecolors="none", edgecolors=ccols, linewidths=0.8))
    idx = np.concatenate(subs)
    axes[1].scatter(m[idx, 0], m[idx, 1], s=8, c="black", marker="x", linewidths=0.6)
    shown = "" if len(all_subs) == len(idx) else f" ({len(all_subs)} of {len(idx)} discs drawn)"
    axes[1].set_title(f"2. n={n} sub-centres per class, radius r={r:.2f}{shown}", fontsize=10)

    f = result.flipped
    axes[2].scatter(m[~f, 0], m[~f, 1], s=s, c=cols[y[~f]], alpha=0.15, linewidths=0)
    axes[2].scatter(m[f, 0], m[f, 1], s=s * 2, c=cols[noisy[f]], linewidths=0)
    axes[2].scatter(centres[:, 0], centres[:, 1], marker="*", s=220, c=cols, edgecolors="black", linewidths=1.0)
    axes[2].set_title(f"3. flipped points in their new label's colour: {100 * result.realised_rate:.1f}%",
                      fontsize=10)
    for ax in axes[1:]:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes:
        ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    return fig


def transition_panels(results: dict, classes=None, ncols: int = 4, suptitle: str | None = None):
    """Transition matrices ``T[clean, noisy]`` side by side: ``{title: NoiseResult}``."""
    return heatmaps({f"{k}\n{100 * v.realised_rate:.1f}% noise": v.transition_matrix for k, v in results.items()},
                    classes, ncols=min(ncols, len(results)), size=3.9, suptitle=suptitle)


def targets_per_class_bars(results: dict, classes=None, min_fraction: float = 0.0, title: str | None = None):
    """Grouped bars: number of distinct wrong target classes per clean class, one group per class, one bar
    per label set; the legend carries the mean and the share of flips going to the top-2 targets."""
    plt = _plt()
    names = list(results)
    C = results[names[0]].num_classes
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * C + 2), 3.4))
    for k, name in enumerate(names):
        t = results[name].targets_per_class(min_fraction)
        ax.bar(np.arange(C) + (k - (len(names) - 1) / 2) * width, t.per_class, width,
               label=f"{name}: mean {t.mean:.1f}, top-2 share {100 * t.top2_share:.0f}%")
    ax.set_xticks(range(C))
    ax.set_xticklabels(classes if classes is not None else [str(c) for c in range(C)], rotation=45, fontsize=8)
    ax.set_ylabel("distinct target classes")
    ax.set_ylim(0, C)
    ax.legend(fontsize=7, frameon=False, loc="upper left", ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def rate_grid_figure(grid, ns, rs, targets=(0.35, 0.70), title: str | None = None):
    """The realised CBN rate over an ``(n, r)`` grid (from :func:`labnoise.noise.cbn_rate_grid`): one curve
    per ``n`` against ``r``, the target rates as dashed lines. The static stand-in for the explorer."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.2, 3.6))
    cmap = plt.get_cmap("viridis")
    for i, n in enumerate(ns):
        ax.plot(rs, 100 * np.asarray(grid)[i], color=cmap(i / max(1, len(ns) - 1)), label=f"n={n}")
    for t in targets:
        ax.axhline(100 * t, color="gray", ls="--", lw=0.8)
    ax.set_xlabel("radius r (map units)")
    ax.set_ylabel("realised noise rate (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, frameon=False, ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def summary_table(results: dict):
    """``{name: NoiseResult}`` -> a pandas DataFrame (realised rate, targets per class, top-2 share, params)."""
    import pandas as pd

    rows = []
    for name, r in results.items():
        t = r.targets_per_class()
        rows.append({"label set": name, "realised rate (%)": round(100 * r.realised_rate, 2),
                     "targets / class": round(t.mean, 2), "top-2 share (%)": round(100 * t.top2_share, 1),
                     "params": ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                         for k, v in r.params.items() if k in ("n", "r", "kind", "factor", "search"))})
    return pd.DataFrame(rows).set_index("label set")


def cbn_explorer(map_2d, labels, seed: int = 0, n_max: int | None = None, r_max: float | None = None,
                 classes=None):
    """An ipywidgets explorer: sliders for ``n`` and ``r`` -> the live noise rate and the map with the
    flipped points. Returns the widget (display it), or None when ipywidgets is not installed. Needs a live
    kernel; the rendered book shows :func:`rate_grid_figure` instead."""
    try:
        import ipywidgets as w
    except ImportError:  # pragma: no cover
        return None
    from ..noise.cbn import CBNState
    from .._validation import check_features, check_labels

    y = check_labels(labels)
    m = check_features(map_2d, name="map_2d", length=y.shape[0])
    state = CBNState(m, y, int(y.max()) + 1, seed)
    smallest = int(state.class_sizes.min())
    n_max = smallest // 2 if n_max is None else int(n_max)
    r_max = float(0.25 * m.std() * 2) if r_max is None else float(r_max)
    cols = np.array(_colors(state.num_classes))
    out = w.Output()

    def draw(n, r):
        plt = _plt()
        noisy = state.noisy(n, r)
        f = noisy != y
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(5.5, 5.2))
            ax.scatter(m[~f, 0], m[~f, 1], s=2, c=cols[y[~f]], alpha=0.15, linewidths=0)
            ax.scatter(m[f, 0], m[f, 1], s=4, c=cols[noisy[f]], linewidths=0)
            ax.set_title(f"n={n}, r={r:.2f}: {100 * f.mean():.1f}% of the labels flipped", fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
            plt.show()

    n_slider = w.IntSlider(value=max(1, min(n_max, 10)), min=1, max=max(1, n_max), description="n")
    r_slider = w.FloatSlider(value=r_max / 4, min=0.0, max=r_max, step=r_max / 100, description="r")
    w.interactive_output(draw, {"n": n_slider, "r": r_slider})
    return w.VBox([w.HBox([n_slider, r_slider]), out])


def top_flips(results: dict, classes=None, k: int = 5):
    """The ``k`` most frequent ``clean -> noisy`` flips of each label set, as a pandas DataFrame
    (one column per label set, entries like ``"cat -> dog: 1202"``)."""
    import pandas as pd

    cols = {}
    for name, r in results.items():
        off = r.counts.copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(-off, axis=None, kind="stable")[:k]
        names = classes if classes is not None else [str(c) for c in range(r.num_classes)]
        cols[name] = [f"{names[i]} -> {names[j]}: {off[i, j]}" for i, j in zip(*np.unravel_index(order, off.shape))
                      if off[i, j] > 0]
        cols[name] += [""] * (k - len(cols[name]))
    return pd.DataFrame(cols, index=pd.RangeIndex(1, k + 1, name="rank"))
