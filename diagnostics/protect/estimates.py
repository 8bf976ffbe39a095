"""Publication rules of the indicator table: survey estimates and exhaustive extracts.

Two kinds of figures, two rules (``seuils`` of ``projet.yaml``):

* **survey estimates** (``source == "questionnaire"``: weighted proportions and means of the
  residents' answers).  The risk lies in the number of respondents behind a figure and in the raw
  counts, not in a weighted percentage: the estimate is published when its domain has at least
  ``seuils.repondants_minimum`` respondents (flagged « fragile » under
  ``seuils.effectif_fragile``), a raw count (respondents with the trait, or without it) under
  ``seuils.secret_statistique`` is never printed, and there is no secondary suppression (a
  weighted estimate cannot be recovered by subtraction from the « Ensemble » row while the
  weights stay with the analyst).  INSEE's practice for weighted data applies the frequency
  rule to the weighted counts, a cell built from few respondents being publishable when it
  represents more and the sample and weights stay confidential (Insee, *Manuel de protection
  des tableaux*, annexe « Règles », InseeFrLab 2023,
  https://inseefrlab.github.io/manuel-protection-tableaux/chapters/annexes/regles.html).
* **exhaustive extracts** (counts of patients or inhabitants from the databases): no cell under
  ``seuils.secret_statistique`` (11 by default), with secondary suppression where an « Ensemble »
  row would reveal a masked quartier — the rule of the CASD for health data: « aucune case ne
  doit concerner moins de 11 unités relatives à des nombres de patients » (CASD, *Règles de
  confidentialité des sorties*, p. 17, https://www.casd.eu/wp/wp-content/uploads/Regles_de_confidentialite_sorties.pdf,
  quoted by the Health Data Hub forum, https://entraide.health-data-hub.fr/t/1190), and the
  threshold of 11 the Insee applies to tax data on persons (same manual).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..config.project import REFERENCE_LEVELS
from ..errors import DLSError
from .cells import MASKED, SECONDARY, TOTAL_LABELS, check_threshold, fold, protect_block

__all__ = ["SURVEY_SOURCE", "protect_indicators"]

#: ``source`` of the survey rows of the indicator table.
SURVEY_SOURCE = "questionnaire"
_BLANK_NUM = ("estimate", "ci_low", "ci_high", "numerator", "p_rao_scott", "ref_reste", "p_reste")
_CMP_COLS = ("cmp_ensemble", "cmp_reste", *(f"cmp_{k}" for k in REFERENCE_LEVELS))


def protect_indicators(table: pd.DataFrame, threshold=10, *, total_labels=TOTAL_LABELS,
                       suppress_zeros=False, survey_min=None) -> pd.DataFrame:
    """Apply the publication rules to the tidy indicator table (one row per quartier × indicator).

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``quartier, indicator_id, estimate, ci_low, ci_high, n, numerator`` at least;
        ``unit``, ``suppressed``, ``suppression_reason``, ``masked``, ``cmp_*`` used when present.
    threshold : float, default 10
    total_labels : tuple of str
        Labels of the aggregate row (« Ensemble ») whose figures are the sum of the quartiers'.
    suppress_zeros : bool, default False
        Whether a numerator of 0 is suppressed (by default it is published).
    survey_min : int, optional
        Minimum number of respondents of a survey estimate (rows whose ``source`` is
        « questionnaire »).  When given, those rows follow the survey rule (module docstring):
        suppressed only when ``n < survey_min``, their raw ``numerator`` blanked when it or its
        complement ``n − k`` is under ``threshold`` (and then the « Ensemble » numerator too,
        their sum), no secondary suppression of the estimates.  When ``None``,
        every row follows the rule of exhaustive counts below.

    Returns
    -------
    pandas.DataFrame
        A copy with ``suppressed`` and ``suppression_reason`` set and, on suppressed rows,
        ``estimate, ci_low, ci_high, numerator, p_rao_scott`` blanked, ``n`` blanked when below
        the threshold, and every ``cmp_*`` set to « non comparable ».

    Notes
    -----
    Reasons, in order of precedence:

    * « secret statistique »: the value was masked by the producer (``masked`` true or an
      earlier « secret statistique » reason) — it stays masked;
    * « effectif < 10 » (with the threshold): unweighted denominator ``n < threshold``, or
      unweighted numerator ``0 < k < threshold``, or, for a proportion (unit « % »),
      complement ``0 < n − k < threshold`` (it would tell that fewer than 10 people lack the trait);
    * survey rows with ``survey_min``: « moins de m répondants » when ``n < survey_min``;
      nothing else is suppressed, the numerator is blanked when ``k`` or ``n − k`` is under
      ``threshold``;
    * « secondaire »: for each indicator with an « Ensemble » row, the quartiers form a table with
      a known total; when a suppressed quartier could be recovered by subtraction, the next
      smallest quartier is suppressed too (see :func:`protect_table`).
    """
    thr = check_threshold(threshold)
    need = ["quartier", "indicator_id", "estimate", "ci_low", "ci_high", "n"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise DLSError(f"Le tableau d'indicateurs n'a pas la colonne « {missing[0]} » ; colonnes attendues : "
                       f"{', '.join(need)}.", column=missing[0])
    out, n, k, survey = _primary(table, thr, survey_min, suppress_zeros)

    labels = {fold(t) for t in total_labels}
    is_total = out["quartier"].map(lambda q: fold(q) in labels)
    _secondary_quartiers(out, k, n, survey, is_total)
    _blank_suppressed(out, n, survey, is_total, thr)
    return out


def _primary(table: pd.DataFrame, thr: float, survey_min, suppress_zeros: bool):
    """Copy of ``table`` with the primary suppressions and their reasons; ``(out, n, k, survey)``."""
    out = table.copy()
    if "numerator" not in out.columns:
        out["numerator"] = np.nan
    if "suppressed" not in out.columns:
        out["suppressed"] = False
    if "suppression_reason" not in out.columns:
        out["suppression_reason"] = ""
    out["suppressed"] = out["suppressed"].fillna(False).astype(bool)
    out["suppression_reason"] = out["suppression_reason"].fillna("").astype(str)
    small = f"effectif < {int(thr) if float(thr).is_integer() else thr}"
    n = pd.to_numeric(out["n"], errors="coerce")
    k = pd.to_numeric(out["numerator"], errors="coerce")
    pct = out["unit"].astype(str).str.strip().eq("%") if "unit" in out.columns else pd.Series(True, index=out.index)
    masked = out["masked"].fillna(False).astype(bool) if "masked" in out.columns else pd.Series(False, index=out.index)
    masked |= out["suppression_reason"].eq(MASKED)
    low_k = (k < thr) & ((k > 0) | suppress_zeros)
    comp = pct & k.notna() & ((n - k) < thr) & ((n - k) > 0)
    primary = (n < thr) | low_k | comp
    survey = pd.Series(False, index=out.index)
    if survey_min is not None and "source" in out.columns:
        smin = check_threshold(survey_min)
        survey = out["source"].astype(str).eq(SURVEY_SOURCE)
        primary = primary.mask(survey, n < smin)
        small = pd.Series(small, index=out.index).mask(
            survey, f"moins de {int(smin) if float(smin).is_integer() else smin} répondants")
    reason = out["suppression_reason"].where(out["suppressed"], "")
    reason = reason.mask(~out["suppressed"] & primary, small)
    reason = reason.mask(masked, MASKED)
    out["suppression_reason"] = reason
    out["suppressed"] = out["suppressed"] | primary | masked
    return out, n, k, survey


def _secondary_quartiers(out: pd.DataFrame, k: pd.Series, n: pd.Series, survey: pd.Series, is_total: pd.Series):
    """Extract rows: a suppressed quartier not recoverable from the « Ensemble » row by subtraction
    (:func:`~diagnostics.protect.cells.protect_block` on the quartiers' counts); fills ``out``."""
    for _, grp in out[~survey].groupby("indicator_id", sort=False):
        tot = grp[is_total.loc[grp.index]]
        inner = grp[~is_total.loc[grp.index]]
        if len(tot) != 1 or inner.empty or not inner["suppressed"].any():
            continue
        if len(inner) == 1:  # « Ensemble » of a single quartier is that quartier
            t = tot.index[0]
            if not out.at[t, "suppressed"]:
                out.at[t, "suppressed"] = True
                out.at[t, "suppression_reason"] = SECONDARY
            continue
        basis = k.loc[inner.index]
        if basis.isna().any():
            basis = n.loc[inner.index]
        vals = basis.fillna(0).to_numpy(dtype=float).reshape(-1, 1)
        pre = inner["suppressed"].to_numpy().reshape(-1, 1)
        total_known = not bool(out.at[tot.index[0], "suppressed"])
        _, st, _ = protect_block(vals, pre, np.zeros_like(pre), None, None, None, False, False,
                                  margins_known=total_known)
        for pos, idx in enumerate(inner.index):
            if st[pos] == SECONDARY and not out.at[idx, "suppressed"]:
                out.at[idx, "suppressed"] = True
                out.at[idx, "suppression_reason"] = SECONDARY


def _blank_suppressed(out: pd.DataFrame, n: pd.Series, survey: pd.Series, is_total: pd.Series, thr: float):
    """Blank the values of suppressed rows and every raw count under ``thr``; fills ``out``."""
    sup = out["suppressed"]
    for col in _BLANK_NUM:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float).mask(sup)
    out["n"] = n.mask((sup | survey) & (n < thr))
    raw = pd.to_numeric(out["numerator"], errors="coerce")   # survey rows: no raw count under thr
    hidden = survey & ((raw < thr) | (n - raw < thr))
    # the « Ensemble » count is the sum of the quartiers' counts: hidden with any of them
    ind_hidden = set(out.loc[hidden & ~is_total, "indicator_id"])
    hidden |= survey & is_total & out["indicator_id"].isin(ind_hidden)
    out["numerator"] = raw.mask(hidden)
    for col in _CMP_COLS:
        if col in out.columns:
            out[col] = out[col].mask(sup, "non comparable")


