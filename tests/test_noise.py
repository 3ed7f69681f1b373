"""Label-noise generators: rates, structure, determinism, validation (labnoise.noise)."""
import numpy as np
import pytest

from labnoise import noise
from labnoise.noise import (NoiseResult, asymmetric, cbn, cbn_loop, cbn_rate_grid, instance_dependent, pairflip, pmd,
                            pmd_probs, symmetric, transition, transition_from)

from conftest import needs


# ------------------------------------------------------------------------------------------------ fixtures
def _cifar_like_labels(n=50000, c=10, seed=0):
    return np.random.default_rng(seed).permutation(np.arange(n) % c).astype(np.int64)


def _map_2d(n=50000, c=10, seed=0, subclusters=5):
    """A CIFAR-10-sized synthetic 2-D 'map': class clusters on a ring, each made of sub-clusters."""
    g = np.random.default_rng(seed)
    y = g.integers(0, c, n)
    ang = 2 * np.pi * np.arange(c) / c
    centres = 40 * np.stack([np.cos(ang), np.sin(ang)], 1)
    subs = centres[:, None] + g.normal(scale=6.0, size=(c, subclusters, 2))
    s = g.integers(0, subclusters, n)
    xy = subs[y, s] + g.normal(scale=2.5, size=(n, 2))
    return xy.astype(np.float32), y.astype(np.int64)


def _probs(n=50000, c=10, seed=0, strength=3.0):
    """Softmax outputs of a 'classifier' that is right most of the time, with a spread of margins."""
    g = np.random.default_rng(seed)
    y = g.integers(0, c, n)
    logits = g.normal(size=(n, c)) + strength * np.eye(c)[y] * g.uniform(0.2, 1.5, size=(n, 1))
    p = np.exp(logits - logits.max(1, keepdims=True))
    return (p / p.sum(1, keepdims=True)).astype(np.float32), y.astype(np.int64)


# ------------------------------------------------------------------------------------------------ result type
def test_noise_result_statistics_are_consistent():
    y = _cifar_like_labels(5000)
    r = symmetric(y, 0.3, seed=1)
    assert isinstance(r, NoiseResult) and r.kind == "symmetric" and r.seed == 1
    np.testing.assert_allclose(r.transition_matrix.sum(1), 1.0)
    np.testing.assert_allclose(r.per_class_rates, 1 - np.diag(r.transition_matrix))
    assert r.realised_rate == pytest.approx(np.mean(r.noisy_labels != r.clean_labels))
    counts = r.counts
    assert counts.sum() == y.size and np.array_equal(counts.sum(1), np.bincount(y, minlength=10))
    s = r.summary()
    assert set(s) >= {"realised_rate", "targets_per_class_mean", "params"} and s["params"]["rate"] == 0.3


def test_targets_per_class_tells_concentrated_from_spread_noise():
    y = _cifar_like_labels(20000)
    pf = pairflip(y, 0.3, seed=0).targets_per_class()
    sym = symmetric(y, 0.3, seed=0).targets_per_class()
    assert pf.per_class.tolist() == [1] * 10 and pf.mean == 1.0 and pf.top2_share == 1.0
    assert sym.mean == 9.0 and 2 / 9 <= sym.top2_share < 0.3  # top-2 of 9 near-equal counts
    # min_fraction ignores stray targets
    assert symmetric(y, 0.3, seed=0).targets_per_class(min_fraction=0.5).mean == 0.0
    # a class without flips has 0 targets and is left out of the mean
    ya = asymmetric(y, 0.4, seed=0).targets_per_class()
    assert ya.per_class.tolist() == [0, 0, 1, 1, 1, 1, 0, 0, 0, 1] and ya.mean == 1.0


# ------------------------------------------------------------------------------------------------ synthetic
@pytest.mark.parametrize("n", [1000, 1003, 50000])
@pytest.mark.parametrize("rate", [0.0, 0.2, 0.35, 0.7])
def test_symmetric_hits_its_rate_exactly(n, rate):
    y = np.random.default_rng(n).integers(0, 10, n)
    r = symmetric(y, rate, seed=0, num_classes=10)
    assert int(r.flipped.sum()) == int(np.round(rate * n))
    # stratified: every class within one example of the rate
    n_c = np.bincount(y, minlength=10)
    assert np.all(np.abs(r.per_class_rates * n_c - rate * n_c) <= 1.0 + 1e-9)
    assert np.all(r.noisy_labels[r.flipped] != y[r.flipped])


