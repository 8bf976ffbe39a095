"""« L'essentiel »: which findings, why, and their sentences, on a constructed table (issue 27).

Hand calculations (logit Wald test read back from the interval, z = 1,959964):
- santé perçue bonne 58,7 % [50,6 ; 66,3] vs 68,5 %: se = (logit .663 − logit .506) / 3,92 = 0,1666,
  z = (logit .587 − logit .685) / se = −2,56, p = 0,0105;
- tabac quotidien 32,9 % [25,0 ; 41,9] vs 24,5 %: se = 0,1968, z = 2,10, p = 0,036.
Ten candidate tests (m = 10); sorted, the five gaps with p < 0,001 come first, then 0,0105 (rank 6,
BH: 10 × 0,0105 / 6 = 0,018 < 0,05: kept), 0,036 (rank 7: 10 × 0,036 / 7 = 0,051, and every later
m p / j is larger: dropped although p < 0,05), then three comparisons without a gap.
"""
from pathlib import Path

import pandas as pd
import pytest

from diagnostics.config.project import load_project
from diagnostics.errors import DLSError
from diagnostics.publish.constats import Statement, read_statement
from diagnostics.publish.findings import essentiel, headline
from diagnostics.publish.sources import IndicatorSources

NB = "\u202f"

# id, label, dimension, direction, estimate, ci_low, ci_high, ref_france, fragile, extra
ROWS = [
    ("air_mauvais", "Qualité de l'air jugée mauvaise", "nuisances", "hausse_defavorable", .176, .120, .250, .05, False, {}),
    ("insecurite", "Sentiment d'insécurité dans le quartier", "securite", "hausse_defavorable", .551, .458, .640, .26,
     False, {}),
    ("connait_ers", "Connaît l'Espace Ressource Santé", "services", "hausse_favorable", .45, .37, .53, None, False,
     {"ref_reste": .25, "p_reste": .0001, "cmp_reste": "mieux"}),
    ("am_depistage_colorectal", "Participation au dépistage organisé du cancer colorectal", "prevention",
     "hausse_favorable", .22, .193, .248, .35, False, {"source": "extrait"}),
    ("am_depistage_sein", "Participation au dépistage organisé du cancer du sein", "prevention", "hausse_favorable",
     .379, .336, .424, .51, False, {"source": "extrait"}),
    ("sante_bonne", "Santé perçue bonne ou très bonne", "sante_percue", "hausse_favorable", .587, .506, .663, .685,
     False, {}),
    ("tabac_quotidien", "Tabagisme quotidien", "prevention", "hausse_defavorable", .329, .250, .419, .245, False, {}),
    ("sans_complementaire", "Sans complémentaire santé", "droits", "hausse_defavorable", .05, .03, .09, .05, False, {}),
    ("gene_bruit", "Gêné(e) par le bruit", "nuisances", "hausse_defavorable", .28, .21, .36, .27, False, {}),
    ("logement_humide", "Logement humide", "logement", "hausse_defavorable", .13, .08, .20, .14, False, {}),
    # never a finding: a fragile estimate (however large its gap), an illustrative comparator only,
    # an indicator without a favourable direction
    ("solitude_60", "Sentiment de solitude des 60 ans et plus", "lien_social", "hausse_defavorable", .70, .45, .87,
     .20, True, {}),
    ("medecin_traitant", "Médecin traitant déclaré", "soins", "hausse_favorable", .80, .72, .86, None, False,
     {"ref_commune": .89, "cmp_commune": "moins bien"}),
    ("am_c2s", "Bénéficiaires de la CSS", "droits", "neutre", .31, .29, .33, .11, False, {"source": "extrait"}),
]
SOURCES = {"air_mauvais": ("Enquête Logement (SDES)", "2013"), "insecurite": ("Enquête CVS (ONPV)", "2018"),
           "am_depistage_colorectal": ("PQE Maladie", "2021"), "am_depistage_sein": ("PQE Maladie", "2021"),
           "sante_bonne": ("Baromètre santé", "2021"), "tabac_quotidien": ("Baromètre santé", "2022"),
           "sans_complementaire": ("EHIS-ESPS", "2014"), "gene_bruit": ("Enquête Logement (SDES)", "2013"),
           "logement_humide": ("Enquête Logement (SDES)", "2013"), "solitude_60": ("Enquête", "2020"),
           "am_c2s": ("Assurance Maladie", "2021")}


