"""SNLS soft labels: the formula (against a brute-force reference), limits, determinism, and that they
recover planted noise, including the wide-neighbourhood effect on a mislabelled sub-cluster (CBN)."""
import numpy as np
import pytest

from labnoise.experiments.snls import compare_hosts
from labnoise.methods.snls import neighbor_indices, neighbor_label_freq, snls_targets, soft_label_accuracy, soften


def _brute_force(X, y, k, alpha, include_self, metric, C):
    X = X.astype(np.float64)
    if metric == "cosine":
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
    d = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    out = np.zeros((len(X), C))
    for i in range(len(X)):  # reference implementation: an explicit loop on purpose
        others = list(np.argsort(d[i], kind="stable")[: k - 1 if include_self else k])
        nb = ([i] if include_self else []) + others
        for j in nb:
            out[i, y[j]] += (1 - alpha) / k
        out[i, y[i]] += alpha
    return out


@pytest.fixture(scope="module")
def small():
    r = np.random.default_rng(0)
    X = r.normal(size=(60, 5)).astype(np.float32) * np.float32(3.0) + 1.0
    y = r.integers(0, 4, size=60)
    return X, y


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("k", [1, 7, 20])
def test_matches_brute_force(small, include_self, metric, k):
    X, y = small
    soft = snls_targets(X, y, k=k, alpha=0.3, include_self=include_self, metric=metric, num_classes=4,
                        device="cpu")
    ref = _brute_force(X, y, k, 0.3, include_self, metric, 4)
    assert soft.dtype == np.float32 and soft.shape == (60, 4)
    np.testing.assert_allclose(soft, ref, atol=1e-6)
    np.testing.assert_allclose(soft.sum(1), 1.0, atol=1e-6)
    assert (soft >= 0).all()


def test_self_matters(small):
    X, y = small
    a = snls_targets(X, y, k=5, alpha=0.0, include_self=True, device="cpu")
    b = snls_targets(X, y, k=5, alpha=0.0, include_self=False, device="cpu")
    assert not np.allclose(a, b)
    # with self, the own label gets at least 1/k of the mass even at alpha = 0
    assert (a[np.arange(60), y] >= 1 / 5 - 1e-6).all()


def test_alpha_limits(small):
    X, y = small
    one_hot = snls_targets(X, y, k=10, alpha=1.0, num_classes=6, device="cpu")
    np.testing.assert_array_equal(one_hot, np.eye(6, dtype=np.float32)[y])
    nbr = neighbor_indices(X, 10, device="cpu")
    freq = snls_targets(X, y, k=10, alpha=0.0, device="cpu")
    np.testing.assert_allclose(freq, neighbor_label_freq(nbr, y), atol=1e-7)
    np.testing.assert_allclose(snls_targets(X, y, k=10, alpha=0.4, device="cpu"), soften(freq, y, alpha=0.4), atol=1e-6)


def test_precomputed_neighbors_and_determinism(small):
    X, y = small
    nbr = neighbor_indices(X, 30, device="cpu")
    assert (nbr[:, 0] == np.arange(60)).all()
    for k in (1, 10, 30):
        direct = snls_targets(X, y, k=k, device="cpu")
        np.testing.assert_array_equal(direct, snls_targets(X, y, k=k, neighbors=nbr))
        assert direct.tobytes() == snls_targets(X, y, k=k, device="cpu").tobytes()


def test_recovers_planted_symmetric_noise():
    from sklearn.datasets import make_blobs

    X, y = make_blobs(1500, n_features=8, centers=5, cluster_std=1.5, random_state=3)
    r = np.random.default_rng(1)
    noisy = y.copy()
    flip = r.random(len(y)) < 0.4
    noisy[flip] = (y[flip] + r.integers(1, 5, flip.sum())) % 5
    soft = snls_targets(X, noisy, k=50, alpha=0.3, device="cpu")
    acc_noisy = np.mean(noisy == y)
    acc_soft = np.mean(soft.argmax(1) == y)
    assert acc_noisy < 0.65
    # alpha = 0.3 keeps 0.3 + 0.7 * 0.1 on a wrong given label vs 0.7 * 0.6 on the true one: most flips recovered
    assert acc_soft > 0.8 and acc_soft > acc_noisy + 0.2
    # without trust in the given label, the plurality of 50 neighbours is almost always the true class
    assert np.mean(snls_targets(X, noisy, k=50, alpha=0.0, device="cpu").argmax(1) == y) > 0.95
    # flipped examples: the true class gets about 0.7 * 0.6 of the mass (0 in the given one-hot label)
    assert soft[flip, y[flip]].mean() > 0.35


