"""LEND: the affinity/dilution equations, dilution on a planted 2-D toy, selection rule, fit() integration."""
import numpy as np
import pytest
import torch

from labnoise.methods import LEND, get_method
from labnoise.methods.lend import LabelMonitor, affinity, dilute, dilute_labels, dilution_matrix
from labnoise.models import MLP, FastCifarNet, resnet18
from labnoise.train import TrainState, fit

pytestmark = pytest.mark.usefixtures("one_thread")


def _toy(n, rate, seed, C=3):
    """C planted 2-D clusters on a circle of radius 3, ``rate`` symmetric noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, n)
    ang = 2 * np.pi * y / C
    x = np.stack([3 * np.cos(ang), 3 * np.sin(ang)], 1) + rng.normal(size=(n, 2)) * 0.7
    yn = y.copy()
    f = rng.random(n) < rate
    yn[f] = (y[f] + rng.integers(1, C, f.sum())) % C
    return x.astype(np.float32), y, yn


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_dilution_raises_label_accuracy_on_planted_toy(seed):
    x, y, yn = _toy(256, 0.4, seed)
    given_err = (yn != y).mean()
    diluted = dilute_labels(x, yn, 3, k=8, steps=5).argmax(1).numpy()
    # separated clusters with a 60% correct majority each: dilution removes most of the wrong labels
    assert (diluted != y).mean() < 0.5 * given_err
    # and zero steps is the identity (Z(0) = one-hot given labels)
    assert (dilute_labels(x, yn, 3, steps=0).argmax(1).numpy() == yn).all()


def test_affinity_is_sparse_knn_without_self():
    v = torch.randn(40, 6, generator=torch.Generator().manual_seed(0))
    A = affinity(v, k=5, gamma=3.0)
    assert torch.all(A.diagonal() == 0)
    assert torch.all((A > 0).sum(1) <= 5) and torch.all(A >= 0)
    vn = torch.nn.functional.normalize(v, dim=1)
    S = vn @ vn.T
    S.fill_diagonal_(-2)
    top = S.topk(5, dim=1).indices
    for i in range(40):
        for j in top[i]:
            assert torch.isclose(A[i, j], S[i, j].clamp(min=0) ** 3)
        off = torch.ones(40, dtype=torch.bool)
        off[top[i]] = False
        assert torch.all(A[i, off] == 0)


def test_w_is_symmetric_and_normalised_as_specified():
    v = torch.randn(64, 8, generator=torch.Generator().manual_seed(1))
    A = affinity(v, k=8, gamma=3.0)
    assert not torch.allclose(A, A.T)  # kNN affinity itself is not symmetric ...
    W = dilution_matrix(A)
    assert torch.allclose(W, W.T, atol=1e-6)  # ... W' = A^T A is
    Wp = A.T @ A
    d = Wp.sum(1)
    ref = Wp / torch.sqrt(d[:, None] * d[None, :])
    assert torch.allclose(W, ref, atol=1e-6)
    # symmetric normalisation: sqrt(d) is an eigenvector with eigenvalue 1, the spectral radius is 1
    s = torch.sqrt(d)
    assert torch.allclose(W @ s, s, rtol=1e-4, atol=1e-6)
    assert float(torch.linalg.eigvalsh(W.double()).abs().max()) == pytest.approx(1.0, abs=1e-5)


def test_dilute_residual_is_previous_iterate():
    W = dilution_matrix(affinity(torch.randn(30, 4, generator=torch.Generator().manual_seed(2)), k=4))
    Z0 = torch.nn.functional.one_hot(torch.arange(30) % 3, 3).float()
    path = dilute(W, Z0, alpha=0.9, steps=3, return_path=True)
    for t in range(1, 4):
        assert torch.allclose(path[t], 0.9 * W @ path[t - 1] + 0.1 * path[t - 1], atol=1e-6)
    assert torch.allclose(dilute(W, Z0, alpha=0.9, steps=3), path[-1])


def _state(n, C, labels):
    st = TrainState(epoch=0, epochs=5, num_classes=C, n_train=n, device=torch.device("cpu"))
    st.labels = labels
    return st


def test_selection_is_exactly_label_equals_diluted_argmax_and_loss_uses_given_labels():
    torch.manual_seed(0)
    n, C = 96, 4
    labels = torch.randint(0, C, (n,))
    m = LEND(k=6, warmup_epochs=1, beta=0.9)
    st = _state(n, C, labels)
    m.setup(st)
    for epoch in range(3):
        st.epoch = epoch
        m.on_epoch_start(st)
        for b in range(3):
            idx = torch.randperm(n)[:32]
            st.batch_indices = idx
            st.embeddings = [torch.randn(32, 5)]
            logits = torch.randn(32, C, requires_grad=True)
            loss = m.loss([logits], labels[idx], st)
            loss.backward()
            expect = m.store_[idx].argmax(1) == labels[idx]
            if epoch < 1:
                expect = torch.ones_like(expect)  # warm-up: plain CE on every example
            assert torch.equal(torch.sort(m.selected).values, torch.sort(idx[expect]).values)
            # unselected examples contribute no gradient; selected ones are CE on their GIVEN label / B
            g = logits.grad
            assert torch.all(g[~expect] == 0)
            p = torch.softmax(logits.detach(), 1)
            ref = (p - torch.nn.functional.one_hot(labels[idx], C).float()) / 32
            assert torch.allclose(g[expect], ref[expect], atol=1e-6)


def test_momentum_store_follows_eq5():
    n, C = 20, 3
    labels = torch.arange(n) % C
    m = LEND(k=3, beta=0.9)
    st = _state(n, C, labels)
    m.setup(st)
    idx = torch.arange(n)
    st.batch_indices = idx
    v1, v2 = torch.randn(n, 4), torch.randn(n, 4)
    st.embeddings = [v1]
    m.loss([torch.zeros(n, C)], labels, st)
    z1 = dilute_labels(v1, labels, C, k=3)
    assert torch.allclose(m.store_, z1, atol=1e-6)  # first visit: the store is set, rows sum to 1
    st.embeddings = [v2]
    m.loss([torch.zeros(n, C)], labels, st)
    z2 = dilute_labels(v2, labels, C, k=3)
    assert torch.allclose(m.store_, 0.1 * z2 + 0.9 * z1, atol=1e-6)


def test_forward_features_split_matches_forward():
    torch.manual_seed(0)
    x = torch.randn(5, 12)
    mlp = MLP(12, 3, hidden=(16, 8)).eval()
    v, lg = mlp.forward_features(x)
    assert v.shape == (5, 8) and torch.allclose(lg, mlp(x))
    img = torch.randn(2, 3, 16, 16)
    for net in (resnet18(4).eval(), FastCifarNet(4, width=8).eval()):
        v, lg = net.forward_features(img)
        assert v.ndim == 2 and torch.allclose(lg, net(img), atol=1e-5)


def test_lend_fit_feature_lane_beats_ce_and_monitors():
    x, y, yn = _toy(600, 0.4, 0)
    xt, yt, _ = _toy(600, 0.0, 1)
    kw = dict(epochs=20, batch_size=128, lr=0.05, seed=0, progress=False, device="cpu", x_test=xt, y_test=yt,
              clean_labels=y, model_kwargs={"hidden": (64,)})
    r = fit("mlp", x, yn, method="lend", hooks=[LabelMonitor()], **kw)
    h = r.history[-1]
    for key in ("diluted_label_acc", "predicted_label_acc", "selection_precision", "selection_recall"):
        assert 0.0 <= h[key] <= 1.0
    # selection is much cleaner than the 60%-correct given labels
    assert h["selection_precision"] > 0.8
    assert h["diluted_label_acc"] > (yn == y).mean() + 0.2


def test_lend_fit_pixel_lane_runs():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (64, 8, 8, 3), dtype=np.uint8)
    y = rng.integers(0, 3, 64)
    r = fit("fastcifar", x, y, method=get_method("lend", k=4), epochs=2, batch_size=32, seed=0, progress=False,
            device="cpu", model_kwargs={"width": 4})
    assert len(r.history) == 2 and "kept_fraction" in r.history[-1]


def test_needs_embeddings_requires_forward_features():
    class Plain(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l = torch.nn.Linear(2, 3)

        def forward(self, x):
            return self.l(x)

    x, y, _ = _toy(64, 0.0, 0)
    with pytest.raises(ValueError, match="forward_features"):
        fit(Plain(), x, y, method="lend", epochs=1, batch_size=32, progress=False, device="cpu")


def test_label_monitor_precision_recall_match_a_direct_count():
    x, y, yn = _toy(300, 0.4, 2)
    counts = {"sel": 0, "sel_clean": 0, "clean": 0}
    ok = torch.from_numpy(yn == y)

    def count(event, state):
        if event == "batch_end":
            s = state.record["selected"][0]  # Co-teaching: a pair, network 1's picks first
            counts["sel"] += s.numel()
            counts["sel_clean"] += int(ok[s].sum())
            counts["clean"] += int(ok[state.batch_indices].sum())

    r = fit("mlp", x, yn, method=get_method("coteaching", forget_rate=0.4, ramp_epochs=1), clean_labels=y,
            epochs=1, batch_size=100, seed=0, progress=False, device="cpu", hooks=[LabelMonitor(), count])
    h = r.history[-1]
    assert h["selection_precision"] == pytest.approx(counts["sel_clean"] / counts["sel"])
    assert h["selection_recall"] == pytest.approx(counts["sel_clean"] / counts["clean"])
    assert "diluted_label_acc" not in h and 0 <= h["predicted_label_acc"] <= 1
