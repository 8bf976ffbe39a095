"""The survey design (R's ``svydesign``): weights, strata, clusters, fpc and calibration."""
from __future__ import annotations

import numpy as np
import pandas as pd

from diagnostics.errors import EstimationError, where
from diagnostics.results import COVARIANCE_ATTR, Covariance, check_conf_level
from diagnostics.stats import weighting
from diagnostics.stats.weighting import Calibration, check_weights

from . import variance
from .calibrated import calibration_margins
from .. import distributions as dist
from .domains import DomainPlan
from .estimators import OVERALL, Estimators
from .variance import (
    csr,
    DesignRows,
    row_block,
    Stage,
    thread_map,
)


class Design(Estimators):
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
        Result of :func:`diagnostics.stats.weighting.rake` / ``poststratify`` on the same rows:
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
        conf_level = check_conf_level(conf_level)
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
        if cal is not None:
            cal = cal.align(data.index, file)
        self.calibration = cal
        self._spec = dict(strata=strata, cluster=cluster, fpc=fpc, nest=nest,
                          lonely_psu=lonely_psu, fragile_n=fragile_n, suppress_n=suppress_n,
                          conf_level=conf_level, domain_df=domain_df, file=file)
        w, wname = self._weights(weights, cal)
        self.w = w

        # first-stage strata
        if strata is None:
            h = np.zeros(n, dtype=np.int64)
            self.strata_labels = np.array([OVERALL], dtype=object)
        else:
            col = self.column(strata)
            if col.isna().any():
                i = int(np.flatnonzero(col.isna().to_numpy())[0])
                raise EstimationError(f"{where(file, i + 2, strata)}strate manquante : attendu "
                                      "une valeur pour chaque répondant.")
            h, self.strata_labels = pd.factorize(col, sort=True)
        h = np.asarray(h, dtype=np.int64)
        # clusters of every stage (later stages nested in the earlier ones, as R)
        codes = []
        for k, name in enumerate(clusters):
            col = self.column(name)
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
            stages.append(Stage(parent_h, c, n_par, f, mult, lonely_psu, st_labels))
            # next stage: strata are this stage's clusters
            st = stages[-1]
            mult = (mult * frac)[st.psu_h]
            parent_h, n_par = c, st.n_psu
        self.stages = stages
        s1 = stages[0]
        # first-stage attributes (kept for readers of the design)
        self.h, self.c, self.psu_h, self.nh = s1.h, s1.c, s1.psu_h, s1.nh
        self.n_strata, self.n_psu, self.f, self.scale = s1.n_strata, s1.n_psu, s1.f, s1.scale
        self.lonely, self.cw, self.P, self.HS = s1.lonely, s1.cw, s1.P, s1.HS
        self.degf = self.degf_of(w > 0)
        self.cal_margins = self._greg_basis = None
        self._plans = []   # recent domain plans: (domain codes, n_dom, block, plan)
        if cal is not None and cal.kind == "greg":
            # orthonormal basis of √d X (R's qr(mm * whalf)), rank-deficient X allowed
            d0 = np.asarray(cal.oldweights, float)
            U, sv, _ = np.linalg.svd(cal.groups[0] * np.sqrt(d0)[:, None], full_matrices=False)
            with np.errstate(divide="ignore", invalid="ignore"):   # a zero weight: no score
                gw = np.where(d0 > 0, np.asarray(cal.weights, float) / np.sqrt(d0), 1.0)
            self._greg_basis = (U[:, sv > sv.max() * max(cal.groups[0].shape) * 1e-15], gw)
        elif cal is not None:
            self.cal_margins = calibration_margins(cal, n)

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
        w = check_weights(w, n, file, wname)
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
        vals = self.column(fpc) if isinstance(fpc, str) else pd.Series(np.asarray(fpc, float))
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
    def column(self, name) -> pd.Series:
        """The column ``name`` of the data, or a French refusal naming it."""
        if name not in self.data.columns:
            raise EstimationError(f"{where(self.file, None, name)}colonne absente des réponses.")
        return self.data[name]

    @property
    def calibrated(self) -> bool:
        return self.calibration is not None

    # ------------------------------------------------------------------ new designs (R's verbs)
    def _with(self, weights=None, calibration=None) -> "Design":
        """A new design on the same data and settings, with other weights or calibration."""
        return type(self)(self.data, weights=weights, calibration=calibration, **self._spec)

    def _start_weights(self, verb: str) -> pd.Series:
        if self.calibrated:
            raise EstimationError(
                f"{where(self.file)}ce plan de sondage est déjà calé : {verb} s'applique à un "
                "plan non calé (calez une seule fois, sur toutes les marges à la fois).")
        return pd.Series(self.w, index=self.data.index)

    def rake(self, margins, **kwargs) -> "Design":
        """A new design raked to population ``margins`` (R's ``rake(design, …)``).

        Parameters
        ----------
        margins, **kwargs
            As :func:`diagnostics.stats.weighting.rake`; the design's weights are the
            starting weights.

        Returns
        -------
        Design
            A new design (same data, strata, clusters, fpc and settings) whose weights are the
            raked ones, aligned on the data's index, with calibration-aware variances.  This
            design is unchanged.

        Notes
        -----
        Iterative proportional fitting, see :func:`~diagnostics.stats.weighting.rake`.

        References
        ----------
        Lumley T. (2010) *Complex Surveys*, Wiley, §7.3; R package survey, ``rake``.
        """
        res = weighting.rake(self.data, margins, weight=self._start_weights("le calage"),
                             file=self.file, **kwargs)
        return self._with(calibration=res)

    def poststratify(self, strata_cols, population, **kwargs) -> "Design":
        """A new post-stratified design (R's ``postStratify(design, …)``).

        Parameters
        ----------
        strata_cols, population, **kwargs
            As :func:`diagnostics.stats.weighting.poststratify`.

        Returns
        -------
        Design
            A new design; this one is unchanged.

        Notes
        -----
        :math:`w_i^* = w_i N_g / \\sum_{j \\in g} w_j` in post-stratum :math:`g`.

        References
        ----------
        R package survey, ``postStratify``.
        """
        res = weighting.poststratify(self.data, strata_cols, population,
                                     weight=self._start_weights("la post-stratification"),
                                     file=self.file, **kwargs)
        return self._with(calibration=res)

    def calibrate(self, totals, **kwargs) -> "Design":
        """A new design calibrated to population ``totals`` (R's ``calibrate(design, …)``).

        Parameters
        ----------
        totals, **kwargs
            As :func:`diagnostics.stats.weighting.calibrate`.

        Returns
        -------
        Design
            A new design; this one is unchanged.

        Notes
        -----
        :math:`w_i = d_i F(x_i^T\\lambda)` with :math:`\\sum_i w_i x_i = t`.

        References
        ----------
        Deville J.-C., Särndal C.-E. (1992) JASA 87:376-382; R package survey, ``calibrate``.
        """
        res = weighting.calibrate(self.data, totals, weights=self._start_weights("le calage"),
                                  file=self.file, **kwargs)
        return self._with(calibration=res)

    def trim(self, lower=None, upper=None, *, strict: bool = False) -> "Design":
        """A new design with trimmed weights (R's ``trimWeights(design, …)``).

        Parameters
        ----------
        lower, upper, strict
            As :func:`diagnostics.stats.weighting.trim_weights`.

        Returns
        -------
        Design
            A new design whose weights are trimmed (their total kept); this one is unchanged.
            A calibrated design is refused: bound the calibration itself instead
            (``rake(…, bounds=…)``, ``calibrate(…, bounds=…)``).

        Notes
        -----
        :math:`w^*_i = \\min(\\max(w_i, L), U)`, the trimmed amount shared among the others.

        References
        ----------
        R package survey, ``trimWeights``.
        """
        w = self._start_weights("l'écrêtage")
        return self._with(weights=weighting.trim_weights(w, lower, upper, strict=strict))

    def domain_key(self, by) -> pd.Series:
        """The domain of each respondent (missing: in no domain), on the data's index.

        Parameters
        ----------
        by : str, list of str or pandas.Series
            Domain column(s), joined by « / » when several (a row with one of them missing
            is in no domain); or a Series of domains aligned on the data's index.

        Returns
        -------
        pandas.Series
        """
        if isinstance(by, pd.Series):
            if not by.index.equals(self.data.index):
                raise EstimationError(f"{where(self.file)}les domaines donnés ne portent pas "
                                      "sur les répondants du plan de sondage (index différent).")
            return by
        cols = [by] if isinstance(by, str) else list(by)
        frame = pd.DataFrame({c: self.column(c) for c in cols})
        if len(cols) == 1:
            return frame[cols[0]]
        ok = frame.notna().all(axis=1)
        return frame.astype(str).agg(" / ".join, axis=1).where(ok)

    def domain_codes(self, by):
        """Integer domain code per row (−1: in no domain) and the sorted labels (see
        :meth:`domain_key`); ``by=None``: one domain, « ensemble »."""
        if by is None:
            return np.zeros(self.n, dtype=np.int64), [OVERALL]
        codes, labels = pd.factorize(self.domain_key(by), sort=True)
        return np.asarray(codes, dtype=np.int64), list(labels)

    def _calibrate(self, S):
        """Residualise row scores on the calibration variables (R ``svyrecvar``)."""
        if self.calibration is None:
            return S
        if self._greg_basis is not None:   # R: qr.resid(qr, x / (g √d)) * (g √d)
            U, gw = self._greg_basis
            z = np.asarray(S, float) / gw[:, None]
            return (z - U @ (U.T @ z)) * gw[:, None]
        S = np.array(S, float)
        packed, unpack = _pack_by_component(S, self.cal_margins.comp_row)
        for _ in range(self.cal_margins.sweeps):
            for G, f, psw, den in self.cal_margins.rows:
                ave = (G @ (packed * f[:, None])) / den[:, None]
                packed -= psw[:, None] * (G.T @ ave)
        return unpack(packed)

    def var_from_scores(self, S, cov=False):
        """Linearised variance (diagonal or full matrix) of row scores S (n × K).

        Scores are first residualised on the calibration (if any), then the variance of
        every sampling stage is added (R's ``svyrecvar``).
        """
        return self._var_from_residuals(self._calibrate(np.asarray(S, float)), cov=cov)

    def _var_from_residuals(self, R, cov=False):
        """:meth:`var_from_scores` of scores already residualised on the calibration (:meth:`_calibrate`)."""
        return sum(st.var_rows(R, cov=cov) for st in self.stages)

    def average_factor(self, rows, d_r, valid, n_dom):
        """R's ``lonely_psu="average"`` factor of each domain and column (n_dom × K), or None.

        R estimates a domain of a design without calibration on the subset of its rows
        (and of the valid answers, ``na.rm = TRUE``): the first-stage variance is
        multiplied by the number of strata of that subset over the number of them with
        more than one PSU, not by the whole design's ratio (``Design.avg``, which is
        already in the stage's scale and is divided out here).  ``rows`` (domain ``d_r``)
        are the domains' rows, ``valid`` the (n × K) validity mask.
        """
        st = self.stages[0]
        if st.lonely_psu != "average" or not st.lonely.any() or self.calibrated:
            return None
        H = st.n_strata
        G = csr(st.h[rows] * n_dom + d_r, rows, (H * n_dom, self.n))
        present = (G @ np.asarray(valid, float) > 0).reshape(H, n_dom, -1)
        nstr = present.sum(axis=0)
        nok = nstr - present[st.lonely].sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(nok > 0, nstr / nok, 1.0) / st.avg

    def degf_of(self, rows) -> int:
        """Degrees of freedom of the subset ``rows`` (a mask): its PSUs minus its strata, as R's
        ``degf()`` of a subset design (:math:`\\#PSU - \\#strata`)."""
        return int(len(np.unique(self.c[rows])) - len(np.unique(self.h[rows])))

    def domain_counts(self, dom, n_dom):
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
                                  threads=variance.THREADS)

    def _linear_pairs(self, kind, Y, M, dom, n_dom, X=None, *, colvar=None, binary=False,
                      threads=1):
        """Grouped-sum path: the sums by domain and by (PSU, domain) pair as sparse products.

        A domain's score is zero outside the domain, so its PSU totals are sums over the
        (PSU, domain) pairs; with a calibration (post-stratification or raking) the
        residuals are obtained cell by cell (see :class:`CalPlan`), and the PSU totals of
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
        jobs = max(1, min(threads, n // variance.MIN_ROWS_PER_THREAD))
        return self._linear_core(plan, kind, Y, M, X, used, cv, same, binary, jobs,
                                 lambda f, xs: thread_map(f, xs, n if jobs > 1 else 0))

    def _plan(self, dom, n_dom, n_cols):
        """The domain plan of ``dom`` (kept for the next questions on the same domains)."""
        block = DomainPlan.block_size(n_cols)
        for d, nd, b, plan in self._plans:
            if nd == n_dom and b == block and np.array_equal(d, dom):
                return plan
        plan = DomainPlan(self, dom, n_dom, n_cols)
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
                z = scores(row_block(Gw, s, e), pg.pair_dom[s:e])
                if L is not None:
                    z -= row_block(L, s, e) @ A
                    z = np.nan_to_num(z, copy=False)
                return z
            v = pg.variance(pair_totals, K, jobs, run)
            if pg is plan.stages[0][0]:
                fac = self.average_factor(plan.rows, plan.d_r, Mf, n_dom)
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
            Dp = csr(pg.pair_dom, np.arange(pg.n_pairs), (n_dom, pg.n_pairs))
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
        return DesignRows.linear_rows(self, kind, Y, M, dom, n_dom, X)

    # ------------------------------------------------------------------ covariance
    def _covariance(self, kind, Y, M, dom, n_dom, theta, X=None, colvar=None):
        """The (lazy) covariance of the estimates ``theta`` (n_dom × K) of :meth:`_linear`.

        Notes
        -----
        Returns the two callables of :class:`~diagnostics.results.Covariance` (the matrix, the
        degrees of freedom).  The scores of domain :math:`d` and column :math:`k` are those of :meth:`_linear`
        (:math:`w_i (y_i - \\hat\\theta_{dk})/\\hat W_{dk}` for a mean, over the valid
        answers of the domain), stacked in one (n × n_dom K) matrix whose design covariance
        (calibration and every stage included) is that of the estimates, as R's
        ``vcov(svyby(..., covmat = TRUE))``.  ``lonely_psu = "average"`` uses the whole
        design's factor here.  Degrees of freedom: PSUs minus strata among the rows of
        positive weight in a domain with a valid answer (R's ``degf`` of that subset).
        """
        K = Y.shape[1]
        keep = (dom >= 0) & (self.w > 0)

        def valid():
            Mk = np.asarray(M if colvar is None else M[:, colvar]) > 0
            return Mk & (dom >= 0)[:, None]

        def matrix():
            Mk, w = valid(), self.w[:, None]
            S = np.zeros((self.n, n_dom * K))
            with np.errstate(divide="ignore", invalid="ignore"):
                for d in range(n_dom):
                    ind = Mk & (dom == d)[:, None]
                    if kind == "total":
                        z = w * Y
                    elif kind == "ratio":
                        z = w * (Y - theta[d] * X) / (w * np.where(ind, X, 0)).sum(axis=0)
                    else:
                        z = w * (Y - theta[d]) / (w * ind).sum(axis=0)
                    S[:, d * K:(d + 1) * K] = np.where(ind, z, 0.0)
            return self.var_from_scores(S, cov=True)

        def df():
            return self.degf_of(keep & valid().any(axis=1))
        return matrix, df

    # ------------------------------------------------------------------ result table
    def _table(self, res, labels, variables, levels, method, ci=None, extra_cols=None,
               kind=None, cov=None):
        n_dom, V = res["theta"].shape
        est = res["theta"]
        se = np.sqrt(np.maximum(res["var"], 0))
        if ci is None:
            z = dist.norm_ppf(1 - (1 - self.conf_level) / 2)
            lo, hi = est - z * se, est + z * se
        else:
            lo, hi = ci
        nn = res["n"].astype(np.int64).ravel()
        columns = {   # built whole, then one frame (a column added at a time costs a copy each)
            "domain": np.repeat(np.asarray(labels, dtype=object), V),
            "variable": np.tile(np.asarray(variables, dtype=object), n_dom),
            "level": np.tile(np.asarray(levels, dtype=object), n_dom),
            "estimate": est.ravel(), "se": se.ravel(),
            "ci_low": np.asarray(lo).ravel(), "ci_high": np.asarray(hi).ravel(),
            "n": nn, "deff": res["deff"].ravel(),
            "fragile": nn < self.fragile_n, "suppressed": nn < self.suppress_n,
            "method": (method if isinstance(method, (str, pd.api.extensions.ExtensionArray))
                       else np.asarray(method).ravel()),
            "df": res["degf"].ravel().astype(np.int64), "conf_level": self.conf_level,
            **{k: np.asarray(v).ravel() for k, v in (extra_cols or {}).items()},
        }
        if kind is not None:
            columns["kind"] = kind
        frame = pd.DataFrame(columns)
        if cov is not None:
            keys = (frame["domain"], frame["variable"], frame["level"])
            frame.attrs[COVARIANCE_ATTR] = Covariance(keys, *cov)
        return frame


def _pack_by_component(S, comp):
    """Columns of ``S`` that share no calibration component, added into one; and the inverse.

    A calibration component is a set of rows linked through the cells of every margin (a
    quartier, when the margins are crossed with it).  One back-fitting step sums a column over
    the rows of each cell and subtracts the cell's mean from them: the rows of a component never
    meet those of another.  So the columns whose non-zero rows lie in one component each (a
    domain's scores) are residualised together, one column per rank within their component,
    and each is read back on its own component's rows: the same operations on the same numbers,
    hence the same bits, and at 30 quartiers thirty columns swept as one.  The other columns
    (the rest of the domains, spanning several components) keep a column of their own.

    Returns
    -------
    packed : ndarray
        n × (ranks + others) columns to residualise.
    unpack : callable
        ``unpack(residualised packed) -> n × K``: each column on its component's rows, its
        original values (zeros) elsewhere; the others as they come out.
    """
    nz = S != 0
    comp = np.asarray(comp, np.int64)
    lo = np.where(nz, comp[:, None], int(comp.max()) + 1).min(axis=0)
    hi = np.where(nz, comp[:, None], -1).max(axis=0)
    single = lo == hi
    if single.sum() < 2:
        return S, lambda R: R
    order = np.flatnonzero(single)[np.argsort(lo[single], kind="stable")]
    first = np.searchsorted(lo[order], lo[order])      # the first column of each column's component
    rank = np.empty(S.shape[1], np.int64)
    rank[order] = np.arange(len(order)) - first
    n_ranks = int(rank[single].max()) + 1
    others = np.flatnonzero(~single & nz.any(axis=0))
    packed = np.zeros((S.shape[0], n_ranks + len(others)))
    for r in range(n_ranks):
        cols = order[rank[order] == r]
        packed[:, r] = S[:, cols].sum(axis=1) if len(cols) > 1 else S[:, cols[0]]
    packed[:, n_ranks:] = S[:, others]

    def unpack(R):
        out = S.copy()
        for j in order:
            mine = comp == lo[j]
            out[mine, j] = R[mine, rank[j]]
        out[:, others] = R[:, n_ranks:]
        return out
    return packed, unpack
