"""Chapter-level drivers for LEND (chapter 05): label sets, the training grid, its summaries and the dilution
analyses. The algorithm itself is :mod:`labnoise.methods.lend`; this module trains and compares.

* :func:`toy` / :func:`toy_dilution` -- the 2-D dilution toy, both rules, label accuracy per step;
* :func:`make_label_sets` -- symmetric and asymmetric label sets, each titled with its *realised* rate;
* :func:`run_training_grid` -- every (method, setting, seed) through :func:`labnoise.train.fit`, one cached JSON
  per cell (:func:`labnoise.grid.run_grid`); LEND variants are method names ``"lend:<rule>:<T|conv>"``;
* :func:`summarize` -- Last / Best / curves / the paper's claim per setting;
* :func:`dilution_vs_steps` -- diluted-label accuracy against ``T`` (and until converged) for both rules, on a
  trained network's embedding, batch by batch as LEND does;
* :func:`reading` -- the chapter's generated sentences.
"""
from __future__ import annotations

import numpy as np

from .. import noise
from ..grid import rate_key, run_grid

__all__ = ["ASYM_KINDS", "NAMES", "toy", "toy_dilution", "make_label_sets", "setting_title", "variant_name",
           "parse_variant", "steps_arg", "run_training_grid", "curve", "summarize", "purity_table", "rule_table",
           "dilution_vs_steps", "trained_embeddings", "steps_effect", "steps_reading", "selection_curves",
           "batch_size_sweep", "train_settings", "rule_reading", "reading"]

NAMES = {"ce": "Standard", "coteaching": "Co-teaching", "gce": "GCE", "jocor": "JoCoR", "sigua": "SIGUA",
         "lend": "LEND"}

#: asymmetric-noise definitions: ``"pairflip"`` -- Co-teaching's pair flipping (LEND cites Co-teaching for its
#: asymmetric noise): every class flips to the next one (i -> i+1 mod C) at ``rate``, so the realised overall
#: rate is ``rate``; ``"pairs"`` -- the CIFAR-10 class pairs truck->automobile, bird->airplane, deer->horse,
#: cat<->dog at ``rate`` per *source* class, so only half the classes flip and the overall rate is about rate/2.
ASYM_KINDS = ("pairflip", "pairs")


# ------------------------------------------------------------------------------------------------- the toy
def toy(n: int, rate: float, seed: int):
    """Four 2-D clusters (two of them touching), ``rate`` symmetric noise: ``(x, clean, noisy)``."""
    rng = np.random.default_rng(seed)
    angles = np.array([0.0, 0.75, 2.4, 4.2])
    y = rng.choice(4, size=n, p=np.array([0.35, 0.15, 0.25, 0.25]))
    r = 3 + rng.normal(size=n) * 0.4
    a = angles[y] + rng.normal(size=n) * 0.18
    x = np.stack([r * np.cos(a), r * np.sin(a)], 1).astype(np.float32)
    yn = y.copy()
    f = rng.random(n) < rate
    yn[f] = (y[f] + rng.integers(1, 4, f.sum())) % 4
    return x, y, yn


def toy_dilution(x, clean, noisy, steps, *, rules=("knn", "two_hop"), k=8, gamma=3.0, alpha=0.99, tol=1e-4,
                 max_steps=500) -> dict:
    """Per rule: the argmax of ``Z(T)`` for every ``T`` in ``steps`` and until converged, and their accuracy.

    Returns ``{rule: {"labels": {T: (n,) array}, "acc": {T: float}, "converged_steps": int}}``; ``T`` keys are
    ints and ``"conv"``."""
    import torch
    import torch.nn.functional as F

    from ..methods.lend import affinity, dilute, dilution_matrix

    out = {}
    for rule in rules:
        W = dilution_matrix(affinity(x, k=k, gamma=gamma), rule=rule)
        Z0 = F.one_hot(torch.as_tensor(noisy).long(), 4).float()
        path = dilute(W, Z0, alpha=alpha, steps=max(steps), return_path=True)
        Zc, tc = dilute(W, Z0, alpha=alpha, steps=None, tol=tol, max_steps=max_steps, return_steps=True)
        labels = {t: path[t].argmax(1).numpy() for t in steps}
        labels["conv"] = Zc.argmax(1).numpy()
        out[rule] = {"labels": labels, "acc": {t: float((v == clean).mean()) for t, v in labels.items()},
                     "converged_steps": int(tc)}
    return out


