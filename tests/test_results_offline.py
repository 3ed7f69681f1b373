"""results/offline (the committed offline runs), the "Results at a glance" page, and chapter 07's library."""
import base64
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from labnoise import glance
from labnoise.experiments import beyond
from labnoise.runner import chapters

ROOT = Path(__file__).resolve().parent.parent
# a 1x1 PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _fake_run(folder: Path, name: str, metrics: dict, *, profile="offline", pngs=3, tag_second=False):
    folder.mkdir(parents=True, exist_ok=True)
    res = {"chapter": name, "profile": profile, "metrics": metrics,
           "parameters": {"results_path": str(folder.resolve() / f"{name}.partial.results.json")}, "timings_s": {"total": 120.0},
           "commit": "abc123", "machine": {"cpu": "test cpu", "cpu_count": 2}, "versions": {}}
    (folder / f"{name}.results.json").write_text(json.dumps(res))
    nb = nbformat.v4.new_notebook()
    for k in range(pngs):
        c = nbformat.v4.new_code_cell(f"plot{k}()")
        c.outputs = [nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(PNG + bytes([k])).decode()})]
        if tag_second and k == 1:
            c.metadata["tags"] = ["keep-figure"]
        nb.cells.append(c)
    nbformat.write(nb, folder / f"{name}.ipynb")


def test_collect_copies_results_and_the_kept_figures(tmp_path):
    a, b = chapters()[:2]
    runs, dest = tmp_path / "runs", tmp_path / "results"
    _fake_run(runs, a, {"x": 1})
    _fake_run(runs, b, {"y": 2}, tag_second=True)
    (dest).mkdir()
    (dest / f"{a}.fig9.png").write_bytes(b"stale")
    done = glance.collect(runs, dest)
    assert set(done) == {a, b}
    copied = json.loads((dest / f"{a}.results.json").read_text())
    assert copied["metrics"] == {"x": 1}
    assert copied["parameters"]["results_path"] == f"{a}.results.json"  # no builder path in the repository
    assert sorted(p.name for p in dest.glob(f"{a}.fig*.png")) == [f"{a}.fig1.png", f"{a}.fig2.png"]  # first 2
    assert (dest / f"{a}.fig1.png").read_bytes() == PNG + b"\x00"
    assert [p.read_bytes() for p in dest.glob(f"{b}.fig*.png")] == [PNG + b"\x01"]  # only the tagged one


def test_collect_regenerates_the_course_timing_table(tmp_path):
    """The course outline's timing table is rebuilt from the collected results: a chapter's new total shows."""
    a = chapters()[0]
    dest = tmp_path / "results"
    _fake_run(tmp_path / "runs", a, {"x": 1})
    glance.collect(tmp_path / "runs", dest)
    (dest / glance.BOOK_TIMING).write_text(json.dumps({"chapters_s": {a: 600.0}, "jobs": 2, "wall_s": 900.0}))
    page = tmp_path / "course.md"
    page.write_text(f"intro\n{glance.COURSE_BEGIN}\nold\n{glance.COURSE_END}\nend\n")
    text = glance.refresh_course_page(page, dest)
    assert page.read_text() == text and "old" not in text and text.startswith("intro\n") and text.endswith("end\n")
    assert f"| [{a}](../notebooks/{a}.ipynb) | 10.0 | 2.0 |" in text and "| whole book, 2 chapters at a time | 15.0 |" in text


def test_collect_refuses_another_profile_and_big_files(tmp_path, monkeypatch):
    name = chapters()[0]
    _fake_run(tmp_path / "runs", name, {"x": 1}, profile="smoke")
    with pytest.raises(ValueError, match="profile 'smoke'"):
        glance.collect(tmp_path / "runs", tmp_path / "out")
    _fake_run(tmp_path / "runs", name, {"x": list(range(100))})
    monkeypatch.setattr(glance, "MAX_JSON_BYTES", 100)
    with pytest.raises(ValueError, match="small"):
        glance.collect(tmp_path / "runs", tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="run the chapters first"):
        glance.collect(tmp_path / "nothing", tmp_path / "out")