@pytest.fixture(scope="module")
def project():
    return load_project()


def _table(project):
    rows = []
    for iid, label, dim, direction, est, lo, hi, ref, fragile, extra in ROWS:
        r = {"quartier": "Biollay", "indicator_id": iid, "label": label, "dimension": dim, "unit": "%",
             "direction": direction, "estimate": est, "ci_low": lo, "ci_high": hi, "n": 130, "fragile": fragile,
             "suppressed": False, "source": "questionnaire", "status": "calculé", "ref_france": ref,
             "cmp_france": None if ref is None else ("similaire" if lo <= ref <= hi else
                                                     "moins bien" if (est > ref) == (direction == "hausse_defavorable")
                                                     else "mieux")}
        r.update(extra)
        rows.append(r)
    return pd.DataFrame(rows)


def _sources():
    refs = {(iid, "france"): {"source": s, "court": s, "period": p, "illustrative": False, "url": "", "origin": "",
                              "value": None} for iid, (s, p) in SOURCES.items()}
    refs[("medecin_traitant", "commune")] = {"source": "Valeur inventée", "period": "2021", "illustrative": True,
                                             "url": "", "origin": "projet", "value": .89}
    return IndicatorSources(pd.DataFrame(columns=["indicator_id"]), refs, "Enquête auprès des habitants")


def test_the_five_findings_and_why(project):
    e = essentiel(_table(project), "Biollay", project, sources=_sources())
    assert e["n_tests"] == 10 and e["n_significant"] == 5
    # by size (|log ratio|): air 3,52× (1,26), insécurité 2,12× (0,75), ERS 1,8× (0,59), colorectal
    # 0,63× (0,46), [sein 0,74× (0,30): its dimension already has one], santé bonne 0,86× (0,15)
    assert [f["id"] for f in e["findings"]] == ["air_mauvais", "insecurite", "connait_ers",
                                                 "am_depistage_colorectal", "sante_bonne"]
    got = {f["id"]: f for f in e["findings"]}
    assert got["sante_bonne"]["q"] == pytest.approx(10 * got["sante_bonne"]["p"] / 6)
    assert got["sante_bonne"]["p"] == pytest.approx(0.0105, abs=5e-4)
    sentences = [f["sentence"] for f in e["findings"]]
    assert sentences == [
        f"Qualité de l'air jugée mauvaise : 17,6{NB}% [12,0 ; 25,0] au Biollay, contre 5,0{NB}% en France "
        "(Enquête Logement, SDES, 2013) — situation moins favorable.",
        f"Sentiment d'insécurité dans le quartier : 55,1{NB}% [45,8 ; 64,0] au Biollay, contre 26,0{NB}% en France "
        "(Enquête CVS, ONPV, 2018) — situation moins favorable.",   # 55,1 % is not within 2 points of 1/2
        f"Connaît l'Espace Ressource Santé : 45,0{NB}% [37,0 ; 53,0] au Biollay, contre 25,0{NB}% dans les deux "
        "autres quartiers enquêtés (Enquête auprès des habitants, écart testé) — situation plus favorable.",
        f"Participation au dépistage organisé du cancer colorectal : 22,0{NB}% [19,3 ; 24,8] au Biollay, soit "
        f"environ une personne sur cinq, contre 35,0{NB}% en France (PQE Maladie, 2021) — situation moins "
        "favorable.",
        f"Santé perçue bonne ou très bonne : 58,7{NB}% [50,6 ; 66,3] au Biollay, soit environ trois personnes sur "
        f"cinq, contre 68,5{NB}% en France (Baromètre santé, 2021) — situation moins favorable."]   # |.587 − .6| ≤ .02
    # why the others are not there
    assert "tabac_quotidien" not in got            # p = 0,036 < 0,05 alone, BH-adjusted 0,051
    assert "solitude_60" not in got                # fragile
    assert "medecin_traitant" not in got and "am_c2s" not in got


