"""Tests of labnoise.memorization (and its case study's label generators in labnoise.noise) on constructed cases
(seconds, no data root)."""
import numpy as np
import pytest

from labnoise import memorization as M
from labnoise import noise
from labnoise.data import load_dataset

ISO = np.arange(900, 908)   # isolated points far outside class 0's blob, labelled 1
GRP = np.arange(908, 928)   # a tight group inside class 2's region, all labelled 0


pytestmark = pytest.mark.usefixtures("one_thread")


def blobs(seed=0, d=16, per=300, n_iso=8, n_grp=20):
    """Three well separated Gaussian blobs + isolated wrongly labelled points + a wrongly labelled group."""
    rs = np.random.default_rng(seed)
    centers = 8.0 * np.eye(3, d)
    y = np.repeat(np.arange(3), per)
    x = centers[y] + rs.normal(size=(3 * per, d))
    dirs = rs.normal(size=(n_iso, d))
    dirs[:, :3] = 0
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    xi = centers[0] + 3.0 * np.eye(d)[0] + 4.0 * dirs  # beyond class 0, away from classes 1 and 2
    xg = centers[2] + 0.3 * rs.normal(size=(n_grp, d)) + 5.0 * np.eye(d)[5]
    X = np.vstack([x, xi, xg]).astype(np.float32)
    clean = np.concatenate([y, np.zeros(n_iso, int), np.full(n_grp, 2)])
    given = np.concatenate([y, np.ones(n_iso, int), np.zeros(n_grp, int)])
    return X, given, clean


MLP = M.HeadConfig(kind="mlp", hidden=128, epochs=60, batch_size=128, lr=1e-2, chunk_size=10)


@pytest.fixture(scope="module")
def case():
    X, given, clean = blobs()
    ho = M.held_out_design(given, clean, n_correct=28, seed=0)
    res = M.estimate_memorization(X, given, ho, m=20, seed=0, head=MLP, progress=False)
    return X, given, clean, ho, res


# ---------------------------------------------------------------------------------------------- design
def test_held_out_design_takes_all_wrong_and_equal_right():
    given = np.array([0, 1, 1, 0, 2, 2, 1, 0, 0, 1])
    clean = np.array([0, 1, 0, 0, 2, 1, 1, 0, 0, 1])
    ho = M.held_out_design(given, clean, seed=3)
    assert set([2, 5]) <= set(ho.tolist()) and ho.size == 4 and np.all(np.diff(ho) > 0)
    assert np.array_equal(ho, M.held_out_design(given, clean, seed=3))
    draws = {tuple(M.held_out_design(given, clean, seed=s)) for s in range(20)}
    assert len(draws) > 3  # the correctly labelled half is drawn at random
    with pytest.raises(ValueError, match="n_correct"):
        M.held_out_design(given, clean, n_correct=100, seed=0)
    with pytest.raises(ValueError, match="empty"):
        M.held_out_design(clean, clean, seed=0)


def test_subset_masks_exact_fraction_and_independent_of_chunking():
    a = M.subset_masks(1000, np.arange(10), keep=0.7, seed=5)
    assert a.shape == (10, 1000) and np.all(a.sum(1) == 700)
    b = M.subset_masks(1000, [7, 3], keep=0.7, seed=5)
    assert np.array_equal(b, a[[7, 3]])
    assert not np.array_equal(a[0], a[1])
    assert not np.array_equal(a, M.subset_masks(1000, np.arange(10), keep=0.7, seed=6))
    # every held-out example is excluded by roughly 30% of many runs
    many = M.subset_masks(200, np.arange(400), keep=0.7, seed=0)
    assert abs(1 - many.mean() - 0.3) < 0.01 and many.mean(0).min() > 0.55
    with pytest.raises(ValueError, match="keep"):
        M.subset_masks(10, [0], keep=1.0, seed=0)


