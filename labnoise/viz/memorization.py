"""Figures of the memorization chapter (01): histograms, inclusion-exclusion densities, the encoder map with
"incorrectly learned" labels marked, nearest-image grids and a region explorer (ipywidgets + static stand-in).

Every function returns a matplotlib figure (or a widget), so a chapter cell is one call.
"""
from __future__ import annotations

import numpy as np

from . import _plt, scatter_map, show_image

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
    plt = _plt()
    fig, axes = plt.subplots(1, len(sets), figsize=(size * 1.3 * len(sets), size), squeeze=False, sharey=True)
    edges = np.linspace(-1, 1, bins + 1)
    for ax, (name, (res, nm)) in zip(axes.flat, sets.items()):
        wrong, right = _groups(res, nm)
        for idx, lab, col in ((right, "correct labels", "tab:blue"), (wrong, "incorrect labels", "tab:red")):
            v = res.memorization[idx]
            v = v[np.isfinite(v)]
            ax.hist(v, bins=edges, weights=np.full(v.size, 1 / max(1, v.size)), alpha=0.6, color=col,
                    label=f"{lab} (n={v.size}, mean {v.mean():.2f})" if v.size else lab)
        ax.set_title(f"{name}: m={res.m} runs")
        ax.set_xlabel("memorization = inclusion - exclusion")
        ax.legend(fontsize=7, frameon=False)
    axes.flat[0].set_ylabel("fraction of examples")
    fig.tight_layout()
    return fig


def inclusion_exclusion_density(sets: dict, threshold: float = 0.6, bins: int = 25, size: float = 3.8):
    """Fig 2: density of (exclusion, inclusion) of the *incorrectly* labelled held-out examples per label set,
    with the "incorrectly learned" corner (both > ``threshold``) outlined and counted."""
    plt = _plt()
    from matplotlib.colors import LogNorm

    fig, axes = plt.subplots(1, len(sets), figsize=(size * 1.15 * len(sets), size), squeeze=False)
    edges = np.linspace(0, 1, bins + 1)
    for ax, (name, (res, nm)) in zip(axes.flat, sets.items()):
        wrong, _ = _groups(res, nm)
        inc, exc = res.inclusion[wrong], res.exclusion[wrong]
        ok = np.isfinite(inc) & np.isfinite(exc)
        h, _, _, im = ax.hist2d(exc[ok], inc[ok], bins=edges, cmap="magma_r", norm=LogNorm(vmin=1), cmin=1)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="examples")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.7, ls=":")
        ax.add_patch(plt.Rectangle((threshold, threshold), 1 - threshold, 1 - threshold, fill=False,
                                   edgecolor="tab:green", lw=1.5))
        n = int(np.sum((inc > threshold) & (exc > threshold)))
        ax.text(0.98, 0.02 + threshold, f"{n} incorrectly\nlearned", ha="right", va="bottom", fontsize=8,
                color="tab:green", transform=ax.transData)
        ax.set_xlabel("exclusion: P[given label | left out]", fontsize=9)
        ax.set_ylabel("inclusion: P[given label | trained on]", fontsize=9)
        ax.set_title(f"{name}: {wrong.size} incorrect labels")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    fig.tight_layout()
    return fig


