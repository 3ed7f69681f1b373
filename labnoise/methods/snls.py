"""Soft Neighbour Label Sampling (SNLS): soft training targets from the labels of feature-space neighbours.

For example ``i`` with (possibly noisy) label ``y_i`` and its ``k`` nearest neighbours in a frozen encoder's
feature space,

    soft(i) = (1 - alpha) * freq_k(i) + alpha * onehot(y_i),

where ``freq_k(i)`` is the normalised histogram of the neighbours' noisy labels and ``alpha`` the trust in the
given label (``alpha = 0.3``). The formula, ``k = 100``, Euclidean distances on the un-normalised features and
the example counting among its own ``k`` neighbours (``include_self=True``) come from the authors' public
code: the paper states none of them.

A *wide* neighbourhood matters under cluster-based noise (CBN), which relabels whole sub-clusters: with a small
``k`` every neighbour of a point in a mislabelled sub-cluster carries the same wrong label, while ``k = 100``
reaches past the sub-cluster into the surrounding correctly labelled class cluster.

The targets are used (a) as soft cross-entropy targets (``labnoise.train.fit`` with an ``N x C`` ``y``) and
(b) as the target of LRA-Diffusion, where the soft vector replaces the one-hot label sampled from the
neighbours (:class:`labnoise.methods.lra_diffusion.LRADiffusion`).

    >>> soft = snls_targets(features, noisy_labels, k=100, alpha=0.3)     # doctest: +SKIP
    >>> soft.shape, soft.sum(1).round(6).min()                              # doctest: +SKIP
    ((50000, 10), 1.0)
"""
from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_features, check_labels, check_num_classes

__all__ = ["snls_targets", "neighbor_indices", "neighbor_label_freq", "soften", "soft_label_accuracy",
           "train_host", "compare_hosts", "make_label_sets", "HOSTS"]

METRICS = ("euclidean", "cosine")
#: Learners that SNLS targets can sit on: a cross-entropy MLP head and LRA-Diffusion (frozen-feature lane).
HOSTS = ("ce", "lra_diffusion")


def neighbor_indices(features, k: int, *, include_self: bool = True, metric: str = "euclidean",
                     device="auto", chunk_size: int | None = None, progress: bool = False) -> np.ndarray:
    """Indices (N, k) int64 of each example's ``k`` nearest neighbours among the same ``features``, nearest first.

    Parameters
    ----------
    features : (N, D) array.
    k : neighbourhood size (1 <= k <= N, or N - 1 without self).
    include_self : True -> column 0 is the example itself and the other ``k - 1`` columns its nearest *other*
        examples (the public SNLS code's convention: the query point is found in its own index). False -> ``k``
        nearest other examples. Self is always first, so exact duplicates cannot push it out.
    metric : ``"euclidean"`` (un-normalised features, as in the public code) or ``"cosine"``.
    device, chunk_size, progress : passed to :func:`labnoise.neighbors.knn` (exact search).
    """
    X = check_features(features)
    n = X.shape[0]
    check_choice(metric, METRICS, name="metric")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    k = int(k)
    k_max = n if include_self else n - 1
    if k > k_max:
        raise ValueError(f"k={k} is too large for {n} examples (at most {k_max} with include_self={include_self}); "
                         "lower k.")
    from ..neighbors import knn

    _, idx = knn(X, k, include_self=include_self, metric=metric, device=device, chunk_size=chunk_size,
                 progress=progress)
    return np.ascontiguousarray(idx, dtype=np.int64)


def neighbor_label_freq(neighbors, noisy_labels, num_classes: int | None = None, k: int | None = None) -> np.ndarray:
    """Normalised label histogram (N, C) float32 of the first ``k`` columns of ``neighbors`` (vectorised bincount)."""
    lab = check_labels(noisy_labels, num_classes, name="noisy_labels")
    C = check_num_classes(num_classes, lab)
    nbr = np.asarray(neighbors)
    if nbr.ndim != 2 or not np.issubdtype(nbr.dtype, np.integer):
        raise ValueError(f"neighbors must be an (N, k) integer index array, got shape {nbr.shape} dtype {nbr.dtype}.")
    if k is not None:
        if k < 1 or k > nbr.shape[1]:
            raise ValueError(f"k={k} but neighbors has {nbr.shape[1]} columns; compute more neighbours or lower k.")
        nbr = nbr[:, :k]
    if nbr.size and (nbr.min() < 0 or nbr.max() >= lab.shape[0]):
        raise ValueError("neighbors contains indices outside the label array; they must index noisy_labels.")
    n, kk = nbr.shape
    flat = (np.arange(n, dtype=np.int64)[:, None] * C + lab[nbr]).ravel()
    counts = np.bincount(flat, minlength=n * C).reshape(n, C)
    return (counts / np.float32(kk)).astype(np.float32)