def test_symmetric_is_uniform_over_the_other_classes():
    y = _cifar_like_labels()
    r = symmetric(y, 0.5, seed=3)
    off = r.counts.astype(float)
    np.fill_diagonal(off, np.nan)
    share = off / np.nansum(off, 1, keepdims=True)
    assert np.nanmax(np.abs(share - 1 / 9)) < 0.02


def test_pairflip_only_to_next_class():
    y = _cifar_like_labels(10000)
    r = pairflip(y, 0.45, seed=0)
    assert np.array_equal(r.noisy_labels[r.flipped], (y[r.flipped] + 1) % 10)
    assert r.realised_rate == pytest.approx(0.45, abs=1e-4)
    T = r.transition_matrix
    mask = np.eye(10, dtype=bool) | np.roll(np.eye(10, dtype=bool), 1, axis=1)
    assert np.all(T[~mask] == 0) and np.allclose(np.diag(np.roll(T, -1, axis=1)), 0.45, atol=1e-3)


def test_asymmetric_cifar10_pairs():
    y = _cifar_like_labels(10000)
    r = asymmetric(y, 0.4, seed=0)
    pairs = {(9, 1), (2, 0), (4, 7), (3, 5), (5, 3)}
    got = {(int(a), int(b)) for a, b in zip(y[r.flipped], r.noisy_labels[r.flipped])}
    assert got == pairs
    assert np.allclose(r.per_class_rates[[9, 2, 4, 3, 5]], 0.4, atol=1e-3)
    assert np.all(r.per_class_rates[[0, 1, 6, 7, 8]] == 0)
    assert r.realised_rate == pytest.approx(0.2, abs=1e-3)
    with pytest.raises(ValueError, match="mapping"):
        asymmetric(np.arange(20) % 20, 0.2, num_classes=20)


def test_transition_reproduces_its_matrix():
    g = np.random.default_rng(0)
    T = g.dirichlet(np.ones(5) * 0.5, size=5) * 0.4 + np.eye(5) * 0.6
    y = g.integers(0, 5, 50000)
    r = transition(y, T, seed=0)
    assert np.abs(r.transition_matrix - T).max() < 0.015
    assert r.realised_rate == pytest.approx(r.params["expected_rate"], abs=0.01)
    np.testing.assert_allclose(transition_from(y, r.noisy_labels), r.transition_matrix)
    assert np.array_equal(transition(y, np.eye(5), seed=0).noisy_labels, y)


def test_transition_rejects_a_matrix_that_is_not_row_stochastic():
    with pytest.raises(ValueError, match="row-normalise"):
        transition(np.arange(10) % 3, np.ones((3, 3)), seed=0)
    with pytest.raises(ValueError, match="square"):
        transition(np.arange(10) % 3, np.ones((3, 2)) / 2, seed=0)
    with pytest.raises(ValueError, match=r"T is 3 x 3 but labels hold class 3.*4 x 4"):
        transition(np.arange(10) % 4, np.eye(3), seed=0)


