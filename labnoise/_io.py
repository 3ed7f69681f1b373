"""Atomic file writes: a temporary file in the same folder, flushed, then renamed over the target.

An interrupted run therefore leaves either the previous complete file or no file, never a partial one
(temporary files carry a ``.tmp-`` prefix and are never read as results).
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path, suffix: str = ""):
    """Yield a temporary path next to ``path``; on success rename it to ``path``, on error delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; caches in a shared root should be readable
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_npz(path, **arrays) -> Path:
    """Write arrays to ``path`` (.npz) atomically."""
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return Path(path)


def save_npy(path, array) -> Path:
    with atomic_path(path, suffix=".npy") as tmp:
        with open(tmp, "wb") as f:
            np.save(f, np.asarray(array))
    return Path(path)


def save_json(path, obj) -> Path:
    with atomic_path(path, suffix=".json") as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")
    return Path(path)


def content_hash(obj, *, length: int = 64) -> str:
    """The one content hash of the package (cache keys): sha256 over an array's shape, dtype and bytes; for
    dicts/lists/tuples, over their items recursively (keys sorted); other JSON-able values by their JSON.

    Arrays are hashed by content, so two arrays with equal values and dtype give the same key whatever object
    holds them. ``length`` truncates the hex digest.
    """
    import hashlib

    h = hashlib.sha256()
    _feed(h, obj)
    return h.hexdigest()[:length]


def _feed(h, obj) -> None:
    try:
        import torch
        if isinstance(obj, torch.Tensor):
            obj = obj.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, np.ndarray):
        x = np.ascontiguousarray(obj)
        h.update(str((x.shape, x.dtype.str)).encode())
        h.update(x.data if x.size else b"")
    elif isinstance(obj, dict):
        h.update(b"{")
        for k in sorted(obj, key=str):
            h.update(json.dumps(str(k)).encode() + b":")
            _feed(h, obj[k])
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[")
        for v in obj:
            _feed(h, v)
            h.update(b",")
        h.update(b"]")
    else:
        h.update(json.dumps(obj, sort_keys=True, default=_json_default).encode())


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
