"""Chapter 01 (which wrong labels do networks learn?): the human and matched synthetic label sets, the
subsampled memorization estimate of both, the figures' inputs and the generated findings.

The algorithms are in :mod:`labnoise.memorization`; this module is the chapter's plumbing, one call per cell.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from .. import cache as cache_layout
from .. import data, linalg, memorization as mem, noise
from .common import markdown_table

#: the paper's numbers quoted by the chapter (Lim et al. 2025 and its public repository, as summarised in the
#: project's method reference): incorrectly learned human labels, runs, model and epochs
PAPER = {"incorrectly_learned_human": 222, "runs": 1500, "model": "ResNet34, 80 epochs, pixels"}

SYNTHETIC = "synthetic (same T)"


def _timer(run, name):
    return run.timer(name) if run is not None else contextlib.nullcontext()


@dataclass
class LabelSets:
    """The chapter's two label sets: ``labels[name]`` for the human (or stand-in) and the synthetic set."""

    clean: np.ndarray
    labels: dict
    human_name: str
    human_source: str | None  # e.g. "cifar10n-random1"; None for the stand-in
    T: np.ndarray
    stats: dict = field(default_factory=dict)

    @property
    def human(self) -> np.ndarray:
        return self.labels[self.human_name]

    @property
    def synthetic(self) -> np.ndarray:
        return self.labels[SYNTHETIC]

    @property
    def short(self) -> dict:
        """``{full name: "human" | "synthetic"}`` (the metrics' keys)."""
        return {self.human_name: "human", SYNTHETIC: "synthetic"}

    def metrics(self, label_set: str) -> dict:
        return {"human_source": self.human_source or "standin-confusable",
                "label_set": label_set if self.human_source else None,
                "human_rate": self.stats[self.human_name]["rate"],
                "synthetic_rate": self.stats[SYNTHETIC]["rate"],
                "human_wrong_labels": int(np.sum(self.human != self.clean))}

    def table(self):
        """One row per label set: noise rate and the number of wrong labels, counted from the labels."""
        return markdown_table([[k, f"{100 * v['rate']:.2f}", int(np.sum(self.labels[k] != self.clean))]
                               for k, v in self.stats.items()], ["label set", "noise rate (%)", "wrong labels"])


def build_label_sets(ds, features, *, label_set: str, standin_rate: float, seed: int, profile: str,
                     root=None) -> LabelSets:
    """The human label set ``label_set`` of CIFAR-N where its files are here (or the profile downloads them),
    else the confusable-image stand-in at ``standin_rate``; and a synthetic set drawn from the human set's
    transition matrix with ``seed``."""
    clean = ds.train_labels
    n_set = {"cifar10": "cifar10n", "cifar100": "cifar100n"}.get(ds.name)
    human_ok = n_set is not None and (data.has_files(n_set, root) or profile == "full")
    if human_ok:
        human = data.load_label_set(n_set, label_set, root=root)
        name, source = f"human ({n_set} {label_set})", f"{n_set}-{label_set}"
    else:
        if n_set is not None:
            print(f"NOTE: {n_set} label files are not in the data root: using the confusable-image stand-in.")
        human = noise.confusable_noise(features, clean, standin_rate, seed=seed).noisy_labels
        name, source = "human stand-in (confusable)", None
    matched = noise.matched_synthetic(clean, human, seed=seed)
    labels = {name: human, SYNTHETIC: matched.noisy_labels}
    stats = {k: mem.label_set_stats(v, clean, num_classes=ds.num_classes) for k, v in labels.items()}
    return LabelSets(clean, labels, name, source, matched.extras["target_T"], stats)


def compare_with_paper_synthetic(sets: LabelSets, *, dataset: str, label_set: str, profile: str,
                                 root=None) -> dict | None:
    """Our synthetic set against Lim et al.'s released ``cifar_rand1_syn_labels.csv`` (rates, the largest
    difference of the transition matrices, label agreement on the flipped examples); None when that file, the
    CIFAR-10N labels or the paper's setting (CIFAR-10, random1) are not here."""
    ok = (dataset == "cifar10" and sets.human_source is not None and label_set == "random1"
          and (data.has_files("reference", root) or profile == "full"))
    if not ok:
        return None
    paper_syn = data.load_reference_labels("cifar10", "synthetic_random1", root=root)
    ps = mem.label_set_stats(paper_syn, sets.clean, num_classes=len(sets.T))
    ours = sets.stats[SYNTHETIC]
    return {"paper_rate": ps["rate"], "ours_rate": ours["rate"], "human_rate": sets.stats[sets.human_name]["rate"],
            "T_max_abs_diff_ours_vs_paper": float(np.abs(np.array(ps["T"]) - np.array(ours["T"])).max()),
            "T_max_abs_diff_paper_vs_human": float(np.abs(np.array(ps["T"]) - sets.T).max()),
            "same_label_fraction_on_flipped": float(np.mean((paper_syn == sets.synthetic)[sets.synthetic != sets.clean]))}


