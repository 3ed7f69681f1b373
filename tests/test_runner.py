"""The papermill runner and the CLI: parameters, results.json, failing cells, unknown names."""
import json
import os
import subprocess
import sys

import pytest

from labnoise import runner
from labnoise.profiles import config


def test_profile_config_defaults_and_overrides():
    smoke = config("00_setup_data_encoders", "smoke")
    assert smoke.dataset == "digits" and smoke.encoders == ["pixels"]
    off = config("00_setup_data_encoders", "offline", knn_k=5, dataset=None)
    assert off.dataset == "cifar10" and off.knn_k == 5 and off.encoders == ["pixels", "efficientnet-lite0"]
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        config("00_setup_data_encoders", "huge")
    with pytest.raises(ValueError, match="unknown chapter"):
        config("99_nothing", "smoke")


@pytest.mark.parametrize("text,value", [("3", 3), ("0.5", 0.5), ("[1, 2]", [1, 2]), ("None", None),
                                        ("true", True), ("cifar10", "cifar10"), ('"x y"', "x y")])
def test_parse_value(text, value):
    assert runner.parse_value(text) == value


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "labnoise.cli", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_run_writes_results_json(tmp_path):
    r = _cli("run", "00_setup_data_encoders", "--profile", "smoke", "-p", "knn_k", "3", "-p", "tsne_points", "300",
             "--out", str(tmp_path), "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path / "00_setup_data_encoders.results.json").read_text())
    assert {"chapter", "profile", "parameters", "metrics", "timings_s", "versions"} <= set(res)
    assert res["profile"] == "smoke" and res["parameters"]["knn_k"] == 3
    assert res["metrics"]["knn_accuracy"]["pixels"] > 90  # digits, raw pixels, kNN-3
    assert (tmp_path / "00_setup_data_encoders.ipynb").exists()
    assert not list(tmp_path.glob("*.partial.*"))  # a successful run moves its partial files into place
    assert "without encryption" not in r.stderr and "KeyboardInterrupt" not in r.stderr


@pytest.mark.slow
def test_failing_cell_gives_nonzero_exit_and_the_error(tmp_path):
    # values that pass the checks made before any kernel starts but fail inside it: CIFAR-10 from an empty
    # data root, offline (the conftest's LABNOISE_OFFLINE) -- the data-loading cell fails, naming what is missing
    empty = tmp_path / "empty-root"
    empty.mkdir()
    r = _cli("run", "00", "--profile", "smoke", "-p", "dataset", "cifar10", "-p", "data_root", str(empty),
             "--out", str(tmp_path), "--quiet")
    assert r.returncode == 1
    assert "failed in cell" in r.stderr and "cifar" in r.stderr.lower()
    assert not (tmp_path / "00_setup_data_encoders.results.json").exists()


def test_unknown_chapter_profile_parameter(tmp_path):
    r = _cli("run", "42_nothing", "--out", str(tmp_path))
    assert r.returncode == 1 and "unknown chapter '42_nothing'" in r.stderr
    r = _cli("run", "00", "-p", "knn_kk", "3", "--out", str(tmp_path))
    assert r.returncode == 1 and "has no parameter(s) knn_kk" in r.stderr
    r = _cli("run", "00", "--profile", "huge")
    assert r.returncode == 2 and "invalid choice" in r.stderr


# ---- the book step: profile banner and the execution cache ------------------------------------------------------
def test_publishable_copy_puts_the_profile_banner_under_the_title(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("run.save()")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                           text="results written to 03_pmd_vs_cbn.partial.results.json\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# 3. A title\n\nIntro."), code]
    nbformat.write(nb, tmp_path / "in.ipynb")
    banner = runner.profile_banner("03_pmd_vs_cbn", "smoke")
    runner._publishable_copy(tmp_path / "in.ipynb", tmp_path / "03_pmd_vs_cbn.ipynb", banner=banner)
    out = nbformat.read(tmp_path / "03_pmd_vs_cbn.ipynb", as_version=4)
    assert out.cells[1].outputs[0]["text"] == "results written to 03_pmd_vs_cbn.results.json\n"
    first = out.cells[0].source.split("\n")
    assert first[0] == "# 3. A title" and first[2] == banner and "Intro." in first
    assert "Smoke profile" in banner and "<results-03-pmd-vs-cbn>" in banner
    assert "not committed yet" in runner.profile_banner("03_pmd_vs_cbn", "smoke", have_offline=False)
    assert "Offline profile" in runner.profile_banner("03_pmd_vs_cbn", "offline")


