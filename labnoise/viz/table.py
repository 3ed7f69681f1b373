"""Figures and helpers for chapter 03 (PMD vs CBN, the seed paper's Table I).

* :data:`PAPER_TABLE_I` -- the paper's CIFAR-10 test accuracies (%), keyed like our tables:
  ``PAPER_TABLE_I[method][noise][rate_key]``, noise in {"pmd", "cbn"}, rate keys "0.35" / "0.7".
* :func:`cbn_harder_than_pmd` -- per method and rate: is the mean accuracy under CBN below that under PMD?
* :func:`plot_table` -- ours beside the paper's, one panel per rate.
* :func:`plot_curves` -- test accuracy per epoch, one panel per (noise, rate).
"""
from __future__ import annotations

import numpy as np

__all__ = ["PAPER_TABLE_I", "PAPER_TABLE_I_CIFAR100", "METHOD_LABELS", "cbn_harder_than_pmd", "plot_table",
           "plot_curves", "paper_table_percent", "paper_table_status", "TABLE_I_METHODS", "NOT_TRANSCRIBED",
           "reading_the_result"]

#: display names of the methods of Table I
METHOD_LABELS = {"ce": "Standard", "standard": "Standard", "gce": "GCE", "coteaching": "Co-teaching",
                 "coteaching+": "Co-teaching+", "plc": "PLC", "lra_diffusion": "LRA-Diffusion",
                 "lra_snls": "LRA-Diffusion+SNLS"}


def _pc(pmd35, cbn35, pmd70, cbn70):
    return {"pmd": {"0.35": pmd35, "0.7": pmd70}, "cbn": {"0.35": cbn35, "0.7": cbn70}}


#: Table I of the seed paper, CIFAR-10, test accuracy in % (REFERENCE.md). Their encoders/models, not ours.
PAPER_TABLE_I = {
    "ce": _pc(84.40, 75.44, 46.59, 27.22),
    "coteaching+": _pc(67.08, 60.98, 35.35, 18.32),
    "gce": _pc(84.70, 77.73, 39.06, 25.16),
    "plc": _pc(86.11, 80.51, 42.66, 23.06),
    "lra_diffusion": _pc(97.12, 91.74, 47.17, 18.60),
    "lra_snls": _pc(97.31, 92.77, 49.16, 19.05),
}

#: the CIFAR-100 rows transcribed in REFERENCE.md (Standard and LRA+SNLS). The paper's CIFAR-100 table has the
#: same six methods; the other four rows are *not transcribed* here (see :data:`NOT_TRANSCRIBED`), not invented.
PAPER_TABLE_I_CIFAR100 = {
    "ce": _pc(63.42, 46.17, 47.13, 17.48),
    "lra_snls": _pc(78.89, 58.80, 62.41, 15.13),
}

#: methods of the paper's Table I: all six, per dataset
TABLE_I_METHODS = ("ce", "coteaching+", "gce", "plc", "lra_diffusion", "lra_snls")

#: per dataset, the methods of the paper's Table I whose numbers this package does not have
NOT_TRANSCRIBED = {"cifar10": (), "cifar100": ("coteaching+", "gce", "plc", "lra_diffusion")}


def paper_table_percent(dataset: str = "cifar10") -> dict:
    return PAPER_TABLE_I if dataset == "cifar10" else (PAPER_TABLE_I_CIFAR100 if dataset == "cifar100" else {})


def paper_table_status(dataset: str = "cifar10") -> dict:
    """``{method: "transcribed" | "not transcribed"}`` for the six methods of the paper's Table I
    (``{}`` for datasets the paper did not use, e.g. digits)."""
    if dataset not in NOT_TRANSCRIBED:
        return {}
    return {m: "not transcribed" if m in NOT_TRANSCRIBED[dataset] else "transcribed" for m in TABLE_I_METHODS}


def cbn_harder_than_pmd(table: dict) -> dict:
    """``out[method][rate] = mean(CBN) < mean(PMD)`` for every method and rate present under both noises."""
    out = {}
    for m, by_noise in table.items():
        if "pmd" not in by_noise or "cbn" not in by_noise:
            continue
        for r in by_noise["pmd"]:
            if r in by_noise["cbn"]:
                out.setdefault(m, {})[r] = bool(by_noise["cbn"][r]["mean"] < by_noise["pmd"][r]["mean"])
    return out


