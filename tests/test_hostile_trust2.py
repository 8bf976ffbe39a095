"""Issue 19 (« Trust 2 »): binary garbage, control characters, read-only outputs, huge shared
strings, wide exports, Kobo « labels » exports with group names, deliverables folder rights.

Expected values come from the files as written here (the sample's own cells, counts of bytes
planted), never from the reader.
"""
import gc
import os
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from diagnostics import fmt
from diagnostics.cli import main
from diagnostics.io.formats import Limits
from diagnostics.collect.readers import read_answers
from diagnostics.collect.sample import SAMPLE_DIR
from diagnostics.collect.validation import validate, write_report
from diagnostics.config.questionnaire import load_questionnaire
from diagnostics.errors import UnreadableFileError

QN = load_questionnaire()
SAMPLE = SAMPLE_DIR / "reponses_synthetiques.csv"


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    monkeypatch.setenv("DLS_SECRET", "cle-de-test")


def _run(capsys, *argv):
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    gc.collect()                                   # a half-closed writer would complain here
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


# --------------------------------------------------------------------------- binary garbage

def test_binary_tail_refused_before_any_report(tmp_path, capsys):
    data = SAMPLE.read_bytes()
    path = tmp_path / "queue_binaire.csv"
    tail = bytes(range(256)) * 40                   # a binary tail: every byte value, NUL included
    path.write_bytes(data + tail)
    report = tmp_path / "r.xlsx"
    code, _, err = _run(capsys, "check", str(path), "--rapport", str(report))
    assert code == 2 and not report.exists()
    assert "Traceback" not in err and "inattendue" not in err
    lines = data.count(b"\n") + 1                  # the tail starts on the line after the last one
    assert f"à partir de la ligne {lines} (octet n° {fmt.number(len(data) + 1)})" in err   # first NUL
    assert "queue_binaire.csv" in err and "binaire" in err


def test_nul_bytes_after_8k_refused(tmp_path, capsys):
    data = SAMPLE.read_bytes()
    path = tmp_path / "nuls.csv"
    path.write_bytes(data[:9000] + b"\x00" * 64 + data[9000:])
    code, _, err = _run(capsys, "check", str(path), "--rapport", str(tmp_path / "r.xlsx"))
    assert code == 2 and "Traceback" not in err
    line = data[:9000].count(b"\n") + 1
    assert f"à partir de la ligne {line} (octet n° {fmt.number(9001)})" in err
    assert not (tmp_path / "r.xlsx").exists()


def test_stray_control_characters_replaced_and_counted(tmp_path, capsys):
    from openpyxl import load_workbook

    src = pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False, encoding="cp1252")
    src.loc[3, "commentaire"] = "tab\x0bvertical et \x1b échappement"      # 2 controls, free text
    src.loc[5, "sexe"] = "Fem\x01me"                                        # 1 control, rejected cell
    path = tmp_path / "controles.csv"
    src.to_csv(path, sep=";", index=False, encoding="utf-8")
    report = tmp_path / "r.xlsx"
    code, _, err = _run(capsys, "check", str(path), "--rapport", str(report))
    assert code == 1 and "Traceback" not in err and "inattendue" not in err
    wb = load_workbook(report)
    cells = [c for ws in wb for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "Fem\ufffdme" in cells                                           # the value, shown visibly
    summary = dict(r for r in wb["Résumé"].iter_rows(values_only=True))
    planted_in_report = sum(c.count("\ufffd") for ws in [wb["Problèmes"]]
                            for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str))
    key = next(k for k in summary if k.startswith("Caractères de contrôle remplacés"))
    assert int(summary[key]) == planted_in_report >= 1
    # HTML report: same replacement
    html_out = write_report(validate(path, QN), tmp_path / "r.html")
    text = html_out.read_text(encoding="utf-8")
    assert "\x01" not in text and "Fem\ufffdme" in text


