"""Run chapters with papermill and build the book with Jupyter Book 1.

``run_chapter("02_cluster_based_noise", "offline", {"seed": 1})`` executes ``notebooks/CHAPTER.ipynb`` (the
output-free pair of the percent script) into ``OUT/CHAPTER.ipynb``; the chapter writes
``OUT/CHAPTER.results.json`` (keys chapter, profile, parameters, metrics, timings_s, versions).

A run never hangs and never spoils the last good outputs: ``-p`` values are checked against the notebook's
parameters cell before a kernel starts (:func:`check_parameters`); every wait is bounded (a per-cell timeout per
profile, :data:`CELL_TIMEOUT_S`, a kernel start timeout and a lost-reply watchdog, see :mod:`labnoise._kernel`);
the run executes into ``OUT/CHAPTER.partial.ipynb`` (saved after every cell) and
``OUT/CHAPTER.partial.results.json``, which replace the last good pair only when the run succeeds.
"""
from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ._project import chapters, project_root
from .profiles import PROFILE_NAMES


class ChapterFailed(RuntimeError):
    """A chapter cell raised; the message carries the cell's error and where the executed notebook is."""


def parse_value(text: str):
    """A CLI parameter value: Python/JSON literals (``3``, ``0.5``, ``[1, 2]``, ``None``, ``true``) or a string."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        try:
            return json.loads(text)
        except ValueError:
            return text


def _resolve_chapter(chapter: str) -> str:
    names = chapters()
    if chapter in names:
        return chapter
    matches = [n for n in names if n.startswith(chapter) or n.split("_", 1)[1] == chapter]
    if len(matches) == 1:
        return matches[0]
    raise ValueError(f"unknown chapter {chapter!r}; choose one of: {', '.join(names)}.")


#: Per-cell execution timeout (seconds) of each profile; ``labnoise run --cell-timeout S`` overrides it.
CELL_TIMEOUT_S = {"smoke": 600, "offline": 6 * 3600, "full": 48 * 3600}
#: Seconds a kernel may take to start and answer its first request.
START_TIMEOUT_S = 120
#: Parameters the runner sets itself.
RUNNER_PARAMETERS = ("profile", "results_path")


def notebook_parameters(nb_path) -> dict:
    """``{name: default}`` of the notebook's ``parameters`` cell (the source of truth for names and defaults).
    A default that is not a literal is reported as ``None`` (accept anything)."""
    import nbformat

    nb = nbformat.read(Path(nb_path), as_version=4)
    found = {}
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign):
                    try:
                        value = ast.literal_eval(node.value)
                    except ValueError:
                        value = None
                    for t in node.targets:
                        if isinstance(t, ast.Name):
                            found[t.id] = value
    return found


def _notebook_parameters(nb_path: Path) -> set[str]:
    return set(notebook_parameters(nb_path))


def _type_name(v) -> str:
    if isinstance(v, list):
        inner = sorted({_type_name(x) for x in v})
        return f"list of {'/'.join(inner)}" if inner else "list"
    return type(v).__name__


def _expected(chapter: str, name: str, default) -> list:
    """Example values whose types a parameter accepts: its notebook default, else the values the profiles
    give it (a ``None`` notebook default means "the profile's default"). Empty: anything."""
    if default is not None:
        return [default]
    try:
        from .profiles import CHAPTERS, COMMON
    except ImportError:  # pragma: no cover
        return []
    out = []
    for p in PROFILE_NAMES:
        for table in (COMMON.get(p, {}), CHAPTERS.get(chapter, {}).get(p, {})):
            if table.get(name) is not None:
                out.append(table[name])
    return out


def _accepts(example, value) -> bool:
    if isinstance(example, bool):
        return isinstance(value, bool)
    if isinstance(example, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(example, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(example, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            return False
        kinds = {type(x) for x in example}
        if len(kinds) != 1 or not example or not isinstance(example[0], (bool, int, float, str)):
            return True  # empty or mixed default: any list
        return all(_accepts(example[0], x) for x in value)
    if isinstance(example, dict):
        return isinstance(value, dict)
    return isinstance(value, type(example))


def check_parameters(chapter: str, parameters: dict, nb_path=None) -> None:
    """Check every override against the chapter's parameters cell before a kernel starts; ValueError names
    the parameter and the type it expects, or the range / choices it must lie in (:func:`labnoise.profiles.
    check_values`: the ranges the chapter's config checks, declared once in :data:`labnoise.profiles.RANGES`). ``None`` always passes (the profile's default); a parameter whose
    notebook default and profile defaults are all ``None`` accepts anything; a list default needs a list (of
    its element type); an int needs an int; a float an int or float; unknown names list the valid ones."""
    nb_path = Path(nb_path) if nb_path else project_root() / "notebooks" / f"{chapter}.ipynb"
    known = notebook_parameters(nb_path)
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ValueError(f"chapter {chapter} has no parameter(s) {', '.join(unknown)}; "
                         f"its parameters are: {', '.join(sorted(set(known) - set(RUNNER_PARAMETERS)))}.")
    for name in RUNNER_PARAMETERS:
        if name in parameters:
            raise ValueError(f"parameter {name} is set by the runner: use --profile / --out instead of -p {name}.")
    for name, value in parameters.items():
        if value is None:
            continue
        examples = _expected(chapter, name, known[name])
        if examples and not any(_accepts(e, value) for e in examples):
            want = " or ".join(sorted({_type_name(e) for e in examples}))
            if any(isinstance(e, float) for e in examples) and "int" not in want:
                want = want.replace("float", "float (or int)")
            raise ValueError(f"parameter {name} of chapter {chapter} expects {want} (e.g. {examples[0]!r}), "
                             f"got {value!r} ({_type_name(value)}).")
    # then the values of a book chapter: the same declared ranges and choices its config checks in the kernel
    from .profiles import CHAPTERS, check_values

    if chapter in CHAPTERS:
        check_values(chapter, parameters)


def _replace_atomic(src: Path, dest: Path) -> None:
    os.replace(src, dest)


def run_chapter(chapter: str, profile: str = "smoke", parameters: dict | None = None, out_dir=None,
                progress: bool = True, log_output: bool = False, cell_timeout: float | None = None,
                start_timeout: float = START_TIMEOUT_S, notebook=None, stall_grace: float = 30.0,
                probe_interval: float = 20.0, start_grace: float = 60.0) -> Path:
    """Execute a chapter with papermill; returns the path of its results.json.

    Every wait is bounded (see :mod:`labnoise._kernel`): each cell by ``cell_timeout`` seconds (default
    :data:`CELL_TIMEOUT_S` of the profile), kernel start-up by ``start_timeout``, and a watchdog raises as soon
    as the kernel went idle without replying to the cell (after ``stall_grace`` seconds), answered a
    ``kernel_info`` probe sent behind the cell (after ``probe_interval`` seconds) before the cell's reply, or
    never started the cell (nothing published for it within ``start_grace`` seconds). On a stall the kernel is
    interrupted and shut down. The run executes into ``OUT/CHAPTER.partial.ipynb``
    (saved after every cell, so a long run can be watched) and ``OUT/CHAPTER.partial.results.json``; only a
    successful run moves them over ``OUT/CHAPTER.ipynb`` and ``OUT/CHAPTER.results.json``, so a failed run
    never replaces the last good ones and leaves its partial notebook next to them. The kernel's stderr goes
    to ``OUT/CHAPTER.kernel.log``; its lines that are not known noise are echoed to stderr.

    Raises :class:`ChapterFailed` if a cell raises, stalls, or the kernel dies or does not start, and
    ValueError for an unknown chapter or profile or a parameter of an unknown name or the wrong type (before a
    kernel starts). ``notebook`` runs another notebook file under the name ``chapter`` (tests).
    """
    if profile not in PROFILE_NAMES:
        raise ValueError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILE_NAMES)}.")
    root = project_root() if notebook is None else None
    if notebook is None:
        chapter = _resolve_chapter(chapter)
        src = root / "notebooks" / f"{chapter}.ipynb"
    else:
        src = Path(notebook).resolve()
    params = dict(parameters or {})
    check_parameters(chapter, params, src)
    if cell_timeout is None:
        cell_timeout = CELL_TIMEOUT_S[profile]
    if cell_timeout <= 0:
        raise ValueError(f"cell timeout must be positive, got {cell_timeout}.")
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError

    from . import _kernel  # registers the papermill engine "labnoise"

    out_dir = Path(out_dir or (root or project_root()) / "_build" / "runs" / profile).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    out_nb = out_dir / f"{chapter}.ipynb"
    results = out_dir / f"{chapter}.results.json"
    part_nb = out_dir / f"{chapter}.partial.ipynb"
    part_results = out_dir / f"{chapter}.partial.results.json"
    kernel_log = out_dir / f"{chapter}.kernel.log"
    part_results.unlink(missing_ok=True)  # a stale file must not pass for this run's results
    params.update(profile=profile, results_path=str(part_results))
    where = f"partial notebook: {part_nb}" + (f" (last good run kept: {out_nb})" if out_nb.exists() else "")
    t = time.perf_counter()
    try:
        # no progress bars in an executed notebook: tqdm's widgets would be saved as dead ipywidgets state (and
        # load widget JavaScript on the page); the runner's own cell bar stays (progress_bar=dict below)
        with open(kernel_log, "w") as log, _kernel_threads(profile), _environ("TQDM_DISABLE", "1"):
            try:
                pm.execute_notebook(str(src), str(part_nb), parameters=params, cwd=str(src.parent),
                                    kernel_name="python3", engine_name="labnoise",
                                    progress_bar={"disable": False} if progress else False,
                                    log_output=log_output, request_save_on_cell_execute=True,
                                    start_timeout=int(max(1, start_timeout)), execution_timeout=cell_timeout,
                                    kernel_stderr=log, stall_grace=stall_grace, probe_interval=probe_interval,
                                    start_grace=start_grace)
            finally:
                log.flush()
    except pm.PapermillExecutionError as e:
        tb = "\n".join(e.traceback) if e.traceback else ""
        raise ChapterFailed(f"chapter {chapter} ({profile}) failed in cell {e.exec_count}: {e.ename}: {e.evalue}\n"
                            f"{_strip_ansi(tb)}\n{where}") from None
    except _kernel.CellStalled as e:
        raise ChapterFailed(f"chapter {chapter} ({profile}) {e}\n{where}") from None
    except _kernel.KernelDied as e:
        raise ChapterFailed(f"chapter {chapter} ({profile}): {e} (killed, or out of memory?); kernel log: "
                            f"{kernel_log}\n{where}") from None
    except CellTimeoutError as e:
        raise ChapterFailed(f"chapter {chapter} ({profile}) timed out: {e}\n{where}") from None
    except RuntimeError as e:
        if "didn't respond" in str(e) or "Kernel died before replying" in str(e):
            raise ChapterFailed(f"chapter {chapter} ({profile}): the kernel did not start within "
                                f"{start_timeout:.0f} s ({e}); kernel log: {kernel_log}") from None
        raise
    finally:
        _echo_kernel_log(kernel_log)
    if not part_results.exists():
        raise ChapterFailed(f"chapter {chapter} ran but wrote no {results.name}: its last cell must call "
                            f"results.Results(...).save().\n{where}")
    _strip_widgets_file(part_nb)
    _replace_atomic(part_results, results)
    _replace_atomic(part_nb, out_nb)
    print(f"{chapter} ({profile}) done in {time.perf_counter() - t:.1f} s -> {out_nb}")
    return results


#: OpenMP threads a kernel starts with, per profile (``$OMP_NUM_THREADS`` when the user has not set it): smoke
#: trains tiny models, for which a second intra-op thread on a busy 2-core machine costs far more in spinning
#: than it gives (LEND's 5,000-step toy dilution: 0.8 s on one thread, 6-9 s on two), and every smoke setting
#: asks for one thread anyway, but some cells run before a chapter sets it. ``None``: torch's default.
KERNEL_THREADS = {"smoke": 1, "offline": None, "full": None}


def _kernel_threads(profile: str):
    n = KERNEL_THREADS.get(profile)
    return _environ("OMP_NUM_THREADS", str(n), keep_existing=True) if n else contextlib.nullcontext()


def _echo_kernel_log(path: Path) -> None:
    """Echo the kernel's stderr to ours, minus the lines that are known noise."""
    from ._kernel import noise_free

    try:
        text = noise_free(path.read_text(errors="replace"))
    except OSError:
        return
    if text.strip():
        sys.stderr.write(text if text.endswith("\n") else text + "\n")


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _code_hash() -> str:
    """sha256 over every ``labnoise/**/*.py`` (path and bytes): the library version a chapter ran with."""
    import hashlib

    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parent
    for p in sorted(pkg.rglob("*.py")):
        h.update(str(p.relative_to(pkg)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def chapter_cache_key(chapter: str, profile: str, parameters: dict | None = None, notebook=None) -> dict:
    """What an executed chapter depends on: the notebook's bytes (sha256), the parameters, the profile, the
    labnoise version, a hash of the package's source, and the data root with the registry files present in it
    (a chapter may use a file only when it is there). :func:`build_book` re-executes a chapter only when this
    differs from the key stored beside its last successful run (``OUT/CHAPTER.cache-key.json``)."""
    import hashlib
    from importlib import metadata

    from . import data

    nb = Path(notebook) if notebook else project_root() / "notebooks" / f"{chapter}.ipynb"
    try:
        version = metadata.version("labnoise")
    except metadata.PackageNotFoundError:  # pragma: no cover - not installed
        version = None
    return {"chapter": chapter, "profile": profile, "notebook_sha256": hashlib.sha256(nb.read_bytes()).hexdigest(),
            "parameters": json.loads(json.dumps(parameters or {}, sort_keys=True, default=str)),
            "labnoise_version": version, "labnoise_code_sha256": _code_hash(),
            "data_root": str(data.data_root()), "data_present": sorted(r["key"] for r in data.status() if r["present"])}


def _up_to_date(chapter: str, out_dir: Path, key: dict) -> bool:
    stored = out_dir / f"{chapter}.cache-key.json"
    if not ((out_dir / f"{chapter}.ipynb").exists() and (out_dir / f"{chapter}.results.json").exists()
            and stored.exists()):
        return False
    try:
        return json.loads(stored.read_text()) == key
    except ValueError:
        return False


#: Chapters that read the other chapters' results.json (07's decision guide): run after all the others.
READS_OTHER_CHAPTERS = ("07_beyond",)


def book_jobs(jobs=None) -> int:
    """How many chapters :func:`build_book` runs at once: ``jobs``, else ``$LABNOISE_BOOK_JOBS``, else 2 where the
    machine has two or more CPUs (chapters are mostly single-threaded Python, so two share two cores well)."""
    if jobs is None:
        jobs = os.environ.get("LABNOISE_BOOK_JOBS") or min(2, os.cpu_count() or 1)
    from ._validation import check_positive_int

    return check_positive_int(jobs, name="jobs")


@contextlib.contextmanager
def _environ(name: str, value: str, *, keep_existing: bool = False):
    """``$name`` = ``value`` inside the block (unless ``keep_existing`` and the user set it), as before after."""
    saved = os.environ.get(name)
    if not (keep_existing and saved is not None):
        os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def expected_seconds(chapter: str, profile: str, runs_dir=None) -> float | None:
    """A chapter's wall time at its last run: ``timings_s.total`` of its results.json in ``runs_dir``, else of the
    committed ``results/<profile>/`` copy; ``None`` when neither has one. Only used to order the work."""
    for folder in ([Path(runs_dir)] if runs_dir else []) + [project_root() / "results" / profile]:
        total = _run_seconds(folder / f"{chapter}.results.json")
        if total is not None:
            return total
    return None


def _longest_first(todo, profile: str, runs_dir: Path) -> list:
    """``todo`` with the chapters that took longest last time first (unknown ones first of all, in chapter
    order): with two slots, the long chapters then overlap instead of one of them running alone at the end."""
    est = {name: expected_seconds(name, profile, runs_dir) for name, _ in todo}
    return sorted(todo, key=lambda t: -(float("inf") if est[t[0]] is None else est[t[0]]))


def _run_chapters(todo, profile: str, parameters, runs_dir: Path, cell_timeout, jobs: int) -> dict[str, float]:
    """Run ``todo`` (``[(chapter, cache_key)]``), ``jobs`` at a time, each in its own ``labnoise run`` process
    (its output in ``runs_dir/CHAPTER.run.log``), longest first by their last run's time; chapters of
    :data:`READS_OTHER_CHAPTERS` run after the rest, with ``$LABNOISE_WORKERS`` = ``jobs`` (the other slots are
    free then). A chapter's cache key is written only when it succeeded; every failure is reported (the others
    still run). Returns each chapter's wall time in seconds, in the order they finished."""
    from ._io import save_json

    runs_dir.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}

    def in_process(name, key):
        t0 = time.perf_counter()
        run_chapter(name, profile, parameters, out_dir=runs_dir, cell_timeout=cell_timeout)
        save_json(runs_dir / f"{name}.cache-key.json", key)
        times[name] = round(time.perf_counter() - t0, 1)   # run_chapter prints its own "done in" line

    if jobs <= 1 or len(todo) <= 1:
        for name, key in todo:
            in_process(name, key)
        return times
    queue = _longest_first([t for t in todo if t[0] not in READS_OTHER_CHAPTERS], profile, runs_dir)
    later = [t for t in todo if t[0] in READS_OTHER_CHAPTERS]
    running, failed = {}, []
    print(f"running {len(queue)} chapters, {jobs} at a time"
          + (f"; then {', '.join(n for n, _ in later)}, which reads their results" if later else ""))
    while queue or running:
        while queue and len(running) < jobs:
            name, key = queue.pop(0)
            cmd = [sys.executable, "-m", "labnoise.cli", "run", name, "--profile", profile, "--out", str(runs_dir),
                   "--quiet"]
            for k, v in (parameters or {}).items():
                cmd += ["-p", k, repr(v)]
            if cell_timeout is not None:
                cmd += ["--cell-timeout", str(cell_timeout)]
            log = runs_dir / f"{name}.run.log"
            fh = open(log, "w")
            proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=project_root())
            running[name] = (proc, key, fh, log, time.perf_counter())
        time.sleep(0.2)
        for name in list(running):
            proc, key, fh, log, t0 = running[name]
            if proc.poll() is None:
                continue
            fh.close()
            del running[name]
            if proc.returncode == 0:
                save_json(runs_dir / f"{name}.cache-key.json", key)
                times[name] = round(time.perf_counter() - t0, 1)
                print(f"{name} ({profile}) done in {times[name]:.1f} s")
            else:
                failed.append((name, log))
                print(f"{name} ({profile}) FAILED (exit {proc.returncode}); log: {log}", file=sys.stderr)
    if failed:
        raise ChapterFailed("\n\n".join(f"{name} failed; the end of its log ({log}):\n"
                                         + log.read_text()[-3000:] for name, log in failed))
    with _environ("LABNOISE_WORKERS", str(jobs), keep_existing=True):
        for name, key in later:
            in_process(name, key)
    return times