# ----------------------------------------------------------------------------------------------- label sets
def make_label_sets(clean, *, sym_rates, asym_rates, asym_kind: str = "pairflip", num_classes: int,
                    seed: int = 0) -> dict:
    """``{(kind, rate): NoiseResult}`` for ``kind`` in {"symmetric", "asymmetric"}; see :data:`ASYM_KINDS`."""
    if asym_kind not in ASYM_KINDS:
        raise ValueError(f"asym_kind must be one of {ASYM_KINDS} (pairflip: Co-teaching's i -> i+1 at the rate; "
                         f"pairs: the CIFAR-10 class pairs at the rate per source class), got {asym_kind!r}.")
    out = {}
    for r in sym_rates:
        out[("symmetric", float(r))] = noise.symmetric(clean, r, num_classes=num_classes, seed=seed)
    for r in asym_rates:
        out[("asymmetric", float(r))] = (noise.pairflip(clean, r, num_classes=num_classes, seed=seed)
                                         if asym_kind == "pairflip" else
                                         noise.asymmetric(clean, r, seed=seed, num_classes=num_classes))
    return out


def setting_title(kind: str, rate: float, realised: float) -> str:
    """``"asymmetric 40% (realised 20.0%)"`` -- every setting is titled with its realised rate."""
    return f"{kind} {float(rate):.0%} (realised {100 * float(realised):.1f}%)"


# ---------------------------------------------------------------------------------------------- the grid
def steps_arg(steps):
    """A chapter's ``lend_steps`` (an int, or ``"converged"``) as :class:`~labnoise.methods.LEND`'s ``steps``
    (``None`` = until converged)."""
    if steps is None or steps == "converged":
        return None
    if isinstance(steps, str) or int(steps) < 0:
        raise ValueError(f"lend_steps must be a number of steps >= 0 or 'converged', got {steps!r}.")
    return int(steps)


def variant_name(rule: str, steps) -> str:
    """The method name of a LEND variant in the grid: ``"lend:knn:T1"``, ``"lend:two_hop:conv"`` (``steps``
    an int, ``None`` or ``"converged"``)."""
    steps = steps_arg(steps)
    return f"lend:{rule}:{'conv' if steps is None else f'T{steps}'}"


def parse_variant(name: str) -> dict:
    """Inverse of :func:`variant_name` (``{}`` for plain ``"lend"`` and every other method)."""
    parts = name.split(":")
    if len(parts) != 3 or parts[0] != "lend":
        return {}
    return {"rule": parts[1], "steps": None if parts[2] == "conv" else int(parts[2][1:])}


