"""Human label noise (CIFAR-10N / CIFAR-100N) through the same result type as the synthetic generators."""
from __future__ import annotations

from .base import NoiseResult

__all__ = ["human"]


def human(label_set: str = "cifar10n", which: str = "random1", root=None, download: bool = True) -> NoiseResult:
    """A CIFAR-N human label set as a :class:`NoiseResult` (clean labels = the set's ``clean`` labels).

    Parameters
    ----------
    label_set : {"cifar10n", "cifar100n"}
    which : str
        cifar10n: aggre, worse, random1, random2, random3 (9.0%, 40.2%, 17.2%, 18.1%, 17.6% noise);
        cifar100n: noisy (40.2%).
    root, download
        Data root and download permission, as in :func:`labnoise.data.load_label_set`.

    Offline and without the CIFAR-N files, the error says where the file goes:

    >>> import tempfile
    >>> try:
    ...     human("cifar10n", "aggre", root=tempfile.mkdtemp(), download=False)
    ... except FileNotFoundError as e:
    ...     print(type(e).__name__)
    DataNotFoundError
    """
    from ..data import load_label_set

    if which == "clean":
        raise ValueError("which='clean' is the reference itself (no noise); choose a noisy set, e.g. 'random1', "
                         "'aggre' or 'worse' (cifar10n) or 'noisy' (cifar100n).")
    noisy = load_label_set(label_set, which, root=root, download=download)
    clean = load_label_set(label_set, "clean", root=root, download=download)
    C = 10 if label_set == "cifar10n" else 100
    return NoiseResult.from_labels(clean, noisy, kind="human", params={"label_set": label_set, "which": which},
                                   seed=None, num_classes=C)
