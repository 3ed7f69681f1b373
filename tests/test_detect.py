"""Noisy-label detectors (labnoise.detect): DynaCor and the baselines on planted noise, one interface."""
import numpy as np
import pytest

from labnoise import noise
from labnoise.detect import METHODS, f1_noisy, find_noisy
from labnoise.detect.dynacor import _selection_metric, corrupt, sign_dynamics


def blobs(n=600, k=4, d=12, seed=0, rate=0.3):
    """A separable problem: well-separated Gaussian classes, symmetric noise planted at ``rate``."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 5
    clean = rng.integers(0, k, n)
    x = (centres[clean] + rng.normal(size=(n, d))).astype(np.float32)
    flipped = (x + 0.05 * rng.normal(size=x.shape)).astype(np.float32)
    y = noise.symmetric(clean, rate, num_classes=k, seed=seed).noisy_labels
    return x, flipped, y, clean


FAST = {"dynacor": dict(epochs=10, encoder_epochs=5, encoder_lr=1e-3, hidden=(64, 64)),
        "avg_encoder": dict(epochs=8, hidden=(64, 64)), "aum": dict(epochs=8, hidden=(64, 64)),
        "confident": dict(epochs=5, folds=3, hidden=(64,)), "simifeat": {},
        "cores": dict(epochs=9, hidden=(64, 64))}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dynacor_finds_planted_noise(seed, one_thread):
    x, fl, y, clean = blobs(seed=seed)
    res = find_noisy(y, x, method="dynacor", seed=seed, flipped_features=fl, epochs=12, encoder_epochs=5,
                     encoder_lr=1e-3)
    assert f1_noisy(res.is_noisy, y, clean) > 0.9


def test_copies_never_count(one_thread):
    x, fl, y, clean = blobs(n=400, seed=3)
    res = find_noisy(y, x, method="dynacor", seed=0, flipped_features=fl, clean_labels=clean, **FAST["dynacor"])
    ex = res.extras
    m = int(round(0.1 * y.size))
    assert res.is_noisy.shape == res.score.shape == (y.size,)
    assert ex["signs"].shape[0] == y.size + m and ex["is_copy"].sum() == m and not ex["is_copy"][:y.size].any()
    assert (ex["copy_labels"] != y[ex["copy_of"]]).all()          # a copy's label always differs from its given one
    sel = ex["history"][ex["selected_epoch"]]
    assert sel["f1"] == pytest.approx(f1_noisy(res.is_noisy, y, clean))  # the F1 recorded is the originals' F1
    assert sel["flagged"] == res.is_noisy.sum()
    # the label-free selection keeps the epoch with the largest Eq. 9 metric (epoch 0 = untrained encoder)
    assert sel["metric"] == max(h["metric"] for h in ex["history"])
    assert len(ex["history"]) == FAST["dynacor"]["encoder_epochs"] + 1


def test_corruption_labels_uniform_over_other_classes():
    y = np.repeat(np.arange(5), 2000)
    copy_of, lab = corrupt(y, num_classes=5, rate=0.5, seed=0)
    assert copy_of.size == 5000 and np.unique(copy_of).size == 5000
    assert (lab != y[copy_of]).all()
    counts = np.bincount((lab - y[copy_of]) % 5, minlength=5)
    assert counts[0] == 0 and counts[1:].min() > 0.2 * 5000 and counts[1:].max() < 0.3 * 5000


def test_sign_quantisation_and_selection_metric():
    s = sign_dynamics(np.array([[-0.5, 0.0, 2.0]]))
    assert s.tolist() == [[-1], [1], [1]]
    qn = np.array([0.9, 0.8, 0.2, 0.4, 0.7])
    is_copy = np.array([True, True, False, False, False])
    assert _selection_metric(qn, is_copy) == pytest.approx((0.85 - 0.3) ** 2)
    assert _selection_metric(np.zeros(5), is_copy) == 0.0      # no copy predicted noisy: guarded, 0


def test_dynacor_without_flipped_features_says_so(one_thread):
    x, _, y, _ = blobs(n=200, seed=0)
    with pytest.warns(UserWarning, match="flipped_features"):
        res = find_noisy(y, x, method="dynacor", seed=0, **FAST["dynacor"])
    assert res.settings["view"].startswith("same features")


def test_dynacor_cosine_evaluation_option(one_thread):
    x, fl, y, clean = blobs(n=300, seed=1)
    res = find_noisy(y, x, method="dynacor", seed=0, flipped_features=fl, distance="cosine", **FAST["dynacor"])
    assert res.settings["distance"] == "cosine" and res.is_noisy.shape == (300,)
    with pytest.raises(ValueError, match="distance"):
        find_noisy(y, x, method="dynacor", distance="l1")


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_detector_aligned_and_useful(method, one_thread):
    x, fl, y, clean = blobs(n=300, seed=4)
    res = find_noisy(y, x, method=method, seed=0, flipped_features=fl, **FAST[method])
    assert res.is_noisy.dtype == bool and res.is_noisy.shape == (300,) and res.score.shape == (300,)
    assert np.isfinite(res.score).all()
    truth = y != clean
    # higher score = more suspect: the truly noisy examples score higher on average
    assert res.score[truth].mean() > res.score[~truth].mean()


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_detector_rejects_bad_input(method):
    x, fl, y, _ = blobs(n=60, seed=0)
    with pytest.raises(ValueError, match="rows|entries"):
        find_noisy(y[:-1], x, method=method)
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        find_noisy(np.where(y == 0, 4, y), x, method=method, num_classes=4)
    with pytest.raises(ValueError, match="at least 2 classes"):
        find_noisy(np.zeros(60, int), x, method=method)
    with pytest.raises(ValueError, match="integer"):
        find_noisy(y + 0.5, x, method=method)
    with pytest.raises(ValueError, match="integer"):
        find_noisy(y.astype(float), x, method=method)
    with pytest.raises(ValueError, match="-1"):
        find_noisy(np.where(y == 0, -1, y), x, method=method)


def test_unknown_method_and_f1():
    with pytest.raises(ValueError, match="unknown method"):
        find_noisy(np.array([0, 1]), np.zeros((2, 2)), method="nope")
    y, c = np.array([0, 1, 1, 0]), np.array([0, 0, 1, 1])          # examples 1 and 3 are noisy
    assert f1_noisy(np.array([False, True, False, True]), y, c) == 1.0
    assert f1_noisy(np.array([False, True, True, False]), y, c) == pytest.approx(0.5)
    assert f1_noisy(np.zeros(4, bool), y, c) == 0.0


def test_compare_and_settings(one_thread):
    from labnoise.detect import compare
    from labnoise.experiments.dynacor import parse_setting, setting_labels
    x, fl, y, clean = blobs(n=300, seed=5)
    out = compare(y, x, clean, methods=["dynacor", "avg_encoder", "simifeat"],
                  options={"dynacor": FAST["dynacor"]}, seed=0, flipped_features=fl)
    assert set(out) == {"dynacor", "avg_encoder", "simifeat"}
    # Avg.Encoder reused DynaCor's margins of the originals: one dynamics run, same epochs
    assert out["avg_encoder"]["result"].settings["epochs"] == FAST["dynacor"]["epochs"]
    assert all(0.0 <= v["f1"] <= 1.0 for v in out.values())
    assert parse_setting("cifar10/asym-0.3") == ("cifar10", "asym", 0.3)
    assert parse_setting("cifar10n/aggre") == ("cifar10n", "aggre", None)
    with pytest.raises(ValueError, match="sym, asym"):
        parse_setting("cifar10/flip-0.3")
    noisy, c, rate = setting_labels("digits/asym-0.3", clean, x, num_classes=4, seed=0)
    assert rate == pytest.approx(0.3, abs=0.01) and ((noisy - c) % 4)[noisy != c].tolist() == [1] * int((noisy != c).sum())


def test_confident_rejects_misshaped_pred_probs():
    x, _, y, _ = blobs(n=60, seed=0)
    with pytest.raises(ValueError, match="pred_probs"):
        find_noisy(y, x, method="confident", pred_probs=np.ones((60, 3)) / 3)


def test_dynacor_reuses_its_dynamics_exactly(one_thread):
    """dynamics= skips the classifier run and gives the same answer as training it again; a run from other
    labels or another seed is refused."""
    x, fl, y, clean = blobs(n=300, seed=6)
    first = find_noisy(y, x, method="dynacor", seed=0, flipped_features=fl, **FAST["dynacor"])
    again = find_noisy(y, x, method="dynacor", seed=0, flipped_features=fl, dynamics=first, **FAST["dynacor"])
    assert again.settings["reused_dynamics"] and again.extras["timings"]["dynamics"] < 1.0
    np.testing.assert_array_equal(again.extras["signs"], first.extras["signs"])
    np.testing.assert_array_equal(again.score, first.score)
    other = y.copy()
    other[np.flatnonzero(np.isin(np.arange(y.size), first.extras["copy_of"], invert=True))[0]] ^= 1
    with pytest.raises(ValueError, match="different run"):
        find_noisy(other, x, method="dynacor", seed=0, flipped_features=fl, dynamics=first, **FAST["dynacor"])
    with pytest.raises(ValueError, match="different run"):
        find_noisy(y, x, method="dynacor", seed=1, flipped_features=fl, dynamics=first, **FAST["dynacor"])
    with pytest.raises(ValueError, match="earlier dynacor"):
        find_noisy(y, x, method="dynacor", seed=0, flipped_features=fl, dynamics={"signs": 1}, **FAST["dynacor"])


def test_dynacor_evaluates_both_distances_in_one_run(one_thread):
    """Training never depends on the evaluation distance: the cosine run's answer is the default (squared
    Euclidean, the public code's) run's by_distance["cosine"] entry, and the sqeuclidean entry is its own."""
    x, fl, y, clean = blobs(n=300, seed=7)
    sq = find_noisy(y, x, method="dynacor", seed=0, flipped_features=fl, **FAST["dynacor"])
    cos = find_noisy(y, x, method="dynacor", seed=0, flipped_features=fl, distance="cosine", **FAST["dynacor"])
    assert sq.settings["distance"] == "sqeuclidean"
    np.testing.assert_array_equal(sq.extras["by_distance"]["sqeuclidean"]["score"], sq.score)
    np.testing.assert_array_equal(sq.extras["by_distance"]["cosine"]["score"], cos.score)
    assert sq.extras["by_distance"]["cosine"]["selected_epoch"] == cos.extras["selected_epoch"]


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_training_detectors_find_planted_noise_in_either_precision(precision, one_thread):
    x, fl, y, clean = blobs(seed=8)
    res = find_noisy(y, x, method="dynacor", seed=0, flipped_features=fl, precision=precision, epochs=12,
                     encoder_epochs=5, encoder_lr=1e-3)
    assert res.settings["precision"] == precision
    assert f1_noisy(res.is_noisy, y, clean) > 0.9


@pytest.mark.parametrize("method", ["dynacor", "avg_encoder", "aum", "confident", "cores"])
def test_precision_is_validated_before_any_work(method):
    x, fl, y, _ = blobs(n=60, seed=0)
    with pytest.raises(ValueError, match="precision must be one of"):
        find_noisy(y, x, method=method, precision="fp8")


def test_unknown_option_is_an_error_naming_the_options():
    x, fl, y, _ = blobs(n=60, seed=0)
    with pytest.raises(ValueError, match="aum has no option 'epoch'.*epochs"):
        find_noisy(y, x, method="aum", epoch=3)
    with pytest.raises(ValueError, match="flipped_features has"):   # a misshaped second view, even if unused
        find_noisy(y, x, method="aum", flipped_features=fl[:, :3])


def test_simifeat_graph_cache_changes_nothing(one_thread):
    """The neighbour graphs are label-free: a cached run on new labels equals a run from an empty cache, the
    graph is the exact cosine kNN, and other features never hit another's cache entry."""
    from labnoise.detect.simifeat import clear_cache, knn_indices

    x, fl, y, clean = blobs(n=300, seed=9)
    y2 = noise.pairflip(clean, 0.3, num_classes=4, seed=1).noisy_labels
    clear_cache()
    find_noisy(y, x, method="simifeat", seed=0, flipped_features=fl)
    warm = find_noisy(y2, x, method="simifeat", seed=0, flipped_features=fl)
    clear_cache()
    cold = find_noisy(y2, x, method="simifeat", seed=0, flipped_features=fl)
    np.testing.assert_array_equal(warm.is_noisy, cold.is_noisy)
    np.testing.assert_array_equal(warm.score, cold.score)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    sim = xn @ xn.T
    np.fill_diagonal(sim, -np.inf)
    brute = np.sort(np.argsort(-sim, axis=1, kind="stable")[:, :10], 1)
    np.testing.assert_array_equal(np.sort(knn_indices(x, k=10), 1), brute)
    other = knn_indices(x[::-1].copy(), k=10)
    assert not np.array_equal(other, knn_indices(x, k=10))


