"""The toolkit's published references: sourced values, one precedence rule, no illustrative value in a real report."""
import shutil

import numpy as np
import pytest

from diagnostics.collect.extracts import read_references
from diagnostics.collect.references import (
    PACKAGE_REFERENCES,
    choose_reference,
    load_references,
    package_references,
)
from diagnostics.config.project import load_project
from diagnostics.paths import EXAMPLE, QUESTIONNAIRE

# Questionnaire indicators with a published comparator of the same or a close definition.
PUBLISHED = {"insecurite", "tabac_quotidien", "tabac_actuel", "sante_bonne", "sante_mauvaise",
             "maladie_chronique", "limitation_toute", "logement_humide", "limitation_forte",
             "sans_complementaire", "vaccin_grippe_65", "logement_froid", "air_mauvais", "depistage_sein",
             "depistage_col"}


def test_package_file_is_sourced():
    refs = read_references(PACKAGE_REFERENCES)
    assert set(refs["status"]) <= {"publiée", "à confirmer"}
    pub = refs[refs["status"] == "publiée"]
    assert (pub["source"].str.len() > 20).all() and pub["url"].str.startswith("http").all()
    assert set(pub["comparabilite"]) <= {"même", "proche"}
    assert set(package_references()["indicator_id"]) == PUBLISHED
    # values as printed in their publications (see the URL of each row)
    got = {(r.indicator_id, r.level, r.period): r.value for r in pub.itertuples()}
    assert got[("insecurite", "QPV", "2018")] == 0.26        # ONPV 2018, fiche 3.14: « 26 % … en QPV »
    assert got[("insecurite", "hors QPV", "2018")] == 0.13   # same fiche: « (13 %) » other quartiers
    assert got[("tabac_quotidien", "France", "2022")] == 0.245  # BEH 2023 n° 9-10: « 24,5 % »
    assert got[("sante_bonne", "France", "2021")] == 0.685   # Lahbib et al. 2024: 68.5 % [67.7–69.3]
    # Irdes QES n° 229 (2018): « Le taux de personnes sans couverture (5 %) » in 2014
    assert got[("sans_complementaire", "France", "2014")] == 0.05
    # BEH 2017 n° 22: « 45,9% des 65-75 ans déclaraient s'être fait vacciner … hiver 2015-2016 »
    assert got[("vaccin_grippe_65", "France", "2015-2016")] == 0.459
    # Drees, Dossier n° 74 (2021): « oui, fortement » … « environ 9 % de cette population »; 2021 is
    # the year of publication, the survey year is not given: the period says so (issue 28)
    assert got[("limitation_forte", "France", "année d'enquête non précisée, publié en 2021")] == 0.09
    # Drees, Études et résultats n° 998 (2017): « 7 % se disent en « mauvais » ou « très mauvais » état »
    assert got[("sante_mauvaise", "France", "2014")] == 0.07
    # CGDD, Le Point sur n° 61 (2010): « 20,4 % des ménages faisaient état de signes d'humidité sur des
    # murs de leur résidence principale en 2006 »
    assert got[("logement_humide", "France", "2006")] == 0.204
    # BEH 2019 n° 22-23: « … soit un taux de couverture national de 58,7% » (women 25-65, 2015-2017)
    assert got[("depistage_col", "France", "2015-2017")] == 0.587
    # ONPE: « 1 Français sur 5 … souffert du froid au cours de l'hiver 2020-2021 »
    assert got[("logement_froid", "France", "2020-2021")] == 0.20
    # SDES, Chiffres clés du logement 2022: air « mauvaise pour 5 % » (ENL 2013)
    assert got[("air_mauvais", "France", "2013")] == 0.05
    # BEH 2007 n° 17 (Baromètre santé 2004-2005): women 50-74, mammography < 2 years « 65,4 % en 2005 »
    assert got[("depistage_sein", "France", "2005")] == 0.654
    # « à confirmer » rows (read second-hand) are never loaded as comparators
    loaded = load_references(None)
    assert "dentiste_12m" not in set(loaded["indicator_id"])
    assert not ((loaded["indicator_id"] == "sans_complementaire") & (loaded["period"] == "2019")).any()
    # the EU-SILC damp-housing share (21,1 %) could not be read in Eurostat itself: never loaded
    assert not ((loaded["indicator_id"] == "logement_humide") & (loaded["period"] == "2023")).any()


def test_comparability_follows_one_rule():
    """« même » = same question and answer categories as ours, on 14/15/16 years or more (issue 28)."""
    refs = read_references(PACKAGE_REFERENCES)
    pub = refs[refs["status"] == "publiée"]
    same = pub[pub["comparabilite"] == "même"]
    # every « même » row is about people of 14, 15 or 16 years or more, never 18-75 or households
    assert same["population"].str.contains(r"1[456] ans ou plus", regex=True).all()
    # rows on 18-75 year-olds or on households are at best « proche »
    narrow = pub["population"].str.contains("18-75|Ménages|ménages \\(|Résidences", regex=True)
    assert (pub.loc[narrow, "comparabilite"] == "proche").all()


def test_project_overrides_package(tmp_path):
    f = tmp_path / "references.yaml"
    f.write_text("references:\n  - {indicator_id: sante_bonne, level: France, territory_code: FR, period: '2024', "
                 "value: 0.5, status: publiée, source: Source du projet, url: 'https://exemple.org'}\n",
                 encoding="utf-8")
    refs = load_references(f)
    c = choose_reference(None, refs, "sante_bonne", "France")
    assert (c["value"], c["origin"], c["source"]) == (0.5, "projet", "Source du projet")
    assert choose_reference(None, refs, "tabac_actuel", "France")["value"] == 0.318  # package, latest period


