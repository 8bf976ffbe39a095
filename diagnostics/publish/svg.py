"""The report's figures as inline SVG, drawn in Python from their plotly.js specifications.

:mod:`diagnostics.publish.charts` describes each figure as a plotly.js specification (``data``,
``layout``): panels of markers with error bars, shapes, annotations and a legend.  This module
draws exactly that subset as static SVG, twice: at the page width (screen and print) and at a
phone's width (margins, fonts and labels as the narrow layout of the former script).  No script
runs in the reader's browser: the report opens and prints at once (a quartier report cost
Chromium about 1.6 s of processor to draw its 18 plotly figures, three quarters of its
printing, issue 31), each point keeps its text as an SVG ``<title>`` (shown on hover), and the
figure's accessible name stays on its container (``role="img"``, ``aria-label``).

Text widths are not measured (no browser): an average advance of :data:`CHAR_EM` em per
character of DejaVu Sans sizes the legend and the wrapping of labels, as the margins of
:mod:`~diagnostics.publish.charts` already assume.
"""
from __future__ import annotations

import math
import re
import textwrap
from html import unescape

from markupsafe import Markup, escape

from .. import fmt

__all__ = ["CHAR_EM", "NARROW_WIDTH", "figure_html", "figure_svg", "wrap_label"]

#: Average advance of a DejaVu Sans character, in em (measured 4.6–5.0 px at 8 px).
CHAR_EM = 0.6
#: Width of the phone variant (a 375 px screen less the page's padding).
NARROW_WIDTH = 340
#: Advance of a character at the phone's 8 px (DejaVu Sans, measured 4,6–5,0 px): for wrapping
#: labels in a margin, the wide end; for a caption on one line, the measured 4,7 px.
_NARROW_CHAR, _CAPTION_CHAR = 5.0, 4.7
_FAMILY = "DejaVu Sans, Arial, sans-serif"
_SPAN = re.compile(r"^(<span style='font-size:(\d+)px'>)?([\s\S]*?)(</span>)?$")


# --------------------------------------------------------------------------- text

#: The space between the digits of a number and its next group of three (« 1 000 », « 12 500 »).
_THOUSANDS = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")


def wrap_label(text: str, n: int) -> str:
    """Break each ``<br>`` line of a label (optionally inside one ``<span>``) into lines of at most
    ``n`` characters, joined by ``<br>`` (:func:`textwrap.wrap`; a longer word stays whole, alone on
    its line).  A number is never split at its thousands separator (« pour 1 000 »: the space
    becomes a narrow no-break space, as :mod:`diagnostics.fmt` writes numbers)."""
    out_lines = []
    for line in _THOUSANDS.sub("\u202f", str(text)).split("<br>"):
        m = _SPAN.match(line)
        lines = textwrap.wrap(m.group(3), max(n, 1), break_long_words=False, break_on_hyphens=False) or [""]
        out_lines += [f"{m.group(1) or ''}{x}{m.group(4) or ''}" for x in lines]
    return "<br>".join(out_lines)


def _lines(text: str, size: float) -> list[tuple[str, float]]:
    """``(plain text, font size)`` of each line of a plotly label (``<br>``, ``<span style='font-size:…'>``)."""
    out = []
    for line in str(text).split("<br>"):
        m = _SPAN.match(line)
        out.append((unescape(m.group(3)), float(m.group(2)) if m.group(2) else size))
    return out


def _text(x: float, y: float, text: str, size: float, anchor: str = "start", colour: str = "#222222",
          valign: str = "middle") -> str:
    """An SVG ``<text>`` of one or several lines, placed like a plotly label (``valign``: middle, top, bottom)."""
    lines = _lines(text, size)
    heights = [1.25 * s for _, s in lines]
    block = sum(heights)
    top = {"middle": y - block / 2, "top": y, "bottom": y - block}[valign]
    spans, cursor = [], top
    for (line, s), h in zip(lines, heights):
        cursor += h
        spans.append(f'<tspan x="{x:.1f}" y="{cursor - 0.3 * s:.1f}" font-size="{s:g}">{escape(line)}</tspan>')
    return f'<text text-anchor="{anchor}" fill="{colour}">{"".join(spans)}</text>'


