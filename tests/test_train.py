import numpy as np
import pytest
import torch

from labnoise.models import MLP, FastCifarNet, build_model, resnet18
from labnoise.train import Hook, fit, lane_of, predict_proba


pytestmark = pytest.mark.usefixtures("one_thread")


def _blobs(n=600, d=10, c=4, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(c, d)) * 3
    y = rng.integers(0, c, n)
    return (centres[y] + rng.normal(size=(n, d))).astype(np.float32), y


def _state(models):
    return [torch.cat([p.detach().flatten() for p in m.state_dict().values() if p.dtype.is_floating_point])
            for m in models]


def test_feature_lane_learns_and_reports():
    x, y = _blobs()
    xt, yt = _blobs(200, seed=0)
    res = fit("mlp", x, y, x_test=xt, y_test=yt, clean_labels=y, epochs=4, batch_size=64, lr=0.05, seed=0,
              progress=False, device="cpu")
    h = res.history
    assert [r["epoch"] for r in h] == [1, 2, 3, 4]
    assert h[-1]["train_acc_noisy"] > 0.9 and h[-1]["test_acc"] > 0.9
    assert h[-1]["train_acc_clean"] == h[-1]["train_acc_noisy"]  # no noise here
    assert h[0]["loss"] > h[-1]["loss"]
    p = predict_proba(res.model, xt, device="cpu")
    assert p.shape == (200, 4) and np.allclose(p.sum(1), 1, atol=1e-5)
    assert res.selected_epoch == 4


def test_seeded_cpu_run_is_reproducible():
    x, y = _blobs(300)
    kw = dict(epochs=2, batch_size=32, lr=0.05, progress=False, device="cpu")
    a = fit("mlp", x, y, seed=3, model_kwargs={"dropout": 0.2}, **kw)
    b = fit("mlp", x, y, seed=3, model_kwargs={"dropout": 0.2}, **kw)
    c = fit("mlp", x, y, seed=4, model_kwargs={"dropout": 0.2}, **kw)
    strip = lambda h: [{k: v for k, v in r.items() if k != "time_s"} for r in h]
    assert strip(a.history) == strip(b.history)
    assert torch.equal(_state(a.models)[0], _state(b.models)[0])
    assert not torch.equal(_state(a.models)[0], _state(c.models)[0])


@pytest.mark.parametrize("name", ["fastcifar", "resnet18"])
def test_pixel_lane_one_epoch_on_cpu(name):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 64)
    assert lane_of(x) == "pixels"
    kw = dict(epochs=1, batch_size=32, lr=0.01, augment="crop_flip", seed=0, progress=False, device="cpu",
              x_test=x[:16], y_test=y[:16], num_classes=10)
    if name == "fastcifar":
        kw["model_kwargs"] = {"width": 16}
    a = fit(name, x, y, **kw)
    assert a.lane == "pixels" and np.isfinite(a.history[0]["loss"]) and "test_acc" in a.history[0]
    assert a.predict_proba(x[:5], device="cpu").shape == (5, 10)
    if name == "fastcifar":  # augmentation on the device is seeded too
        b = fit(name, x, y, **kw)
        assert a.history[0]["loss"] == b.history[0]["loss"]


def test_crop_flip_is_a_shifted_and_mirrored_copy():
    from labnoise.train import _prep_pixels
    x = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (16, 8, 8, 3), dtype=np.uint8))
    g = torch.Generator().manual_seed(0)
    out = _prep_pixels(x, "crop_flip", g)
    plain = _prep_pixels(x, None)
    assert out.shape == plain.shape == (16, 3, 8, 8)
    g = torch.Generator().manual_seed(0)
    oy, ox = torch.randint(0, 9, (16,), generator=g), torch.randint(0, 9, (16,), generator=g)
    flip = torch.rand(16, generator=g) < 0.5
    padded = torch.nn.functional.pad(plain, (4, 4, 4, 4), value=(0 - 0.5) / 0.25)
    for i in range(16):
        ref = padded[i, :, oy[i]:oy[i] + 8, ox[i]:ox[i] + 8]
        ref = ref.flip(2) if flip[i] else ref
        assert torch.allclose(out[i], ref)


def test_soft_one_hot_targets_equal_hard_labels():
    x, y = _blobs(200)
    soft = np.eye(4, dtype=np.float32)[y]
    kw = dict(epochs=2, batch_size=32, lr=0.05, seed=0, progress=False, device="cpu")
    a, b = fit("mlp", x, y, **kw), fit("mlp", x, soft, **kw)
    assert abs(a.history[-1]["loss"] - b.history[-1]["loss"]) < 1e-4
    smooth = 0.9 * soft + 0.1 / 4
    c = fit("mlp", x, smooth, **kw)
    assert c.history[-1]["loss"] > a.history[-1]["loss"]  # smoothed targets have entropy > 0