def build_book(profile: str = "smoke", runs_dir=None, build_dir=None, run: bool = True,
               parameters: dict | None = None, strict: bool = True, cell_timeout: float | None = None,
               rerun: bool = False, collect_results: bool | None = None, jobs: int | None = None) -> Path:
    """Run every chapter (unless ``run=False``; ``cell_timeout`` as in :func:`run_chapter`), then build the HTML
    with Jupyter Book from the executed notebooks. Returns the path of ``index.html``. Any chapter error or book
    warning raises.

    A chapter whose notebook, parameters, profile and labnoise source are those of its last successful run in
    ``runs_dir`` (:func:`chapter_cache_key`) is not re-executed; ``rerun=True`` runs every chapter anyway.
    ``jobs`` chapters run at once (:func:`book_jobs`: default 2 on a machine with two CPUs), each in its own
    process; 07, which reads the others' results, runs last.
    ``collect_results`` (default: for the offline profile) refreshes ``results/offline/`` from the runs
    (:func:`labnoise.glance.collect`). Every page gets one line at its top saying which profile it shows (smoke:
    that it is the digits check) with a link to the chapter's offline results on the "Results at a glance" page,
    which is rendered from ``results/offline/`` at build time.
    """
    from . import glance

    root = project_root()
    runs_dir = Path(runs_dir or root / "_build" / "runs" / profile).resolve()
    build_dir = Path(build_dir or root / "_build").resolve()
    names = chapters()
    t_book = time.perf_counter()
    executed, chapter_s = [], {}
    jobs = book_jobs(jobs)
    if run:
        todo = []
        for name in names:
            key = chapter_cache_key(name, profile, parameters)
            if not rerun and _up_to_date(name, runs_dir, key):
                print(f"{name} ({profile}) up to date: notebook, parameters and labnoise unchanged since its "
                      f"last run (labnoise book --rerun to run it anyway)")
                continue
            (runs_dir / f"{name}.cache-key.json").unlink(missing_ok=True)
            todo.append((name, key))
        chapter_s = _run_chapters(todo, profile, parameters, runs_dir, cell_timeout, jobs)
        executed = [name for name, _ in todo]
    if collect_results is None:
        collect_results = run and profile == "offline"
    if collect_results:
        done = glance.collect(runs_dir, glance.results_dir(root), profile=profile)
        print(f"results/offline refreshed: {', '.join(done) or 'no chapter results found'}")
    src = build_dir / "book-src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for item in ("_config.yml", "_toc.yml", "_static", "book", "results"):
        p = root / item
        if p.exists():
            (shutil.copytree if p.is_dir() else shutil.copy2)(p, src / item)
    _vendor_mathjax(src)
    glance.write_glance_page(src / "book" / "results.md", src / "results" / "offline", chapters=names)
    (src / "notebooks").mkdir()
    for name in names:
        nb = runs_dir / f"{name}.ipynb"
        if not nb.exists():
            raise FileNotFoundError(f"{nb} is missing: run the chapter first (labnoise run {name} --profile {profile}).")
        have = (src / "results" / "offline" / f"{name}.results.json").exists()
        banner = profile_banner(name, profile, have_offline=have,
                                seconds=_run_seconds(runs_dir / f"{name}.results.json"))
        _publishable_copy(nb, src / "notebooks" / nb.name, banner=banner)
    _check_no_errors(src / "notebooks")
    cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(src), "--path-output", str(build_dir.parent),
           "--builder", "html"]
    if strict:
        cmd += ["-W", "--keep-going"]
    env = dict(os.environ)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    (build_dir / "book-build.log").write_text(log)
    html = build_dir.parent / "_build" / "html" / "index.html"
    if proc.returncode != 0 or not html.exists():
        raise RuntimeError(f"jupyter-book build failed (exit {proc.returncode}); log: {build_dir / 'book-build.log'}\n"
                           + log[-4000:])
    if run:
        wall = round(time.perf_counter() - t_book, 1)
        from ._io import save_json

        save_json(build_dir / f"book-{profile}.timing.json", {"profile": profile, "wall_s": wall, "jobs": jobs,
                                                               "chapters_s": {n: chapter_s[n] for n in names
                                                                              if n in chapter_s},
                                                               "executed": executed,
                                                               "up_to_date": [n for n in names if n not in executed]})
        print(f"book ({profile}) built in {wall} s; executed: {', '.join(executed) or 'none (all up to date)'}")
        if collect_results:
            glance.results_dir(root).mkdir(parents=True, exist_ok=True)
            shutil.copy2(build_dir / f"book-{profile}.timing.json", glance.results_dir(root) / glance.BOOK_TIMING)
    print(f"book built: {html}")
    return html