def test_glance_page_renders_committed_runs_and_names_the_missing_chapters(tmp_path):
    names = chapters()
    assert "07_beyond" in names
    det = {"dynacor": {"cbn": 0.4321, "pmd": 0.7, "human": 0.8}, "simifeat": {"cbn": 0.5, "pmd": 0.9, "human": 0.95}}
    sets = {k: {"realised_rate": 0.35, "source": "x"} for k in ("cbn", "pmd", "human")}
    _fake_run(tmp_path, "07_beyond", {"detector_f1": det, "label_sets": sets,
                                      "crowdlab": {"consensus_accuracy": {"crowdlab": 0.9123, "majority_vote": 0.8}},
                                      "decision_guide": ["A generated sentence."]})
    glance.collect(tmp_path, tmp_path / "out", chapters=["07_beyond"])
    page = glance.glance_markdown(tmp_path / "out", chapters=names)
    for n in names:
        assert f"({glance.anchor(n)})=" in page
    assert f"No offline run committed yet for {len(names) - 1} of {len(names)} chapters" in page
    assert "43.2" in page and "91.23" in page and "- A generated sentence." in page
    assert "07_beyond.fig1.png" in page and "abc123" in page
    assert "took" not in page  # no book timing collected: no wall-time sentence
    (tmp_path / "out" / glance.BOOK_TIMING).write_text(json.dumps({"wall_s": 600.0, "executed": ["07_beyond"],
                                                                    "up_to_date": []}))
    assert "took 10.0 min of wall time (chapters executed: 07_beyond" in glance.glance_markdown(tmp_path / "out")
    (tmp_path / "out" / glance.BOOK_TIMING).write_text(json.dumps({"wall_s": 600.0, "jobs": 2, "executed": ["07_beyond"],
                                                                    "chapters_s": {"07_beyond": 90.0}}))
    page = glance.glance_markdown(tmp_path / "out")
    assert "2 chapters at a time" in page and "| chapter | time |" in page
    # the summary's chapter time is the section's (timings_s.total, 120 s), not the book's process time (90 s)
    assert "| 7. Beyond the papers | 2.0 min |" in page and ", 2.0 min." in page and "1.5 min" not in page


def test_metric_key_drift_is_found_unless_declared():
    assert glance.metric_key_drift("c", {"a": 1, "b": 2}, {"a": 0, "b": 0}) == []
    drift = glance.metric_key_drift("c", {"a": 1, "new": 2}, {"a": 0, "old": 0})
    assert any("'new' in the smoke run" in d for d in drift) and any("'old' in results/offline" in d for d in drift)
    assert glance.metric_key_drift("c", {"a": 1, "new": 2}, {"a": 0, "old": 0},
                                   declared={"smoke": ["new"], "offline": ["old"]}) == []


def test_a_data_dependent_key_is_compared_only_where_the_data_root_has_its_files():
    """00 writes cifar10n_noise_rates only when CIFAR-10N is in the data root: without the files the smoke run
    cannot have it (no drift); with them it must."""
    declared = {"needs_data": {"rates": "cifar10n"}}
    committed = {"a": 0, "rates": {}}
    without = glance.metric_key_drift("c", {"a": 1}, committed, declared=declared, has_data=lambda g: False)
    assert without == []
    with_files = glance.metric_key_drift("c", {"a": 1}, committed, declared=declared, has_data=lambda g: True)
    assert with_files == ["c: 'rates' in results/offline but not in the smoke run"]
    assert glance.metric_key_drift("c", {"a": 1, "rates": {}}, committed, declared=declared,
                                   has_data=lambda g: True) == []
    for name, keys in glance.profile_specific_keys().items():  # the declared groups are real data groups
        from labnoise.data import GROUPS

        assert set((keys.get("needs_data") or {}).values()) <= set(GROUPS), name


def test_committed_offline_results_are_small_offline_files_of_known_chapters():
    committed = glance.load_committed()
    for name, res in committed.items():
        assert name in chapters(), f"results/offline/{name}.results.json: no such chapter"
        assert res["profile"] == "offline" and res["chapter"] == name
        assert {"commit", "machine", "timings_s", "metrics"} <= set(res)
        assert (glance.results_dir() / f"{name}.results.json").stat().st_size <= glance.MAX_JSON_BYTES
    declared = glance.profile_specific_keys()
    assert set(declared) <= set(chapters())