def incorrectly_learned_map(xy, clean_labels, marks: dict, classes=None, size: float = 6.5, s: float = 2.0):
    """Fig 3: the 2-D encoder map coloured by clean class, one panel per label set, its "incorrectly learned"
    examples (indices into ``xy``) ringed."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(marks), figsize=(size * len(marks), size), squeeze=False)
    for ax, (name, idx) in zip(axes.flat, marks.items()):
        scatter_map(xy, clean_labels, classes=classes, ax=ax, highlight=np.asarray(idx, dtype=np.int64), s=s,
                    title=f"{name}: {len(idx)} incorrectly learned", highlight_label="incorrectly learned")
    fig.tight_layout()
    return fig


def closest_to_medoid(features, idx, k: int = 10) -> np.ndarray:
    """The ``k`` members of ``idx`` closest (Euclidean, in ``features``) to the medoid of ``idx``: a tight
    group, i.e. the densest part of the set."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size <= k:
        return idx
    f = np.asarray(features, dtype=np.float64)[idx]
    sq = (f * f).sum(1)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * f @ f.T, 0))
    med = int(np.argmin(d.sum(1)))
    return idx[np.argsort(d[med], kind="stable")[:k]]


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
        ax.text(0.5, 0.5, "no incorrectly learned labels", ha="center", va="center")
        return fig
    fig, axes = plt.subplots(len(top), per_class, figsize=(per_class * 1.15, len(top) * 1.45), squeeze=False)
    for row, c in enumerate(top):
        pick = closest_to_medoid(features, learned[clean[learned] == c], per_class)
        for col in range(per_class):
            ax = axes[row, col]
            if col < pick.size:
                i = pick[col]
                show_image(ax, images[i])
                ax.set_title(f"{classes[given[i]]}", fontsize=7, color="tab:red")
            else:
                ax.axis("off")
        axes[row, 0].set_ylabel(f"{classes[c]}\n({counts[c]})", fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(f"incorrectly learned {label_name} labels, closest to each class's medoid: red = given label, "
                 "row = true class (count)", fontsize=9)
    fig.tight_layout()
    return fig


def region_indices(result, noisy_mask, inclusion=(0.6, 1.0), exclusion=(0.6, 1.0), only_incorrect: bool = True):
    """Held-out examples whose inclusion and exclusion lie in the given closed ranges."""
    h = result.held_out
    if only_incorrect:
        h = h[np.asarray(noisy_mask, dtype=bool)[h]]
    inc, exc = result.inclusion[h], result.exclusion[h]
    sel = (inc >= inclusion[0]) & (inc <= inclusion[1]) & (exc >= exclusion[0]) & (exc <= exclusion[1])
    return h[sel]


def region_figure(result, noisy_mask, images, clean_labels, given_labels, classes, inclusion=(0.6, 1.0),
                  exclusion=(0.6, 1.0), max_images: int = 16, seed: int = 0, title: str | None = None):
    """Static stand-in for :func:`region_explorer`: the scatter with the region outlined and up to
    ``max_images`` of its images (seeded sample), titled ``given / clean``."""
    plt = _plt()
    idx = region_indices(result, noisy_mask, inclusion, exclusion)
    pick = idx
    if idx.size > max_images:
        pick = np.sort(np.random.default_rng(seed).choice(idx, max_images, replace=False))
    ncols = 8
    nrows = max(1, int(np.ceil(len(pick) / ncols)))
    fig = plt.figure(figsize=(3.4 + ncols * 1.05, max(3.2, nrows * 1.3)))
    gs = fig.add_gridspec(nrows, ncols + 3)
    ax = fig.add_subplot(gs[:, :3])
    h = result.held_out[np.asarray(noisy_mask, dtype=bool)[result.held_out]]
    ax.scatter(result.exclusion[h], result.inclusion[h], s=3, alpha=0.3, color="grey", linewidths=0)
    ax.scatter(result.exclusion[idx], result.inclusion[idx], s=5, color="tab:red", linewidths=0)
    ax.add_patch(plt.Rectangle((exclusion[0], inclusion[0]), exclusion[1] - exclusion[0], inclusion[1] - inclusion[0],
                               fill=False, edgecolor="tab:red"))
    ax.set_xlabel("exclusion")
    ax.set_ylabel("inclusion")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title or f"{idx.size} incorrect labels in the region", fontsize=9)
    clean, given = np.asarray(clean_labels), np.asarray(given_labels)
    for j, i in enumerate(pick):
        a = fig.add_subplot(gs[j // ncols, 3 + j % ncols])
        show_image(a, images[i])
        a.set_title(f"{classes[given[i]]}/{classes[clean[i]]}", fontsize=6)
    fig.tight_layout()
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
