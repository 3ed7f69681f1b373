"""The built smoke book in a real browser (Debian's chromium through Selenium): every page opens, every
figure loads, no error output, no builder path in the text, every Colab link opens the chapter's notebook.
Screenshots go to _build/browser/."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _pages(html: Path):
    return sorted(p.relative_to(html).as_posix() for p in [*html.glob("*.html"), *html.glob("*/*.html")]
                  if p.name not in ("search.html", "genindex.html")
                  and not p.relative_to(html).parts[0].startswith("_"))


BUILDER_PATH = re.compile(r"(%s|/root/|/home/\w+/|/tmp/|PosixPath\()" % re.escape(str(ROOT)))


@pytest.mark.slow
def test_every_page_in_a_real_browser(smoke_book, server, browser):
    from labnoise.runner import chapters

    shots = ROOT / "_build" / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    pages = _pages(smoke_book)
    assert {f"notebooks/{c}.html" for c in chapters()} <= set(pages)
    problems = []
    for page in pages:
        browser.get(f"{server}/{page}")
        browser.execute_script("return document.readyState")
        broken = browser.execute_script(
            "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
        if broken:
            problems.append(f"{page}: figures that did not load: {broken[:3]}")
        text = browser.find_element("tag name", "body").text
        m = BUILDER_PATH.search(text)
        if m:
            i = m.start()
            problems.append(f"{page}: builder path in the text: ...{text[max(0, i - 60):i + 60]!r}...")
        errors = browser.execute_script(
            "return Array.from(document.querySelectorAll('.output.traceback, .output.error, "
            ".output.stderr')).map(e => e.innerText.slice(0, 200))")
        errors = [e for e in errors if re.search(r"Error|Traceback|Exception", e)]
        if errors:
            problems.append(f"{page}: error output: {errors[:2]}")
        if page.startswith("notebooks/"):
            chapter = Path(page).stem
            links = browser.execute_script(
                "return Array.from(document.querySelectorAll('a[href*=\"colab.research.google.com\"]'))"
                ".map(a => a.href)")
            if not links:
                problems.append(f"{page}: no Colab launch link")
            bad = [h for h in links if not h.endswith(f"notebooks/{chapter}.ipynb")]
            if bad:
                problems.append(f"{page}: Colab link does not open notebooks/{chapter}.ipynb: {bad[0]}")
        outside = browser.execute_script(_TABLES_OUTSIDE_THE_COLUMN)
        if outside:
            problems.append(f"{page}: tables running past the content column without scrolling: {outside[:3]}")
        remote = browser.execute_script(_REMOTE_RESOURCES, server)
        if remote:
            problems.append(f"{page}: scripts or styles from another host (the page must work offline): {remote[:3]}")
        browser.save_screenshot(str(shots / (page.replace("/", "__").replace(".html", ".png"))))
    assert not problems, "\n".join(problems)


#: tables whose right edge lies past the article's, with no scrolling box between them and the article
_TABLES_OUTSIDE_THE_COLUMN = """
    var art = document.querySelector('article.bd-article') || document.querySelector('main');
    if (!art) { return []; }
    var right = art.getBoundingClientRect().right + 1, bad = [];
    art.querySelectorAll('table').forEach(function (t) {
        if (t.getBoundingClientRect().right <= right) { return; }
        for (var e = t.parentElement; e && e !== art; e = e.parentElement) {
            var o = getComputedStyle(e).overflowX;
            if ((o === 'auto' || o === 'scroll') && e.getBoundingClientRect().right <= right) { return; }
        }
        bad.push((t.innerText || '').slice(0, 60));
    });
    return bad;"""

#: script and stylesheet addresses on another host than the test server's
_REMOTE_RESOURCES = """
    var here = arguments[0], out = [];
    document.querySelectorAll('script[src], link[rel="stylesheet"][href]').forEach(function (e) {
        var u = e.src || e.href;
        if (u && u.indexOf(here) !== 0 && /^https?:/.test(u)) { out.push(u); }
    });
    return out;"""


@pytest.mark.slow
def test_math_renders_from_the_books_own_files(smoke_book, server, browser):
    """Chapter 04's formulas are typeset by the MathJax copied into the build (no CDN): once the page has loaded,
    MathJax has replaced every ``\\(...\\)`` by its rendering, and the script came from this server."""
    import time

    browser.get(f"{server}/notebooks/04_snls.html")
    srcs = browser.execute_script("return Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s))")
    assert srcs and all(s.startswith(server) for s in srcs), srcs
    for _ in range(60):  # MathJax typesets asynchronously after the page's load event
        state = browser.execute_script(
            "return {n: document.querySelectorAll('mjx-container').length, "
            "raw: (document.querySelector('article') || document.body).innerText.includes('\\\\(')}")
        if state["n"] and not state["raw"]:
            break
        time.sleep(0.5)
    assert state["n"] > 0, "MathJax typeset nothing on chapter 04's page"
    assert not state["raw"], "raw \\( ... \\) left in chapter 04's page: MathJax did not run"


@pytest.mark.slow
def test_cbn_explorer_runs_on_the_static_page(smoke_book, server, browser):
    """Chapter 02's explorer needs no kernel: on the built page its canvas is drawn, and moving the r slider (an
    ``input`` event, as a reader's drag sends) changes the stated noise rate."""
    browser.get(f"{server}/notebooks/02_cluster_based_noise.html")
    state = browser.execute_script("""
        var root = document.querySelector('.labnoise-cbn-explorer');
        if (!root) { return null; }
        var r = root.querySelector('input.cbn-r'), rate = root.querySelector('.cbn-rate');
        var c = root.querySelector('canvas.cbn-canvas');
        var px = c ? c.getContext('2d').getImageData(0, 0, c.width, c.height).data : [];
        var inked = 0;
        for (var i = 3; i < px.length; i += 4) { if (px[i] > 0) { inked++; } }
        function set(v) { r.value = v; r.dispatchEvent(new Event('input', {bubbles: true})); return rate.textContent; }
        return {ready: root.getAttribute('data-ready'), inked: inked, low: set(r.min), high: set(r.max)};""")
    assert state is not None, "no CBN explorer (.labnoise-cbn-explorer) on chapter 02's page"
    assert state["ready"] == "1" and state["inked"] > 0, state
    assert "0.0% of all" in state["low"] and state["high"] != state["low"], state
