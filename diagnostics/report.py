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
import functools
import math
from pathlib import Path

import pandas as pd

from . import fmt, paths

TEMPLATES = paths.template_dir()

#: Okabe & Ito (2008), "Color Universal Design": eight colours distinguishable by most readers.
OKABE_ITO = {"noir": "#000000", "orange": "#E69F00", "bleu_ciel": "#56B4E9", "vert": "#009E73",
             "jaune": "#F0E442", "bleu": "#0072B2", "vermillon": "#D55E00", "pourpre": "#CC79A7"}
#: Colour of a comparison verdict (Fingertips-like, colour-blind safe: blue / yellow / vermilion).
VERDICT_COLOURS = {"mieux": OKABE_ITO["bleu"], "similaire": OKABE_ITO["jaune"],
                   "moins bien": OKABE_ITO["vermillon"], "plus élevé": "#BBBBBB", "plus bas": "#BBBBBB",
                   "non comparable": "#FFFFFF"}  # grey: significant gap on an indicator with no "good" direction
QUARTIER_COLOURS = [OKABE_ITO[k] for k in ("orange", "bleu_ciel", "vert", "pourpre", "bleu", "vermillon")]
FIG_WIDTH = 680  # px: fits an A4 page with 15 mm margins at 96 dpi



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

    if table.attrs.get("dls_checked"):
        return table
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
    t.attrs["dls_checked"] = True
    return t


class _Index:
    """The indicator table as records, indexed once (rendering looks rows up thousands of times)."""

    def __init__(self, table):
        if isinstance(table, _Index):
            self.__dict__.update(table.__dict__)
            return
        t = check_table(table)
        self.records = t.to_dict("records")
        self._by_dim: dict = {}
        self._rows: dict = {}
        self._cell: dict = {}
        for r in self.records:
            self._by_dim.setdefault(r["dimension"], {}).setdefault(r["indicator_id"], None)
            self._rows.setdefault(r["indicator_id"], []).append(r)
            self._cell[(r["indicator_id"], r["quartier"])] = r

    def ids(self, dimension) -> list:
        return list(self._by_dim.get(dimension, {}))

    def rows(self, iid) -> list[dict]:
        return self._rows.get(iid, [])

    def get(self, iid, quartier) -> dict | None:
        return self._cell.get((iid, quartier))

    def of_quartier(self, quartier) -> list[dict]:
        return [r for r in self.records if r["quartier"] == quartier]


def _aggregate(rows: list[dict], project) -> dict | None:
    """The « Ensemble » row of an indicator (all surveyed quartiers together), if any."""
    for x in rows:
        if x["quartier"] not in project.libelles and str(x["quartier"]).startswith("Ensemble"):
            return x
    return None


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
    sub = _Index(table).of_quartier(quartier)
    q = project.quartier(quartier)
    refs = [r for r in (project.reference_centrale, "france") if r in project.references]
    refs = list(dict.fromkeys(refs))
    out = {"worse": [], "better": [], "worse_others": [], "better_others": []}
    for r in sub:
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
    out["n_suppressed"] = sum(_flag(r.get("suppressed")) for r in sub)
    out["n_fragile"] = sum(_flag(r.get("fragile")) and not _flag(r.get("suppressed")) for r in sub)
    return out


# --------------------------------------------------------------------------- figures
#
# Figures are plotly.js specifications built as plain dicts ({"data": [...], "layout": {...}})
# and drawn by the plotly library embedded once in the page.  Building dicts rather than
# plotly.graph_objects keeps the rendering of a report fast (no validation of thousands of
# properties) and the HTML small (no template copied into every figure).

_FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 11, "color": "#222222"}
_JS_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _json(obj) -> str:
    """JSON safe to put inside a ``<script>`` element (``<``, ``>``, ``&`` escaped)."""
    import json

    return json.dumps(obj, ensure_ascii=False, allow_nan=False, default=float).translate(_JS_ESCAPES)


def _fig_html(fig: dict | None, fig_id: str) -> str:
    """HTML fragment drawing ``fig`` with the page's plotly library (static, no mode bar)."""
    if fig is None:
        return ""
    lay = fig["layout"]
    return (f'<div id="{fig_id}" class="graphique" style="width:{lay["width"]}px;height:{lay["height"]}px"></div>'
            f'<script>dlsFigure("{fig_id}", {_json(fig["data"])}, {_json(lay)});</script>')


