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
  ignored, and so is the XLSForm's note (``introduction``, headed by its text in a « labels »
  export).  Checked against the 48 flavours the real formpack writes from our XLSForm
  (``tests/fixtures/exporters/``);
* **hand-made « labels » tables**: the identifier headed « Numéro du questionnaire », an option's
  0/1 column headed ``question/option``, ``question - option`` or ``question : option``, a
  ticked option written as its own label, a number's non-response written as its label.

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
functions below, which :mod:`diagnostics.collect.validation` calls and whose verdicts it turns into
accepted values, warnings or rejections.  A choice cell may hold a code (``2``), a label
(``Homme``, ``homme``, ``HOMME``; accents, case, hyphens and spaces do not matter) or
``"code - libellé"`` (``2 - Homme``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config.questionnaire import Question, Questionnaire, load_questionnaire
from ..errors import UnreadableFileError
from ..io.formats import (
    DEFAULT_LIMITS,
    Limits,
    _check_workbook,
    _fail,
    _read_csv,
    _too_big,
    detect_format,
    fmt_bytes,
    fmt_number,
)
from .review import COLUMNS as REVIEW_COLUMNS
from .values import _as_int, _label_index, is_blank, normalise_label

__all__ = ["RawAnswers", "canonical_column", "read_answers", "blank_mask", "ID_COLUMN"]

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
    review : Series or None
        The server's review state of each row (ODK Central ``ReviewState``, Kobo
        ``_validation_status``) as read, when the file has that column
        (:mod:`diagnostics.collect.review`); validation applies the rule.
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
    review: pd.Series | None = None

    @property
    def n_rows(self) -> int:
        """Rows of the file below the header: read into ``table`` or rejected by the reader."""
        return len(self.table) + len(self.rejected_rows)




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
            _too_big(path, f"il a {fmt_number(meta.number_columns)} colonnes", limits)
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
#: Headers that stand for ``id_questionnaire`` (normalised): the label the toolkit itself gives it
#: (SPSS variable label, paper form), as a « labels » table heads it.
ID_LABELS = {"numero du questionnaire", "n du questionnaire", "no du questionnaire"}
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


def _column_set(qn: Questionnaire) -> frozenset:
    """The questionnaire's clean-table columns as a set (looked up once per header)."""
    cols = getattr(qn, "_dls_column_set", None)
    if cols is None:
        cols = frozenset(qn.columns)
        try:
            qn._dls_column_set = cols
        except AttributeError:
            pass
    return cols


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
    columns = _column_set(qn)
    h = _NUMBERED.sub("", header.strip())   # « Q12 · renoncement » (entry workbook) -> renoncement
    if h in columns or h in qn.questions or h == ID_COLUMN:
        return h, False
    low = h.lower()
    if low in (ID_COLUMN, *FOREIGN_IDS, *FOREIGN_TIMES):
        return low, low != ID_COLUMN
    if normalise_label(h) in ID_LABELS:
        return ID_COLUMN, False
    if h.startswith("_") or h in KOBO_META or low in {m.lower() for m in KOBO_META} or low.startswith("meta/") \
            or low in ODK_META or low.startswith("meta-"):
        return h, True
    labels = _labels_index(qn)
    key = normalise_label(h)
    if key in labels:
        return labels[key], True
    if qn.intro and key == normalise_label(qn.intro):
        return "introduction", True         # the XLSForm's note, headed by its text in « labels »
    if "/" in h:
        found = _group_path(h, qn, labels, columns)
        if found is not None:
            return found, True
    found = _option_header(h, qn, labels)
    if found is not None:
        return found, False
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
    if last in qn.questions or last in columns or last == ID_COLUMN:
        return last, len(parts) > 1
    return h, False


