"""Every chapter ends with >= 3 exercises (sphinx-exercise directives) of mixed kinds, each with a solution that is
collapsed (``:class: dropdown``) and whose code runs on the smoke profile: this test extracts every solution's
```python block from the chapter sources (notebooks/*.py, the Exercises section) and executes it; the block's
``assert`` lines state what the solution claims. Each block is run with two seeds (its first line is
``seed = 0``), so a claim read off one lucky seed fails here.

Also: the API reference page (book/api.md) is current and lists every public name, and the course outline and
glossary pages are in the table of contents with every {term} role pointing at a glossary entry."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.py"))
KINDS = ("Predict, then run", "Implement", "Interpret")


def exercise_markdown(chapter: str) -> str:
    """The chapter's Exercises section as markdown (the '# ' comment prefixes of its markdown cells removed)."""
    src = (ROOT / "notebooks" / f"{chapter}.py").read_text()
    i = src.find("# ## Exercises")
    assert i >= 0, f"{chapter}: no '## Exercises' section at the end of notebooks/{chapter}.py"
    lines = []
    for line in src[i:].splitlines():
        if line.startswith("# %%"):
            lines.append("")
        elif line == "#":
            lines.append("")
        elif line.startswith("# "):
            lines.append(line[2:])
        else:
            assert not line.strip(), f"{chapter}: code after the Exercises section: {line!r}"
    return "\n".join(lines)


def solution_blocks(chapter: str) -> list[tuple[str, str]]:
    """(label, code) of every ```python block inside a solution directive of the chapter."""
    md = exercise_markdown(chapter)
    out = []
    for m in re.finditer(r"````\{solution\} (\S+)\n(.*?)\n````", md, re.S):
        for code in re.findall(r"```python\n(.*?)\n```", m.group(2), re.S):
            out.append((m.group(1), code))
    return out


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_three_mixed_exercises_with_hidden_solutions(chapter):
    md = exercise_markdown(chapter)
    exercises = re.findall(r"```\{exercise\} (.+)\n:label: (\S+)", md)
    solutions = re.findall(r"````\{solution\} (\S+)\n:class: dropdown\n", md)
    assert len(exercises) >= 3, f"{chapter}: {len(exercises)} exercises"
    assert sorted(label for _, label in exercises) == sorted(solutions), \
        f"{chapter}: every exercise needs one collapsed (':class: dropdown') solution"
    kinds = {k for title, _ in exercises for k in KINDS if title.startswith(k)}
    assert kinds == set(KINDS), f"{chapter}: exercise kinds {kinds}, want all of {KINDS}"
    assert len(solution_blocks(chapter)) == len(exercises), f"{chapter}: every solution carries runnable code"
    for title, label in exercises:
        body = md[md.index(f":label: {label}"):]
        body = body[:body.index("```")]
        assert "{py:" in body, f"{chapter} {label}: link the library function it uses to the API page"


CASES = [(c, label, code) for c in CHAPTERS for label, code in solution_blocks(c)]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("chapter,label,code", CASES, ids=[label for _, label, _ in CASES])
def test_solution_code_runs_on_smoke_and_its_claims_hold(chapter, label, code, seed, one_thread, tmp_path,
                                                         monkeypatch):
    assert code.startswith("seed = 0"), f"{label}: the block's first line must be 'seed = 0'"
    assert "assert " in code, f"{label}: the solution must check what it claims"
    monkeypatch.chdir(tmp_path)
    exec(compile(f"seed = {seed}" + code[len("seed = 0"):], f"<{chapter} {label}>", "exec"), {"__name__": label})


def test_api_page_is_current_and_lists_every_public_name():
    import importlib.util

    spec = importlib.util.spec_from_file_location("api_page", ROOT / "book" / "api_page.py")
    api = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(api)
    page = (ROOT / "book" / "api.md").read_text()
    assert page == api.page(), "book/api.md is stale: run python book/api_page.py"
    for wanted in ("noise", "methods", "detect", "memorization", "features", "neighbors", "train", "data", "profiles"):
        assert f"## `labnoise.{wanted}`" in page
    for m in api.MODULES:
        for name in api.public_names(m):
            assert re.search(rf"^\.\. auto(function|class):: {name}$", page, re.M), f"{m}.{name} missing"


def test_course_glossary_and_api_in_toc_and_every_term_is_defined():
    toc = (ROOT / "_toc.yml").read_text()
    for page in ("book/course", "book/glossary", "book/api"):
        assert f"file: {page}\n" in toc, f"{page} is not in _toc.yml"
    glossary = (ROOT / "book" / "glossary.md").read_text()
    body = glossary[glossary.index("```{glossary}"):]
    terms = {line.strip().lower() for line in body.splitlines()[1:] if line and not line.startswith((" ", "`"))}
    used = set()
    for p in [*(ROOT / "notebooks").glob("0*.py"), *(ROOT / "book").glob("*.md")]:
        for m in re.finditer(r"\{term\}`([^`]+)`", p.read_text().replace("\n# ", " ")):
            ref = m.group(1)
            ref = re.search(r"<([^>]+)>$", ref).group(1) if ref.endswith(">") else ref
            used.add((p.name, re.sub(r"\s+", " ", ref).strip().lower()))
    missing = sorted({(f, t) for f, t in used if t not in terms})
    assert not missing, f"{{term}} roles without a glossary entry: {missing}"
    chapters_linking = {f for f, _ in used if f.startswith("0")}
    assert len(chapters_linking) == len(CHAPTERS), "every chapter links its terms to the glossary"


def test_course_timing_table_is_current():
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_page", ROOT / "book" / "course_page.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    assert course.refresh() == course.PAGE.read_text(), "book/course.md's timing table is stale: python book/course_page.py"
    assert "| [06_dynacor](" in course.PAGE.read_text()
