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


# ---- the static-page explorer (cbn_explorer_html) -------------------------------------------------------------
import base64  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402

import pytest  # noqa: E402


def _payload(h):
    """The JSON the explorer embeds (and its element id)."""
    s = h.data if hasattr(h, "data") else h
    m = re.search(r'<script type="application/json" id="([\w-]+)-data">(.*?)</script>', s, re.S)
    return m.group(1), json.loads(m.group(2))


def _bits(b64, size):
    return np.unpackbits(np.frombuffer(base64.b64decode(b64), dtype=np.uint8), bitorder="little")[:size].astype(bool)


def test_explorer_html_embeds_the_library_cbn_results():
    xy, y = _map(n=3000)
    ns, rs = [1, 3, 8, 20], np.linspace(0.0, 2.5, 11)
    h = vn.cbn_explorer_html(xy, y, ns, rs, seed=3, classes=["a", "b", "c"], max_points=700)
    eid, d = _payload(h)
    assert d["ns"] == ns and np.allclose(d["rs"], rs) and d["total"] == 3000
    sub = np.asarray(d["subsample"])
    assert len(sub) == 700 == len(set(sub.tolist())) and d["labels"] == y[sub].tolist()
    for i, n in enumerate(ns):
        for j, r in enumerate(rs):
            res = cbn(map_2d=xy, labels=y, n=n, r=float(r), seed=3)   # what the chapter's library call gives
            assert d["counts"][i][j] == int(res.flipped.sum())         # rate over the WHOLE data set
            f = _bits(d["masks"][i][j], len(sub))
            assert np.array_equal(f, res.flipped[sub])                 # the drawn points' flips
            assert np.array_equal(np.asarray(d["newLabels"])[f], res.noisy_labels[sub][f])
    grid = cbn_rate_grid(xy, y, ns, rs, seed=3)
    assert np.allclose(np.asarray(d["counts"]) / 3000, grid)
    # the sub-centre discs are the library's sub-centres (prefixes), quantised to the canvas grid
    r = cbn(map_2d=xy, labels=y, n=20, r=1.0, seed=3)
    assert len(d["subs"][0]) == 2 * 20 and d["discsPerClass"] == 20
    assert r.extras["sub_centres"][0].size == 20


def test_explorer_html_is_self_contained_small_and_unique():
    xy, y = _map(n=20000, c=10)
    ns, rs = [5, 10, 20, 40, 80, 160, 320], np.linspace(0.0, 3.0, 21)
    a = vn.cbn_explorer_html(xy, y, ns, rs, seed=0, start_rate=0.35)
    b = vn.cbn_explorer_html(xy, y, ns, rs, seed=0)
    for h in (a, b):
        s = h.data
        assert "src=" not in s and "http" not in s.lower() and "<link" not in s and "@import" not in s
        assert len(s.encode()) < 400_000   # 1,500 points, 147 cells, 3,200 sub-centres
        assert "<canvas" in s and s.count('type="range"') == 2
        assert "precomputed" in s.lower() and "1,500 of the 20,000 points" in s and "this map for" in s
    ida, da = _payload(a)
    idb, _ = _payload(b)
    assert ida != idb and f'id="{ida}"' in a.data and ida not in b.data
    # the sliders start at the cell closest to the requested rate, and the initial text says that cell's rate
    i, j = (int(v) for v in re.search(r'class="cbn-n" min="0" max="\d+" step="1" value="(\d+)".*?'
                                      r'class="cbn-r" min="0" max="\d+" step="1" value="(\d+)"', a.data, re.S).groups())
    rates = np.asarray(da["counts"]) / da["total"]
    assert abs(rates[i, j] - 0.35) == np.abs(rates - 0.35).min()
    assert f"{100 * rates[i, j]:.1f}% of all 20,000 labels flipped" in a.data
    # a class name cannot close the script or inject markup
    c = vn.cbn_explorer_html(*_map(n=300, c=2), [1, 2], [0.0, 1.0], classes=["</script><b>x", "b"],
                             about="digits, pixels")
    assert c.data.count("</script>") == 2 and "<b>x" not in c.data and "this map (digits, pixels) for" in c.data


