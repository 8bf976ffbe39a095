"""The « Évolution depuis le diagnostic de … » page, the previous-value markers and the series."""
import re

import numpy as np
import pandas as pd
import pytest
from report_fixture import make_table

from diagnostics.config.project import load_project
from diagnostics.engine.evolution import EVOLUTION_COLUMNS, SERIES_COLUMNS, TREND_COLUMNS
from diagnostics.publish import charts, report
from diagnostics.publish.evolution_view import (
    evolution_view,
    previous_values,
    sparkline_svg,
)


def _evolution():
    rows = []
    for iid, label, unit, direction, cur, prev, verdict, note in [
        ("renoncement", "Renoncement à des soins", "%", "hausse_defavorable", 0.32, 0.21, "en dégradation", ""),
        ("who5_moyen", "Score de bien-être WHO-5", "score", "hausse_favorable", 58.0, 52.0, "en amélioration", ""),
        ("solitude", "Sentiment de solitude", "%", "hausse_defavorable", 0.22, 0.20, "pas d'écart significatif", ""),
        ("insecurite", "Insécurité", "%", "hausse_defavorable", 0.15, np.nan, "non comparable",
         "question modifiée depuis le diagnostic de 2017 (« Vous arrive-t-il de vous sentir en insécurité ? »)"),
    ]:
        r = dict.fromkeys(EVOLUTION_COLUMNS, np.nan)
        d = cur - prev
        r.update(quartier="Biollay", indicator_id=iid, label=label, dimension="x", unit=unit, direction=direction,
                 previous_year="2017", estimate=cur, estimate_previous=prev, difference=d,
                 diff_ci_low=d - 0.05 if unit == "%" else d - 3, diff_ci_high=d + 0.05 if unit == "%" else d + 3,
                 p_value=0.01 if verdict.startswith("en ") else 0.4, verdict=verdict, note=note)
        rows.append(r)
    return pd.DataFrame(rows, columns=EVOLUTION_COLUMNS)


def _series():
    years = ["2018", "2019", "2020", "2021"]
    s = pd.DataFrame({"quartier": "Biollay", "indicator_id": "css", "year": years,
                      "estimate": [0.25, 0.27, np.nan, 0.31], "ci_low": np.nan, "ci_high": np.nan,
                      "numerator": np.nan, "denominator": np.nan, "masked": [False, False, True, False]},
                     columns=SERIES_COLUMNS)
    t = pd.DataFrame([{"quartier": "Biollay", "indicator_id": "css", "label": "Bénéficiaires de la CSS", "unit": "%",
                       "direction": "neutre", "years": 3, "first_year": "2018", "last_year": "2021",
                       "method": "khi-deux", "statistic": 9.1, "p_value": 0.0026, "slope": 0.02,
                       "trend": "en hausse", "verdict": "en hausse"}], columns=TREND_COLUMNS)
    return s, t


def test_evolution_view_groups_and_formats():
    s, t = _series()
    v = evolution_view(_evolution(), "Biollay", series=s, trends=t)
    assert v["title"] == "Évolution depuis le diagnostic de 2017"
    assert [g["verdict"] for g in v["groups"]] == ["en dégradation", "en amélioration", "pas d'écart significatif"]
    r = v["groups"][0]["rows"][0]
    # 32 % − 21 % = +11,0 points, interval ± 5 points, p = 0,010
    assert (r["previous"], r["current"], r["difference"]) == ("21,0\u202f%", "32,0\u202f%", "+11,0 points")
    assert (r["ci"], r["p"]) == ("[6,0 ; 16,0]", "p = 0,010")
    assert v["groups"][1]["rows"][0]["difference"] == "+6,0"
    assert [x["label"] for x in v["not_comparable"]] == ["Insécurité"]
    (ser,) = v["series"]
    assert [c["value"] for c in ser["cells"]] == ["25,0\u202f%", "27,0\u202f%", "s", "31,0\u202f%"]
    assert ser["arrow"] == "▲" and "<svg" in ser["spark"] and ser["p"] == "p = 0,003"
    assert evolution_view(None, "Biollay") is None
    assert previous_values(_evolution(), "Biollay") == {"renoncement": 0.21, "who5_moyen": 52.0, "solitude": 0.20}


def test_sparkline_scales_the_values():
    svg = sparkline_svg([1.0, None, 3.0], width=100, height=20)
    # x from 4 to 96, y from 16 (lowest) to 4 (highest); the masked year is skipped
    assert 'd="M4.0,16.0 L96.0,4.0"' in svg and 'cx="96.0" cy="4.0"' in svg
    assert sparkline_svg([2.0]) == ""
    assert "&lt;b&gt;" in sparkline_svg([1, 2], label="<b>")


@pytest.fixture(scope="module")
def project():
    return load_project()


def test_spine_chart_marks_the_previous_value(project):
    t = make_table()
    fig = charts.spine_chart(t, "Biollay", "soins", project, previous={"renoncement": 0.21})
    (prev,) = [d for d in fig["data"] if d["marker"].get("symbol") == "diamond-open"]
    dots = next(d for d in fig["data"] if d["marker"].get("symbol") != "diamond-open")
    assert len(prev["x"]) == 1 and "diagnostic précédent : 21,0" in prev["text"][0]
    # a fall of a « hausse défavorable » indicator is drawn to the right (better) of today's dot (32 %)
    k = prev["y"][0]
    assert prev["x"][0] > dots["x"][dots["y"].index(k)]
    assert "diagnostic précédent" in fig["alt"]
    none = charts.spine_chart(t, "Biollay", "soins", project)
    assert not [d for d in none["data"] if d["marker"].get("symbol") == "diamond-open"]


