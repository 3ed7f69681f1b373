"""The committed offline results and the "Results at a glance" page.

``results/offline/`` holds the latest offline run of every chapter: ``NN_name.results.json`` (the chapter's
results.json as written: commit, profile, machine, timings, metrics; small JSON only) and a few of its figures
as ``NN_name.figK.png``. :func:`collect` refreshes it from ``_build/runs/offline`` (``labnoise results
collect``; ``labnoise book --profile offline`` runs it after the chapters); :func:`glance_markdown` renders the
page ``book/results.md`` from it, with the papers' numbers beside ours where the package has them, and names the
chapters that have no offline run yet. :func:`metric_key_drift` is what the tests use to keep a chapter's
results.json keys and its committed file in step.

Figures kept per chapter: the PNG outputs of cells tagged ``keep-figure`` if the chapter tags any, else its
first :data:`FIGURES_PER_CHAPTER` PNG outputs.
"""
from __future__ import annotations

import base64
import json
import statistics
from pathlib import Path

from ._io import atomic_path, save_json

__all__ = ["collect", "glance_markdown", "write_glance_page", "metric_key_drift", "anchor", "results_dir",
           "load_committed", "profile_specific_keys", "course_timing_table", "refresh_course_page", "FIGURES_PER_CHAPTER",
           "MAX_JSON_BYTES"]

FIGURES_PER_CHAPTER = 2
#: results.json files above this size are refused (the folder is for small JSON, not data).
MAX_JSON_BYTES = 1_000_000
_PROFILE_KEYS_FILE = "profile_specific_keys.json"
#: the whole offline book's wall time (``labnoise book --profile offline`` writes it; collect copies it)
BOOK_TIMING = "book.timing.json"


def results_dir(root=None) -> Path:
    """``<project>/results/offline``."""
    from ._project import project_root

    return Path(root or project_root()) / "results" / "offline"


def anchor(chapter: str) -> str:
    """The glance page's MyST target of a chapter: ``results-07-beyond``."""
    return "results-" + chapter.replace("_", "-").lower()


def _png_outputs(nb_path: Path) -> list[bytes]:
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    tagged, first = [], []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png") if isinstance(out.get("data"), dict) else None
            if png:
                raw = base64.b64decode(png if isinstance(png, str) else "".join(png))
                (tagged if "keep-figure" in tags else first).append(raw)
    return tagged if tagged else first[:FIGURES_PER_CHAPTER]


def collect(runs_dir=None, dest=None, *, chapters=None, profile: str = "offline") -> dict:
    """Copy each chapter's ``runs_dir/NN.results.json`` (it must be of ``profile``) and its kept figures into
    ``dest`` (default :func:`results_dir`), atomically; a chapter's old figures are replaced. Chapters without a
    run in ``runs_dir`` keep what ``dest`` has. Returns ``{chapter: [files written]}``. Raises ValueError for a
    results.json of another profile or larger than :data:`MAX_JSON_BYTES`."""
    from ._project import chapters as _chapters
    from ._project import project_root

    runs_dir = Path(runs_dir or project_root() / "_build" / "runs" / profile)
    dest = Path(dest or results_dir())
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"{runs_dir} does not exist: run the chapters first "
                                f"(labnoise book --profile {profile}, or labnoise run NN --profile {profile}).")
    done = {}
    for name in chapters or _chapters():
        src = runs_dir / f"{name}.results.json"
        if not src.exists():
            continue
        raw = src.read_bytes()
        if len(raw) > MAX_JSON_BYTES:
            raise ValueError(f"{src} is {len(raw)} bytes, over {MAX_JSON_BYTES}: results.json must hold small "
                             "metrics only (put arrays in the chapter's cache, not in run.metrics).")
        res = json.loads(raw)
        if res.get("profile") != profile or res.get("chapter") != name:
            raise ValueError(f"{src} is chapter {res.get('chapter')!r}, profile {res.get('profile')!r}; expected "
                             f"{name!r}, {profile!r}.")
        params = res.get("parameters") or {}
        if isinstance(params.get("results_path"), str):  # the builder's absolute path: not for the repository
            params["results_path"] = src.name
        dest.mkdir(parents=True, exist_ok=True)
        save_json(dest / src.name, res)
        written = [src.name]
        for old in dest.glob(f"{name}.fig*.png"):
            old.unlink()
        nb = runs_dir / f"{name}.ipynb"
        if nb.exists():
            for k, png in enumerate(_png_outputs(nb), 1):
                with atomic_path(dest / f"{name}.fig{k}.png", suffix=".png") as tmp:
                    tmp.write_bytes(png)
                written.append(f"{name}.fig{k}.png")
        done[name] = written
    timing = runs_dir.parent.parent / f"book-{profile}.timing.json"  # _build/book-offline.timing.json
    if timing.exists():
        dest.mkdir(parents=True, exist_ok=True)
        save_json(dest / BOOK_TIMING, json.loads(timing.read_text()))
        done["book"] = [BOOK_TIMING]
    return done


