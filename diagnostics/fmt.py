"""French number formatting for everything a user reads (``12,5 %``, ``1 600``)."""
from __future__ import annotations

import math

NBSP = "\u202f"  # narrow no-break space, the French thousands separator and before %


def _is_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(x, decimals: int = 0) -> str:
    """Format a number the French way: ``1 600``, ``12,5``; missing gives ``–``.

    Examples
    --------
    >>> number(1600)
    '1\u202f600'
    >>> number(12.345, 1)
    '12,3'
    """
    if _is_missing(x):
        return "–"
    s = f"{float(x):,.{decimals}f}"
    return s.replace(",", NBSP).replace(".", ",")


def percent(p, decimals: int = 1, *, scale: float = 100.0) -> str:
    """Format a proportion (0–1 by default) as ``12,5 %``.

    Examples
    --------
    >>> percent(0.125)
    '12,5\u202f%'
    """
    if _is_missing(p):
        return "–"
    return f"{number(float(p) * scale, decimals)}{NBSP}%"


def interval(lo, hi, decimals: int = 1, *, scale: float = 100.0) -> str:
    """Format a confidence interval as ``[10,2 ; 14,9]`` (values scaled like :func:`percent`)."""
    if _is_missing(lo) or _is_missing(hi):
        return "–"
    return f"[{number(float(lo) * scale, decimals)} ; {number(float(hi) * scale, decimals)}]"


def statistic_label(kind: str, multiplier: float = 1) -> str:
    """French name of a result's ``kind`` for tables: ``"taux pour 100 000"``, ``"nombre"``…

    Result frames hold the kind in English (``kind`` column, see :mod:`diagnostics.results`);
    this is the display side.

    Examples
    --------
    >>> statistic_label("rate", 1000)
    'taux pour 1\u202f000'
    >>> statistic_label("proportion", 100)
    'pourcentage'
    """
    m = float(multiplier)
    per = "" if m == 1 else f" pour {number(m)}"
    if kind == "proportion":
        return "pourcentage" if m == 100 else f"proportion{per}"
    names = {"rate": "taux", "count": "nombre", "ratio": "ratio", "dsr": "TSD", "mean": "moyenne",
             "total": "total", "difference": "différence", "pseudomedian": "pseudo-médiane",
             "quantile": "quantile", "coefficient": "coefficient"}
    name = names.get(kind, str(kind))
    return f"{name} pour {number(m)}" if kind in ("rate", "dsr") else f"{name}{per}"