def test_report_has_the_evolution_page(project):
    s, t = _series()
    html = report.render_quartier(project, "Biollay", make_table(), generated="01/01/2023",
                                  evolution={"evolution": _evolution(), "series": s, "trends": t})
    assert 'id="evolution"' in html and "Évolution depuis le diagnostic de 2017" in html
    page = html[html.index('id="evolution"'):html.index('id="lire"')]
    assert "+11,0 points" in page and "non comparable" in page and "class=\"sparkline\"" in page
    assert page.index('<span class="badge moins-bien">en dégradation</span></td>') < \
        page.index('<span class="badge mieux">en amélioration</span></td>')
    # « pas d'écart significatif », never « stable » (issue 27); years in every column header
    assert "pas d&#39;écart significatif</span> 1 indicateur." in page and "Sentiment de solitude" not in page
    assert ">stable<" not in page
    assert '<th scope="col" class="nombre">2017</th><th scope="col" class="nombre">2022</th>' in page
    # every compared indicator, the stable ones included, in annex F
    annex = html[html.index('id="annexe-evolution"'):]
    assert "Annexe E. Évolution depuis le diagnostic de 2017" in annex and "Sentiment de solitude" in annex
    assert "question modifiée depuis le diagnostic de 2017" in annex
    # the previous value on the spine charts: a hollow diamond, its value in the point's title
    assert re.search(r'<polygon points="[^"]+" fill="none"[^>]*><title>Biollay, diagnostic précédent : [^<]+</title>', html)
    plain = report.render_quartier(project, "Biollay", make_table(), generated="01/01/2023")
    assert 'id="evolution"' not in plain and "Annexe E." not in plain


def test_analyst_workbook_has_the_evolution_and_trend_sheets(tmp_path):
    """indicateurs.xlsx: sheets « Évolution » and « Tendances », percentages as Excel percentages."""
    from openpyxl import load_workbook

    from diagnostics.publish.indicator_table import write_analyst_table

    series, trends = _series()
    evo = _evolution()
    evo.loc[0, "note"] = "=HYPERLINK(\"http://x\")"          # text from a file stays text
    out = write_analyst_table(make_table(), tmp_path, evolution={"evolution": evo, "trends": trends})
    wb = load_workbook(out["xlsx"])
    assert wb.sheetnames[:3] == ["Indicateurs", "Évolution", "Tendances"]
    ws = wb["Évolution"]
    head = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(head, ws[2])}
    assert row["Indicateur"].value == "Renoncement à des soins" and row["Évolution"].value == "en dégradation"
    assert row["Valeur précédente"].value == pytest.approx(0.21) and row["Valeur précédente"].number_format == "0.0%"
    assert row["Écart (en points pour les %)"].value == pytest.approx(0.11)       # 32 % − 21 %
    assert row["Note"].data_type == "s"                  # stored as text, never a live formula
    score = {h: c for h, c in zip(head, ws[3])}
    assert score["Valeur actuelle"].value == 58.0 and score["Valeur actuelle"].number_format == "0.0"
    assert {h: c.value for h, c in zip(head, ws[5])}["Note"].startswith("question modifiée")
    t = wb["Tendances"]
    trow = {c.value: v.value for c, v in zip(t[1], t[2])}
    assert (trow["Tendance"], trow["p (tendance)"], trow["Nombre d'années"]) == ("en hausse", 0.0026, 3)
    csv = out["evolution_csv"].read_text(encoding="utf-8-sig").splitlines()
    assert csv[0].startswith("Quartier;Dimension;Indicateur")
    # French CSV: percentages on the 0-100 scale, decimal comma; previous 21, current 32, gap 11 [6 ; 16]
    assert ";2017;21,0;;;;32,0;11,0;6,0;16,0;0,01;;en dégradation;" in csv[1]   # p, adjusted p (none here)
    assert "'=HYPERLINK" in csv[1]                          # neutralised as the house CSV writer does


def test_synthesis_has_the_evolution_overview(project):
    """The synthesis: per quartier the count of each verdict, then the indicators that changed."""
    evo = _evolution()
    other = evo.copy()
    other["quartier"] = "Bellevue"
    other["verdict"] = ["pas d'écart significatif", "pas d'écart significatif", "en dégradation", "non comparable"]
    html = report.render_synthesis(project, make_table(), generated="01/01/2023",
                                   evolution={"evolution": pd.concat([evo, other], ignore_index=True)})
    page = html[html.index('id="evolution"'):html.index('id="qualitatif"')]
    assert "Évolution depuis le diagnostic de 2017" in page
    # Biollay: 1 worse, 1 better, 0 without direction, 1 stable, 1 not comparable
    row = re.search(r'<th scope="row">Biollay</th>((?:<td class="nombre">\d+</td>){5})', page).group(1)
    assert re.findall(r">(\d+)<", row) == ["1", "1", "0", "1", "1"]
    # changed somewhere: renoncement (Biollay worse), who5 (Biollay better), solitude (Bellevue worse)
    changed = page[page.index("ont changé significativement"):]
    assert changed.index("Renoncement à des soins") < changed.index("Score de bien-être WHO-5")
    assert "Sentiment de solitude" in changed and "Insécurité" not in changed
    assert "+11,0 points" in changed and "+2,0 points" in changed     # 22 % − 20 % at Bellevue
    no_prev = report.render_synthesis(project, make_table(), generated="01/01/2023")
    assert 'id="evolution"' not in no_prev
