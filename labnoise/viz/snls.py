"""Figures and the neighbour browser of the SNLS chapter (04_snls).

* :func:`neighbour_panel` -- one image, its k nearest neighbours (framed by whether their given label equals
  the image's *true* class) and the label histogram / given label / SNLS soft label (Fig. 6 analog).
* :func:`sweep_plot` -- accuracy against k or alpha, one line per noisy label set.
* :func:`gain_bars` -- accuracy with and without SNLS per host, noise type and rate.
* :func:`neighbour_browser` -- an ipywidgets explorer of any example's neighbours (needs a live kernel; the
  chapter also draws static panels so that executed pages show the same content).
"""
from __future__ import annotations

import numpy as np

from . import FONT, MAX_WIDTH, _plt, panel_grid, show_image, style_axes

__all__ = ["neighbour_panel", "sweep_plot", "gain_bars", "neighbour_browser"]

_OK, _BAD = "#1a9850", "#d73027"


def neighbour_panel(images, index: int, neighbors, noisy_labels, clean_labels, classes, *, k: int = 100,
                    alpha: float = 0.3, ncols: int = 20, size: float = 0.55, title: str | None = None):
    """Fig. 6 analog: image ``index``, its first ``k`` neighbours and the resulting soft label.

    Layout: the image and the label bars (neighbour histogram, given label, SNLS soft label) on top, the
    neighbours below in rows of ``ncols`` across the figure's width, framed green when their given label is the
    image's true class, red otherwise (a caption says so, also under a custom ``title``).

    Parameters
    ----------
    images : (N, H, W, C) uint8 training images (same order as the labels).
    index : the example to show.
    neighbors : (N, >= k) table from :func:`labnoise.methods.snls.neighbor_indices` (column 0 = the example).
    noisy_labels, clean_labels : given and true labels (N,).
    classes : class names.
    k, alpha : SNLS settings used for the histogram and soft label.
    ncols, size : neighbour-grid columns and the largest thumbnail size (inches); thumbnails shrink so that the
        figure is at most :data:`labnoise.viz.MAX_WIDTH` wide.
    """
    from ..methods.snls import neighbor_label_freq, soften

    plt = _plt()
    noisy = np.asarray(noisy_labels)
    clean = np.asarray(clean_labels)
    C = len(classes)
    nb = np.asarray(neighbors)[index, :k]
    freq = neighbor_label_freq(nb[None, :], noisy, num_classes=C)[0]
    soft = soften(freq[None, :], noisy[[index]], alpha=alpha)[0]
    rows = int(np.ceil(len(nb) / ncols))
    # every length below is in inches; the axes are placed explicitly (no tight_layout: 100 thumbnails)
    W = min(MAX_WIDTH, max(ncols * size, 8.5))
    s = min(size, W / ncols)                      # thumbnail cell (frame + gap)
    gap = 0.12 * s
    H_sup, H_cap, H_grid = 0.5, 0.4, rows * s
    H_bars = max(2.6, 0.24 * C + 0.9)             # bar chart incl. its x tick labels
    H = H_sup + H_bars + H_cap + H_grid + 0.1
    fig = plt.figure(figsize=(W, H))

    def rect(x, y, w, h):                         # inches from the bottom-left corner -> figure fraction
        return [x / W, y / H, w / W, h / H]

    y_top = 0.1 + H_grid + H_cap                  # bottom of the top band
    img = min(H_bars - 0.9, 2.3)                  # the image, under its three-line title
    ax0 = fig.add_axes(rect(0.15, y_top + 0.35, img, img))
    show_image(ax0, images[index])
    ax0.set_title(f"#{index}\ngiven: {classes[noisy[index]]}\ntrue: {classes[clean[index]]}",
                  fontsize=FONT["label"], color=_OK if noisy[index] == clean[index] else _BAD)
    bars_x = 0.15 + img + 0.35 + 0.11 * max(len(str(c)) for c in classes) + 0.1   # room for the class names
    legend_w = 2.7
    axb = fig.add_axes(rect(bars_x, y_top + 0.4, max(1.5, W - bars_x - legend_w - 0.1), H_bars - 0.5))
    x = np.arange(C)
    w = 0.27
    onehot = np.eye(C)[noisy[index]]
    axb.barh(x - w, freq, w, label=f"neighbour labels (k={k})", color="#91bfdb")
    axb.barh(x, onehot, w, label="given label", color="#bbbbbb")
    axb.barh(x + w, soft, w, label=f"SNLS soft label (alpha={alpha})", color="#4575b4")
    axb.set_yticks(x)
    axb.set_yticklabels(classes)
    axb.invert_yaxis()
    axb.set_xlim(0, 1)
    style_axes(axb)
    axb.get_yticklabels()[clean[index]].set_fontweight("bold")
    axb.legend(fontsize=FONT["legend"], loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False,
               title="bold class = true class", title_fontsize=FONT["legend"])
    for j, n in enumerate(nb):
        r, c = divmod(j, ncols)
        ax = fig.add_axes(rect(c * s + gap / 2, 0.1 + (rows - 1 - r) * s + gap / 2, s - gap, s - gap))
        show_image(ax, images[n])
        col = _OK if noisy[n] == clean[index] else _BAD
        for sp in ax.spines.values():
            sp.set_edgecolor(col)
            sp.set_linewidth(2.0)
    fig.text(0.5, (0.1 + H_grid + 0.12) / H, f"its {len(nb)} nearest neighbours: frame green = labelled as the true "
             f"class '{classes[clean[index]]}', red = another label", ha="center", va="bottom",
             fontsize=FONT["label"])
    fig.suptitle(title or f"image #{index} and its {len(nb)} nearest neighbours (SNLS, k={k}, alpha={alpha})",
                 fontsize=FONT["suptitle"], y=1 - 0.12 / H, va="top")
    return fig


