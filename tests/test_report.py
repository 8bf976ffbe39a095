"""Report rendering: formatting, key findings, spine-chart geometry, escaping, offline HTML."""
import json
import re

import numpy as np
import pandas as pd
import pytest
from report_fixture import make_table

from diagnostics.collect.actors import load_actors
from diagnostics.collect.interviews import load_interviews
from diagnostics.config.project import load_project
from diagnostics.config.questionnaire import load_dimensions
from diagnostics.paths import EXAMPLE
from diagnostics.publish import charts, display, findings, report

NB = "\u202f"
QUARTIERS = {"biollay": "Biollay", "hauts_de_chambery": "Hauts-de-Chambéry", "bellevue": "Bellevue"}


@pytest.fixture(scope="module")
def project():
    return load_project()


@pytest.fixture(scope="module")
def table():
    return make_table()


def test_formatting():
    assert display.format_value(0.125, "%") == f"12,5{NB}%"
    assert display.format_value(420.04, "pour 1 000") == "420,0 pour 1 000"  # the catalogue's unit, as written
    assert display.format_value(420.04, "pour 1 000", with_unit=False) == "420,0"
    assert display.format_value(52.0, "score") == "52,0"
    assert display.format_value(12345.6, "pour 100 000") == f"12{NB}346 pour 100 000"
    assert display.format_value(np.nan, "%") == "–" and display.format_value(pd.NA, "%") == "–"
    assert display.format_interval(0.102, 0.149, "%") == "[10,2 ; 14,9]"
    assert display.format_interval(396.7, 444.3, "pour 1 000") == "[396,7 ; 444,3]"


def test_key_findings_biollay(table, project):
    f = findings.key_findings(table, "Biollay", project)
    sentences = [x["sentence"] for x in f["worse"]]
    # hand check: CI [25 ; 40] % excludes Chambéry 18 % (the central reference), a rise is unfavourable;
    # one comparator only, even though France (16 %) is known too
    assert (f"Renoncement à des soins au cours des 12 derniers mois : 32,0{NB}% [25,0 ; 40,0] au Biollay — "
            f"moins favorable que Chambéry (18,0{NB}%).") in sentences
    # largest relative gap with Chambéry first: humidité 22 vs 12 % (+83 %), renoncement 32 vs 18 % (+78 %),
    # santé mauvaise 15 vs 9 % (+67 %), solitude 30 vs 20 % (+50 %), WHO-5 50,2 vs 58 (-13 %),
    # médecin traitant 81 vs 90 % (-10 %)
    assert [x["label"] for x in f["worse"]] == [
        "Logement humide ou avec moisissures", "Renoncement à des soins au cours des 12 derniers mois",
        "Santé perçue mauvaise ou très mauvaise", "Sentiment de solitude (score ≥ 6)",
        "Score de bien-être WHO-5 (sur 100)", "Médecin traitant déclaré"]
    assert f["better"] == []
    assert f["n_indicators"] == 13 and f["n_fragile"] == 1 and f["n_suppressed"] == 0
    # « À retenir »: every dimension with an indicator, worst first; every row has its interval
    dims = {d["id"]: d for d in f["dimensions"]}
    assert list(dims) == ["droits", "soins", "prevention", "sante_percue", "lien_social", "services",
                          "nuisances", "logement", "securite"]
    assert [x["id"] for x in dims["soins"]["rows"]] == ["renoncement", "medecin_traitant"]
    assert all(x["ci"].startswith("[") for d in f["dimensions"] for x in d["rows"])
    # no reference and no « Ensemble » row: the figure is stated plainly
    (ers,) = dims["services"]["rows"]
    assert ers["verdict"]["kind"] == "seul" and ers["verdict"]["verdict"] is None
    assert ers["sentence"] == (f"Connaît l'Espace Ressource Santé : 35,0{NB}% [27,0 ; 43,0] au Biollay — "
                               "aucune référence publiée : chiffre à lire avec son intervalle.")


