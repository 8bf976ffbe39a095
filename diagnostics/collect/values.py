"""Cells into values: choices (code, label or « code - libellé »), ticks, numbers, dates, text.

The ``parse_*`` functions judge one cell against its question and return the value or a French
verdict; :mod:`diagnostics.collect.validation` turns verdicts into accepted values, warnings or
rejections.
"""
from __future__ import annotations

import datetime as _dt
import functools
import math
import re
import unicodedata

import numpy as np
import pandas as pd

from ..config.questionnaire import Question, Questionnaire

__all__ = ["normalise_label", "is_blank", "expected_choices", "parse_choice", "parse_tick",
           "parse_multiple_text", "parse_number", "parse_date", "parse_text"]

# --------------------------------------------------------------------------- cell parsing

def normalise_label(text) -> str:
    """Case-, accent- and punctuation-insensitive key: ``"Hauts-de-Chambéry"`` → ``"hauts de chambery"``."""
    return _normalise(str(text))


@functools.lru_cache(maxsize=8192)
def _normalise(s: str) -> str:
    """:func:`normalise_label` of a string, cached: a header is looked up under several forms."""
    s = unicodedata.normalize("NFKD", s)
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


def parse_tick(value, option_label: str | None = None):
    """Read a 0/1 cell of a multiple-choice option (``1``/``0``, ``oui``/``non``, ``x``, or the
    option's own label ``option_label``, as a « labels » table writes a ticked option).

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
    if code is None and option_label is not None and key == normalise_label(option_label):
        return 1, None
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