def soften(freq, noisy_labels, alpha: float = 0.3) -> np.ndarray:
    """``(1 - alpha) * freq + alpha * onehot(noisy_labels)`` as float32 (rows of ``freq`` must sum to 1)."""
    freq = np.asarray(freq, dtype=np.float32)
    lab = check_labels(noisy_labels, freq.shape[1], name="noisy_labels", length=freq.shape[0])
    a = _check_alpha(alpha)
    out = (1.0 - a) * freq
    out[np.arange(len(lab)), lab] += a
    return out.astype(np.float32)


def snls_targets(features, noisy_labels, k: int = 100, alpha: float = 0.3, include_self: bool = True,
                 metric: str = "euclidean", num_classes: int | None = None, device="auto", *,
                 neighbors=None, progress: bool = False) -> np.ndarray:
    """SNLS soft labels (N, C) float32: ``(1 - alpha) * freq_k + alpha * onehot(y)``; rows sum to 1.

    Parameters
    ----------
    features : (N, D) frozen encoder features (un-normalised; the public code used CLIP ViT-L/14).
    noisy_labels : (N,) the given (noisy) labels.
    k : neighbours whose labels form the histogram (paper: 100).
    alpha : trust in the given label, in [0, 1] (paper: 0.3). ``alpha = 1`` returns the one-hot labels.
    include_self : the example counts among its own ``k`` neighbours (public code: True).
    metric : ``"euclidean"`` (public code) or ``"cosine"``.
    num_classes : C (default: ``max(label) + 1``).
    device : where the kNN search runs (``"auto"``: GPU if available).
    neighbors : optional precomputed (N, >= k) table from :func:`neighbor_indices` with the same
        ``include_self``/``metric`` (lets a sweep over ``k`` reuse one search); ``features`` is then only
        checked for its length.
    progress : tqdm bar for the kNN search.
    """
    X = check_features(features)
    lab = check_labels(noisy_labels, num_classes, name="noisy_labels", length=X.shape[0])
    C = check_num_classes(num_classes, lab)
    a = _check_alpha(alpha)
    check_choice(metric, METRICS, name="metric")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    if a == 1.0:
        return np.eye(C, dtype=np.float32)[lab]
    if neighbors is None:
        nbr = neighbor_indices(X, int(k), include_self=include_self, metric=metric, device=device, progress=progress)
    else:
        nbr = np.asarray(neighbors)
        if nbr.ndim != 2 or nbr.shape[0] != X.shape[0] or nbr.shape[1] < k:
            raise ValueError(f"neighbors must have shape (N, >= k) = ({X.shape[0]}, >= {k}), got {nbr.shape}; "
                             "compute it with neighbor_indices(features, k).")
    freq = neighbor_label_freq(nbr, lab, C, k=int(k))
    return soften(freq, lab, a)


# ---------------------------------------------------------------------------------------------- internals
def _check_alpha(alpha) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}.") from None
    if not (0.0 <= a <= 1.0):
        raise ValueError(f"alpha must be in [0, 1] (trust in the given label; paper 0.3), got {alpha!r}.")
    return a


# ---------------------------------------------------------------------------------------- experiment helpers
def soft_label_accuracy(neighbors, noisy_labels, clean_labels, ks, alphas,
                        num_classes: int | None = None) -> np.ndarray:
    """Accuracy (%) of ``argmax soft(i)`` against the clean labels on a (len(ks), len(alphas)) grid.

    One neighbour table (N, >= max(ks)) serves the whole grid (each k uses its first k columns). Ties in the
    argmax go to the lowest class index (numpy's argmax).
    """
    lab = check_labels(noisy_labels, num_classes, name="noisy_labels")
    C = check_num_classes(num_classes, lab)
    clean = check_labels(clean_labels, C, name="clean_labels", length=lab.shape[0])
    out = np.empty((len(ks), len(alphas)))
    for i, k in enumerate(ks):            # a loop over grid points; examples are vectorised
        freq = neighbor_label_freq(neighbors, lab, C, k=int(k))
        for j, a in enumerate(alphas):
            out[i, j] = 100.0 * np.mean(soften(freq, lab, a).argmax(1) == clean)
    return out


