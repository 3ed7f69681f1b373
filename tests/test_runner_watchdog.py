"""The runner never hangs: cell timeouts, the lost-reply watchdog, a killed kernel, last-good outputs kept,
and ``-p`` values checked against the parameters cell before a kernel starts. Tiny notebooks, seconds each."""
import json
import os
import subprocess
import sys
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from labnoise import _kernel, runner

PARAMS = 'profile = "smoke"\nresults_path = "results.json"\nseed = 0\nrates = [0.5]\nlr = 0.1\nname = None\n'
SAVE = 'import json\njson.dump({"seed": seed, "rates": rates}, open(results_path, "w"))'


def _project(tmp_path, chapter, *cells):
    """A project folder with notebooks/CHAPTER.ipynb: a parameters cell, ``cells``, then a results cell."""
    nb = new_notebook(cells=[new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
                             *[new_code_cell(c) for c in cells], new_code_cell(SAVE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    path = tmp_path / "notebooks" / f"{chapter}.ipynb"
    nbformat.write(nb, path)
    return path


def _cli(project, *args):
    env = dict(os.environ, LABNOISE_PROJECT=str(project))
    return subprocess.run([sys.executable, "-m", "labnoise.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _last_good(out, chapter):
    """Pretend an earlier run succeeded: files the failed run must leave as they are."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{chapter}.ipynb").write_text("LAST GOOD NOTEBOOK")
    (out / f"{chapter}.results.json").write_text('{"last": "good"}')


def _assert_last_good_untouched(out, chapter):
    assert (out / f"{chapter}.ipynb").read_text() == "LAST GOOD NOTEBOOK"
    assert (out / f"{chapter}.results.json").read_text() == '{"last": "good"}'
    assert not (out / f"{chapter}.partial.results.json").exists()


def test_cell_timeout_stalls_with_message_partial_notebook_and_last_good_kept(tmp_path):
    _project(tmp_path, "90_sleepy", 'print("before the sleep")', "import time\ntime.sleep(1000)")
    out = tmp_path / "out"
    _last_good(out, "90_sleepy")
    t = time.monotonic()
    r = _cli(tmp_path, "run", "90_sleepy", "--cell-timeout", "3", "--out", str(out), "--quiet")
    elapsed = time.monotonic() - t
    assert r.returncode == 1, r.stderr[-3000:]
    assert elapsed < 60
    assert "chapter 90_sleepy (smoke) stalled in cell" in r.stderr
    assert "'import time'" in r.stderr and "timeout of 3" in r.stderr
    _assert_last_good_untouched(out, "90_sleepy")
    partial = nbformat.read(out / "90_sleepy.partial.ipynb", as_version=4)
    texts = "".join(o.get("text", "") for c in partial.cells for o in c.get("outputs", []))
    assert "before the sleep" in texts  # the cells that finished are in the partial notebook
    assert "KeyboardInterrupt caught in kernel" not in r.stderr and "without encryption" not in r.stderr


def _drop_replies(monkeypatch, marker, iopub=False):
    """The kernel's execute_reply to a cell containing ``marker`` never reaches the runner (a lost reply); with
    ``iopub``, nothing the kernel publishes for it does either (as if the request were never read)."""
    original = _kernel.WatchedClient._async_poll_for_reply

    async def poll(self, msg_id, cell, *args):
        if marker in cell.source:
            channel = self.kc.shell_channel
            get = channel.get_msg

            async def lossy(*a, **k):
                msg = await get(*a, **k)
                if msg["parent_header"].get("msg_id") == msg_id:
                    raise _kernel.Empty
                return msg

            channel.get_msg = lossy
            try:
                return await original(self, msg_id, cell, *args)
            finally:
                channel.get_msg = get
        return await original(self, msg_id, cell, *args)

    if iopub:
        def process_message(self, msg, *args, **kwargs):
            if marker in self.nb.cells[args[1] if len(args) > 1 else kwargs["cell_index"]].source:
                return None
            return _kernel.PapermillNotebookClient.process_message(self, msg, *args, **kwargs)

        monkeypatch.setattr(_kernel.WatchedClient, "process_message", process_message)

    monkeypatch.setattr(_kernel.WatchedClient, "_async_poll_for_reply", poll)


WATCHES = {"idle": (dict(stall_grace=2), "went idle but sent no reply"),
           "probe": (dict(probe_interval=2), "answered a later request"),
           "never started": (dict(start_grace=2), "never started the cell")}


@pytest.mark.parametrize("watch", list(WATCHES))
def test_lost_reply_is_noticed_by_the_watchdog(tmp_path, monkeypatch, watch):
    nb = _project(tmp_path, "91_lost", "x = 1  # LOSE_REPLY")
    _drop_replies(monkeypatch, "LOSE_REPLY", iopub=watch == "never started")
    out = tmp_path / "out"
    _last_good(out, "91_lost")
    kw = {**dict(stall_grace=1000, probe_interval=1000, start_grace=1000), **WATCHES[watch][0]}
    t = time.monotonic()
    with pytest.raises(runner.ChapterFailed, match="stalled in cell 3 .'x = 1  # LOSE_REPLY'. after") as e:
        runner.run_chapter("91_lost", "smoke", out_dir=out, notebook=nb, progress=False, cell_timeout=600, **kw)
    assert time.monotonic() - t < 60  # the watchdog, not the 600 s timeout
    assert WATCHES[watch][1] in str(e.value)
    _assert_last_good_untouched(out, "91_lost")
    assert (out / "91_lost.partial.ipynb").exists()


def test_killed_kernel_gives_a_clear_error_within_seconds(tmp_path):
    nb = _project(tmp_path, "92_killed", "import os\nos.kill(os.getpid(), 9)")
    out = tmp_path / "out"
    _last_good(out, "92_killed")
    t = time.monotonic()
    with pytest.raises(runner.ChapterFailed, match=r"the kernel died in cell 3 \('import os'\)"):
        runner.run_chapter("92_killed", "smoke", out_dir=out, notebook=nb, progress=False)
    assert time.monotonic() - t < 60
    _assert_last_good_untouched(out, "92_killed")
    assert (out / "92_killed.partial.ipynb").exists()


def test_success_replaces_and_failure_keeps_the_last_good_run(tmp_path):
    good = _project(tmp_path, "93_flaky", "x = 1")
    out = tmp_path / "out"
    res = runner.run_chapter("93_flaky", "smoke", {"seed": 3, "rates": [0.25]}, out_dir=out, notebook=good,
                             progress=False)
    assert res == out / "93_flaky.results.json"
    assert json.loads(res.read_text()) == {"seed": 3, "rates": [0.25]}
    assert not (out / "93_flaky.partial.ipynb").exists() and not (out / "93_flaky.partial.results.json").exists()
    nb_bytes = (out / "93_flaky.ipynb").read_bytes()
    bad = _project(tmp_path, "93_flaky", 'raise ValueError("this run breaks")')
    with pytest.raises(runner.ChapterFailed, match="this run breaks") as e:
        runner.run_chapter("93_flaky", "smoke", {"seed": 4}, out_dir=out, notebook=bad, progress=False)
    assert "last good run kept" in str(e.value)
    assert json.loads(res.read_text())["seed"] == 3
    assert (out / "93_flaky.ipynb").read_bytes() == nb_bytes
    partial = nbformat.read(out / "93_flaky.partial.ipynb", as_version=4)
    assert any(o.get("output_type") == "error" for c in partial.cells for o in c.get("outputs", []))


@pytest.mark.parametrize("name,value,ok", [
    ("seed", 3, True), ("seed", "abc", False), ("seed", 1.5, False), ("seed", True, False), ("seed", None, True),
    ("lr", 1, True), ("lr", 0.5, True), ("lr", "x", False),
    ("rates", [0.1, 1], True), ("rates", 0.5, False), ("rates", ["a"], False),
    ("name", "anything", True), ("name", [1, "x"], True)])
def test_parameter_types_follow_the_parameters_cell(tmp_path, name, value, ok):
    nb = _project(tmp_path, "94_types")
    if ok:
        runner.check_parameters("94_types", {name: value}, nb)
    else:
        with pytest.raises(ValueError, match=f"parameter {name} of chapter 94_types expects"):
            runner.check_parameters("94_types", {name: value}, nb)


def test_unknown_and_runner_owned_parameters(tmp_path):
    nb = _project(tmp_path, "94_types")
    with pytest.raises(ValueError, match="has no parameter.s. sede; its parameters are: lr, name, rates, seed"):
        runner.check_parameters("94_types", {"sede": 1}, nb)
    with pytest.raises(ValueError, match="set by the runner"):
        runner.check_parameters("94_types", {"results_path": "x.json"}, nb)


def test_none_notebook_defaults_take_types_from_the_profiles():
    """The chapters' parameters cells default to None (the profile's value): the profiles give the type."""
    runner.check_parameters("01_memorization", {"seed": 2, "keep": 0.5, "pca_dim": 64, "data_root": "/x"})
    with pytest.raises(ValueError, match="parameter seed of chapter 01_memorization expects int"):
        runner.check_parameters("01_memorization", {"seed": "abc"})
    with pytest.raises(ValueError, match="parameter rates of chapter 02_cluster_based_noise expects list"):
        runner.check_parameters("02_cluster_based_noise", {"rates": 0.5})


@pytest.mark.parametrize("chapter,name,value,want", [("01_memorization", "seed", "abc", "expects int"),
                                                     ("02_cluster_based_noise", "rates", "0.5", "expects list")])
def test_cli_rejects_a_wrong_type_before_a_kernel_starts(tmp_path, chapter, name, value, want):
    env = dict(os.environ)
    env.pop("LABNOISE_PROJECT", None)
    r = subprocess.run([sys.executable, "-m", "labnoise.cli", "run", chapter, "-p", name, value, "--out",
                        str(tmp_path), "--quiet"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1 and f"parameter {name} of chapter {chapter} {want}" in r.stderr
    assert not list(tmp_path.iterdir())  # no kernel log, no partial notebook: nothing started


def test_kernel_noise_is_dropped_and_real_errors_kept():
    text = ("[IPKernelApp] WARNING | Kernel is running over TCP without encryption. All communication\n"
            "KeyboardInterrupt caught in kernel\n"
            "Traceback (most recent call last):\n  MemoryError\n")
    assert _kernel.noise_free(text) == "Traceback (most recent call last):\n  MemoryError\n"


def test_a_kernel_that_never_starts_fails_within_the_start_timeout(tmp_path):
    """A ``python3`` kernelspec (first on JUPYTER_PATH) whose process never answers: bounded by --start-timeout."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "import time; time.sleep(1000)", "{connection_file}"],
        "display_name": "never starts", "language": "python"}))
    _project(tmp_path, "95_nostart", "x = 1")
    out = tmp_path / "out"
    _last_good(out, "95_nostart")
    env = dict(os.environ, LABNOISE_PROJECT=str(tmp_path), JUPYTER_PATH=str(tmp_path / "jupyter"))
    t = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "labnoise.cli", "run", "95_nostart", "--start-timeout", "3", "--out",
                        str(out), "--quiet"], capture_output=True, text=True, env=env, timeout=300)
    assert time.monotonic() - t < 60
    assert r.returncode == 1 and "the kernel did not start within 3 s" in r.stderr
    _assert_last_good_untouched(out, "95_nostart")


