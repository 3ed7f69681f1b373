"""Figure text is legible at the width the book shows figures.

The pages scale a figure to their content column (~7.5 in), so a figure's text is readable only when its size is
large *relative to the figure's width*: every text that is drawn is at least 8 pt and the figure at most 12 in
wide (so the text is not "big" only because the canvas is huge), and no two drawn texts overlap. Built on small
synthetic inputs with CIFAR-10's class names (the longest labels the book draws), headless.
"""
import types

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from labnoise import viz  # noqa: E402
from labnoise.experiments.tables import PAPER_TABLE_I  # noqa: E402
from labnoise import noise  # noqa: E402
from labnoise.viz import memorization as vm  # noqa: E402
from labnoise.viz import noise as vn  # noqa: E402
from labnoise.viz import snls as vs  # noqa: E402
from labnoise.viz import table as vt  # noqa: E402

MIN_PT = 8.0
MAX_IN = 12.0
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
N = 300


@pytest.fixture(scope="module")
def data():
    g = np.random.default_rng(0)
    clean = g.integers(0, 10, N)
    noisy = clean.copy()
    flip = g.random(N) < 0.3
    noisy[flip] = (clean[flip] + g.integers(1, 10, flip.sum())) % 10
    xy = g.normal(size=(N, 2)) + 4 * np.stack([np.cos(clean), np.sin(clean)], 1)
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    images = (g.random((N, 8, 8, 3)) * 255).astype(np.uint8)

    def transition(seed, rate):
        r = np.random.default_rng(seed)
        t = r.dirichlet(np.full(10, 0.3), 10) * rate
        t[np.arange(10), np.arange(10)] += 1 - rate
        return t / t.sum(1, keepdims=True)

    def result(seed):
        r = np.random.default_rng(seed)
        inc = r.random(N)
        exc = np.clip(inc - 0.8 * r.random(N), 0, 1)
        return types.SimpleNamespace(held_out=np.arange(N), inclusion=inc, exclusion=exc, memorization=inc - exc,
                                     m=1000)

    return types.SimpleNamespace(clean=clean, noisy=noisy, flip=flip, xy=xy, images=images,
                                 nbr=np.argsort(d, axis=1, kind="stable")[:, :100], T=transition,
                                 sets={"human (random1)": (result(1), flip), "synthetic (same T)": (result(2), flip)})


def _acc():
    return {h: {kind: {r: {"plain": [55.0 + i], "snls": [62.0 + i]} for i, r in enumerate(("0.35", "0.7"))}
                for kind in ("cbn", "pmd")} for h in ("ce", "lra_diffusion")}


def _records():
    return [{"method": m, "noise": n, "rate": r, "seed": 0,
             "metrics": {"test_acc_curve": list(np.linspace(0.3, 0.7, 12))}}
            for m in PAPER_TABLE_I for n in ("pmd", "cbn") for r in (0.35, 0.7)]


def _table():
    return {m: {n: {r: {"mean": v / 100 - 0.05, "sd": 0.01} for r, v in by_r.items()} for n, by_r in by_n.items()}
            for m, by_n in PAPER_TABLE_I.items()}


def _cbn(d, n=4):
    return noise.cbn(map_2d=d.xy, labels=d.clean, n=n, r=0.6, seed=0)


