"""The data-entry workbook used to key in paper questionnaires (Excel / LibreOffice).

Sheets
------
``Saisie``
    Row 1: ``id_questionnaire`` then the columns of a clean answer table
    (:attr:`Questionnaire.columns`, multiple choice as ``{question}_{code}`` 0/1 columns), each
    headed with the paper form's question number (« Q12 · renoncement »,
    :meth:`Questionnaire.question_label`; the readers strip the number);
    one paper form per row from row 2.  Every column carries a data validation (drop-down list
    of the valid codes including the question's non-response codes, 0/1 for multiple-choice
    options, whole number / decimal / date within the question's range, text length) with a
    French input message giving the code → label mapping and a French error message.  The
    header row and the identifier column are frozen.
``Dictionnaire``
    The codebook (:meth:`Questionnaire.codebook`), one row per column and code.
``Mode d'emploi``
    How to key in a form, in French.

Excel limits input and error messages to 255 characters and their titles to 32; longer
mappings are shortened and point to the ``Dictionnaire`` sheet.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..config.questionnaire import Question, Questionnaire
from ..errors import DLSError
from ..io.files import atomic_path
from ..io.spreadsheet import write_cell

ID_COLUMN = "id_questionnaire"
SHEET_ENTRY = "Saisie"
SHEET_CODEBOOK = "Dictionnaire"
SHEET_HELP = "Mode d'emploi"
DATE_FORMAT = "DD/MM/YYYY"
_MAX_MSG = 255
_MAX_TITLE = 32
_FILLS = ("DDEBF7", "FCE4D6")  # alternate header colours from one section to the next

TYPE_LABELS = {"single": "choix unique", "multiple": "choix multiples (0/1 par modalité)",
               "integer": "nombre entier", "decimal": "nombre décimal", "text": "texte libre",
               "date": "date"}


def _fit(text: str, limit: int = _MAX_MSG, tail: str = " … (voir la feuille Dictionnaire)") -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - len(tail)].rstrip(" ;,") + tail


def _num(x) -> str:
    s = f"{x:g}" if isinstance(x, float) else str(x)
    return s.replace(".", ",")


def _filter_note(q: Question) -> str:
    if not q.relevant:
        return ""
    return " Laisser vide si la question n'a pas été posée (filtre : " + \
        q.relevant.replace("==", "=").replace("!=", "≠") + ")."


def _validation(q: Question, column: str, first: str) -> DataValidation:
    """The data validation of one column of the Saisie sheet (``first``: its row-2 cell)."""
    miss = sorted(q.missing, key=lambda m: m.code)
    miss_txt = " ; ".join(f"{m.code} = {m.label}" for m in miss)
    filt = _filter_note(q)
    if q.type == "single":
        codes = q.codes + [m.code for m in miss]
        mapping = " ; ".join(f"{c.code} = {c.label}" for c in q.choices)
        dv = DataValidation(type="list", formula1='"' + ",".join(map(str, codes)) + '"')
        prompt = mapping + (f" ; {miss_txt}" if miss else "") + "." + filt
        error = f"Tapez l'un des codes {', '.join(map(str, codes))} (voir la bulle d'aide ou la feuille Dictionnaire)."
    elif q.type == "multiple":
        code = int(column.rsplit("_", 1)[1])
        dv = DataValidation(type="list", formula1='"0,1"')
        prompt = f"« {q.label_of(code)} » : 1 = coché, 0 = non coché. Si aucune case de la question n'est cochée, " \
                 "laisser toutes ses colonnes vides." + filt
        error = "Tapez 1 si la case est cochée, 0 sinon (ou laissez vide si la question est sans réponse)."
    elif q.type in ("integer", "decimal"):
        kind = "un nombre entier" if q.type == "integer" else "un nombre"
        unit = f" {q.unit}" if q.unit else ""
        if q.range is None and not miss:
            dv = DataValidation(type="whole" if q.type == "integer" else "decimal",
                                operator="greaterThanOrEqual", formula1="-1000000000")
            prompt = f"Tapez {kind}{unit}." + filt
            error = f"Tapez {kind}."
        else:
            lo, hi = q.range if q.range is not None else (None, None)
            if not miss:
                dv = DataValidation(type="whole" if q.type == "integer" else "decimal", operator="between",
                                    formula1=str(lo), formula2=str(hi))
            else:  # a range OR a non-response code: only a custom formula can say it
                conds = [f"ISNUMBER({first})"]
                if q.type == "integer":
                    conds.append(f"{first}=INT({first})")
                if lo is not None:
                    conds += [f"{first}>={lo}", f"{first}<={hi}"]
                alts = "".join(f",{first}={m.code}" for m in miss)
                dv = DataValidation(type="custom", formula1=f"OR(AND({','.join(conds)}){alts})")
            rng = f" compris entre {_num(lo)} et {_num(hi)}{unit}" if lo is not None else unit
            prompt = f"Tapez {kind}{rng}" + (f" ; ou {miss_txt}" if miss else "") + "." + filt
            error = f"Valeur refusée : tapez {kind}{rng}" + (f" (ou {miss_txt})" if miss else "") + "."
    elif q.type == "date":
        if q.range is not None:
            lo, hi = q.range
            dv = DataValidation(type="date", operator="between",
                                formula1=f"DATE({lo.year},{lo.month},{lo.day})",
                                formula2=f"DATE({hi.year},{hi.month},{hi.day})")
            span = f" entre le {lo:%d/%m/%Y} et le {hi:%d/%m/%Y}"
        else:
            dv = DataValidation(type="date", operator="greaterThan", formula1="DATE(1900,1,1)")
            span = ""
        prompt = f"Tapez une date au format jj/mm/aaaa{span}." + filt
        error = f"Valeur refusée : tapez une date jj/mm/aaaa{span}."
    else:  # text
        limit = int(q.max_length) if q.max_length else 32767
        dv = DataValidation(type="textLength", operator="lessThanOrEqual", formula1=str(limit))
        most = f" (au plus {limit} caractères)" if q.max_length else ""
        prompt = f"Recopiez le texte tel qu'écrit{most}, sans nom ni coordonnées." + filt
        error = f"Le texte ne doit pas dépasser {limit} caractères."
    dv.allow_blank = True
    dv.showInputMessage = True
    dv.showErrorMessage = True
    dv.errorStyle = "stop"
    dv.promptTitle = _fit(column, _MAX_TITLE, "…")
    dv.prompt = _fit(prompt)
    dv.errorTitle = _fit(f"Valeur refusée ({column})", _MAX_TITLE, "…")
    dv.error = _fit(error)
    return dv


def _cell_value(value, q: Question | None):
    """Python value written in a cell: None for missing, int codes, dates as dates."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if q is not None and q.type == "date":
        if isinstance(value, str):
            try:
                return _dt.date.fromisoformat(value)
            except ValueError:
                return value
        return pd.Timestamp(value).to_pydatetime()
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and q is not None and q.type in ("single", "multiple", "integer") \
            and value.is_integer():
        return int(value)
    return value