def load_committed(folder=None) -> dict:
    """``{chapter: results dict}`` of the committed files."""
    folder = Path(folder or results_dir())
    out = {}
    for p in sorted(folder.glob("[0-9][0-9]_*.results.json")):
        out[p.name[: -len(".results.json")]] = json.loads(p.read_text())
    return out


def profile_specific_keys(folder=None) -> dict:
    """``{chapter: {"offline": [...], "smoke": [...], "needs_data": {key: group}}}``: top-level metrics keys a
    chapter writes in one profile only, and those it writes only when the data root has a file group
    (``needs_data``: a smoke run writes ``cifar10n_noise_rates`` only where CIFAR-10N is in the data root),
    declared in ``results/offline/profile_specific_keys.json`` (absent: none declared)."""
    p = Path(folder or results_dir()) / _PROFILE_KEYS_FILE
    if not p.exists():
        return {}
    return {k: v for k, v in json.loads(p.read_text()).items() if not k.startswith("_")}


def metric_key_drift(chapter: str, run_metrics: dict, committed_metrics: dict, *, run_profile: str = "smoke",
                     declared: dict | None = None, has_data=None) -> list[str]:
    """Top-level ``metrics`` keys that one side has and the other lacks, minus those ``declared`` profile-specific
    (``{"offline": [keys only offline writes], "smoke": [...]}``). Empty list: in step.

    Like is compared with like: a key of ``declared["needs_data"]`` (``{key: data group}``) is left out when
    ``has_data(group)`` is false (default :func:`labnoise.data.has_files`, this machine's data root: the run had
    no such files, so it could not write the key); with the files there it must be on both sides."""
    declared = declared or {}
    if has_data is None:
        from .data import has_files as has_data
    absent = {k for k, group in (declared.get("needs_data") or {}).items() if not has_data(group)}
    only_run = set(run_metrics) - set(committed_metrics) - set(declared.get(run_profile, [])) - absent
    only_committed = set(committed_metrics) - set(run_metrics) - set(declared.get("offline", [])) - absent
    return ([f"{chapter}: {k!r} in the {run_profile} run but not in results/offline" for k in sorted(only_run)]
            + [f"{chapter}: {k!r} in results/offline but not in the {run_profile} run" for k in sorted(only_committed)])


# ------------------------------------------------------------------------------------------------ the page
def _name(key: str) -> str:
    """A method's or a detector's display name (the method registry, then chapter 06's detector names)."""
    from .experiments.dynacor import NAMES
    from .methods import display_name
    return NAMES.get(key) or display_name(key)


def _pc(v, digits=1):
    return "–" if v is None else f"{100 * v:.{digits}f}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def _n(cell) -> int:
    """Seeds behind a ``{"mean", "sd", "n" | "n_seeds"}`` cell (1 when it does not say)."""
    n = (cell.get("n") or cell.get("n_seeds") or 1) if isinstance(cell, dict) else 1
    return int(n)


