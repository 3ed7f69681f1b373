"""`labnoise book --profile smoke`: every chapter runs, every page is built, no error output."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_smoke_book_builds_every_chapter(smoke_book):
    html = smoke_book
    assert (html / "index.html").exists()
    from labnoise.runner import chapters

    for name in chapters():
        page = html / "notebooks" / f"{name}.html"
        assert page.exists(), f"no page for {name}"
        text = page.read_text()
        assert "Traceback" not in text and 'class="output traceback' not in text
        res = json.loads((ROOT / "_build" / "runs" / "smoke" / f"{name}.results.json").read_text())
        assert res["chapter"] == name and res["profile"] == "smoke" and res["metrics"]
        assert "colab.research.google.com" in text  # launch button
        assert "vcar" not in text, "a citation key garbled from LaTeX accents (use UTF-8 in references.bib)"
