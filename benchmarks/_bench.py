"""Shared helper of the benchmarks: every benchmark writes its table to ``_build/bench/<name>.json`` as

    {"machine": {...}, "rows": [{"name": ..., "seconds": ..., ...}, ...], "precision": ..., ...}

(atomically, through :mod:`labnoise._io`), and ``benchmarks/report.py`` turns those files into
``book/performance.md``. ``machine()`` describes where the numbers were measured, including the load
average at the time, because on a shared CPU only ratios within one run mean anything.
"""
from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from labnoise.results import _cpu_model  # noqa: E402  (the one /proc/cpuinfo reader; results.json uses it too)

#: where the JSON tables go (``LABNOISE_BENCH_DIR`` overrides it, e.g. in tests)
BENCH_DIR = Path(os.environ.get("LABNOISE_BENCH_DIR", ROOT / "_build" / "bench"))


def _cpu_flags() -> list[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in have]
    except OSError:
        pass
    return []


def machine() -> dict:
    """The machine block of a benchmark JSON: CPU, cores, memory, torch threads, GPU, load, time."""
    info = {
        "cpu": _cpu_model(),
        "cpu_flags": _cpu_flags(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load_avg_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        info["memory_gib"] = round(pages * size / 2 ** 30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        info["float32_matmul_precision"] = torch.get_float32_matmul_precision()
        from labnoise.features import _cpu_has_bf16

        info["native_bf16"] = bool(_cpu_has_bf16())  # what precision="auto" resolves to bf16 on
    except ImportError:
        pass
    return info


#: row keys that state a row's precision
PRECISION_KEYS = ("precision", "dtype", "matmul_dtype")


def write_json(name: str, rows: list[dict], *, precision: str | None = None, **extra) -> Path:
    """Write ``{"machine": machine(), "rows": rows, "precision": ..., **extra}`` to ``<BENCH_DIR>/<name>.json``
    atomically.

    Every row needs a ``name``; ``seconds`` is the usual measure (other keys are free: ratios, agreement).
    ``precision``: the arithmetic the timed code used (``"fp32"``, ``"bf16"``, ``"per row"`` with a ``precision``
    key in each row, ...); required unless every row has its own ``precision``, since a bf16 time and an fp32
    time are not the same measurement (without either, the JSON says it is not stated and a warning is printed).
    The CPU's flags (AVX-512, AMX, native bf16) are in ``machine``.
    """
    from labnoise._io import save_json

    for r in rows:
        if "name" not in r:
            raise ValueError(f"every benchmark row needs a 'name'; got {r!r}")
    if precision is None and not (rows and all(any(k in r for k in PRECISION_KEYS) for r in rows)):
        print(f"warning: benchmark {name} does not say which precision it timed (write_json(..., precision="
              "'fp32'), or a 'precision' key in every row); the JSON records that it is not stated", file=sys.stderr)
        precision = "not stated by the benchmark"
    if precision is not None:
        extra = {"precision": precision, **extra}
    path = BENCH_DIR / f"{name}.json"
    save_json(path, {"machine": machine(), "rows": rows, **extra})
    print(f"wrote {path}")
    return path
