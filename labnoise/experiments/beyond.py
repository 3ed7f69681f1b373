"""Chapter 07 "Beyond the papers": experiments none of the seed papers ran.

* :func:`detection_label_sets` -- CBN, PMD and human(-like) noise on one training set at (as near as possible)
  one rate: the seed paper's released CIFAR-10 files, a CIFAR-10N set thinned to that rate, or generated noise.
* :func:`thin_to_rate` -- keep a seeded random subset of a label set's mistakes so that its rate is the target.
* :func:`detector_f1` -- F1 of each detector on each noise kind (``[detector][noise]``).
* :func:`encoder_comparison` -- CE and CE + SNLS test accuracy under CBN and PMD, per encoder.
* :func:`simulate_annotators`, :func:`crowdlab` -- cleanlab's CROWDLAB on several annotators against majority
  vote (and an aggregated label), scored on the clean labels.
* :func:`decision_guide` -- the practitioners' guide: every sentence generated from the metrics it rests on.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_features, check_labels, check_rate
from ..stats import mean_sd
from .dynacor import NAMES as _DETECTOR_NAMES

__all__ = ["NOISE_KINDS", "detection_label_sets", "thin_to_rate", "detector_f1", "encoder_comparison",
           "simulate_annotators", "majority_vote", "crowdlab", "decision_guide", "load_other_results",
           "DETECTOR_LABELS"]

#: The noise kinds of the detector comparison, in table order.
NOISE_KINDS = ("cbn", "pmd", "human")
#: Display names of the detectors (chapter 06's, one list for both chapters).
DETECTOR_LABELS = dict(_DETECTOR_NAMES)
_CIFAR10N_RATES = {"aggre": 0.0901, "worse": 0.4021, "random1": 0.1723, "random2": 0.1812, "random3": 0.1764}


def thin_to_rate(labels, clean_labels, rate: float, *, seed: int = 0) -> np.ndarray:
    """A copy of ``labels`` whose noise rate is ``rate``: a seeded uniform random subset of its mistakes is kept
    and the others are set back to the clean label. The kept mistakes are a random sample of the original ones,
    so their pattern (which classes, which images) is the original's; only their number changes. Raises if
    ``labels`` has fewer mistakes than ``rate`` asks for."""
    y = check_labels(labels)
    c = check_labels(clean_labels, length=y.size, name="clean_labels")
    rate = check_rate(rate)
    wrong = np.flatnonzero(y != c)
    want = int(round(rate * y.size))
    if want > wrong.size:
        raise ValueError(f"the label set has {wrong.size / y.size:.3f} noise, less than the requested {rate}; "
                         "choose a noisier set (e.g. CIFAR-10N 'worse') or a lower rate.")
    keep = np.random.default_rng(seed).choice(wrong, size=want, replace=False)
    out = c.copy()
    out[keep] = y[keep]
    return out


def detection_label_sets(dataset: str, features, clean_labels, *, rate: float = 0.35, human: str = "auto",
                         match_human_rate: bool = True, use_reference: str | bool = True, seed: int = 0,
                         num_classes: int | None = None, pmd_epochs: int | None = None, tsne_cache=True, root=None,
                         progress: bool = False) -> dict:
    """``{kind: {"labels", "clean_labels", "realised_rate", "source"}}`` for kind in :data:`NOISE_KINDS`.

    CBN and PMD come from :func:`labnoise.experiments.label_sets.make_label_sets` (chapters 03-04's builder).
    cifar10 with ``use_reference`` True (require the files) or ``"auto"`` (use them when the data root has
    them): CBN and PMD are the seed paper's released files at ``rate`` 0.35 or 0.70
    (clean = its ``given`` labels, checked identical to CIFAR-10's); human = the CIFAR-10N set ``human`` (``"auto"``:
    the one whose rate is closest to ``rate``), thinned to ``rate`` by :func:`thin_to_rate` when
    ``match_human_rate`` and the set is noisier. Otherwise (digits, or ``use_reference=False``): CBN on a
    seeded t-SNE map of ``features``, PMD type I on a clean-label MLP head's probabilities, and for "human"
    a stand-in: Xia et al.'s instance-dependent noise (``human`` is then ignored); the page must say so.
    ``pmd_epochs`` (None: :func:`labnoise.noise.pmd_probs`'s default) and ``tsne_cache`` (the t-SNE map's cache,
    shared with chapters 02-04) apply to generated noise only.
    """
    from .. import noise as _noise
    from .label_sets import make_label_sets

    X = check_features(features)
    clean = check_labels(clean_labels, num_classes, length=X.shape[0], name="clean_labels")
    rate = check_rate(rate)
    K = int(num_classes or clean.max() + 1)
    if not (use_reference == "auto" or isinstance(use_reference, bool)):
        raise ValueError(f"use_reference must be 'auto', True or False, got {use_reference!r}.")
    if use_reference == "auto":
        from .. import data as _data

        ref = dataset == "cifar10" and _data.has_files("reference", root)
    else:
        ref = dataset == "cifar10" and use_reference is True
    if ref:  # fetched where downloads are allowed; otherwise one DataNotFoundError names the missing file
        from .. import data as _data
        from ..registry import FILES

        _data.require([k for k, e in FILES.items() if e.group == "reference"], profile="offline", root=root)
    # CBN and PMD: the one builder of chapters 03-04 (the paper's files for cifar10, else generated)
    ls = make_label_sets(dataset, X, clean, kinds=("cbn", "pmd"), rates=(rate,), seed=seed,
                         reference=True if ref else False, pmd_epochs=pmd_epochs, num_classes=K, root=root,
                         tsne_cache=tsne_cache, progress=progress)
    out = {}
    for kd in ("cbn", "pmd"):
        (key,) = ls.labels[kd]
        src = ls.sources[kd][key]
        out[kd] = {"labels": ls.labels[kd][key],
                   "source": (f"the seed paper's released CIFAR-10 {kd.upper()} file at {rate:.2f}"
                              if src == "paper's released file" else src)}
    if ref:
        if human == "auto":
            human = min(_CIFAR10N_RATES, key=lambda w: abs(_CIFAR10N_RATES[w] - rate))
        check_choice(human, tuple(_CIFAR10N_RATES), name="CIFAR-10N label set")
        nr = _noise.human("cifar10n", human, root=root)
        if not np.array_equal(nr.clean_labels, clean):
            raise ValueError("CIFAR-10N's clean labels differ from the clean labels passed in.")
        y = nr.noisy_labels
        src = f"CIFAR-10N '{human}' ({nr.realised_rate:.1%} noise)"
        if match_human_rate and nr.realised_rate > rate:
            y = thin_to_rate(y, clean, rate, seed=seed)
            src += (f", thinned to {rate:.0%}: a seeded random {np.mean(y != clean) / nr.realised_rate:.0%} of its "
                    "mistakes kept, the rest set back to the clean label")
        out["human"] = {"labels": y, "source": src}
    else:
        out["human"] = {"labels": _noise.instance_dependent(X, clean, rate, seed=seed, num_classes=K).noisy_labels,
                        "source": "stand-in for human noise: instance-dependent noise (Xia et al. 2020) "
                                  "generated on these features (no human labels exist for this dataset)"}
    for v in out.values():
        v["labels"] = np.asarray(v["labels"], dtype=np.int64)
        v["clean_labels"] = clean
        v["realised_rate"] = round(float(np.mean(v["labels"] != clean)), 4)
    return out


def detector_f1(label_sets: dict, features, *, detectors, options: dict, seeds=(0,), flipped_features=None,
                subset=None) -> dict:
    """F1 (noisy = positive) of every detector on every label set, mean over ``seeds``.

    Returns ``{"f1": {detector: {kind: mean}}, "f1_sd": {...: sd or None}, "precision": ..., "recall": ...,
    "seconds": {detector: mean seconds per run}, "realised_rate": {kind: noise rate of the examples used}}``. ``subset`` (int indices) runs on those examples only.
    """
    from ..detect import compare

    X = check_features(features)
    Xf = None if flipped_features is None else check_features(flipped_features, length=X.shape[0],
                                                               name="flipped_features")
    if subset is not None:
        subset = np.asarray(subset)
        X = X[subset]
        Xf = None if Xf is None else Xf[subset]
    runs = {}
    for kind, s in label_sets.items():
        y, c = s["labels"], s["clean_labels"]
        if subset is not None:
            y, c = y[subset], c[subset]
        for sd in seeds:
            runs[kind, sd] = compare(y, X, c, methods=list(detectors), options=options, seed=int(sd),
                                     flipped_features=Xf)
    out = {"f1": {}, "f1_sd": {}, "precision": {}, "recall": {}, "seconds": {},
           "realised_rate": {kd: round(float(np.mean((s["labels"] != s["clean_labels"]) if subset is None else
                                                     (s["labels"][subset] != s["clean_labels"][subset]))), 4)
                             for kd, s in label_sets.items()}}
    for m in detectors:
        for key in ("f1", "precision", "recall"):
            out[key][m] = {kd: round(mean_sd([runs[kd, sd][m][key] for sd in seeds])["mean"], 4) for kd in label_sets}
        f1 = {kd: mean_sd([runs[kd, sd][m]["f1"] for sd in seeds]) for kd in label_sets}
        out["f1_sd"][m] = {kd: None if v["sd"] is None else round(v["sd"], 4) for kd, v in f1.items()}
        out["seconds"][m] = round(float(np.mean([runs[kd, sd][m]["seconds"] for kd in label_sets for sd in seeds])), 2)
    return out


def encoder_comparison(encoder_features: dict, label_sets: dict, test_labels, *, seeds=(0,), k: int = 100,
                       alpha: float = 0.3, ce: dict | None = None, device="auto", progress: bool = False) -> dict:
    """CE and CE + SNLS test accuracy (%) per encoder on the same noisy label sets (and clean labels).

    encoder_features : ``{encoder: (train_features, test_features)}``.
    label_sets : ``{name: labels}``, e.g. ``{"cbn": y, "pmd": y, "clean": clean}``; the same labels for every
        encoder, so only the representation changes.
    ce : keyword arguments of :func:`labnoise.experiments.snls.train_host` for the CE head.
    Returns ``{encoder: {"ce": {set: acc}, "snls": {set: acc}, "snls_gain": {set: points}}}`` (means over seeds).
    """
    from .snls import compare_hosts

    out = {}
    for enc, (xtr, xte) in encoder_features.items():
        r = compare_hosts(xtr, dict(label_sets), xte, test_labels, hosts=("ce",), seeds=tuple(seeds), k=k,
                          alpha=alpha, host_kwargs={"ce": dict(ce or {})}, device=device, progress=progress)
        acc = r["acc"]["ce"]
        out[enc] = {"ce": {s: round(float(np.mean(v["plain"])), 2) for s, v in acc.items()},
                    "snls": {s: round(float(np.mean(v["snls"])), 2) for s, v in acc.items()},
                    "snls_gain": {s: round(float(g), 2) for s, g in r["gain"]["ce"].items()}}
    return out


def simulate_annotators(features, clean_labels, rates, *, seed: int = 0, num_classes: int | None = None) -> np.ndarray:
    """(N, M) labels of M simulated annotators, annotator j with instance-dependent noise (Xia et al.) at
    ``rates[j]``, each from its own child of ``np.random.SeedSequence(seed)`` (independent streams, unlike
    ``seed + j``, which would reuse the seed of another annotator or call): a stand-in where no crowd labels exist."""
    from .. import noise as _noise

    X = check_features(features)
    clean = check_labels(clean_labels, num_classes, length=X.shape[0], name="clean_labels")
    streams = np.random.SeedSequence(int(seed)).spawn(len(rates))
    cols = [_noise.instance_dependent(X, clean, float(r), seed=int(ss.generate_state(1)[0]),
                                      num_classes=num_classes).noisy_labels for ss, r in zip(streams, rates)]
    return np.stack(cols, axis=1).astype(np.int64)


def majority_vote(labels_multiannotator, *, seed: int = 0) -> np.ndarray:
    """Per example the most frequent label of its annotators; ties broken uniformly at random (seeded)."""
    A = np.asarray(labels_multiannotator)
    if A.ndim != 2:
        raise ValueError(f"labels_multiannotator must be (N, M), got shape {A.shape}.")
    K = int(A.max()) + 1
    counts = np.zeros((A.shape[0], K))
    for j in range(A.shape[1]):
        np.add.at(counts, (np.arange(A.shape[0]), A[:, j]), 1)
    noise = np.random.default_rng(seed).random(counts.shape) * 1e-3  # tie-break only: < 1 vote
    return (counts + noise).argmax(1).astype(np.int64)


def crowdlab(labels_multiannotator, features, clean_labels, *, annotator_names=None, aggregated=None,
             num_classes: int | None = None, folds: int = 5, model: str = "mlp", epochs: int = 10, lr: float = 0.02,
             batch_size: int = 128, hidden=(512,), seed: int = 0, device="cpu") -> dict:
    """cleanlab's CROWDLAB (``get_label_quality_multiannotator``) against majority vote and, when given, an
    ``aggregated`` label (e.g. CIFAR-10N's ``aggre``), all scored on ``clean_labels``.

    ``pred_probs`` are out-of-sample: ``folds``-fold cross-validation of ``model`` on ``features``, trained on
    the majority-vote labels (the labels a practitioner has). Returns a JSON-able dict: ``consensus_accuracy``
    (vs clean) per rule, each annotator's true ``accuracy`` and CROWDLAB's ``annotator_quality``, whether the
    two rank the annotators alike, the cross-validated model's own accuracy, and how well the consensus
    quality score finds consensus errors (AUROC) -- with the share of examples where CROWDLAB overrides the
    majority and how often that override is right.
    """
    from cleanlab.multiannotator import get_label_quality_multiannotator
    from sklearn.metrics import roc_auc_score

    from ..detect.confident import out_of_sample_pred_probs

    A = np.asarray(labels_multiannotator)
    X = check_features(features, length=A.shape[0])
    clean = check_labels(clean_labels, num_classes, length=A.shape[0], name="clean_labels")
    K = int(num_classes or max(A.max(), clean.max()) + 1)
    for j in range(A.shape[1]):
        check_labels(A[:, j], K, name=f"annotator {j} labels")
    names = list(annotator_names or [f"annotator_{j}" for j in range(A.shape[1])])
    mv = majority_vote(A, seed=seed)
    pp = out_of_sample_pred_probs(mv, X, num_classes=K, folds=folds, model=model, seed=seed, hidden=tuple(hidden),
                                  epochs=epochs, lr=lr, batch_size=batch_size, device=device)
    pp = np.clip(pp.astype(np.float64), 1e-9, None)
    pp /= pp.sum(1, keepdims=True)
    import pandas as pd

    res = get_label_quality_multiannotator(pd.DataFrame(A, columns=names), pp, verbose=False)
    lq = res["label_quality"]
    cons = lq["consensus_label"].to_numpy().astype(np.int64)
    quality = lq["consensus_quality_score"].to_numpy()
    stats = res["annotator_stats"]
    acc = {n: round(float(np.mean(A[:, j] == clean)), 4) for j, n in enumerate(names)}
    aq = {n: round(float(stats.loc[n, "annotator_quality"]), 4) for n in names}
    order_true = sorted(names, key=lambda n: -acc[n])
    order_q = sorted(names, key=lambda n: -aq[n])
    wrong = cons != clean
    override = cons != mv
    out = {
        "n_examples": int(A.shape[0]), "annotators": names,
        "consensus_accuracy": {"crowdlab": round(float(np.mean(cons == clean)), 4),
                               "majority_vote": round(float(np.mean(mv == clean)), 4),
                               "model_only": round(float(np.mean(pp.argmax(1) == clean)), 4)},
        "annotator_accuracy": acc, "annotator_quality": aq,
        "annotator_ranking_matches": order_true == order_q,
        "ranking_by_accuracy": order_true, "ranking_by_quality": order_q,
        "override_share": round(float(np.mean(override)), 4),
        "override_correct": (round(float(np.mean(cons[override] == clean[override])), 4) if override.any() else None),
        "majority_correct_where_overridden": (round(float(np.mean(mv[override] == clean[override])), 4)
                                              if override.any() else None),
        "quality_auroc": (round(float(roc_auc_score(wrong, -quality)), 4) if 0 < wrong.sum() < wrong.size else None),
        "pred_probs": f"{folds}-fold out-of-sample {model} on the majority-vote labels",
    }
    if aggregated is not None:
        agg = check_labels(aggregated, K, length=A.shape[0], name="aggregated")
        out["consensus_accuracy"]["aggregated"] = round(float(np.mean(agg == clean)), 4)
        out["crowdlab_agrees_with_aggregated"] = round(float(np.mean(cons == agg)), 4)
    return out


# ------------------------------------------------------------------------------------------------ guide
def _pct(v) -> str:
    return f"{100 * v:.1f}%"


def decision_guide(metrics: dict, *, other_results: dict | None = None) -> list[str]:
    """The practitioners' guide as a list of sentences, each generated from ``metrics`` (this chapter's
    ``results.json`` metrics) or from ``other_results`` (``{chapter: results dict}`` read from files that
    exist). A claim whose numbers are missing is not made; a sentence says which other chapters were read."""
    out = []
    det = metrics.get("detector_f1") or {}
    rates = {k: v["realised_rate"] for k, v in (metrics.get("label_sets") or {}).items()}
    kinds = [k for k in NOISE_KINDS if all(k in v for v in det.values())] if det else []
    if det and kinds:
        best = {k: max(det, key=lambda m: det[m][k]) for k in kinds}
        rate_txt = ", ".join(f"{k.upper() if k != 'human' else 'human'} {_pct(rates[k])}" for k in kinds if k in rates)
        parts = [f"{k.upper() if k != 'human' else 'human'} noise: {DETECTOR_LABELS.get(best[k], best[k])} "
                 f"(F1 {_pct(det[best[k]][k])})" for k in kinds]
        out.append(f"Best detector per noise kind (realised rates {rate_txt}): " + "; ".join(parts) + ".")
        if "cbn" in kinds:
            others = [k for k in kinds if k != "cbn"]
            mean = {k: float(np.mean([det[m][k] for m in det])) for k in kinds}
            worse = [k for k in others if mean["cbn"] < mean[k]]
            hardest = min(kinds, key=lambda k: mean[k])
            out.append(f"Averaged over the {len(det)} detectors, F1 is {_pct(mean['cbn'])} on CBN against "
                       + ", ".join(f"{_pct(mean[k])} on {k.upper() if k != 'human' else 'human'}" for k in others)
                       + f": the hardest noise to detect here is {hardest.upper() if hardest != 'human' else 'human'}"
                       + (". If your noise clusters in feature space (look-alike images labelled as their neighbours), "
                          "expect detectors to find less of it than their PMD or human scores suggest."
                          if hardest == "cbn" else
                          (f"; CBN is harder than {', '.join(k.upper() if k != 'human' else 'human' for k in worse)}."
                           if worse else "; CBN is not the hardest here.")))
            n_below = sum(det[m]["cbn"] < min(det[m][k] for k in others) for m in det)
            out.append(f"{n_below} of {len(det)} detectors score lower on CBN than on every other kind.")
    enc = metrics.get("encoders") or {}
    for name, e in enc.items():
        ce, g = e.get("ce", {}), e.get("snls_gain", {})
        if "cbn" in ce and "pmd" in ce:
            harder = ce["cbn"] < ce["pmd"]
            s = (f"With {name} features, CE reaches {ce['cbn']:.1f}% test accuracy under CBN and {ce['pmd']:.1f}% "
                 f"under PMD (CBN {'harder' if harder else 'not harder'})")
            if "cbn" in g:
                s += f"; SNLS soft targets change CE's CBN accuracy by {g['cbn']:+.1f} points"
                if "pmd" in g:
                    s += f" and its PMD accuracy by {g['pmd']:+.1f}"
            if "clean" in ce:
                s += f" (clean-label ceiling {ce['clean']:.1f}%)"
            out.append(s + ".")
    if len(enc) >= 2 and all("cbn" in e.get("snls_gain", {}) for e in enc.values()):
        gains = {n: e["snls_gain"]["cbn"] for n, e in enc.items()}
        signs = {n: g > 0 for n, g in gains.items()}
        if len(set(signs.values())) == 1:
            out.append(f"The sign of SNLS's gain under CBN is the same for all {len(enc)} encoders "
                       f"({'positive' if next(iter(signs.values())) else 'not positive'}): the conclusion does not "
                       "hinge on the encoder here.")
        else:
            pos = [n for n, s in signs.items() if s]
            out.append(f"SNLS helps under CBN with {', '.join(pos)} but not with "
                       f"{', '.join(n for n in enc if n not in pos)}: check it with your own encoder before relying "
                       "on it.")
        hardness = {n: e["ce"]["cbn"] < e["ce"]["pmd"] for n, e in enc.items() if "pmd" in e.get("ce", {})}
        if hardness and len(set(hardness.values())) > 1:
            out.append("Whether CBN is harder than PMD depends on the encoder here: "
                       + ", ".join(f"{n} {'yes' if h else 'no'}" for n, h in hardness.items()) + ".")
    cl = metrics.get("crowdlab") or {}
    ca = cl.get("consensus_accuracy") or {}
    if "crowdlab" in ca and "majority_vote" in ca:
        diff = ca["crowdlab"] - ca["majority_vote"]
        s = (f"With {len(cl.get('annotators', []))} annotators per example, CROWDLAB's consensus is "
             f"{_pct(ca['crowdlab'])} correct against {_pct(ca['majority_vote'])} for majority vote "
             f"({100 * diff:+.1f} points)")
        if "aggregated" in ca:
            s += f" and {_pct(ca['aggregated'])} for the released aggregate"
        out.append(s + ("; prefer it to a plain vote when you have a model's out-of-sample probabilities."
                        if diff > 0 else "; here it does not beat a plain vote."))
        if cl.get("annotator_ranking_matches") is not None:
            out.append("CROWDLAB's annotator quality scores "
                       + ("rank the annotators in the order of their true accuracy"
                          if cl["annotator_ranking_matches"] else "do not rank the annotators in the order of their "
                          "true accuracy")
                       + " (" + ", ".join(f"{n} {_pct(cl['annotator_accuracy'][n])} / {cl['annotator_quality'][n]:.2f}"
                                          for n in cl.get("ranking_by_accuracy", [])) + ", accuracy / quality).")
    other_results = other_results or {}
    if other_results:
        out.append("Other chapters' results read for this guide: " + ", ".join(sorted(other_results)) + ".")
        r3 = (other_results.get("03_pmd_vs_cbn") or {}).get("metrics", {})
        if "headline_holds" in r3:
            out.append(f"Chapter 03 ({r3.get('data', {}).get('dataset', '?')}, profile "
                       f"{other_results['03_pmd_vs_cbn'].get('profile')}): CBN is harder than PMD for every method "
                       f"and rate: {'yes' if r3['headline_holds'] else 'not in every cell'}.")
        r6 = (other_results.get("06_dynacor") or {}).get("metrics", {})
        if "avg_f1" in r6 and r6["avg_f1"]:
            b = max(r6["avg_f1"], key=r6["avg_f1"].get)
            out.append(f"Chapter 06 (profile {other_results['06_dynacor'].get('profile')}): the best average detector "
                       f"over its settings is {DETECTOR_LABELS.get(b, b)} (F1 {_pct(r6['avg_f1'][b])}).")
    else:
        out.append("No other chapter's results were passed in, so this guide rests on this chapter's numbers only.")
    return out


def load_other_results(spec, results_path, *, profile: str, exclude: str) -> dict:
    """``{chapter: results dict}`` of the other chapters' ``NN_*.results.json`` for the decision guide.

    ``spec``: ``"auto"`` -- the folder of ``results_path`` (where ``labnoise run``/``book`` write every chapter's
    results); a folder path; ``None``/``"none"`` -- nothing. Only files of the same ``profile`` count; the
    chapter ``exclude`` (this one) and partial files are skipped. A folder that does not exist reads as nothing.
    """
    import json
    from pathlib import Path

    if spec in (None, "none", False):
        return {}
    folder = Path(results_path).resolve().parent if spec == "auto" else Path(spec)
    out = {}
    if not folder.is_dir():
        return out
    for p in sorted(folder.glob("[0-9][0-9]_*.results.json")):
        name = p.name[: -len(".results.json")]
        if name == exclude or name.endswith(".partial"):
            continue
        try:
            r = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if r.get("profile") == profile and r.get("chapter") == name:
            out[name] = r
    return out


# ----------------------------------------------------------------------------------------------------------
# the chapter's plumbing: one call per cell of notebooks/07_beyond.py
# ----------------------------------------------------------------------------------------------------------
def detector_settings(profile: str, device: str) -> dict:
    """Each detector's options: chapter 06's settings under ``profile``; every detector but SimiFeat (which
    has no device option) runs on ``device``."""
    from .. import profiles
    from .dynacor import detector_options

    opts = detector_options(profiles.config("06_dynacor", profile))
    for m, o in opts.items():
        if m != "simifeat":
            o["device"] = device
    return opts


def label_sets_table(sets: dict):
    from .common import markdown_table

    return markdown_table([[k, f"{100 * v['realised_rate']:.1f}%", v["source"]] for k, v in sets.items()],
                          ["noise", "realised rate", "labels"])


def detector_subset(n: int, examples: int | None, *, seed: int = 0):
    """Sorted seeded indices of ``examples`` of the ``n`` training examples, or None for all of them."""
    if not examples or examples >= n:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, int(examples), replace=False))


def detector_metrics(det: dict, kinds, detectors, n_examples: int) -> dict:
    """The results.json entries of the detector comparison (:func:`detector_f1`'s output ``det``)."""
    return {"detector_f1": det["f1"], "detector_f1_sd": det["f1_sd"],
            "detector_precision_recall": {m: {k: [det["precision"][m][k], det["recall"][m][k]] for k in kinds}
                                          for m in detectors},
            "detector_examples": int(n_examples), "detector_seconds_per_run": det["seconds"],
            "detector_noise_rate": det["realised_rate"]}


def detector_table(det: dict, detectors, *, n_examples: int, encoder: str, n_seeds: int) -> str:
    """F1 (%) per detector and noise kind; "mean ± sample sd" only with two or more seeds."""
    from .common import markdown_table, mean_sd_text

    kinds = list(det["realised_rate"])
    rows = [[DETECTOR_LABELS.get(m, m)] + [mean_sd_text(det["f1"][m][k], det["f1_sd"][m][k], n_seeds, scale=100,
                                                        digits=1) for k in kinds] for m in detectors]
    cols = ["detector"] + [f"{k} ({100 * det['realised_rate'][k]:.1f}% noise)" for k in kinds]
    spread = ", mean ± sample sd" if n_seeds > 1 else ""
    return str(markdown_table(rows, cols, caption=f"**F1 (%) per detector and noise kind** ({n_examples} examples, "
                                                  f"{encoder} features, {n_seeds} seed{'s' if n_seeds > 1 else ''}"
                                                  f"{spread})."))


def detector_figure(det: dict, detectors, *, rate: float, dataset: str):
    """Grouped bars: detection F1 per detector, one bar per noise kind."""
    import matplotlib.pyplot as plt

    kinds = list(det["realised_rate"])
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    w = 0.8 / len(kinds)
    for j, k in enumerate(kinds):
        ax.bar(np.arange(len(detectors)) + (j - (len(kinds) - 1) / 2) * w,
               [100 * det["f1"][m][k] for m in detectors], w, label=k)
    ax.set_xticks(np.arange(len(detectors)), [DETECTOR_LABELS.get(m, m) for m in detectors], fontsize=11)
    ax.set_ylabel("F1 (%)", fontsize=11)
    ax.legend(title="noise", fontsize=10)
    ax.set_title(f"detection F1 at {100 * rate:.0f}% noise ({dataset})", fontsize=11)
    fig.tight_layout()
    return fig


def encoder_features(ds, encoders, optional=(), *, root=None, device="auto") -> tuple[dict, list]:
    """``({encoder: (train, test) features}, skipped)``: every encoder of ``encoders``, and those of
    ``optional`` whose features of both splits are already cached (the others are returned as skipped)."""
    from .. import features

    encs, skipped = list(encoders), []
    for e in optional:
        ok = all(features.is_cached(ds, s, e, root=root) for s in ("train", "test"))
        (encs if ok else skipped).append(e)
    return {e: (features.embed(ds, "train", e, root=root, device=device),
                features.embed(ds, "test", e, root=root, device=device)) for e in encs}, skipped


def encoder_table(enc: dict, skipped=()) -> str:
    from .common import markdown_table

    rows = [[e, f"{r['ce']['cbn']:.1f} / {r['snls']['cbn']:.1f}", f"{r['ce']['pmd']:.1f} / {r['snls']['pmd']:.1f}",
             f"{r['ce']['clean']:.1f}", f"{r['snls_gain']['cbn']:+.1f}", f"{r['snls_gain']['pmd']:+.1f}"]
            for e, r in enc.items()]
    text = str(markdown_table(rows, ["encoder", "CBN", "PMD", "clean", "SNLS gain CBN", "SNLS gain PMD"],
                              caption="**Test accuracy (%) of a CE head, without / with SNLS targets.**"))
    return text + (f"\n\nNot compared (features not cached here): {', '.join(skipped)}." if skipped else "")


def crowd_annotators(dataset: str, features, clean_labels, *, annotators, simulated_rates, seed: int = 0,
                     num_classes=None, root=None) -> dict:
    """The annotators of the CROWDLAB section: CIFAR-10N's single-annotator sets and its aggregate for
    CIFAR-10, else simulated annotators (instance-dependent noise at ``simulated_rates``). Returns
    ``{"labels": (N, A), "names", "aggregated" (or None), "source"}``."""
    from .. import data

    if dataset == "cifar10":
        return {"labels": np.stack([data.load_label_set("cifar10n", a, root=root) for a in annotators], axis=1),
                "aggregated": data.load_label_set("cifar10n", "aggre", root=root), "names": list(annotators),
                "source": "CIFAR-10N's three annotators (random1/2/3), aggregate 'aggre'"}
    return {"labels": simulate_annotators(features, clean_labels, simulated_rates, seed=seed, num_classes=num_classes),
            "aggregated": None, "names": [f"simulated_{r}" for r in simulated_rates],
            "source": (f"three simulated annotators (instance-dependent noise at {simulated_rates}); no released "
                       "aggregate")}


def crowdlab_markdown(crowd: dict, names) -> str:
    """The CROWDLAB section's tables and sentence, every number from :func:`crowdlab`'s output."""
    from .common import markdown_table

    ca = crowd["consensus_accuracy"]
    out = [f"{crowd['source']}; pred_probs: {crowd['pred_probs']}.", "",
           str(markdown_table([[k, f"{100 * v:.2f}%"] for k, v in ca.items()], ["consensus", "accuracy vs clean"])),
           "", str(markdown_table([[n, f"{100 * crowd['annotator_accuracy'][n]:.2f}%",
                                    f"{crowd['annotator_quality'][n]:.3f}"] for n in names],
                                  ["annotator", "accuracy vs clean", "CROWDLAB quality"])), ""]
    s = f"CROWDLAB changes the majority's label on {100 * crowd['override_share']:.2f}% of the examples"
    if crowd["override_correct"] is not None:
        s += (f"; it is right on {100 * crowd['override_correct']:.1f}% of those, the majority on "
              f"{100 * crowd['majority_correct_where_overridden']:.1f}%")
    s += (f". Its consensus quality score separates wrong from right consensus labels with AUROC "
          f"{crowd['quality_auroc']:.3f}." if crowd["quality_auroc"] is not None else ".")
    return "\n".join(out + [s])


def guide_markdown(guide: list, *, profile: str) -> str:
    return "\n".join(f"- {s}" for s in guide) + (
        "\n\n*Smoke profile: digits, generated noise and simulated annotators; a check of the code path, not "
        "advice.*" if profile == "smoke" else "")