def test_report_into_unwritable_folder_no_traceback(tmp_path, capsys, monkeypatch):
    """The folder refuses the file (a read-only folder; as root, chmod does not stop us, so the
    refusal the system gives is played by ``mkstemp``): French message, exit 2, nothing else."""
    import tempfile

    folder = tmp_path / "lecture_seule"
    folder.mkdir()
    real = tempfile.mkstemp

    def refuse(*a, dir=None, **k):
        if dir is not None and os.fspath(dir) == str(folder):
            raise PermissionError(13, "Permission denied", os.path.join(str(folder), "x"))
        return real(*a, dir=dir, **k)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code, _, err = _run(capsys, "check", str(SAMPLE), "--rapport", str(folder / "r.xlsx"))
    assert code == 2
    assert "Traceback" not in err and "Exception ignored" not in err and "closed file" not in err
    assert f"dossier « {folder} » : vous n'avez pas le droit d'y écrire" in err
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_report_into_read_only_folder(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, _, err = _run(capsys, "check", str(SAMPLE), "--rapport", str(folder / "r.xlsx"))
    finally:
        folder.chmod(0o755)
    assert code == 2 and "Traceback" not in err and "Exception ignored" not in err


# --------------------------------------------------------------------------- wide exports

def _wide_csv(directory, n_columns=10_000):
    """The sample with 0/1 columns appended up to ``n_columns`` (written as text: building a
    406 × 9 908 DataFrame cell by cell took 49 s)."""
    src = pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False, encoding="cp1252")
    extra = n_columns - src.shape[1]
    base = src.to_csv(sep=";", index=False, lineterminator="\n").splitlines()
    ticks = ("0;1" * (extra // 2 + 1))[:2 * extra - 1], ("1;0" * (extra // 2 + 1))[:2 * extra - 1]
    header = ";".join(f"grp_long/option_{k}" for k in range(extra))
    lines = [base[0] + ";" + header] + [row + ";" + ticks[i % 2] for i, row in enumerate(base[1:])]
    path = directory / "large.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, src, extra


@pytest.fixture(scope="module")
def wide_csv(tmp_path_factory):
    return _wide_csv(tmp_path_factory.mktemp("wide"))


def test_wide_export_read_whole(wide_csv):
    """10 000 columns (a long form with every multiple choice split): read, every answer kept."""
    path, src, extra = wide_csv
    raw = read_answers(path, QN)
    assert raw.n_rows == 406 and len(raw.unknown_columns) == extra == 10_000 - 92
    assert raw.table["id_questionnaire"].astype(str).tolist() == src["id_questionnaire"].tolist()
    res = validate(path, QN)
    assert res.n_accepted == validate(SAMPLE, QN).n_accepted


def test_wide_export_counts_exact_when_refused(wide_csv):
    """The header is counted whole (it was cut at 64 Ko: « 6527 colonnes » for 10 000)."""
    path, _, _ = wide_csv
    with pytest.raises(UnreadableFileError) as e:
        read_answers(path, QN, limits=Limits(max_columns=5_000))
    assert f"il a {fmt.number(10_000)} colonnes" in str(e.value)
    with pytest.raises(UnreadableFileError) as e:
        read_answers(path, QN, limits=Limits(max_cells=1_000_000))
    assert f"{fmt.number(10_000)} colonnes sur 406 lignes, soit {fmt.number(4_060_000)} cellules" in str(e.value)


# --------------------------------------------------------------------------- huge shared string

def huge_shared_string_xlsx(path, n_chars, char=b"a"):
    """A valid answers workbook (20 sample rows) whose xl/sharedStrings.xml holds one text of
    ``n_chars`` times ``char``, referenced by a cell: 280 Mio of « a » deflate to a 288 Ko file."""
    import io

    from openpyxl import Workbook

    src = pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False, encoding="cp1252").iloc[:20]
    wb = Workbook()
    ws = wb.active
    ws.append(list(src.columns))
    for r in src.itertuples(index=False):
        ws.append(list(r))
    bio = io.BytesIO()
    wb.save(bio)
    with zipfile.ZipFile(bio) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.'
                                    b'org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                    b"</Relationships>")
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            elif item.filename == "xl/worksheets/sheet1.xml":
                first_end = data.index(b"</row>")
                second_end = data.index(b"</row>", first_end + 1)
                data = data[:second_end] + b'<c r="CZ2" t="s"><v>0</v></c>' + data[second_end:]
            zout.writestr(item, data)
        with zout.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                     b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>')
            step = 1 << 20
            for k in range(0, n_chars, step):
                fh.write(char * min(step, n_chars - k))
            fh.write(b"</t></si></sst>")
    return path


HUGE_MESSAGE = ("un texte de xl/sharedStrings.xml (les textes partagés du classeur) compte plus de "
                f"{fmt.number(32_767)} caractères, la limite d'une cellule Excel")


@pytest.mark.parametrize("mib", [30, pytest.param(280, marks=pytest.mark.slow)])
def test_huge_shared_string_refused_fast(tmp_path, mib):
    """280 Mio: the 288 Ko file of the issue.  Before: 165 s and 3.5 Go (calamine builds the
    text); after: refused in 0.14 s, streamed (benchmarks/bench_hostile.py measures it)."""
    path = huge_shared_string_xlsx(tmp_path / "texte_geant.xlsx", mib * (1 << 20))
    if mib == 280:
        assert 250_000 < path.stat().st_size < 320_000
    t = time.perf_counter()
    with pytest.raises(UnreadableFileError) as e:
        read_answers(path, QN)
    assert time.perf_counter() - t < 10                           # streamed, never built (generous bound)
    assert HUGE_MESSAGE in str(e.value) and "« texte_geant.xlsx » est refusé" in str(e.value)


def test_shared_string_at_excel_limit_read_exactly(tmp_path):
    """32 767 characters (Excel's cell limit) are read whole; 32 768 are refused; an escaped
    ``&amp;`` counts as one character."""
    ok = huge_shared_string_xlsx(tmp_path / "limite.xlsx", 32_767)
    raw = read_answers(ok, QN)
    assert raw.n_rows == 20
    over = huge_shared_string_xlsx(tmp_path / "trop.xlsx", 32_768)
    with pytest.raises(UnreadableFileError, match="compte plus de"):
        read_answers(over, QN)
    amp = huge_shared_string_xlsx(tmp_path / "esperluettes.xlsx", 32_767, char=b"&amp;")  # 32 767 « & »
    assert read_answers(amp, QN).n_rows == 20


# --------------------------------------------------------------------------- Kobo « labels » with groups

def _labels_export(source, *, groups: bool, split: bool, sep=","):
    """A Kobo « labels » export as formpack heads it (kobotoolbox/formpack,
    src/formpack/schema/fields.py, ``Field._get_label`` with ``hierarchy_in_labels``: group
    labels then the question label joined by ``group_sep`` « / »; ``_get_option_label``: the
    question's label, « / », the option's label for a select_multiple 0/1 column; summary
    column: the chosen options' labels joined by spaces)."""
    ref = validate(SAMPLE, QN)
    section = {s.id: s.label for s in QN.sections}
    out = pd.DataFrame({"_uuid": [f"u{i}" for i in range(len(ref.data))]})

    def head(q):
        return f"{section[q.section]}/{q.label}" if groups else q.label

    for q in QN:
        if q.type == "single":
            out[head(q)] = ref.data[q.name].astype(object).where(ref.data[q.name].notna(), "").to_numpy()
        elif q.type == "multiple":
            cols = [f"{q.name}_{c.code}" for c in q.choices]
            if split:
                for c in q.choices:
                    out[f"{head(q)}/{c.label}"] = ref.codes[f"{q.name}_{c.code}"].map(
                        lambda v: "" if pd.isna(v) else str(int(v))).to_numpy()
            else:
                ticks = ref.codes[cols].to_numpy()
                out[head(q)] = [" ".join(c.label for c, t in zip(q.choices, row) if t == 1) for row in ticks]
        elif q.type in ("integer", "decimal", "text"):
            out[head(q)] = source[q.name].to_numpy()
    return out, ref


@pytest.fixture(scope="module")
def source():
    return pd.read_csv(SAMPLE, sep=";", dtype=str, keep_default_na=False, encoding="cp1252")


@pytest.mark.parametrize("groups", [True, False])
@pytest.mark.parametrize("split", [True, False])
@pytest.mark.parametrize("sep", [",", ";"])
def test_kobo_labels_export_with_group_names(tmp_path, source, groups, split, sep):
    labels, ref = _labels_export(source, groups=groups, split=split)
    if groups:
        assert "Recueil du questionnaire/Comment ce questionnaire a-t-il été recueilli ?" in labels.columns
    path = tmp_path / "kobo_libelles.csv"
    labels.to_csv(path, index=False, sep=sep, encoding="utf-8")
    raw = read_answers(path, QN)
    assert raw.unknown_columns == []
    res = validate(path, QN)
    assert res.n_read == 406 and res.n_accepted == ref.n_accepted and res.n_rejected == ref.n_rejected
    cols = [c for q in QN if q.type in ("single", "multiple", "integer", "decimal") for c in q.columns]
    got = res.codes[cols].to_numpy(dtype=float)
    exp = ref.codes.loc[:, cols].to_numpy(dtype=float)
    if not split:          # one column: an unanswered (not asked) question and « none ticked » alike
        multi = [j for j, c in enumerate(cols) if QN.column_owner(c)[0].type == "multiple"]
        got[:, multi] = np.nan_to_num(got[:, multi], nan=0)
        exp[:, multi] = np.nan_to_num(exp[:, multi], nan=0)
    mismatches = int((~((got == exp) | (np.isnan(got) & np.isnan(exp)))).sum())
    assert mismatches == 0


# --------------------------------------------------------------------------- deliverables folder

def test_second_build_into_same_folder_refused(tmp_path, capsys):
    """Another ``dls build`` holds the lock: the second one stops at once, exit 2, in French, and
    touches nothing (the held lock is played by this test, in the same way ``build`` takes it)."""
    from diagnostics.io.files import exclusive_lock

    out = tmp_path / "livrables"
    with exclusive_lock(tmp_path / ".livrables.verrou", "occupé"):
        t = time.perf_counter()
        code, _, err = _run(capsys, "build", "--out", str(out), "--sans-pdf")
        assert time.perf_counter() - t < 30
    assert code == 2 and "Traceback" not in err
    assert f"Une autre construction des livrables écrit déjà dans « {out.resolve()} »" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []          # no folder made, lock removed


def test_umask_honoured_for_made_folders(tmp_path):
    from diagnostics.io.files import honour_umask

    old = os.umask(0o022)
    try:
        import tempfile
        d = honour_umask(tempfile.mkdtemp(dir=tmp_path))
        assert (d.stat().st_mode & 0o777) == 0o755
        os.umask(0o002)
        d = honour_umask(tempfile.mkdtemp(dir=tmp_path))
        assert (d.stat().st_mode & 0o777) == 0o775
    finally:
        os.umask(old)


def _small_disk(directory, size="10m") -> bool:
    """Mount a real tmpfs of ``size`` on ``directory`` (root on Linux); False when not possible."""
    import shutil
    import subprocess

    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                          capture_output=True).returncode == 0


