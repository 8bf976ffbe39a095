"""Confidence intervals of design-based proportions (R's ``svyciprop`` methods) and t quantiles.

Methods: ``logit``, ``xlogit``, ``beta`` (Korn-Graubard), ``wilson``, ``likelihood``, ``asin``,
``mean`` (Wald), as R's ``svyciprop``; see :func:`proportion_ci` for the formulas.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from diagnostics.errors import EstimationError
from diagnostics.results import check_conf_level
from diagnostics.stats.rates import wilson_limits
from .. import distributions as dist

#: Interval methods of design-based proportions (R's ``svyciprop`` names, plus ``wilson``).
CI_METHODS = ("logit", "xlogit", "beta", "wilson", "likelihood", "asin", "mean")
_CI_ALIASES = {"korn-graubard": "beta", "kg": "beta", "clopper-pearson": "beta",
               "arcsine": "asin", "wald": "mean", "profile": "likelihood"}


def ci_method(name) -> str:
    """The :data:`CI_METHODS` name of an interval method or of one of its aliases.

    Parameters
    ----------
    name : str
        A method (``logit``…) or an alias (``korn-graubard``, ``kg``, ``clopper-pearson`` →
        ``beta``; ``arcsine`` → ``asin``; ``wald`` → ``mean``; ``profile`` → ``likelihood``),
        any case.

    Returns
    -------
    str

    Raises
    ------
    EstimationError
        An unknown method.
    """
    method = _CI_ALIASES.get(str(name).lower(), str(name).lower())
    if method not in CI_METHODS:
        raise EstimationError(
            f"Méthode d'intervalle de confiance « {name} » inconnue : attendu l'une de "
            f"{', '.join(CI_METHODS)}.", value=name, expected=", ".join(CI_METHODS))
    return method


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
    alpha = dist.norm_cdf(dist.t_ppf((1 - conf_level) / 2, df) * np.sqrt(lam)) / 2
    zmax = np.sqrt(dist.f_isf(alpha, 1, nrow - 1))
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
    cut = dist.norm_ppf(2 * alpha)
    lo = np.interp(cut, yy, xx, left=np.nan, right=np.nan)
    hi = np.interp(-cut, yy, xx, left=np.nan, right=np.nan)
    return expit(lo), expit(hi)


def _qbeta(q, a, b):
    """Beta quantile; normal approximation where scipy fails (shapes ~1e15 and more)."""
    out = dist.beta_ppf(q, a, b)
    bad = ~np.isfinite(out) & np.isfinite(a) & np.isfinite(b) & (a > 0) & (b > 0)
    if np.any(bad):
        a_, b_ = np.broadcast_to(a, out.shape)[bad], np.broadcast_to(b, out.shape)[bad]
        m = a_ / (a_ + b_)
        sd = np.sqrt(a_ * b_ / ((a_ + b_) ** 2 * (a_ + b_ + 1)))
        out = np.array(out, float)
        out[bad] = m + dist.norm_ppf(q) * sd
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
    method = ci_method(method)
    p = np.atleast_1d(np.asarray(p, float))
    shape = p.shape
    p = p.ravel()
    var = np.broadcast_to(np.asarray(var, float), shape).ravel().copy()
    df = np.broadcast_to(np.asarray(df, float), shape).ravel().copy()
    nrow = np.broadcast_to(np.asarray(nrow, float), shape).ravel().copy()
    conf_level = check_conf_level(conf_level)
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
                lo, hi = wilson_limits(p * neff, neff, conf_level)
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
            lo_d = np.where(pd_ <= 0, 0.0, dist.beta_ppf(a / 2, neff * pd_, neff * (1 - pd_) + 1))
            hi_d = np.where(pd_ >= 1, 1.0, dist.beta_ppf(1 - a / 2, neff * pd_ + 1, neff * (1 - pd_)))
            lo[dg] = lo_d
            hi[dg] = hi_d
    return lo.reshape(shape), hi.reshape(shape), degenerate.reshape(shape)



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
            return np.where(u > 0, dist.t_ppf(q, np.where(u > 0, u, 1)), np.nan)
    return _per_column(df, f)

