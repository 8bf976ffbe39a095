"""Compare an estimate with a reference value using confidence intervals (Fingertips rule).

An estimate is *significantly different* from a reference when the reference value lies outside
the estimate's confidence interval; when the reference carries its own interval, when the two
intervals do not overlap (the rule of Public Health England's Fingertips profiles).  The
direction of the indicator turns "higher"/"lower" into « mieux » / « moins bien ».
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import DLSError
from . import distributions as dist

__all__ = ["adjust_bh", "compare_ci", "compare_test", "p_from_interval", "significance", "compare_columns",
           "DIRECTIONS", "VERDICTS", "EVOLUTION_WORDS"]

DIRECTIONS = ("hausse_favorable", "hausse_defavorable", "neutre")
VERDICTS = ("mieux", "similaire", "moins bien", "plus élevé", "plus bas", "non comparable")


def _missing(v) -> bool:
    if v is None or v is pd.NA:
        return True
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return True


def significance(est, lo, hi, ref, ref_lo=None, ref_hi=None) -> str:
    """Return « plus élevé », « plus bas », « similaire » or « non comparable».

    Parameters
    ----------
    est, lo, hi : float
        Estimate and its confidence limits.
    ref : float
        Reference value.
    ref_lo, ref_hi : float, optional
        Limits of the reference; when both are given the intervals are compared.

    Notes
    -----
    Without reference limits: higher when :math:`lo > ref`, lower when :math:`hi < ref`.
    With reference limits: higher when :math:`lo > ref_{hi}`, lower when :math:`hi < ref_{lo}`.
    Any missing input (suppressed or masked value) gives « non comparable ».

    References
    ----------
    Public Health England, Fingertips: « Technical guide: confidence intervals », 2018.
    """
    if any(_missing(v) for v in (est, lo, hi, ref)):
        return "non comparable"
    lo, hi, ref = float(lo), float(hi), float(ref)
    if lo > hi:
        raise DLSError(f"La borne basse de l'intervalle ({lo}) dépasse la borne haute ({hi}) ; "
                       "un intervalle [basse ; haute] est attendu.", value=(lo, hi))
    has_ref_ci = not _missing(ref_lo) and not _missing(ref_hi)
    top, bottom = (float(ref_hi), float(ref_lo)) if has_ref_ci else (ref, ref)
    if lo > top:
        return "plus élevé"
    if hi < bottom:
        return "plus bas"
    return "similaire"


def compare_ci(est, lo, hi, ref, ref_lo=None, ref_hi=None, direction="hausse_favorable") -> str:
    """Verdict of an estimate against a reference: « mieux », « similaire », « moins bien » or « non comparable ».

    Parameters
    ----------
    est, lo, hi : float
        Estimate and confidence limits (same scale as the reference).
    ref, ref_lo, ref_hi : float
        Reference value and, optionally, its limits.
    direction : {"hausse_favorable", "hausse_defavorable", "neutre"}
        Whether a higher value is good news.  For a « neutre » indicator the verdict is
        « plus élevé », « plus bas », « similaire » or « non comparable » (no value judgement).

    Returns
    -------
    str

    Notes
    -----
    See :func:`significance` for the test itself (Fingertips rule).

    Examples
    --------
    >>> compare_ci(0.30, 0.25, 0.35, 0.40, direction="hausse_favorable")
    'moins bien'
    >>> compare_ci(0.30, 0.25, 0.35, 0.33)
    'similaire'
    """
    if direction not in DIRECTIONS:
        raise DLSError(f"Le sens de l'indicateur « {direction} » n'est pas reconnu ; valeurs "
                       f"attendues : {', '.join(DIRECTIONS)}.", value=direction,
                       expected=", ".join(DIRECTIONS))
    sig = significance(est, lo, hi, ref, ref_lo, ref_hi)
    if sig in ("similaire", "non comparable"):
        return sig
    if direction == "neutre":  # a significant gap, without a value judgement
        return sig
    higher = sig == "plus élevé"
    return "mieux" if higher == (direction == "hausse_favorable") else "moins bien"


def adjust_bh(p_values) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), as R's ``p.adjust(p, "BH")``.

    Parameters
    ----------
    p_values : array-like of float
        The p-values of the tests of one report; missing values stay missing and do not count
        among the tests.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values (« q-values »), same order; a test is significant at false discovery
        rate :math:`\\alpha` when its adjusted value is below :math:`\\alpha`.

    Notes
    -----
    With the :math:`m` p-values sorted, :math:`p_{(1)} \\le \\dots \\le p_{(m)}`:
    :math:`q_{(i)} = \\min_{j \\ge i} \\min(1, m\\,p_{(j)} / j)`.  Controls the expected share
    of false discoveries among the differences declared significant at :math:`\\alpha`
    (independent or positively dependent tests).

    References
    ----------
    Benjamini Y., Hochberg Y. (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. *JRSS B* 57(1), 289–300.

    Examples
    --------
    >>> adjust_bh([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok], kind="mergesort")
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    q = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    adj = np.empty(m)
    adj[order] = q
    out[ok] = adj
    return out


def p_from_interval(est, lo, hi, ref, unit: str = "%", conf_level: float = 0.95) -> float:
    """Two-sided p-value of « estimate = ref », read back from the estimate's confidence interval.

    Parameters
    ----------
    est, lo, hi : float
        The estimate and its interval.
    ref : float
        The comparator (a published value, taken as exact).
    unit : str
        « % » (proportions on 0–1: logit scale), « pour … » (rates: log scale), else linear.
    conf_level : float

    Returns
    -------
    float
        NaN when an input is missing or the interval is degenerate.

    Notes
    -----
    Wald test on the scale :math:`g` where the interval is (nearly) symmetric:
    :math:`se = (g(hi) - g(lo)) / (2 z_{1-\\alpha/2})`, :math:`z = (g(est) - g(ref)) / se`,
    :math:`p = 2(1 - \\Phi(|z|))`; :math:`g` = logit for a proportion, log for a rate.  So
    :math:`p < \\alpha` exactly when the reference lies outside the interval (to the interval's
    asymmetry on that scale); used to put reference comparisons under the same false
    discovery rate control as the tested differences.
    """
    vals = (est, lo, hi, ref)
    if any(_missing(v) for v in vals):
        return math.nan
    est, lo, hi, ref = (float(v) for v in vals)
    if unit == "%":
        def g(x):
            x = min(max(x, 1e-9), 1 - 1e-9)
            return math.log(x / (1 - x))
    elif unit.startswith("pour") and min(est, lo, ref) > 0:
        g = math.log
    else:
        def g(x):
            return x
    z_crit = float(dist.norm_ppf(0.5 + conf_level / 2))
    se = (g(hi) - g(lo)) / (2 * z_crit)
    if not se > 0:
        return math.nan
    return float(2 * dist.norm_sf(abs(g(est) - g(ref)) / se))


#: The words of :func:`compare_test` for a change between two waves (the evolution table):
#: better, similar, worse, higher, lower, not comparable.
EVOLUTION_WORDS = {"mieux": "en amélioration", "similaire": "pas d'écart significatif",
                   "moins bien": "en dégradation", "plus élevé": "en hausse",
                   "plus bas": "en baisse", "non comparable": ""}


def compare_test(difference, p_value, alpha=0.05, direction="hausse_favorable", *,
                 words=None) -> str:
    """Verdict of a tested difference (e.g. a quartier minus the rest of the quartiers).

    Parameters
    ----------
    difference : float
        Estimate minus its comparator (e.g. ``domain_contrast``'s ``estimate``).
    p_value : float
        Two-sided p-value of the test of a zero difference.
    alpha : float, default 0.05
        Level of the test (1 − the confidence level of the intervals).
    direction : {"hausse_favorable", "hausse_defavorable", "neutre"}
    words : dict, optional
        Other words for the six verdicts (keys: :data:`VERDICTS`), e.g.
        :data:`EVOLUTION_WORDS` for a change between two waves (« en amélioration »,
        « pas d'écart significatif », « en dégradation », « en hausse », « en baisse », and ""
        when an input is missing): one rule for the quartier against the rest and for the
        evolution.

    Returns
    -------
    str
        « similaire » when :math:`p \\geq \\alpha`; otherwise « mieux » / « moins bien »
        by the sign of the difference and the direction (« plus élevé » / « plus bas » for a
        « neutre » indicator); « non comparable » when an input is missing.

    Examples
    --------
    >>> compare_test(-0.08, 0.01, direction="hausse_favorable")
    'moins bien'
    >>> compare_test(-0.08, 0.20)
    'similaire'
    """
    if direction not in DIRECTIONS:
        raise DLSError(f"Le sens de l'indicateur « {direction} » n'est pas reconnu ; valeurs "
                       f"attendues : {', '.join(DIRECTIONS)}.", value=direction,
                       expected=", ".join(DIRECTIONS))
    if _missing(difference) or _missing(p_value):
        verdict = "non comparable"
    elif float(p_value) >= alpha or float(difference) == 0:
        verdict = "similaire"
    elif direction == "neutre":
        verdict = "plus élevé" if float(difference) > 0 else "plus bas"
    else:
        better = (float(difference) > 0) == (direction == "hausse_favorable")
        verdict = "mieux" if better else "moins bien"
    return verdict if words is None else words[verdict]


def compare_columns(table: pd.DataFrame, ref: str, *, est="estimate", lo="ci_low", hi="ci_high",
                    ref_lo=None, ref_hi=None, direction="direction") -> pd.Series:
    """Apply :func:`compare_ci` row by row to a table (e.g. the indicator table).

    Parameters
    ----------
    table : pandas.DataFrame
    ref : str
        Column of reference values (e.g. ``"ref_departement"``).
    est, lo, hi, ref_lo, ref_hi : str
        Column names.
    direction : str
        Column holding the direction, or a direction value used for every row.

    Returns
    -------
    pandas.Series of str, aligned on ``table``.
    """
    dirs = table[direction] if direction in table.columns else pd.Series(direction, index=table.index)
    rl = table[ref_lo] if ref_lo else pd.Series(np.nan, index=table.index)
    rh = table[ref_hi] if ref_hi else pd.Series(np.nan, index=table.index)
    return pd.Series([compare_ci(e, a, b, r, x, y, d) for e, a, b, r, x, y, d in
                      zip(table[est], table[lo], table[hi], table[ref], rl, rh, dirs)],
                     index=table.index, dtype=object)