def _help_lines(qn: Questionnaire) -> list[tuple[str, bool]]:
    miss = " ; ".join(f"{m.code} = « {m.label} »" for m in sorted(qn.missing_codes.values(), key=lambda m: m.code))
    return [
        (f"Classeur de saisie — {qn.title}", True),
        (f"Questionnaire « {qn.id} », version {qn.version} : {len(qn.questions)} questions, "
         f"{len(qn.columns)} colonnes de réponses.", False),
        ("", False),
        ("Principe", True),
        ("Une ligne de la feuille « Saisie » = un questionnaire papier. Ne modifiez pas la ligne 1 "
         "(noms des colonnes) ni l'ordre des colonnes ; commencez à la ligne 2.", False),
        ("Colonne id_questionnaire : recopiez le numéro inscrit sur le questionnaire papier "
         "(chaque numéro une seule fois).", False),
        ("En cliquant sur une cellule, une bulle d'aide rappelle les codes autorisés ; une valeur "
         "hors liste est refusée. La feuille « Dictionnaire » donne tous les codes.", False),
        ("", False),
        ("Règles de saisie", True),
        ("Choix unique : tapez le code de la case cochée (par exemple 1 pour « Oui », 2 pour « Non »).", False),
        (f"Non-réponses : {miss}, seulement si la question les propose (voir la bulle d'aide).", False),
        ("Question sans réponse, ou non posée à cause d'un filtre (« Si vous avez répondu … ») : "
         "laissez la cellule vide.", False),
        ("Choix multiples : une colonne par case ({question}_{code}) ; tapez 1 si la case est cochée "
         "et 0 sinon. Si aucune case de la question n'est cochée, laissez toutes ses colonnes vides.", False),
        ("Nombres : chiffres seuls, sans unité. Dates : jj/mm/aaaa.", False),
        ("Deux cases cochées pour une question à choix unique, ou réponse illisible : laissez vide "
         "et notez le numéro du questionnaire pour le signaler.", False),
        ("Texte libre : recopiez tel quel, mais sans nom, téléphone ni adresse.", False),
        ("", False),
        ("Après la saisie", True),
        ("Un copier-coller peut contourner les contrôles d'Excel : l'étape de validation de la boîte à "
         "outils refait tous les contrôles et liste chaque erreur avec sa ligne et sa colonne.", False),
        ("Enregistrez au format .xlsx. Ce classeur contient des réponses individuelles : "
         "conservez-le dans un dossier protégé et ne l'envoyez pas par courriel.", False),
    ]