def test_one_verdict_per_indicator(table, project):
    """Hauts-de-Chambéry once listed the same figure as both « moins » and « plus favorable »."""
    t = table.copy()
    sel = (t["quartier"] == "Hauts-de-Chambéry") & (t["indicator_id"] == "medecin_traitant")
    t.loc[sel, ["cmp_commune", "cmp_france", "cmp_ensemble"]] = ["moins bien", "mieux", "mieux"]
    f = findings.key_findings(t, "Hauts-de-Chambéry", project)
    assert "Médecin traitant déclaré" in [x["label"] for x in f["worse"]]
    assert "Médecin traitant déclaré" not in [x["label"] for x in f["better"]]
    # without a reference, the « Ensemble » row (61 % [53 ; 69] vs 38,7 %) contains the quartier: it is
    # context, said to include it, never a verdict (issue 27)
    ens = t[t["indicator_id"] == "connait_ers"].iloc[[0]].assign(quartier="Ensemble des trois quartiers",
                                                                 estimate=0.387, ci_low=0.34, ci_high=0.43, n=380)
    f = findings.key_findings(pd.concat([t, ens], ignore_index=True), "Hauts-de-Chambéry", project)
    assert "connait_ers" not in [x["id"] for x in f["better"] + f["worse"]]
    (ers,) = [x for d in f["dimensions"] for x in d["rows"] if x["id"] == "connait_ers"]
    assert ers["verdict"]["verdict"] is None
    assert ers["sentence"].endswith(f"non comparé à l'ensemble des quartiers enquêtés, "
                                    f"Hauts-de-Chambéry compris (38,7{NB}%).")
    # with the rest of the quartiers (quartier left out) and its test, that is the comparator
    t2 = pd.concat([t, ens], ignore_index=True)
    sel = (t2["quartier"] == "Hauts-de-Chambéry") & (t2["indicator_id"] == "connait_ers")
    t2.loc[sel, ["ref_reste", "p_reste", "cmp_reste"]] = [0.30, 0.0004, "mieux"]
    (ers,) = [x for x in findings.key_findings(t2, "Hauts-de-Chambéry", project)["better"]
              if x["id"] == "connait_ers"]
    assert ers["sentence"].endswith(f"plus favorable que les deux autres quartiers enquêtés "
                                    f"(30,0{NB}%, écart testé, p < 0,001).")
    t2.loc[sel, ["p_reste", "cmp_reste"]] = [0.31, "similaire"]
    h = findings.headline(t2[sel].iloc[0].to_dict(), {"estimate": 0.387, "suppressed": False}, project)
    assert h["text"] == f"comparable aux deux autres quartiers enquêtés (30,0{NB}%, écart testé, p = 0,31)"


def test_neutral_gap_is_context_and_fragile_flagged(table, project):
    t = table.copy()
    sel = (t["quartier"] == "Biollay") & (t["indicator_id"] == "css")
    t.loc[sel, "cmp_commune"] = "plus élevé"  # 31 % [29 ; 33] vs 12 %: a gap without a favourable direction
    sel = (t["quartier"] == "Biollay") & (t["indicator_id"] == "depistage_colorectal")
    t.loc[sel, ["ci_high", "cmp_commune"]] = [0.30, "moins bien"]
    f = findings.key_findings(t, "Biollay", project)
    (css,) = f["context"]
    assert css["sentence"].endswith(f"plus élevé que Chambéry (12,0{NB}%) — contexte, sans sens favorable.")
    assert "css" not in [x["id"] for x in f["worse"] + f["better"]]
    assert any(x["id"] == "depistage_colorectal" and x["sentence"].endswith("(estimation fragile).")
               for x in f["worse"])
    fb = findings.key_findings(table, "Bellevue", project)
    assert fb["n_suppressed"] == 1
    assert not any(x["id"] == "depistage_colorectal" for d in fb["dimensions"] for x in d["rows"])


