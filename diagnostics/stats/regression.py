"""Regression with design-based standard errors (R ``svyglm``) and the design-based t-test.

* :func:`glm`: gaussian (linear) and quasibinomial (logistic) models fitted with the survey
  weights, sandwich (linearisation) variance from the design, as R ``svyglm``;
* :func:`ttest`: difference of means between two groups, as R ``svyttest``.

Results follow the library's shape: one row per coefficient with ``estimate, se, ci_low,
ci_high, conf_level, method, n`` and ``term, statistic, df, p_value``.
"""
from __future__ import annotations


import numpy as np
import pandas as pd

from ..errors import EstimationError
from ..results import check_conf_level
from . import distributions as dist

__all__ = ["glm", "ttest", "FAMILIES"]

FAMILIES = ("gaussian", "quasibinomial")




def _design_matrix(design, formula_or_y, X):
    """(y, X, term names, rows used) from a formula ``"y ~ a + b"`` or a column and columns."""
    if X is None:
        import patsy
        if not isinstance(formula_or_y, str) or "~" not in formula_or_y:
            raise EstimationError(f"modèle « {formula_or_y} » refusé ; une formule « y ~ x1 + x2 » "
                                  "ou une variable et une liste de colonnes étaient attendues.",
                                  value=str(formula_or_y))
        try:
            yd, xd = patsy.dmatrices(formula_or_y, design.data, NA_action="drop",
                                     return_type="dataframe")
        except patsy.PatsyError as err:
            raise EstimationError(f"formule « {formula_or_y} » illisible : {err.message}",
                                  value=formula_or_y) from None
        rows = np.asarray(design.data.index.get_indexer(yd.index))
        return yd.iloc[:, 0].to_numpy(float), xd.to_numpy(float), list(xd.columns), rows
    cols = [X] if isinstance(X, str) else list(X)
    y = design.numeric(formula_or_y)
    Xm = np.column_stack([np.ones(design.n)] + [design.numeric(c) for c in cols])
    ok = ~np.isnan(y) & ~np.isnan(Xm).any(axis=1)
    rows = np.flatnonzero(ok)
    return y[ok], Xm[ok], ["(Intercept)", *cols], rows


def _fit(y, X, w, family):
    """Weighted (quasi-)likelihood fit: coefficients, fitted means, bread ``(X'WX)⁻¹``."""
    if family == "gaussian":
        XtW = X.T * w
        A = np.linalg.inv(XtW @ X)
        beta = A @ (XtW @ y)
        return beta, X @ beta, A
    if ((y < 0) | (y > 1)).any():
        raise EstimationError("modèle quasibinomial : la variable réponse doit valoir entre 0 et 1 "
                              "(1 = oui, 0 = non).")
    beta = np.zeros(X.shape[1])
    for _ in range(100):
        mu = 1 / (1 + np.exp(-(X @ beta)))
        W = w * mu * (1 - mu)
        A = np.linalg.inv((X.T * W) @ X)
        step = A @ (X.T @ (w * (y - mu)))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12 * (1 + np.max(np.abs(beta))):
            break
    mu = 1 / (1 + np.exp(-(X @ beta)))
    A = np.linalg.inv((X.T * (w * mu * (1 - mu))) @ X)
    return beta, mu, A


def glm(design, formula_or_y, X=None, *, family: str = "gaussian",
        conf_level: float = 0.95) -> pd.DataFrame:
    """Generalised linear model with design-based standard errors, as R ``svyglm``.

    Parameters
    ----------
    design : Design
        The survey design (:class:`diagnostics.stats.survey.Design`).
    formula_or_y : str
        A formula ``"api00 ~ ell + meals"`` (read by ``patsy``: ``C(x)`` for a categorical
        term) or, with ``X``, the response column.
    X : str or list of str, optional
        Numeric predictor columns (an intercept is added).
    family : {"gaussian", "quasibinomial"}
        Linear model, or logistic model for a 0/1 (or proportion) response.
    conf_level : float, default 0.95
        Confidence level of the coefficients' intervals.

    Returns
    -------
    DataFrame
        One row per coefficient: ``term, estimate, se, ci_low, ci_high, conf_level, method, n,
        statistic`` (t), ``df``, ``p_value``.

    Notes
    -----
    The coefficients solve :math:`\\sum_i w_i x_i (y_i - \\mu_i) = 0` (identity or logit link).
    With the bread :math:`A = (X^\\top W V X)^{-1}` (:math:`V = 1` gaussian,
    :math:`\\mu(1-\\mu)` logistic), each row has the influence function
    :math:`h_i = A x_i w_i (y_i - \\mu_i)` and :math:`\\widehat{Var}(\\hat\\beta)` is the design
    (linearisation) variance of the total of :math:`h_i`: strata, clusters, fpc and
    calibration as for the design's means.  Tests and intervals use Student's t with
    ``design df − p + 1`` degrees of freedom (R ``summary.svyglm``).  Rows with a missing
    response or predictor are left out of the fit (their score is 0, R's ``na.action``).

    References
    ----------
    Binder DA (1983) On the variances of asymptotically normal estimators from complex
    surveys. *Int Stat Rev* 51:279–292.  Lumley T (2010) *Complex Surveys*, Wiley, ch. 5.
    R package ``survey`` 4.1, ``svyglm``.
    """
    level = check_conf_level(conf_level)
    fam = str(family).lower()
    if fam not in FAMILIES:
        raise EstimationError(f"famille « {family} » inconnue ; « gaussian » ou « quasibinomial » "
                              "était attendue.", value=family, expected=", ".join(FAMILIES))
    y, Xm, terms, rows = _design_matrix(design, formula_or_y, X)
    return _estimate(design, y, Xm, terms, rows, fam, level, design.degf - Xm.shape[1] + 1)


