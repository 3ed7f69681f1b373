"""Chapter 02 figures draw what they claim (headless)."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from labnoise.viz import noise as vn  # noqa: E402
from labnoise.noise import cbn, cbn_rate_grid, symmetric, two_class_blob  # noqa: E402


def _map(n=900, c=3, seed=0):
    g = np.random.default_rng(seed)
    y = g.integers(0, c, n)
    xy = 10 * np.stack([np.cos(2 * np.pi * y / c), np.sin(2 * np.pi * y / c)], 1) + g.normal(size=(n, 2))
    return xy.astype(np.float32), y


def test_panels_ring_exactly_the_flipped_points():
    xy, y = two_class_blob(400, seed=0)
    r = cbn(xy, y, n=5, target_rate=0.2, seed=0)
    fig = vn.noise_panels(xy, {"clean": y, "CBN": r})
    rings = [c for c in fig.axes[1].collections if len(c.get_offsets()) == int(r.flipped.sum())]
    assert rings and np.allclose(rings[0].get_offsets(), xy[r.flipped])
    assert "20.0% flipped" in fig.axes[1].get_title()


def test_algorithm_steps_tables_and_explorer():
    xy, y = _map()
    r = cbn(map_2d=xy, labels=y, n=4, r=1.0, seed=0)
    fig = vn.algorithm_steps(r, ["a", "b", "c"], max_circles=5)
    assert len(fig.axes) == 3 and "5 of 12 discs" in fig.axes[1].get_title()
    s = symmetric(y, 0.3, seed=0)
    table = vn.summary_table({"CBN": r, "sym": s})
    assert table.loc["sym", "targets / class"] == 2.0 and table.loc["CBN", "realised rate (%)"] == round(100 * r.realised_rate, 2)
    flips = vn.top_flips({"CBN": r}, ["a", "b", "c"], k=3)
    top = r.counts.copy()
    np.fill_diagonal(top, 0)
    assert flips.iloc[0, 0].endswith(f": {top.max()}")
    vn.transition_panels({"CBN": r, "sym": s}, ["a", "b", "c"])
    vn.targets_per_class_bars({"CBN": r, "sym": s}, ["a", "b", "c"])
    grid = cbn_rate_grid(xy, y, [1, 4], np.linspace(0, 3, 7), seed=0)
    vn.rate_grid_figure(grid, [1, 4], np.linspace(0, 3, 7))
    w = vn.cbn_explorer(xy, y, seed=0)
    assert w is not None and len(w.children) == 2