#: MathJax 3's browser bundle (npm's ``mathjax`` package, ``es5/`` folder), first found wins
MATHJAX_DIRS = ("$LABNOISE_MATHJAX", "_build/tools/node_modules/mathjax/es5")
#: the CDN address Sphinx uses by default: the fallback when no local copy is found
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"


def find_mathjax(root=None) -> Path | None:
    """The local MathJax 3 ``es5`` folder (with ``tex-chtml.js``): ``$LABNOISE_MATHJAX``, else the copy .ci/run
    installs with npm into ``_build/tools``; ``None`` when there is none."""
    root = Path(root or project_root())
    for d in MATHJAX_DIRS:
        if d.startswith("$"):
            d = os.environ.get(d[1:], "")
            if not d:
                continue
        path = Path(d) if Path(d).is_absolute() else root / d
        if (path / "tex-chtml.js").is_file():
            return path
    return None


def _vendor_mathjax(src: Path) -> None:
    """Make the book's math render with the network off: copy the local MathJax (:func:`find_mathjax`; its
    ``tex-chtml.js`` bundle and the folders it loads fonts and TeX extensions from) to
    ``src/_extra/_static/mathjax``, which ``html_extra_path: [_extra]`` in ``_config.yml`` puts at
    ``_static/mathjax`` beside the pages (``mathjax_path: mathjax/tex-chtml.js``). Without a local copy the
    build's config points at the CDN instead, and a note says so."""
    extra = src / "_extra"
    extra.mkdir(exist_ok=True)  # html_extra_path must exist
    mj = find_mathjax()
    if mj is not None:
        dest = extra / "_static" / "mathjax"
        shutil.copytree(mj, dest, ignore=lambda d, names: [n for n in names if Path(d) == mj and n.endswith(".js")
                                                            and n != "tex-chtml.js"])
        return
    import yaml

    cfg_path = src / "_config.yml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg.setdefault("sphinx", {}).setdefault("config", {})["mathjax_path"] = MATHJAX_CDN
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
    print("note: no local MathJax (install npm, then make install, which puts mathjax@3 into _build/tools); the "
          "pages load it from a CDN, so their math needs the network", file=sys.stderr)