def _estimate(design, y, Xm, terms, rows, fam, level, df):
    """Fit, sandwich variance from the design and the result table (shared by glm and ttest)."""
    w = design.w[rows]
    pos = w > 0
    beta, mu, A = _fit(y[pos], Xm[pos], w[pos], fam)
    mu_all = Xm @ beta if fam == "gaussian" else 1 / (1 + np.exp(-(Xm @ beta)))
    S = np.zeros((design.n, len(beta)))
    S[rows] = ((Xm * (w * (y - mu_all))[:, None]) @ A.T)
    V = design.var_from_scores(S, cov=True)
    se = np.sqrt(np.diag(V))
    t = beta / se
    q = dist.t_ppf(1 - (1 - level) / 2, df)
    method = ("régression linéaire pondérée (svyglm gaussian)" if fam == "gaussian" else
              "régression logistique pondérée (svyglm quasibinomial)")
    return pd.DataFrame({"term": terms, "estimate": beta, "se": se, "ci_low": beta - q * se,
                         "ci_high": beta + q * se, "conf_level": level, "method": method,
                         "n": int(pos.sum()), "statistic": t, "df": df,
                         "p_value": 2 * dist.t_sf(np.abs(t), df)})


def ttest(design, y: str, group: str, *, conf_level: float = 0.95) -> pd.DataFrame:
    """Design-based t-test of the difference of means between two groups, as R ``svyttest``.

    Parameters
    ----------
    design : Design
        The survey design.
    y : str
        Numeric column.
    group : str
        Column with exactly two values (missing values dropped); the difference is
        *second − first* in sorted order, as R's ``svyttest(y ~ group)``.
    conf_level : float, default 0.95

    Returns
    -------
    DataFrame
        One row: ``term`` (``group`` and the second value), ``estimate`` (difference of
        means), ``se``, ``ci_low``, ``ci_high``, ``conf_level``, ``method``, ``n``,
        ``statistic`` (t), ``df`` (design df − 1), ``p_value``.

    Notes
    -----
    The slope of ``svyglm(y ~ group)`` is the difference of the weighted means
    :math:`\\bar y_2 - \\bar y_1`; its design-based SE is that of :func:`glm`, and R's
    ``svyttest`` uses Student's t with ``degf(design) − 1`` degrees of freedom.

    References
    ----------
    R package ``survey`` 4.1, ``svyttest``.  Lumley T (2010) *Complex Surveys*, §5.2.
    """
    g = design.column(group)
    levels = sorted(g.dropna().unique(), key=lambda v: (str(type(v)), v))
    if len(levels) != 2:
        raise EstimationError(f"colonne « {group} » : {len(levels)} valeurs distinctes ; le test t "
                              "compare exactement deux groupes.", column=group,
                              expected="deux groupes")
    level = check_conf_level(conf_level)
    yv = design.numeric(y)
    ind = np.where(g.isna(), np.nan, (g == levels[1]).astype(float))
    ok = ~np.isnan(yv) & ~np.isnan(ind)
    rows = np.flatnonzero(ok)
    Xm = np.column_stack([np.ones(len(rows)), ind[ok]])
    res = _estimate(design, yv[ok], Xm, ["(Intercept)", f"{group} = {levels[1]}"], rows,
                    "gaussian", level, design.degf - 1)
    row = res.iloc[[1]].copy()
    row["method"] = "test t pondéré (svyttest)"
    return row.reset_index(drop=True)