def _width(text: str, size: float) -> float:
    return max((len(line) * s * CHAR_EM for line, s in _lines(text, size)), default=0.0)


# --------------------------------------------------------------------------- markers

def _ring(r: float, line_width: float) -> tuple[float, float]:
    """Radius and stroke width of a hollow circle of outer radius ``r`` (at least a 1 px ring)."""
    w = max(line_width or 0, 1)
    return r - w / 2, w


def _marker(symbol: str, x: float, y: float, size: float, colour: str, line_colour: str, line_width: float,
            opacity: float = 1.0) -> str:
    """One plotly marker (``size`` its diameter in px) as SVG.

    A translucent marker is drawn with ``fill-opacity`` and ``stroke-opacity`` (the alpha of
    its paint), never ``opacity``: on a marker without overlapping parts the drawing is the
    same, but ``opacity`` makes Chromium print every marker as a transparency group of its own
    (a form XObject): 1 946 groups and 2.0 MB for a 30-quartier report, 0.65 MB without them.
    """
    r = size / 2
    lw = line_width or 0
    op = (f' fill-opacity="{opacity:g}"' + (f' stroke-opacity="{opacity:g}"' if lw or symbol.endswith("-open") else "")
          if opacity < 1 else "")
    stroke = f' stroke="{line_colour}" stroke-width="{lw:g}"' if lw else ""
    if symbol == "circle":
        return f'<path d="{_circle(x, y, r)}" fill="{colour}"{stroke}{op}/>'
    if symbol == "circle-open":
        rr, ww = _ring(r, lw)
        return f'<path d="{_circle(x, y, rr)}" fill="#ffffff" stroke="{colour}" stroke-width="{ww:g}"{op}/>'
    if symbol == "circle-open-dot":   # a hollow centre: the verdict's ring around white, a dot inside
        return (f'<path d="{_circle(x, y, r)}" fill="{colour}"{stroke}{op}/>'
                f'<path d="{_circle(x, y, r / 2)}" fill="#ffffff" stroke="{line_colour}" stroke-width="1"/>'
                f'<path d="{_circle(x, y, 1.5)}" fill="{line_colour}"/>')
    if symbol in ("diamond", "diamond-open"):
        pts = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"
        if symbol == "diamond":
            return f'<polygon points="{pts}" fill="{colour}"{stroke}{op}/>'
        return f'<polygon points="{pts}" fill="none" stroke="{colour}" stroke-width="{max(lw, 1):g}"{op}/>'
    if symbol == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{size:g}" height="{size:g}" fill="{colour}"{stroke}{op}/>'
    if symbol == "triangle-up":
        pts = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y + r * 0.8:.1f} {x - r:.1f},{y + r * 0.8:.1f}"
        return f'<polygon points="{pts}" fill="{colour}"{stroke}{op}/>'
    w = max(lw, 1.5)
    if symbol == "line-ns-open":
        return f'<line x1="{x:.1f}" y1="{y - r:.1f}" x2="{x:.1f}" y2="{y + r:.1f}" stroke="{colour}" stroke-width="{w:g}"/>'
    if symbol == "cross-open":
        return (f'<path d="M{x - r:.1f} {y:.1f}H{x + r:.1f}M{x:.1f} {y - r:.1f}V{y + r:.1f}" stroke="{colour}" '
                f'stroke-width="{w:g}" fill="none"/>')
    # x, x-open and anything else: a saltire
    return (f'<path d="M{x - r:.1f} {y - r:.1f}L{x + r:.1f} {y + r:.1f}M{x - r:.1f} {y + r:.1f}L{x + r:.1f} '
            f'{y - r:.1f}" stroke="{colour}" stroke-width="{w:g}" fill="none"/>')


