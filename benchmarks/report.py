"""Write ``book/performance.md`` from the benchmarks' JSON tables (``_build/bench/*.json``): no hand-copied numbers.

    python benchmarks/report.py                       # results/bench/ + _build/bench/ -> book/performance.md
    python benchmarks/report.py --bench-dir DIR --out PAGE

``results/bench/`` holds the committed measurements (copy a run's JSON there to publish it: ``_build/`` does
not survive a fresh checkout); a JSON of the same name in ``_build/bench/`` (this checkout's latest run) wins.

Every benchmark ``benchmarks/bench_<x>.py`` writes ``_build/bench/bench_<x>.json`` through
``benchmarks/_bench.write_json`` as ``{"machine": {...}, "rows": [{"name": ..., "seconds": ..., ...}], ...}``.
This script renders one section per benchmark script (a short title from :data:`TITLES`, the script's docstring's
first paragraph, the machine it ran on with its CPU flags and the precision timed, the rows as a table; where the
JSON says ``"compare": true``, the fastest row per data set as a sentence computed from the rows; each of its
``targets`` as met or not met), lists the benchmarks that have no JSON yet, and ends with what was measured on
a GPU (or that nothing was).
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"

#: benchmarks the book expects even before their script exists
EXPECTED: tuple[str, ...] = ()

#: each benchmark's section title (a JSON's own ``title`` wins); the script's docstring says the rest
TITLES = {
    "bench_cbn": "Cluster-based noise: t-SNE map and CBN",
    "bench_detect": "Noisy-label detectors",
    "bench_embed": "EfficientNet-Lite0 embedding",
    "bench_knn": "Exact kNN self-join",
    "bench_lend": "LEND training epoch",
    "bench_lra": "SNLS targets and LRA-Diffusion",
    "bench_memorization": "Memorization heads",
    "bench_train": "Training epochs (frozen-feature lane)",
}

INTRO = """\
# Performance

Speed is a feature of this book: every expensive step has a benchmark in `benchmarks/` that times our path
against the naive or the reference approach **in the same run** and prints the ratio. Each benchmark writes
its table to `_build/bench/<benchmark>.json`; the measurements published here are those JSON files committed
under `results/bench/`, and this page is generated from them by `python benchmarks/report.py` (run by
`make bench`): every number below comes from a JSON file, with the machine it was measured on, its CPU flags
and the precision it timed. On a shared CPU absolute times depend on the load at the time (recorded with each
run); only the ratios within one run are meaningful.
"""


def _doc_first_line(script: Path) -> str:
    try:
        doc = ast.get_docstring(ast.parse(script.read_text())) or ""
    except (OSError, SyntaxError):
        return ""
    import re
    first = " ".join(doc.strip().split("\n\n")[0].split())      # the first paragraph, on one line
    first = re.sub(r":(?:func|class|mod|meth|data):`~?([^`]+)`", r"`\1`", first)
    first = first.removeprefix("Benchmark: ")
    return first[:1].upper() + first[1:].replace("``", "`")


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != v:  # NaN
            return "-"
        a = abs(v)
        if a == 0:
            return "0"
        if a >= 100:
            return f"{v:,.0f}"
        if a >= 1:
            return f"{v:.2f}"
        return f"{v:.5g}"   # 5 digits: a fraction such as 0.99995 must not print as 1
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10000 else str(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k} {_fmt(x)}" for k, x in v.items())
    return str(v).replace("|", "\\|")


def describe_machine(m: dict) -> str:
    """One sentence from a JSON's machine block."""
    if not m:
        return "Machine: not recorded."
    parts = [f"{m.get('cpu', 'unknown CPU')}"]
    if m.get("cores"):
        parts.append(f"{m['cores']} cores")
    flags = m.get("cpu_flags")
    if isinstance(flags, dict):  # {flag: True/False/None} (labnoise._torch.cpu_flags)
        flags = [f for f, on in flags.items() if on is True]
    if flags:
        parts.append("flags " + " ".join(flags))
    elif "cpu_flags" in m:
        parts.append("none of the flags avx2, avx512f, avx512_bf16, amx_bf16, amx_tile")
    else:
        parts.append("CPU flags not recorded")
    if m.get("memory_gib"):
        parts.append(f"{_fmt(float(m['memory_gib']))} GiB memory")
    parts.append(f"GPU {m['gpu']}" if m.get("gpu") else "no GPU")
    if m.get("torch"):
        parts.append(f"torch {m['torch']} ({m.get('torch_threads', '?')} threads)")
    if m.get("load_avg_1min") is not None:
        parts.append(f"load average {_fmt(float(m['load_avg_1min']))} when it ran")
    when = f", {m['date_utc']} UTC" if m.get("date_utc") else ""
    return "Machine: " + ", ".join(parts) + when + "."


