"""Colours that carry a verdict: at least 3:1 between « mieux », « moins bien » and « similaire »
(WCAG 2.1, 1.4.11), text at least 4.5:1 on each badge (1.4.3); the charts use the report's colours."""
import itertools
import re

import pytest

from diagnostics.paths import template_dir
from diagnostics.publish.display import VERDICT_COLOURS


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio (L1 + 0.05) / (L2 + 0.05) of two ``#rrggbb`` colours, with the relative
    luminance L = 0.2126 R + 0.7152 G + 0.0722 B of the linearised sRGB channels
    (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio, #dfn-relative-luminance)."""
    def lum(h):
        c = [int(h.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_on_known_pairs():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    # #767676 on white is the lightest grey that passes 4.5:1 (WebAIM's contrast checker: 4.54:1)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.005)


def _css_vars() -> dict[str, str]:
    css = (template_dir() / "report.css").read_text(encoding="utf-8")
    return dict(re.findall(r"--(v-[a-z-]+):\s*(#[0-9A-Fa-f]{6})", css))


def test_verdict_colours_are_distinct_and_readable():
    css = _css_vars()
    colours = {"mieux": css["v-mieux"], "moins bien": css["v-moins-bien"], "similaire": css["v-similaire"]}
    for (a, ca), (b, cb) in itertools.combinations(colours.items(), 2):
        assert contrast(ca, cb) >= 3, (a, b, round(contrast(ca, cb), 2))
    # the badge text: white on « mieux », black on the two others (report.css)
    assert contrast(colours["mieux"], "#ffffff") >= 4.5
    assert contrast(colours["moins bien"], "#000000") >= 4.5 and contrast(colours["similaire"], "#000000") >= 4.5
    # the spine charts' dots are the badges' colours
    for verdict, colour in colours.items():
        assert VERDICT_COLOURS[verdict].lower() == colour.lower(), verdict
