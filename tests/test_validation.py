"""Validation: the four sample formats give the same clean tables; the broken file is diagnosed
cell by cell; counts reconcile; the CLI exits 0/1/2 with French messages; pseudonyms are keyed."""
import hashlib
import hmac
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from diagnostics.cli import cli
from diagnostics.collect.pseudonym import get_secret, pseudonym, pseudonymise
from diagnostics.collect.sample import SAMPLE_DIR, generate_answers
from diagnostics.collect.validation import validate, write_report
from diagnostics.config.questionnaire import load_questionnaire

SECRET = b"secret-de-test"
QN = load_questionnaire()
BROKEN = SAMPLE_DIR / "reponses_erronees_synthetiques.csv"


@pytest.fixture(scope="module")
def results():
    names = {"csv": "reponses_synthetiques.csv", "xlsx": "reponses_synthetiques.xlsx",
             "sav": "reponses_synthetiques.sav", "kobo": "reponses_synthetiques_kobo.csv"}
    return {k: validate(SAMPLE_DIR / v, QN, secret=SECRET) for k, v in names.items()}


@pytest.fixture(scope="module")
def broken():
    return validate(BROKEN, QN, secret=SECRET)


def test_sample_formats_give_identical_tables(results):
    ref = results["csv"]
    assert (ref.n_read, ref.n_accepted, ref.n_rejected, ref.n_warnings) == (406, 406, 0, 0)
    for k in ("xlsx", "sav"):
        pd.testing.assert_frame_equal(results[k].codes, ref.codes)
        pd.testing.assert_frame_equal(results[k].data, ref.data)
    # Kobo identifies respondents by _uuid: same rows and values, other pseudonyms
    kobo = results["kobo"]
    pd.testing.assert_frame_equal(kobo.codes.reset_index(drop=True), ref.codes.reset_index(drop=True))
    pd.testing.assert_frame_equal(kobo.data.reset_index(drop=True), ref.data.reset_index(drop=True))
    raw_ids = pd.read_csv(SAMPLE_DIR / "reponses_synthetiques.csv", sep=";", encoding="cp1252", dtype=str)["id_questionnaire"]
    uuids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"dls-synthetique/{i}")) for i in raw_ids]
    assert kobo.codes.index.tolist() == pseudonymise(uuids, SECRET).tolist()


def test_clean_tables_match_the_generator(results):
    """The validated CSV gives back the generator's codes (numbers), labels in .data."""
    gen = generate_answers()
    codes = results["csv"].codes.reset_index(drop=True)
    for c in ("quartier", "age", "sexe", "renoncement", "renoncement_soins_2", "who5_3", "complementaire"):
        expected = gen[c].where(~((c == "age") & (gen[c] == 999)))  # age "refus" is not a number
        np.testing.assert_array_equal(codes[c].to_numpy(), expected.to_numpy(dtype=float))
    data = results["csv"].data
    assert list(data["quartier"].cat.categories) == ["Biollay", "Hauts-de-Chambéry", "Bellevue", "Autre quartier"]
    assert data["quartier"].value_counts()["Hauts-de-Chambéry"] == 170
    assert "Ne sait pas" in data["medecin_traitant"].cat.categories
    assert (data["medecin_traitant"] == "Ne sait pas").sum() == (gen["medecin_traitant"] == 98).sum() > 0
    assert data.index.name == "id_repondant" and data.index.is_unique
    assert list(data.columns) == QN.columns


def test_index_is_keyed_hash_and_raw_id_absent(results):
    res = results["csv"]
    raw_first = pd.read_csv(SAMPLE_DIR / "reponses_synthetiques.csv", sep=";", encoding="cp1252", dtype=str)["id_questionnaire"][0]
    expected = hmac.new(SECRET, raw_first.encode(), hashlib.sha256).hexdigest()[:16]
    assert res.codes.index[0] == expected
    assert not res.data.astype(str).apply(lambda s: s.str.fullmatch(r"Q\d{4}")).any().any()
    assert not res.data.index.str.fullmatch(r"Q\d{4}").any()


