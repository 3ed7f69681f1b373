"""Chapter-level drivers for SNLS (chapter 04): SNLS targets on two hosts (the label sets: :mod:`.label_sets`).

The algorithm itself is :mod:`labnoise.methods.snls`; this module trains and compares.
"""
from __future__ import annotations

import numpy as np

from .._torch import with_precision
from .._validation import check_choice, check_features, check_labels
from ..methods.snls import snls_targets
from ..neighbors import neighbor_indices

__all__ = ["train_host", "compare_hosts", "HOSTS"]

#: Learners that SNLS targets can sit on: a cross-entropy MLP head and LRA-Diffusion (frozen-feature lane).
HOSTS = ("ce", "lra_diffusion")


def _standardize(train, test):
    mu = train.mean(0)
    sd = train.std(0)
    sd = np.where(sd > 1e-6, sd, 1.0)
    return ((train - mu) / sd).astype(np.float32), ((test - mu) / sd).astype(np.float32)


def train_host(host: str, train_features, targets, test_features, test_labels, *, seed: int = 0,
               epochs: int = 20, batch_size: int = 256, lr: float = 1e-3, hidden: int = 512,
               neighbors=None, lra: dict | None = None, device="auto", precision: str | None = None,
               progress: bool = False) -> float:
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
    precision : ``"fp32"``, ``"bf16"`` or ``"auto"`` for either host; ``None`` keeps each host's default
        (:func:`labnoise.train.fit`: fp32; LRA-Diffusion: ``lra["precision"]``, default auto).
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
                  model_kwargs={"hidden": (int(hidden),)}, precision=precision or "fp32")
        return 100.0 * float(np.mean(res.predict_proba(b, device=device).argmax(1) == yte))
    from ..methods.lra_diffusion import LRADiffusion

    kw = with_precision(lra, precision, name="lra")
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
                  host_kwargs: dict | None = None, device="auto", precision: str | None = None,
                  progress: bool = True) -> dict:
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
    precision : passed to :func:`train_host` for every host (``None``: each host's default).

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
        kw.setdefault("precision", precision)
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