def test_memorization_from_runs_counts_and_nan_guard():
    correct = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [1, 1, 1]], bool)
    included = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1], [1, 0, 1]], bool)
    inc, exc, mem, counts = M.memorization_from_runs(correct, included)
    assert np.allclose(inc, [0.75, 1.0, 0.5]) and np.isnan(exc[0]) and np.isnan(exc[2])
    assert exc[1] == 0.5 and mem[1] == 0.5 and np.isnan(mem[0])
    assert counts["n_in"].tolist() == [4, 2, 4] and counts["n_out"].tolist() == [0, 2, 0]
    assert counts["correct_in"].tolist() == [3, 2, 2] and counts["correct_out"].tolist() == [0, 1, 0]


# ---------------------------------------------------------------------------------------------- estimator
def test_isolated_flipped_points_are_memorized(case):
    X, given, clean, ho, res = case
    assert np.all(res.inclusion[ISO] > 0.8)          # fitted when included ...
    assert np.nanmean(res.exclusion[ISO]) < 0.3      # ... but not predicted from the rest of the data
    assert np.nanmean(res.memorization[ISO]) > 0.6


def test_points_learned_anyway_have_memorization_near_zero(case):
    X, given, clean, ho, res = case
    right = np.setdiff1d(ho, np.r_[ISO, GRP])
    assert right.size == 28
    assert np.all(np.abs(res.memorization[right]) < 0.25)
    assert np.all(res.exclusion[right] > 0.75)
    # the structured wrong labels are predicted even when excluded: "incorrectly learned", not memorized
    assert np.nanmean(np.abs(res.memorization[GRP])) < 0.15
    found = M.incorrectly_learned(res, given != clean)
    assert set(GRP.tolist()) <= set(found.tolist()) and not set(ISO.tolist()) & set(found.tolist())


def test_result_fields_and_outside_held_out_is_nan(case):
    X, given, clean, ho, res = case
    n = given.size
    assert res.m == 20 and res.masks.shape == (20, ho.size) and res.correct.shape == (20, n)
    outside = np.setdiff1d(np.arange(n), ho)
    assert np.all(res.counts["n_in"][outside] == 20) and np.all(res.counts["n_out"][outside] == 0)
    assert np.all(np.isnan(res.memorization[outside])) and not np.any(np.isnan(res.inclusion))
    assert np.all(res.masks.sum(1) == round(0.7 * ho.size))  # each run keeps exactly 70% of the held-out set
    assert np.array_equal(res.counts["n_in"][ho], res.masks.sum(0))
    assert np.array_equal(res.counts["n_out"][ho], 20 - res.masks.sum(0))
    s = res.summary(given != clean)
    assert s["incorrect"]["n"] == 28 and s["correct"]["n"] == 28
    assert s["incorrect"]["memorization"] > s["correct"]["memorization"]


def test_random_feature_heads_also_memorize_isolated_points():
    X, given, clean = blobs(seed=0)
    ho = M.held_out_design(given, clean, n_correct=28, seed=0)
    cfg = M.HeadConfig(kind="random_features", hidden=1024, epochs=40, batch_size=128, lr=3e-2, chunk_size=20)
    res = M.estimate_memorization(X, given, ho, m=20, seed=0, head=cfg, progress=False)
    assert np.nanmean(res.memorization[ISO]) > 0.8
    right = np.setdiff1d(ho, np.r_[ISO, GRP])
    assert np.median(np.abs(res.memorization[right])) < 0.1
    assert set(GRP.tolist()) <= set(M.incorrectly_learned(res, given != clean).tolist())


@pytest.mark.parametrize("kind", ["mlp", "random_features", "linear"])
def test_batched_heads_match_one_model_at_a_time(kind):
    """The hand-written batched forward/backward/Adam equals torch.nn + autograd + AdamW, head by head."""
    import dataclasses

    rs = np.random.default_rng(0)
    X = rs.normal(size=(400, 16)).astype(np.float32)
    y = rs.integers(0, 4, 400)  # random labels: correctness hinges on every detail of training
    ho = np.arange(0, 400, 2)
    w = M.inclusion_weights(400, ho, M.subset_masks(ho.size, np.arange(3), seed=0))
    cfg = M.HeadConfig(kind=kind, hidden=64, epochs=10, batch_size=64, lr=1e-2, weight_decay=0.01)
    tr = M.HeadTrainer(X, y, config=cfg)
    batched = tr(np.arange(3), w, seed=0)
    if kind == "mlp":  # bfloat16 products: the same training up to rounding
        bf = M.HeadTrainer(X, y, config=dataclasses.replace(cfg, matmul_dtype="bfloat16"))
        assert (bf(np.arange(3), w, seed=0) == M.sequential_reference(bf, np.arange(3), w, seed=0)).mean() > 0.95
    assert (batched == M.sequential_reference(tr, np.arange(3), w, seed=0)).mean() > 0.995
    # control: the comparison is sensitive (a 30% larger learning rate changes many predictions)
    other = M.sequential_reference(M.HeadTrainer(X, y, config=dataclasses.replace(cfg, lr=1.3e-2)), np.arange(3), w,
                                   seed=0)
    assert (batched == other).mean() < 0.98


