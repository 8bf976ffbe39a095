"""Read questionnaire answers from the files analysts actually have.

Formats (detected from the file content, not only the extension)
------------------------------------------------------------------
* **CSV** as French Excel writes it: Windows-1252 or UTF-8 (with or without BOM), separator
  ``;`` (sniffed among ``; , tab |``), decimal comma, dates ``jj/mm/aaaa``; an optional first line
  ``sep=;`` is honoured;
* **XLSX**: the data-entry workbook (sheet ``Saisie``, header on row 1) or any workbook whose
  sheet has the questionnaire's columns in row 1;
* **SPSS** ``.sav`` / ``.zsav`` and **Stata** ``.dta`` through :mod:`pyreadstat`, reading codes
  with user-missing values kept (``user_missing=True``, so 98/99 stay 98/99); when the file's
  value labels name a questionnaire option under another code, the code is mapped back through
  the label;
* **KoboToolbox / ODK** exports (CSV or XLSX): group prefixes (``profil/age``, ``profil-age``)
  are stripped; a select_multiple arrives as one space-separated column and/or one 0/1 column
  per option (``groupe/question/code``); ``_uuid`` serves as the identifier when there is no
  ``id_questionnaire`` column, ``_submission_time`` as the answer date when there is no
  ``date_reponse``; the other meta columns (``_id``, ``start``, ``end``, ``__version__``…) are
  ignored.

Detection uses magic bytes: ``PK\\x03\\x04`` (zip → xlsx), ``$FL2``/``$FL3`` (SPSS),
``<stata_dta>`` or the old binary Stata header (Stata), otherwise text if it decodes and has
no NUL byte.  Anything else (an image renamed ``.csv``, an empty file, an old ``.xls``, a table
without the questionnaire's columns) raises :class:`~diagnostics.errors.UnreadableFileError`
with one French sentence.

The readers do not judge answers: :func:`read_answers` returns raw cells under canonical
column names, with the row number the analyst sees (Excel: header = row 1, first answer =
row 2; SPSS/Stata: the case number).  Turning cells into codes is done by the ``parse_*``
functions below, which :mod:`diagnostics.validation` calls and whose verdicts it turns into
accepted values, warnings or rejections.  A choice cell may hold a code (``2``), a label
(``Homme``, ``homme``, ``HOMME``; accents, case, hyphens and spaces do not matter) or
``"code - libellé"`` (``2 - Homme``).
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import UnreadableFileError
from .questionnaire import Question, Questionnaire, load_questionnaire

__all__ = ["RawAnswers", "detect_format", "read_answers", "normalise_label", "is_blank",
           "parse_choice", "parse_tick", "parse_number", "parse_date", "parse_text", "ID_COLUMN"]

ID_COLUMN = "id_questionnaire"
KOBO_ID = "_uuid"
KOBO_TIME = "_submission_time"
#: ODK/Kobo meta columns without a leading underscore, ignored silently.
KOBO_META = {"start", "end", "today", "deviceid", "username", "phonenumber", "simserial",
             "subscriberid", "audit", "instanceid", "instanceID", "meta/instanceID",
             "meta/instanceName", "meta/deprecatedID", "meta/rootUuid", "formhub/uuid", "introduction"}
FORMAT_NAMES = {"csv": "CSV", "xlsx": "classeur Excel", "sav": "SPSS", "dta": "Stata"}


@dataclass
class RawAnswers:
    """Cells of an answer file, under the questionnaire's column names, not yet judged.

    Attributes
    ----------
    table : DataFrame
        One row per input row (trailing empty rows dropped), object cells as read;
        columns ``id_questionnaire`` and the questionnaire columns found, plus
        ``{question}`` for a multiple-choice question given as space-separated codes.
    rows : list of int
        Row number of each table row as the analyst sees it (Excel: header = 1).
    file : str
        File name shown in messages.
    format : str
        ``csv``, ``xlsx``, ``sav`` or ``dta``; ``kobo`` is True for a KoboToolbox/ODK export.
    unknown_columns : list of str
        Original headers matching no question (warned about, then ignored).
    absent_columns : list of str
        Questionnaire columns absent from the file.
    renamed : dict
        Original header → canonical column.
    """

    table: pd.DataFrame
    rows: list[int]
    file: str
    path: Path | None = None
    format: str = "csv"
    kobo: bool = False
    sheet: str | None = None
    unknown_columns: list[str] = field(default_factory=list)
    absent_columns: list[str] = field(default_factory=list)
    duplicate_columns: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    id_source: str = ID_COLUMN


# --------------------------------------------------------------------------- cell parsing

def normalise_label(text) -> str:
    """Case-, accent- and punctuation-insensitive key: ``"Hauts-de-Chambéry"`` → ``"hauts de chambery"``."""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", s).split())


def is_blank(value) -> bool:
    """True for an empty cell: None, NaN, NaT or a string of spaces."""
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _show(value) -> str:
    """How a cell value is quoted in a message."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