def _base_layout(height: int, **kw) -> dict:
    lay = {"width": FIG_WIDTH, "height": int(height), "autosize": False, "font": _FONT, "separators": ", ",
           "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff", "hovermode": "closest",
           "margin": {"l": 10, "r": 10, "t": 30, "b": 30}}
    lay.update(kw)
    return lay


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


def _label_margin(labels, px_per_char: float = 6.2, pad: int = 16) -> int:
    """Left margin (px) that fits the longest line of the axis labels (fixed margins draw faster
    than plotly's ``automargin``, which lays a figure out twice)."""
    longest = max((len(line) for lab in labels for line in str(lab).split("<br>")), default=10)
    return int(min(pad + px_per_char * longest, 320))


def _safe(text) -> str:
    """Text for plotly labels: plotly interprets a few HTML tags, so ``<`` and ``>`` are replaced."""
    return str(text).replace("<", "‹").replace(">", "›")


def _num(x):
    return None if x is None or _na(x) else float(x)


def ci_chart(table: pd.DataFrame, dimension: str, project, highlight: str | None = None) -> dict | None:
    """Forest plot of one dimension: each quartier's estimate with its CI, and the references.

    One row per indicator, one panel per unit (percentages, scores, rates: each on its own
    axis); on each row the quartiers are drawn one under the other (dot = estimate, bar = CI),
    the highlighted quartier in full colour and the others hollow, and the references as black
    symbols.  Suppressed and non-computable estimates are not drawn (the table says why);
    fragile ones are drawn hollow with a thin bar.

    Returns
    -------
    dict or None
        A plotly.js figure ``{"data", "layout"}``; ``None`` when the dimension has no indicator.
    """
    idx = _Index(table)
    ids = idx.ids(dimension)
    if not ids:
        return None
    quartiers = project.libelles
    nq = len(quartiers)
    colours = {q: QUARTIER_COLOURS[i % len(QUARTIER_COLOURS)] for i, q in enumerate(quartiers)}
    ref_symbols = {"chambery": "line-ns-open", "savoie": "triangle-up", "region": "square", "france": "diamond"}
    groups: dict[str, list] = {}
    for iid in ids:
        unit = idx.rows(iid)[0].get("unit") or ""
        groups.setdefault(unit, []).append(iid)
    row_h, gap, top, bottom = 20 + 12 * nq, 40, 28, 64  # pixels
    n_rows = len(ids)
    height = top + bottom + n_rows * row_h + (len(groups) - 1) * gap
    inner = height - top - bottom
    data, shown, annotations = [], set(), []
    layout = _base_layout(height, showlegend=True, margin={"l": 10, "r": 10, "t": top, "b": bottom},
                          legend={"orientation": "h", "y": -30 / inner, "yanchor": "top", "x": 0})
    y_top = 1.0
    all_labels: list[str] = []
    offsets = [(k - (nq - 1) / 2) * 0.7 / max(nq, 1) for k in range(nq)]
    for g, (unit, gids) in enumerate(groups.items(), start=1):
        h = len(gids) * row_h / inner
        xa, ya = ("x", "y") if g == 1 else (f"x{g}", f"y{g}")
        labels = []
        # one trace per quartier and one per reference on each axis (few traces: fast drawing)
        pts = {q: {"x": [], "y": [], "plus": [], "minus": [], "fill": [], "text": []} for q in quartiers}
        refpts = {rid: {"x": [], "y": [], "text": []} for rid in project.references}
        for j, iid in enumerate(gids):
            r0 = idx.rows(iid)[0]
            lab = r0["label"] if unit in ("%", "") else f"{r0['label']} ({unit})"
            labels.append(_wrap(_safe(lab), 34))
            for k, q in enumerate(quartiers):
                r = idx.get(iid, q)
                if r is None or not _publishable(r):
                    continue
                est, lo, hi = _plain(r["estimate"], unit), _plain(r["ci_low"], unit), _plain(r["ci_high"], unit)
                strong = highlight is None or q == highlight
                frag = _flag(r["fragile"])
                pt = pts[q]
                pt["x"].append(est)
                pt["y"].append(j + offsets[k])
                pt["plus"].append(None if hi is None else hi - est)
                pt["minus"].append(None if lo is None else est - lo)
                pt["fill"].append("#ffffff" if (frag or not strong) else colours[q])
                pt["text"].append(_safe(f"{q} : {format_value(r['estimate'], unit)} "
                                        f"{format_interval(r['ci_low'], r['ci_high'], unit)}"
                                        f"{' (fragile)' if frag else ''}"))
            for rid, rlabel in project.references.items():
                v = _plain(r0.get(f"ref_{rid}"), unit)
                if v is not None:
                    refpts[rid]["x"].append(v)
                    refpts[rid]["y"].append(j)
                    refpts[rid]["text"].append(_safe(f"{rlabel} : {format_value(r0.get(f'ref_{rid}'), unit)}"))
        for k, q in enumerate(quartiers):
            pt = pts[q]
            if not pt["x"]:
                continue
            strong = highlight is None or q == highlight
            data.append({"type": "scatter", "mode": "markers", "x": pt["x"], "y": pt["y"], "xaxis": xa, "yaxis": ya,
                         "name": _safe(q), "legendgroup": q, "showlegend": q not in shown, "legendrank": 100 + k,
                         "marker": {"color": pt["fill"], "size": 9 if strong else 7,
                                    "line": {"color": colours[q], "width": 2}},
                         "error_x": {"type": "data", "symmetric": False, "array": pt["plus"],
                                     "arrayminus": pt["minus"], "color": colours[q],
                                     "thickness": 2 if strong else 1, "width": 3},
                         "text": pt["text"], "hovertemplate": "%{text}<extra></extra>"})
            shown.add(q)
        for rid, rlabel in project.references.items():
            rp = refpts[rid]
            if not rp["x"]:
                continue
            data.append({"type": "scatter", "mode": "markers", "x": rp["x"], "y": rp["y"], "xaxis": xa, "yaxis": ya,
                         "name": _safe(rlabel), "legendgroup": f"ref_{rid}", "showlegend": f"ref_{rid}" not in shown,
                         "legendrank": 200 + list(project.references).index(rid),
                         "marker": {"symbol": ref_symbols.get(rid, "x"), "size": 16 if rid == "chambery" else 7,
                                    "color": "#000000", "line": {"width": 2, "color": "#000000"}},
                         "text": rp["text"], "hovertemplate": "%{text}<extra></extra>"})
            shown.add(f"ref_{rid}")
        layout["xaxis" if g == 1 else f"xaxis{g}"] = {
            "domain": [0, 1], "anchor": ya, "showgrid": True, "gridcolor": "#e5e5e5", "zeroline": False,
            "ticksuffix": " %" if unit == "%" else "", "rangemode": "tozero" if unit == "%" else "normal",
            "showline": True, "linecolor": "#444", "ticks": "outside", "fixedrange": True}
        layout["yaxis" if g == 1 else f"yaxis{g}"] = {
            "domain": [max(y_top - h, 0), y_top], "anchor": xa, "tickvals": list(range(len(gids))),
            "ticktext": labels, "range": [len(gids) - 0.5, -0.5], "showgrid": False, "zeroline": False,
            "showline": True, "linecolor": "#444", "fixedrange": True,
            "tickfont": {"size": 10}}
        y_top -= h + gap / inner
        all_labels.extend(labels)
    layout["margin"]["l"] = _label_margin(all_labels, 5.3)
    return {"data": data, "layout": layout}


