"""Export the questionnaire as an XLSForm, the workbook that KoboToolbox and ODK load.

The online form (reached through the QR code printed on the paper form) is generated from the
same definition as the paper form and the entry workbook, so the three stay in step.

Mapping from the questionnaire to XLSForm (https://xlsform.org)
-------------------------------------------------------------
* each section becomes a ``begin group`` / ``end group`` pair named after the section id, so
  Kobo exports columns such as ``profil/age`` and ``soins/renoncement_soins/3``;
* ``single`` → ``select_one <list>``, ``multiple`` → ``select_multiple <list>``; choice names are
  the integer codes written as strings;
* the non-response codes a question declares ("Ne sait pas" = 98, "Ne souhaite pas répondre" = 99)
  are appended to its list; when they differ between questions sharing a list, a variant list
  is made, named ``<list>_<keys>`` (``oui_non_nsp``, ``complementaire_nsp_refus``);
* ``integer``/``decimal``/``date`` ranges become constraints (``. >= 15 and . <= 110``, a declared
  non-response code being allowed as well), ``max_length`` a ``string-length`` constraint, each
  with a French ``constraint_message``;
* ``required`` → ``required = yes`` with a French ``required_message``; ``relevant`` →
  :meth:`Questionnaire.xpath_relevance`; ``hint`` (plus the unit and the non-response codes to
  type for numbers) → ``hint``;
* a derived question (``derive``) is not shown: it becomes a ``calculate`` row whose
  ``calculation`` maps the source answer's codes (``if(${complementaire} = '1' or …, '1', …)``),
  so the export carries the same column as validation computes;
* ``settings``: ``form_title``, ``form_id``, ``version``, ``default_language = French (fr)``.
"""
from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from ..config.questionnaire import Question, Questionnaire
from ..io.files import atomic_path

LANGUAGE = "French (fr)"

SURVEY_COLUMNS = ["type", "name", f"label::{LANGUAGE}", f"hint::{LANGUAGE}", "required",
                  f"required_message::{LANGUAGE}", "relevant", "constraint",
                  f"constraint_message::{LANGUAGE}", "appearance", "calculation"]
CHOICES_COLUMNS = ["list_name", "name", f"label::{LANGUAGE}"]
SETTINGS_COLUMNS = ["form_title", "form_id", "version", "default_language"]


def _num(x) -> str:
    """A bound written the French way without useless decimals (``1,5``, ``110``)."""
    s = f"{x:g}" if isinstance(x, float) else str(x)
    return s.replace(".", ",")


def _xp_num(x) -> str:
    """A bound written for XPath (``2.5``, ``300``)."""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _missing_keys(q: Question) -> list:
    return sorted(q.missing, key=lambda m: m.code)


def choice_list_name(qn: Questionnaire, q: Question) -> str | None:
    """Name of the XLSForm choice list used by a choice question (``None`` otherwise).

    The questionnaire's list name when the question declares no non-response code, else
    ``<list>_<key1>_<key2>`` with the keys in code order (``oui_non_nsp``).  If that name is
    already taken by another list of the questionnaire, ``_nr`` is appended.
    """
    if q.type not in ("single", "multiple"):
        return None
    if not q.missing:
        return q.choice_list
    name = "_".join([q.choice_list, *(m.key for m in _missing_keys(q))])
    while name in qn.choice_lists:
        name += "_nr"
    return name


def _constraint(q: Question) -> tuple[str, str]:
    """XPath constraint and its French message for one question ('' when none)."""
    miss = _missing_keys(q)
    alt = " ou ".join(f"{m.code} pour « {m.label} »" for m in miss)
    if q.type in ("integer", "decimal") and q.range is not None:
        lo, hi = q.range
        expr = f". >= {_xp_num(lo)} and . <= {_xp_num(hi)}"
        if miss:
            expr = f"({expr})" + "".join(f" or . = {m.code}" for m in miss)
        kind = "un nombre entier" if q.type == "integer" else "un nombre"
        unit = f" {q.unit}" if q.unit else ""
        msg = f"Indiquez {kind} compris entre {_num(lo)} et {_num(hi)}{unit}"
        return expr, msg + (f" (ou {alt})." if miss else ".")
    if q.type in ("integer", "decimal") and miss:
        return "", ""
    if q.type == "date" and q.range is not None:
        lo, hi = q.range
        expr = f". >= date('{lo.isoformat()}') and . <= date('{hi.isoformat()}')"
        return expr, f"Indiquez une date comprise entre le {lo:%d/%m/%Y} et le {hi:%d/%m/%Y}."
    if q.type == "text" and q.max_length:
        return (f"string-length(.) <= {int(q.max_length)}",
                f"Votre réponse ne doit pas dépasser {int(q.max_length):,} caractères.".replace(",", "\u202f"))
    if q.type == "multiple" and miss:
        terms = " or ".join(f"selected(., '{m.code}')" for m in miss)
        labels = " ou ".join(f"« {m.label} »" for m in miss)
        return (f"not(({terms}) and count-selected(.) > 1)",
                f"{labels} ne peut pas être coché avec une autre réponse.")
    return "", ""