def profile_banner(chapter: str, profile: str, *, have_offline: bool = True, seconds: float | None = None) -> str:
    """The one line at the top of a built page: which profile it shows, how long the page's run took
    (``seconds``: its results.json ``timings_s.total``; left out when ``None``), and a link to the chapter's
    offline results on the "Results at a glance" page (a MyST ``{ref}`` to :func:`labnoise.glance.anchor`);
    ``have_offline=False`` says that none is committed yet."""
    from .glance import anchor

    ref = anchor(chapter)
    if have_offline:
        where = f"see {{ref}}`this chapter's offline results <{ref}>` on CIFAR-10, with the papers' numbers beside them"
    else:
        where = f"its offline (CIFAR-10) results are {{ref}}`not committed yet <{ref}>`"
    took = f" (its run took {_duration(seconds)})" if isinstance(seconds, (int, float)) else ""
    if profile == "smoke":
        return (f"**Smoke profile:** this page ran on scikit-learn's 8x8 digits with small models{took}, to check "
                f"the code, not the papers; {where}.")
    return f"**{profile.capitalize()} profile:** this page is the {profile} run{took}; {where}."


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _run_seconds(results_json: Path) -> float | None:
    try:
        total = json.loads(Path(results_json).read_text()).get("timings_s", {}).get("total")
    except (OSError, ValueError, AttributeError):
        return None
    return float(total) if isinstance(total, (int, float)) else None


