"""benchmarks/_bench.write_json and benchmarks/report.py: the performance page is generated from the JSON tables."""
from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_bench_test_{name}", ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def bench(tmp_path, monkeypatch):
    mod = _load("_bench")
    monkeypatch.setattr(mod, "BENCH_DIR", tmp_path)
    return mod


def test_write_json_has_machine_and_named_rows(bench, tmp_path):
    path = bench.write_json("bench_demo", [{"name": "ours", "seconds": 1.5}, {"name": "theirs", "seconds": 6.0}],
                            title="Demo")
    data = json.loads(path.read_text())
    assert path == tmp_path / "bench_demo.json"
    assert {"cpu", "cores", "gpu", "load_avg_1min", "date_utc"} <= set(data["machine"])
    assert [r["name"] for r in data["rows"]] == ["ours", "theirs"] and data["title"] == "Demo"
    assert not list(tmp_path.glob(".tmp-*"))
    with pytest.raises(ValueError, match="name"):
        bench.write_json("bench_bad", [{"seconds": 1.0}])


def test_page_is_generated_from_the_json_files(bench, tmp_path):
    report = _load("report")
    rows = [{"name": "labnoise", "data": "toy", "n": 50000, "k": 100, "seconds": 7.25},
            {"name": "sklearn", "data": "toy", "n": 50000, "k": 100, "seconds": 43.5}]
    bench.write_json("bench_knn", rows, compare=True, precision="fp32",
                     targets=[{"what": "kNN", "row": {"name": "labnoise", "n": 50000}, "max_seconds": 10.0}])
    machine = json.loads((tmp_path / "bench_knn.json").read_text())["machine"]
    page = report.build(tmp_path)
    knn = page.split("## Exact kNN self-join\n")[1].split("\n## ")[0]
    assert machine["cpu"] in knn and f"{machine['cores']} cores" in knn
    assert "`benchmarks/bench_knn.py`" in knn and "Precision: fp32." in knn
    assert "| labnoise | 7.25 |" in knn and "| sklearn | 43.50 |" in knn
    assert "`labnoise` (7.25 s), 6.0x faster than the slowest, `sklearn`" in knn   # computed from the rows
    assert "**met**" in knn
    # every other benchmark script is listed as having no JSON yet; the page ends with what ran on a GPU
    scripts = sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py") if p.stem != "bench_knn")
    listed = re.search(r"Benchmarks with no JSON yet: (.*)\.\n", page).group(1)
    for s in scripts:
        assert f"`{s}`" in listed
    assert "`bench_knn`" not in listed
    gpu = page.split("## On a GPU")[1]
    assert ("measured without a GPU" in gpu) == (not machine.get("gpu"))


def test_headings_are_short_titles_and_every_script_has_one():
    report = _load("report")
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        t = report.title(script.stem, None, script)
        assert script.stem in report.TITLES and len(t) <= 50, t
    assert report.title("bench_new", None, None) == "bench_new"


def test_every_benchmark_has_committed_json_with_precision_and_cpu_flags():
    """results/bench holds one JSON per benchmark script, each saying which precision it timed and on which
    CPU flags (a bf16 time and an fp32 time are different measurements)."""
    report = _load("report")
    committed = ROOT / "results" / "bench"
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        path = committed / f"{script.stem}.json"
        assert path.exists(), f"no {path.relative_to(ROOT)}: run `python {script.relative_to(ROOT)} --quick`"
        data = json.loads(path.read_text())
        assert "cpu_flags" in data["machine"], f"{path.name}: machine block without cpu_flags (rerun it)"
        assert not report._precision(data).startswith("Precision: not recorded"), f"{path.name}: no precision"


def test_write_json_records_precision_or_says_it_is_missing(bench, capsys):
    data = json.loads(bench.write_json("bench_p", [{"name": "a", "seconds": 1.0}], precision="bf16").read_text())
    assert data["precision"] == "bf16" and "cpu_flags" in data["machine"] and "native_bf16" in data["machine"]
    data = json.loads(bench.write_json("bench_q", [{"name": "a", "seconds": 1.0, "precision": "fp32"}]).read_text())
    assert "precision" not in data and data["rows"][0]["precision"] == "fp32"
    data = json.loads(bench.write_json("bench_r", [{"name": "a", "seconds": 1.0}]).read_text())
    assert data["precision"] == "not stated by the benchmark" and "precision" in capsys.readouterr().err


def test_a_missed_target_and_a_slow_row_are_reported_as_such(bench, tmp_path):
    report = _load("report")
    bench.write_json("bench_knn", [{"name": "labnoise", "n": 50000, "seconds": 33.7}],
                     targets=[{"what": "kNN", "row": {"name": "labnoise", "n": 50000}, "max_seconds": 10.0},
                              {"what": "kNN", "row": {"name": "labnoise", "n": 99}, "max_seconds": 10.0}])
    page = report.build(tmp_path)
    assert "**not met**, 33.70 s" in page and "not measured in this run" in page


def test_a_later_folder_wins_and_committed_results_are_read(bench, tmp_path):
    report = _load("report")
    committed, latest = tmp_path / "committed", tmp_path / "latest"
    for d, secs in ((committed, 9.0), (latest, 4.0)):
        d.mkdir()
        (d / "bench_knn.json").write_text(json.dumps({"machine": {"cpu": "x"}, "rows": [{"name": "labnoise",
                                                                                          "seconds": secs}]}))
    (committed / "bench_detect.json").write_text(json.dumps({"machine": {"cpu": "x"},
                                                             "rows": [{"name": "dynacor", "seconds": 300.0}]}))
    page = report.build([committed, latest])
    assert "| labnoise | 4.00 |" in page and "| labnoise | 9.00 |" not in page
    assert "| dynacor | 300 |" in page


def test_the_machine_line_reads_both_ways_of_recording_cpu_flags():
    report = _load("report")
    as_dict = report.describe_machine({"cpu": "x", "cpu_flags": {"avx512_bf16": True, "amx_bf16": False}})
    assert "flags avx512_bf16" in as_dict and "amx_bf16" not in as_dict
    assert "flags avx2" in report.describe_machine({"cpu": "x", "cpu_flags": ["avx2"]})
    assert "CPU flags not recorded" in report.describe_machine({"cpu": "x"})
    assert report._precision({"machine": {"precision": "bf16"}, "rows": []}) == "Precision: bf16."

