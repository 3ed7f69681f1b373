"""labnoise.parallel: without a cluster nothing changes (Dask is not imported); on a LocalCluster of two
processes the results equal the sequential run's, in the same order."""
import os
import subprocess
import sys

import numpy as np
import pytest

from labnoise import parallel


def _unit(seed, n):
    """A deterministic, seeded unit of work: a small least-squares fit on seeded data."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 8))
    b = a @ np.arange(8.0) + rng.normal(size=n)
    return np.linalg.lstsq(a, b, rcond=None)[0]


def _pid(_):
    import os
    return os.getpid()


def _cell(method, noise, rate, seed):
    return {"coef": _unit(seed * 10 + len(method), 50).round(12).tolist(), "rate": rate}


def test_sequential_does_not_import_dask():
    code = ("import sys; from labnoise.parallel import map_units; "
            "assert map_units(pow, [(2, 3), (3, 2)]) == [8, 9]; "
            "assert not any(m == 'distributed' or m.startswith('dask') for m in sys.modules), 'dask imported'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin", "LABNOISE_WORKERS": ""})
    assert r.returncode == 0, r.stderr


def test_settings_validation(monkeypatch):
    with pytest.raises(ValueError, match="positive integer"):
        parallel.settings(workers="two")
    with pytest.raises(ValueError, match="not both"):
        parallel.settings(workers=2, scheduler="tcp://127.0.0.1:1")
    monkeypatch.setenv("LABNOISE_WORKERS", "3")
    monkeypatch.setenv("LABNOISE_RESOURCES", "GPU=1")
    assert parallel.settings() == {"workers": 3, "scheduler": None, "resources": {"GPU": 1.0}}


@pytest.fixture(scope="module")
def cloudpickle_this_module():
    cloudpickle = pytest.importorskip("cloudpickle")
    pytest.importorskip("distributed")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # workers cannot import tests/
    yield
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    parallel.close()


def test_local_cluster_equals_sequential(cloudpickle_this_module, tmp_path):
    units = [(s, 40 + s) for s in range(6)]
    seq = parallel.map_units(_unit, units)
    par = parallel.map_units(_unit, units, workers=2)
    pids = set(parallel.map_units(_pid, [(i,) for i in range(8)], workers=2))
    assert os.getpid() not in pids and 1 <= len(pids) <= 2      # the units ran in the worker processes
    assert len(par) == len(seq)
    for a, b in zip(seq, par):
        assert a.tobytes() == b.tobytes()          # byte for byte, in order

    from labnoise.grid import run_grid

    axes = (["ce", "gce"], ["sym"], [0.2, 0.4], [0, 1])
    one = run_grid(_cell, *axes, cache_dir=tmp_path / "seq", progress=False)
    os.environ["LABNOISE_WORKERS"] = "2"          # what `labnoise run --workers 2` sets for the kernel
    try:
        two = run_grid(_cell, *axes, cache_dir=tmp_path / "par", progress=False)
    finally:
        del os.environ["LABNOISE_WORKERS"]
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in one]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in two]
    assert sorted(p.name for p in (tmp_path / "par").iterdir()) == sorted(p.name for p in (tmp_path / "seq").iterdir())


def test_memorization_chunks_on_a_local_cluster_equal_sequential(cloudpickle_this_module, tmp_path):
    from labnoise.memorization import HeadConfig, estimate_memorization

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    x = (rng.normal(size=(300, 8)) + 2.5 * np.eye(3, 8)[y]).astype(np.float32)
    held = np.arange(0, 300, 3)
    head = HeadConfig(kind="mlp", hidden=16, epochs=2, batch_size=64, chunk_size=4, matmul_dtype="float32")
    kw = dict(m=12, keep=0.7, seed=3, head=head, progress=False, device="cpu")
    seq = estimate_memorization(x, y, held, **kw)
    os.environ["LABNOISE_WORKERS"] = "2"
    try:
        par = estimate_memorization(x, y, held, checkpoint_dir=tmp_path, **kw)
    finally:
        del os.environ["LABNOISE_WORKERS"]
    assert par.correct.tobytes() == seq.correct.tobytes()
    assert par.memorization.tobytes() == seq.memorization.tobytes()
    assert len(list(tmp_path.rglob("chunk-*.npz"))) == 3          # each worker checkpointed its chunk


def test_detector_runs_on_a_local_cluster_equal_sequential(cloudpickle_this_module):
    """Chapter 06's comparison units (every detector, including cleanlab's, whose own process pool cannot start
    inside a Dask worker) return the same masks and scores on two workers as in this process."""
    from labnoise import noise
    from labnoise.detect import compare_many

    rng = np.random.default_rng(0)
    clean = rng.integers(0, 3, 240)
    x = (rng.normal(size=(240, 6)) + 4 * np.eye(3, 6)[clean]).astype(np.float32)
    xf = (x + 0.05 * rng.normal(size=x.shape)).astype(np.float32)
    y = noise.symmetric(clean, 0.3, num_classes=3, seed=0).noisy_labels
    opts = {"dynacor": dict(epochs=4, encoder_epochs=2, hidden=(16, 16), precision="fp32"),
            "aum": dict(epochs=4, hidden=(16,), precision="fp32"),
            "confident": dict(epochs=2, folds=2, hidden=(16,), precision="fp32"), "simifeat": {}}
    units = [{"data": "toy", "labels": y, "clean_labels": clean, "seed": s} for s in (0, 1)]
    units.append({**units[0], "methods": ["dynacor"], "options": {"dynacor": {"corruption_rate": 0.2}}})
    kw = dict(methods=["dynacor", "aum", "confident", "simifeat"], options=opts, threads=1)
    seq = compare_many({"toy": (x, xf)}, units, **kw)
    par = compare_many({"toy": (x, xf)}, units, workers=2, **kw)
    assert [sorted(r) for r in par] == [sorted(r) for r in seq] and sorted(par[2]) == ["dynacor"]
    for a, b in zip(seq, par):
        for m in a:
            assert a[m]["result"].is_noisy.tobytes() == b[m]["result"].is_noisy.tobytes()
            assert np.array_equal(a[m]["result"].score, b[m]["result"].score, equal_nan=True)
    with pytest.raises(ValueError, match="names data 'other'"):
        compare_many({"toy": (x, xf)}, [{**units[0], "data": "other"}], **kw)