def test_transition_from_handles_absent_classes():
    T = transition_from(np.array([0, 0, 2]), np.array([0, 2, 2]), num_classes=3)
    assert T.tolist() == [[0.5, 0.0, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def test_instance_dependent_noise_rate_and_instance_dependence():
    from sklearn.datasets import make_classification

    x, y = make_classification(6000, n_features=20, n_informative=10, n_classes=5, n_clusters_per_class=1,
                               random_state=0)
    r = instance_dependent(x, y, 0.3, seed=0)
    assert r.realised_rate == pytest.approx(0.3, abs=0.02)
    q = r.extras["flip_rates"]
    assert q.min() >= 0 and q.max() <= 1 and q.std() == pytest.approx(0.1, abs=0.02)
    assert q[r.flipped].mean() > q[~r.flipped].mean() + 0.02  # examples with a high drawn rate flip more
    # the target class depends on the example: within a class, flips spread over several targets
    assert r.targets_per_class().mean > 2
    with pytest.raises(ValueError, match="NaN"):
        instance_dependent(np.where(np.arange(6000)[:, None] == 5, np.nan, x), y, 0.3, seed=0)


# ------------------------------------------------------------------------------------------------ determinism
_GENERATORS = {
    "symmetric": lambda s: symmetric(_cifar_like_labels(3000), 0.3, seed=s),
    "pairflip": lambda s: pairflip(_cifar_like_labels(3000), 0.3, seed=s),
    "asymmetric": lambda s: asymmetric(_cifar_like_labels(3000), 0.3, seed=s),
    "transition": lambda s: transition(_cifar_like_labels(3000), np.full((10, 10), 0.1), seed=s),
    "instance": lambda s: instance_dependent(np.random.default_rng(0).normal(size=(3000, 8)), _cifar_like_labels(3000),
                                             0.3, seed=s),
    "pmd": lambda s: pmd(*_probs(3000), kind="II", rate=0.35, seed=s),
    "cbn": lambda s: cbn(*_map_2d(3000), target_rate=0.35, seed=s),
}


@pytest.mark.parametrize("name", sorted(_GENERATORS))
def test_same_seed_same_bytes_other_seed_other_labels(name):
    a, b, c = _GENERATORS[name](0), _GENERATORS[name](0), _GENERATORS[name](1)
    assert a.noisy_labels.tobytes() == b.noisy_labels.tobytes()
    assert a.noisy_labels.tobytes() != c.noisy_labels.tobytes()


# ------------------------------------------------------------------------------------------------ validation
def test_invalid_inputs_raise_one_clear_error():
    y = _cifar_like_labels(100)
    with pytest.raises(ValueError, match="not a percentage"):
        symmetric(y, 35, seed=0)
    with pytest.raises(ValueError, match=r"in \[0, 1.0\)"):
        pairflip(y, 1.0, seed=0)
    with pytest.raises(ValueError, match="1-D"):
        symmetric(np.eye(10, dtype=int), 0.2, seed=0)
    with pytest.raises(ValueError, match=r"must lie in \[0, 4\]"):
        symmetric(y, 0.2, num_classes=5, seed=0)
    with pytest.raises(ValueError, match="rows but 99 were expected"):
        instance_dependent(np.zeros((100, 3)), y[:99], 0.2, seed=0)
    with pytest.raises(ValueError, match="seed is required"):
        symmetric(y, 0.2, seed=None)
    p, yp = _probs(200)
    with pytest.raises(ValueError, match="exactly one of"):
        pmd(p, yp, "I", seed=0)
    with pytest.raises(ValueError, match="unknown PMD kind"):
        pmd(p, yp, "IV", rate=0.3, seed=0)
    with pytest.raises(ValueError, match="not logits"):
        pmd(np.log(p), yp, "I", rate=0.3, seed=0)
    xy, ym = _map_2d(500)
    with pytest.raises(ValueError, match="NaN"):
        cbn(np.where(np.arange(500)[:, None] == 3, np.nan, xy), ym, n=2, r=1.0)
    with pytest.raises(ValueError, match="pass both n and r"):
        cbn(xy, ym, n=2)
    with pytest.raises(ValueError, match="at most one of n and r"):
        cbn(xy, ym, n=2, r=1.0, target_rate=0.3)
    with pytest.raises(ValueError, match="n must be an integer"):
        cbn(xy, ym, n=10_000, r=1.0)


# ------------------------------------------------------------------------------------------------ PMD
@pytest.mark.parametrize("kind", ["I", "II", "III"])
@pytest.mark.parametrize("rate", [0.35, 0.70])
def test_pmd_calibrates_to_the_target_rate_on_cifar10_sized_inputs(kind, rate):
    p, y = _probs()
    r = pmd(p, y, kind, rate=rate, seed=0)
    assert abs(r.realised_rate - rate) <= 0.005
    # the solved factor reproduces the same labels when passed back in
    again = pmd(p, y, kind, factor=r.params["factor"], seed=0)
    assert np.array_equal(again.noisy_labels, r.noisy_labels)
    # noisy labels are the top-1 or the top-2 class of the classifier, nothing else
    top2 = np.argsort(-p, axis=1, kind="stable")[:, :2]
    assert np.all((r.noisy_labels == top2[:, 0]) | (r.noisy_labels == top2[:, 1]))


def test_pmd_concentrates_noise_at_small_margins_and_grows_with_the_factor():
    p, y = _probs(20000)
    r = pmd(p, y, "I", rate=0.35, seed=0)
    d = r.extras["delta"]
    assert d[r.flipped].mean() < d[~r.flipped].mean() - 0.05
    rates = [pmd(p, y, "I", factor=f, seed=0).realised_rate for f in (1.0, 1.5, 2.5, 5.0)]
    assert rates == sorted(rates) and rates[-1] > rates[0] + 0.3
    # the noise functions: largest at the boundary, diminishing with the margin
    for k in noise.PMD_KINDS:
        tau = noise.pmd_noise_function(np.linspace(0, 1, 11), k)
        assert np.all(np.diff(tau) <= 0) and tau[-1] == pytest.approx(0.0)


def test_pmd_unreachable_rate_names_the_largest_reachable_rate():
    p, y = _probs(5000)
    top2 = np.argsort(-p, axis=1, kind="stable")[:, 1]
    largest = np.mean(top2 != y)  # every label moved to the runner-up class
    with pytest.raises(ValueError, match=f"largest reachable rate is {largest:.4f}"):
        pmd(p, y, "I", rate=0.999, seed=0)


def test_pmd_probs_trains_a_clean_label_classifier():
    from sklearn.datasets import make_classification

    x, y = make_classification(3000, n_features=16, n_informative=8, n_classes=4, n_clusters_per_class=1,
                               class_sep=2.0, random_state=0)
    p1 = pmd_probs(x, y, epochs=8, seed=0, progress=False, device="cpu")
    p2 = pmd_probs(x, y, epochs=8, seed=0, progress=False, device="cpu")
    assert p1.shape == (3000, 4) and p1.dtype == np.float32
    np.testing.assert_allclose(p1.sum(1), 1.0, atol=1e-5)
    assert np.array_equal(p1, p2)
    assert (p1.argmax(1) == y).mean() > 0.9
    r = pmd(p1, y, "I", rate=0.35, seed=0)
    assert abs(r.realised_rate - 0.35) <= 0.005


# ------------------------------------------------------------------------------------------------ CBN
@pytest.mark.parametrize("rate", [0.35, 0.70])
def test_cbn_calibrates_to_the_target_rate_on_cifar10_sized_inputs(rate):
    xy, y = _map_2d()
    r = cbn(map_2d=xy, labels=y, target_rate=rate, seed=0)
    assert abs(r.realised_rate - rate) <= 0.005
    assert r.params["search"] in ("n", "n+r") and r.params["n"] >= 1
    # the reported (n, r) reproduce the labels
    again = cbn(map_2d=xy, labels=y, n=r.params["n"], r=r.params["r"], seed=0)
    assert np.array_equal(again.noisy_labels, r.noisy_labels)


def test_cbn_flips_exactly_the_points_near_a_sub_centre_to_the_nearest_other_centre():
    xy, y = _map_2d(8000)
    r = cbn(xy, y, n=6, r=3.0, seed=2)
    # class centres and the nearest other centre, computed independently
    centres = np.stack([xy[y == c].mean(0) for c in range(10)])
    d = np.linalg.norm(xy[:, None] - centres[None], axis=2)
    d[np.arange(y.size), y] = np.inf
    np.testing.assert_allclose(r.extras["class_centres"], centres, atol=1e-4)
    assert np.array_equal(r.noisy_labels[r.flipped], d.argmin(1)[r.flipped])
    # flipped <=> closer than r (strictly) to one of its own class's sub-centres
    subs = r.extras["sub_centres"]
    assert all(len(s) == 6 and np.all(y[s] == c) for c, s in enumerate(subs))
    near = np.zeros(y.size, bool)
    for c, s in enumerate(subs):
        m = y == c
        near[m] = (np.linalg.norm(xy[m][:, None] - xy[s][None], axis=2) < 3.0).any(1)
    assert np.array_equal(near, r.flipped)
    # CBN concentrates: each class flips to few targets (here the two ring neighbours), unlike symmetric noise
    assert r.targets_per_class().mean <= 3 and r.targets_per_class().top2_share > 0.95


def test_cbn_radius_test_is_strict_as_in_algorithm_1():
    """Algorithm 1 flips a point when dist < r: a point at exactly r from its sub-centre keeps its label."""
    xy = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 0.0], [12.0, 0.0]])   # two classes, points 2 apart
    y = np.array([0, 0, 1, 1])
    at = cbn(xy, y, n=1, r=2.0, seed=0)           # only the two sub-centres (distance 0) flip
    assert at.flipped.sum() == 2 and cbn_rate_grid(xy, y, [1], [2.0], seed=0)[0, 0] == 0.5
    assert np.array_equal(cbn_loop(xy, y, 1, 2.0, seed=0), at.noisy_labels)
    assert cbn(xy, y, n=1, r=2.0 + 1e-9, seed=0).flipped.sum() == 4   # just beyond: the partners flip too
    assert cbn(xy, y, n=1, r=0.0, seed=0).flipped.sum() == 0          # nothing is closer than 0


