"""Validate answers against the questionnaire: every input row accepted or rejected, with reasons.

:func:`validate` reads one or several answer files (:mod:`diagnostics.collect.readers`), judges every
cell against the questionnaire and returns a :class:`ValidationResult` whose counts reconcile
exactly: ``n_read == n_accepted + n_rejected``.

What rejects a row, what only warns
-----------------------------------
A row is **rejected** (kept out of ``.data``, listed in ``.rejected``) when it cannot be
counted or weighted reliably:

* the row is empty (no answer and no identifier);
* the identifier ``id_questionnaire`` is missing;
* the identifier was already seen on an earlier row (the first occurrence is kept; later ones
  are rejected, also across files);
* a **required question asked to everyone** (``required: true`` and no ``relevant`` condition:
  here ``canal``, ``quartier``, ``age``, ``sexe``) is unanswered, or its cell holds an unknown
  code or label, a value of the wrong type or a value out of range (e.g. age 130).

Every other problem is a **warning**: the row is accepted and the offending cell is set to
missing (« cellule vidée »):

* unknown code or label, wrong type, out-of-range number or date in a non-key question;
* a non-response code the question does not offer (e.g. « Ne sait pas » for a WHO-5 item);
* an answer to a question that was not to be asked (skip logic: ``relevant`` false) — the
  answer is discarded, as the online form would have done;
* a required question that was to be asked (``relevant`` true) left unanswered: kept missing;
* a multiple-choice option cell that is neither 0 nor 1;
* a text longer than ``max_length``: truncated.

A **derived question** (``derive`` in the questionnaire, e.g. EPICES item 2 from
``complementaire``) is computed from its source answer; a file's own value that disagrees is
replaced by the computed one, with a warning (« valeur recalculée »); where the source gives no
code to derive from, the file's own value, if any, is kept.

File-level warnings (row 1, the header): columns the questionnaire does not know (ignored),
questionnaire columns absent from the file (treated as unanswered), duplicated columns.

Clean tables
------------
``.codes``: one row per accepted respondent, index ``id_repondant`` (keyed hash of the raw
identifier, :mod:`diagnostics.collect.pseudonym`; the raw identifier never appears), columns
``Questionnaire.columns``: single choice as float codes (98/99 kept), multiple choice as 0/1
floats (all NaN when the question was not asked or not answered), integers and decimals as
floats (a non-response code such as age 99 « refus » becomes NaN: it is not a number),
dates as ``datetime64``, text as ``object``.  ``.data``: same rows and columns, single choice as
``category`` with the French labels (« Ne sait pas », « Ne souhaite pas répondre » kept as
categories where the question offers them).  Relevance is evaluated on these cleaned codes, in
questionnaire order.
"""
from __future__ import annotations

import datetime as _dt
import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import fmt
from ..config.questionnaire import Questionnaire, load_questionnaire
from ..errors import where
from .pseudonym import pseudonymise
from .readers import ID_COLUMN, RawAnswers, blank_mask, canonical_column, read_answers
from .review import HAS_ISSUES, KIND_HAS_ISSUES, KIND_REJECTED, KIND_REJECTED_KEPT, REJECTED, normalise
from .values import (
    _show,
    expected_choices,
    is_blank,
    normalise_label,
    parse_choice,
    parse_date,
    parse_multiple_text,
    parse_number,
    parse_text,
    parse_tick,
)

__all__ = ["ValidationResult", "validate", "write_report", "ISSUE_COLUMNS", "REJECTED_COLUMNS"]

ISSUE_COLUMNS = ["fichier", "ligne", "colonne", "valeur", "probleme", "attendu", "consequence", "gravite",
                 "message"]
REJECTED_COLUMNS = ["fichier", "ligne", "colonne", "valeur", "motif"]
REJECT = "ligne rejetée"
BLANKED = "cellule vidée"


