import numpy as np
import pytest
import torch

from labnoise.methods import CoTeaching, CoTeachingPlus, GCE, PLC, get_method
from labnoise.methods.gce import gce_loss
from labnoise.train import fit


pytestmark = pytest.mark.usefixtures("one_thread")


def _blobs(n, seed, d=20, c=5):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(size=(c, d)) * 1.2
    y = rng.integers(0, c, n)
    return (centres[y] + rng.normal(size=(n, d))).astype(np.float32), y


def _symmetric(y, rate, c=5, seed=0):
    rng = np.random.default_rng(seed)
    flip = rng.random(len(y)) < rate
    out = y.copy()
    out[flip] = (y[flip] + rng.integers(1, c, flip.sum())) % c  # uniform over the other classes
    return out


@pytest.fixture(scope="module")
def problem():
    x, y = _blobs(1500, 0)
    xt, yt = _blobs(1000, 1)
    yn = _symmetric(y, 0.5)
    return x, y, yn, xt, yt


KW = dict(epochs=30, batch_size=64, lr=0.05, seed=0, progress=False, device="cpu",
          model_kwargs={"hidden": (256, 256)})


def test_gce_beats_ce_on_planted_symmetric_noise(problem):
    x, y, yn, xt, yt = problem
    ce = fit("mlp", x, yn, method="ce", x_test=xt, y_test=yt, clean_labels=y, **KW)
    gce = fit("mlp", x, yn, method=GCE(q=0.7), x_test=xt, y_test=yt, clean_labels=y, **KW)
    # CE memorises the flipped labels, GCE does not
    assert ce.final["train_acc_noisy"] > 0.85
    assert gce.final["train_acc_noisy"] < 0.7
    assert gce.final["test_acc"] > ce.final["test_acc"] + 0.1


def test_gce_loss_formula_and_limits():
    logits = torch.randn(6, 4)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    p = torch.softmax(logits, 1)[torch.arange(6), y]
    assert torch.allclose(gce_loss(logits, y, 0.7), (1 - p ** 0.7) / 0.7, atol=1e-6)
    assert torch.allclose(gce_loss(logits, torch.eye(4)[y], 0.7), gce_loss(logits, y, 0.7), atol=1e-6)
    assert torch.allclose(gce_loss(logits, y, 1.0), 1 - p, atol=1e-6)  # q=1: MAE
    # q -> 0 recovers cross-entropy
    assert torch.allclose(gce_loss(logits, y, 1e-4), -torch.log(p), atol=1e-3)
    with pytest.raises(ValueError, match="q must be"):
        GCE(q=0)


def test_coteaching_plus_selects_cleaner_examples_than_random(problem):
    x, y, yn, xt, yt = problem
    noisy = torch.from_numpy(yn != y)
    gen = torch.Generator().manual_seed(0)
    sel, rand, batch = [], [], []

    def hook(event, state):
        if event != "batch_end" or state.epoch < 2:
            return
        cand = state.record["candidates"]
        for s in state.record["selected"]:
            sel.append(noisy[s].float().sum())
            pick = cand[torch.randperm(cand.numel(), generator=gen)[:s.numel()]]  # random subset, same pool and size
            rand.append(noisy[pick].float().sum())
            batch.append(float(s.numel()))

    res = fit("mlp", x, yn, method=CoTeachingPlus(noise_rate=0.5), x_test=xt, y_test=yt, hooks=[hook], **KW)
    sel_rate = float(sum(sel)) / sum(batch)
    rand_rate = float(sum(rand)) / sum(batch)
    print(f"co-teaching+ selected noise {sel_rate:.3f} vs random subset {rand_rate:.3f}")
    assert sel_rate < rand_rate - 0.15, (sel_rate, rand_rate)
    assert res.final["test_acc"] > 0.85


def test_coteaching_selection_cleaner_than_batch_and_ramp(problem):
    x, y, yn, xt, yt = problem
    noisy = torch.from_numpy(yn != y)
    kept, seen = [0.0, 0.0], [0, 0]

    def hook(event, state):
        if event == "batch_end" and state.epoch >= 10:
            s1, s2 = state.record["selected"]
            kept[0] += float(noisy[s1].float().sum()); kept[1] += s1.numel()
            seen[0] += float(noisy[state.batch_indices].float().sum()); seen[1] += state.batch_indices.numel()

    m = CoTeaching(noise_rate=0.5, ramp_epochs=10)
    res = fit("mlp", x, yn, method=m, hooks=[hook], **{**KW, "epochs": 14})
    assert kept[0] / kept[1] < 0.5 * seen[0] / seen[1]  # the small-loss half is far cleaner than the batch
    assert res.final["kept_fraction"] == pytest.approx(0.5, abs=0.02)
    m2 = res.method
    # 14 epochs: the ramp is capped at epochs // 2 = 7, linear from 0 to the noise rate
    assert m2.current_rate(0) == 0.0
    assert m2.current_rate(5) == pytest.approx(0.5 * 5 / 7)
    assert m2.current_rate(7) == m2.current_rate(13) == pytest.approx(0.5)
    logged = [r["forget_rate"] for r in res.history]
    assert logged[0] == 0.0 and logged[7:] == [pytest.approx(0.5)] * 7 and logged == sorted(logged)


def test_coteaching_estimates_noise_rate_when_not_given(problem):
    x, y, yn, xt, yt = problem
    res = fit("mlp", x, yn, method="coteaching", **{**KW, "epochs": 2})
    est = res.history[-1]["estimated_noise_rate"]
    assert abs(est - (yn != y).mean()) < 0.15


def test_plc_corrects_labels(problem):
    x, y, yn, xt, yt = problem
    res = fit("mlp", x, yn, method=PLC(), x_test=xt, y_test=yt, clean_labels=y, **KW)
    h = res.history
    start_acc = (yn == y).mean()
    assert h[-1]["plc_label_acc"] > start_acc + 0.1          # corrected labels are cleaner than the given ones
    assert h[0]["plc_changed"] == 0.0                          # warm-up: no correction
    assert min(r["plc_theta"] for r in h) < PLC().theta0       # the threshold was relaxed
    corrected = res.method.labels.cpu().numpy()
    assert (corrected != yn).mean() > 0.1


def test_get_method_and_errors():
    assert get_method("standard").name == "ce"
    assert get_method("coteaching+", noise_rate=0.35).noise_rate == 0.35
    assert get_method("plc").num_models == 1 and get_method("coteaching").num_models == 2
    with pytest.raises(ValueError, match="unknown method"):
        get_method("jocor2")
    with pytest.raises(ValueError, match="fraction"):
        CoTeaching(noise_rate=35)
    with pytest.raises(ValueError, match="theta"):
        PLC(theta0=0.1, theta_min=0.3)