def test_precedence_extract_reference():
    refs = load_references(None)
    synthetic = {"value": 0.4, "illustrative": True, "source": "extrait", "period": "2021"}
    real = {**synthetic, "illustrative": False}
    assert choose_reference(synthetic, refs, "sante_bonne", "France")["value"] == 0.685   # published wins
    assert choose_reference(real, refs, "sante_bonne", "France")["value"] == 0.4          # real extract first
    assert choose_reference(synthetic, refs, "sante_bonne", "région")["value"] == 0.4     # only candidate
    assert choose_reference(None, refs, "who5_moyen", "France") is None


def test_example_uses_published_values():
    from diagnostics.engine.indicators import compute_from_files
    from diagnostics.publish.indicator_table import analyst_frame
    from diagnostics.publish.sources import load_sources

    t = compute_from_files().table
    row = t[(t["indicator_id"] == "tabac_quotidien")].iloc[0]
    assert row["ref_france"] == pytest.approx(0.245)
    assert np.isnan(t.loc[t["indicator_id"] == "who5_moyen", "ref_france"]).all()
    france = t.drop_duplicates("indicator_id").set_index("indicator_id")["ref_france"]
    # mapped to the extract code « vaccination_grippe_65 », whose France value is only « à confirmer »
    # in the example: the questionnaire indicator falls back on its own published value (BEH 2017)
    assert france["vaccin_grippe_65"] == pytest.approx(0.459)
    # the project's organised-screening rate (51 %) has a different definition: the shipped
    # declared value (Baromètre santé 2005) is used; colorectal keeps the project's close one (PQE)
    assert france["depistage_sein"] == pytest.approx(0.654)
    assert france["depistage_colorectal"] == pytest.approx(0.35)
    p = load_project()
    s = load_sources(p)
    pub = {(r["indicator_id"], r["level"]): r for r in s.published(p.references)}
    assert pub[("tabac_quotidien", "France")]["url"] == "http://beh.santepubliquefrance.fr/beh/2023/9-10/2023_9-10_1.html"
    frame = analyst_frame(t, p.references, sources=s)
    r = frame[frame["Identifiant"] == "tabac_quotidien"].iloc[0]
    assert (r["Statut référence France"], r["Année référence France"]) == ("publiée", "2022")
    assert r["Source référence France"].startswith("Pasquereau A.")
    cols = list(frame.columns)
    assert cols.index("Statut référence France") == cols.index("Référence France") + 1


def _real_project(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path, dirs_exist_ok=True)
    text = (EXAMPLE / "projet.yaml").read_text(encoding="utf-8")
    text = (text.replace("donnees_synthetiques: true", "donnees_synthetiques: false")
            .replace("../../questionnaires/dls_habitants.yaml", str(QUESTIONNAIRE)))
    (tmp_path / "projet.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "projet.yaml"


def test_real_data_refuses_illustrative_reference(tmp_path, monkeypatch, capsys):
    from diagnostics.cli import main

    (tmp_path / "p").mkdir()
    proj = _real_project(tmp_path / "p")
    assert load_project(proj).donnees_synthetiques is False
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as ex:
        main(["build", "--projet", str(proj), "--out", "livrables", "--sans-pdf"])
    assert ex.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : Projet sur données réelles (donnees_synthetiques: false) : « references.yaml », "
                          "référence n° 4 (indicateur « medecin_traitant », niveau commune, 2021)")
    assert "Traceback" not in err
    assert not (tmp_path / "livrables").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]  # no half-built folder beside it either


def test_qpv_levels_come_from_publications_only():
    """« Ensemble des QPV » and « hors QPV » columns: published values, never an extract's QPV rows."""
    from diagnostics.engine.indicators import compute_from_files
    from diagnostics.publish.findings import headline

    t = compute_from_files().table
    ins = t[t["indicator_id"] == "insecurite"]
    # ONPV 2018, fiche 3.14: 26 % in QPV, 13 % in the other quartiers of the same urban units
    assert (ins["ref_qpv"] == 0.26).all() and (ins["ref_hors_qpv"] == 0.13).all()
    # extract indicators have per-quartier « QPV » rows: they must not leak into the QPV column
    ext = t[t["source"] == "extrait"]
    assert len(ext) and ext["ref_qpv"].isna().all() and ext["ref_hors_qpv"].isna().all()
    p = load_project()
    r = ins[ins["quartier"] == "Biollay"].iloc[0].to_dict()
    h = headline(r, None, p)
    # a QPV's survey figure is compared first with all QPV, named as a sentence names it
    assert h["ref_key"] == "qpv" and h["against"] == "l'ensemble des QPV"
    assert h["text"] == "moins favorable que l'ensemble des QPV (26,0\u202f%)"   # Biollay 55 % [46 ; 64]


def test_example_has_sixteen_published_comparators():
    """Issue 17 bar: ≥ 15 of the 56 questionnaire indicators have a published comparator (same or close)."""
    import pandas as pd

    from diagnostics.engine.indicators import compute_from_files
    from diagnostics.publish.sources import load_sources

    p = load_project()
    s = load_sources(p)
    t = compute_from_files().table
    q = t[t["source"] == "questionnaire"].drop_duplicates("indicator_id")
    assert len(q) == 56
    with_published = {r["indicator_id"] for _, r in q.iterrows()
                      for k in p.references
                      if pd.notna(r[f"ref_{k}"]) and (r["indicator_id"], k) in s.references
                      and not s.references[(r["indicator_id"], k)]["illustrative"]}
    # the 15 shipped (PUBLISHED) and the example's organised colorectal screening rate (PQE 2.2.1)
    assert with_published == PUBLISHED | {"depistage_colorectal"}