def test_cbn_vectorised_equals_the_per_point_loop():
    xy, y = _map_2d(3000, seed=5)
    for n, rad in [(1, 2.0), (7, 4.0), (40, 1.5)]:
        assert np.array_equal(cbn(xy, y, n=n, r=rad, seed=3).noisy_labels, cbn_loop(xy, y, n, rad, seed=3))


def test_cbn_search_modes():
    xy, y = _map_2d(20000)
    fixed_n = cbn(xy, y, n=30, target_rate=0.4, seed=0)          # r solved exactly
    assert fixed_n.params["search"] == "r" and fixed_n.params["n"] == 30
    assert abs(fixed_n.realised_rate - 0.4) <= 1 / 20000 + 1e-12
    fixed_r = cbn(xy, y, r=2.0, target_rate=0.4, seed=0)         # n searched at r = 2
    assert fixed_r.params["search"] == "n" and fixed_r.params["r"] == 2.0
    assert abs(fixed_r.realised_rate - 0.4) <= 0.005
    # the rate grows with n and r
    grid = cbn_rate_grid(xy, y, [1, 5, 20, 80], [0.5, 1.0, 2.0, 4.0], seed=0)
    assert np.all(np.diff(grid, axis=0) >= 0) and np.all(np.diff(grid, axis=1) >= 0)
    assert grid[2, 2] == pytest.approx(cbn(xy, y, n=20, r=2.0, seed=0).realised_rate)


