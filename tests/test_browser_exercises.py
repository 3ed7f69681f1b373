"""The exercises on the built smoke book, in a real browser (Debian's chromium through Selenium, set up as in
test_browser.py): every chapter page shows >= 3 exercises, each solution's text is hidden until its title is
clicked and visible after; the glossary, course outline and API pages are built and the chapters' term and API
links resolve; no internal link of the book points at a missing page or anchor."""
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_solutions_are_hidden_until_clicked(smoke_book, server, browser):
    import time

    from labnoise.runner import chapters

    problems = []
    for chapter in chapters():
        browser.get(f"{server}/notebooks/{chapter}.html")
        exercises = browser.find_elements("css selector", "div.exercise.admonition")
        solutions = browser.find_elements("css selector", "div.solution.admonition")
        if len(exercises) < 3 or len(solutions) < len(exercises):
            problems.append(f"{chapter}: {len(exercises)} exercises, {len(solutions)} solutions")
            continue
        for sol in solutions:
            body = sol.find_element("css selector", "section")
            code = sol.find_element("css selector", "pre")
            if body.is_displayed() or code.is_displayed():
                problems.append(f"{chapter}: solution {sol.get_attribute('id')} visible before it is opened")
                continue
            title = sol.find_element("css selector", ".admonition-title")
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", title)
            title.click()
            for _ in range(20):  # the dropdown opens with a short CSS transition
                if body.is_displayed():
                    break
                time.sleep(0.1)
            if not (body.is_displayed() and "seed = 0" in code.text):
                problems.append(f"{chapter}: solution {sol.get_attribute('id')} not shown after a click")
        links = browser.execute_script(
            "return Array.from(document.querySelectorAll('div.exercise a.reference.internal')).map(a => a.href)")
        if not any("/book/api.html#labnoise." in h for h in links):
            problems.append(f"{chapter}: its exercises link no function to the API page")
        if not any("/book/glossary.html#term-" in h for h in browser.execute_script(
                "return Array.from(document.querySelectorAll('a.reference.internal')).map(a => a.href)")):
            problems.append(f"{chapter}: no glossary link")
    assert not problems, "\n".join(problems)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and "internal" in (a.get("class") or "").split() and a.get("href"):
            self.hrefs.append(a["href"])


@pytest.mark.slow
def test_no_broken_internal_links(smoke_book):
    """Every ``a.reference.internal`` of every page points at a built page and, with a #fragment, at an element
    of that page with that id (Sphinx's own check, ``-n``, would also flag the library's references to numpy)."""
    pages = {p: None for p in smoke_book.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts}

    def parsed(p):
        if pages.get(p) is None:
            pages[p] = _Links()
            pages[p].feed(p.read_text(errors="replace"))
        return pages[p]

    broken = []
    for page in list(pages):
        for href in parsed(page).hrefs:
            url = urlsplit(href)
            if url.scheme or url.netloc:
                continue
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            if target not in pages:
                broken.append(f"{page.relative_to(smoke_book)} -> {href} (no such page)")
            elif url.fragment and url.fragment not in parsed(target).ids:
                broken.append(f"{page.relative_to(smoke_book)} -> {href} (no such anchor)")
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:30])
    for page in ("book/course.html", "book/glossary.html", "book/api.html"):
        assert (smoke_book / page).exists(), f"{page} was not built"
    api = (smoke_book / "book" / "api.html").read_text()
    for name in ("labnoise.noise.cbn", "labnoise.detect.find_noisy", "labnoise.methods.snls.snls_targets",
                 "labnoise.memorization.estimate_memorization", "labnoise.profiles.config"):
        assert f'id="{name}"' in api, f"{name} is not documented on the API page"
    assert re.search(r'class="[^"]*autosummary', api), "no autosummary table on the API page"
