"""LRA-Diffusion: learns clean data, samples its training label distribution, is robust to planted noise
(with sample averaging or SNLS targets), selects on noisy validation data only, reproduces under a seed."""
import numpy as np
import pytest

from labnoise.methods.lra_diffusion import LRADiffusion, beta_schedule
from labnoise.methods.snls import snls_targets


def clustered(n, seed, C=4, sub=3, d=8, std=1.0, spread=4.0):
    """C classes, each a union of ``sub`` Gaussian sub-clusters (a frozen encoder's space, in miniature)."""
    r = np.random.default_rng(seed)
    centres = r.normal(0, spread, size=(C * sub, d))
    comp = r.integers(0, C * sub, n)
    return (centres[comp] + r.normal(0, std, size=(n, d))).astype(np.float32), comp % C


def symmetric(y, rate, C, seed):
    r = np.random.default_rng(seed)
    noisy = y.copy()
    flip = r.random(len(y)) < rate
    noisy[flip] = (y[flip] + r.integers(1, C, flip.sum())) % C
    return noisy


FAST = dict(epochs=25, batch_size=128, hidden=128, device="cpu", progress=False)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data():
    """Well-separated sub-clusters: an easy clean problem."""
    X, y = clustered(2000, 0)
    return X[:1000], y[:1000], X[1000:], y[1000:]


@pytest.fixture(scope="module")
def noisy_data():
    """Overlapping sub-clusters in 32-d, 600 training examples, 40% symmetric noise: enough capacity for CE
    to memorise the noise (clean-label CE reaches ~0.93 test accuracy here, noisy-label CE ~0.72)."""
    X, y = clustered(1600, 0, d=32, std=1.0, spread=0.8)
    return X[:600], symmetric(y[:600], 0.4, 4, 1), X[600:], y[600:]


@pytest.fixture(scope="module")
def lra_noisy(noisy_data):
    X, noisy, _, _ = noisy_data
    return LRADiffusion(k=10, seed=0, **FAST).fit(X, noisy)


def test_schedules():
    for name in ("linear", "cosine"):
        b = beta_schedule(name, 1000)
        assert b.shape == (1000,) and (b > 0).all() and (b < 1).all()
        abar = np.cumprod(1 - b)
        assert abar[-1] < 1e-2 and abar[0] > 0.99   # ends (almost) at pure noise
    assert np.cumprod(1 - beta_schedule("linear", 100))[-1] < 1e-2   # rescaled for short schedules


def test_learns_clean_problem(data):
    X, y, Xte, yte = data
    m = LRADiffusion(k=1, seed=0, **FAST).fit(X, y)
    assert m.score(Xte, yte) > 0.9          # chance is 0.25
    assert m.history_["loss"][-1] < m.history_["loss"][0]
    proba = m.predict_proba(Xte[:50])
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)


def test_single_samples_follow_the_training_label_distribution(lra_noisy, noisy_data):
    """A generative model of p(y | x): single samples repeat the neighbours' label noise, averages do not."""
    X, noisy, Xte, yte = noisy_data
    one = np.mean(lra_noisy.predict(Xte, inference="sample", n_samples=1) == yte)
    many = np.mean(lra_noisy.predict(Xte, inference="sample", n_samples=15) == yte)
    assert 0.35 < one < 0.7           # at most ~0.6 of the retrieved labels are correct
    assert many > one + 0.15


_PLANTED = {}


def planted(data_seed):
    """Overlapping sub-clusters in 32-d, 600 training examples, 40% symmetric noise, and LRA-Diffusion (k = 10)
    trained on the noisy labels (memoised: two tests use it)."""
    if data_seed not in _PLANTED:
        X, y = clustered(1600, data_seed, d=32, std=1.0, spread=0.8)
        X, clean, noisy, Xte, yte = X[:600], y[:600], symmetric(y[:600], 0.4, 4, data_seed + 1), X[600:], y[600:]
        m = LRADiffusion(k=10, seed=data_seed, **FAST).fit(X, noisy)
        _PLANTED[data_seed] = (X, clean, noisy, Xte, yte, m)
    return _PLANTED[data_seed]


@pytest.mark.parametrize("data_seed", [0, 1, 2])
def test_robust_to_planted_noise_vs_ce(data_seed):
    """Properties of the method on every data seed, no allowances: (1) retrieving labels from 10 neighbours
    dilutes the noise, so LRA-Diffusion loses less test accuracy to 40% planted noise (against itself trained
    on the clean labels) than cross-entropy, which memorises it, loses against clean-label cross-entropy;
    (2) SNLS soft targets beat plain cross-entropy outright."""
    from labnoise.train import fit

    X, clean, noisy, Xte, yte, lra = planted(data_seed)

    def ce(labels):
        r = fit("mlp", X, labels, epochs=50, batch_size=64, lr=1e-3, optimizer="adam", weight_decay=0.0,
                seed=0, device="cpu", progress=False, model_kwargs={"hidden": (256,)})
        return float(np.mean(r.predict_proba(Xte, device="cpu").argmax(1) == yte))

    ce_noisy, ce_clean = ce(noisy), ce(clean)
    lra_noisy = lra.score(Xte, yte)                     # default: deterministic DDIM from y_T = 0
    lra_clean = LRADiffusion(k=1, seed=data_seed, **FAST).fit(X, clean).score(Xte, yte)
    assert lra_clean - lra_noisy < ce_clean - ce_noisy, (lra_clean, lra_noisy, ce_clean, ce_noisy)
    soft = snls_targets(X, noisy, k=50, alpha=0.3, device="cpu")
    snls_acc = LRADiffusion(seed=data_seed, **FAST).fit(X, soft).score(Xte, yte)
    assert snls_acc > ce_noisy, (snls_acc, ce_noisy)


