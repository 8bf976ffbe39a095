"""Readers for the IMPACT follow-up form export and the activity log.

Both files come from the programme's information system, opened and saved by Excel: CSV
"French Excel" style (``;`` separator, decimal comma, ``dd/mm/yyyy`` dates, cp1252 or
UTF-8 with BOM) or XLSX.  Every row read is either accepted into ``.data`` or listed in
``.rejected`` with the reasons (one line per problem: row as seen in Excel, column, value,
French message), so that ``n_read == n_accepted + n_rejected`` always holds.  Entirely
blank rows (Excel leftovers) are not records and are not counted.

Follow-up form layouts
----------------------
* **long**: one row per person and measurement time, with a ``temps`` column
  (``avant``/``après``, ``T0``/``T1``, ``inclusion``/``fin de suivi``);
* **wide**: one row per person, with ``<variable>_avant`` and ``<variable>_apres`` columns.

The layout is detected from the header.  ``.data`` is always wide: one row per person,
``id`` then ``<variable>_avant`` / ``<variable>_apres`` (single-time variables of a wide file
keep their name).
"""
from __future__ import annotations

import datetime as _dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DLSError, UnreadableFileError, where
from ..io.formats import decode_text

__all__ = [
    "ReadResult", "Variable", "FOLLOWUP_VARIABLES", "ACTIVITY_TYPES",
    "read_followup", "read_activity",
]


@dataclass(frozen=True)
class Variable:
    """One variable of the follow-up form.

    ``kind`` is ``"binaire"`` (oui/non → 1/0), ``"decimal"`` (decimal comma accepted, optional
    inclusive ``minimum``/``maximum``), ``"date"`` or ``"texte"``.
    """

    kind: str
    minimum: float | None = None
    maximum: float | None = None


#: Variables of the IMPACT follow-up form (2021 evaluation).  Pass your own mapping to
#: :func:`read_followup` when the form changes.
FOLLOWUP_VARIABLES: dict[str, Variable] = {
    "surpoids": Variable("binaire"),
    "graisse_viscerale": Variable("decimal", 1, 59),  # visceral fat level (impedance scale)
    "aise_questions": Variable("binaire"),             # at ease asking health professionals
    "effet_moral": Variable("binaire"),                # follow-up had a positive effect on mood
}

#: Canonical consultation types of the activity log and the spellings accepted for each
#: (compared without accents nor case).  ``Adressage`` rows are new referrals, not
#: consultations.
ACTIVITY_TYPES: dict[str, tuple[str, ...]] = {
    "ICA": ("ica", "accompagnement sante", "rendez-vous ica", "intervenante clinique d'appui"),
    "Diététique": ("dietetique", "dieteticienne", "dietetiques", "nutrition"),
    "Psychologie": ("psychologie", "psychologue", "psy", "psychologique"),
    "Neuropsychologie": ("neuropsychologie", "bilan neuropsychologique", "neuropsy"),
    "Réflexologie": ("reflexologie", "seance de reflexologie"),
    "Tabacologie": ("tabacologie", "tabac", "sevrage tabagique", "aide au sevrage",
                    "mois sans tabac"),
    "Adressage": ("adressage", "nouvel adressage", "orientation"),
}

_ID = ("id", "id_personne", "identifiant", "personne", "patient", "code_personne", "pseudonyme")
_TIME = ("temps", "moment", "temps_mesure", "periode", "phase")
_DATE = ("date", "date_mesure", "date_consultation", "date_rdv", "date_du_rendez_vous")
_TYPE = ("type", "type_consultation", "type_de_consultation", "prestation", "acte")

_BEFORE = {"avant", "t0", "inclusion", "debut", "debut de suivi", "initial", "entree"}
_AFTER = {"apres", "t1", "fin", "fin de suivi", "final", "sortie"}
_YES = {"oui", "o", "1", "vrai", "yes", "y", "true", "x"}
_NO = {"non", "n", "0", "faux", "no", "false"}


@dataclass
class ReadResult:
    """What a reader returns.

    Attributes
    ----------
    data : DataFrame
        Accepted records (clean types).
    rejected : DataFrame
        One line per problem: ``row`` (as seen in Excel, header is row 1), ``column``,
        ``value``, ``message`` (French).
    file : str
        File read.
    n_read, n_accepted, n_rejected : int
        Rows read (blank rows excluded), accepted and rejected: ``n_read == n_accepted +
        n_rejected``.
    layout : str
        ``"long"`` or ``"wide"`` for follow-up files, ``"journal"`` for the activity log.
    """

    data: pd.DataFrame
    rejected: pd.DataFrame
    file: str
    n_read: int
    n_accepted: int
    layout: str
    notes: list[str] = field(default_factory=list)

    @property
    def n_rejected(self) -> int:
        return int(self.rejected["row"].nunique()) if len(self.rejected) else 0

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return (f"ReadResult(file={self.file!r}, layout={self.layout!r}, lues={self.n_read}, "
                f"acceptées={self.n_accepted}, rejetées={self.n_rejected})")


