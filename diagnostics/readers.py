"""Read questionnaire answers from the files analysts actually have.

Formats (detected from the file content, not only the extension)
------------------------------------------------------------------
* **CSV** as French Excel writes it: Windows-1252 or UTF-8 (with or without BOM), separator
  ``;`` (sniffed among ``; , tab |``), decimal comma, dates ``jj/mm/aaaa``; an optional first line
  ``sep=;`` is honoured.  The encoding is checked line by line: a UTF-8 file with a line pasted
  from a Windows-1252 source has that line decoded as Windows-1252 and reported (row and cells),
  never silently turned into « Ã© »; a ragged row (more fields than the header: an unquoted ``;``
  in a comment) is rejected with its row number and the rest of the file is read.  Parsing is
  pandas' C parser by chunks, each column kept as a ``category`` (a million rows in seconds);
* **XLSX** through calamine (:mod:`python_calamine`), which reads every row whatever the stored
  ``<dimension>`` claims: the data-entry workbook (sheet ``Saisie``) or the sheet whose header
  (in its first ten rows) holds the most questionnaire columns;
* **SPSS** ``.sav`` / ``.zsav`` and **Stata** ``.dta`` through :mod:`pyreadstat`, reading codes
  with user-missing values kept (``user_missing=True``, so 98/99 stay 98/99); when the file's
  value labels name a questionnaire option under another code, the code is mapped back through
  the label;
* **KoboToolbox / ODK** exports (CSV or XLSX), including ODK Central's (``SubmissionDate``,
  ``meta-instanceID``, ``KEY``) and Kobo's « labels » flavour (headers are the question labels,
  answers the choice labels, mapped back through the questionnaire): group prefixes
  (``profil/age``, ``grp_profil-age``) are stripped; a select_multiple arrives as one space-separated column
  (codes, or in a « labels » export the option labels, split into whole labels) and/or one 0/1 column
  per option (``groupe/question/code``); ``_uuid`` (Kobo), ``KEY`` or ``meta-instanceID`` (ODK Central)
  serves as the identifier when there is no ``id_questionnaire`` column, ``_submission_time`` /
  ``SubmissionDate`` as the answer date when there is no ``date_reponse``; the other meta columns (``_id``, ``start``, ``end``, ``__version__``…) are
  ignored.

Detection uses magic bytes: ``PK\\x03\\x04`` (zip → xlsx), ``$FL2``/``$FL3`` (SPSS),
``<stata_dta>`` or the old binary Stata header (Stata), otherwise text if it decodes and has
no NUL byte.  Anything else (an image renamed ``.csv``, an empty file, an old ``.xls``, a table
without the questionnaire's columns) raises :class:`~diagnostics.errors.UnreadableFileError`
with one French sentence.  Before parsing, a file is checked against :class:`Limits` (rows,
columns, decompressed size, declared and actual extent of a workbook sheet): spreadsheet bombs
are refused in bounded time and memory.

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

__all__ = ["RawAnswers", "Limits", "DEFAULT_LIMITS", "canonical_column", "detect_format", "read_answers", "decode_text", "decode_lines",
           "blank_mask", "normalise_label", "is_blank",
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
    rejected_rows : list of (int, str)
        Rows the reader could not split into cells (a ragged CSV row): row number, French reason.
    notes : list of (int, str, object, str)
        Cells read with a caveat (a line of another encoding, a Stata missing value without a
        counterpart): row, column, value, French problem; validation turns them into warnings.
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
    rejected_rows: list[tuple[int, str]] = field(default_factory=list)
    notes: list[tuple] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Rows of the file below the header: read into ``table`` or rejected by the reader."""
        return len(self.table) + len(self.rejected_rows)


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
        tokens = []
        for tok in re.split(r"[\s,;]+", text):
            if tok:
                t = _as_int(tok)
                if t is None:                   # option labels (Kobo « labels » export)
                    splits = _joined_labels(text, question)
                    if len(splits) == 1:
                        return splits[0], None
                    if splits:
                        a, b = (" + ".join(f"{c} ({question.label_of(c)})" for c in sorted(x))
                                for x in splits)
                        return None, f"« {text} » se lit de deux façons : {a}, ou {b}"
                    return None, (f"« {text} » n'est ni une liste de codes séparés par des espaces, ni "
                                  "une suite de libellés d'options")
                tokens.append(t)
    bad = [t for t in tokens if t not in question.codes]
    if bad:
        return {t for t in tokens if t in question.codes}, f"code inconnu « {bad[0]} »"
    return set(tokens), None


