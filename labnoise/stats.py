"""Summaries over seeds, one convention for the whole package.

:func:`mean_sd` gives ``{"mean", "sd", "n"}`` with the *sample* standard deviation (ddof=1) and ``sd = None``
for a single value (one seed has no spread; 0.0 would claim one). :func:`mean_sd_text` writes
``"84.40 ± 1.20"`` only when there are two or more values.

    >>> mean_sd([0.5, 0.7])["n"], round(mean_sd([0.5, 0.7])["sd"], 4)
    (2, 0.1414)
    >>> mean_sd([0.5])
    {'mean': 0.5, 'sd': None, 'n': 1}
    >>> mean_sd_text(0.844, 0.012, 3, scale=100), mean_sd_text(0.844, None, 1, scale=100)
    ('84.40 ± 1.20', '84.40')
"""
from __future__ import annotations

import math

__all__ = ["mean_sd", "mean_sd_text"]


def mean_sd(values) -> dict:
    """``{"mean", "sd", "n"}`` of ``values``: sd is the sample standard deviation (ddof=1), None for one value."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError("mean_sd needs at least one value; got none.")
    mean = sum(vals) / len(vals)
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else None
    return {"mean": mean, "sd": sd, "n": len(vals)}


def mean_sd_text(mean: float, sd: float | None = None, n: int = 1, *, scale: float = 1.0, digits: int = 2) -> str:
    """``"84.40 ± 1.20"`` when ``n >= 2`` (and ``sd`` is known), else just ``"84.40"``."""
    txt = f"{mean * scale:.{digits}f}"
    if n >= 2 and sd is not None:
        txt += f" ± {sd * scale:.{digits}f}"
    return txt