def rows_table(rows: list[dict]) -> str:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    order = ["name"] + (["seconds"] if "seconds" in cols else [])
    cols = order + [c for c in cols if c not in order]
    # a column with one value for every row is said once above the table, not repeated
    const = {c: rows[0].get(c) for c in cols[len(order):]
             if len(rows) > 1 and all(r.get(c) == rows[0].get(c) for r in rows)}
    cols = [c for c in cols if c not in const]
    out = []
    if const:
        out.append("All rows: " + "; ".join(f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in const.items()) + ".\n")
    out.append("| " + " | ".join(c.replace("_", " ") for c in cols) + " |")
    out.append("|" + "---|" * len(cols))
    floaty = {c for c in cols if any(isinstance(r.get(c), float) for r in rows)}
    for r in rows:   # a whole number in a column of fractions (JSON writes 1.0 as 1) is shown like the others
        out.append("| " + " | ".join(_fmt(float(r[c]) if c in floaty and type(r.get(c)) is int else r.get(c))
                                     for c in cols) + " |")
    return "\n".join(out)


def fastest_sentences(rows: list[dict]) -> list[str]:
    """Per data set and kind of row (the ``data`` and ``kind`` keys, if any: rows of different kinds, e.g. an
    epoch and a whole grid cell, are not compared): which row was fastest, and by how much over the slowest."""
    groups: dict = {}
    for r in rows:
        if isinstance(r.get("seconds"), (int, float)) and r["seconds"] > 0:
            groups.setdefault((r.get("data"), r.get("kind")), []).append(r)
    out = []
    for (data, kind), rs in groups.items():
        if len(rs) < 2:
            continue
        fast = min(rs, key=lambda r: r["seconds"])
        slow = max(rs, key=lambda r: r["seconds"])
        where = (f" ({kind} rows)" if kind else "") + (f" on {data}" if data else "")
        out.append(f"Fastest{where}: `{fast['name']}` ({_fmt(float(fast['seconds']))} s), "
                   f"{slow['seconds'] / fast['seconds']:.1f}x faster than the slowest, `{slow['name']}` "
                   f"({_fmt(float(slow['seconds']))} s), in the same run.")
    return out


def target_sentences(rows: list[dict], targets: list[dict]) -> list[str]:
    """A target ``{"what", "row": {key: value}, "max_seconds"}`` is met when some row matching ``row`` took at
    most ``max_seconds``; without such a row the page says it was not measured at that size."""
    out = []
    for t in targets:
        match = [r for r in rows if all(r.get(k) == v for k, v in (t.get("row") or {}).items())
                 and isinstance(r.get("seconds"), (int, float))]
        what, limit = t.get("what", "target"), float(t.get("max_seconds", float("nan")))
        spec = ", ".join(f"{k} {_fmt(v)}" for k, v in (t.get("row") or {}).items())
        if not match:
            out.append(f"Target ({what}; row {spec}; at most {limit:g} s): not measured in this run "
                       "(no row of that size).")
            continue
        for r in match:
            verdict = "met" if r["seconds"] <= limit else "not met"
            where = f" on {r['data']}" if r.get("data") else ""
            out.append(f"Target ({what}; row {spec}; at most {limit:g} s){where}: **{verdict}**, "
                       f"{_fmt(float(r['seconds']))} s.")
    return out


def title(name: str, data: dict | None = None, script: Path | None = None) -> str:
    """A section's short title: the JSON's ``title``, else :data:`TITLES`, else the docstring's first sentence
    up to its first colon."""
    if data and data.get("title"):
        return str(data["title"])
    if name in TITLES:
        return TITLES[name]
    first = _doc_first_line(script) if script is not None and script.exists() else ""
    first = first.split(". ")[0].removeprefix("Benchmark: ").split(":")[0].rstrip(".")
    return first or name


