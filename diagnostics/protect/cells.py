"""Statistical disclosure control of tables of counts: what may be printed of a table.

The secrecy package (:mod:`diagnostics.protect`) has three parts besides this one:

* :func:`protect_table` for any table of counts (1-D with a total, 2-D with margins): primary
  suppression of cells under a threshold (default: fewer than 10 respondents or cases), then
  secondary suppression until no suppressed cell can be recovered from the published cells and
  margins by subtraction (checked by linear programming, the « audit » of τ-Argus);
* the tidy indicator table has its own rules in :mod:`diagnostics.protect.estimates`
  (``protect_indicators``: survey estimates and exhaustive extracts);
* :func:`scrub_text` for free text (interview notes, open answers): telephone numbers, e-mail
  addresses and person names are replaced by « [téléphone] », « [courriel] », « [nom] ».

Masked extract values (« secret statistique ») stay masked: they are unknown cells to protect
like the others.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.linalg import null_space

from ..errors import DLSError

__all__ = ["ProtectedTable", "protect_table", "audit_table", "PRIMARY", "SECONDARY", "MASKED", "SECRET_MARK",
           "TOTAL_LABELS", "fold", "check_threshold", "protect_block", "group_neighbours", "group_small", "publish_counts", "OTHERS"]

#: What a printed table shows in place of a count it does not publish (primary and secondary
#: suppression alike, so that the reader cannot tell which cell is the small one).
SECRET_MARK = "s"
#: Label of the categories grouped by :func:`group_small`.
OTHERS = "Autres (regroupés)"
PRIMARY = "primaire"
SECONDARY = "secondaire"
MASKED = "secret statistique"
TOTAL_LABELS = ("total", "ensemble", "ensemble des quartiers", "tous les quartiers", "tous quartiers",
                "ensemble qpv", "ensemble des qpv", "tous")


def fold(s) -> str:
    s = unicodedata.normalize("NFKD", str(s)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


def check_threshold(threshold) -> float:
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        t = float("nan")
    if math.isnan(t) or t < 1:
        raise DLSError(f"Le seuil de diffusion doit être un nombre supérieur ou égal à 1 ; valeur reçue : "
                       f"{threshold!r}.", value=threshold, expected="nombre ≥ 1")
    return t


# =========================================================================== linear model
class _Model:
    """Cells of one table and the additive relations a reader knows (rows, columns, totals)."""

    def __init__(self, values: np.ndarray, margin_row: np.ndarray | None, margin_col: np.ndarray | None,
                 grand: float | None, has_row_eq: bool, has_col_eq: bool):
        r, c = values.shape
        self.r, self.c = r, c
        self.values = []  # value of each variable (NaN = unknown to us as well)
        self.kind = []    # ("cell", i, j) | ("rowtot", i) | ("coltot", j) | ("grand",)
        self.index = {}
        for i in range(r):
            for j in range(c):
                self._add(("cell", i, j), values[i, j])
        eqs = []
        if has_row_eq:
            for i in range(r):
                self._add(("rowtot", i), margin_row[i])
                eqs.append(([("cell", i, j) for j in range(c)], ("rowtot", i)))
        if has_col_eq:
            for j in range(c):
                self._add(("coltot", j), margin_col[j])
                eqs.append(([("cell", i, j) for i in range(r)], ("coltot", j)))
        if has_row_eq or has_col_eq:
            self._add(("grand",), grand)
            if has_row_eq:
                eqs.append(([("rowtot", i) for i in range(r)], ("grand",)))
            if has_col_eq:
                eqs.append(([("coltot", j) for j in range(c)], ("grand",)))
        if not has_row_eq and not has_col_eq:
            eqs = []
        a = np.zeros((len(eqs), len(self.values)))
        for k, (parts, total) in enumerate(eqs):
            for p in parts:
                a[k, self.index[p]] += 1
            a[k, self.index[total]] -= 1
        self.a = a
        self.values = np.asarray(self.values, dtype=float)

    def _add(self, key, value):
        self.index[key] = len(self.values)
        self.kind.append(key)
        self.values.append(np.nan if value is None else float(value))


def _intervals(model: _Model, unknown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value each unknown variable can take given the published ones (≥ 0)."""
    from scipy.optimize import linprog   # 0.2 s to import, for the tables that have unknown cells only

    lo = np.full(len(model.values), np.nan)
    hi = np.full(len(model.values), np.nan)
    idx_u = np.flatnonzero(unknown)
    if len(idx_u) == 0:
        return lo, hi
    known = ~unknown
    rows = model.a[:, idx_u]
    keep = np.abs(rows).sum(axis=1) > 0
    a_eq = rows[keep]
    b_eq = -(model.a[keep][:, known] @ model.values[known]) if keep.any() else np.zeros(0)
    if not keep.any():
        lo[idx_u], hi[idx_u] = 0.0, np.inf
        return lo, hi
    for pos, v in enumerate(idx_u):
        cost = np.zeros(len(idx_u))
        cost[pos] = 1.0
        res_min = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        res_max = linprog(-cost, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if res_min.status == 2 or res_max.status == 2:
            raise DLSError("Les totaux du tableau ne correspondent pas à la somme de ses cellules ; "
                           "un tableau cohérent (cellules + marges) est attendu.")
        lo[v] = res_min.fun if res_min.status == 0 else 0.0
        hi[v] = -res_max.fun if res_max.status == 0 else np.inf
    return lo, hi


# =========================================================================== generic tables
@dataclass
class ProtectedTable:
    """What :func:`protect_table` returns.

    Attributes
    ----------
    table : pandas.DataFrame
        The input table with suppressed counts blanked (NaN).
    status : pandas.DataFrame
        Same index and count columns: « » (published), « primaire », « secondaire » or
        « secret statistique » (masked in the input).
    unprotected : list
        Cells that stay recoverable whatever is suppressed (e.g. a table with a single cell and
        a known total); empty in normal use.
    """

    table: pd.DataFrame
    status: pd.DataFrame
    unprotected: list = field(default_factory=list)

    @property
    def n_primary(self) -> int:
        return int((self.status == PRIMARY).to_numpy().sum())

    @property
    def n_secondary(self) -> int:
        return int((self.status == SECONDARY).to_numpy().sum())

    @property
    def suppressed(self) -> pd.DataFrame:
        return self.status != ""


def _split_margins(df, count_cols, group_cols, total_labels, total_col):
    labels = {fold(t) for t in total_labels}
    total_rows = [idx for idx in df.index
                  if any(fold(df.at[idx, g]) in labels for g in group_cols)] if group_cols else []
    if len(total_rows) > 1:
        raise DLSError(f"Le tableau contient plusieurs lignes de total ({len(total_rows)}) ; une seule "
                       "ligne « Total » ou « Ensemble » est attendue par tableau.")
    if total_col is None:
        cands = [c for c in count_cols if fold(c) in labels]
        total_col = cands[0] if cands else None
    elif total_col not in df.columns:
        raise DLSError(f"La colonne de total « {total_col} » est absente du tableau.", column=total_col)
    inner_cols = [c for c in count_cols if c != total_col]
    inner_rows = [i for i in df.index if i not in total_rows]
    return inner_rows, inner_cols, (total_rows[0] if total_rows else None), total_col


def protect_block(values, primary, masked, margin_row, margin_col, grand, row_present, col_present,
                   margins_known, rule=lambda v: False):
    """Core engine on one block; returns (status matrix incl. margins, unprotected list).

    ``values`` r×c interior; ``margin_row`` (r) row totals or None; ``margin_col`` (c) col totals or
    None; ``row_present``/``col_present``: the margins are cells of the published table.
    """
    r, c = values.shape
    has_row_eq = c >= 2 and (row_present or margins_known)
    has_col_eq = r >= 2 and (col_present or margins_known)
    if margin_row is None:
        margin_row = values.sum(axis=1) if not np.isnan(values).any() else np.where(
            np.isnan(values).any(axis=1), np.nan, np.nansum(values, axis=1))
    if margin_col is None:
        margin_col = np.where(np.isnan(values).any(axis=0), np.nan, np.nansum(values, axis=0))
    if grand is None:
        grand = float(np.sum(margin_col)) if not np.isnan(margin_col).any() else np.nan
    model = _Model(values, margin_row, margin_col, grand, has_row_eq, has_col_eq)
    n = len(model.values)
    for row in model.a:
        members = np.flatnonzero(row)
        vals = model.values[members]
        if len(members) and not np.isnan(vals).any() and abs(row[members] @ vals) > 1e-6 * max(1.0, np.abs(vals).max()):
            total = model.kind[members[row[members] < 0][0]]
            where_txt = {"rowtot": f"ligne {total[1] + 1}", "coltot": f"colonne {total[1] + 1}",
                         "grand": "total général"}[total[0]]
            raise DLSError(f"Les totaux du tableau ne correspondent pas à la somme de ses cellules ({where_txt}) ; "
                           "un tableau cohérent (cellules + marges) est attendu.")
    status = np.array([""] * n, dtype=object)
    for i in range(r):
        for j in range(c):
            k = model.index[("cell", i, j)]
            status[k] = MASKED if masked[i, j] else (PRIMARY if primary[i, j] else "")
    # margins: part of the table, or known elsewhere (published), or unknown (NaN value)
    for key, k in model.index.items():
        if key[0] == "cell":
            continue
        present = (key[0] == "rowtot" and row_present) or (key[0] == "coltot" and col_present) or (
            key[0] == "grand" and row_present and col_present)
        if np.isnan(model.values[k]):
            status[k] = MASKED
        elif present and rule(model.values[k]):
            status[k] = PRIMARY
        elif not present and not margins_known:
            status[k] = "_hidden"
    unprotected = []
    given_up = set()
    eq_members = [np.flatnonzero(row) for row in model.a]
    cell_eqs = [[e for e, mem in enumerate(eq_members) if k in mem] for k in range(n)]

    def choose(k, line=None):
        """Published cell to suppress so that ``k`` is hidden (in ``line`` if given)."""
        cands = eq_members[line] if line is not None else sorted(
            {q for e in cell_eqs[k] for q in eq_members[e]})
        allow_margin = not margins_known
        pool = [q for q in cands if status[q] == "" and not np.isnan(model.values[q])
                and (model.kind[q][0] == "cell" or allow_margin)]
        if not pool:
            pool = [q for q in range(n) if status[q] == "" and model.kind[q][0] == "cell"
                    and not np.isnan(model.values[q])]
        if not pool:
            return None

        def score(q):
            lonely = sum(1 for e in cell_eqs[q] if sum(status[m] != "" for m in eq_members[e]) == 1)
            v = model.values[q]
            return (-lonely, model.kind[q][0] != "cell", v <= 0, v, q)
        return min(pool, key=score)

    def add(k, line=None):
        q = choose(k, line)
        if q is None:
            given_up.add(k)
            unprotected.append(model.kind[k])
            return False
        status[q] = SECONDARY
        return True

    for _ in range(4 * n + 4):
        unknown = status != ""
        # 1. a relation with exactly one blank cell gives it away
        lonely = [(e, mem[unknown[mem]][0]) for e, mem in enumerate(eq_members)
                  if unknown[mem].sum() == 1 and mem[unknown[mem]][0] not in given_up
                  and status[mem[unknown[mem]][0]] != "_hidden"]
        if lonely:
            e, k = lonely[0]
            add(k, e)
            continue
        # 2. a blank cell determined by a chain of relations (linear algebra)
        idx_u = np.flatnonzero(unknown)
        if len(idx_u) and len(model.a):
            ns = null_space(model.a[:, idx_u])
            det = [v for pos, v in enumerate(idx_u)
                   if (ns.shape[1] == 0 or np.all(np.abs(ns[pos]) < 1e-9))
                   and v not in given_up and status[v] != "_hidden"]
            if det:
                add(det[0])
                continue
        # 3. audit with non-negativity (linear programming)
        lo, hi = _intervals(model, unknown)
        exposed = [k for k in idx_u
                   if status[k] != "_hidden" and k not in given_up and hi[k] - lo[k] < 1 - 1e-9]
        if not exposed:
            break
        add(exposed[0])
    status[status == "_hidden"] = ""
    return model, status, unprotected


def _counts(df: pd.DataFrame, count_cols: list, group_cols: list) -> pd.DataFrame:
    """The count columns as numbers (NaN: masked upstream); a column absent, a text or a negative refused."""
    for col in [*count_cols, *group_cols]:
        if col not in df.columns:
            raise DLSError(f"La colonne « {col} » est absente du tableau ; colonnes présentes : "
                           f"{', '.join(map(str, df.columns))}.", column=col)
    values_all = df[count_cols].apply(pd.to_numeric, errors="coerce")
    bad = df[count_cols].notna() & values_all.isna()
    if bad.to_numpy().any() or (values_all < 0).to_numpy().any():
        where_bad = (bad | (values_all < 0)).stack()
        idx, col = where_bad[where_bad].index[0]
        raise DLSError(f"Ligne {idx}, colonne « {col} » : la valeur « {df.at[idx, col]} » ne convient pas ; "
                       "un effectif positif ou nul est attendu.", row=idx, column=col, value=df.at[idx, col])
    return values_all


def _protect_part(values_all, split, status, margins_known, rule) -> list:
    """:func:`protect_block` on one sub-table; fills ``status``; returns the unprotected cells."""
    inner_rows, inner_cols, trow, tcol = split
    vals = values_all.loc[inner_rows, inner_cols].to_numpy(dtype=float)
    primary = np.vectorize(rule, otypes=[bool])(vals) if vals.size else vals.astype(bool)
    margin_row = values_all.loc[inner_rows, tcol].to_numpy(dtype=float) if tcol else None
    margin_col = values_all.loc[trow, inner_cols].to_numpy(dtype=float) if trow is not None else None
    grand = float(values_all.at[trow, tcol]) if (trow is not None and tcol) else None
    model, st, unprot = protect_block(vals, primary, np.isnan(vals), margin_row, margin_col, grand,
                                      tcol is not None, trow is not None, margins_known, rule)
    for key, k in model.index.items():
        if key[0] == "cell":
            status.at[inner_rows[key[1]], inner_cols[key[2]]] = st[k]
        elif key[0] == "rowtot" and tcol:
            status.at[inner_rows[key[1]], tcol] = st[k]
        elif key[0] == "coltot" and trow is not None:
            status.at[trow, inner_cols[key[1]]] = st[k]
        elif key[0] == "grand" and trow is not None and tcol:
            status.at[trow, tcol] = st[k]
    return [(inner_rows[key[1]], inner_cols[key[2]]) if key[0] == "cell" else key for key in unprot]


def protect_table(df: pd.DataFrame, count_cols, group_cols=(), *, threshold=10, by=None,
                  total_labels=TOTAL_LABELS, total_col=None, margins_known=True,
                  suppress_zeros=False) -> ProtectedTable:
    """Apply primary and secondary suppression to a table of counts.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per category (e.g. quartier), one column per count (e.g. answer); an optional
        row whose label (in ``group_cols``) is « Total »/« Ensemble » holds column totals, an
        optional count column named « Total »/« Ensemble » (or ``total_col``) holds row totals.
        Missing counts (NaN) are values masked upstream and stay masked.
    count_cols : list of str
        Columns of counts (including the total column if any).
    group_cols : list of str
        Label columns (used to find the total row).
    threshold : float, default 10
        Counts ``0 < x < threshold`` are suppressed (« primaire »).
    by : str or list of str, optional
        Columns splitting ``df`` into independent sub-tables (e.g. one per indicator).
    total_labels : tuple of str
        Labels of total rows/columns (case and accents ignored).
    total_col : str, optional
        Row-total column when it is not named like a total.
    margins_known : bool, default True
        Assume row and column totals are known to a reader even when absent from the table
        (the respondents per quartier are published elsewhere).  The safe default.
    suppress_zeros : bool, default False
        Also suppress zero cells (by default a zero is published: it reveals no person).

    Returns
    -------
    ProtectedTable

    Notes
    -----
    A reader knows every published cell and the additive relations (row sums, column sums,
    grand total).  For each suppressed cell the smallest and largest values compatible with
    them and with non-negativity are computed by linear programming; a cell whose interval is
    narrower than one unit is recoverable, and the smallest positive published cell of its row
    or column is suppressed as well (« secondaire »), until no suppressed cell is recoverable.
    This covers the usual rules (never exactly one suppressed cell in a row or column; never a
    suppressed cell recoverable through a chain of rows and columns).

    References
    ----------
    Hundepool A et al. Statistical Disclosure Control. Wiley, 2012, ch. 4 (tabular data,
    secondary suppression and audit).  Insee, « Guide du secret statistique », 2024.

    Examples
    --------
    >>> t = pd.DataFrame({"quartier": ["A", "B", "C", "Total"], "n": [25, 4, 30, 59]})
    >>> res = protect_table(t, ["n"], ["quartier"])
    >>> res.status["n"].tolist()
    ['secondaire', 'primaire', '', '']
    """
    thr = check_threshold(threshold)
    count_cols = [count_cols] if isinstance(count_cols, str) else list(count_cols)
    group_cols = [group_cols] if isinstance(group_cols, str) else list(group_cols)
    values_all = _counts(df, count_cols, group_cols)

    def rule(v):
        return (not np.isnan(v)) and v < thr and (v > 0 or suppress_zeros)

    status = pd.DataFrame("", index=df.index, columns=count_cols, dtype=object)
    unprotected_all = []
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    parts = df.groupby(by_cols, sort=False, dropna=False) if by_cols else [((), df)]
    for _, part in parts:
        split = _split_margins(part, count_cols, group_cols, total_labels, total_col)
        if split[0] and split[1]:
            unprotected_all += _protect_part(values_all, split, status, margins_known, rule)
    table = df.copy()
    for col in count_cols:
        table[col] = values_all[col].where(status[col] == "")
    return ProtectedTable(table=table, status=status, unprotected=unprotected_all)


def audit_table(table: pd.DataFrame, count_cols, group_cols=(), *, total_labels=TOTAL_LABELS,
                total_col=None, margins_known_values=None) -> pd.DataFrame:
    """Intervals a reader can deduce for each blank cell of a published table (the attacker's view).

    Parameters
    ----------
    table : pandas.DataFrame
        A published table (blank cells NaN), e.g. ``protect_table(...).table``.
    margins_known_values : dict, optional
        ``{"rows": [...], "cols": [...]}`` totals a reader knows from elsewhere when the table
        carries no total row/column.

    Returns
    -------
    pandas.DataFrame
        One row per blank cell: ``ligne, colonne, min, max`` (``max`` may be inf).

    Notes
    -----
    Linear programming over the additive relations with non-negative cells; a blank cell is
    exactly recovered when ``max - min < 1``.
    """
    count_cols = [count_cols] if isinstance(count_cols, str) else list(count_cols)
    group_cols = [group_cols] if isinstance(group_cols, str) else list(group_cols)
    inner_rows, inner_cols, trow, tcol = _split_margins(table, count_cols, group_cols, total_labels, total_col)
    vals = table.loc[inner_rows, inner_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    known = margins_known_values or {}
    mr = table.loc[inner_rows, tcol].to_numpy(dtype=float) if tcol else (
        np.asarray(known["rows"], dtype=float) if "rows" in known else np.full(len(inner_rows), np.nan))
    mc = table.loc[trow, inner_cols].to_numpy(dtype=float) if trow is not None else (
        np.asarray(known["cols"], dtype=float) if "cols" in known else np.full(len(inner_cols), np.nan))
    grand = float(table.at[trow, tcol]) if (trow is not None and tcol) else (
        float(np.sum(mc)) if not np.isnan(mc).any() else (float(np.sum(mr)) if not np.isnan(mr).any() else np.nan))
    model = _Model(vals, mr, mc, grand, len(inner_cols) >= 2, len(inner_rows) >= 2)
    unknown = np.isnan(model.values)
    lo, hi = _intervals(model, unknown)
    out = []
    for key, k in model.index.items():
        if key[0] == "cell" and unknown[k]:
            out.append(dict(ligne=inner_rows[key[1]], colonne=inner_cols[key[2]], min=lo[k], max=hi[k]))
    return pd.DataFrame(out, columns=["ligne", "colonne", "min", "max"])


# =========================================================================== printed count tables
def group_neighbours(counts, threshold) -> list[list[int]]:
    """Groups of neighbouring categories of an ordered variable, none with ``0 < n < threshold``.

    Parameters
    ----------
    counts : sequence of float
        Counts of the categories, in their order (age groups from the youngest).
    threshold : float
        Smallest count a group may print.

    Returns
    -------
    list of list of int
        Positions of the categories of each group, in order (``[[0], [1], [2, 3]]`` groups the
        last two categories, e.g. « 60-74 » and « 75+ » into « 60 ans ou plus »).

    Notes
    -----
    Greedy: the smallest group under the threshold is merged with the smaller of its neighbours,
    until none is left (a whole table under the threshold ends as one group, to be suppressed).
    Grouping neighbours loses less than suppression and cannot be undone by subtraction: the
    printed groups are the categories (Hundepool et al., *Statistical Disclosure Control*, 2012,
    §4.2.1, « global recoding »).
    """
    thr = check_threshold(threshold)
    groups = [[i] for i in range(len(counts))]
    sums = [float(c) for c in counts]
    while len(groups) > 1:
        small = [k for k, v in enumerate(sums) if 0 < v < thr]
        if not small:
            break
        k = min(small, key=lambda i: (sums[i], i))
        j = min((i for i in (k - 1, k + 1) if 0 <= i < len(groups)), key=lambda i: (sums[i], i))
        a, b = sorted((k, j))
        groups[a:b + 1] = [groups[a] + groups[b]]
        sums[a:b + 1] = [sums[a] + sums[b]]
    return groups


def publish_counts(df: pd.DataFrame, count_cols, label_col: str, threshold, *,
                   total_col: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The printable version of a table of counts: the one secrecy rule of every printed count.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per category (``label_col``), count columns ``count_cols`` (``total_col`` among
        them when the table prints row totals).  Column totals are assumed known to the reader
        (the respondents of each quartier are printed elsewhere).
    threshold : float
        ``seuils.secret_statistique``: no printed count ``0 < n < threshold``.

    Returns
    -------
    table : pandas.DataFrame
        ``df`` with the counts as ``int`` and the suppressed ones as :data:`SECRET_MARK`.
    status : pandas.DataFrame
        :attr:`ProtectedTable.status` (« primaire », « secondaire » or « »).

    Raises
    ------
    DLSError
        When a small count stays recoverable whatever is suppressed (never printed silently).

    Notes
    -----
    :func:`protect_table` (primary suppression, then secondary suppression until the linear
    programming audit finds no suppressed cell narrower than one unit).  A table is never
    collapsed into a single « Autres » row: each category keeps its row, except a row whose
    printed total is under the threshold, which no suppression can hide (the grand total gives
    it back): it is merged with the row of the smallest total (« En ligne ou autre »).
    """
    count_cols = list(count_cols)
    if total_col is not None:
        df = _merge_small_rows(df, count_cols, label_col, check_threshold(threshold), total_col)
    res = protect_table(df, count_cols, [label_col], threshold=threshold, total_col=total_col,
                        margins_known=True)
    if res.unprotected:
        raise DLSError(f"Le tableau « {label_col} » ne peut pas être publié sans laisser retrouver un effectif "
                       f"inférieur à {threshold:g} ; regroupez ses catégories.", column=label_col)
    out = df.copy()
    for c in count_cols:
        out[c] = [SECRET_MARK if st else int(v) for v, st in zip(df[c], res.status[c])]
    return out, res.status


def _merge_small_rows(df: pd.DataFrame, count_cols, label_col, thr: float, total_col: str) -> pd.DataFrame:
    """Rows with a row total ``0 < t < thr`` merged with the row of the smallest total (labels joined)."""
    rows = df.to_dict("records")
    while len(rows) > 2:
        small = [r for r in rows if 0 < r[total_col] < thr]
        if not small:
            break
        r = min(small, key=lambda x: x[total_col])
        other = min((x for x in rows if x is not r), key=lambda x: x[total_col])
        merged = {**other, label_col: f"{other[label_col]} ou {str(r[label_col]).lower()}"}
        for c in count_cols:
            merged[c] = other[c] + r[c]
        rows = [merged if x is other else x for x in rows if x is not r]
    return pd.DataFrame(rows, columns=df.columns)


def group_small(counts: pd.Series, threshold, label: str = OTHERS, name: str = "categorie") -> pd.DataFrame:
    """Unordered categories under the threshold grouped into one row ``label``, when two or more
    of them together reach it; the table then goes through :func:`publish_counts`.

    Returns
    -------
    pandas.DataFrame
        Columns ``name`` and ``n`` (``int`` or :data:`SECRET_MARK`), largest first, ``label``
        last.  The grouped row is never the whole table: the categories at or above the
        threshold keep their rows.
    """
    thr = check_threshold(threshold)
    counts = counts.sort_values(ascending=False)
    small = (counts > 0) & (counts < thr)
    out = counts
    if small.sum() >= 2 and counts[small].sum() >= thr and (~small).any():
        out = pd.concat([counts[~small], pd.Series({label: int(counts[small].sum())})])
    df = out.rename("n").rename_axis(name).reset_index()
    return publish_counts(df, ["n"], name, thr)[0]