def _group_path(h: str, qn: Questionnaire, labels: dict, columns: frozenset) -> str | None:
    """A header made of group names or labels, then a question (its name or label) and, for a
    select_multiple 0/1 column, an option (code or label), all joined by « / ».

    Kobo's « include groups in headers » option heads a column « Recueil du questionnaire/Comment
    ce questionnaire a-t-il été recueilli ? » in a « labels » export (formpack,
    ``Field._get_label`` with ``hierarchy_in_labels``, ``group_sep="/"``): the leading groups
    are dropped whatever their number, and a label that itself holds « / » is still found,
    since every split point is tried.
    """
    parts = [p.strip() for p in h.split("/")]

    def question(text: str):
        if text in qn.questions:
            return qn.questions[text]
        name = labels.get(normalise_label(text))
        return qn.questions.get(name) if name else None

    for k in range(len(parts)):                   # groups/…/question
        tail = "/".join(parts[k:])
        if tail in columns or tail == ID_COLUMN:
            return tail
        q = question(tail)
        if q is not None and q.type != "multiple" or (q is not None and k == len(parts) - 1):
            return q.name
    for m in range(len(parts) - 1, 0, -1):        # groups/…/question/option
        option = "/".join(parts[m:])
        for k in range(m):
            found = _option_column(question("/".join(parts[k:m])), option)
            if found is not None:
                return found
    return None


def _option_column(q, option: str) -> str | None:
    """``question_code`` when ``q`` is a multiple choice and ``option`` one of its codes or labels."""
    if q is None or q.type != "multiple":
        return None
    code = _as_int(option)
    if code is None:
        code = {normalise_label(c.label): c.code for c in q.choices}.get(normalise_label(option))
    return f"{q.name}_{code}" if code is not None and code in {c.code for c in q.choices} else None


#: Separators a hand-made « labels » table puts between a question's label and an option's label.
OPTION_SEPARATORS = (" - ", " – ", " : ", " | ")


def _option_header(h: str, qn: Questionnaire, labels: dict) -> str | None:
    """``question_code`` for a 0/1 column headed « libellé de la question - libellé de l'option »
    (or « : », « – », « | »), every split point tried since labels hold such characters too."""
    for sep in OPTION_SEPARATORS:
        pieces = h.split(sep)
        for m in range(len(pieces) - 1, 0, -1):
            name = labels.get(normalise_label(sep.join(pieces[:m])))
            q = qn.questions.get(name) if name else qn.questions.get(sep.join(pieces[:m]).strip())
            found = _option_column(q, sep.join(pieces[m:]).strip())
            if found is not None:
                return found
    return None


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
        _too_big(path, f"il a {fmt_number(len(df.columns))} colonnes", limits)

    renamed, unknown, dup, kobo = {}, [], [], False
    keep = {}
    foreign = {}
    columns = _column_set(qn)
    for col, series in df.items():
        if col.strip() == "" and blank_mask(series).all():
            continue
        canon, is_kobo = _canonical(col, qn)
        kobo = kobo or is_kobo
        if canon in FOREIGN_IDS or canon in FOREIGN_TIMES or canon.lower() in REVIEW_COLUMNS:
            foreign.setdefault(canon.lower() if canon.lower() in REVIEW_COLUMNS else canon, series)
            continue
        if canon.startswith("_") or canon in KOBO_META or canon.lower().startswith(("meta/", "meta-")) \
                or canon.lower() in {m.lower() for m in KOBO_META} or canon.lower() in ODK_META:
            continue
        if canon in columns or canon in qn.questions or canon == ID_COLUMN:
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
    review = next((foreign[c].iloc[:last].reset_index(drop=True) for c in REVIEW_COLUMNS if c in foreign), None)
    return RawAnswers(table=table, rows=rows, file=path.name, path=path, format=fmt, kobo=kobo,
                      sheet=sheet_used, unknown_columns=unknown, absent_columns=absent,
                      duplicate_columns=dup, renamed=renamed, id_source=id_source,
                      rejected_rows=rejected_rows, notes=cell_notes, review=review)


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
