"""Extract readers: French CSV (cp1252 / utf-8-sig, ';', decimal comma) and XLSX, masked cells, rejections."""
from __future__ import annotations

import math

import numpy as np
import pytest
from openpyxl import Workbook

from diagnostics.collect.extracts import (
    parse_age_band,
    parse_number,
    read_extract,
    read_extracts,
    read_references,
)
from diagnostics.errors import DLSError
from diagnostics.paths import EXAMPLE
from diagnostics.stats import rates

SAMPLE = EXAMPLE / "extraits_synthetiques.csv"
REFS = EXAMPLE / "references.yaml"

HEADER = "niveau;code_territoire;libelle_territoire;indicateur;annee;classe_age;sexe;numerateur;denominateur;taux"


def _write(tmp_path, lines, encoding="cp1252", name="extrait.csv"):
    p = tmp_path / name
    p.write_bytes("\r\n".join(lines).encode(encoding))
    return p


# ----------------------------------------------------------------------------- sample file
def test_sample_extract_reads_completely():
    res = read_extract(SAMPLE)
    # 121 rows of 2021 + 56 earlier years (2017-2020) of 5 indicators in the 3 QPV, one masked in 2021
    assert (res.n_read, res.n_accepted, res.n_rejected) == (177, 177, 0)
    d = res.data
    assert set(d["level"]) == {"QPV", "commune", "département", "région", "France"}
    assert d["indicator_id"].nunique() >= 10
    # decimal comma and thousands read right
    row = d[(d.territory_code == "QN073001") & (d.indicator_id == "medecin_traitant")].iloc[0]
    assert (row.numerator, row.denominator, row.value) == (1949, 2320, 84.0)
    assert row.ligne == 6  # 4 comment lines + header: first data row is line 6 in Excel
    # masked cells: missing, flagged, token kept, never zero
    m = d[d["masked"]]
    assert len(m) == 6
    assert m["numerator"].isna().all()
    assert sorted(m["masked_token"]) == ["<10", "nd", "s", "s", "s", "secret"]
    assert not (d["numerator"] == 0).any()


def test_sample_extract_feeds_rates_and_dsr():
    d = read_extract(SAMPLE).data
    whole = d[(d.age_group == "Ensemble") & (d.sex == "Ensemble") & (d.unit == "%")]
    out = rates.proportion_ci(whole, "numerator", "denominator")
    ok = ~whole["masked"]
    # the published percentage (1 decimal) agrees with numerator / denominator
    assert np.allclose(out.loc[ok, "estimate"] * 100, whole.loc[ok, "value"], atol=0.05)
    assert out.loc[~ok, "estimate"].isna().all()
    ald = d[(d.indicator_id == "ald") & (d.age_group != "Ensemble")]
    std = rates.dsr(ald, "numerator", "denominator", "age_group", by=["territory_code"])
    std = std.set_index("territory_code")
    assert std.loc["QN073001", "estimate"] > 0 and std.loc["QN073001", "method"] == "Dobson"
    assert math.isnan(std.loc["QN073003", "estimate"])  # Bellevue has a masked band « <10 »
    assert "masqué" in std.loc["QN073003", "note"]
    # QPV populations are younger: standardised ALD rate above the crude one (synthetic design)
    crude = ald[ald.territory_code == "QN073001"]
    crude_rate = crude.numerator.sum() / crude.denominator.sum() * 100_000
    assert std.loc["QN073001", "estimate"] > crude_rate