def _seeds_of(cells) -> int:
    """The number of seeds of a table's cells: their largest ``n`` (1 when none says more)."""
    return max((_n(c) for c in cells), default=1)


def _over(n: int) -> str:
    """``"mean ± sample sd over 3 seeds"`` for a multi-seed table; ``"one seed"`` otherwise (no ± then)."""
    return f"mean ± sample sd over {n} seeds" if n >= 2 else "one seed"


def _mean_sd(cell, *, scale=100.0, digits=1) -> str:
    if not isinstance(cell, dict) or not isinstance(cell.get("mean"), (int, float)):
        return "–"
    out = f"{scale * cell['mean']:.{digits}f}"
    if _n(cell) >= 2 and isinstance(cell.get("sd"), (int, float)):
        out += f" ± {scale * cell['sd']:.{digits}f}"
    return out


def _section_00(m):
    acc = m.get("knn_accuracy") or {}
    if not acc:
        return []
    return ["| encoder | kNN accuracy (%) |", "|---|---|"] + [f"| {e} | {v:.1f} |" for e, v in acc.items()
                                                              if isinstance(v, (int, float))]


def _section_01(m):
    out = []
    if m.get("incorrectly_learned"):
        out.append("Incorrectly learned labels (inclusion and exclusion > threshold): " + ", ".join(
            f"{k} {v}" for k, v in m["incorrectly_learned"].items()) + "; the paper: 222 human labels "
            "(CIFAR-10N random1, 1,500 ResNet34 runs).")
    return out


def _section_02(m):
    cbn, pmd = m.get("cbn") or {}, m.get("pmd") or {}
    if not cbn or not pmd:
        return []
    ref = m.get("reference") or {}
    out = ["How concentrated the flips are: mean number of target classes a class's wrong labels go to, and the "
           "share of them on each class's top two targets (ours generated on this run's t-SNE map; in brackets the "
           "seed paper's released label files, where the data root has them):", "",
           "| noise | rate | realised (%) | targets per class | top-2 share (%) |", "|---|---|---|---|---|"]

    def cell(d, key, pc=False):
        v = d.get(key)
        return "–" if v is None else (_pc(v) if pc else f"{v:.1f}")

    for kind, by in (("CBN", cbn), ("PMD", pmd)):
        for r, d in by.items():
            rd = (ref.get(kind.lower()) or {}).get(r, {})
            out.append(f"| {kind} | {r} | {cell(d, 'realised_rate', True)} | {cell(d, 'targets_per_class_mean')}"
                       + (f" ({cell(rd, 'targets_per_class_mean')})" if rd else "")
                       + f" | {cell(d, 'top2_share', True)}" + (f" ({cell(rd, 'top2_share', True)})" if rd else "")
                       + " |")
    verdict = m.get("cbn_more_concentrated") or {}
    if verdict:
        out += ["", "CBN's flips more concentrated than PMD's (fewer targets per class and a larger top-2 share): "
                + ", ".join(f"rate {r} {'yes' if v.get('holds') else 'no'}" for r, v in verdict.items()) + "."]
    return out


def _section_03(m):
    table = m.get("table")
    if not table:
        return []
    ref = m.get("paper_table_I") or {}
    cols = sorted({(n, r) for by in table.values() for n in by for r in by[n]}, key=lambda c: (float(c[1]), c[0]))
    n = _seeds_of(c for by in table.values() for n_ in by.values() for c in n_.values())
    out = [f"Test accuracy (%), ours ({_over(n)}; the paper's Table I in brackets, with the paper's encoder and "
           "models):", "", "| method | " + " | ".join(f"{k.upper()} {float(r):.0%}" for k, r in cols) + " |",
           "|---|" + "---|" * len(cols)]
    for meth, by in table.items():
        cells = []
        for k, r in cols:
            p = ((ref.get(meth) or {}).get(k) or {}).get(r)
            cells.append(_mean_sd((by.get(k) or {}).get(r), digits=2)
                         + (f" ({p:.2f})" if isinstance(p, (int, float)) else ""))
        out.append(f"| {_name(meth)} | " + " | ".join(cells) + " |")
    if "headline_holds" in m:
        out += ["", f"CBN below PMD in every (method, rate) cell: {'yes' if m['headline_holds'] else 'no'}."]
    return out