def test_explorer_html_rejects_bad_input_before_building():
    xy, y = _map(n=300)
    with pytest.raises(ValueError, match="rows but 299 were expected"):
        vn.cbn_explorer_html(xy, y[:299], [1, 2], [0.0, 1.0])
    with pytest.raises(ValueError, match="2 columns"):
        vn.cbn_explorer_html(np.c_[xy, xy[:, :1]], y, [1, 2], [0.0, 1.0])
    with pytest.raises(ValueError, match="ns must be distinct integers"):
        vn.cbn_explorer_html(xy, y, [1, 10_000], [0.0, 1.0])
    with pytest.raises(ValueError, match="increasing"):
        vn.cbn_explorer_html(xy, y, [1, 2], [1.0, 0.5])
    with pytest.raises(ValueError, match="classes has 2 names"):
        vn.cbn_explorer_html(xy, y, [1, 2], [0.0, 1.0], classes=["a", "b"])


_FAKE_DOM = r"""
const html = require("fs").readFileSync(process.argv[2], "utf8");
const eid = /<div id="([\w-]+)"/.exec(html)[1];
const data = /<script type="application\/json" id="[\w-]+-data">([\s\S]*?)<\/script>/.exec(html)[1];
const code = /<script>([\s\S]*?)<\/script>\s*$/.exec(html)[1];
const attr = (cls, a) => new RegExp('class="' + cls + '"[^>]*?' + a + '="([^"]*)"').exec(html)[1];
function el(props) {
  const h = {};
  return Object.assign({textContent: "", attrs: {}, addEventListener: (t, f) => { h[t] = f; },
    fire: (t) => h[t](), getAttribute(k) { return this.attrs[k] || null; },
    setAttribute(k, v) { this.attrs[k] = v; }}, props);
}
let arcs = 0;
const ctx = new Proxy({}, {get: (o, k) => k === "arc" ? () => { arcs++; } : (k in o ? o[k] : () => {}),
                           set: (o, k, v) => { o[k] = v; return true; }});
const parts = {"cbn-n": el({value: attr("cbn-n", "value"), max: attr("cbn-n", "max")}),
               "cbn-r": el({value: attr("cbn-r", "value"), max: attr("cbn-r", "max")}),
               "cbn-n-value": el({}), "cbn-r-value": el({}), "cbn-discs": el({checked: true}),
               "cbn-rate": el({}), "cbn-canvas": el({getContext: () => ctx})};
const root = el({querySelector: (s) => parts[s.slice(1)]});
global.window = {devicePixelRatio: 2};
global.document = {getElementById: (i) => i === eid ? root : (i === eid + "-data" ? {textContent: data} : null)};
eval(code);
const out = {start: parts["cbn-rate"].textContent, n: parts["cbn-n-value"].textContent};
parts["cbn-r"].value = "0"; parts["cbn-r"].fire("input"); out.r0 = parts["cbn-rate"].textContent;
parts["cbn-r"].value = parts["cbn-r"].max; parts["cbn-n"].value = parts["cbn-n"].max; parts["cbn-n"].fire("input");
out.rmax = parts["cbn-rate"].textContent; out.rValue = parts["cbn-r-value"].textContent; out.arcs = arcs;
eval(code);   /* a second run of the same script (a re-rendered output) must not bind twice */
out.again = parts["cbn-rate"].textContent;
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to run the explorer's script")
def test_explorer_html_script_updates_the_rate_on_input(tmp_path):
    xy, y = _map(n=1200)
    ns, rs = [1, 4, 16], np.linspace(0.0, 2.0, 9)
    h = vn.cbn_explorer_html(xy, y, ns, rs, seed=0, max_points=500)
    _, d = _payload(h)
    (tmp_path / "e.html").write_text(h.data)
    (tmp_path / "dom.js").write_text(_FAKE_DOM)
    r = subprocess.run(["node", str(tmp_path / "dom.js"), str(tmp_path / "e.html")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    i, j = len(ns) // 2, rs.size // 2
    assert out["start"].startswith(f"n = {ns[i]}, r = {rs[j]:.2f}: {100 * d['counts'][i][j] / 1200:.1f}% of all 1,200")
    assert out["r0"].startswith(f"n = {ns[i]}, r = 0.00: 0.0% of all")    # strict dist < r: nothing flips at r = 0
    rate = 100 * d["counts"][-1][-1] / 1200
    assert out["rmax"].startswith(f"n = 16, r = 2.00: {rate:.1f}%") and out["rValue"] == "2.00"
    drawn = int(_bits(d["masks"][-1][-1], 500).sum())
    assert f"; {drawn} of the 500 drawn points" in out["rmax"]
    assert out["arcs"] > 0 and out["again"] == out["rmax"]