FIGURES = {
    # chapter 02 (viz/noise.py)
    "noise_panels": lambda d: vn.noise_panels(d.xy, {"clean": d.clean, "uniform": noise.symmetric(d.clean, 0.2, seed=0),
                                                     "CBN": _cbn(d), "CBN 2": _cbn(d, 8)}, CLASSES, boundary_x=None),
    "algorithm_steps": lambda d: vn.algorithm_steps(_cbn(d), CLASSES),
    "targets_per_class_bars": lambda d: vn.targets_per_class_bars({"uniform": noise.symmetric(d.clean, 0.3, seed=0),
                                                                   "CBN": _cbn(d)}, CLASSES, title="targets"),
    "rate_grid_figure": lambda d: vn.rate_grid_figure(np.linspace(0, 0.9, 7 * 5).reshape(7, 5),
                                                      [1, 2, 4, 8, 16, 32, 64], np.linspace(0, 2, 5), title="rate"),
    "image_grid": lambda d: viz.image_grid(d.images[:24], [f"{CLASSES[d.noisy[i]]}\n({CLASSES[d.clean[i]]})"
                                                           for i in range(24)], ncols=8, suptitle="errors"),
    "class_examples": lambda d: viz.class_examples(d.images, d.clean, CLASSES, per_class=8, suptitle="examples"),
    "heatmap": lambda d: viz.heatmap(d.T(0, 0.3), CLASSES, title="random1"),
    "heatmaps_3": lambda d: viz.heatmaps({f"set {i}": d.T(i, 0.2 * i) for i in range(1, 4)}, classes=CLASSES,
                                         suptitle="transition matrices"),
    # chapter 02's transition_panels: four 10 x 10 matrices, ncols=4, size=3.9
    "heatmaps_4_panels": lambda d: viz.heatmaps({f"{k}\n35.0% noise": d.T(i, 0.35) for i, k in
                                                 enumerate(("symmetric", "pairflip", "PMD", "CBN"))},
                                                CLASSES, ncols=4, size=3.9),
    "heatmaps_small_no_classes": lambda d: viz.heatmaps({"a": np.eye(3), "b": np.full((3, 3), 1 / 3)}),
    "scatter_map": lambda d: viz.scatter_map(d.xy, d.clean, CLASSES, title="t-SNE", highlight=d.flip),
    "bar": lambda d: viz.bar({"aggre": 9.01, "worse": 40.21, "random1": 17.23, "random2": 18.12,
                              "random3": 17.64}, title="noise rate", ylabel="noisy labels (%)"),
    "neighbour_panel": lambda d: vs.neighbour_panel(d.images, 5, d.nbr, d.noisy, d.clean, CLASSES, k=100),
    "neighbour_panel_small": lambda d: vs.neighbour_panel(d.images[:, :, :, :1], 3, d.nbr[:, :20], d.noisy % 4,
                                                          d.clean % 4, ["a", "b", "c", "d"], k=20, ncols=10,
                                                          title="custom title"),
    "sweep_plot": lambda d: vs.sweep_plot([1, 3, 10, 30, 100], {f"{k} {r}": np.linspace(50, 70, 5)
                                                                for k in ("cbn", "pmd") for r in (0.35, 0.7)},
                                          logx=True, xlabel="k", title="accuracy vs k"),
    "gain_bars": lambda d: vs.gain_bars(_acc(), title="test accuracy with and without SNLS"),
    "memorization_histograms": lambda d: vm.memorization_histograms(d.sets),
    "inclusion_exclusion_density": lambda d: vm.inclusion_exclusion_density(d.sets),
    "incorrectly_learned_map": lambda d: vm.incorrectly_learned_map(d.xy, d.clean, {"human": np.arange(0, N, 7),
                                                                                    "synthetic": np.arange(0, N, 11)},
                                                                    classes=CLASSES),
    "closest_learned_grid": lambda d: vm.closest_learned_grid(d.images, d.xy, np.flatnonzero(d.flip), d.clean,
                                                              d.noisy, CLASSES, per_class=10, n_classes=5),
    "region_figure": lambda d: vm.region_figure(d.sets["human (random1)"][0], d.flip, d.images, d.clean, d.noisy,
                                                CLASSES, title="human (random1): incorrectly learned (static)"),
    "plot_table": lambda d: vt.plot_table(_table(), PAPER_TABLE_I, ours_label="ours, pixels + mlp", ceiling=0.8,
                                          title="Table I"),
    "plot_curves": lambda d: vt.plot_curves(_records()),
}


def _drawn_texts(fig, monkeypatch):
    """The texts a render actually draws (tick labels outside the view limits, for one, are not)."""
    drawn = []
    original = Text.draw

    def draw(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return original(self, renderer)

    with monkeypatch.context() as m:
        m.setattr(Text, "draw", draw)
        fig.canvas.draw()
    return drawn


@pytest.mark.parametrize("name", list(FIGURES))
def test_text_is_legible_at_book_width(name, data, monkeypatch):
    fig = FIGURES[name](data)
    try:
        width = fig.get_size_inches()[0]
        assert width <= MAX_IN, f"{name}: {width:.1f} in wide"
        texts = _drawn_texts(fig, monkeypatch)
        assert texts
        small = sorted({(t.get_fontsize(), t.get_text()) for t in texts if t.get_fontsize() < MIN_PT})
        assert not small, f"{name}: text below {MIN_PT} pt: {small[:5]}"
        # no two (axis-aligned) texts overlap
        r = fig.canvas.get_renderer()
        straight = [t for t in texts if t.get_rotation() % 90 == 0]
        boxes = [t.get_window_extent(r) for t in straight]
        clashes = []
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                inter = boxes[i].intersection(boxes[i], boxes[j])
                if inter is not None and inter.width > 1 and inter.height > 1:
                    clashes.append((straight[i].get_text(), straight[j].get_text()))
        assert not clashes, f"{name}: overlapping texts {clashes[:5]}"
    finally:
        plt.close(fig)


def test_ten_class_heatmaps_wrap_and_values_fit_their_cells(data, monkeypatch):
    """Four 10 x 10 matrices asked for in one row come out 2 x 2, every cell value narrower than its cell, and the
    class names drawn once per row / column."""
    fig = FIGURES["heatmaps_4_panels"](data)
    try:
        texts = _drawn_texts(fig, monkeypatch)
        panels = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
        assert len(panels) == 4
        assert len({round(ax.get_position().y0, 3) for ax in panels}) == 2      # two rows
        r = fig.canvas.get_renderer()
        for ax in panels:
            cell = ax.get_window_extent(r).width / 10
            for t in ax.texts:
                assert t.get_window_extent(r).width < 0.9 * cell, t.get_text()
        names = [t.get_text() for t in texts if t.get_text() == "automobile"]
        assert len(names) == 4          # y: two rows, x: two columns (not 4 + 4)
    finally:
        plt.close(fig)


def test_cell_values_are_two_digits_without_the_leading_zero():
    from labnoise.viz import _cell_text

    assert [_cell_text(v, ".2f") for v in (0.23, 0.05, 0.996, 1.0)] == [".23", ".05", "1", "1"]


def test_panel_grid_caps_the_width():
    fig, axes, ncols = viz.panel_grid(3, 6.0, 4.0, max_cols=2)
    try:
        assert len(fig.axes) == len(axes) == 3 and ncols == 2
        assert fig.get_size_inches()[0] <= viz.MAX_WIDTH <= MAX_IN
    finally:
        plt.close(fig)
