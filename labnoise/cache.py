"""The one home of the on-disk cache layout: every cache lives under ``<data root>/cache/<kind>/...``.

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

Before this module, features lived under ``<data root>/features/`` and chapter 03's grid cells under
``<data root>/runs/03_pmd_vs_cbn/<profile>``. Features (expensive: minutes to embed a split) are still *read*
from the old place when the new one has no file (:func:`locate`); new files are written under ``cache/``.
Old grid cells are recomputed once.
"""
from __future__ import annotations

from pathlib import Path

from ._io import atomic_path, content_hash, save_json, save_npy, save_npz

__all__ = ["KINDS", "cache_root", "cache_dir", "locate", "legacy_features_dir",
           "atomic_path", "content_hash", "save_json", "save_npy", "save_npz"]

#: the kinds of cache, one folder each under ``<data root>/cache/``
KINDS = ("features", "tsne", "knn", "grid", "memorization", "detect")


def cache_root(root=None) -> Path:
    """``<data root>/cache`` (not created here)."""
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
