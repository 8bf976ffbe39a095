"""Foreign and hostile answer files: every row accounted for, nothing altered, no formula, no bomb.

Files are written by other tools where they are installed (R haven for .dta/.sav, openpyxl
then a patched ``<dimension>``), or byte by byte as the tool in question writes them (ODK
Central CSV, a UTF-8 CSV with one Windows-1252 line).  Expected values come from the source
table the file was written from, never from the reader.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from diagnostics.cli import main
from diagnostics.io.formats import Limits
from diagnostics.collect.readers import read_answers
from diagnostics.collect.sample import SAMPLE_DIR
from diagnostics.collect.validation import validate, write_report
from diagnostics.config.questionnaire import load_questionnaire
from diagnostics.errors import UnreadableFileError

QN = load_questionnaire()
SAMPLE = SAMPLE_DIR / "reponses_synthetiques.csv"
PAYLOADS = ['=HYPERLINK("http://x","clic")', "+cmd", "@SUM(1)", "-2+3"]


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    monkeypatch.setenv("DLS_SECRET", "cle-de-test")


@pytest.fixture(scope="module")
def source():
    """The sample as the analyst's file holds it: every cell as text."""
    return pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False, encoding="cp1252")


def _codes(res):
    return res.codes.sort_index()


# --------------------------------------------------------------------------- workbooks

def _stale_dimension(path, ref):
    """Rewrite the first sheet's <dimension ref=…> of a workbook, as some writers leave it."""
    tmp = path.with_suffix(".tmp.xlsx")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, k = re.subn(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), data)
                assert k == 1
            zout.writestr(item, data)
    os.replace(tmp, path)


def test_stale_dimension_reads_every_row(tmp_path, source):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Saisie"
    ws.append(list(source.columns))
    for row in source.itertuples(index=False):
        ws.append([None if v == "" else v for v in row])
    path = tmp_path / "stale.xlsx"
    wb.save(path)
    _stale_dimension(path, "A1:CN100")  # claims 99 answer rows
    raw = read_answers(path, QN)
    assert raw.n_rows == len(source) == 406
    assert raw.table[["id_questionnaire"]].astype(str).iloc[:, 0].tolist() == source["id_questionnaire"].tolist()
    assert raw.table["commentaire"].fillna("").astype(str).replace("None", "").tolist() == \
        source["commentaire"].tolist()
    res = validate(path, QN)
    assert (res.n_read, res.n_accepted + res.n_rejected) == (406, 406)
    pd.testing.assert_frame_equal(_codes(res), _codes(validate(SAMPLE, QN)), check_dtype=False)


def test_answers_on_a_later_sheet_found_by_columns(tmp_path, source):
    path = tmp_path / "deux_feuilles.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame({"Notes": ["Enquête 2022", "Saisie par l'association"]}).to_excel(xw, sheet_name="Lisez-moi",
                                                                                        index=False)
        source.to_excel(xw, sheet_name="Export", index=False)
    raw = read_answers(path, QN)
    assert raw.sheet == "Export" and raw.n_rows == 406


def _xlsx_from_sheet_xml(path, sheet_xml: bytes):
    parts = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        b'<Default Extension="xml" ContentType="application/xml"/>'
        b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        b'</Types>',
        "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        b'<sheet name="Saisie" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def _sheet(rows_xml: bytes, dimension: bytes = b"") -> bytes:
    return (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + dimension + b"<sheetData>" + rows_xml + b"</sheetData></worksheet>")


HEADER = b'<row r="1">' + b"".join(f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>'.encode()
                                   for c, h in zip("ABCD", ["id_questionnaire", "canal", "quartier", "age"])) + b"</row>"


def test_bomb_one_far_cell_refused_fast(tmp_path):
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    path = _xlsx_from_sheet_xml(tmp_path / "bombe.xlsx", _sheet(HEADER + far))
    assert path.stat().st_size < 3000
    t0 = time.perf_counter()
    with pytest.raises(UnreadableFileError, match="est refusé : sa feuille s'étend jusqu'à la ligne 1.048.576 et la colonne 16.384"):
        read_answers(path, QN)
    assert time.perf_counter() - t0 < 5