def test_hmac_rfc4231_vector():
    # RFC 4231 test case 1: key = 0x0b * 20, data = "Hi There"
    assert pseudonym("Hi There", secret=b"\x0b" * 20) == "b0344c61d8db3853"
    assert pseudonym(12.0, secret=b"k") == pseudonym(" 12 ", secret=b"k")


def test_secret_file_created_once(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DLS_SECRET", raising=False)
    p = tmp_path / ".dls_secret"
    s1 = get_secret(p)
    assert len(s1) == 64 and int(s1, 16) >= 0
    assert "secret de pseudonymisation a été créé" in capsys.readouterr().err
    assert get_secret(p) == s1 and capsys.readouterr().err == ""
    monkeypatch.setenv("DLS_SECRET", "autre")
    assert get_secret(p) == b"autre"


def test_broken_file_counts_and_rejections(broken):
    assert broken.n_read == 16 == broken.n_accepted + broken.n_rejected
    assert broken.n_accepted == 8
    rej = {(r.ligne, r.colonne) for r in broken.rejected.itertuples()}
    assert rej == {(4, "quartier"), (5, "age"), (6, "age"), (7, "id_questionnaire"), (8, ""),
                   (9, "sexe"), (12, "id_questionnaire"), (15, "canal")}
    assert broken.sources["ligne"].tolist() == [2, 3, 10, 11, 13, 14, 16, 17]


def test_broken_file_names_each_bad_cell(broken):
    iss = broken.issues
    pairs = set(zip(iss["ligne"], iss["colonne"], iss["consequence"]))
    for cell in [(1, "remarque_saisie", "colonne ignorée"), (10, "sante_generale", "cellule vidée"),
                 (11, "date_reponse", "cellule vidée"), (13, "taille_foyer", "cellule vidée"),
                 (14, "who5_1", "cellule vidée"), (16, "renoncement_soins_2", "cellule vidée"),
                 (16, "renoncement_soins", "laissée vide"), (17, "renoncement_soins", "cellule vidée"),
                 (17, "depistage_sein", "cellule vidée"), (5, "age", "ligne rejetée")]:
        assert cell in pairs, cell
    msg = iss.loc[(iss["ligne"] == 5) & (iss["colonne"] == "age"), "message"].iloc[0]
    assert msg == ("« reponses_erronees_synthetiques.csv », ligne 5, colonne « age » : valeur 130 hors de "
                   "l'intervalle autorisé (attendu : un nombre entier de 15 à 110 ou 999 (Ne souhaite pas répondre)) ; "
                   "ligne rejetée.")
    dup = broken.rejected.set_index("ligne").loc[7, "motif"]
    assert "en double" in dup and "ligne 2" in dup
    # row 3: accent-free label and "code - libellé" accepted
    row3 = broken.codes[broken.sources["ligne"] == 3].iloc[0]
    assert (row3["quartier"], row3["sexe"]) == (2.0, 2.0)


def test_warnings_blank_the_cells(broken):
    by_row = broken.codes.assign(ligne=broken.sources["ligne"].to_numpy()).set_index("ligne")
    assert np.isnan(by_row.loc[10, "sante_generale"])
    assert pd.isna(by_row.loc[11, "date_reponse"])
    assert np.isnan(by_row.loc[13, "taille_foyer"])
    assert np.isnan(by_row.loc[17, "depistage_sein"])
    assert by_row.loc[17, [f"renoncement_soins_{k}" for k in range(1, 10)]].isna().all()
    assert by_row.loc[16, "renoncement"] == 1 and by_row.loc[16, "renoncement_soins_2"] != 3


def test_duplicates_across_files(tmp_path):
    res = validate([BROKEN, BROKEN], QN, secret=SECRET)
    assert res.n_read == 32 and res.n_accepted == 8 and res.n_rejected == 24
    # every non-empty row of the second copy repeats an identifier of the first (rows 8 and 12 have none)
    assert res.rejected["motif"].str.contains("en double").sum() == 1 + 14
    last = res.rejected.iloc[-1]
    assert last["ligne"] == 17 and "déjà vu ligne 17 du fichier n° 1 « reponses_erronees_synthetiques.csv »" in last["motif"]


def test_html_report_escapes_values(tmp_path):
    p = tmp_path / "xss.csv"
    p.write_text("id_questionnaire;canal;quartier;age;sexe\nA1;1;1;<script>alert(1)</script>;1\nA2;1;1;40;1\n",
                 encoding="utf-8")
    res = validate(p, QN, secret=SECRET)
    assert (res.n_accepted, res.n_rejected) == (1, 1)
    out = write_report(res, tmp_path / "rapport.html")
    text = out.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text


def test_cli_check_broken_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DLS_SECRET", "x")
    out = tmp_path / "rapport.xlsx"
    r = CliRunner().invoke(cli, ["check", str(BROKEN), "--rapport", str(out)])
    assert r.exit_code == 1, r.output
    assert "16 lignes lues, 8 acceptées, 8 rejetées" in r.output
    sheets = pd.read_excel(out, sheet_name=None, engine="openpyxl")
    assert set(sheets) == {"Résumé", "Problèmes"}
    prob = sheets["Problèmes"]
    assert list(prob.columns) == ["Fichier", "Ligne", "Colonne", "Question", "Valeur", "Problème", "Attendu",
                                  "Conséquence"]
    assert ((prob["Ligne"] == 4) & (prob["Colonne"] == "quartier") & (prob["Conséquence"] == "ligne rejetée")).any()
    # the paper form's number: « quartier » is its third question (canal, date_reponse, quartier in
    # questionnaires/dls_habitants.yaml); a column of no question has none
    assert set(prob.loc[prob["Colonne"] == "quartier", "Question"]) == {"Q3"}
    assert prob.loc[prob["Colonne"].isna() | (prob["Colonne"] == ""), "Question"].isna().all()
    assert ((prob["Ligne"] == 17) & (prob["Colonne"] == "depistage_sein")).any()


def test_cli_check_clean_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DLS_SECRET", "x")
    r = CliRunner().invoke(cli, ["check", str(SAMPLE_DIR / "reponses_synthetiques.sav"),
                                 "--rapport", str(tmp_path / "r.html")])
    assert r.exit_code == 0 and "406 lignes lues, 406 acceptées, 0 rejetée" in r.output


def _unreadable_cases(tmp_path):
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    empty = tmp_path / "vide.csv"
    empty.write_bytes(b"")
    return [png, empty, tmp_path / "absent.csv", SAMPLE_DIR / "marges_population_synthetiques.csv"]


def test_cli_unreadable_files_exit_2(tmp_path, monkeypatch):
    monkeypatch.setenv("DLS_SECRET", "x")
    runner = CliRunner()
    for f in _unreadable_cases(tmp_path):
        r = runner.invoke(cli, ["check", str(f), "--rapport", str(tmp_path / "r.xlsx")])
        assert r.exit_code == 2, (f, r.output)
        msg = r.output.strip()
        assert msg.startswith("Erreur : ") and msg.count("\n") == 0 and f.name in msg, msg
    r = runner.invoke(cli, ["check", str(SAMPLE_DIR / "reponses_synthetiques.xlsx"), "--feuille", "Dictionnaire"])
    assert r.exit_code == 2 and "feuille « Dictionnaire » ne contient pas les colonnes" in r.output


def test_console_script_exit_2_without_traceback(tmp_path):
    dls = Path(sys.executable).with_name("dls")
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    p = subprocess.run([str(dls), "check", str(png)], capture_output=True, text=True, cwd=tmp_path,
                       env={"DLS_SECRET": "x", "PATH": "/usr/bin:/bin"})
    assert p.returncode == 2
    assert p.stderr.strip() == ("Erreur : Le fichier « photo.csv » ne peut pas être lu : c'est une image PNG, "
                                "pas un tableau de réponses (CSV, Excel, SPSS ou Stata).")
    assert "Traceback" not in p.stderr + p.stdout


def test_progress_reaches_total(monkeypatch):
    monkeypatch.setenv("DLS_SECRET", "x")
    seen = []
    validate(SAMPLE_DIR / "reponses_synthetiques.csv", progress=lambda d, t, label: seen.append((d, t)))
    total = seen[0][1]
    assert [d for d, _ in seen] == list(range(1, total + 1)) and total == 1 + len(load_questionnaire().questions)
