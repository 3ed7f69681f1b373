"""Figures of the memorization chapter (01): histograms, inclusion-exclusion densities, the encoder map with
"incorrectly learned" labels marked, nearest-image grids and a region explorer (ipywidgets + static stand-in).

Every function returns a matplotlib figure (or a widget), so a chapter cell is one call.
"""
from __future__ import annotations

import textwrap

import numpy as np

from ..memorization.stats import closest_to_medoid, region_indices  # re-exported: the example pickers live there
from . import FONT, MAX_WIDTH, _plt, panel_grid, scatter_map, show_image, style_axes

__all__ = ["memorization_histograms", "inclusion_exclusion_density", "incorrectly_learned_map",
           "closest_learned_grid", "region_indices", "region_figure", "region_explorer", "closest_to_medoid"]


def _groups(result, noisy_mask):
    nm = np.asarray(noisy_mask, dtype=bool)
    h = result.held_out
    return h[nm[h]], h[~nm[h]]


def memorization_histograms(sets: dict, bins: int = 21, size: float = 3.6):
    """Fig 1: memorization of correctly vs incorrectly labelled held-out examples, one panel per label set.

    Parameters
    ----------
    sets : {name: (MemorizationResult, noisy_mask)}
    """
    fig, axes, ncols = panel_grid(len(sets), size * 1.3, size, max_cols=2, sharey=True)
    edges = np.linspace(-1, 1, bins + 1)
    top = 0.0
    for i, (ax, (name, (res, nm))) in enumerate(zip(axes, sets.items())):
        wrong, right = _groups(res, nm)
        for idx, lab, col in ((right, "correct labels", "tab:blue"), (wrong, "incorrect labels", "tab:red")):
            v = res.memorization[idx]
            v = v[np.isfinite(v)]
            counts, _, _ = ax.hist(v, bins=edges, weights=np.full(v.size, 1 / max(1, v.size)), alpha=0.6,
                                   color=col, label=f"{lab} (n={v.size}, mean {v.mean():.2f})" if v.size else lab)
            top = max(top, float(np.max(counts, initial=0.0)))
        ax.set_title(f"{name}: m={res.m} runs", fontsize=FONT["title"])
        ax.set_xlabel("memorization = inclusion - exclusion", fontsize=FONT["label"])
        style_axes(ax)
        ax.legend(fontsize=FONT["legend"], frameon=False, loc="upper left")
        if i % ncols == 0:
            ax.set_ylabel("fraction of examples", fontsize=FONT["label"])
    if top > 0:
        axes[0].set_ylim(0, 1.3 * top)  # shared: headroom for the legends above the tallest bar
    fig.tight_layout()
    return fig


def inclusion_exclusion_density(sets: dict, threshold: float = 0.6, bins: int = 25, size: float = 3.8):
    """Fig 2: density of (exclusion, inclusion) of the *incorrectly* labelled held-out examples per label set,
    with the "incorrectly learned" corner (both > ``threshold``) outlined and counted."""
    plt = _plt()
    from matplotlib.colors import LogNorm

    fig, axes, _ = panel_grid(len(sets), size * 1.15, size, max_cols=2)
    edges = np.linspace(0, 1, bins + 1)
    for ax, (name, (res, nm)) in zip(axes, sets.items()):
        wrong, _ = _groups(res, nm)
        inc, exc = res.inclusion[wrong], res.exclusion[wrong]
        ok = np.isfinite(inc) & np.isfinite(exc)
        h, _, _, im = ax.hist2d(exc[ok], inc[ok], bins=edges, cmap="magma_r", norm=LogNorm(vmin=1), cmin=1)
        cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        cb.set_label("examples", fontsize=FONT["label"])
        cb.ax.tick_params(labelsize=FONT["tick"], which="both")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.7, ls=":")
        ax.add_patch(plt.Rectangle((threshold, threshold), 1 - threshold, 1 - threshold, fill=False,
                                   edgecolor="tab:green", lw=1.5))
        n = int(np.sum((inc > threshold) & (exc > threshold)))
        ax.text(0.98, 0.02 + threshold, f"{n} incorrectly\nlearned", ha="right", va="bottom",
                fontsize=FONT["annotation"], color="tab:green", transform=ax.transData)
        ax.set_xlabel("exclusion: P[given label | left out]", fontsize=FONT["label"])
        ax.set_ylabel("inclusion: P[given label | trained on]", fontsize=FONT["label"])
        ax.set_title(f"{name}: {wrong.size} incorrect labels", fontsize=FONT["title"])
        style_axes(ax)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    fig.tight_layout()
    return fig


def incorrectly_learned_map(xy, clean_labels, marks: dict, classes=None, size: float = 6.5, s: float = 2.0):
    """Fig 3: the 2-D encoder map coloured by clean class, one panel per label set (two per row), its
    "incorrectly learned" examples (indices into ``xy``) ringed; one class legend under the panels."""
    fig, axes, _ = panel_grid(len(marks), size, size, max_cols=2, extra_h=0.8)
    for ax, (name, idx) in zip(axes, marks.items()):
        scatter_map(xy, clean_labels, classes=classes, ax=ax, highlight=np.asarray(idx, dtype=np.int64), s=s,
                    title=f"{name}: {len(idx)} incorrectly learned", highlight_label="incorrectly learned",
                    legend=False)
        ax.set_aspect("equal", adjustable="datalim")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.75 / fig.get_figheight(), 1, 1))
    if handles:
        leg = fig.legend(handles, labels, loc="lower center", ncol=min(6, len(handles)), frameon=False,
                         fontsize=FONT["legend"], markerscale=4 if s < 5 else 1)
        leg.legend_handles[-1].set_sizes([18])  # the ring at its size on the map, not markerscale x
    return fig