_ABS_PATH = re.compile(r"""(['"])(/[^'"]*/)([^/'"]+)\1""")


def _publishable_copy(src: Path, dest: Path, banner: str | None = None) -> None:
    """Copy an executed chapter for the book: papermill's injected-parameters cell names files by their
    builder's absolute paths; the page shows their base names (``results_path = "CHAPTER.results.json"``).
    ``banner`` (markdown) is inserted right under the page's title (the first ``# `` line of the first markdown
    cell), or as a first cell when there is no title."""
    import nbformat

    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            cell.source = _ABS_PATH.sub(lambda m: f"{m.group(1)}{m.group(3)}{m.group(1)}", cell.source)
            if "remove-cell" not in tags:  # the runner's plumbing (profile, results_path), not the chapter's
                cell.metadata["tags"] = tags + ["remove-cell"]
    strip_widgets(nb)
    # the run wrote its results to CHAPTER.partial.results.json, renamed to CHAPTER.results.json on success
    partial = f"{dest.stem}.partial.results.json"
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and partial in out.get("text", ""):
                out["text"] = out["text"].replace(partial, f"{dest.stem}.results.json")
    if banner:
        _insert_banner(nb, banner)
    nbformat.write(nb, dest)


WIDGET_MIME = ("application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json")
#: what a page shows where an interactive explorer (an ipywidgets output) was: a static page has no kernel
WIDGET_NOTE = ("*An interactive explorer is displayed here when the notebook runs in Jupyter or Colab; the static "
               "page shows the figures around it instead.*")


