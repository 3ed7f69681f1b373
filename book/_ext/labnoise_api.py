"""Sphinx extension for book/api.md: every docstring shows its first paragraph as text (the summary the
autosummary tables also show) and the rest verbatim, as ``help()`` prints it.

Why: the library's docstrings are written for ``help()`` and doctests, in numpy style with free-form tables; parsed
as reStructuredText some of them raise docutils warnings, and the book builds with ``-W``. Shown verbatim, no
docstring can break the build, and the doctest examples read exactly as they run.
"""
from __future__ import annotations


def _verbatim(app, what, name, obj, options, lines):
    if not lines:
        return
    try:
        end = lines.index("")
    except ValueError:
        return
    rest = lines[end + 1:]
    while rest and not rest[-1].strip():
        rest.pop()
    if not rest:
        del lines[end:]
        return
    lines[end:] = ["", "::", ""] + [("    " + line) if line.strip() else "" for line in rest] + [""]


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", _verbatim)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