@pytest.mark.parametrize("data_seed", [0, 1, 2])
def test_zero_start_is_deterministic_and_beats_one_random_sample(data_seed):
    """The public code's inference (DDIM from y_T = 0) is one deterministic prediction, and it lands near the
    neighbourhood's mean label: at 40% planted noise it beats a single generated label by a wide margin (a
    single sample repeats the noise, ~0.6 correct at best; the mean is the plurality label)."""
    _, _, _, Xte, yte, m = planted(data_seed)
    assert m.inference == "zero"
    z = m.denoise(Xte)
    assert z.tobytes() == m.denoise(Xte, seed=123).tobytes() == m.denoise(Xte, n_samples=7).tobytes()
    zero = np.mean(z.argmax(1) == yte)
    singles = [np.mean(m.predict(Xte, inference="sample", n_samples=1, seed=s) == yte) for s in range(3)]
    assert zero >= max(singles) + 0.1, (zero, singles)


def test_seeded_runs_reproduce(noisy_data):
    X, noisy, Xte, _ = noisy_data
    X, noisy = X[:300], noisy[:300]
    kw = dict(FAST, epochs=3)
    a = LRADiffusion(seed=3, **kw).fit(X, noisy)
    b = LRADiffusion(seed=3, **kw).fit(X, noisy)
    c = LRADiffusion(seed=4, **kw).fit(X, noisy)
    assert a.history_["loss"] == b.history_["loss"]
    assert a.denoise(Xte).tobytes() == b.denoise(Xte).tobytes()
    assert a.denoise(Xte).tobytes() == a.denoise(Xte).tobytes()     # inference noise is seeded too
    assert a.history_["loss"] != c.history_["loss"]


def test_noisy_validation_selection(noisy_data):
    X, noisy, _, _ = noisy_data
    m = LRADiffusion(seed=0, val_fraction=0.2, **dict(FAST, epochs=4)).fit(X, noisy)
    assert len(m.history_["val_acc"]) == 4
    assert m.best_epoch_ == int(np.argmax(m.history_["val_acc"])) + 1
    assert len(m.val_indices_) == round(0.2 * len(X))
    # the validation examples are never retrieved as training targets
    assert not np.isin(m.val_indices_, m.train_neighbors_).any()


def test_eps_prediction_and_cosine_schedule(data):
    X, y, Xte, yte = data
    m = LRADiffusion(k=1, seed=0, prediction="eps", schedule="cosine", precision="fp32", **FAST).fit(X, y)
    assert m.precision_ == "fp32"
    assert m.score(Xte, yte) > 0.8


@pytest.mark.parametrize("kw, msg", [({"prediction": "v"}, "prediction"), ({"schedule": "sqrt"}, "schedule"),
                                     ({"val_fraction": 1.0}, "val_fraction"), ({"k": 0}, "k must"),
                                     ({"ddim_steps": 2000}, "ddim_steps"), ({"precision": "fp16"}, "precision"),
                                     ({"inference": "random"}, "inference")])
def test_bad_parameters(data, kw, msg):
    X, y, _, _ = data
    with pytest.raises(ValueError, match=msg):
        LRADiffusion(**{**FAST, **kw}).fit(X, y)


def test_bad_inputs(data):
    X, y, _, _ = data
    with pytest.raises(ValueError, match="sum"):
        LRADiffusion(**FAST).fit(X, np.full((len(X), 4), 0.5, np.float32))
    with pytest.raises(ValueError, match="length"):
        LRADiffusion(**FAST).fit(X, y[:-1])
    with pytest.raises(ValueError, match="not fitted"):
        LRADiffusion(**FAST).predict(X)
    m = LRADiffusion(**dict(FAST, epochs=1)).fit(X, y)
    with pytest.raises(ValueError, match="columns"):
        m.predict(X[:, :3])


def test_scikit_learn_conventions(data):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    X, y, Xte, _ = data
    m = LRADiffusion(k=3, seed=1, **dict(FAST, epochs=1))
    assert m.get_params()["k"] == 3 and m.get_params()["seed"] == 1
    assert not [a for a in vars(m) if a.endswith("_")]     # nothing fitted before fit
    with pytest.raises(NotFittedError):
        m.predict(Xte)
    with pytest.raises(TypeError):
        LRADiffusion(10)                                    # options are keyword-only
    c = clone(m.set_params(k=1))
    assert c.get_params() == m.get_params() and c is not m
    m.fit(X, y)
    assert {"model_", "history_", "best_epoch_", "num_classes_", "n_features_in_", "precision_"} <= set(vars(m))
    assert not hasattr(c, "model_")                         # a clone is unfitted
    assert c.fit(X, y).denoise(Xte).tobytes() == m.denoise(Xte).tobytes()   # same params, same seed
