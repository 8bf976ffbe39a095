"""The indicator table over the embedded synthetic sample: complete, hand-checked, protected."""
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats

from diagnostics.cli import cli
from diagnostics.collect.extracts import read_extracts, read_references
from diagnostics.collect.validation import validate
from diagnostics.config.catalogue import load_catalogue
from diagnostics.config.project import load_project
from diagnostics.engine.indicators import (
    COLUMNS,
    DEFAULT_EXTRAITS,
    DEFAULT_MARGES,
    DEFAULT_REFERENCES,
    DEFAULT_REPONSES,
    ENSEMBLE,
    compute_indicators,
    read_margins,
    write_indicators,
)
from diagnostics.engine.wave import indicator_variable

QUARTIERS = ["Biollay", "Hauts-de-Chambéry", "Bellevue"]


@pytest.fixture(scope="module")
def inputs():
    cat = load_catalogue()
    val = validate(DEFAULT_REPONSES, cat.questionnaire)
    return dict(codes=val.codes, margins=read_margins(DEFAULT_MARGES),
                extracts=read_extracts([DEFAULT_EXTRAITS]).data, references=read_references(DEFAULT_REFERENCES),
                catalogue=cat, project=load_project())


@pytest.fixture(scope="module")
def table(inputs):
    counts = {}
    t = compute_indicators(inputs["codes"], inputs["margins"], inputs["extracts"], inputs["references"],
                           project=inputs["project"], catalogue=inputs["catalogue"], counts=counts)
    t.attrs["counts"] = counts
    return t


@pytest.fixture(scope="module")
def equal(inputs):
    """Same table with equal weights (unweighted estimates), for hand calculations."""
    return compute_indicators(inputs["codes"], None, inputs["extracts"], inputs["references"],
                              project=inputs["project"], catalogue=inputs["catalogue"], weights="egaux")


def row(t, quartier, indicator):
    r = t[(t["quartier"] == quartier) & (t["indicator_id"] == indicator)]
    assert len(r) == 1
    return r.iloc[0]


def test_every_catalogue_entry_is_computed_or_explained(table, inputs):
    assert list(table.columns) == COLUMNS
    cat = inputs["catalogue"]
    assert table["indicator_id"].unique().tolist() == [i.id for i in cat]
    for ind in cat:
        sub = table[table["indicator_id"] == ind.id]
        assert sub["quartier"].tolist() == [*QUARTIERS, ENSEMBLE]
        assert set(sub["status"]) <= {"calculé", "non calculable"}
        assert (sub["dimension"] == ind.dimension).all() and (sub["direction"] == ind.direction).all()
    nc = table[table["status"] == "non calculable"]
    assert nc["note"].str.contains("Non calculable : ").all()
    assert nc["estimate"].isna().all()
    calc = table[(table["status"] == "calculé") & ~table["suppressed"]]
    assert calc["estimate"].notna().all()
    # the sample exercises the masked extract values (Bellevue: « nd », « secret », « s », « <10 »)
    assert set(nc["indicator_id"]) == {"am_passages_urgences", "am_psychotropes", "am_ald", "am_ald_standardise"}
    assert table.attrs["counts"] == {"hors_quartiers": 6, "sans_age_sexe": 2}


def test_no_published_cell_below_threshold(table, tmp_path, inputs):
    thr = inputs["project"].secret_statistique
    assert thr >= 10
    from diagnostics.publish.indicator_table import french_columns

    english = {fr: en for en, fr in french_columns().items()}
    published = pd.read_csv(write_indicators(table, tmp_path)["csv"], sep=";", decimal=",",
                            encoding="utf-8-sig").rename(columns=english)
    for t in (table, published):
        sup = t["suppressed"].isin([True, "oui"])
        pub = t[~sup]
        assert len(pub) > 150
        assert (pub["n"].dropna() >= thr).all()
        k = pub["numerator"].dropna()
        assert (k >= thr).all()
        prop = pub[(pub["unit"] == "%") & pub["numerator"].notna()]
        assert ((prop["n"] - prop["numerator"]) >= thr).all()
        # suppressed rows publish neither estimate, nor interval, nor numerator, nor small n
        hidden = t[sup]
        assert hidden[["estimate", "ci_low", "ci_high", "numerator"]].isna().all().all()
        assert (hidden["n"].dropna() >= thr).all()
        # counts quoted in the notes are never below the threshold
        for note in t["note"].dropna():
            for number in re.findall(r"(?<!de )\b(\d+) (?:« ne sait pas »|sans réponse)", note):
                assert int(number) >= thr, note
    assert (table["suppression_reason"][table["suppressed"]].isin(
        ["effectif < 11", "secondaire", "secret statistique"])).all()


