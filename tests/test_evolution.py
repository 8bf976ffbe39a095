"""The previous diagnostic and the extracts over time (issue 17, items 3–5).

Golden values: R's survey package on the example's two waves, each raked to its own margins
(tests/fixtures/r_trends/waves.R, inputs written by export_waves.py), R's prop.trend.test
(tests/fixtures/r_trends/prop_trend.R) and hand calculations.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from diagnostics.engine import evolution as ev
from diagnostics.collect.extracts import read_extracts
from diagnostics.collect.validation import validate
from diagnostics.config.catalogue import load_catalogue
from diagnostics.config.project import load_project
from diagnostics.errors import ConfigurationError
from diagnostics.engine.indicators import read_margins
from diagnostics.stats import trends

# R 4.2.2, survey 4.1.1 (tests/fixtures/r_trends/waves.R): quartier, estimate 2022, SE 2022,
# estimate 2017, SE 2017, difference, SE of the difference sqrt(se1² + se2²), two-sided p (z).
WAVES_R = {
    ("renoncement_soins", "Bellevue"): (0.2981811562223932, 0.0528632973523614, 0.2458675926052872,
                                        0.0473998878081986, 0.05231356361710598, 0.0710019546998108,
                                        0.4612497791365101),
    ("renoncement_soins", "Biollay"): (0.2437981528014176, 0.0389065122882512, 0.3543773881597171,
                                       0.0461772049185014, -0.11057923535829944, 0.0603825384736441,
                                       0.0670540664572479),
    ("renoncement_soins", "Hauts-de-Chambéry"): (0.2921481804503033, 0.0371036909394086, 0.3302031215032503,
                                                 0.0433481149055651, -0.03805494105294693, 0.0570591180022372,
                                                 0.5048112107011806),
    ("sante_mauvaise", "Bellevue"): (0.1523022070738756, 0.0384100019088650, 0.1820807869857447,
                                     0.0257047600007398, -0.02977857991186905, 0.0462175608760853,
                                     0.5193724226801399),
    ("sante_mauvaise", "Biollay"): (0.1145357731243114, 0.0319946180539031, 0.1067847869870727,
                                    0.0270006892308280, 0.00775098613723865, 0.0418651741111261,
                                    0.8531179581786433),
    ("sante_mauvaise", "Hauts-de-Chambéry"): (0.0955559061166743, 0.0224244720944767, 0.0918363215562453,
                                              0.0253296250547171, 0.00371958456042899, 0.0338296741652726,
                                              0.9124487499759669),
    ("who5_moyen", "Bellevue"): (46.7282277453891695, 2.5096687274600487, 51.9138335202483461,
                                 2.2104775079436796, -5.18560577485917662, 3.3443456661529232,
                                 0.1210073679823879),
    ("who5_moyen", "Biollay"): (50.8992815010792654, 2.2475447420239671, 50.0589516727750237,
                                2.1418021638910960, 0.84032982830424174, 3.1046374791025380,
                                0.7866454464504122),
    ("who5_moyen", "Hauts-de-Chambéry"): (49.6277525121497334, 1.9348700364635725, 55.0463101035056894,
                                          1.8427204184370070, -5.41855759135595605, 2.6719544529293917,
                                          0.0425665906329716),
}


@pytest.fixture(scope="module")
def waves():
    p, cat = load_project(), load_catalogue()
    cur = ev.wave_estimates(validate(p.donnees["reponses"], cat.questionnaire).codes,
                            read_margins(p.donnees["marges"]), p, cat)
    prev = ev.read_previous_wave(p, cat)
    table = cur.assign(suppressed=False)      # every current value published
    return p, cat, cur, prev, ev.compute_evolution(table, cur, prev, p, cat)


def test_two_raked_waves_match_r_survey(waves):
    _, _, cur, prev, evo = waves
    c, o = cur.set_index(["indicator_id", "quartier"]), prev.set_index(["indicator_id", "quartier"])
    e = evo.set_index(["indicator_id", "quartier"])
    z = stats.norm.ppf(0.975)
    for key, (e22, s22, e17, s17, diff, se, p) in WAVES_R.items():
        assert (c.loc[key, "estimate"], c.loc[key, "se"]) == pytest.approx((e22, s22), rel=1e-6, abs=1e-9)
        # 2017: renamed question (renonce), reversed codes (sante_generale) mapped by projet.yaml
        assert (o.loc[key, "estimate"], o.loc[key, "se"]) == pytest.approx((e17, s17), rel=1e-6, abs=1e-9)
        r = e.loc[key]
        assert r["difference"] == pytest.approx(diff, rel=1e-6, abs=1e-9)
        assert r["p_value"] == pytest.approx(p, rel=1e-6)
        assert (r["diff_ci_low"], r["diff_ci_high"]) == pytest.approx((diff - z * se, diff + z * se), rel=1e-6)
        assert r["estimate_previous"] == pytest.approx(e17, rel=1e-6)
    # WHO-5 fell in Hauts-de-Chambéry with p = 0.043 on its own, but the quartier's report runs
    # dozens of tests: after the Benjamini-Hochberg adjustment over them it is no longer a finding
    hc = evo[(evo["quartier"] == "Hauts-de-Chambéry") & evo["p_adjusted"].notna()]
    m = len(hc)
    ps = sorted(hc["p_value"])
    rank = ps.index(e.loc[("who5_moyen", "Hauts-de-Chambéry"), "p_value"]) + 1
    by_hand = min(min(1.0, m * ps[j - 1] / j) for j in range(rank, m + 1))   # BH: min over j >= i of m p_(j) / j
    assert m > 20 and e.loc[("who5_moyen", "Hauts-de-Chambéry"), "p_adjusted"] == pytest.approx(by_hand)
    assert by_hand > 0.05
    assert e.loc[("who5_moyen", "Hauts-de-Chambéry"), "verdict"] == "pas d'écart significatif"
    assert e.loc[("who5_moyen", "Bellevue"), "verdict"] == "pas d'écart significatif"          # p = 0.12
    assert e.loc[("renoncement_soins", "Biollay"), "verdict"] == "pas d'écart significatif"     # p = 0.067


def test_changed_or_absent_questions_are_never_compared(waves):
    _, _, _, _, evo = waves
    e = evo.set_index(["indicator_id", "quartier"])
    for ind in ("insecurite", "insecurite_souvent"):      # correspondance.modifiees: insecurite_quartier
        r = e.loc[(ind, "Biollay")]
        assert r["verdict"] == "non comparable" and "question modifiée" in r["note"]
        assert pd.isna(r["difference"]) and pd.isna(r["estimate_previous"])
    r = e.loc[("air_mauvais", "Bellevue")]                # qualite_air was not asked in 2017
    assert r["verdict"] == "non comparable" and "absent du diagnostic de 2017" in r["note"]
    nc = evo[evo["verdict"] == "non comparable"]
    changed = nc["note"].str.contains("question modifiée|absent du")
    assert set(nc.loc[changed, "indicator_id"]) == {"insecurite", "insecurite_souvent", "air_mauvais"}
    # the rest: a previous value on fewer respondents than the secrecy threshold (11), not shown
    assert nc.loc[~changed, "note"].eq("moins de 11 répondants au diagnostic de 2017").all()
    assert (nc.loc[~changed, "n_previous"].isna()).all()
    # renamed (renonce) and recoded (sante_generale) questions are compared
    assert not nc["indicator_id"].isin(["renoncement_soins", "sante_mauvaise", "sante_bonne"]).any()


def test_masked_current_value_is_not_compared(waves):
    p, cat, cur, prev, _ = waves
    table = cur.assign(suppressed=cur["indicator_id"].eq("renoncement_soins"))
    e = ev.compute_evolution(table, cur, prev, p, cat).set_index(["indicator_id", "quartier"])
    r = e.loc[("renoncement_soins", "Biollay")]
    assert pd.isna(r["estimate"]) and pd.isna(r["difference"]) and r["verdict"] == ""


def test_verdict_follows_the_direction():
    assert ev.evolution_verdict(0.05, 0.01, "hausse_defavorable") == "en dégradation"
    assert ev.evolution_verdict(-0.05, 0.01, "hausse_defavorable") == "en amélioration"
    assert ev.evolution_verdict(0.05, 0.01, "hausse_favorable") == "en amélioration"
    assert ev.evolution_verdict(0.05, 0.2, "hausse_favorable") == "pas d'écart significatif"
    assert ev.evolution_verdict(-0.05, 0.01, "neutre") == "en baisse"
    assert ev.evolution_verdict(np.nan, 0.01, "neutre") == ""


def _project_with(tmp_path, precedent: str) -> Path:
    src = load_project().source
    text = src.read_text(encoding="utf-8").split("\nprecedent:")[0]
    for key in ("reponses_synthetiques.csv", "marges_population_synthetiques.csv", "extraits_synthetiques.csv",
                "references.yaml", "annuaire_acteurs_synthetique.csv", "entretiens_synthetiques.md",
                "logo_dls_exemple.svg", "contours_qpv_synthetiques.geojson", "contour_commune_synthetique.geojson"):
        text = text.replace(f" {key}", f" {src.parent / key}")
    text = text.replace("../../questionnaires/", str(src.parent.parents[1] / "questionnaires") + "/")
    path = tmp_path / "projet.yaml"
    path.write_text(text + "\n" + precedent, encoding="utf-8")
    return path


def test_previous_published_table(tmp_path):
    # only the 2017 table survives: renoncement 35,4 % [26,0 ; 44,8] on 98 respondents in Biollay
    (tmp_path / "t.csv").write_text("quartier;indicateur;estimation;ic_bas;ic_haut;erreur_type;effectif\n"
                                    "Biollay;renoncement_soins;35,4;26,0;44,8;;98\n"
                                    "Bellevue;who5_moyen;51,9;;;2,2;80\n", encoding="utf-8")
    p = load_project(_project_with(tmp_path, 'precedent: {annee: "2017", tableau: t.csv}'))
    cat = load_catalogue()
    prev = ev.read_previous_wave(p, cat).set_index(["quartier", "indicator_id"])
    z = stats.norm.ppf(0.975)
    r = prev.loc[("Biollay", "renoncement_soins")]
    # SE from the interval: (0.448 - 0.260) / (2 × 1.959964) = 0.047960...
    assert r["estimate"] == pytest.approx(0.354) and r["se"] == pytest.approx(0.188 / (2 * z))
    r = prev.loc[("Bellevue", "who5_moyen")]
    assert (r["estimate"], r["se"], r["ci_low"]) == pytest.approx((51.9, 2.2, 51.9 - z * 2.2))
    cur = pd.DataFrame({"quartier": ["Biollay"], "indicator_id": ["renoncement_soins"], "estimate": [0.25],
                        "se": [0.04], "ci_low": [0.18], "ci_high": [0.33], "n": [120], "df": [100.0]})
    e = ev.compute_evolution(cur.assign(suppressed=False), cur, prev.reset_index(), p, cat).iloc[0]
    se = np.hypot(0.04, 0.188 / (2 * z))
    assert e["difference"] == pytest.approx(-0.104)
    assert e["p_value"] == pytest.approx(2 * stats.norm.sf(0.104 / se))
    # z = 0.104 / 0.06245 = 1.665, p = 0.096: not significant
    assert e["verdict"] == "pas d'écart significatif"
    bad = tmp_path / "bad.csv"
    # an indicator dropped from the catalogue since the previous diagnostic: a warning, the rest is read
    bad.write_text("quartier;indicateur;estimation;ic_bas;ic_haut;effectif\nBiollay;inconnu;3;1;5;90\n"
                   "Biollay;renoncement_soins;35,4;26,0;44,8;98\n", encoding="utf-8")
    p2 = load_project(_project_with(tmp_path, 'precedent: {annee: "2017", tableau: bad.csv}'))
    with pytest.warns(UserWarning, match=r"1 indicateur\(s\) absent\(s\) du catalogue actuel.*« inconnu » \(ligne 2\)"):
        prev = ev.read_previous_wave(p2, cat)
    assert list(prev["indicator_id"]) == ["renoncement_soins"]


def test_previous_section_errors(tmp_path):
    (tmp_path / "t.csv").write_text("x\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="precedent.annee"):
        load_project(_project_with(tmp_path, "precedent: {tableau: t.csv}"))
    with pytest.raises(ConfigurationError, match="precedent.questionnaire"):
        load_project(_project_with(tmp_path, 'precedent: {annee: "2017", reponses: t.csv, marges: t.csv}'))
    with pytest.raises(ConfigurationError, match="pas les deux"):
        load_project(_project_with(tmp_path, 'precedent: {annee: "2017", tableau: t.csv, reponses: t.csv}'))
    with pytest.raises(ConfigurationError, match="codes.sante_generale"):
        load_project(_project_with(tmp_path, 'precedent: {annee: "2017", tableau: t.csv, correspondance: '
                                             '{codes: {sante_generale: {1: cinq}}}}'))


def test_extract_series_and_trends_on_the_example():
    p, cat = load_project(), load_catalogue()
    data = read_extracts([p.donnees["extraits"]]).data
    series, tr = ev.extract_series(data, p, cat)
    s = series[(series["quartier"] == "Biollay") & (series["indicator_id"] == "am_medecin_traitant")]
    assert list(s["year"]) == ["2017", "2018", "2019", "2020", "2021"]
    # the 2021 row of the file: 1949 of 2320
    last = s.iloc[-1]
    assert (last["numerator"], last["denominator"]) == (1949, 2320)
    assert last["estimate"] == pytest.approx(1949 / 2320)
    t = tr.set_index(["quartier", "indicator_id"]).loc[("Biollay", "am_medecin_traitant")]
    direct = trends.prop_trend_test(s["numerator"], s["denominator"], s["year"].astype(float)).iloc[0]
    assert t["statistic"] == pytest.approx(direct["statistic"]) and t["years"] == 5
    assert t["verdict"] == ev.evolution_verdict(direct["estimate"], direct["p_value"], "hausse_favorable")
    # a rate: Poisson regression on the year
    u = series[(series["quartier"] == "Biollay") & (series["indicator_id"] == "am_passages_urgences")]
    tu = tr.set_index(["quartier", "indicator_id"]).loc[("Biollay", "am_passages_urgences")]
    pois = trends.poisson_trend_test(u["numerator"], u["denominator"], u["year"].astype(float)).iloc[0]
    assert tu["p_value"] == pytest.approx(pois["p_value"]) and "Poisson" in tu["method"]
    # one year only (the other indicators): no trend row
    assert not ((tr["indicator_id"] == "am_depistage_sein").any())


def test_the_build_s_second_process_gives_what_the_notebook_computes(tmp_path, monkeypatch):
    # « dls build » computes the previous diagnostic and the series in a process of its own
    # (engine/history.py) while notebooks 1–3 run; notebook 3 reads its file or, by hand,
    # computes the same thing
    from diagnostics.config.catalogue import load_project_catalogue
    from diagnostics.config.project import DEFAULT_PROJECT
    from diagnostics.engine.history import HISTORY_FILE, read_history, start_history

    import diagnostics.engine.evolution as evolution

    monkeypatch.setenv("DLS_SECRET", "secret-de-test")
    process = start_history(DEFAULT_PROJECT, tmp_path)

    def computed_here(*args, **kwargs):
        raise AssertionError("computed by the notebook although the build's process was running")

    with monkeypatch.context() as m:   # called at once: waits for the process (its lock), reads its file
        m.setattr(evolution, "read_previous_wave", computed_here)
        m.setattr(evolution, "extract_series", computed_here)
        prepared = read_history(None, None, prepared=tmp_path / HISTORY_FILE)
    assert process.wait(timeout=300) == 0
    p = load_project()
    cat = load_project_catalogue(p)
    here = read_history(p, cat, read_extracts([p.donnees["extraits"]]).data, tmp_path)
    assert set(prepared) == set(here) == {"previous", "series", "trends"}
    for key in here:
        assert len(here[key]) > 0
        pd.testing.assert_frame_equal(prepared[key], here[key])
    # the example's secret stays in the work folder, never in the installed package
    assert not any(tmp_path.parent.glob(".dls_secret"))
    # a process that wrote nothing (failed, stopped): the notebook computes
    again = read_history(p, cat, None, tmp_path, prepared=tmp_path / "absent.pkl", previous=False)
    assert again == {"previous": None, "series": None, "trends": None}