def plot_table(table: dict, paper: dict | None = None, *, title: str = "", ours_label: str = "ours",
               ceiling: float | None = None):
    """Grouped bars: per method, PMD and CBN accuracy (ours, mean ± sd over seeds), the paper's values as
    black markers, and optionally ``ceiling`` (accuracy with clean labels, a fraction) as a dashed line.
    One panel per rate. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    rates = sorted({r for m in table for n in table[m] for r in table[m][n]}, key=float)
    methods = list(table)
    fig, axes = plt.subplots(1, len(rates), figsize=(5.2 * len(rates), 3.8), squeeze=False, sharey=True)
    colours = {"pmd": "#4C72B0", "cbn": "#DD8452"}
    w = 0.38
    for ax, r in zip(axes[0], rates):
        xs = np.arange(len(methods))
        for j, noise in enumerate(("pmd", "cbn")):
            means = [100 * table[m].get(noise, {}).get(r, {}).get("mean", np.nan) for m in methods]
            sds = [100 * table[m].get(noise, {}).get(r, {}).get("sd", 0.0) for m in methods]
            off = (j - 0.5) * w
            ax.bar(xs + off, means, w, yerr=sds, color=colours[noise], label=f"{noise.upper()} ({ours_label})",
                   capsize=2)
            if paper:
                pv = [paper.get(m, {}).get(noise, {}).get(r, np.nan) for m in methods]
                ax.scatter(xs + off, pv, marker="_", s=250, color="k", zorder=3,
                           label="paper's value (CIFAR-10, their models)" if j == 0 else None)
        if ceiling is not None:
            ax.axhline(100 * ceiling, ls="--", color="0.4", lw=1, label="Standard, clean labels (ours)")
        ax.set_xticks(xs, [METHOD_LABELS.get(m, m) for m in methods], rotation=30, ha="right")
        ax.set_title(f"noise rate {float(r):.0%}")
        ax.set_ylim(0, 100)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("test accuracy (%)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(uniq.values(), uniq.keys(), loc="lower center", ncol=2, frameon=False, bbox_to_anchor=(0.5, -0.02))
    return fig


def plot_curves(records: list[dict], *, seed=None):
    """Test accuracy per epoch for each method, one panel per (noise, rate); mean over seeds."""
    import matplotlib.pyplot as plt

    keys = sorted({(r["noise"], float(r["rate"])) for r in records}, key=lambda k: (k[1], k[0] != "pmd", k[0]))
    fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.0), squeeze=False, sharey=True)
    for ax, (noise, rate) in zip(axes[0], keys):
        by_m: dict = {}
        for r in records:
            curve = r["metrics"].get("test_acc_curve")
            if r["noise"] == noise and float(r["rate"]) == rate and curve and (seed is None or r["seed"] == seed):
                by_m.setdefault(r["method"], []).append([np.nan if v is None else v for v in curve])
        for m, curves in by_m.items():
            L = min(len(c) for c in curves)
            mean = 100 * np.nanmean(np.array([c[:L] for c in curves]), 0)
            ax.plot(np.arange(1, L + 1), mean, label=METHOD_LABELS.get(m, m))
        ax.set_title(f"{noise.upper()} {rate:.0%}")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test accuracy (%)")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def table1_label_sets(dataset: str, train_features, clean, rates=(0.35, 0.70), noises=("pmd", "cbn"), *,
                      use_reference: bool = True, root=None, seed: int = 0, pmd_kind: str = "I",
                      device="auto", progress: bool = False):
    """The PMD and CBN label sets of chapter 03: ``(label_sets, summaries, source)``.

    * CIFAR-10/100 with ``use_reference`` and the paper's files present (``labnoise.data.has_files("reference")``):
      the released label files (``load_reference_labels(dataset, "pmd" | "cluster", rate)``) -- the same noise
      as the paper. Their clean labels (``"given"``) must equal ``clean``.
    * otherwise generated here, seeded: PMD type ``pmd_kind`` from the probabilities of a clean-label MLP head
      on ``train_features`` (:func:`labnoise.noise.pmd_probs`), CBN (Algorithm 1) on a t-SNE map of
      ``train_features``, both calibrated to each rate.

    ``label_sets[(noise, rate)]`` are int64 arrays; ``summaries[noise][rate_key]`` are
    :meth:`labnoise.noise.NoiseResult.summary` dicts; ``source`` says which of the two was used.
    """
    from . import noise as nz
    from .data import has_files, load_reference_labels
    from .grid import rate_key

    clean = np.asarray(clean, dtype=np.int64)
    sets, summaries = {}, {}
    if use_reference and dataset in ("cifar10", "cifar100") and has_files("reference", root):
        given = load_reference_labels(dataset, "given", root=root, download=False)
        if not np.array_equal(given, clean):
            raise ValueError(f"the paper's given labels differ from the {dataset} training labels in "
                             f"{int((given != clean).sum())} places; the data root holds mismatched files.")
        for n in noises:
            for r in rates:
                y = load_reference_labels(dataset, "cluster" if n == "cbn" else "pmd", r, root=root, download=False)
                res = nz.NoiseResult.from_labels(clean, y, kind=n, params={"source": "paper's released file"})
                sets[(n, float(r))] = res.noisy_labels
                summaries.setdefault(n, {})[rate_key(r)] = res.summary()
        return sets, summaries, "the paper's released label files"
    probs = None
    for n in noises:
        for r in rates:
            if n == "pmd":
                if probs is None:
                    probs = nz.pmd_probs(train_features, clean, seed=seed, device=device, progress=progress)
                res = nz.pmd(probs, clean, kind=pmd_kind, rate=float(r), seed=seed)
            else:
                res = nz.cbn(train_features, clean, target_rate=float(r), seed=seed)
            sets[(n, float(r))] = res.noisy_labels
            summaries.setdefault(n, {})[rate_key(r)] = res.summary()
    return sets, summaries, "generated here (seeded) from the profile's encoder features"


def _lab(m):
    return METHOD_LABELS.get(m, m)


def reading_the_result(metrics: dict, profile: str | None = None) -> str:
    """Markdown that states what *this* run of chapter 03 measured, generated from its ``metrics``
    (``table``, ``cbn_harder_than_pmd``, ``pmd_minus_cbn_points``, ``paper_table_I``, ``clean_ceiling``,
    ``data``, ``lra_inference``). Every number and verdict in it comes from those values."""
    table = metrics.get("table", {})
    harder = metrics.get("cbn_harder_than_pmd", {})
    gaps = metrics.get("pmd_minus_cbn_points", {})
    paper = metrics.get("paper_table_I", {}) or {}
    lines = [f"**Reading the result (generated from this run's metrics: {metrics.get('data', {}).get('dataset')}, "
             f"profile `{profile}`).**", ""]
    cells = [(m, r, ok) for m, by in harder.items() for r, ok in by.items()]
    if not cells:
        return "\n".join(lines + ["* No method ran under both noises: nothing to compare."])
    n_ok = sum(ok for _, _, ok in cells)
    if n_ok == len(cells):
        small = min(((gaps[m][r], m, r) for m, r, _ in cells), key=lambda t: t[0])
        pg = paper.get(small[1], {})
        ptxt = f" (the paper's gap there: {pg['pmd'][small[2]] - pg['cbn'][small[2]]:.2f})" if pg else ""
        lines.append(f"* **The headline holds in this run**: in all {len(cells)} (method, rate) cells CBN gave a "
                     f"lower last-epoch accuracy than PMD. The smallest gap: {_lab(small[1])} at "
                     f"{float(small[2]):.0%}, {small[0]:.2f} points{ptxt}.")
    else:
        bad = ", ".join(f"{_lab(m)} {float(r):.0%} ({gaps[m][r]:+.2f} pts)" for m, r, ok in cells if not ok)
        lines.append(f"* **The headline does not hold in this run** in {len(cells) - n_ok} of {len(cells)} "
                     f"(method, rate) cells: CBN was not below PMD for {bad}.")
    ceil = metrics.get("clean_ceiling", {}).get("mean")
    if ceil is not None:
        lines.append(f"* Clean-label ceiling of this lane (Standard CE, clean labels): {100 * ceil:.2f}%.")
    for r in sorted({r for _, r, _ in cells}, key=float):
        for n in ("pmd", "cbn"):
            ours = {m: table[m][n][r]["mean"] for m in table if r in table[m].get(n, {})}
            if not ours:
                continue
            rank = sorted(ours, key=lambda m: -ours[m])
            txt = f"* {n.upper()} {float(r):.0%}, ours best to worst: " + ", ".join(
                f"{_lab(m)} {100 * ours[m]:.2f}" for m in rank)
            pv = {m: paper[m][n][r] for m in rank if m in paper}
            if pv:
                txt += "; the paper's: " + ", ".join(f"{_lab(m)} {pv[m]:.2f}" for m in sorted(pv, key=lambda m: -pv[m]))
            lines.append(txt + ".")
    if "lra_diffusion" in table and "lra_snls" in table:
        for r in sorted({r for _, r, _ in cells}, key=float):
            for n in ("pmd", "cbn"):
                a = table["lra_diffusion"].get(n, {}).get(r)
                b = table["lra_snls"].get(n, {}).get(r)
                if a and b:
                    d = 100 * (b["mean"] - a["mean"])
                    pd_ = (paper["lra_snls"][n][r] - paper["lra_diffusion"][n][r]) if "lra_diffusion" in paper \
                        and "lra_snls" in paper else None
                    lines.append(f"* SNLS on LRA-Diffusion, {n.upper()} {float(r):.0%}: {d:+.2f} points in this run"
                                 + (f" (the paper: {pd_:+.2f})" if pd_ is not None else "")
                                 + f"; inference: {metrics.get('lra_inference', '?')}.")
    return "\n".join(lines)