def test_statement_markdown_is_rendered_without_markup(tmp_path):
    md = tmp_path / "biollay.md"
    md.write_text("## Points forts\n\n- Un réseau associatif <script>alert(1)</script>\n\n## Pistes d'action\n\n"
                  "1. Permanence CSS\n", encoding="utf-8")
    html = report.render_statement(md)
    assert "<h4>Points forts</h4>" in html and "<li>Permanence CSS</li>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert report.render_statement(tmp_path / "absent.md") == ""


def test_spine_chart_geometry(table, project):
    fig = charts.spine_chart(table, "Biollay", "soins", project)
    (dots,) = [t for t in fig["data"] if t.get("showlegend") is False]
    assert dots["y"] == [0, 1]
    # renoncement (row 0): ref 18 %, values 32/21/26 %, refs 18/16 % → spread 14 points;
    # s = -(32 - 18)/14 = -1 (left = unfavourable), vermilion (« moins bien »)
    assert dots["x"][0] == pytest.approx(-1.0)
    assert dots["marker"]["color"][0] == display.VERDICT_COLOURS["moins bien"]
    # médecin traitant (row 1): ref 90 %, values 81/92/85 %, refs 90/91/90/89 % → spread 9 points
    assert dots["x"][1] == pytest.approx((0.81 - 0.90) / 0.09)
    rects = [s for s in fig["layout"]["shapes"] if s["type"] == "rect" and s["y0"] < 1 < s["y1"]]
    quartier_band = max(rects, key=lambda s: s["y1"] - s["y0"])
    assert (quartier_band["x0"], quartier_band["x1"]) == pytest.approx((-1.0, (0.92 - 0.90) / 0.09))
    fig_h = charts.spine_chart(table, "Hauts-de-Chambéry", "soins", project)
    (dots_h,) = [t for t in fig_h["data"] if t.get("showlegend") is False]
    assert dots_h["x"][1] == pytest.approx((0.92 - 0.90) / 0.09)
    assert dots_h["marker"]["color"][1] == display.VERDICT_COLOURS["similaire"]
    # the comparator is named on each row, at its right
    assert [a["text"].split("<br>")[0] for a in fig["layout"]["annotations"]] == [f"32,0{NB}%", f"81,0{NB}%"]
    assert all("vs Chambéry" in a["text"] for a in fig["layout"]["annotations"])
    # neutral indicators (ALD) are off the favourable axis: a panel of their own, « plus bas / plus élevé »
    fig_l = charts.spine_chart(table, "Biollay", "logement", project)
    assert [t["xaxis"] for t in fig_l["data"]] == ["x", "x2"]
    assert fig_l["layout"]["xaxis2"]["ticktext"] == ["◀ plus bas", "comparateur", "plus élevé ▶"]
    assert fig_l["layout"]["xaxis"]["ticktext"][0] == "◀ moins favorable"


def test_distribution_chart_quartier_against_the_others(table, project):
    """Annex B: the quartier with its interval, the others as grey dots, the references; a height
    that depends on the indicators only."""
    fig = charts.distribution_chart(table, "prevention", project, "Biollay")
    mine = next(t for t in fig["data"] if t["name"] == "Biollay")
    assert mine["x"] == [pytest.approx(22.0)]   # 0.22 with [0.12 ; 0.37]: +15 / -10 points
    assert mine["error_x"]["array"] == [pytest.approx(15.0)] and mine["error_x"]["arrayminus"] == [pytest.approx(10.0)]
    assert mine["marker"]["symbol"] == ["circle-open"]  # n = 25: fragile, hollow
    others = next(t for t in fig["data"] if t["name"] == "Autres quartiers")
    assert others["x"] == [pytest.approx(30.0)]   # Bellevue is suppressed: only Hauts-de-Chambéry
    assert not others["text"]    # a distribution: unnamed in a quartier's report, its range in the alt text
    named = next(t for t in charts.distribution_chart(table, "prevention", project)["data"] if t["name"] == "Quartiers")
    assert "Biollay : 22,0\u202f%" in named["text"]   # the synthesis names every dot on hover
    assert "Dépistage du cancer colorectal (50-74 ans) : Biollay 22,0" in fig["alt"]
    assert charts.distribution_chart(table, "inexistante", project) is None
    two_units = charts.distribution_chart(table, "logement", project, "Biollay")
    assert "yaxis2" in two_units["layout"]  # % and « pour 1 000 » on separate axes
    assert two_units["layout"]["height"] == 28 + 64 + 2 * 34 + 40   # top, bottom, 2 rows, 1 gap
    big = pd.concat([table.assign(quartier=table["quartier"] + f" {k}") for k in range(10)] + [table])
    assert charts.distribution_chart(big, "logement", project, "Biollay")["layout"]["height"] == \
        two_units["layout"]["height"]


