"""Readers: format detection from content, French CSV conventions, labels, Kobo, SPSS, Stata."""
import datetime as dt
import zipfile

import pandas as pd
import pytest

from diagnostics.io.formats import detect_format
from diagnostics.collect.readers import read_answers
from diagnostics.collect.sample import SAMPLE_DIR
from diagnostics.collect.values import (
    normalise_label,
    parse_choice,
    parse_date,
    parse_multiple_text,
    parse_number,
    parse_tick,
)
from diagnostics.config.questionnaire import load_questionnaire
from diagnostics.errors import UnreadableFileError

QN = load_questionnaire()


@pytest.mark.parametrize("name, fmt", [("reponses_synthetiques.csv", "csv"), ("reponses_synthetiques.xlsx", "xlsx"),
                                       ("reponses_synthetiques.sav", "sav"), ("reponses_synthetiques_kobo.csv", "csv")])
def test_detect_format_of_samples(name, fmt):
    assert detect_format(SAMPLE_DIR / name) == fmt


def test_detect_format_ignores_extension(tmp_path):
    wrong = tmp_path / "vraiment_excel.csv"
    wrong.write_bytes((SAMPLE_DIR / "reponses_synthetiques.xlsx").read_bytes())
    assert detect_format(wrong) == "xlsx"
    sav = tmp_path / "spss.xlsx"
    sav.write_bytes((SAMPLE_DIR / "reponses_synthetiques.sav").read_bytes())
    assert detect_format(sav) == "sav"


