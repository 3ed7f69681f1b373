import io
import pickle
import subprocess
import sys
import tarfile

import numpy as np
import pytest

from labnoise import data
from labnoise.registry import FILES

from conftest import needs


def test_digits_is_embedded_and_split_is_fixed(tmp_path):
    ds = data.load_dataset("digits", root=tmp_path)
    assert ds.train_images.shape == (1297, 8, 8, 1) and ds.test_images.shape == (500, 8, 8, 1)
    assert ds.train_images.dtype == np.uint8 and ds.train_labels.dtype == np.int64
    assert ds.train_images.max() == 255 and ds.num_classes == 10
    assert np.bincount(ds.test_labels).min() >= 45  # stratified
    again = data._digits()
    assert np.array_equal(again[1], ds.train_labels)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("LABNOISE_DATA", str(tmp_path / "env"))
    assert data.data_root() == tmp_path / "env"
    assert data.data_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("LABNOISE_DATA")
    assert data.data_root() == data.Path.home() / ".cache" / "labnoise"


def test_missing_cifar10_offline_gives_one_clear_error_and_writes_nothing(tmp_path):
    root = tmp_path / "empty-root"
    with pytest.raises(data.DataNotFoundError) as e:
        data.load_dataset("cifar10", root=root)
    msg = str(e.value)
    assert FILES["cifar10"].url in msg and str(root / "cifar-10-python.tar.gz") in msg
    assert "labnoise data import" in msg
    assert not root.exists()


def test_missing_cifar10_without_network_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("LABNOISE_OFFLINE")  # really try: this machine has no route to the CIFAR host

    def no_net(*a, **k):
        raise data.urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(data.urllib.request, "urlopen", no_net)
    root = tmp_path / "r"
    with pytest.raises(data.DataNotFoundError, match="no network"):
        data.load_label_set("cifar10n", "aggre", root=root)
    assert not root.exists()


