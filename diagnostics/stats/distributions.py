"""Quantiles and tail probabilities of the normal, Student t, chi-square, F and beta laws.

Each function evaluates what ``scipy.stats`` itself evaluates for that law (scipy 1.17,
``scipy/stats/_continuous_distns.py``): ``norm.ppf`` is :func:`scipy.special.ndtri`, ``t.ppf``
is :func:`~scipy.special.stdtrit`, ``chi2.ppf`` is :math:`2\\,\\mathrm{gammaincinv}(\\nu/2, q)`,
``f.sf`` is :func:`~scipy.special.fdtrc`, ``beta.ppf`` Boost's inverse of the regularised
incomplete beta function, with the rules of ``rv_continuous`` at the edges: a probability of 0
or 1 gives the end of the support, an argument outside the support 0 or 1, an invalid
parameter (a non-positive degree of freedom or shape) NaN.

Why not ``scipy.stats`` itself: importing it builds the documentation of its hundred-odd laws
and loads ``scipy.optimize``, ``integrate``, ``interpolate``, ``spatial`` and ``ndimage``,
0.45 s of processor in every process that loads the survey estimators (the notebooks' kernel
and the build's second process), for these five laws.  ``tests/test_distributions.py`` checks
every function against ``scipy.stats`` on grids that include the edges: the same numbers to the
last bit.
"""
from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["beta_ppf", "chi2_ppf", "chi2_sf", "f_isf", "f_sf", "norm_cdf", "norm_ppf", "norm_sf", "t_ppf",
           "t_sf"]


def _finish(out, ok):
    """NaN where a parameter is invalid; a NumPy scalar for scalar arguments, as ``scipy.stats``."""
    out = np.where(ok, out, np.nan)
    return out[()]


def _quantile(q, value, low, high, ok):
    """``value`` inside (0, 1), the support's ends at q = 0 and 1, NaN outside [0, 1] or when not ``ok``."""
    q = np.asarray(q, dtype=float)
    out = np.where(q == 0, low, np.where(q == 1, high, value))
    return _finish(np.where((q >= 0) & (q <= 1), out, np.nan), ok)


def _tail(x, value, low, high, ok):
    """Upper tail ``value`` inside the support (low, high), 1 at or below ``low``, 0 at or above ``high``."""
    x = np.asarray(x, dtype=float)
    return _finish(np.where(x <= low, 1.0, np.where(x >= high, 0.0, value)), ok)


def norm_ppf(q):
    r"""Quantile of the standard normal law, :math:`\Phi^{-1}(q)` (``scipy.stats.norm.ppf``)."""
    with np.errstate(invalid="ignore"):
        return _quantile(q, special.ndtri(q), -np.inf, np.inf, True)


def norm_cdf(x):
    r""":math:`\Phi(x)`, the standard normal distribution function (``scipy.stats.norm.cdf``)."""
    return np.asarray(special.ndtr(x), dtype=float)[()]


def norm_sf(x):
    r""":math:`1 - \Phi(x) = \Phi(-x)` (``scipy.stats.norm.sf``)."""
    return np.asarray(special.ndtr(np.negative(x)), dtype=float)[()]


def t_ppf(q, df):
    r"""Quantile of Student's t law with ``df`` degrees of freedom (``scipy.stats.t.ppf``).

    ``df`` > 0, possibly infinite (the normal law); NaN otherwise.
    """
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return _quantile(q, special.stdtrit(df, q), -np.inf, np.inf, df > 0)


def t_sf(x, df):
    r""":math:`P(T_{df} > x)` (``scipy.stats.t.sf``)."""
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return _tail(x, special.stdtr(df, np.negative(x)), -np.inf, np.inf, df > 0)


def chi2_ppf(q, df):
    r"""Quantile of the chi-square law, :math:`2\,P^{-1}(\nu/2, q)` (``scipy.stats.chi2.ppf``)."""
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return _quantile(q, 2 * special.gammaincinv(df / 2, q), 0.0, np.inf, df > 0)


def chi2_sf(x, df):
    r""":math:`P(\chi^2_{df} > x)` (``scipy.stats.chi2.sf``)."""
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return _tail(x, special.chdtrc(df, x), 0.0, np.inf, df > 0)


def f_sf(x, dfn, dfd):
    r""":math:`P(F_{dfn, dfd} > x)` (``scipy.stats.f.sf``)."""
    dfn, dfd = np.asarray(dfn, dtype=float), np.asarray(dfd, dtype=float)
    with np.errstate(invalid="ignore"):
        return _tail(x, special.fdtrc(dfn, dfd, x), 0.0, np.inf, (dfn > 0) & (dfd > 0))


def f_isf(q, dfn, dfd):
    r"""The value an F law exceeds with probability ``q`` (``scipy.stats.f.isf``: the quantile of 1 − q)."""
    dfn, dfd = np.asarray(dfn, dtype=float), np.asarray(dfd, dtype=float)
    q = np.asarray(q, dtype=float)
    with np.errstate(invalid="ignore"):
        return _quantile(q, special.fdtri(dfn, dfd, 1.0 - q), np.inf, 0.0, (dfn > 0) & (dfd > 0))


def beta_ppf(q, a, b):
    r"""Quantile of the beta law :math:`\mathrm{B}(a, b)` (``scipy.stats.beta.ppf``).

    :func:`scipy.special.betaincinv`, Boost's ``ibeta_inv`` as ``scipy.stats`` uses through a
    private function: the same numbers for every probability from 1e-50 to 1 (checked on a
    million pairs of shapes); below 1e-50 Boost's root finding may give up here (NaN) and not
    there, at levels no interval uses.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore"):
        return _quantile(q, special.betaincinv(a, b, q), 0.0, 1.0, (a > 0) & (b > 0))
