"""Variance of calibrated designs: scores replaced by their residuals on the calibration margins.

As R's ``postStratify`` / ``rake`` designs (``svyrecvar`` on ``postStrata``): post-strata means
are removed from the scores; for raking, 10 back-fitting sweeps over the margins.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from diagnostics.errors import EstimationError
from diagnostics.stats.weighting import Calibration

from .variance import csr, serial


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
            G = csr(g, np.arange(n), (int(g.max()) + 1, n))
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


def calibration_margins(cal, n):
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

class CalPlan:
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
        self.Gq = csr(np.concatenate(qi), np.concatenate(qr), (self.nq, n),
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
        T = csr(np.concatenate(Tr), np.concatenate(Tc), (self.nq, self.nq),
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
        run = run or serial
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