def sweep_plot(values, curves: dict, *, xlabel: str, ylabel: str = "accuracy (%)", title: str | None = None,
               logx: bool = False, ax=None, reference: dict | None = None):
    """Lines of ``curves[name]`` (one value per entry of ``values``); ``reference`` draws dashed horizontals."""
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.6, 3.6))
    else:
        fig = ax.figure
    for i, (name, ys) in enumerate(curves.items()):
        ax.plot(values, ys, marker="o", ms=3.5, label=str(name), color=f"C{i}")
        if reference and name in reference:
            ax.axhline(reference[name], ls="--", lw=0.8, color=f"C{i}")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel, fontsize=FONT["label"])
    ax.set_ylabel(ylabel, fontsize=FONT["label"])
    style_axes(ax)
    if title:
        ax.set_title(title, fontsize=FONT["title"])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=FONT["legend"])
    return fig


def gain_bars(acc: dict, *, title: str | None = None):
    """Grouped bars from :func:`labnoise.experiments.snls.compare_hosts`' ``acc``: one panel per host (two per
    row), a pair of bars (plain, +SNLS; mean over seeds) per noise set, one legend under the panels."""
    hosts = list(acc)
    fig, axes, ncols = panel_grid(len(hosts), 5.2, 3.6, max_cols=2, extra_h=0.7 if title else 0.4)
    for i, (ax, h) in enumerate(zip(axes, hosts)):
        names, plain, snls = [], [], []
        for noise, by_rate in acc[h].items():
            items = by_rate.items() if isinstance(by_rate, dict) and "plain" not in by_rate else [("", by_rate)]
            for rate, cell in items:
                names.append(f"{noise}\n{rate}" if rate != "" else str(noise))
                plain.append(np.mean(cell["plain"]))
                snls.append(np.mean(cell["snls"]))
        x = np.arange(len(names))
        ax.bar(x - 0.2, plain, 0.4, label="given labels", color="#bbbbbb")
        ax.bar(x + 0.2, snls, 0.4, label="SNLS targets", color="#4575b4")
        for xi, p, s in zip(x, plain, snls):
            ax.text(xi + 0.2, s + 0.5, f"{s - p:+.1f}", ha="center", va="bottom", fontsize=FONT["annotation"])
        ax.set_xticks(x)
        ax.set_xticklabels(names)
        style_axes(ax)
        if i % ncols == 0:
            ax.set_ylabel("test accuracy (%)", fontsize=FONT["label"])
        ax.set_title({"ce": "cross-entropy (MLP head)", "lra_diffusion": "LRA-Diffusion"}.get(h, h),
                     fontsize=FONT["title"])
        ax.set_ylim(0, 100)
        ax.spines[["top", "right"]].set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    if title:
        fig.suptitle(title, fontsize=FONT["suptitle"])
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False, fontsize=FONT["legend"])
    return fig