def test_interrupted_download_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("LABNOISE_OFFLINE")

    class Broken(io.BytesIO):
        headers = {"Content-Length": "100"}

        def read(self, n=-1):
            raise ConnectionResetError("connection dropped")

    monkeypatch.setattr(data.urllib.request, "urlopen", lambda *a, **k: Broken())
    with pytest.raises(ConnectionResetError):
        data.fetch("cifar10n", tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_md5_mismatch_discards_download(tmp_path, monkeypatch):
    monkeypatch.delenv("LABNOISE_OFFLINE")

    class Fake(io.BytesIO):
        headers = {"Content-Length": "5"}

    monkeypatch.setattr(data.urllib.request, "urlopen", lambda *a, **k: Fake(b"hello"))
    with pytest.raises(data.DataNotFoundError, match="md5"):
        data.fetch("cifar10n", tmp_path)
    assert list(tmp_path.rglob("*.pt")) == [] and list(tmp_path.rglob(".tmp-*")) == []


@pytest.mark.parametrize("call,match", [
    (lambda: data.load_dataset("mnist"), "unknown dataset 'mnist'"),
    (lambda: data.load_label_set("cifar10n", "random4"), "unknown cifar10n label set 'random4'"),
    (lambda: data.load_label_set("cifar20n", "clean"), "unknown label set"),
    (lambda: data.load_dataset("digits").images("val"), "unknown split 'val'"),
    (lambda: data.load_reference_labels("cifar10", "pmd", 0.5), "rate must be 0.35 or 0.70"),
])
def test_bad_names_get_one_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _fake_cifar100(folder, n_train=50000, n_test=10000, classes=100):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, n in (("train", n_train), ("test", n_test)):
        y = np.arange(n) % classes
        entry = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"fine_labels": y.tolist(),
                 b"coarse_labels": (y // 5).tolist()}
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)
    with open(folder / "meta", "wb") as f:
        pickle.dump({b"fine_label_names": [f"c{i}".encode() for i in range(classes)]}, f)


def test_cifar100_code_path_with_a_built_archive(tmp_path, monkeypatch):
    """CIFAR-100 images are not available offline: build an official-format archive and load it."""
    src = tmp_path / "src"
    _fake_cifar100(src / "cifar-100-python")
    root = tmp_path / "root"
    root.mkdir()
    with tarfile.open(root / "cifar-100-python.tar.gz", "w:gz") as tar:
        tar.add(src / "cifar-100-python", arcname="cifar-100-python")
    # the archive is md5-checked before extraction: register the built one's md5 as the official one
    import dataclasses
    monkeypatch.setitem(data.FILES, "cifar100", dataclasses.replace(
        data.FILES["cifar100"], md5=data._md5(root / "cifar-100-python.tar.gz")))
    ds = data.load_dataset("cifar100", root=root)
    assert ds.train_images.shape == (50000, 32, 32, 3) and ds.num_classes == 100
    raw = pickle.load(open(src / "cifar-100-python" / "train", "rb"))[b"data"][7]
    assert np.array_equal(ds.train_images[7], raw.reshape(3, 32, 32).transpose(1, 2, 0))  # channel planes -> HWC
    assert (root / "cifar-100-python").is_dir() and not list(root.glob(".tmp-*"))


def test_import_validates_and_rejects_bad_folders(tmp_path):
    bad = tmp_path / "cifar-100-python"
    _fake_cifar100(bad, n_train=100, n_test=10)
    with pytest.raises(ValueError, match="expected 50000"):
        data.import_files([bad], root=tmp_path / "root")
    assert not (tmp_path / "root").exists()
    with pytest.raises(ValueError, match="not a file labnoise knows"):
        (tmp_path / "x.txt").write_text("hi")
        data.import_files([tmp_path / "x.txt"], root=tmp_path / "root")


def test_import_rejects_a_label_file_with_wrong_range(tmp_path):
    p = tmp_path / "cifar10-pmd-0.35.npy"
    np.save(p, np.full(50000, 12, dtype=np.int64))
    with pytest.raises(ValueError, match=r"labels in \[0, 9\]"):
        data.import_files([p], root=tmp_path / "root")


@needs("cifar10n")
def test_cifar10n_noise_rates_match_the_paper():
    clean = data.load_label_set("cifar10n", "clean")
    expected = {"aggre": 9.01, "worse": 40.21, "random1": 17.23, "random2": 18.12, "random3": 17.64}
    for which, rate in expected.items():
        y = data.load_label_set("cifar10n", which)
        assert y.shape == (50000,) and y.dtype == np.int64
        assert round(100 * np.mean(y != clean), 2) == rate


@needs("cifar100n")
def test_cifar100n_noise_rate():
    clean, noisy = (data.load_label_set("cifar100n", w) for w in ("clean", "noisy"))
    assert round(100 * np.mean(clean != noisy), 2) == 40.20


@needs("cifar10")
def test_imported_cifar10_loads_like_the_download():
    ds = data.load_dataset("cifar10")
    assert ds.train_images.shape == (50000, 32, 32, 3) and ds.test_images.shape == (10000, 32, 32, 3)
    assert ds.classes == data.CIFAR10_CLASSES
    if data.has_files("cifar10n"):
        assert np.array_equal(ds.train_labels, data.load_label_set("cifar10n", "clean"))


@needs("reference")
def test_reference_label_files():
    given = data.load_reference_labels("cifar10", "given")
    for kind in ("cluster", "pmd"):
        for rate in (0.35, 0.70):
            y = data.load_reference_labels("cifar10", kind, rate)
            assert abs(np.mean(y != given) - rate) < 0.02
    syn = data.load_reference_labels("cifar10", "synthetic_random1")
    assert syn.shape == (50000,) and 0.16 < np.mean(syn != given) < 0.19


def test_cli_data_status_and_import(tmp_path):
    root = tmp_path / "root"
    p = tmp_path / "cifar10-cluster-0.35.npy"
    np.save(p, np.arange(50000, dtype=np.int64) % 10)   # well-formed, but not the official file
    run = lambda *a: subprocess.run([sys.executable, "-m", "labnoise.cli", *a], capture_output=True, text=True)
    r = run("data", "import", str(p), "--root", str(root))
    assert r.returncode == 1 and "md5" in r.stderr and "Traceback" not in r.stderr and not root.exists()
    official = data.data_root() / data.FILES["cifar10-cluster-0.35"].dest
    if official.exists():  # the real file is imported (offline data root present)
        r = run("data", "import", str(official), "--root", str(root))
        assert r.returncode == 0, r.stderr
        assert (root / "reference-labels" / "cifar10-cluster-0.35.npy").exists()
    r = run("data", "status", "--root", str(root))
    assert r.returncode == 0
    line = next(l for l in r.stdout.splitlines() if "cifar10-cluster-0.35" in l)
    assert ("present" if official.exists() else "MISSING") in line
    assert "MISSING" in next(l for l in r.stdout.splitlines() if " cifar10 " in l)
    r = run("data", "import", str(tmp_path / "nope.npy"), "--root", str(root))
    assert r.returncode == 1 and "does not exist" in r.stderr and "Traceback" not in r.stderr
