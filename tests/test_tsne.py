"""labnoise.tsne: seeded, cached 2-D maps that keep the cluster structure."""
import numpy as np
import pytest

from labnoise import tsne
from labnoise.noise import clustered_features
from labnoise.tsne import map_quality, tsne_map


@pytest.fixture(scope="module")
def blobs():
    x, y = clustered_features(500, 24, num_classes=4, subclusters=2, seed=0, class_sep=2.0, noise=0.3)
    return x, y


@pytest.fixture(scope="module")
def first_map(blobs):
    return tsne_map(blobs[0], seed=0)


def test_map_is_byte_identical_run_to_run(blobs, first_map):
    again = tsne_map(blobs[0], seed=0)
    assert first_map.shape == (500, 2) and first_map.dtype == np.float32
    assert first_map.tobytes() == again.tobytes()


def test_large_map_code_path_is_deterministic():
    """The path used from 10,000 points on (Annoy neighbours, FFT gradients, 2 threads), on a small input."""
    x, _ = clustered_features(800, 32, num_classes=3, seed=1)
    kw = dict(seed=0, neighbors="annoy", negative_gradient_method="fft", n_jobs=2, early_exaggeration_iter=30,
              n_iter=30)
    first = tsne_map(x, **kw)
    assert first.tobytes() == tsne_map(x, **kw).tobytes()
    assert first.tobytes() != tsne_map(x, **dict(kw, seed=1)).tobytes()  # the seed drives the Annoy index


def test_map_keeps_classes_and_neighbours_together(blobs, first_map):
    x, y = blobs
    q = map_quality(x, first_map, y, k=10, sample=300)
    assert q["knn_label_agreement"] > 0.95
    # a random layout keeps ~k/N of the neighbours; the map keeps a large share of them
    assert q["neighbour_preservation"] > 0.3
    shuffled = np.random.default_rng(0).permutation(first_map)
    assert map_quality(x, shuffled, y, k=10, sample=300)["knn_label_agreement"] < 0.5


def test_cache_is_keyed_by_inputs_and_parameters(blobs, tmp_path, monkeypatch):
    x, _ = blobs
    m = tsne_map(x, seed=0, cache=tmp_path, n_iter=100, early_exaggeration_iter=50)
    files = list(tmp_path.glob("tsne-*.npy"))
    assert len(files) == 1 and not list(tmp_path.glob(".tmp-*"))

    def boom(*a, **k):
        raise AssertionError("recomputed instead of loading the cache")

    monkeypatch.setattr(tsne, "_run_opentsne", boom)
    assert np.array_equal(tsne_map(x, seed=0, cache=tmp_path, n_iter=100, early_exaggeration_iter=50), m)
    with pytest.raises(AssertionError, match="recomputed"):   # another parameter -> another key
        tsne_map(x, seed=0, cache=tmp_path, n_iter=101, early_exaggeration_iter=50)
    with pytest.raises(AssertionError, match="recomputed"):   # other features -> another key
        tsne_map(x + 1e-3, seed=0, cache=tmp_path, n_iter=100, early_exaggeration_iter=50)


def test_invalid_inputs():
    with pytest.raises(ValueError, match="NaN"):
        tsne_map(np.array([[0.0, 1.0]] * 9 + [[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="at least 5 points"):
        tsne_map(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="unknown neighbors"):
        tsne_map(np.random.default_rng(0).normal(size=(20, 3)), neighbors="hnsw")