def run_training_grid(x, label_sets: dict, methods, seeds, *, x_test, y_test, clean_labels,
                      num_classes: int, train_kwargs: dict, lend_kwargs: dict, ramp_epochs: int,
                      cache_dir=None, progress: bool = False) -> dict:
    """Train every method on every label set and seed; returns ``{(method, kind, rate, seed): history}``.

    ``methods`` may contain LEND variants (:func:`variant_name`): ``lend_kwargs`` with their rule and steps.
    ``train_kwargs`` go to :func:`labnoise.train.fit` (model, epochs, batch_size, lr, optimizer, ...).
    ``cache_dir``: one JSON per cell (:func:`labnoise.grid.run_grid`), keyed by every setting that enters it."""
    from .._io import content_hash
    from ..methods import get_method
    from ..methods.lend import LabelMonitor
    from ..train import fit

    keyed = {(k, float(r)): nr for (k, r), nr in label_sets.items()}

    def make(name, rate):
        if name in ("coteaching", "jocor", "sigua"):
            return get_method(name, noise_rate=rate, ramp_epochs=ramp_epochs)
        if name == "lend" or name.startswith("lend:"):
            return get_method("lend", **{**lend_kwargs, **parse_variant(name)})
        return get_method(name)

    def cell(name, kind, rate, seed):
        nr = keyed[(kind, rate)]
        res = fit(train_kwargs.get("model", "mlp"), x, nr.noisy_labels,
                  method=make(name, float(nr.realised_rate)), x_test=x_test, y_test=y_test,
                  clean_labels=clean_labels, seed=seed, hooks=[LabelMonitor()], progress=False,
                  num_classes=num_classes, **{k: v for k, v in train_kwargs.items() if k != "model"})
        return {"history": [{k: v for k, v in h.items() if isinstance(v, (int, float))} for h in res.history]}

    params = {"train": train_kwargs, "lend": lend_kwargs, "ramp_epochs": ramp_epochs,
              "x": content_hash(np.asarray(x), length=16), "x_test": content_hash(np.asarray(x_test), length=16),
              "labels": {f"{k}_{r}": content_hash(np.asarray(nr.noisy_labels), length=16)
                         for (k, r), nr in keyed.items()}}
    recs = []
    for (kind, rate) in keyed:
        recs += run_grid(cell, methods, [kind], [rate], seeds, cache_dir=cache_dir, params=params,
                         progress=progress)
    return {(r["method"], r["noise"], float(r["rate"]), int(r["seed"])): r["metrics"]["history"] for r in recs}


def curve(histories: dict, name: str, kind: str, rate: float, key: str, seeds) -> np.ndarray:
    """Per-epoch mean over ``seeds`` of ``key`` (NaN where a run has no value)."""
    import warnings

    rows = [[h.get(key, np.nan) for h in histories[(name, kind, float(rate), s)]] for s in seeds
            if (name, kind, float(rate), s) in histories]
    if not rows:
        return np.array([])
    with warnings.catch_warnings():  # an epoch without the value in any seed (e.g. the warm-up) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.array(rows, dtype=float), axis=0)


def _stat(a):
    a = np.asarray(a, dtype=float)
    return {"mean": float(np.mean(a)), "sd": float(np.std(a, ddof=1)) if len(a) > 1 else None, "n": int(len(a))}


def summarize(histories: dict, methods, settings, seeds, *, last_k: int) -> dict:
    """Last (mean test accuracy of the last ``last_k`` epochs), Best (best test epoch: test-selected), the
    test-accuracy curves and the paper's claim (LEND >= every baseline on Last) per setting.

    Returns ``{"final_acc", "best_acc", "curves", "claim"}``, the first three keyed
    ``[method][kind][rate_key]``; ``sd`` is ``None`` with one seed."""
    final, best, curves = {}, {}, {}
    for m in methods:
        for kind, r in settings:
            hs = [histories[(m, kind, float(r), s)] for s in seeds if (m, kind, float(r), s) in histories]
            if not hs:
                continue
            k = min(last_k, len(hs[0]))
            final.setdefault(m, {}).setdefault(kind, {})[rate_key(r)] = _stat(
                [np.mean([h["test_acc"] for h in hist[-k:]]) for hist in hs])
            best.setdefault(m, {}).setdefault(kind, {})[rate_key(r)] = {
                **_stat([max(h["test_acc"] for h in hist) for hist in hs]), "selected_on": "test"}
            curves.setdefault(m, {}).setdefault(kind, {})[rate_key(r)] = curve(
                histories, m, kind, r, "test_acc", seeds).tolist()
    claim = []
    base = [m for m in methods if m in NAMES and m != "lend"]
    for kind, r in settings:
        if "lend" not in final or not base:
            continue
        lend = final["lend"][kind][rate_key(r)]["mean"]
        top = max(base, key=lambda m: final[m][kind][rate_key(r)]["mean"])
        top_acc = final[top][kind][rate_key(r)]["mean"]
        claim.append({"kind": kind, "rate": float(r), "lend_last": lend, "best_baseline": top,
                      "best_baseline_last": top_acc, "holds": bool(lend >= top_acc)})
    return {"final_acc": final, "best_acc": best, "curves": curves, "claim": claim}