def head_config(cfg) -> mem.HeadConfig:
    return mem.HeadConfig(kind=cfg.head_kind, hidden=cfg.hidden, epochs=cfg.epochs, batch_size=cfg.batch_size,
                          lr=cfg.lr, chunk_size=cfg.chunk_size, matmul_dtype=cfg.matmul_dtype)


def head_inputs(features, pca_dim: int | None):
    """The heads' input: the features, reduced to ``pca_dim`` principal components first when set."""
    return linalg.pca(features, pca_dim, scale="mean") if pca_dim else features


@dataclass
class Estimates:
    """Per label set (full name): the :class:`~labnoise.memorization.MemorizationResult` and the noisy mask."""

    results: dict
    noisy: dict
    held_out: dict

    def pairs(self) -> dict:
        """``{name: (result, noisy mask)}``, the figures' input."""
        return {k: (self.results[k], self.noisy[k]) for k in self.results}

    def table(self):
        rows = [[k, self.held_out[k], r.timings.get("trained_runs"), r.timings.get("loaded_chunks"),
                 f"{r.timings.get('train_s', 0.0):.1f}", f"{r.timings.get('s_per_run', 0.0):.3f}"]
                for k, r in self.results.items()]
        return markdown_table(rows, ["label set", "held-out examples", "runs trained", "chunks from checkpoint",
                                     "training (s)", "s per run"])


def estimate(x, sets: LabelSets, *, num_classes: int, head: mem.HeadConfig, m: int, keep: float, seed: int,
             device="auto", checkpoint: bool = False, root=None, run=None) -> Estimates:
    """The subsampled memorization estimate of every label set of ``sets`` (held-out design: every wrong label
    plus as many correct ones; ``m`` runs keeping ``keep`` of it); completed chunks are checkpointed under the
    data root's cache when ``checkpoint``."""
    ckpt = cache_layout.cache_dir("memorization", root=data.data_root(root)) if checkpoint else None
    res, noisy, held = {}, {}, {}
    for name, labels in sets.labels.items():
        design = mem.held_out_design(labels, sets.clean, seed=seed)
        trainer = mem.HeadTrainer(x, labels, num_classes=num_classes, config=head, device=device, seed=seed)
        with _timer(run, f"estimate {name.split()[0]}"):
            res[name] = mem.subsample_estimate(trainer, labels, design, m=m, keep=keep, seed=seed,
                                               checkpoint_dir=ckpt, progress=True)
        noisy[name], held[name] = labels != sets.clean, int(design.size)
    return Estimates(res, noisy, held)


def mean_metrics(est: Estimates, short: dict) -> dict:
    """``{"mean_memorization": {"human_incorrect": ...}, "mean_inclusion": ..., "mean_exclusion": ...}``."""
    summ = {short[k]: r.summary(est.noisy[k]) for k, r in est.results.items()}
    return {f"mean_{key}": {f"{s}_{g}": summ[s][g][key] for s in summ for g in ("incorrect", "correct")}
            for key in ("memorization", "inclusion", "exclusion")}


def mean_table(means: dict):
    groups = list(means["mean_memorization"])
    return markdown_table([[g.replace("_", ", ")] + [f"{means[f'mean_{k}'][g]:+.3f}"
                                                      for k in ("memorization", "inclusion", "exclusion")]
                           for g in groups], ["labels", "mean memorization", "mean inclusion", "mean exclusion"])


def learned(est: Estimates, short: dict, threshold: float) -> dict:
    """``{"human" | "synthetic": indices}`` of the incorrectly learned labels (inclusion and exclusion >
    ``threshold``)."""
    return {short[k]: mem.incorrectly_learned(r, est.noisy[k], threshold) for k, r in est.results.items()}


def learned_table(counts: dict, threshold: float):
    return markdown_table([[k, v] for k, v in counts.items()],
                          ["label set", f"incorrectly learned (inclusion and exclusion > {threshold})"])


