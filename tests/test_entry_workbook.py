"""The entry workbook reloads, validates the right columns, documents every column and round-trips data."""
import numpy as np
import openpyxl
import pandas as pd
import pytest

from diagnostics.collect.entry_workbook import write_entry_workbook
from diagnostics.config.questionnaire import load_questionnaire
from diagnostics.errors import DLSError


@pytest.fixture(scope="module")
def qn():
    return load_questionnaire()


@pytest.fixture(scope="module")
def sample(qn):
    """A small table of codes, as the sample-data engineer will pass it."""
    return pd.DataFrame({
        "id_questionnaire": ["B-0001", "H-0002", "V-0003"],
        "canal": [1, 5, 3],
        "date_reponse": pd.to_datetime(["2022-03-01", "2022-04-15", None]),
        "quartier": [1, 4, 3],
        "quartier_autre": [None, "Les Combes", None],
        "age": [34, 99, 67],
        "sexe": [1, 2, 1],
        "complementaire": [98, 2, np.nan],
        "renoncement": [1, 2, 1],
        "renoncement_soins_1": [1, np.nan, 0],
        "renoncement_soins_2": [0, np.nan, 1],
        "who5_1": [0, 5, 3],
        "commentaire": ["Plus de bancs, svp", None, "Le bruit « la nuit »"],
    })


@pytest.fixture(scope="module")
def book(qn, sample, tmp_path_factory):
    path = write_entry_workbook(qn, tmp_path_factory.mktemp("saisie") / "saisie.xlsx", sample)
    return path, openpyxl.load_workbook(path)


def _validations(ws):
    """{column header: DataValidation} for the Saisie sheet."""
    head = {c.column_letter: c.value.split(" · ")[-1] for c in ws[1]}
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            first = rng.coord.split(":")[0]
            out[head[first.rstrip("0123456789")]] = (dv, rng.coord)
    return out


def test_sheets_and_header(qn, book):
    wb = book[1]
    assert wb.sheetnames == ["Saisie", "Dictionnaire", "Mode d'emploi"]
    ws = wb["Saisie"]
    assert [c.value for c in ws[1]] == ["id_questionnaire", *[qn.question_label(c) for c in qn.asked_columns]]
    # the paper form's numbers, counted by hand in the YAML: canal, date_reponse, quartier, …
    assert ws["B1"].value == "Q1 · canal" and ws["D1"].value == "Q3 · quartier"
    assert qn.question_number("sexe") == 6 and qn.question_label("renoncement_raisons_1").startswith("Q")
    assert qn.question_number("renoncement_raisons_1") == qn.question_number("renoncement_raisons")
    assert ws.freeze_panes == "B2"
    assert ws.column_dimensions["A"].width >= 10


def test_validations_on_the_right_columns(qn, book):
    ws = book[1]["Saisie"]
    v = _validations(ws)
    assert set(v) == {"id_questionnaire", *qn.asked_columns}
    dv, coord = v["complementaire"]
    letter = coord[0:coord.index("2")]
    assert dv.type == "list" and dv.formula1 == '"1,2,3,4,98,99"' and coord == f"{letter}2:{letter}2001"
    assert "2 = Complémentaire santé solidaire (CSS)" in dv.prompt and "99 = Ne souhaite pas répondre" in dv.prompt
    assert v["enfants"][0].formula1 == '"1,2"'  # no missing code declared
    assert v["who5_1"][0].formula1 == '"5,4,3,2,1,0"'
    assert v["nuisances_3"][0].formula1 == '"0,1"' and "Pollution de l'air" in v["nuisances_3"][0].prompt
    # age: 15..110 or 999 needs a custom formula, relative to the first data row
    age_letter = v["age"][1].split(":")[0][:-1]
    assert v["age"][0].type == "custom"
    assert v["age"][0].formula1 == (f"OR(AND(ISNUMBER({age_letter}2),{age_letter}2=INT({age_letter}2),"
                                    f"{age_letter}2>=15,{age_letter}2<=110),{age_letter}2=999)")
    assert v["date_reponse"][0].type == "date" and v["date_reponse"][0].formula2 == "DATE(2030,12,31)"
    assert v["commentaire"][0].type == "textLength" and v["commentaire"][0].formula1 == "2000"
    assert "renoncement = 1" in v["renoncement_raisons_9"][0].prompt  # filter explained
    for dv, _ in v.values():  # Excel limits
        assert len(dv.prompt) <= 255 and len(dv.error) <= 255
        assert len(dv.promptTitle) <= 32 and len(dv.errorTitle) <= 32
        assert dv.showErrorMessage and dv.errorStyle == "stop"


def test_dictionary_lists_every_column(qn, book):
    ws = book[1]["Dictionnaire"]
    head = [c.value for c in ws[1]]
    col = head.index("Colonne")
    listed = {r[col] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert listed == set(qn.columns)
    assert len(list(ws.iter_rows(min_row=2))) == len(qn.codebook())
    help_text = " ".join(str(c.value) for c in book[1]["Mode d'emploi"]["A"] if c.value)
    assert "id_questionnaire" in help_text and "98" in help_text and "version 2022.1" in help_text


def test_round_trip_through_pandas(sample, book):
    back = pd.read_excel(book[0], sheet_name="Saisie", engine="openpyxl")
    back.columns = [c.split(" · ")[-1] for c in back.columns]
    assert len(back) == len(sample)
    got = back[sample.columns]
    pd.testing.assert_frame_equal(got, sample, check_dtype=False)
    assert back.drop(columns=sample.columns).isna().all().all()  # nothing else written


def test_bad_data_is_refused_in_french(qn, tmp_path):
    with pytest.raises(DLSError, match="« poids »"):
        write_entry_workbook(qn, tmp_path / "x.xlsx", pd.DataFrame({"id_questionnaire": [1], "poids": [3]}))
    with pytest.raises(DLSError, match="id_questionnaire"):
        write_entry_workbook(qn, tmp_path / "x.xlsx", pd.DataFrame({"age": [30]}))
    assert not (tmp_path / "x.xlsx").exists()


def test_empty_template(qn, tmp_path):
    wb = openpyxl.load_workbook(write_entry_workbook(qn, tmp_path / "vide.xlsx", max_rows=50))
    ws = wb["Saisie"]
    assert ws.max_row == 1
    assert _validations(ws)["sexe"][1].endswith("51")


def test_cli_saisie(tmp_path):
    from click.testing import CliRunner

    from diagnostics.cli import cli

    out = tmp_path / "saisie.xlsx"
    res = CliRunner().invoke(cli, ["questionnaire", "saisie", "--out", str(out), "--lignes", "10"])
    assert res.exit_code == 0, res.output
    assert "Classeur de saisie écrit" in res.output
    ws = openpyxl.load_workbook(out)["Saisie"]
    assert _validations(ws)["age"][1].endswith("11")