@dataclass
class ValidationResult:
    """Outcome of :func:`validate`.

    Attributes
    ----------
    data : DataFrame
        Clean answers with French labels (single choice as ``category``), index ``id_repondant``.
    codes : DataFrame
        Same rows and columns, numeric codes.
    rejected : DataFrame
        One row per rejected input row: ``fichier, ligne, colonne, valeur, motif``.
    issues : DataFrame
        Every problem found (rejecting or not): ``fichier, ligne, colonne, valeur, probleme,
        attendu, consequence, gravite`` (``rejet`` / ``avertissement``), ``message`` (the full
        French sentence).
    sources : DataFrame
        For each accepted respondent (same index): ``fichier, ligne`` of the input row.
    n_read, n_accepted, n_rejected : int
        ``n_read == n_accepted + n_rejected``.
    """

    data: pd.DataFrame
    codes: pd.DataFrame
    rejected: pd.DataFrame
    issues: pd.DataFrame
    sources: pd.DataFrame
    n_read: int
    files: list[str] = field(default_factory=list)
    questionnaire: Questionnaire | None = None

    @property
    def n_accepted(self) -> int:
        return len(self.data)

    @property
    def n_rejected(self) -> int:
        return len(self.rejected)

    @property
    def n_warnings(self) -> int:
        return int((self.issues["gravite"] == "avertissement").sum())

    def summary(self, top: int = 5) -> str:
        """French summary: rows read / accepted / rejected and the most frequent problems."""
        files = ", ".join(f"« {f} »" for f in self.files)
        lines = [f"Fichier{'s' if len(self.files) > 1 else ''} {files} : {fmt.number(self.n_read)} ligne"
                 f"{'s' if self.n_read > 1 else ''} lue{'s' if self.n_read > 1 else ''}, "
                 f"{fmt.number(self.n_accepted)} acceptée{'s' if self.n_accepted > 1 else ''}, "
                 f"{fmt.number(self.n_rejected)} rejetée{'s' if self.n_rejected > 1 else ''}, "
                 f"{fmt.number(self.n_warnings)} avertissement{'s' if self.n_warnings > 1 else ''}."]
        if len(self.issues):
            kinds = Counter(zip(self.issues["gravite"], self.issues["type"] if "type" in self.issues
                                else self.issues["probleme"]))
            lines.append("Problèmes les plus fréquents :")
            for (grav, kind), k in kinds.most_common(top):
                lines.append(f"  - {kind} ({grav}) : {fmt.number(k)}")
        return "\n".join(lines)


def _issue(issues, file, row, column, value, problem, expected, consequence, kind):
    grav = "rejet" if consequence == REJECT else "avertissement"
    shown = "" if is_blank(value) else _show(value)
    exp = f" (attendu : {expected})" if expected else ""
    msg = f"{where(file, row, column)}{problem}{exp} ; {consequence}."
    issues.append(dict(fichier=file, ligne=row, colonne=column or "", valeur=shown, probleme=problem,
                       attendu=expected or "", consequence=consequence, gravite=grav, message=msg, type=kind))


def _normalise_id(value) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _range_text(q) -> str:
    lo, hi = q.range
    if q.type == "date":
        return f"une date du {lo:%d/%m/%Y} au {hi:%d/%m/%Y}"
    kind = "un nombre entier" if q.type == "integer" else "un nombre"
    extra = "".join(f" ou {m.code} ({m.label})" for m in q.missing)
    return f"{kind} de {fmt.number(lo, 0 if q.type == 'integer' else 1)} à {fmt.number(hi, 0 if q.type == 'integer' else 1)}{extra}"