def spine_chart(table: pd.DataFrame, quartier: str, dimension: str, project) -> dict | None:
    """Fingertips-style spine chart of one quartier for one dimension.

    Each row is an indicator.  The vertical line is the central reference
    (``project.reference_centrale``); the light grey bar spans the lowest to the highest value
    among the surveyed quartiers, the dark band the range of the references, and the dot is the
    quartier, coloured by its comparison with the central reference (blue « mieux », yellow
    « similaire », vermilion « moins bien », white « non comparable »; hollow centre when the
    estimate is fragile).  Values are rescaled per row so that the reference sits at the centre
    and the farthest value at the edge, and flipped when a high value is unfavourable: **right
    is always better** (for neutral indicators, right is higher).

    Notes
    -----
    Scaling of a value :math:`v` of a row with reference :math:`r`:
    :math:`s(v) = d \\,(v - r) / \\max_j |v_j - r|`, with :math:`d = -1` when a rise is
    unfavourable, else :math:`d = 1`; the maximum runs over the quartiers' estimates and the
    references of the row.  When the central reference is missing, the mean of the quartiers
    takes its place.

    References
    ----------
    Public Health England, *Fingertips: spine charts* (Public Health Profiles user guide, 2019).

    Returns
    -------
    dict or None
        A plotly.js figure ``{"data", "layout"}``; ``None`` when the dimension has no indicator.
    """
    idx = _Index(table)
    ids = idx.ids(dimension)
    if not ids:
        return None
    centre = project.reference_centrale
    centre_label = project.references.get(centre, centre)
    data, shapes, ann, labels = [], [], [], []
    dots = {"x": [], "y": [], "color": [], "symbol": [], "text": []}
    starred = False
    for k, iid in enumerate(ids):
        rows = idx.rows(iid)
        mine = idx.get(iid, quartier)
        r = mine if mine is not None else rows[0]
        unit = r.get("unit") or ""
        labels.append(_wrap(_safe(r["label"]), 42))
        mine_ok = mine is not None and _publishable(r)
        text = ("secret statistique" if _flag(r.get("suppressed")) else
                "non calculable" if not mine_ok else format_value(r["estimate"], unit))
        ann.append({"x": 1.0, "xref": "paper", "xanchor": "left", "y": k, "yref": "y", "text": _safe(text),
                    "showarrow": False, "font": {"size": 11}})
        vals = [float(x["estimate"]) for x in rows if _publishable(x) and x["quartier"] in project.libelles]
        refs = [float(r[f"ref_{x}"]) for x in project.references if not _na(r.get(f"ref_{x}"))]
        ref = _num(r.get(f"ref_{centre}"))
        cmp_col, centre_name = f"cmp_{centre}", centre_label
        if ref is None:  # no value for the central reference: centre on the set of the quartiers
            agg = _aggregate(rows, project)
            ref = float(agg["estimate"]) if agg is not None and _publishable(agg) else \
                (sum(vals) / len(vals) if vals else None)
            cmp_col, centre_name = "cmp_ensemble", "l'ensemble des quartiers"
            labels[-1] += " *"
            starred = True
        if ref is None:
            continue
        spread = max([abs(v - ref) for v in vals + refs] + [1e-12])
        d = -1.0 if r.get("direction") == "hausse_defavorable" else 1.0

        def s(v, ref=ref, spread=spread, d=d):
            return d * (v - ref) / spread

        if vals:
            lo, hi = sorted((s(min(vals)), s(max(vals))))
            shapes.append({"type": "rect", "x0": lo, "x1": hi, "y0": k - 0.32, "y1": k + 0.32, "xref": "x",
                           "yref": "y", "fillcolor": "#c8c8c8", "line": {"width": 0}, "layer": "below"})
        if refs:
            lo, hi = sorted((s(min(refs)), s(max(refs))))
            shapes.append({"type": "rect", "x0": lo, "x1": hi, "y0": k - 0.12, "y1": k + 0.12, "xref": "x",
                           "yref": "y", "fillcolor": "#595959", "line": {"width": 0}, "layer": "below"})
        if mine_ok:
            verdict = r.get(cmp_col)
            verdict = "non comparable" if _na(verdict) else verdict
            dots["x"].append(s(float(r["estimate"])))
            dots["y"].append(k)
            dots["color"].append(VERDICT_COLOURS.get(verdict, "#FFFFFF"))
            dots["symbol"].append("circle-open-dot" if _flag(r.get("fragile")) else "circle")
            dots["text"].append(_safe(f"{quartier} : {text} — {verdict} (comparé à {centre_name})"))
    if dots["x"]:
        data.append({"type": "scatter", "mode": "markers", "x": dots["x"], "y": dots["y"], "showlegend": False,
                     "marker": {"size": 14, "color": dots["color"], "symbol": dots["symbol"],
                                "line": {"color": "#000000", "width": 1.5}},
                     "text": dots["text"], "hovertemplate": "%{text}<extra></extra>"})
    legend = ["mieux", "similaire", "moins bien"]
    if VERDICT_COLOURS["plus élevé"] in dots["color"]:
        legend.append("plus élevé")
    for verdict in legend:
        name = (f"{_safe(quartier)} : similaire à {_safe(centre_label)}" if verdict == "similaire" else
                f"{_safe(quartier)} : écart significatif, sans sens favorable" if verdict == "plus élevé" else
                f"{_safe(quartier)} : {verdict} que {_safe(centre_label)}")
        data.append({"type": "scatter", "mode": "markers", "x": [None], "y": [None], "name": name,
                     "marker": {"size": 11, "color": VERDICT_COLOURS[verdict], "line": {"color": "#000", "width": 1.5}}})
    shapes.append({"type": "line", "x0": 0, "x1": 0, "y0": -0.5, "y1": len(ids) - 0.5, "xref": "x", "yref": "y",
                   "line": {"color": "#000000", "width": 2}})
    plot_h = 36 * len(ids) + 20
    bottom = 110
    height = plot_h + 10 + bottom
    layout = _base_layout(height, showlegend=True, shapes=shapes, annotations=ann,
                          margin={"l": _label_margin(labels), "r": 110, "t": 10, "b": bottom},
                          legend={"orientation": "h", "y": -30 / plot_h, "yanchor": "top", "x": 0},
                          xaxis={"range": [-1.15, 1.15], "tickvals": [-1, 0, 1], "showgrid": False, "zeroline": False,
                                 "ticktext": ["◀ moins favorable", _safe(centre_label), "plus favorable ▶"],
                                 "fixedrange": True},
                          yaxis={"tickvals": list(range(len(ids))), "ticktext": labels, "range": [len(ids) - 0.5, -0.5],
                                 "showgrid": False, "zeroline": False, "fixedrange": True})
    # « centred_on_set »: some rows had no central reference (marked *), the caption says so
    return {"data": data, "layout": layout, "centred_on_set": starred}


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


