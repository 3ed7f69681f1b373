"""Shared figures: image grids, transition-matrix heatmaps, 2-D maps coloured by class.

Every function draws on a given matplotlib ``ax`` (or makes its own figure) and returns the figure, so chapters
stay one call per figure.

Legibility: the book shows a figure scaled to its content column (about 7.5 in, 750 px at 100 dpi), so what
matters is a text's size *relative to the figure's width*. Every figure here is at most :data:`MAX_WIDTH` inches
wide (multi-panel figures wrap into rows, :func:`panel_grid`) and takes its font sizes from :data:`FONT`, none
below :data:`MIN_FONT` points.
"""
from __future__ import annotations

import numpy as np

#: Font sizes (points) of the book's figures, by role.
FONT = {
    "thumb": 8.5,       # titles over image thumbnails (a cell of ~0.9 in)
    "annotation": 9,    # cell values of a heatmap, numbers over bars, text inside axes
    "tick": 9,          # tick labels, colorbar ticks
    "legend": 9,
    "label": 10,        # axis labels, row labels of image grids, captions
    "title": 11,        # axes titles
    "suptitle": 12,     # figure titles
}
#: No text in a figure is smaller than this (points, at the figure's native size).
MIN_FONT = 8.0
#: The widest figure (inches): wider ones are shown shrunk by more than 7.5 / MAX_WIDTH on the page.
MAX_WIDTH = 10.0


def _plt():
    import matplotlib.pyplot as plt

    return plt


def style_axes(ax) -> None:
    """Tick labels at ``FONT["tick"]`` (kept when matplotlib re-creates ticks, unlike an rc setting)."""
    ax.tick_params(labelsize=FONT["tick"])


def panel_grid(n: int, panel_w: float, panel_h: float, max_cols: int = 2, extra_h: float = 0.0, **subplots_kw):
    """A figure of ``n`` panels, at most ``max_cols`` per row, each ``panel_w`` x ``panel_h`` inches but shrunk so
    that the figure is at most :data:`MAX_WIDTH` wide (height scaled alike); ``extra_h`` inches are added for a
    figure title or legend. Surplus cells of the last row are removed. Returns ``(fig, axes, ncols)``: ``axes``
    is the list of the ``n`` panels in reading order."""
    plt = _plt()
    ncols = max(1, min(n, max_cols))
    nrows = int(np.ceil(n / ncols))
    w = min(panel_w, MAX_WIDTH / ncols)
    h = panel_h * w / panel_w
    fig, grid = plt.subplots(nrows, ncols, figsize=(ncols * w, nrows * h + extra_h), squeeze=False, **subplots_kw)
    flat = list(grid.flat)
    for ax in flat[n:]:
        fig.delaxes(ax)
    return fig, flat[:n], ncols