def purity_table(histories: dict, settings, seeds, realised: dict, *, method: str = "lend") -> dict:
    """Per setting: per-epoch mean neighbour purity, given-label accuracy, diluted-label accuracy and
    predicted-label accuracy of ``method`` (``realised``: ``{(kind, rate): realised rate}``)."""
    out = {}
    for kind, r in settings:
        row = {key: [None if np.isnan(v) else round(float(v), 4) for v in curve(histories, method, kind, r, key, seeds)]
               for key in ("neighbour_purity", "given_label_acc", "diluted_label_acc", "predicted_label_acc",
                           "selection_precision", "selection_recall", "kept_fraction", "dilution_steps")}
        row["realised_rate"] = float(realised[(kind, float(r))])
        out.setdefault(kind, {})[rate_key(r)] = row
    return out


# ------------------------------------------------------------------------------------ dilution against T
def dilution_vs_steps(embeddings, noisy, clean, *, steps, rules=("knn", "two_hop"), batch_size: int = 256,
                      k: int = 8, gamma: float = 3.0, alpha: float = 0.99, tol: float = 1e-4,
                      max_steps: int = 500, seed: int = 0, max_batches: int | None = None) -> dict:
    """Diluted-label accuracy (single pass, no momentum) against the number of steps ``T`` and until
    converged, for each rule, on fixed embeddings cut into random batches of ``batch_size`` as LEND does.

    Returns ``{"steps": [...], "given_acc", "neighbour_purity", rule: {"acc": [... per T ...], "acc_conv",
    "mean_conv_steps"}}``."""
    import torch
    import torch.nn.functional as F

    from ..methods.lend import affinity, dilute, dilution_matrix, knn_indices

    v = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(noisy)).long()
    yc = torch.as_tensor(np.asarray(clean)).long()
    C = int(max(y.max(), yc.max())) + 1
    order = torch.as_tensor(np.random.default_rng(seed).permutation(len(y)))
    nb = len(y) // batch_size
    if max_batches is not None:
        nb = min(nb, int(max_batches))
    steps = sorted(int(t) for t in steps)
    hits = {rule: np.zeros(len(steps)) for rule in rules}
    conv = {rule: [0, 0] for rule in rules}
    pure = total = 0
    for b in range(nb):
        idx = order[b * batch_size:(b + 1) * batch_size]
        A = affinity(v[idx], k=k, gamma=gamma)
        nn_ = knn_indices(v[idx], k=k)
        pure += int((yc[idx][nn_] == yc[idx][:, None]).sum())
        total += nn_.numel()
        Z0 = F.one_hot(y[idx], C).float()
        for rule in rules:
            W = dilution_matrix(A, rule=rule)
            path = dilute(W, Z0, alpha=alpha, steps=max(steps), return_path=True)
            for j, t in enumerate(steps):
                hits[rule][j] += int((path[t].argmax(1) == yc[idx]).sum())
            Zc, tc = dilute(W, Z0, alpha=alpha, steps=None, tol=tol, max_steps=max_steps, return_steps=True)
            conv[rule][0] += int((Zc.argmax(1) == yc[idx]).sum())
            conv[rule][1] += tc
    n = nb * batch_size
    out = {"steps": steps, "given_acc": float((y[order[:n]] == yc[order[:n]]).float().mean()),
           "neighbour_purity": pure / max(1, total), "n_examples": int(n), "batch_size": int(batch_size)}
    for rule in rules:
        out[rule] = {"acc": [round(h / n, 4) for h in hits[rule]], "acc_conv": round(conv[rule][0] / n, 4),
                     "mean_conv_steps": round(conv[rule][1] / max(1, nb), 1)}
    return out