def test_same_seed_identical_other_seed_differs():
    X, given, clean = blobs(seed=1)
    ho = M.held_out_design(given, clean, n_correct=28, seed=0)
    cfg = M.HeadConfig(kind="mlp", hidden=32, epochs=3, batch_size=128, chunk_size=4)
    a = M.estimate_memorization(X, given, ho, m=4, seed=0, head=cfg, progress=False)
    b = M.estimate_memorization(X, given, ho, m=4, seed=0, head=cfg, progress=False)
    c = M.estimate_memorization(X, given, ho, m=4, seed=1, head=cfg, progress=False)
    assert np.array_equal(a.correct, b.correct) and np.array_equal(a.masks, b.masks)
    assert not np.array_equal(a.masks, c.masks)


@pytest.mark.parametrize("kind,dtype", [("mlp", "float32"), ("mlp", "bfloat16"), ("random_features", "bfloat16"),
                                        ("linear", "float32")])
def test_chunking_does_not_change_any_run(kind, dtype):
    X, given, clean = blobs(seed=2)
    ho = M.held_out_design(given, clean, n_correct=28, seed=0)
    res = {}
    for cs in (6, 4):
        cfg = M.HeadConfig(kind=kind, hidden=64, epochs=3, batch_size=100, chunk_size=cs, matmul_dtype=dtype)
        tr = M.HeadTrainer(X, given, config=cfg, seed=0)
        res[cs] = M.subsample_estimate(tr, given, ho, m=6, seed=0, progress=False)
    assert np.array_equal(res[6].correct, res[4].correct)
    assert np.array_equal(res[6].memorization, res[4].memorization, equal_nan=True)


class _Interrupt(Exception):
    pass