def test_collection_summary_hand_counts(project):
    resp = pd.DataFrame({"quartier": ["Biollay"] * 3 + ["Bellevue", "Autre quartier"],
                         "canal": ["Cabinet médical", "Cabinet médical", None, "Boîte aux lettres", "Autre"]})
    weighted = pd.DataFrame({"quartier": ["Biollay"] * 3 + ["Bellevue"], "groupe_age": ["15-29", "15-29", "75+", "75+"],
                             "sexe": ["Femme", "Homme", "Femme", "Homme"]})
    w = pd.Series([1.0, 1.0, 2.0, 5.0])
    margins = pd.DataFrame({"quartier": ["Biollay"] * 4 + ["Bellevue"] * 2,
                            "groupe_age": ["15-29", "15-29", "75+", "75+", "75+", "75+"],
                            "sexe": ["Femme", "Homme", "Femme", "Homme", "Femme", "Homme"],
                            "effectif": [30, 30, 10, 30, 5, 5]})
    s = report.collection_summary(resp, weighted, w, margins, project, n_read=6, n_rejected=1)
    assert (s["n_read"], s["n_accepted"], s["n_rejected"]) == (6, 5, 1)
    ch = {r["Canal de recueil"]: r for r in s["channels"]}
    assert ch["Cabinet médical"]["Biollay"] == 2 and ch["Non renseigné"]["Total"] == 1
    assert ch["Autre"]["Autre quartier"] == 1
    rep = s["representativeness"].set_index(["quartier", "groupe"])
    # Biollay 15-29: 2 of 3 respondents, 60 of 100 inhabitants, weights 2 of 4
    assert rep.loc[("Biollay", "15-29 ans"), ["n", "pct_echantillon", "pct_population", "pct_pondere"]].tolist() == [2, pytest.approx(2 / 3), pytest.approx(0.6), pytest.approx(0.5)]
    assert rep.loc[("Biollay", "Femme"), "pct_pondere"] == pytest.approx(3 / 4)
    wt = s["weighting"].set_index("quartier")
    # Kish: n Σw² / (Σw)² = 3 × 6 / 16
    assert wt.loc["Biollay", "deff"] == pytest.approx(18 / 16) and wt.loc["Biollay", "n_eff"] == pytest.approx(16 / 6)


def test_margin_of_error():
    # 1,96 × √(0,25 / 100) = 9,8 points
    assert report.margin_of_error(0.5, 100) == pytest.approx(0.098, abs=1e-4)
    assert np.isnan(report.margin_of_error(0.5, 0))


