"""Chapter-level drivers for SNLS (chapter 04): SNLS targets on two hosts (the label sets: :mod:`.label_sets`).

The algorithm itself is :mod:`labnoise.methods.snls`; this module trains and compares.
"""
from __future__ import annotations

import numpy as np

from .._torch import with_precision
from .._validation import check_choice, check_features, check_labels
from ..methods.snls import snls_targets
from ..neighbors import neighbor_indices

__all__ = ["train_host", "compare_hosts", "HOSTS", "label_sweep", "k_sweep_reading", "model_sweep",
           "model_sweep_reading", "pick_examples"]

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


# ------------------------------------------------------------------------------------------ the sweeps
def label_sweep(neighbors, label_sets: dict, clean_labels, ks, alphas, *, k: int, alpha: float) -> dict:
    """Accuracy (%) of ``argmax soft(i)`` against the clean labels over ``ks`` (at ``alpha``) and over
    ``alphas`` (at the ``ks`` value nearest ``k``), for every label set ``{kind: {rate_key: labels}}``.

    Returns ``{"k": ks, "alpha": alphas, "k_at": .., "alpha_at": .., "label_acc": {kind: {rate: {"vs_k",
    "vs_alpha", "given"}}}}`` (percent, rounded to 3 decimals)."""
    from ..methods.snls import soft_label_accuracy

    ks = [int(x) for x in ks if int(x) <= neighbors.shape[1]]
    alphas = [float(a) for a in alphas]
    ia = int(np.argmin(np.abs(np.array(alphas) - alpha)))
    ik = int(np.argmin(np.abs(np.array(ks) - k)))
    clean = np.asarray(clean_labels)
    out = {"k": ks, "alpha": alphas, "k_at": ks[ik], "alpha_at": alphas[ia], "label_acc": {}}
    for kd, by in label_sets.items():
        for r, y in by.items():
            g = soft_label_accuracy(neighbors, y, clean, ks, alphas)
            out["label_acc"].setdefault(kd, {})[r] = {
                "vs_k": [round(float(v), 3) for v in g[:, ia]], "vs_alpha": [round(float(v), 3) for v in g[ik, :]],
                "given": round(100 * float(np.mean(np.asarray(y) == clean)), 3)}
    return out


def k_sweep_reading(sweep: dict) -> str:
    """Markdown generated from :func:`label_sweep`: per label set, the soft label's accuracy at the smallest
    ``k`` and at its best ``k`` against the given labels, and from which ``k`` on (if any) it beats them.
    Replaces any fixed sentence about sub-cluster sizes: what the run shows is what is said."""
    ks = sweep["k"]
    lines = [f"In this run (alpha = {sweep['alpha_at']}):", ""]
    for kd, by in sweep["label_acc"].items():
        for r, v in by.items():
            acc, given = v["vs_k"], v["given"]
            best = int(np.argmax(acc))
            above = [kk for kk, a in zip(ks, acc) if a > given]
            if not above:
                verdict = "not above the given labels at any k"
            elif len(above) == len(ks):
                verdict = "above the given labels at every k"
            else:
                verdict = "above the given labels at k = " + ", ".join(map(str, above)) + " only"
            lines.append(f"* {kd.upper()} {r}: given labels {given:.1f}% correct; the soft label's argmax "
                         f"{acc[0]:.1f}% at k = {ks[0]}, best {acc[best]:.1f}% at k = {ks[best]}; {verdict}.")
    return "\n".join(lines)


def model_sweep(train_features, label_sets: dict, test_features, test_labels, *, neighbors, ks, alphas,
                k: int, alpha: float, seed: int = 0, epochs: int = 10, hidden: int = 256, device="auto",
                precision: str | None = None) -> dict:
    """Test accuracy (%) of the cross-entropy host trained on SNLS(k, alpha) targets, over ``ks`` (at
    ``alpha``) and ``alphas`` (at ``k``), for every label set of ``label_sets`` (``{rate_key: labels}``, e.g.
    the CBN sets at 35% and 70%). ``alpha = 1`` is plain CE on the given labels. Each (k, alpha) is trained once.

    Returns ``{rate: {"k": ks, "alpha": alphas, "vs_k": [...], "vs_alpha": [...]}}``."""
    from ..methods.snls import snls_targets

    ks = [int(x) for x in ks if int(x) <= neighbors.shape[1]]
    kw = dict(seed=seed, epochs=epochs, hidden=hidden, device=device, precision=precision)
    out = {}
    for r, y in label_sets.items():
        memo = {}

        def acc(kk, a):
            if (kk, a) not in memo:
                tgt = snls_targets(train_features, y, k=kk, alpha=a, neighbors=neighbors)
                memo[kk, a] = round(train_host("ce", train_features, tgt, test_features, test_labels, **kw), 3)
            return memo[kk, a]

        out[r] = {"k": ks, "alpha": [float(a) for a in alphas], "alpha_at": float(alpha), "k_at": int(k),
                  "vs_k": [acc(kk, float(alpha)) for kk in ks], "vs_alpha": [acc(int(k), float(a)) for a in alphas]}
    return out


def model_sweep_reading(msweep: dict, kind: str) -> str:
    """Markdown generated from :func:`model_sweep`: per rate, the best alpha and k against plain CE
    (alpha = 1, when swept)."""
    lines = []
    for r, v in msweep.items():
        a, acc = v["alpha"], v["vs_alpha"]
        best = int(np.argmax(acc))
        txt = f"* {kind.upper()} {r}: best alpha {a[best]} ({acc[best]:.2f}%)"
        if 1.0 in a:
            txt += f" against plain CE (alpha = 1) {acc[a.index(1.0)]:.2f}%"
        if v["alpha_at"] in a:
            txt += f"; the paper's alpha = {v['alpha_at']}: {acc[a.index(v['alpha_at'])]:.2f}%"
        kb = int(np.argmax(v["vs_k"]))
        lines.append(txt + f"; best k {v['k'][kb]} ({v['vs_k'][kb]:.2f}%, at alpha = {v['alpha_at']}).")
    return "\n".join(lines)


def pick_examples(soft, noisy, clean, *, seed: int = 0) -> dict:
    """Mislabelled examples split by whether the soft label's argmax is the true class, and one of each drawn
    with ``seed``: ``{"wrong", "rescued", "not_rescued", "example", "rescued_pct"}``."""
    noisy, clean = np.asarray(noisy), np.asarray(clean)
    wrong = np.flatnonzero(noisy != clean)
    rescued = wrong[np.asarray(soft)[wrong].argmax(1) == clean[wrong]]
    pool = rescued if rescued.size else wrong
    return {"wrong": wrong, "rescued": rescued, "not_rescued": np.setdiff1d(wrong, rescued),
            "example": int(np.random.default_rng(seed).choice(pool)),
            "rescued_pct": round(100 * rescued.size / max(wrong.size, 1), 2)}