def _is_progress_bar(text: str) -> bool:
    return bool(re.search(r"\d+%\|", text)) or bool(re.search(r"\d+/\d+ \[", text))


def strip_widgets(nb) -> int:
    """Remove every ipywidgets trace from an executed notebook (in place): the notebook's saved widget state
    (``metadata.widgets``) and each widget output. A progress bar's output is dropped; any other widget (an
    explorer) becomes one line, :data:`WIDGET_NOTE`. Without this a page would hold dead widgets and load
    the widget manager's JavaScript from a CDN. Returns how many outputs were changed."""
    import nbformat

    nb.metadata.pop("widgets", None)
    changed = 0
    for cell in nb.cells:
        outputs = cell.get("outputs")
        if not outputs:
            continue
        kept = []
        for out in outputs:
            data = out.get("data") or {}
            if not any(m in data for m in WIDGET_MIME):
                kept.append(out)
                continue
            changed += 1
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if not _is_progress_bar(text):
                kept.append(nbformat.v4.new_output("display_data", data={"text/markdown": WIDGET_NOTE}))
        cell.outputs = kept
    return changed


def _strip_widgets_file(path: Path) -> None:
    """:func:`strip_widgets` on an executed notebook file: a run's explorers (ipywidgets) are dead without its
    kernel, so the saved notebook says where they were instead of keeping their state."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    had_state = "widgets" in nb.metadata
    if strip_widgets(nb) or had_state:
        nbformat.write(nb, path)


def _insert_banner(nb, banner: str) -> None:
    import nbformat

    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            if line.startswith("# "):
                cell.source = "\n".join(lines[:i + 1] + ["", banner, ""] + lines[i + 1:])
                return
        break
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(banner))


def _check_no_errors(folder: Path) -> None:
    """Executed notebooks must not contain error outputs or tracebacks on stderr."""
    import nbformat

    bad = []
    for nb_path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error" or (
                        out.get("name") == "stderr" and "Traceback" in out.get("text", "")):
                    bad.append(f"{nb_path.name} cell {i}")
    if bad:
        raise RuntimeError("executed chapters contain error output: " + ", ".join(bad))
