"""The deliverables: one self-contained HTML report per quartier and the cross-quartier synthesis.

Input is the protected indicator table (one row per quartier × indicator, columns agreed in
CONTRIBUTING.md), the project configuration, a summary of the methods (collection, weighting),
the directory of actors and the partner interview notes.  Output is a single HTML file that
works offline: the plotly library is embedded once, the logo is a ``data:`` URI, no font or
image is fetched; the same file prints to A4 (print CSS, page breaks) with
:func:`diagnostics.pdf.html_to_pdf`.

Every text that comes from data (labels, names, quotes) goes through Jinja2 autoescaping, so a
``<script>`` in a partner file is shown as text, never run.  Colours follow the Okabe–Ito
palette, readable with the common colour-vision deficiencies; the comparison with a reference
is also written in words, never conveyed by colour alone.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
import tempfile
from pathlib import Path

import pandas as pd

from . import fmt

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable by most readers.
OKABE_ITO = {"noir": "#000000", "orange": "#E69F00", "bleu_ciel": "#56B4E9", "vert": "#009E73",
             "jaune": "#F0E442", "bleu": "#0072B2", "vermillon": "#D55E00", "pourpre": "#CC79A7"}
#: Colour of a comparison verdict (Fingertips-like, colour-blind safe: blue / yellow / vermilion).
VERDICT_COLOURS = {"mieux": OKABE_ITO["bleu"], "similaire": OKABE_ITO["jaune"],
                   "moins bien": OKABE_ITO["vermillon"], "non comparable": "#FFFFFF"}
QUARTIER_COLOURS = [OKABE_ITO[k] for k in ("orange", "bleu_ciel", "vert", "pourpre", "bleu", "vermillon")]
FIG_WIDTH = 680  # px: fits an A4 page with 15 mm margins at 96 dpi

_PLOTLY_CONFIG = {"displayModeBar": False, "responsive": False, "locale": "fr"}


# --------------------------------------------------------------------------- formatting helpers

def _na(x) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _flag(x) -> bool:
    return False if _na(x) else bool(x)


def _decimals(unit: str, value=None) -> int:
    if unit == "pour 100 000":
        return 0
    return 1


def _scale(unit: str) -> float:
    return 100.0 if unit == "%" else 1.0


def format_value(value, unit: str, *, with_unit: bool = True) -> str:
    """Format an estimate in its unit: ``12,5 %``, ``8,3 pour 1 000``, ``52,0`` (score).

    Proportions are stored on the 0–1 scale (CONTRIBUTING.md) and always shown as percentages;
    with ``with_unit=False`` rates are shown without their unit (table cells whose header says it).
    """
    if _na(value):
        return "–"
    if unit == "%":
        return fmt.percent(value, 1)
    s = fmt.number(value, _decimals(unit))
    return f"{s} {unit}" if with_unit and unit and unit.startswith("pour") else s


def format_interval(lo, hi, unit: str) -> str:
    """Format a confidence interval in the unit of the estimate (``[10,2 ; 14,9]``)."""
    return fmt.interval(lo, hi, _decimals(unit), scale=_scale(unit))


def _plain(value, unit: str) -> float | None:
    """Value on the scale shown to readers (percentages for proportions)."""
    return None if _na(value) else float(value) * _scale(unit)


def _axis_unit(unit: str) -> str:
    return {"%": "%", "score": "score"}.get(unit, unit)


# --------------------------------------------------------------------------- the indicator table

REQUIRED_COLUMNS = ("quartier", "indicator_id", "label", "dimension", "unit", "direction", "estimate",
                    "ci_low", "ci_high", "n", "fragile", "suppressed")


def check_table(table: pd.DataFrame) -> pd.DataFrame:
    """Check that ``table`` has the agreed indicator-table columns; fill optional ones with NA."""
    from .errors import DLSError

    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise DLSError(f"Le tableau d'indicateurs n'a pas la colonne « {missing[0]} » (colonnes attendues : "
                       f"{', '.join(REQUIRED_COLUMNS)}…).")
    t = table.copy()
    for c in ("ref_chambery", "ref_savoie", "ref_region", "ref_france", "cmp_ensemble", "cmp_chambery",
              "cmp_savoie", "cmp_region", "cmp_france", "suppression_reason", "status", "note", "numerator",
              "source", "method", "p_rao_scott"):
        if c not in t.columns:
            t[c] = pd.NA
    return t


def _row_view(r: dict, project) -> dict:
    """One indicator row formatted for the templates."""
    unit = r.get("unit") or ""
    suppressed = _flag(r.get("suppressed"))
    not_computed = (not _na(r.get("status"))) and r.get("status") == "non calculable"
    fragile = _flag(r.get("fragile")) and not suppressed
    refs = []
    for rid, rlabel in project.references.items():
        refs.append({"id": rid, "label": rlabel, "value": format_value(r.get(f"ref_{rid}"), unit, with_unit=False),
                     "cmp": None if _na(r.get(f"cmp_{rid}")) else r.get(f"cmp_{rid}")})
    if suppressed:
        reason = r.get("suppression_reason")
        shown = "secret statistique"
        detail = "" if _na(reason) else str(reason)
    elif not_computed:
        shown, detail = "non calculable", "" if _na(r.get("note")) else str(r.get("note"))
    else:
        shown, detail = format_value(r.get("estimate"), unit, with_unit=False), ""
    centre = project.reference_centrale
    label = r.get("label")
    if unit and unit != "%":
        label = f"{label} ({unit})"
    return {
        "id": r.get("indicator_id"), "label": label, "unit": unit,
        "dimension": r.get("dimension"), "source": "" if _na(r.get("source")) else r.get("source"),
        "value": shown, "ci": "" if (suppressed or not_computed) else format_interval(r.get("ci_low"), r.get("ci_high"), unit),
        "n": "–" if (_na(r.get("n")) or suppressed) else fmt.number(r.get("n")),
        "fragile": fragile, "suppressed": suppressed, "not_computed": not_computed, "detail": detail,
        "refs": refs,
        "cmp_centre": None if _na(r.get(f"cmp_{centre}")) else r.get(f"cmp_{centre}"),
        "cmp_ensemble": None if _na(r.get("cmp_ensemble")) else r.get("cmp_ensemble"),
        "method": "" if _na(r.get("method")) else str(r.get("method")),
        "note": "" if _na(r.get("note")) else str(r.get("note")),
    }


# --------------------------------------------------------------------------- key findings

def _publishable(r) -> bool:
    return (not _flag(r.get("suppressed")) and not _na(r.get("estimate"))
            and (_na(r.get("status")) or r.get("status") != "non calculable"))


def key_findings(table: pd.DataFrame, quartier: str, project, *, limit: int = 8) -> dict:
    """Plain-French key findings for one quartier, generated from the indicator table.

    A finding is an indicator whose comparison column says « moins bien » or « mieux »: against
    the central reference and France (``cmp_<ref>``) and against the whole of the surveyed
    quartiers (``cmp_ensemble``).  Suppressed and non-computable indicators are left out;
    fragile estimates are flagged in the sentence.

    Parameters
    ----------
    table : pandas.DataFrame
        Protected indicator table (CONTRIBUTING.md columns).
    quartier : str
        Label of the quartier (as in the ``quartier`` column).
    project : diagnostics.project.Project
        For reference labels and the locative phrases (« au Biollay », « en France »).
    limit : int
        Maximum number of sentences per group; the largest relative gaps come first.

    Returns
    -------
    dict
        ``{"worse": [...], "better": [...], "worse_others": [...], "better_others": [...],
        "n_indicators": int, "n_suppressed": int, "n_fragile": int}``; each finding is
        ``{"dimension", "label", "sentence"}``.
    """
    t = check_table(table)
    sub = t[t["quartier"] == quartier]
    q = project.quartier(quartier)
    refs = [r for r in (project.reference_centrale, "france") if r in project.references]
    refs = list(dict.fromkeys(refs))
    out = {"worse": [], "better": [], "worse_others": [], "better_others": []}
    for r in sub.to_dict("records"):
        if not _publishable(r):
            continue
        unit = r.get("unit") or ""
        val = format_value(r["estimate"], unit)
        frag = " (estimation fragile, à confirmer)" if _flag(r.get("fragile")) else ""
        for verdict, key in (("moins bien", "worse"), ("mieux", "better")):
            hits = [rid for rid in refs if r.get(f"cmp_{rid}") == verdict]
            if hits:
                comps = " et ".join(f"{format_value(r.get(f'ref_{rid}'), unit)} {project.dans(rid)}" for rid in hits)
                gap = max(abs(float(r["estimate"]) - float(r[f"ref_{rid}"])) / max(abs(float(r[f"ref_{rid}"])), 1e-9)
                          for rid in hits if not _na(r.get(f"ref_{rid}")))
                sentence = (f"{r['label']} : {val} {q.dans}, contre {comps}"
                            f" — {'situation moins favorable' if verdict == 'moins bien' else 'situation plus favorable'}"
                            f"{frag}.")
                out[key].append({"dimension": r["dimension"], "label": r["label"], "sentence": sentence,
                                 "gap": gap})
            if r.get("cmp_ensemble") == verdict:
                sentence = (f"{r['label']} : {val} {q.dans} — "
                            f"{'moins favorable' if verdict == 'moins bien' else 'plus favorable'} que dans "
                            f"l'ensemble des quartiers enquêtés{frag}.")
                out[f"{key}_others"].append({"dimension": r["dimension"], "label": r["label"],
                                             "sentence": sentence, "gap": 0.0})
    for k in ("worse", "better"):
        out[k] = sorted(out[k], key=lambda f: -f["gap"])[:limit]
    for k in ("worse_others", "better_others"):
        out[k] = out[k][:limit]
    out["n_indicators"] = len(sub)
    out["n_suppressed"] = int(sub["suppressed"].map(_flag).sum())
    out["n_fragile"] = int((sub["fragile"].map(_flag) & ~sub["suppressed"].map(_flag)).sum())
    return out


# --------------------------------------------------------------------------- figures

def _fig_html(fig) -> str:
    """Figure as an HTML fragment, without the plotly library (embedded once per page)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, config=_PLOTLY_CONFIG)