def make_label_sets(dataset: str, features, clean_labels, kinds=("cbn", "pmd"), rates=(0.35, 0.70), *, seed: int = 0,
                    reference: str | bool = "auto", root=None, tsne_cache=None, progress: bool = False):
    """Noisy training label sets ``{kind: {"0.35": labels}}`` and their origin ``{kind: {"0.35": str}}``
    (rates keyed as two-decimal strings, as in ``results.json``).

    ``reference="auto"``: for CIFAR-10/100 use the seed paper's released files when the data root has them
    (:func:`labnoise.data.load_reference_labels`; generated by the authors from CLIP features), else generate:
    CBN with :func:`labnoise.noise.cbn` (seeded t-SNE map of ``features``, ``(n, r)`` calibrated to the rate) and
    PMD type I with :func:`labnoise.noise.pmd` on the probabilities of a clean-label MLP head
    (:func:`labnoise.noise.pmd_probs`). ``reference=True`` requires the files, ``False`` always generates.
    One t-SNE map serves every CBN rate; ``tsne_cache`` is passed to :func:`labnoise.tsne.tsne_map` (``True``:
    its default cache folder, shared with the other chapters).
    """
    from .. import data as _data
    from .. import noise as _noise

    X = check_features(features)
    clean = check_labels(clean_labels, length=X.shape[0], name="clean_labels")
    for kd in kinds:
        check_choice(kd, ("cbn", "pmd"), name="noise kind")
    use_ref = False
    if dataset in ("cifar10", "cifar100") and reference in ("auto", True):
        use_ref = _data.has_files("reference", root)
        if reference is True and not use_ref:
            raise ValueError("reference=True but the paper's label files are not in the data root; run "
                             "`labnoise data status` or pass reference='auto'.")
    elif reference is True:
        raise ValueError(f"the paper's released label files exist for cifar10/cifar100 only, not {dataset!r}.")
    sets, source = {}, {}
    probs = map_2d = None
    for kd in kinds:
        for rate in rates:
            rate = float(rate)
            if use_ref and rate in (0.35, 0.70):
                lab = _data.load_reference_labels(dataset, {"cbn": "cluster", "pmd": "pmd"}[kd], rate, root=root)
                src = "paper's released file"
            elif kd == "cbn":
                if map_2d is None:
                    from ..tsne import tsne_map

                    map_2d = tsne_map(X, seed=seed, cache=tsne_cache, progress=progress)
                lab = _noise.cbn(map_2d=map_2d, labels=clean, target_rate=rate, seed=seed).noisy_labels
                src = "generated: CBN on a t-SNE map of these features"
            else:
                if probs is None:
                    probs = _noise.pmd_probs(X, clean, seed=seed, progress=progress)
                lab = _noise.pmd(probs, clean, kind="I", rate=rate, seed=seed).noisy_labels
                src = "generated: PMD type I from a clean-label MLP head on these features"
            key = f"{rate:.2f}"
            sets.setdefault(kd, {})[key] = np.asarray(lab, dtype=np.int64)
            source.setdefault(kd, {})[key] = src
    return sets, source


def _standardize(train, test):
    mu = train.mean(0)
    sd = train.std(0)
    sd = np.where(sd > 1e-6, sd, 1.0)
    return ((train - mu) / sd).astype(np.float32), ((test - mu) / sd).astype(np.float32)


def train_host(host: str, train_features, targets, test_features, test_labels, *, seed: int = 0,
               epochs: int = 20, batch_size: int = 256, lr: float = 1e-3, hidden: int = 512,
               neighbors=None, lra: dict | None = None, device="auto", progress: bool = False) -> float:
    """Train ``host`` on (features, targets) and return its test accuracy in %.

    Parameters
    ----------
    host : ``"ce"`` -- an MLP head (one hidden layer of ``hidden`` units) trained with (soft) cross-entropy by
        :func:`labnoise.train.fit` (Adam, cosine schedule, no weight decay, last epoch, standardised features);
        ``"lra_diffusion"`` -- :class:`~labnoise.methods.lra_diffusion.LRADiffusion` (last epoch).
    targets : (N,) integer labels (CE on them; LRA-Diffusion retrieves labels from neighbours) or (N, C) soft
        targets (soft CE; LRA-Diffusion's target vector), e.g. :func:`snls_targets`.
    seed, epochs, batch_size, lr : training settings (``lr`` for CE; LRA-Diffusion's in ``lra``).
    neighbors : optional precomputed neighbour table for LRA-Diffusion's retrieval (first ``k`` columns used).
    lra : extra keyword arguments for :class:`LRADiffusion` (e.g. ``{"k": 10, "inference": "zero"}``; default
        inference: deterministic DDIM from y_T = 0, as the public code).
    """
    check_choice(host, HOSTS, name="host")
    Xtr = check_features(train_features)
    Xte = check_features(test_features)
    yte = check_labels(test_labels, name="test_labels", length=Xte.shape[0])
    t = np.asarray(targets)
    C = t.shape[1] if t.ndim == 2 else None
    if host == "ce":
        from ..train import fit

        a, b = _standardize(Xtr, Xte)
        res = fit("mlp", a, t, epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adam", weight_decay=0.0,
                  seed=seed, device=device, progress=progress, num_classes=C,
                  model_kwargs={"hidden": (int(hidden),)})
        return 100.0 * float(np.mean(res.predict_proba(b, device=device).argmax(1) == yte))
    from .lra_diffusion import LRADiffusion

    kw = dict(lra or {})
    kw.setdefault("epochs", epochs)
    kw.setdefault("batch_size", batch_size)
    model = LRADiffusion(seed=seed, device=device, progress=progress, **kw)
    if t.ndim == 1 and neighbors is not None:
        model.fit(Xtr, t, neighbors=neighbors)
    else:
        model.fit(Xtr, t)
    return 100.0 * model.score(Xte, yte)