def test_bomb_declared_dimension_refused(tmp_path):
    path = _xlsx_from_sheet_xml(tmp_path / "dim.xlsx", _sheet(HEADER, b'<dimension ref="A1:XFD1048576"/>'))
    with pytest.raises(UnreadableFileError, match="déclare 1.048.576 lignes × 16.384 colonnes"):
        read_answers(path, QN)


def test_bomb_million_empty_rows_refused(tmp_path):
    rows = b"".join(f'<row r="{i}"><c r="CN{i}"/></row>'.encode() for i in range(2, 1_000_001, 7))
    path = _xlsx_from_sheet_xml(tmp_path / "vide.xlsx", _sheet(HEADER + rows + b'<row r="1000000"><c r="CN1000000"/></row>'))
    with pytest.raises(UnreadableFileError, match="s'étend jusqu'à la ligne [0-9.\u202f]+ et la colonne 92"):
        read_answers(path, QN)
    # a looser limit lets the same file through, in bounded time: only the header has values
    with pytest.raises(UnreadableFileError, match="aucune ligne de réponses"):
        read_answers(path, QN, limits=Limits(max_workbook_cells=10 ** 9))


def test_bomb_huge_zip_member_refused_before_parsing(tmp_path):
    path = _xlsx_from_sheet_xml(tmp_path / "gros.xlsx", _sheet(HEADER))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/rembourrage.bin", b"\0" * (30 * 1024 ** 2))
    assert path.stat().st_size < 200_000
    with pytest.raises(UnreadableFileError, match="une fois décompressé.*10 Mo décompressés"):
        read_answers(path, QN, limits=Limits(max_bytes=10 * 1024 ** 2))


# --------------------------------------------------------------------------- CSV

def test_utf8_file_with_one_cp1252_line(tmp_path, source):
    text = SAMPLE.read_bytes().decode("cp1252")
    lines = text.split("\r\n")
    k = next(i for i, ln in enumerate(lines) if i > 0 and not ln.isascii())   # a line with accents
    data = "\r\n".join(lines[:k]).encode("utf-8") + b"\r\n" + lines[k].encode("cp1252") + b"\r\n" + \
        "\r\n".join(lines[k + 1:]).encode("utf-8")
    path = tmp_path / "melange.csv"
    path.write_bytes(data)
    raw = read_answers(path, QN)
    assert raw.n_rows == 406
    # every cell as in the source: no mojibake, no replacement character
    for col in ("commentaire", "canal"):
        assert raw.table[col].astype(str).tolist() == source[col].tolist()
    res = validate(path, QN)
    flagged = res.issues[res.issues["probleme"].str.contains("Windows-1252")]
    assert set(flagged["ligne"]) == {k + 1} and len(flagged) >= 1
    assert (flagged["consequence"] == "valeur conservée").all()
    assert res.n_accepted == 406


def test_ragged_row_rejected_by_number_rest_read(tmp_path, source):
    text = SAMPLE.read_bytes().decode("cp1252")
    lines = text.split("\r\n")
    lines[10] = lines[10] + ";commentaire avec ; en trop"
    path = tmp_path / "decale.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    res = validate(path, QN)
    assert res.n_read == 406 and res.n_rejected == 1 and res.n_accepted == 405
    assert res.rejected["ligne"].tolist() == [11]
    assert "94 champs" in res.rejected["motif"].iat[0] and "au lieu de 92" in res.rejected["motif"].iat[0]


def test_odk_central_export(tmp_path, source):
    groups = {q.name: ("grp_profil" if q.section == "profil" else "grp_sante") for q in QN}
    head = ["SubmissionDate"]
    for c in source.columns[1:]:
        owner = QN.column_owner(c)[0].name if c not in QN.questions else c
        head.append(f"{groups.get(owner, 'grp')}-{c}")
    body = source.drop(columns=["id_questionnaire"])
    odk = pd.DataFrame(body.to_numpy(), columns=head[1:])
    odk.insert(0, "SubmissionDate", "2022-06-01T10:00:00.000Z")
    odk["meta-instanceID"] = [f"uuid:{i:08d}-0000" for i in range(len(odk))]
    odk["KEY"] = odk["meta-instanceID"]
    odk["SubmitterID"] = "3"
    path = tmp_path / "odk_central.csv"
    odk.to_csv(path, index=False, encoding="utf-8")
    raw = read_answers(path, QN)
    assert raw.id_source == "KEY" and raw.kobo and raw.n_rows == 406
    assert raw.table["id_questionnaire"].astype(str).tolist() == odk["KEY"].tolist()
    assert "SubmitterID" not in raw.unknown_columns
    res = validate(path, QN)
    assert res.n_accepted == 406
    ref = validate(SAMPLE, QN).codes
    assert np.allclose(res.codes["age"].to_numpy(), ref["age"].to_numpy(), equal_nan=True)