def _layout(fig, height: int, **kw):
    fig.update_layout(width=FIG_WIDTH, height=height, autosize=False, template="simple_white",
                      font={"family": "DejaVu Sans, Arial, sans-serif", "size": 11, "color": "#222"},
                      margin={"l": 10, "r": 10, "t": 30, "b": 30}, separators=", ", **kw)
    return fig


def _wrap(text: str, width: int = 38) -> str:
    """Break a long label over several lines for a plotly axis (``<br>``)."""
    words, lines, cur = str(text).split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines.append(cur)
    return "<br>".join(lines)


def _safe(text) -> str:
    """Text for plotly labels: plotly interprets a few HTML tags, so ``<`` and ``>`` are replaced."""
    return str(text).replace("<", "‹").replace(">", "›")


def ci_chart(table: pd.DataFrame, dimension: str, project, highlight: str | None = None):
    """Forest plot of one dimension: each quartier's estimate with its CI, and the references.

    One panel per indicator (its own unit); quartiers as dots with horizontal confidence
    intervals, the highlighted quartier in full colour, references as vertical ticks.
    Suppressed and non-computable estimates are not drawn (the table says why).

    Returns
    -------
    plotly.graph_objects.Figure or None
        ``None`` when the dimension has no indicator.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    t = check_table(table)
    sub = t[t["dimension"] == dimension]
    ids = list(dict.fromkeys(sub["indicator_id"]))
    if not ids:
        return None
    quartiers = project.libelles
    colours = {q: QUARTIER_COLOURS[i % len(QUARTIER_COLOURS)] for i, q in enumerate(quartiers)}
    ref_symbols = {"chambery": "line-ns", "savoie": "triangle-up", "region": "square", "france": "diamond"}
    titles = []
    for iid in ids:
        r0 = sub[sub["indicator_id"] == iid].iloc[0]
        titles.append(_safe(f"{r0['label']} ({_axis_unit(r0['unit'])})"))
    panel, gap, top, bottom = 110, 46, 30, 70  # pixels
    height = top + bottom + len(ids) * panel + (len(ids) - 1) * gap
    fig = make_subplots(rows=len(ids), cols=1, subplot_titles=titles,
                        vertical_spacing=gap / (height - top - bottom) if len(ids) > 1 else 0)
    shown_legend = set()
    for i, iid in enumerate(ids, start=1):
        rows = sub[sub["indicator_id"] == iid]
        unit = rows["unit"].iloc[0]
        for k, q in enumerate(quartiers):
            rq = rows[rows["quartier"] == q]
            if rq.empty:
                continue
            r = rq.iloc[0]
            if not _publishable(r.to_dict()):
                continue
            est, lo, hi = _plain(r["estimate"], unit), _plain(r["ci_low"], unit), _plain(r["ci_high"], unit)
            strong = highlight is None or q == highlight
            err = None if lo is None or hi is None else {"type": "data", "symmetric": False,
                                                         "array": [hi - est], "arrayminus": [est - lo],
                                                         "color": colours[q], "thickness": 2 if strong else 1}
            frag = " (fragile)" if _flag(r["fragile"]) else ""
            fig.add_trace(go.Scatter(
                x=[est], y=[k], mode="markers", error_x=err, name=_safe(q), legendgroup=q,
                showlegend=q not in shown_legend,
                marker={"color": colours[q] if strong else "#FFFFFF", "size": 11 if strong else 8,
                        "line": {"color": colours[q], "width": 2}, "symbol": "circle-open" if _flag(r["fragile"]) and strong else "circle"},
                opacity=1 if strong else 0.75,
                hovertemplate=_safe(f"{q} : {format_value(r['estimate'], unit)} "
                                    f"{format_interval(r['ci_low'], r['ci_high'], unit)}{frag}") + "<extra></extra>"),
                row=i, col=1)
            shown_legend.add(q)
        r0 = rows.iloc[0]
        for rid, rlabel in project.references.items():
            v = _plain(r0.get(f"ref_{rid}"), unit)
            if v is None:
                continue
            fig.add_trace(go.Scatter(
                x=[v], y=[len(quartiers)], mode="markers", name=_safe(rlabel), legendgroup=f"ref_{rid}",
                showlegend=f"ref_{rid}" not in shown_legend,
                marker={"symbol": ref_symbols.get(rid, "x"), "size": 14 if rid == "chambery" else 9,
                        "color": "#000000", "line": {"width": 2, "color": "#000000"}},
                hovertemplate=_safe(f"{rlabel} : {format_value(r0.get(f'ref_{rid}'), unit)}") + "<extra></extra>"),
                row=i, col=1)
            shown_legend.add(f"ref_{rid}")
        fig.update_yaxes(row=i, col=1, tickvals=list(range(len(quartiers) + 1)),
                         ticktext=[_safe(q) for q in quartiers] + ["Références"],
                         range=[len(quartiers) + 0.5, -0.5], showgrid=False)
        fig.update_xaxes(row=i, col=1, ticksuffix=" %" if unit == "%" else "", showgrid=True, gridcolor="#e5e5e5",
                         rangemode="tozero" if unit == "%" else "normal")
    fig.update_annotations(font={"size": 11}, xanchor="left", x=0)
    _layout(fig, height, legend={"orientation": "h", "y": -28 / (height - top - bottom), "yanchor": "top", "x": 0})
    fig.update_layout(margin={"l": 10, "r": 10, "t": top, "b": bottom})
    return fig


def spine_chart(table: pd.DataFrame, quartier: str, dimension: str, project):
    """Fingertips-style spine chart of one quartier for one dimension.

    Each row is an indicator.  The vertical line is the central reference (``project.reference_centrale``);
    the grey bar spans the lowest to the highest value among the surveyed quartiers, the dark
    band the range of the references, and the dot is the quartier, coloured by its comparison
    with the central reference (blue « mieux », yellow « similaire », vermilion « moins bien »,
    white « non comparable »).  Values are rescaled per row so that the reference sits at the
    centre and the farthest value at the edge, and flipped when a high value is unfavourable:
    **right is always better** (for neutral indicators, right is higher).

    Notes
    -----
    Scaling of a value :math:`v` of a row with reference :math:`r`:
    :math:`s(v) = d \\,(v - r) / \\max_j |v_j - r|`, with :math:`d = -1` when a rise is
    unfavourable, else :math:`d = 1` (Public Health England, Fingertips "spine chart").

    Returns
    -------
    plotly.graph_objects.Figure or None
    """
    import plotly.graph_objects as go

    t = check_table(table)
    sub = t[t["dimension"] == dimension]
    ids = list(dict.fromkeys(sub["indicator_id"]))
    if not ids:
        return None
    centre = project.reference_centrale
    fig = go.Figure()
    labels, ann = [], []
    for k, iid in enumerate(ids):
        rows = sub[sub["indicator_id"] == iid]
        mine = rows[rows["quartier"] == quartier]
        r = (mine.iloc[0] if len(mine) else rows.iloc[0]).to_dict()
        unit = r.get("unit") or ""
        labels.append(_wrap(_safe(r["label"]), 42))
        ref = r.get(f"ref_{centre}")
        pub = rows[[_publishable(x) for x in rows.to_dict("records")]]
        vals = [float(v) for v in pub["estimate"]]
        refs = [float(r[f"ref_{x}"]) for x in project.references if not _na(r.get(f"ref_{x}"))]
        if _na(ref):
            ref = sum(vals) / len(vals) if vals else None
        mine_ok = len(mine) and _publishable(r)
        text = ("secret statistique" if _flag(r.get("suppressed")) else
                "non calculable" if not mine_ok else format_value(r["estimate"], unit))
        ann.append(text)
        if ref is None or not (vals or refs):
            continue
        ref = float(ref)
        spread = max([abs(v - ref) for v in vals + refs] + [1e-12])
        d = -1.0 if r.get("direction") == "hausse_defavorable" else 1.0
        s = lambda v: d * (v - ref) / spread  # noqa: E731 - tiny local transform
        if vals:
            lo, hi = sorted((s(min(vals)), s(max(vals))))
            fig.add_shape(type="rect", x0=lo, x1=hi, y0=k - 0.32, y1=k + 0.32, fillcolor="#c8c8c8",
                          line={"width": 0}, layer="below")
        if refs:
            lo, hi = sorted((s(min(refs)), s(max(refs))))
            fig.add_shape(type="rect", x0=lo, x1=hi, y0=k - 0.12, y1=k + 0.12, fillcolor="#595959",
                          line={"width": 0}, layer="below")
        if mine_ok:
            verdict = r.get(f"cmp_{centre}")
            verdict = "non comparable" if _na(verdict) else verdict
            fig.add_trace(go.Scatter(
                x=[s(float(r["estimate"]))], y=[k], mode="markers", showlegend=False,
                marker={"size": 14, "color": VERDICT_COLOURS.get(verdict, "#FFFFFF"),
                        "line": {"color": "#000000", "width": 1.5},
                        "symbol": "circle-open-dot" if _flag(r.get("fragile")) else "circle"},
                hovertemplate=_safe(f"{quartier} : {text} — {verdict} que {project.references.get(centre, centre)}")
                + "<extra></extra>"))
    for verdict in ("mieux", "similaire", "moins bien"):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"{quartier} : {verdict}",
                                 marker={"size": 11, "color": VERDICT_COLOURS[verdict],
                                         "line": {"color": "#000", "width": 1.5}}))
    fig.add_vline(x=0, line={"color": "#000000", "width": 2})
    for k, text in enumerate(ann):
        fig.add_annotation(x=1.0, xref="paper", xanchor="left", y=k, text=_safe(text), showarrow=False,
                           font={"size": 11})
    fig.update_yaxes(tickvals=list(range(len(ids))), ticktext=labels, range=[len(ids) - 0.5, -0.5],
                     showgrid=False, ticks="", showline=False)
    fig.update_xaxes(range=[-1.15, 1.15], showticklabels=True, tickvals=[-1, 0, 1],
                     ticktext=["◀ moins favorable", _safe(project.references.get(centre, centre)), "plus favorable ▶"],
                     showgrid=False, zeroline=False)
    _layout(fig, 80 + 48 * len(ids), legend={"orientation": "h", "y": -0.08 - 0.4 / max(len(ids), 1),
                                              "yanchor": "top", "x": 0})
    fig.update_layout(margin={"l": 10, "r": 120, "t": 10, "b": 70})
    return fig


# --------------------------------------------------------------------------- methods helpers

def margin_of_error(p: float, n_eff: float, z: float = 1.959964) -> float:
    """Half-width of the normal-approximation CI of a proportion ``p`` with effective size ``n_eff``.

    Notes
    -----
    :math:`z\\sqrt{p(1-p)/n_{eff}}`; with :math:`p = 0.5` this is the largest margin of error
    for a given sample, the figure usually quoted to readers (Kish 1965, ch. 2).
    """
    if n_eff is None or _na(n_eff) or n_eff <= 0:
        return math.nan
    return z * math.sqrt(p * (1 - p) / n_eff)


# --------------------------------------------------------------------------- rendering

def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda x, d=0: fmt.number(x, d)
    env.filters["pct"] = lambda x, d=1: fmt.percent(x, d)
    env.filters["slug"] = lambda s: "".join(c if c.isalnum() else "-" for c in str(s).lower())
    return env


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _records(df) -> list[dict]:
    if df is None:
        return []
    if isinstance(df, pd.DataFrame):
        return df.to_dict("records")
    return list(df)


def _dimension_blocks(t: pd.DataFrame, project, dimensions: dict[str, str], quartier: str | None) -> list[dict]:
    blocks = []
    for did, dlabel in dimensions.items():
        sub = t[t["dimension"] == did]
        block = {"id": did, "label": dlabel, "rows": [], "ci_fig": "", "spine_fig": ""}
        if quartier is not None:
            mine = sub[sub["quartier"] == quartier]
            block["rows"] = [_row_view(r, project) for r in mine.to_dict("records")]
            if len(sub):
                block["spine_fig"] = _fig_html(spine_chart(t, quartier, did, project))
        if len(sub):
            block["ci_fig"] = _fig_html(ci_chart(t, did, project, highlight=quartier))
        # cross-quartier view for the synthesis: one row per indicator, one cell per quartier
        cross = []
        for iid in dict.fromkeys(sub["indicator_id"]):
            rows = sub[sub["indicator_id"] == iid]
            cells = []
            for q in project.libelles:
                rq = rows[rows["quartier"] == q]
                cells.append(_row_view(rq.iloc[0].to_dict(), project) if len(rq) else None)
            first = rows.iloc[0].to_dict()
            cross.append({"label": first["label"], "unit": first.get("unit") or "", "cells": cells,
                          "refs": _row_view(first, project)["refs"]})
        block["cross"] = cross
        blocks.append(block)
    return blocks


def _base_context(project, generated: str | None) -> dict:
    return {
        "project": project, "logo": project.logo_data_uri(), "plotly_js": _plotly_js(),
        "css": (TEMPLATES / "report.css").read_text(encoding="utf-8"),
        "generated": generated or _dt.date.today().strftime("%d/%m/%Y"),
        "verdict_colours": VERDICT_COLOURS, "centre_label": project.references.get(project.reference_centrale, ""),
        "fmt": fmt,
    }


def _methods_view(methods: dict | None, project, quartier: str | None) -> dict:
    """Format the methods summary (counts, channels, representativeness, weighting) for the template."""
    m = dict(methods or {})
    rec = project.recueil
    view = {
        "printed": rec.get("questionnaires_imprimes"), "partners": rec.get("associations_partenaires"),
        "period": rec.get("periode", ""), "n_read": m.get("n_read"), "n_accepted": m.get("n_accepted"),
        "n_rejected": m.get("n_rejected"), "channels": _records(m.get("channels")),
        "representativeness": [], "weighting": [], "threshold_fragile": project.effectif_fragile,
        "threshold_secret": project.secret_statistique,
        "confidence": fmt.number(project.niveau_confiance * 100, 0),
    }
    if view["printed"] and view["n_read"]:
        view["return_rate"] = fmt.percent(view["n_read"] / view["printed"], 0)
    rep = m.get("representativeness")
    if rep is not None and len(rep):
        rep = rep if isinstance(rep, pd.DataFrame) else pd.DataFrame(rep)
        if quartier is not None and "quartier" in rep:
            rep = rep[rep["quartier"] == quartier]
        view["representativeness"] = rep.to_dict("records")
    w = m.get("weighting")
    if w is not None and len(w):
        w = w if isinstance(w, pd.DataFrame) else pd.DataFrame(w)
        rows = []
        for r in w.to_dict("records"):
            n_eff = r.get("n_eff")
            rows.append({**r, "moe": margin_of_error(0.5, n_eff) if not _na(n_eff) else math.nan,
                         "highlight": quartier is not None and r.get("quartier") == quartier})
        view["weighting"] = rows
    return view


def render_quartier(project, quartier: str, table: pd.DataFrame, *, methods: dict | None = None,
                    actors: pd.DataFrame | None = None, interviews: list | None = None,
                    comments: list[str] = (), dimensions: dict[str, str] | None = None,
                    generated: str | None = None) -> str:
    """Render the DLS deliverable of one quartier as a self-contained HTML page.

    Parameters
    ----------
    project : diagnostics.project.Project
    quartier : str
        Label or id of the quartier.
    table : pandas.DataFrame
        Protected indicator table (all quartiers: the figures compare them).
    methods : dict, optional
        ``n_read, n_accepted, n_rejected`` (counts from validation), ``channels`` (table of
        collection channels: ``canal, n`` and optionally per quartier), ``representativeness``
        (``quartier, groupe, pct_echantillon, pct_population[, pct_pondere]``) and ``weighting``
        (``quartier, n, n_eff, deff``).
    actors : pandas.DataFrame, optional
        Directory from :func:`diagnostics.actors.load_actors` (all quartiers; filtered here).
    interviews : list of diagnostics.interviews.Interview, optional
    comments : list of str
        Free-text answers (``commentaire``) already scrubbed and selected for publication.
    dimensions : dict, optional
        ``{id: label}``; the nine DLS dimensions by default.
    generated : str, optional
        Date printed on the cover (today by default).

    Returns
    -------
    str
        The HTML document.
    """
    from .actors import actors_for_quartier, group_by_theme
    from .interviews import select_quotes, theme_matrix
    from .questionnaire import load_dimensions

    dims = dimensions or load_dimensions()
    q = project.quartier(quartier)
    t = check_table(table)
    ctx = _base_context(project, generated)
    directory = []
    if actors is not None and len(actors):
        directory = group_by_theme(actors_for_quartier(actors, q.libelle), dims)
    matrix, quotes = None, []
    if interviews:
        matrix = theme_matrix(interviews, dims, project.libelles)
        quotes = select_quotes(interviews, q.libelle, dimensions=dims)
    ctx.update({
        "doc_title": f"{project.titre} — {q.libelle}", "quartier": q, "findings": key_findings(t, q.libelle, project),
        "dimensions": _dimension_blocks(t, project, dims, q.libelle), "methods": _methods_view(methods, project, q.libelle),
        "directory": directory, "n_actors": sum(len(g["actors"]) for g in directory),
        "matrix": None if matrix is None else {"columns": list(matrix.columns),
                                                "rows": [(idx, list(map(int, vals))) for idx, vals in zip(matrix.index, matrix.to_numpy())],
                                                "max": int(matrix.to_numpy().max()) if matrix.size else 0},
        "quotes": quotes, "comments": list(comments), "n_interviews": len(interviews or []),
        "quartiers": project.quartiers,
    })
    return _env().get_template("report_quartier.html.j2").render(**ctx)


def render_synthesis(project, table: pd.DataFrame, *, methods: dict | None = None, interviews: list | None = None,
                     dimensions: dict[str, str] | None = None, generated: str | None = None,
                     links: dict[str, str] | None = None) -> str:
    """Render the cross-quartier synthesis as a self-contained HTML page.

    Parameters
    ----------
    links : dict, optional
        ``{quartier label: relative file name}`` of each quartier's report.

    Returns
    -------
    str
    """
    from .interviews import theme_matrix
    from .questionnaire import load_dimensions

    dims = dimensions or load_dimensions()
    t = check_table(table)
    ctx = _base_context(project, generated)
    matrix = theme_matrix(interviews, dims, project.libelles) if interviews else None
    ctx.update({
        "doc_title": f"{project.titre} — synthèse des quartiers",
        "summaries": [{"quartier": q, "findings": key_findings(t, q.libelle, project, limit=5),
                       "link": (links or {}).get(q.libelle)} for q in project.quartiers],
        "dimensions": _dimension_blocks(t, project, dims, None), "methods": _methods_view(methods, project, None),
        "matrix": None if matrix is None else {"columns": list(matrix.columns),
                                                "rows": [(idx, list(map(int, vals))) for idx, vals in zip(matrix.index, matrix.to_numpy())],
                                                "max": int(matrix.to_numpy().max()) if matrix.size else 0},
        "n_interviews": len(interviews or []), "quartiers": project.quartiers,
    })
    return _env().get_template("report_synthese.html.j2").render(**ctx)


def write_html(html: str, path: str | Path) -> Path:
    """Write ``html`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".html", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
