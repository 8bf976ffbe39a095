"""Design-based estimation (weights, strata, clusters, fpc) agreeing with R's ``survey``.

Build the design once, then ask it questions::

    d = Design(df, weights="poids", strata="quartier")
    d.proportion("renoncement_soins", by="quartier")        # tidy DataFrame
    d.mean(["score_who5"], by="sexe")
    d.chisq("renoncement_soins", "quartier")                  # Rao-Scott

Every estimator returns one tidy table with the columns ``domain, variable, level, estimate,
se, ci_low, ci_high, n, deff, fragile, suppressed, method`` (plus ``df``, ``numerator`` and
``n_missing`` where meaningful).  Variances are first-stage ("ultimate cluster") Taylor
linearisation as R's ``svyrecvar``; domains are estimated on the full design as ``svyby``
does (observations outside the domain keep their PSU and stratum, with zero score).

Small samples: ``fragile`` is True when the unweighted denominator ``n`` is below
``fragile_n`` (default 30); ``suppressed`` is True below ``suppress_n`` (default 10).  The
estimate is *kept* in both cases: blanking is the job of the disclosure-control step, which
needs the values to apply secondary suppression.

References
----------
Lumley T. (2004) Analysis of complex survey samples, J. Stat. Softw. 9(8); Lumley T. (2010)
*Complex Surveys*, Wiley; R package survey 4.x (``svymean``, ``svyby``, ``svyciprop``,
``svychisq``).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.special import expit, logit

from diagnostics.errors import EstimationError, where
from diagnostics.weighting import Calibration

__all__ = ["Design", "ChisqResult", "CI_METHODS", "RESULT_COLUMNS", "proportion_ci"]

RESULT_COLUMNS = ["domain", "variable", "level", "estimate", "se", "ci_low", "ci_high", "n",
                  "deff", "fragile", "suppressed", "method"]
CI_METHODS = ("logit", "xlogit", "beta", "wilson", "likelihood", "asin", "mean")
_CI_ALIASES = {"korn-graubard": "beta", "kg": "beta", "clopper-pearson": "beta",
               "arcsine": "asin", "wald": "mean", "profile": "likelihood"}
MISSING_DEFAULT = ("ne sait pas", "refus", "ne souhaite pas répondre")  # labels of the questionnaire's codes 98, 99, 999
OVERALL = "ensemble"
_CHUNK_CELLS = 4_000_000  # cells of a dense (pairs × variables) block in the fast path


def _norm_token(x) -> str:
    s = unicodedata.normalize("NFKD", str(x).strip().lower())
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def _csr(rows, cols, shape, data=None):
    if data is None:
        data = np.ones(len(rows))
    return sparse.csr_matrix((data, (rows, cols)), shape=shape)


# ----------------------------------------------------------------------------------------
# proportion confidence intervals
# ----------------------------------------------------------------------------------------

def _fmm_spline(x, y):
    """Cubic spline coefficients with Forsythe-Malcolm-Moler end conditions (R ``spline``)."""
    n = len(x)
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    b = np.zeros(n)
    c = np.zeros(n)
    d = np.zeros(n)
    if n < 3:
        t = (y[1] - y[0]) / (x[1] - x[0])
        b[:] = t
        return b, c, d
    nm1 = n - 1
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, nm1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0] = -d[0]
    b[nm1] = -d[nm1 - 1]
    c[0] = c[nm1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[nm1] = c[nm1 - 1] / (x[nm1] - x[nm1 - 2]) - c[nm1 - 2] / (x[nm1 - 1] - x[nm1 - 3])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[nm1] = -c[nm1] * d[nm1 - 1] * d[nm1 - 1] / (x[nm1] - x[nm1 - 3])
    for i in range(1, n):
        t = d[i - 1] / b[i - 1]
        b[i] = b[i] - t * d[i - 1]
        c[i] = c[i] - t * c[i - 1]
    c[nm1] = c[nm1] / b[nm1]
    for i in range(nm1 - 1, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[nm1] = (y[nm1] - y[nm1 - 1]) / d[nm1 - 1] + d[nm1 - 1] * (c[nm1 - 1] + 2.0 * c[nm1])
    for i in range(nm1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[nm1] = 3.0 * c[nm1]
    d[nm1] = d[nm1 - 1]
    return b, c, d


def _spline_eval(x, y, coef, u):
    b, c, d = coef
    i = np.clip(np.searchsorted(x, u, side="right") - 1, 0, len(x) - 1)
    dx = u - x[i]
    return y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))


def _glm_irls(p, wsum_r, coef1, sw2_1, devold):
    """Continue R's ``glm.fit`` IRLS for an intercept-only logistic model.

    The first iteration (per-observation starting values) is summarised by ``coef1``,
    ``sw2_1`` (its working-weight total) and ``devold`` (deviance at the starting values);
    later iterations have a constant linear predictor and reduce to Newton steps.  Returns
    the final coefficient and the working-weight total of the last iteration, which R uses
    for the model-based ("naive") variance.
    """
    def dev(mu):
        return -2 * wsum_r * (p * np.log(mu) + (1 - p) * np.log(1 - mu))

    coef, sw2 = coef1, sw2_1
    mu = expit(coef)
    d = dev(mu)
    if abs(d - devold) / (abs(d) + 0.1) < 1e-8:
        return coef, sw2
    devold = d
    for _ in range(2, 26):
        sw2 = wsum_r * mu * (1 - mu)
        coef = coef + (p - mu) / (mu * (1 - mu))
        mu = expit(coef)
        d = dev(mu)
        if abs(d - devold) / (abs(d) + 0.1) < 1e-8:
            break
        devold = d
    return coef, sw2


def _likelihood_ci(p, var, df, nrow, npos, coef1, sw2_1, devold, level):
    """Rao-Scott-scaled profile-likelihood interval of R's ``svyciprop(method="likelihood")``.

    Replicates ``svyglm(family = quasibinomial)`` + ``confint(method = "likelihood")``: IRLS
    fit, dispersion = design variance of the Pearson residuals, :math:`λ = V_{design} /
    V_{model}`, profile of the deviance on the ``MASS`` grid (up to 9 steps of ``zmax/5``
    standard errors each side), cubic (fmm) spline of the signed root deviance, linear
    inverse interpolation at :math:`\\pm t_{df}\\sqrt{λ}`.
    """
    if not (0 < p < 1) or not np.isfinite(var) or var <= 0 or df <= 0 or npos <= 1:
        return np.nan, np.nan
    wsum_r = nrow  # R rescales the weights to mean 1 over the rows of the (domain) design
    b0, sw2 = _glm_irls(p, wsum_r, coef1, sw2_1, devold)
    mu0 = expit(b0)
    q0 = mu0 * (1 - mu0)
    se = np.sqrt(var) / q0
    lam = se * se * sw2
    disp = npos / (npos - 1) * p * (1 - p) / q0
    alpha = stats.norm.cdf(stats.t.ppf((1 - level) / 2, df) * np.sqrt(lam)) / 2
    zmax = np.sqrt(stats.f.isf(alpha, 1, nrow - 1))
    delta = zmax / 5
    dev0 = -2 * wsum_r * (p * np.log(mu0) + (1 - p) * np.log(1 - mu0))

    def z_of(beta, sgn):
        mu = expit(beta)
        dv = -2 * wsum_r * (p * np.log(mu) + (1 - p) * np.log(1 - mu))
        zz = (dv - dev0) / disp
        zz = max(zz, 0.0)
        return sgn * np.sqrt(zz)

    zi, bi = [0.0], [b0]
    for sgn in (-1, 1):
        step, z = 0, 0.0
        while True:
            step += 1
            if not (step < 10 and abs(z) < zmax):
                break
            beta = b0 + sgn * step * delta * se
            z = z_of(beta, sgn)
            zi.append(z)
            bi.append(beta)
    order = np.argsort(zi, kind="stable")
    zi = np.asarray(zi)[order]
    bi = np.asarray(bi)[order]
    o2 = np.argsort(bi, kind="stable")
    xs, ys = bi[o2], zi[o2]
    coef = _fmm_spline(xs, ys)
    xout = np.linspace(xs[0], xs[-1], 3 * len(xs))
    yout = _spline_eval(xs, ys, coef, xout)
    o3 = np.argsort(yout, kind="stable")
    yy, xx = yout[o3], xout[o3]
    cut = stats.norm.ppf(2 * alpha)
    lo = np.interp(cut, yy, xx, left=np.nan, right=np.nan)
    hi = np.interp(-cut, yy, xx, left=np.nan, right=np.nan)
    return expit(lo), expit(hi)


def _qbeta(q, a, b):
    """Beta quantile; normal approximation where scipy fails (shapes ~1e15 and more)."""
    out = stats.beta.ppf(q, a, b)
    bad = ~np.isfinite(out) & np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    if np.any(bad):
        a_, b_ = np.broadcast_to(a, out.shape)[bad], np.broadcast_to(b, out.shape)[bad]
        m = a_ / (a_ + b_)
        sd = np.sqrt(a_ * b_ / ((a_ + b_) ** 2 * (a_ + b_ + 1)))
        out = np.array(out, float)
        out[bad] = m + stats.norm.ppf(q) * sd
    return out


def proportion_ci(p, var, df, nrow, method="logit", level=0.95, *, glm=None):
    """Confidence interval of a design-based proportion, as R's ``svyciprop``.

    Parameters
    ----------
    p, var : array-like
        Estimated proportion and its linearised variance.
    df : array-like
        Design degrees of freedom (number of PSUs minus number of strata, within the domain).
    nrow : array-like
        Number of observations of the (domain) design (used by ``beta`` and ``wilson``).
    method : str
        ``logit`` (default), ``xlogit`` (same interval), ``beta`` (Korn-Graubard),
        ``wilson``, ``likelihood``, ``asin`` (arcsine) or ``mean`` (plain Wald).
    level : float
        Confidence level.
    glm : dict of array-like, optional
        ``likelihood`` only: ``npos`` (observations with non-zero weight), ``coef1``,
        ``sw2_1``, ``devold`` (first IRLS iteration of R's ``glm.fit``).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Lower and upper limits, and a boolean array telling where the degenerate fallback
        (p = 0 or 1, or zero variance) was used.

    Notes
    -----
    With :math:`t = t_{df, 1-\\alpha/2}` and :math:`v` the variance of :math:`\\hat p`:

    * logit: :math:`\\mathrm{expit}(\\mathrm{logit}\\,\\hat p \\pm t\\sqrt{v}/(\\hat p(1-\\hat p)))`;
    * asin: :math:`\\sin^2(\\arcsin\\sqrt{\\hat p} \\pm t\\sqrt{v}/(2\\sqrt{\\hat p(1-\\hat p)}))`;
    * mean: :math:`\\hat p \\pm t\\sqrt v` (may leave [0, 1]);
    * beta (Korn & Graubard 1998): effective size
      :math:`n^* = \\hat p(1-\\hat p)/v \\cdot (t_{n-1}/t_{df})^2`, limits
      :math:`B^{-1}(\\alpha/2; n^*\\hat p, n^*(1-\\hat p)+1)` and
      :math:`B^{-1}(1-\\alpha/2; n^*\\hat p+1, n^*(1-\\hat p))`;
    * wilson (not in R's survey 4.1): Wilson score interval with the same :math:`n^*` and the
      normal quantile (Dean & Pagano 2015 "Wilson with effective sample size");
    * likelihood: R's Rao-Scott-scaled profile likelihood (see ``_likelihood_ci``).

    When :math:`\\hat p \\in \\{0, 1\\}` (zero variance), R returns NaN or a zero-width
    interval; here every method falls back to the Clopper-Pearson-type ``beta`` interval
    with :math:`n^* = n (t_{n-1}/t_{df})^2` so that the interval stays informative.

    References
    ----------
    Korn E.L., Graubard B.I. (1998) Survey Methodology 24:193-201.  Dean N., Pagano M.
    (2015) J. Surv. Stat. Methodol. 3:484-503.  R package survey, ``svyciprop``.
    """
    method = _CI_ALIASES.get(str(method).lower(), str(method).lower())
    if method not in CI_METHODS:
        raise EstimationError(
            f"Méthode d'intervalle de confiance « {method} » inconnue : attendu l'une de "
            f"{', '.join(CI_METHODS)}.")
    p = np.atleast_1d(np.asarray(p, float))
    shape = p.shape
    p = p.ravel()
    var = np.broadcast_to(np.asarray(var, float), shape).ravel().copy()
    df = np.broadcast_to(np.asarray(df, float), shape).ravel().copy()
    nrow = np.broadcast_to(np.asarray(nrow, float), shape).ravel().copy()
    a = 1 - level
    lo = np.full(p.shape, np.nan)
    hi = np.full(p.shape, np.nan)
    ok_df = df > 0
    with np.errstate(all="ignore"):
        t = np.where(ok_df, stats.t.ppf(1 - a / 2, np.where(ok_df, df, 1)), np.nan)
        degenerate = (p <= 0) | (p >= 1) | ~(var > 0)
        good = ~degenerate & np.isfinite(p)
        se = np.sqrt(var)
        ratio = np.where(ok_df & (nrow > 1),
                         stats.t.ppf(a / 2, np.maximum(nrow - 1, 1))
                         / stats.t.ppf(a / 2, np.where(ok_df, df, 1)), 1.0)
        if method in ("logit", "xlogit"):
            s = se / (p * (1 - p))
            lo = expit(logit(p) - t * s)
            hi = expit(logit(p) + t * s)
        elif method == "mean":
            lo = p - t * se
            hi = p + t * se
        elif method == "asin":
            s = se / (2 * np.sqrt(p * (1 - p)))
            ang = np.arcsin(np.sqrt(p))
            lo = np.sin(ang - t * s) ** 2
            hi = np.sin(ang + t * s) ** 2
        elif method in ("beta", "wilson"):
            neff = p * (1 - p) / var * ratio ** 2
            if method == "beta":
                lo = _qbeta(a / 2, neff * p, neff * (1 - p) + 1)
                hi = _qbeta(1 - a / 2, neff * p + 1, neff * (1 - p))
            else:
                z = stats.norm.ppf(1 - a / 2)
                den = 1 + z * z / neff
                centre = (p + z * z / (2 * neff)) / den
                half = z * np.sqrt(p * (1 - p) / neff + z * z / (4 * neff * neff)) / den
                lo, hi = centre - half, centre + half
        elif method == "likelihood":
            if glm is None:
                raise ValueError("likelihood intervals need the glm starting values")
            g = {k: np.broadcast_to(np.asarray(v, float), shape).ravel() for k, v in glm.items()}
            lo = np.full(p.shape, np.nan)
            hi = np.full(p.shape, np.nan)
            for i in np.flatnonzero(good & ok_df):
                lo[i], hi[i] = _likelihood_ci(p[i], var[i], df[i], nrow[i], g["npos"][i],
                                              g["coef1"][i], g["sw2_1"][i], g["devold"][i],
                                              level)
            # numerically flat profile (e.g. a proportion fixed by calibration, variance ~0):
            # the Wald interval on the logit scale, which R's profile converges to
            bad = good & ok_df & ~(np.isfinite(lo) & np.isfinite(hi))
            s = se / (p * (1 - p))
            lo = np.where(bad, expit(logit(p) - t * s), lo)
            hi = np.where(bad, expit(logit(p) + t * s), hi)
        lo = np.where(good & ok_df, lo, np.nan)
        hi = np.where(good & ok_df, hi, np.nan)
        # degenerate proportions: Korn-Graubard with the unweighted size
        dg = degenerate & np.isfinite(p) & (nrow > 0)
        if dg.any():
            neff = nrow[dg] * ratio[dg] ** 2
            pd_ = np.clip(p[dg], 0, 1)
            lo_d = np.where(pd_ <= 0, 0.0, stats.beta.ppf(a / 2, neff * pd_, neff * (1 - pd_) + 1))
            hi_d = np.where(pd_ >= 1, 1.0, stats.beta.ppf(1 - a / 2, neff * pd_ + 1, neff * (1 - pd_)))
            lo[dg] = lo_d
            hi[dg] = hi_d
    return lo.reshape(shape), hi.reshape(shape), degenerate.reshape(shape)


# ----------------------------------------------------------------------------------------
# Rao-Scott test
# ----------------------------------------------------------------------------------------

@dataclass
class ChisqResult:
    """Rao-Scott tests of independence in a two-way table (R's ``svychisq``).

    Attributes
    ----------
    chisq : float
        Pearson :math:`X^2` on the weighted table rescaled to the sample size.
    df : int
        :math:`(r-1)(c-1)`.
    chisq_adjusted, p_chisq : float
        First-order correction :math:`X^2/\\bar\\delta` and its :math:`\\chi^2_{df}` p-value
        (``statistic = "Chisq"``).
    F, df1, df2, p_F : float
        Second-order correction :math:`F = X^2/\\mathrm{tr}\\,\\Delta` on
        :math:`(d_0, d_0 \\nu)` degrees of freedom (``statistic = "F"``, R's default).
    mean_deff : float
        :math:`\\bar\\delta`, mean generalised design effect.
    table : pandas.DataFrame
        Estimated cell proportions.
    """

    chisq: float
    df: int
    chisq_adjusted: float
    p_chisq: float
    F: float
    df1: float
    df2: float
    p_F: float
    mean_deff: float
    table: pd.DataFrame

    @property
    def p_value(self) -> float:
        """p-value of the F version (R's default)."""
        return self.p_F

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("chisq", "df", "chisq_adjusted", "p_chisq", "F",
                                              "df1", "df2", "p_F", "mean_deff")}

    def __getitem__(self, key):
        return self.as_dict()[key]


# ----------------------------------------------------------------------------------------
# design
# ----------------------------------------------------------------------------------------

class Design:
    """A survey design: data, weights and optional strata, clusters and fpc (R ``svydesign``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    weights : None, str or array-like
        Sampling weights (column name or values); ``None`` gives equal weights of 1, or the
        weights of ``calibration`` when given.
    strata : str, optional
        Stratum column.
    cluster : str, optional
        First-stage cluster (PSU) column; by default each respondent is its own PSU.
    fpc : str or array-like, optional
        Finite population correction per stratum: population size (number of PSUs, values
        > 1) or sampling fraction (values ≤ 1), as in R.
    calibration : RakeResult, PostStratifyResult or Calibration, optional
        Result of :func:`diagnostics.weighting.rake` / ``poststratify`` on the same rows:
        its weights are used and variances are adjusted for calibration as R does for
        designs returned by ``rake`` / ``postStratify``.
    nest : bool
        Cluster ids are only unique within strata (R's ``nest = TRUE``).
    lonely_psu : {"fail", "certainty", "remove", "adjust", "average"}
        Strata with a single PSU (R's ``options(survey.lonely.psu)``); a stratum whose only
        PSU is taken with certainty (fpc = sample size) contributes zero, as in R.
    fragile_n, suppress_n : int
        Thresholds of the small-sample flags on the unweighted denominator.
    level : float
        Confidence level of the intervals.
    file : str, optional
        File name quoted in error messages.

    Notes
    -----
    Variance (first stage, R's ``svyrecvar`` / ``onestrat``) of a linear statistic with
    score :math:`z_i`: with PSU totals :math:`z_{hc}` in stratum :math:`h` of :math:`n_h`
    PSUs and sampling fraction :math:`f_h`,
    :math:`\\hat V = \\sum_h (1-f_h) \\frac{n_h}{n_h-1} \\sum_c (z_{hc} - \\bar z_h)^2`.
    Calibrated designs first replace scores by their residuals on the calibration
    variables (post-strata means; 10 back-fitting sweeps for raking), as R.
    """

    def __init__(self, data: pd.DataFrame, weights=None, strata=None, cluster=None, fpc=None,
                 *, calibration=None, nest: bool = False, lonely_psu: str = "fail",
                 fragile_n: int = 30, suppress_n: int = 10, level: float = 0.95, file=None):
        if not isinstance(data, pd.DataFrame):
            raise EstimationError("Les données d'un plan de sondage doivent être un tableau "
                                  "(DataFrame).")
        if len(data) == 0:
            raise EstimationError(f"{where(file)}aucune réponse : impossible de construire un "
                                  "plan de sondage sur un tableau vide.")
        if lonely_psu not in ("fail", "certainty", "remove", "adjust", "average"):
            raise EstimationError(
                f"Option lonely_psu « {lonely_psu} » inconnue : attendu fail, certainty, "
                "remove, adjust ou average.")
        self.data = data
        self.file = file
        self.n = n = len(data)
        self.fragile_n = fragile_n
        self.suppress_n = suppress_n
        self.level = level
        self.lonely_psu = lonely_psu
        self.strata_col, self.cluster_col = strata, cluster

        cal = getattr(calibration, "calibration", calibration)
        if cal is not None and not isinstance(cal, Calibration):
            raise EstimationError("L'argument calibration doit être le résultat de rake() ou "
                                  "de poststratify().")
        self.calibration = cal
        if weights is None:
            w = np.ones(n) if cal is None else np.asarray(cal.weights, float)
            wname = "poids"
        elif isinstance(weights, str):
            if weights not in data.columns:
                raise EstimationError(f"{where(file, None, weights)}colonne de poids absente.")
            w = pd.to_numeric(data[weights], errors="coerce").to_numpy(float)
            wname = weights
        else:
            w = np.asarray(weights.reindex(data.index) if isinstance(weights, pd.Series)
                           else weights, float)
            wname = "poids"
        if w.shape != (n,):
            raise EstimationError(f"Les poids ont {w.size} valeurs pour {n} répondants : "
                                  "attendu une valeur par répondant.")
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise EstimationError(f"{where(file, i + 2, wname)}poids « {w[i]} » invalide : "
                                  "attendu un nombre positif.")
        self.w = w

        # strata
        if strata is None:
            h = np.zeros(n, dtype=np.int64)
            self.strata_labels = np.array([OVERALL], dtype=object)
        else:
            col = self._column(strata)
            if col.isna().any():
                i = int(np.flatnonzero(col.isna().to_numpy())[0])
                raise EstimationError(f"{where(file, i + 2, strata)}strate manquante : attendu "
                                      "une valeur pour chaque répondant.")
            h, self.strata_labels = pd.factorize(col, sort=True)
        # clusters
        if cluster is None:
            c = np.arange(n)
        else:
            col = self._column(cluster)
            if col.isna().any():
                i = int(np.flatnonzero(col.isna().to_numpy())[0])
                raise EstimationError(f"{where(file, i + 2, cluster)}unité primaire (grappe) "
                                      "manquante : attendu une valeur pour chaque répondant.")
            if nest:
                key = pd.MultiIndex.from_arrays([h, col.to_numpy()])
                c, _ = pd.factorize(key, sort=True)
            else:
                c, _ = pd.factorize(col, sort=True)
                hs = pd.Series(h).groupby(c).nunique()
                if (hs > 1).any():
                    raise EstimationError(
                        f"{where(file, None, cluster)}la grappe « {_[int(hs.idxmax())]} » "
                        "appartient à plusieurs strates : attendu des grappes emboîtées dans "
                        "les strates (ou nest=True).")
        c = np.asarray(c, dtype=np.int64)
        self.h = np.asarray(h, dtype=np.int64)
        self.c = c
        self.n_strata = H = int(self.h.max()) + 1
        self.n_psu = C = int(c.max()) + 1
        psu_h = np.zeros(C, dtype=np.int64)
        psu_h[c] = self.h
        self.psu_h = psu_h
        nh = np.bincount(psu_h, minlength=H).astype(float)
        self.nh = nh
        # fpc
        if fpc is None:
            f = np.ones(H)
        else:
            vals = self._column(fpc) if isinstance(fpc, str) else pd.Series(np.asarray(fpc, float))
            vals = pd.to_numeric(vals, errors="coerce").to_numpy(float)
            if np.isnan(vals).any():
                i = int(np.flatnonzero(np.isnan(vals))[0])
                raise EstimationError(f"{where(file, i + 2, fpc if isinstance(fpc, str) else 'fpc')}"
                                      "correction de population finie manquante.")
            popsize = vals if (vals > 1).any() else nh[self.h] / vals
            if ((vals > 1).any() and (vals < 1).any()):
                raise EstimationError("Correction de population finie incohérente : attendu "
                                      "soit des tailles de population (> 1), soit des taux de "
                                      "sondage (≤ 1), pas un mélange.")
            pop_h = pd.Series(popsize).groupby(self.h).first().reindex(range(H)).to_numpy()
            if (pop_h < nh).any():
                k = int(np.flatnonzero(pop_h < nh)[0])
                raise EstimationError(
                    f"Correction de population finie : la strate « {self.strata_labels[k]} » "
                    f"compte {int(nh[k])} unités primaires tirées pour une population de "
                    f"{pop_h[k]:g} : attendu une population au moins égale à l'échantillon.")
            f = np.where(np.isinf(pop_h), 1.0, (pop_h - nh) / pop_h)
        self.f = f
        scale = np.where(nh > 1, f * nh / np.maximum(nh - 1, 1), f)
        scale = np.where(f < 1e-7, 0.0, scale)
        self.scale = scale
        self.lonely = (nh == 1) & (f >= 1e-7)
        # centring weight per stratum (0: no centring, R's lonely "adjust")
        cw = 1.0 / nh
        if lonely_psu == "adjust":
            cw = np.where(self.lonely, 0.0, cw)
        self.cw = cw
        self.P = _csr(c, np.arange(n), (C, n))           # PSU × respondent
        self.HS = _csr(psu_h, np.arange(C), (H, C))       # stratum × PSU
        pos = w > 0
        self.degf = int(len(np.unique(c[pos])) - len(np.unique(self.h[pos])))
        self._cal_groups = None
        if cal is not None:
            if len(cal.weights) != n:
                raise EstimationError("Le calage ne porte pas sur les mêmes répondants que le "
                                      "plan de sondage.")
            self._cal_groups = [(_csr(g, np.arange(n), (int(g.max()) + 1, n)),
                                 np.bincount(g).astype(float)) for g in cal.groups]

    # ------------------------------------------------------------------ helpers
    def _column(self, name) -> pd.Series:
        if name not in self.data.columns:
            raise EstimationError(f"{where(self.file, None, name)}colonne absente des réponses.")
        return self.data[name]

    @property
    def calibrated(self) -> bool:
        return self.calibration is not None

    def _domains(self, by):
        """Integer domain code per row (−1: in no domain) and labels."""
        if by is None:
            return np.zeros(self.n, dtype=np.int64), [OVERALL]
        cols = [by] if isinstance(by, str) else list(by)
        frame = pd.DataFrame({c: self._column(c) for c in cols})
        if len(cols) == 1:
            codes, labels = pd.factorize(frame[cols[0]], sort=True)
            labels = list(labels)
        else:
            ok = frame.notna().all(axis=1).to_numpy()
            key = frame.astype(str).agg(" / ".join, axis=1).where(ok)
            codes, labels = pd.factorize(key, sort=True)
            labels = list(labels)
        return np.asarray(codes, dtype=np.int64), labels

    def _lonely_check(self, strata_with_scores):
        if self.lonely_psu != "fail":
            return
        bad = np.flatnonzero(self.lonely & strata_with_scores)
        if bad.size:
            raise EstimationError(
                f"La strate « {self.strata_labels[bad[0]]} » ne contient qu'une seule unité "
                "primaire : variance non estimable (regroupez des strates ou choisissez "
                "lonely_psu='adjust', 'certainty' ou 'average').")

    def _calibrate(self, S):
        """Residualise row scores on the calibration variables (R ``svyrecvar``)."""
        cal = self.calibration
        if cal is None:
            return S
        psw = np.asarray(cal.weights, float)
        if cal.kind == "poststrata":
            (G, _), = self._cal_groups
            oldw = np.asarray(cal.oldweights, float)
            psw = np.where((psw == 0) & (oldw == 0), 1.0, psw)
            num = G @ (S * (oldw / psw)[:, None])
            den = G @ oldw
            means = num / den[:, None]
            return S - (G.T @ means) * psw[:, None]
        for _ in range(10):
            for G, cnt in self._cal_groups:
                ave = (G @ (S / psw[:, None])) / cnt[:, None]
                S = S - psw[:, None] * (G.T @ ave)
        return S

    def _var_from_scores(self, S, cov=False):
        """Linearised variance (diagonal or full matrix) of row scores S (n × K)."""
        S = self._calibrate(np.asarray(S, float))
        Z = self.P @ S
        self._lonely_check(np.asarray(self.HS @ (np.abs(Z) > 0).astype(float)).sum(axis=1) > 0)
        m = (self.HS @ Z) * self.cw[:, None]
        D = Z - m[self.psu_h]
        s = self.scale[self.psu_h]
        if self.lonely_psu == "average":
            s = np.where(self.lonely[self.psu_h], np.nan, s)
        if cov:
            V = D.T @ (D * np.nan_to_num(s)[:, None])
        else:
            V = np.nansum(D * D * s[:, None], axis=0)
        if self.lonely_psu == "average" and self.lonely.any():
            H = self.n_strata
            V = V * H / (H - self.lonely.sum())
        return V

    # ------------------------------------------------------------------ core engine
    def _linear(self, kind, Y, M, dom, n_dom, X=None):
        """Estimates, variances and counts of linear statistics in every domain.

        Y, M, X are (n × V) arrays: values, validity mask, denominators (ratio).  Returns a
        dict of (n_dom × V) arrays: theta, var, n, wsum, degf, nrow, deff.
        """
        Y = np.where(M, Y, 0.0)
        if X is not None:
            X = np.where(M, X, 0.0)
        if self.calibrated:
            return self._linear_rows(kind, Y, M, dom, n_dom, X)
        return self._linear_pairs(kind, Y, M, dom, n_dom, X)

    def _linear_pairs(self, kind, Y, M, dom, n_dom, X):
        n, V = Y.shape
        rows = np.flatnonzero(dom >= 0)
        d_r = dom[rows]
        key = self.c[rows] * n_dom + d_r
        pair_keys, pair_idx = np.unique(key, return_inverse=True)
        n_pairs = len(pair_keys)
        G = _csr(pair_idx, np.arange(len(rows)), (n_pairs, len(rows)))
        pair_dom = pair_keys % n_dom
        pair_h = self.psu_h[pair_keys // n_dom]
        Dp = _csr(pair_dom, np.arange(n_pairs), (n_dom, n_pairs))
        hd_keys, hd_idx = np.unique(pair_h * n_dom + pair_dom, return_inverse=True)
        n_hd = len(hd_keys)
        hd_h, hd_dom = hd_keys // n_dom, hd_keys % n_dom
        HD = _csr(hd_idx, np.arange(n_pairs), (n_hd, n_pairs))
        Dhd = _csr(hd_dom, np.arange(n_hd), (n_dom, n_hd))
        k_hd = np.bincount(hd_idx, minlength=n_hd).astype(float)
        s_pair = self.scale[pair_h]
        s_hd = self.scale[hd_h]
        cw_hd = self.cw[hd_h]
        pad_hd = self.nh[hd_h] - k_hd
        w = self.w[rows]
        out = {k: np.empty((n_dom, V)) for k in ("theta", "var", "n", "wsum", "degf", "nrow",
                                                 "deff")}
        chunk = max(1, _CHUNK_CELLS // max(n_pairs, len(rows)))
        lonely_pairs = self.lonely[pair_h] if self.lonely_psu == "fail" else None
        for j0 in range(0, V, chunk):
            sl = slice(j0, min(V, j0 + chunk))
            y = Y[rows, sl]
            m = M[rows, sl]
            wm = w[:, None] * m
            Nw = Dp @ (G @ wm)
            A = G @ (wm * y)
            if kind == "ratio":
                x = X[rows, sl]
                B = G @ (wm * x)
            elif kind == "mean":
                B = G @ wm
            Asum = Dp @ A
            with np.errstate(divide="ignore", invalid="ignore"):
                if kind == "total":
                    theta = Asum
                    Z = A
                else:
                    Bsum = Dp @ B
                    theta = Asum / Bsum
                    Z = (A - theta[pair_dom] * B) / Bsum[pair_dom]
            Z = np.nan_to_num(Z)
            if lonely_pairs is not None and lonely_pairs.any():
                hit = np.zeros(self.n_strata, bool)
                hit[pair_h[lonely_pairs & (np.abs(Z) > 0).any(axis=1)]] = True
                self._lonely_check(hit)
            mean_hd = (HD @ Z) * cw_hd[:, None]
            dev = Z - mean_hd[hd_idx]
            var = Dp @ (s_pair[:, None] * dev * dev) + Dhd @ ((s_hd * pad_hd)[:, None]
                                                              * mean_hd * mean_hd)
            if self.lonely_psu == "average" and self.lonely.any():
                H = self.n_strata
                var = var * H / (H - self.lonely.sum())
            pos = m & (w[:, None] > 0)
            cnt = G @ pos.astype(float)
            nobs = Dp @ cnt
            npsu = Dp @ (cnt > 0).astype(float)
            nstr = Dhd @ ((HD @ cnt) > 0).astype(float)
            # deff ingredients (svyvar): residuals e_i
            with np.errstate(divide="ignore", invalid="ignore"):
                if kind == "mean":
                    e = y - theta[d_r]
                    kfac = 1.0
                elif kind == "total":
                    e = y - (theta / Nw)[d_r]
                    kfac = Nw ** 2
                else:
                    e = (y - theta[d_r] * x) / Bsum[d_r]
                    kfac = Nw ** 2
                ss = Dp @ (G @ (wm * e * e))
                if kind == "ratio":  # svyvar centres r at its weighted mean (zero here)
                    em = Dp @ (G @ (wm * e))
                    ss = ss - em * em / Nw
                s2 = nobs / (nobs - 1) * ss / Nw
                vsrs = s2 * kfac * (Nw - nobs) / (Nw * nobs)
                deff = var / vsrs
                if kind == "mean":
                    deff = np.where(Nw < nobs, np.nan, deff)
            out["theta"][:, sl] = theta
            out["var"][:, sl] = var
            out["n"][:, sl] = nobs
            out["wsum"][:, sl] = Nw
            out["degf"][:, sl] = npsu - nstr
            out["nrow"][:, sl] = Dp @ (G @ m.astype(float))
            out["deff"][:, sl] = deff
        return out

    def _linear_rows(self, kind, Y, M, dom, n_dom, X):
        """Row-level path (calibrated designs): explicit n × V scores per domain."""
        n, V = Y.shape
        out = {k: np.empty((n_dom, V)) for k in ("theta", "var", "n", "wsum", "degf", "nrow",
                                                 "deff")}
        w = self.w
        for d in range(n_dom):
            ind = (dom == d)[:, None] & M
            wm = w[:, None] * ind
            Nw = wm.sum(axis=0)
            Asum = (wm * Y).sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                if kind == "total":
                    theta = Asum
                    S = wm * Y
                    e = np.where(ind, Y - theta / Nw, 0.0)
                    kfac = Nw ** 2
                elif kind == "mean":
                    theta = Asum / Nw
                    S = wm * (Y - theta) / Nw
                    e = np.where(ind, Y - theta, 0.0)
                    kfac = 1.0
                else:
                    Bsum = (wm * X).sum(axis=0)
                    theta = Asum / Bsum
                    e = np.where(ind, (Y - theta * X) / Bsum, 0.0)
                    S = wm * e
                    kfac = Nw ** 2
            S = np.nan_to_num(S)
            var = self._var_from_scores(S)
            pos = ind & (w[:, None] > 0)
            nobs = pos.sum(axis=0).astype(float)
            ss = (wm * e * e).sum(axis=0)
            if kind == "ratio":
                em = (wm * e).sum(axis=0)
                ss = ss - em * em / Nw
            with np.errstate(divide="ignore", invalid="ignore"):
                s2 = nobs / (nobs - 1) * ss / Nw
                vsrs = s2 * kfac * (Nw - nobs) / (Nw * nobs)
                deff = var / vsrs
                if kind == "mean":
                    deff = np.where(Nw < nobs, np.nan, deff)
            npsu = np.array([len(np.unique(self.c[pos[:, j]])) for j in range(V)], float)
            nstr = np.array([len(np.unique(self.h[pos[:, j]])) for j in range(V)], float)
            out["theta"][d] = theta
            out["var"][d] = var
            out["n"][d] = nobs
            out["wsum"][d] = Nw
            out["degf"][d] = npsu - nstr
            out["nrow"][d] = n  # R keeps every row (zero weight) when subsetting a calibrated design
            out["deff"][d] = deff
        return out

    # ------------------------------------------------------------------ result table
    def _table(self, res, labels, variables, levels, method, ci=None, extra_cols=None):
        n_dom, V = res["theta"].shape
        est = res["theta"]
        se = np.sqrt(np.maximum(res["var"], 0))
        if ci is None:
            z = stats.norm.ppf(1 - (1 - self.level) / 2)
            lo, hi = est - z * se, est + z * se
        else:
            lo, hi = ci
        nn = res["n"].astype(np.int64)
        frame = pd.DataFrame({
            "domain": np.repeat(np.asarray(labels, dtype=object), V),
            "variable": np.tile(np.asarray(variables, dtype=object), n_dom),
            "level": np.tile(np.asarray(levels, dtype=object), n_dom),
            "estimate": est.ravel(), "se": se.ravel(),
            "ci_low": np.asarray(lo).ravel(), "ci_high": np.asarray(hi).ravel(),
            "n": nn.ravel(), "deff": res["deff"].ravel(),
        })
        frame["fragile"] = frame["n"] < self.fragile_n
        frame["suppressed"] = frame["n"] < self.suppress_n
        frame["method"] = method if isinstance(method, str) else np.asarray(method).ravel()
        frame["df"] = res["degf"].ravel().astype(np.int64)
        for k, v in (extra_cols or {}).items():
            frame[k] = np.asarray(v).ravel()
        return frame

    def _numeric(self, var):
        col = self._column(var)
        x = pd.to_numeric(col, errors="coerce")
        bad = x.isna() & col.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise EstimationError(f"{where(self.file, i + 2, var)}valeur « {col.iloc[i]} » non "
                                  "numérique : attendu un nombre.")
        return x.to_numpy(float)

    # ------------------------------------------------------------------ estimators
    def mean(self, variables, by=None) -> pd.DataFrame:
        """Weighted means with linearised SE, normal CI and design effect (R ``svymean``).

        Parameters
        ----------
        variables : str or list of str
            Numeric columns; missing values are excluded variable by variable (domain
            estimation, as ``na.rm = TRUE``).
        by : str or list of str, optional
            Domain column(s), estimated on the full design as ``svyby``.

        Returns
        -------
        pandas.DataFrame
            Tidy table (see module docstring).

        Notes
        -----
        :math:`\\hat\\mu = \\sum w_i y_i / \\sum w_i`, score
        :math:`z_i = w_i (y_i - \\hat\\mu)/\\sum w_j`; deff against simple random sampling
        without replacement :math:`\\hat V / (s^2_w (\\hat N - n)/(\\hat N n))`.
        """
        return self._simple("mean", variables, by, "moyenne (linéarisation)")

    def total(self, variables, by=None) -> pd.DataFrame:
        """Weighted totals :math:`\\sum w_i y_i` with linearised SE (R ``svytotal``)."""
        return self._simple("total", variables, by, "total (linéarisation)")

    def _simple(self, kind, variables, by, method):
        variables = [variables] if isinstance(variables, str) else list(variables)
        Y = np.column_stack([self._numeric(v) for v in variables])
        M = ~np.isnan(Y)
        dom, labels = self._domains(by)
        res = self._linear(kind, Y, M, dom, len(labels))
        return self._table(res, labels, variables, [""] * len(variables), method)

    def ratio(self, numerator, denominator, by=None) -> pd.DataFrame:
        """Ratio of totals :math:`\\hat R = \\sum w y / \\sum w x` (R ``svyratio``).

        Notes
        -----
        Score :math:`z_i = w_i (y_i - \\hat R x_i) / \\sum w_j x_j`; rows where either value
        is missing are excluded.
        """
        nums = [numerator] if isinstance(numerator, str) else list(numerator)
        dens = [denominator] if isinstance(denominator, str) else list(denominator)
        if len(dens) == 1:
            dens = dens * len(nums)
        Y = np.column_stack([self._numeric(v) for v in nums])
        X = np.column_stack([self._numeric(v) for v in dens])
        M = ~np.isnan(Y) & ~np.isnan(X)
        dom, labels = self._domains(by)
        res = self._linear("ratio", Y, M, dom, len(labels), X=X)
        names = [f"{a}/{b}" for a, b in zip(nums, dens)]
        return self._table(res, labels, names, [""] * len(names), "ratio (linéarisation)")

    def _categorical(self, var, missing, keep_missing, levels):
        col = self._column(var)
        tokens = {_norm_token(t) for t in (missing or ())}
        notna = col.notna().to_numpy()
        numeric = pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(
            col.dtype)
        if numeric:
            values = col.to_numpy(float)
            is_tok = np.zeros(self.n, bool)
            all_levels = list(np.unique(values[notna]))
        else:
            values = col.to_numpy(dtype=object)
            uniq = pd.unique(col[notna])
            tok = {u: _norm_token(u) in tokens for u in uniq}
            is_tok = col.map(tok).fillna(False).to_numpy(bool) & notna
            if isinstance(col.dtype, pd.CategoricalDtype):
                all_levels = list(col.cat.categories)
            else:
                all_levels = sorted(uniq, key=lambda v: (str(type(v)), v))
        if not keep_missing:
            all_levels = [lv for lv in all_levels if _norm_token(lv) not in tokens]
            valid = notna & ~is_tok
        else:
            valid = notna
        if levels is not None:
            levels = [levels] if np.isscalar(levels) or isinstance(levels, str) else list(levels)
            known = set(all_levels)
            unknown = [lv for lv in levels if lv not in known and not (values == lv).any()]
            if unknown:
                raise EstimationError(f"{where(self.file, None, var)}modalité « {unknown[0]} » "
                                      f"absente : attendu l'une de "
                                      f"{', '.join(map(str, all_levels))}.")
            all_levels = levels
        Y = np.empty((self.n, len(all_levels)))
        for j, lv in enumerate(all_levels):
            Y[:, j] = (values == lv) & valid
        return all_levels, Y, valid, notna & ~valid, ~notna

    def proportion(self, variables, ci_method: str = "logit", missing=MISSING_DEFAULT,
                   keep_missing: bool = False, by=None, levels=None) -> pd.DataFrame:
        """Proportion of each category of categorical variable(s), with its CI (``svyciprop``).

        Parameters
        ----------
        variables : str or list of str
            Categorical (or 0/1) columns.
        ci_method : str
            ``logit`` (default, as R), ``beta`` (Korn-Graubard), ``wilson``, ``likelihood``,
            ``asin``, ``xlogit`` or ``mean`` (Wald); see :func:`proportion_ci`.
        missing : sequence of str
            Answers treated as missing (compared case- and accent-insensitively), default
            "ne sait pas" and "refus"; empty cells are always missing.
        keep_missing : bool
            If True the ``missing`` answers are categories kept in the denominator.
        by : str or list of str, optional
            Domain column(s).
        levels : scalar or list, optional
            Only report these categories (e.g. ``1`` or ``"Oui"`` for indicators).

        Returns
        -------
        pandas.DataFrame
            Tidy table; ``n`` is the unweighted denominator (valid answers in the domain),
            ``numerator`` the unweighted count of the category, ``n_missing`` the
            "ne sait pas"/"refus" answers and ``n_na`` the empty cells left out of ``n``.

        Notes
        -----
        A proportion is the mean of the indicator :math:`1[y_i = k]` over the domain of valid
        answers (domain estimation on the full design, degrees of freedom = PSUs minus strata
        with at least one valid answer in the domain, as ``degf`` of R's subset design).
        """
        variables = [variables] if isinstance(variables, str) else list(variables)
        Ys, Ms, names, lvls, miss, nas = [], [], [], [], [], []
        for v in variables:
            lv, Y, valid, is_miss, is_na = self._categorical(v, missing, keep_missing, levels)
            Ys.append(Y)
            Ms.append(np.repeat(valid[:, None], len(lv), axis=1))
            names += [v] * len(lv)
            lvls += list(lv)
            miss.append(np.repeat(is_miss[:, None], len(lv), axis=1))
            nas.append(np.repeat(is_na[:, None], len(lv), axis=1))
        Y = np.hstack(Ys)
        M = np.hstack(Ms)
        return self._proportion_table(Y, M, np.hstack(miss), np.hstack(nas), names, lvls,
                                      ci_method, by)

    def _proportion_table(self, Y, M, MISS, NA, names, lvls, ci_method, by):
        dom, labels = self._domains(by)
        n_dom = len(labels)
        meth = _CI_ALIASES.get(str(ci_method).lower(), str(ci_method).lower())
        res = self._linear("mean", Y, M, dom, n_dom)
        p = res["theta"]
        kw = {}
        if meth == "likelihood":
            kw["glm"] = self._glm_start(Y, M, dom, res)
        lo, hi, deg = proportion_ci(p, res["var"], res["degf"], res["nrow"], meth, self.level,
                                    **kw)
        method = np.where(deg, "beta (repli : p = 0 ou 1)", meth)
        Dr = _csr(dom[dom >= 0], np.flatnonzero(dom >= 0), (n_dom, self.n))
        pos = self.w > 0
        numer = Dr @ (Y * pos[:, None])
        n_miss = Dr @ MISS.astype(float)
        n_na = Dr @ NA.astype(float)
        return self._table(res, labels, names, lvls, method, ci=(lo, hi),
                           extra_cols={"numerator": numer.astype(np.int64),
                                       "n_missing": n_miss.astype(np.int64),
                                       "n_na": n_na.astype(np.int64)})

    def _glm_start(self, Y, M, dom, res):
        """First IRLS iteration of R's ``glm.fit`` (binomial starting values) per domain."""
        rows = np.flatnonzero(dom >= 0)
        d_r = dom[rows]
        m = M[rows] & (self.w[rows, None] > 0)
        y = Y[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            c = res["wsum"] / res["nrow"]              # mean weight of the (domain) design
            wr = self.w[rows, None] / c[d_r]
            mu = (wr * y + 0.5) / (wr + 1)
            eta = logit(mu)
            q = mu * (1 - mu)
            w2 = np.where(m, wr * q, 0.0)
            z = eta + (y - mu) / q
            ll = np.where(m, -2 * wr * (y * np.log(mu) + (1 - y) * np.log(1 - mu)), 0.0)
            Dr = _csr(d_r, np.arange(len(rows)), (len(res["theta"]), len(rows)))
            sw2 = Dr @ w2
            coef1 = (Dr @ np.where(m, w2 * z, 0.0)) / sw2
            devold = Dr @ ll
        return {"npos": res["n"], "coef1": coef1, "sw2_1": sw2, "devold": devold}

    def multiple_choice(self, option_columns, answered=None, ci_method: str = "logit",
                        by=None, question=None) -> pd.DataFrame:
        """Proportions of a multiple-choice question, over respondents who answered it.

        Parameters
        ----------
        option_columns : list of str
            0/1 columns, one per option (``{question}_{code}``).
        answered : None, str or array-like of bool
            Who answered the question: a column name, a boolean mask, or ``None`` for "at
            least one option column is filled in".
        ci_method, by : see :meth:`proportion`.
        question : str, optional
            Name reported in ``variable`` (default: common prefix of the option columns).

        Returns
        -------
        pandas.DataFrame
            One row per option (``level`` = option column); ``n`` is the number of
            respondents who answered the question in the domain; ``n_missing`` those who
            did not.

        Notes
        -----
        Each option is a proportion :math:`\\sum w_i y_{ik} / \\sum_{i\\ answered} w_i`;
        options do not sum to 1.
        """
        cols = list(option_columns)
        vals = np.column_stack([self._numeric(c) for c in cols])
        if answered is None:
            ans = ~np.isnan(vals).all(axis=1)
        elif isinstance(answered, str):
            ans = self._column(answered).fillna(False).astype(bool).to_numpy()
        else:
            ans = np.asarray(answered, bool)
        bad = ~np.isin(np.nan_to_num(vals, nan=0.0), (0.0, 1.0))
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise EstimationError(f"{where(self.file, i + 2, cols[j])}valeur « {vals[i, j]:g} »"
                                  " : attendu 0 ou 1 pour une option de question à choix "
                                  "multiples.")
        if question is None:
            import os.path
            question = os.path.commonprefix(cols).rstrip("_") or "choix_multiples"
        Y = np.nan_to_num(vals) * ans[:, None]
        K = len(cols)
        M = np.repeat(ans[:, None], K, axis=1)
        MISS = np.repeat((~ans)[:, None], K, axis=1)
        return self._proportion_table(Y, M, MISS, np.zeros_like(MISS), [question] * K, cols,
                                      ci_method, by)

    def by(self, domain):
        """A view whose estimators all use ``by=domain`` (``d.by("quartier").mean("x")``)."""
        return _ByView(self, domain)

    def chisq(self, var1, var2, missing=MISSING_DEFAULT) -> ChisqResult:
        """Rao-Scott corrected Pearson test of independence (R ``svychisq``).

        Parameters
        ----------
        var1, var2 : str
            Categorical columns.
        missing : sequence of str
            Answers excluded (with empty cells) from the table, as in :meth:`proportion`.

        Returns
        -------
        ChisqResult

        Notes
        -----
        :math:`X^2 = n \\sum_{jk} (\\hat p_{jk} - \\hat p_{j+}\\hat p_{+k})^2 /
        (\\hat p_{j+}\\hat p_{+k})` with :math:`n` the number of rows of the data.  With
        :math:`C` the contrasts of the interaction space, :math:`D = \\mathrm{diag}(\\hat p)`,
        :math:`\\Delta = (C^T D^{-1} C / n)^{-1} C^T D^{-1} V D^{-1} C`:
        ``F`` :math:`= X^2/\\mathrm{tr}\\Delta \\sim F(d_0, d_0\\nu)`,
        :math:`d_0 = (\\mathrm{tr}\\Delta)^2/\\mathrm{tr}\\Delta^2`, :math:`\\nu` = PSUs −
        strata; first order :math:`X^2/\\bar\\delta \\sim \\chi^2_{(r-1)(c-1)}`.

        References
        ----------
        Rao J.N.K., Scott A.J. (1984) Ann. Stat. 12:46-60; R package survey, ``svychisq``.
        """
        a = self._column(var1)
        b = self._column(var2)
        tokens = {_norm_token(t) for t in (missing or ())}

        def valid(s):
            return s.notna().to_numpy() & ~s.map(
                lambda v: _norm_token(v) in tokens if pd.notna(v) else False).to_numpy()
        ok = valid(a) & valid(b)
        ra, la = pd.factorize(a.where(ok), sort=True)
        rb, lb = pd.factorize(b.where(ok), sort=True)
        nr, nc = len(la), len(lb)
        if nr < 2 or nc < 2:
            raise EstimationError(
                f"Test du khi-deux impossible : « {var1} » et « {var2} » doivent avoir au "
                "moins deux modalités observées chacune.")
        K = nr * nc
        cell = np.where(ok, ra + nr * rb, -1)
        Y = np.zeros((self.n, K))
        Y[np.flatnonzero(ok), cell[ok]] = 1.0
        w = self.w * ok
        W = w.sum()
        p = (w @ Y) / W
        S = w[:, None] * (Y - p) / W
        V = self._var_from_scores(S, cov=True)
        N = self.n
        P = p.reshape(nc, nr).T
        pr, pc = P.sum(axis=1), P.sum(axis=0)
        E = np.outer(pr, pc)
        with np.errstate(divide="ignore", invalid="ignore"):
            X2 = float(N * np.nansum((P - E) ** 2 / E))
        # design matrices over cells (rows vary fastest, as R's expand.grid)
        rr = np.tile(np.arange(nr), nc)
        cc = np.repeat(np.arange(nc), nr)
        X1 = np.column_stack([np.ones(K)] + [(rr == i).astype(float) for i in range(1, nr)]
                             + [(cc == j).astype(float) for j in range(1, nc)])
        X12 = np.column_stack([((rr == i) & (cc == j)).astype(float)
                               for j in range(1, nc) for i in range(1, nr)])
        Cm = X12 - X1 @ np.linalg.lstsq(X1, X12, rcond=None)[0]
        iD = np.diag(np.where(p == 0, 0.0, 1.0 / np.where(p == 0, 1, p)))
        denom = Cm.T @ (iD / N) @ Cm
        numr = Cm.T @ iD @ V @ iD @ Cm
        Delta = np.linalg.solve(denom, numr)
        tr = float(np.trace(Delta))
        tr2 = float(np.trace(Delta @ Delta))
        d0 = tr * tr / tr2
        nu = self.degf
        F = X2 / tr
        dfc = (nr - 1) * (nc - 1)
        mean_delta = tr / Delta.shape[0]
        table = pd.DataFrame(P, index=pd.Index(la, name=var1), columns=pd.Index(lb, name=var2))
        return ChisqResult(chisq=X2, df=dfc, chisq_adjusted=X2 / mean_delta,
                           p_chisq=float(stats.chi2.sf(X2 / mean_delta, dfc)), F=F, df1=d0,
                           df2=d0 * nu, p_F=float(stats.f.sf(F, d0, d0 * nu)),
                           mean_deff=mean_delta, table=table)


class _ByView:
    """Estimators of a :class:`Design` restricted to a fixed ``by``."""

    def __init__(self, design: Design, domain):
        self._d = design
        self._by = domain

    def mean(self, variables):
        return self._d.mean(variables, by=self._by)

    def total(self, variables):
        return self._d.total(variables, by=self._by)

    def ratio(self, numerator, denominator):
        return self._d.ratio(numerator, denominator, by=self._by)

    def proportion(self, variables, **kw):
        return self._d.proportion(variables, by=self._by, **kw)

    def multiple_choice(self, option_columns, **kw):
        return self._d.multiple_choice(option_columns, by=self._by, **kw)