def test_kobo_labels_export(tmp_path, source):
    ref = validate(SAMPLE, QN)
    labels = pd.DataFrame({"_uuid": [f"u{i}" for i in range(len(ref.data))]})
    for q in QN:
        if q.type == "single":
            labels[q.label] = ref.data[q.name].astype(object).where(ref.data[q.name].notna(), "").to_numpy()
        elif q.type == "multiple":
            for c in q.choices:
                labels[f"{q.label}/{c.label}"] = ref.codes[f"{q.name}_{c.code}"].map(
                    lambda v: "" if pd.isna(v) else str(int(v))).to_numpy()
        elif q.type in ("integer", "decimal"):
            labels[q.label] = source[q.name].to_numpy()          # numbers as typed (999 = refus)
    path = tmp_path / "kobo_libelles.csv"
    labels.to_csv(path, index=False, encoding="utf-8")
    res = validate(path, QN)
    assert res.n_read == 406
    singles = [q.name for q in QN if q.type == "single"]
    got = res.codes[singles].to_numpy()
    assert np.array_equal(np.nan_to_num(got, nan=-1), np.nan_to_num(ref.codes[singles].to_numpy(), nan=-1))


def test_kobo_labels_export_multiple_choice_summary_column(tmp_path, source):
    """Kobo's « labels » export writes a select_multiple as the chosen options' labels joined by
    spaces (formpack, FormChoiceFieldWithMultipleSelect.format: " ".join(labels)); labels contain
    spaces themselves, and the answers must come back whole, not rejected."""
    ref = validate(SAMPLE, QN)
    labels = pd.DataFrame({"_uuid": [f"u{i}" for i in range(len(ref.data))]})
    multiple = [q for q in QN if q.type == "multiple"]
    for q in QN:
        if q.type == "single":
            labels[q.label] = ref.data[q.name].astype(object).where(ref.data[q.name].notna(), "").to_numpy()
        elif q.type == "multiple":
            ticks = ref.codes[[f"{q.name}_{c.code}" for c in q.choices]].to_numpy()
            labels[q.label] = [" ".join(c.label for c, t in zip(q.choices, row) if t == 1) for row in ticks]
        elif q.type in ("integer", "decimal"):
            labels[q.label] = source[q.name].to_numpy()
    assert any(" " in c.label for q in multiple for c in q.choices)        # the hard case is there
    assert labels[multiple[0].label].str.count(" ").max() > 3              # several labels in a cell
    path = tmp_path / "kobo_libelles_resume.csv"
    labels.to_csv(path, index=False, encoding="utf-8")
    res = validate(path, QN)
    assert res.n_read == 406 == res.n_accepted + res.n_rejected
    for q in multiple:
        cols = [f"{q.name}_{c.code}" for c in q.choices]
        asked = ref.codes[cols].notna().any(axis=1).to_numpy()
        got = res.codes.loc[asked, cols].fillna(0).to_numpy()
        assert np.array_equal(got, ref.codes.loc[asked, cols].fillna(0).to_numpy()), q.name
    assert not any("libellés d'options" in str(r) for r in res.rejected.get("motif", []))


# --------------------------------------------------------------------------- SPSS / Stata from R haven

needs_r = pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")


