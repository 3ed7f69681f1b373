import json

import numpy as np
import pytest

from labnoise.grid import cell_path, format_table, rate_key, run_grid, summarize, to_frame


def _fn(calls, fail_at=None):
    def fn(method, noise, rate, seed):
        calls.append((method, noise, rate, seed))
        if fail_at == (method, noise, rate, seed):
            raise RuntimeError("interrupted")
        return {"test_acc": {"ce": 0.5, "gce": 0.7}[method] - rate / 10 + seed / 100, "seed_echo": seed}
    return fn


AXES = (["ce", "gce"], ["pmd", "cbn"], [0.35, 0.7], [0, 1, 2])


def test_grid_runs_caches_and_resumes(tmp_path):
    calls = []
    with pytest.raises(RuntimeError):
        run_grid(_fn(calls, fail_at=("gce", "pmd", 0.7, 1)), *AXES, cache_dir=tmp_path, params={"a": 1},
                 progress=False)
    done = len(calls) - 1           # the failing cell was not cached
    assert len(list(tmp_path.glob("*.json"))) == done
    assert not list(tmp_path.glob(".tmp-*"))
    calls2 = []
    recs = run_grid(_fn(calls2), *AXES, cache_dir=tmp_path, params={"a": 1}, progress=False)
    assert len(recs) == 24 and len(calls2) == 24 - done   # resumed: only the missing cells ran
    assert sum(r["cached"] for r in recs) == done
    assert [(r["method"], r["noise"], r["rate"], r["seed"]) for r in recs][:3] == [
        ("ce", "pmd", 0.35, 0), ("ce", "pmd", 0.35, 1), ("ce", "pmd", 0.35, 2)]
    # a change of parameters invalidates the cache
    calls3 = []
    run_grid(_fn(calls3), *AXES, cache_dir=tmp_path, params={"a": 2}, progress=False)
    assert len(calls3) == 24
    rec = json.loads(cell_path(tmp_path, "gce", "cbn", 0.7, 2).read_text())
    assert rec["metrics"]["seed_echo"] == 2


def test_summarize_mean_sd(tmp_path):
    recs = run_grid(_fn([]), *AXES, cache_dir=None, progress=False)
    t = summarize(recs, "test_acc")
    cell = t["gce"]["cbn"][rate_key(0.7)]
    vals = [0.7 - 0.07 + s / 100 for s in range(3)]
    assert cell["n_seeds"] == 3
    assert cell["mean"] == pytest.approx(np.mean(vals))
    assert cell["sd"] == pytest.approx(np.std(vals, ddof=1))
    assert set(t) == {"ce", "gce"} and set(t["ce"]) == {"pmd", "cbn"} and set(t["ce"]["pmd"]) == {"0.35", "0.7"}
    md = format_table(t, reference={"gce": {"cbn": {"0.7": 25.16}}})
    assert "paper 25.16" in md and md.count("\n") == 3
    df = to_frame(recs)
    assert len(df) == 24 and "test_acc" in df.columns
    one = summarize([r for r in recs if r["seed"] == 0], "test_acc")["gce"]["cbn"][rate_key(0.7)]
    assert one["sd"] is None and one["n"] == one["n_seeds"] == 1     # one seed has no spread (not 0.0)
    assert "±" not in format_table(summarize([r for r in recs if r["seed"] == 0], "test_acc"))


def test_empty_grid_and_bad_return():
    with pytest.raises(ValueError, match="empty"):
        run_grid(_fn([]), [], ["pmd"], [0.35], [0], progress=False)
    with pytest.raises(ValueError, match="dict"):
        run_grid(lambda *a: 0.5, ["ce"], ["pmd"], [0.35], [0], progress=False)


