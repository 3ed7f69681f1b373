"""Run chapters with papermill and build the book with Jupyter Book 1.

``run_chapter("02_cluster_based_noise", "offline", {"seed": 1})`` executes ``notebooks/CHAPTER.ipynb`` (the
output-free pair of the percent script) into ``OUT/CHAPTER.ipynb``; the chapter writes
``OUT/CHAPTER.results.json`` (keys chapter, profile, parameters, metrics, timings_s, versions).
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .profiles import PROFILE_NAMES


class ChapterFailed(RuntimeError):
    """A chapter cell raised; the message carries the cell's error and where the executed notebook is."""


def project_root() -> Path:
    """The repository root: ``$LABNOISE_PROJECT`` or the folder above the package (an editable install)."""
    env = os.environ.get("LABNOISE_PROJECT")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    if (here / "notebooks").is_dir():
        return here
    if (Path.cwd() / "notebooks").is_dir():
        return Path.cwd()
    raise FileNotFoundError("cannot find the notebooks/ folder: run from a labnoise checkout or set "
                            "LABNOISE_PROJECT to it.")


def chapters() -> list[str]:
    """Chapter names in book order (every ``notebooks/NN_*.ipynb``)."""
    return sorted(p.stem for p in (project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))


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


def _notebook_parameters(nb_path: Path) -> set[str]:
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    names = set()
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign):
                    names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def run_chapter(chapter: str, profile: str = "smoke", parameters: dict | None = None, out_dir=None,
                progress: bool = True, log_output: bool = False) -> Path:
    """Execute a chapter with papermill; returns the path of its results.json. Raises :class:`ChapterFailed`
    with the failing cell's error if a cell raises, and ValueError for an unknown chapter, profile or
    parameter (before anything runs)."""
    import papermill as pm

    if profile not in PROFILE_NAMES:
        raise ValueError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILE_NAMES)}.")
    chapter = _resolve_chapter(chapter)
    root = project_root()
    src = root / "notebooks" / f"{chapter}.ipynb"
    params = dict(parameters or {})
    known = _notebook_parameters(src)
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"chapter {chapter} has no parameter(s) {', '.join(unknown)}; "
                         f"its parameters are: {', '.join(sorted(known))}.")
    out_dir = Path(out_dir or root / "_build" / "runs" / profile).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    out_nb = out_dir / f"{chapter}.ipynb"
    results = out_dir / f"{chapter}.results.json"
    results.unlink(missing_ok=True)  # a stale file must not pass for this run's results
    params.update(profile=profile, results_path=str(results))
    t = time.perf_counter()
    try:
        pm.execute_notebook(str(src), str(out_nb), parameters=params, cwd=str(src.parent), kernel_name="python3",
                            progress_bar=progress, log_output=log_output, request_save_on_cell_execute=False)
    except pm.PapermillExecutionError as e:
        tb = "\n".join(e.traceback) if e.traceback else ""
        raise ChapterFailed(f"chapter {chapter} ({profile}) failed in cell {e.exec_count}: {e.ename}: {e.evalue}\n"
                            f"{_strip_ansi(tb)}\nexecuted notebook: {out_nb}") from None
    if not results.exists():
        raise ChapterFailed(f"chapter {chapter} ran but wrote no {results.name}: its last cell must call "
                            "results.Results(...).save().")
    print(f"{chapter} ({profile}) done in {time.perf_counter() - t:.1f} s -> {out_nb}")
    return results


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def build_book(profile: str = "smoke", runs_dir=None, build_dir=None, run: bool = True,
               parameters: dict | None = None, strict: bool = True) -> Path:
    """Run every chapter (unless ``run=False``), then build the HTML with Jupyter Book from the executed
    notebooks. Returns the path of ``index.html``. Any chapter error or book warning raises."""
    root = project_root()
    runs_dir = Path(runs_dir or root / "_build" / "runs" / profile).resolve()
    build_dir = Path(build_dir or root / "_build").resolve()
    names = chapters()
    if run:
        for name in names:
            run_chapter(name, profile, parameters, out_dir=runs_dir)
    src = build_dir / "book-src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for item in ("_config.yml", "_toc.yml", "book"):
        p = root / item
        (shutil.copytree if p.is_dir() else shutil.copy2)(p, src / item)
    (src / "notebooks").mkdir()
    for name in names:
        nb = runs_dir / f"{name}.ipynb"
        if not nb.exists():
            raise FileNotFoundError(f"{nb} is missing: run the chapter first (labnoise run {name} --profile {profile}).")
        shutil.copy2(nb, src / "notebooks" / nb.name)
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
    print(f"book built: {html}")
    return html


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
