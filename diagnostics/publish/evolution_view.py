"""The « Évolution depuis le diagnostic de … » page of « À retenir », and the extracts' series.

:func:`evolution_view` turns the tables of :func:`diagnostics.engine.evolution.compute_evolution` and
:func:`diagnostics.engine.evolution.extract_series` into what the report prints for one quartier:
the changes since the previous diagnostic grouped by verdict (worsening first), the indicators
that cannot be compared and why, and for each extract indicator with several years its series
(a small sparkline in inline SVG and the values) with its recent trend, as Fingertips shows it.
"""
from __future__ import annotations

import html

import pandas as pd

from .. import fmt
from .display import _na, format_interval, format_value

__all__ = ["evolution_view", "previous_values", "sparkline_svg", "synthesis_evolution"]

_ARROWS = {"en hausse": "▲", "en baisse": "▼", "pas d'évolution significative": "●"}
_CLASSES = {"en amélioration": "mieux", "en dégradation": "moins-bien", "pas d'écart significatif": "similaire",
            "en hausse": "plus-élevé", "en baisse": "plus-bas", "non comparable": "non-comparable",
            "non testé": "non-comparable"}
#: Verdicts without a change worth a line of « L'essentiel » (values stay in annex F).
QUIET = ("pas d'écart significatif", "non testé")


def _points(diff: float, unit: str) -> str:
    """« +4,2 points » (percentages), « −5,4 » (scores), « +12 pour 1 000 »."""
    if _na(diff):
        return "–"
    if unit == "%":
        pts = round(abs(diff) * 100, 1)           # the plural follows the printed figure (« 2,0 points »)
        s = fmt.number(pts, 1) + " point" + ("s" if pts >= 2 else "")
    else:
        s = format_value(abs(diff), unit)
    return ("+" if diff > 0 else "−" if diff < 0 else "") + s


def _p(p: float) -> str:
    if _na(p):
        return ""
    return "p < 0,001" if p < 0.001 else f"p = {fmt.number(p, 3)}"


def previous_values(evolution: pd.DataFrame | None, quartier: str) -> dict:
    """``{indicator_id: previous estimate}`` of the comparable indicators of a quartier (for the
    markers of the spine charts)."""
    if evolution is None or evolution.empty:
        return {}
    e = evolution[(evolution["quartier"] == quartier) & evolution["estimate_previous"].notna()
                  & (evolution["verdict"] != "non comparable")]
    return dict(zip(e["indicator_id"], e["estimate_previous"].astype(float)))


def sparkline_svg(values: list, *, width: int = 96, height: int = 26, label: str = "") -> str:
    """A small line of the values (``None`` for a masked year) as inline SVG, the last point marked.

    No axis: the values are printed beside it.  ``label`` is the accessible name.
    """
    pts = [(i, float(v)) for i, v in enumerate(values) if v is not None and not _na(v)]
    if len(pts) < 2:
        return ""
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span = (hi - lo) or 1.0
    n = max(len(values) - 1, 1)

    def xy(i, v):
        return 4 + (width - 8) * i / n, height - 4 - (height - 8) * (v - lo) / span

    path = " ".join(f"{'M' if k == 0 else 'L'}{x:.1f},{y:.1f}" for k, (x, y) in
                    enumerate(xy(i, v) for i, v in pts))
    lx, ly = xy(*pts[-1])
    return (f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{html.escape(label, quote=True)}"><path d="{path}" fill="none" '
            f'stroke="#333" stroke-width="1.5"/><circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.8" fill="#000"/></svg>')


def _series_rows(series: pd.DataFrame | None, trends: pd.DataFrame | None, quartier: str) -> list[dict]:
    if series is None or series.empty:
        return []
    t = trends[trends["quartier"] == quartier].set_index("indicator_id") if trends is not None else pd.DataFrame()
    rows = []
    for iid, s in series[series["quartier"] == quartier].groupby("indicator_id", sort=False):
        if s["year"].nunique() < 2 or iid not in t.index:
            continue
        tr = t.loc[iid]
        unit = tr["unit"]
        vals = [None if m or _na(v) else float(v) for v, m in zip(s["estimate"], s["masked"])]
        cells = [{"year": y, "value": "s" if v is None else format_value(v, unit, with_unit=False)}
                 for y, v in zip(s["year"], vals)]
        label = f"{tr['label']}, {s['year'].iloc[0]} à {s['year'].iloc[-1]}"
        shown = [c for c in cells if c["value"] != "s"]
        rows.append({"label": tr["label"], "unit": unit, "cells": cells,
                     "first": shown[0] if shown else None, "last": shown[-1] if shown else None, "trend": tr["trend"],
                     "arrow": _ARROWS.get(tr["trend"], ""), "verdict": tr["verdict"],
                     "class": _CLASSES.get(tr["verdict"], "similaire"), "p": _p(tr["p_value"]),
                     "method": tr["method"], "years": f"{tr['first_year']}–{tr['last_year']}",
                     "spark": sparkline_svg(vals, label=label),
                     "spark_small": sparkline_svg(vals, width=48, height=14, label=label)})
    return rows


