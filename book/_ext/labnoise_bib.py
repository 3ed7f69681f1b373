"""Sphinx extension: the reference list labels its entries as the text cites them, author-year.

sphinxcontrib-bibtex's ``bibtex_reference_style: author_year`` makes the in-text citations read "(Zhang et al.,
2022)", but the reference list keeps the formatting style's labels ("[ZSYG22]" from pybtex's ``alpha``). This
registers the pybtex style ``labnoise_author_year`` (``bibtex_default_style`` in ``_config.yml``): pybtex's
``unsrt`` formatting, sorted by first author and year, with the labels "Zhang et al., 2022" (one author: "Zhang, 2022";
two: "Zhang and Shen, 2022"; a letter is added where two entries would share a label).
"""
from __future__ import annotations

import re
from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting import BaseSortingStyle


def _last(person) -> str:
    return re.sub(r"[{}]", "", " ".join(person.prelast_names + person.last_names))


def author_year_label(entry) -> str:
    """"Zhang et al., 2022" for an entry with three or more authors (editors when it has none)."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_last(p) for p in people]
    if len(names) == 2 and names[1] == "others":  # "A and others": et al.
        names = names + ["others"]
    if not names:
        who = entry.key
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [author_year_label(e) for e in entries]
        seen, counts = Counter(), Counter(labels)
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label


class FirstAuthorYearSorting(BaseSortingStyle):
    """By the first author's last name, then year (so "Han et al., 2018" comes before "Han et al., 2020")."""

    def sorting_key(self, entry):
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        first = _last(people[0]).lower() if people else entry.key
        return first, entry.fields.get("year", ""), entry.fields.get("title", "").lower()


class AuthorYearStyle(UnsrtStyle):
    default_label_style = "labnoise_author_year"
    default_sorting_style = "labnoise_author_year_title"


register_plugin("pybtex.style.labels", "labnoise_author_year", AuthorYearLabels)
register_plugin("pybtex.style.sorting", "labnoise_author_year_title", FirstAuthorYearSorting)
register_plugin("pybtex.style.formatting", "labnoise_author_year", AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
