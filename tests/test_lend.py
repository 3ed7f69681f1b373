"""LEND: the affinity/dilution equations, dilution on a planted 2-D toy, selection rule, fit() integration."""
import numpy as np
import pytest
import torch

from labnoise.methods import LEND, get_method
from labnoise.methods.lend import LabelMonitor, affinity, dilute, dilute_labels, dilution_matrix, knn_indices
from labnoise.models import MLP, FastCifarNet, resnet18
from labnoise.train import TrainState, fit

pytestmark = pytest.mark.usefixtures("one_thread")


def _toy(n, rate, seed, C=3, spread=0.7):
    """C planted 2-D clusters on a circle of radius 3, ``rate`` symmetric noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, n)
    ang = 2 * np.pi * y / C
    x = np.stack([3 * np.cos(ang), 3 * np.sin(ang)], 1) + rng.normal(size=(n, 2)) * spread
    yn = y.copy()
    f = rng.random(n) < rate
    yn[f] = (y[f] + rng.integers(1, C, f.sum())) % C
    return x.astype(np.float32), y, yn


@pytest.mark.parametrize("rule", ["knn", "two_hop"])
@pytest.mark.parametrize("steps", [1, 5])
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_dilution_raises_label_accuracy_where_neighbourhoods_are_pure(seed, steps, rule):
    x, y, yn = _toy(256, 0.4, seed, C=4, spread=0.5)
    # the premise, measured: the batch neighbourhoods are (almost) pure in the true classes
    nb = knn_indices(torch.from_numpy(x), k=8).numpy()
    assert (y[nb] == y[:, None]).mean() > 0.95
    given_err = (yn != y).mean()
    diluted = dilute_labels(x, yn, 4, k=8, steps=steps, rule=rule).argmax(1).numpy()
    # pure neighbourhoods whose given labels are 60% correct: every rule and length removes most wrong labels
    # (one step of the kNN rule is an 8-neighbour weighted vote; further steps and the two-hop rule vote wider)
    assert (diluted != y).mean() < 0.5 * given_err
    # and zero steps is the identity (Z(0) = one-hot given labels)
    assert (dilute_labels(x, yn, 4, steps=0, rule=rule).argmax(1).numpy() == yn).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_until_converged_is_one_label_per_connected_component(seed, rule="two_hop"):
    # run to convergence, dilution is a vote over a whole connected component of the batch graph: on clusters
    # that the kNN graph keeps apart every example ends with its cluster's plurality label (here the true
    # class), and once the graph connects the clusters they merge onto one label -- the collapse
    import scipy.sparse.csgraph as csg

    x, y, yn = _toy(256, 0.3, seed, C=4, spread=0.2)
    A = affinity(x, k=8)
    n_comp, comp = csg.connected_components((A + A.T).numpy() > 0)
    assert n_comp == 4
    diluted = dilute_labels(x, yn, 4, k=8, steps=None, rule=rule, tol=1e-6, max_steps=20000).argmax(1).numpy()
    for c in range(n_comp):  # one label per component (up to the few stragglers the tolerance leaves)
        assert np.bincount(diluted[comp == c]).max() >= 0.95 * (comp == c).sum()
    assert (diluted == y).mean() > 0.95
    # merge two clusters (put cluster 1 on top of cluster 0): the merged component gets a single label
    x2 = x.copy()
    x2[y == 1] = x2[y == 1] @ np.array([[0, -1], [1, 0]], dtype=np.float32)  # rotate by -90 degrees onto cluster 0
    d2 = dilute_labels(x2, yn, 4, k=8, steps=None, rule=rule, tol=1e-6, max_steps=20000).argmax(1).numpy()
    merged = d2[(y == 0) | (y == 1)]
    assert np.bincount(merged).max() >= 0.95 * merged.size


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dilution_cannot_help_where_neighbourhoods_are_impure(seed):
    # the counterpart: the features carry no class structure (neighbour purity ~ 1/C), so the diluted labels are no
    # more accurate than chance -- dilution needs the neighbourhoods, not just the majority of the labels
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(256, 2)).astype(np.float32)
    y = rng.integers(0, 4, 256)
    yn = np.where(rng.random(256) < 0.4, (y + rng.integers(1, 4, 256)) % 4, y)
    nb = knn_indices(torch.from_numpy(x), k=8).numpy()
    assert (y[nb] == y[:, None]).mean() < 0.4
    diluted = dilute_labels(x, yn, 4, k=8, steps=5, rule="knn").argmax(1).numpy()
    assert (diluted == y).mean() < (yn == y).mean()


def test_knn_rule_is_w_restricted_to_the_neighbours_and_convergence_stops():
    v = torch.randn(48, 6, generator=torch.Generator().manual_seed(3))
    A = affinity(v, k=5)
    W2, Wk = dilution_matrix(A, rule="two_hop"), dilution_matrix(A, rule="knn")
    assert torch.equal(Wk, W2 * (A > 0))
    assert torch.all((Wk > 0).sum(1) <= 5) and torch.all(Wk.diagonal() == 0)
    assert ((W2 > 0).sum(1) > 5).any()  # two hops reach beyond the k neighbours
    Z0 = torch.nn.functional.one_hot(torch.arange(48) % 3, 3).float()
    Z, t = dilute(W2, Z0, alpha=0.99, steps=None, tol=1e-5, max_steps=5000, return_steps=True)
    assert 1 <= t < 5000
    Z1 = 0.99 * W2 @ Z + 0.01 * Z
    norm = lambda z: z / z.sum(1, keepdim=True)  # noqa: E731
    assert float((norm(Z1) - norm(Z)).abs().max()) < 1e-4  # a fixed point, up to the tolerance
    _, t_cap = dilute(W2, Z0, steps=None, tol=1e-12, max_steps=3, return_steps=True)
    assert t_cap == 3
    with pytest.raises(ValueError, match="rule"):
        dilution_matrix(A, rule="three_hop")


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
    m = LEND(k=3, beta=0.9, steps=5)
    st = _state(n, C, labels)
    m.setup(st)
    idx = torch.arange(n)
    st.batch_indices = idx
    v1, v2 = torch.randn(n, 4), torch.randn(n, 4)
    st.embeddings = [v1]
    m.loss([torch.zeros(n, C)], labels, st)
    z1 = dilute_labels(v1, labels, C, k=3, steps=5, rule="knn")
    assert torch.allclose(m.store_, z1, atol=1e-6)  # first visit: the store is set, rows sum to 1
    st.embeddings = [v2]
    m.loss([torch.zeros(n, C)], labels, st)
    z2 = dilute_labels(v2, labels, C, k=3, steps=5, rule="knn")
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
    for key in ("diluted_label_acc", "predicted_label_acc", "selection_precision", "selection_recall",
                "neighbour_purity", "given_label_acc"):
        assert 0.0 <= h[key] <= 1.0
    assert h["given_label_acc"] == pytest.approx((yn == y).mean())
    assert h["dilution_steps"] == 1  # the default: one step of the kNN rule
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


# ------------------------------------------------------------------------------------ chapter 05's drivers
def test_asymmetric_definitions_realise_their_stated_rates():
    from labnoise.experiments.lend import make_label_sets, setting_title

    clean = np.repeat(np.arange(10), 500)
    pf = make_label_sets(clean, sym_rates=[], asym_rates=[0.4], asym_kind="pairflip", num_classes=10)
    pr = make_label_sets(clean, sym_rates=[], asym_rates=[0.4], asym_kind="pairs", num_classes=10)
    # Co-teaching's pair flipping: every class flips to the next at the rate, so the overall rate is the rate
    assert pf[("asymmetric", 0.4)].realised_rate == pytest.approx(0.4, abs=1e-3)
    assert (pf[("asymmetric", 0.4)].noisy_labels[clean == 9] != 9).mean() == pytest.approx(0.4, abs=1e-3)
    # the CIFAR-10 pairs: 5 of 10 classes flip at the rate, so "40%" realises 20% overall
    assert pr[("asymmetric", 0.4)].realised_rate == pytest.approx(0.2, abs=1e-3)
    assert setting_title("asymmetric", 0.4, 0.2) == "asymmetric 40% (realised 20.0%)"
    with pytest.raises(ValueError, match="asym_kind"):
        make_label_sets(clean, sym_rates=[], asym_rates=[0.4], asym_kind="bogus", num_classes=10)


def test_variant_names_round_trip():
    from labnoise.experiments.lend import parse_variant, steps_arg, variant_name

    assert variant_name("knn", 1) == "lend:knn:T1" and variant_name("two_hop", "converged") == "lend:two_hop:conv"
    assert parse_variant("lend:two_hop:conv") == {"rule": "two_hop", "steps": None}
    assert parse_variant("lend:knn:T5") == {"rule": "knn", "steps": 5} and parse_variant("lend") == {}
    assert steps_arg("converged") is None and steps_arg(3) == 3
    with pytest.raises(ValueError, match="converged"):
        steps_arg("forever")


def test_dilution_vs_steps_matches_a_direct_batch_computation():
    from labnoise.experiments.lend import dilution_vs_steps

    x, y, yn = _toy(512, 0.4, 0, C=4, spread=0.5)
    out = dilution_vs_steps(x, yn, y, steps=[0, 1, 5], batch_size=256, seed=0)
    assert out["n_examples"] == 512 and out["knn"]["acc"][0] == pytest.approx((yn == y).mean(), abs=1e-4)
    assert out["given_acc"] == pytest.approx((yn == y).mean()) and out["neighbour_purity"] > 0.9
    order = np.random.default_rng(0).permutation(512)
    hits = sum(int((dilute_labels(x[b], yn[b], 4, steps=5, rule="two_hop").argmax(1).numpy() == y[b]).sum())
               for b in (order[:256], order[256:]))
    assert out["two_hop"]["acc"][2] == pytest.approx(hits / 512, abs=1e-4)
    assert out["two_hop"]["mean_conv_steps"] >= 1


def test_training_grid_records_purity_and_caches(tmp_path):
    from labnoise.experiments.lend import make_label_sets, purity_table, run_training_grid, summarize

    x, y, _ = _toy(400, 0.0, 0)
    xt, yt, _ = _toy(200, 0.0, 1)
    sets = make_label_sets(y, sym_rates=[0.4], asym_rates=[], num_classes=3, seed=0)
    tk = dict(model="mlp", epochs=3, batch_size=100, lr=0.05, device="cpu", model_kwargs={"hidden": (16,)})
    kw = dict(x_test=xt, y_test=yt, clean_labels=y, num_classes=3, train_kwargs=tk, ramp_epochs=1,
              lend_kwargs={"k": 4, "steps": 1, "rule": "knn", "warmup_epochs": 1}, cache_dir=tmp_path)
    h = run_training_grid(x, sets, ["ce", "lend", "lend:two_hop:conv"], [0], **kw)
    assert len(list(tmp_path.glob("*.json"))) == 3
    assert run_training_grid(x, sets, ["ce", "lend", "lend:two_hop:conv"], [0], **kw) == h  # from the cache
    row = h[("lend", "symmetric", 0.4, 0)][-1]
    assert 0 <= row["neighbour_purity"] <= 1 and row["given_label_acc"] == pytest.approx(0.6, abs=1e-6)
    assert row["dilution_steps"] == 1 and h[("lend:two_hop:conv", "symmetric", 0.4, 0)][-1]["dilution_steps"] > 1
    s = summarize(h, ["ce", "lend"], [("symmetric", 0.4)], [0], last_k=2)
    assert s["final_acc"]["lend"]["symmetric"]["0.4"]["sd"] is None and len(s["claim"]) == 1
    pt = purity_table(h, [("symmetric", 0.4)], [0], {("symmetric", 0.4): 0.4})
    assert len(pt["symmetric"]["0.4"]["neighbour_purity"]) == 3


def test_chapter_figures_and_tables_draw_headless(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labnoise.experiments import lend as X
    from labnoise.viz import lend as viz

    x, y, _ = _toy(300, 0.0, 0)
    xt, yt, _ = _toy(100, 0.0, 1)
    sets = X.make_label_sets(y, sym_rates=[0.4], asym_rates=[], num_classes=3, seed=0)
    settings = list(sets)
    titles = {"symmetric_0.4": X.setting_title("symmetric", 0.4, 0.4)}
    tk = dict(model="mlp", epochs=2, batch_size=100, lr=0.05, device="cpu", model_kwargs={"hidden": (8,)})
    grid = dict(x_test=xt, y_test=yt, clean_labels=y, num_classes=3, train_kwargs=tk, ramp_epochs=1,
                lend_kwargs={"k": 4, "warmup_epochs": 1}, cache_dir=None)
    h = X.run_training_grid(x, sets, ["ce", "coteaching", "lend", "lend:two_hop:T1"], [0, 1], **grid)
    methods = ["ce", "coteaching", "lend"]
    summary = X.summarize(h, methods, settings, [0, 1], last_k=1)
    table = viz.last_best_table(summary, settings, titles, methods, X.NAMES)
    assert any("(2 seeds)" in c[1] for c in table.columns) and "±" in table.iloc[0, 0]
    rules = X.rule_table(h, ["lend:knn:T1", "lend:two_hop:T1"], settings, 0, titles, last_k=1)
    assert len(rules) == 2 and "Highest mean" in X.rule_reading(rules, "lend:knn:T1")
    pur = X.purity_table(h, settings, [0, 1], {settings[0]: 0.4})
    assert "Neighbour purity" in X.reading({"neighbour_purity": pur, "setting_titles": titles})
    tx, ty, tyn = X.toy(60, 0.4, 0)
    viz.toy_panels(tx, X.toy_dilution(tx, ty, tyn, [0, 1, 5]))
    viz.curves_by_setting(summary["curves"], settings, titles, methods, X.NAMES, ylabel="test accuracy")
    viz.purity_panels(pur, settings, titles)
    eff = {"symmetric_0.4": {"2": X.dilution_vs_steps(x, sets[settings[0]].noisy_labels, y, steps=[0, 1, 2],
                                                       batch_size=100)}}
    viz.steps_panels(eff, titles)
    assert "best T" in X.steps_reading(eff, titles)
    viz.selection_panels(X.selection_curves(h, ["coteaching", "lend"], settings, [0, 1]), settings, titles,
                         ["coteaching", "lend"], X.NAMES)
    bs = X.batch_size_sweep(x, sets, settings[0], [50, 100, 400], seed=0, grid=grid, last_k=1)
    assert list(bs.index) == [50, 100]  # 400 >= the training set: skipped
    viz.batch_size_plot(bs, titles["symmetric_0.4"])
    plt.close("all")
