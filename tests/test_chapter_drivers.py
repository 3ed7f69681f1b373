"""The chapter drivers of labnoise/experiments that chapters 00-03 and 07 call: tables that say "±" only with
two or more seeds, seeded subsets, the CBN-vs-PMD concentration verdict, Table I's generated caption."""
import numpy as np
import pytest

from labnoise import noise
from labnoise.experiments import beyond, cbn, common, data_encoders, memorization, table1


def test_mean_sd_is_sample_sd_and_none_for_one_value():
    assert common.mean_sd([0.5]) == {"mean": 0.5, "sd": None, "n": 1}
    got = common.mean_sd([1.0, 3.0])
    assert got["mean"] == 2.0 and got["n"] == 2 and got["sd"] == pytest.approx(np.std([1.0, 3.0], ddof=1))
    with pytest.raises(ValueError, match="at least one"):
        common.mean_sd([])


def test_mean_sd_text_shows_the_spread_only_with_two_or_more_seeds():
    assert common.mean_sd_text(0.8440, 0.0, 1, scale=100) == "84.40"
    assert common.mean_sd_text(0.8440, 0.012, 3, scale=100) == "84.40 ± 1.20"
    assert common.mean_sd_text(0.8440, None, 3, scale=100) == "84.40"


def test_markdown_table_renders_as_markdown_not_a_repr():
    t = common.markdown_table([{"a": 1, "b": 0.123456}, {"a": "x|y", "b": True}], caption="cap")
    assert t.splitlines() == ["cap", "", "| a | b |", "|---|---|", "| 1 | 0.12 |", "| x\\|y | yes |"]
    assert t._repr_markdown_() == str(t) and repr(t) == str(t)
    with pytest.raises(ValueError, match="columns"):
        common.markdown_table([[1, 2]])


def test_start_reads_the_parameters_cell_and_sets_the_threads(tmp_path):
    import torch

    before = torch.get_num_threads()
    try:
        cfg, run = common.start("03_pmd_vs_cbn", {"profile": "smoke", "threads": 1, "seeds": [4],
                                                  "results_path": str(tmp_path / "r.json")})
        assert cfg.seeds == [4] and cfg.threads == 1 and torch.get_num_threads() == 1
        assert run.path == tmp_path / "r.json" and run.chapter == "03_pmd_vs_cbn"
    finally:
        torch.set_num_threads(before)
    assert common.cpu_or("auto") == "cpu" and common.cpu_or("cuda:1") == "cuda:1"


def test_error_grid_sample_picks_only_wrong_labels_and_is_seeded():
    clean = np.arange(100) % 10
    given = clean.copy()
    given[::7] = (given[::7] + 1) % 10
    a = data_encoders.error_grid_sample(given, clean, 5, seed=3)
    assert a.size == 5 and np.all(given[a] != clean[a]) and np.array_equal(a, data_encoders.error_grid_sample(
        given, clean, 5, seed=3))
    assert data_encoders.error_grid_sample(given, clean, 1000, seed=0).size == np.sum(given != clean)
    assert data_encoders.noise_rates(clean, {"x": given}) == {"x": round(100 * np.mean(given != clean), 2)}


def test_map_points_keep_every_learned_example_and_marks_point_back_to_them():
    learned = {"human": np.array([3, 50, 97]), "synthetic": np.array([50, 8])}
    sub = memorization.map_points(learned, 100, 20, seed=0)
    assert sub.size == 20 and np.all(np.diff(sub) > 0) and set([3, 8, 50, 97]) <= set(sub.tolist())
    marks = memorization.map_marks(sub, learned)
    assert np.array_equal(sub[marks["human labels"]], learned["human"])
    assert np.array_equal(sub[marks["synthetic labels"]], learned["synthetic"])
    assert memorization.map_points(learned, 100, 2, seed=0).size == 4  # never drops a learned example


def _result(clean, noisy):
    return noise.NoiseResult.from_labels(clean, noisy, kind="test", num_classes=4)


def test_concentration_says_cbn_is_more_concentrated_only_when_it_is():
    clean = np.repeat(np.arange(4), 30)
    rng = np.random.default_rng(0)
    focused, spread = clean.copy(), clean.copy()
    flip = rng.random(clean.size) < 0.4
    focused[flip] = (clean[flip] + 1) % 4                          # one target class per class
    spread[flip] = (clean[flip] + rng.integers(1, 4, flip.sum())) % 4  # all three others
    got = cbn.concentration({"0.40": _result(clean, focused)}, {"0.40": _result(clean, spread)})["0.40"]
    assert got["holds"] and got["cbn_targets_per_class"] == 1.0 and got["pmd_targets_per_class"] > 2
    swapped = cbn.concentration({"0.40": _result(clean, spread)}, {"0.40": _result(clean, focused)})["0.40"]
    assert not swapped["holds"]
    assert "**does not hold in this run**" in cbn.concentration_markdown({"0.40": swapped})