def test_lnl_grid_trains_and_caches(tmp_path):
    from labnoise._torch import torch_threads
    from labnoise.grid import run_lnl_grid
    with torch_threads(1):
        rng = np.random.default_rng(0)
        centres = rng.normal(size=(3, 6)) * 3
        y = rng.integers(0, 3, 300)
        x = (centres[y] + rng.normal(size=(300, 6))).astype(np.float32)
        yt = rng.integers(0, 3, 100)
        xt = (centres[yt] + rng.normal(size=(100, 6))).astype(np.float32)
        noisy = y.copy()
        noisy[:60] = (y[:60] + 1) % 3
        sets = {("pmd", 0.2): noisy, ("cbn", 0.2): y}
        kw = dict(x_test=xt, y_test=yt, clean_labels=y, cache_dir=tmp_path, params={"v": 1}, progress=False,
                  train_kwargs={"epochs": 2, "batch_size": 32, "lr": 0.05})
        recs = run_lnl_grid(x, sets, ["ce", "coteaching+"], [0], **kw)
        assert [(r["method"], r["noise"]) for r in recs] == [("ce", "pmd"), ("ce", "cbn"), ("coteaching+", "pmd"),
                                                             ("coteaching+", "cbn")]
        assert all(0.5 < r["metrics"]["test_acc"] <= 1.0 and len(r["metrics"]["test_acc_curve"]) == 2 for r in recs)
        again = run_lnl_grid(x, sets, ["ce", "coteaching+"], [0], **kw)
        assert all(r["cached"] for r in again)
        sets[("pmd", 0.2)] = y  # other labels -> the cell is recomputed
        third = run_lnl_grid(x, sets, ["ce"], [0], **kw)
        assert [r["cached"] for r in third] == [False, True]
        # a setting of one method only retrains that method
        fourth = run_lnl_grid(x, sets, ["ce", "coteaching+"], [0], method_params={"coteaching+": {"v": 2}}, **kw)
        assert [(r["method"], r["cached"]) for r in fourth] == [("ce", True), ("ce", True), ("coteaching+", False),
                                                                ("coteaching+", False)]
        # the precision is part of every cell's key: bf16 cells are not fp32 cells
        fifth = run_lnl_grid(x, sets, ["ce"], [0], precision="bf16", **kw)
        assert [r["cached"] for r in fifth] == [False, False]
        assert all(r["metrics"]["precision"] == "bf16" for r in fifth)
        assert all(r["cached"] for r in run_lnl_grid(x, sets, ["ce"], [0], precision="bf16", **kw))
        # one file per cell: going back to the default precision recomputes rather than reusing the bf16 cell
        assert not any(r["cached"] for r in run_lnl_grid(x, sets, ["ce"], [0], **kw))


def test_chapter03_helpers():
    import matplotlib
    matplotlib.use("Agg")
    from labnoise.experiments.tables import PAPER_TABLE_I, cbn_harder_than_pmd
    from labnoise.viz.table import plot_curves, plot_table
    # the paper's own table satisfies its headline
    paper_as_table = {m: {n: {r: {"mean": v / 100, "sd": 0.0, "n_seeds": 1} for r, v in by_r.items()}
                          for n, by_r in by_n.items()} for m, by_n in PAPER_TABLE_I.items()}
    h = cbn_harder_than_pmd(paper_as_table)
    assert all(all(v.values()) for v in h.values()) and set(h["ce"]) == {"0.35", "0.7"}
    paper_as_table["gce"]["cbn"]["0.7"]["mean"] = 0.99
    assert cbn_harder_than_pmd(paper_as_table)["gce"] == {"0.35": True, "0.7": False}
    fig = plot_table(paper_as_table, PAPER_TABLE_I)
    assert len(fig.axes) == 2
    recs = [{"method": "ce", "noise": "pmd", "rate": 0.35, "seed": 0, "metrics": {"test_acc_curve": [0.5, 0.6]}}]
    assert len(plot_curves(recs).axes) == 1


def test_lnl_cell_precision_reaches_every_learner():
    from labnoise.grid import lnl_cell

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    out = lnl_cell("ce", x, y, x_test=x, y_test=y, train_kwargs={"epochs": 1}, precision="bf16", device="cpu")
    assert out["precision"] == "bf16"
    out = lnl_cell("lra_diffusion", x, y, x_test=x, y_test=y, precision="fp32", device="cpu",
                   lra_kwargs={"epochs": 1, "k": 2, "hidden": 8, "timesteps": 20, "ddim_steps": 2})
    assert out["precision"] == "fp32"
    with pytest.raises(ValueError, match="contradicts"):
        lnl_cell("ce", x, y, x_test=x, y_test=y, train_kwargs={"precision": "fp32"}, precision="bf16")