# ----------------------------------------------------------------------------- French CSV quirks
def test_cp1252_semicolon_decimal_comma_titles_and_rejections(tmp_path):
    lines = [
        "Extraction ORS Auvergne-Rhône-Alpes – données fictives",   # title line above the header
        "",
        HEADER,
        "QPV;QN073001;Biollay;recours_dentiste;2021;Ensemble;Ensemble;1 234;3 980;31,0",   # row 4
        "Commune;73065;Chambéry;recours_dentiste;2021;;;23 533;58 833;40,0",             # row 5
        "Département;73;Savoie;recours_dentiste;2021;Tous âges;Ensemble;<10;436 434;s",  # row 6 masked
        "Région;8;Auvergne-Rhône-Alpes;recours_dentiste;2021;Ensemble;Ensemble;NA;;",   # row 7 padded, masked
        "QPV;QN073002;Hauts;recours_dentiste;2021;Ensemble;Ensemble;douze;4700;",        # row 8 bad number
        "Canton;7301;X;recours_dentiste;2021;Ensemble;Ensemble;5;10;50",                 # row 9 bad level
        "commune;7306;X;recours_dentiste;2021;Ensemble;Ensemble;5;10;50",               # row 10 bad code? padded → 07306
        "commune;73065;Chambéry;recours_dentiste;21;Ensemble;Ensemble;5;10;50",         # row 11 bad year
        "commune;73065;Chambéry;recours_dentiste;2021;Ensemble;Ensemble;5;10;50",       # row 12 duplicate of 5
        "France;FR;France;recours_dentiste;2021;Ensemble;Ensemble;-3;10;50",            # row 13 negative
        "France;FR;France;recours_dentiste;2021;vieux;Ensemble;3;10;30",                # row 14 bad age
        "France;;France;recours_dentiste;2020-2021;Ensemble;F;3;10;30",                 # row 15 ok (FR, Femme)
    ]
    p = _write(tmp_path, lines, "cp1252")
    res = read_extract(p)
    assert res.n_read == 12 and res.n_read == res.n_accepted + res.n_rejected
    d = res.data.set_index("ligne")
    assert d.at[4, "numerator"] == 1234 and d.at[4, "denominator"] == 3980 and d.at[4, "value"] == 31.0
    assert d.at[5, "territory"] == "Chambéry" and d.at[5, "age_group"] == "Ensemble"
    assert d.at[6, "masked"] and d.at[6, "masked_token"] == "<10" and math.isnan(d.at[6, "numerator"])
    assert d.at[7, "territory_code"] == "08" and d.at[7, "masked"] and d.at[7, "masked_token"] == "NA"
    assert d.at[10, "territory_code"] == "07306"
    assert d.at[15, "territory_code"] == "FR" and d.at[15, "sex"] == "Femme" and d.at[15, "year"] == "2020-2021"
    rej = res.rejected.set_index("ligne")
    assert sorted(rej.index) == [8, 9, 11, 12, 13, 14]
    assert (rej["fichier"] == "extrait.csv").all()
    assert rej.at[8, "colonne"] == "numerateur" and rej.at[8, "valeur"] == "douze"
    assert "non numérique" in rej.at[8, "motif"] and "attendu" in rej.at[8, "motif"]
    assert rej.at[9, "colonne"] == "niveau" and "QPV, commune" in rej.at[9, "motif"]
    assert rej.at[11, "colonne"] == "annee" and "2020-2021" in rej.at[11, "motif"]
    assert "doublon de la ligne 5" in rej.at[12, "motif"]
    assert "négatif" in rej.at[13, "motif"]
    assert rej.at[14, "colonne"] == "classe_age"
    # the padding of codes is reported as a warning, not a rejection
    warn = res.issues[res.issues.gravite == "avertissement"]
    assert set(warn["ligne"]) == {7, 10}


def test_utf8_sig_and_comment_lines_and_comma_separator(tmp_path):
    lines = ["# commentaire", "niveau,code,indicateur,année,numérateur,dénominateur",
             "QPV,QN073001,c2s,2021,\"696\",\"2900\""]
    p = _write(tmp_path, lines, "utf-8-sig")
    res = read_extract(p)
    assert res.n_accepted == 1 and res.data.at[0, "numerator"] == 696 and res.data.at[0, "ligne"] == 3


def test_missing_required_column_is_a_french_error(tmp_path):
    p = _write(tmp_path, ["niveau;code_territoire;indicateur;numerateur", "QPV;QN073001;c2s;5"])
    with pytest.raises(DLSError, match=r"« extrait.csv », ligne 1 : la colonne « annee » est absente"):
        read_extract(p)
    p = _write(tmp_path, ["niveau;code;valeur", "QPV;QN073001;5"])
    with pytest.raises(DLSError, match="aucune ligne d'en-tête"):
        read_extract(p)
    p = _write(tmp_path, ["niveau;code_territoire;indicateur;annee;denominateur", "QPV;QN073001;c2s;2021;5"])
    with pytest.raises(DLSError, match=r"« extrait.csv », ligne 1 : .*« numerateur » ou « valeur »"):
        read_extract(p)
    p = _write(tmp_path, ["niveau;indicateur;annee;numerateur;sexe", "QPV;c2s;2021;5;F"])
    with pytest.raises(DLSError, match="« code_territoire » est absente"):
        read_extract(p)
    with pytest.raises(DLSError, match="introuvable"):
        read_extract(tmp_path / "absent.csv")