def _table(n_seeds, sd=0.01):
    cell = lambda m: {"mean": m, "sd": sd if n_seeds > 1 else 0.0, "n_seeds": n_seeds}  # noqa: E731
    return {"ce": {"pmd": {"0.35": cell(0.9), "0.7": cell(0.6)}, "cbn": {"0.35": cell(0.7), "0.7": cell(0.65)}}}


def test_table1_markdown_shows_paper_rows_and_spread_only_where_they_exist():
    from labnoise.experiments.tables import paper_table_percent

    one = table1.table1_markdown(_table(1), paper_table_percent("digits"), dataset="digits")
    assert "±" not in one and "one seed" in one and "reports no digits values" in one and "(paper)" not in one
    assert "| Standard | 90.00 | 70.00 | 60.00 | 65.00 |" in one
    three = table1.table1_markdown(_table(3), paper_table_percent("cifar10"), dataset="cifar10")
    assert "90.00 ± 1.00" in three and "over 3 seeds" in three
    assert "| Standard (paper) | 84.40 | 75.44 | 46.59 | 27.22 |" in three
    status = {"ce": "transcribed", "gce": "not transcribed"}
    t = {**_table(2), "gce": _table(2)["ce"]}
    hundred = table1.table1_markdown(t, paper_table_percent("cifar100"), dataset="cifar100", status=status)
    assert "GCE are not transcribed" in hundred and "| GCE (paper)" not in hundred


def test_gaps_give_the_verdict_and_drop_empty_columns():
    from labnoise.experiments.tables import cbn_harder_than_pmd

    t = _table(1)
    points, rows = table1.gaps(t, cbn_harder_than_pmd(t), {})
    assert points == {"ce": {"0.35": 20.0, "0.7": -5.0}}
    text = table1.gaps_table(rows, headline=False)
    assert "NOT reproduced" in text and "CBN >= PMD" in text and "larger sd" not in text and "paper" not in text
    _, rows3 = table1.gaps(_table(3), cbn_harder_than_pmd(_table(3)), {"ce": {"pmd": {"0.35": 84.4, "0.7": 46.59},
                                                                               "cbn": {"0.35": 75.44, "0.7": 27.22}}})
    text3 = table1.gaps_table(rows3, headline=False)
    assert "larger sd" in text3 and "+8.96" in text3


def test_detector_table_shows_the_spread_only_with_two_or_more_seeds():
    det = {"f1": {"dynacor": {"cbn": 0.5, "pmd": 0.75}}, "f1_sd": {"dynacor": {"cbn": 0.02, "pmd": 0.01}},
           "realised_rate": {"cbn": 0.35, "pmd": 0.35}}
    one = beyond.detector_table(det, ["dynacor"], n_examples=10, encoder="pixels", n_seeds=1)
    assert "±" not in one and "1 seed)" in one and "| DynaCor | 50.0 | 75.0 |" in one
    two = beyond.detector_table(det, ["dynacor"], n_examples=10, encoder="pixels", n_seeds=2)
    assert "50.0 ± 2.0" in two and "2 seeds, mean ± sample sd" in two
    assert beyond.detector_subset(10, None) is None and beyond.detector_subset(10, 20) is None
    s = beyond.detector_subset(100, 10, seed=1)
    assert s.size == 10 and np.array_equal(s, np.unique(s))


def test_simulated_annotators_use_independent_seeded_streams():
    rng = np.random.default_rng(0)
    x, clean = rng.normal(size=(400, 8)).astype(np.float32), np.repeat(np.arange(4), 100)
    a = beyond.simulate_annotators(x, clean, [0.2, 0.2], seed=5, num_classes=4)
    assert a.shape == (400, 2) and np.array_equal(a, beyond.simulate_annotators(x, clean, [0.2, 0.2], seed=5,
                                                                               num_classes=4))
    assert not np.array_equal(a[:, 0], a[:, 1])  # same rate, different annotators
    assert np.allclose((a != clean[:, None]).mean(0), 0.2, atol=0.05)
    # annotator j of seed s is not annotator j+1 of seed s-1 (as it was with seed + j)
    b = beyond.simulate_annotators(x, clean, [0.2, 0.2], seed=4, num_classes=4)
    assert not np.array_equal(b[:, 1], a[:, 0])