def neighbour_browser(images, neighbors, noisy_labels, clean_labels, classes, *, alpha: float = 0.3,
                      k_max: int | None = None, start: int = 0, dpi: int = 80):
    """An ipywidgets explorer: pick any example (and k, alpha) and see :func:`neighbour_panel`.

    The panel is rendered to a PNG and shown in an ``Image`` widget (no ``Output`` widget capturing matplotlib,
    which can stall headless executors such as papermill). Returns the widget (display it in a notebook); in a
    headless run it renders as a static placeholder. Returns ``None`` when ipywidgets is not installed.
    """
    try:
        import ipywidgets as w
    except ImportError:  # pragma: no cover
        print("ipywidgets is not installed: no interactive browser (the static panels show the same).")
        return None
    import io

    plt = _plt()
    nbr = np.asarray(neighbors)
    n, kk = nbr.shape
    k_max = min(kk, k_max or kk)
    idx = w.BoundedIntText(value=int(start), min=0, max=n - 1, description="example")
    k = w.IntSlider(value=min(100, k_max), min=1, max=k_max, description="k", continuous_update=False)
    a = w.FloatSlider(value=float(alpha), min=0.0, max=1.0, step=0.05, description="alpha", continuous_update=False)
    pick_wrong = w.Button(description="random mislabelled")
    image = w.Image(format="png")
    wrong = np.flatnonzero(np.asarray(noisy_labels) != np.asarray(clean_labels))
    gen = np.random.default_rng(0)

    def draw(*_):
        fig = neighbour_panel(images, int(idx.value), nbr, noisy_labels, clean_labels, classes, k=int(k.value),
                              alpha=float(a.value))
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        image.value = buf.getvalue()

    def pick(_):
        if wrong.size:
            idx.value = int(gen.choice(wrong))

    for c in (idx, k, a):
        c.observe(draw, names="value")
    pick_wrong.on_click(pick)
    draw()
    return w.VBox([w.HBox([idx, pick_wrong]), w.HBox([k, a]), image])


def label_sweep_figure(sweep: dict):
    """Two panels from :func:`labnoise.experiments.snls.label_sweep`: soft-label accuracy against ``k`` (dashed:
    the given labels) and against ``alpha``, one line per label set."""
    plt = _plt()
    acc = {f"{kd} {r}": v for kd, by in sweep["label_acc"].items() for r, v in by.items()}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    sweep_plot(sweep["k"], {n: v["vs_k"] for n, v in acc.items()}, logx=True, xlabel="k (neighbours)",
               ylabel="argmax soft label = clean (%)", ax=axes[0],
               title=f"soft-label accuracy vs k (alpha={sweep['alpha_at']})",
               reference={n: v["given"] for n, v in acc.items()})
    sweep_plot(sweep["alpha"], {n: v["vs_alpha"] for n, v in acc.items()}, xlabel="alpha (trust in the given label)",
               ylabel="argmax soft label = clean (%)", ax=axes[1],
               title=f"soft-label accuracy vs alpha (k={sweep['k_at']})")
    fig.tight_layout()
    return fig


def model_sweep_figure(msweep: dict, kind: str):
    """Two panels from :func:`labnoise.experiments.snls.model_sweep`: test accuracy of soft CE against ``k`` and
    against ``alpha``, one line per rate."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    any_ = next(iter(msweep.values()))
    sweep_plot(any_["k"], {f"{kind} {r}": v["vs_k"] for r, v in msweep.items()}, logx=True, xlabel="k",
               ax=axes[0], ylabel="test accuracy (%)", title=f"soft CE on SNLS targets (alpha={any_['alpha_at']})")
    sweep_plot(any_["alpha"], {f"{kind} {r}": v["vs_alpha"] for r, v in msweep.items()}, xlabel="alpha",
               ax=axes[1], ylabel="test accuracy (%)", title=f"soft CE on SNLS targets (k={any_['k_at']})")
    fig.tight_layout()
    return fig