@pytest.mark.slow
@pytest.mark.parametrize("name", chapters())
def test_smoke_run_and_committed_offline_results_have_the_same_metric_keys(name, smoke_book):
    """The smoke run (built by the session's smoke book) and results/offline must write the same top-level
    metrics keys, except those declared profile-specific in results/offline/profile_specific_keys.json, and
    those declared data-dependent (``needs_data``) where this machine's data root lacks their files."""
    committed = glance.load_committed()
    if name not in committed:
        pytest.skip(f"no results/offline/{name}.results.json committed yet")
    smoke = json.loads((ROOT / "_build" / "runs" / "smoke" / f"{name}.results.json").read_text())
    drift = glance.metric_key_drift(name, smoke["metrics"], committed[name]["metrics"],
                                    declared=glance.profile_specific_keys().get(name))
    assert not drift, ("results.json keys drifted from the committed offline run (rerun it offline and "
                       "`labnoise results collect`, or declare the key profile-specific): " + "; ".join(drift))


def test_committed_glance_page_is_current():
    """book/results.md is what `labnoise results collect` renders from the committed files (the build
    regenerates it anyway; this keeps the copy in the repository honest)."""
    page = ROOT / "book" / "results.md"
    assert page.read_text() == glance.glance_markdown(), "run `labnoise results collect` to regenerate book/results.md"


# ---- chapter 07's library ----------------------------------------------------------------------------------------
def test_thin_to_rate_keeps_a_random_subset_of_the_mistakes():
    rng = np.random.default_rng(0)
    clean = rng.integers(0, 10, 10000)
    noisy = clean.copy()
    wrong = rng.random(clean.size) < 0.4
    noisy[wrong] = (clean[wrong] + rng.integers(1, 10, wrong.sum())) % 10
    y = beyond.thin_to_rate(noisy, clean, 0.35, seed=1)
    assert np.mean(y != clean) == pytest.approx(0.35, abs=1e-4)
    kept = y != clean
    assert np.all(y[kept] == noisy[kept]) and not np.any(kept & ~wrong)  # only original mistakes, unchanged
    assert np.array_equal(y, beyond.thin_to_rate(noisy, clean, 0.35, seed=1))
    with pytest.raises(ValueError, match="noisier set"):
        beyond.thin_to_rate(noisy, clean, 0.5)


def test_majority_vote_and_crowdlab_beat_the_worst_annotator_and_rank_annotators(one_thread):
    from _toy import blobs

    x, clean = blobs(1500, 0, c=5)
    rng = np.random.default_rng(3)
    rates = [0.1, 0.3, 0.5]
    A = np.stack([np.where(rng.random(clean.size) < r, (clean + rng.integers(1, 5, clean.size)) % 5, clean)
                  for r in rates], axis=1)
    mv = beyond.majority_vote(A, seed=0)
    assert np.mean(mv == clean) > np.mean(A[:, 2] == clean)
    out = beyond.crowdlab(A, x, clean, annotator_names=["good", "mid", "bad"], num_classes=5, folds=3, epochs=5,
                          hidden=(64,), seed=0)
    assert out["ranking_by_quality"] == ["good", "mid", "bad"] == out["ranking_by_accuracy"]
    assert out["consensus_accuracy"]["crowdlab"] > out["consensus_accuracy"]["majority_vote"]
    assert out["quality_auroc"] > 0.5


def test_decision_guide_sentences_follow_the_metrics():
    sets = {k: {"realised_rate": 0.35} for k in ("cbn", "pmd", "human")}
    hard = {"label_sets": sets, "detector_f1": {"dynacor": {"cbn": 0.3, "pmd": 0.8, "human": 0.9},
                                                "aum": {"cbn": 0.2, "pmd": 0.7, "human": 0.6}}}
    easy = {"label_sets": sets, "detector_f1": {"dynacor": {"cbn": 0.9, "pmd": 0.5, "human": 0.6},
                                                "aum": {"cbn": 0.8, "pmd": 0.4, "human": 0.3}}}
    g_hard, g_easy = " ".join(beyond.decision_guide(hard)), " ".join(beyond.decision_guide(easy))
    assert "hardest noise to detect here is CBN" in g_hard and "2 of 2 detectors score lower on CBN" in g_hard
    assert "hardest noise to detect here is human" in g_easy and "0 of 2 detectors" in g_easy
    assert "DynaCor (F1 30.0%)" in g_hard
    crowd = {"crowdlab": {"annotators": ["a", "b"], "consensus_accuracy": {"crowdlab": 0.8, "majority_vote": 0.9}}}
    assert "does not beat a plain vote" in " ".join(beyond.decision_guide(crowd))
    assert "this chapter's numbers only" in " ".join(beyond.decision_guide(crowd))