def _per_value(series: pd.Series, parse):
    """Apply ``parse`` once per distinct value of a column.

    Returns ``(codes, results)``: ``codes[i]`` indexes ``results`` (−1 for a missing cell) and
    ``results[k] = parse(k-th distinct value)``.  This keeps per-cell Python out of the hot path:
    a million answers hold a few dozen distinct codes per question.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, [parse(u) for u in uniques], uniques


def _judge(raw: RawAnswers, qn: Questionnaire, tick=None):
    """Judge every cell of one file, column by column.

    Returns (codes DataFrame, reject reasons {row index: [(column, value, reason)]}, issues).
    """
    t = raw.table
    n = len(t)
    file = raw.file
    rows = raw.rows
    issues: list[dict] = []
    reasons: dict[int, list[tuple]] = {}
    flagged: set[tuple[int, str]] = set()
    id_codes, id_results, _ = _per_value(t[ID_COLUMN], _normalise_id)
    id_arr = np.array(id_results + [None], dtype=object)[id_codes]
    out = {ID_COLUMN: id_arr}

    # file-level
    for col in raw.unknown_columns:
        _issue(issues, file, 1, col, "", "colonne inconnue du questionnaire", None,
               "colonne ignorée", "colonne inconnue")
    for col in raw.duplicate_columns:
        _issue(issues, file, 1, col, "", "colonne en double (une autre colonne porte déjà cette question)",
               None, "colonne ignorée", "colonne en double")
    others = []
    for name in raw.absent_columns:
        q = qn[name]
        if not q.asked:
            continue  # computed below from its source question
        if q.required and not q.relevant:
            _issue(issues, file, 1, name, "", "colonne obligatoire absente du fichier", f"la colonne « {name} »",
                   "toutes les lignes sont rejetées", "colonne absente")
        else:
            others.append(name)
    if others:
        _issue(issues, file, 1, others[0] if len(others) == 1 else f"{len(others)} colonnes", "",
               "colonne" + (" absente du fichier" if len(others) == 1 else
                            f"s absentes du fichier : {', '.join(others)}"), None,
               "question considérée sans réponse" if len(others) == 1 else "questions considérées sans réponse",
               "colonne absente")
    for row, col, value, text in raw.notes:
        _issue(issues, file, row, col, value, text, None, "valeur conservée" if col else "ligne lue",
               "encodage ou valeur spéciale")

    blank = {c: blank_mask(t[c]) for c in t.columns}
    empty = np.ones(n, dtype=bool)
    for m in blank.values():
        empty &= m

    def problem(i, q, col, value, text, expected, kind):
        flagged.add((i, col))
        if q.required and not q.relevant:
            reasons.setdefault(i, []).append((col, value, f"{text}" + (f" (attendu : {expected})" if expected else "")))
            _issue(issues, file, rows[i], col, value, text, expected, REJECT, kind)
        else:
            _issue(issues, file, rows[i], col, value, text, expected, BLANKED, kind)

    def each_problem(codes, probs, uniques, col, q, expected, kind, skip=None):
        bad = np.array([p is not None for p in probs] + [False], dtype=bool)[codes]
        bad &= ~empty
        if skip is not None:
            bad &= ~skip
        for i in np.flatnonzero(bad):
            text = probs[codes[i]]
            problem(i, q, col, uniques[codes[i]], text, expected(text) if callable(expected) else expected, kind)
        return bad

    answered = {}
    for q in qn:
        if tick is not None:
            tick(q.name)
        if q.type == "multiple":
            cols = q.columns
            text_col = q.name if q.name in t else None
            tick_cols = [c for c in cols if c in t]
            ticks = np.full((n, len(cols)), np.nan)
            for j, c in enumerate(cols):
                if c not in t:
                    continue
                codes_, res, uniq = _per_value(t[c], lambda v, lab=q.choices[j].label: parse_tick(v, lab))
                vals = np.array([np.nan if r[0] is None else r[0] for r in res] + [np.nan], dtype=float)[codes_]
                probs = [r[1] for r in res]
                bad = each_problem(codes_, probs, uniq, c, q, "0 ou 1", "case à cocher invalide")
                vals[bad | empty] = np.nan
                ticks[:, j] = vals
            seen = ~np.isnan(ticks).all(axis=1) if tick_cols else np.zeros(n, dtype=bool)
            if text_col is not None:
                codes_, res, uniq = _per_value(t[text_col], lambda v: parse_multiple_text(v, q))
                probs = [r[1] for r in res]
                bad = each_problem(codes_, probs, uniq, text_col, q, expected_choices(q), "code inconnu")
                chosen_u = np.array([[np.nan] * len(q.choices) if r[0] is None else
                                     [float(c.code in r[0]) for c in q.choices] for r in res]
                                    + [[np.nan] * len(q.choices)], dtype=float).reshape(-1, len(q.choices))
                chosen = chosen_u[codes_]
                has_chosen = ~np.isnan(chosen).all(axis=1) & ~empty
                if not tick_cols:
                    ticks = np.where(has_chosen[:, None], chosen, ticks)
                    seen = has_chosen
                else:
                    from_ticks = np.nan_to_num(ticks) == 1
                    differ = seen & has_chosen & ~bad & (from_ticks != (chosen == 1)).any(axis=1)
                    for i in np.flatnonzero(differ):
                        problem(i, q, text_col, uniq[codes_[i]], "les codes ne concordent pas avec les colonnes "
                                f"0/1 « {q.name}_… »", "les mêmes options cochées", "incohérence")
            seen &= ~empty
            mat = np.where(seen[:, None], np.nan_to_num(ticks, nan=0.0), np.nan)
            for j, c in enumerate(cols):
                out[c] = mat[:, j]
            answered[q.name] = seen & (np.nan_to_num(ticks) == 1).any(axis=1)
            continue
        col = q.name
        is_obj = q.type in ("text", "date")
        vals = np.full(n, None if is_obj else np.nan, dtype=object if is_obj else float)
        ans = np.zeros(n, dtype=bool)
        if col in t:
            live = ~empty & ~blank[col]
            if q.type == "single":
                def judge(v, q=q):
                    code, prob = parse_choice(v, q, qn)
                    if prob is None and code is not None and code not in q.codes and code not in q.missing_codes:
                        other = [m for m in qn.missing_codes.values() if m.code == code]
                        prob = (f"la non-réponse « {other[0].label} » ({code}) n'est pas prévue pour cette question"
                                if other else f"code inconnu « {code} »")
                    return (None, prob) if prob else (code, None)
                expected, kind = expected_choices(q), "code inconnu"
            elif q.type in ("integer", "decimal"):
                labels_missing = {normalise_label(m.label) for m in q.missing}

                def judge(v, q=q, labels_missing=labels_missing):
                    if isinstance(v, str) and labels_missing and normalise_label(v) in labels_missing:
                        return ("missing", None)  # « Ne souhaite pas répondre » written out, not 999
                    x, prob = parse_number(v, integer=q.type == "integer")
                    if prob is None and x is not None:
                        if x in q.missing_codes:
                            return ("missing", None)  # a non-response answer ("refus"): not a number
                        if q.range is not None and not (q.range[0] <= x <= q.range[1]):
                            prob = f"valeur {_show(v)} hors de l'intervalle autorisé"
                    return (None, prob) if prob else (x, None)
                base = "un nombre entier" if q.type == "integer" else "un nombre"
                expected = (lambda text, q=q, base=base: _range_text(q) if q.range else base)
                kind = None
            elif q.type == "date":
                def judge(v, q=q):
                    d, prob = parse_date(v)
                    if prob is None and d is not None and q.range is not None and not (q.range[0] <= d <= q.range[1]):
                        prob = f"date {d:%d/%m/%Y} hors de la période autorisée"
                    return (None, prob) if prob else (d, None)
                expected, kind = (_range_text(q) if q.range else "une date jj/mm/aaaa"), "date invalide"
            else:
                def judge(v, q=q):
                    s = parse_text(v)
                    if s is not None and q.max_length and len(s) > q.max_length:
                        return (s[:q.max_length], ("long", len(s), s))
                    return (s, None)
                expected, kind = None, None
            codes_, res, uniq = _per_value(t[col], judge)
            probs = [r[1] for r in res]
            if q.type == "text":
                longs = np.array([p is not None for p in probs] + [False], dtype=bool)[codes_] & live
                for i in np.flatnonzero(longs):
                    _, length, s = probs[codes_[i]]
                    _issue(issues, file, rows[i], col, s[:40] + "…", f"texte de {length} caractères, tronqué",
                           f"au plus {q.max_length} caractères", "texte tronqué", "texte trop long")
                probs = [None] * len(res)
                bad = np.zeros(n, dtype=bool)
            elif kind is None:  # numbers: the kind depends on the problem
                bad = np.array([p is not None for p in probs] + [False], dtype=bool)[codes_] & live
                for i in np.flatnonzero(bad):
                    text = probs[codes_[i]]
                    problem(i, q, col, uniq[codes_[i]], text, expected(text),
                            "valeur hors intervalle" if "intervalle" in text else "type incorrect")
            else:
                bad = each_problem(codes_, probs, uniq, col, q, expected, kind, skip=~live)
            good = live & ~bad
            values_u = [r[0] for r in res]
            if q.type in ("integer", "decimal"):
                is_missing = np.array([v == "missing" for v in values_u] + [False], dtype=bool)[codes_]
                num_u = np.array([np.nan if (v is None or v == "missing") else v for v in values_u] + [np.nan],
                                 dtype=float)
                vals = np.where(good & ~is_missing, num_u[codes_], np.nan)
                ans = good
            elif is_obj:
                obj_u = np.empty(len(values_u) + 1, dtype=object)
                obj_u[:len(values_u)] = values_u
                vals = np.where(good, obj_u[codes_], None)
                ans = good
            else:
                num_u = np.array([np.nan if v is None else v for v in values_u] + [np.nan], dtype=float)
                vals = np.where(good, num_u[codes_], np.nan)
                ans = good & ~np.isnan(vals)
        out[col] = vals
        answered[q.name] = ans
    codes = pd.DataFrame({k: pd.Series(v, index=range(n), dtype=object if k == ID_COLUMN or
                                       (k in qn.questions and qn[k].type in ("text", "date")) else float,
                                       copy=False)
                          for k, v in out.items()}, index=range(n), copy=False)
    del out

    # skip logic and required answers, in questionnaire order, on cleaned codes
    for q in qn:
        cols = q.columns
        rel = qn.relevance(q.name, codes).to_numpy() if q.relevant else np.ones(n, dtype=bool)
        ans = answered[q.name]
        for i in np.flatnonzero(~rel & ans & ~empty):
            value = codes.at[i, q.name] if q.type != "multiple" else \
                " ".join(str(c.code) for c in q.choices if codes.at[i, f"{q.name}_{c.code}"] == 1)
            orig = t[q.name].iat[i] if q.name in t and q.type != "multiple" else value
            flagged.add((i, q.name))
            _issue(issues, file, rows[i], q.name, orig,
                   f"réponse à une question qui ne devait pas être posée (filtre : {q.relevant})",
                   "une case vide", BLANKED, "filtre non respecté")
        off = ~rel
        if off.any():
            for c in cols:
                codes.loc[off, c] = np.nan if q.type != "text" else None
            answered[q.name] = ans & rel
        if q.required:
            missing = rel & ~answered[q.name] & ~empty
            for i in np.flatnonzero(missing):
                already = any((i, c) in flagged for c in [q.name, *cols])
                if q.relevant:
                    if not already or q.type == "multiple":
                        _issue(issues, file, rows[i], q.name, "", "réponse obligatoire manquante (la question "
                               f"devait être posée : {q.relevant})", "au moins une réponse",
                               "laissée vide", "réponse obligatoire manquante")
                elif not already:
                    reasons.setdefault(i, []).append((q.name, "", "réponse obligatoire manquante"))
                    _issue(issues, file, rows[i], q.name, "", "réponse obligatoire manquante",
                           expected_choices(q) if q.type == "single" else None, REJECT,
                           "réponse obligatoire manquante")

    _derive(codes, qn, t, empty, lambda i, *a: _issue(issues, file, rows[i], *a))

    for i in np.flatnonzero(empty):
        reasons.setdefault(i, []).insert(0, ("", "", "ligne vide"))
        _issue(issues, file, rows[i], None, "", "ligne vide", None, REJECT, "ligne vide")
    no_id = ~empty & np.array([v is None for v in id_results] + [True], dtype=bool)[id_codes]
    for i in np.flatnonzero(no_id):
        reasons.setdefault(i, []).insert(0, (ID_COLUMN, "", "identifiant manquant"))
        _issue(issues, file, rows[i], ID_COLUMN, "", "identifiant manquant",
               "le numéro du questionnaire", REJECT, "identifiant manquant")
    for row, why in raw.rejected_rows:
        _issue(issues, file, row, None, "", why, None, REJECT, "ligne mal découpée")
    return codes, reasons, issues


def _derive(codes: pd.DataFrame, qn: Questionnaire, t: pd.DataFrame, empty: np.ndarray, issue) -> None:
    """Fill the derived questions of ``codes`` (in place) from their source answers.

    Where the source answer maps to a code, that code is kept, and a file's own, different value
    is reported (« valeur recalculée »); where it maps to none (non-response, no answer), the
    file's own value, if any, is kept.
    """
    for q in qn.derived:
        src = q.derive.source
        derived = q.derive.apply(codes[src]).to_numpy()
        own = codes[q.name].to_numpy(dtype=float)
        differ = ~np.isnan(derived) & ~np.isnan(own) & (derived != own) & ~empty
        for i in np.flatnonzero(differ):
            orig = t[q.name].iat[i] if q.name in t else own[i]
            issue(i, q.name, orig,
                  f"la valeur ne concorde pas avec la réponse {int(codes.at[i, src])} "
                  f"(« {qn[src].label_of(int(codes.at[i, src]))} ») à « {src} », dont elle est déduite",
                  f"« {q.label_of(int(derived[i]))} »", f"valeur recalculée à partir de « {src} »",
                  "valeur recalculée")
        codes[q.name] = np.where(np.isnan(derived), own, derived)


def _to_data(codes: pd.DataFrame, qn: Questionnaire) -> pd.DataFrame:
    data = codes.copy(deep=False)
    for q in qn:
        if q.type == "single":
            cats = [c.label for c in q.choices] + [m.label for m in q.missing]
            order = pd.Index([float(c.code) for c in q.choices] + [float(m.code) for m in q.missing])
            idx = order.get_indexer(codes[q.name].to_numpy(dtype=float))
            data[q.name] = pd.Categorical.from_codes(idx, categories=cats)
    return data


def _review(raw: RawAnswers, reasons: dict, issues: list, include_rejected: bool) -> None:
    """Apply the servers' review states (:mod:`diagnostics.collect.review`) to the rows of ``raw``.

    A submission rejected at the review is a rejected row (unless ``include_rejected``: then a
    warning); one flagged « has issues » (Kobo « On hold ») is kept with a warning.
    """
    if raw.review is None:
        return
    column = str(raw.review.name or "")
    for i, value in enumerate(raw.review.tolist()):
        state = normalise(value)
        if state == REJECTED and not include_rejected:
            msg = "soumission rejetée lors de la revue sur le serveur de collecte : écartée de l'analyse"
            reasons.setdefault(i, []).insert(0, ("", value, msg))
            _issue(issues, raw.file, raw.rows[i], column, value, msg,
                   "une soumission non rejetée (option --inclure-rejetees pour la garder)", REJECT,
                   KIND_REJECTED)
        elif state == REJECTED:
            _issue(issues, raw.file, raw.rows[i], column, value, "soumission rejetée lors de la revue sur le "
                   "serveur de collecte, gardée à la demande (--inclure-rejetees)", "", "ligne gardée",
                   KIND_REJECTED_KEPT)
        elif state == HAS_ISSUES:
            _issue(issues, raw.file, raw.rows[i], column, value, "soumission marquée « à problème » lors de la "
                   "revue sur le serveur de collecte", "une soumission revue sans problème", "ligne gardée",
                   KIND_HAS_ISSUES)


def validate(source, questionnaire: Questionnaire | None = None, *, secret: bytes | str | None = None,
             sheet: str | None = None, progress=None, include_rejected: bool = False) -> ValidationResult:
    """Validate one or several answer files against the questionnaire.

    Parameters
    ----------
    source : path-like, RawAnswers, or a list of them
        Answer file(s); several files are validated together (duplicate identifiers are looked
        for across files, in the order given).
    questionnaire : Questionnaire, optional
        Defaults to the shipped questionnaire.
    secret : bytes or str, optional
        Key of the pseudonymisation hash; default :func:`diagnostics.collect.pseudonym.get_secret`.
    sheet : str, optional
        Workbook sheet to read (see :func:`diagnostics.collect.readers.read_answers`).
    progress : callable, optional
        ``progress(done, total, label)`` called as files are read and questions judged (the
        CLI draws a progress bar with it on a terminal).
    include_rejected : bool
        Keep the submissions rejected at the review on the collection server (ODK Central
        ``ReviewState = rejected``, Kobo « Not approved »); by default they are rejected here,
        counted and named (:func:`_review`).

    Returns
    -------
    ValidationResult
        See the module docstring for what rejects a row and what only warns.

    Raises
    ------
    UnreadableFileError
        When a file cannot be read as a table of answers.

    Notes
    -----
    Counts reconcile: every input row below the header, up to the last non-empty one, is
    either accepted or rejected, ``n_read = n_accepted + n_rejected``.
    ``id_repondant = HMAC-SHA256(secret, id_questionnaire)`` truncated to 16 hex digits.

    Examples
    --------
    >>> res = validate(paths.EXAMPLE / "reponses_synthetiques.csv")  # doctest: +SKIP
    >>> res.n_read, res.n_accepted, res.n_rejected  # doctest: +SKIP
    (406, 406, 0)
    """
    qn = questionnaire or load_questionnaire()
    sources = source if isinstance(source, (list, tuple)) else [source]
    total = len(sources) * (1 + len(qn.questions))
    done = [0]

    def tick(label):
        done[0] += 1
        if progress is not None:
            progress(done[0], total, label)

    raws = []
    for s in sources:
        tick(f"lecture de « {getattr(s, 'file', None) or Path(s).name} »")
        raws.append(s if isinstance(s, RawAnswers) else read_answers(s, qn, sheet=sheet))
    all_codes, all_issues, rej_frames, src = [], [], [], []
    seen_ids: dict[str, tuple[int, str, int]] = {}
    n_read = 0
    for k, raw in enumerate(raws):
        codes, reasons, issues = _judge(raw, qn, tick)
        _review(raw, reasons, issues, include_rejected)
        n_read += len(codes) + len(raw.rejected_rows)
        rows_arr = np.asarray(raw.rows, dtype=np.int64)
        ids = codes[ID_COLUMN]
        eligible = ids.notna().to_numpy().copy()
        for i, rs in reasons.items():
            if any(r[2] == "ligne vide" for r in rs):
                eligible[i] = False
        pos = np.flatnonzero(eligible)
        sub = ids.iloc[pos].reset_index(drop=True)
        earlier = sub.isin(seen_ids.keys()).to_numpy() if seen_ids else np.zeros(len(sub), dtype=bool)
        dup_here = sub.duplicated(keep="first").to_numpy() & ~earlier
        if dup_here.any():
            first_pos = pd.Series(np.arange(len(sub))).groupby(sub.to_numpy()).transform("min").to_numpy()
        for j in np.flatnonzero(earlier | dup_here):
            i, rid = int(pos[j]), sub.iat[j]
            if earlier[j]:
                k0, f0, r0 = seen_ids[rid]
            else:
                k0, f0, r0 = k, raw.file, int(rows_arr[pos[first_pos[j]]])
            first = f"ligne {r0}" + ("" if k0 == k else f" du fichier n° {k0 + 1} « {f0} »")
            msg = f"identifiant « {rid} » en double (déjà vu {first})"
            reasons.setdefault(i, []).insert(0, (ID_COLUMN, rid, msg))
            _issue(issues, raw.file, raw.rows[i], ID_COLUMN, rid, msg, "un numéro unique par questionnaire",
                   REJECT, "identifiant en double")
        new = ~earlier & ~dup_here
        seen_ids.update(zip(sub[new].tolist(), ((k, raw.file, int(r)) for r in rows_arr[pos[new]])))
        keep = np.ones(len(codes), dtype=bool)
        keep[list(reasons)] = False
        rej = []
        for i in sorted(reasons):
            col, val, _ = reasons[i][0]
            rej.append(dict(fichier=raw.file, ligne=raw.rows[i], colonne=col,
                            valeur="" if is_blank(val) else _show(val),
                            motif=" ; ".join(r[2] if not r[0] else f"{r[0]} : {r[2]}" for r in reasons[i])))
        rej += [dict(fichier=raw.file, ligne=row, colonne="", valeur="", motif=why) for row, why in raw.rejected_rows]
        rej_frames.append(pd.DataFrame(rej, columns=REJECTED_COLUMNS).sort_values("ligne", kind="stable"))
        all_codes.append(codes if keep.all() else codes[keep])
        del codes
        src.append(pd.DataFrame({"fichier": raw.file, "ligne": rows_arr[keep]}))
        all_issues += issues
    if len(all_codes) == 1:
        codes = all_codes.pop().reset_index(drop=True)
    else:
        codes = pd.concat(all_codes, ignore_index=True) if all_codes else pd.DataFrame(columns=[ID_COLUMN, *qn.columns])
        all_codes.clear()
    sources_df = pd.concat(src, ignore_index=True)
    ids = pseudonymise(codes[ID_COLUMN], secret=secret)
    codes = codes.drop(columns=[ID_COLUMN])
    for q in qn:
        if q.type == "date":
            codes[q.name] = pd.to_datetime(codes[q.name])
        elif q.type == "text":
            codes[q.name] = codes[q.name].astype(object).where(codes[q.name].notna(), None)
        else:
            for c in q.columns:
                if codes[c].dtype != np.float64:
                    codes[c] = pd.to_numeric(codes[c], errors="coerce").astype(float)
    index = pd.Index(ids.to_numpy(), name="id_repondant")
    codes.index = index
    sources_df.index = index
    codes = codes[qn.columns]
    issues = pd.DataFrame(all_issues, columns=ISSUE_COLUMNS + ["type"])
    if len(issues):
        issues = issues.sort_values(["fichier", "ligne"], kind="stable").reset_index(drop=True)
    return ValidationResult(data=_to_data(codes, qn), codes=codes,
                            rejected=pd.concat(rej_frames, ignore_index=True) if rej_frames else
                            pd.DataFrame(columns=REJECTED_COLUMNS), issues=issues,
                            sources=sources_df, n_read=n_read, files=[r.file for r in raws], questionnaire=qn)


# --------------------------------------------------------------------------- report

REPORT_COLUMNS = {"fichier": "Fichier", "ligne": "Ligne", "colonne": "Colonne", "question": "Question",
                  "valeur": "Valeur", "probleme": "Problème", "attendu": "Attendu",
                  "consequence": "Conséquence"}


def _paper_numbers(columns, qn: Questionnaire | None) -> dict:
    """« Q12 » (the paper form's number) of each column as read; « calculée » for a derived
    question, empty for a column of no question (identifier, unknown header)."""
    out = {}
    for col in pd.unique(pd.Series(list(columns), dtype=object)):
        label = ""
        if qn is not None and isinstance(col, str) and col:
            name = canonical_column(col, qn)
            try:
                q = qn.questions.get(name) or qn.column_owner(name)[0]
                label = f"Q{qn.question_number(q.name)}" if q.asked else "calculée"
            except KeyError:
                pass
        out[col] = label
    return out


def _summary_rows(result: ValidationResult) -> list[tuple[str, str]]:
    rows = [("Fichier(s)", ", ".join(result.files)),
            ("Questionnaire", f"{result.questionnaire.id} (version {result.questionnaire.version})"
             if result.questionnaire else ""),
            ("Date du contrôle", _dt.datetime.now().strftime("%d/%m/%Y %H:%M")),
            ("Lignes lues", fmt.number(result.n_read)), ("Lignes acceptées", fmt.number(result.n_accepted)),
            ("Lignes rejetées", fmt.number(result.n_rejected)),
            ("Avertissements (cellules vidées ou corrigées)", fmt.number(result.n_warnings))]
    if len(result.issues):
        for (grav, kind), k in Counter(zip(result.issues["gravite"], result.issues["type"])).most_common():
            rows.append((f"{kind} ({grav})", fmt.number(k)))
    return rows


#: Problems written to the XLSX/HTML report at most (the summary gives the full counts, and
#: ``ValidationResult.issues`` holds every problem).
REPORT_MAX_ROWS = 100_000


def write_report(result: ValidationResult, path: str | Path, *, max_rows: int = REPORT_MAX_ROWS) -> Path:
    """Write the validation report as XLSX (sheets « Résumé » and « Problèmes ») or HTML.

    Parameters
    ----------
    result : ValidationResult
    path : path-like
        ``.xlsx`` or ``.html``; the parent folder is created.
    max_rows : int
        Problems listed at most (default :data:`REPORT_MAX_ROWS`); beyond, the summary says how
        many are left out; counts by kind always cover every problem.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    The workbook is written through :func:`diagnostics.io.spreadsheet.stream_workbook` (write-only
    mode, bounded memory; user text such as ``=HYPERLINK(…)`` stays text, never a formula).
    A control character a workbook cannot store is replaced by « � » (in the HTML report too),
    and the summary counts them.
    """
    from ..io.files import atomic_path
    from ..io.spreadsheet import stream_workbook

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = result.issues.iloc[:max_rows].copy()
    # the paper form's number beside the column, for whoever corrects the entry from the form
    shown["question"] = shown["colonne"].map(_paper_numbers(shown["colonne"], result.questionnaire))
    problems = shown[list(REPORT_COLUMNS)].rename(columns=REPORT_COLUMNS)
    summary = _summary_rows(result)
    if len(result.issues) > max_rows:
        summary.append(("Problèmes non listés (au-delà de la limite du rapport)",
                        fmt.number(len(result.issues) - max_rows)))
    grav = shown["gravite"].to_numpy()
    from ..io.spreadsheet import count_unstorable, storable

    summary_frame = pd.DataFrame(summary, columns=["Élément", "Valeur"])
    unstorable = count_unstorable(problems) + count_unstorable(summary_frame)
    if unstorable:   # control characters of the checked file: shown as « � » in the report
        summary.append(("Caractères de contrôle remplacés par « \ufffd » dans ce rapport (un classeur "
                        "ne peut pas les contenir)", fmt.number(unstorable)))
    if path.suffix.lower() in (".html", ".htm"):
        e = lambda x: html.escape(storable("" if x is None or (isinstance(x, float) and np.isnan(x))  # noqa: E731
                                           else str(x))[0])
        # on a phone the tables scroll inside their box, the page itself never sideways
        parts = ["<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>",
                 "<meta name='viewport' content='width=device-width, initial-scale=1'>",
                 "<title>Contrôle des réponses</title><style>body{font-family:sans-serif;margin:2em}"
                 "@media (max-width:600px){body{margin:1em}}div.t{overflow-x:auto}"
                 "table{border-collapse:collapse}td,th{border:1px solid #999;padding:3px 6px;text-align:left}"
                 "tr.rejet{background:#fde2e2}</style></head><body>",
                 "<h1>Contrôle des réponses au questionnaire</h1><h2>Résumé</h2><div class='t'><table>"]
        parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in summary]
        parts.append("</table></div><h2>Problèmes</h2><div class='t'><table><tr>" + "".join(f"<th>{e(c)}</th>" for c in problems.columns)
                     + "</tr>")
        for g, r in zip(grav, problems.itertuples(index=False, name=None)):
            parts.append(f"<tr class='{e(g)}'>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>")
        parts.append("</table></div></body></html>")
        with atomic_path(path) as tmp:
            tmp.write_text("\n".join(parts), encoding="utf-8")
    else:
        stream_workbook(path, {"Résumé": pd.DataFrame(summary, columns=["Élément", "Valeur"]),
                               "Problèmes": problems},
                        highlight={"Problèmes": grav == "rejet"})
    return path
