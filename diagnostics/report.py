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


#: Words of a verdict in a sentence (« moins favorable que Chambéry »).
_VERDICT_WORDS = {"moins bien": "moins favorable que", "mieux": "plus favorable que",
                  "similaire": "comparable à", "plus élevé": "plus élevé que", "plus bas": "plus bas que"}
#: Order of the verdicts in the summary: unfavourable first, then favourable, context, the rest.
_VERDICT_RANK = {"moins bien": 0, "mieux": 1, "plus élevé": 2, "plus bas": 2, "similaire": 3}


def _comparators(project) -> list[str]:
    """Reference keys in the order a verdict looks for them: the central one, France, the others."""
    keys = [project.reference_centrale, "france", *project.references]
    return [k for k in dict.fromkeys(keys) if k in project.references]


def headline(r: dict, agg: dict | None, project, sources=None) -> dict:
    """The one verdict of an indicator in a quartier, used everywhere in a report.

    The comparator is the first reference with a value (central reference, then France, then the
    other levels), else the « Ensemble » row of the surveyed quartiers, else none: the figure is
    then stated with its interval.  One comparator per indicator means that a report never calls
    the same figure both more and less favourable.

    Parameters
    ----------
    r : dict
        The indicator row of the quartier (indicator-table columns).
    agg : dict or None
        The « Ensemble » row of the same indicator.
    project : diagnostics.project.Project
    sources : diagnostics.sources.IndicatorSources, optional
        To say whether the reference value is illustrative.

    Returns
    -------
    dict
        ``kind`` (« reference », « quartiers » or « seul »), ``verdict`` (a
        :data:`diagnostics.compare.VERDICTS` value or ``None``), ``against`` (label of the
        comparator), ``against_value`` (formatted), ``ref_key``, ``illustrative`` (bool),
        ``neutral`` (bool) and ``text`` (« moins favorable que Chambéry (89,0 %) »).
    """
    unit = r.get("unit") or ""
    neutral = r.get("direction") == "neutre"
    out = {"kind": "seul", "verdict": None, "against": "", "against_value": "", "ref_key": None,
           "illustrative": False, "neutral": neutral, "text": "", "short": ""}
    for key in _comparators(project):
        if not _na(r.get(f"ref_{key}")):
            v = r.get(f"cmp_{key}")
            ill = bool(sources and (r.get("indicator_id"), key) in sources.references
                       and sources.references[(r.get("indicator_id"), key)]["illustrative"])
            out.update(kind="reference", verdict=None if _na(v) else v, against=project.references[key],
                       against_value=format_value(r.get(f"ref_{key}"), unit), ref_key=key, illustrative=ill)
            break
    else:
        if agg is not None and _publishable(agg) and agg is not r:
            v = r.get("cmp_ensemble")
            out.update(kind="quartiers", verdict=None if _na(v) else v,
                       against="l'ensemble des quartiers enquêtés",
                       against_value=format_value(agg.get("estimate"), unit))
    if out["kind"] != "seul":
        out["short"] = f"vs {out['against']} : {out['against_value']}" + (" (illustratif)" if out["illustrative"] else "")
    else:
        out["short"] = "sans comparaison"
    if out["verdict"] == "non comparable":
        out["verdict"] = None
    if out["verdict"] in _VERDICT_WORDS:
        mark = ", valeur illustrative" if out["illustrative"] else ""
        out["text"] = f"{_VERDICT_WORDS[out['verdict']]} {out['against']} ({out['against_value']}{mark})"
        if neutral and out["verdict"] in ("plus élevé", "plus bas"):
            out["text"] += " — contexte, sans sens favorable"
    elif out["kind"] != "seul":
        out["text"] = f"non comparé à {out['against']} ({out['against_value']})"
    else:
        out["text"] = "aucune référence : chiffre à lire avec son intervalle"
    return out


