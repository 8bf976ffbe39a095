"""The five laws of :mod:`diagnostics.stats.distributions` give what ``scipy.stats`` gives, bit for bit.

The module calls the special functions ``scipy.stats`` calls, without importing it (0.45 s per
process).  The reference here is ``scipy.stats`` itself, on grids that include the edges of each
law (probabilities 0 and 1, values at and beyond the support, invalid and infinite degrees of
freedom, NaN), and on the arguments the estimators pass (confidence levels, design degrees of
freedom, counts of the exact Poisson interval).
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from diagnostics.stats import distributions as D

Q = np.array([0.0, 1e-300, 1e-12, 0.0005, 0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 0.995,
              0.9995, 1 - 1e-12, 1.0, -0.1, 1.1, np.nan])
X = np.array([-np.inf, -50.0, -3.2, -1.96, -1e-9, -0.0, 0.0, 1e-9, 0.3, 1.0, 1.96, 2.5, 3.84, 10.0, 80.0, 1e6,
              np.inf, np.nan])
DF = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 7.0, 29.0, 56.0, 396.0, 1e5, np.inf, np.nan])
SHAPE = np.array([-1.0, 0.0, 0.3, 1.0, 2.5, 12.0, 57.0, 400.0, np.nan])


def _same(got, expected):
    """Equal to the last bit, NaN where NaN, and of the same shape and kind (NumPy scalar or array)."""
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(expected), strict=True)


def test_normal_law():
    _same(D.norm_ppf(Q), stats.norm.ppf(Q))
    _same(D.norm_cdf(X), stats.norm.cdf(X))
    _same(D.norm_sf(X), stats.norm.sf(X))
    for q in (0.975, 0.5, 0.0, 1.0):           # a scalar gives a NumPy scalar, as scipy.stats
        _same(D.norm_ppf(q), stats.norm.ppf(q))
        assert type(D.norm_ppf(q)) is type(stats.norm.ppf(q))


@pytest.mark.parametrize("df", DF)
def test_student_law(df):
    _same(D.t_ppf(Q, df), stats.t.ppf(Q, df))
    _same(D.t_sf(X, df), stats.t.sf(X, df))


@pytest.mark.parametrize("df", DF)
def test_chi_square_law(df):
    _same(D.chi2_ppf(Q, df), stats.chi2.ppf(Q, df))
    _same(D.chi2_sf(X, df), stats.chi2.sf(X, df))


@pytest.mark.parametrize("dfn", [-1.0, 0.0, 1.0, 2.0, 5.5, 30.0, np.inf])
def test_f_law(dfn):
    for dfd in DF:
        _same(D.f_sf(X, dfn, dfd), stats.f.sf(X, dfn, dfd))
        _same(D.f_isf(Q, dfn, dfd), stats.f.isf(Q, dfn, dfd))


@pytest.mark.parametrize("a", SHAPE)
def test_beta_law(a):
    """Probabilities down to 1e-50: below, Boost's root finder may give up (NaN) in one and not the other."""
    q = np.where(Q == 1e-300, 1e-50, Q)
    for b in SHAPE:
        _same(D.beta_ppf(q, a, b), stats.beta.ppf(q, a, b))


def test_broadcast_arguments_as_the_estimators_pass_them():
    """Arrays of degrees of freedom and counts, as the domain intervals and the exact Poisson limits."""
    df = np.array([1.0, 12.0, 57.0, 396.0])
    _same(D.t_ppf(0.975, df), stats.t.ppf(0.975, df))
    _same(D.t_sf(np.array([0.4, 2.2, 1.1, 3.0]), df), stats.t.sf(np.array([0.4, 2.2, 1.1, 3.0]), df))
    x = np.arange(0, 60, dtype=float)
    _same(D.chi2_ppf(0.025, 2 * np.where(x > 0, x, 1)), stats.chi2.ppf(0.025, 2 * np.where(x > 0, x, 1)))
    _same(D.chi2_ppf(0.975, 2 * x + 2), stats.chi2.ppf(0.975, 2 * x + 2))
    n, p = np.array([3.0, 40.0, 120.0]), np.array([0.0, 0.3, 1.0])
    _same(D.beta_ppf(0.025, n * p, n * (1 - p) + 1), stats.beta.ppf(0.025, n * p, n * (1 - p) + 1))
    _same(D.f_isf(np.array([0.01, 0.2]), 1, np.array([10.0, 395.0])), stats.f.isf(np.array([0.01, 0.2]), 1,
                                                                              np.array([10.0, 395.0])))


def test_the_estimators_do_not_load_scipy_stats():
    """The kernel and the build's second process load the estimators without ``scipy.stats``."""
    code = ("import sys, diagnostics.engine.indicators, diagnostics.engine.evolution, diagnostics.engine.history, "
            "diagnostics.collect.validation, diagnostics.publish.report; "
            "print(sorted(m for m in sys.modules if m in ('scipy.stats', 'scipy.optimize')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