def test_hand_checked_unweighted_proportion(equal, inputs):
    """Renoncement aux soins in Biollay, from the raw codes, against the equal-weight estimate."""
    c = inputs["codes"]
    three = c[c["quartier"].isin([1, 2, 3])]
    biollay = three[three["quartier"] == 1]
    answered = biollay["renoncement"].isin([1, 2])
    k = int((biollay["renoncement"] == 1).sum())
    n = int(answered.sum())
    p = k / n
    r = row(equal, "Biollay", "renoncement_soins")
    assert (r["n"], r["numerator"]) == (n, k)
    assert r["estimate"] == pytest.approx(p, rel=1e-12)
    # domain of a with-replacement design of N respondents with equal weights:
    # se² = N/(N-1) · p(1-p)/n, logit interval with n - 1 degrees of freedom
    N = len(three)
    se = np.sqrt(N / (N - 1) * p * (1 - p) / n)
    t = stats.t.ppf(0.975, n - 1)
    half = t * se / (p * (1 - p))
    lo, hi = [1 / (1 + np.exp(-(np.log(p / (1 - p)) + s * half))) for s in (-1, 1)]
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(lo, rel=1e-9), pytest.approx(hi, rel=1e-9))
    # the « Ensemble » row pools the three quartiers (respondents of « Autre quartier » excluded)
    e = row(equal, ENSEMBLE, "renoncement_soins")
    assert e["numerator"] == int((three["renoncement"] == 1).sum())
    assert e["n"] == int(three["renoncement"].isin([1, 2]).sum())
    # « ne sait pas » / « refus » are excluded from the denominator and counted in the note
    assert int(biollay["renoncement"].isin([98, 99]).sum()) > 0
    assert "« ne sait pas » ou refus" in r["note"]


def test_filter_and_skip_logic_in_denominators(equal, inputs):
    c = inputs["codes"]
    three = c[c["quartier"].isin([1, 2, 3])]
    age = three["age"].where(three["age"] != 999)      # « refus » is not an age of 999
    vacc = three[(age >= 65) & three["vaccin_grippe"].isin([1, 2])]
    e = row(equal, ENSEMBLE, "vaccin_grippe_65")
    assert e["n"] == len(vacc)
    # the raw count is published unless a quartier's count (or its complement) is under 11: the
    # « Ensemble » count is their sum, hidden with them (survey rule of publish.secrecy)
    per_q = vacc.groupby("quartier")["vaccin_grippe"].agg(lambda v: min((v == 1).sum(), (v != 1).sum()))
    if (per_q < 11).any():
        assert np.isnan(e["numerator"])
    else:
        assert e["numerator"] == int((vacc["vaccin_grippe"] == 1).sum())
    # multiple choice among those to whom it applied: ticked « coût » among the renonçants
    ren = three[three["renoncement"] == 1]
    answered = ren[[f"renoncement_raisons_{k}" for k in range(1, 10)]].eq(1).any(axis=1)
    e = row(equal, ENSEMBLE, "renoncement_cout")
    cout = ren.loc[answered, ["quartier", "renoncement_raisons_1"]]
    assert e["n"] == int(answered.sum())
    per_q = cout.groupby("quartier")["renoncement_raisons_1"].agg(lambda v: min((v == 1).sum(), (v != 1).sum()))
    if (per_q < 11).any():
        assert np.isnan(e["numerator"])
    else:
        assert e["numerator"] == int((ren["renoncement_raisons_1"] == 1).sum())


