"""What every chapter does first, and the tables the chapters show.

* :func:`start` -- a chapter's first call: its settings from the parameters cell, its :class:`~labnoise.results.Results`
  and the torch CPU threads (``threads``), in one place::

      cfg, run = start("02_cluster_based_noise", globals())

* :func:`cpu_or` -- the device the frozen-feature detectors of chapter 07 run on.
* :func:`~labnoise.stats.mean_sd` / :func:`~labnoise.stats.mean_sd_text` (re-exported from :mod:`labnoise.stats`) --
  a mean over seeds and its sample standard deviation; the text says "±" only with at least two seeds.
* :func:`markdown_table` -- a Markdown table for a page (``IPython.display.Markdown``), so that no cell
  output is a dict or list repr.
"""
from __future__ import annotations

from .. import profiles, results
from ..stats import mean_sd, mean_sd_text

__all__ = ["start", "set_threads", "cpu_or", "mean_sd", "mean_sd_text", "markdown_table", "Table"]


def set_threads(n: int | None) -> None:
    """Use ``n`` torch intra-op CPU threads for the rest of the chapter (``None`` or 0: torch's default).
    One thread avoids OpenMP spin contention for small models on small shared CPUs."""
    if n:
        import torch

        torch.set_num_threads(int(n))


def start(chapter: str, namespace: dict):
    """``(cfg, run)`` of ``chapter``: the profile's settings overridden by the parameters cell (``namespace``
    is the notebook's ``globals()``), a :class:`~labnoise.results.Results` writing to
    ``namespace["results_path"]``, and ``cfg.threads`` torch threads when the chapter has that setting."""
    cfg = profiles.from_parameters(chapter, namespace)
    run = results.Results(chapter, cfg, path=namespace.get("results_path") or "results.json")
    set_threads(cfg.get("threads"))
    return cfg, run


def cpu_or(device: str | None) -> str:
    """``"auto"`` (or None) -> ``"cpu"``; any other device string passes through."""
    return "cpu" if device in (None, "auto") else device


class Table(str):
    """Markdown text that Jupyter renders as a table (``_repr_markdown_``) and prints as itself."""

    def _repr_markdown_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return str(self)


def _cell(v, digits: int) -> str:
    if isinstance(v, bool) or v is None:
        return "" if v is None else ("yes" if v else "no")
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows, columns=None, *, caption: str = "", digits: int = 2) -> Table:
    """A Markdown table. ``rows`` is a list of dicts (``columns`` defaults to their keys in order) or a
    list of sequences (then ``columns`` names them). Floats are shown with ``digits`` decimals; ``caption``
    (Markdown) goes above the table."""
    rows = list(rows)
    if columns is None:
        if not rows or not isinstance(rows[0], dict):
            raise ValueError("markdown_table: pass columns= for rows that are not dicts.")
        columns = list(dict.fromkeys(k for r in rows for k in r))
    lines = ([caption, ""] if caption else []) + ["| " + " | ".join(map(str, columns)) + " |",
                                                   "|" + "---|" * len(columns)]
    for r in rows:
        vals = [r.get(c) for c in columns] if isinstance(r, dict) else list(r)
        lines.append("| " + " | ".join(_cell(v, digits) for v in vals) + " |")
    return Table("\n".join(lines))
