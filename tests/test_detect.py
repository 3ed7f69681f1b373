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
    copy_of, lab = corrupt(y, 5, rate=0.5, seed=0)
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


def test_dynacor_sqeuclidean_evaluation_option(one_thread):
    x, fl, y, clean = blobs(n=300, seed=1)
    res = find_noisy(y, x, method="dynacor", seed=0, flipped_features=fl, distance="sqeuclidean",
                     **FAST["dynacor"])
    assert res.settings["distance"] == "sqeuclidean" and res.is_noisy.shape == (300,)
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
    from labnoise.detect import compare, parse_setting, setting_labels
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
