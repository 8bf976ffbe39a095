"""Domains (R's ``svyby``): what an estimation in given domains shares, and a design seen by domain."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse, stats

from . import variance
from .calibrated import _CalPlan
from .variance import _csr

if TYPE_CHECKING:
    from .design import Design



class _DomainPlan:
    """What an estimation in given domains shares across its columns and its threads.

    Sparse maps from the respondents' rows (columns of the maps are row numbers of the
    data, rows outside every domain are simply absent) to their domain, to the (PSU, domain)
    pairs of every stage and, for a calibrated design, to the lifted calibration cells.
    """

    @staticmethod
    def block_size(n_cols):
        """Pairs per block of ``n_cols`` columns."""
        return max(variance._MIN_BLOCK, variance._BLOCK_BYTES // (8 * max(n_cols, 1)))

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

    def contrast(self, variable):
        """Each domain of the view against the rest of them (:func:`domain_contrast`)."""
        return domain_contrast(self._d, variable, self._by)


#: Columns of :func:`domain_contrast`'s table.
CONTRAST_COLUMNS = ["domain", "variable", "estimate", "rest", "difference", "se", "ci_low",
                    "ci_high", "statistic", "df", "p_value", "n", "n_rest", "conf_level"]


def domain_contrast(design: Design, variable: str, by) -> pd.DataFrame:
    """Each domain against the rest of the domains: difference of the two means, with its test.

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
        One row per domain, columns :data:`CONTRAST_COLUMNS`: the domain's mean ``estimate``,
        the mean of the ``rest``, ``difference = estimate − rest``, its linearised ``se``,
        the confidence interval ``difference ± t_{df} se``, ``statistic = difference / se``,
        ``df`` and the two-sided ``p_value`` (Student's t), unweighted ``n`` of each side.

    Notes
    -----
    With :math:`\\hat\\mu_A = \\sum_{i \\in A} w_i y_i / \\sum_{i \\in A} w_i` for the
    domain :math:`A` and its complement :math:`B`, the difference is linearised by the row
    scores :math:`z_i = w_i [1_A(i)(y_i - \\hat\\mu_A)/\\hat W_A - 1_B(i)(y_i - \\hat\\mu_B)
    /\\hat W_B]`, whose design variance (strata, clusters, fpc; scores residualised on the
    calibration margins for a raked or post-stratified design) is
    :math:`\\widehat V(\\hat\\mu_A) + \\widehat V(\\hat\\mu_B) - 2\\widehat{C}(\\hat\\mu_A,
    \\hat\\mu_B)`: the covariance of the two means of one sample is included.  This is R's
    ``svycontrast(svyby(~y, ~g, design, svymean, covmat = TRUE), c(1, -1))``; the test is
    R's ``svyttest(y ~ g, design)``, t on :math:`\\mathrm{degf}(design) - 1` degrees of
    freedom.  ``lonely_psu = "average"`` is not supported here (the other rules are).

    References
    ----------
    Lumley T. *Complex Surveys*, Wiley 2010, §2.5 (domains) and §3.3 (``svycontrast``);
    R package survey 4.1 (``svyby``, ``svycontrast``, ``svyttest``).
    """
    y = design._numeric(variable)
    dom, labels = design._domains(by)
    ok = ~np.isnan(y) & (dom >= 0)
    w = design.w
    yz = np.where(ok, y, 0.0)
    S = np.zeros((design.n, len(labels)))
    sides = []
    for k, lab in enumerate(labels):
        a, b = ok & (dom == k), ok & (dom != k)
        Wa, Wb = w[a].sum(), w[b].sum()
        if Wa <= 0 or Wb <= 0:
            sides.append((lab, np.nan, np.nan, int(a.sum()), int(b.sum())))
            continue
        ma, mb = (w[a] * yz[a]).sum() / Wa, (w[b] * yz[b]).sum() / Wb
        S[:, k] = np.where(a, w * (yz - ma) / Wa, 0.0) - np.where(b, w * (yz - mb) / Wb, 0.0)
        sides.append((lab, ma, mb, int((a & (w > 0)).sum()), int((b & (w > 0)).sum())))
    var = design._var_from_scores(S)
    df = float(design.degf - 1)
    tq = stats.t.ppf(1 - (1 - design.conf_level) / 2, df) if df > 0 else np.nan
    rows = []
    for k, (lab, ma, mb, na, nb) in enumerate(sides):
        diff = ma - mb
        se = float(np.sqrt(var[k])) if np.isfinite(diff) else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            t = diff / se if se > 0 else np.nan
        p = float(2 * stats.t.sf(abs(t), df)) if np.isfinite(t) and df > 0 else np.nan
        rows.append({"domain": lab, "variable": variable, "estimate": ma, "rest": mb,
                     "difference": diff, "se": se, "ci_low": diff - tq * se,
                     "ci_high": diff + tq * se, "statistic": t, "df": df, "p_value": p,
                     "n": na, "n_rest": nb, "conf_level": design.conf_level})
    return pd.DataFrame(rows, columns=CONTRAST_COLUMNS)