def test_cbn_unreachable_rate_states_the_largest_reachable_rate():
    xy, y = _map_2d(5000)
    with pytest.raises(ValueError, match=r"largest reachable rate at this r is 0\.\d+") as e:
        cbn(xy, y, r=0.05, target_rate=0.9, seed=0)
    assert "pass a larger r" in str(e.value)
    with pytest.raises(ValueError, match="as low as"):
        cbn(xy, y, n=200, target_rate=0.01, seed=0)


def test_cbn_on_features_runs_tsne(tmp_path):
    from labnoise.noise import clustered_features

    x, y = clustered_features(600, 16, num_classes=3, seed=0)
    r = cbn(x, y, target_rate=0.3, seed=0, cache=tmp_path)
    assert r.params["map"] == "tsne_map" and r.extras["map_2d"].shape == (600, 2)
    assert abs(r.realised_rate - 0.3) <= 0.005
    assert len(list(tmp_path.glob("tsne-*.npy"))) == 1


# ------------------------------------------------------------------------------------------------ human
@needs("cifar10n")
def test_transition_from_cifar10n_random1_reproduces_its_noise_rate():
    from labnoise.data import load_label_set

    clean = load_label_set("cifar10n", "clean")
    noisy = load_label_set("cifar10n", "random1")
    T = transition_from(clean, noisy)
    r = transition(clean, T, seed=0)
    assert abs(r.realised_rate - 0.173) <= 0.003
    assert np.abs(r.transition_matrix - T).max() < 0.02
    h = noise.human("cifar10n", "random1")
    assert h.kind == "human" and h.realised_rate == pytest.approx(0.1723, abs=5e-4)
    np.testing.assert_allclose(h.transition_matrix, T)
    with pytest.raises(ValueError, match="reference itself"):
        noise.human("cifar10n", "clean")


def test_cbn_validates_before_computing_a_map(monkeypatch):
    from labnoise import tsne

    def boom(*a, **k):
        raise AssertionError("t-SNE ran before the arguments were validated")

    monkeypatch.setattr(tsne, "tsne_map", boom)
    x = np.random.default_rng(0).normal(size=(300, 8))
    y = np.arange(300) % 3
    with pytest.raises(ValueError, match="n must be an integer"):
        cbn(x, y, n=500, r=1.0)
    with pytest.raises(ValueError, match="not a percentage"):
        cbn(x, y, target_rate=35)