def _section_04(m):
    gain = m.get("snls_gain")
    if not gain:
        return []
    from .experiments.tables import PAPER_TABLE_I as paper
    acc = m.get("accuracy") or {}
    rows = []
    for host, by in gain.items():
        for kd, rates in by.items():
            for r, g in (rates.items() if isinstance(rates, dict) else [("", rates)]):
                cell = acc.get(host, {}).get(kd, {}).get(r, {}) if isinstance(acc.get(host, {}).get(kd), dict) else {}
                diffs = [b - a for a, b in zip(cell.get("plain", []), cell.get("snls", []))]
                sd = f" ± {statistics.stdev(diffs):.2f}" if len(diffs) > 1 else ""
                p = None
                if host == "lra_diffusion" and paper:
                    from .grid import rate_key

                    try:
                        rk = rate_key(r)
                        p = paper["lra_snls"][kd][rk] - paper["lra_diffusion"][kd][rk]
                    except (KeyError, ValueError):
                        p = None
                rows.append((host, f"{kd} {r}", f"{g:+.2f}{sd}", len(diffs), "–" if p is None else f"{p:+.2f}"))
    n = max((r[3] for r in rows), default=1)
    many = n >= 2
    out = ["SNLS gain (test accuracy points, SNLS minus plain; "
           + (f"mean ± sample sd over {n} seeds of the paired per-seed differences" if many else "one seed")
           + " in `metrics.accuracy`):", "",
           "| host | set | ours |" + (" seeds |" if many else "") + " paper (LRA+SNLS - LRA) |",
           "|---|---|---|" + ("---|" if many else "") + "---|"]
    out += [f"| {h} | {st} | {g} |" + (f" {k or '–'} |" if many else "") + f" {p} |" for h, st, g, k, p in rows]
    if any(h == "ce" for h, *_ in rows):
        out += ["", "The cross-entropy host (`ce`) is this book's experiment: the paper pairs SNLS with LRA-Diffusion "
                "only, so those rows have no paper value."]
    return out