def test_estimators_follow_scikit_learn_conventions(one_thread):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    from labnoise.detect import ESTIMATORS, SimiFeat

    for m, cls in ESTIMATORS.items():          # every option of the function is a parameter, nothing else
        import inspect
        opts = {p.name for p in inspect.signature(METHODS[m]).parameters.values() if p.kind is p.KEYWORD_ONLY}
        assert set(cls().get_params()) == opts - {"flipped_features", "clean_labels", "dynamics", "margins",
                                                  "pred_probs"}
    det = SimiFeat(k=5, seed=3)
    with pytest.raises(NotFittedError):
        det.label_issues()
    assert clone(det).get_params() == det.get_params() and det.set_params(k=7).k == 7
    with pytest.raises(TypeError, match="no parameter 'kk'"):
        SimiFeat(kk=3)
    x, fl, y, clean = blobs(n=300, seed=10)
    det.fit(y, x, flipped_features=fl)
    ref = find_noisy(y, x, method="simifeat", seed=3, k=7, flipped_features=fl)
    np.testing.assert_array_equal(det.is_noisy_, ref.is_noisy)
    assert det.n_features_in_ == x.shape[1]
    issues = det.label_issues()
    assert set(issues) == set(np.flatnonzero(ref.is_noisy)) and (np.diff(det.score_[issues]) <= 0).all()
    with pytest.raises(ValueError, match="takes no 'margins'"):
        det.fit(y, x, margins=np.zeros((3, 300)))