@pytest.mark.parametrize("content, words", [
    (b"", "vide"), (b"   \n\n", "vide"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image PNG"),
    (b"%PDF-1.4\n%\xe2\xe3", "PDF"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "ancien classeur"),
    (bytes(range(256)) * 4, "binaire")])
def test_unreadable_contents(tmp_path, content, words):
    p = tmp_path / "reponses.csv"
    p.write_bytes(content)
    with pytest.raises(UnreadableFileError) as exc:
        detect_format(p)
    assert words in str(exc.value) and "reponses.csv" in str(exc.value)


def test_zip_that_is_not_a_workbook(tmp_path):
    p = tmp_path / "a.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "bonjour")
    with pytest.raises(UnreadableFileError, match="archive ZIP"):
        detect_format(p)


def test_nonexistent_path():
    with pytest.raises(UnreadableFileError, match="n'existe pas"):
        detect_format("/nulle/part/reponses.csv")


def test_normalise_label():
    assert normalise_label("Hauts-de-Chambéry") == normalise_label("hauts de chambery") == "hauts de chambery"
    assert normalise_label("  ÉTUDIANT(E) ou en formation ") == "etudiant e ou en formation"


@pytest.mark.parametrize("value, code", [(2, 2), (2.0, 2), ("2", 2), (" 2,0 ", 2), ("homme", 2), ("HOMME", 2),
                                         ("2 - Homme", 2), ("2 – homme", 2), (None, None), ("", None)])
def test_parse_choice_accepts_codes_labels_and_code_label(value, code):
    assert parse_choice(value, QN["sexe"], QN) == (code, None)


def test_parse_choice_problems():
    q = QN["quartier"]
    assert parse_choice("hauts de chambery", q, QN) == (2, None)
    assert parse_choice("Ne sait pas", QN["who5_1"], QN) == (98, None)  # recognised, judged by validation
    code, prob = parse_choice("1 - Homme", QN["sexe"], QN)
    assert code is None and "ne concordent pas" in prob
    code, prob = parse_choice("Pigeon voyageur", QN["canal"], QN)
    assert code is None and "Pigeon voyageur" in prob
    assert parse_choice(1.5, q, QN)[0] is None


def test_parse_number_french_and_english():
    assert parse_number("12,5") == (12.5, None)
    assert parse_number("1 600") == (1600.0, None)
    assert parse_number("1\u202f600,25") == (1600.25, None)
    assert parse_number("1.600,5") == (1600.5, None)
    assert parse_number("12.5") == (12.5, None)
    assert parse_number(" 42 ", integer=True) == (42.0, None)
    assert parse_number("2,5", integer=True)[1] == "« 2,5 » n'est pas un nombre entier"
    assert parse_number("trente")[1] == "« trente » n'est pas un nombre"


def test_parse_date_forms():
    d = dt.date(2022, 3, 5)
    assert parse_date("05/03/2022") == (d, None)
    assert parse_date("5/3/22") == (d, None)
    assert parse_date("2022-03-05T10:30:00.000+01:00") == (d, None)  # Kobo _submission_time / start
    assert parse_date(dt.datetime(2022, 3, 5, 0, 0)) == (d, None)
    assert parse_date(44625) == (d, None)  # Excel serial: 44562 is 01/01/2022, + 63 days
    assert parse_date("31/02/2022")[0] is None


def test_parse_tick_and_multiple_text():
    assert [parse_tick(v)[0] for v in (1, "0", "oui", "X", "", None)] == [1, 0, 1, 1, None, None]
    assert parse_tick("3")[1] == "« 3 » n'est ni 0 (non coché) ni 1 (coché)"
    q = QN["renoncement_soins"]
    assert parse_multiple_text("1 3 5", q) == ({1, 3, 5}, None)
    assert parse_multiple_text(2.0, q) == ({2}, None)
    assert parse_multiple_text("Dentiste", q) == ({2}, None)
    assert parse_multiple_text("1 42", q) == ({1}, "code inconnu « 42 »")


def _small_table():
    return pd.DataFrame({"id_questionnaire": ["A1", "A2"], "canal": ["1", "Cabinet médical"], "date_reponse": ["05/03/2022", "06/03/2022"],
                         "quartier": ["Biollay", "3"], "age": ["45", "70"], "sexe": ["femme", "2"], "taille_foyer": ["2", "1"]})


@pytest.mark.parametrize("encoding, sep, prefix", [("cp1252", ";", ""), ("utf-8-sig", ",", ""), ("utf-8", "\t", ""),
                                                   ("cp1252", ";", "sep=;\r\n")])
def test_csv_encodings_and_separators(tmp_path, encoding, sep, prefix):
    p = tmp_path / "t.txt"
    p.write_bytes(prefix.encode() + _small_table().to_csv(sep=sep, index=False, lineterminator="\r\n").encode(encoding))
    raw = read_answers(p, QN)
    assert raw.format == "csv"
    assert raw.table["canal"].tolist() == ["1", "Cabinet médical"]
    assert raw.rows == ([3, 4] if prefix else [2, 3])
    assert "sexe" in raw.table and "enfants" in raw.absent_columns


def test_xlsx_first_sheet_with_header_and_trailing_blank_rows(tmp_path):
    p = tmp_path / "saisie_maison.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"notes": ["rien"]}).to_excel(xw, sheet_name="Notes", index=False)
        pd.concat([_small_table(), pd.DataFrame([[None] * 7] * 3, columns=_small_table().columns)]).to_excel(
            xw, sheet_name="Feuil1", index=False)
    raw = read_answers(p, QN)
    assert raw.sheet == "Feuil1" and len(raw.table) == 2 and raw.rows == [2, 3]


def test_table_without_questionnaire_columns(tmp_path):
    p = tmp_path / "autre.csv"
    p.write_text("nom;prenom;ville\nA;B;C\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="ne contient pas les colonnes du questionnaire"):
        read_answers(p, QN)


def test_missing_identifier_column(tmp_path):
    p = tmp_path / "sans_id.csv"
    _small_table().drop(columns="id_questionnaire").to_csv(p, sep=";", index=False)
    with pytest.raises(UnreadableFileError, match="id_questionnaire"):
        read_answers(p, QN)


def test_kobo_headers_and_meta():
    raw = read_answers(SAMPLE_DIR / "reponses_synthetiques_kobo.csv", QN)
    assert raw.kobo and raw.id_source == "_uuid"
    assert raw.renamed["profil/age"] == "age"
    assert raw.renamed["soins/renoncement_soins/3"] == "renoncement_soins_3"
    assert raw.renamed["soins/renoncement_soins"] == "renoncement_soins"
    assert raw.unknown_columns == []  # _id, start, end, __version__… ignored silently
    assert raw.table["id_questionnaire"].str.fullmatch(r"[0-9a-f-]{36}").all()


def test_sav_value_labels_mapped_back(tmp_path):
    import pyreadstat

    df = _small_table().copy()
    # the file codes sexe 1 = Homme, 2 = Femme (the reverse of the questionnaire)
    df["sexe"] = [2.0, 1.0]
    for c in ("canal", "quartier", "age", "taille_foyer"):
        df[c] = [1.0, 3.0] if c != "age" and c != "taille_foyer" else [45.0, 70.0]
    df["date_reponse"] = pd.to_datetime(["2022-03-05", "2022-03-06"]).astype("datetime64[ns]")
    p = tmp_path / "inverse.sav"
    pyreadstat.write_sav(df, str(p), variable_value_labels={"sexe": {1.0: "Homme", 2.0: "Femme"}})
    raw = read_answers(p, QN)
    assert raw.format == "sav"
    assert raw.table["sexe"].tolist() == [1, 2]  # Femme, Homme in questionnaire codes
    assert raw.rows == [1, 2]  # SPSS case numbers


# --------------------------------------------------------------------------- round trips through other formats

@pytest.fixture(scope="module")
def reference():
    from diagnostics.collect.validation import validate
    return validate(SAMPLE_DIR / "reponses_synthetiques.csv", QN, secret=b"k")


def test_stata_round_trip(tmp_path, reference):
    """Codes written to .dta by pyreadstat (as Stata users would) read back to the same tables."""
    import pyreadstat

    from diagnostics.collect.sample import generate_answers
    from diagnostics.collect.validation import validate

    gen = generate_answers()
    gen["date_reponse"] = pd.to_datetime(gen["date_reponse"]).astype("datetime64[ns]")
    for c in ("quartier_autre", "commentaire"):
        gen[c] = gen[c].fillna("").str.replace("\n", " ")  # Stata strings: no line break
    labels = {"sexe": {1: "Femme", 2: "Homme"}, "quartier": {c.code: c.label for c in QN["quartier"].choices}}
    p = tmp_path / "reponses.dta"
    pyreadstat.write_dta(gen, str(p), variable_value_labels=labels)
    assert detect_format(p) == "dta"
    res = validate(p, QN, secret=b"k")
    assert (res.n_read, res.n_accepted) == (406, 406)
    ref = reference.codes.copy()
    ref["commentaire"] = pd.Series([s if s is None else s.replace("\n", " ") for s in ref["commentaire"]],
                                   index=ref.index, dtype=object)
    pd.testing.assert_frame_equal(res.codes, ref)


def test_kobo_variants_dash_prefix_xlsx_and_space_separated_only(tmp_path, reference):
    from diagnostics.collect.validation import validate

    kobo = pd.read_csv(SAMPLE_DIR / "reponses_synthetiques_kobo.csv", dtype=str, keep_default_na=False)
    # "-" as group separator, only the space-separated select_multiple columns, in an XLSX export
    tick_cols = [c for c in kobo.columns if c.count("/") == 2]
    variant = kobo.drop(columns=tick_cols)
    variant.columns = [c.replace("/", "-") for c in variant.columns]
    p = tmp_path / "export_kobo.xlsx"
    variant.to_excel(p, sheet_name="DLS habitants", index=False)
    res = validate(p, QN, secret=b"k")
    assert res.n_accepted == 406 and res.n_warnings == 0
    pd.testing.assert_frame_equal(res.codes.reset_index(drop=True), reference.codes.reset_index(drop=True))


def test_kobo_inconsistent_multiple_columns_warn(tmp_path):
    from diagnostics.collect.validation import validate

    kobo = pd.read_csv(SAMPLE_DIR / "reponses_synthetiques_kobo.csv", dtype=str, keep_default_na=False).head(3)
    kobo.loc[0, "services/services_utilises"] = "1 2"
    kobo.loc[0, [f"services/services_utilises/{k}" for k in range(1, 9)]] = ["1", "0", "0", "0", "0", "0", "0", "0"]
    p = tmp_path / "k.csv"
    kobo.to_csv(p, index=False)
    res = validate(p, QN, secret=b"k")
    iss = res.issues
    assert list(zip(iss["ligne"], iss["colonne"])) == [(2, "services_utilises")]
    assert res.codes["services_utilises_1"].iloc[0] == 1 and res.codes["services_utilises_2"].iloc[0] == 0


def test_kobo_submission_time_replaces_missing_date(tmp_path, reference):
    from diagnostics.collect.validation import validate

    kobo = pd.read_csv(SAMPLE_DIR / "reponses_synthetiques_kobo.csv", dtype=str, keep_default_na=False)
    p = tmp_path / "sans_date.csv"
    kobo.drop(columns="recueil/date_reponse").to_csv(p, index=False, sep=";")
    res = validate(p, QN, secret=b"k")
    assert res.codes["date_reponse"].tolist() == reference.codes["date_reponse"].tolist()
    assert res.issues.empty


def test_multiple_choice_labels_joined_by_spaces_split_whole_or_reported():
    """A Kobo « labels » cell is the chosen labels joined by spaces: split into whole labels; a
    cell that splits two ways is reported, never guessed."""
    import dataclasses

    from diagnostics.config.questionnaire import Choice
    q = dataclasses.replace(QN["renoncement_soins"],
                            choices=[Choice(1, "Soins"), Choice(2, "Dentaires"), Choice(3, "Soins dentaires"),
                                     Choice(4, "Médecin généraliste")])
    assert parse_multiple_text("Médecin généraliste Soins", q) == ({1, 4}, None)
    assert parse_multiple_text("médecin  GÉNÉRALISTE dentaires", q) == ({2, 4}, None)
    codes, problem = parse_multiple_text("Soins dentaires", q)   # {3} or {1, 2}: ambiguous
    assert codes is None and "deux façons" in problem and "3 (Soins dentaires)" in problem
    assert parse_multiple_text("Soins dentaires Médecin", q)[0] is None   # « Médecin » is no label
