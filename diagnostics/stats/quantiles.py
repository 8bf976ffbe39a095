"""Quantiles and medians of a survey design with Woodruff confidence intervals (R ``svyquantile``).

Reproduces the survey ≥ 4.1 implementation of ``svyquantile``: quantile rules ``qrule``
(``"math"``, R's default, ``"school"``, ``"hf7"``) and Woodruff intervals
(``interval.type = "mean"``, R's default), overall and by domain as ``svyby``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..results import check_conf_level
from . import distributions as dist

__all__ = ["quantile", "QRULES"]


def _cumsum(w):
    """Cumulative sums accumulated in extended precision, then rounded, as R's ``cumsum``."""
    return np.cumsum(np.asarray(w, dtype=np.longdouble)).astype(float)


def _qs(x, w, p):
    """R's ``survey:::qs``: neighbouring order statistics around the weighted p-quantile.

    Equal weights put ``p · Σw`` exactly on a cumulative sum, so the sums are accumulated
    as R does (extended precision) for the comparison to fall the same way.
    """
    cumw = _cumsum(w)
    total = float(np.cumsum(np.asarray(w, dtype=np.longdouble))[-1])   # R's sum(): sequential
    below = np.flatnonzero(cumw <= p * total)
    pos = below[-1] if len(below) else 0
    nxt = pos if pos == len(x) - 1 else pos + 1
    return x[pos], x[nxt], p - cumw[pos] / total


def _math(x, w, p):
    lo, up, wlow = _qs(x, w, p)
    return lo if wlow == 0 else up


def _school(x, w, p):
    lo, up, wlow = _qs(x, w, p)
    return (lo + up) / 2 if wlow == 0 else up


def _hf7(x, w, p):
    cumw = _cumsum(w)
    pk = np.concatenate([[0.0], cumw[:-1]]) / cumw[-2]
    return float(np.interp(p, pk, x))   # R approx(rule = 2): constant outside


#: Quantile rules of R's ``svyquantile(qrule = )``.
QRULES = {"math": _math, "school": _school, "hf7": _hf7}


def _rule(x, w, p, rule):
    keep = w != 0
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    return float(QRULES[rule](x[order], w[order], p))


def quantile(design, variables, probs=(0.5,), *, by=None, rule: str = "math",
             conf_level: float = 0.95) -> pd.DataFrame:
    """Weighted quantiles with Woodruff confidence intervals, as R ``svyquantile``.

    Parameters
    ----------
    design : Design
        The survey design (:class:`diagnostics.stats.survey.Design`).
    variables : str or list of str
        Numeric columns.
    probs : float or sequence of float, default (0.5,)
        Probabilities in [0, 1] (0.5: the median).
    by : str or list of str, optional
        Domain column(s): one quantile per domain, as ``svyby(~x, ~by, design, svyquantile)``.
    rule : {"math", "school", "hf7"}, default "math"
        R's ``qrule``: ``"math"`` (R's default) is the smallest value whose cumulative weight
        share reaches ``p``; ``"school"`` averages the two neighbours when the share is
        exactly ``p``; ``"hf7"`` interpolates linearly (Hyndman–Fan type 7, R's
        ``quantile()`` default, weighted).
    conf_level : float, default 0.95
        Confidence level.

    Returns
    -------
    DataFrame
        ``domain, variable, prob, estimate, se, ci_low, ci_high, conf_level, method, n, df``;
        a limit is missing when the interval of the share leaves [0, 1], as in R.

    Notes
    -----
    With :math:`F(x) = \\sum_i w_i 1[x_i \\le x] / \\sum_i w_i` and the quantile
    :math:`\\hat q_p` of the rule, the Woodruff interval (Woodruff 1952) takes the
    design-based mean :math:`\\hat p = F(\\hat q_p)` of :math:`1[x_i \\le \\hat q_p]`, its
    linearised SE, the interval :math:`\\hat p \\pm t_{df, 1-\\alpha/2} SE` and maps its limits
    back through the same quantile rule; ``se = (ci_high − ci_low) / (2 t_{df, 1−α/2})``.
    ``df`` is the design's degrees of freedom (PSUs − strata among the domain's rows, as R's
    subset design).  Missing values are dropped (R's ``na.rm = TRUE``).

    References
    ----------
    Woodruff RS (1952) Confidence intervals for medians and other position measures. *JASA*
    47:635–646.  Hyndman RJ, Fan Y (1996) Sample quantiles in statistical packages. *Am Stat*
    50:361–365.  Lumley T, R package ``survey`` 4.1, ``svyquantile``.
    """
    key = str(rule).lower()
    if key not in QRULES:
        raise EstimationError(f"règle de quantile « {rule} » inconnue ; une de "
                              f"{', '.join(QRULES)} était attendue.", value=rule,
                              expected=", ".join(QRULES))
    conf_level = check_conf_level(conf_level)
    probs = [float(probs)] if np.isscalar(probs) else [float(p) for p in probs]
    bad = [p for p in probs if not 0 <= p <= 1]
    if bad:
        raise EstimationError(f"probabilité « {bad[0]} » refusée ; un nombre entre 0 et 1 était "
                              "attendu (0,5 pour la médiane).", value=bad[0])
    variables = [variables] if isinstance(variables, str) else list(variables)
    codes, labels = design.domain_codes(by)
    alpha = 1 - float(conf_level)
    rows = []
    for var in variables:
        x_all = design.numeric(var)
        for d, label in enumerate(labels):
            in_dom = codes == d
            ok = in_dom & ~np.isnan(x_all) & (design.w > 0)
            pos = in_dom & (design.w > 0)
            df = len(np.unique(design.c[pos])) - len(np.unique(design.h[pos]))
            q = dist.norm_ppf(1 - alpha / 2) if not math.isfinite(df) else dist.t_ppf(1 - alpha / 2, df)
            # R's weights(design) are 1 / prob with prob = 1 / w: same last bits as R
            x, w = x_all[ok], 1.0 / (1.0 / design.w[ok])
            total = w.sum()
            for p in probs:
                est = _rule(x, w, p, key) if len(x) else math.nan
                # design mean of 1[x <= est] in the domain: scores w_i (z_i − p̂) / Σw
                z = np.zeros(design.n)
                z[ok] = (x <= est).astype(float)
                phat = float(np.sum(w * z[ok]) / total)
                S = np.where(ok, design.w * (z - phat) / total, 0.0)[:, None]
                se_p = float(np.sqrt(design.var_from_scores(S)[0]))
                plo, phi = phat - q * se_p, phat + q * se_p
                lo = math.nan if plo < 0 else _rule(x, w, plo, key)
                hi = math.nan if phi > 1 else _rule(x, w, phi, key)
                rows.append({"domain": label, "variable": var, "prob": p, "estimate": est,
                             "se": (hi - lo) / (2 * q), "ci_low": lo, "ci_high": hi,
                             "conf_level": float(conf_level),
                             "method": f"quantile ({key}), intervalle de Woodruff",
                             "n": int(ok.sum()), "df": df})
    return pd.DataFrame(rows)