def test_analysis_sentences_follow_the_metrics():
    from labnoise.experiments.dynacor import analysis

    def f(v):
        return {"mean": v, "sd": 0.01, "n": 3}

    m = {"f1": {"dynacor": {"cifar10/sym-0.6": f(0.41), "cifar10/asym-0.3": f(0.80)},
                "aum": {"cifar10/sym-0.6": f(0.75), "cifar10/asym-0.3": f(0.70)}},
         "avg_f1": {"dynacor": 0.605, "aum": 0.725}, "realised_noise_rate": {"cifar10/sym-0.6": 0.6,
                                                                             "cifar10/asym-0.3": 0.3},
         "flagged_fraction": {"aum": {"cifar10/sym-0.6": 0.96, "cifar10/asym-0.3": 0.31}},
         "selection": {"distance": "sqeuclidean", "target": "batch",
                       "sqeuclidean": {"runs": 15, "kept_epoch_0": 11, "f1_selected": 0.41, "f1_best_epoch": 0.62,
                                       "f1_last_epoch": 0.5, "f1_before_training": 0.41,
                                       "runs_with_collapsed_epoch": 0,
                                       "corr_metric_f1": {"mean": 0.42, "sd": 0.1, "n": 15}}},
         "distance_check": {"evaluation_distance": "sqeuclidean", "target": "batch",
                            "avg_f1": {"sqeuclidean": 0.605, "cosine": 0.55}},
         "gamma_sweep": {"f1": {"0.05": f(0.3), "0.1": f(0.41), "0.2": f(0.5)}}}
    text = " ".join(analysis(m, encoder="efficientnet-lite0", encoder_lr=1e-5))
    assert "does not hold" in text and "72.5% for the best baseline (AUM)" in text
    assert "best detector in 1 of 2 settings (cifar10/asym-0.3)" in text
    assert "-35.5 points" in text and "efficientnet-lite0" in text          # (41 - 98 + 80 - 94) / 2
    assert "kept the untrained encoder (epoch 0) in 11 of 15 runs" in text and "1e-05" in text and "62.0%" in text
    assert "correlate at 0.42 on average over 15 runs" in text
    assert "sqeuclidean distance (the DEC target rule: batch)" in text and "cosine give 55.0%" in text
    assert "gamma = 0.2 (50.0%)" in text
    assert "AUM flags 96.0% of cifar10/sym-0.6 (noise 60.0%)" in text and "asym-0.3 (noise" not in text
    m["avg_f1"]["dynacor"] = 0.8
    assert "claim holds" in analysis(m)[0]
    assert analysis({"f1": {"aum": {}}, "avg_f1": {"aum": 0.5}}) == []