def test_raking_reproduces_the_margins(inputs, tmp_path):
    """Weighted share of women per quartier = share in the population margins (calibration)."""
    p = tmp_path / "indicateurs.yaml"
    p.write_text(yaml.safe_dump({"indicateurs": [
        dict(id="femmes", libelle="Femmes", definition="Part des femmes.", dimension="lien_social",
             source="questionnaire", question="sexe", numerateur=[1], unite="%", sens="neutre")]},
        allow_unicode=True), encoding="utf-8")
    cat = load_catalogue(p, questionnaire=inputs["catalogue"].questionnaire)
    t = compute_indicators(inputs["codes"], inputs["margins"], project=inputs["project"], catalogue=cat,
                           protect=False)
    m = inputs["margins"]
    for q in QUARTIERS:
        mq = m[m["quartier"] == q]
        share = mq.loc[mq["sexe"] == "Femme", "effectif"].sum() / mq["effectif"].sum()
        r = row(t, q, "femmes")
        assert r["estimate"] == pytest.approx(share, rel=1e-8)
        assert r["ci_high"] - r["ci_low"] < 1e-6   # a calibrated total has no sampling variance
    share = m.loc[m["sexe"] == "Femme", "effectif"].sum() / m["effectif"].sum()
    assert row(t, ENSEMBLE, "femmes")["estimate"] == pytest.approx(share, rel=1e-8)


def test_extract_indicators_by_hand(table):
    r = row(table, "Biollay", "am_c2s")
    x, n, z = 696, 2900, stats.norm.ppf(0.975)
    p = x / n
    centre, half = (p + z * z / (2 * n)), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (r["estimate"], r["n"], r["numerator"]) == (pytest.approx(p), n, x)
    assert r["ci_low"] == pytest.approx((centre - half) / (1 + z * z / n), rel=1e-9)
    assert r["ci_high"] == pytest.approx((centre + half) / (1 + z * z / n), rel=1e-9)
    e = row(table, ENSEMBLE, "am_c2s")
    assert (e["numerator"], e["n"]) == (696 + 987 + 378, 2900 + 4700 + 1400)
    assert e["ref_france"] == pytest.approx(7006916 / 66732538)
    assert e["ref_commune"] == pytest.approx(6177 / 58833)
    u = row(table, "Biollay", "am_passages_urgences")
    assert u["estimate"] == pytest.approx(1218 / 2900 * 1000)
    assert u["ci_low"] < u["estimate"] < u["ci_high"]
    # masked by the producer: stays masked, with the reason
    b = row(table, "Bellevue", "am_psychotropes")
    assert (b["suppressed"], b["suppression_reason"], b["status"]) == (True, "secret statistique", "non calculable")
    assert "« secret »" in b["note"]
    # a masked quartier hides the sum, and the two published quartiers stay published
    assert row(table, ENSEMBLE, "am_psychotropes")["suppressed"]
    assert not row(table, "Biollay", "am_psychotropes")["suppressed"]
    # age-standardised rate: computed where no age band is masked
    s = row(table, "Biollay", "am_ald_standardise")
    assert s["status"] == "calculé" and "Dobson" in s["method"] and s["estimate"] > 0


def test_comparisons_follow_the_direction(table):
    r = row(table, "Bellevue", "am_recours_generaliste")          # 78,0 % vs 80,7 % for the three
    e = row(table, ENSEMBLE, "am_recours_generaliste")
    assert r["ci_high"] < e["estimate"] and r["cmp_ensemble"] == "moins bien"
    assert row(table, "Hauts-de-Chambéry", "am_recours_generaliste")["cmp_ensemble"] == "mieux"
    assert r["cmp_france"] == "moins bien"                         # 85 % in France
    assert (table.loc[table["quartier"] == ENSEMBLE, "cmp_ensemble"] == "non comparable").all()
    # a questionnaire indicator has references only when the catalogue names one
    assert row(table, ENSEMBLE, "renoncement_soins")[["ref_commune", "ref_france"]].isna().all()
    assert row(table, ENSEMBLE, "vaccin_grippe_65")["ref_france"] == pytest.approx(7994558 / 13346508)
    p = table.loc[table["indicator_id"] == "renoncement_soins", "p_rao_scott"].dropna()
    assert len(p) and ((p > 0) & (p < 1)).all()


def test_missing_column_and_missing_extracts_are_reported(inputs):
    codes = inputs["codes"].drop(columns=["tabac"])
    t = compute_indicators(codes, inputs["margins"], None, None, project=inputs["project"],
                           catalogue=inputs["catalogue"])
    tab = t[t["indicator_id"] == "tabac_quotidien"]
    assert (tab["status"] == "non calculable").all()
    assert tab["note"].str.contains("« tabac »").all()
    ext = t[t["source"] == "extrait"]
    assert (ext["status"] == "non calculable").all()
    assert ext["note"].str.contains("aucun fichier d'extraits").all()