def test_a_lost_final_kernel_info_reply_is_bounded_and_the_run_still_counts(tmp_path, monkeypatch, caplog):
    """papermill#711: the kernel_info round trip after the last cell hangs. Bounded, logged, not fatal."""
    nb = _project(tmp_path, "96_final", "x = 1")
    original = _kernel.WatchedClient.papermill_execute_cells

    def cells_then_lose_kernel_info(self):
        original(self)
        channel = self.kc.shell_channel
        get = channel.get_msg

        async def lossy(*a, **k):
            msg = await get(*a, **k)
            if msg["msg_type"] == "kernel_info_reply":
                raise _kernel.Empty
            return msg

        channel.get_msg = lossy

    monkeypatch.setattr(_kernel.WatchedClient, "papermill_execute_cells", cells_then_lose_kernel_info)
    monkeypatch.setattr(_kernel.WatchedClient, "final_reply_timeout", 1.0)
    t = time.monotonic()
    res = runner.run_chapter("96_final", "smoke", {"seed": 5}, out_dir=tmp_path / "out", notebook=nb,
                             progress=False)
    assert time.monotonic() - t < 60
    assert json.loads(res.read_text())["seed"] == 5
    assert "did not answer a request outside the cells" in caplog.text


def test_the_partial_notebook_is_saved_as_cells_finish(tmp_path):
    """A long run can be watched: while cell 2 runs, the partial notebook on disk already holds cell 1's output
    (the cell itself reads it, so there is no race)."""
    out = tmp_path / "out"
    partial = out / "97_watch.partial.ipynb"
    nb = _project(tmp_path, "97_watch", 'print("cell one finished")',
                  f'import json\nassert "cell one finished" in open({str(partial)!r}).read()')
    runner.run_chapter("97_watch", "smoke", out_dir=out, notebook=nb, progress=False)
    assert (out / "97_watch.ipynb").exists() and not partial.exists()


def test_cli_cell_timeout_must_be_positive(tmp_path):
    _project(tmp_path, "98_x", "x = 1")
    r = _cli(tmp_path, "run", "98_x", "--cell-timeout", "0", "--out", str(tmp_path / "out"))
    assert r.returncode == 1 and "cell timeout must be positive" in r.stderr