def map_points(learned_idx: dict, n: int, points: int, *, seed: int) -> np.ndarray:
    """Sorted indices of the t-SNE map: every incorrectly learned example, filled up to ``points`` with a seeded
    random choice of the others."""
    rs = np.random.default_rng(seed)
    must = np.unique(np.concatenate(list(learned_idx.values()) + [np.zeros(0, np.int64)]))
    rest = np.setdiff1d(np.arange(n), must)
    n_extra = max(0, min(points, n) - must.size)
    return np.sort(np.concatenate([must, rs.choice(rest, size=min(n_extra, rest.size), replace=False)]))


def map_marks(sub: np.ndarray, learned_idx: dict) -> dict:
    """Positions of the incorrectly learned examples among the map's points ``sub``."""
    pos = {i: j for j, i in enumerate(sub)}
    return {f"{k} labels": np.array([pos[i] for i in v], dtype=np.int64) for k, v in learned_idx.items()}


def pairs_table(pairs: list):
    return markdown_table(pairs, ["clean -> given", "incorrectly learned human labels"])


def benchmark(x, labels, *, num_classes: int, head: mem.HeadConfig, runs: int, examples: int, seed: int,
              device="auto") -> dict:
    """:func:`labnoise.memorization.benchmark_heads` on a seeded subset of ``examples`` and at most 3 epochs."""
    n = len(labels)
    sub = np.sort(np.random.default_rng(seed).choice(n, min(examples, n), replace=False))
    bench_head = mem.HeadConfig(**{**head.__dict__, "epochs": max(1, min(3, head.epochs))})
    trainer = mem.HeadTrainer(x[sub], labels[sub], num_classes=num_classes, config=bench_head, device=device,
                              seed=seed)
    return mem.benchmark_heads(trainer, runs=runs, seed=seed)


def benchmark_table(b: dict):
    return markdown_table([["one at a time (torch.nn + AdamW)", b["sequential_dtype"], f"{b['sequential_s_per_run']:.4f}"],
                           ["batched (labnoise)", b["batched_dtype"], f"{b['batched_s_per_run']:.4f}"]],
                          ["path", "matmul dtype", "s per run"],
                          caption=f"{b['runs']} runs on {b['examples']} examples: batched is {b['ratio']:.2f}x "
                                  f"faster; the two paths agree on {100 * b['agreement']:.2f}% of the (run, example) "
                                  "correctness values.")


def findings(est: Estimates, short: dict, counts: dict, means: dict, *, threshold: float,
             low_mem: float) -> tuple[dict, dict]:
    """``(findings, low_share)``: the paper's three findings, each with whether it holds in this run and the
    numbers it rests on; ``low_share`` is the share of incorrect labels with memorization < ``low_mem``."""
    mm = means["mean_memorization"]
    low = {short[k]: float(np.mean(r.memorization[est.noisy[k]] < low_mem)) for k, r in est.results.items()}
    out = {
        "synthetic_more_low_memorization": {
            "holds": bool(low["synthetic"] > low["human"]),
            "human": round(low["human"], 4), "synthetic": round(low["synthetic"], 4),
            "measure": f"share of incorrect labels with memorization < {low_mem}",
            "paper": "synthetic incorrect labels show a greater proportion with low memorization scores than human "
                     "ones (Fig. 1)"},
        "human_denser_top_right": {
            "holds": bool(counts["human"] > counts["synthetic"]), "human": counts["human"],
            "synthetic": counts["synthetic"],
            "measure": f"incorrect labels with inclusion > {threshold} and exclusion > {threshold}",
            "paper": "human incorrect labels are denser where inclusion > 0.6 and exclusion > 0.6 (the authors report "
                     "222 human incorrectly learned labels from 1,500 ResNet34 runs; Fig. 2)"},
        "correct_labels_low_memorization": {
            "holds": bool(mm["human_correct"] < mm["human_incorrect"]
                          and mm["synthetic_correct"] < mm["synthetic_incorrect"]),
            "human": round(mm["human_correct"], 4), "synthetic": round(mm["synthetic_correct"], 4),
            "measure": "mean memorization of correct labels (below that of incorrect labels in each set?)",
            "paper": "correct labels have low memorization (Fig. 1)"},
    }
    return out, low


def findings_markdown(found: dict, *, human_name: str, m: int) -> str:
    lines = [f"**What this run found** ({human_name} vs the matched synthetic set, {m} runs each; generated from "
             "`metrics.findings`):", ""]
    for f in found.values():
        lines.append(f"* {f['paper'][0].upper() + f['paper'][1:]} -- **{'holds' if f['holds'] else 'does not hold'} "
                     f"in this run**: {f['measure']}: human {f['human']}, synthetic {f['synthetic']}.")
    return "\n".join(lines)