_INT_RE = re.compile(r"^[+-]?\d+(?:[.,]0+)?$")
_CODE_LABEL_RE = re.compile(r"^\s*(\d+)\s*[-–—:=]\s*(.+?)\s*$")


def _as_int(value):
    """An integer from a number or a digit string, else None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return int(value) if float(value).is_integer() else None
    if isinstance(value, str) and _INT_RE.match(value.strip()):
        return int(re.split(r"[.,]", value.strip())[0])
    return None


def _label_index(question: Question, qn: Questionnaire | None) -> dict[str, int]:
    idx = {normalise_label(c.label): c.code for c in question.choices}
    missing = list(qn.missing_codes.values()) if qn is not None else question.missing
    for m in missing:
        idx.setdefault(normalise_label(m.label), m.code)
    # short forms analysts type for non-response
    codes = {m.key: m.code for m in missing}
    if "nsp" in codes:
        idx.setdefault("nsp", codes["nsp"])
    if "refus" in codes:
        idx.setdefault("refus", codes["refus"])
    return idx


def expected_choices(question: Question) -> str:
    """French description of the accepted codes: ``1 (Femme), 2 (Homme)``."""
    parts = [f"{c.code} ({c.label})" for c in question.choices]
    parts += [f"{m.code} ({m.label})" for m in question.missing]
    return ", ".join(parts)


def parse_choice(value, question: Question, qn: Questionnaire | None = None):
    """Read a single-choice cell.

    Parameters
    ----------
    value : object
        A code (``2``, ``"2"``, ``2.0``), a label (``"homme"``) or ``"2 - Homme"``.
    question : Question
    qn : Questionnaire, optional
        Lets labels of every non-response code be recognised, so that ``"Ne sait pas"``
        for a question without that option is reported as "not allowed" rather than unknown.

    Returns
    -------
    (code, problem)
        ``code`` is an int (possibly not allowed for the question: the caller checks) or None;
        ``problem`` is a French description or None.  A blank cell gives ``(None, None)``.
    """
    if is_blank(value):
        return None, None
    code = _as_int(value)
    if code is not None:
        return code, None
    if isinstance(value, (float, np.floating)):
        return None, f"« {_show(value)} » n'est pas un code entier"
    text = str(value).strip()
    idx = _label_index(question, qn)
    key = normalise_label(text)
    if key in idx:
        return idx[key], None
    m = _CODE_LABEL_RE.match(text)
    if m:
        code = int(m.group(1))
        by_label = idx.get(normalise_label(m.group(2)))
        if by_label is not None and by_label != code:
            return None, (f"le code {code} et le libellé « {m.group(2)} » ne concordent pas "
                          f"(« {m.group(2)} » a le code {by_label})")
        return code, None
    return None, f"libellé ou code inconnu « {text} »"


_TICK = {"1": 1, "0": 0, "oui": 1, "non": 0, "x": 1, "vrai": 1, "faux": 0, "true": 1, "false": 0,
         "coche": 1, "cochee": 1, "non coche": 0, "non cochee": 0}


def parse_tick(value):
    """Read a 0/1 cell of a multiple-choice option (``1``/``0``, ``oui``/``non``, ``x``).

    Returns ``(0 | 1 | None, problem | None)``.
    """
    if is_blank(value):
        return None, None
    code = _as_int(value)
    if code in (0, 1):
        return code, None
    key = normalise_label(value)
    if code is None and key in _TICK:
        return _TICK[key], None
    return None, f"« {_show(value)} » n'est ni 0 (non coché) ni 1 (coché)"


def parse_multiple_text(value, question: Question):
    """Read a space-separated select_multiple cell (``"1 3 5"``) into a set of codes.

    Returns ``(set | None, problem | None)``; unknown codes are reported, known ones kept.
    """
    if is_blank(value):
        return None, None
    code = _as_int(value)
    if code is not None:
        tokens = [code]
    else:
        text = str(value).strip()
        idx = {normalise_label(c.label): c.code for c in question.choices}
        if normalise_label(text) in idx:
            return {idx[normalise_label(text)]}, None
        tokens = []
        for tok in re.split(r"[\s,;]+", text):
            if tok:
                t = _as_int(tok)
                if t is None:
                    return None, f"« {text} » n'est pas une liste de codes séparés par des espaces"
                tokens.append(t)
    bad = [t for t in tokens if t not in question.codes]
    if bad:
        return {t for t in tokens if t in question.codes}, f"code inconnu « {bad[0]} »"
    return set(tokens), None


def parse_number(value, integer: bool = False):
    """Read a number written the French way (``12,5``, ``1 600``) or the English way.

    Returns ``(float | None, problem | None)``.
    """
    if is_blank(value):
        return None, None
    if isinstance(value, (bool, np.bool_)):
        return None, f"« {value} » n'est pas un nombre"
    if isinstance(value, (int, np.integer, float, np.floating)):
        x = float(value)
    else:
        text = str(value).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        if re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?", text):  # 1.600,5
            text = text.replace(".", "")
        text = text.replace(",", ".")
        try:
            x = float(text)
        except ValueError:
            return None, f"« {str(value).strip()} » n'est pas un nombre"
    if not math.isfinite(x):
        return None, f"« {_show(value)} » n'est pas un nombre"
    if integer and not x.is_integer():
        return None, f"« {_show(value)} » n'est pas un nombre entier"
    return x, None


_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d")


def parse_date(value):
    """Read a date: a date object, ``jj/mm/aaaa``, ISO ``aaaa-mm-jj`` (with or without time, as
    Kobo writes ``_submission_time``) or an Excel serial number.

    Returns ``(datetime.date | None, problem | None)``.
    """
    if is_blank(value):
        return None, None
    if isinstance(value, pd.Timestamp):
        return value.date(), None
    if isinstance(value, _dt.datetime):
        return value.date(), None
    if isinstance(value, _dt.date):
        return value, None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if 20000 <= float(value) <= 80000 and float(value).is_integer():  # Excel serial date
            return _dt.date(1899, 12, 30) + _dt.timedelta(days=int(value)), None
        return None, f"« {_show(value)} » n'est pas une date"
    text = str(value).strip()
    head = re.split(r"[T ]", text, maxsplit=1)[0]
    for fmt in _DATE_FORMATS:
        try:
            return _dt.datetime.strptime(head, fmt).date(), None
        except ValueError:
            continue
    return None, f"« {text} » n'est pas une date valide (attendu jj/mm/aaaa)"


def parse_text(value):
    """Read a free-text cell: stripped string, or None when blank."""
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --------------------------------------------------------------------------- format detection

def _fail(path: Path, what: str):
    raise UnreadableFileError(f"Le fichier « {path.name} » ne peut pas être lu : {what}.", file=path)


def detect_format(path: str | Path) -> str:
    """Return ``"xlsx"``, ``"sav"``, ``"dta"`` or ``"csv"`` from the first bytes of the file.

    Raises
    ------
    UnreadableFileError
        Nonexistent path, directory, empty file, old ``.xls``, zip that is not a workbook,
        or binary content that is none of the above (image, PDF…).
    """
    path = Path(path)
    if not path.exists():
        raise UnreadableFileError(f"Le fichier « {path} » n'existe pas : vérifiez le chemin et le nom.",
                                  file=path)
    if path.is_dir():
        raise UnreadableFileError(f"« {path} » est un dossier, pas un fichier de réponses.", file=path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise UnreadableFileError(f"Le fichier « {path.name} » ne peut pas être ouvert ({exc.strerror}).",
                                  file=path) from exc
    if not head.strip():
        _fail(path, "il est vide")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            _fail(path, "c'est une archive ZIP endommagée")
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names:
            _fail(path, "c'est un classeur LibreOffice (.ods) ; enregistrez-le au format Excel .xlsx ou CSV")
        _fail(path, "c'est une archive ZIP, pas un classeur Excel .xlsx")
    if head[:4] in (b"$FL2", b"$FL3"):
        return "sav"
    if head.startswith(b"<stata_dta>") or (len(head) > 2 and head[0] in (104, 105, 108, 110, 111, 112, 113, 114, 115)
                                             and head[1] in (1, 2) and head[2] == 1):
        return "dta"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        _fail(path, "c'est un ancien classeur Excel (.xls) ; enregistrez-le au format .xlsx ou CSV")
    kinds = {b"\x89PNG": "une image PNG", b"\xff\xd8\xff": "une image JPEG", b"GIF8": "une image GIF",
             b"%PDF": "un document PDF", b"\x1f\x8b": "une archive compressée (gzip)"}
    for magic, what in kinds.items():
        if head.startswith(magic):
            _fail(path, f"c'est {what}, pas un tableau de réponses (CSV, Excel, SPSS ou Stata)")
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    if not utf16 and (b"\x00" in head or control > 0.01 * len(head)):
        _fail(path, "c'est un fichier binaire, pas un tableau de réponses (CSV, Excel, SPSS ou Stata)")
    return "csv"


# --------------------------------------------------------------------------- raw tables

def decode_text(data: bytes) -> str:
    """Decode a text file as French tools write it.

    UTF-16 when it starts with its byte-order mark, else UTF-8 (with or without BOM), else
    Windows-1252 (what Excel "CSV (séparateur : point-virgule)" writes), else Latin-1, which
    decodes any byte.  Used by every reader of the toolkit (answers, extracts, IMPACT files).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _read_csv(path: Path) -> tuple[pd.DataFrame, list[int]]:
    text = decode_text(path.read_bytes())
    first_line = text.split("\n", 1)[0].strip()
    offset = 0
    sep = None
    m = re.fullmatch(r"sep=(.)", first_line)
    if m:
        sep = m.group(1)
        text = text.split("\n", 1)[1] if "\n" in text else ""
        offset = 1
        first_line = text.split("\n", 1)[0].strip()
    if sep is None:
        counts = {s: first_line.count(s) for s in (";", ",", "\t", "|")}
        sep = max(counts, key=counts.get)
        if counts[sep] == 0:
            try:
                sep = csv.Sniffer().sniff(text[:4096], delimiters=";,\t|").delimiter
            except csv.Error:
                sep = ";"
    if any(ch in text[:4096] for ch in "\ufffd") or not text.strip():
        _fail(path, "son contenu n'est pas du texte lisible")
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                         skip_blank_lines=False, engine="python")
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        _fail(path, "ce n'est pas un CSV bien formé (le nombre de colonnes varie d'une ligne à l'autre "
                    "ou un guillemet n'est pas refermé)")
    rows = [i + 2 + offset for i in range(len(df))]
    return df, rows