def collection_summary(responses: pd.DataFrame, weighted: pd.DataFrame, weights: pd.Series, margins: pd.DataFrame,
                       project, *, n_read: int | None = None, n_rejected: int | None = None) -> dict:
    """Describe the survey for the methods section: counts, channels, representativeness, weighting.

    Parameters
    ----------
    responses : pandas.DataFrame
        Every accepted answer (``ValidationResult.data``), with ``quartier`` and ``canal``.
    weighted : pandas.DataFrame
        The answers that were weighted, with ``quartier``, ``groupe_age`` and ``sexe``.
    weights : pandas.Series
        Their weights (same index).
    margins : pandas.DataFrame
        Population margins ``quartier;groupe_age;sexe;effectif``.
    project : diagnostics.project.Project
    n_read, n_rejected : int, optional
        Counts from validation.

    Returns
    -------
    dict
        ``n_read, n_accepted, n_rejected``; ``channels`` (one row per channel, one column per
        quartier, ``Total``); ``representativeness`` (``quartier, groupe, n, pct_echantillon,
        pct_population, pct_pondere``, shares within the quartier, one row per age group and per
        sex); ``weighting`` (``quartier, n, deff, n_eff`` from
        :func:`diagnostics.weighting.weight_diagnostics`).

    Notes
    -----
    Shares are computed within each quartier: sample share :math:`n_g / n`, population share
    :math:`N_g / N`, weighted share :math:`\\sum_{i \\in g} w_i / \\sum_i w_i`.
    """
    from .weighting import weight_diagnostics

    labels = project.libelles
    resp = responses.copy()
    resp["quartier"] = resp["quartier"].astype(object)
    resp["canal"] = resp["canal"].astype(object).where(resp["canal"].notna(), "Non renseigné")
    ct = pd.crosstab(resp["canal"], resp["quartier"])
    others = [c for c in ct.columns if c not in labels]
    ct = ct.reindex(columns=[c for c in labels if c in ct.columns] + others, fill_value=0)
    ct["Total"] = ct.sum(axis=1)
    ct = ct.sort_values("Total", ascending=False)
    channels = [{"Canal de recueil": str(idx), **{str(k): int(v) for k, v in row.items()}}
                for idx, row in ct.iterrows()]
    rep, wrows = [], []
    w = pd.Series(weights, index=weighted.index).astype(float)
    for q in labels:
        sel = weighted["quartier"].astype(object) == q
        sub, wq = weighted[sel], w[sel]
        mq = margins[margins["quartier"] == q]
        d = weight_diagnostics(wq)
        wrows.append({"quartier": q, "n": d["n"], "deff": d["kish_deff"], "n_eff": d["n_eff"]})
        for var, suffix in (("groupe_age", " ans"), ("sexe", "")):
            pop = mq.groupby(var, sort=False)["effectif"].sum()
            for g, npop in pop.items():
                mask = sub[var].astype(object) == g
                rep.append({"quartier": q, "groupe": f"{g}{suffix}", "n": int(mask.sum()),
                            "pct_echantillon": float(mask.mean()) if len(sub) else math.nan,
                            "pct_population": float(npop / pop.sum()) if pop.sum() else math.nan,
                            "pct_pondere": float(wq[mask].sum() / wq.sum()) if wq.sum() else math.nan})
    return {"n_read": n_read if n_read is not None else len(responses), "n_accepted": len(responses),
            "n_rejected": n_rejected, "channels": channels, "representativeness": pd.DataFrame(rep),
            "weighting": pd.DataFrame(wrows)}


