"""Machine-readable chapter results: ``results.json`` with keys
``chapter, profile, parameters, metrics, timings_s, versions``.

    run = Results("02_cluster_based_noise", cfg, path=results_path)
    with run.timer("cbn"):
        ...
    run.metrics["cbn"] = {...}
    run.save()
"""
from __future__ import annotations

import contextlib
import platform
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


class Results:
    """Collects parameters, metrics and timings of one chapter run and writes them atomically."""

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
                "metrics": self.metrics, "timings_s": timings, "versions": versions()}

    def save(self) -> Path:
        save_json(self.path, self.to_dict())
        print(f"results written to {self.path}")
        return self.path
