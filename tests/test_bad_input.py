"""Bad input gets one clear error and changes no answer (issue 22): pred_probs, labels beyond the classes,
corrupt or truncated files, unreadable caches, shape mismatches, -p value ranges, $LABNOISE_CACHE.

Every refusal is one exception type with a message that names the argument (or file) and says what to pass; a
refused call writes nothing."""
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from labnoise import cache, data
from labnoise.detect import METHODS, ConfidentLearning, confident_learning, find_noisy

ROOT = Path(__file__).resolve().parent.parent
SOFTMAX_HINT = "softmax of out-of-sample logits"


def _problem(n=120, k=4, seed=0):
    """Four separated blobs, 10% of labels moved to the next class, and honest out-of-sample-like pred_probs."""
    rng = np.random.default_rng(seed)
    clean = np.arange(n) % k
    x = (rng.normal(size=(n, 6)) + 6 * np.eye(k, 6)[clean]).astype(np.float32)
    y = clean.copy()
    y[: n // 10] = (y[: n // 10] + 1) % k
    pp = np.full((n, k), 0.1 / (k - 1))
    pp[np.arange(n), clean] = 0.9
    return x, y, clean, pp


# ------------------------------------------------------------------------------------------------ 1. pred_probs
def _bad_pred_probs():
    _, _, _, pp = _problem()
    nan_row = pp.copy()
    nan_row[3] = np.nan
    inf_row = pp.copy()
    inf_row[7, 1] = np.inf
    sums_to_two = np.full_like(pp, 0.5)                                # in [0, 1], rows sum to 2
    return {
        "nan row": (nan_row, "NaN or infinite"),
        "inf entry": (inf_row, "NaN or infinite"),
        "raw logits": (np.log(pp) * 3, r"in \[0, 1\]"),
        "rows sum to 3": (pp * 3, r"in \[0, 1\]|sum to 1"),
        "rows sum to 2": (sums_to_two, "sum to 1"),
        "one-dimensional": (pp[:, 0], "2-D"),
        "wrong length": (pp[:-1], "rows but there are 120 labels"),
        "one column": (pp[:, :1], "column"),
        "strings": (np.full(pp.shape, "a"), "numeric"),
    }


BAD_PP = _bad_pred_probs()
ENTRIES = {
    "find_noisy": lambda y, x, pp, **kw: find_noisy(y, x, method="confident", pred_probs=pp, **kw),
    "confident_learning": lambda y, x, pp, **kw: confident_learning(y, x, pred_probs=pp, **kw),
    "ConfidentLearning.fit": lambda y, x, pp, **kw: ConfidentLearning(**kw).fit(y, x, pred_probs=pp),
}


@pytest.mark.parametrize("entry", sorted(ENTRIES))
@pytest.mark.parametrize("case", sorted(BAD_PP))
def test_invalid_pred_probs_are_refused_by_every_entry(entry, case):
    x, y, _, _ = _problem()
    bad, match = BAD_PP[case]
    with pytest.raises(ValueError, match=match) as err:
        ENTRIES[entry](y, x, bad)
    assert "pred_probs" in str(err.value) and SOFTMAX_HINT in str(err.value)


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_pred_probs_width_must_match_num_classes_and_labels(entry):
    x, y, _, pp = _problem()
    with pytest.raises(ValueError, match="pred_probs has 4 columns but num_classes=5"):
        ENTRIES[entry](y, x, pp, num_classes=5)
    stray = y.copy()
    stray[0] = 12
    with pytest.raises(ValueError, match="labels hold class 12 but pred_probs has 4 columns"):
        ENTRIES[entry](stray, x, pp)


def test_valid_pred_probs_within_the_stated_tolerance_are_used():
    from labnoise._validation import PRED_PROBS_ATOL

    x, y, clean, pp = _problem()
    jitter = pp * (1 + PRED_PROBS_ATOL / 4)                                # rows sum to 1 + 2.5e-4: accepted
    res = find_noisy(y, x, method="confident", pred_probs=jitter)
    assert np.array_equal(res.is_noisy, y != clean)                        # the planted 10% exactly
    assert res.settings["num_classes"] == 4 and res.settings["num_classes_source"] == "pred_probs width"


# ------------------------------------------------------------------------------------------------ 2. classes
FAST = {"dynacor": {"epochs": 2, "encoder_epochs": 1}, "avg_encoder": {"epochs": 2}, "aum": {"epochs": 2},
        "confident": {"folds": 2, "epochs": 1}, "simifeat": {}, "cores": {"epochs": 2}}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_stray_label_beyond_the_classes_is_refused_not_absorbed(method):
    """One label 12 in a 4-class set used to make every detector assume 13 classes (CORES flagged 14 examples
    instead of 66): now the inferred K is refused with the rule, and an explicit num_classes=4 refuses the label."""
    x, y, _, _ = _problem()
    y[5] = 12
    with pytest.raises(ValueError, match=r"inferred as the largest label \+ 1 = 13.*class\(es\) 4\.\.11.*"
                                         r"pass num_classes"):
        find_noisy(y, x, method=method, seed=0, **FAST[method])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\] for num_classes=4"):
        find_noisy(y, x, method=method, seed=0, num_classes=4, **FAST[method])