def select_comments(responses: pd.DataFrame, quartier: str, *, n: int = 4, column: str = "commentaire",
                    min_length: int = 20) -> list[str]:
    """A few free-text answers of one quartier, scrubbed, for the qualitative part.

    Comments are scrubbed of phone numbers, e-mail addresses and names
    (:func:`diagnostics.disclosure.scrub_text`), de-duplicated, and the first ``n`` of at least
    ``min_length`` characters are kept (file order: the selection is reproducible).
    """
    from .disclosure import scrub_text

    if column not in responses or "quartier" not in responses:
        return []
    texts = responses.loc[responses["quartier"].astype(object) == quartier, column].dropna()
    out, seen = [], set()
    for t in texts:
        s = " ".join(scrub_text(str(t)).split())
        if len(s) >= min_length and s.casefold() not in seen:
            seen.add(s.casefold())
            out.append(s)
        if len(out) >= n:
            break
    return out


def read_indicator_table(path: str | Path) -> pd.DataFrame:
    """Read an indicator table written as CSV (``;``, UTF-8) by a previous build or another tool."""
    t = pd.read_csv(path, sep=";", encoding="utf-8-sig")
    for c in ("fragile", "suppressed"):
        if c in t:
            t[c] = t[c].map(lambda v: str(v).strip().lower() in ("true", "vrai", "1", "oui"))
    return check_table(t)