@pytest.mark.slow
def test_build_folder_mode_and_disk_full_keeps_previous(tmp_path, capsys, monkeypatch):
    """A disk that fills during a build: a real 5 Mo tmpfs when the machine allows it (one
    build, 3.6 Mo at its peak with its working tables, fits; a second beside the first does not), else
    ENOSPC simulated at the last write.  French message, exit 2, the previous deliverables byte
    for byte."""
    import errno
    import subprocess

    import diagnostics.engine.build as build_mod

    disk = tmp_path / "petit_disque"
    disk.mkdir()
    real = _small_disk(disk, "5m")
    try:
        out = disk / "livrables"
        old = os.umask(0o022)
        try:
            code, _, err = _run(capsys, "build", "--out", str(out), "--sans-pdf")
        finally:
            os.umask(old)
        assert code == 0, err
        assert (out.stat().st_mode & 0o777) == 0o755                  # not 0700: readable on a shared drive
        before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
        assert any(n.endswith(".html") for n in before)

        if not real:
            def full(work, dest, project):                            # the disk fills mid-build
                raise OSError(errno.ENOSPC, "No space left on device", str(dest / "indicateurs.xlsx"))

            monkeypatch.setattr(build_mod, "_write_indicator_table", full)
        code, _, err = _run(capsys, "build", "--out", str(out), "--sans-pdf")
        assert code == 2 and "Traceback" not in err and "le disque est plein" in err, err
        if real:   # met inside a notebook: still the drive's sentence, not the notebook's
            assert "Errno" not in err and "les livrables précédents sont intacts" in err
        assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
        assert sorted(p.name for p in disk.iterdir() if p.name.startswith(".")) == []   # nothing half-built
    finally:
        if real:   # lazily if a file there is still open: no mount left behind a run
            if subprocess.run(["umount", str(disk)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# --------------------------------------------------------------------------- ODK Central CSV

#: ODK Central's CSV export header, in its order: getodk/central-backend,
#: test/integration/api/submissions.js (« should return a zipfile with the relevant data »,
#: https://github.com/getodk/central-backend), where a form with fields ``name``, ``age`` exports
#: [ 'SubmissionDate', 'meta-instanceID', 'name', 'age', 'KEY', 'SubmitterID', 'SubmitterName',
#: 'AttachmentsPresent', 'AttachmentsExpected', 'Status', 'ReviewState', 'DeviceID', 'Edits',
#: 'FormVersion' ]; fields inside groups are the group path joined with « - » (Briefcase format),
#: a select_multiple one column of space-separated choice names.
ODK_TAIL = ["KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status",
            "ReviewState", "DeviceID", "Edits", "FormVersion"]


def test_odk_central_csv_read_whole(tmp_path, source):
    ref = validate(SAMPLE, QN)
    n = len(ref.codes)
    cols = {"SubmissionDate": ["2022-06-01T10:00:00.000Z"] * n,
            "meta-instanceID": [f"uuid:{i:08d}-aaaa-4bbb-8ccc-000000000000" for i in range(n)]}
    for q in QN:
        head = f"{q.section}-{q.name}"
        if q.type == "multiple":
            ticks = ref.codes[[f"{q.name}_{c.code}" for c in q.choices]].to_numpy()
            cols[head] = [" ".join(str(c.code) for c, t in zip(q.choices, row) if t == 1) for row in ticks]
        elif q.type == "single":
            cols[head] = ["" if pd.isna(v) else str(int(v)) for v in ref.codes[q.name]]
        elif q.type == "integer":
            cols[head] = source[q.name].tolist()               # as typed (999 = refus)
    odk = pd.DataFrame(cols)
    odk["KEY"] = odk["meta-instanceID"]
    for c, v in zip(ODK_TAIL[1:], ["5", "Alice", "0", "0", "", "", "", "0", ""]):
        odk[c] = v
    path = tmp_path / "dls_habitants.csv"
    odk.to_csv(path, index=False, encoding="utf-8")
    raw = read_answers(path, QN)
    assert raw.id_source == "KEY" and raw.unknown_columns == [] and raw.n_rows == n
    res = validate(path, QN)
    assert res.n_read == n and res.n_rejected == 0, res.rejected.head().to_dict("records")
    cols = [c for q in QN if q.type in ("single", "integer") for c in q.columns]
    got, exp = res.codes[cols].to_numpy(dtype=float), ref.codes[cols].to_numpy(dtype=float)
    assert int((~((got == exp) | (np.isnan(got) & np.isnan(exp)))).sum()) == 0
    multi = [c for q in QN if q.type == "multiple" for c in q.columns]
    got = np.nan_to_num(res.codes[multi].to_numpy(dtype=float), nan=0)
    exp = np.nan_to_num(ref.codes[multi].to_numpy(dtype=float), nan=0)
    assert int((got != exp).sum()) == 0


# --------------------------------------------------------------------------- hand-made « labels » CSV

@pytest.mark.parametrize("encoding, id_header, layout, ticks", [
    ("cp1252", "id_questionnaire", "/", "01"),
    ("utf-8-sig", "Numéro du questionnaire", " - ", "oui/non"),
    ("cp1252", "Numéro du questionnaire", " : ", "label"),
    ("utf-8-sig", "id_questionnaire", "summary", None),
])
def test_hand_made_labels_csv_semicolon(tmp_path, source, encoding, id_header, layout, ticks):
    """Issue 19: « a hand-made labels CSV with ; (headers and answers as labels) has all 406 valid
    rows rejected ».  The sample rewritten as such a table is saved the way Excel writes
    « CSV (séparateur : point-virgule) » (Windows-1252) or « CSV UTF-8 » (with BOM): the
    identifier headed by its label (as the toolkit's own SPSS file labels it), every question
    by its label, every choice answer by its label, a number's non-response by its label
    (« Ne souhaite pas répondre » for 999), a multiple choice as one 0/1 column per option
    headed « question/option », « question - option » or « question : option » (ticks as
    0/1, Oui/Non or the option's label) or as one column of labels.  All 406 rows come back,
    with 0 code mismatches against the sample read as codes."""
    ref = validate(SAMPLE, QN)
    out = pd.DataFrame({id_header: source["id_questionnaire"].to_numpy()})
    for q in QN:
        if q.type == "single":
            out[q.label] = ref.data[q.name].astype(object).where(ref.data[q.name].notna(), "").to_numpy()
        elif q.type == "multiple":
            tick = ref.codes[[f"{q.name}_{c.code}" for c in q.choices]].to_numpy()
            if layout == "summary":
                out[q.label] = [" ".join(c.label for c, t in zip(q.choices, row) if t == 1) for row in tick]
                continue
            for j, c in enumerate(q.choices):
                shown = {"01": ("0", "1"), "oui/non": ("Non", "Oui"), "label": ("", c.label)}[ticks]
                out[f"{q.label}{layout}{c.label}"] = ["" if np.isnan(t) else shown[int(t)] for t in tick[:, j]]
        elif q.type in ("integer", "decimal"):
            refus = {str(m.code): m.label for m in q.missing}
            out[q.label] = source[q.name].map(lambda v, r=refus: r.get(v, v)).to_numpy()
        else:
            out[q.label] = source[q.name].to_numpy()
    assert (out[QN["age"].label] == "Ne souhaite pas répondre").sum() >= 1
    path = tmp_path / "libelles_faits_main.csv"
    out.to_csv(path, sep=";", index=False, encoding=encoding)
    raw = read_answers(path, QN)
    assert raw.unknown_columns == [] and raw.absent_columns == []
    res = validate(path, QN)
    assert res.n_read == 406 and res.n_accepted == ref.n_accepted == 406 and res.n_rejected == 0
    cols = [c for q in QN if q.type in ("single", "multiple", "integer", "decimal") for c in q.columns]
    got = res.codes[cols].to_numpy(dtype=float)
    exp = ref.codes.loc[:, cols].to_numpy(dtype=float)
    if layout == "summary" or ticks == "label":   # an unticked option is a blank cell there
        multi = [j for j, c in enumerate(cols) if QN.column_owner(c)[0].type == "multiple"]
        got[:, multi] = np.nan_to_num(got[:, multi], nan=0)
        exp[:, multi] = np.nan_to_num(exp[:, multi], nan=0)
    mismatches = int((~((got == exp) | (np.isnan(got) & np.isnan(exp)))).sum())
    assert mismatches == 0
    assert list(res.codes.index) == list(ref.codes.index)
