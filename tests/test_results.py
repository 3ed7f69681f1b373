"""results.json: every key a reader or the book relies on, written atomically, with no builder path printed."""
import json

from labnoise.results import Results, commit, machine, peak_memory_mb


def test_results_json_has_every_key_and_records_time_and_memory(tmp_path, capsys):
    run = Results("02_cluster_based_noise", {"profile": "smoke", "seed": 0}, path=tmp_path / "r.json")
    with run.timer("step"):
        sum(range(1000))
    with run.timer("step"):  # timers accumulate
        pass
    run.metrics["acc"] = 0.5
    assert run.save() is None
    out = capsys.readouterr().out
    assert "r.json" in out and str(tmp_path) not in out
    d = json.loads((tmp_path / "r.json").read_text())
    assert set(d) == {"chapter", "profile", "parameters", "metrics", "timings_s", "peak_memory_mb", "commit",
                      "machine", "precision", "versions"}
    assert d["profile"] == "smoke" and d["metrics"] == {"acc": 0.5}
    assert d["timings_s"]["total"] >= d["timings_s"]["step"] >= 0
    assert d["peak_memory_mb"]["rss"] > 1          # a Python process holds more than a megabyte
    assert d["machine"]["cpu_count"] >= 1
    assert d["precision"]["requested"] is None and d["precision"]["resolved"] is None  # methods' own default
    assert d["precision"]["auto_resolves_to"] in ("fp32", "bf16", "fp16")
    assert {"avx512_bf16", "amx_bf16", "native_bf16"} <= set(d["precision"]["cpu_flags"])
    assert not list(tmp_path.glob(".tmp-*"))


def test_helpers_return_plain_json():
    json.dumps({"m": machine(), "p": peak_memory_mb(), "c": commit()})


def test_results_record_the_resolved_precision(tmp_path, monkeypatch):
    from labnoise import _torch

    monkeypatch.setattr(_torch, "cpu_has_bf16", lambda: False)
    d = Results("x", {"precision": "auto", "device": "cpu"}, path=tmp_path / "r.json").to_dict()["precision"]
    assert d["requested"] == "auto" and d["resolved"] == "fp32" and d["device"] == "cpu"
    assert d["cpu_flags"]["native_bf16"] is False
    monkeypatch.setattr(_torch, "cpu_has_bf16", lambda: True)
    d = Results("x", {"precision": "auto", "device": "cpu"}, path=tmp_path / "r.json").to_dict()["precision"]
    assert d["resolved"] == "bf16"