def test_resume_after_interruption_is_byte_identical(tmp_path):
    X, given, clean = blobs(seed=3)
    ho = M.held_out_design(given, clean, n_correct=28, seed=0)
    cfg = M.HeadConfig(kind="mlp", hidden=64, epochs=4, batch_size=128, chunk_size=3)
    full = M.subsample_estimate(M.HeadTrainer(X, given, config=cfg), given, ho, m=8, seed=4, progress=False)

    calls = []

    class Flaky(M.HeadTrainer):
        fail_at = 2  # dies when asked for its third chunk

        def __call__(self, runs, weights, *, seed):
            if len(calls) == self.fail_at:
                raise _Interrupt
            calls.append(list(runs))
            return super().__call__(runs, weights, seed=seed)

    with pytest.raises(_Interrupt):
        M.subsample_estimate(Flaky(X, given, config=cfg), given, ho, m=8, seed=4, checkpoint_dir=tmp_path,
                             progress=False)
    (ckpt,) = list(tmp_path.iterdir())
    assert sorted(p.name for p in ckpt.glob("chunk-*.npz")) == ["chunk-000000-000003.npz", "chunk-000003-000006.npz"]
    assert not list(ckpt.glob(".tmp-*"))  # atomic writes leave no partial files
    calls.clear()
    Flaky.fail_at = -1
    resumed = M.subsample_estimate(Flaky(X, given, config=cfg), given, ho, m=8, seed=4, checkpoint_dir=tmp_path,
                                   progress=False)
    assert calls == [[6, 7]]  # only the missing chunk was trained
    assert resumed.timings["loaded_chunks"] == 2 and resumed.timings["trained_chunks"] == 1
    for name in ("inclusion", "exclusion", "memorization", "correct", "masks", "held_out"):
        a, b = getattr(full, name), getattr(resumed, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    for k in full.counts:
        assert full.counts[k].tobytes() == resumed.counts[k].tobytes()
    # another seed is a different experiment: a new checkpoint folder, nothing reused
    other = M.subsample_estimate(M.HeadTrainer(X, given, config=cfg), given, ho, m=3, seed=5,
                                 checkpoint_dir=tmp_path, progress=False)
    assert other.timings["loaded_chunks"] == 0 and len(list(tmp_path.iterdir())) == 2


def test_validation_messages():
    X, given, clean = blobs(seed=0, per=20, n_iso=2, n_grp=2)
    with pytest.raises(ValueError, match="rows"):
        M.estimate_memorization(X[:-1], given, m=4, progress=False)
    with pytest.raises(ValueError, match="m "):
        M.estimate_memorization(X, given, m=1, progress=False)
    with pytest.raises(ValueError, match="held_out"):
        M.estimate_memorization(X, given, np.array([0, 0, 1]), m=4, progress=False)
    with pytest.raises(ValueError, match="kind"):
        M.HeadConfig(kind="cnn")
    with pytest.raises(ValueError, match="uint8"):
        M.PixelTrainer(np.zeros((4, 8, 8, 3), np.float32), np.zeros(4, int), num_classes=2)


def test_pixel_lane_smoke_on_tiny_images():
    rs = np.random.default_rng(0)
    n = 64
    y = np.arange(n) % 2
    imgs = rs.integers(0, 60, size=(n, 16, 16, 3)).astype(np.uint8)
    imgs[y == 1, :, :, 0] += 150  # class 1 is red
    net = M.PixelConfig(width=4, epochs=10, batch_size=32, lr=0.05)
    ho = np.arange(0, n, 4)
    res = M.estimate_memorization_pixels(imgs, y, ho, m=3, seed=0, net=net, device="cpu", chunk_size=2,
                                         progress=False)
    assert res.correct.shape == (3, n) and res.masks.shape == (3, ho.size)
    assert res.correct.mean() > 0.9  # an easy problem is learned
    again = M.estimate_memorization_pixels(imgs, y, ho, m=3, seed=0, net=net, device="cpu", chunk_size=2,
                                           progress=False)
    assert np.array_equal(res.correct, again.correct)


def test_label_sets_for_the_case_study():
    ds = load_dataset("digits")
    x = ds.train_images.reshape(len(ds.train_images), -1).astype(np.float32)
    y = ds.train_labels
    stand_in = noise.confusable_noise(x, y, 0.17, seed=0)
    assert isinstance(stand_in, noise.NoiseResult) and stand_in.kind == "confusable"
    human = stand_in.noisy_labels
    assert (human != y).sum() == round(0.17 * y.size) and stand_in.realised_rate == (human != y).mean()
    assert human.tobytes() == noise.confusable_noise(x, y, 0.17, seed=0).noisy_labels.tobytes()
    matched = noise.matched_synthetic(y, human, seed=0)
    syn, T = matched.noisy_labels, matched.extras["target_T"]
    assert matched.kind == "matched" and np.array_equal(matched.clean_labels, y)
    assert np.allclose(T.sum(1), 1) and abs((syn != y).mean() - 0.17) < 0.04
    # it is a per-example draw from T: the same labels as noise.transition with T and the same seed
    assert syn.tobytes() == noise.transition(y, T, seed=0).noisy_labels.tobytes()
    assert not np.array_equal(syn, noise.matched_synthetic(y, human, seed=1).noisy_labels)
    # same transition matrix in expectation, but the synthetic flips are not the stand-in's confusable ones
    st = M.label_set_stats(syn, y)
    assert np.allclose(st["T"], matched.transition_matrix, atol=5e-5) and st["rate"] == matched.realised_rate
    assert np.abs(np.array(st["T"]) - T).max() < 0.15
    assert ((syn != y) & (human != y)).sum() < 0.5 * (human != y).sum()
    # the stand-in's flips are instance-dependent: the wrong label is what the image's neighbours look like
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(10).fit(x, y)
    nb = knn.predict_proba(x)  # includes the point itself (1/10 of the vote)
    def support(labels):
        w = labels != y
        return nb[np.flatnonzero(w), labels[w]].mean()
    assert support(human) > 2 * support(syn)


def test_confusion_pairs_counts_most_frequent_first():
    clean = np.array([0, 0, 1, 1, 1, 2, 2])
    given = np.array([1, 1, 0, 2, 1, 2, 1])
    assert M.confusion_pairs(given, clean, classes=["a", "b", "c"]) == [["a -> b", 2], ["b -> a", 1], ["b -> c", 1],
                                                                        ["c -> b", 1]]
    assert M.confusion_pairs(given, clean, top=1) == [["0 -> 1", 2]]
    assert M.confusion_pairs(clean, clean) == []


def test_benchmark_heads_times_two_agreeing_paths():
    X, given, clean = blobs(seed=4, per=100, n_iso=2, n_grp=4)
    cfg = M.HeadConfig(kind="random_features", hidden=128, epochs=2, batch_size=64, matmul_dtype="bfloat16")
    b = M.benchmark_heads(M.HeadTrainer(X, given, config=cfg), runs=2, seed=0)
    assert b["sequential_dtype"] == "float32" and b["batched_dtype"] == "bfloat16" and b["runs"] == 2
    assert b["sequential_s_per_run"] > 0 and b["batched_s_per_run"] > 0
    assert b["agreement"] > 0.95  # same heads, same batches; only the precision of the products differs


def test_every_run_has_its_own_batch_order():
    """Runs differ in their batch order (from (seed, run) alone), not only in subset and initialisation."""
    a = list(M.run_batch_orders([0, 1, 2], 50, epochs=2, seed=0))
    assert len(a) == 2 and a[0].shape == (3, 50)
    assert all(np.array_equal(np.sort(o, axis=1), np.tile(np.arange(50), (3, 1))) for o in a)  # permutations
    assert not np.array_equal(a[0][0], a[0][1]) and not np.array_equal(a[0][0], a[1][0])
    b = list(M.run_batch_orders([2], 50, epochs=2, seed=0))            # run 2 alone: the same order as inside a chunk
    assert np.array_equal(b[0][0], a[0][2]) and np.array_equal(b[1][0], a[1][2])


def test_bfloat16_products_give_the_same_memorization_scores(case):
    """bf16 products (fp32 master weights and Adam state) estimate the same memorization as fp32, run by run
    close and, over the held-out set, strongly correlated; the same examples come out incorrectly learned."""
    import dataclasses

    X, given, clean, ho, res32 = case
    res16 = M.estimate_memorization(X, given, ho, m=20, seed=0, head=dataclasses.replace(MLP, matmul_dtype="bfloat16"),
                                    progress=False)
    assert res16.trainer["matmul_dtype"] == "bfloat16" and res32.trainer["matmul_dtype"] == "float32"
    assert np.corrcoef(res32.memorization[ho], res16.memorization[ho])[0, 1] > 0.95
    assert (res32.correct == res16.correct).mean() > 0.98
    a = set(M.incorrectly_learned(res32, given != clean).tolist())
    b = set(M.incorrectly_learned(res16, given != clean).tolist())
    assert len(a ^ b) <= 0.1 * len(a | b)


def test_fast_mlp_loop_equals_the_generic_loop():
    """The MLP loop laid out for speed (bias folded into the first product, transposed logits, fused Adam) is
    the same training as the generic loop it was derived from, in float32 up to summation order."""
    rs = np.random.default_rng(1)
    X = rs.normal(size=(300, 12)).astype(np.float32)
    y = rs.integers(0, 3, 300)
    w = M.inclusion_weights(300, np.arange(0, 300, 3), M.subset_masks(100, np.arange(4), seed=2))
    for wd in (0.0, 0.05):
        tr = M.HeadTrainer(X, y, config=M.HeadConfig(kind="mlp", hidden=32, epochs=8, batch_size=50, lr=1e-2,
                                                      weight_decay=wd))
        assert (tr(np.arange(4), w, seed=3) == tr._train_generic(np.arange(4), w, seed=3)).mean() > 0.995