# --------------------------------------------------------------------------- rendering

def _breakable(text):
    """Escape ``text`` and allow a line break after each hyphen (long place names in headers)."""
    from markupsafe import Markup, escape

    return Markup(str(escape(text)).replace("-", "-<wbr>"))


@functools.lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda x, d=0: fmt.number(x, d)
    env.filters["pct"] = lambda x, d=1: fmt.percent(x, d)
    env.filters["slug"] = lambda s: "".join(c if c.isalnum() else "-" for c in str(s).lower())
    env.filters["coupable"] = _breakable
    return env


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _records(df) -> list[dict]:
    if df is None:
        return []
    if isinstance(df, pd.DataFrame):
        return df.to_dict("records")
    return list(df)


def _dimension_blocks(t, project, dimensions: dict[str, str], quartier: str | None) -> list[dict]:
    idx = _Index(t)
    blocks = []
    prefix = "fig-" + ("synthese" if quartier is None else "".join(c for c in quartier if c.isalnum()).lower())
    for did, dlabel in dimensions.items():
        ids = idx.ids(did)
        block = {"id": did, "label": dlabel, "rows": [], "ci_fig": "", "spine_fig": "", "spine_starred": False}
        if quartier is not None:
            for iid in ids:
                r = idx.get(iid, quartier)
                if r is None:
                    continue
                agg = _aggregate(idx.rows(iid), project)
                ens = format_value(agg["estimate"], agg.get("unit") or "", with_unit=False) \
                    if agg is not None and _publishable(agg) else ""
                block["rows"].append({**_row_view(r, project), "ensemble": ens})
            if ids:
                spine = spine_chart(idx, quartier, did, project)
                block["spine_fig"] = _fig_html(spine, f"{prefix}-colonne-{did}")
                block["spine_starred"] = bool(spine and spine.get("centred_on_set"))
        if ids:
            block["ci_fig"] = _fig_html(ci_chart(idx, did, project, highlight=quartier), f"{prefix}-ic-{did}")
        # cross-quartier view for the synthesis: one row per indicator, one cell per quartier
        cross = []
        for iid in ids:
            first = idx.rows(iid)[0]
            cells = [(_row_view(idx.get(iid, q), project) if idx.get(iid, q) is not None else None)
                     for q in project.libelles]
            agg = _aggregate(idx.rows(iid), project)
            cross.append({"label": first["label"] if (first.get("unit") or "%") == "%" else f"{first['label']} ({first['unit']})",
                          "unit": first.get("unit") or "", "cells": cells, "refs": _row_view(first, project)["refs"],
                          "ensemble": _row_view(agg, project) if agg is not None else None})
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
        "confidence": fmt.number(project.niveau_confiance * 100, 0), "return_rate": None,
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
    t = _Index(table)
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
    t = _Index(table)
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
    from .files import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
