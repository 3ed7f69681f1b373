"""JoCoR and SIGUA: the joint loss, the selection, and robustness to planted symmetric noise."""
import pytest
import torch

from labnoise.methods import JoCoR, SIGUA, get_method
from labnoise.methods.jocor import jocor_loss
from labnoise.methods.lend import LabelMonitor
from labnoise.train import fit

from _toy import blobs, symmetric

pytestmark = pytest.mark.usefixtures("one_thread")


_blobs, _symmetric = blobs, symmetric


def test_jocor_loss_is_ce_plus_symmetric_kl():
    torch.manual_seed(0)
    a, b = torch.randn(6, 4), torch.randn(6, 4)
    t = torch.randint(0, 4, (6,))
    same = jocor_loss(a, a, t, 0.3)
    ce = torch.nn.functional.cross_entropy(a, t, reduction="none")
    assert torch.allclose(same, 0.7 * 2 * ce, atol=1e-6)  # KL(p || p) = 0
    kl = jocor_loss(a, b, t, 1.0)
    assert torch.all(kl >= 0) and torch.allclose(kl, jocor_loss(b, a, t, 1.0), atol=1e-6)  # symmetric


def test_registered_names():
    assert isinstance(get_method("jocor", noise_rate=0.4), JoCoR)
    assert isinstance(get_method("sigua", noise_rate=0.4), SIGUA)
    assert get_method("lend").needs_embeddings


@pytest.mark.parametrize("name", ["jocor", "sigua"])
def test_selection_keeps_the_small_loss_fraction(name):
    x, y = _blobs(300, 0)
    yn = _symmetric(y, 0.4)
    r = fit("mlp", x, yn, method=get_method(name, forget_rate=0.4, ramp_epochs=2), clean_labels=y, epochs=4,
            batch_size=100, lr=0.05, seed=0, progress=False, device="cpu", hooks=[LabelMonitor(predicted=False)])
    # after the ramp, 60% of each batch is kept; the kept examples are cleaner than the batch
    assert r.history[-1]["kept_fraction"] == pytest.approx(0.6, abs=0.01)
    assert r.history[-1]["selection_precision"] > (yn == y).mean()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jocor_and_sigua_beat_ce_on_planted_40pct_symmetric_noise(seed):
    x, y = _blobs(1000, seed)
    xt, yt = _blobs(1000, 100 + seed)
    yn = _symmetric(y, 0.4, seed=seed)
    kw = dict(x_test=xt, y_test=yt, epochs=30, batch_size=64, lr=0.05, seed=seed, progress=False, device="cpu",
              model_kwargs={"hidden": (256, 256)})
    ce = fit("mlp", x, yn, method="ce", **kw).history[-1]["test_acc"]
    # a wide MLP memorises the 40% wrong labels with plain CE; small-loss selection keeps them out
    for name in ("jocor", "sigua"):
        acc = fit("mlp", x, yn, method=get_method(name, noise_rate=0.4), **kw).history[-1]["test_acc"]
        assert acc > ce + 0.1, (name, acc, ce)