def _joined_labels(text: str, question: Question) -> list[set]:
    """Readings of a cell made of option labels joined by spaces (at most two).

    KoboToolbox's « labels » export writes a select_multiple's summary column as the chosen
    options' labels joined by single spaces (formpack's ``FormChoiceFieldWithMultipleSelect``);
    labels themselves contain spaces, so the cell is split into whole labels (case-, accent-
    and punctuation-insensitive).  Returns the sets of codes of the splits found: none, one, or
    two (ambiguous: the caller reports the cell, never guesses).
    """
    t = normalise_label(text)
    labels = {}
    for c in question.choices:
        labels.setdefault(normalise_label(c.label), c.code)
    ways: dict[int, list] = {len(t): [[]]}      # splits of t[i:], at most two kept

    for i in range(len(t) - 1, -1, -1):
        if i and t[i - 1] != " ":
            continue                            # a label starts at the text's start or after a space
        found = []
        for lab, code in labels.items():
            end = i + len(lab)
            if lab and t.startswith(lab, i) and (end == len(t) or t[end] == " "):
                for rest in ways.get(end + (end < len(t)), []):
                    found.append([code, *rest])
            if len(found) > 1:
                break
        ways[i] = found[:2]
    readings = []
    for x in ways.get(0, []):
        if set(x) not in readings:
            readings.append(set(x))
    return readings


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


# --------------------------------------------------------------------------- limits

@dataclass(frozen=True)
class Limits:
    """What a reader accepts before parsing a file (spreadsheet bombs, runaway exports).

    Attributes
    ----------
    max_rows : int
        Rows of answers (default 2 000 000).
    max_columns : int
        Columns (default 1 000).
    max_bytes : int
        Size of a text file, or decompressed size of the members of a workbook (default 500 Mo).
    max_cells : int
        Rows × columns of a workbook sheet as declared or as its cell references reach
        (default 50 000 000: the grid a reader would allocate).

    Notes
    -----
    A workbook is checked from its zip directory (declared sizes of the members) and from its
    sheet XML, read as a stream (declared ``<dimension>``, highest row and column a cell names),
    before any parser allocates a grid: a 3 Ko file with one cell at ``XFD1048576`` is refused in
    a fraction of a second instead of filling the memory.
    """

    max_rows: int = 2_000_000
    max_columns: int = 1_000
    max_bytes: int = 500 * 1024 ** 2
    max_cells: int = 50_000_000


DEFAULT_LIMITS = Limits()


def fmt_bytes(n: int) -> str:
    from . import fmt
    return f"{fmt.number(n / 1024 ** 2, 1)} Mo"


def fmt_number(n: int) -> str:
    from . import fmt
    return fmt.number(n)


def _too_big(path: Path, what: str, limits: Limits):
    from . import fmt
    raise UnreadableFileError(
        f"Le fichier « {path.name} » est refusé : {what}, au-delà de ce que le lecteur accepte "
        f"({fmt.number(limits.max_rows)} lignes, {fmt.number(limits.max_columns)} colonnes, "
        f"{fmt.number(limits.max_bytes / 1024 ** 2, 0)} Mo décompressés) ; découpez-le, ou relevez ces "
        "limites (paramètre limits de read_answers) si le fichier est sûr.", file=path)


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


_REF_RE = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_ROW_RE = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]{1,7})"')
_DIM_RE = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([A-Z]{1,3})?([0-9]{1,7})?:?([A-Z]{1,3})?([0-9]{1,7})?"')


def _sheet_extent(z: zipfile.ZipFile, member: str, limits: Limits, path: Path) -> tuple[int, int]:
    """Highest row and column a sheet names (declared dimension and cell references), streamed."""
    max_row = max_col = 0
    tail = b""
    seen = 0
    with z.open(member) as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            seen += len(chunk)
            if seen > limits.max_bytes:
                _too_big(path, f"sa feuille dépasse {fmt_bytes(limits.max_bytes)} une fois décompressée", limits)
            buf = tail + chunk
            if max_row == 0 and b"dimension" in buf[:8192]:
                m = _DIM_RE.search(buf)
                if m and m.group(3) and m.group(4):
                    d_rows, d_cols = int(m.group(4)), _column_number(m.group(3).decode())
                    if d_rows > limits.max_rows + 1 or d_cols > limits.max_columns or \
                            d_rows * d_cols > limits.max_cells:
                        _too_big(path, f"sa feuille déclare {fmt_number(d_rows)} lignes × {fmt_number(d_cols)} "
                                       "colonnes", limits)
            for m in _REF_RE.finditer(buf):
                max_col = max(max_col, _column_number(m.group(1).decode()))
                max_row = max(max_row, int(m.group(2)))
            for m in _ROW_RE.finditer(buf):
                max_row = max(max_row, int(m.group(1)))
            tail = buf[-256:]
            if max_row > limits.max_rows + 1 or max_col > limits.max_columns or max_row * max_col > limits.max_cells:
                _too_big(path, f"sa feuille s'étend jusqu'à la ligne {fmt_number(max_row)} et la colonne "
                               f"{fmt_number(max_col)}", limits)
    return max_row, max_col


