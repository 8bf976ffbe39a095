"""Domains (R's ``svyby``): what an estimation in given domains shares."""
from __future__ import annotations

import numpy as np
from scipy import sparse

from . import variance
from .calibrated import CalPlan
from .variance import csr


class DomainPlan:
    """What an estimation in given domains shares across its columns and its threads.

    Sparse maps from the respondents' rows (columns of the maps are row numbers of the
    data, rows outside every domain are simply absent) to their domain, to the (PSU, domain)
    pairs of every stage and, for a calibrated design, to the lifted calibration cells.
    """

    @staticmethod
    def block_size(n_cols):
        """Pairs per block of ``n_cols`` columns."""
        return max(variance.MIN_BLOCK, variance.BLOCK_BYTES // (8 * max(n_cols, 1)))

    def __init__(self, design, dom, n_dom, n_cols):
        n = design.n
        block = self.block_size(n_cols)
        self.n_dom = n_dom
        self.rows = rows = np.flatnonzero(dom >= 0)
        self.d_r = d_r = dom[rows]
        w = design.w[rows]
        pos = w > 0
        self.all_pos = bool(pos.all())
        self.Dw = csr(d_r, rows, (n_dom, n), w)
        # one column-major product gives the weighted sums, the counts, and the counts among
        # positive weights: each row of the data is read once
        maps = [self.Dw, csr(d_r, rows, (n_dom, n))]
        if not self.all_pos:
            maps.append(csr(d_r[pos], rows[pos], (n_dom, n)))
        self.W = sparse.vstack(maps).tocsc()
        self.cal = (None if design.cal_margins is None
                    else CalPlan(design.cal_margins, rows, d_r, w, n_dom, n))
        self.stages = []
        nr = len(rows)
        for st in design.stages:
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
            self.degf, self.nrow = design.domain_counts(dom, n_dom)
