"""The report's figures as plotly.js specifications: the Fingertips-like spine chart and the dot
plot of a quartier among the others (annex B), drawn as inline SVG by :mod:`diagnostics.publish.svg`.
"""
from __future__ import annotations

import pandas as pd

from .. import fmt
from .display import (
    FIG_WIDTH,
    VERDICT_COLOURS,
    _aggregate,
    _flag,
    TableIndex,
    _na,
    _plain,
    format_interval,
    format_value,
)
from .findings import _publishable, headline
from .svg import wrap_label

# --------------------------------------------------------------------------- figures
#
# Figures are plotly.js specifications built as plain dicts ({"data": [...], "layout": {...}}),
# drawn as inline SVG by diagnostics.publish.svg (no script in the report): the geometry is
# decided here, the drawing there.

_FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 11, "color": "#222222"}


def _base_layout(height: int, **kw) -> dict:
    lay = {"width": FIG_WIDTH, "height": int(height), "autosize": False, "font": _FONT, "separators": ", ",
           "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff", "hovermode": "closest",
           "margin": {"l": 10, "r": 10, "t": 30, "b": 30}}
    lay.update(kw)
    return lay


def _label_margin(labels, px_per_char: float = 6.2, pad: int = 16) -> int:
    """Left margin (px) that fits the longest line of the axis labels (fixed margins draw faster
    than plotly's ``automargin``, which lays a figure out twice)."""
    longest = max((len(line) for lab in labels for line in str(lab).split("<br>")), default=10)
    return int(min(pad + px_per_char * longest, 320))


def _safe(text) -> str:
    """Text for a figure's labels, where ``<br>`` and ``<span>`` are markup (plotly's, read by
    :mod:`diagnostics.publish.svg`): ``<`` and ``>`` of the data are replaced."""
    return str(text).replace("<", "‹").replace(">", "›")


def _num(x):
    return None if x is None or _na(x) else float(x)


