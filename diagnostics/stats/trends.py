"""Change since the previous diagnostic: two independent waves, and trends over several years.

Building blocks of « évolution depuis le précédent diagnostic »:

* :func:`wave_difference`: difference between two independent survey waves (estimate, SE,
  CI, z or t test), from two result tables of the library or from numbers;
* :func:`prop_trend_test`: chi-square test for trend in proportions over years, as R's
  ``prop.trend.test``;
* :func:`poisson_trend_test`: trend of a rate over years, Poisson regression of the counts on
  the year with the population as offset, as R's ``glm(family = poisson)``.

Results follow the library's shape: ``estimate, se, ci_low, ci_high, conf_level, method, n``
plus ``statistic, df, p_value``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..results import check_conf_level
from . import distributions as dist

__all__ = ["poisson_trend_test", "prop_trend_test", "wave_difference"]

_KEYS = ("domain", "variable", "level")




def _as_frame(x, name: str) -> pd.DataFrame:
    if isinstance(x, pd.DataFrame):
        missing = [c for c in ("estimate", "se") if c not in x.columns]
        if missing:
            raise EstimationError(f"le résultat de la vague « {name} » n'a pas de colonne "
                                  f"« {missing[0]} » ; un tableau d'estimations de la bibliothèque "
                                  "(colonnes estimate et se) était attendu.", column=missing[0])
        return x
    try:
        est, se = (float(v) for v in x)
    except (TypeError, ValueError):
        raise EstimationError(f"vague « {name} » : « {x} » refusé ; un tableau d'estimations ou un "
                              "couple (estimation, erreur type) était attendu.", value=str(x)) from None
    return pd.DataFrame({"estimate": [est], "se": [se]})


def wave_difference(current, previous, *, conf_level: float = 0.95, df=None) -> pd.DataFrame:
    """Difference *current − previous* between two independent survey waves.

    Parameters
    ----------
    current, previous : DataFrame or (estimate, se)
        Results of the same estimator on each wave (e.g. ``Design.mean``), with columns
        ``estimate`` and ``se``; rows are matched on the key columns both share among
        ``domain, variable, level``.  A pair ``(estimate, se)`` stands for one row.
    conf_level : float, default 0.95
        Confidence level.
    df : float, optional
        Degrees of freedom of a Student interval and test; normal (z) when omitted.  A
        conservative choice is the smaller of the two designs' degrees of freedom.

    Returns
    -------
    DataFrame
        Key columns, ``estimate_current, estimate_previous, estimate, se, ci_low, ci_high,
        conf_level, method, n, statistic, df, p_value`` (``n`` the two waves' ``n`` added
        when both tables have one).

    Notes
    -----
    The waves are independent samples, so the covariance is 0:

    .. math:: \\hat\\Delta = \\hat\\theta_2 - \\hat\\theta_1, \\qquad
              SE(\\hat\\Delta) = \\sqrt{SE_1^2 + SE_2^2},

    CI :math:`\\hat\\Delta \\pm q \\, SE`, test statistic :math:`\\hat\\Delta / SE` with
    :math:`q` the normal (or Student, ``df``) quantile and two-sided p-value.

    References
    ----------
    Lumley T (2010) *Complex Surveys: A Guide to Analysis Using R*, Wiley, §2.
    Kish L (1965) *Survey Sampling*, Wiley, §12.10 (comparisons of independent samples).

    Examples
    --------
    >>> r = wave_difference((0.31, 0.02), (0.25, 0.015))
    >>> round(float(r["estimate"].iloc[0]), 2), round(float(r["se"].iloc[0]), 3)
    (0.06, 0.025)
    """
    level = check_conf_level(conf_level)
    cur, prev = _as_frame(current, "actuelle"), _as_frame(previous, "précédente")
    keys = [k for k in _KEYS if k in cur.columns and k in prev.columns]
    cols = keys + ["estimate", "se"] + (["n"] if "n" in cur.columns and "n" in prev.columns else [])
    if keys:
        m = cur[cols].merge(prev[cols], on=keys, how="inner", suffixes=("_current", "_previous"))
        if m.empty:
            raise EstimationError("aucune ligne commune aux deux vagues (mêmes "
                                  f"{', '.join(keys)}) ; des estimations comparables étaient attendues.")
    else:
        if len(cur) != len(prev):
            raise EstimationError(f"les deux vagues n'ont pas le même nombre de lignes ({len(cur)} et "
                                  f"{len(prev)}) ; des estimations comparables étaient attendues.")
        m = pd.concat([cur[cols].reset_index(drop=True).add_suffix("_current"),
                       prev[cols].reset_index(drop=True).add_suffix("_previous")], axis=1)
    est = m["estimate_current"] - m["estimate_previous"]
    se = np.sqrt(m["se_current"] ** 2 + m["se_previous"] ** 2)
    if df is None:
        q = dist.norm_ppf(1 - (1 - level) / 2)
        stat = est / se
        p = 2 * dist.norm_sf(np.abs(stat))
        method, dfv = "différence de deux vagues indépendantes (z)", np.inf
    else:
        q = dist.t_ppf(1 - (1 - level) / 2, df)
        stat = est / se
        p = 2 * dist.t_sf(np.abs(stat), df)
        method, dfv = "différence de deux vagues indépendantes (t)", float(df)
    out = m[keys].copy()
    out["estimate_current"], out["estimate_previous"] = m["estimate_current"], m["estimate_previous"]
    out["estimate"], out["se"] = est, se
    out["ci_low"], out["ci_high"] = est - q * se, est + q * se
    out["conf_level"], out["method"] = level, method
    out["n"] = m["n_current"] + m["n_previous"] if "n_current" in m else np.nan
    out["statistic"], out["df"], out["p_value"] = stat, dfv, p
    return out


def prop_trend_test(x, n, score=None) -> pd.DataFrame:
    """Chi-square test for trend in proportions (Cochran–Armitage), as R's ``prop.trend.test``.

    Parameters
    ----------
    x : array-like of int
        Number of « oui » in each group (e.g. each survey year).
    n : array-like of int
        Number asked in each group.
    score : array-like of float, optional
        Score of each group (e.g. the years); ``1, 2, …`` by default, as R.

    Returns
    -------
    DataFrame
        One row: ``estimate`` (slope of the weighted regression of the proportions on the
        score), ``se``, ``ci_low``/``ci_high`` (missing: a test, not an interval),
        ``conf_level`` (missing), ``method``, ``n`` (total asked), ``statistic`` (chi-square),
        ``df`` (1), ``p_value``.

    Notes
    -----
    With :math:`p_i = x_i/n_i`, :math:`\\bar p = \\sum x_i / \\sum n_i` and weights
    :math:`w_i = n_i / (\\bar p (1 - \\bar p))`, the statistic is the regression sum of squares
    of the weighted least-squares fit of :math:`p_i` on the score :math:`s_i`:

    .. math:: \\chi^2 = \\frac{\\left(\\sum w_i (s_i - \\bar s_w)(p_i - \\bar p_w)\\right)^2}
                           {\\sum w_i (s_i - \\bar s_w)^2}

    on 1 degree of freedom (R: ``anova(lm(freq ~ score, weights = w))["score", "Sum Sq"]``).

    References
    ----------
    Armitage P (1955) Tests for linear trends in proportions and frequencies. *Biometrics*
    11:375–386.  R Core Team, ``stats::prop.trend.test``.

    Examples
    --------
    >>> r = prop_trend_test([83, 90, 129, 70], [86, 93, 136, 82])
    >>> round(float(r["statistic"].iloc[0]), 4)
    8.2249
    """
    xs = np.asarray(x, dtype=float)
    ns = np.asarray(n, dtype=float)
    s = np.arange(1, len(xs) + 1, dtype=float) if score is None else np.asarray(score, dtype=float)
    if not (xs.ndim == ns.ndim == s.ndim == 1 and len(xs) == len(ns) == len(s) >= 2):
        raise EstimationError("test de tendance : x, n et score doivent avoir la même longueur, au "
                              "moins 2 groupes (par exemple 2 années).")
    if np.isnan(xs).any() or np.isnan(ns).any() or (ns <= 0).any() or (xs < 0).any() or (xs > ns).any():
        i = int(np.flatnonzero(np.isnan(xs) | np.isnan(ns) | (ns <= 0) | (xs < 0) | (xs > ns))[0])
        raise EstimationError(f"test de tendance, groupe {i + 1} : « {x[i]} » sur « {n[i]} » refusé ; "
                              "un effectif positif et 0 ≤ x ≤ n étaient attendus.", row=i + 1,
                              value=f"{x[i]}/{n[i]}")
    pbar = xs.sum() / ns.sum()
    if pbar in (0.0, 1.0):
        raise EstimationError("test de tendance impossible : la proportion vaut 0 ou 1 dans tous les "
                              "groupes ; des « oui » et des « non » étaient attendus.")
    w = ns / pbar / (1 - pbar)
    f = xs / ns
    sw = s - np.sum(w * s) / w.sum()
    fw = f - np.sum(w * f) / w.sum()
    sxx = np.sum(w * sw ** 2)
    slope = np.sum(w * sw * fw) / sxx
    chisq = slope ** 2 * sxx
    return pd.DataFrame([{"estimate": slope, "se": 1 / math.sqrt(sxx), "ci_low": np.nan,
                          "ci_high": np.nan, "conf_level": np.nan,
                          "method": "khi-deux de tendance des proportions (Armitage)",
                          "n": ns.sum(), "statistic": chisq, "df": 1,
                          "p_value": dist.chi2_sf(chisq, 1)}])


def poisson_trend_test(cases, exposure, years, *, conf_level: float = 0.95) -> pd.DataFrame:
    """Trend of a rate over years: Poisson regression of the counts on the year.

    Parameters
    ----------
    cases : array-like of int
        Number of events (or of people counted) each year.
    exposure : array-like of float
        Population (or person-years) of each year, the offset of the model.
    years : array-like of float
        The years (the score of the trend).
    conf_level : float, default 0.95
        Level of the interval of the yearly rate ratio.

    Returns
    -------
    DataFrame
        One row: ``estimate`` (slope :math:`\\beta`, log of the yearly rate ratio), ``se``,
        ``ci_low``/``ci_high`` (Wald interval of :math:`\\beta`), ``conf_level``, ``method``,
        ``n`` (total cases), ``statistic`` (Wald :math:`z`), ``df`` (missing), ``p_value``,
        ``rate_ratio`` (:math:`e^{\\beta}`, change of the rate per year).

    Notes
    -----
    Model :math:`\\log E[y_t] = \\log N_t + \\alpha + \\beta t`, fitted by maximum likelihood
    (iteratively reweighted least squares); Wald test :math:`z = \\hat\\beta / SE(\\hat\\beta)`,
    as ``summary(glm(y ~ year + offset(log(N)), family = poisson))``.  The year is centred
    before the fit (same slope, better conditioning).

    References
    ----------
    McCullagh P, Nelder JA (1989) *Generalized Linear Models*, 2nd ed., Chapman & Hall, ch. 6.
    Breslow NE, Day NE (1987) *Statistical Methods in Cancer Research*, vol. II, IARC, ch. 4.
    """
    level = check_conf_level(conf_level)
    y = np.asarray(cases, dtype=float)
    n = np.asarray(exposure, dtype=float)
    t = np.asarray(years, dtype=float)
    if not (y.ndim == n.ndim == t.ndim == 1 and len(y) == len(n) == len(t) >= 2):
        raise EstimationError("test de tendance : cas, population et années doivent avoir la même "
                              "longueur, au moins 2 années.")
    bad = np.isnan(y) | np.isnan(n) | np.isnan(t) | (n <= 0) | (y < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise EstimationError(f"test de tendance, année {i + 1} : « {cases[i]} » cas pour « {exposure[i]} » "
                              "refusé ; un nombre de cas positif ou nul et une population positive "
                              "étaient attendus.", row=i + 1, value=f"{cases[i]}/{exposure[i]}")
    if len(np.unique(t)) < 2:
        raise EstimationError("test de tendance impossible : une seule année ; au moins deux étaient attendues.")
    if y.sum() == 0:
        raise EstimationError("test de tendance impossible : aucun cas sur toutes les années.")
    x = np.column_stack([np.ones_like(t), t - t.mean()])
    off = np.log(n)
    beta = np.array([math.log(y.sum() / n.sum()), 0.0])
    for _ in range(100):
        mu = np.exp(off + x @ beta)
        info = x.T @ (mu[:, None] * x)
        step = np.linalg.solve(info, x.T @ (y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-13:
            break
    mu = np.exp(off + x @ beta)
    cov = np.linalg.inv(x.T @ (mu[:, None] * x))
    b, se = float(beta[1]), float(math.sqrt(cov[1, 1]))
    z = b / se
    q = dist.norm_ppf(1 - (1 - level) / 2)
    return pd.DataFrame([{"estimate": b, "se": se, "ci_low": b - q * se, "ci_high": b + q * se,
                          "conf_level": level, "method": "régression de Poisson sur l'année (Wald)",
                          "n": y.sum(), "statistic": z, "df": np.nan,
                          "p_value": float(2 * dist.norm_sf(abs(z))), "rate_ratio": math.exp(b)}])