def closest_learned_grid(images, features, learned, clean_labels, given_labels, classes, per_class: int = 10,
                         n_classes: int = 5, label_name: str = "human"):
    """Fig 4: for the ``n_classes`` clean classes with the most "incorrectly learned" labels, the
    ``per_class`` such images closest to their medoid (encoder space), titled ``given (clean)``."""
    learned = np.asarray(learned, dtype=np.int64)
    clean = np.asarray(clean_labels)
    given = np.asarray(given_labels)
    counts = np.bincount(clean[learned], minlength=len(classes)) if learned.size else np.zeros(len(classes), int)
    top = [c for c in np.argsort(-counts, kind="stable")[:n_classes] if counts[c] > 0]
    plt = _plt()
    if not top:
        fig, ax = plt.subplots(figsize=(5, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no incorrectly learned labels", ha="center", va="center", fontsize=FONT["label"])
        return fig
    margin = 1.0                                  # row labels
    cell = min(1.15, (MAX_WIDTH - margin) / per_class)
    fig, axes = plt.subplots(len(top), per_class, squeeze=False,
                             figsize=(margin + per_class * cell, len(top) * (cell + 0.3) + 0.6))
    for row, c in enumerate(top):
        pick = closest_to_medoid(features, learned[clean[learned] == c], per_class)
        for col in range(per_class):
            ax = axes[row, col]
            if col < pick.size:
                i = pick[col]
                show_image(ax, images[i])
                ax.set_title(f"{classes[given[i]]}", fontsize=FONT["thumb"], color="tab:red")
            else:
                ax.axis("off")
        axes[row, 0].set_ylabel(f"{classes[c]}\n({counts[c]})", fontsize=FONT["label"], rotation=0, ha="right",
                                va="center")
    fig.suptitle(f"incorrectly learned {label_name} labels, closest to each class's medoid\n"
                 "red = given label, row = true class (count)", fontsize=FONT["suptitle"])
    fig.tight_layout()
    return fig


def region_figure(result, noisy_mask, images, clean_labels, given_labels, classes, inclusion=(0.6, 1.0),
                  exclusion=(0.6, 1.0), max_images: int = 16, seed: int = 0, title: str | None = None):
    """Static stand-in for :func:`region_explorer`: the scatter with the region outlined and up to
    ``max_images`` of its images (seeded sample), titled ``given/`` over ``clean``."""
    plt = _plt()
    idx = region_indices(result, noisy_mask, inclusion, exclusion)
    pick = idx
    if idx.size > max_images:
        pick = np.sort(np.random.default_rng(seed).choice(idx, max_images, replace=False))
    ncols = 8
    nrows = max(1, int(np.ceil(len(pick) / ncols)))
    cell = min(1.05, (MAX_WIDTH - 3.3) / ncols)
    fig = plt.figure(figsize=(3.3 + ncols * cell, max(3.4, nrows * (cell + 0.4) + 0.2)), layout="constrained")
    left, right = fig.add_gridspec(1, 2, width_ratios=[3.3, ncols * cell])
    ax = fig.add_subplot(left)
    h = result.held_out[np.asarray(noisy_mask, dtype=bool)[result.held_out]]
    ax.scatter(result.exclusion[h], result.inclusion[h], s=3, alpha=0.3, color="grey", linewidths=0)
    ax.scatter(result.exclusion[idx], result.inclusion[idx], s=5, color="tab:red", linewidths=0)
    ax.add_patch(plt.Rectangle((exclusion[0], inclusion[0]), exclusion[1] - exclusion[0], inclusion[1] - inclusion[0],
                               fill=False, edgecolor="tab:red"))
    ax.set_xlabel("exclusion", fontsize=FONT["label"])
    ax.set_ylabel("inclusion", fontsize=FONT["label"])
    style_axes(ax)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(textwrap.fill(title or f"{idx.size} incorrect labels in the region", 36), fontsize=FONT["title"])
    clean, given = np.asarray(clean_labels), np.asarray(given_labels)
    cells = right.subgridspec(nrows, ncols)
    for j, i in enumerate(pick):
        a = fig.add_subplot(cells[j // ncols, j % ncols])
        show_image(a, images[i])
        a.set_title(f"{classes[given[i]]}/\n{classes[clean[i]]}", fontsize=FONT["thumb"])
    return fig


def region_explorer(result, noisy_mask, images, clean_labels, given_labels, classes, max_images: int = 16):
    """Interactive: two range sliders (inclusion, exclusion) select a region of the scatter; its images and
    labels (``given/clean``) are shown. Needs ipywidgets and a live kernel; in a static page use
    :func:`region_figure`. Returns the widget."""
    import ipywidgets as W
    from IPython.display import display

    plt = _plt()
    inc = W.FloatRangeSlider(value=(0.6, 1.0), min=0, max=1, step=0.05, description="inclusion")
    exc = W.FloatRangeSlider(value=(0.6, 1.0), min=0, max=1, step=0.05, description="exclusion")
    out = W.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            fig = region_figure(result, noisy_mask, images, clean_labels, given_labels, classes, inc.value,
                                exc.value, max_images=max_images)
            display(fig)
            plt.close(fig)

    inc.observe(redraw, names="value")
    exc.observe(redraw, names="value")
    redraw()
    return W.VBox([W.HBox([inc, exc]), out])