def test_where_num_classes_comes_from_is_reported():
    x, y, _, _ = _problem()
    inferred = find_noisy(y, x, method="simifeat", seed=0)
    assert inferred.settings["num_classes"] == 4
    assert inferred.settings["num_classes_source"] == "inferred: largest label + 1"
    given = find_noisy(y, x, method="simifeat", seed=0, num_classes=4)
    assert given.settings["num_classes_source"] == "given"
    assert np.array_equal(given.is_noisy, inferred.is_noisy)
    # a class absent from a subset is fine once num_classes says how many there are
    keep = y != 2
    assert len(find_noisy(y[keep], x[keep], method="simifeat", seed=0, num_classes=4)) == keep.sum()
    with pytest.raises(ValueError, match=r"never use class\(es\) 2"):
        find_noisy(y[keep], x[keep], method="simifeat", seed=0)
    from labnoise.detect import SimiFeat
    assert SimiFeat(seed=0).fit(y, x).num_classes_ == 4


# ------------------------------------------------------------------------------------------------ 3. files
def _fresh_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    return root


def test_a_truncated_cifar_n_file_names_itself_and_the_fix(tmp_path):
    root = _fresh_root(tmp_path)
    target = root / data.FILES["cifar10n"].dest
    target.parent.mkdir(parents=True)
    real = data.data_root() / data.FILES["cifar10n"].dest
    target.write_bytes(real.read_bytes()[:5000] if real.exists() else os.urandom(5000))
    before = sorted(p.name for p in root.rglob("*"))
    with pytest.raises(data.DataError, match="labnoise data import") as err:
        data.load_label_set("cifar10n", "aggre", root=root)
    assert str(target) in str(err.value) and "md5" in str(err.value)
    assert sorted(p.name for p in root.rglob("*")) == before


def test_a_truncated_reference_file_names_itself(tmp_path):
    root = _fresh_root(tmp_path)
    target = root / data.FILES["cifar10-pmd-0.35"].dest
    target.parent.mkdir(parents=True)
    np.save(target, np.zeros(50000, np.int64))
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(data.DataError, match=r"corrupt.*labnoise data import") as err:
        data.load_reference_labels("cifar10", "pmd", 0.35, root=root)
    assert str(target) in str(err.value)


@pytest.mark.parametrize("damage", ["truncated", "random", "malicious", "wrong dict"])
def test_a_bad_cifar_batch_names_the_file_and_runs_no_code(tmp_path, damage):
    root = _fresh_root(tmp_path)
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    marker = tmp_path / "pwned"
    good = pickle.dumps({b"data": np.zeros((10000, 3072), np.uint8), b"labels": [0] * 10000})
    for name in ["test_batch"] + [f"data_batch_{i}" for i in range(1, 6)]:
        (folder / name).write_bytes(good)
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"c%d" % i for i in range(10)]}))

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    bad = {"truncated": good[:4000], "random": os.urandom(4000), "malicious": pickle.dumps({b"data": Evil()}),
           "wrong dict": pickle.dumps({b"data": np.zeros((5, 3072), np.uint8), b"labels": [0] * 5})}[damage]
    (folder / "data_batch_3").write_bytes(bad)
    with pytest.raises(data.DataError, match="labnoise data import") as err:
        data.load_dataset("cifar10", root=root)
    assert str(folder / "data_batch_3") in str(err.value)
    assert not marker.exists()