# --------------------------------------------------------------------------- axes

def _nice_step(span: float, target: int) -> float:
    """A step of 1, 2, 2,5 or 5 × 10^k giving at most about ``target`` intervals over ``span``."""
    raw = span / max(target, 1)
    base = 10 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw)


def _decimals(step: float) -> int:
    d = 0
    while d < 6 and abs(step * 10 ** d - round(step * 10 ** d)) > 1e-9:
        d += 1
    return d


def _tick_label(value: float, decimals: int) -> str:
    """« 0 », « 0,5 », « 1 », « 1,5 »: the step's decimals, trailing zeros dropped (as plotly)."""
    label = fmt.number(value, decimals)
    return label.rstrip("0").rstrip(",") if "," in label else label


class _Axis:
    """One axis of a panel: its data range, its share of the plot area and its ticks."""

    def __init__(self, spec: dict, lo_px: float, hi_px: float, values: list[float]):
        self.spec = spec
        d0, d1 = spec.get("domain", [0, 1])
        self.a = lo_px + d0 * (hi_px - lo_px)
        self.b = lo_px + d1 * (hi_px - lo_px)
        if "range" in spec:
            self.r0, self.r1 = spec["range"]
            self.ticks = list(zip(spec.get("tickvals", []), spec.get("ticktext", spec.get("tickvals", []))))
            return
        vals = [v for v in values if v is not None and math.isfinite(v)] or [0.0, 1.0]
        lo, hi = min(vals), max(vals)
        if spec.get("rangemode") == "tozero":
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        span = (hi - lo) or abs(hi) or 1.0
        self.r0 = lo if (spec.get("rangemode") == "tozero" and lo == 0) else lo - 0.05 * span
        self.r1 = hi + 0.05 * span
        step = _nice_step(self.r1 - self.r0, max(2, int(abs(self.b - self.a) // 90)))
        first = math.ceil(self.r0 / step - 1e-9) * step
        n = int(math.floor((self.r1 - first) / step + 1e-9)) + 1
        dec = _decimals(step)
        suffix = spec.get("ticksuffix", "")
        self.ticks = [(first + k * step, _tick_label(first + k * step, dec) + suffix) for k in range(n)]

    def px(self, v: float) -> float:
        return self.a + (v - self.r0) / (self.r1 - self.r0) * (self.b - self.a)


# --------------------------------------------------------------------------- the figure

def _narrow(fig: dict, width: float) -> dict:
    """The phone layout of a figure: narrower margins, smaller fonts, labels wrapped to fit."""
    lay = {k: (dict(v) if isinstance(v, dict) else v) for k, v in fig["layout"].items()}
    lay["margin"] = m = dict(lay["margin"])
    m["l"] = min(m["l"], round(width * 0.46))
    m["r"] = min(m["r"], 84)
    lay["font"] = {**lay.get("font", {}), "size": 9}
    ann = []
    for a in lay.get("annotations", []):
        a = {**a, "font": {**a.get("font", {}), "size": 8}}
        if a.get("xref") == "paper" and a.get("x") == 1:
            a["text"] = wrap_label(a["text"].replace("font-size:9px", "font-size:7px"),
                                   int((m["r"] - 4) // _NARROW_CHAR))
        elif a.get("xref") == "paper" and a.get("x") == 0:
            # a panel's caption starts at the figure's left edge: on one line, it clears the axis
            # labels of the panel above (wrapped under the plot, it ran into them)
            a["text"], a["edge"] = wrap_label(a["text"], int((width - 8) // _CAPTION_CHAR)), True
        ann.append(a)
    lay["annotations"] = ann
    narrow = (lay.get("meta") or {}).get("etroit", {})
    for k, ax in list(lay.items()):
        if k.startswith("yaxis"):
            ax["tickfont"] = {"size": 8}
            if ax.get("ticktext"):
                n = int((m["l"] - 8) // _NARROW_CHAR)
                ax["ticktext"] = [wrap_label(" ".join(str(t).split("<br>")), n) for t in ax["ticktext"]]
        if k.startswith("xaxis") and narrow.get("ticktext") and ax.get("ticktext"):
            ax["ticktext"] = narrow["ticktext"].get(ax["ticktext"][0], ax["ticktext"])
            ax["tickfont"] = {"size": 8}
    return {**fig, "layout": lay}


def _axis_key(ref: str, kind: str) -> str:
    """``"x2"`` → ``"xaxis2"``."""
    return f"{kind}axis{ref[1:]}"


def _axes(fig: dict, x0, x1, y0, y1) -> dict:
    lay, data = fig["layout"], fig["data"]
    axes = {}
    for k, spec in lay.items():
        if re.fullmatch(r"[xy]axis\d*", k):
            ref = k[0] + k[5:]
            values = []
            for t in data:
                if t.get(f"{k[0]}axis", k[0]) == ref:
                    vals = [v for v in t.get(k[0], []) if v is not None]
                    values += vals
                    err = t.get("error_x") if k[0] == "x" else None
                    if err:
                        values += [v + e for v, e in zip(t["x"], err.get("array", [])) if v is not None and e is not None]
                        values += [v - e for v, e in zip(t["x"], err.get("arrayminus", [])) if v is not None and e is not None]
            axes[k] = _Axis(spec, x0, x1, values) if k[0] == "x" else _Axis(spec, y1, y0, values)
    return axes


def _ypos(axes, y0, y1, ref: str, v: float) -> float:
    return y1 - v * (y1 - y0) if ref == "paper" else axes[_axis_key(ref, "y")].px(v)


def _xpos(axes, x0, x1, ref: str, v: float) -> float:
    return x0 + v * (x1 - x0) if ref == "paper" else axes[_axis_key(ref, "x")].px(v)


def _draw_axes(axes, font, width: float) -> tuple[list[str], list[str]]:
    """Grid lines (drawn first) and axis lines, ticks and labels (drawn last).

    A tick label of the horizontal axis is kept inside the figure's width (plotly widens its
    margin instead; the last label « 100 % » would be cut by the page otherwise).
    """
    grid, top = [], []
    for k, ax in axes.items():
        spec = ax.spec
        other = axes[_axis_key(spec.get("anchor", "y" if k[0] == "x" else "x"), "y" if k[0] == "x" else "x")]
        size = spec.get("tickfont", {}).get("size", font)
        out = 5 if spec.get("ticks") == "outside" else 0
        grey, ink = spec.get("gridcolor", "#eeeeee"), spec.get("linecolor", "#444")
        lo, hi = sorted((other.a, other.b))
        for v, label in ax.ticks:
            p = ax.px(v)
            if k[0] == "x":
                half = _width(str(label), size) / 2
                grid += [_line(p, lo, p, hi, grey)] if spec.get("showgrid") else []
                top += [_line(p, hi, p, hi + out, ink)] if out else []
                top.append(_text(min(max(p, half + 1), width - half - 1), hi + out + 3, str(label), size, "middle",
                                 valign="top"))
            else:
                grid += [_line(lo, p, hi, p, grey)] if spec.get("showgrid") else []
                top.append(_text(lo - out - 4, p, str(label), size, "end"))
        if spec.get("showline"):
            top.append(_line(ax.a, hi, ax.b, hi, ink) if k[0] == "x" else _line(lo, ax.a, lo, ax.b, ink))
    return grid, top


def _line(xa: float, ya: float, xb: float, yb: float, colour: str, width: float = 1) -> str:
    return (f'<line x1="{xa:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" stroke="{colour}"'
            + (f' stroke-width="{width:g}"/>' if width != 1 else "/>"))


def _shapes(fig, axes, x0, x1, y0, y1, layer: str) -> list[str]:
    out = []
    for s in fig["layout"].get("shapes", []):
        if s.get("layer", "above") != layer:
            continue
        xa, xb = (_xpos(axes, x0, x1, s["xref"], s[k]) for k in ("x0", "x1"))
        ya, yb = (_ypos(axes, y0, y1, s["yref"], s[k]) for k in ("y0", "y1"))
        line = s.get("line", {})
        if s["type"] == "rect":
            stroke = (f' stroke="{line.get("color", "#000")}" stroke-width="{line["width"]:g}"'
                      if line.get("width") else "")
            out.append(f'<rect x="{min(xa, xb):.1f}" y="{min(ya, yb):.1f}" width="{abs(xb - xa):.1f}" '
                       f'height="{abs(yb - ya):.1f}" fill="{s.get("fillcolor", "none")}"{stroke}/>')
        else:
            out.append(_line(xa, ya, xb, yb, line.get("color", "#000"), line.get("width", 1)))
    return out


def _one_path(t, xa, ya) -> str | None:
    """The markers of trace ``t`` as one ``<path>``, when that draws what one element per marker draws.

    So drawn: a trace whose opaque points carry no hover text and no error bar, all with one size
    and colour, either filled circles without outline (the union of the discs is what they
    paint one by one) or hollow circles (``circle-open``: the union of the white interiors, then
    every ring on top, so that overlapping rings all stay visible).  One element instead of one
    per point: at 30 quartiers a report's annex B draws about 1 900 such points, and Chromium
    prints the report with a fifth less processor.  Anything else (a translucent fill, whose
    overlaps darken; a named point): None, one element per marker.
    """
    mk, n = t.get("marker", {}), len(t.get("x", []))
    if n < 2 or any(t.get("text") or []) or t.get("error_x") or any(
            isinstance(mk.get(k), list) for k in ("color", "symbol", "size")):
        return None
    symbol, lw = mk.get("symbol") or "circle", mk.get("line", {}).get("width", 0) or 0
    if mk.get("opacity", 1.0) < 1 or not (symbol == "circle-open" or (symbol == "circle" and not lw)):
        return None
    r = float(mk.get("size") or 6) / 2
    colour = mk.get("color") or "#1f77b4"
    if symbol == "circle-open":
        r, lw = _ring(r, lw)
    curves = _circle_curves(r)
    d = "".join(_circle(xa.px(x), ya.px(y), r, curves) for x, y in zip(t["x"], t["y"]) if x is not None and y is not None)
    if symbol == "circle":
        return f'<path d="{d}" fill="{colour}"/>'
    return f'<path d="{d}" fill="#ffffff" stroke="{colour}" stroke-width="{lw:g}"/>'


#: Control-point distance of a quarter circle drawn as one cubic Bézier, in radii:
#: :math:`\kappa = \tfrac{4}{3}(\sqrt 2 - 1) \approx 0.5523`, the curve with the arc's ends, its
#: tangents there and its midpoint; « the maximum radial drift is 0.027253 % » (S. Mortensen,
#: *Approximate a circle with cubic Bézier curves*, https://spencermortensen.com/articles/bezier-circle/;
#: checked by hand in ``tests/test_svg.py``).
KAPPA = 4 * (2 ** 0.5 - 1) / 3


def _circle(x: float, y: float, r: float, curves: str | None = None) -> str:
    """The path data of a circle of centre (x, y) and radius ``r`` (:func:`_circle_curves`)."""
    return f"M{x + r:.1f} {y:.1f}{curves or _circle_curves(r)}"


def _circle_curves(r: float) -> str:
    """A circle of radius ``r`` from its rightmost point, as four relative cubic Bézier curves.

    Chromium writes a ``<circle>``, or an SVG arc (``a``) for each half, into the PDF as
    sixteen cubic curves: 0.47–0.78 MB of page content for each page of annex B at 30
    quartiers, up to 0.9 MB for a page of the synthesis.  Four curves (:data:`KAPPA`; the
    second to fourth as ``s``, whose first control point mirrors the previous one) draw the
    same circle: 0.0008 px off at r = 3, and numbers rounded to three digits (under 0.01 px).
    In a 30-quartier build a report's PDF went from 699 to 491 KB and the synthesis's from 1 620
    to 1 546 KB; printed alone, Chromium spent 10 % less processor on a report and 6 % less on
    the synthesis, :func:`~diagnostics.io.pdf.finish_pdf` a third and a sixth less.
    """
    k = KAPPA * r
    return (f"c0 {k:.3g} {k - r:.3g} {r:.3g} {-r:.3g} {r:.3g}s{-r:.3g} {k - r:.3g} {-r:.3g} {-r:.3g}"
            f"s{r - k:.3g} {-r:.3g} {r:.3g} {-r:.3g}s{r:.3g} {r - k:.3g} {r:.3g} {r:.3g}z")


def _traces(fig, axes) -> list[str]:
    out = []
    for t in fig["data"]:
        xa, ya = axes[_axis_key(t.get("xaxis", "x"), "x")], axes[_axis_key(t.get("yaxis", "y"), "y")]
        merged = _one_path(t, xa, ya)
        if merged is not None:
            out.append(merged)
            continue
        mk = t.get("marker", {})
        n = len(t.get("x", []))
        per = {k: (mk.get(k) if isinstance(mk.get(k), list) else [mk.get(k)] * n) for k in ("color", "symbol", "size")}
        texts = t.get("text") or [""] * n
        err = t.get("error_x")
        for i, (x, y) in enumerate(zip(t["x"], t["y"])):
            if x is None or y is None:
                continue
            px, py = xa.px(x), ya.px(y)
            parts = []
            if err and err.get("array") and err["array"][i] is not None:
                lo, hi = xa.px(x - (err["arrayminus"][i] or 0)), xa.px(x + (err["array"][i] or 0))
                c, th, cap = err.get("color", "#000"), err.get("thickness", 2), err.get("width", 4)
                parts.append(f'<path d="M{lo:.1f} {py:.1f}H{hi:.1f}M{lo:.1f} {py - cap:.1f}V{py + cap:.1f}'
                             f'M{hi:.1f} {py - cap:.1f}V{py + cap:.1f}" stroke="{c}" stroke-width="{th:g}" fill="none"/>')
            line = mk.get("line", {})
            parts.append(_marker(per["symbol"][i] or "circle", px, py, float(per["size"][i] or 6),
                                 per["color"][i] or "#1f77b4", line.get("color", "#000000"), line.get("width", 0),
                                 mk.get("opacity", 1.0)))
            out.append(_titled(parts, texts[i]))
    return out


def _titled(parts: list[str], text) -> str:
    """A point's elements with its hover text (``<title>``): inside the element when it is one
    (an element fewer per point: a 30-quartier report draws about 4 000 points)."""
    if not text:
        return "".join(parts)
    title = f"<title>{escape(unescape(str(text)))}</title>"
    m = re.fullmatch(r"<(\w+)([^<>]*)/>", parts[0]) if len(parts) == 1 else None
    if m:
        return f"<{m.group(1)}{m.group(2)}>{title}</{m.group(1)}>"
    return f"<g>{title}{''.join(parts)}</g>"


def _annotations(fig, axes, x0, x1, y0, y1, font) -> list[str]:
    out = []
    for a in fig["layout"].get("annotations", []):
        x = 1.0 if a.get("edge") else _xpos(axes, x0, x1, a.get("xref", "paper"), a["x"])
        y = _ypos(axes, y0, y1, a.get("yref", "paper"), a["y"])
        anchor = {"left": "start", "right": "end", "center": "middle"}.get(a.get("xanchor", "center"), "middle")
        x += {"start": 3, "end": -3}.get(anchor, 0)
        valign = {"bottom": "bottom", "top": "top"}.get(a.get("yanchor", "middle"), "middle")
        f = a.get("font", {})
        out.append(_text(x, y, a["text"], f.get("size", font), anchor, f.get("color", "#222222"), valign))
    return out


def _legend(fig, x0, y1, inner: float, width: float, font) -> tuple[list[str], float]:
    """The legend's items in rows below the plot (plotly's horizontal legend), and its bottom."""
    lay = fig["layout"]
    if not lay.get("showlegend"):
        return [], 0.0
    items = [t for t in fig["data"] if t.get("showlegend", True) and t.get("name")]
    leg = lay.get("legend", {})
    x, y = x0, y1 + (-leg.get("y", 0)) * inner
    out, row_h = [], 22
    for t in items:
        w = 34 + _width(t["name"], font) + 16
        if x > x0 and x + w > width:
            x, y = x0, y + row_h
        mk = t.get("marker", {})
        sym = mk.get("symbol") if isinstance(mk.get("symbol"), str) else "circle"
        size = min(float(mk.get("size", 8) if not isinstance(mk.get("size"), list) else 8), 14)
        colour = mk.get("color") if isinstance(mk.get("color"), str) else "#444444"
        out.append(_marker(sym, x + 14, y + row_h / 2, size, colour, mk.get("line", {}).get("color", colour),
                           mk.get("line", {}).get("width", 0), mk.get("opacity", 1.0)))
        out.append(_text(x + 34, y + row_h / 2, t["name"], font))
        x += w
    return out, (y + row_h if out else 0.0)


def figure_svg(fig: dict, width: float, *, css_class: str = "") -> str:
    """One SVG of ``fig`` (a plotly.js specification of :mod:`charts`) drawn ``width`` px wide.

    Below 560 px the layout is the phone's (:func:`_narrow`).  The drawing order is plotly's:
    grid, shapes below the traces, traces (error bars, then markers), shapes above, axes and
    labels, annotations, legend.
    """
    if width < 560:
        fig = _narrow(fig, width)
    lay = fig["layout"]
    m, height = lay["margin"], float(lay["height"])
    font = lay.get("font", {}).get("size", 11)
    x0, x1, y0, y1 = m["l"], width - m["r"], m["t"], height - m["b"]
    axes = _axes(fig, x0, x1, y0, y1)
    grid, labels = _draw_axes(axes, font, width)
    legend, bottom = _legend(fig, x0, y1, y1 - y0, width, font)
    height = max(height, bottom + 4)   # a legend wrapped on a second row lengthens the figure
    body = (grid + _shapes(fig, axes, x0, x1, y0, y1, "below") + _traces(fig, axes)
            + _shapes(fig, axes, x0, x1, y0, y1, "above") + labels
            + _annotations(fig, axes, x0, x1, y0, y1, font) + legend)
    cls = f' class="{css_class}"' if css_class else ""
    return (f'<svg{cls} xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" width="{width:g}" '
            f'height="{height:g}" font-family="{_FAMILY}" font-size="{font:g}">'
            f'<rect width="100%" height="100%" fill="#ffffff"/>{"".join(body)}</svg>')


def figure_html(fig: dict | None, fig_id: str, width: float) -> Markup:
    """The figure's block: its accessible name, the page-width drawing and the phone's.

    The container is ``role="img"`` with an ``aria-label`` that lists every value the figure
    shows (its drawings are then presentational), and the report's style sheet shows the
    phone's below 600 px of screen only (never in print).
    """
    if fig is None:
        return Markup("")
    alt = escape(fig.get("alt") or "Graphique")
    return Markup(f'<div id="{fig_id}" class="graphique" role="img" aria-label="{alt}">'
                  f'{figure_svg(fig, width, css_class="large")}'
                  f'{figure_svg(fig, NARROW_WIDTH, css_class="etroit")}</div>')