@needs_r
def test_stata_extended_missing_from_haven(tmp_path):
    dta = tmp_path / "haven.dta"
    script = f"""
    library(haven)
    d <- read.csv2("{SAMPLE}", fileEncoding = "CP1252", colClasses = "character", na.strings = "")
    d$age <- as.numeric(d$age)
    d$age[3] <- tagged_na("b")                      # refused
    for (col in c("medecin_traitant", "dentiste_12m")) d[[col]] <- as.numeric(d[[col]])
    d$medecin_traitant[5] <- tagged_na("a")
    d$medecin_traitant <- labelled(d$medecin_traitant, c(Oui = 1, Non = 2, "Ne sait pas" = tagged_na("a")))
    d$dentiste_12m[7] <- tagged_na("a")               # no label: .a is « ne sait pas » by convention
    d <- d[, c("id_questionnaire", "canal", "quartier", "age", "sexe", "medecin_traitant", "dentiste_12m")]
    write_dta(d, "{dta}")
    """
    subprocess.run(["Rscript", "-e", script], check=True, capture_output=True)
    res = validate(dta, QN)
    assert res.n_read == 406
    codes = res.codes.set_index(res.sources["ligne"])
    assert codes.loc[5, "medecin_traitant"] == 98 and codes.loc[7, "dentiste_12m"] == 98
    # age .b → the questionnaire's « refus » code for numbers (999): a non-response, not a letter
    assert np.isnan(codes.loc[3, "age"])
    ages = res.issues[(res.issues["colonne"] == "age") & (res.issues["ligne"] == 3)]
    assert not ages["valeur"].isin(["a", "b"]).any()


@needs_r
def test_spss_user_missing_from_haven(tmp_path):
    sav = tmp_path / "haven.sav"
    script = f"""
    library(haven)
    d <- read.csv2("{SAMPLE}", fileEncoding = "CP1252", colClasses = "character", na.strings = "")
    d <- d[, c("id_questionnaire", "canal", "quartier", "age", "sexe", "medecin_traitant")]
    m <- as.numeric(d$medecin_traitant); m[m == 98] <- -1; m[2] <- -1
    d$medecin_traitant <- labelled_spss(m, c(Oui = 1, Non = 2, "Ne sait pas" = -1), na_values = -1)
    write_sav(d, "{sav}")
    """
    subprocess.run(["Rscript", "-e", script], check=True, capture_output=True)
    res = validate(sav, QN)
    assert res.n_read == 406
    codes = res.codes.set_index(res.sources["ligne"])
    assert codes.loc[2, "medecin_traitant"] == 98
    src = pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False, encoding="cp1252")
    expected = pd.to_numeric(src["medecin_traitant"].str.extract(r"^(\d+)")[0], errors="coerce")
    expected.iloc[1] = 98
    got = codes["medecin_traitant"].reindex(range(1, 407)).to_numpy()
    assert np.array_equal(np.nan_to_num(got, nan=-1), np.nan_to_num(expected.to_numpy(dtype=float), nan=-1))


# --------------------------------------------------------------------------- injection