def _section_05(m):
    fa = m.get("final_acc")
    if not isinstance(fa, dict) or not fa:
        return []
    n = _seeds_of(c for by in fa.values() if isinstance(by, dict) for v in by.values() if isinstance(v, dict)
                  for c in v.values())
    seeds = f"mean over {n} seeds" if n >= 2 else "one seed"
    out = [f"Last-epochs test accuracy (%), per method and setting ({seeds}; the paper's LEND numbers are not "
           "transcribed in this package):", ""]
    rows = []
    for meth, by in fa.items():
        if isinstance(by, dict):
            flat = {}
            for k, v in by.items():
                if isinstance(v, dict):
                    for r, c in v.items():
                        flat[f"{k} {r}"] = c.get("mean") if isinstance(c, dict) else c
                else:
                    flat[k] = v
            rows.append((meth, flat))
    if not rows:
        return []
    cols = sorted({c for _, f in rows for c in f})
    out += ["| method | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for meth, f in rows:
        out.append(f"| {_name(meth)} | " + " | ".join(
            "–" if not isinstance(f.get(c), (int, float)) else (f"{100 * f[c]:.1f}" if f[c] <= 1 else f"{f[c]:.1f}")
            for c in cols) + " |")
    claim = m.get("claim_lend_ge_every_baseline")
    if isinstance(claim, list) and claim:
        held = [c for c in claim if isinstance(c, dict) and c.get("holds")]
        out += ["", f"The paper's claim (LEND >= every baseline, on Last) holds in {len(held)} of {len(claim)} settings "
                "of this run" + (": " + ", ".join(f"{c.get('kind')} {c.get('rate')}" for c in held) if held else "")
                + "."]
    rule = (m.get("dilution_rule") or {}).get("main") if isinstance(m.get("dilution_rule"), dict) else None
    asym = m.get("asymmetric_definition") if isinstance(m.get("asymmetric_definition"), dict) else None
    if rule or asym:
        bits = []
        if rule:
            bits.append(f"dilution rule `{rule.get('rule')}` with {rule.get('steps')} step(s) (other rules measured "
                        "in the chapter's rule table)")
        if asym:
            real = asym.get("realised_rates") or {}
            bits.append(f"asymmetric noise `{asym.get('asym_kind')}`, realised rates "
                        + ", ".join(f"{k.replace('_', ' ')}: {100 * v:.1f}%" for k, v in real.items()
                                    if k.startswith("asym") and isinstance(v, (int, float))))
        out += ["", "This run used the " + "; ".join(bits) + "."]
    return out


def _section_06(m):
    f1 = m.get("f1")
    if not f1:
        return []
    from .experiments.dynacor import PAPER_AVERAGE, PAPER_TABLE1

    settings = sorted({s for v in f1.values() for s in v})
    n = _seeds_of(c for v in f1.values() for c in v.values())
    seeds = f"mean over {n} seeds" if n >= 2 else "one seed"
    out = [f"F1 (%), ours ({seeds}); last row and column: the paper's "
           "DynaCor (CLIP+MLP) per setting and each method's paper average:", "",
           "| method | " + " | ".join(settings) + " | average | paper average |",
           "|---|" + "---|" * (len(settings) + 2)]
    for meth, by in f1.items():
        out.append(f"| {_name(meth)} | " + " | ".join(_pc(by.get(s, {}).get("mean")) for s in settings)
                   + f" | {_pc((m.get('avg_f1') or {}).get(meth))} | {PAPER_AVERAGE.get(meth, '–')} |")
    out.append("| paper: DynaCor | " + " | ".join(str(PAPER_TABLE1.get(s, "–")) for s in settings) + " | – | – |")
    claim = m.get("claim_dynacor_above_every_baseline")
    if claim:
        out += ["", f"The paper's claim (DynaCor's average F1 above every baseline's) "
                f"{'holds' if claim.get('holds') else 'does not hold'} here: DynaCor {_pc(claim.get('dynacor'))}%, "
                f"the best baseline ({claim.get('best_baseline')}) {_pc(claim.get('best_baseline_f1'))}%."]
    from .experiments.dynacor import analysis

    reading = [_one_run(t, m, n) for t in analysis(m, encoder=m.get("encoder"))[1:]]
    if reading:
        out += ["", "The run's reading (generated from its metrics):", ""] + [f"- {t}" for t in reading]
    return out


#: chapter 06's sentences about one DynaCor run (the first setting's first seed), not the seed means above them
#: ("Eq. 9 kept ..." counts every run, so it is not one of them)
_ONE_RUN = ("The alignment weight",)


def _one_run(text: str, m: dict, n_seeds: int) -> str:
    """A chapter-06 sentence for the glance page: one that reports a single run says which, when the table
    above it is a mean over seeds; a list cut short says where the rest is (no trailing "; ....")."""
    import re

    if n_seeds >= 2 and text.startswith(_ONE_RUN):
        sweep = m.get("alpha_sweep") or {}
        setting = sweep.get("setting") or next(iter((m.get("f1") or {}).get("dynacor") or {}), "the first setting")
        seed = sweep.get("seed", 0)
        text = (f"One run ({setting}, seed {seed}; the table gives means over {n_seeds} seeds): "
                + (text[0].lower() + text[1:] if text.startswith("The ") else text))
    return re.sub(r";\s*\.\.\.\.?$", "; the rest are in the file's `flagged_fraction`.", text)


def _section_07(m):
    out = []
    det = m.get("detector_f1") or {}
    if det:
        kinds = [k for k in ("cbn", "pmd", "human") if all(k in v for v in det.values())]
        rates = {k: (m.get("label_sets") or {}).get(k, {}).get("realised_rate") for k in kinds}
        out += ["Detection F1 (%) per noise kind (no paper ran this comparison):", "",
                "| detector | " + " | ".join(f"{k} ({_pc(rates[k])}% noise)" for k in kinds) + " |",
                "|---|" + "---|" * len(kinds)]
        out += [f"| {_name(d)} | " + " | ".join(_pc(v[k]) for k in kinds) + " |" for d, v in det.items()]
    enc = m.get("encoders") or {}
    if enc:
        out += ["", "CE test accuracy (%) without / with SNLS targets, per encoder (same labels):", "",
                "| encoder | CBN | PMD | clean |", "|---|---|---|---|"]
        out += [f"| {e} | " + " | ".join(f"{r['ce'][k]:.1f} / {r['snls'][k]:.1f}" if k in r.get("ce", {}) else "–"
                                         for k in ("cbn", "pmd", "clean")) + " |" for e, r in enc.items()]
    ca = (m.get("crowdlab") or {}).get("consensus_accuracy") or {}
    if ca:
        out += ["", "Consensus accuracy vs clean (%): " + ", ".join(f"{k} {_pc(v, 2)}" for k, v in ca.items()) + "."]
    guide = m.get("decision_guide") or []
    if guide:
        out += ["", "The run's decision guide:", ""] + [f"- {s}" for s in guide]
    return out


_SECTIONS = {"00": _section_00, "01": _section_01, "02": _section_02, "03": _section_03, "04": _section_04, "05": _section_05,
             "06": _section_06, "07": _section_07}


def _scalars(m: dict) -> list[str]:
    rows = [(k, v) for k, v in m.items() if isinstance(v, (int, float, bool, str)) and not isinstance(v, dict)]
    if not rows:
        return []
    return ["| metric | value |", "|---|---|"] + [f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |"
                                                  for k, v in rows[:12]]


def _title(chapter: str) -> str:
    """The chapter's page title (its first ``# `` heading), else its name with spaces."""
    from ._project import project_root

    try:
        import nbformat

        nb = nbformat.read(project_root() / "notebooks" / f"{chapter}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
                break
    except (OSError, ValueError, FileNotFoundError):
        pass
    return chapter[:2] + " " + chapter[3:].replace("_", " ")


def glance_markdown(folder=None, *, chapters=None, figure_prefix: str = "../results/offline") -> str:
    """The "Results at a glance" page (MyST markdown) from the committed offline results in ``folder``."""
    from ._project import chapters as _chapters

    folder = Path(folder or results_dir())
    names = list(chapters or _chapters())
    have = load_committed(folder)
    missing = [n for n in names if n not in have]
    lines = ["# Results at a glance", "",
             "The latest `offline` run of every chapter (CIFAR-10 / CIFAR-10N, EfficientNet-Lite0 features, a CPU), "
             "as committed under `results/offline/` by `labnoise results collect`. The papers' numbers stand beside "
             "ours where this package has them; they are the papers', measured with their encoders and models. "
             "Every number on this page is read from those files when the book is built.", ""]
    if missing:
        lines += [f"**No offline run committed yet for {len(missing)} of {len(names)} chapters:** "
                  + "; ".join(_title(n) for n in missing)
                  + ". Their sections below say so; run `labnoise book --profile offline` (or `labnoise run NN "
                    "--profile offline` then `labnoise results collect`) to add them.", ""]
    else:
        lines += [f"All {len(names)} chapters have a committed offline run.", ""]
    bt = folder / BOOK_TIMING
    if bt.exists():
        t = json.loads(bt.read_text())
        lines += [f"The last `labnoise book --profile offline` took {t['wall_s'] / 60:.1f} min of wall time "
                  f"(chapters executed: {', '.join(t.get('executed') or []) or 'none'}; up to date, not re-run: "
                  f"{', '.join(t.get('up_to_date') or []) or 'none'}"
                  + (f"; {t['jobs']} chapters at a time" if t.get("jobs") else "") + ")."]
        lines += [""]
    totals = {n: (have[n].get("timings_s") or {}).get("total") for n in names if n in have}
    totals = {n: v for n, v in totals.items() if isinstance(v, (int, float))}
    if totals:
        lines += ["Each chapter's own time (its results.json `timings_s.total`, as in its section below"
                  + ("; the book's wall time adds kernel start-up and the build" if bt.exists() else "") + "):", "",
                  "| chapter | time |", "|---|---|"]
        lines += [f"| {_title(n)} | {_minutes(s)} |" for n, s in totals.items()]
        lines += [""]
    for name in names:
        lines += [f"({anchor(name)})=", f"## {_title(name)}", ""]
        r = have.get(name)
        if r is None:
            lines += ["No offline run of this chapter is committed yet.", ""]
            continue
        mach = r.get("machine") or {}
        total = (r.get("timings_s") or {}).get("total")
        lines += [f"Profile `{r.get('profile')}`, labnoise commit `{r.get('commit')}`, "
                  f"{mach.get('cpu', '?')} ({mach.get('cpu_count', '?')} cores"
                  + (f", {mach['accelerator']}" if mach.get("accelerator") else "") + ")"
                  + (f", {_minutes(total)}." if isinstance(total, (int, float)) else "."), ""]
        m = r.get("metrics") or {}
        try:
            body = _SECTIONS.get(name[:2], lambda _m: [])(m) or _scalars(m)
        except (KeyError, TypeError, ValueError, AttributeError) as e:  # a file older than its renderer
            body = [f"This chapter's summary could not be rendered from its committed file "
                    f"({type(e).__name__}: {e}); the file itself is `results/offline/{name}.results.json`."]
        lines += body + [""] if body else ["(no summary table for this chapter's metrics; see the file.)", ""]
        for p in sorted(folder.glob(f"{name}.fig*.png")):
            lines += [f"![{_title(name)}, {p.stem.split('.')[-1]}]({figure_prefix}/{p.name})", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_glance_page(path, folder=None, **kwargs) -> Path:
    """Write :func:`glance_markdown` to ``path`` atomically."""
    with atomic_path(path, suffix=".md") as tmp:
        tmp.write_text(glance_markdown(folder, **kwargs))
    return Path(path)


#: the markers around book/course.md's generated timing table
COURSE_BEGIN = "<!-- timings:begin (written by book/course_page.py) -->"
COURSE_END = "<!-- timings:end -->"


def course_timing_table(results=None) -> str:
    """book/course.md's timing table from the committed offline timings: the whole-book run's per-chapter wall
    times (``book.timing.json``, ``chapters_s``) and each chapter's own ``timings_s["total"]``."""
    results = Path(results or results_dir())
    book = json.loads((results / BOOK_TIMING).read_text())
    minutes = lambda s: "--" if s is None else f"{s / 60:.1f}"  # noqa: E731
    rows = ["| chapter | offline, in the book run (min) | offline, the chapter's own total (min) |",
            "|---|---:|---:|"]
    for name, wall in book["chapters_s"].items():
        f = results / f"{name}.results.json"
        total = json.loads(f.read_text()).get("timings_s", {}).get("total") if f.exists() else None
        rows.append(f"| [{name}](../notebooks/{name}.ipynb) | {minutes(wall)} | {minutes(total)} |")
    rows.append(f"| whole book, {book['jobs']} chapters at a time | {minutes(book['wall_s'])} | |")
    return "\n".join(rows)


def refresh_course_page(page, results=None, *, write: bool = True) -> str:
    """The text of ``page`` (book/course.md) with its timing table regenerated from ``results``; written back
    (atomically) unless ``write=False``. A page without the markers is returned unchanged."""
    import re

    page = Path(page)
    text = page.read_text()
    new = re.sub(re.escape(COURSE_BEGIN) + ".*?" + re.escape(COURSE_END),
                 lambda m: f"{COURSE_BEGIN}\n{course_timing_table(results)}\n{COURSE_END}", text, flags=re.S)
    if write and new != text:
        with atomic_path(page, suffix=".md") as tmp:
            tmp.write_text(new)
    return new