def _header_score(headers, qn: Questionnaire) -> int:
    known = set(qn.columns) | set(qn.questions) | {ID_COLUMN, KOBO_ID}
    return sum(1 for h in headers if h is not None and _canonical(str(h), qn)[0] in known)


def _read_xlsx(path: Path, qn: Questionnaire, sheet: str | None) -> tuple[pd.DataFrame, list[int], str]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on corrupt files
        _fail(path, f"le classeur Excel est endommagé ou protégé ({type(exc).__name__})")
    try:
        names = wb.sheetnames
        if sheet is not None:
            if sheet not in names:
                _fail(path, f"il n'a pas de feuille « {sheet} » (feuilles présentes : {', '.join(names)})")
            chosen = sheet
        elif "Saisie" in names:
            chosen = "Saisie"
        else:
            scores = {}
            for n in names:
                first = next(wb[n].iter_rows(min_row=1, max_row=1, values_only=True), ())
                scores[n] = _header_score(first, qn)
            chosen = max(names, key=lambda n: scores[n])
        ws = wb[chosen]
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        _fail(path, f"la feuille « {chosen} » est vide")
    header = [("" if h is None else str(h).strip()) for h in rows[0]]
    width = max((j + 1 for j, h in enumerate(header) if h), default=0)
    header = header[:width]
    body = [list(r[:width]) + [None] * (width - len(r[:width])) for r in rows[1:]]
    df = pd.DataFrame(body, columns=header, dtype=object)
    return df, [i + 2 for i in range(len(df))], chosen