def _calculation(q: Question) -> str:
    """XPath of a derived question: nested ``if()`` over its source's codes, '' when none matches."""
    src, by_target = q.derive.source, {}
    for code, target in q.derive.mapping.items():
        by_target.setdefault(target, []).append(code)
    expr = "''"
    for target, codes in reversed(list(by_target.items())):
        test = " or ".join(f"${{{src}}} = '{c}'" for c in codes)
        expr = f"if({test}, '{target}', {expr})"
    return expr


def _hint(q: Question) -> str:
    parts = [q.hint.strip()] if q.hint else []
    if q.type in ("integer", "decimal"):
        if q.unit:
            parts.append(f"Réponse en {q.unit}.")
        for m in _missing_keys(q):
            parts.append(f"Tapez {m.code} pour « {m.label} ».")
    return " ".join(parts)


def _required_message(q: Question) -> str:
    if not q.required:
        return ""
    miss = _missing_keys(q)
    if miss and q.type in ("single", "multiple"):
        return ("Cette question est obligatoire : vous pouvez choisir « "
                + " » ou « ".join(m.label for m in miss) + " ».")
    if miss:
        return "Cette question est obligatoire : " + " ou ".join(
            f"tapez {m.code} pour « {m.label} »" for m in miss) + "."
    return "Cette question est obligatoire."


_TYPES = {"integer": "integer", "decimal": "decimal", "text": "text", "date": "date"}


def xlsform_tables(qn: Questionnaire) -> dict[str, list[dict]]:
    """The three XLSForm sheets as lists of rows (dicts keyed by column name).

    Parameters
    ----------
    qn : Questionnaire
        Loaded questionnaire.

    Returns
    -------
    dict
        ``{"survey": [...], "choices": [...], "settings": [...]}``; column order is given by
        ``SURVEY_COLUMNS``, ``CHOICES_COLUMNS`` and ``SETTINGS_COLUMNS``.
    """
    lab, hint = f"label::{LANGUAGE}", f"hint::{LANGUAGE}"
    survey = [{"type": "start", "name": "start"}, {"type": "end", "name": "end"}]
    if qn.intro:
        survey.append({"type": "note", "name": "introduction", lab: " ".join(qn.intro.split())})
    choices, made = [], set()
    for sec in qn.sections:
        survey.append({"type": "begin group", "name": sec.id, lab: sec.label})
        for q in sec.questions:
            if not q.asked:   # computed from its source answer, never shown
                survey.append({"type": "calculate", "name": q.name, "calculation": _calculation(q)})
                continue
            lname = choice_list_name(qn, q)
            if q.type in ("single", "multiple"):
                qtype = f"select_{'one' if q.type == 'single' else 'multiple'} {lname}"
                if lname not in made:
                    made.add(lname)
                    for c in q.choices:
                        choices.append({"list_name": lname, "name": str(c.code), lab: c.label})
                    for m in _missing_keys(q):
                        choices.append({"list_name": lname, "name": str(m.code), lab: m.label})
            else:
                qtype = _TYPES[q.type]
            constraint, cmsg = _constraint(q)
            row = {"type": qtype, "name": q.name, lab: q.label, hint: _hint(q),
                   "required": "yes" if q.required else "",
                   f"required_message::{LANGUAGE}": _required_message(q),
                   "relevant": qn.xpath_relevance(q.name), "constraint": constraint,
                   f"constraint_message::{LANGUAGE}": cmsg,
                   "appearance": "multiline" if q.type == "text" and (q.max_length or 0) > 255 else ""}
            survey.append({k: v for k, v in row.items() if v})
        survey.append({"type": "end group", "name": sec.id})
    settings = [{"form_title": qn.title, "form_id": qn.id, "version": qn.version,
                 "default_language": LANGUAGE}]
    return {"survey": survey, "choices": choices, "settings": settings}


def write_xlsform(qn: Questionnaire, path: str | os.PathLike) -> Path:
    """Write the questionnaire as an XLSForm workbook (``survey``, ``choices``, ``settings``).

    Parameters
    ----------
    qn : Questionnaire
        Loaded questionnaire (:func:`diagnostics.config.questionnaire.load_questionnaire`).
    path : path-like
        Output ``.xlsx`` file, to upload to KoboToolbox or convert with ``pyxform``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    See the module docstring for the mapping.  The file is written to a temporary name then
    renamed, so a failed run leaves no half-written workbook.

    References
    ----------
    XLSForm specification, https://xlsform.org/en/ ; KoboToolbox documentation,
    « Using XLSForm », https://support.kobotoolbox.org/xlsform.html
    """
    path = Path(path)
    tables = xlsform_tables(qn)
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, cols in (("survey", SURVEY_COLUMNS), ("choices", CHOICES_COLUMNS),
                        ("settings", SETTINGS_COLUMNS)):
        ws = wb.create_sheet(sheet)
        ws.append(cols)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in tables[sheet]:
            ws.append([row.get(c, None) for c in cols])
        ws.freeze_panes = "A2"
        for i, col in enumerate(cols, start=1):
            width = max([len(col)] + [len(str(r.get(col, ""))) for r in tables[sheet]])
            ws.column_dimensions[ws.cell(1, i).column_letter].width = min(max(width + 2, 8), 60)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