def _precision(data: dict) -> str:
    rows = data.get("rows") or []
    stated = data.get("precision") or (data.get("machine") or {}).get("precision")
    if stated:
        return f"Precision: {_fmt(stated)}."
    for key in ("precision", "dtype", "matmul_dtype"):
        if rows and all(key in r for r in rows):
            return f"Precision: per row (the `{key.replace('_', ' ')}` column)."
    return "Precision: not recorded in this JSON (rerun the benchmark)."


def section(name: str, script: Path | None, data: dict | None) -> str:
    where = f"`benchmarks/{name}.py`" if script is not None and script.exists() else f"`{name}` (no script yet)"
    doc = _doc_first_line(script) if script is not None and script.exists() else ""
    head = f"## {title(name, data, script)}"
    if data is None:
        how = f"`python benchmarks/{name}.py`" if script is not None and script.exists() else "its script"
        return f"{head}\n\n{where}. No JSON yet: run {how} (it writes `_build/bench/{name}.json`).\n"
    lines = [head, "", f"{where}: {doc}" if doc else where, "", describe_machine(data.get("machine", {})) + " "
             + _precision(data), ""]
    extra = {k: v for k, v in data.items() if k not in ("machine", "rows", "title", "targets", "compare",
                                                        "precision")}
    rows = data.get("rows") or []
    if rows:
        lines += [rows_table(rows), ""]
        if data.get("compare"):   # the benchmark says its rows are alternatives to compare
            lines += [s + "\n" for s in fastest_sentences(rows)]
        lines += [s + "\n" for s in target_sentences(rows, data.get("targets") or [])]
    else:
        lines += ["The JSON has no rows.", ""]
    if extra:
        lines += ["Run settings: " + "; ".join(f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in extra.items()
                                               if v not in ([], {}, None)) + ".", ""]
    return "\n".join(lines).rstrip() + "\n"


def build(bench_dir, bench_scripts: Path = BENCH) -> str:
    """The page from the JSON files of ``bench_dir`` (a folder, or a list of folders: a later one's file wins
    over an earlier one's of the same name)."""
    scripts = {p.stem: p for p in sorted(bench_scripts.glob("bench_*.py"))}
    dirs = [bench_dir] if isinstance(bench_dir, (str, Path)) else list(bench_dir)
    jsons = {}
    for d in dirs:
        jsons.update({p.stem: p for p in sorted(Path(d).glob("*.json"))})
    names = sorted(set(scripts) | set(jsons) | set(EXPECTED))
    loaded, broken = {}, []
    for n in names:
        if n in jsons:
            try:
                loaded[n] = json.loads(jsons[n].read_text())
            except (OSError, ValueError):
                broken.append(n)
    missing = [n for n in names if n not in loaded]
    parts = [INTRO]
    if missing:
        parts.append("Benchmarks with no JSON yet: " + ", ".join(f"`{n}`" for n in missing) + ".\n")
    if broken:
        parts.append("Unreadable JSON (rerun the benchmark): " + ", ".join(f"`{n}`" for n in broken) + ".\n")
    for n in names:
        parts.append(section(n, scripts.get(n), loaded.get(n)))
    parts.append(gpu_section(loaded))
    return "\n".join(parts)


def gpu_section(loaded: dict) -> str:
    """What a reader needs to know about GPUs: which numbers on the page, if any, were measured on one."""
    on_gpu = {n: d["machine"]["gpu"] for n, d in loaded.items() if (d.get("machine") or {}).get("gpu")}
    out = ["## On a GPU", ""]
    if not on_gpu:
        out.append("Every number on this page was measured without a GPU, on the CPU named in each section. The "
                   "pixel lane (CIFAR ResNets, the fast CIFAR net) and the `full` profile are meant for a GPU; "
                   "there is no GPU measurement of them here yet.")
    else:
        out.append("Measured on a GPU: " + "; ".join(f"{title(n, loaded[n])} ({g})" for n, g in on_gpu.items())
                   + ". Every other section was measured without a GPU.")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench-dir", action="append", default=None,
                    help="folder of benchmark JSON (repeatable; later wins; default results/bench then _build/bench)")
    ap.add_argument("--out", default=str(ROOT / "book" / "performance.md"))
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from labnoise._io import atomic_path

    page = build([Path(d) for d in (args.bench_dir or [ROOT / "results" / "bench", ROOT / "_build" / "bench"])])
    with atomic_path(args.out, suffix=".md") as tmp:
        tmp.write_text(page)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