def _gap(r: dict, h: dict) -> float:
    """Relative gap between the estimate and its comparator (for ordering the findings)."""
    if h["kind"] == "reference":
        ref = r.get(f"ref_{h['ref_key']}")
    else:
        return 0.0
    try:
        return abs(float(r["estimate"]) - float(ref)) / max(abs(float(ref)), 1e-9)
    except (TypeError, ValueError):
        return 0.0


def key_findings(table: pd.DataFrame, quartier: str, project, *, sources=None, dimensions: dict | None = None,
                 per_dimension: int = 5, limit: int = 8) -> dict:
    """The « À retenir » of one quartier: per dimension its main figures and one verdict each.

    Every publishable indicator gets one verdict (:func:`headline`).  Per dimension, the
    indicators with a significant gap come first (unfavourable, favourable, then gaps on
    indicators without a favourable direction, shown as context), then the others, in catalogue
    order, questionnaire indicators before extracts; at most ``per_dimension`` are kept.

    Parameters
    ----------
    table : pandas.DataFrame
        Protected indicator table (CONTRIBUTING.md columns).
    quartier : str
        Label of the quartier (as in the ``quartier`` column).
    project : diagnostics.project.Project
    sources : diagnostics.sources.IndicatorSources, optional
        Flags illustrative reference values.
    dimensions : dict, optional
        ``{id: label}`` (the nine DLS dimensions by default).
    per_dimension : int
        Indicators shown per dimension.
    limit : int
        Length of the ``worse`` / ``better`` / ``context`` lists (largest relative gaps first).

    Returns
    -------
    dict
        ``dimensions`` (``[{"id", "label", "rows"}]``), ``worse``, ``better``, ``context``
        (lists of rows), ``n_indicators``, ``n_suppressed``, ``n_fragile``.  A row is
        ``{"id", "dimension", "label", "value", "ci", "n", "fragile", "source", "verdict"
        (from :func:`headline`), "sentence"}``.
    """
    from .questionnaire import load_dimensions

    dims = dimensions or load_dimensions()
    idx = _Index(table)
    sub = idx.of_quartier(quartier)
    q = project.quartier(quartier)
    rows = []
    for pos, r in enumerate(sub):
        if not _publishable(r):
            continue
        unit = r.get("unit") or ""
        h = headline(r, _aggregate(idx.rows(r["indicator_id"]), project), project, sources)
        val, ci = format_value(r["estimate"], unit), format_interval(r.get("ci_low"), r.get("ci_high"), unit)
        frag = _flag(r.get("fragile"))
        sentence = (f"{r['label']} : {val} {ci} {q.dans} — {h['text']}"
                    f"{' (estimation fragile)' if frag else ''}.")
        rows.append({"id": r["indicator_id"], "dimension": r["dimension"], "label": r["label"], "value": val,
                     "ci": ci, "n": fmt.number(r["n"]) if not _na(r.get("n")) else "–", "fragile": frag,
                     "source": "" if _na(r.get("source")) else r.get("source"), "verdict": h,
                     "sentence": sentence, "gap": _gap(r, h), "pos": pos})
    out = {"dimensions": []}
    for did, dlabel in dims.items():
        mine = [x for x in rows if x["dimension"] == did]
        mine.sort(key=lambda x: (_VERDICT_RANK.get(x["verdict"]["verdict"], 4), x["source"] != "questionnaire",
                                 x["pos"]))
        if mine:
            out["dimensions"].append({"id": did, "label": dlabel, "rows": mine[:per_dimension],
                                      "n_more": max(len(mine) - per_dimension, 0)})
    for key, verdicts in (("worse", ("moins bien",)), ("better", ("mieux",)), ("context", ("plus élevé", "plus bas"))):
        out[key] = sorted([x for x in rows if x["verdict"]["verdict"] in verdicts], key=lambda x: -x["gap"])[:limit]
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
    """HTML fragment drawing ``fig`` with the page's plotly library (static, no mode bar).

    The figure takes the width of its container (redrawn narrower on a phone) and has an
    accessible name: ``role="img"`` with an ``aria-label`` that lists every value it shows.
    """
    from markupsafe import escape

    if fig is None:
        return ""
    lay = dict(fig["layout"])
    lay.pop("width", None)
    lay["autosize"] = True
    alt = escape(fig.get("alt") or "Graphique")
    return (f'<div id="{fig_id}" class="graphique" role="img" aria-label="{alt}" '
            f'style="height:{lay["height"]}px"></div>'
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
    data, shown, annotations, alt = [], set(), [], []
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
                if r is None:
                    continue
                if not _publishable(r):
                    why = "secret statistique" if _flag(r.get("suppressed")) else "non calculable"
                    annotations.append({"x": 0.01, "xref": f"{xa} domain", "xanchor": "left", "y": j + offsets[k],
                                        "yref": ya, "showarrow": False, "font": {"size": 9, "color": "#333333"},
                                        "text": _safe(f"{q} : {why}")})
                    alt.append(f"{r0['label']}, {q} : {why}")
                    continue
                alt.append(f"{r0['label']}, {q} : {format_value(r['estimate'], unit)} "
                           f"{format_interval(r['ci_low'], r['ci_high'], unit)}")
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
    layout["annotations"] = annotations
    return {"data": data, "layout": layout,
            "alt": "Estimations et intervalles de confiance à 95 % : " + " ; ".join(alt) + "."}


def spine_chart(table: pd.DataFrame, quartier: str, dimension: str, project, sources=None) -> dict | None:
    """Fingertips-style spine chart of one quartier for one dimension.

    Each row is an indicator, centred on its comparator (:func:`headline`: the first reference
    with a value, else the « Ensemble » row of the surveyed quartiers), which is named at the
    right of the row with the quartier's value.  The light grey bar spans the lowest to the
    highest value among the surveyed quartiers, the dark band the range of the references, and
    the dot is the quartier, coloured by its verdict (blue « mieux », yellow « similaire »,
    vermilion « moins bien », grey: a gap without a favourable direction, white: not compared;
    hollow centre when the estimate is fragile).  Rows of indicators with a direction are
    flipped so that **right is always better**; indicators without a favourable direction
    (« neutre ») are drawn in a panel of their own, where right is simply higher.

    Notes
    -----
    Scaling of a value :math:`v` of a row with comparator :math:`r`:
    :math:`s(v) = d \\,(v - r) / \\max_j |v_j - r|`, with :math:`d = -1` when a rise is
    unfavourable, else :math:`d = 1`; the maximum runs over the quartiers' estimates and the
    references of the row.

    References
    ----------
    Public Health England, *Fingertips: spine charts* (Public Health Profiles user guide, 2019).

    Returns
    -------
    dict or None
        A plotly.js figure ``{"data", "layout", "alt"}``; ``None`` when the dimension has no indicator.
    """
    idx = _Index(table)
    ids = idx.ids(dimension)
    if not ids:
        return None
    panels = {"dir": [], "neutre": []}
    for iid in ids:
        panels["neutre" if idx.rows(iid)[0].get("direction") == "neutre" else "dir"].append(iid)
    panels = {k: v for k, v in panels.items() if v}
    row_px, gap_px, top, bottom = 32, 46, 6, 34
    n_rows = sum(len(v) for v in panels.values())
    plot_h = row_px * n_rows + gap_px * (len(panels) - 1)
    height = top + plot_h + bottom
    data, shapes, ann, all_labels, alt = [], [], [], [], []
    y_top = 1.0
    layout = _base_layout(height, showlegend=True, margin={"l": 10, "r": 118, "t": top, "b": bottom},
                          legend={"orientation": "h", "y": -40 / plot_h, "yanchor": "top", "x": 0})
    for g, (kind, gids) in enumerate(panels.items(), start=1):
        xa, ya = ("x", "y") if g == 1 else (f"x{g}", f"y{g}")
        h = len(gids) * row_px / plot_h
        dots = {"x": [], "y": [], "color": [], "symbol": [], "text": []}
        labels = []
        for k, iid in enumerate(gids):
            rows = idx.rows(iid)
            mine = idx.get(iid, quartier)
            r = mine if mine is not None else rows[0]
            unit = r.get("unit") or ""
            labels.append(_wrap(_safe(r["label"]), 40))
            mine_ok = mine is not None and _publishable(r)
            agg = _aggregate(rows, project)
            hd = headline(r, agg, project, sources)
            text = ("secret statistique" if _flag(r.get("suppressed")) else
                    "non calculable" if not mine_ok else format_value(r["estimate"], unit))
            against = {"reference": hd["against"], "quartiers": "ensemble quartiers"}.get(hd["kind"], "")
            ill = " (illustr.)" if hd["illustrative"] else ""
            ann.append({"x": 1.0, "xref": "paper", "xanchor": "left", "y": k, "yref": ya, "align": "left",
                        "text": _safe(text) + (f"<br><span style='font-size:9px'>vs {_safe(against)}{ill}</span>"
                                               if against else ""),
                        "showarrow": False, "font": {"size": 11}})
            vals = [float(x["estimate"]) for x in rows if _publishable(x) and x["quartier"] in project.libelles]
            refs = [float(r[f"ref_{x}"]) for x in project.references if not _na(r.get(f"ref_{x}"))]
            if hd["kind"] == "reference":
                ref = float(r[f"ref_{hd['ref_key']}"])
            elif agg is not None and _publishable(agg):
                ref = float(agg["estimate"])
            else:
                ref = None
            alt.append(f"{r['label']} : {text}" + (f", {hd['text']}" if mine_ok and hd["text"] else ""))
            if ref is None:
                continue
            spread = max([abs(v - ref) for v in vals + refs] + [1e-12])
            d = -1.0 if r.get("direction") == "hausse_defavorable" else 1.0

            def s(v, ref=ref, spread=spread, d=d):
                return d * (v - ref) / spread

            for values, half, colour in ((vals, 0.32, "#c8c8c8"), (refs, 0.12, "#595959")):
                if values:
                    lo, hi = sorted((s(min(values)), s(max(values))))
                    shapes.append({"type": "rect", "x0": lo, "x1": hi, "y0": k - half, "y1": k + half, "xref": xa,
                                   "yref": ya, "fillcolor": colour, "line": {"width": 0}, "layer": "below"})
            if mine_ok:
                verdict = hd["verdict"] or "non comparable"
                dots["x"].append(s(float(r["estimate"])))
                dots["y"].append(k)
                dots["color"].append(VERDICT_COLOURS.get(verdict, "#FFFFFF"))
                dots["symbol"].append("circle-open-dot" if _flag(r.get("fragile")) else "circle")
                dots["text"].append(_safe(f"{quartier} : {text} — {hd['text']}"))
        if dots["x"]:
            data.append({"type": "scatter", "mode": "markers", "x": dots["x"], "y": dots["y"], "showlegend": False,
                         "xaxis": xa, "yaxis": ya,
                         "marker": {"size": 14, "color": dots["color"], "symbol": dots["symbol"],
                                    "line": {"color": "#000000", "width": 1.5}},
                         "text": dots["text"], "hovertemplate": "%{text}<extra></extra>"})
        shapes.append({"type": "line", "x0": 0, "x1": 0, "y0": -0.5, "y1": len(gids) - 0.5, "xref": xa, "yref": ya,
                       "line": {"color": "#000000", "width": 2}})
        ends = ["◀ moins favorable", "plus favorable ▶"] if kind == "dir" else ["◀ plus bas", "plus élevé ▶"]
        layout["xaxis" if g == 1 else f"xaxis{g}"] = {
            "domain": [0, 1], "anchor": ya, "range": [-1.15, 1.15], "tickvals": [-1, 0, 1], "showgrid": False,
            "zeroline": False, "fixedrange": True, "ticktext": [ends[0], "comparateur", ends[1]]}
        layout["yaxis" if g == 1 else f"yaxis{g}"] = {
            "domain": [max(y_top - h, 0), y_top], "anchor": xa, "tickvals": list(range(len(gids))),
            "ticktext": labels, "range": [len(gids) - 0.5, -0.5], "showgrid": False, "zeroline": False,
            "fixedrange": True}
        if kind == "neutre":
            ann.append({"x": 0, "xref": "paper", "xanchor": "left", "y": y_top + 4 / plot_h, "yref": "paper",
                        "yanchor": "bottom", "showarrow": False, "font": {"size": 10, "color": "#333333"},
                        "text": "Indicateurs de contexte, sans sens favorable : à droite = plus élevé"})
        y_top -= h + gap_px / plot_h
        all_labels.extend(labels)
    layout["showlegend"] = False  # the colours are explained once, in « Comment lire », and in words per row
    layout.update(shapes=shapes, annotations=ann)
    layout["margin"]["l"] = _label_margin(all_labels)
    title = f"{quartier} face à ses comparateurs : " + " ; ".join(alt) + "."
    return {"data": data, "layout": layout, "alt": title}
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


def select_comments(responses: pd.DataFrame, quartier: str, *, reviewed: dict[str, bool], n: int = 4,
                    column: str = "commentaire", min_length: int = 20) -> list[str]:
    """A few free-text answers of one quartier, reviewed and scrubbed, for the qualitative part.

    Only the comments the analyst marked publishable in the project's review file pass
    (``reviewed``, from :func:`diagnostics.disclosure.load_reviewed_quotes`: the gate); they are
    then scrubbed of phone numbers, e-mail addresses and names
    (:func:`diagnostics.disclosure.scrub_text`: the safety net), de-duplicated, and the first
    ``n`` of at least ``min_length`` characters are kept (file order: the selection is
    reproducible).
    """
    from .disclosure import RESIDENTS, is_publishable, scrub_text

    if column not in responses or "quartier" not in responses:
        return []
    texts = responses.loc[responses["quartier"].astype(object) == quartier, column].dropna()
    out, seen = [], set()
    for t in texts:
        if not is_publishable(reviewed, RESIDENTS, str(t)):
            continue
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
    """plotly.js « basic » partial bundle vendored with the package (resources/vendor/README.md)."""
    return paths.resource("vendor", "plotly-basic.min.js").read_text(encoding="utf-8")


def _records(df) -> list[dict]:
    if df is None:
        return []
    if isinstance(df, pd.DataFrame):
        return df.to_dict("records")
    return list(df)


def _dimension_blocks(t, project, dimensions: dict[str, str], quartier: str | None, sources=None) -> list[dict]:
    """Per dimension: the quartier's rows (one verdict each), its figures, the cross-quartier rows
    and the « Source : … » lines of its table and charts."""
    idx = _Index(t)
    blocks = []
    prefix = "fig-" + ("synthese" if quartier is None else "".join(c for c in quartier if c.isalnum()).lower())
    for did, dlabel in dimensions.items():
        ids = idx.ids(did)
        block = {"id": did, "label": dlabel, "rows": [], "ci_fig": "", "spine_fig": "",
                 "source_line": sources.line(ids) if sources is not None else "",
                 "ref_line": sources.reference_line(ids, list(project.references)) if sources is not None else ""}
        if quartier is not None:
            for iid in ids:
                r = idx.get(iid, quartier)
                if r is None:
                    continue
                agg = _aggregate(idx.rows(iid), project)
                ens = format_value(agg["estimate"], agg.get("unit") or "", with_unit=False) \
                    if agg is not None and _publishable(agg) else ""
                block["rows"].append({**_row_view(r, project), "ensemble": ens,
                                      "headline": headline(r, agg, project, sources) if _publishable(r) else None})
            if ids:
                block["spine_fig"] = _fig_html(spine_chart(idx, quartier, did, project, sources),
                                               f"{prefix}-colonne-{did}")
        if ids:
            block["ci_fig"] = _fig_html(ci_chart(idx, did, project, highlight=quartier), f"{prefix}-ic-{did}")
        # cross-quartier view for the synthesis: one row per indicator, one cell per quartier
        cross = []
        for iid in ids:
            first = idx.rows(iid)[0]
            agg = _aggregate(idx.rows(iid), project)
            cells = []
            for q in project.libelles:
                r = idx.get(iid, q)
                if r is None:
                    cells.append(None)
                    continue
                cells.append({**_row_view(r, project),
                              "headline": headline(r, agg, project, sources) if _publishable(r) else None})
            cross.append({"id": iid, "label": first["label"] if (first.get("unit") or "%") == "%"
                          else f"{first['label']} ({first['unit']})",
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


def protect_counts(rows: list[dict], threshold: int, label: str = "Autres canaux") -> list[dict]:
    """Group the rows of a count table that hold a cell under ``threshold``; mask what stays small.

    Parameters
    ----------
    rows : list of dict
        One dict per row: the first key is the row label, the other values are counts (the last
        one may be a ``Total``).
    threshold : int
        No published cell below it (``seuils.secret_statistique``).
    label : str
        Label of the grouped row.

    Returns
    -------
    list of dict
        Rows whose every count is at least ``threshold`` unchanged, the others summed into one
        row ``label``; a grouped cell still under the threshold is shown as « < 11 », and the
        total of a row with exactly one masked cell is masked too (it would give the cell back
        by difference: secondary suppression).  Zero stays zero only when the whole column is
        zero, otherwise it is masked like any small count.
    """
    if not rows:
        return []
    keys = list(rows[0])
    name, cols = keys[0], keys[1:]
    small = [r for r in rows if any(isinstance(r[c], (int, float)) and r[c] < threshold for c in cols)]
    keep = [r for r in rows if r not in small]
    if len(small) == 1 and keep:  # a single small row cannot be hidden in a group of its own
        small.append(min(keep, key=lambda r: r[cols[-1]]))
        keep.remove(small[-1])
    out = list(keep)
    if small:
        grouped = {name: label if len(small) > 1 else small[0][name]}
        for c in cols:
            grouped[c] = sum(r[c] for r in small)
        masked = [c for c in cols[:-1] if 0 < grouped[c] < threshold] if len(cols) > 1 else []
        for c in cols:
            if 0 < grouped[c] < threshold:
                grouped[c] = f"< {threshold}"
        if len(masked) == 1 and cols[-1] == "Total":
            grouped["Total"] = "–"
        out.append(grouped)
    return out


def _methods_view(methods: dict | None, project, quartier: str | None) -> dict:
    """Format the methods summary (counts, channels, representativeness, weighting) for the template."""
    m = dict(methods or {})
    rec = project.recueil
    view = {
        "printed": rec.get("questionnaires_imprimes"), "partners": rec.get("associations_partenaires"),
        "period": rec.get("periode", ""), "n_read": m.get("n_read"), "n_accepted": m.get("n_accepted"),
        "n_rejected": m.get("n_rejected"), "channels": protect_counts(_records(m.get("channels")),
                                                                      project.secret_statistique),
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
        small = f"< {project.secret_statistique}"
        view["representativeness"] = [
            {**r, "n": small, "pct_echantillon": None} if (not _na(r.get("n")) and r["n"] < project.secret_statistique)
            else r for r in rep.to_dict("records")]
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


def review_path(project) -> Path | None:
    """The project's quote review file, ``citations_relues.csv`` beside the project file.

    ``None`` when the project has no file (embedded configuration): then nothing is published.
    """
    if getattr(project, "source", None) is None:
        return None
    return Path(project.source).parent / "citations_relues.csv"


def reviewed_quotes(project, interviews, responses: pd.DataFrame | None = None, *, column: str = "commentaire"):
    """Apply the review gate to a project's free text; list what still awaits review.

    Returns the interviews keeping only the quotes marked « oui » in :func:`review_path`, the
    ``{id: publishable}`` reviews, and the number of quotes and comments not reviewed yet.
    """
    from .disclosure import RESIDENTS, load_reviewed_quotes, quote_id, reviewed_only

    path = review_path(project)
    reviewed = load_reviewed_quotes(path) if path is not None else {}
    pending = sum(quote_id(it.partenaire, q.text) not in reviewed for it in interviews for q in it.quotes)
    if responses is not None and column in responses:
        texts = {str(t) for t in responses[column].dropna() if str(t).strip()}
        pending += sum(quote_id(RESIDENTS, t) not in reviewed for t in texts)
    return reviewed_only(interviews, reviewed), reviewed, pending


def statement_path(project, name: str) -> Path | None:
    """Where the ASV writes the « points forts » and « pistes d'action » of a deliverable.

    ``constats/<name>.md`` in the folder of the project file (``name`` is the quartier's id, or
    ``synthese``); ``None`` when the project has no file (embedded configuration).
    """
    if getattr(project, "source", None) is None:
        return None
    return Path(project.source).parent / "constats" / f"{name}.md"


def render_statement(path: Path | None) -> str:
    """The ASV's markdown text as HTML, or an empty string when the file is absent.

    Raw HTML in the file is shown as text (markdown-it-py, CommonMark with ``html`` off), so the
    text of a user can never inject markup; headings are shifted below the report's own ``h2``.
    """
    from markdown_it import MarkdownIt

    if path is None or not Path(path).is_file():
        return ""
    md = MarkdownIt("commonmark", {"html": False})
    html = md.render(Path(path).read_text(encoding="utf-8-sig"))
    for k in (3, 2, 1):  # # → h3, ## → h4…
        html = html.replace(f"<h{k}>", f"<h{k + 2}>").replace(f"</h{k}>", f"</h{k + 2}>")
    return html


def _directory(actors, quartier: str, dims: dict) -> list[dict]:
    """The quartier's actors, one row each (deduplicated by name and address), themes as a column."""
    from .actors import actors_for_quartier

    if actors is None or not len(actors):
        return []
    sub = actors_for_quartier(actors, quartier)
    rows, seen = [], set()
    for r in sorted(sub.to_dict("records"), key=lambda r: str(r.get("nom", "")).casefold()):
        key = (" ".join(str(r.get("nom", "")).casefold().split()), str(r.get("adresse", "")).casefold())
        if key in seen:
            continue
        seen.add(key)
        themes = [dims.get(t, t) for t in (r.get("themes") or [])]
        rows.append({**r, "themes_label": ", ".join(themes)})
    return rows


def _matrix_view(interviews, dims, project):
    from .interviews import theme_matrix

    if not interviews:
        return None
    matrix = theme_matrix(interviews, dims, project.libelles)
    return {"columns": list(matrix.columns),
            "rows": [(i, list(map(int, v))) for i, v in zip(matrix.index, matrix.to_numpy())],
            "max": int(matrix.to_numpy().max()) if matrix.size else 0}


def _sources_or_none(project, sources):
    """The project's sources (loaded when not given); ``None`` when its files cannot be read."""
    from .errors import DLSError

    if sources is not None:
        return sources
    from .sources import load_sources

    try:
        return load_sources(project)
    except (DLSError, OSError, KeyError):
        return None


def _definitions(sources, dims) -> list[dict]:
    if sources is None:
        return []
    out = []
    for did, dlabel in dims.items():
        rows = sources.indicators[sources.indicators["dimension"] == did].to_dict("records")
        if rows:
            out.append({"label": dlabel, "rows": rows})
    return out


def render_quartier(project, quartier: str, table: pd.DataFrame, *, methods: dict | None = None,
                    actors: pd.DataFrame | None = None, interviews: list | None = None,
                    comments: list[str] = (), dimensions: dict[str, str] | None = None,
                    generated: str | None = None, sources=None, statement: str | Path | None = None) -> str:
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
    sources : diagnostics.sources.IndicatorSources, optional
        Sources, periods and definitions (default: read from the project's files).
    statement : path-like, optional
        The ASV's markdown file of « points forts » and « pistes d'action » (default:
        :func:`statement_path`); a placeholder says where to write it when it is absent.

    Returns
    -------
    str
        The HTML document.

    Notes
    -----
    Structure: cover, « À retenir » (at most four A4 pages), one part per dimension (spine
    chart and table, each followed by its source), the partners' and residents' words, then the
    annexes: methods, confidence-interval charts, definitions of every catalogue indicator,
    glossary, directory of actors.
    """
    from .interviews import select_quotes
    from .questionnaire import load_dimensions

    dims = dimensions or load_dimensions()
    q = project.quartier(quartier)
    t = _Index(table)
    sources = _sources_or_none(project, sources)
    ctx = _base_context(project, generated)
    stmt_path = Path(statement) if statement is not None else statement_path(project, q.id)
    quotes = select_quotes(interviews, q.libelle, dimensions=dims, per_theme=1) if interviews else []
    ctx.update({
        "doc_title": f"{project.titre} — {q.libelle}", "quartier": q,
        "findings": key_findings(t, q.libelle, project, sources=sources, dimensions=dims),
        "dimensions": _dimension_blocks(t, project, dims, q.libelle, sources),
        "methods": _methods_view(methods, project, q.libelle),
        "directory": _directory(actors, q.libelle, dims), "matrix": _matrix_view(interviews, dims, project),
        "quotes": quotes, "comments": list(comments), "n_interviews": len(interviews or []),
        "quartiers": project.quartiers, "statement": render_statement(stmt_path),
        "statement_path": stmt_path, "definitions": _definitions(sources, dims),
        "illustrative": bool(sources and sources.has_illustrative()),
        "survey_source": sources.survey if sources is not None else "",
    })
    return _env().get_template("report_quartier.html.j2").render(**ctx)


def render_synthesis(project, table: pd.DataFrame, *, methods: dict | None = None, interviews: list | None = None,
                     dimensions: dict[str, str] | None = None, generated: str | None = None,
                     links: dict[str, str] | None = None, sources=None, statement: str | Path | None = None) -> str:
    """Render the cross-quartier synthesis as a self-contained HTML page.

    Parameters
    ----------
    links : dict, optional
        ``{quartier label: relative file name}`` of each quartier's report.
    sources, statement
        As for :func:`render_quartier` (the statement file is ``constats/synthese.md``).

    Returns
    -------
    str

    Notes
    -----
    The body is one quartier × indicator overview (values coloured by their verdict, as in the
    Fingertips overview) on one or two A4 pages; the per-dimension detail (charts and tables with
    the references) is in the annex.
    """
    from .questionnaire import load_dimensions

    dims = dimensions or load_dimensions()
    t = _Index(table)
    sources = _sources_or_none(project, sources)
    ctx = _base_context(project, generated)
    stmt_path = Path(statement) if statement is not None else statement_path(project, "synthese")
    blocks = _dimension_blocks(t, project, dims, None, sources)
    ctx.update({
        "doc_title": f"{project.titre} — synthèse des quartiers",
        "summaries": [{"quartier": q, "findings": key_findings(t, q.libelle, project, sources=sources, dimensions=dims,
                                                               limit=5),
                       "link": (links or {}).get(q.libelle)} for q in project.quartiers],
        "dimensions": blocks, "methods": _methods_view(methods, project, None),
        "matrix": _matrix_view(interviews, dims, project),
        "n_interviews": len(interviews or []), "quartiers": project.quartiers,
        "statement": render_statement(stmt_path), "statement_path": stmt_path,
        "definitions": _definitions(sources, dims), "illustrative": bool(sources and sources.has_illustrative()),
        "survey_source": sources.survey if sources is not None else "",
        "all_sources": sources.line([r["id"] for b in blocks for r in b["cross"]]) if sources is not None else "",
    })
    return _env().get_template("report_synthese.html.j2").render(**ctx)


def write_html(html: str, path: str | Path) -> Path:
    """Write ``html`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    from .files import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