def test_chapter_cache_key_covers_notebook_parameters_profile_and_code(tmp_path):
    nb = tmp_path / "x.ipynb"
    nb.write_text("{}")
    key = runner.chapter_cache_key("00_setup_data_encoders", "smoke", {"seed": 1}, notebook=nb)
    assert key == runner.chapter_cache_key("00_setup_data_encoders", "smoke", {"seed": 1}, notebook=nb)
    assert key != runner.chapter_cache_key("00_setup_data_encoders", "smoke", {"seed": 2}, notebook=nb)
    assert key != runner.chapter_cache_key("00_setup_data_encoders", "offline", {"seed": 1}, notebook=nb)
    assert key["labnoise_code_sha256"] and key["labnoise_version"]
    nb.write_text('{"changed": 1}')
    assert key != runner.chapter_cache_key("00_setup_data_encoders", "smoke", {"seed": 1}, notebook=nb)


def test_a_chapter_is_up_to_date_only_with_its_outputs_and_the_same_key(tmp_path):
    name = "00_setup_data_encoders"
    key = runner.chapter_cache_key(name, "smoke")
    assert not runner._up_to_date(name, tmp_path, key)
    (tmp_path / f"{name}.ipynb").write_text("{}")
    (tmp_path / f"{name}.results.json").write_text("{}")
    (tmp_path / f"{name}.cache-key.json").write_text(json.dumps(key))
    assert runner._up_to_date(name, tmp_path, key)
    assert not runner._up_to_date(name, tmp_path, runner.chapter_cache_key(name, "smoke", {"seed": 3}))
    (tmp_path / f"{name}.results.json").unlink()
    assert not runner._up_to_date(name, tmp_path, key)


def test_book_skips_unchanged_chapters_and_reruns_changed_ones(tmp_path, monkeypatch):
    """build_book executes a chapter only when its cache key changed (or rerun=True); it records the wall time."""
    calls = []

    def fake_run(name, profile, parameters, out_dir, cell_timeout=None):
        calls.append(name)
        (out_dir / f"{name}.ipynb").write_text("{}")
        (out_dir / f"{name}.results.json").write_text("{}")

    monkeypatch.setattr(runner, "run_chapter", fake_run)
    monkeypatch.setattr(runner, "chapters", lambda: ["00_setup_data_encoders", "01_memorization"])
    class Built(Exception):
        pass

    def stop(*a, **k):
        raise Built  # the runs are what this test checks; the HTML step is not needed

    monkeypatch.setattr(runner, "_publishable_copy", stop)
    runs = tmp_path / "runs"
    runs.mkdir()
    for _ in range(2):
        with pytest.raises(Built):
            runner.build_book("smoke", runs_dir=runs, build_dir=tmp_path / "b", collect_results=False, jobs=1)
    assert calls == ["00_setup_data_encoders", "01_memorization"]  # the second build executed nothing
    with pytest.raises(Built):
        runner.build_book("smoke", runs_dir=runs, build_dir=tmp_path / "b", parameters={"seed": 1},
                          collect_results=False, jobs=1)
    assert len(calls) == 4
    with pytest.raises(Built):
        runner.build_book("smoke", runs_dir=runs, build_dir=tmp_path / "b", parameters={"seed": 1}, rerun=True,
                          collect_results=False, jobs=1)
    assert len(calls) == 6