def _cli(*args, env_extra=None, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LABNOISE_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "labnoise.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True)


@pytest.mark.parametrize("kind", ["random bytes", "malicious pickle", "truncated npy"])
def test_data_import_of_a_bad_file_is_one_line_and_writes_nothing(tmp_path, kind):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    name, payload = {"random bytes": ("CIFAR-10_human.pt", os.urandom(3000)),
                     "malicious pickle": ("CIFAR-100_human.pt", pickle.dumps({"clean_label": Evil()})),
                     "truncated npy": ("cifar10-cluster-0.70.npy", b"\x93NUMPY" + os.urandom(200))}[kind]
    src = tmp_path / name
    src.write_bytes(payload)
    root = tmp_path / "root"
    r = _cli("data", "import", src, "--root", root)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert str(src) in lines[0] and "labnoise data import" in lines[0]
    assert not root.exists() and not marker.exists()


# ------------------------------------------------------------------------------------------------ 4. caches
GARBAGE = {"truncated": None, "random": b"\x00garbage\xff" * 7, "empty": b"", "json list": b"[1, 2]"}


@pytest.mark.parametrize("damage", sorted(GARBAGE))
def test_cache_readers_treat_every_unreadable_file_as_a_miss(tmp_path, damage):
    npy, npz, js = tmp_path / "a.npy", tmp_path / "b.npz", tmp_path / "c.json"
    cache.save_npy(npy, np.arange(12, dtype=np.int64).reshape(3, 4))
    cache.save_npz(npz, correct=np.ones((2, 1), np.uint8))
    cache.save_json(js, {"fingerprint": "x", "metrics": {}})
    assert cache.read_npy(npy, shape=(3, 4), dtype=np.int64) is not None
    assert cache.read_npz(npz, ("correct",)) is not None and cache.read_json_object(js) is not None
    for p in (npy, npz, js):
        raw = p.read_bytes()
        p.write_bytes(raw[: len(raw) // 2] if GARBAGE[damage] is None else GARBAGE[damage])
    assert cache.read_npy(npy) is None
    assert cache.read_npz(npz, ("correct",)) is None
    assert cache.read_json_object(js) is None
    assert cache.read_npy(tmp_path / "missing.npy") is None


def test_cache_readers_reject_the_wrong_shape_dtype_or_keys(tmp_path):
    p = tmp_path / "a.npy"
    cache.save_npy(p, np.zeros((3, 2), np.float32))
    assert cache.read_npy(p, shape=(4, 2)) is None and cache.read_npy(p, dtype=np.int64) is None
    np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)      # a pickle is never loaded
    assert cache.read_npy(p) is None
    z = tmp_path / "b.npz"
    cache.save_npz(z, other=np.zeros(2))
    assert cache.read_npz(z, ("correct",)) is None
    j = tmp_path / "c.json"
    j.write_text(json.dumps({"fingerprint": "x"}))
    assert cache.read_json_object(j, required=("fingerprint", "metrics")) is None


@pytest.mark.parametrize("content", ["[]", '"a string"', '{"fingerprint": 3}', "{trunc"])
def test_a_grid_cell_file_that_is_not_a_cell_is_recomputed(tmp_path, content):
    from labnoise import grid

    calls = []

    def fn(m, n, r, s):
        calls.append((m, n, r, s))
        return {"acc": 0.5}

    first = grid.run_grid(fn, ["ce"], ["sym"], [0.2], [0], cache_dir=tmp_path, progress=False)
    path = grid.cell_path(tmp_path, "ce", "sym", 0.2, 0)
    path.write_text(content)
    again = grid.run_grid(fn, ["ce"], ["sym"], [0.2], [0], cache_dir=tmp_path, progress=False)
    assert len(calls) == 2 and again[0]["metrics"] == first[0]["metrics"] and not again[0].get("cached")
    assert json.loads(path.read_text())["metrics"] == {"acc": 0.5}                # rewritten whole


@pytest.mark.parametrize("damage", ["truncated", "random", "wrong shape"])
def test_a_damaged_memorization_chunk_is_trained_again(tmp_path, damage):
    from labnoise import memorization as M

    rng = np.random.default_rng(0)
    clean = np.repeat(np.arange(3), 40)
    X = (rng.normal(size=(120, 8)) + 6 * np.eye(3, 8)[clean]).astype(np.float32)
    given = clean.copy()
    given[:6] = 1
    ho = M.held_out_design(given, clean, n_correct=6, seed=0)
    cfg = M.HeadConfig(kind="mlp", hidden=16, epochs=2, batch_size=64, chunk_size=2)
    kw = dict(m=4, seed=1, checkpoint_dir=tmp_path, progress=False)
    first = M.subsample_estimate(M.HeadTrainer(X, given, config=cfg), given, ho, **kw)
    (chunk, *_) = sorted(tmp_path.glob("*/chunk-*.npz"))
    raw = chunk.read_bytes()
    if damage == "wrong shape":
        cache.save_npz(chunk, correct=np.zeros((1, 1), np.uint8))
    else:
        chunk.write_bytes(raw[: len(raw) // 2] if damage == "truncated" else os.urandom(len(raw)))
    again = M.subsample_estimate(M.HeadTrainer(X, given, config=cfg), given, ho, **kw)
    assert again.timings["trained_chunks"] == 1 and again.timings["loaded_chunks"] == 1
    assert again.correct.tobytes() == first.correct.tobytes()
    assert chunk.read_bytes() == raw                                                # rewritten whole


def test_damaged_feature_knn_and_tsne_caches_are_recomputed(tmp_path, monkeypatch):
    from labnoise.features import cache_path, embed
    from labnoise.neighbors import knn_table
    from labnoise.tsne import tsne_map

    monkeypatch.setenv("LABNOISE_CACHE", str(tmp_path / "cache"))
    feats = embed("digits", "train", "pixels:pca16", root=tmp_path / "data", device="cpu")
    path = cache_path("digits", "train", "pixels:pca16", root=tmp_path / "data", device="cpu")
    assert path.is_relative_to(tmp_path / "cache") and not (tmp_path / "data").exists()
    path.write_bytes(path.read_bytes()[:100])
    assert np.array_equal(embed("digits", "train", "pixels:pca16", root=tmp_path / "data", device="cpu"), feats)
    x = feats[:200]
    idx = knn_table(x, 5, cache_dir=True, device="cpu")
    (kfile,) = cache.cache_dir("knn").glob("knn-*.npy")
    kfile.write_bytes(b"garbage")
    assert np.array_equal(knn_table(x, 5, cache_dir=True, device="cpu"), idx)
    m = tsne_map(x, seed=0, cache=True, n_iter=50, early_exaggeration_iter=20)
    (tfile,) = cache.cache_dir("tsne").glob("tsne-*.npy")
    tfile.write_bytes(tfile.read_bytes()[:90])
    assert np.array_equal(tsne_map(x, seed=0, cache=True, n_iter=50, early_exaggeration_iter=20), m)


# ------------------------------------------------------------------------------------------------ 5. shapes
def test_fit_refuses_x_test_of_another_width():
    from labnoise.train import fit

    x, y, _, _ = _problem()
    with pytest.raises(ValueError, match=r"x_test has shape \(10, 5\) but x has \(120, 6\).*same encoder"):
        fit("mlp", x, y, x_test=x[:10, :5], y_test=y[:10], epochs=1, progress=False)


def test_cbn_refuses_a_map_that_is_not_two_columns():
    from labnoise import noise

    _, y, _, _ = _problem()
    for fn in (lambda m: noise.cbn(map_2d=m, labels=y, n=2, r=1.0), lambda m: noise.cbn_rate_grid(m, y, [1], [1.0]),
               lambda m: noise.cbn_loop(m, y, 2, 1.0)):
        with pytest.raises(ValueError, match=r"map_2d must be an \(N, 2\) map.*got shape \(120, 3\)"):
            fn(np.zeros((120, 3)))


def test_transition_refuses_a_matrix_smaller_than_the_classes():
    from labnoise import noise

    _, y, _, _ = _problem()
    with pytest.raises(ValueError, match=r"T is 3 x 3 but labels hold class 3.*4 x 4"):
        noise.transition(y, np.eye(3), seed=0)


# ------------------------------------------------------------------------------------------------ 6. -p ranges
def _poisoned(tmp_path):
    """A folder that shadows papermill, nbclient, jupyter_client and ipykernel: importing any of them (what
    starting a kernel needs) leaves a marker file and fails."""
    poison = tmp_path / "poison"
    marker = tmp_path / "kernel-started"
    for mod in ("papermill", "nbclient", "jupyter_client", "ipykernel"):
        (poison / mod).mkdir(parents=True)
        (poison / mod / "__init__.py").write_text(
            f"open({str(marker)!r}, 'a').write({mod!r})\nraise ImportError('{mod} must not be imported')\n")
    return poison, marker


@pytest.mark.parametrize("name,value,match", [
    ("epochs", "-1", r"parameter epochs of chapter 05_lend: expected an integer >= 1 \(got -1\)"),
    ("sym_rates", "[1.5]", r"parameter sym_rates of chapter 05_lend: .*must be in \[0, 1.0\), got 1.5"),
    ("lr", "0", r"parameter lr of chapter 05_lend: expected a number > 0 \(got 0\)"),
    ("batch_sizes", "[32, 0]", r"parameter batch_sizes of chapter 05_lend: expected a non-empty list of integers"),
])
def test_run_with_an_out_of_range_parameter_starts_no_kernel_and_keeps_the_last_output(tmp_path, name, value,
                                                                                      match):
    import re

    poison, marker = _poisoned(tmp_path)
    out = tmp_path / "runs"
    out.mkdir()
    last = out / "05_lend.results.json"
    last.write_text('{"metrics": {"last": "good"}}')
    r = _cli("run", "05", "--profile", "smoke", "--out", out, "-p", name, value,
             env_extra={"PYTHONPATH": f"{poison}{os.pathsep}{ROOT}"})
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert re.search(match, r.stderr) and "labnoise run 05_lend -p" in r.stderr, r.stderr
    assert not marker.exists()                                                   # no kernel machinery loaded
    assert sorted(p.name for p in out.iterdir()) == ["05_lend.results.json"]
    assert last.read_text() == '{"metrics": {"last": "good"}}'


def test_the_cli_precheck_and_the_kernel_config_share_one_range():
    from labnoise.profiles import RANGES, check_values, config
    from labnoise.runner import check_parameters

    for name, value in (("epochs", -1), ("sym_rates", [1.5]), ("momentum", 1.0)):
        with pytest.raises(ValueError) as pre:
            check_parameters("05_lend", {name: value})
        with pytest.raises(ValueError) as kernel:
            config("05_lend", "smoke", **{name: value})
        assert str(pre.value) == str(kernel.value)
    assert RANGES["epochs"].describe() == "an integer >= 1"
    check_values("05_lend", {"epochs": 3, "sym_rates": [0.2], "lr": None})       # in range: passes


# ------------------------------------------------------------------------------------------------ 7. LABNOISE_CACHE
def test_labnoise_cache_moves_every_cache_off_the_data_root(tmp_path, monkeypatch):
    from labnoise.tsne import tsne_map

    data_root, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    data_root.mkdir()
    monkeypatch.setenv("LABNOISE_DATA", str(data_root))
    monkeypatch.setenv("LABNOISE_CACHE", str(elsewhere))
    for kind in cache.KINDS:
        assert cache.cache_dir(kind) == elsewhere / kind == cache.cache_dir(kind, root=data_root)
    x = np.random.default_rng(0).normal(size=(150, 5)).astype(np.float32)
    tsne_map(x, seed=0, cache=True, n_iter=50, early_exaggeration_iter=20)
    assert list((elsewhere / "tsne").glob("tsne-*.npy")) and not any(data_root.iterdir())
    monkeypatch.delenv("LABNOISE_CACHE")
    assert cache.cache_dir("tsne") == data_root / "cache" / "tsne"
