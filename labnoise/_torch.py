"""Small torch helpers shared by the library: device and precision resolution, seeding, CPU threads."""
from __future__ import annotations

import contextlib
import functools
import os
import random
from pathlib import Path

import numpy as np

from ._validation import check_choice


def resolve_device(device: str | None = "auto"):
    """``"auto"`` -> cuda if available, else mps, else cpu. Any torch device string passes through."""
    import torch

    if device in (None, "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was requested but CUDA is not available here; use device='cpu' or 'auto'.")
    return dev


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def torch_generator(seed: int, device="cpu"):
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


def cpu_threads() -> int:
    """The number of CPU threads torch should use (all cores, unless LABNOISE_THREADS says otherwise)."""
    env = os.environ.get("LABNOISE_THREADS")
    if env:
        return max(1, int(env))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run the block with ``n`` torch intra-op threads (``None``: leave the count alone), then restore it.

    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    import torch

    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


#: the compute precisions the package knows; a caller narrows them with ``allowed``
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resolve_precision(precision: str, device, *, allowed=("auto", "fp32", "bf16")) -> str:
    """The one precision resolver of the package: ``"fp32"``, ``"bf16"`` or ``"fp16"`` for ``device``.

    ``precision`` is one of ``allowed`` (a subset of :data:`PRECISIONS`). Explicit values pass through;
    ``"auto"`` is bf16 on a CUDA GPU that supports it (else fp16 when ``allowed`` has it, else fp32), bf16 on a
    CPU with native bf16 matrix units (AVX512-BF16 or AMX, where bf16 matmuls are several times faster), and
    fp32 everywhere else (other CPUs, MPS). ``device`` is a torch device or device string.

    >>> resolve_precision("fp32", "cpu"), resolve_precision("auto", "mps")
    ('fp32', 'fp32')
    """
    check_choice(precision, tuple(allowed), name="precision")
    if precision != "auto":
        return precision
    import torch

    dev = torch.device(device) if not isinstance(device, torch.device) else device
    if dev.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return "bf16"
        return "fp16" if "fp16" in allowed else "fp32"
    if dev.type == "cpu" and cpu_has_bf16():
        return "bf16"
    return "fp32"


def with_precision(kwargs: dict | None, precision: str | None, *, name: str) -> dict:
    """A copy of a learner's ``kwargs`` with ``precision`` set; ``None`` leaves it as it is. A different
    ``kwargs["precision"]`` is refused (``name`` says which dictionary it came from)."""
    kw = dict(kwargs or {})
    if precision is not None:
        if kw.get("precision", precision) != precision:
            raise ValueError(f"precision={precision!r} contradicts {name}['precision']={kw['precision']!r}; "
                             "pass one of them.")
        kw["precision"] = precision
    return kw


_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile", "avx512f", "avx2")


def _cpuinfo_flags() -> set[str] | None:
    """The ``flags`` of ``/proc/cpuinfo`` (None where there is no such file: not Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_flags() -> dict:
    """What a timing or a result depends on: the CPU's bf16/AMX-related flags (None where unknown), whether
    oneDNN reports bf16 support, and :func:`cpu_has_bf16` (what ``precision="auto"`` follows on a CPU)."""
    flags = _cpuinfo_flags()
    out = {f: (None if flags is None else f in flags) for f in _BF16_FLAGS}
    try:
        import torch

        out["onednn_bf16"] = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # pragma: no cover - builds without oneDNN
        out["onednn_bf16"] = False
    out["native_bf16"] = cpu_has_bf16()
    return out


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Whether this CPU has native bf16 matrix units (AVX512-BF16 / AMX) that oneDNN uses."""
    import torch

    try:
        if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            return False
    except Exception:  # pragma: no cover - builds without oneDNN
        return False
    flags = _cpuinfo_flags()
    if flags is None:  # not Linux: trust oneDNN
        return True
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast(device, precision: str):
    """The autocast context of a resolved ``precision`` on ``device`` (a no-op for fp32)."""
    import torch

    dev = torch.device(device) if not isinstance(device, torch.device) else device
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return torch.autocast(dev.type, dtype=dtype)