def write_entry_workbook(questionnaire: Questionnaire, path: str | os.PathLike,
                         data: pd.DataFrame | None = None, max_rows: int = 2000) -> Path:
    """Write the data-entry workbook (sheets Saisie, Dictionnaire, Mode d'emploi).

    Parameters
    ----------
    questionnaire : Questionnaire
        Loaded questionnaire.
    path : path-like
        Output ``.xlsx`` file (written to a temporary name, then renamed).
    data : pandas.DataFrame, optional
        Answers to pre-fill, as codes: ``id_questionnaire`` plus any subset of
        :attr:`Questionnaire.columns`.  Missing values become empty cells; date columns may hold
        dates, timestamps or ISO strings.
    max_rows : int
        Number of data rows (from row 2) covered by the validations; at least the rows of ``data``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DLSError
        When ``data`` lacks ``id_questionnaire`` or has a column the questionnaire does not define.

    Notes
    -----
    A round trip ``write_entry_workbook(qn, p, df)`` → ``pandas.read_excel(p, sheet_name="Saisie")``
    returns the same values (integer columns with empty cells come back as floats).
    """
    qn = questionnaire
    path = Path(path)
    owners = {c: qn.column_owner(c)[0] for c in qn.columns}
    columns = qn.asked_columns   # derived questions are computed on validation, not typed
    if data is not None:
        if ID_COLUMN not in data.columns:
            raise DLSError(f"La table à écrire dans « {path.name} » n'a pas de colonne « {ID_COLUMN} » "
                           "(numéro du questionnaire papier) : ajoutez-la.")
        unknown = [c for c in data.columns if c != ID_COLUMN and c not in owners]
        if unknown:
            raise DLSError(f"La table à écrire dans « {path.name} » contient la colonne « {unknown[0]} », "
                           f"absente du questionnaire « {qn.id} » (attendu : {ID_COLUMN} puis les colonnes "
                           "de la feuille Dictionnaire).", column=unknown[0])
    n_rows = max(max_rows, 0 if data is None else len(data))

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_ENTRY
    header = [ID_COLUMN, *columns]
    for j, name in enumerate(header, start=1):   # « Q12 · renoncement »: the paper form's number first
        write_cell(ws, 1, j, name if name == ID_COLUMN else qn.question_label(name))
    bold = Font(bold=True)
    sec_of = {ID_COLUMN: None, **{c: owners[c].section for c in columns}}
    fill_idx, prev = 0, None
    for j, name in enumerate(header, start=1):
        cell = ws.cell(1, j)
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center")
        if sec_of[name] != prev and j > 1:
            fill_idx = 1 - fill_idx
        prev = sec_of[name]
        cell.fill = PatternFill("solid", fgColor="D9D9D9" if j == 1 else _FILLS[fill_idx])
        letter = get_column_letter(j)
        q = owners.get(name)
        width = 16 if name == ID_COLUMN else len(qn.question_label(name)) + 3
        if q is not None and q.type == "text":
            width = 40
        elif q is not None and q.type == "date":
            width = max(width, 12)
        ws.column_dimensions[letter].width = max(width, 6)

    last = n_rows + 1
    id_dv = DataValidation(type="custom", formula1="COUNTIF($A$2:$A$%d,A2)=1" % last, allow_blank=True)
    id_dv.promptTitle, id_dv.prompt = ID_COLUMN, "Numéro inscrit sur le questionnaire papier (chaque numéro une seule fois)."
    id_dv.errorTitle, id_dv.error = "Numéro en double", "Ce numéro de questionnaire a déjà été saisi sur une autre ligne."
    id_dv.showInputMessage = id_dv.showErrorMessage = True
    id_dv.errorStyle = "stop"
    ws.add_data_validation(id_dv)
    id_dv.add(f"A2:A{last}")
    for j, name in enumerate(columns, start=2):
        letter = get_column_letter(j)
        dv = _validation(owners[name], name, f"{letter}2")
        ws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}{last}")

    if data is not None:
        cols = [(j, name, owners.get(name)) for j, name in enumerate(header, start=1) if name in data.columns]
        for i, row in enumerate(data.itertuples(index=False, name=None), start=2):
            values = dict(zip(data.columns, row))
            for j, name, q in cols:
                v = _cell_value(values[name], q)
                if v is not None:
                    cell = ws.cell(i, j, v)
                    if q is not None and q.type == "date":
                        cell.number_format = DATE_FORMAT
    ws.freeze_panes = "B2"

    # codebook
    cb = qn.codebook()
    cb["type"] = cb["type"].map(TYPE_LABELS).fillna(cb["type"])
    ws2 = wb.create_sheet(SHEET_CODEBOOK)
    titles = {"section": "Section", "question": "Question", "colonne": "Colonne", "type": "Type",
              "libelle": "Libellé", "code": "Code", "modalite": "Modalité", "filtre": "Filtre",
              "obligatoire": "Obligatoire"}
    ws2.append([titles.get(c, c) for c in cb.columns])
    for cell in ws2[1]:
        cell.font = bold
    for row in cb.itertuples(index=False, name=None):
        ws2.append(list(row))
    widths = {"Section": 14, "Question": 22, "Colonne": 24, "Type": 20, "Libellé": 60, "Code": 8,
              "Modalité": 45, "Filtre": 28, "Obligatoire": 11}
    for j, cell in enumerate(ws2[1], start=1):
        ws2.column_dimensions[get_column_letter(j)].width = widths.get(cell.value, 14)
    ws2.freeze_panes = "A2"
    ws2.auto_filter.ref = ws2.dimensions

    # instructions
    ws3 = wb.create_sheet(SHEET_HELP)
    ws3.column_dimensions["A"].width = 110
    for i, (text, strong) in enumerate(_help_lines(qn), start=1):
        cell = ws3.cell(i, 1, text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if strong:
            cell.font = Font(bold=True, size=13 if i == 1 else 11)

    wb.properties.title = f"Classeur de saisie — {qn.title}"
    wb.properties.keywords = f"{qn.id} {qn.version}"
    wb.properties.creator = "dls-diagnostics"
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