def test_indicator_variable_statuses(inputs):
    cat = inputs["catalogue"]
    codes = pd.DataFrame({"quartier": [1, 1, 1, 1], "age": [70, 999, 40, 80], "sexe": [1, 2, 1, 2],
                          "vaccin_grippe": [1, 1, 2, 98]})
    v = indicator_variable(cat["vaccin_grippe_65"], codes, cat)
    assert v["status"].tolist() == ["denominateur", "hors_champ", "hors_champ", "nsp_refus"]
    assert v["value"].tolist()[0] == 1.0 and v["value"].isna().tolist() == [False, True, True, True]


def test_cli_writes_french_csv_and_xlsx(tmp_path):
    import openpyxl

    res = CliRunner().invoke(cli, ["indicators", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "68 indicateurs" in res.output
    raw = (tmp_path / "indicateurs.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b";" in raw.splitlines()[0]
    t = pd.read_csv(tmp_path / "indicateurs.csv", sep=";", decimal=",", encoding="utf-8-sig")
    assert len(t) == 68 * 4
    assert t.columns[:8].tolist() == ["Quartier", "Dimension", "Indicateur", "Source", "Unité", "Valeur",
                                      "IC bas", "IC haut"]
    assert not {"estimate", "ci_low", "cmp_commune"} & set(t.columns)
    assert set(t["Masqué (secret statistique)"]) <= {"oui", "non"}
    assert re.search(rb";\d+,\d+;", raw)                      # decimal comma
    assert not re.search(rb";\d+\.0;", raw)                   # counts are whole numbers, not 121.0

    wb = openpyxl.load_workbook(tmp_path / "indicateurs.xlsx")
    assert wb.sheetnames == ["Indicateurs", "Définitions"]
    ws = wb["Indicateurs"]
    head = [c.value for c in ws[1]]
    assert head == t.columns.tolist()
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, len(head)).column_letter}{len(t) + 1}"
    assert ws.column_dimensions["C"].width > 20
    j_unit, j_val, j_n = head.index("Unité") + 1, head.index("Valeur") + 1, head.index("Effectif (répondants ou population)") + 1
    xl = pd.read_excel(tmp_path / "indicateurs.xlsx", sheet_name="Indicateurs")
    checked = 0
    for i in range(len(t)):
        cell = ws.cell(i + 2, j_val)
        if cell.value is None:
            continue
        if ws.cell(i + 2, j_unit).value == "%":
            # Excel percentage: 0-1 stored, shown 22,3 %; the CSV says 22.3 for the same figure
            assert cell.number_format == "0.0%" and 0 <= cell.value <= 1
            assert t["Valeur"][i] == pytest.approx(100 * cell.value, abs=1e-4)
            checked += 1
        else:
            assert t["Valeur"][i] == pytest.approx(cell.value, abs=1e-4)
        assert ws.cell(i + 2, j_n).number_format == "0"
    assert checked > 100
    assert xl["Quartier"].tolist() == t["Quartier"].tolist()
    defs = pd.read_excel(tmp_path / "indicateurs.xlsx", sheet_name="Définitions")
    assert {"Indicateur", "Définition", "Source", "Unité"} <= set(defs.columns) and len(defs) == 68


def test_cli_machine_table(tmp_path):
    res = CliRunner().invoke(cli, ["indicators", "--out", str(tmp_path), "--format", "machine"])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "indicateurs_machine.csv", sep=";")
    assert list(t.columns) == COLUMNS and len(t) == 68 * 4
    pct = t["unit"] == "%"
    assert t.loc[pct, "estimate"].dropna().between(0, 1).all()


def test_agrees_with_r_survey(table):
    """Raked domain estimates, logit CIs, Rao-Scott p and means against R survey 4.1.1
    (tests/fixtures/r_indicators/make_reference.R on the same respondents)."""
    from pathlib import Path
    ref = pd.read_csv(Path(__file__).parent / "fixtures" / "r_indicators" / "reference_values.csv")
    z = stats.norm.ppf(0.975)
    checked = 0
    for rec in ref.itertuples(index=False):
        quartier = ENSEMBLE if rec.domain == "Ensemble" else rec.domain
        r = row(table, quartier, rec.indicator)
        if r["suppressed"]:  # blanked by the disclosure rules (vaccination 65+ in each quartier)
            continue
        got = {"estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
               "p_rao_scott": r["p_rao_scott"], "se": (r["ci_high"] - r["ci_low"]) / (2 * z)}[rec.stat]
        assert got == pytest.approx(rec.value, rel=1e-6), (rec.indicator, rec.domain, rec.stat)
        checked += 1
    assert checked >= 20