# ------------------------------------------------------------------------------------------------ reading
def reading(metrics: dict) -> str:
    """Markdown sentences generated from the chapter's metrics: the claim, the neighbour purity against the
    given labels, the dilution rules and T."""
    lines = []
    claim = metrics.get("claim_lend_ge_every_baseline", [])
    titles = metrics.get("setting_titles", {})
    if claim:
        held = sum(c["holds"] for c in claim)
        lines.append(f"**The paper's claim (LEND >= every baseline, on Last) holds in {held} of {len(claim)} "
                     "settings of this run:**")
        lines.append("")
        for c in claim:
            t = titles.get(f"{c['kind']}_{rate_key(c['rate'])}", f"{c['kind']} {c['rate']:.0%}")
            lines.append(f"- {t}: LEND {100 * c['lend_last']:.1f} vs best baseline "
                         f"{NAMES.get(c['best_baseline'], c['best_baseline'])} {100 * c['best_baseline_last']:.1f}"
                         f" -- {'holds' if c['holds'] else '**does not hold**'}")
    pur = metrics.get("neighbour_purity", {})
    rows = []
    for kind, by in pur.items():
        for r, row in by.items():
            p = [v for v in row["neighbour_purity"] if v is not None]
            d = [v for v in row["diluted_label_acc"] if v is not None]
            if not p:
                continue
            g = row["given_label_acc"][-1]
            rows.append((titles.get(f"{kind}_{r}", f"{kind} {r}"), p[0], p[-1], g, d[-1] if d else None))
    if rows:
        lines += ["", "**Neighbour purity against the given labels** (the share of an example's k in-batch "
                  "neighbours, in the embedding LEND dilutes on, that share its true class; dilution can only "
                  "help where it exceeds the given labels' accuracy):", ""]
        for t, p0, p1, g, d in rows:
            verdict = "above" if p1 > g else "**not above**"
            lines.append(f"- {t}: purity {100 * p0:.1f}% at the first epoch, {100 * p1:.1f}% at the last, "
                         f"{verdict} the given labels' {100 * g:.1f}%"
                         + (f"; diluted labels at the last epoch {100 * d:.1f}%" if d is not None else "") + ".")
    return "\n".join(lines)


def trained_embeddings(x, noisy, *, epochs_list, train_kwargs: dict, num_classes: int, seed: int = 0) -> dict:
    """The penultimate embeddings of a network trained with plain cross-entropy on ``noisy`` for each number
    of epochs in ``epochs_list`` (e.g. the LEND warm-up, where selection starts, and the whole budget):
    ``{epochs: (N, d) float32 array}``. The schedule is the full run's (``train_kwargs``), cut at each length."""
    import torch

    from ..train import fit

    out = {}
    tk = {k: v for k, v in train_kwargs.items() if k != "model"}
    for e in epochs_list:
        res = fit(train_kwargs.get("model", "mlp"), x, noisy, **{**tk, "epochs": int(e)}, seed=seed,
                  progress=False, num_classes=num_classes)
        m = res.models[0].eval()
        dev = next(m.parameters()).device
        with torch.no_grad():
            parts = [m.forward_features(torch.as_tensor(np.asarray(x[i:i + 4096]), dtype=torch.float32,
                                                        device=dev))[0].float().cpu()
                     for i in range(0, len(x), 4096)]
        out[int(e)] = torch.cat(parts).numpy()
    return out


def _title(titles, kind, rate):
    return titles.get(f"{kind}_{rate_key(rate)}", f"{kind} {float(rate):.0%}")


