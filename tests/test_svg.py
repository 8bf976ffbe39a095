"""The SVG drawing of the report's figures (diagnostics.publish.svg), checked by hand calculation."""
import re

import numpy as np

from diagnostics.publish.svg import NARROW_WIDTH, _nice_step, figure_html, figure_svg


def _fig(**layout):
    lay = {"height": 100, "margin": {"l": 10, "r": 10, "t": 0, "b": 0}, "font": {"size": 11},
           "xaxis": {"domain": [0, 1], "anchor": "y", "range": [0, 10], "tickvals": [], "ticktext": []},
           "yaxis": {"domain": [0, 1], "anchor": "x", "range": [1.5, -0.5], "tickvals": [0, 1],
                     "ticktext": ["premier", "second"]}}
    lay.update(layout)
    data = [{"type": "scatter", "mode": "markers", "x": [5, 10], "y": [0, 1], "text": ["a <b>", "b"],
             "marker": {"size": 10, "color": "#0072B2", "symbol": "circle"}}]
    return {"data": data, "layout": lay, "alt": "Deux points"}


def test_points_land_where_a_hand_calculation_puts_them():
    # plot area x 10..110 (width 120 less 10 + 10): x = 5 of [0, 10] is at 10 + 100 * 5/10 = 60;
    # rows on a reversed axis [1.5, -0.5] over 100 px: row 0 at 100 - 100 * (0 - 1.5)/(-0.5 - 1.5) = 25,
    # row 1 at 75
    svg = figure_svg(_fig(), 600)
    # at 600 px the plot spans 10..590: x = 5 at 300, x = 10 at 590
    # each a circle of radius 5 (size 10) from its rightmost point (see the ring test below)
    assert '<path d="M305.0 25.0c0 2.76 ' in svg and '<path d="M595.0 75.0c0 2.76 ' in svg
    # row labels right-aligned 4 px left of the plot, one per row
    assert re.search(r'<text text-anchor="end" fill="#222222"><tspan x="6.0"[^>]*>premier</tspan>', svg)


def test_text_is_never_markup_and_each_point_keeps_its_title():
    svg = figure_svg(_fig(), 600)
    assert "<b>" not in svg and "<title>a &lt;b&gt;</title>" in svg
    html = figure_html(_fig(), "fig-x", 600)
    assert 'role="img" aria-label="Deux points"' in html
    assert html.count("<svg") == 2 and 'class="large"' in html and 'class="etroit"' in html


def test_automatic_axis_ticks_are_round_and_french():
    # values up to 78 (%), from zero: a step of 20 for a ~580 px axis (at most one tick per 90 px)
    assert _nice_step(82, 6) == 20 and _nice_step(0.9, 4) == 0.25 and _nice_step(7, 3) == 2.5   # 7/3 = 2,33 -> 2,5
    fig = _fig(xaxis={"domain": [0, 1], "anchor": "y", "rangemode": "tozero", "ticksuffix": " %",
                      "showline": True, "ticks": "outside"})
    fig["data"][0]["x"] = [2.5, 78.0]
    svg = figure_svg(fig, 600)
    assert [t for t in re.findall(r">(\d+ %)</tspan>", svg)] == ["0 %", "20 %", "40 %", "60 %", "80 %"]
    fig["data"][0]["x"] = [1.2, 2.1]
    labels = re.findall(r'font-size="11">([\d,]+) %</tspan>', figure_svg(fig, 600))
    assert labels == ["0", "0,5", "1", "1,5", "2"]   # a step of 0,5 over 0..2,1 %, no « 0,0 »


def test_the_phone_layout_narrows_the_margins_and_the_legend_wraps():
    fig = _fig(margin={"l": 300, "r": 118, "t": 0, "b": 40}, showlegend=True, legend={"y": -0.3})
    fig["data"] = [dict(fig["data"][0], name=f"Référence numéro {k}", showlegend=True) for k in range(6)]
    svg = figure_svg(fig, NARROW_WIDTH)
    # the row labels end at 0.46 x 340 = 156 px less 4, whatever the wide margin
    assert '<tspan x="152.0"' in svg
    height = float(re.search(r'viewBox="0 0 340 ([\d.]+)"', svg).group(1))
    assert height > 100   # six legend items do not fit in one row of 340 px: the figure grows


