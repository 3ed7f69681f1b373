"""Shared figures: image grids, transition-matrix heatmaps, 2-D maps coloured by class.

Every function draws on a given matplotlib ``ax`` (or makes its own figure) and returns the figure, so chapters
stay one call per figure.
"""
from __future__ import annotations

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    return plt


def show_image(ax, image: np.ndarray) -> None:
    """Draw one uint8 HWC image (1 or 3 channels) without axes."""
    img = image[..., 0] if image.shape[-1] == 1 else image
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def image_grid(images, titles=None, ncols: int = 8, size: float = 1.3, suptitle: str | None = None):
    """A grid of uint8 HWC images with optional per-image titles."""
    plt = _plt()
    n = len(images)
    nrows = max(1, int(np.ceil(n / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * (size + 0.25)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < n:
            show_image(ax, images[i])
            if titles is not None:
                ax.set_title(titles[i], fontsize=7)
        else:
            ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def class_examples(images, labels, classes, per_class: int = 6, seed: int = 0, suptitle=None):
    """``per_class`` random images of every class, one row per class."""
    rng = np.random.default_rng(seed)
    picks, titles = [], []
    for c, name in enumerate(classes):
        idx = np.flatnonzero(labels == c)
        for i in rng.choice(idx, size=min(per_class, idx.size), replace=False):
            picks.append(images[i])
            titles.append(name)
    return image_grid(np.stack(picks), titles, ncols=per_class, suptitle=suptitle)


def heatmap(matrix, classes=None, ax=None, title: str | None = None, fmt: str = ".2f", annotate: bool | None = None,
            vmax: float | None = None, cmap: str = "Blues"):
    """A row-normalised transition matrix T[clean, given] as a heatmap (annotated when small)."""
    plt = _plt()
    matrix = np.asarray(matrix, dtype=float)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 3.8))
    fig = ax.figure
    im = ax.imshow(matrix, cmap=cmap, vmin=0, vmax=vmax if vmax is not None else matrix.max())
    c = matrix.shape[0]
    if classes is not None and c <= 20:
        ax.set_xticks(range(c))
        ax.set_yticks(range(c))
        ax.set_xticklabels(classes, rotation=90, fontsize=7)
        ax.set_yticklabels(classes, fontsize=7)
    ax.set_xlabel("given label")
    ax.set_ylabel("true label")
    if annotate is None:
        annotate = c <= 10
    if annotate:
        for i in range(c):
            for j in range(c):
                v = matrix[i, j]
                if v >= 0.005:
                    ax.text(j, i, format(v, fmt)[1:] if v < 1 else "1", ha="center", va="center", fontsize=5.5,
                            color="white" if v > 0.5 * matrix.max() else "black")
    if title:
        ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return fig


def heatmaps(matrices: dict, classes=None, ncols: int = 3, size: float = 4.0, suptitle=None):
    """Several heatmaps side by side: ``{title: matrix}``."""
    plt = _plt()
    n = len(matrices)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 0.92), squeeze=False)
    for ax, (title, m) in zip(axes.flat, matrices.items()):
        heatmap(m, classes, ax=ax, title=title)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def scatter_map(xy, labels, classes=None, ax=None, title=None, highlight=None, s: float = 2.0,
                highlight_label: str = "highlighted"):
    """A 2-D map (e.g. t-SNE) coloured by class; ``highlight`` (bool mask or indices) drawn as black rings."""
    plt = _plt()
    xy = np.asarray(xy)
    labels = np.asarray(labels)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 6))
    fig = ax.figure
    c = int(labels.max()) + 1 if classes is None else len(classes)
    cmap = plt.get_cmap("tab10" if c <= 10 else "tab20")
    for k in range(c):
        m = labels == k
        ax.scatter(xy[m, 0], xy[m, 1], s=s, color=cmap(k % cmap.N), alpha=0.7, linewidths=0,
                   label=(classes[k] if classes is not None else str(k)) if c <= 20 else None)
    if highlight is not None:
        h = np.asarray(highlight)
        if h.dtype == bool:
            h = np.flatnonzero(h)
        ax.scatter(xy[h, 0], xy[h, 1], s=18, facecolors="none", edgecolors="black", linewidths=0.7,
                   label=highlight_label)
    ax.set_xticks([])
    ax.set_yticks([])
    if c <= 20:
        ax.legend(markerscale=4 if s < 5 else 1, fontsize=7, loc="best", frameon=False)
    if title:
        ax.set_title(title)
    return fig


def bar(values: dict, ax=None, title=None, ylabel=None, fmt="{:.1f}"):
    """A labelled bar chart of ``{name: value}``."""
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(3.5, 0.9 * len(values)), 3.2))
    fig = ax.figure
    names, vals = list(values), [values[k] for k in values]
    bars = ax.bar(names, vals, color="tab:blue")
    for b, v in zip(bars, vals):
        ax.text(b.get_x() + b.get_width() / 2, b.get_height(), fmt.format(v), ha="center", va="bottom", fontsize=8)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