def test_labels_and_external_weights_give_the_same_table(table, inputs):
    """The notebooks' route: labelled answers (``.data``) + weights raked outside, with calibration."""
    import diagnostics as dls
    cat, project = inputs["catalogue"], inputs["project"]
    data = validate(DEFAULT_REPONSES, cat.questionnaire).data
    assert isinstance(data["renoncement"].dtype, pd.CategoricalDtype)
    frame, _ = dls.survey_frame(inputs["codes"], project, cat, inputs["margins"])
    frame = frame.dropna()
    res = dls.rake_wave(frame, dls.margins_frame(inputs["margins"], project))
    t = compute_indicators(data, None, project=project, catalogue=cat, weights=res.weights, calibration=res)
    for q in [*QUARTIERS, ENSEMBLE]:
        for ind in ("renoncement_soins", "precarite_epices", "who5_moyen"):
            a, b = row(t, q, ind), row(table, q, ind)
            assert (a["estimate"], a["ci_low"], a["n"]) == (pytest.approx(b["estimate"], rel=1e-9),
                                                           pytest.approx(b["ci_low"], rel=1e-9), b["n"])


def test_example_table_masks_only_what_the_rules_require(table, inputs):
    """Issue 17 item 6: the published example masks what the documented rules require, nothing more.

    Rules (``seuils`` of data/exemple/projet.yaml, protect/estimates.py):
    * survey estimates are masked only when fewer than ``repondants_minimum`` (11) people answered
      in the domain: the smallest domain of the example has 12 respondents (« dépistage du cancer
      du sein » at Bellevue), so no survey estimate is masked — « sans complémentaire santé » and
      « médecin traitant déclaré » are published in every quartier (84 of the values were masked
      under the rule of exhaustive counts);
    * the raw count of a survey row is blanked when it or its complement is under 11, and the
      « Ensemble » count with it;
    * extracts: the 4 indicators that the producer masked at Bellevue in extraits_synthetiques.csv
      (« secret statistique ») stay masked, and their « Ensemble » (the sum would be unknown).
    """
    proj = inputs["project"]
    assert (proj.repondants_minimum, proj.secret_statistique, proj.effectif_fragile) == (11, 11, 30)
    q = table[table["source"] == "questionnaire"]
    assert len(q) == 224 and int(q["suppressed"].sum()) == 0
    assert q["estimate"].notna().sum() == 224
    assert int(q["n"].min()) == 12
    row = q[(q["quartier"] == "Bellevue") & (q["indicator_id"] == "depistage_sein")].iloc[0]
    assert int(row["n"]) == 12 and bool(row["fragile"])
    for iid in ("sans_complementaire", "medecin_traitant"):
        assert q.loc[q["indicator_id"] == iid, "estimate"].notna().all()
    # raw counts: hidden when k < 11 or n − k < 11; every count shown is at least 11 both ways
    prop = q[q["unit"] == "%"]
    inner = prop[prop["quartier"] != ENSEMBLE]
    hidden = inner[inner["numerator"].isna()]
    assert set(zip(hidden["quartier"], hidden["indicator_id"])) >= {
        ("Biollay", "sans_complementaire"), ("Hauts-de-Chambéry", "sans_complementaire"),
        ("Bellevue", "sans_complementaire"), ("Bellevue", "medecin_traitant")}
    shown = inner[inner["numerator"].notna()]
    assert ((shown["numerator"] >= 11) & (shown["n"] - shown["numerator"] >= 11)).all()
    ens = prop[prop["quartier"] == ENSEMBLE].set_index("indicator_id")
    for iid in set(hidden["indicator_id"]):
        assert np.isnan(ens.at[iid, "numerator"])
    e = table[table["source"] != "questionnaire"]
    masked = e[e["suppressed"]]
    assert sorted(zip(masked["quartier"], masked["indicator_id"])) == sorted(
        (qq, iid) for iid in ("am_passages_urgences", "am_psychotropes", "am_ald", "am_ald_standardise")
        for qq in ("Bellevue", ENSEMBLE))
    assert set(masked["suppression_reason"]) == {"secret statistique"}