def spine_chart(table: pd.DataFrame, quartier: str, dimension: str, project, sources=None,
                previous: dict | None = None) -> dict | None:
    """Fingertips-style spine chart of one quartier for one dimension.

    Each row is an indicator, centred on its comparator (:func:`headline`: the first reference
    with a value, else the « Ensemble » row of the surveyed quartiers), which is named at the
    right of the row with the quartier's value.  The light grey bar spans the lowest to the
    highest value among the surveyed quartiers, the dark band the range of the references, and
    the dot is the quartier, coloured by its verdict (blue « mieux », yellow « similaire »,
    vermilion « moins bien », grey: a gap without a favourable direction, white: not compared;
    hollow centre when the estimate is fragile).  Rows of indicators with a direction are
    flipped so that **right is always better**; indicators without a favourable direction
    (« neutre ») are drawn in a panel of their own, where right is simply higher.  With
    ``previous`` (``{indicator_id: value}`` of the previous diagnostic, comparable indicators
    only), a hollow diamond marks the quartier's previous value on the same scale.

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
    idx = TableIndex(table)
    ids = idx.ids(dimension)
    if not ids:
        return None
    panels = {"dir": [], "neutre": []}
    for iid in ids:
        panels["neutre" if idx.rows(iid)[0].get("direction") == "neutre" else "dir"].append(iid)
    panels = {k: v for k, v in panels.items() if v}
    row_px, gap_px, top, bottom = 32, 46, 6, 34
    labels_set = set(project.libelles)
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
        before = {"x": [], "y": [], "text": []}
        labels = []
        for k, iid in enumerate(gids):
            rows = idx.rows(iid)
            mine = idx.get(iid, quartier)
            r = mine if mine is not None else rows[0]
            unit = r.get("unit") or ""
            labels.append(wrap_label(_safe(r["label"]), 40))
            mine_ok = mine is not None and _publishable(r)
            agg = _aggregate(rows, project)
            hd = headline(r, agg, project, sources)
            text = ("secret statistique" if _flag(r.get("suppressed")) else
                    "non calculable" if not mine_ok else format_value(r["estimate"], unit))
            has_rest = not _na(r.get("ref_reste"))
            against = {"reference": hd["against"],
                       "quartiers": "autres quartiers" if has_rest else "ensemble (quartier compris)"}.get(hd["kind"], "")
            ill = " (illustr.)" if hd["illustrative"] else ""
            ann.append({"x": 1.0, "xref": "paper", "xanchor": "left", "y": k, "yref": ya, "align": "left",
                        "text": _safe(text) + (f"<br><span style='font-size:9px'>vs {_safe(against)}{ill}</span>"
                                               if against else ""),
                        "showarrow": False, "font": {"size": 11}})
            vals = [float(x["estimate"]) for x in rows if _publishable(x) and x["quartier"] in labels_set]
            refs = [float(r[f"ref_{x}"]) for x in project.references if not _na(r.get(f"ref_{x}"))]
            if hd["kind"] == "reference":
                ref = float(r[f"ref_{hd['ref_key']}"])
            elif hd["kind"] == "quartiers" and has_rest:
                ref = float(r["ref_reste"])
            elif agg is not None and _publishable(agg):
                ref = float(agg["estimate"])
            else:
                ref = None
            alt.append(f"{r['label']} : {text}" + (f", {hd['text']}" if mine_ok and hd["text"] else ""))
            if ref is None:
                continue
            prev = (previous or {}).get(iid)
            prev = None if prev is None or _na(prev) or not mine_ok else float(prev)
            spread = max([abs(v - ref) for v in vals + refs + ([prev] if prev is not None else [])] + [1e-12])
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
                if prev is not None:
                    before["x"].append(s(prev))
                    before["y"].append(k)
                    before["text"].append(_safe(f"{quartier}, diagnostic précédent : {format_value(prev, unit)}"))
                    alt[-1] += f" (diagnostic précédent : {format_value(prev, unit)})"
        if before["x"]:
            data.append({"type": "scatter", "mode": "markers", "x": before["x"], "y": before["y"], "showlegend": False,
                         "xaxis": xa, "yaxis": ya, "name": "diagnostic précédent",
                         "marker": {"size": 11, "symbol": "diamond-open", "color": "#000000",
                                    "line": {"color": "#000000", "width": 2}},
                         "text": before["text"], "hovertemplate": "%{text}<extra></extra>"})
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
    # the axis ends on two lines on a narrow screen (report_base.html.j2, dlsFigure), so that they do not overlap
    layout["meta"] = {"etroit": {"ticktext": {
        "◀ moins favorable": ["◀ moins<br>favorable", "compa-<br>rateur", "plus<br>favorable ▶"],
        "◀ plus bas": ["◀ plus<br>bas", "compa-<br>rateur", "plus<br>élevé ▶"]}}}
    layout.update(shapes=shapes, annotations=ann)
    layout["margin"]["l"] = _label_margin(all_labels)
    title = f"{quartier} face à ses comparateurs : " + " ; ".join(alt) + "."
    return {"data": data, "layout": layout, "alt": title}


_REF_SYMBOLS = {"commune": "line-ns-open", "departement": "triangle-up", "region": "square", "france": "diamond",
                "qpv": "cross-open", "hors_qpv": "x-open"}
_GREY = "#767676"   # 4.5:1 on white: a 1.2 px ring stays visible on paper


def _unit_groups(idx, ids) -> dict[str, list]:
    """The indicators of a dimension grouped by unit (one panel, one axis per unit)."""
    groups: dict[str, list] = {}
    for iid in ids:
        groups.setdefault(idx.rows(iid)[0].get("unit") or "", []).append(iid)
    return groups


def _dot_points(idx, gids, unit, quartier, project, labels_set) -> tuple[dict, dict, dict, list, list]:
    """The points of one panel of :func:`distribution_chart`: highlighted, others, references."""
    mine = {"x": [], "y": [], "plus": [], "minus": [], "symbol": [], "text": []}
    others = {"x": [], "y": [], "text": []}
    refs = {rid: {"x": [], "y": [], "text": []} for rid in project.references}
    labels, alt = [], []
    for j, iid in enumerate(gids):
        r0 = idx.rows(iid)[0]
        lab = r0["label"] if unit in ("%", "") else f"{r0['label']} ({unit})"
        labels.append(wrap_label(_safe(lab), 34))
        vals = []
        for r in idx.rows(iid):
            if r["quartier"] == quartier or r["quartier"] not in labels_set or not _publishable(r):
                continue
            vals.append(r["estimate"])
            others["x"].append(_plain(r["estimate"], unit))
            others["y"].append(j)
            if quartier is None:   # the synthesis names every dot; a quartier's report draws a distribution
                others["text"].append(_safe(f"{r['quartier']} : {format_value(r['estimate'], unit)}"))
        said = []
        r = idx.get(iid, quartier) if quartier is not None else None
        if r is not None and _publishable(r):
            est, lo, hi = _plain(r["estimate"], unit), _plain(r["ci_low"], unit), _plain(r["ci_high"], unit)
            mine["x"].append(est)
            mine["y"].append(j)
            mine["plus"].append(None if hi is None else hi - est)
            mine["minus"].append(None if lo is None else est - lo)
            mine["symbol"].append("circle-open" if _flag(r.get("fragile")) else "circle")
            value = f"{format_value(r['estimate'], unit)} {format_interval(r['ci_low'], r['ci_high'], unit)}"
            mine["text"].append(_safe(f"{quartier} : {value}"))
            said.append(f"{quartier} {value}")
        elif r is not None:
            said.append(f"{quartier} : " + ("secret statistique" if _flag(r.get("suppressed")) else "non calculable"))
        if vals:
            said.append(f"{'autres ' if quartier is not None else ''}quartiers de "
                        f"{format_value(min(vals), unit)} à {format_value(max(vals), unit)}")
        for rid, rlabel in project.references.items():
            v = _plain(r0.get(f"ref_{rid}"), unit)
            if v is not None:
                refs[rid]["x"].append(v)
                refs[rid]["y"].append(j)
                refs[rid]["text"].append(_safe(f"{rlabel} : {format_value(r0.get(f'ref_{rid}'), unit)}"))
                said.append(f"{rlabel} {format_value(r0.get(f'ref_{rid}'), unit)}")
        alt.append(f"{r0['label']} : " + ", ".join(said))
    return mine, others, refs, labels, alt


def distribution_chart(table, dimension: str, project, quartier: str | None = None) -> dict | None:
    """Dot plot of one dimension: the quartier against the distribution of the other quartiers.

    One row per indicator, one panel per unit.  On each row the other quartiers are small grey
    rings (their estimates only, unnamed: a distribution, as the alternative text says, « autres
    quartiers de … à … »), the quartier is a large blue dot with its confidence interval
    (hollow when fragile) and the references are black symbols, as in the « compare areas »
    view of Fingertips.  Rings: overlapping quartiers stay visible one by one (W. S. Cleveland,
    *The Elements of Graphing Data*, 1985, open circles against overlap); named on hover in the
    synthesis only.  Unnamed, a report's rings are one SVG path (:mod:`svg`): at 30 quartiers
    Chromium prints a report with a fifth less processor (0.85–0.98 s → 0.66–0.73 s).  The
    height depends on the number of indicators only, never on the number of quartiers: a
    dimension fits on one page whatever the size of the project.  With ``quartier`` None (the
    synthesis) every quartier is a grey ring.

    Returns
    -------
    dict or None
        A plotly.js figure ``{"data", "layout", "alt"}``; ``None`` when the dimension has no indicator.

    References
    ----------
    Office for Health Improvement and Disparities, *Fingertips user guide: compare areas* (2023).
    """
    idx = TableIndex(table)
    ids = idx.ids(dimension)
    if not ids:
        return None
    groups = _unit_groups(idx, ids)
    row_h, gap, top, bottom = 34, 40, 28, 64
    height = top + bottom + len(ids) * row_h + (len(groups) - 1) * gap
    inner = height - top - bottom
    layout = _base_layout(height, showlegend=True, margin={"l": 10, "r": 10, "t": top, "b": bottom},
                          legend={"orientation": "h", "y": -30 / inner, "yanchor": "top", "x": 0})
    data, alt, all_labels, shown, y_top = [], [], [], set(), 1.0
    labels_set = set(project.libelles)
    for g, (unit, gids) in enumerate(groups.items(), start=1):
        xa, ya = ("x", "y") if g == 1 else (f"x{g}", f"y{g}")
        mine, others, refs, labels, said = _dot_points(idx, gids, unit, quartier, project, labels_set)
        alt += said
        hover = "%{text}<extra></extra>"
        if others["x"]:
            data.append({"type": "scatter", "mode": "markers", "x": others["x"], "y": others["y"], "xaxis": xa,
                         "yaxis": ya, "name": "Autres quartiers" if quartier else "Quartiers", "legendgroup": "autres",
                         "showlegend": "autres" not in shown, "text": others["text"], "hovertemplate": hover,
                         "marker": {"color": _GREY, "size": 7, "symbol": "circle-open", "line": {"width": 1.2}}})
            shown.add("autres")
        if mine["x"]:
            data.append({"type": "scatter", "mode": "markers", "x": mine["x"], "y": mine["y"], "xaxis": xa,
                         "yaxis": ya, "name": _safe(quartier), "legendgroup": "quartier",
                         "showlegend": "quartier" not in shown, "text": mine["text"], "hovertemplate": hover,
                         "marker": {"color": "#0072B2", "size": 12, "symbol": mine["symbol"],
                                    "line": {"color": "#0072B2", "width": 2}},
                         "error_x": {"type": "data", "symmetric": False, "array": mine["plus"],
                                     "arrayminus": mine["minus"], "color": "#0072B2", "thickness": 2, "width": 4}})
            shown.add("quartier")
        for rid, rp in refs.items():
            if rp["x"]:
                data.append({"type": "scatter", "mode": "markers", "x": rp["x"], "y": rp["y"], "xaxis": xa,
                             "yaxis": ya, "name": _safe(project.references[rid]), "legendgroup": rid,
                             "showlegend": rid not in shown, "text": rp["text"], "hovertemplate": hover,
                             "marker": {"symbol": _REF_SYMBOLS.get(rid, "x"), "size": 16 if rid == "commune" else 8,
                                        "color": "#000000", "line": {"width": 2, "color": "#000000"}}})
                shown.add(rid)
        h = len(gids) * row_h / inner
        layout["xaxis" if g == 1 else f"xaxis{g}"] = {
            "domain": [0, 1], "anchor": ya, "showgrid": True, "gridcolor": "#e5e5e5", "zeroline": False,
            "ticksuffix": " %" if unit == "%" else "", "rangemode": "tozero" if unit == "%" else "normal",
            "showline": True, "linecolor": "#444", "ticks": "outside", "fixedrange": True}
        layout["yaxis" if g == 1 else f"yaxis{g}"] = {
            "domain": [max(y_top - h, 0), y_top], "anchor": xa, "tickvals": list(range(len(gids))),
            "ticktext": labels, "range": [len(gids) - 0.5, -0.5], "showgrid": True, "gridcolor": "#f0f0f0",
            "zeroline": False, "showline": True, "linecolor": "#444", "fixedrange": True, "tickfont": {"size": 10}}
        y_top -= h + gap / inner
        all_labels.extend(labels)
    layout["margin"]["l"] = _label_margin(all_labels, 5.3)
    return {"data": data, "layout": layout,
            "alt": f"Intervalles de confiance à {fmt.number(project.niveau_confiance * 100, 0)} % et répartition "
                   "des quartiers : " + " ; ".join(alt) + "."}
