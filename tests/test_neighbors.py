import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from labnoise.neighbors import knn


pytestmark = pytest.mark.usefixtures("one_thread")


def _clustered(n=1500, d=24, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, d)) * 4
    return (centres[rng.integers(0, 8, n)] + rng.normal(size=(n, d))).astype(np.float32) + 50.0  # offset: tests centring


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_matches_sklearn_brute_force(precision):
    x = _clustered()
    nn = NearestNeighbors(n_neighbors=10, algorithm="brute").fit(x.astype(np.float64))
    d_ref, i_ref = nn.kneighbors(x)
    d, i = knn(x, 10, precision=precision, device="cpu")
    assert d.dtype == np.float32 and i.dtype == np.int64 and d.shape == (1500, 10)
    np.testing.assert_array_equal(i, i_ref)          # continuous data: no ties
    np.testing.assert_allclose(d, d_ref, atol=2e-3)
    assert (np.diff(d, axis=1) >= 0).all()           # ascending
    # excluding self = sklearn's kneighbors() without arguments
    d_ref, i_ref = nn.kneighbors(n_neighbors=7)
    d, i = knn(x, 7, include_self=False, precision=precision, device="cpu")
    np.testing.assert_array_equal(i, i_ref)
    assert not (i == np.arange(len(x))[:, None]).any()


def test_bf16_certificate_falls_back_on_concentrated_distances():
    # high-dimensional isotropic noise: distances concentrate, the bf16 pre-screen cannot certify rows
    x = np.random.default_rng(1).normal(size=(800, 256)).astype(np.float32)
    d32, i32 = knn(x, 15, precision="fp32", device="cpu")
    d16, i16 = knn(x, 15, precision="bf16", device="cpu", chunk_size=100)
    np.testing.assert_array_equal(i16, i32)
    np.testing.assert_allclose(d16, d32, atol=1e-4)


def test_query_and_cosine_match_sklearn():
    x = _clustered(600, 16, seed=2)
    q = _clustered(50, 16, seed=3)
    for metric in ("euclidean", "cosine"):
        nn = NearestNeighbors(n_neighbors=5, algorithm="brute", metric=metric).fit(x.astype(np.float64))
        d_ref, i_ref = nn.kneighbors(q.astype(np.float64))
        d, i = knn(x, 5, query=q, metric=metric, device="cpu")
        np.testing.assert_array_equal(i, i_ref)
        np.testing.assert_allclose(d, d_ref, atol=1e-3)


def test_self_first_even_with_duplicates():
    x = np.repeat(_clustered(100, 8), 3, axis=0)  # every point has two exact duplicates
    d, i = knn(x, 3, device="cpu")
    assert (i[:, 0] == np.arange(len(x))).all()
    assert (d[:, 0] == 0).all()
    assert np.allclose(d[:, 1:], 0, atol=1e-2)  # the duplicates follow (ties in any order; sqrt of a float32 ~0)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_symmetric_self_join_matches_plain_pass(include_self, metric):
    x = _clustered(900, 20, seed=4) - 50.0  # centred: cosine distances are well separated (no near-ties)
    d1, i1 = knn(x, 12, include_self=include_self, metric=metric, symmetric=False, chunk_size=128, device="cpu")
    d2, i2 = knn(x, 12, include_self=include_self, metric=metric, symmetric=True, chunk_size=128, device="cpu")
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(d1, d2, atol=1e-4)


def test_knn_table_cache(tmp_path):
    from labnoise.neighbors import knn_table
    x = _clustered(200, 6)
    a = knn_table(x, 5, cache_dir=tmp_path)
    files = list(tmp_path.glob("knn-*.npy"))
    assert len(files) == 1
    np.save(files[0], np.zeros_like(a))  # a cached table is read back, not recomputed
    assert (knn_table(x, 5, cache_dir=tmp_path) == 0).all()
    np.testing.assert_array_equal(knn_table(x, 5), knn(x, 5)[1])
    assert len(list(tmp_path.glob("knn-*.npy"))) == 1
    knn_table(x, 6, cache_dir=tmp_path)  # another k: another file
    assert len(list(tmp_path.glob("knn-*.npy"))) == 2


def test_chunking_does_not_change_result():
    x = _clustered(700, 12)
    a = knn(x, 9, chunk_size=64, device="cpu")
    b = knn(x, 9, chunk_size=700, device="cpu")
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[0], b[0])


