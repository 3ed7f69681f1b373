"""The one home of the on-disk cache layout: every cache lives under ``<cache root>/<kind>/...``, where the cache
root is ``$LABNOISE_CACHE`` when set (caches moved off a read-only or shared data root), else
``<data root>/cache``.

    >>> from labnoise import cache
    >>> cache.cache_dir("tsne", root="/data").as_posix()
    '/data/cache/tsne'
    >>> cache.cache_dir("grid", "03_pmd_vs_cbn", "smoke", root="/data").as_posix()
    '/data/cache/grid/03_pmd_vs_cbn/smoke'

Kinds (:data:`KINDS`):

==============  ===================================================================  ==========================
kind            what                                                                 written by
==============  ===================================================================  ==========================
features        frozen-encoder features, ``<dataset>/<encoder>/<split>-...-<h>.npy``  :func:`labnoise.features.embed`
tsne            2-D t-SNE maps, ``tsne-<key>.npy``                                    :func:`labnoise.tsne.tsne_map`
knn             neighbour tables, ``knn-<key>.npy``                                   :func:`labnoise.neighbors.knn_table`
grid            one JSON per grid cell, ``<chapter>/<profile>/<cell>.json``           :mod:`labnoise.grid`
memorization    checkpointed chunks of runs, ``chunk-<start>-<stop>.npz``             :mod:`labnoise.memorization`
detect          detector caches (reserved: today's detectors cache in memory only)    :mod:`labnoise.detect`
==============  ===================================================================  ==========================

The data root is :func:`labnoise.data.data_root` (``root`` > ``$LABNOISE_DATA`` > ``~/.cache/labnoise``). Every
writer uses the atomic helpers re-exported here (:func:`atomic_path`, :func:`save_npy`, :func:`save_npz`,
:func:`save_json`: an interrupted run leaves the previous complete file or none) and keys its files with the
package's one content hash (:func:`content_hash`), so a file's name changes whenever one of its inputs does.

One rule for every cache: a file that cannot be read back whole and as expected (missing, truncated, garbage,
another shape or type) is a miss and is recomputed, never an error (:func:`read_npy`, :func:`read_npz`,
:func:`read_json_object`).

Before this module, features lived under ``<data root>/features/`` and chapter 03's grid cells under
``<data root>/runs/03_pmd_vs_cbn/<profile>``. Features (expensive: minutes to embed a split) are still *read*
from the old place when the new one has no file (:func:`locate`); new files are written under ``cache/``.
Old grid cells are recomputed once.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ._io import atomic_path, content_hash, save_json, save_npy, save_npz

__all__ = ["KINDS", "cache_root", "cache_dir", "locate", "legacy_features_dir", "read_npy", "read_npz",
           "read_json_object", "atomic_path", "content_hash", "save_json", "save_npy", "save_npz"]

#: what reading a damaged cache file can raise (truncated zip/npy, garbage bytes, a pickle where none is allowed)
_UNREADABLE = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, json.JSONDecodeError,
               UnicodeDecodeError)

#: the kinds of cache, one folder each under ``<data root>/cache/``
KINDS = ("features", "tsne", "knn", "grid", "memorization", "detect")


def cache_root(root=None) -> Path:
    """``$LABNOISE_CACHE`` if set (it wins over ``root``: caches can live off a read-only data root), else
    ``<data root>/cache`` (not created here)."""
    env = os.environ.get("LABNOISE_CACHE")
    if env:
        return Path(env).expanduser()
    from .data import data_root

    return data_root(root) / "cache"


def cache_dir(kind: str, *parts, root=None) -> Path:
    """The folder of one kind of cache, ``<data root>/cache/<kind>/<parts...>`` (not created here).

    ``parts`` are sub-folders (e.g. a chapter and a profile for grid cells); each must be a plain name.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown cache kind {kind!r}; expected one of {', '.join(KINDS)}.")
    path = cache_root(root) / kind
    for p in parts:
        p = str(p)
        if not p or p in (".", "..") or "/" in p or "\\" in p:
            raise ValueError(f"cache sub-folder names must be plain names (no '/', '..'), got {p!r}.")
        path = path / p
    return path


def legacy_features_dir(root=None) -> Path:
    """Where features were cached before this module: ``<data root>/features`` (read-only fallback)."""
    from .data import data_root

    return data_root(root) / "features"


def locate(path, legacy=None) -> Path:
    """``path``, unless only ``legacy`` (the same file at an older location) exists: then ``legacy``.

    Lets an existing cache be read where it is instead of being recomputed; new files go to ``path``.
    """
    path = Path(path)
    if legacy is not None and not path.exists() and Path(legacy).exists():
        return Path(legacy)
    return path


def read_npy(path, *, shape=None, dtype=None, finite: bool = False, mmap: bool = False):
    """The array cached at ``path``, or None (a miss: recompute) if it is missing, unreadable, or not of
    ``shape`` (a tuple; ``None`` entries match any size) / ``dtype`` / all finite (``finite=True``)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        if not isinstance(arr, np.ndarray):
            return None
        if shape is not None and (arr.ndim != len(shape)
                                  or any(w is not None and g != w for g, w in zip(arr.shape, shape))):
            return None
        if dtype is not None and arr.dtype != np.dtype(dtype):
            return None
        if finite and not np.all(np.isfinite(arr)):
            return None
    except _UNREADABLE:
        return None
    return arr


def read_npz(path, keys) -> dict | None:
    """``{key: array}`` of an ``.npz`` cache file, or None (a miss) if it is missing, truncated (a bad zip) or
    lacks one of ``keys``. Arrays are read fully before the file is closed."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: np.asarray(z[k]) for k in keys}
    except _UNREADABLE:
        return None


def read_json_object(path, required=()) -> dict | None:
    """The JSON object cached at ``path``, or None (a miss) if it is missing, unreadable, not an object, or
    lacks one of ``required`` keys."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        obj = json.loads(path.read_text())
    except _UNREADABLE:
        return None
    if not isinstance(obj, dict) or any(k not in obj for k in required):
        return None
    return obj