def test_select_comments_scrubbed():
    resp = pd.DataFrame({"quartier": ["Biollay"] * 5 + ["Bellevue"],
                         "commentaire": ["Appelez Mme Martin au 06 12 34 56 78 pour le jardin partagé.", "court",
                                         None, "Écrivez à jean.dupont@example.fr pour les ateliers, merci !",
                                         "Appelez Mme Martin au 06 12 34 56 78 pour le jardin partagé.",
                                         "Bellevue : il faudrait plus de bancs sur la place."]})
    from diagnostics.protect.review import RESIDENTS, quote_id

    everything = {quote_id(RESIDENTS, c): True for c in resp["commentaire"].dropna()}
    out = report.select_comments(resp, "Biollay", reviewed=everything, n=4)
    assert out == ["Appelez Mme [nom] au [téléphone] pour le jardin partagé.",
                   "Écrivez à [courriel] pour les ateliers, merci !"]
    # the review is the gate: not reviewed, or marked « non », is never published
    assert report.select_comments(resp, "Biollay", reviewed={}, n=4) == []
    one = {quote_id(RESIDENTS, "Écrivez à jean.dupont@example.fr pour les ateliers, merci !"): True,
           quote_id(RESIDENTS, "Appelez Mme Martin au 06 12 34 56 78 pour le jardin partagé."): False}
    assert report.select_comments(resp, "Biollay", reviewed=one, n=4) == [
        "Écrivez à [courriel] pour les ateliers, merci !"]


def test_reviewed_quotes_gate(tmp_path):
    """Partner quotes reach the report only when marked « oui » in citations_relues.csv beside projet.yaml."""
    import types

    from diagnostics.collect.interviews import load_interviews
    from diagnostics.protect.review import quote_id

    quartiers = {"biollay": "Biollay", "hauts_de_chambery": "Hauts-de-Chambéry", "bellevue": "Bellevue"}
    interviews = load_interviews(EXAMPLE / "entretiens_synthetiques.md", quartiers=quartiers)
    n_quotes = sum(len(it.quotes) for it in interviews)
    project = types.SimpleNamespace(source=tmp_path / "projet.yaml")
    kept, reviewed, pending = report.reviewed_quotes(project, interviews)
    assert reviewed == {} and pending == n_quotes and sum(len(it.quotes) for it in kept) == 0
    first = interviews[0].quotes[0]
    (tmp_path / "citations_relues.csv").write_text(
        f"id_citation;publiable\n{quote_id(interviews[0].partenaire, first.text)};oui\n", encoding="utf-8")
    kept, reviewed, pending = report.reviewed_quotes(project, interviews)
    assert [q.text for it in kept for q in it.quotes] == [first.text] and pending == n_quotes - 1
    # the example project ships its review file: every synthetic quote was marked publishable
    kept, _, pending = report.reviewed_quotes(types.SimpleNamespace(source=EXAMPLE / "projet.yaml"), interviews)
    assert pending == 0 and sum(len(it.quotes) for it in kept) == n_quotes


def test_read_indicator_table_round_trip(tmp_path, table):
    f = tmp_path / "t.csv"
    table.to_csv(f, sep=";", index=False, encoding="utf-8-sig")
    back = report.read_indicator_table(f)
    assert back["fragile"].dtype == bool and back["suppressed"].sum() == 1
    assert back["estimate"].sum() == pytest.approx(table["estimate"].sum())


@pytest.fixture(scope="module")
def html(table, project):
    actors = load_actors(EXAMPLE / "annuaire_acteurs_synthetique.csv", quartiers=QUARTIERS)
    evil = pd.DataFrame([{"nom": "<script>alert(1)</script>", "type": "<b>gras</b>", "themes": ["soins"],
                          "quartiers": ["Biollay"], "adresse": "", "telephone": "", "site_web": "", "horaires": "",
                          "description": "</script><script>alert(2)</script>", "ligne": 99}])
    interviews = load_interviews(EXAMPLE / "entretiens_synthetiques.md", quartiers=QUARTIERS)
    t = make_table(extra_label="CSS </script><script>alert(3)</script>")
    return report.render_quartier(project, "Biollay", t, actors=pd.concat([actors, evil], ignore_index=True),
                                  interviews=interviews, comments=["Un <i>commentaire</i> & une idée"],
                                  methods={"n_read": 406, "n_accepted": 406, "n_rejected": 0}, generated="01/02/2022")


