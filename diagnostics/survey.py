"""Design-based estimation (weights, strata, clusters, fpc) agreeing with R's ``survey``.

Build the design once, then ask it questions::

    d = Design(df, weights="poids", strata="quartier")
    d.proportion("renoncement_soins", by="quartier")        # tidy DataFrame
    d.mean(["score_who5"], by="sexe")
    d.chisq("renoncement_soins", "quartier")                  # Rao-Scott

Every estimator returns one tidy table with the columns ``domain, variable, level, estimate,
se, ci_low, ci_high, n, deff, fragile, suppressed, method, df, conf_level`` (plus
``numerator``, ``n_missing`` and ``n_na`` for proportions).  Variances are Taylor
linearisation as R's ``svyrecvar`` (first stage, plus later stages when every stage has an
fpc); domains are estimated on the full design as ``svyby``
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

import os
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components
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
_THREADS = max(1, min(4, os.cpu_count() or 1))   # column blocks estimated in parallel
_MIN_ROWS_PER_THREAD = 20_000   # below this, one thread
_FILL_ROWS = 1024   # rows of a block turned from column-major into row-major at once
_BLOCK_BYTES = 2 ** 20   # size of a (pairs × K) block processed at once (about the L2 cache)
_MIN_BLOCK = 64   # pairs of a block at least


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


def _likelihood_ci(p, var, df, nrow, npos, coef1, sw2_1, devold, conf_level):
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
    alpha = stats.norm.cdf(stats.t.ppf((1 - conf_level) / 2, df) * np.sqrt(lam)) / 2
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


def proportion_ci(p, var, df, nrow, method="logit", conf_level=0.95, *, glm=None):
    """Confidence interval of a design-based proportion, as R's ``svyciprop``.

    Parameters
    ----------
    p, var : array-like
        Estimated proportion and its linearised variance.
    df : array-like
        Design degrees of freedom (number of PSUs minus number of strata, within the domain).
    nrow : array-like
        Number of rows of the (domain) design, rows with a missing answer included, as R's
        ``nrow(design)`` (used by ``beta`` and ``wilson``).
    method : str
        ``logit`` (default), ``xlogit`` (same interval), ``beta`` (Korn-Graubard),
        ``wilson``, ``likelihood``, ``asin`` (arcsine) or ``mean`` (plain Wald).
    conf_level : float
        Confidence level, in (0, 1).
    glm : dict of array-like, optional
        ``likelihood`` only: ``npos`` (observations with non-zero weight), ``coef1``,
        ``sw2_1``, ``devold`` (first IRLS iteration of R's ``glm.fit``) and optionally
        ``nrow`` (rows of the model, i.e. valid answers; default ``nrow``).

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
    if not 0 < conf_level < 1:
        raise EstimationError(f"Niveau de confiance « {conf_level} » invalide : attendu un "
                              "nombre strictement compris entre 0 et 1.")
    a = 1 - conf_level
    lo = np.full(p.shape, np.nan)
    hi = np.full(p.shape, np.nan)
    ok_df = df > 0
    with np.errstate(all="ignore"):
        t = _t_quantile(1 - a / 2, df)   # once per distinct df
        degenerate = (p <= 0) | (p >= 1) | ~(var > 0)
        good = ~degenerate & np.isfinite(p)
        se = np.sqrt(var)
        need_ratio = method in ("beta", "wilson") or degenerate.any()
        ratio = (np.where(ok_df & (nrow > 1),
                          _t_quantile(a / 2, np.maximum(nrow - 1, 1)) / -t, 1.0)
                 if need_ratio else None)
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
            nmod = g.get("nrow", nrow)
            lo = np.full(p.shape, np.nan)
            hi = np.full(p.shape, np.nan)
            for i in np.flatnonzero(good & ok_df):
                lo[i], hi[i] = _likelihood_ci(p[i], var[i], df[i], nmod[i], g["npos"][i],
                                              g["coef1"][i], g["sw2_1"][i], g["devold"][i],
                                              conf_level)
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

class _CalMargins:
    """Calibration margins prepared for residualising scores (R's ``postStrata`` list).

    For margin :math:`m` with cells :math:`g`, weights :math:`\\psi_m` (R's
    ``attr(, "weights")``) and row factor :math:`\\phi_m` (:math:`1/\\psi_m` for raking,
    old weight :math:`/\\psi` for post-stratification), one step replaces scores :math:`x` by
    :math:`x_i - \\psi_{m,i} \\sum_{j \\in g(i)} \\phi_{m,j} x_j / \\sum_{j \\in g(i)}
    \\phi_{m,j}\\psi_{m,j}`.  Raking repeats 10 sweeps over the margins, as R does.
    """

    def __init__(self, cal: Calibration, n: int):
        if cal.kind == "poststrata":
            (g,) = cal.groups
            psw = np.asarray(cal.weights, float)
            oldw = np.asarray(cal.oldweights, float)
            psw = np.where((psw == 0) & (oldw == 0), 1.0, psw)
            margins = [(np.asarray(g, np.int64), oldw / psw, psw)]
            self.sweeps = 1
        elif cal.kind == "raking":
            margins = []
            for m, g in enumerate(cal.groups):
                psw = cal.weights_of_margin(m)
                margins.append((np.asarray(g, np.int64), 1.0 / psw, psw))
            self.sweeps = 10
        else:
            raise EstimationError(f"Calage de type « {cal.kind} » inconnu du plan de sondage.")
        self.codes = [g for g, _, _ in margins]
        self.rows = []
        for g, f, psw in margins:
            G = _csr(g, np.arange(n), (int(g.max()) + 1, n))
            self.rows.append((G, f, psw, G @ (f * psw)))
        # connected components of the cells (rows link their cells of every margin)
        sizes = [G.shape[0] for G, *_ in self.rows]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        a = np.concatenate([self.codes[0] + self.offsets[0]] * (len(margins) - 1) or
                           [np.zeros(0, np.int64)])
        b = np.concatenate([self.codes[m] + self.offsets[m] for m in range(1, len(margins))]
                           or [np.zeros(0, np.int64)])
        tot = int(self.offsets[-1])
        graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(tot, tot))
        self.n_comp, comp = connected_components(graph, directed=False)
        self.comp_cell = [comp[self.offsets[m]:self.offsets[m + 1]] for m in range(len(margins))]
        self.comp_row = self.comp_cell[0][self.codes[0]]


def _cal_margins(cal, n):
    return _CalMargins(cal, n)


def _lift(comp_of_entry, dc_ptr, dc_dom):
    """Replicate entries over the domains touching their component.

    Returns (entry index, domain) for every (entry, domain) with the domain in the
    component's list ``dc_dom[dc_ptr[c]:dc_ptr[c + 1]]``.
    """
    lens = dc_ptr[comp_of_entry + 1] - dc_ptr[comp_of_entry]
    ent = np.repeat(np.arange(len(comp_of_entry)), lens)
    start = np.repeat(dc_ptr[comp_of_entry], lens)
    within = np.arange(len(ent)) - np.repeat(np.cumsum(lens) - lens, lens)
    return ent, dc_dom[start + within]


def _coalesce(r, c, v, shape):
    m = sparse.coo_matrix((v, (r, c)), shape=shape).tocsr()
    m.sum_duplicates()
    return m.tocoo()

