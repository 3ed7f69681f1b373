"""Machine-readable chapter results: ``results.json`` with keys
``chapter, profile, parameters, metrics, timings_s, peak_memory_mb, commit, machine, precision, versions``
(``timings_s["total"]`` is the chapter's wall time from the moment :class:`Results` was created).

    run = Results("02_cluster_based_noise", cfg, path=results_path)
    with run.timer("cbn"):
        ...
    run.metrics["cbn"] = {...}
    run.save()
"""
from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from ._io import save_json

_PACKAGES = ("labnoise", "numpy", "torch", "torchvision", "scikit-learn", "openTSNE", "open_clip_torch", "timm",
             "cleanlab", "matplotlib", "papermill", "jupyter-book")


def versions() -> dict:
    out = {"python": platform.python_version()}
    for p in _PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    try:
        import torch

        out["device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu ({platform.processor() or platform.machine()})"
        out["torch_threads"] = torch.get_num_threads()
    except Exception:  # pragma: no cover
        pass
    return out


def machine() -> dict:
    """The machine a run happened on: platform, CPU model and count, memory, accelerator."""
    out = {"platform": platform.platform(), "cpu": _cpu_model(), "cpu_count": os.cpu_count()}
    try:
        out["memory_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        pass
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        out["accelerator"] = torch.cuda.get_device_name(0)
    return out


def precision(parameters: dict | None = None) -> dict:
    """The compute precision a run asked for (``parameters["precision"]``; None: each method's default) and
    what ``"auto"`` resolves to on this machine's device, beside the CPU's bf16/AMX flags
    (:func:`labnoise._torch.cpu_flags`). A timing or a result means little without them."""
    params = parameters or {}
    # chapter 01 names its heads' matrix-product precision matmul_dtype
    out = {"requested": params.get("precision", params.get("matmul_dtype"))}
    try:
        from ._torch import cpu_flags, resolve_device, resolve_precision

        dev = resolve_device(params.get("device", "auto") or "auto")
        req = {"float32": "fp32", "bfloat16": "bf16"}.get(out["requested"], out["requested"])
        out["device"] = str(dev)
        out["auto_resolves_to"] = resolve_precision("auto", dev)
        # None: each method keeps its own default, which this record cannot know
        out["resolved"] = (None if req is None
                           else resolve_precision(req, dev, allowed=("auto", "fp32", "bf16", "fp16")))
        out["cpu_flags"] = cpu_flags()
    except Exception as err:  # pragma: no cover - torch missing or an unknown device string
        out["error"] = f"{type(err).__name__}: {err}"
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def commit() -> str | None:
    """The labnoise git commit the run used (``+dirty`` when the checkout has uncommitted changes), or None."""
    here = Path(__file__).resolve().parent.parent
    if not (here / ".git").exists():
        return None
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (sha + ("+dirty" if dirty else "")) or None


def peak_memory_mb() -> dict:
    """Peak resident memory of this process (and peak CUDA memory when torch uses a GPU), in MB."""
    out = {}
    try:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out["rss"] = round(rss / (2**20 if sys.platform == "darwin" else 2**10), 1)
    except ImportError:  # pragma: no cover - Windows
        pass
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        out["cuda"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out


class Results:
    """Collects parameters, metrics and timings of one chapter run and writes them atomically.

    >>> run = Results("demo", {"profile": "smoke", "seed": 0})
    >>> with run.timer("step"):
    ...     run.metrics["answer"] = 42
    >>> d = run.to_dict()
    >>> d["chapter"], d["profile"], d["metrics"], sorted(d["timings_s"])
    ('demo', 'smoke', {'answer': 42}, ['step', 'total'])
    """

    def __init__(self, chapter: str, parameters: dict, path="results.json"):
        self.chapter = chapter
        self.parameters = dict(parameters)
        self.profile = self.parameters.get("profile")
        self.path = Path(path)
        self.metrics: dict = {}
        self.timings_s: dict = {}
        self._t0 = time.perf_counter()

    @contextlib.contextmanager
    def timer(self, name: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings_s[name] = round(self.timings_s.get(name, 0.0) + time.perf_counter() - t, 3)

    def to_dict(self) -> dict:
        timings = dict(self.timings_s)
        timings["total"] = round(time.perf_counter() - self._t0, 3)
        return {"chapter": self.chapter, "profile": self.profile, "parameters": self.parameters,
                "metrics": self.metrics, "timings_s": timings, "peak_memory_mb": peak_memory_mb(),
                "commit": commit(), "machine": machine(), "precision": precision(self.parameters),
                "versions": versions()}

    def save(self) -> None:
        """Write results.json atomically. Prints only the file name (pages never show builder paths); the
        full path is ``self.path``. Returns None, so a trailing ``run.save()`` adds no cell output."""
        save_json(self.path, self.to_dict())
        print(f"results written to {self.path.name}")
