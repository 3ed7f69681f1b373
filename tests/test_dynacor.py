"""DynaCor as its paper and public code run it: hold-out of the copies, Eq. 9 over the copied originals, the
per-batch DEC target, named seed streams, identical flags for a fixed seed, and the chapter's driver."""
import numpy as np
import pytest

from labnoise import noise
from labnoise.detect import find_noisy
from labnoise.detect.dynacor import _selection_metric, _target, corrupt, seed_streams


def toy(n=2000, k=5, d=16, sep=0.6, rate=0.4, seed=0):
    """Overlapping Gaussian classes (the dynamics are informative but not trivial), symmetric noise at ``rate``."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * sep
    clean = rng.integers(0, k, n)
    x = (centres[clean] + rng.normal(size=(n, d))).astype(np.float32)
    flipped = (x + 0.05 * rng.normal(size=x.shape)).astype(np.float32)
    return x, flipped, noise.symmetric(clean, rate, num_classes=k, seed=seed).noisy_labels, clean


SMALL = dict(epochs=8, encoder_epochs=3, encoder_lr=1e-3, hidden=(32,), encoder_batch_size=256)


def test_copies_come_from_the_examples_not_held_out():
    y = np.repeat(np.arange(4), 250)
    copy_of, lab = corrupt(y, num_classes=4, rate=0.9, holdout=0.1, seed=3)
    assert copy_of.size == 900 and np.unique(copy_of).size == 900     # every example not held out, once
    again = corrupt(y, num_classes=4, rate=0.9, holdout=0.1, seed=3)
    assert again[0].tobytes() == copy_of.tobytes() and again[1].tobytes() == lab.tobytes()  # byte-identical
    held = np.setdiff1d(np.arange(1000), copy_of)
    other = np.setdiff1d(np.arange(1000), corrupt(y, num_classes=4, rate=0.9, holdout=0.1, seed=4)[0])
    assert held.size == 100 and not np.array_equal(held, other)     # a seeded random tenth, not the last one
    copy_of, _ = corrupt(y, num_classes=4, rate=0.1, holdout=0.1, seed=0)
    assert copy_of.size == 100                                      # gamma is a fraction of N, not of the 90%
    assert corrupt(y, num_classes=4, rate=1.0, holdout=0.0, seed=0)[0].size == 1000
    with pytest.raises(ValueError, match="holdout"):
        corrupt(y, num_classes=4, holdout=1.0)


def test_eq9_can_average_over_the_copied_originals_only():
    qn = np.array([0.9, 0.7, 0.2, 0.4, 0.1, 0.3])
    is_copy = np.array([True, True, False, False, False, False])
    copied = np.array([False, False, True, False, False, True])     # originals 2 and 5 have a copy
    assert _selection_metric(qn, is_copy) == pytest.approx((0.8 - 0.25) ** 2)
    assert _selection_metric(qn, is_copy, copied) == pytest.approx((0.8 - 0.25) ** 2)
    assert _selection_metric(qn, is_copy, np.array([False, False, True, True, False, False])) == \
        pytest.approx((0.8 - 0.3) ** 2)


def test_dec_target_sharpens_and_rebalances():
    import torch
    q = torch.tensor([[0.6, 0.4], [0.55, 0.45], [0.3, 0.7], [0.45, 0.55]])
    p = _target(q)
    assert torch.allclose(p.sum(1), torch.ones(4))
    assert ((p[:, 0] > q[:, 0]) == (q[:, 0] > 0.5)).all()            # balanced columns: more confident
    balanced = torch.tensor([[0.6, 0.4], [0.4, 0.6]])
    skew = torch.tensor([[0.6, 0.4]] * 9 + [[0.4, 0.6]])            # a dominant column is deflated
    assert _target(skew)[0, 0] < _target(balanced)[0, 0]


def test_seed_streams_are_named_and_independent():
    a, b = seed_streams(0), seed_streams(0)
    assert list(a) == ["corruption", "classifier", "encoder_init", "encoder_shuffle", "map"]
    assert all(a[k].generate_state(2).tolist() == b[k].generate_state(2).tolist() for k in a)
    states = {tuple(s.generate_state(2)) for s in a.values()}
    assert len(states) == len(a)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("threads", [1, 2])
def test_same_seed_same_flags(precision, threads):
    """Two runs of one setting and seed through the public API give identical flags and scores (at a fixed
    thread count and precision); another seed draws other copies."""
    from labnoise._torch import torch_threads

    x, fl, y, clean = toy(n=600, seed=1)
    with torch_threads(threads):
        runs = [find_noisy(y, x, method="dynacor", seed=5, flipped_features=fl, precision=precision, **SMALL)
                for _ in range(2)]
        other = find_noisy(y, x, method="dynacor", seed=6, flipped_features=fl, precision=precision, **SMALL)
    assert runs[0].is_noisy.tobytes() == runs[1].is_noisy.tobytes()
    assert runs[0].score.tobytes() == runs[1].score.tobytes()
    assert runs[0].extras["signs"].tobytes() == runs[1].extras["signs"].tobytes()
    assert not np.array_equal(other.extras["copy_of"], runs[0].extras["copy_of"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_encoder_f1_does_not_collapse_over_epochs(seed, one_thread):
    """On planted noise (40% symmetric, overlapping classes) and at 100x the paper's encoder learning rate, the
    per-batch DEC target keeps every encoder epoch's F1 near the untrained encoder's: no epoch flags nothing and
    none falls more than 5 points (under either evaluation distance)."""
    x, fl, y, clean = toy(seed=seed)
    res = find_noisy(y, x, method="dynacor", seed=seed, flipped_features=fl, clean_labels=clean, epochs=12,
                     encoder_epochs=15, encoder_lr=1e-3, encoder_batch_size=256, hidden=(64,))
    assert res.settings["target"] == "batch"
    for d, h in ((d, v["history"]) for d, v in res.extras["by_distance"].items()):
        f1 = np.array([v["f1"] for v in h])
        assert f1[0] > 0.7, (d, f1[0])                       # the planted noise is found before training
        assert all(v["flagged"] > 0 for v in h), d
        assert f1.min() >= f1[0] - 0.05, (d, f1.round(3))


def test_history_records_the_norms_the_euclidean_evaluation_reads(one_thread):
    """Every history row holds the embeddings' mean norm and the centres' norms and cosine (the quantities the
    squared Euclidean evaluation depends on and the cosine loss does not); the chapter's summary and sentence
    are computed from them."""
    from labnoise.experiments import dynacor as chapter

    x, fl, y, clean = toy(n=300, seed=4)
    res = find_noisy(y, x, method="dynacor", seed=0, flipped_features=fl, clean_labels=clean, **SMALL)
    for h in (v["history"] for v in res.extras["by_distance"].values()):
        assert all(v["embedding_norm"] > 0 and len(v["centre_norms"]) == 2 and -1 <= v["centre_cosine"] <= 1
                   for v in h)
    s = chapter.selection_summary([res, res], "sqeuclidean")
    h = res.extras["history"]
    assert s["norms"]["embedding_before"] == pytest.approx(h[0]["embedding_norm"])
    assert s["norms"]["flagged_last"] == pytest.approx(h[-1]["flagged"])
    drift = {**s["norms"], "embedding_before": 1.0, "embedding_max": 1.5, "centre_cosine_last": 0.95,
             "centres_last": [1.2, 1.4]}
    assert "nearer the clean centre" in chapter._norm_sentence(drift, "sqeuclidean")
    moved = {**drift, "flagged_before": 1000, "flagged_last": 600}
    assert "-40%" in chapter._norm_sentence(moved, "sqeuclidean")
    assert "flags moved" not in chapter._norm_sentence({**moved, "flagged_last": 950}, "sqeuclidean")
    assert "flags moved" not in chapter._norm_sentence({**moved, "flagged_last": 1400}, "sqeuclidean")
    assert "nearer the" not in chapter._norm_sentence({**drift, "embedding_max": 1.02}, "sqeuclidean")
    metrics = {"selection": {"distance": "sqeuclidean", "sqeuclidean": s}}
    assert chapter.norm_reading(metrics).startswith("The training loss") and chapter.norm_reading({}) == ""


def test_target_and_selection_options_are_validated_and_recorded(one_thread):
    x, fl, y, clean = toy(n=300, seed=2)
    res = find_noisy(y, x, method="dynacor", seed=0, flipped_features=fl, target="fixed", selection_over="all",
                     holdout=0.0, **SMALL)
    assert (res.settings["target"], res.settings["selection_over"], res.settings["holdout"]) == ("fixed", "all", 0.0)
    assert 0.0 <= res.extras["target_noisy_fraction"] <= 1.0
    for bad in ({"target": "epoch"}, {"selection_over": "some"}, {"distance": "l1"}):
        with pytest.raises(ValueError, match="choose one of"):
            find_noisy(y, x, method="dynacor", **bad)


def test_chapter_driver_metrics_and_tables(one_thread):
    """experiments.dynacor: the comparison's metrics record the evaluation distance, the target rule and both
    distances' F1; the selection summary counts every run; tables show ± only with two or more seeds."""
    from labnoise import profiles
    from labnoise.experiments import dynacor as chapter

    x, fl, y, clean = toy(n=400, seed=3)
    cfg = profiles.config("06_dynacor", "smoke", settings=["digits/sym-0.4"], seeds=[0, 1],
                          methods=["dynacor", "simifeat"], epochs=6, encoder_epochs=2, gammas=[0.1], hidden=[32])
    labels = {"digits/sym-0.4": (y, clean)}
    opts = chapter.detector_options(cfg)
    assert opts["dynacor"]["distance"] == "sqeuclidean" and opts["dynacor"]["target"] == "batch"
    from labnoise.detect import compare
    runs = {("digits/sym-0.4", sd): compare(y, x, clean, methods=cfg.methods, options=opts, seed=sd,
                                             flipped_features=fl) for sd in cfg.seeds}
    comp = {"runs": runs, "labels": labels, "rates": {"digits/sym-0.4": float(np.mean(y != clean))}, "gamma_f1": {}}
    m = chapter.comparison_metrics(comp, cfg)
    dc = m["distance_check"]
    assert dc["evaluation_distance"] == "sqeuclidean" and dc["target"] == "batch"
    assert set(dc["f1"]) == {"sqeuclidean", "cosine"} and dc["f1"]["cosine"]["digits/sym-0.4"]["n"] == 2
    assert dc["f1"]["sqeuclidean"]["digits/sym-0.4"]["mean"] == pytest.approx(m["f1"]["dynacor"]["digits/sym-0.4"]["mean"])
    assert m["selection"]["sqeuclidean"]["runs"] == 2
    assert 0 <= m["selection"]["sqeuclidean"]["kept_epoch_0"] <= 2
    assert "±" in chapter.f1_table(m, cfg) and "SimiFeat-R" in chapter.f1_table(m, cfg)
    one = profiles.config("06_dynacor", "smoke", settings=["digits/sym-0.4"], seeds=[0], methods=cfg.methods,
                          gammas=[0.1])
    m1 = chapter.comparison_metrics({**comp, "runs": {k: v for k, v in runs.items() if k[1] == 0}}, one)
    assert "±" not in chapter.f1_table(m1, one) and "±" not in chapter.distance_table(m1, one)
    assert "{" not in chapter.selection_table(m) and "[" not in chapter.distance_table(m, cfg)


def test_chapter_quotes_simifeat_r_and_detect_knows_no_chapter():
    import ast
    from pathlib import Path

    from labnoise.experiments.dynacor import PAPER_AVERAGE, PAPER_SIMIFEAT

    assert PAPER_AVERAGE["simifeat"] == 84.7 and PAPER_SIMIFEAT["mv"] == ("SimiFeat-V", 84.6)
    for f in (Path(__file__).resolve().parent.parent / "labnoise" / "detect").glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert "experiments" not in (node.module or ""), f.name
