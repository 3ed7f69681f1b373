"""experiments.label_sets: the one PMD/CBN label-set builder of chapters 03 and 04."""
from pathlib import Path

import numpy as np
import pytest
from conftest import needs

from labnoise.experiments.label_sets import make_label_sets

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def blobs():
    from sklearn.datasets import make_blobs

    X, y = make_blobs(400, n_features=6, centers=3, cluster_std=3.0, random_state=0)
    return X.astype(np.float32), y.astype(np.int64)


def test_generated_sets_reach_their_rates_and_repeat_byte_for_byte(blobs):
    X, y = blobs
    kw = dict(kinds=("pmd",), rates=(0.2, 0.3), seed=0, progress=False)
    a = make_label_sets("digits", X, y, **kw)
    b = make_label_sets("digits", X, y, **kw)
    assert set(a.labels["pmd"]) == {"0.2", "0.3"}  # rate keys as grid.rate_key, like chapter 03's tables
    for key, lab in a.labels["pmd"].items():
        assert lab.dtype == np.int64 and np.array_equal(lab, b.labels["pmd"][key])
        assert abs(np.mean(lab != y) - float(key)) <= 0.01  # PMD's factor is solved for the rate
        assert "generated" in a.sources["pmd"][key]
        assert a.results["pmd"][key].summary()["realised_rate"] == pytest.approx(np.mean(lab != y), abs=1e-4)
    other = make_label_sets("digits", X, y, **{**kw, "seed": 1})
    assert not np.array_equal(other.labels["pmd"]["0.2"], a.labels["pmd"]["0.2"])
    assert a.pairs().keys() == {("pmd", 0.2), ("pmd", 0.3)} and "generated here" in a.source


def test_bad_requests_fail_before_any_work(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="cifar10/cifar100 only"):
        make_label_sets("digits", X, y, kinds=("cbn",), reference=True)
    with pytest.raises(ValueError, match="unknown noise kind 'sym'"):
        make_label_sets("digits", X, y, kinds=("sym",))
    with pytest.raises(ValueError, match="kinds is empty"):
        make_label_sets("digits", X, y, kinds=())
    with pytest.raises(ValueError, match="percentage"):
        make_label_sets("digits", X, y, rates=(35,))
    with pytest.raises(ValueError, match="'auto', True or False"):
        make_label_sets("digits", X, y, reference="yes")


@needs("reference")
@needs("cifar10")
def test_the_papers_files_are_used_and_checked_against_the_training_labels():
    from labnoise import data

    clean = data.load_dataset("cifar10").train_labels
    x = np.zeros((len(clean), 2), np.float32)  # not used: every requested set comes from a file
    sets = make_label_sets("cifar10", x, clean, rates=(0.35, 0.7), reference=True)
    assert sets.source == "the paper's released label files"
    for kd, kind in (("pmd", "pmd"), ("cbn", "cluster")):
        for key, r in (("0.35", 0.35), ("0.7", 0.70)):
            assert np.array_equal(sets.labels[kd][key], data.load_reference_labels("cifar10", kind, r))
    with pytest.raises(ValueError, match="rates"):
        make_label_sets("cifar10", x, clean, rates=(0.5,), reference=True)
    wrong = clean.copy()
    wrong[:3] = (wrong[:3] + 1) % 10
    with pytest.raises(ValueError, match="differ from the cifar10 training labels in 3 places"):
        make_label_sets("cifar10", x, wrong, rates=(0.35,), reference="auto")


def test_chapters_03_and_04_build_their_label_sets_with_the_one_builder():
    # a chapter calls the builder itself or through its driver module in labnoise/experiments
    for name, driver in (("03_pmd_vs_cbn", "table1"), ("04_snls", None)):
        src = (ROOT / "notebooks" / f"{name}.py").read_text()
        if f"from labnoise.experiments import {driver} as" in src:
            src = (ROOT / "labnoise" / "experiments" / f"{driver}.py").read_text().replace(
                "from .label_sets import", "from labnoise.experiments.label_sets import")
        assert "from labnoise.experiments.label_sets import make_label_sets" in src
        assert src.count("make_label_sets(") == 1, name
