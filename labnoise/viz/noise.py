"""Figures and the interactive explorers of chapter 02 (cluster-based noise).

Every function returns a matplotlib figure, so a chapter cell stays one call per figure; the two explorers are
:func:`cbn_explorer_html` (self-contained HTML + JavaScript with the CBN results precomputed on an ``(n, r)``
grid: works in a static page such as the built book) and :func:`cbn_explorer` (ipywidgets, any ``(n, r)``, needs
a live kernel).
"""
from __future__ import annotations

import numpy as np

from . import FONT, MAX_WIDTH, heatmaps, scatter_map, style_axes

__all__ = ["noise_panels", "algorithm_steps", "transition_panels", "targets_per_class_bars", "rate_grid_figure",
           "cbn_explorer", "cbn_explorer_html", "summary_table", "top_flips"]


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
    w = min(3.3, MAX_WIDTH / len(results))
    fig, axes = plt.subplots(1, len(results), figsize=(w * len(results), 3.4 * w / 3.3 + 0.4), squeeze=False)
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
        ax.set_title(title, fontsize=FONT["title"])
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
    fig, axes = plt.subplots(1, 3, figsize=(MAX_WIDTH, 4.2))
    scatter_map(m, y, classes, ax=axes[0], s=s, title="1. t-SNE map (clean labels)\nand class centres")
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
    axes[1].set_title(f"2. n={n} sub-centres per class,\nradius r={r:.2f}{shown}", fontsize=FONT["title"])

    f = result.flipped
    axes[2].scatter(m[~f, 0], m[~f, 1], s=s, c=cols[y[~f]], alpha=0.15, linewidths=0)
    axes[2].scatter(m[f, 0], m[f, 1], s=s * 2, c=cols[noisy[f]], linewidths=0)
    axes[2].scatter(centres[:, 0], centres[:, 1], marker="*", s=220, c=cols, edgecolors="black", linewidths=1.0)
    axes[2].set_title(f"3. flipped points in their new\nlabel's colour: {100 * result.realised_rate:.1f}%",
                      fontsize=FONT["title"])
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
    fig, ax = plt.subplots(figsize=(min(MAX_WIDTH, max(6.0, 0.75 * C + 2)), 3.4))
    for k, name in enumerate(names):
        t = results[name].targets_per_class(min_fraction)
        ax.bar(np.arange(C) + (k - (len(names) - 1) / 2) * width, t.per_class, width,
               label=f"{name}: mean {t.mean:.1f}, top-2 share {100 * t.top2_share:.0f}%")
    ax.set_xticks(range(C))
    ax.set_xticklabels(classes if classes is not None else [str(c) for c in range(C)], rotation=45, fontsize=FONT["tick"])
    ax.set_ylabel("distinct target classes")
    ax.set_ylim(0, C)
    ax.legend(fontsize=FONT["legend"], frameon=False, loc="upper left", ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    style_axes(ax)
    if title:
        ax.set_title(title, fontsize=FONT["title"])
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
    ax.legend(fontsize=FONT["legend"], frameon=False, ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    style_axes(ax)
    if title:
        ax.set_title(title, fontsize=FONT["title"])
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
    kernel (any ``n`` and ``r``, the whole map); a static page needs :func:`cbn_explorer_html` instead."""
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
            ax.set_title(f"n={n}, r={r:.2f}: {100 * f.mean():.1f}% of the labels flipped", fontsize=FONT["title"])
            ax.set_xticks([])
            ax.set_yticks([])
            plt.show()

    n_slider = w.IntSlider(value=max(1, min(n_max, 10)), min=1, max=max(1, n_max), description="n")
    r_slider = w.FloatSlider(value=r_max / 4, min=0.0, max=r_max, step=r_max / 100, description="r")
    w.interactive_output(draw, {"n": n_slider, "r": r_slider})
    return w.VBox([w.HBox([n_slider, r_slider]), out])


_EXPLORER_JS = r"""
(function () {
  var root = document.getElementById("__ID__");
  var dataEl = document.getElementById("__ID__-data");
  if (!root || !dataEl || root.getAttribute("data-ready")) { return; }
  root.setAttribute("data-ready", "1");
  var D = JSON.parse(dataEl.textContent);
  var q = function (cls) { return root.querySelector("." + cls); };
  var nIn = q("cbn-n"), rIn = q("cbn-r"), nOut = q("cbn-n-value"), rOut = q("cbn-r-value");
  var discIn = q("cbn-discs"), rateEl = q("cbn-rate"), canvas = q("cbn-canvas");
  var ctx = canvas.getContext("2d");
  var P = D.labels.length, C = D.colors.length, masks = {};
  function mask(i, j) {  // the flip bitset of cell (i, j), bit k = subsample point k (little-endian bytes)
    var key = i + "," + j;
    if (!masks[key]) {
      var s = atob(D.masks[i][j]), m = new Uint8Array(P);
      for (var k = 0; k < P; k++) { m[k] = (s.charCodeAt(k >> 3) >> (k & 7)) & 1; }
      masks[key] = m;
    }
    return masks[key];
  }
  function pct(x) { return (100 * x).toFixed(1) + "%"; }
  function draw() {
    var i = +nIn.value, j = +rIn.value, n = D.ns[i], r = D.rs[j];
    nOut.textContent = String(n);
    rOut.textContent = r.toFixed(D.rDigits);
    var dpr = window.devicePixelRatio || 1, W = D.size;
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(W * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, W);
    var pad = 8, S = W - 2 * pad, Q = D.quant;
    var X = function (u) { return pad + S * u / Q; }, Y = function (v) { return pad + S * (1 - v / Q); };
    var m = mask(i, j), xy = D.xy, k, c;
    ctx.globalAlpha = 0.35;
    for (k = 0; k < P; k++) {
      if (m[k]) { continue; }
      ctx.fillStyle = D.colors[D.labels[k]];
      ctx.fillRect(X(xy[2 * k]) - 1.5, Y(xy[2 * k + 1]) - 1.5, 3, 3);
    }
    if (discIn.checked && r > 0) {
      ctx.globalAlpha = 0.55; ctx.lineWidth = 0.8;
      var rad = S * r / D.span;
      for (c = 0; c < C; c++) {
        var sc = D.subs[c], shown = Math.min(n, sc.length / 2);
        ctx.strokeStyle = D.colors[c];
        for (k = 0; k < shown; k++) {
          ctx.beginPath(); ctx.arc(X(sc[2 * k]), Y(sc[2 * k + 1]), rad, 0, 2 * Math.PI); ctx.stroke();
        }
      }
    }
    ctx.globalAlpha = 1.0; ctx.lineWidth = 0.9; ctx.strokeStyle = "#000";
    var drawn = 0;
    for (k = 0; k < P; k++) {
      if (!m[k]) { continue; }
      drawn++;
      ctx.beginPath(); ctx.arc(X(xy[2 * k]), Y(xy[2 * k + 1]), 2.8, 0, 2 * Math.PI);
      ctx.fillStyle = D.colors[D.newLabels[k]]; ctx.fill(); ctx.stroke();
    }
    var capped = "";
    if (discIn.checked && n > D.discsPerClass) {
      capped = " (discs: the first " + D.discsPerClass + " of " + n + " per class drawn)";
    }
    rateEl.textContent = "n = " + n + ", r = " + r.toFixed(D.rDigits) + ": " + pct(D.counts[i][j] / D.total) +
      " of all " + D.total.toLocaleString("en-US") + " labels flipped; " + drawn + " of the " + P.toLocaleString("en-US") +
      " drawn points" + capped;
  }
  nIn.addEventListener("input", draw);
  rIn.addEventListener("input", draw);
  discIn.addEventListener("change", draw);
  draw();
})();
"""


def cbn_explorer_html(map_2d, labels, ns, rs, seed: int = 0, *, classes=None, max_points: int = 1500,
                      start_rate: float | None = None, max_discs: int = 4000, size: int = 460,
                      subsample_seed: int | None = None, element_id: str | None = None, about: str | None = None):
    """A self-contained HTML + JavaScript CBN explorer that works in a static page (the built book) as well as
    in Jupyter: two range sliders pick ``n`` from ``ns`` and ``r`` from ``rs``; a canvas draws a seeded random
    subsample of at most ``max_points`` map points coloured by clean class, the flipped ones filled with their
    new label's colour and ringed in black, and (optionally) the sub-centres' radius-``r`` discs; a line states
    the realised noise rate of the *whole* data set for that cell.

    Nothing is computed in the browser: for every ``(n, r)`` cell the flips come from
    :class:`labnoise.noise.cbn.CBNState` (the state :func:`labnoise.noise.cbn` uses, same ``seed`` -> same
    sub-centres), the count of flipped labels over all points and the subsample's flip mask (a base64 bitset)
    are embedded as JSON. No external script, style sheet or image is referenced. Every call gets its own
    element id (``element_id`` overrides it), so several explorers can share a page.

    ``about`` names the map in the caption (e.g. the run's data set and encoder). ``start_rate``: the sliders
    start at the cell whose rate is closest to it (default: the middle cell). ``subsample_seed`` (default
    ``seed``) seeds the choice of the drawn points. ``max_discs`` bounds the number of embedded sub-centres (per
    class the first ``max_discs // C``; the sub-centres for ``n`` are a prefix of those for ``n + 1``).
    Returns an :class:`IPython.display.HTML` object (``.data`` is the HTML string)."""
    import base64
    import html as html_mod
    import json
    import uuid

    from IPython.display import HTML

    from .._validation import check_features, check_labels, check_num_classes, rng as make_rng
    from ..noise.cbn import CBNState

    # every check runs before anything is computed
    y = check_labels(labels)
    m = check_features(map_2d, name="map_2d", length=y.shape[0])
    if m.shape[1] != 2:
        raise ValueError(f"map_2d must be a 2-D map with 2 columns, got shape {m.shape}.")
    C = check_num_classes(int(y.max()) + 1, y)
    counts_per_class = np.bincount(y, minlength=C)
    if (counts_per_class == 0).any():
        raise ValueError(f"every class needs at least one point; classes "
                         f"{np.flatnonzero(counts_per_class == 0).tolist()} are empty.")
    smallest = int(counts_per_class.min())
    ns = [int(n) for n in ns]
    if not ns or any(not 1 <= n <= smallest for n in ns) or len(set(ns)) != len(ns):
        raise ValueError(f"ns must be distinct integers in [1, {smallest}] (the smallest class has {smallest} "
                         f"points), got {ns}.")
    rs = np.asarray(rs, dtype=np.float64).ravel()
    if rs.size == 0 or not np.isfinite(rs).all() or (rs < 0).any() or (np.diff(rs) <= 0).any():
        raise ValueError("rs must be a non-empty increasing sequence of non-negative radii (map units).")
    if classes is not None and len(classes) != C:
        raise ValueError(f"classes has {len(classes)} names but the labels describe {C} classes.")
    if int(max_points) < 1:
        raise ValueError(f"max_points must be >= 1, got {max_points!r}.")
    ns = sorted(ns)
    N = y.shape[0]

    state = CBNState(m, y, C, seed)
    P = min(int(max_points), N)
    sub = np.sort(make_rng(seed if subsample_seed is None else subsample_seed).choice(N, P, replace=False))
    counts, masks = [], []
    for n in ns:
        d = state.dmin(n)
        d_sorted = np.sort(d)
        counts.append(np.searchsorted(d_sorted, rs, side="left").tolist())  # number of points with d < r
        masks.append([base64.b64encode(np.packbits(d[sub] < r, bitorder="little").tobytes()).decode("ascii")
                      for r in rs])
    counts = np.asarray(counts)

    quant = 10000
    lo = m.min(0).astype(np.float64)
    span = float((m.max(0) - lo).max()) or 1.0
    off = lo - 0.5 * (span - (m.max(0) - lo))   # centre the shorter axis

    def q(points):
        return np.clip(np.round((points - off) / span * quant), 0, quant).astype(int).ravel().tolist()

    per_class = max(1, min(max(ns), int(max_discs) // C))
    subs = [q(m[mem[:per_class]]) for mem in state.members]
    r_step = float(np.min(np.diff(rs))) if rs.size > 1 else float(rs[0] or 1.0)
    r_digits = int(min(6, max(2, -np.floor(np.log10(r_step)) + 1))) if r_step > 0 else 2
    if start_rate is None:
        i0, j0 = len(ns) // 2, rs.size // 2
    else:
        i0, j0 = np.unravel_index(int(np.argmin(np.abs(counts / N - float(start_rate)))), counts.shape)
    colors = ["#%02x%02x%02x" % tuple(int(round(255 * v)) for v in col[:3]) for col in _colors(C)]
    names = [str(c) for c in range(C)] if classes is None else [str(c) for c in classes]
    payload = {"ns": ns, "rs": [float(r) for r in rs], "counts": counts.tolist(), "total": int(N), "masks": masks,
               "subsample": sub.tolist(), "xy": q(m[sub]), "labels": y[sub].tolist(),
               "newLabels": state.nearest_other[sub].tolist(), "subs": subs, "discsPerClass": per_class,
               "colors": colors, "quant": quant, "span": span, "size": int(size), "rDigits": r_digits,
               "seed": None if seed is None else int(seed)}
    eid = element_id or f"labnoise-cbn-{uuid.uuid4().hex[:12]}"
    data = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")

    n0, r0 = ns[i0], float(rs[j0])
    legend = " ".join(f'<span style="white-space:nowrap"><span style="display:inline-block;width:9px;height:9px;'
                      f'background:{col};margin-right:3px"></span>{html_mod.escape(nm)}</span>'
                      for col, nm in zip(colors, names))
    sub_text = (f"all {N:,} points" if P == N else
                f"a uniform random subsample of {P:,} of the {N:,} points (seed "
                f"{seed if subsample_seed is None else subsample_seed})")
    which = "this map" if about is None else f"this map ({about})"
    caption = (f"Precomputed, not live: labnoise's CBN code (Algorithm 1, sub-centre seed {seed}) was run on {which} "
               f"for every n in {{{', '.join(map(str, ns))}}} and {rs.size} radii r from {rs[0]:.{r_digits}f} "
               f"to {rs[-1]:.{r_digits}f} map units; the page only looks the results up. The rate is that of all "
               f"{N:,} labels; the canvas draws {sub_text}, coloured by clean class, flipped points filled with "
               f"their new label's colour and ringed in black; circles are the radius-r discs around the "
               f"sub-centres (taken from all points).")
    label_style = 'style="margin-right:14px;white-space:nowrap"'
    out = f"""<div id="{eid}" class="labnoise-cbn-explorer" style="font-family:sans-serif;font-size:13px;\
max-width:{int(size) + 40}px;margin:0.5em 0">
<div class="cbn-controls" style="margin-bottom:4px">
<label {label_style}>n <input type="range" class="cbn-n" min="0" max="{len(ns) - 1}" step="1" value="{i0}" \
aria-label="n, sub-centres per class"> <output class="cbn-n-value">{n0}</output></label>
<label {label_style}>r <input type="range" class="cbn-r" min="0" max="{rs.size - 1}" step="1" value="{j0}" \
aria-label="r, radius in map units"> <output class="cbn-r-value">{r0:.{r_digits}f}</output></label>
<label style="white-space:nowrap"><input type="checkbox" class="cbn-discs" checked> discs</label>
</div>
<canvas class="cbn-canvas" width="{int(size)}" height="{int(size)}" style="width:{int(size)}px;max-width:100%;\
border:1px solid #ccc" role="img" aria-label="CBN on the t-SNE map"></canvas>
<div class="cbn-rate" style="font-weight:bold;margin:4px 0">n = {n0}, r = {r0:.{r_digits}f}: \
{100 * counts[i0, j0] / N:.1f}% of all {N:,} labels flipped</div>
<div class="cbn-legend" style="font-size:11px;line-height:1.6">{legend}</div>
<div class="cbn-caption" style="font-size:11px;color:#555;margin-top:4px">{html_mod.escape(caption)}</div>
</div>
<script type="application/json" id="{eid}-data">{data}</script>
<script>{_EXPLORER_JS.replace("__ID__", eid)}</script>
"""
    return HTML(out)


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
