"""Linear contrasts of a design estimator's result (R's ``svycontrast``) and the domain-versus-rest test.

A design estimator's result keeps the covariance of its estimates
(:class:`diagnostics.results.Covariance`); :func:`contrast` turns any linear combination of its
rows into a result row whose estimate, standard error, interval and test all describe that
combination.  :func:`domain_contrast` is the difference « domain minus the rest of the
domains » built on it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from diagnostics.errors import EstimationError
from diagnostics.results import ROW_KEYS, add_deprecated_columns, covariance_of
from .. import distributions as dist

__all__ = ["contrast", "domain_contrast", "CONTRAST_COLUMNS", "DOMAIN_CONTRAST_COLUMNS"]

#: Columns of :func:`contrast`'s table.
CONTRAST_COLUMNS = [*ROW_KEYS, "estimate", "se", "ci_low", "ci_high", "statistic", "df",
                    "p_value", "n", "conf_level", "method", "kind"]

#: Columns of :func:`domain_contrast`'s table (before the deprecated aliases).
DOMAIN_CONTRAST_COLUMNS = [*CONTRAST_COLUMNS, "estimate_domain", "estimate_rest", "n_rest"]


def _coefficients(result: pd.DataFrame, L) -> tuple[list, np.ndarray]:
    """Names and (m × rows) matrix of the contrasts ``L`` on the rows of ``result``."""
    R = len(result)
    if isinstance(L, dict):
        names, rows = list(L), []
        by_domain = list(result["domain"])
        keys = list(zip(*(result[k] for k in ROW_KEYS)))
        for name, coef in L.items():
            if isinstance(coef, dict):
                row = np.zeros(R)
                for key, c in coef.items():
                    where = [i for i, k in enumerate(keys if isinstance(key, tuple)
                                                     else by_domain) if k == key]
                    if len(where) != 1:
                        raise EstimationError(
                            f"Contraste « {name} » : la ligne « {key} » "
                            f"{'est absente du' if not where else 'est ambiguë dans le'} "
                            "résultat ; attendu une ligne unique (domaine, ou (domaine, "
                            "variable, modalité)).")
                    row[where[0]] = float(c)
                rows.append(row)
            else:
                rows.append(np.asarray(coef, float))
        M = np.vstack(rows) if rows else np.zeros((0, R))
    else:
        M = np.atleast_2d(np.asarray(L, float))
        names = [f"contraste {i + 1}" for i in range(M.shape[0])]
    if M.shape[1] != R:
        raise EstimationError(f"Contraste de {M.shape[1]} coefficients pour un résultat de {R} "
                              "lignes : attendu un coefficient par ligne.")
    return names, M


def _common(values) -> str:
    """The value shared by every involved row, or "" when they differ."""
    u = pd.unique(pd.Series(list(values), dtype=object))
    return u[0] if len(u) == 1 else ""


def contrast(result: pd.DataFrame, L, *, df=None, method: str = "contraste (linéarisation)",
             kind: str = "contrast") -> pd.DataFrame:
    """Linear combinations of a result's estimates with their design-based test (R ``svycontrast``).

    Parameters
    ----------
    result : pandas.DataFrame
        A design estimator's result (``Design.mean``, ``total``, ``ratio``, ``proportion``,
        ``multiple_choice``) or a subset of its rows: it keeps its covariance.
    L : array-like or dict
        One row of coefficients per contrast (one coefficient per row of ``result``), or a
        dict ``{name: coefficients}`` where the coefficients are a vector or a dict
        ``{domain label or (domain, variable, level): coefficient}`` (absent rows: 0).
    df : float, optional
        Degrees of freedom of the t quantile and test; default the result's joint degrees of
        freedom (PSUs minus strata among the rows its estimates use, R's ``degf``).
    method, kind : str
        Written in the ``method`` and ``kind`` columns.

    Returns
    -------
    pandas.DataFrame
        One row per contrast, columns :data:`CONTRAST_COLUMNS`: ``domain`` is the contrast's
        name, ``variable``/``level`` those its rows share (else empty); ``estimate`` the
        combination, ``se`` its standard error, ``ci_low, ci_high`` its interval,
        ``statistic`` = estimate / se, ``df``, the two-sided ``p_value``; ``n`` the unweighted
        count behind it (sum over the domains involved of their largest ``n``).

    Notes
    -----
    With estimates :math:`\\hat\\theta` of covariance :math:`V` and coefficients :math:`l`:
    :math:`\\hat\\gamma = l^T\\hat\\theta`, :math:`\\widehat{V}(\\hat\\gamma) = l^T V l`,
    interval :math:`\\hat\\gamma \\pm t_{df, 1-\\alpha/2}\\, SE`, test
    :math:`t = \\hat\\gamma / SE` on ``df`` degrees of freedom.

    References
    ----------
    Lumley T. *Complex Surveys*, Wiley 2010, §3.3; R package survey 4.1, ``svycontrast``.
    """
    cov = covariance_of(result)
    names, M = _coefficients(result, L)
    df = cov.df if df is None else float(df)
    conf = float(result["conf_level"].iloc[0]) if len(result) else np.nan
    cols = _linear_combinations(result["estimate"].to_numpy(float), cov.of(result), M, df,
                                conf)
    keys = {k: result[k].to_numpy(dtype=object) for k in (*ROW_KEYS, "n")}
    used = [np.flatnonzero(row != 0) for row in M]
    out = pd.DataFrame({"domain": names,
                        "variable": [_common(keys["variable"][u]) for u in used],
                        "level": [_common(keys["level"][u]) for u in used], **cols,
                        "n": [_count(keys["domain"][u], keys["n"][u]) for u in used],
                        "conf_level": conf, "method": method, "kind": kind})
    return out[CONTRAST_COLUMNS]


def _linear_combinations(theta, V, M, df, conf) -> dict:
    """Estimate, SE, interval and t test of the combinations ``M θ`` (the arithmetic of
    :func:`contrast`, shared with :func:`domain_contrast`)."""
    est = M @ np.nan_to_num(theta)                # a missing estimate spoils only its contrasts
    est[(M[:, np.isnan(theta)] != 0).any(axis=1)] = np.nan
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", M, V, M), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        tq = dist.t_ppf(1 - (1 - conf) / 2, df) if df > 0 else np.nan
        t = np.where(se > 0, est / se, np.nan)
        p = 2 * dist.t_sf(np.abs(t), df) if df > 0 else np.full(len(t), np.nan)
    return {"estimate": est, "se": se, "ci_low": est - tq * se, "ci_high": est + tq * se,
            "statistic": t, "df": df, "p_value": p}


def _count(domains, n) -> int:
    """Unweighted count behind a contrast: the largest ``n`` of each domain, summed."""
    best = {}
    for d, k in zip(domains, n):
        best[d] = max(best.get(d, 0), int(k))
    return sum(best.values())


def domain_contrast(design, variable: str, by) -> pd.DataFrame:
    """Each domain against the rest of the domains: the difference of the two means, with its test.

    Parameters
    ----------
    design : Design
        The full design (calibrated or not).
    variable : str
        Numeric column (a 0/1 indicator gives proportions); missing values are left out of
        both sides.
    by : str or list of str
        Domain column(s).  The « rest » of a domain is every other domain (rows in no domain,
        e.g. a missing ``by``, are in neither side).

    Returns
    -------
    pandas.DataFrame
        One row per domain, columns :data:`DOMAIN_CONTRAST_COLUMNS`: ``estimate`` is the
        difference « domain − rest » (``kind = "difference"``), ``se``, ``ci_low, ci_high``,
        ``statistic`` (t), ``df``, ``p_value`` all describe that difference;
        ``estimate_domain`` and ``estimate_rest`` are the two means, ``n`` and ``n_rest``
        their unweighted counts of valid answers.  Deprecated until 0.2: ``difference`` (→
        ``estimate``) and ``rest`` (→ ``estimate_rest``); ``estimate`` held the domain's mean
        before 0.2 (now ``estimate_domain``).

    Notes
    -----
    For each domain :math:`A` (the rest :math:`B`), the two means
    :math:`\\hat\\mu = \\sum w_i y_i / \\sum w_i` with their covariance (scores
    :math:`w_i (y_i - \\hat\\mu_A)/\\hat W_A` and :math:`w_i (y_i - \\hat\\mu_B)/\\hat W_B`),
    then the arithmetic of :func:`contrast` with :math:`l = (1, -1)`: the variance :math:`\\widehat V(\\hat\\mu_A) + \\widehat V(\\hat\\mu_B)
    - 2\\widehat{C}(\\hat\\mu_A, \\hat\\mu_B)` (strata, clusters, fpc, calibration).  This is
    R's ``svycontrast(svyby(~y, ~g, design, svymean, covmat = TRUE), c(1, -1))``; the test is
    R's ``svyttest(y ~ g, design)``, which drops the rows without a valid answer: t on the
    degrees of freedom of the valid answers, PSUs minus strata among them, minus 1 (one more
    coefficient in the regression), and the interval on the same (``confint`` of the
    ``svyglm``).

    References
    ----------
    Lumley T. *Complex Surveys*, Wiley 2010, §2.5 (domains) and §3.3 (``svycontrast``);
    R package survey 4.1 (``svyby``, ``svycontrast``, ``svyttest``).
    """
    labels, theta, n, S, degf = _domain_and_rest(design, variable, by)
    K = len(labels)
    cols = _linear_combinations(theta, design.var_from_scores(S, cov=True),
                                np.kron(np.eye(K), [1.0, -1.0]), degf - 1, design.conf_level)
    inside, rest = slice(0, None, 2), slice(1, None, 2)
    empty = ~((n[inside] > 0) & (n[rest] > 0))
    for k in ("estimate", "se", "ci_low", "ci_high", "statistic", "p_value"):
        cols[k] = np.where(empty, np.nan, cols[k])
    out = pd.DataFrame({"domain": labels, "variable": variable, "level": "", **cols,
                        "n": n[inside], "conf_level": design.conf_level,
                        "method": np.where(empty, "non calculable : un côté vide", _METHOD),
                        "kind": "difference", "estimate_domain": theta[inside],
                        "estimate_rest": theta[rest], "n_rest": n[rest]},
                       columns=DOMAIN_CONTRAST_COLUMNS)
    return add_deprecated_columns(out, {"difference": "estimate", "rest": "estimate_rest"})


_METHOD = "différence domaine − reste (linéarisation, t de Student)"


def _domain_and_rest(design, variable, by):
    """The mean of ``variable`` in each domain and in the rest of the domains.

    Returns the domain labels, the 2K means (domain k then the rest of k), their unweighted
    counts of valid answers, the (n × 2K) score matrix whose design covariance is theirs (R's
    ``svyby(..., covmat = TRUE)`` on overlapping groups) and the degrees of freedom of the valid
    answers (PSUs minus strata among the rows of positive weight with an answer and a domain:
    R's ``degf(subset(design, !is.na(y)))``).
    """
    y = design.numeric(variable)
    dom, labels = design.domain_codes(by)
    ok = ~np.isnan(y) & (dom >= 0)
    w, pos = design.w, design.w > 0
    yz = np.where(ok, y, 0.0)
    S = np.zeros((design.n, 2 * len(labels)))
    theta = np.full(2 * len(labels), np.nan)
    n = np.zeros(2 * len(labels), dtype=np.int64)
    for k in range(len(labels)):
        for j, side in enumerate((ok & (dom == k), ok & (dom != k))):
            W = w[side].sum()
            n[2 * k + j] = int((side & pos).sum())
            if W > 0:
                theta[2 * k + j] = m = (w[side] * yz[side]).sum() / W
                S[:, 2 * k + j] = np.where(side, w * (yz - m) / W, 0.0)
    return list(labels), theta, n, S, float(design.degf_of(ok & pos))