def test_wide_neighbourhood_fixes_a_mislabelled_subcluster():
    """CBN flips a whole sub-cluster: a small k sees only the wrong label, a wide k reaches the true class."""
    r = np.random.default_rng(0)
    big = r.normal(0.0, 1.0, size=(400, 2))                      # class 0 cluster
    sub = r.normal([0.6, 0.0], 0.08, size=(30, 2))               # a tight sub-cluster inside it...
    other = r.normal([8.0, 0.0], 1.0, size=(400, 2))             # class 1 cluster
    X = np.vstack([big, sub, other]).astype(np.float32)
    clean = np.r_[np.zeros(430, int), np.ones(400, int)]
    noisy = clean.copy()
    noisy[400:430] = 1                                           # ...relabelled as class 1 (CBN-style)
    sub_idx = np.arange(400, 430)
    small_k = snls_targets(X, noisy, k=10, alpha=0.3, device="cpu")
    wide_k = snls_targets(X, noisy, k=200, alpha=0.3, device="cpu")
    assert np.mean(small_k[sub_idx].argmax(1) == 0) == 0.0
    assert np.mean(wide_k[sub_idx].argmax(1) == 0) == 1.0


@pytest.mark.parametrize("kw, msg", [({"alpha": 1.5}, "alpha"), ({"alpha": -0.1}, "alpha"), ({"k": 0}, "k must"),
                                     ({"k": 61}, "too large"), ({"metric": "manhattan"}, "metric")])
def test_validation(small, kw, msg):
    X, y = small
    with pytest.raises(ValueError, match=msg):
        snls_targets(X, y, device="cpu", **{"k": 5, **kw})


def test_validation_lengths(small):
    X, y = small
    with pytest.raises(ValueError, match="length"):
        snls_targets(X, y[:-1], k=5, device="cpu")
    with pytest.raises(ValueError, match="neighbors"):
        snls_targets(X, y, k=5, neighbors=np.zeros((60, 3), int))
    with pytest.raises(ValueError, match="one label per example|1-D"):
        snls_targets(X, np.eye(4)[y], k=5, device="cpu")


def test_soft_label_accuracy_grid(small):
    X, y = small
    clean = np.random.default_rng(5).integers(0, 4, 60)
    nbr = neighbor_indices(X, 20, device="cpu")
    grid = soft_label_accuracy(nbr, y, clean, [1, 5, 20], [0.0, 0.3, 1.0], num_classes=4)
    assert grid.shape == (3, 3)
    for i, k in enumerate([1, 5, 20]):
        for j, a in enumerate([0.0, 0.3, 1.0]):
            direct = snls_targets(X, y, k=k, alpha=a, num_classes=4, neighbors=nbr).argmax(1)
            assert grid[i, j] == pytest.approx(100 * np.mean(direct == clean))
    given = 100 * np.mean(y == clean)
    assert grid[0, 1] == pytest.approx(given) and grid[2, 2] == pytest.approx(given)   # k=1 (self) / alpha=1