def rule_table(histories: dict, variants, settings, seed: int, titles: dict, *, last_k: int):
    """A DataFrame, one row per (setting, LEND variant) of ``seed``: the rule, the steps, the diluted labels'
    accuracy at the last epoch, the mean number of dilution steps per batch and the test accuracy (Last).
    ``"lend"`` in ``histories`` stands for ``variants[0]`` (the main grid's LEND)."""
    import pandas as pd

    rows = []
    for kind, r in settings:
        for j, v in enumerate(variants):
            key = ("lend" if j == 0 else v, kind, float(r), seed)
            if key not in histories:
                continue
            h = histories[key]
            pv = parse_variant(v)
            rows.append({"setting": _title(titles, kind, r), "rule": pv["rule"],
                         "steps": "converged" if pv["steps"] is None else f"T = {pv['steps']}",
                         "diluted_label_acc": h[-1].get("diluted_label_acc", np.nan),
                         "mean_steps": float(np.mean([e.get("dilution_steps", np.nan) for e in h])),
                         "test_last": float(np.mean([e["test_acc"] for e in h[-min(last_k, len(h)):]]))})
    return pd.DataFrame(rows).set_index(["setting", "rule", "steps"])


def steps_effect(x, label_sets: dict, clean, settings, *, cfg, train_kwargs: dict, num_classes: int) -> dict:
    """:func:`dilution_vs_steps` on the embeddings of a plain-CE network after ``cfg.lend_warmup`` epochs and
    after ``cfg.epochs``, for each of ``settings``: ``{setting_key: {epochs: result}}`` (features lane)."""
    out = {}
    n = len(clean) if cfg.steps_points is None else min(int(cfg.steps_points), len(clean))
    sub = np.random.default_rng(cfg.noise_seed).permutation(len(clean))[:n]
    tk = {k: v for k, v in train_kwargs.items() if k != "model"}
    tk["model"] = train_kwargs.get("model", "mlp")
    for kind, r in settings:
        noisy = label_sets[(kind, float(r))].noisy_labels
        embs = trained_embeddings(x, noisy, epochs_list=sorted({max(1, cfg.lend_warmup), cfg.epochs}),
                                  train_kwargs=tk, num_classes=num_classes, seed=cfg.seeds[0])
        out[f"{kind}_{rate_key(r)}"] = {
            str(e): dilution_vs_steps(v[sub], noisy[sub], np.asarray(clean)[sub], steps=cfg.steps_sweep,
                                      batch_size=cfg.batch_size, k=cfg.lend_k, gamma=cfg.lend_gamma,
                                      alpha=cfg.lend_alpha, tol=cfg.lend_tol, max_steps=cfg.lend_max_steps,
                                      seed=cfg.noise_seed)
            for e, v in embs.items()}
    return out


def steps_reading(effect: dict, titles: dict) -> str:
    """Markdown from :func:`steps_effect`: per setting, embedding and rule, the best ``T`` and the converged
    accuracy against the given labels."""
    lines = []
    for skey, by_e in effect.items():
        t = titles.get(skey, skey)
        for e, res in by_e.items():
            parts = []
            for rule in ("knn", "two_hop"):
                if rule not in res:
                    continue
                acc = res[rule]["acc"]
                b = int(np.argmax(acc))
                parts.append(f"{rule}: best T = {res['steps'][b]} ({100 * acc[b]:.1f}%), converged "
                             f"{100 * res[rule]['acc_conv']:.1f}% after {res[rule]['mean_conv_steps']:.0f} steps")
            lines.append(f"* {t}, embedding after {e} epoch(s) (neighbour purity {100 * res['neighbour_purity']:.1f}%"
                         f", given labels {100 * res['given_acc']:.1f}%): " + "; ".join(parts) + ".")
    return "\n".join(lines)


def selection_curves(histories: dict, selectors, settings, seeds) -> dict:
    """``{method: {kind: {rate_key: {"selection_precision": [...], "selection_recall": [...]}}}}``."""
    out = {}
    for m in selectors:
        for kind, r in settings:
            out.setdefault(m, {}).setdefault(kind, {})[rate_key(r)] = {
                key: curve(histories, m, kind, r, key, seeds).tolist()
                for key in ("selection_precision", "selection_recall")}
    return out