def evolution_view(evolution: pd.DataFrame | None, quartier: str, *, series: pd.DataFrame | None = None,
                   trends: pd.DataFrame | None = None, previous_year: str = "",
                   current_year: str = "", threshold: int = 11) -> dict | None:
    """What the « Évolution » page prints for one quartier (``None`` when there is nothing to show).

    Returns
    -------
    dict or None
        ``title``, ``year``, ``groups`` (``[{"verdict", "class", "rows"}]``, worsening, improving,
        rising/falling without a direction, no significant difference, not tested),
        ``not_comparable`` (rows with the reason), ``current_year`` (the column header of today's
        values),
        ``series`` (extract indicators with several years: values, sparkline, trend).
    """
    rows = []
    if evolution is not None and not evolution.empty:
        e = evolution[evolution["quartier"] == quartier]
        for _, r in e.iterrows():
            if not r["verdict"]:
                continue
            unit = r["unit"]
            rows.append({"id": r["indicator_id"], "label": r["label"], "verdict": r["verdict"],
                         "class": _CLASSES.get(r["verdict"], ""), "note": r["note"],
                         "previous": format_value(r["estimate_previous"], unit),
                         "current": format_value(r["estimate"], unit),
                         "difference": _points(r["difference"], unit),
                         "ci": format_interval(r["diff_ci_low"], r["diff_ci_high"], unit)
                         if not _na(r["diff_ci_low"]) else "",
                         "p": _p(r["p_value"]) + (f", ajusté {_p(r['p_adjusted'])[2:]}"
                                                  if "p_adjusted" in r and not _na(r["p_adjusted"]) else ""),
                         "abs_z": abs(r["difference"]) / max(r["diff_ci_high"] - r["difference"], 1e-12)
                         if not _na(r["difference"]) else 0.0})
        previous_year = previous_year or (str(e["previous_year"].iloc[0]) if len(e) else "")
    ser = _series_rows(series, trends, quartier)
    if not rows and not ser:
        return None
    groups = []
    for verdict in ("en dégradation", "en amélioration", "en hausse", "en baisse", *QUIET):
        g = sorted((r for r in rows if r["verdict"] == verdict), key=lambda r: -r["abs_z"])
        if g:
            groups.append({"verdict": verdict, "class": _CLASSES[verdict], "rows": g})
    return {"title": f"Évolution depuis le diagnostic de {previous_year}" if previous_year else
            "Évolution sur plusieurs années", "year": previous_year, "groups": groups,
            "n_compared": sum(len(g["rows"]) for g in groups),
            "not_comparable": [r for r in rows if r["verdict"] == "non comparable"], "series": ser,
            "current_year": current_year, "threshold": threshold, "quiet": list(QUIET)}


def synthesis_evolution(evolution: pd.DataFrame | None, project) -> dict | None:
    """The synthesis' « Évolution depuis le diagnostic de … »: the quartiers side by side.

    One row per questionnaire indicator that changed significantly in at least one quartier
    (worsening first, then improving, then changes without a favourable direction), one cell
    per quartier with its difference and verdict; per quartier, the count of each verdict.
    ``None`` when the project has no previous diagnostic.
    """
    if evolution is None or evolution.empty:
        return None
    year = str(evolution["previous_year"].dropna().iloc[0]) if evolution["previous_year"].notna().any() else ""
    order = {"en dégradation": 0, "en amélioration": 1, "en hausse": 2, "en baisse": 2}
    counts, rows = [], {}
    for q in project.libelles:
        e = evolution[evolution["quartier"] == q]
        v = e["verdict"].fillna("")
        counts.append({"quartier": q, "worse": int((v == "en dégradation").sum()),
                       "better": int((v == "en amélioration").sum()),
                       "moved": int(v.isin(["en hausse", "en baisse"]).sum()),
                       "stable": int(v.isin(QUIET).sum()),
                       "not_comparable": int((v == "non comparable").sum())})
        for _, r in e.iterrows():
            if r["verdict"] in order:
                rows.setdefault(r["indicator_id"], {"id": r["indicator_id"], "label": r["label"],
                                                    "rank": order[r["verdict"]], "cells": {}})
                row = rows[r["indicator_id"]]
                row["rank"] = min(row["rank"], order[r["verdict"]])
    for iid, row in rows.items():
        for q in project.libelles:
            sel = evolution[(evolution["quartier"] == q) & (evolution["indicator_id"] == iid)]
            if not len(sel) or not sel["verdict"].iloc[0]:
                row["cells"][q] = None
                continue
            r = sel.iloc[0]
            row["cells"][q] = {"verdict": r["verdict"], "class": _CLASSES.get(r["verdict"], ""),
                               "difference": _points(r["difference"], r["unit"]),
                               "previous": format_value(r["estimate_previous"], r["unit"]),
                               "current": format_value(r["estimate"], r["unit"])}
    ordered = sorted(rows.values(), key=lambda r: r["rank"])
    return {"year": year, "title": f"Évolution depuis le diagnostic de {year}" if year else "Évolution",
            "counts": counts, "rows": [{**r, "cells": [r["cells"][q] for q in project.libelles]} for r in ordered]}
