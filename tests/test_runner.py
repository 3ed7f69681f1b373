"""The papermill runner and the CLI: parameters, results.json, failing cells, unknown names."""
import json
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
    r = _cli("run", "00", "--profile", "smoke", "-p", "dataset", "mnist", "--out", str(tmp_path), "--quiet")
    assert r.returncode == 1
    assert "unknown dataset 'mnist'" in r.stderr and "failed in cell" in r.stderr
    assert not (tmp_path / "00_setup_data_encoders.results.json").exists()


def test_unknown_chapter_profile_parameter(tmp_path):
    r = _cli("run", "42_nothing", "--out", str(tmp_path))
    assert r.returncode == 1 and "unknown chapter '42_nothing'" in r.stderr
    r = _cli("run", "00", "-p", "knn_kk", "3", "--out", str(tmp_path))
    assert r.returncode == 1 and "has no parameter(s) knn_kk" in r.stderr
    r = _cli("run", "00", "--profile", "huge")
    assert r.returncode == 2 and "invalid choice" in r.stderr