def _formula_cells(path):
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return [(ws.title, c.coordinate) for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_validation_report_keeps_payloads_as_text(tmp_path, source):
    bad = source.iloc[:8].copy()
    for k, p in enumerate(PAYLOADS):
        bad.loc[bad.index[k], "commentaire"] = p        # free text
        bad.loc[bad.index[k], "sexe"] = p                      # choice cell → rejected, value in the report
        bad.loc[bad.index[4 + k], "id_questionnaire"] = p      # ids
        bad.loc[bad.index[4 + k], "quartier"] = p
    bad[PAYLOADS[0]] = "x"                                     # header
    path = tmp_path / "injection.csv"
    bad.to_csv(path, sep=";", index=False, encoding="utf-8")
    res = validate(path, QN)
    out = write_report(res, tmp_path / "controle.xlsx")
    assert _formula_cells(out) == []
    from openpyxl import load_workbook
    values = {c.value for ws in load_workbook(out) for row in ws.iter_rows() for c in row}
    assert {"+cmd", "@SUM(1)", PAYLOADS[0]} <= values          # kept unchanged, as text
    # the rejected rows CSV of ``dls extraits`` and any CSV go through the safe writer
    from diagnostics.io.spreadsheet import write_csv
    rej = res.rejected.copy()
    rej["valeur"] = (PAYLOADS * len(rej))[:len(rej)]
    csv_path = write_csv(rej, tmp_path / "rejets.csv")
    cells = [c for line in csv_path.read_text("utf-8-sig").splitlines() for c in line.split(";")]
    assert not [c for c in cells if c[:1] in "=+-@"]


# --------------------------------------------------------------------------- outputs, Ctrl-C

def test_report_parent_is_a_file(tmp_path, capsys):
    (tmp_path / "fichier").write_text("x")
    with pytest.raises(SystemExit) as e:
        main(["check", str(SAMPLE), "--rapport", str(tmp_path / "fichier" / "r.xlsx")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "inattendue" not in err
    assert "est un fichier, pas un dossier" in err and str(tmp_path / "fichier") in err


def test_unwritable_folder(tmp_path, capsys, monkeypatch):
    import diagnostics.io.spreadsheet as sp

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied", str(tmp_path / "verrou" / "r.xlsx"))

    (tmp_path / "verrou").mkdir()
    monkeypatch.setattr(sp, "stream_workbook", refuse)
    with pytest.raises(SystemExit) as e:
        main(["check", str(SAMPLE), "--rapport", str(tmp_path / "verrou" / "r.xlsx")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and f"dossier « {tmp_path / 'verrou'} » : vous n'avez pas le droit d'y écrire" in err


@pytest.mark.slow
def test_ctrl_c_during_build_keeps_previous_outputs(tmp_path):
    from diagnostics.engine.build import MARKER

    out = tmp_path / "livrables"
    out.mkdir()
    (out / MARKER).write_text("précédent")
    (out / "dls_biollay.html").write_text("ancien rapport")
    env = {**os.environ, "DLS_SECRET": "x", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-c", "from diagnostics.cli import main; main()", "build", "--out",
                             str(out), "--sans-pdf"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=tmp_path)
    lines = [proc.stdout.readline() for _ in range(2)]  # « Projet : … », « [0/7] Démarrage du noyau Python… »
    assert any("Démarrage" in line for line in lines), lines
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Interrompu" in err
    assert (out / "dls_biollay.html").read_text() == "ancien rapport"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["livrables"]   # no half-built folder left


# --------------------------------------------------------------------------- personal data

PLANTED = ["06 12 34 56 78", "0612345678", "jean.zorglub@example.org", "Zorglub", "Bidochonnet"]


def _deliverable_texts(folder):
    """Text of every file of a deliverables folder: HTML, PDF (pdftotext), CSV, XLSX, anything else."""
    from openpyxl import load_workbook

    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".pdf":
            yield p, subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True, check=True).stdout
        elif p.suffix == ".xlsx":
            wb = load_workbook(p, read_only=True)
            yield p, " ".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v)
        else:
            yield p, p.read_bytes().decode("utf-8", errors="replace")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
def test_no_planted_personal_data_in_deliverables(tmp_path):
    import yaml

    from diagnostics import paths
    from diagnostics.io.pdf import find_chromium
    from diagnostics.engine.build import build

    try:
        find_chromium()
        pdf = True
    except Exception:  # noqa: BLE001 - no browser: the HTML and CSV are still searched
        pdf = False
    proj = tmp_path / "projet"
    shutil.copytree(paths.EXAMPLE, proj)
    conf = yaml.safe_load((paths.EXAMPLE_PROJECT).read_text(encoding="utf-8"))
    for key, value in conf["donnees"].items():
        conf["donnees"][key] = str((paths.EXAMPLE / value).resolve())
    (proj / "projet.yaml").write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    answers = pd.read_csv(proj / "reponses_synthetiques.csv", sep=";", dtype=str, keep_default_na=False,
                          encoding="cp1252")
    answers.loc[0, "id_questionnaire"] = "06 12 34 56 78"              # key column: a phone number
    answers.loc[1, "id_questionnaire"] = "jean.zorglub@example.org"     # an e-mail
    answers.loc[2, "id_questionnaire"] = "Zorglub Bidochonnet"          # a name
    answers.loc[3, "id_questionnaire"] = "Zorglub Bidochonnet"          # … twice: a rejected duplicate
    answers.loc[4, "age"] = "0612345678"                                 # rejected: out of range
    for k in range(5, 60):
        answers.loc[k, "commentaire"] = ("Appelez-moi au 06 12 34 56 78 ou jean.zorglub@example.org, "
                                         "demandez Mme Bidochonnet ou M. Zorglub.")
    answers.to_csv(proj / "reponses_synthetiques.csv", sep=";", index=False, encoding="cp1252")
    out = tmp_path / "livrables"
    build(out, proj / "projet.yaml", pdf=pdf)
    leaks = [(p.name, s) for p, text in _deliverable_texts(out) for s in PLANTED if s.lower() in text.lower()]
    assert leaks == []
