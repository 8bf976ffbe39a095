"""Taylor-linearisation variance of linear statistics over a multistage design (R's ``svyrecvar``).

Scores are summed per PSU (and per later-stage cluster when every stage has an fpc), centred
within strata and squared: see the Notes of :class:`diagnostics.stats.survey.Design`.  The work
is done in cache-sized blocks of (pair, column) entries, on a few threads for large files.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse

from diagnostics.errors import EstimationError

THREADS = max(1, min(4, os.cpu_count() or 1))   # column blocks estimated in parallel
MIN_ROWS_PER_THREAD = 20_000   # below this, one thread
FILL_ROWS = 1024   # rows of a block turned from column-major into row-major at once
BLOCK_BYTES = 2 ** 20   # size of a (pairs × K) block processed at once (about the L2 cache)
MIN_BLOCK = 64   # pairs of a block at least


def csr(rows, cols, shape, data=None):
    if data is None:
        data = np.ones(len(rows))
    return sparse.csr_matrix((data, (rows, cols)), shape=shape)


class DesignRows:
    """Row-level reference path (explicit n × K scores per domain), used in tests."""

    @staticmethod
    def linear_rows(d, kind, Y, M, dom, n_dom, X):
        n, V = Y.shape
        out = {k: np.empty((n_dom, V)) for k in ("theta", "var", "n", "wsum", "degf", "nrow",
                                                 "nvalid", "deff")}
        w = d.w
        degf, nrow = d.domain_counts(dom, n_dom)
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
            var = d.var_from_scores(S)
            fac = d.average_factor(np.flatnonzero(dom == k), np.zeros((dom == k).sum(),
                                    np.int64), ind.astype(float), 1)
            if fac is not None:
                var = var + (fac[0] - 1) * d.stages[0].var_rows(S)
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
                out["degf"][k] = [d.degf_of(pos[:, j]) for j in range(V)]
                if not d.calibrated:
                    out["nrow"][k] = ind.sum(axis=0)
            out["nvalid"][k] = n if d.calibrated else ind.sum(axis=0)
            out["deff"][k] = deff
        return out


class Stage:
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
        self.P = csr(self.c, np.arange(n), (C, n))           # PSU × respondent
        self.HS = csr(psu_h, np.arange(C), (H, C))           # stratum × PSU

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


def row_block(m, s, e):
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
        self.HD = csr(self.hd_idx, np.arange(P), (n_hd, P))
        s = stage.scale[self.hd_h]
        if stage.lonely_psu == "average":
            s = np.where(stage.lonely[self.hd_h], 0.0, s)
        self.s_hd, self.cw_hd = s * stage.avg, stage.cw[self.hd_h]
        # PSUs of the stratum outside the domain's pairs: zero totals (R pads them)
        self.pad_hd = stage.nh[self.hd_h] - np.diff(self.bounds)
        self.Dhd = csr(hd_dom, np.arange(n_hd), (n_dom, n_hd))
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
        return csr(rows, cols, (self.n_pairs, n_cols), data)

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
        run = run or serial
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


def serial(func, items):
    """``[func(x) for x in items]``: the one-thread ``run`` of the variance and calibration."""
    return [func(x) for x in items]


def thread_map(func, items, n_rows):
    """``[func(x) for x in items]``, on up to ``THREADS`` threads when there are enough rows."""
    items = list(items)
    jobs = min(THREADS, len(items), max(1, n_rows // MIN_ROWS_PER_THREAD))
    if jobs <= 1:
        return serial(func, items)
    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(func, items))