# ----------------------------------------------------------------------------- XLSX
def test_xlsx_extract(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Source : Assurance Maladie (données fictives)"])
    ws.append(["Niveau", "Code territoire", "Indicateur", "Année", "Classe d'âge", "Numérateur", "Dénominateur"])
    ws.append(["QPV", "QN073001", "ald", 2021, "0-14", 80, 638])
    ws.append(["QPV", "QN073001", "ald", 2021, "15-29", "<10", 638])
    ws.append(["QPV", "QN073001", "ald", 2021, "30-44", None, 580])
    ws.append(["commune", 73065, "ald", 2021, "75 ans et plus", 3412.0, 5883])
    ws.append(["département", 73, "ald", "2021", "Ensemble", "x7", 436434])
    ws.append([None, None, None, None, None, None, None])
    p = tmp_path / "extrait.xlsx"
    wb.save(p)
    res = read_extract(p)
    assert (res.n_read, res.n_accepted, res.n_rejected) == (5, 4, 1)
    d = res.data.set_index("ligne")
    assert d.at[3, "numerator"] == 80 and d.at[3, "year"] == "2021"
    assert d.at[4, "masked"] and d.at[4, "masked_token"] == "<10"
    assert d.at[5, "masked"] and d.at[5, "masked_token"] == "(vide)"
    assert d.at[6, "territory_code"] == "73065" and d.at[6, "age_group"] == "75 ans et plus"
    assert res.rejected.iloc[0].to_dict() == {
        "fichier": "extrait.xlsx", "ligne": 7, "colonne": "Numérateur", "valeur": "x7",
        "motif": res.rejected.iloc[0]["motif"]}


def test_read_extracts_rejects_duplicates_across_files(tmp_path):
    a = _write(tmp_path, [HEADER, "QPV;QN073001;B;c2s;2021;;;5;10;50"], name="a.csv")
    b = _write(tmp_path, [HEADER, "QPV;QN073001;B;c2s;2021;;;6;10;60", "QPV;QN073002;H;c2s;2021;;;6;10;60"],
               name="b.csv")
    res = read_extracts([a, b])
    assert (res.n_read, res.n_accepted, res.n_rejected) == (3, 2, 1)
    assert res.rejected.iloc[0]["fichier"] == "b.csv" and res.rejected.iloc[0]["ligne"] == 2


# ----------------------------------------------------------------------------- parsers
@pytest.mark.parametrize("cell,expected", [
    ("12,5", (12.5, False)), ("1 600", (1600.0, False)), ("1\u202f600,25", (1600.25, False)),
    ("1.600,25", (1600.25, False)), ("3.5", (3.5, False)), (7, (7.0, False)), ("45 %", (45.0, False)),
    ("<10", (None, True)), ("< 5", (None, True)), ("s", (None, True)), ("ND", (None, True)),
    ("Secret", (None, True)), ("secret statistique", (None, True)), ("", (None, True)),
    (None, (None, True)), (float("nan"), (None, True)), ("NA", (None, True)),
])
def test_parse_number(cell, expected):
    number, masked, _ = parse_number(cell)
    assert (number, masked) == expected


def test_parse_number_rejects_text():
    with pytest.raises(ValueError):
        parse_number("douze")


def test_parse_age_band():
    assert parse_age_band("15-29 ans") == (15, 29)
    assert parse_age_band("15 à 29 ans") == (15, 29)
    assert parse_age_band("90+") == (90, math.inf)
    assert parse_age_band("moins de 15 ans") == (0, 14)
    with pytest.raises(DLSError, match="classe d'âge"):
        parse_age_band("jeunes")


# ----------------------------------------------------------------------------- references
def test_references_file_cites_its_published_values():
    ref = read_references(REFS)
    pub = ref[ref.status == "publiée"].set_index("indicator_id")
    # PQE « Maladie » 2.2.1 (evaluation.securite-sociale.fr): participation 2021, 51 % (sein), 35 % (colorectal)
    assert pub.at["depistage_sein", "value"] == 0.51 and pub.at["depistage_colorectal", "value"] == 0.35
    # organised screening only: never a comparator of « mammography within 2 years, any setting »
    # (the questionnaire indicator), the same definition as the Assurance Maladie's participation
    # (the extract): comparability judged per indicator (issue 27)
    sein = pub.loc["depistage_sein"]
    assert sein["comparabilite_indicateurs"] == {"depistage_sein": "différente"}
    assert sein["mesure"] == "enregistrée" and sein["comparabilite"] == "même"
    from diagnostics.collect.references import comparable

    assert not comparable(sein.to_dict(), "depistage_sein", "questionnaire")
    assert comparable(sein.to_dict(), "am_depistage_sein", "extrait")
    survey_row = {"comparabilite": "proche", "mesure": "déclarée", "comparabilite_indicateurs": {}}
    assert comparable(survey_row, "depistage_sein", "questionnaire")
    assert not comparable(survey_row, "am_depistage_sein", "extrait")   # self-report vs records
    # 59.9 % was read only in a press article: « à confirmer », never printed
    conf = ref[ref.status == "à confirmer"].set_index("indicator_id")
    assert conf.at["vaccination_grippe_65", "value"] == 0.599
    assert pub["url"].str.startswith("https://").all()
    assert set(ref["level"]) == {"commune", "département", "région", "France"}
    # the synthetic extract reproduces the published national values
    d = read_extract(SAMPLE).data
    fr = d[(d.level == "France") & d.indicator_id.isin(pub.index)].set_index("indicator_id")
    for iid, row in pub.iterrows():
        assert fr.at[iid, "numerator"] / fr.at[iid, "denominator"] == pytest.approx(row["value"], abs=5e-7)


def test_references_errors(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("references:\n  - {indicator_id: a, level: canton, territory_code: x, period: '2021', "
                 "value: 1, status: publiée, source: s}\n", encoding="utf-8")
    with pytest.raises(DLSError, match="niveau « canton » inconnu"):
        read_references(p)
    p.write_text("references:\n  - {indicator_id: a, level: France, territory_code: FR, period: '2021', "
                 "value: 1, status: publiée}\n", encoding="utf-8")
    with pytest.raises(DLSError, match="« source » manque"):
        read_references(p)


def test_cli_extraits(tmp_path):
    from click.testing import CliRunner

    from diagnostics.cli import cli

    ok = CliRunner().invoke(cli, ["extraits", str(SAMPLE)])
    assert ok.exit_code == 0 and "177 lignes lues : 177 acceptées, 0 rejetées ; 6 valeurs masquées" in ok.output
    bad = _write(tmp_path, [HEADER, "QPV;QN073001;B;c2s;2021;;;douze;10;50"])
    out = tmp_path / "rejets.csv"
    res = CliRunner().invoke(cli, ["extraits", str(bad), "--rejets", str(out)])
    assert res.exit_code == 1 and "ligne 2, colonne « numerateur », valeur « douze »" in res.output
    assert "douze" in out.read_text(encoding="utf-8-sig")


def test_a_quartier_found_by_name_is_never_its_namesake():
    """« Biollay » is « Biollay (QPV, code illustratif) », never « Biollay 2 » (a 10-quartier project summed
    both into one territory, then refused the doubled age bands); a name matching two codes is refused."""
    import pandas as pd
    import pytest

    from diagnostics.engine.extract_estimates import pick_territory
    from diagnostics.errors import DLSError

    rows = pd.DataFrame({"level": "QPV", "territory_code": ["QN1", "QN2", "QN3"],
                         "territory": ["Biollay (QPV, code illustratif)", "Biollay 2 (QPV)", "Bellevue"]})
    assert pick_territory(rows, "QPV", label="Biollay")["territory_code"].tolist() == ["QN1"]
    assert pick_territory(rows, "QPV", label="Biollay 2")["territory_code"].tolist() == ["QN2"]
    assert pick_territory(rows, "QPV", label="bellevue")["territory_code"].tolist() == ["QN3"]
    assert pick_territory(rows, "QPV", code="QN2", label="Biollay")["territory_code"].tolist() == ["QN2"]
    twice = pd.concat([rows, rows.assign(territory_code=["QN9", "QN8", "QN7"])])
    with pytest.raises(DLSError, match="« Biollay » correspond à 2 territoires.*QN1, QN9"):
        pick_territory(twice, "QPV", label="Biollay")