class _CalPlan:
    """Calibration residuals of every domain's scores, cell by cell (grouped form).

    Each step of R's back-fitting subtracts :math:`\\psi_m a_{m,g}` from the scores of
    cell :math:`g` of margin :math:`m`, so the residuals are
    :math:`x - \\sum_m \\psi_m A_m[g_m]`.  The coefficients of a domain's column live
    on the cells of the calibration components (cells linked through respondents) that
    the domain touches; they follow from cell-level sums only:
    :math:`C_m = \\sum_{i \\in g} \\phi_{m,i} x_i` and the cross-products
    :math:`T_{mm'}[g, g'] = \\sum_{i \\in g \\cap g'} \\phi_{m,i} \\psi_{m',i}`, with the
    update :math:`A_m \\leftarrow A_m + (C_m - \\sum_{m'} T_{mm'} A_{m'}) / T_{mm}`
    repeated as R does (10 sweeps for raking, one step for post-strata).  Exact, and
    the cost no longer depends on the number of domains × rows.  This object holds what
    does not depend on the scores (cells lifted to the domains, cross-products); the
    coefficients :math:`A` of given scores come from :meth:`coefficients`.
    """

    def __init__(self, cal, rows, d_r, w, n_dom, n):
        self.cal = cal
        comp_r = cal.comp_row[rows]
        dc = np.unique(comp_r * n_dom + d_r)
        self.dc_d = dc % n_dom
        self.dc_ptr = np.searchsorted(dc // n_dom, np.arange(cal.n_comp + 1))
        self.n_dom = n_dom
        # lifted cells (g, d) of every margin, offset into one stacked index
        self.q_keys, q_off = [], [0]
        for m in range(len(cal.rows)):
            ent, dd = _lift(cal.comp_cell[m], self.dc_ptr, self.dc_d)
            keys = np.sort(ent * n_dom + dd)
            self.q_keys.append(keys)
            q_off.append(q_off[-1] + len(keys))
        self.q_off = q_off
        self.nq = q_off[-1]
        self.q_dom = np.concatenate(self.q_keys) % n_dom
        # cell sums Σ_{i∈g} w_i φ_{m,i} x_i of the scores: one sparse map (lifted cells of
        # every margin × rows), column-major so that row ranges are cheap slices
        qi, qr, qv, den = [], [], [], np.empty(self.nq)
        for m, (_, f, _, dcell) in enumerate(cal.rows):
            qi.append(self.q_index(m, cal.codes[m][rows], d_r))
            qr.append(rows)
            qv.append(w * f[rows])
            den[q_off[m]:q_off[m + 1]] = dcell[self.q_keys[m] // n_dom]
        self.Gq = _csr(np.concatenate(qi), np.concatenate(qr), (self.nq, n),
                       np.concatenate(qv)).tocsc()
        with np.errstate(divide="ignore"):
            self.inv_den = np.where(den > 0, 1.0 / den, 0.0)   # an empty cell has no score
        # cross-products T_{mm'} at cell level, lifted to the domains of each component
        Tr, Tc, Tv = [], [], []
        for m, (Gm, fm, _, _) in enumerate(cal.rows):
            for mp, (_, _, pswp, _) in enumerate(cal.rows):
                t = _coalesce(cal.codes[m], cal.codes[mp], fm * pswp,
                              (Gm.shape[0], cal.rows[mp][0].shape[0]))
                ent, dd = _lift(cal.comp_cell[m][t.row], self.dc_ptr, self.dc_d)
                Tr.append(self.q_index(m, t.row[ent], dd))
                Tc.append(self.q_index(mp, t.col[ent], dd))
                Tv.append(t.data[ent])
        T = _csr(np.concatenate(Tr), np.concatenate(Tc), (self.nq, self.nq),
                 np.concatenate(Tv)).tocsc()
        self.T_cols = [T[:, q_off[m]:q_off[m + 1]] for m in range(len(cal.rows))]

    def q_index(self, m, g, d):
        """Stacked index of the lifted cell (g, d) of margin m."""
        return self.q_off[m] + np.searchsorted(self.q_keys[m], g * self.n_dom + d)

    def coefficients(self, C, run=None, jobs=1):
        """Coefficients A (lifted cells × K) of the residuals, from the scores' cell sums C.

        Columns are independent: ``jobs`` chunks of columns are swept by ``run`` (a thread
        pool's map).
        """
        q_off, sweeps = self.q_off, self.cal.sweeps
        cut = np.linspace(0, C.shape[1], jobs + 1).astype(int)

        def sweep(j):
            R = np.array(C[:, cut[j]:cut[j + 1]])
            A = np.zeros_like(R)
            for _ in range(sweeps):
                for m, Tm in enumerate(self.T_cols):
                    sl = slice(q_off[m], q_off[m + 1])
                    delta = R[sl] * self.inv_den[sl, None]
                    A[sl] += delta
                    R -= Tm @ delta
            return A
        run = run or _serial
        return np.hstack(run(sweep, range(jobs)))

    def entries(self, stage):
        """(PSU, domain, lifted cell, Σψ) of the correction ``Σ_m ψ_m A_m[g_m]`` at a stage."""
        ps, ds, qs, vs = [], [], [], []
        for m, (G, _, psw, _) in enumerate(self.cal.rows):
            t = _coalesce(stage.c, self.cal.codes[m], psw, (stage.n_psu, G.shape[0]))
            ent, dd = _lift(self.cal.comp_cell[m][t.col], self.dc_ptr, self.dc_d)
            ps.append(t.row[ent])
            ds.append(dd)
            qs.append(self.q_index(m, t.col[ent], dd))
            vs.append(t.data[ent])
        return (np.concatenate(ps), np.concatenate(ds), np.concatenate(qs), np.concatenate(vs))


class _DesignRows:
    """Row-level reference path (explicit n × K scores per domain), used in tests."""

    @staticmethod
    def linear_rows(d, kind, Y, M, dom, n_dom, X):
        n, V = Y.shape
        out = {k: np.empty((n_dom, V)) for k in ("theta", "var", "n", "wsum", "degf", "nrow",
                                                 "nvalid", "deff")}
        w = d.w
        degf, nrow = d._domain_counts(dom, n_dom)
        for k in range(n_dom):
            ind = (dom == k)[:, None] & M
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
            var = d._var_from_scores(S)
            fac = d._average_factor(np.flatnonzero(dom == k), np.zeros((dom == k).sum(),
                                    np.int64), ind.astype(float), 1)
            if fac is not None:
                var = var + (fac[0] - 1) * d._stages[0].var_rows(S)
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
            out["theta"][k] = theta
            out["var"][k] = var
            out["n"][k] = nobs
            out["wsum"][k] = Nw
            out["degf"][k] = degf[k]
            out["nrow"][k] = nrow[k]
            if d.domain_df == "answers":
                out["degf"][k] = [len(np.unique(d.c[pos[:, j]])) - len(np.unique(d.h[pos[:, j]]))
                                  for j in range(V)]
                if not d.calibrated:
                    out["nrow"][k] = ind.sum(axis=0)
            out["nvalid"][k] = n if d.calibrated else ind.sum(axis=0)
            out["deff"][k] = deff
        return out


class _Stage:
    """One sampling stage of the variance (R's ``onestage``): strata, clusters, scale.

    ``h`` and ``c`` give each row's stratum and cluster at this stage (clusters numbered
    across strata); ``f`` is the finite population correction :math:`1 - n_h/N_h` per
    stratum and ``mult`` the product of the sampling fractions of the earlier stages (1 at
    the first stage), by which R multiplies a later stage's variance.
    """

    def __init__(self, h, c, n_strata, f, mult, lonely_psu, labels):
        n = len(h)
        self.h = np.asarray(h, np.int64)
        self.c = np.asarray(c, np.int64)
        self.n_strata = H = int(n_strata)
        self.n_psu = C = int(self.c.max()) + 1
        psu_h = np.zeros(C, dtype=np.int64)
        psu_h[self.c] = self.h
        self.psu_h = psu_h
        self.nh = nh = np.bincount(psu_h, minlength=H).astype(float)
        self.f = f = np.asarray(f, float)
        scale = np.where(nh > 1, f * nh / np.maximum(nh - 1, 1), f)
        self.scale = np.where(f < 1e-7, 0.0, scale) * mult
        self.lonely = (nh == 1) & (f >= 1e-7)
        cw = 1.0 / np.maximum(nh, 1)
        if lonely_psu == "adjust":
            cw = np.where(self.lonely, 0.0, cw)
        self.cw = cw
        self.avg = 1.0
        if lonely_psu == "average" and self.lonely.any():
            self.avg = H / (H - self.lonely.sum())
        self.lonely_psu = lonely_psu
        self.labels = labels
        self.P = _csr(self.c, np.arange(n), (C, n))           # PSU × respondent
        self.HS = _csr(psu_h, np.arange(C), (H, C))           # stratum × PSU

    def check_lonely(self, hit):
        """Fail (R's ``survey.lonely.psu = "fail"``) if a lonely stratum carries a score."""
        if self.lonely_psu != "fail":
            return
        bad = np.flatnonzero(self.lonely & hit)
        if bad.size:
            raise EstimationError(
                f"La strate « {self.labels[bad[0]]} » ne contient qu'une seule unité "
                "primaire : variance non estimable (regroupez des strates ou choisissez "
                "lonely_psu='adjust', 'certainty' ou 'average').")

    def var_rows(self, S, cov=False):
        """Variance (or covariance matrix) of the row scores S (n × K) at this stage."""
        Z = self.P @ S
        T = self.HS @ Z
        self.check_lonely(np.asarray(self.HS @ (np.abs(Z) > 0).astype(float)).sum(axis=1) > 0)
        s = self.scale if self.lonely_psu != "average" else np.where(self.lonely, 0, self.scale)
        D = Z - (T * self.cw[:, None])[self.psu_h]
        if cov:
            return self.avg * (D.T @ (D * s[self.psu_h][:, None]))
        return self.avg * (s @ (self.HS @ (D * D)))

    def pair_groups(self, psu, dom, n_dom, block):
        """(PSU, domain) pairs of the entries ``(psu, dom)`` and their (stratum, domain) groups."""
        return _PairGroups(self, np.asarray(psu, np.int64), np.asarray(dom, np.int64), n_dom,
                           block)


def _row_block(m, s, e):
    """Rows s..e of a CSR matrix (a view of its arrays, no copy of the index)."""
    a, b = m.indptr[s], m.indptr[e]
    return sparse.csr_matrix((m.data[a:b], m.indices[a:b], m.indptr[s:e + 1] - a),
                             shape=(e - s, m.shape[1]))


class _PairGroups:
    """(PSU, domain) pairs of a stage's entries, ordered by (stratum, domain, PSU).

    Entry ``e`` (a respondent's row, or a term of the calibration correction) falls in pair
    ``idx[e]``.  The pairs of one (stratum, domain) group are consecutive, so the pairs are
    cut into *units* of whole groups of at most ``block`` pairs (a larger group is a
    unit of its own, cut into blocks), and the variance of a unit is formed while its pair
    totals are in cache: one pass over the data, the deviations from each group's mean still
    taken exactly (two-pass within the unit).
    """

    def __init__(self, stage, psu, dom, n_dom, block):
        n_psu = stage.n_psu
        g_of = stage.psu_h[psu] * n_dom + dom
        keys, idx = np.unique(g_of * n_psu + psu, return_inverse=True)
        self.idx = idx.ravel()
        self.n_pairs = P = len(keys)
        g = keys // n_psu
        first = np.empty(P, bool)
        first[:1] = True
        np.not_equal(g[1:], g[:-1], out=first[1:])
        self.hd_idx = np.cumsum(first) - 1           # group of every pair (non-decreasing)
        start = np.flatnonzero(first)
        hk = g[start]
        self.hd_h, self.hd_dom = hd_h, hd_dom = hk // n_dom, hk % n_dom
        self.pair_dom = g % n_dom
        n_hd = len(hk)
        self.bounds = np.append(start, P)            # pairs of group j: bounds[j]:bounds[j+1]
        self.HD = _csr(self.hd_idx, np.arange(P), (n_hd, P))
        s = stage.scale[self.hd_h]
        if stage.lonely_psu == "average":
            s = np.where(stage.lonely[self.hd_h], 0.0, s)
        self.s_hd, self.cw_hd = s * stage.avg, stage.cw[self.hd_h]
        # PSUs of the stratum outside the domain's pairs: zero totals (R pads them)
        self.pad_hd = stage.nh[self.hd_h] - np.diff(self.bounds)
        self.Dhd = _csr(hd_dom, np.arange(n_hd), (n_dom, n_hd))
        self.lonely_hd = (stage.lonely[self.hd_h]
                          if stage.lonely_psu == "fail" and stage.lonely.any() else None)
        self.stage = stage
        self.units, self.blocks = self._units(max(1, int(block)))

    def _units(self, B):
        """Units (first group, end group, block numbers) and blocks (first pair, end pair)."""
        cum, size = self.bounds, np.diff(self.bounds)
        units, blocks, g, n_hd = [], [], 0, len(size)
        while g < n_hd:
            if size[g] > B:        # one large group, cut into blocks
                s, e = int(cum[g]), int(cum[g + 1])
                first = len(blocks)
                blocks += [(a, min(a + B, e)) for a in range(s, e, B)]
                units.append((g, g + 1, range(first, len(blocks))))
                g += 1
            else:                  # as many whole groups as fit in one block
                g1 = max(int(np.searchsorted(cum, cum[g] + B, side="right")) - 1, g + 1)
                units.append((g, g1, range(len(blocks), len(blocks) + 1)))
                blocks.append((int(cum[g]), int(cum[g1])))
                g = g1
        return units, blocks

    def entry_matrix(self, cols, n_cols, data=None, first=0):
        """Sparse (pairs × n_cols) map of entries ``first..first+len(cols)`` to their pairs."""
        rows = self.idx[first:first + len(cols)]
        return _csr(rows, cols, (self.n_pairs, n_cols), data)

    def variance(self, pair_totals, K, jobs=1, run=None):
        """Σ_h s_h Σ_c (z_hc − mean_h)² per domain (n_dom × K).

        ``pair_totals(b)`` returns the pair totals z (a fresh array, pairs of block ``b`` ×
        K); PSUs of the stratum without an entry of the domain count as zero totals.  The
        units are shared between ``jobs`` calls of ``run`` (a thread pool's map), each
        writing the rows of its own groups.
        """
        Q = np.empty((len(self.hd_h), K))
        first = np.array([self.blocks[blks[0]][0] for _, _, blks in self.units] + [self.n_pairs])
        cut = np.searchsorted(first, np.linspace(0, self.n_pairs, jobs + 1)[1:-1])
        spans = list(zip(np.r_[0, cut], np.r_[cut, len(self.units)]))
        run = run or _serial
        hits = run(lambda span: self._variance_units(span, pair_totals, Q, K), spans)
        if self.lonely_hd is not None:
            self.stage.check_lonely(np.logical_or.reduce(hits))
        return self.Dhd @ Q

    def _variance_units(self, span, pair_totals, Q, K):
        """Rows of Q of the units ``span``; returns the lonely strata hit (or None)."""
        hit = None if self.lonely_hd is None else np.zeros(self.stage.n_strata, bool)
        cw, pad, s_hd = self.cw_hd, self.pad_hd, self.s_hd
        for g0, g1, blks in self.units[span[0]:span[1]]:
            if len(blks) == 1:
                s, e = self.blocks[blks[0]]
                z = pair_totals(blks[0])
                H = sparse.csr_matrix((np.ones(e - s), np.arange(e - s),
                                       self.bounds[g0:g1 + 1] - s), shape=(g1 - g0, e - s))
                if hit is not None:
                    self._lonely_hits(hit, z, self.hd_idx[s:e])
                mean = H @ z
                mean *= cw[g0:g1, None]
                z -= mean[self.hd_idx[s:e] - g0]
                z *= z
                q = H @ z
            else:                  # one large group: its sums first, then the deviations
                tot = np.zeros(K)
                for b in blks:
                    z = pair_totals(b)
                    if hit is not None:
                        self._lonely_hits(hit, z, np.full(len(z), g0))
                    tot += z.sum(axis=0)
                mean = (tot * cw[g0])[None, :]
                q = np.zeros((1, K))
                for b in blks:
                    z = pair_totals(b)
                    z -= mean
                    z *= z
                    q += z.sum(axis=0)
            mean *= mean
            mean *= pad[g0:g1, None]
            q += mean
            q *= s_hd[g0:g1, None]
            Q[g0:g1] = q
        return hit

    def _lonely_hits(self, hit, z, groups):
        """Mark the lonely strata whose pairs carry a non-zero score."""
        lone = self.lonely_hd[groups]
        if lone.any():
            nz = (np.abs(z[lone]) > 0).any(axis=1)
            hit[self.hd_h[groups[lone][nz]]] = True


def _serial(func, items):
    """``[func(x) for x in items]``: the one-thread ``run`` of the variance and calibration."""
    return [func(x) for x in items]


def _thread_map(func, items, n_rows):
    """``[func(x) for x in items]``, on up to ``_THREADS`` threads when there are enough rows."""
    items = list(items)
    jobs = min(_THREADS, len(items), max(1, n_rows // _MIN_ROWS_PER_THREAD))
    if jobs <= 1:
        return _serial(func, items)
    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(func, items))


def _per_column(values, func):
    """``func`` evaluated once per distinct value of ``values`` (e.g. t quantiles per df)."""
    values = np.asarray(values, float)
    v = values.ravel()
    if v.size > 1000 and np.isfinite(v).all():
        top = v.max(initial=0.0)
        iv = v.astype(np.int64)
        if v.min() >= 0 and top < 1e7 and (iv == v).all():   # counts: a lookup table
            u = np.flatnonzero(np.bincount(iv))
            table = np.empty(int(top) + 1)
            table[u] = func(u.astype(float))
            return table[iv].reshape(values.shape)
    u, inv = np.unique(v, return_inverse=True)
    return func(u)[inv.ravel()].reshape(values.shape)


def _t_quantile(q, df):
    """Student quantile :math:`t_{df}(q)`, NaN where df ≤ 0, computed once per distinct df."""
    def f(u):
        with np.errstate(all="ignore"):
            return np.where(u > 0, stats.t.ppf(q, np.where(u > 0, u, 1)), np.nan)
    return _per_column(df, f)


class _DomainPlan:
    """What an estimation in given domains shares across its columns and its threads.

    Sparse maps from the respondents' rows (columns of the maps are row numbers of the
    data, rows outside every domain are simply absent) to their domain, to the (PSU, domain)
    pairs of every stage and, for a calibrated design, to the lifted calibration cells.
    """

    @staticmethod
    def block_size(n_cols):
        """Pairs per block of ``n_cols`` columns."""
        return max(_MIN_BLOCK, _BLOCK_BYTES // (8 * max(n_cols, 1)))

    def __init__(self, design, dom, n_dom, n_cols):
        n = design.n
        block = self.block_size(n_cols)
        self.n_dom = n_dom
        self.rows = rows = np.flatnonzero(dom >= 0)
        self.d_r = d_r = dom[rows]
        w = design.w[rows]
        pos = w > 0
        self.all_pos = bool(pos.all())
        self.Dw = _csr(d_r, rows, (n_dom, n), w)
        # one column-major product gives the weighted sums, the counts, and the counts among
        # positive weights: each row of the data is read once
        maps = [self.Dw, _csr(d_r, rows, (n_dom, n))]
        if not self.all_pos:
            maps.append(_csr(d_r[pos], rows[pos], (n_dom, n)))
        self.W = sparse.vstack(maps).tocsc()
        self.cal = (None if design._cal_margins is None
                    else _CalPlan(design._cal_margins, rows, d_r, w, n_dom, n))
        self.stages = []
        nr = len(rows)
        for st in design._stages:
            if self.cal is None:
                pg = st.pair_groups(st.c[rows], d_r, n_dom, block)
                L = None
            else:
                psu_u, dom_u, q_u, val_u = self.cal.entries(st)
                pg = st.pair_groups(np.concatenate([st.c[rows], psu_u]),
                                    np.concatenate([d_r, dom_u]), n_dom, block)
                L = pg.entry_matrix(q_u, self.cal.nq, val_u, first=nr)
            self.stages.append((pg, pg.entry_matrix(rows, n, w), L))
        pg = self.stages[0][0]
        if self.cal is None and self.all_pos:   # PSUs and strata of each domain: its pairs
            npsu = np.bincount(pg.pair_dom, minlength=n_dom)
            nstr = np.bincount(pg.hd_dom, minlength=n_dom)
            self.degf = (npsu - nstr).astype(float)
            self.nrow = np.bincount(d_r, minlength=n_dom).astype(float)
        else:
            self.degf, self.nrow = design._domain_counts(dom, n_dom)


class Design:
    """A survey design: data, weights and optional strata, clusters and fpc (R ``svydesign``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    weights : None, str or array-like
        Sampling weights (column name or values); ``None`` gives equal weights of 1, or the
        weights of ``calibration`` when given (other weights are refused with a calibration).
    strata : str, optional
        First-stage stratum column.
    cluster : str or list of str, optional
        Cluster column of each sampling stage, first stage (PSU) first (R's
        ``id = ~a + b``); by default each respondent is its own PSU.
    fpc : str, array-like or list, optional
        Finite population correction per stratum: population size (number of units, values
        > 1) or sampling fraction (values ≤ 1), as in R; a list gives one per stage.  Later
        stages add their variance only when every stage has its fpc (R's default).
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
    conf_level : float
        Confidence level of the intervals, in (0, 1) (default 0.95).
    domain_df : {"domain", "answers"}
        Degrees of freedom (and rows) of a domain's proportion intervals.  ``"domain"``
        (default): those of R's domain design, ``svyby(~y, ~dom, design, svyciprop)`` —
        PSUs minus strata among the domain's rows, rows with a missing answer included.
        ``"answers"``: among the rows with a valid answer only, as R gives after
        ``subset(design, !is.na(y))`` (the population of an indicator's denominator).
    file : str, optional
        File name quoted in error messages.

    Notes
    -----
    Variance (R's ``svyrecvar`` / ``multistage`` / ``onestrat``) of a linear statistic with
    score :math:`z_i`: with PSU totals :math:`z_{hc}` in stratum :math:`h` of :math:`n_h`
    PSUs and finite population correction :math:`f_h = 1 - n_h/N_h`,
    :math:`\\hat V_1 = \\sum_h f_h \\frac{n_h}{n_h-1} \\sum_c (z_{hc} - \\bar z_h)^2`.  With
    several stages and an fpc for each, stage :math:`s` adds the same sum over its clusters
    within each cluster of stage :math:`s-1`, multiplied by the sampling fractions
    :math:`n/N` of the earlier stages.  Calibrated designs first replace scores by their
    residuals on the calibration variables (post-strata means; 10 back-fitting sweeps for
    raking), as R.
    """

    def __init__(self, data: pd.DataFrame, weights=None, strata=None, cluster=None, fpc=None,
                 *, calibration=None, nest: bool = False, lonely_psu: str = "fail",
                 fragile_n: int = 30, suppress_n: int = 10, conf_level: float = 0.95,
                 domain_df: str = "domain", file=None):
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
        if not (isinstance(conf_level, (int, float)) and 0 < conf_level < 1):
            raise EstimationError(f"Niveau de confiance « {conf_level} » invalide : attendu un "
                                  "nombre strictement compris entre 0 et 1 (par exemple 0.95).")
        self.data = data
        self.file = file
        self.n = n = len(data)
        self.fragile_n = fragile_n
        self.suppress_n = suppress_n
        self.conf_level = float(conf_level)
        if domain_df not in ("domain", "answers"):
            raise EstimationError(f"Option domain_df « {domain_df} » inconnue : attendu "
                                  "« domain » ou « answers ».")
        self.domain_df = domain_df
        self.lonely_psu = lonely_psu
        clusters = [] if cluster is None else (
            [cluster] if isinstance(cluster, str) or not isinstance(cluster, (list, tuple))
            else list(cluster))
        self.strata_col, self.cluster_col = strata, cluster

        cal = getattr(calibration, "calibration", calibration)
        if cal is not None and not isinstance(cal, Calibration):
            raise EstimationError("L'argument calibration doit être le résultat de rake() ou "
                                  "de poststratify().")
        if cal is not None and len(cal.weights) != n:
            raise EstimationError("Le calage ne porte pas sur les mêmes répondants que le "
                                  "plan de sondage.")
        self.calibration = cal
        w, wname = self._weights(weights, cal)
        self.w = w

        # first-stage strata
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
        h = np.asarray(h, dtype=np.int64)
        # clusters of every stage (later stages nested in the earlier ones, as R)
        codes = []
        for k, name in enumerate(clusters):
            col = self._column(name)
            if col.isna().any():
                i = int(np.flatnonzero(col.isna().to_numpy())[0])
                raise EstimationError(f"{where(file, i + 2, name)}unité d'échantillonnage "
                                      f"(grappe) manquante : attendu une valeur pour chaque "
                                      "répondant.")
            parent = h if k == 0 else codes[-1]
            if k > 0 or nest:
                c, _ = pd.factorize(pd.MultiIndex.from_arrays([parent, col.to_numpy()]),
                                    sort=True)
            else:
                c, lab = pd.factorize(col, sort=True)
                hs = pd.Series(h).groupby(c).nunique()
                if (hs > 1).any():
                    raise EstimationError(
                        f"{where(file, None, name)}la grappe « {lab[int(hs.idxmax())]} » "
                        "appartient à plusieurs strates : attendu des grappes emboîtées dans "
                        "les strates (ou nest=True).")
            codes.append(np.asarray(c, dtype=np.int64))
        if not codes:
            codes = [np.arange(n, dtype=np.int64)]
        # fpc of every stage
        fpcs = (list(fpc) if isinstance(fpc, (list, tuple)) else [fpc]) if fpc is not None else []
        if len(fpcs) > len(codes):
            raise EstimationError(f"{len(fpcs)} corrections de population finie pour "
                                  f"{len(codes)} degré(s) de sondage : attendu au plus une par "
                                  "degré.")
        stages = []
        parent_h, n_par, mult = h, len(self.strata_labels), np.ones(len(self.strata_labels))
        for k, c in enumerate(codes):
            if k > 0 and len(fpcs) < len(codes):
                break  # R: later stages only with an fpc for every stage
            st_labels = self.strata_labels if k == 0 else np.arange(n_par)
            f, frac = self._fpc(fpcs[k] if k < len(fpcs) else None, parent_h, c, n_par, k,
                                st_labels)
            stages.append(_Stage(parent_h, c, n_par, f, mult, lonely_psu, st_labels))
            # next stage: strata are this stage's clusters
            st = stages[-1]
            mult = (mult * frac)[st.psu_h]
            parent_h, n_par = c, st.n_psu
        self._stages = stages
        s1 = stages[0]
        # first-stage attributes (kept for readers of the design)
        self.h, self.c, self.psu_h, self.nh = s1.h, s1.c, s1.psu_h, s1.nh
        self.n_strata, self.n_psu, self.f, self.scale = s1.n_strata, s1.n_psu, s1.f, s1.scale
        self.lonely, self.cw, self.P, self.HS = s1.lonely, s1.cw, s1.P, s1.HS
        pos = w > 0
        self.degf = int(len(np.unique(self.c[pos])) - len(np.unique(self.h[pos])))
        self._cal_margins = self._greg_basis = None
        self._plans = []   # recent domain plans: (domain codes, n_dom, block, plan)
        if cal is not None and cal.kind == "greg":
            # orthonormal basis of √d X (R's qr(mm * whalf)), rank-deficient X allowed
            d0 = np.asarray(cal.oldweights, float)
            U, sv, _ = np.linalg.svd(cal.groups[0] * np.sqrt(d0)[:, None], full_matrices=False)
            self._greg_basis = (U[:, sv > sv.max() * max(cal.groups[0].shape) * 1e-15],
                                np.asarray(cal.weights, float) / np.sqrt(d0))
        elif cal is not None:
            self._cal_margins = _cal_margins(cal, n)

    def _weights(self, weights, cal):
        n, file, data = self.n, self.file, self.data
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
        if cal is not None and weights is not None:
            cw = np.asarray(cal.weights, float)
            if not np.allclose(w, cw, rtol=1e-9, atol=0):
                i = int(np.flatnonzero(~np.isclose(w, cw, rtol=1e-9, atol=0))[0])
                raise EstimationError(
                    f"{where(file, i + 2, wname)}poids « {w[i]:g} » différent du poids calé "
                    f"« {cw[i]:g} » : avec un calage, ne donnez pas d'autres poids (les poids "
                    "du calage sont utilisés).")
        return w, wname

    def _fpc(self, fpc, h, c, H, stage, labels):
        """Finite population correction 1 − n_h/N_h per stratum and sampling fraction n_h/N_h."""
        psu_h = np.zeros(int(c.max()) + 1, dtype=np.int64)
        psu_h[c] = h
        nh = np.bincount(psu_h, minlength=H).astype(float)
        if fpc is None:
            return np.ones(H), np.zeros(H)
        name = fpc if isinstance(fpc, str) else "fpc"
        vals = self._column(fpc) if isinstance(fpc, str) else pd.Series(np.asarray(fpc, float))
        vals = pd.to_numeric(vals, errors="coerce").to_numpy(float)
        if vals.shape != (self.n,):
            raise EstimationError(f"La correction de population finie a {vals.size} valeurs "
                                  f"pour {self.n} répondants : attendu une valeur par répondant.")
        if np.isnan(vals).any():
            i = int(np.flatnonzero(np.isnan(vals))[0])
            raise EstimationError(f"{where(self.file, i + 2, name)}"
                                  "correction de population finie manquante.")
        if (vals > 1).any() and (vals < 1).any():
            raise EstimationError("Correction de population finie incohérente : attendu "
                                  "soit des tailles de population (> 1), soit des taux de "
                                  "sondage (≤ 1), pas un mélange.")
        popsize = vals if (vals > 1).any() else nh[h] / vals
        pop_h = pd.Series(popsize).groupby(h).first().reindex(range(H)).to_numpy()
        if (pop_h < nh).any():
            k = int(np.flatnonzero(pop_h < nh)[0])
            raise EstimationError(
                f"Correction de population finie (degré {stage + 1}) : la strate « {labels[k]} » "
                f"compte {int(nh[k])} unités tirées pour une population de {pop_h[k]:g} : "
                "attendu une population au moins égale à l'échantillon.")
        f = np.where(np.isinf(pop_h), 1.0, (pop_h - nh) / pop_h)
        return f, np.where(np.isinf(pop_h), 0.0, nh / pop_h)

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
        self._stages[0].check_lonely(strata_with_scores)

    def _calibrate(self, S):
        """Residualise row scores on the calibration variables (R ``svyrecvar``)."""
        if self.calibration is None:
            return S
        if self._greg_basis is not None:   # R: qr.resid(qr, x / (g √d)) * (g √d)
            U, gw = self._greg_basis
            z = np.asarray(S, float) / gw[:, None]
            return (z - U @ (U.T @ z)) * gw[:, None]
        S = np.array(S, float)
        for _ in range(self._cal_margins.sweeps):
            for G, f, psw, den in self._cal_margins.rows:
                ave = (G @ (S * f[:, None])) / den[:, None]
                S -= psw[:, None] * (G.T @ ave)
        return S

    def _var_from_scores(self, S, cov=False):
        """Linearised variance (diagonal or full matrix) of row scores S (n × K).

        Scores are first residualised on the calibration (if any), then the variance of
        every sampling stage is added (R's ``svyrecvar``).
        """
        S = self._calibrate(np.asarray(S, float))
        return sum(st.var_rows(S, cov=cov) for st in self._stages)

    def _average_factor(self, rows, d_r, valid, n_dom):
        """R's ``lonely_psu="average"`` factor of each domain and column (n_dom × K), or None.

        R estimates a domain of a design without calibration on the subset of its rows
        (and of the valid answers, ``na.rm = TRUE``): the first-stage variance is
        multiplied by the number of strata of that subset over the number of them with
        more than one PSU, not by the whole design's ratio (``Design.avg``, which is
        already in the stage's scale and is divided out here).  ``rows`` (domain ``d_r``)
        are the domains' rows, ``valid`` the (n × K) validity mask.
        """
        st = self._stages[0]
        if st.lonely_psu != "average" or not st.lonely.any() or self.calibrated:
            return None
        H = st.n_strata
        G = _csr(st.h[rows] * n_dom + d_r, rows, (H * n_dom, self.n))
        present = (G @ np.asarray(valid, float) > 0).reshape(H, n_dom, -1)
        nstr = present.sum(axis=0)
        nok = nstr - present[st.lonely].sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(nok > 0, nstr / nok, 1.0) / st.avg

    def _domain_counts(self, dom, n_dom):
        """Design degrees of freedom and rows of each domain (R's subset design)."""
        rows = np.flatnonzero((dom >= 0) & (self.w > 0))
        d = dom[rows]
        npsu = np.bincount(np.unique(self.c[rows] * n_dom + d) % n_dom, minlength=n_dom)
        nstr = np.bincount(np.unique(self.h[rows] * n_dom + d) % n_dom, minlength=n_dom)
        nrow = (np.full(n_dom, float(self.n)) if self.calibrated
                else np.bincount(dom[dom >= 0], minlength=n_dom).astype(float))
        return (npsu - nstr).astype(float), nrow

    # ------------------------------------------------------------------ core engine
    def _linear(self, kind, Y, M, dom, n_dom, X=None, *, colvar=None, binary=False):
        """Estimates, variances and counts of linear statistics in every domain.

        Y, X are (n × K) arrays (values, denominators for ratios); M is the validity mask,
        (n × K), or (n × V) with ``colvar`` giving the column of M of each column of Y (the
        categories of one question share its mask).  ``binary``: Y is 0/1.  Returns a dict
        of (n_dom × K) arrays: theta, var, n, wsum, degf, nrow, nvalid, deff (and count, the
        unweighted sum of Y over rows of positive weight, on the grouped-sum path).
        """
        if colvar is None:
            Y = np.where(M, Y, 0.0)
            if X is not None:
                X = np.where(M, X, 0.0)
        if self._greg_basis is not None:  # regression residuals: row-level path
            cv = np.arange(Y.shape[1]) if colvar is None else np.asarray(colvar)
            return self._linear_rows(kind, Y, M[:, cv], dom, n_dom, X)
        return self._linear_pairs(kind, Y, M, dom, n_dom, X, colvar=colvar, binary=binary,
                                  threads=_THREADS)

    def _linear_pairs(self, kind, Y, M, dom, n_dom, X=None, *, colvar=None, binary=False,
                      threads=1):
        """Grouped-sum path: the sums by domain and by (PSU, domain) pair as sparse products.

        A domain's score is zero outside the domain, so its PSU totals are sums over the
        (PSU, domain) pairs; with a calibration (post-stratification or raking) the
        residuals are obtained cell by cell (see :class:`_CalPlan`), and the PSU totals of
        the residualised scores over the (PSU, domain) pairs they reach.  The rows, then the
        pairs, are shared between ``threads`` threads (numpy and scipy's sparse products
        release the GIL); every thread reads its rows once for the sums and once for the
        variance, all columns at a time.
        """
        n, K = self.n, Y.shape[1]
        colvar = np.arange(K) if colvar is None else np.asarray(colvar)
        used, cv = np.unique(colvar, return_inverse=True)
        cv, Km = cv.ravel(), len(used)
        same = Km == M.shape[1] and np.array_equal(cv, np.arange(K))
        plan = self._plan(dom, n_dom, K)
        jobs = max(1, min(threads, n // _MIN_ROWS_PER_THREAD))
        return self._linear_core(plan, kind, Y, M, X, used, cv, same, binary, jobs,
                                 lambda f, xs: _thread_map(f, xs, n if jobs > 1 else 0))

    def _plan(self, dom, n_dom, n_cols):
        """The domain plan of ``dom`` (kept for the next questions on the same domains)."""
        block = _DomainPlan.block_size(n_cols)
        for d, nd, b, plan in self._plans:
            if nd == n_dom and b == block and np.array_equal(d, dom):
                return plan
        plan = _DomainPlan(self, dom, n_dom, n_cols)
        self._plans = [(np.array(dom), n_dom, block, plan)] + self._plans[:3]
        return plan

    def _linear_core(self, plan, kind, Y, M, X, used, cv, same, binary, jobs, run):
        """Body of :meth:`_linear_pairs`: M's columns ``used`` are read, ``cv`` maps Y's
        columns to them (``same``: one to one), ``run(f, parts)`` maps on the threads."""
        n_dom, n = plan.n_dom, self.n
        K, Km = Y.shape[1], len(used)
        Y = np.ascontiguousarray(Y, dtype=float)
        X = None if X is None else np.ascontiguousarray(X, dtype=float)
        own = not (M.dtype == np.float64 and M.flags.c_contiguous and Km == M.shape[1])
        Mf = np.empty((n, Km)) if own else M    # validity masks as numbers, for the products
        cuts = np.linspace(0, n, jobs + 1).astype(int)

        def sums(j):
            r0, r1 = cuts[j], cuts[j + 1]
            if own:
                Mf[r0:r1] = M[r0:r1] if Km == M.shape[1] else M[r0:r1][:, used]
            out = []
            for Gj in (plan.W, plan.cal.Gq) if plan.cal is not None else (plan.W,):
                Gj = Gj[:, r0:r1]
                out += [Gj @ Y[r0:r1], Gj @ Mf[r0:r1]] + ([Gj @ X[r0:r1]] if X is not None
                                                          else [])
            return out
        parts = run(sums, range(jobs))
        S = [sum(p[k] for p in parts) for k in range(len(parts[0]))]
        k = 3 if X is not None else 2
        (Sy, Sm, *Sx), cell_sums = S[:k], S[k:]   # by domain; by lifted calibration cell
        Asum = Sy[:n_dom]
        Nw = Sm[:n_dom][:, cv]
        nvalid = Sm[n_dom:2 * n_dom][:, cv]
        pos_rows = slice(n_dom, 2 * n_dom) if plan.all_pos else slice(2 * n_dom, None)
        nobs, count = Sm[pos_rows][:, cv], Sy[pos_rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            Bsum = Sx[0][:n_dom] if kind == "ratio" else Nw
            theta = Asum if kind == "total" else Asum / Bsum
            inv = np.where(Bsum != 0, 1.0 / Bsum, 0.0)   # an empty domain: zero scores
        theta0 = np.nan_to_num(theta)

        # a domain's linearised scores are inv_d · w (y − θ_d b) (mean, ratio) or w y (total):
        # the factor inv_d² is applied to the variance at the end
        def combine(z, b, dom_of):
            """Linearised totals z − θ_d b from the totals of y (z) and of b (mask or x)."""
            if kind == "total":
                return z
            if kind != "ratio" and not same:
                b = np.take(b, cv, axis=1)
            b *= theta0[dom_of]
            z -= b
            return z

        def scores(G, dom_of):
            """Linearised totals of the rows mapped by G (pairs or cells × rows)."""
            return combine(G @ Y, None if kind == "total" else
                           G @ (X if kind == "ratio" else Mf), dom_of)

        A = None
        if plan.cal is not None:
            cz, cm, *cx = cell_sums
            C = combine(cz, cx[0] if kind == "ratio" else cm, plan.cal.q_dom)
            A = plan.cal.coefficients(C, run, jobs)
        var = np.zeros((n_dom, K))
        for pg, Gw, L in plan.stages:
            def pair_totals(b, pg=pg, Gw=Gw, L=L):
                s, e = pg.blocks[b]
                z = scores(_row_block(Gw, s, e), pg.pair_dom[s:e])
                if L is not None:
                    z -= _row_block(L, s, e) @ A
                    z = np.nan_to_num(z, copy=False)
                return z
            v = pg.variance(pair_totals, K, jobs, run)
            if pg is plan.stages[0][0]:
                fac = self._average_factor(plan.rows, plan.d_r, Mf, n_dom)
                if fac is not None:
                    v *= fac[:, cv]
            var += v
        if kind != "total":
            var *= inv * inv
        # counts, degrees of freedom, design effects (svyvar's SRS variance)
        degf = np.repeat(plan.degf[:, None], K, axis=1)
        nrow = np.repeat(plan.nrow[:, None], K, axis=1)
        if self.domain_df == "answers":   # PSUs and strata with a valid answer
            # the plan's first-stage pairs (with a calibration, its correction's pairs as well:
            # they hold no respondent, so they count no answer)
            pg, rows = plan.stages[0][0], plan.rows
            pos = (self.w[rows] > 0).astype(float)
            cnt = (pg.entry_matrix(rows, n, pos) @ Mf > 0).astype(float)
            Dp = _csr(pg.pair_dom, np.arange(pg.n_pairs), (n_dom, pg.n_pairs))
            degf = (Dp @ cnt - pg.Dhd @ ((pg.HD @ cnt) > 0).astype(float))[:, cv]
            if not self.calibrated:
                nrow = nvalid
        with np.errstate(divide="ignore", invalid="ignore"):
            sy2 = Asum if binary else plan.Dw @ (Y * Y)
            if kind == "mean":
                ss, kfac = sy2 - theta * Asum, 1.0
            elif kind == "total":
                ss, kfac = sy2 - Asum / Nw * Asum, Nw ** 2
            else:
                sxy = plan.Dw @ (X * Y)
                sx2 = plan.Dw @ (X * X)
                ss, kfac = (sy2 - 2 * theta * sxy + theta ** 2 * sx2) / Bsum ** 2, Nw ** 2
            s2 = nobs / (nobs - 1) * np.maximum(ss, 0) / Nw
            vsrs = s2 * kfac * (Nw - nobs) / (Nw * nobs)
            deff = var / vsrs
            if kind == "mean":
                deff = np.where(Nw < nobs, np.nan, deff)
        if self.calibrated:
            nvalid = np.full_like(nvalid, float(self.n))  # R keeps every row (zero weight)
        return {"theta": theta, "var": var, "n": nobs, "wsum": Nw, "degf": degf, "nrow": nrow,
                "nvalid": nvalid, "deff": deff, "count": count}

    def _linear_rows(self, kind, Y, M, dom, n_dom, X):
        """Row-level path: explicit n × V scores per domain (reference for the fast path)."""
        return _DesignRows.linear_rows(self, kind, Y, M, dom, n_dom, X)

    # ------------------------------------------------------------------ result table
    def _table(self, res, labels, variables, levels, method, ci=None, extra_cols=None):
        n_dom, V = res["theta"].shape
        est = res["theta"]
        se = np.sqrt(np.maximum(res["var"], 0))
        if ci is None:
            z = stats.norm.ppf(1 - (1 - self.conf_level) / 2)
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
        frame["method"] = (method if isinstance(method, (str, pd.api.extensions.ExtensionArray))
                           else np.asarray(method).ravel())
        frame["df"] = res["degf"].ravel().astype(np.int64)
        frame["conf_level"] = self.conf_level
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
        answers (domain estimation on the full design).  Degrees of freedom of the interval:
        PSUs minus strata among the domain's rows, rows with a missing answer included, as
        R's ``svyby(~y, ~dom, design, svyciprop)`` (``domain_df="domain"``), or among the
        rows with a valid answer (``domain_df="answers"``, R after
        ``subset(design, !is.na(y))``).
        """
        variables = [variables] if isinstance(variables, str) else list(variables)
        fast = self._numeric_block(variables, levels)
        if fast is not None:
            return self._proportion_table(*fast, ci_method, by)
        Ys, Ms, names, lvls, miss, nas, colvar = [], [], [], [], [], [], []
        for k, v in enumerate(variables):
            lv, Y, valid, is_miss, is_na = self._categorical(v, missing, keep_missing, levels)
            Ys.append(Y)
            Ms.append(valid)
            names += [v] * len(lv)
            lvls += list(lv)
            colvar += [k] * len(lv)
            miss.append(is_miss)
            nas.append(is_na)
        Y = np.hstack(Ys)
        return self._proportion_table(Y, np.column_stack(Ms), np.column_stack(miss),
                                      np.column_stack(nas), np.asarray(colvar), names, lvls,
                                      ci_method, by)

    def _numeric_block(self, variables, levels):
        """Indicator matrix of given levels of plain numeric columns, in one pass (or None)."""
        if levels is None or len(set(variables)) != len(variables):
            return None
        cols = [self._column(v) for v in variables]
        if not all(pd.api.types.is_numeric_dtype(c.dtype)
                   and not pd.api.types.is_bool_dtype(c.dtype) for c in cols):
            return None
        lv = [levels] if np.isscalar(levels) or isinstance(levels, str) else list(levels)
        if not all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in lv):
            return None
        block = self.data[variables].to_numpy(float)     # usually a view (column-major)
        L, V, n = len(lv), len(variables), self.n
        Y = np.empty((n, V * L))
        valid = np.empty((n, V))      # 1.0 for an answer: the mask the products read

        def fill(r):   # row blocks: the transposition to row-major stays in cache
            b = np.ascontiguousarray(block[r:r + _FILL_ROWS])
            np.equal(b, b, out=valid[r:r + _FILL_ROWS])          # False for NaN only
            for j, x in enumerate(lv):
                np.equal(b, x, out=Y[r:r + _FILL_ROWS, j::L])
            return Y[r:r + _FILL_ROWS].any(axis=0)
        seen = np.logical_or.reduce(_thread_map(fill, range(0, n, _FILL_ROWS), n))
        if not seen.all():
            k = int(np.flatnonzero(~seen)[0])
            var = variables[k // L]
            known = np.unique(block[:, k // L][valid[:, k // L] > 0])
            raise EstimationError(f"{where(self.file, None, var)}modalité « {lv[k % L]} » "
                                  f"absente : attendu l'une de "
                                  f"{', '.join(f'{x:g}' for x in known)}.")
        colvar = np.repeat(np.arange(V), L)
        names = [v for v in variables for _ in lv]
        return (Y, valid, None, None, colvar, names, lv * V)

    def _proportion_table(self, Y, M, MISS, NA, colvar, names, lvls, ci_method, by):
        """Proportions, CIs and counts; M, MISS, NA are per question (n × V), ``colvar``
        maps each column of Y to its question.  M may be a 0/1 float mask; MISS and NA may be
        None (no missing answer; empty cells are the rows outside M)."""
        dom, labels = self._domains(by)
        n_dom = len(labels)
        meth = _CI_ALIASES.get(str(ci_method).lower(), str(ci_method).lower())
        res = self._linear("mean", Y, M, dom, n_dom, colvar=colvar, binary=True)
        p = res["theta"]
        kw = {}
        if meth == "likelihood":
            kw["glm"] = self._glm_start(Y, M[:, colvar] > 0, dom, res)
            kw["glm"]["nrow"] = res["nvalid"]
        lo, hi, deg = proportion_ci(p, res["var"], res["degf"], res["nrow"], meth,
                                    self.conf_level, **kw)
        method = (pd.Series([meth, "beta (repli : p = 0 ou 1)"]).array.take(
            np.asarray(deg, np.intp).ravel()) if deg.any() else meth)   # no string array
        sel = dom >= 0

        def Dr():
            return _csr(dom[sel], np.flatnonzero(sel), (n_dom, self.n))
        numer = res.get("count")
        if numer is None:
            pos = self.w > 0
            numer = Dr() @ (Y if pos.all() else Y * pos[:, None])
        n_miss = ((Dr() @ MISS.astype(float))[:, colvar] if MISS is not None and MISS.any()
                  else np.zeros_like(numer))
        if self.calibrated and NA is None:
            NA = M == 0
        n_na = ((Dr() @ NA.astype(float))[:, colvar] if self.calibrated
                else np.bincount(dom[sel], minlength=n_dom)[:, None] - res["nvalid"] - n_miss)
        # every row of a domain is valid, missing or NA (res["nrow"] is not the domain's rows
        # under domain_df="answers")
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
            c = res["wsum"] / res["nvalid"]             # mean weight of the model's rows
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
        M = ans[:, None]
        return self._proportion_table(Y, M, ~M, np.zeros_like(M), np.zeros(K, np.int64),
                                      [question] * K, cols, ci_method, by)

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
        return self._chisq_domain(var1, var2, np.ones(self.n, bool), missing)

    def _chisq_domain(self, var1, var2, indom, missing=MISSING_DEFAULT) -> ChisqResult:
        """Rao-Scott test on the rows ``indom`` (R's ``svychisq`` on a subset design)."""
        a = self._column(var1)
        b = self._column(var2)
        tokens = {_norm_token(t) for t in (missing or ())}

        def valid(s):   # each distinct answer compared once with the missing answers
            bad = [v for v in s.dropna().unique() if _norm_token(v) in tokens] if tokens else []
            return s.notna().to_numpy() & ~s.isin(bad).to_numpy()
        ok = valid(a) & valid(b) & indom
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
        N = self.n if self.calibrated else int(indom.sum())  # rows of R's subset design
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
        nu = self.degf if indom.all() else self._domain_counts(np.where(indom, 0, -1), 1)[0][0]
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

    def chisq(self, var1, var2, **kw):
        """Rao-Scott test of ``var1`` × ``var2`` within each domain of the view.

        Returns a dict ``{domain label: ChisqResult}``; each test is computed on the
        full design with the domain's rows only (R's ``svyby(..., svychisq)`` on the
        subset design, as ``svychisq(~a + b, subset(design, dom == k))``).
        """
        dom, labels = self._d._domains(self._by)
        return {lab: self._d._chisq_domain(var1, var2, dom == k, **kw)
                for k, lab in enumerate(labels)}