def _check_workbook(path: Path, limits: Limits) -> dict[str, str]:
    """Check a workbook's zip before parsing; return {sheet name: sheet XML member}."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > limits.max_bytes:
                _too_big(path, f"il occupe {fmt_bytes(total)} une fois décompressé", limits)
            names = {i.filename for i in infos}
            sheets = _sheet_members(z, names)
            for member in sheets.values():
                if member in names:
                    _sheet_extent(z, member, limits, path)
            return sheets
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        _fail(path, f"le classeur Excel est endommagé ({type(exc).__name__})")


def _sheet_members(z: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Sheet name → XML member, from ``xl/workbook.xml`` and its relationships."""
    wb = z.read("xl/workbook.xml")
    rels = z.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
    targets = {m.group(1).decode(): m.group(2).decode()
               for m in re.finditer(rb'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
    targets.update({m.group(2).decode(): m.group(1).decode()
                    for m in re.finditer(rb'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    out = {}
    for m in re.finditer(rb'<(?:\w+:)?sheet\b([^>]*)/?>', wb):
        attrs = m.group(1)
        name = re.search(rb'\bname="([^"]*)"', attrs)
        rid = re.search(rb'\br:id="([^"]*)"|\bid="([^"]*)"', attrs)
        if not name or not rid:
            continue
        target = targets.get((rid.group(1) or rid.group(2)).decode(), "")
        target = target.lstrip("/")
        member = target if target.startswith("xl/") else f"xl/{target}"
        out[html_unescape(name.group(1).decode("utf-8"))] = member
    return out


def html_unescape(s: str) -> str:
    import html
    return html.unescape(s)


def _header_row(rows: list[list], qn: Questionnaire, look: int = 10) -> tuple[int, int]:
    """(index of the header row among the first ``look`` rows, its score)."""
    best, best_score = 0, -1
    for i, r in enumerate(rows[:look]):
        s = _header_score(r, qn)
        if s > best_score:
            best, best_score = i, s
    return best, best_score


def _read_xlsx(path: Path, qn: Questionnaire, sheet: str | None,
               limits: Limits) -> tuple[pd.DataFrame, list[int], str]:
    """Read a workbook with calamine: every row, whatever the stored ``<dimension>`` says."""
    from python_calamine import CalamineWorkbook

    _check_workbook(path, limits)
    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = list(wb.sheet_names)
    except Exception as exc:  # noqa: BLE001 - calamine raises its own kinds on corrupt files
        _fail(path, f"le classeur Excel est endommagé ou protégé ({type(exc).__name__})")
    if sheet is not None and sheet not in names:
        _fail(path, f"il n'a pas de feuille « {sheet} » (feuilles présentes : {', '.join(names)})")

    def grid(name):
        try:
            return wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:  # noqa: BLE001
            _fail(path, f"la feuille « {name} » est illisible ({type(exc).__name__})")

    if sheet is not None:
        chosen, rows = sheet, grid(sheet)
        head, _ = _header_row(rows, qn)
    else:  # the sheet whose header holds the most questionnaire columns (« Saisie » on a tie)
        best = None
        for n in sorted(names, key=lambda n: n != "Saisie"):
            rows_n = grid(n)
            h, score = _header_row(rows_n, qn)
            if best is None or score > best[0]:
                best = (score, n, rows_n, h)
        _, chosen, rows, head = best
    if not rows:
        _fail(path, f"la feuille « {chosen} » est vide")
    header = [("" if h is None else (str(int(h)) if isinstance(h, float) and h.is_integer() else str(h)).strip())
              for h in rows[head]]
    width = max((j + 1 for j, h in enumerate(header) if h), default=0)
    header = header[:width]
    body = [list(r[:width]) + [None] * (width - len(r[:width])) for r in rows[head + 1:]]
    df = pd.DataFrame(body, columns=header, dtype=object)
    return df, [i + head + 2 for i in range(len(df))], chosen


# --------------------------------------------------------------------------- raw tables

def decode_text(data: bytes) -> str:
    """Decode a text file as French tools write it.

    UTF-16 when it starts with its byte-order mark, else UTF-8 (with or without BOM), else
    Windows-1252 (what Excel "CSV (séparateur : point-virgule)" writes), else Latin-1, which
    decodes any byte.  Used by every reader of the toolkit (answers, extracts, IMPACT files).
    See :func:`decode_lines` for a file whose lines do not share one encoding.
    """
    return decode_lines(data)[0]


def decode_lines(data: bytes) -> tuple[str, list[int]]:
    """Decode a text file, checking the encoding line by line.

    Returns
    -------
    (text, lines)
        ``lines`` lists the (1-based) physical lines of a UTF-8 file that are not UTF-8 and were
        decoded as Windows-1252 instead (a line pasted from another source): the caller warns
        about them, naming the row.  Empty when the whole file has one encoding.

    Notes
    -----
    A file is UTF-8 when it decodes as UTF-8; else, when at least one of its lines holds a
    non-ASCII UTF-8 sequence, it is a UTF-8 file with foreign lines, each of which is decoded
    as Windows-1252 (never replaced by « � »); else it is Windows-1252 as a whole (Latin-1 for
    the five bytes Windows-1252 leaves undefined).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), []
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.decode("utf-8", "ignore").isascii():  # no UTF-8 sequence anywhere: Windows-1252 as a whole
        return _single_byte(data), []
    parts, bad, pos, line_no = [], [], 0, 1
    while pos <= len(data):
        try:
            parts.append(data[pos:].decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            start = pos + exc.start
            line_start = data.rfind(b"\n", 0, start) + 1
            line_end = data.find(b"\n", start)
            line_end = len(data) if line_end < 0 else line_end
            parts.append(data[pos:line_start].decode("utf-8"))
            line_no += data.count(b"\n", pos, line_start)
            parts.append(_single_byte(data[line_start:line_end]))
            bad.append(line_no)
            pos = line_end
            if len(bad) > 1000 and len(bad) > data.count(b"\n", 0, pos) // 2:
                # mostly Windows-1252 after all (one stray UTF-8-looking pair): one encoding
                return _single_byte(data), []
    return "".join(parts), bad


def _single_byte(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _sniff_separator(text: str) -> tuple[str | None, int, str]:
    """(separator, lines skipped by a ``sep=`` line, first line)."""
    first_line = text[:text.find("\n") if "\n" in text[:65536] else 65536].strip()
    m = re.fullmatch(r"sep=(.)", first_line)
    if m:
        return m.group(1), 1, first_line
    counts = {s: first_line.count(s) for s in (";", ",", "\t", "|")}
    sep = max(counts, key=counts.get)
    if counts[sep] == 0:
        try:
            sep = csv.Sniffer().sniff(text[:4096], delimiters=";,\t|").delimiter
        except csv.Error:
            sep = ";"
    return sep, 0, first_line


def _ragged_records(text: str, sep: str, width: int) -> tuple[list[int], list[tuple[int, int]]]:
    """Record numbers (header = 1) of every record, and the ragged ones ``(record, fields)``.

    Run only when pandas reported bad lines: the C ``csv`` module follows quotes, so record
    numbers are those a spreadsheet shows even when a quoted cell spans several lines.
    """
    bad = []
    n = 0
    for n, rec in enumerate(csv.reader(io.StringIO(text), delimiter=sep), start=1):
        if n > 1 and len(rec) > width:
            bad.append((n, len(rec)))
    return n, bad


CHUNK_ROWS = 200_000


def _read_csv_chunks(buf: bytes, encoding: str, sep: str, skip: int = 0) -> pd.DataFrame:
    """Parse CSV text (pandas' C parser) by chunks, each column kept as a ``category``.

    Each chunk's columns are factorised (hash, no sort) and the chunks' categoricals united:
    memory stays at a few bytes a cell whatever the number of rows.
    """
    from pandas.api.types import union_categoricals

    parts: dict[int, list] = {}
    columns = None
    reader = pd.read_csv(io.BytesIO(buf), encoding=encoding, sep=sep, dtype=object, keep_default_na=False,
                         na_values=[], skip_blank_lines=False, engine="c", on_bad_lines="warn", quotechar='"',
                         chunksize=CHUNK_ROWS, skiprows=skip)
    for chunk in reader:
        columns = list(chunk.columns)
        for j in range(chunk.shape[1]):
            codes, uniq = pd.factorize(chunk.iloc[:, j].to_numpy(dtype=object), use_na_sentinel=True)
            parts.setdefault(j, []).append(pd.Categorical.from_codes(codes, categories=pd.Index(uniq, dtype=object),
                                                                     validate=False))
    if columns is None:
        return pd.read_csv(io.BytesIO(buf), encoding=encoding, sep=sep, dtype=object, keep_default_na=False,
                           na_values=[], skiprows=skip)
    data = {j: (union_categoricals(v) if len(v) > 1 else v[0]) for j, v in parts.items()}
    df = pd.DataFrame({j: pd.Series(c, copy=False) for j, c in data.items()})
    df.columns = columns
    return df


def _decodes(data: bytes, encoding: str, step: int = 1 << 24) -> bool:
    """True when ``data`` decodes in ``encoding`` (checked by slices: bounded memory)."""
    import codecs

    dec = codecs.getincrementaldecoder(encoding)()
    try:
        for k in range(0, len(data), step):
            dec.decode(data[k:k + step])
        dec.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def _csv_source(data: bytes) -> tuple[bytes, str, list[int]]:
    """(bytes for the parser, their encoding, lines of a foreign encoding) of a CSV file.

    A file in one encoding is handed to the parser as it is (no decoded copy in memory); a
    UTF-8 file with foreign lines is decoded line by line (:func:`decode_lines`) and re-encoded.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16").encode("utf-8"), "utf-8", []
    if _decodes(data, "utf-8"):
        return data, "utf-8-sig", []
    text, foreign = decode_lines(data)
    if foreign:
        return text.encode("utf-8"), "utf-8", foreign
    del text
    return data, ("cp1252" if _decodes(data, "cp1252") else "latin-1"), []


def _read_csv(path: Path, limits: "Limits") -> tuple[pd.DataFrame, list[int], list[tuple], list[tuple]]:
    """Read a CSV: (table, row numbers, rejected rows, notes).

    Every column is read as text into a ``category`` (one copy of each distinct value: a
    million rows of codes take a few bytes a cell).  A record with more fields than the header
    (an unquoted ``;`` in a comment) is rejected with its row number, the others are read.
    """
    size = path.stat().st_size
    if size > limits.max_bytes:
        _too_big(path, f"il pèse {fmt_bytes(size)}", limits)
    buf, encoding, foreign = _csv_source(path.read_bytes())
    head = buf[:65536].decode(encoding, errors="replace")
    sep, offset, first_line = _sniff_separator(head)
    if offset:
        head = head.split("\n", 1)[1] if "\n" in head else ""
    if "\ufffd" in head[:4096] or not head.strip():
        _fail(path, "son contenu n'est pas du texte lisible")
    width = len(next(csv.reader([head[:head.find("\n")] if "\n" in head else head], delimiter=sep), []))
    if width > limits.max_columns:
        _too_big(path, f"il a {width} colonnes", limits)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            df = _read_csv_chunks(buf, encoding, sep, offset)
        except (pd.errors.ParserError, csv.Error, ValueError, UnicodeDecodeError):
            _fail(path, "ce n'est pas un CSV bien formé (un guillemet n'est pas refermé ?)")
    ragged = any("Skipping line" in str(w.message) or "expected" in str(w.message) for w in caught)
    rejected, notes = [], []
    if ragged:
        text = buf.decode(encoding)
        if offset:
            text = text.split("\n", 1)[1] if "\n" in text else ""
        _, bad = _ragged_records(text, sep, len(df.columns))
        del text
        bad_set = {r for r, _ in bad}
        n_records = len(df) + len(bad)
        rows = [r + offset for r in range(2, n_records + 2) if r not in bad_set]
        for r, k in bad:
            rejected.append((r + offset, f"la ligne a {k} champs séparés par « {sep} » au lieu de "
                                         f"{len(df.columns)} (un « {sep} » non protégé par des guillemets "
                                         "dans une réponse ?)"))
    else:
        rows = list(range(2 + offset, len(df) + 2 + offset))
    for line in foreign:
        notes.append((line, None, "ligne non codée en UTF-8 comme le reste du fichier : lue comme du "
                                  "Windows-1252 (vérifiez ses accents)"))
    if len(df) + len(rejected) > limits.max_rows:
        _too_big(path, f"il a {fmt_number(len(df) + len(rejected))} lignes", limits)
    return df, rows, rejected, notes


def _header_score(headers, qn: Questionnaire) -> int:
    known = set(qn.columns) | set(qn.questions) | {ID_COLUMN, KOBO_ID}
    return sum(1 for h in headers if h is not None and _canonical(str(h), qn)[0] in known)


#: Stata extended missing values without a value label: the questionnaire missing code they stand
#: for, by the convention of ``haven::tagged_na`` users (``.a`` « ne sait pas », ``.b`` « refus »).
STATA_LETTERS = {"a": "nsp", "b": "refus"}


def _missing_code(q: Question, qn: Questionnaire, label=None, key=None):
    """The code a file's special value stands for in question ``q`` (by label, else by key), or None."""
    if label is not None:
        if q.type == "single":
            target = _label_index(q, qn).get(normalise_label(label))
            if target is not None:
                return target
        for m in q.missing:
            if normalise_label(m.label) == normalise_label(label):
                return m.code
    if key is not None:
        for m in q.missing:
            if m.key == key or m.key == f"{key}_nombre":
                return m.code
    return None


def _read_stat(path: Path, fmt: str, qn: Questionnaire, limits: Limits):
    """Read SPSS / Stata: (table, case numbers, notes).

    Codes are read with user-missing values kept.  A value-labelled code is mapped to the
    questionnaire code with the same label (an SPSS user-missing ``-1`` « Ne sait pas » becomes
    98); a Stata extended missing value (``.a``, ``.b``… as ``haven::write_dta`` writes them) is
    mapped through its value label, else through :data:`STATA_LETTERS`; one that maps to no
    code the question offers is left empty, with a note naming the case.
    """
    import pyreadstat

    if path.stat().st_size > limits.max_bytes:
        _too_big(path, f"il pèse {fmt_bytes(path.stat().st_size)}", limits)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    try:
        _, meta = reader(str(path), metadataonly=True)
        if meta.number_rows is not None and meta.number_rows > limits.max_rows:
            _too_big(path, f"il a {fmt_number(meta.number_rows)} lignes", limits)
        if meta.number_columns > limits.max_columns:
            _too_big(path, f"il a {meta.number_columns} colonnes", limits)
        df, meta = reader(str(path), user_missing=True, apply_value_formats=False)
    except UnreadableFileError:
        raise
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        _fail(path, f"le fichier {FORMAT_NAMES[fmt]} est endommagé ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
    df = df.astype(object).where(df.notna(), None)
    labels_of = meta.variable_value_labels or {}
    notes = []
    for col in df.columns:
        q = qn.questions.get(_canonical(col, qn)[0])
        if q is None or q.type not in ("single", "integer", "decimal"):
            continue
        labels = labels_of.get(col, {})
        remap = {}
        for value, label in labels.items():
            target = _missing_code(q, qn, label=label)
            if target is not None and _as_int(value) != target:
                remap[value] = target
        letters = {v for v in df[col].dropna().unique() if isinstance(v, str) and re.fullmatch(r"[a-z_]", v)}
        for letter in letters - set(remap):
            target = _missing_code(q, qn, label=labels.get(letter), key=STATA_LETTERS.get(letter))
            remap[letter] = target
            if target is None:
                for i in np.flatnonzero(df[col].to_numpy() == letter):
                    notes.append((i + 1, col, f".{letter}", f"valeur manquante étendue « .{letter} » sans "
                                  "équivalent parmi les non-réponses prévues pour cette question : cellule laissée vide"))
        if remap:
            df[col] = df[col].map(lambda v: remap.get(v, v) if v is not None else None)
    return df, [i + 1 for i in range(len(df))], notes


#: Identifier columns of foreign exports, by preference, used when there is no ``id_questionnaire``:
#: KoboToolbox ``_uuid``, ODK Central ``KEY`` and ``meta-instanceID`` (or ``meta/instanceID``).
FOREIGN_IDS = ("_uuid", "key", "meta-instanceid", "meta/instanceid", "instanceid", "_id")
#: Submission time columns: Kobo ``_submission_time``, ODK Central ``SubmissionDate``.
FOREIGN_TIMES = ("_submission_time", "submissiondate")
#: Other ODK Central meta columns, ignored silently.
ODK_META = {"submitterid", "submittername", "attachmentspresent", "attachmentsexpected", "status",
            "reviewstate", "deviceid", "edits", "formversion", "parent_key", "meta-instancename",
            "meta-deprecatedid", "meta-audit", "meta-entity"}


def _labels_index(qn: Questionnaire) -> dict[str, str]:
    """Normalised question label → question name (a Kobo « labels » export heads columns so)."""
    idx = getattr(qn, "_dls_label_index", None)
    if idx is None:
        idx = {}
        for q in qn:
            idx.setdefault(normalise_label(q.label), q.name)
        try:
            qn._dls_label_index = idx
        except AttributeError:  # frozen: recompute each time
            pass
    return idx


#: The paper form's number before a variable name in the entry workbook's headers.
_NUMBERED = re.compile(r"^Q\d+\s*·\s*")


def canonical_column(header: str, qn: Questionnaire) -> str:
    """The questionnaire column a file's header stands for (``Q12 · renoncement``, Kobo/ODK
    paths and labels included), or the header itself when it stands for none."""
    return _canonical(str(header), qn)[0]


def _canonical(header: str, qn: Questionnaire) -> tuple[str, bool]:
    """Map an original header to a canonical column; second item: looks like a Kobo/ODK header.

    Accepts the questionnaire's names, Kobo/ODK group paths (``profil/age``, ODK Central's
    ``grp_sante-renoncement``), one 0/1 column per option (``groupe/question/code``), and the
    question labels of a Kobo « labels » export (``Quel âge avez-vous ?``, and
    ``libellé de la question/libellé de l'option`` for an option column), and the entry
    workbook's numbered headers (``Q12 · renoncement``).
    """
    h = _NUMBERED.sub("", header.strip())   # « Q12 · renoncement » (entry workbook) -> renoncement
    if h in qn.columns or h in qn.questions or h == ID_COLUMN:
        return h, False
    low = h.lower()
    if low in (ID_COLUMN, *FOREIGN_IDS, *FOREIGN_TIMES):
        return low, low != ID_COLUMN
    if h.startswith("_") or h in KOBO_META or low in {m.lower() for m in KOBO_META} or low.startswith("meta/") \
            or low in ODK_META or low.startswith("meta-"):
        return h, True
    labels = _labels_index(qn)
    if normalise_label(h) in labels:
        return labels[normalise_label(h)], True
    parts = [p for p in re.split(r"[/]", h) if p]
    if len(parts) == 1:
        parts = [p for p in h.split("-") if p]
    parts = [p.strip() for p in parts]
    lowered = [p.lower() for p in parts]
    if len(parts) >= 2:
        q = qn.questions.get(lowered[-2]) or qn.questions.get(labels.get(normalise_label(parts[-2]), ""))
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


def blank_mask(series: pd.Series) -> np.ndarray:
    """Vectorised :func:`is_blank` over a column: each distinct value is judged once."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    u = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    try:
        stripped = u.str.strip()                  # NaN for what is not a string
    except AttributeError:                        # no string at all (numbers, dates)
        stripped = pd.Series(np.nan, index=u.index, dtype=object)
    judged = stripped.eq("").to_numpy(dtype=bool, copy=True)
    other = stripped.isna().to_numpy()
    if other.any():
        judged[other] = [is_blank(v) for v in u[other]]
    return np.where(codes < 0, True, judged[np.maximum(codes, 0)] if len(uniques) else True)


def read_answers(path: str | Path, questionnaire: Questionnaire | None = None,
                 sheet: str | None = None, *, limits: Limits | None = None) -> RawAnswers:
    """Read an answer file into raw cells under the questionnaire's column names.

    Parameters
    ----------
    path : path-like
        CSV, XLSX, SAV/ZSAV or DTA file, or a KoboToolbox/ODK export (CSV or XLSX).
    questionnaire : Questionnaire, optional
        Defaults to the shipped ``dls_habitants`` questionnaire.
    sheet : str, optional
        Sheet of a workbook; default: the sheet whose header (in its first ten rows) holds the
        most questionnaire columns, ``Saisie`` on a tie.
    limits : Limits, optional
        What the reader accepts (:class:`Limits`: 2 000 000 rows, 1 000 columns, 500 Mo
        decompressed, 50 000 000 cells by default), checked before parsing.

    Returns
    -------
    RawAnswers

    Raises
    ------
    UnreadableFileError
        The file cannot be read as a table of answers (see :func:`detect_format`), exceeds the
        limits, has no identifier column, or fewer than three of the questionnaire's columns.

    Notes
    -----
    Nothing is judged here: a cell ``"trente"`` in ``age`` is passed on as is.  Every row of
    the file is accounted for: ``len(table) + len(rejected_rows)`` is the number of rows below
    the header, up to the last non-empty one.  A ragged CSV row (more fields than the header)
    goes to ``rejected_rows`` with its row number; a line of another encoding is decoded as
    Windows-1252 and reported in ``notes`` (its row and the cells concerned), never altered
    silently.  Trailing empty rows (e.g. the pre-formatted rows of the entry workbook) are
    dropped; empty rows in the middle are kept (validation rejects them, so that counts reconcile).
    """
    qn = questionnaire or load_questionnaire()
    limits = limits or DEFAULT_LIMITS
    path = Path(path)
    fmt = detect_format(path)
    sheet_used = None
    rejected_rows, notes = [], []
    if fmt == "csv":
        df, rows, rejected_rows, notes = _read_csv(path, limits)
    elif fmt == "xlsx":
        df, rows, sheet_used = _read_xlsx(path, qn, sheet, limits)
    else:
        df, rows, notes = _read_stat(path, fmt, qn, limits)
    df.columns = [("" if c is None else str(c)) for c in df.columns]
    if len(df.columns) > limits.max_columns:
        _too_big(path, f"il a {len(df.columns)} colonnes", limits)

    renamed, unknown, dup, kobo = {}, [], [], False
    keep = {}
    foreign = {}
    for j, col in enumerate(df.columns):
        series = df.iloc[:, j]
        if col.strip() == "" and blank_mask(series).all():
            continue
        canon, is_kobo = _canonical(col, qn)
        kobo = kobo or is_kobo
        if canon in FOREIGN_IDS or canon in FOREIGN_TIMES:
            foreign.setdefault(canon, series)
            continue
        if canon.startswith("_") or canon in KOBO_META or canon.lower().startswith(("meta/", "meta-")) \
                or canon.lower() in {m.lower() for m in KOBO_META} or canon.lower() in ODK_META:
            continue
        if canon in qn.columns or canon in qn.questions or canon == ID_COLUMN:
            if canon in keep:
                dup.append(col)
                continue
            keep[canon] = series
            renamed[col] = canon
        else:
            unknown.append(col)
    table = pd.DataFrame(keep, index=range(len(df))) if keep else pd.DataFrame(index=range(len(df)))

    found_questions = {qn.column_owner(c)[0].name if c not in qn.questions else c
                       for c in table.columns if c in qn.columns or c in qn.questions}
    if len(found_questions) < 3:
        where_ = f"la feuille « {sheet_used} »" if sheet_used else "ce tableau"
        seen = ", ".join(list(df.columns[:5])) or "aucune"
        _fail(path, f"{where_} ne contient pas les colonnes du questionnaire « {qn.id} » (en-têtes trouvés en "
                    f"ligne 1 : {seen}… ; attendu : {ID_COLUMN}, {', '.join(qn.columns[:4])}…)")
    id_source = ID_COLUMN
    other_id = next((k for k in FOREIGN_IDS if k in foreign), None)
    if ID_COLUMN not in table:
        if other_id is None:
            _fail(path, f"il n'a pas de colonne « {ID_COLUMN} » (numéro du questionnaire) ni d'identifiant "
                        "d'export (« _uuid » de KoboToolbox, « KEY » ou « meta-instanceID » d'ODK Central) "
                        "pour identifier chaque réponse")
        table[ID_COLUMN] = foreign[other_id].astype(object)
        id_source = next(c for c in df.columns if c.strip().lower() == other_id)
    elif other_id is not None:
        ids = table[ID_COLUMN].astype(object)
        blank = blank_mask(ids)
        if blank.any():
            ids = ids.where(~blank, foreign[other_id].astype(object))
            table[ID_COLUMN] = ids
    time_col = next((k for k in FOREIGN_TIMES if k in foreign), None)
    if "date_reponse" in qn.questions and "date_reponse" not in table and time_col is not None:
        table["date_reponse"] = foreign[time_col]

    # drop trailing empty rows (and reader-rejected rows beyond them)
    nonblank = np.zeros(len(table), dtype=bool)
    for c in table.columns:
        nonblank |= ~blank_mask(table[c])
    last = int(np.flatnonzero(nonblank)[-1]) + 1 if nonblank.any() else 0
    last_row = rows[last - 1] if last else 0
    rejected_rows = [r for r in rejected_rows if r[0] <= last_row or last == len(table)]
    table = table.iloc[:last].reset_index(drop=True)
    rows = rows[:last]
    if last == 0 and not rejected_rows:
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
    cell_notes = _locate_notes(table, rows, notes, renamed)
    return RawAnswers(table=table, rows=rows, file=path.name, path=path, format=fmt, kobo=kobo,
                      sheet=sheet_used, unknown_columns=unknown, absent_columns=absent,
                      duplicate_columns=dup, renamed=renamed, id_source=id_source,
                      rejected_rows=rejected_rows, notes=cell_notes)


def _locate_notes(table: pd.DataFrame, rows: list[int], notes: list[tuple], renamed: dict) -> list[tuple]:
    """Reader notes as ``(row, column, value, problem)``; a row-wide note names its non-ASCII cells."""
    out = []
    where_row = {r: i for i, r in enumerate(rows)} if notes else {}
    for row, col, *rest in notes:
        if col is not None:
            out.append((row, renamed.get(col, col), rest[0], rest[1]))
            continue
        i = where_row.get(row)
        problem = rest[0]
        cells = []
        if i is not None:
            for c in table.columns:
                v = table[c].iat[i]
                if isinstance(v, str) and not v.isascii():
                    cells.append((c, v))
        for c, v in cells or [(None, "")]:
            out.append((row, c, v, problem))
    return out