def test_load_other_results_reads_same_profile_files_only(tmp_path):
    for name, prof in (("03_pmd_vs_cbn", "smoke"), ("06_dynacor", "offline")):
        (tmp_path / f"{name}.results.json").write_text(json.dumps({"chapter": name, "profile": prof, "metrics": {}}))
    (tmp_path / "07_beyond.partial.results.json").write_text("{}")
    got = beyond.load_other_results("auto", tmp_path / "07_beyond.partial.results.json", profile="smoke",
                                    exclude="07_beyond")
    assert list(got) == ["03_pmd_vs_cbn"]
    assert beyond.load_other_results(None, tmp_path / "x.json", profile="smoke", exclude="07_beyond") == {}


def test_glance_sections_of_02_and_06_are_read_from_the_metrics():
    from labnoise.glance import _section_02, _section_06

    d = lambda rate, t, s: {"realised_rate": rate, "targets_per_class_mean": t, "top2_share": s}  # noqa: E731
    m02 = {"cbn": {"0.35": d(0.3512, 6.3, 0.93)}, "pmd": {"0.35": d(0.35, 9.0, 0.67)},
           "reference": {"cbn": {"0.35": d(0.349, 4.2, 0.925)}},
           "cbn_more_concentrated": {"0.35": {"holds": False}}}
    text = "\n".join(_section_02(m02))
    assert "| CBN | 0.35 | 35.1 | 6.3 (4.2) | 93.0 (92.5) |" in text and "| PMD | 0.35 | 35.0 | 9.0 | 67.0 |" in text
    assert "rate 0.35 no." in text and _section_02({}) == []
    m06 = {"f1": {"dynacor": {"cifar10/sym-0.6": {"mean": 0.412}}, "aum": {"cifar10/sym-0.6": {"mean": 0.75}}},
           "avg_f1": {"dynacor": 0.412, "aum": 0.75},
           "claim_dynacor_above_every_baseline": {"holds": False, "dynacor": 0.412, "best_baseline": "aum",
                                                  "best_baseline_f1": 0.75}}
    text = "\n".join(_section_06(m06))
    assert "does not hold here: DynaCor 41.2%, the best baseline (aum) 75.0%." in text and "| 98.0 |" in text


def test_glance_tables_say_how_many_seeds_and_one_run_sentences_say_which_run():
    from labnoise.glance import _one_run, _section_03, _section_05

    one = {"ce": {"pmd": {"0.35": {"mean": 0.7, "sd": 0.0, "n_seeds": 1}}}}
    three = {"ce": {"pmd": {"0.35": {"mean": 0.7, "sd": 0.01, "n_seeds": 3}}}}
    t1, t3 = "\n".join(_section_03({"table": one})), "\n".join(_section_03({"table": three}))
    assert "±" not in t1 and "one seed" in t1 and "| Standard | 70.00 |" in t1
    assert "over 3 seeds" in t3 and "| Standard | 70.00 ± 1.00 |" in t3
    t5 = "\n".join(_section_05({"final_acc": {"ce": {"symmetric": {"0.4": {"mean": 0.75, "sd": 0.01, "n": 3}}}}}))
    assert "mean over 3 seeds" in t5
    m = {"alpha_sweep": {"setting": "cifar10/sym-0.6", "seed": 0}}
    s = _one_run("The alignment weight matters (F1 79.6%).", m, 3)
    assert s.startswith("One run (cifar10/sym-0.6, seed 0; the table gives means over 3 seeds): the alignment")
    assert _one_run("The alignment weight matters.", m, 1) == "The alignment weight matters."
    every = "Eq. 9 kept the untrained encoder (epoch 0) in 24 of 25 runs."   # counts every run: left as it is
    assert _one_run(every, m, 5) == every
    assert _one_run("Flagging: a; b; ....", m, 3).endswith("; the rest are in the file's `flagged_fraction`.")
    page = glance.glance_markdown()
    assert "; ...." not in page and "(1 seeds)" not in page