def test_hooks_and_validation_selection():
    x, y = _blobs(400)
    calls = {"batch": 0, "epoch": 0}

    class Count(Hook):
        def on_epoch_end(self, state):
            calls["epoch"] += 1

    def per_batch(event, state):
        if event == "batch_end":
            calls["batch"] += 1
            assert state.batch_indices.max() < state.n_train

    res = fit("mlp", x, y, epochs=3, batch_size=50, lr=0.05, seed=0, progress=False, device="cpu",
              hooks=[Count(), per_batch], val_fraction=0.2, select="best_val")
    assert calls == {"batch": 3 * (320 // 50 + 1), "epoch": 3}  # 6 full batches + 1 partial per epoch
    assert len(res.val_indices) == 80 and len(res.train_indices) == 320
    assert not set(res.val_indices) & set(res.train_indices)
    vals = [r["val_acc_noisy"] for r in res.history]
    assert res.selected_epoch == int(np.argmax(vals)) + 1


def test_step_schedule_and_adam():
    x, y = _blobs(128)
    res = fit("linear", x, y, epochs=4, batch_size=64, lr=0.1, schedule="step", milestones=[2, 3], seed=0,
              progress=False, device="cpu", optimizer="adam")
    assert [round(r["lr"], 6) for r in res.history] == [0.1, 0.01, 0.001, 0.001]


def test_two_model_method_reinitialises_the_copy():
    x, y = _blobs(128)
    res = fit(MLP(10, 4), x, y, method="coteaching", epochs=1, batch_size=64, seed=0, progress=False,
              device="cpu")
    a, b = _state(res.models)
    assert len(res.models) == 2 and not torch.equal(a, b)


def test_models_shapes():
    assert build_model("mlp", 7, 3)(torch.zeros(2, 7)).shape == (2, 3)
    assert build_model("linear", 7, 3)(torch.zeros(2, 7)).shape == (2, 3)
    assert FastCifarNet(5, in_channels=1, width=8)(torch.zeros(2, 1, 8, 8)).shape == (2, 5)  # digits size
    assert resnet18(10)(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    n18 = sum(p.numel() for p in resnet18(10).parameters())
    assert 11.0e6 < n18 < 11.4e6


def test_input_validation():
    x, y = _blobs(50)
    with pytest.raises(ValueError, match="both x_test and y_test"):
        fit("mlp", x, y, x_test=x, progress=False)
    with pytest.raises(ValueError, match="crop_flip"):
        fit("mlp", x, y, augment="crop_flip", progress=False)
    with pytest.raises(ValueError, match="soft targets"):
        fit("mlp", x, np.full((50, 4), 0.3, np.float32), progress=False)
    with pytest.raises(ValueError, match="integer labels"):
        fit("mlp", x, np.eye(4, dtype=np.float32)[y], method="plc", progress=False)
    with pytest.raises(ValueError, match="val_fraction"):
        fit("mlp", x, y, select="best_val", progress=False)
    with pytest.raises(ValueError, match="float features"):
        fit("mlp", x[:, :, None], y, progress=False)
    with pytest.raises(ValueError, match="unknown method"):
        fit("mlp", x, y, method="mixup", progress=False)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_both_precisions_learn_a_planted_separable_problem(precision):
    x, y = _blobs(900, seed=1)  # one draw (the centres depend on the seed), split 600 / 300
    x, y, xt, yt = x[:600], y[:600], x[600:], y[600:]
    res = fit("mlp", x, y, x_test=xt, y_test=yt, epochs=3, batch_size=64, lr=0.05, seed=0, progress=False,
              device="cpu", precision=precision)
    assert res.precision == precision
    # blobs 3 sd apart in 10 dims: a linear rule separates them almost surely; both precisions find one
    assert res.final["test_acc"] > 0.9
    assert res.predict_proba(xt, device="cpu").dtype == np.float32


def test_bf16_run_is_reproducible_and_differs_from_fp32():
    x, y = _blobs(300)
    kw = dict(epochs=2, batch_size=32, lr=0.05, progress=False, device="cpu", seed=5)
    a, b = fit("mlp", x, y, precision="bf16", **kw), fit("mlp", x, y, precision="bf16", **kw)
    c = fit("mlp", x, y, precision="fp32", **kw)
    assert torch.equal(_state(a.models)[0], _state(b.models)[0])
    assert not torch.equal(_state(a.models)[0], _state(c.models)[0])  # bf16 products round differently
    assert all(p.dtype == torch.float32 for p in a.model.parameters())  # master weights stay float32


def test_precision_is_validated():
    x, y = _blobs(100)
    with pytest.raises(ValueError, match="precision"):
        fit("mlp", x, y, epochs=1, progress=False, device="cpu", precision="fp16")