def test_book_runs_chapters_two_at_a_time_and_07_after_the_others(tmp_path, monkeypatch):
    """jobs=2: each chapter in its own `labnoise run` process, at most two at once, parameters passed as
    literals; 07 (which reads the others' results) runs after them; a failure is reported with its log and
    leaves no cache key, while the other chapters still finish and keep theirs."""
    started, live, peak, inproc = [], set(), [0], []

    class FakeProc:
        def __init__(self, cmd, stdout=None, stderr=None, cwd=None):
            self.name = cmd[cmd.index("run") + 1]
            assert cmd[cmd.index("-p") + 1:cmd.index("-p") + 3] == ["seed", "1"]
            started.append(self.name)
            live.add(self.name)
            peak[0] = max(peak[0], len(live))
            self.polls = 2
            stdout.write(f"log of {self.name}\n")

        def poll(self):
            self.polls -= 1
            if self.polls > 0:
                return None
            live.discard(self.name)
            self.returncode = 3 if self.name == "02_cluster_based_noise" else 0
            return self.returncode

    def fake_run(name, profile, parameters, out_dir, cell_timeout=None):
        assert not live, "07 must start after the others finished"
        inproc.append(name)

    monkeypatch.setattr(runner.subprocess, "Popen", FakeProc)
    monkeypatch.setattr(runner, "run_chapter", fake_run)
    monkeypatch.setattr(runner.time, "sleep", lambda s: None)
    todo = [(n, {"k": n}) for n in ("00_setup_data_encoders", "07_beyond", "01_memorization",
                                    "02_cluster_based_noise")]
    with pytest.raises(runner.ChapterFailed, match="(?s)02_cluster_based_noise failed.*log of 02"):
        runner._run_chapters(todo, "smoke", {"seed": 1}, tmp_path, None, 2)
    assert started == ["00_setup_data_encoders", "01_memorization", "02_cluster_based_noise"] and peak[0] == 2
    assert inproc == []                                   # a failure stops before 07
    assert sorted(p.name for p in tmp_path.glob("*.cache-key.json")) == [
        "00_setup_data_encoders.cache-key.json", "01_memorization.cache-key.json"]
    todo = [t for t in todo if t[0] != "02_cluster_based_noise"]
    runner._run_chapters(todo, "smoke", {"seed": 1}, tmp_path, None, 2)
    assert inproc == ["07_beyond"] and (tmp_path / "07_beyond.cache-key.json").exists()
    with pytest.raises(ValueError, match="positive integer"):
        runner.book_jobs(0)
    monkeypatch.setenv("LABNOISE_BOOK_JOBS", "3")
    assert runner.book_jobs() == 3 and runner.book_jobs(1) == 1
    assert set(runner.READS_OTHER_CHAPTERS) <= set(runner.chapters())


def test_book_starts_the_longest_chapters_first_and_reports_each_chapters_time(tmp_path, monkeypatch):
    """Chapters start longest first by their last run's ``timings_s.total`` (unknown ones first of all), so the
    two long ones overlap; 07 runs after them with ``$LABNOISE_WORKERS`` set to the free slots; every chapter's
    wall time comes back."""
    from labnoise._io import save_json

    for name, total in (("00_setup_data_encoders", 10.0), ("01_memorization", 300.0), ("03_pmd_vs_cbn", 90.0)):
        save_json(tmp_path / f"{name}.results.json", {"timings_s": {"total": total}})
    (tmp_path / "04_snls.results.json").write_text("{not json")          # unreadable: treated as unknown
    started, workers_in_07 = [], []

    class FakeProc:
        def __init__(self, cmd, stdout=None, stderr=None, cwd=None):
            started.append(cmd[cmd.index("run") + 1])
            self.returncode = 0

        def poll(self):
            return 0

    def fake_run(name, profile, parameters, out_dir, cell_timeout=None):
        workers_in_07.append(os.environ.get("LABNOISE_WORKERS"))

    monkeypatch.delenv("LABNOISE_WORKERS", raising=False)
    monkeypatch.setattr(runner.subprocess, "Popen", FakeProc)
    monkeypatch.setattr(runner, "run_chapter", fake_run)
    monkeypatch.setattr(runner.time, "sleep", lambda s: None)
    names = ["00_setup_data_encoders", "01_memorization", "02_cluster_based_noise", "03_pmd_vs_cbn", "04_snls",
             "07_beyond"]
    times = runner._run_chapters([(n, {}) for n in names], "smoke", None, tmp_path, None, 2)
    assert started == ["02_cluster_based_noise", "04_snls", "01_memorization", "03_pmd_vs_cbn",
                       "00_setup_data_encoders"]
    assert workers_in_07 == ["2"] and "LABNOISE_WORKERS" not in os.environ
    assert set(times) == set(names) and all(t >= 0 for t in times.values())
    assert runner.expected_seconds("01_memorization", "smoke", tmp_path) == 300.0
    assert runner.expected_seconds("05_lend", "smoke", tmp_path) is None