def test_html_has_every_section(html):
    text = re.sub(r"<[^>]+>", " ", html)
    for label in load_dimensions().values():
        assert label.replace("'", "&#39;") in text
    for title in ("L'essentiel", "Le quartier en bref", "Annexe A. Méthode", "Comparaisons multiples",
                  "Trois modes de recueil", "Pondération", "Marges d'erreur",
                  "Estimations « fragiles » et cases « supprimées »", "Paroles de partenaires et d'habitants",
                  "Annexe D. Annuaire des acteurs", "Annexe C. Définitions, sources et glossaire", "secret statistique",
                  "† fragile", f"1{NB}600"):
        assert title in text, title
    # the definitions and the glossary are printed once, in the shared document the annex links to
    assert 'href="dls_definitions.html"' in html and "Annexe D. Glossaire" not in text and "Annexe E." not in text
    # no analyst instruction where the ASV has written nothing (issue 27): the box is left out
    for instruction in ("Texte à rédiger", "constats/", "Points forts et pistes d'action", "projet.yaml",
                        "references.yaml", "MODELE.md", "<!--"):
        assert instruction not in text, instruction
    # the interview quote with a phone number is scrubbed if it is selected (one quote per theme)
    assert "04 79 00 99 98" not in text and "mediation.fictive@example.org" not in text


