"""Every remote file labnoise knows: official URL, md5, size, licence and where it lives in the data root.

The data root (see :func:`labnoise.data.data_root`) mirrors this table::

    <root>/cifar-10-python.tar.gz  ->  <root>/cifar-10-batches-py/
    <root>/cifar-100-python.tar.gz ->  <root>/cifar-100-python/
    <root>/cifar-n/CIFAR-10_human.pt, CIFAR-100_human.pt, side_info_cifar10N.csv
    <root>/reference-labels/cifar{10,100}-{cluster,pmd}-{0.35,0.70}.npy, cifar{10,100}-given-labels.npy,
                            cifar_rand1_syn_labels.csv
    <root>/cache/<kind>/   (features, t-SNE, kNN, grid, memorization caches: labnoise.cache; $LABNOISE_CACHE
                            moves them elsewhere; <root>/features/ is still read where an older layout left it)

Every file with an md5 here is checked against it when it is read (:func:`labnoise.data.verify`): a corrupt or
truncated copy is a :class:`labnoise.data.DataError` that names it.

    >>> f = FILES["cifar10"]
    >>> f.group, f.dest, f.extract_to
    ('cifar10', 'cifar-10-python.tar.gz', 'cifar-10-batches-py')
    >>> all(len(f.md5) == 32 for f in FILES.values())
    True
"""
from __future__ import annotations

from dataclasses import dataclass

CIFAR_N_RAW = "https://raw.githubusercontent.com/UCSC-REAL/cifar-10-100n/main"
SNLS_RAW = "https://raw.githubusercontent.com/gordon-lim/soft-neighbor-labels/main"


@dataclass(frozen=True)
class RemoteFile:
    key: str            # short name used by `labnoise data status`
    group: str          # what it belongs to: cifar10, cifar100, cifar10n, cifar100n, reference
    url: str
    md5: str
    size: int           # bytes
    dest: str           # path relative to the data root
    licence: str
    extract_to: str | None = None  # for archives: the folder they unpack to (relative to the root)


_CIFAR_LICENCE = "CIFAR (Krizhevsky 2009): free for research; cite the tech report"
_CIFARN_LICENCE = "CC BY-NC 4.0 (CIFAR-N, Wei et al. 2022): download at run time, never redistribute"
_SNLS_LICENCE = "released with Lim et al. (soft-neighbor-labels); no licence stated: download, do not redistribute"

FILES: dict[str, RemoteFile] = {}


def _add(f: RemoteFile) -> None:
    FILES[f.key] = f


_add(RemoteFile("cifar10", "cifar10", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                "c58f30108f718f92721af3b95e74349a", 170498071, "cifar-10-python.tar.gz", _CIFAR_LICENCE,
                extract_to="cifar-10-batches-py"))
_add(RemoteFile("cifar100", "cifar100", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                "eb9058c3a382ffc7106e4002c42a8d85", 169001437, "cifar-100-python.tar.gz", _CIFAR_LICENCE,
                extract_to="cifar-100-python"))
_add(RemoteFile("cifar10n", "cifar10n", f"{CIFAR_N_RAW}/data/CIFAR-10_human.pt",
                "96644db5574813cae939af5f7f2a0aec", 2401007, "cifar-n/CIFAR-10_human.pt", _CIFARN_LICENCE))
_add(RemoteFile("cifar100n", "cifar100n", f"{CIFAR_N_RAW}/data/CIFAR-100_human.pt",
                "a67b45c1d7992051865b5c755bd68bb1", 1000959, "cifar-n/CIFAR-100_human.pt", _CIFARN_LICENCE))
_add(RemoteFile("cifar10n-side-info", "cifar10n", f"{CIFAR_N_RAW}/side_info_cifar10N.csv",
                "c9979616434316fcfa9eeba887c8b8f9", 170902, "cifar-n/side_info_cifar10N.csv", _CIFARN_LICENCE))

_REFERENCE_MD5 = {
    "cifar10-cluster-0.35.npy": "788fb7d1217515d0a2e08feebbf7e485",
    "cifar10-cluster-0.70.npy": "537058c8a0629c9e968984e2eefa775f",
    "cifar10-given-labels.npy": "9553756b9042b58dd1012b8b0b8bddfc",
    "cifar10-pmd-0.35.npy": "d8cdabff475cd26ea1c5244b0653aa35",
    "cifar10-pmd-0.70.npy": "3885224359796e298f664bd36d6e2efc",
    "cifar100-cluster-0.35.npy": "92bfba08a2d987bbe8f24583d76695da",
    "cifar100-cluster-0.70.npy": "be586bbe978145da88d6980b47d2ed09",
    "cifar100-given-labels.npy": "806b17c6f3ef2e536f1629839425d2ce",
    "cifar100-pmd-0.35.npy": "340a86663dfb6e826c1c7be7a4916232",
    "cifar100-pmd-0.70.npy": "bfecbf09b05a0cb92c2e2fc258da1967",
}
for _name, _md5 in _REFERENCE_MD5.items():
    _add(RemoteFile(_name[:-4], "reference", f"{SNLS_RAW}/label_noise/{_name}", _md5, 400128,
                    f"reference-labels/{_name}", _SNLS_LICENCE))
_add(RemoteFile("cifar_rand1_syn_labels", "reference",
                f"{SNLS_RAW}/label_memorization_cifar10n/cifar_rand1_syn_labels.csv",
                "f37ea46b6292a267a3610d24a01e24a9", 200024, "reference-labels/cifar_rand1_syn_labels.csv",
                _SNLS_LICENCE))

GROUPS = tuple(dict.fromkeys(f.group for f in FILES.values()))