def compare_hosts(train_features, label_sets: dict, test_features, test_labels, *, hosts=HOSTS, seeds=(0,),
                  k: int = 100, alpha: float = 0.3, neighbors=None, num_classes: int | None = None,
                  host_kwargs: dict | None = None, device="auto", progress: bool = True) -> dict:
    """Test accuracy of every host with and without SNLS targets on every noisy label set, and the gain.

    Parameters
    ----------
    train_features, test_features, test_labels : frozen features and the clean test labels.
    label_sets : ``{name: noisy_labels}`` e.g. ``{"cbn": {0.35: y1, 0.7: y2}, "pmd": {...}}`` (two levels) or
        a flat ``{name: labels}``.
    hosts : subset of :data:`HOSTS`.
    seeds : training seeds (the label sets are fixed; each seed retrains both variants).
    k, alpha : SNLS settings; ``neighbors`` (N, >= k) from :func:`neighbor_indices` avoids a new search.
    host_kwargs : ``{host: kwargs for train_host}``.

    Returns
    -------
    ``{"acc": {host: {set...: {"plain": [..per seed..], "snls": [...]}}}, "gain": {host: {set...: points}}}``
    where gain = mean over seeds of (snls - plain) test accuracy, in percentage points.
    """
    from tqdm.auto import tqdm

    Xtr = check_features(train_features)
    hosts = [check_choice(h, HOSTS, name="host") for h in hosts]
    flat = {}
    for name, v in label_sets.items():
        if isinstance(v, dict):
            for sub, lab in v.items():
                flat[(name, sub)] = lab
        else:
            flat[(name,)] = v
    host_kwargs = host_kwargs or {}
    if neighbors is None:
        neighbors = neighbor_indices(Xtr, k, device=device, progress=False)
    acc: dict = {}
    gain: dict = {}
    jobs = [(h, key, s) for h in hosts for key in flat for s in seeds]
    bar = tqdm(jobs, desc="SNLS on hosts", disable=not progress, leave=False)
    softs = {}
    for h, key, s in bar:
        noisy = check_labels(flat[key], num_classes, name="noisy labels", length=Xtr.shape[0])
        if key not in softs:
            softs[key] = snls_targets(Xtr, noisy, k=k, alpha=alpha, num_classes=num_classes, neighbors=neighbors)
        kw = dict(host_kwargs.get(h, {}))
        plain = train_host(h, Xtr, noisy, test_features, test_labels, seed=s, neighbors=neighbors, device=device, **kw)
        snls = train_host(h, Xtr, softs[key], test_features, test_labels, seed=s, device=device, **kw)
        node = acc.setdefault(h, {})
        for part in key[:-1]:
            node = node.setdefault(part, {})
        cell = node.setdefault(key[-1], {"plain": [], "snls": []})
        cell["plain"].append(round(plain, 3))
        cell["snls"].append(round(snls, 3))
        bar.set_postfix(host=h, set="/".join(map(str, key)), plain=f"{plain:.1f}", snls=f"{snls:.1f}")
    bar.close()
    for h in acc:
        for key in flat:
            node, gnode = acc[h], gain.setdefault(h, {})
            for part in key[:-1]:
                node, gnode = node[part], gnode.setdefault(part, {})
            cell = node[key[-1]]
            gnode[key[-1]] = round(float(np.mean(np.subtract(cell["snls"], cell["plain"]))), 3)
    return {"acc": acc, "gain": gain}