def batch_size_sweep(x, label_sets: dict, setting, batch_sizes, *, seed: int, grid: dict, last_k: int):
    """LEND on one setting and seed at each batch size (below the training-set size): a DataFrame indexed by
    batch size with Last, the last epoch's diluted-label accuracy, selection precision and neighbour purity."""
    import pandas as pd

    rows = []
    for b in batch_sizes:
        if b >= len(x):
            continue
        g = {**grid, "train_kwargs": {**grid["train_kwargs"], "batch_size": int(b)}}
        if g.get("cache_dir") is not None:
            from pathlib import Path
            g["cache_dir"] = Path(g["cache_dir"]) / f"batch{int(b)}"
        h = run_training_grid(x, {setting: label_sets[setting]}, ["lend"], [seed], **g)[("lend", setting[0],
                                                                                        float(setting[1]), seed)]
        rows.append({"batch_size": int(b), "last": float(np.mean([e["test_acc"] for e in h[-min(last_k, len(h)):]])),
                     "diluted_label_acc": h[-1].get("diluted_label_acc"),
                     "selection_precision": h[-1].get("selection_precision"),
                     "neighbour_purity": h[-1].get("neighbour_purity")})
    return pd.DataFrame(rows).set_index("batch_size")


def train_settings(cfg) -> tuple[dict, dict]:
    """The chapter's configuration as ``(train_kwargs, lend_kwargs)`` for :func:`run_training_grid`: SGD, the
    learning rate divided by 10 at half the epochs (the paper's schedule shape), and LEND's settings."""
    train_kwargs = dict(model=cfg.model, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                        optimizer=cfg.optimizer, momentum=cfg.momentum, weight_decay=cfg.weight_decay,
                        schedule=cfg.schedule, milestones=[cfg.epochs // 2], gamma=0.1, augment=cfg.augment,
                        device=cfg.device, threads=cfg.threads, precision=cfg.precision,
                        model_kwargs={"hidden": tuple(cfg.hidden)} if cfg.model == "mlp" else {})
    lend_kwargs = dict(k=cfg.lend_k, gamma=cfg.lend_gamma, alpha=cfg.lend_alpha, beta=cfg.lend_beta,
                       rule=cfg.lend_rule, steps=steps_arg(cfg.lend_steps), tol=cfg.lend_tol,
                       max_steps=cfg.lend_max_steps, warmup_epochs=cfg.lend_warmup,
                       store_warmup=cfg.lend_store_warmup)
    return train_kwargs, lend_kwargs


def rule_reading(rules, main: str) -> str:
    """Markdown from :func:`rule_table`: which (rule, steps) had the highest mean diluted-label accuracy and
    the highest mean Last over the settings of this run, and whether that is the main grid's LEND (``main``,
    a :func:`variant_name`)."""
    if rules is None or len(rules) == 0:
        return "* No LEND variant ran."
    by = rules.groupby(level=["rule", "steps"])[["diluted_label_acc", "test_last"]].mean()
    pv = parse_variant(main)
    main_key = (pv["rule"], "converged" if pv["steps"] is None else f"T = {pv['steps']}")
    lines = []
    for col, what in (("diluted_label_acc", "diluted-label accuracy"), ("test_last", "test accuracy (Last)")):
        best = by[col].idxmax()
        lines.append(f"* Highest mean {what} over the {rules.index.get_level_values('setting').nunique()} settings: "
                     f"{best[0]}, {best[1]} ({100 * by[col].max():.1f}%)"
                     + ("" if best == main_key else f"; the main grid's {main_key[0]}, {main_key[1]}: "
                        f"{100 * by.loc[main_key, col]:.1f}%" if main_key in by.index else "") + ".")
    conv = [k for k in by.index if k[1] == "converged"]
    if conv:
        lines.append("* Until converged: " + "; ".join(
            f"{k[0]} {100 * by.loc[k, 'diluted_label_acc']:.1f}% diluted-label accuracy" for k in conv) + ".")
    return "\n".join(lines)
