"""The cache layout (labnoise.cache): every kind of cache resolves under one <data root>/cache/ tree."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

from labnoise import cache, tsne


def test_every_kind_lives_under_one_tree(tmp_path):
    roots = {cache.cache_dir(kind, root=tmp_path).parent for kind in cache.KINDS}
    assert roots == {tmp_path / "cache"} == {cache.cache_root(tmp_path)}
    assert len({cache.cache_dir(kind, root=tmp_path) for kind in cache.KINDS}) == len(cache.KINDS)
    assert cache.cache_dir("grid", "03_pmd_vs_cbn", "smoke", root=tmp_path) == \
        tmp_path / "cache" / "grid" / "03_pmd_vs_cbn" / "smoke"
    assert not (tmp_path / "cache").exists()  # resolving creates nothing


def test_the_data_root_comes_from_labnoise_data(tmp_path, monkeypatch):
    monkeypatch.setenv("LABNOISE_DATA", str(tmp_path))
    assert cache.cache_dir("tsne") == tmp_path / "cache" / "tsne"
    assert tsne.default_cache_dir() == cache.cache_dir("tsne")


def test_tsne_default_cache_dir_does_not_reimplement_the_data_root():
    tree = ast.parse(inspect.getsource(tsne.default_cache_dir))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
            {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    consts = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert "cache_dir" in names
    assert not names & {"environ", "getenv", "home", "data_root"}
    assert "cache" not in consts and "LABNOISE_DATA" not in consts


@pytest.mark.parametrize("kind, parts", [("nope", ()), ("grid", ("..",)), ("grid", ("a/b",)), ("grid", ("",))])
def test_bad_kinds_and_parts_raise_one_clear_error(tmp_path, kind, parts):
    with pytest.raises(ValueError, match="cache kind|plain names"):
        cache.cache_dir(kind, *parts, root=tmp_path)


def test_helpers_are_the_io_modules_not_copies():
    from labnoise import _io
    for name in ("atomic_path", "content_hash", "save_json", "save_npy", "save_npz"):
        assert getattr(cache, name) is getattr(_io, name)


def test_features_resolve_under_cache_and_old_files_are_still_read(tmp_path, monkeypatch):
    from labnoise import features
    from labnoise.data import Dataset
    g = np.random.default_rng(0)
    imgs = g.integers(0, 256, (30, 8, 8, 3), dtype=np.uint8)
    ds = Dataset("tiny", ["a", "b"], imgs[:20], np.zeros(20, int), imgs[20:], np.zeros(10, int))
    kw = dict(root=tmp_path, progress=False)
    path = features.cache_path(ds, "train", "pixels:pca4", **kw)
    assert path.is_relative_to(cache.cache_dir("features", root=tmp_path))
    x = features.embed(ds, "train", "pixels:pca4", **kw)
    assert path.exists()
    # a cache written before labnoise.cache existed (<root>/features/...) is found and read, not recomputed
    rel = path.relative_to(cache.cache_dir("features", root=tmp_path))
    old = cache.legacy_features_dir(tmp_path) / rel
    old.parent.mkdir(parents=True)
    path.rename(old)
    for side in path.parent.iterdir():
        side.rename(old.parent / side.name)
    assert features.cache_path(ds, "train", "pixels:pca4", **kw) == old

    def boom(*a, **k):
        raise AssertionError("recomputed although the old cache file exists")
    monkeypatch.setattr(features, "_pixels_pca", boom)
    assert features.embed(ds, "train", "pixels:pca4", **kw).tobytes() == x.tobytes()


def test_knn_tables_default_to_the_knn_kind(tmp_path, monkeypatch):
    from labnoise.neighbors import knn_table
    monkeypatch.setenv("LABNOISE_DATA", str(tmp_path))
    x = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    idx = knn_table(x, 4, cache_dir=True, device="cpu")
    files = list(cache.cache_dir("knn").glob("knn-*.npy"))
    assert len(files) == 1 and np.array_equal(np.load(files[0]), idx)
    knn_table(x + 1.0, 4, cache_dir=True, device="cpu")   # other features: another key
    assert len(list(cache.cache_dir("knn").glob("knn-*.npy"))) == 2


def test_memorization_checkpoints_default_to_the_memorization_kind(tmp_path, monkeypatch):
    from labnoise import memorization as M
    monkeypatch.setenv("LABNOISE_DATA", str(tmp_path))
    g = np.random.default_rng(0)
    X = g.normal(size=(40, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    cfg = M.HeadConfig(kind="mlp", hidden=8, epochs=1, batch_size=64, chunk_size=2)
    res = M.estimate_memorization(X, y, m=2, head=cfg, checkpoint_dir=True, device="cpu", progress=False)
    (folder,) = cache.cache_dir("memorization").iterdir()
    assert folder.name.startswith("memorization-") and list(folder.glob("chunk-*.npz"))
    again = M.estimate_memorization(X, y, m=2, head=cfg, checkpoint_dir=True, device="cpu", progress=False)
    assert again.timings["loaded_chunks"] == 1 and again.memorization.tobytes() == res.memorization.tobytes()