# --------------------------------------------------------------------------- helpers

def _norm(text) -> str:
    """Lower-case, accent-free, trimmed, single-spaced version of ``text``."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"\s+", " ", s.strip().lower())


def _colkey(text) -> str:
    return re.sub(r"[^a-z0-9]+", "_", _norm(text)).strip("_")


def _is_blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()) \
        or v is pd.NaT


def _load(path, sheet=None) -> tuple[pd.DataFrame, str]:
    """Read a CSV/XLSX file into a DataFrame of raw cells indexed by Excel row number."""
    path = Path(path)
    name = path.name
    if not path.exists():
        raise UnreadableFileError(f"{where(name)}fichier introuvable ({path}).", file=name)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            raw = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object,
                                header=0, engine="openpyxl")
        except Exception as exc:  # noqa: BLE001 - any openpyxl failure is "unreadable"
            raise UnreadableFileError(f"{where(name)}classeur illisible ({exc}) ; un fichier "
                                      "XLSX enregistré par Excel était attendu.", file=name) from exc
    else:
        blob = path.read_bytes()
        text = decode_text(blob)
        first = text.split("\n", 1)[0]
        if not first.strip():
            raise UnreadableFileError(f"{where(name, 1)}fichier vide ou sans ligne d'en-tête ; "
                                      "une ligne de titres de colonnes était attendue.", file=name)
        sep = max([";", ",", "\t"], key=first.count)
        try:
            raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                              skip_blank_lines=False)
        except Exception as exc:  # noqa: BLE001
            raise UnreadableFileError(f"{where(name)}fichier CSV illisible ({exc}) ; un tableau "
                                      "séparé par des points-virgules était attendu.",
                                      file=name) from exc
    raw.index = np.arange(2, len(raw) + 2)  # Excel row numbers
    blank = raw.apply(lambda r: all(_is_blank(v) for v in r), axis=1) if len(raw) else \
        pd.Series(dtype=bool)
    return raw.loc[~blank] if len(raw) else raw, name


def _find(columns: dict[str, str], aliases, name, what, required=True):
    for a in aliases:
        if a in columns:
            return columns[a]
    if required:
        seen = ", ".join(f"« {c} »" for c in columns.values())
        raise DLSError(f"{where(name, 1)}colonne {what} introuvable ; une colonne nommée "
                       f"« {aliases[0]} » (ou {', '.join(aliases[1:4])}) était attendue, "
                       f"colonnes lues : {seen}.", file=name, row=1, column=aliases[0],
                       expected=aliases[0])
    return None


def _parse_date(v):
    if isinstance(v, (pd.Timestamp, _dt.datetime, _dt.date)):
        return pd.Timestamp(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if 20000 <= v <= 80000:  # an Excel serial number that escaped formatting
            return pd.Timestamp("1899-12-30") + pd.Timedelta(days=float(v))
        return None
    s = str(v).strip()
    for fmt in ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y",
                "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return pd.Timestamp(_dt.datetime.strptime(s, fmt))
        except ValueError:
            continue
    return None


def _parse_decimal(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    s = str(v).strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if re.fullmatch(r"[-+]?\d+([.,]\d+)?", s):
        return float(s.replace(",", "."))
    return None


def _parse_binary(v):
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return float(v) if v in (0, 1) else None
    if isinstance(v, bool):
        return float(v)
    s = _norm(v)
    if s in _YES:
        return 1.0
    if s in _NO:
        return 0.0
    return None


def _shown(v) -> str:
    if isinstance(v, (pd.Timestamp, _dt.datetime)):
        return v.strftime("%d/%m/%Y")
    return str(v)


class _Collector:
    """Accumulate rejections: one line per (row, column) problem."""

    def __init__(self, name):
        self.name = name
        self.lines = []

    def add(self, row, column, value, expected):
        shown = "" if _is_blank(value) else _shown(value)
        msg = (f"{where(self.name, row, column)}valeur « {shown} » refusée ; {expected}.")
        self.lines.append({"row": int(row), "column": column, "value": shown, "message": msg})

    def frame(self):
        return pd.DataFrame(self.lines, columns=["row", "column", "value", "message"])


def _check_cell(col, var: Variable, v, row, bad: _Collector):
    """Return the clean value of one cell (NaN when blank), or record a rejection."""
    if _is_blank(v):
        return pd.NaT if var.kind == "date" else np.nan
    if var.kind == "binaire":
        out = _parse_binary(v)
        if out is None:
            bad.add(row, col, v, "« oui » ou « non » (ou 1/0, ou vide si la question n'a pas "
                    "été posée) était attendu")
        return out
    if var.kind == "decimal":
        out = _parse_decimal(v)
        if out is None:
            bad.add(row, col, v, "un nombre (virgule décimale acceptée, par exemple 12,5) était "
                    "attendu")
            return None
        lo, hi = var.minimum, var.maximum
        if (lo is not None and out < lo) or (hi is not None and out > hi):
            bad.add(row, col, v, f"un nombre entre {lo:g} et {hi:g} était attendu".replace(".", ","))
            return None
        return out
    if var.kind == "date":
        out = _parse_date(v)
        if out is None or not (1990 <= out.year <= 2100):
            bad.add(row, col, v, "une date existante au format jj/mm/aaaa était attendue")
            return None
        return out
    return str(v).strip() if isinstance(v, str) else v


# --------------------------------------------------------------------------- follow-up

def _time_of(v):
    s = _norm(v).replace("-", " ").replace("_", " ")
    if s in _BEFORE:
        return "avant"
    if s in _AFTER:
        return "apres"
    return None


def read_followup(path, *, variables: dict | None = None, sheet=None) -> ReadResult:
    """Read the IMPACT follow-up form export (long or wide layout, detected).

    Parameters
    ----------
    path : str or Path
        CSV (``;``, decimal comma, ``dd/mm/yyyy``, cp1252 or UTF-8) or XLSX file.
    variables : dict, optional
        ``{column: Variable}`` to validate; defaults to :data:`FOLLOWUP_VARIABLES`.  Columns
        not listed are kept as text.  In a wide file, ``x_avant``/``x_apres`` are validated
        with the rule of ``x``.
    sheet : str or int, optional
        XLSX sheet (first sheet by default).

    Returns
    -------
    ReadResult
        ``.data``: one row per person (``id``, ``<var>_avant``, ``<var>_apres``, ...),
        binary answers as 1.0/0.0, blanks as NaN; ``.rejected``: rows refused with reasons.

    Notes
    -----
    The layout is *long* when a ``temps`` (or ``moment``, ``periode``) column exists, *wide*
    when some columns end in ``_avant``/``_apres``.  A row is rejected as a whole when any of
    its cells is invalid, its identifier is blank, its time is unknown, or the same person
    already has a row for that time (the first row is kept).
    """
    spec = {_colkey(k): v for k, v in (FOLLOWUP_VARIABLES if variables is None else variables).items()}
    raw, name = _load(path, sheet)
    cols = {}
    for c in raw.columns:
        cols.setdefault(_colkey(c), c)
    id_col = _find(cols, _ID, name, "d'identifiant de la personne")
    time_col = _find(cols, _TIME, name, "de temps de mesure", required=False)
    bad = _Collector(name)
    n_read = len(raw)

    def rule(key):
        if key in spec:
            return spec[key]
        base = re.sub(r"_(avant|apres)$", "", key)
        if base in spec:
            return spec[base]
        if base in _DATE or base.startswith("date"):
            return Variable("date")
        return Variable("texte")

    if time_col is not None:
        layout = "long"
    elif any(re.search(r"_(avant|apres)$", k) for k in cols):
        layout = "wide"
    else:
        raise DLSError(f"{where(name, 1)}format du suivi non reconnu ; une colonne « temps » "
                       "(format long : une ligne par personne et par temps) ou des colonnes "
                       "suffixées « _avant » / « _apres » (format large) étaient attendues.",
                       file=name, row=1)

    records, seen = [], {}
    for row, r in raw.iterrows():
        n_bad = len(bad.lines)
        pid = r[id_col]
        if _is_blank(pid):
            bad.add(row, id_col, pid, "l'identifiant pseudonymisé de la personne est obligatoire")
        pid = str(pid).strip() if not _is_blank(pid) else None
        if isinstance(r[id_col], float) and float(r[id_col]).is_integer():
            pid = str(int(r[id_col]))
        t = None
        if layout == "long":
            t = _time_of(r[time_col])
            if t is None:
                bad.add(row, time_col, r[time_col], "« avant » ou « après » (ou T0/T1, inclusion/"
                        "fin de suivi) était attendu")
        rec = {"id": pid}
        for key, col in cols.items():
            if col in (id_col, time_col):
                continue
            rec[key] = _check_cell(col, rule(key), r[col], row, bad)
        if pid is not None and (layout == "wide" or t is not None):
            k = (pid, t)
            if k in seen and len(bad.lines) == n_bad:
                what = f"une ligne « {t.replace('apres', 'après')} »" if t else "une ligne"
                bad.add(row, id_col, pid, f"la personne a déjà {what} (ligne {seen[k]}) ; une "
                        "seule ligne par personne" + (" et par temps" if t else "") + " était attendue")
        if len(bad.lines) == n_bad:
            if pid is not None:
                seen[(pid, t)] = row
            rec["_temps"] = t
            records.append(rec)

    rejected = bad.frame()
    accepted = pd.DataFrame(records)
    n_acc = len(accepted)
    if layout == "long":
        data = _pivot(accepted)
    else:
        data = accepted.drop(columns="_temps") if n_acc else pd.DataFrame(columns=["id"])
    return ReadResult(data=data.reset_index(drop=True), rejected=rejected, file=name,
                      n_read=n_read, n_accepted=n_acc, layout=layout)


def _pivot(long: pd.DataFrame) -> pd.DataFrame:
    if long.empty:
        return pd.DataFrame(columns=["id"])
    values = [c for c in long.columns if c not in ("id", "_temps")]
    out = pd.DataFrame({"id": pd.unique(long["id"])})
    for t in ("avant", "apres"):
        part = long.loc[long["_temps"] == t].set_index("id")[values]
        part.columns = [f"{c}_{t}" for c in values]
        out = out.merge(part, left_on="id", right_index=True, how="left")
    order = ["id"] + [f"{c}_{t}" for c in values for t in ("avant", "apres")]
    return out[order]


# --------------------------------------------------------------------------- activity log

def read_activity(path, *, types: dict | None = None, sheet=None) -> ReadResult:
    """Read the IMPACT activity log (one row per consultation or referral).

    Parameters
    ----------
    path : str or Path
        CSV or XLSX with columns ``date`` (jj/mm/aaaa), ``type`` and ``id`` (pseudonymised
        person identifier); extra columns are kept.
    types : dict, optional
        ``{canonical label: accepted spellings}``; defaults to :data:`ACTIVITY_TYPES`.

    Returns
    -------
    ReadResult
        ``.data`` with columns ``date`` (datetime), ``type`` (canonical French label),
        ``id`` and extra columns; ``.rejected`` lists refused rows with reasons.
    """
    types = ACTIVITY_TYPES if types is None else types
    lookup = {}
    for label, spellings in types.items():
        lookup[_norm(label)] = label
        for s in spellings:
            lookup[_norm(s)] = label
    raw, name = _load(path, sheet)
    cols = {}
    for c in raw.columns:
        cols.setdefault(_colkey(c), c)
    date_col = _find(cols, _DATE, name, "de date")
    type_col = _find(cols, _TYPE, name, "de type de rendez-vous")
    id_col = _find(cols, _ID, name, "d'identifiant de la personne")
    extra = [c for c in raw.columns if c not in (date_col, type_col, id_col)]
    bad = _Collector(name)
    expected_types = ", ".join(f"« {t} »" for t in types)
    records = []
    for row, r in raw.iterrows():
        n_bad = len(bad.lines)
        d = _check_cell(date_col, Variable("date"), r[date_col], row, bad)
        if _is_blank(r[date_col]):
            bad.add(row, date_col, r[date_col], "la date du rendez-vous est obligatoire "
                    "(jj/mm/aaaa)")
        t = lookup.get(_norm(r[type_col])) if not _is_blank(r[type_col]) else None
        if t is None:
            bad.add(row, type_col, r[type_col], f"un type parmi {expected_types} était attendu")
        pid = r[id_col]
        if _is_blank(pid):
            bad.add(row, id_col, pid, "l'identifiant pseudonymisé de la personne est obligatoire")
        if len(bad.lines) == n_bad:
            rec = {"date": d, "type": t, "id": str(pid).strip()}
            rec.update({c: r[c] for c in extra})
            records.append(rec)
    data = pd.DataFrame(records, columns=["date", "type", "id"] + extra)
    data["date"] = pd.to_datetime(data["date"])
    return ReadResult(data=data, rejected=bad.frame(), file=name, n_read=len(raw),
                      n_accepted=len(data), layout="journal")