def test_a_translucent_marker_is_painted_with_alpha_never_as_a_group():
    # ``opacity`` on an element makes Chromium print it as a transparency group (a form XObject
    # per dot: 1 946 in a 30-quartier report); the alpha of the paint draws the same dot
    fig = _fig()
    fig["data"][0]["marker"].update(opacity=0.75)
    svg = figure_svg(fig, 600)
    assert ' opacity="' not in svg
    assert svg.count('fill-opacity="0.75"') == 2 and "stroke-opacity" not in svg   # no stroke drawn
    fig["data"][0]["marker"].update(symbol="circle-open", line={"width": 2})
    assert figure_svg(fig, 600).count('stroke-opacity="0.75"') == 2


def test_unnamed_rings_are_one_path_and_named_or_translucent_dots_stay_apart():
    # annex B's other quartiers: rings without a name, drawn as one path (one element instead of
    # about 1 900 at 30 quartiers); the same positions as one element each, by hand: at 600 px the
    # plot spans 10..590, x = 5 at 300 and x = 10 at 590, rows at 25 and 75 (see above)
    fig = _fig()
    fig["data"][0].update(text=[])
    fig["data"][0]["marker"].update(symbol="circle-open", line={"width": 1.2}, color="#767676")
    svg = figure_svg(fig, 600)
    # size 10: radius 5 less half the 1.2 px ring = 4.4; each ring four cubic curves from its
    # rightmost point, control points at 4.4 × 0.55228 = 2.43 (2.43 - 4.4 = -1.97)
    ring = "c0 2.43 -1.97 4.4 -4.4 4.4s-4.4 -1.97 -4.4 -4.4s1.97 -4.4 4.4 -4.4s4.4 1.97 4.4 4.4z"
    assert f'<path d="M304.4 25.0{ring}M594.4 75.0{ring}" fill="#ffffff" stroke="#767676" stroke-width="1.2"/>' in svg
    assert svg.count("<path d=\"M") == 1   # one element for the two rings
    # opaque discs without outline: their union is what they paint one by one (5 × 0.55228 = 2.76)
    fig["data"][0]["marker"].update(symbol="circle", line={"width": 0})
    assert '<path d="M305.0 25.0c0 2.76 -2.24 5 -5 5s-5 -2.24 -5 -5s2.24 -5 5 -5s5 2.24 5 5zM595.0 75.0' \
        in figure_svg(fig, 600)
    # a named point keeps its own element and title; a translucent dot too (overlaps darken)
    named = _fig()
    named["data"][0]["marker"].update(symbol="circle-open", line={"width": 1.2})
    assert figure_svg(named, 600).count("<title>") == 2
    fig["data"][0]["marker"].update(opacity=0.75)
    assert figure_svg(fig, 600).count('<path d="M') == 2
    fig["data"][0]["marker"].update(symbol="circle-open", line={"width": 1.2})   # translucent rings too
    assert figure_svg(fig, 600).count('<path d="M') == 2


def test_a_ring_of_four_cubic_curves_stays_on_its_circle():
    # Mortensen (https://spencermortensen.com/articles/bezier-circle/): with control points at
    # 4/3 (sqrt 2 - 1) radii, « the maximum radial drift is 0.027253 % », outward only; the quarter
    # from (1, 0) to (0, 1) sampled by hand, control points (1, k) and (k, 1)
    from diagnostics.publish.svg import KAPPA

    k, t = KAPPA, np.linspace(0, 1, 100_001)
    x = (1 - t) ** 3 + 3 * (1 - t) ** 2 * t + 3 * (1 - t) * t ** 2 * k
    y = 3 * (1 - t) ** 2 * t * k + 3 * (1 - t) * t ** 2 + t ** 3
    drift = np.hypot(x, y) - 1
    assert drift.min() > -1e-12 and abs(drift.max() - 0.00027253) < 5e-9


def test_a_label_never_breaks_a_number_at_its_thousands_separator():
    # the phone's annex B printed « (pour 1 » on one line and « 000) » on the next
    from diagnostics.publish.svg import wrap_label

    assert wrap_label("Passages aux urgences (pour 1 000)", 22) == \
        "Passages aux urgences<br>(pour 1\u202f000)"
    assert wrap_label("Année 2021 : 12 500 passages", 40) == "Année 2021 : 12\u202f500 passages"
    assert wrap_label("de 3 à 1000 ans", 40) == "de 3 à 1000 ans"   # no separator: unchanged
