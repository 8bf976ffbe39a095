"""The estimators of a design: means, totals, ratios, proportions, multiple choice, Rao-Scott test.

:class:`Estimators` is the half of :class:`diagnostics.stats.survey.Design` that turns
columns into score matrices and result tables; the other half (weights, strata, clusters,
variance) is in :mod:`diagnostics.stats.survey.design`.
"""
from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
from scipy.special import logit

from diagnostics.errors import EstimationError, where
from diagnostics.results import Attachment

from . import variance
from .contrast import domain_contrast
from .intervals import ci_method as interval_method
from .intervals import proportion_ci
from .variance import csr, thread_map
from .. import distributions as dist

RESULT_COLUMNS = ["domain", "variable", "level", "estimate", "se", "ci_low", "ci_high", "n",
                  "deff", "fragile", "suppressed", "method"]
MISSING_DEFAULT = ("ne sait pas", "refus", "ne souhaite pas répondre")  # labels of the questionnaire's codes 98, 99, 999
OVERALL = "ensemble"

# ----------------------------------------------------------------------------------------
# Rao-Scott test
# ----------------------------------------------------------------------------------------

def _norm_token(x) -> str:
    s = unicodedata.normalize("NFKD", str(x).strip().lower())
    return "".join(ch for ch in s if not unicodedata.combining(ch))


#: Columns of :meth:`Estimators.chisq`'s table (one row per test).
CHISQ_COLUMNS = ["domain", "variable", "level", "estimate", "se", "ci_low", "ci_high",
                 "statistic", "df_num", "df", "p_value", "chisq", "chisq_df", "chisq_adjusted",
                 "p_chisq", "mean_deff", "n", "conf_level", "method", "kind"]