def _read_stat(path: Path, fmt: str, qn: Questionnaire) -> tuple[pd.DataFrame, list[int]]:
    import pyreadstat

    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    try:
        df, meta = reader(str(path), user_missing=True, apply_value_formats=False)
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        _fail(path, f"le fichier {FORMAT_NAMES[fmt]} est endommagé ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
    df = df.astype(object).where(df.notna(), None)
    # Value labels: map a file code to the questionnaire code carrying the same label.
    for col, labels in (meta.variable_value_labels or {}).items():
        canon = _canonical(col, qn)[0]
        q = qn.questions.get(canon)
        if q is None or q.type != "single" or col not in df:
            continue
        idx = _label_index(q, qn)
        remap = {}
        for value, label in labels.items():
            target = idx.get(normalise_label(label))
            if target is not None and _as_int(value) != target:
                remap[value] = target
        if remap:
            df[col] = df[col].map(lambda v: remap.get(v, v) if v is not None else None)
    return df, [i + 1 for i in range(len(df))]


#: The paper form's number before a variable name in the entry workbook's headers.
_NUMBERED = re.compile(r"^Q\d+\s*·\s*")


def _canonical(header: str, qn: Questionnaire) -> tuple[str, bool]:
    """Map an original header to a canonical column; second item: looks like a Kobo header."""
    h = _NUMBERED.sub("", header.strip())   # « Q12 · renoncement » (entry workbook) -> renoncement
    if h in qn.columns or h in qn.questions or h == ID_COLUMN:
        return h, False
    low = h.lower()
    if low in (ID_COLUMN, KOBO_ID, KOBO_TIME):
        return low, low != ID_COLUMN
    if h.startswith("_") or h in KOBO_META or low in {m.lower() for m in KOBO_META} or low.startswith("meta/"):
        return h, True
    parts = [p for p in re.split(r"[/]", h) if p]
    if len(parts) == 1:
        parts = [p for p in h.split("-") if p]
    parts = [p.strip() for p in parts]
    lowered = [p.lower() for p in parts]
    if len(parts) >= 2:
        q = qn.questions.get(lowered[-2])
        if q is not None and q.type == "multiple":
            code = _as_int(parts[-1])
            if code is None:
                code = {normalise_label(c.label): c.code for c in q.choices}.get(normalise_label(parts[-1]))
            if code is not None:
                return f"{q.name}_{code}", True
    last = lowered[-1] if lowered else low
    if last in qn.questions or last in qn.columns or last == ID_COLUMN:
        return last, len(parts) > 1
    return h, False


def read_answers(path: str | Path, questionnaire: Questionnaire | None = None,
                 sheet: str | None = None) -> RawAnswers:
    """Read an answer file into raw cells under the questionnaire's column names.

    Parameters
    ----------
    path : path-like
        CSV, XLSX, SAV/ZSAV or DTA file, or a KoboToolbox/ODK export (CSV or XLSX).
    questionnaire : Questionnaire, optional
        Defaults to the shipped ``dls_habitants`` questionnaire.
    sheet : str, optional
        Sheet of a workbook; default ``Saisie`` when present, else the sheet whose row 1 holds
        the most questionnaire columns.

    Returns
    -------
    RawAnswers

    Raises
    ------
    UnreadableFileError
        The file cannot be read as a table of answers (see :func:`detect_format`), or it has
        no identifier column, or fewer than three of the questionnaire's columns.

    Notes
    -----
    Nothing is judged here: a cell ``"trente"`` in ``age`` is passed on as is.  Trailing
    empty rows (e.g. the pre-formatted rows of the entry workbook) are dropped; empty rows in
    the middle are kept (validation rejects them, so that counts reconcile).
    """
    qn = questionnaire or load_questionnaire()
    path = Path(path)
    fmt = detect_format(path)
    sheet_used = None
    if fmt == "csv":
        df, rows = _read_csv(path)
    elif fmt == "xlsx":
        df, rows, sheet_used = _read_xlsx(path, qn, sheet)
    else:
        df, rows = _read_stat(path, fmt, qn)
    df.columns = [("" if c is None else str(c)) for c in df.columns]

    renamed, unknown, dup, kobo = {}, [], [], False
    keep = {}
    for col in df.columns:
        if col.strip() == "" and df[col].map(is_blank).all():
            continue
        canon, is_kobo = _canonical(col, qn)
        kobo = kobo or is_kobo
        if canon.startswith("_") or canon in KOBO_META or canon.lower().startswith("meta/") \
                or canon.lower() in {m.lower() for m in KOBO_META}:
            if canon in (KOBO_ID, KOBO_TIME):
                keep[canon] = df[col]
            continue
        if canon in qn.columns or canon in qn.questions or canon == ID_COLUMN:
            q = qn.questions.get(canon)
            if q is not None and q.type == "multiple":
                canon = f"{q.name}"  # space-separated form
            if canon in keep:
                dup.append(col)
                continue
            keep[canon] = df[col]
            renamed[col] = canon
        else:
            unknown.append(col)
    table = pd.DataFrame(keep, index=range(len(df)), dtype=object) if keep else pd.DataFrame(index=range(len(df)))

    found_questions = {qn.column_owner(c)[0].name if c not in qn.questions else c
                       for c in table.columns if c in qn.columns or c in qn.questions}
    if len(found_questions) < 3:
        where_ = f"la feuille « {sheet_used} »" if sheet_used else "ce tableau"
        seen = ", ".join(list(df.columns[:5])) or "aucune"
        _fail(path, f"{where_} ne contient pas les colonnes du questionnaire « {qn.id} » (en-têtes trouvés en "
                    f"ligne 1 : {seen}… ; attendu : {ID_COLUMN}, {', '.join(qn.columns[:4])}…)")
    id_source = ID_COLUMN
    if ID_COLUMN not in table:
        if KOBO_ID in table:
            table[ID_COLUMN] = table[KOBO_ID]
            id_source = KOBO_ID
        else:
            _fail(path, f"il n'a pas de colonne « {ID_COLUMN} » (numéro du questionnaire) ni « {KOBO_ID} » "
                        "(identifiant KoboToolbox) pour identifier chaque réponse")
    elif KOBO_ID in table:
        blank = table[ID_COLUMN].map(is_blank)
        table.loc[blank, ID_COLUMN] = table.loc[blank, KOBO_ID]
    if "date_reponse" in qn.questions and "date_reponse" not in table and KOBO_TIME in table:
        table["date_reponse"] = table[KOBO_TIME]
    table = table.drop(columns=[c for c in (KOBO_ID, KOBO_TIME) if c in table])

    # drop trailing empty rows
    nonblank = ~table.apply(lambda col: col.map(is_blank)).all(axis=1)
    last = int(np.flatnonzero(nonblank.to_numpy())[-1]) + 1 if nonblank.any() else 0
    table = table.iloc[:last].reset_index(drop=True)
    rows = rows[:last]
    if last == 0:
        _fail(path, "il ne contient aucune ligne de réponses sous l'en-tête")

    present = set(table.columns)
    absent = []
    for q in qn:
        if q.type == "multiple":
            if q.name not in present and not any(c in present for c in q.columns):
                absent.append(q.name)
        elif q.name not in present:
            absent.append(q.name)
    ordered = [ID_COLUMN] + [c for c in [x for q in qn for x in ([q.name] + (q.columns if q.type == "multiple" else []))]
                             if c in present and c != ID_COLUMN]
    table = table[ordered]
    return RawAnswers(table=table, rows=rows, file=path.name, path=path, format=fmt, kobo=kobo,
                      sheet=sheet_used, unknown_columns=unknown, absent_columns=absent,
                      duplicate_columns=dup, renamed=renamed, id_source=id_source)
