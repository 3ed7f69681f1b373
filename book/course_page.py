"""Refresh the timing table of book/course.md from the committed offline timings: the whole-book run's per-chapter
wall times (results/offline/book.timing.json, ``chapters_s``) and each chapter's own ``timings_s["total"]``
(results/offline/NN_*.results.json). Run ``python book/course_page.py`` after results/offline/ changes;
tests/test_exercises.py checks the table is current."""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "book" / "course.md"
BEGIN, END = "<!-- timings:begin (written by book/course_page.py) -->", "<!-- timings:end -->"


def _minutes(seconds) -> str:
    return "--" if seconds is None else f"{seconds / 60:.1f}"


def table(results=ROOT / "results" / "offline") -> str:
    book = json.loads((results / "book.timing.json").read_text())
    rows = ["| chapter | offline, in the book run (min) | offline, the chapter's own total (min) |",
            "|---|---:|---:|"]
    for name, wall in book["chapters_s"].items():
        f = results / f"{name}.results.json"
        total = json.loads(f.read_text()).get("timings_s", {}).get("total") if f.exists() else None
        rows.append(f"| [{name}](../notebooks/{name}.ipynb) | {_minutes(wall)} | {_minutes(total)} |")
    rows.append(f"| whole book, {book['jobs']} chapters at a time | {_minutes(book['wall_s'])} | |")
    return "\n".join(rows)


def refresh(page: Path = PAGE) -> str:
    text = page.read_text()
    new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda m: f"{BEGIN}\n{table()}\n{END}", text, flags=re.S)
    return new


if __name__ == "__main__":
    PAGE.write_text(refresh())
