"""Datasets (digits, CIFAR-10, CIFAR-100) and label sets (CIFAR-10N, CIFAR-100N, the seed paper's files).

Data root: the ``root`` argument > the ``LABNOISE_DATA`` environment variable > ``~/.cache/labnoise``.
Missing files are downloaded from their official URLs (:mod:`labnoise.registry`) and md5-verified; with no
network, one :class:`DataNotFoundError` names the URL and the exact path to put the file at, and nothing is
written. Files fetched by hand are placed with :func:`import_files` (CLI: ``labnoise data import PATH ...``).
Every file read is checked: registry files against their md5 (once per process), CIFAR batches and CIFAR-N
files parsed without running pickled code; a bad file raises one :class:`DataError` naming it and saying to
``labnoise data import`` a fresh copy.

    >>> ds = load_dataset("digits")            # embedded in scikit-learn: no download
    >>> ds.train_images.shape, ds.num_classes
    ((1297, 8, 8, 1), 10)
"""
from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._validation import check_choice
from .registry import FILES, GROUPS, RemoteFile

DATASETS = ("digits", "cifar10", "cifar100")
LABEL_SETS = {
    "cifar10n": ("clean", "aggre", "worse", "random1", "random2", "random3"),
    "cifar100n": ("clean", "noisy"),
}
_CIFAR10N_KEYS = {"clean": "clean_label", "aggre": "aggre_label", "worse": "worse_label",
                  "random1": "random_label1", "random2": "random_label2", "random3": "random_label3"}
_CIFAR100N_KEYS = {"clean": "clean_label", "noisy": "noisy_label"}
SPLITS = ("train", "test")

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


class DataNotFoundError(FileNotFoundError):
    """A data file is neither in the data root nor downloadable (offline?). The message says what to do."""


class DataError(ValueError):
    """A data file is there but corrupt, truncated or not what it claims to be (wrong md5, unreadable pickle,
    wrong shape). The message names the file and says what to do: ``labnoise data import`` a fresh copy."""


def _corrupt(path, what: str, key: str | None = None) -> DataError:
    entry = FILES.get(key) if key else None
    fresh = f" (from {entry.url}, md5 {entry.md5})" if entry else ""
    return DataError(f"{path} is corrupt, truncated or not the expected file: {what}. Fetch a fresh copy{fresh} "
                     f"and run `labnoise data import PATH` on it (it is validated before anything is replaced).")


#: (path, size, mtime_ns) -> md5, so that a file is hashed once per process however often it is read
_MD5_SEEN: dict = {}


def verify(key: str, path) -> Path:
    """``path`` after checking it is registry file ``key``'s exact bytes (md5); raises :class:`DataError` naming
    the file and the fix otherwise. Hashed once per process per (size, mtime)."""
    path = Path(path)
    entry = FILES[key]
    st = path.stat()
    sig = (str(path), st.st_size, st.st_mtime_ns)
    if sig not in _MD5_SEEN:
        _MD5_SEEN[sig] = _md5(path)
    if _MD5_SEEN[sig] != entry.md5:
        raise _corrupt(path, f"md5 {_MD5_SEEN[sig]}, expected {entry.md5} ({st.st_size} bytes, expected "
                             f"{entry.size})", key)
    return path