def _overlapping_blobs(data_seed):
    """Overlapping blobs with 40% symmetric noise on 600 training points: enough capacity for CE to memorise
    part of the noise."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(900, n_features=16, centers=4, cluster_std=6.0, random_state=data_seed)
    X = X.astype(np.float32)
    r = np.random.default_rng(data_seed)
    noisy = y[:600].copy()
    flip = r.random(600) < 0.4
    noisy[flip] = (noisy[flip] + r.integers(1, 4, flip.sum())) % 4
    return X[:600], noisy, X[600:], y[600:]


def test_compare_hosts_reports_paired_gains():
    """The bookkeeping: one accuracy per seed and variant, gain = mean over seeds of the paired difference."""
    from labnoise._torch import torch_threads

    X, noisy, Xte, yte = _overlapping_blobs(0)
    with torch_threads(1):
        out = compare_hosts(X, {"sym": {"0.40": noisy}}, Xte, yte, hosts=["ce", "lra_diffusion"],
                            seeds=[0, 1], k=50, alpha=0.3, device="cpu", progress=False,
                            host_kwargs={"ce": {"epochs": 3, "hidden": 32, "batch_size": 64},
                                         "lra_diffusion": {"epochs": 2, "lra": {"hidden": 32}}})
    for host in ("ce", "lra_diffusion"):
        cell = out["acc"][host]["sym"]["0.40"]
        assert len(cell["plain"]) == len(cell["snls"]) == 2
        assert all(0.0 <= a <= 100.0 for a in cell["plain"] + cell["snls"])
        assert out["gain"][host]["sym"]["0.40"] == pytest.approx(
            np.mean(np.subtract(cell["snls"], cell["plain"])), abs=1e-3)


@pytest.mark.parametrize("data_seed", [0, 1, 2])
def test_snls_targets_beat_plain_ce_on_planted_noise(data_seed):
    """The method's claim, on every data seed: cross-entropy on SNLS soft targets (k = 50, alpha = 0.3) ends
    above cross-entropy on the noisy labels themselves, same host, same training seed."""
    from labnoise._torch import torch_threads
    from labnoise.experiments.snls import train_host

    X, noisy, Xte, yte = _overlapping_blobs(data_seed)
    soft = snls_targets(X, noisy, k=50, alpha=0.3, device="cpu")
    kw = dict(epochs=40, hidden=256, batch_size=64, seed=0, device="cpu")
    with torch_threads(1):
        plain = train_host("ce", X, noisy, Xte, yte, **kw)
        snls = train_host("ce", X, soft, Xte, yte, **kw)
    assert snls > plain, (snls, plain)


def test_viz_panel_and_browser_headless(small):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labnoise.viz.snls import gain_bars, neighbour_browser, neighbour_panel

    X, y = small
    images = (np.random.default_rng(0).random((60, 8, 8, 1)) * 255).astype(np.uint8)
    nbr = neighbor_indices(X, 20, device="cpu")
    clean = y.copy()
    clean[:10] = (clean[:10] + 1) % 4
    fig = neighbour_panel(images, 3, nbr, y, clean, ["a", "b", "c", "d"], k=20, ncols=10)
    assert len(fig.axes) == 1 + 20 + 1          # the image, its 20 neighbours, the label bars
    plt.close(fig)
    w = neighbour_browser(images, nbr, y, clean, ["a", "b", "c", "d"], start=3)
    png = w.children[-1].value
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w.children[1].children[0].value = 5          # moving the k slider redraws
    assert w.children[-1].value != png
    fig = gain_bars({"ce": {"cbn": {"0.35": {"plain": [50.0], "snls": [60.0]}}}})
    assert "+10.0" in [t.get_text() for t in fig.axes[0].texts]
    plt.close("all")


def test_train_host_precision_is_one_setting(small):
    from labnoise.experiments.snls import train_host

    X, y = small
    with pytest.raises(ValueError, match="contradicts"):
        train_host("lra_diffusion", X, y, X, y, precision="fp32", lra={"precision": "bf16"}, device="cpu")
    with pytest.raises(ValueError, match="precision"):
        train_host("ce", X, y, X, y, precision="fp16", device="cpu")


def test_label_sweep_and_its_reading_state_what_the_sweep_shows():
    """The k-sweep sentence is generated from the sweep: a set whose soft labels beat the given labels only at
    large k says so; one that never beats them says 'below the given labels at every k'."""
    from labnoise.experiments.snls import k_sweep_reading, label_sweep

    sweep = {"k": [1, 10, 100], "alpha_at": 0.3, "label_acc": {
        "cbn": {"0.35": {"vs_k": [60.0, 62.0, 70.0], "given": 65.0},
                "0.7": {"vs_k": [28.0, 25.0, 20.0], "given": 30.0}},
        "pmd": {"0.35": {"vs_k": [66.0, 80.0, 82.0], "given": 65.0}}}}
    text = k_sweep_reading(sweep)
    assert "CBN 0.35" in text and "above the given labels at k = 100 only" in text
    assert "best 70.0% at k = 100" in text
    assert "not above the given labels at any k" in text and "above the given labels at every k" in text
    # and label_sweep fills that structure from a neighbour table
    X, y = _overlapping_blobs(0)[:2]
    nbr = neighbor_indices(X, 30, device="cpu")
    s = label_sweep(nbr, {"sym": {"0.4": y}}, y, [1, 10, 30, 300], [0.0, 0.3, 1.0], k=10, alpha=0.3)
    assert s["k"] == [1, 10, 30] and s["k_at"] == 10 and s["alpha_at"] == 0.3
    v = s["label_acc"]["sym"]["0.4"]
    assert v["given"] == 100.0 and v["vs_alpha"][-1] == 100.0  # alpha = 1: the given labels themselves


def test_model_sweep_runs_every_rate_and_alpha_one_is_plain_ce():
    from labnoise._torch import torch_threads
    from labnoise.experiments.snls import model_sweep, model_sweep_reading, train_host

    X, noisy, Xte, yte = _overlapping_blobs(1)
    nbr = neighbor_indices(X, 20, device="cpu")
    sets = {"0.35": noisy, "0.7": noisy[::-1].copy()}
    with torch_threads(1):
        out = model_sweep(X, sets, Xte, yte, neighbors=nbr, ks=[5, 20], alphas=[0.3, 1.0], k=20, alpha=0.3,
                          epochs=2, hidden=16, device="cpu")
        plain = train_host("ce", X, noisy, Xte, yte, seed=0, epochs=2, hidden=16, device="cpu")
    assert set(out) == {"0.35", "0.7"}
    assert out["0.35"]["vs_alpha"][1] == pytest.approx(plain, abs=1e-3)
    assert out["0.35"]["vs_k"][1] == out["0.35"]["vs_alpha"][0]  # (k=20, alpha=0.3) trained once, reused
    assert "best alpha" in model_sweep_reading(out, "cbn")