def show_image(ax, image: np.ndarray) -> None:
    """Draw one uint8 HWC image (1 or 3 channels) without axes."""
    img = image[..., 0] if image.shape[-1] == 1 else image
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _blank(ax) -> None:
    """An empty cell of an image grid that can still carry a row label (unlike ``ax.axis("off")``)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for sp in ax.spines.values():
        sp.set_visible(False)


def _title_height(titles, fontsize: float) -> float:
    """Inches taken by the tallest of ``titles`` (multi-line) above a thumbnail."""
    lines = max((str(t).count("\n") + 1 for t in titles), default=0) if titles is not None else 0
    return 0.12 + lines * fontsize * 1.25 / 72 if lines else 0.08


def image_grid(images, titles=None, ncols: int = 8, size: float = 1.3, suptitle: str | None = None):
    """A grid of uint8 HWC images with optional per-image titles (``size``: thumbnail inches, shrunk so that
    the figure is at most :data:`MAX_WIDTH` wide)."""
    plt = _plt()
    n = len(images)
    nrows = max(1, int(np.ceil(n / ncols)))
    size = min(size, MAX_WIDTH / ncols)
    th = _title_height(titles, FONT["thumb"])
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * (size + th) + (0.45 if suptitle else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < n:
            show_image(ax, images[i])
            if titles is not None:
                ax.set_title(titles[i], fontsize=FONT["thumb"])
        else:
            ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=FONT["suptitle"])
    fig.tight_layout()
    return fig


def class_examples(images, labels, classes, per_class: int = 6, seed: int = 0, suptitle=None):
    """``per_class`` random images of every class, one row per class, the class name at the left of its row."""
    plt = _plt()
    rng = np.random.default_rng(seed)
    rows = []
    for c, _ in enumerate(classes):
        idx = np.flatnonzero(labels == c)
        rows.append(rng.choice(idx, size=min(per_class, idx.size), replace=False))
    margin = 1.0  # row labels
    size = min(1.3, (MAX_WIDTH - margin) / per_class)
    fig, axes = plt.subplots(len(classes), per_class, squeeze=False,
                             figsize=(margin + per_class * size, len(classes) * size + (0.45 if suptitle else 0)))
    for r, (name, pick) in enumerate(zip(classes, rows)):
        for col in range(per_class):
            ax = axes[r, col]
            if col < pick.size:
                show_image(ax, images[pick[col]])
            else:
                _blank(ax)
        axes[r, 0].set_ylabel(name, fontsize=FONT["label"], rotation=0, ha="right", va="center")
    if suptitle:
        fig.suptitle(suptitle, fontsize=FONT["suptitle"])
    fig.tight_layout(h_pad=0.4, w_pad=0.4)
    return fig


def _cell_text(v: float, fmt: str) -> str:
    """``.23`` for 0.23, ``1`` for values that round to 1 (``.2f`` of 0.996 is ``1.00``, not ``.00``)."""
    s = format(v, fmt)
    try:
        if float(s) == 1:
            return "1"
    except ValueError:
        return s
    return s[1:] if s.startswith("0.") else s


def _heatmap_panel_width(c: int, annotate: bool) -> float:
    """Inches a heatmap panel (tick labels, colorbar included) needs for its ``c`` x ``c`` cells to be legible:
    ~0.34 in a cell when values are written in it, ~0.2 in otherwise."""
    cell = 0.34 if annotate else (0.2 if c <= 20 else 0.08)
    return cell * c + 1.6


def heatmap(matrix, classes=None, ax=None, title: str | None = None, fmt: str = ".2f", annotate: bool | None = None,
            vmax: float | None = None, cmap: str = "Blues", *, xticklabels: bool = True, yticklabels: bool = True,
            min_value: float = 0.005):
    """A row-normalised transition matrix T[clean, given] as a heatmap (annotated when small: values
    ``>= min_value``, two digits without the leading zero).

    ``xticklabels`` / ``yticklabels`` False drop the class names and the axis label on that side (panels that
    share it with a neighbour, see :func:`heatmaps`)."""
    plt = _plt()
    matrix = np.asarray(matrix, dtype=float)
    if ax is None:
        c0 = matrix.shape[0]
        w = min(MAX_WIDTH, _heatmap_panel_width(c0, annotate if annotate is not None else c0 <= 10))
        fig, ax = plt.subplots(figsize=(w, 0.9 * w))
    fig = ax.figure
    top = vmax if vmax is not None else matrix.max()
    im = ax.imshow(matrix, cmap=cmap, vmin=0, vmax=top)
    c = matrix.shape[0]
    if classes is not None and c <= 20:
        ax.set_xticks(range(c))
        ax.set_yticks(range(c))
        ax.set_xticklabels(classes if xticklabels else [], rotation=90)
        ax.set_yticklabels(classes if yticklabels else [])
    elif not (xticklabels and yticklabels):
        ax.tick_params(labelbottom=xticklabels, labelleft=yticklabels)
    style_axes(ax)
    if xticklabels:
        ax.set_xlabel("given label", fontsize=FONT["label"])
    if yticklabels:
        ax.set_ylabel("true label", fontsize=FONT["label"])
    if annotate is None:
        annotate = c <= 10
    if annotate:
        for i in range(c):
            for j in range(c):
                v = matrix[i, j]
                if v >= min_value:
                    ax.text(j, i, _cell_text(v, fmt), ha="center", va="center", fontsize=FONT["annotation"],
                            color="white" if v > 0.5 * top else "black")
    if title:
        ax.set_title(title, fontsize=FONT["title"])
    cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cb.ax.tick_params(labelsize=FONT["tick"])
    return fig


def heatmaps(matrices: dict, classes=None, ncols: int = 3, size: float = 4.0, suptitle=None):
    """Several heatmaps, ``{title: matrix}``, at most ``ncols`` per row.

    ``ncols`` is a maximum: a row holds only as many panels as fit in :data:`MAX_WIDTH` at a legible cell size
    (two for annotated 10 x 10 matrices, so four of them make a 2 x 2 grid); class names and axis labels are
    drawn once per row (left) and column (bottom). ``size`` is a panel's width in inches (made smaller or
    larger to fit that rule)."""
    n = len(matrices)
    c = max(np.shape(m)[0] for m in matrices.values())
    need = _heatmap_panel_width(c, c <= 10)
    ncols = max(1, min(ncols, n, int(MAX_WIDTH // need)))
    w = min(max(size, need), MAX_WIDTH / ncols)
    nrows = int(np.ceil(n / ncols))
    title_lines = max(str(t).count("\n") + 1 for t in matrices)
    extra = (0.4 if suptitle else 0) + (1.0 if classes is not None and c <= 20 else 0.4)  # rotated class names
    fig, axes, ncols = panel_grid(n, w, 0.74 * w + 0.2 * title_lines, max_cols=ncols, extra_h=extra)
    for i, (ax, (title, m)) in enumerate(zip(axes, matrices.items())):
        heatmap(m, classes, ax=ax, title=title, xticklabels=i + ncols >= n, yticklabels=i % ncols == 0)
    if suptitle:
        fig.suptitle(suptitle, fontsize=FONT["suptitle"])
    fig.tight_layout()
    return fig


def scatter_map(xy, labels, classes=None, ax=None, title=None, highlight=None, s: float = 2.0,
                highlight_label: str = "highlighted", *, legend: bool = True):
    """A 2-D map (e.g. t-SNE) coloured by class; ``highlight`` (bool mask or indices) drawn as black rings.
    ``legend=False`` leaves the class legend out (e.g. for one shared figure legend, see
    :func:`labnoise.viz.memorization.incorrectly_learned_map`)."""
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
    if c <= 20 and legend:
        ax.legend(markerscale=4 if s < 5 else 1, fontsize=FONT["legend"], loc="best", frameon=False)
    if title:
        ax.set_title(title, fontsize=FONT["title"])
    return fig


def bar(values: dict, ax=None, title=None, ylabel=None, fmt="{:.1f}"):
    """A labelled bar chart of ``{name: value}``."""
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(min(MAX_WIDTH, max(4.5, 0.9 * len(values))), 3.4))
    fig = ax.figure
    names, vals = list(values), [values[k] for k in values]
    bars = ax.bar(names, vals, color="tab:blue")
    for b, v in zip(bars, vals):
        ax.text(b.get_x() + b.get_width() / 2, b.get_height(), fmt.format(v), ha="center", va="bottom",
                fontsize=FONT["annotation"])
    style_axes(ax)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=FONT["label"])
    if title:
        ax.set_title(title, fontsize=FONT["title"])
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