# ------------------------------------------------------------------------------------------------ data root
def data_root(root=None) -> Path:
    """The data root: ``root`` if given, else ``$LABNOISE_DATA``, else ``~/.cache/labnoise``. Not created here."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("LABNOISE_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "labnoise"


def describe_root(root=None) -> str:
    """Where the data root comes from, for pages and logs (never the builder's absolute path):
    ``"the data_root parameter"``, ``"$LABNOISE_DATA"`` or ``"~/.cache/labnoise"``."""
    if root is not None:
        return "the data_root parameter"
    return "$LABNOISE_DATA" if os.environ.get("LABNOISE_DATA") else "~/.cache/labnoise"


@dataclass
class Dataset:
    """Images as uint8 NHWC arrays, labels as int64, and the class names."""

    name: str
    classes: list
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def images(self, split: str) -> np.ndarray:
        check_choice(split, SPLITS, name="split")
        return self.train_images if split == "train" else self.test_images

    def labels(self, split: str) -> np.ndarray:
        check_choice(split, SPLITS, name="split")
        return self.train_labels if split == "train" else self.test_labels

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train={self.train_images.shape}, test={self.test_images.shape}, "
                f"classes={self.num_classes})")


# ------------------------------------------------------------------------------------------------ downloads
def _md5(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _missing_message(entry: RemoteFile, root: Path, reason: str) -> str:
    target = root / entry.dest
    extra = f" (or its extracted folder at {root / entry.extract_to})" if entry.extract_to else ""
    return (f"{entry.key} is not in the data root {root} and could not be downloaded ({reason}).\n"
            f"  Download {entry.url} (md5 {entry.md5}) and put it at {target}{extra},\n"
            f"  or run `labnoise data import PATH` on the file you fetched. "
            f"Use another data root with root=... or LABNOISE_DATA=DIR.")


def fetch(key: str, root=None, download: bool = True) -> Path:
    """Return the local path of registry file ``key``, downloading and md5-verifying it if missing.

    The download goes to a temporary file in the destination folder and is renamed only after the md5
    matches; any failure removes it (and any folder this call created), so nothing half-written is left.
    """
    if key not in FILES:
        raise ValueError(f"unknown data file {key!r}; known files: {', '.join(sorted(FILES))} "
                         "(`labnoise data status` lists them with their URLs).")
    entry = FILES[key]
    root = data_root(root)
    target = root / entry.dest
    if target.exists():
        return target
    if not download:
        raise DataNotFoundError(_missing_message(entry, root, "download=False"))
    if os.environ.get("LABNOISE_OFFLINE"):
        raise DataNotFoundError(_missing_message(entry, root, "LABNOISE_OFFLINE is set"))
    try:
        response = urllib.request.urlopen(entry.url, timeout=60)
    except (urllib.error.URLError, OSError) as e:
        raise DataNotFoundError(_missing_message(entry, root, f"no network: {getattr(e, 'reason', e)}")) from None
    created = [p for p in [target.parent, *target.parent.parents] if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{target.name}-", dir=target.parent)
    tmp = Path(tmp)
    try:
        from tqdm.auto import tqdm

        total = int(response.headers.get("Content-Length") or entry.size)
        with os.fdopen(fd, "wb") as f, tqdm(total=total, unit="B", unit_scale=True, desc=entry.key) as bar:
            for block in iter(lambda: response.read(1 << 20), b""):
                f.write(block)
                bar.update(len(block))
        got = _md5(tmp)
        if got != entry.md5:
            raise DataNotFoundError(f"download of {entry.url} has md5 {got}, expected {entry.md5}; "
                                    "the file was discarded: try again, or fetch it by hand and "
                                    "`labnoise data import` it.")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        for p in created:  # deepest first
            try:
                p.rmdir()
            except OSError:
                pass
        raise
    finally:
        response.close()
    return target


def _extract_archive(archive: Path, root: Path, folder: str) -> Path:
    """Extract ``folder`` from a tar.gz into ``root`` atomically (temporary folder + rename)."""
    dest = root / folder
    if dest.exists():
        return dest
    tmpdir = Path(tempfile.mkdtemp(prefix=f".tmp-{folder}-", dir=root))
    try:
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(folder + "/") and m.isfile()]
            if not members:
                raise ValueError(f"{archive} does not contain a {folder}/ folder: is it the right archive?")
            inside = tmpdir.resolve()
            for m in members:
                out = (tmpdir / m.name).resolve()
                if inside not in out.parents:
                    raise ValueError(f"{archive} has a member {m.name!r} that would be written outside the "
                                     f"target folder; refusing to extract it. Re-download the archive from "
                                     "its official URL.")
            for m in members:
                data = tar.extractfile(m).read()
                out = tmpdir / m.name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
        os.replace(tmpdir / folder, dest)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return dest


def _dataset_folder(name: str, root: Path, download: bool) -> Path:
    entry = FILES[name]
    folder = root / entry.extract_to
    if folder.exists():
        return folder
    archive = verify(name, fetch(name, root, download=download))  # the archive if present, else downloaded
    return _extract_archive(archive, root, entry.extract_to)


# ------------------------------------------------------------------------------------------------ datasets
def _unpickle(path: Path) -> dict:
    """One CIFAR python batch (a pickled dict of lists and numpy arrays), read without running arbitrary code;
    anything unreadable is a :class:`DataError` naming the file."""
    try:
        with open(path, "rb") as f:
            d = _NumpyOnlyUnpickler(f, encoding="bytes").load()
    except FileNotFoundError:
        raise _corrupt(path.parent, f"{path.name} is missing from the extracted folder") from None
    except Exception as e:  # noqa: BLE001 -- any failure to parse the file is the same fact: the file is bad
        raise _corrupt(path, f"{type(e).__name__}: {e}") from None
    if not isinstance(d, dict):
        raise _corrupt(path, f"holds a {type(d).__name__}, not a CIFAR batch dict")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in d.items()}


def _to_nhwc(flat) -> np.ndarray:
    return np.asarray(flat, dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()


def _batch(folder: Path, name: str, images: int | None, label_key: str) -> tuple:
    """(images NHWC or None, labels or names) of one CIFAR batch file, with every field checked: a truncated or
    foreign file is a :class:`DataError` naming it."""
    path = folder / name
    d = _unpickle(path)
    try:
        if images is None:
            return None, [c.decode() if isinstance(c, bytes) else str(c) for c in d[label_key]]
        x = _to_nhwc(d["data"])
        y = np.asarray(d[label_key], dtype=np.int64)
    except (KeyError, ValueError, TypeError) as e:
        raise _corrupt(path, f"not a CIFAR batch ({type(e).__name__}: {e})") from None
    if x.shape[0] != images or y.shape != (images,):
        raise _corrupt(path, f"expected {images} images and labels, got {x.shape[0]} and {y.shape[0]}")
    return x, y


def _read_cifar10(folder: Path):
    parts = [_batch(folder, f"data_batch_{b}", 10000, "labels") for b in range(1, 6)]
    xte, yte = _batch(folder, "test_batch", 10000, "labels")
    _, classes = _batch(folder, "batches.meta", None, "label_names")
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), xte, yte, classes)


def _read_cifar100(folder: Path):
    xtr, ytr = _batch(folder, "train", 50000, "fine_labels")
    xte, yte = _batch(folder, "test", 10000, "fine_labels")
    _, classes = _batch(folder, "meta", None, "fine_label_names")
    return xtr, ytr, xte, yte, classes


def _digits(seed: int = 0):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    images = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)[..., None]  # (1797, 8, 8, 1)
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(images, y, test_size=500, random_state=seed, stratify=y)
    return xtr, ytr, xte, yte, [str(i) for i in range(10)]


@functools.lru_cache(maxsize=4)
def _load_dataset_cached(name: str, root: str, download: bool) -> Dataset:
    if name == "digits":
        parts = _digits()
    else:
        folder = _dataset_folder(name, Path(root), download)
        parts = _read_cifar10(folder) if name == "cifar10" else _read_cifar100(folder)
    xtr, ytr, xte, yte, classes = parts
    for a in (xtr, ytr, xte, yte):
        a.setflags(write=False)  # shared between callers through the cache
    return Dataset(name, classes, xtr, ytr, xte, yte)


def load_dataset(name: str, root=None, download: bool = True) -> Dataset:
    """Load ``digits`` (scikit-learn's bundled 8x8 digits, a fixed stratified 1297/500 split, seed 0),
    ``cifar10`` or ``cifar100`` (official python archives, downloaded and md5-verified if missing).

    Returns a :class:`Dataset` with uint8 NHWC images (read-only arrays, cached per process).
    """
    check_choice(name, DATASETS, name="dataset")
    return _load_dataset_cached(name, str(data_root(root)), bool(download))


# ------------------------------------------------------------------------------------------------ label sets
class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles the CIFAR-N ``.pt`` files (pickled dicts of numpy arrays) without torch or arbitrary code."""

    _ALLOWED = {("collections", "OrderedDict"), ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
                ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name} from a label file")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("label file holds torch tensors; expected numpy arrays")


def read_cifar_n(path) -> dict:
    """Read a CIFAR-N ``.pt`` file (a torch zip archive or a plain pickle) into a dict of int64 arrays, without
    torch and without running code from the file. Anything else (random bytes, a truncated file, a pickle of
    other objects) raises one :class:`DataError` naming the file."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        if zipfile.is_zipfile(io.BytesIO(raw)):
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                pkl = next((n for n in z.namelist() if n.endswith("data.pkl")), None)
                if pkl is None:
                    raise DataError(f"{path} is a zip file without data.pkl: not a CIFAR-N label file.")
                raw = z.read(pkl)
        d = _NumpyOnlyUnpickler(io.BytesIO(raw)).load()
        if not isinstance(d, dict):
            raise DataError(f"{path} does not hold a dict of label arrays: not a CIFAR-N label file.")
        return {str(k): np.asarray(v, dtype=np.int64) for k, v in d.items()}
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 -- unpickling random or hostile bytes can raise almost anything
        raise _corrupt(path, f"not a readable CIFAR-N label file ({type(e).__name__}: {e})") from None


@functools.lru_cache(maxsize=4)
def _cifar_n_cached(key: str, root: str, download: bool) -> dict:
    return read_cifar_n(verify(key, fetch(key, root, download=download)))


def load_label_set(name: str, which: str, root=None, download: bool = True) -> np.ndarray:
    """A human label set in the official training order.

    ``name="cifar10n"``: ``which`` in clean, aggre, worse, random1, random2, random3;
    ``name="cifar100n"``: clean, noisy. The files come from the CIFAR-N repository (CC BY-NC 4.0).
    """
    check_choice(name, tuple(LABEL_SETS), name="label set")
    check_choice(which, LABEL_SETS[name], name=f"{name} label set")
    keys = _CIFAR10N_KEYS if name == "cifar10n" else _CIFAR100N_KEYS
    d = _cifar_n_cached(name, str(data_root(root)), bool(download))
    if keys[which] not in d:
        raise _corrupt(fetch(name, root, download=False), f"it has no {keys[which]!r} entry", name)
    return d[keys[which]].copy()


_REFERENCE_KINDS = ("cluster", "pmd", "given", "synthetic_random1")


def load_reference_labels(dataset: str, kind: str, rate=None, root=None, download: bool = True) -> np.ndarray:
    """The seed paper's released label files (Lim et al.): ``kind`` = ``cluster`` (CBN) or ``pmd`` at
    ``rate`` 0.35 or 0.70, ``given`` (the clean training labels they used), or for CIFAR-10
    ``synthetic_random1`` (their class-dependent set matched to CIFAR-10N random_label1: the noisy column).
    Returns int64 labels of the 50,000 training images in official order.
    """
    check_choice(dataset, ("cifar10", "cifar100"), name="dataset")
    check_choice(kind, _REFERENCE_KINDS, name="reference label kind")
    if kind == "synthetic_random1":
        if dataset != "cifar10":
            raise ValueError("synthetic_random1 exists for cifar10 only.")
        path = verify("cifar_rand1_syn_labels", fetch("cifar_rand1_syn_labels", root, download))
        return _read_syn_csv(path)[:, 1].copy()
    if kind == "given":
        key = f"{dataset}-given-labels"
    else:
        rates = {0.35: "0.35", 0.7: "0.70"}
        if rate is None or round(float(rate), 2) not in rates:
            raise ValueError(f"rate must be 0.35 or 0.70 for the released {kind} files, got {rate!r}.")
        key = f"{dataset}-{kind}-{rates[round(float(rate), 2)]}"
    return _read_label_npy(verify(key, fetch(key, root, download)), key).astype(np.int64)


def _read_label_npy(path: Path, key: str | None = None) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 -- a truncated or foreign .npy
        raise _corrupt(path, f"not a readable .npy label file ({type(e).__name__}: {e})", key) from None


def _read_syn_csv(path: Path) -> np.ndarray:
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    except Exception as e:  # noqa: BLE001
        raise _corrupt(path, f"not a given_label,noisy_label csv ({type(e).__name__}: {e})",
                       "cifar_rand1_syn_labels") from None
    if table.shape != (50000, 2):
        raise _corrupt(path, f"expected 50000 rows of given_label,noisy_label, got shape {table.shape}",
                       "cifar_rand1_syn_labels")
    return table


# ------------------------------------------------------------------------------------------------ status
def _present(entry: RemoteFile, root: Path) -> bool:
    return (root / entry.dest).exists() or bool(entry.extract_to and (root / entry.extract_to).exists())


def has_files(what: str, root=None) -> bool:
    """Whether every file of a group is present: ``cifar10``, ``cifar100``, ``cifar10n``, ``cifar100n``,
    ``reference`` (the seed paper's label files)."""
    check_choice(what, GROUPS, name="data group")
    root = data_root(root)
    return all(_present(e, root) for e in FILES.values() if e.group == what)


def require(keys, *, profile: str, root=None, download: bool = True) -> bool:
    """Make sure the files a chapter section needs are present; the one place chapters decide to skip.

    ``keys`` : a registry key or a list of them (``labnoise data status`` lists the keys), exactly the files
    the section reads (e.g. ``"cifar10n"``, not the unused side-info csv).
    ``profile`` : in ``"smoke"`` a missing file returns False (the chapter skips that section with one short
    note); in ``"offline"`` and ``"full"`` a missing file is fetched (downloaded where allowed) and otherwise
    raises the :class:`DataNotFoundError` that names it: never a silent skip.
    """
    keys = [keys] if isinstance(keys, str) else list(keys)
    for k in keys:
        check_choice(k, tuple(FILES), name="data file")
    root = data_root(root)
    missing = [k for k in keys if not _present(FILES[k], root)]
    if not missing:
        return True
    if profile == "smoke":
        return False
    for k in missing:
        fetch(k, root, download=download)
    return True


def status(root=None) -> list[dict]:
    """One row per known file: key, group, present, path, url, md5, licence."""
    root = data_root(root)
    rows = []
    for e in FILES.values():
        path = root / (e.extract_to if e.extract_to and (root / e.extract_to).exists() else e.dest)
        rows.append({"key": e.key, "group": e.group, "present": _present(e, root), "path": str(path),
                     "url": e.url, "md5": e.md5, "licence": e.licence})
    return rows


# ------------------------------------------------------------------------------------------------ import
def _copy_atomic(src: Path, dest: Path) -> None:
    """Copy a file or folder to ``dest`` so that ``dest`` is always either the old or the new complete copy.

    Files: temporary file + ``os.replace``. Folders: the copy is built beside ``dest``, then swapped in with one
    atomic exchange (Linux ``renameat2(RENAME_EXCHANGE)``) where available, else by renaming the old folder
    aside first (a moment without ``dest``, never a partial one).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{dest.name}-", dir=dest.parent))
        try:
            shutil.copytree(src, tmp / dest.name)
            new = tmp / dest.name
            if dest.exists():
                if _exchange(new, dest):
                    pass  # ``new`` now holds the old folder; removed with tmp below
                else:
                    old = tmp / (dest.name + ".old")
                    os.replace(dest, old)
                    os.replace(new, dest)
            else:
                os.replace(new, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{dest.name}-", dir=dest.parent)
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths on one filesystem (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    rc = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return rc == 0


def _check_labels_array(y, n, c, what):
    y = np.asarray(y)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= c:
        raise DataError(f"{what}: expected {n} integer labels in [0, {c - 1}], got shape {y.shape}, "
                         f"dtype {y.dtype}" + (f", range [{y.min()}, {y.max()}]" if y.size else "") + ".")


def validate_cifar_folder(folder) -> str:
    """Check an extracted ``cifar-10-batches-py`` or ``cifar-100-python`` folder (files, shapes, counts,
    label ranges). Returns ``"cifar10"`` or ``"cifar100"``; raises ValueError saying what is wrong."""
    folder = Path(folder)
    if all((folder / f).exists() for f in ["batches.meta", "test_batch"] + [f"data_batch_{i}" for i in range(1, 6)]):
        xtr, ytr, xte, yte, classes = _read_cifar10(folder)
        name, c = "cifar10", 10
    elif all((folder / f).exists() for f in ("train", "test", "meta")):
        xtr, ytr, xte, yte, classes = _read_cifar100(folder)
        name, c = "cifar100", 100
    else:
        raise ValueError(f"{folder} is neither a cifar-10-batches-py folder (data_batch_1..5, test_batch, "
                         "batches.meta) nor a cifar-100-python folder (train, test, meta).")
    if xtr.shape != (50000, 32, 32, 3) or xte.shape != (10000, 32, 32, 3):
        raise ValueError(f"{folder}: expected 50000 train and 10000 test 32x32x3 images, "
                         f"got {xtr.shape} and {xte.shape}.")
    _check_labels_array(ytr, 50000, c, f"{folder} train labels")
    _check_labels_array(yte, 10000, c, f"{folder} test labels")
    if len(classes) != c or np.bincount(ytr, minlength=c).min() != 50000 // c:
        raise ValueError(f"{folder}: expected {c} balanced classes ({50000 // c} training images each).")
    return name


_REF_NAME = re.compile(r"^(cifar10|cifar100)-(cluster|pmd)-(0\.35|0\.70)\.npy$|^(cifar10|cifar100)-given-labels\.npy$")


def identify(path) -> tuple[str, Path]:
    """Recognise a file a user fetched by hand and validate it. Returns (registry key, destination
    relative to the data root). Raises ValueError saying what the file is not."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist.")
    name = path.name
    if path.is_dir():
        kind = validate_cifar_folder(path)
        return kind, Path(FILES[kind].extract_to)
    for key in ("cifar10", "cifar100"):
        if name == FILES[key].dest:
            got = _md5(path)
            if got != FILES[key].md5:
                raise ValueError(f"{path} has md5 {got}, but the official {name} has {FILES[key].md5}; "
                                 "re-download it, or import its extracted folder instead.")
            return key, Path(FILES[key].dest)
    if path.suffix == ".pt":
        d = read_cifar_n(path)
        if {"clean_label", "aggre_label", "worse_label"} <= set(d):
            key, n_classes, keys = "cifar10n", 10, [v for v in _CIFAR10N_KEYS.values()]
        elif {"clean_label", "noisy_label"} <= set(d):
            key, n_classes, keys = "cifar100n", 100, [v for v in _CIFAR100N_KEYS.values()]
        else:
            raise ValueError(f"{path}: a .pt file without CIFAR-10N/100N keys (found {sorted(d)}).")
        for k in keys:
            _check_labels_array(d[k], 50000, n_classes, f"{path}[{k}]")
        return key, Path(FILES[key].dest)
    if name == "side_info_cifar10N.csv":
        return "cifar10n-side-info", Path(FILES["cifar10n-side-info"].dest)
    if _REF_NAME.match(name):
        y = _read_label_npy(path, name[:-4])
        _check_labels_array(y, 50000, 100 if name.startswith("cifar100") else 10, str(path))
        return name[:-4], Path(FILES[name[:-4]].dest)
    if name == "cifar_rand1_syn_labels.csv":
        table = _read_syn_csv(path)
        _check_labels_array(table[:, 1], 50000, 10, str(path))
        return "cifar_rand1_syn_labels", Path(FILES["cifar_rand1_syn_labels"].dest)
    raise ValueError(f"{path}: not a file labnoise knows. Known: cifar-10-python.tar.gz, cifar-100-python.tar.gz, "
                     "an extracted cifar-10-batches-py/ or cifar-100-python/ folder, CIFAR-10_human.pt, "
                     "CIFAR-100_human.pt, side_info_cifar10N.csv, cifar{10,100}-{cluster,pmd}-{0.35,0.70}.npy, "
                     "cifar{10,100}-given-labels.npy, cifar_rand1_syn_labels.csv.")


def _identify_exact(path: Path) -> tuple[str, Path]:
    """:func:`identify`, then (for a single file the registry knows) its md5: a file that looks right but is not
    the official copy would be refused on every later read, so it is refused now, before anything is copied."""
    key, rel = identify(path)
    if path.is_file() and key in FILES:
        verify(key, path)
    return key, rel


def import_files(paths, root=None) -> list[tuple[str, Path]]:
    """Validate every path first (content, and md5 for a file the registry knows), then copy each into the data
    root (atomically). Returns (key, destination) pairs. If any path is invalid, nothing is copied."""
    root = data_root(root)
    plan = [(p, *_identify_exact(p)) for p in map(Path, paths)]
    done = []
    for src, key, rel in plan:
        dest = root / rel
        _copy_atomic(src, dest)
        if key in ("cifar10", "cifar100") and src.is_file():
            _extract_archive(dest, root, FILES[key].extract_to)
        done.append((key, dest))
    _load_dataset_cached.cache_clear()
    _cifar_n_cached.cache_clear()
    return done
