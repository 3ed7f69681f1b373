"""The PMD and CBN training label sets of chapters 03 and 04: one builder, so both chapters train on the same noise. For example (``features`` and ``clean_labels`` of one dataset's training split)::

    sets = make_label_sets("digits", features, clean_labels, kinds=("pmd", "cbn"), rates=(0.35, 0.7), seed=0)
    sets.labels["cbn"]["0.35"]           # int64 noisy labels, rate keys as labnoise.grid.rate_key
    sets.sources["cbn"]["0.35"]          # where they came from (the paper's file, or generated here)

For CIFAR-10/100 the seed paper's released label files (Lim et al.; made by the authors from CLIP features) are
the same noise as its Table I; they exist at rates 0.35 and 0.70. ``reference="auto"`` uses them when the data root
holds them and generates every other set; ``True`` requires them (and fails for any other rate); ``False``
always generates. Generated sets are seeded: PMD (type ``pmd_kind``) from the probabilities of a clean-label MLP
head on the features (:func:`labnoise.noise.pmd_probs`, computed once), CBN (Algorithm 1) on one t-SNE map of
the features (:func:`labnoise.tsne.tsne_map`, computed once for every rate, cached with ``tsne_cache``), each
calibrated to its rate.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_choice, check_features, check_labels, check_rate
from ..grid import rate_key

__all__ = ["LabelSets", "make_label_sets", "NOISE_KINDS", "REFERENCE_RATES"]

#: the noise kinds of the seed paper's Table I
NOISE_KINDS = ("pmd", "cbn")
#: rates at which the seed paper released its label files
REFERENCE_RATES = (0.35, 0.70)
_REFERENCE_KIND = {"pmd": "pmd", "cbn": "cluster"}
_REFERENCE_SOURCE = "paper's released file"


@dataclass
class LabelSets:
    """Noisy label sets keyed ``[kind][rate_key]``: ``labels`` (int64 arrays), ``results``
    (:class:`labnoise.noise.NoiseResult`) and ``sources`` (one sentence each: which file, or how generated)."""

    labels: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)

    def pairs(self) -> dict:
        """``{(kind, rate): labels}`` with float rates, the input of :func:`labnoise.grid.run_lnl_grid`."""
        return {(kd, float(r)): y for kd, by in self.labels.items() for r, y in by.items()}

    def summaries(self) -> dict:
        """``{kind: {rate_key: NoiseResult.summary()}}``."""
        return {kd: {r: res.summary() for r, res in by.items()} for kd, by in self.results.items()}

    @property
    def source(self) -> str:
        """One line for the whole collection: all from the paper's files, all generated here, or mixed."""
        kinds = {s == _REFERENCE_SOURCE for by in self.sources.values() for s in by.values()}
        if kinds == {True}:
            return "the paper's released label files"
        if kinds == {False}:
            return "generated here (seeded) from the profile's encoder features"
        return "mixed: the paper's released files where they exist, generated here (seeded) otherwise"


def _reference_available(dataset, reference, root) -> bool:
    from .. import data

    if not (reference == "auto" or isinstance(reference, bool)):
        raise ValueError(f"reference must be 'auto', True or False, got {reference!r}.")
    if reference is False:
        return False
    if dataset not in ("cifar10", "cifar100"):
        if reference is True:
            raise ValueError(f"the paper's released label files exist for cifar10/cifar100 only, not {dataset!r}; "
                             "pass reference='auto' or False to generate the noise.")
        return False
    have = data.has_files("reference", root)
    if reference is True and not have:
        raise ValueError("reference=True but the paper's label files are not in the data root; run "
                         "`labnoise data status` to see what is missing, or pass reference='auto'.")
    return have


def make_label_sets(dataset: str, features, clean_labels, *, kinds=NOISE_KINDS, rates=(0.35, 0.70), seed: int = 0,
                    reference: str | bool = "auto", pmd_kind: str = "I", pmd_epochs: int | None = None,
                    num_classes: int | None = None, root=None, tsne_cache=None, device="auto",
                    progress: bool = False) -> LabelSets:
    """The PMD and CBN label sets of ``clean_labels`` at each of ``rates`` (see the module docstring).

    ``features`` (N x D) generate the noise when the paper's files are not used; ``clean_labels`` must equal the
    paper's ``given`` labels when its files are used (a data root with mismatched files is an error).
    ``tsne_cache`` is passed to :func:`labnoise.tsne.tsne_map` (``True``: its default folder, shared with the
    other chapters). ``device`` and ``pmd_epochs`` (None: :func:`labnoise.noise.pmd_probs`'s default) train the
    PMD classifier; ``num_classes`` defaults to ``clean_labels.max() + 1``.
    """
    from .. import data
    from .. import noise as nz

    X = check_features(features)
    clean = check_labels(clean_labels, num_classes, length=X.shape[0], name="clean_labels")
    kinds = list(kinds)
    if not kinds:
        raise ValueError(f"kinds is empty; pass a subset of {list(NOISE_KINDS)}.")
    for kd in kinds:
        check_choice(kd, NOISE_KINDS, name="noise kind")
    rates = [check_rate(r) for r in rates]
    if not rates:
        raise ValueError("rates is empty; pass noise rates such as [0.35, 0.7].")
    use_ref = _reference_available(dataset, reference, root)
    if reference is True:
        bad = [r for r in rates if not any(np.isclose(r, q) for q in REFERENCE_RATES)]
        if bad:
            raise ValueError(f"the paper released label files at rates {list(REFERENCE_RATES)} only, not {bad}; "
                             "pass reference='auto' to generate the other rates.")
    if use_ref:
        given = data.load_reference_labels(dataset, "given", root=root, download=False)
        if not np.array_equal(given, clean):
            raise ValueError(f"the paper's given labels differ from the {dataset} training labels in "
                             f"{int((given != clean).sum())} places; the data root holds mismatched files.")
    out = LabelSets()
    probs = map_2d = None
    for kd in kinds:
        for rate in rates:
            ref_rate = next((q for q in REFERENCE_RATES if np.isclose(rate, q)), None) if use_ref else None
            if ref_rate is not None:
                y = data.load_reference_labels(dataset, _REFERENCE_KIND[kd], ref_rate, root=root, download=False)
                res = nz.NoiseResult.from_labels(clean, y, kind=kd, params={"source": _REFERENCE_SOURCE},
                                                 num_classes=num_classes)
                src = _REFERENCE_SOURCE
            elif kd == "cbn":
                if map_2d is None:
                    from ..tsne import tsne_map

                    map_2d = tsne_map(X, seed=seed, cache=tsne_cache, progress=progress)
                res = nz.cbn(map_2d=map_2d, labels=clean, target_rate=rate, seed=seed, num_classes=num_classes)
                src = "generated: CBN on a t-SNE map of these features"
            else:
                if probs is None:
                    probs = nz.pmd_probs(X, clean, num_classes=num_classes, epochs=pmd_epochs, seed=seed, device=device,
                                         progress=progress)
                res = nz.pmd(probs, clean, kind=pmd_kind, rate=rate, seed=seed)
                src = f"generated: PMD type {pmd_kind} from a clean-label MLP head on these features"
            key = rate_key(rate)
            out.labels.setdefault(kd, {})[key] = np.asarray(res.noisy_labels, dtype=np.int64)
            out.results.setdefault(kd, {})[key] = res
            out.sources.setdefault(kd, {})[key] = src
    return out