def test_html_is_offline_and_has_no_script(html):
    """The figures are inline SVG drawn by the toolkit: no script at all, no library embedded."""
    assert "<script" not in html.lower()
    assert len(html.encode("utf-8")) < 800_000
    assert html.count('class="graphique" role="img" aria-label="') == 18
    # a spine chart and a CI chart per dimension, each drawn at the page's width and the phone's
    assert len(re.findall(r'<div id="fig-[^"]+" class="graphique"', html)) == 9 + 9
    assert html.count('<svg class="large"') == 18 and html.count('<svg class="etroit"') == 18
    # the only absolute addresses are the actors' web sites, as plain links (never loaded)
    assert set(re.findall(r"""(?:src|href)\s*=\s*["']?((?:https?:)?//[^/"']+)""", html)) <= {
        f"https://{h}" for h in re.findall(r'href="https://([^/"]+)', html)}
    assert not re.search(r"""src\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert 'src="data:image/svg+xml;base64,' in html


def test_data_text_is_escaped(html):
    assert "<script>alert(" not in html and "<b>gras</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "Un &lt;i&gt;commentaire&lt;/i&gt; &amp; une idée" in html
    # inside the figures' SVG (labels, hover titles), a label is text, never markup
    assert "alert(3)" in html and "<script>alert(3)" not in html
    svgs = re.findall(r"<svg[\s\S]*?</svg>", html)
    assert svgs and not any("<script" in s_ or "<b>" in s_ for s_ in svgs)


def test_synthesis(table, project):
    out = report.render_synthesis(project, table, links={"Biollay": "dls_biollay.html"})
    for label in load_dimensions().values():
        assert label.replace("'", "&#39;") in out
    assert 'href="dls_biollay.html"' in out and "Synthèse des quartiers" in out
    assert out.count('<div id="fig-synthese-ic-') == 9
    # « L'essentiel » across quartiers first; no ASV box and no instruction when constats/synthese.md is absent
    text = re.sub(r"<[^>]+>", " ", out)
    assert text.index("L'essentiel") < text.index("Vue d'ensemble")
    assert all(f" {q} " in text[:text.index("Vue d'ensemble")] for q in ("Biollay", "Bellevue"))
    for instruction in ("Texte à rédiger", "constats/", "projet.yaml", "<!--"):
        assert instruction not in text, instruction


def test_write_html_atomic(tmp_path):
    p = report.write_html("<p>é</p>", tmp_path / "a" / "r.html")
    assert p.read_text(encoding="utf-8") == "<p>é</p>" and [f.name for f in p.parent.iterdir()] == ["r.html"]


def test_sources_of_the_example(project):
    from diagnostics.config.catalogue import load_catalogue
    from diagnostics.publish.sources import load_sources

    s = load_sources(project)
    assert list(s.indicators["indicator_id"]) == [i.id for i in load_catalogue()]  # every catalogue indicator
    epices = s.of("precarite_epices")
    assert epices["numerator"] == "Répondants dont le score EPICES est >= 30,17"
    assert epices["period"] == "2020-2022" and epices["source"].startswith("Enquête auprès des habitants")
    assert s.of("sans_complementaire")["denominator"] == "Réponses exprimées, hors « ne sait pas » et refus"
    c2s = s.of("am_c2s")
    assert c2s["source"].startswith("Extraits ORS / Assurance Maladie") and c2s["period"] == "2021"
    # a reference of a project on synthetic data is never presented as real
    assert s.references[("am_c2s", "commune")]["illustrative"] is True
    assert s.has_illustrative()
    line = s.reference_line(["am_c2s"], ["commune"])
    # said to be illustrative once, with no source name that would call it published (issue 27)
    assert line == ("Autres valeurs de référence : illustratives, inventées pour l'exemple, montrées en gris "
                    "sans verdict.")
    line = s.reference_line(["tabac_quotidien", "am_c2s"], ["commune", "france"])
    assert line.startswith("Références : Baromètre") and "illustratives" in line and "publiée" not in line
    assert "yaml" not in " ".join(s.line([i]) + s.reference_line([i], ["commune", "departement", "region", "france"])
                                  for i in s.indicators["indicator_id"])
    assert s.line(["precarite_epices"]) == f"Source : {s.survey}, 2020-2022."


def test_no_coloured_verdict_against_an_illustrative_value_and_counts_match(project):
    """Issue 27: an illustrative value never gives a verdict nor centres a chart; the key-figure box
    counts the verdicts the tables print (it once counted a list cut at 8)."""
    t = make_table()
    # a published France value of the same definition for one indicator, illustrative commune values
    # for the others (the example's references.yaml flags medecin_traitant's as illustrative)
    html = report.render_quartier(project, "Biollay", t, generated="01/01/2023")
    body = html[html.index('id="lire"'):html.index('id="annexes"')]
    cells = re.findall(r'<td class="comparaison">(.*?)</td>', body, re.S)
    assert cells
    for cell in cells:
        badge = re.search(r'<span class="badge [^"]+">([^<]+)</span>', cell)
        comparator = cell.split(" · ")[0]
        if badge:
            assert "illustr" not in comparator, cell
    box = html[html.index('id="essentiel"'):html.index('id="lire"')]
    worse = int(re.search(r"<strong>(\d+)</strong> moins favorables", box).group(1))
    better = int(re.search(r"<strong>(\d+)</strong> plus favorables", box).group(1))
    assert worse == sum('<span class="badge moins-bien">moins bien</span>' in c for c in cells)
    assert better == sum('<span class="badge mieux">mieux</span>' in c for c in cells)
    # médecin traitant: only an illustrative commune value (89 %) besides France (89 %, same row in the
    # fixture): the verdict comes from France, the illustrative value is at most grey context
    s = findings.headline(t[(t["quartier"] == "Biollay") & (t["indicator_id"] == "medecin_traitant")].iloc[0].to_dict(),
                          None, project, report._sources_or_none(project, None))
    assert s["ref_key"] != "commune" and s["context"].startswith("Chambéry") and "(illustratif)" in s["context"]


def test_definitions_document_holds_every_indicator_and_the_glossary(project):
    """The document shared by every report: each catalogue indicator with its numerator and
    denominator, the published reference values with their source, the glossary."""
    from diagnostics.config.catalogue import load_catalogue

    out = report.render_definitions(project, generated="01/02/2022")
    text = re.sub(r"<[^>]+>", " ", out)
    for ind in load_catalogue():
        assert ind.label.replace("'", "&#39;") in out, ind.id
    for title in ("Définitions, sources et glossaire", "1. Définitions et sources des indicateurs",
                  "Valeurs de référence", "2. Glossaire", "30,17", "Numérateur :", "WHO-5"):
        assert title in text, title
    assert "<script" not in out
