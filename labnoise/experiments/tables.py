"""The papers' reference tables and the chapters' generated readings: analysis, not figures.

* :data:`PAPER_TABLE_I` / :data:`PAPER_TABLE_I_CIFAR100` -- the seed paper's Table I (test accuracy, %), keyed like
  our tables: ``[method][noise][rate_key]``, noise in {"pmd", "cbn"}, rate keys as :func:`labnoise.grid.rate_key`
  ("0.35", "0.7"). :func:`paper_table_percent` / :func:`paper_table_status` per dataset.
* :func:`cbn_harder_than_pmd` -- per method and rate: is the mean accuracy under CBN below that under PMD?
* :func:`table1_reading` (chapter 03) and :func:`snls_reading` (chapter 04) -- Markdown stating what one run
  measured, every number and verdict generated from its ``metrics``.

Figures of these tables are in :mod:`labnoise.viz.table` and :mod:`labnoise.viz.snls`.
"""
from __future__ import annotations

import numpy as np

from ..methods import display_name

__all__ = ["PAPER_TABLE_I", "PAPER_TABLE_I_CIFAR100", "TABLE_I_METHODS", "NOT_TRANSCRIBED",
           "paper_table_percent", "paper_table_status", "cbn_harder_than_pmd", "table1_reading", "snls_reading"]




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
#: same six methods; the other four rows are *not transcribed* here (see :data:`NOT_TRANSCRIBED`), not invented:
#: a search of the stored sources available to this project found no copy of the paper's CIFAR-100 table, and the
#: project's reference notes give only these two rows.
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



def _lab(m):
    return display_name(m)  # the method registry is the one place display names live


def table1_reading(metrics: dict, profile: str | None = None) -> str:
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


def snls_reading(metrics: dict) -> str:
    """Markdown stating what *this* run of chapter 04 measured, generated from its ``metrics``
    (``accuracy``, ``snls_gain``, ``lra_sampling``, ``lra_inference``); every number and verdict comes from
    them, and a comparison that does not hold in this run is printed as not holding."""

    names = {"ce": "cross-entropy", "lra_diffusion": "LRA-Diffusion"}
    lines = []
    acc = metrics.get("accuracy", {})
    for h, by in metrics.get("snls_gain", {}).items():
        for kd, g in by.items():
            for r, v in g.items():
                a = acc.get(h, {}).get(kd, {}).get(r, {})
                base = f" ({np.mean(a['plain']):.2f}% -> {np.mean(a['snls']):.2f}%)" if a else ""
                verdict = "helps" if v > 0 else "does not help"
                note = " (our experiment: the paper pairs SNLS with LRA-Diffusion only)" if h == "ce" else ""
                lines.append(f"* SNLS on {names.get(h, h)}{note}, {kd.upper()} {r}: {v:+.2f} points{base}: it "
                             f"{verdict} in this run.")
    if "lra_diffusion" in metrics.get("snls_gain", {}):
        worst = {}
        for kd, g in metrics["snls_gain"]["lra_diffusion"].items():
            for r, v in g.items():
                worst[(kd, r)] = v
        small = [k for k in worst if float(k[1]) < 0.5]
        if small:
            ok = all(0.0 < worst[k] for k in small)
            lines.append("* The paper's finding that SNLS helps LRA-Diffusion at 35% "
                         + ("**holds** in this run for every noise set at that rate." if ok else
                            "**does not hold in this run** for every noise set at that rate."))
    samp = metrics.get("lra_sampling")
    if samp:
        z = samp.get("test_acc_zero_start")
        one = samp["test_acc"].get(1, samp["test_acc"].get("1"))
        parts = [f"{n} sample(s) {a:.2f}%" for n, a in samp["test_acc"].items()]
        txt = f"* LRA-Diffusion read-out on {samp['noise'].upper()} {samp['rate']}: random start " + ", ".join(parts)
        if z is not None:
            txt += f"; zero start (deterministic) {z:.2f}%"
            if one is not None:
                txt += (": the zero start is " + ("at least as accurate as" if z >= one else "**less accurate than**")
                        + " one random-start sample in this run")
        lines.append(txt + ".")
    if metrics.get("lra_inference"):
        lines.append(f"* The host comparison above used: {metrics['lra_inference']}.")
    return "\n".join(lines) if lines else "* Nothing was trained in this run."