def test_validation_errors():
    x = _clustered(20, 4)
    with pytest.raises(ValueError, match="k must be"):
        knn(x, 20, include_self=False)
    with pytest.raises(ValueError, match="k must be"):
        knn(x, 0)
    with pytest.raises(ValueError, match="dimensions"):
        knn(x, 3, query=np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="metric"):
        knn(x, 3, metric="manhattan")
    bad = x.copy(); bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        knn(bad, 3)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_bf16_queries_match_sklearn_and_report_fallbacks(metric):
    from labnoise import neighbors
    x = _clustered(900, 32, seed=5) - 50.0
    q = _clustered(70, 32, seed=6) - 50.0
    nn = NearestNeighbors(n_neighbors=8, algorithm="brute", metric=metric).fit(x.astype(np.float64))
    d_ref, i_ref = nn.kneighbors(q.astype(np.float64))
    d, i = knn(x, 8, query=q, metric=metric, precision="bf16", device="cpu", chunk_size=64)
    np.testing.assert_array_equal(i, i_ref)
    np.testing.assert_allclose(d, d_ref, atol=1e-3)
    run = neighbors.LAST_RUN
    assert run["precision"] == "bf16" and run["rows"] == 70 and 0 <= run["fallback_rows"] <= 70
    knn(x, 8, query=q, metric=metric, precision="fp32", device="cpu")
    assert neighbors.LAST_RUN == {"precision": "fp32"}


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("include_self", [True, False])
def test_symmetric_bf16_self_join_is_the_brute_force_answer(metric, include_self, monkeypatch):
    """The bf16 self-join (symmetric block pairs, running top-k, certificate, fp32 fallback) over many blocks
    returns sklearn's float64 brute-force neighbours up to float32 ties, and says how many rows it recomputed
    in fp32 (here most rows are certified, so the bf16 path is what is tested)."""
    from labnoise import neighbors

    x = _clustered(3000, 16, seed=4) - 50.0   # the offset would make every cosine ~1: nothing to certify
    monkeypatch.setattr(neighbors, "_MARGIN_MIN_SELF", 32)   # what this dense toy needs to certify most rows
    nn = NearestNeighbors(n_neighbors=12, algorithm="brute", metric=metric).fit(x.astype(np.float64))
    d_ref, i_ref = nn.kneighbors(x) if include_self else nn.kneighbors(n_neighbors=12)
    d, i = knn(x, 12, include_self=include_self, metric=metric, precision="bf16", device="cpu", chunk_size=256)
    run = dict(neighbors.LAST_RUN)
    assert run["symmetric"] and run["rows"] == 3000 and 0 <= run["fallback_rows"] < 1500
    np.testing.assert_allclose(d, d_ref, atol=2e-3 if metric == "euclidean" else 2e-6)
    assert (np.diff(d, axis=1) >= 0).all()
    differ = (np.sort(i, 1) != np.sort(i_ref, 1)).any(1)
    # a differing set is a float32 tie at the k-th distance, never a missed neighbour
    assert differ.mean() < 0.005
    assert np.allclose(d[differ, -1], d_ref[differ, -1], rtol=1e-5, atol=1e-6)
    if include_self:
        assert (i[:, 0] == np.arange(3000)).all()


def test_running_top_k_is_the_exact_top_k_of_all_blocks():
    import torch

    from labnoise.neighbors import _RunningTopK

    g = torch.Generator().manual_seed(0)
    full = torch.randn(300, 2000, generator=g)
    top = _RunningTopK(300, 25, "cpu")
    for c in range(0, 2000, 150):                        # sparse merges after the first block
        top.add(0, 300, full[:, c:c + 150], c)
    v, o = torch.sort(top.v, 1)
    ref_v, ref_i = torch.topk(full, 25, dim=1, largest=False, sorted=True)
    assert torch.equal(v, ref_v) and torch.equal(torch.gather(top.i, 1, o), ref_i)
    top_t = _RunningTopK(2000, 5, "cpu")                  # transposed (non-contiguous) blocks
    for r in range(0, 300, 70):
        top_t.add(0, 2000, full[r:r + 70].T, r)
    assert torch.equal(torch.sort(top_t.v, 1).values, torch.topk(full.T, 5, 1, largest=False).values)