def test_simifeat_certified_bf16_graphs_give_the_fp32_flags(one_thread, monkeypatch):
    """SimiFeat's neighbour search in the certified bf16 self-join (what ``precision="auto"`` picks on a CPU
    with native bf16) finds the fp32 graphs, so the flags and scores are the fp32 ones; the settings say which
    precision ran, and ``"auto"`` follows the CPU."""
    from labnoise import _torch, neighbors
    from labnoise.detect.simifeat import _knn_precision, clear_cache

    x, fl, y, clean = blobs(n=4200, d=12, seed=11)
    clear_cache()
    r32 = find_noisy(y, x, method="simifeat", seed=0, flipped_features=fl, precision="fp32")
    r16 = find_noisy(y, x, method="simifeat", seed=0, flipped_features=fl, precision="bf16")
    assert neighbors.LAST_RUN["symmetric"] and neighbors.LAST_RUN["fallback_rows"] < 4200  # the bf16 path ran
    assert r32.settings["precision"] == "fp32" and r16.settings["precision"] == "bf16"
    np.testing.assert_array_equal(r16.is_noisy, r32.is_noisy)
    np.testing.assert_allclose(r16.score, r32.score)
    clear_cache()
    monkeypatch.setattr(_torch, "cpu_has_bf16", lambda: False)
    assert _knn_precision("auto", "cpu") == "fp32"
    monkeypatch.setattr(_torch, "cpu_has_bf16", lambda: True)
    assert _knn_precision("auto", "cpu") == "bf16"
