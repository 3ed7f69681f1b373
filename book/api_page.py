"""Write book/api.md, the API reference page: for every public module, an autosummary table (signature and the
first line of the docstring of every public function and class) followed by the module's full autodoc entries.

Public names are a module's ``__all__``, else the functions and classes it defines whose names do not start with
``_``. Run ``python book/api_page.py`` after adding a public function; tests/test_exercises.py checks the page is
current. The page is built with sphinx.ext.autodoc + autosummary (labnoise is imported at build time).
"""
from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

#: the modules a reader of the chapters calls, in reading order
MODULES = ("labnoise.noise", "labnoise.methods", "labnoise.methods.snls", "labnoise.methods.lend",
           "labnoise.methods.lra_diffusion", "labnoise.detect", "labnoise.memorization", "labnoise.features",
           "labnoise.neighbors", "labnoise.train", "labnoise.data", "labnoise.profiles", "labnoise.evaluation",
           "labnoise.linalg", "labnoise.tsne")
PAGE = Path(__file__).resolve().parent / "api.md"


def public_names(modname: str) -> list[str]:
    """The public functions and classes of ``modname`` (``__all__`` order, else source order)."""
    mod = importlib.import_module(modname)
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n, obj in vars(mod).items() if not n.startswith("_")
                 and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == modname]
    return [n for n in names if inspect.isfunction(getattr(mod, n)) or inspect.isclass(getattr(mod, n))]


def page() -> str:
    out = ["# API reference", "",
           "Every public function and class of the modules the chapters call, generated from their docstrings "
           "(signature, one-line summary, then the full entry). Notation as in the docstrings: N examples, "
           "C (or K) classes, D feature dimensions; `labels` are the given labels, `clean_labels` the true ones. "
           "The examples in the docstrings run as doctests in `make test`.", ""]
    for m in MODULES:
        names = public_names(m)
        out += [f"## `{m}`", "", "```{eval-rst}", f".. automodule:: {m}", "   :no-members:", "",
                ".. autosummary::", ""]
        out += [f"   {n}" for n in names]
        out += [""]
        for n in names:
            obj = getattr(importlib.import_module(m), n)
            if inspect.isclass(obj):
                out += [f".. autoclass:: {n}", "   :members:", ""]
            else:
                out += [f".. autofunction:: {n}", ""]
        out += ["```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    PAGE.write_text(page())
    print(f"wrote {PAGE}", file=sys.stderr)
