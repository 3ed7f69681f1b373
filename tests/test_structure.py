"""The book's structure: chapter cells read as prose plus calls (at most 15 lines of code each, the parameters
cell and the remove-cell Colab install cell aside); the loops live in ``labnoise/experiments``."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 15
CHAPTERS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def code_cells(text: str) -> list[tuple[str, list[str]]]:
    """``[(header, lines)]`` of a jupytext percent file's code cells; header is the ``# %% ...`` line."""
    cells, cur = [], None
    for line in text.splitlines():
        if line.startswith("# %%"):
            cur = (line, [])
            cells.append(cur)
        elif cur is not None:
            cur[1].append(line)
    return [(h, body) for h, body in cells if "[markdown]" not in h and "[md]" not in h]


def exempt(header: str) -> bool:
    """The parameters cell, and cells removed from the page (the Colab install cell)."""
    return "parameters" in header or "remove-cell" in header


def long_cells(text: str, limit: int = MAX_LINES) -> list[str]:
    """The first line and length of every code cell with more than ``limit`` non-blank lines."""
    out = []
    for header, body in code_cells(text):
        n = sum(1 for line in body if line.strip())
        if not exempt(header) and n > limit:
            first = next((line for line in body if line.strip()), "")
            out.append(f"{n} lines: {first.strip()[:70]}")
    return out


@pytest.mark.parametrize("name", CHAPTERS)
def test_no_chapter_code_cell_is_longer_than_15_lines(name):
    long = long_cells((ROOT / "notebooks" / name).read_text())
    assert not long, (f"{name}: code cells longer than {MAX_LINES} lines (move the loop into "
                      f"labnoise/experiments/): " + "; ".join(long))


def test_the_cell_counter_finds_long_cells_and_exempts_parameters_and_remove_cells():
    body = "\n".join(f"x{i} = {i}" for i in range(16))
    text = (f"# %% [markdown]\n# {body}\n\n# %% tags=[\"parameters\"]\n{body}\n\n"
            f"# %% tags=[\"remove-cell\"]\n{body}\n\n# %%\n{body}\n\n# %%\nshort = 1\n\n\n\n")
    assert long_cells(text) == ["16 lines: x0 = 0"]
    assert long_cells(text.replace("x15 = 15\n", "")) == []
    assert CHAPTERS and all(n.endswith(".py") for n in CHAPTERS)