class Estimators:
    """Estimators shared by every :class:`~diagnostics.stats.survey.Design` (mixin)."""

    def numeric(self, var):
        """The column ``var`` as floats (empty cells NaN), or a French refusal naming the row."""
        col = self.column(var)
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
        Y = np.column_stack([self.numeric(v) for v in variables])
        M = ~np.isnan(Y)
        dom, labels = self.domain_codes(by)
        res = self._linear(kind, Y, M, dom, len(labels))
        cov = self._covariance(kind, Y, M, dom, len(labels), res["theta"])
        return self._table(res, labels, variables, [""] * len(variables), method, kind=kind,
                           cov=cov)

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
        Y = np.column_stack([self.numeric(v) for v in nums])
        X = np.column_stack([self.numeric(v) for v in dens])
        M = ~np.isnan(Y) & ~np.isnan(X)
        dom, labels = self.domain_codes(by)
        res = self._linear("ratio", Y, M, dom, len(labels), X=X)
        names = [f"{a}/{b}" for a, b in zip(nums, dens)]
        cov = self._covariance("ratio", Y, M, dom, len(labels), res["theta"], X=X)
        return self._table(res, labels, names, [""] * len(names), "ratio (linéarisation)",
                           kind="ratio", cov=cov)

    def _categorical(self, var, missing, keep_missing, levels):
        col = self.column(var)
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
        cols = [self.column(v) for v in variables]
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
            b = np.ascontiguousarray(block[r:r + variance.FILL_ROWS])
            np.equal(b, b, out=valid[r:r + variance.FILL_ROWS])          # False for NaN only
            for j, x in enumerate(lv):
                np.equal(b, x, out=Y[r:r + variance.FILL_ROWS, j::L])
            return Y[r:r + variance.FILL_ROWS].any(axis=0)
        seen = np.logical_or.reduce(thread_map(fill, range(0, n, variance.FILL_ROWS), n))
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
        dom, labels = self.domain_codes(by)
        n_dom = len(labels)
        meth = interval_method(ci_method)
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
            return csr(dom[sel], np.flatnonzero(sel), (n_dom, self.n))
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
        cov = self._covariance("mean", Y, M, dom, n_dom, p, colvar=colvar)
        return self._table(res, labels, names, lvls, method, ci=(lo, hi),
                           extra_cols={"numerator": numer.astype(np.int64),
                                       "n_missing": n_miss.astype(np.int64),
                                       "n_na": n_na.astype(np.int64)},
                           kind="proportion", cov=cov)

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
            Dr = csr(d_r, np.arange(len(rows)), (len(res["theta"]), len(rows)))
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
        vals = np.column_stack([self.numeric(c) for c in cols])
        if answered is None:
            ans = ~np.isnan(vals).all(axis=1)
        elif isinstance(answered, str):
            ans = self.column(answered).fillna(False).astype(bool).to_numpy()
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

    def domain_contrast(self, variable, by) -> pd.DataFrame:
        """Each domain of ``by`` against the rest of the domains (R ``svyby`` + ``svycontrast``).

        See :func:`diagnostics.stats.survey.contrast.domain_contrast` (the difference of the
        domain's mean and its complement's, covariance included, with Student's t test on
        the degrees of freedom of the valid answers, as R's ``svyttest``).
        """
        return domain_contrast(self, variable, by)

    def by(self, domain):
        """A view whose estimators all use ``by=domain`` (``d.by("quartier").mean("x")``)."""
        return ByView(self, domain)

    def chisq(self, var1, var2, missing=MISSING_DEFAULT) -> pd.DataFrame:
        """Rao-Scott corrected Pearson test of independence (R ``svychisq``).

        Parameters
        ----------
        var1, var2 : str
            Categorical columns.
        missing : sequence of str
            Answers excluded (with empty cells) from the table, as in :meth:`proportion`.

        Returns
        -------
        pandas.DataFrame
            One row (columns :data:`CHISQ_COLUMNS`, ``kind = "independence"``; ``domain``
            « ensemble », ``variable`` « var1 × var2 »): ``statistic`` is the second-order
            ``F`` (R's default), on ``df_num`` and ``df`` degrees of freedom, with its
            ``p_value``; ``chisq`` the Pearson :math:`X^2` on ``chisq_df`` degrees of freedom,
            ``chisq_adjusted`` the first-order correction with ``p_chisq``; ``mean_deff`` the
            mean generalised design effect; ``n`` the respondents in the table.  A test
            estimates no quantity: ``estimate, se, ci_low, ci_high`` are empty.
            ``frame.attrs["table"].value`` holds the estimated cell proportions.

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

    def _chisq_domain(self, var1, var2, indom, missing=MISSING_DEFAULT,
                      domain=OVERALL) -> pd.DataFrame:
        """Rao-Scott test on the rows ``indom`` (R's ``svychisq`` on a subset design)."""
        a = self.column(var1)
        b = self.column(var2)
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
        V = self._cell_covariance(w, Y, W, p)
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
        nu = self.degf if indom.all() else self.domain_counts(np.where(indom, 0, -1), 1)[0][0]
        F = X2 / tr
        dfc = (nr - 1) * (nc - 1)
        mean_delta = tr / Delta.shape[0]
        table = pd.DataFrame(P, index=pd.Index(la, name=var1), columns=pd.Index(lb, name=var2))
        out = pd.DataFrame([{
            "domain": domain, "variable": f"{var1} × {var2}", "level": "",
            "estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan,
            "statistic": F, "df_num": d0, "df": d0 * nu, "p_value": float(dist.f_sf(F, d0, d0 * nu)),
            "chisq": X2, "chisq_df": dfc, "chisq_adjusted": X2 / mean_delta,
            "p_chisq": float(dist.chi2_sf(X2 / mean_delta, dfc)), "mean_deff": mean_delta,
            "n": int((ok & (self.w > 0)).sum()), "conf_level": self.conf_level,
            "method": "Rao-Scott (F, second ordre)", "kind": "independence"}],
            columns=CHISQ_COLUMNS)
        out.attrs["table"] = Attachment(table)
        return out

    def _cell_covariance(self, w, Y, W, p):
        """Design covariance of the cell proportions :math:`\\hat p = \\sum w Y / W` (scores
        :math:`w_i (Y_i - \\hat p) / W`).

        Raked or post-stratified, the scores are residualised in two parts, :math:`w Y / W` and
        :math:`(w / W)\\,\\hat p^T` (the residuals are linear in the scores): a cell of a
        quartier's answers lies in that quartier's calibration component, so the quartiers' cells
        are swept together (:func:`~diagnostics.stats.survey.design._pack_by_component`), three
        columns instead of sixty at 30 quartiers.  The same covariance up to rounding.
        """
        if self.cal_margins is None:
            return self.var_from_scores(w[:, None] * (Y - p) / W, cov=True)
        R = self._calibrate(np.column_stack([w[:, None] * Y / W, w / W]))   # one sweep for both parts
        R = R[:, :-1] - R[:, -1:] * p
        return self._var_from_residuals(R, cov=True)


class ByView:
    """Estimators of a :class:`~diagnostics.stats.survey.Design` restricted to a fixed ``by``."""

    def __init__(self, design: Estimators, domain):
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

        Returns the tests of every domain in one table (see :meth:`Estimators.chisq`), each
        computed on the full design with the domain's rows only (R's ``svyby(...,
        svychisq)`` on the subset design, as ``svychisq(~a + b, subset(design, dom == k))``).
        """
        dom, labels = self._d.domain_codes(self._by)
        return pd.concat([self._d._chisq_domain(var1, var2, dom == k, domain=lab, **kw)
                          for k, lab in enumerate(labels)], ignore_index=True)

    def contrast(self, variable):
        """Each domain of the view against the rest of them (:func:`domain_contrast`)."""
        return domain_contrast(self._d, variable, self._by)
