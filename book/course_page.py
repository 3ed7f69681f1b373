"""Refresh the timing table of book/course.md from the committed offline timings (results/offline/): the
whole-book run's per-chapter wall times and each chapter's own total. ``labnoise results collect`` does this
itself; run ``python book/course_page.py`` after editing results/offline/ by hand. tests/test_exercises.py checks
the table is current."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from labnoise.glance import refresh_course_page  # noqa: E402

PAGE = ROOT / "book" / "course.md"


def refresh(page: Path = PAGE) -> str:
    """The page's text with the table regenerated (nothing written)."""
    return refresh_course_page(page, ROOT / "results" / "offline", write=False)


if __name__ == "__main__":
    refresh_course_page(PAGE, ROOT / "results" / "offline")