def test_illustrative_value_is_context_never_a_verdict(project):
    t = _table(project)
    r = t[t["indicator_id"] == "medecin_traitant"].iloc[0].to_dict()
    h = headline(r, None, project, _sources())
    assert h["verdict"] is None and h["kind"] == "seul"
    assert h["context"] == f"Chambéry : 89,0{NB}% (illustratif)" and "sans verdict" in h["text"]


def test_pin_drop_reword(project, tmp_path):
    st = Statement(pinned=["tabac_quotidien"], dropped=["air_mauvais"], path=tmp_path / "biollay.md",
                   reworded={"insecurite": "Plus d'un habitant sur deux se sent en insécurité ({valeur} {ic}), "
                                           "contre {reference} {comparateur} ({source})."})
    e = essentiel(_table(project), "Biollay", project, sources=_sources(), statement=st)
    # the pinned finding comes first and takes the prevention slot of the first pass (one per
    # dimension), so colorectal screening comes in the second pass, after santé perçue
    assert [f["id"] for f in e["findings"]] == ["tabac_quotidien", "insecurite", "connait_ers", "sante_bonne",
                                                 "am_depistage_colorectal"]
    assert e["findings"][0]["pinned"] and e["findings"][0]["why"].startswith("épinglé")
    assert e["findings"][1]["sentence"] == (f"Plus d'un habitant sur deux se sent en insécurité (55,1{NB}% "
                                            f"[45,8 ; 64,0]), contre 26,0{NB}% en France (Enquête CVS, ONPV, 2018).")
    with pytest.raises(DLSError, match="indicateur « inconnu » inconnu"):
        essentiel(_table(project), "Biollay", project, sources=_sources(),
                  statement=Statement(pinned=["inconnu"], path=tmp_path / "biollay.md"))


def test_statement_file(tmp_path):
    p = tmp_path / "biollay.md"
    p.write_text("<!-- aide pour l'analyste -->\n---\nepingler: [tabac_quotidien]\n---\n\n## Points forts\n\n- Un.\n",
                 encoding="utf-8")
    st = read_statement(p)
    assert st.pinned == ["tabac_quotidien"] and st.text == "## Points forts\n\n- Un."
    p.write_text("---\nreformuler: {tabac_quotidien: \"{chiffre}\"}\n---\n", encoding="utf-8")
    with pytest.raises(DLSError, match=r"reformuler.tabac_quotidien.*\{chiffre\}"):
        read_statement(p)
    # the dls init template: read, but nothing to print and nothing pinned
    from diagnostics import paths

    model = read_statement(paths.resource("nouveau_projet", "constats_modele.md"))
    assert model.text == "" and not (model.pinned or model.dropped or model.reworded)
    assert read_statement(Path(tmp_path / "absent.md")).text == ""


def test_missing_asv_text_is_said_not_printed(project):
    from diagnostics.publish.constats import missing_statements

    said = missing_statements(project)
    # the example has constats/biollay.md only: the three other deliverables are named
    assert len(said) == 3 and not any("Biollay" in s for s in said)
    assert said[0].startswith("Livrable du quartier Hauts-de-Chambéry : pas de « points forts »")


def test_quartier_in_brief(project):
    from diagnostics.publish.context import quartier_context

    t = _table(project)
    q = project.quartier("biollay")
    c = quartier_context(project, q, t, methods={"weighting": [{"quartier": "Biollay", "n": 130}]})
    # margins of the example: 270 + 270 + 260 + 240 + 230 + 210 + 185 + 155 + 110 + 70 = 2 000 people of 15+
    assert c["population"] == f"2{NB}000" and c["ages"] == "15 ans ou plus"
    assert c["respondents"] == "130" and c["respondent_share"] == f"6,5{NB}%"      # 130 / 2 000
    # pyramid: shares only (women 75+: 110 / 2 000 = 5,5 % → « 6 % »), never a count
    assert 'role="img"' in c["pyramid"] and f"Femmes 75+ ans : 6{NB}%" in c["pyramid"]
    assert ">110<" not in c["pyramid"]
    assert [x["words"].split(" (")[0] for x in c["indicators"]] == ["bénéficiaires de la Complémentaire santé solidaire"]
    assert c["qpv"] == ""        # the example's codes could not be confirmed: left blank
