"""Statistical secrecy of the records extract: primary masking, then secondary masking across
nested territories and age bands.

Same rule as :mod:`diagnostics.protect.cells` (which ``stats`` may not import): a count of
persons under the threshold (11 by default, the CASD rule for health data) is never printed nor
recoverable by subtraction.  Here the additive relations a reader knows are:

* a territory and the territories it contains (a QPV in its commune, a commune in its EPCI and
  its département, a département in its région, each in France), one relation per band and for
  « Ensemble »: ``parent = Σ children + rest``.  The rest (a commune outside its QPV) is never
  printed; it is known to be zero when the children cover the parent (the communes of a
  département), otherwise it is one more unknown — but an unknown the reader can compute when
  it is the only one, so it must not be small;
* the age bands of a standardised rate and their « Ensemble » row (the bands cover it).

A relation with exactly one unknown cell gives it back.  When that cell is masked, or is a small
rest, one more cell is masked: the printed child with the fewest persons, else the parent; and
again until no relation has a single unknown (« secondary suppression », as τ-Argus' singleton
rule).  Numerators (cases and non-cases) and denominators are protected separately; a masked
denominator masks its numerator.  Each relation is checked on its own: combinations of several
relations (the linear-programming audit of :func:`diagnostics.protect.cells.audit_table`) are not
attempted at this scale.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PRIMARY_TOKEN", "SECONDARY_TOKEN", "nested_pairs", "relations", "mask_extract"]

SECONDARY_TOKEN = "s"


def PRIMARY_TOKEN(threshold: int) -> str:  # noqa: N802 - a token built from the threshold
    return f"<{threshold}"


def nested_pairs(geography: pd.DataFrame, levels) -> list[tuple[str, str, dict, bool]]:
    """(child level, parent level, child code → parent code, children cover the parent) for
    every pair of levels where each child territory lies in one parent territory."""
    out = []
    for i, child in enumerate(levels):
        if child.column is None:
            continue
        g = geography[geography[child.column].notna()]
        for parent in levels[i + 1:]:
            if parent.column is None:
                mapping = dict.fromkeys(g[child.column].astype(str).unique(), "FR")
                covers = bool(geography[child.column].notna().all())
            else:
                pairs = g[[child.column, parent.column]].dropna().astype(str).drop_duplicates()
                if pairs[child.column].duplicated().any():
                    continue                       # a child across two parents: no relation
                mapping = dict(zip(pairs[child.column], pairs[parent.column]))
                inside = geography[geography[parent.column].notna()]
                covers = bool(inside[child.column].notna().all())
            out.append((child.name, parent.name, mapping, covers))
    return out


def relations(level: np.ndarray, code: np.ndarray, band: np.ndarray, level_names, code_names, ensemble: int,
              pairs) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """Row positions (children, parent) of each additive relation among rows given by integer
    codes (``level``, ``code``, ``band``; ``ensemble`` the band code of « Ensemble »): the
    nested territories of ``pairs`` (:func:`nested_pairs`) band by band, and each territory's
    bands within its « Ensemble » row."""
    n_code, n_band = len(code_names) + 1, int(band.max()) + 2
    key = (level.astype(np.int64) * n_code + code) * n_band + band
    index = pd.Index(key)
    lookup = {name: k for k, name in enumerate(level_names)}
    code_of = pd.Index(code_names)
    rels = []
    for child, parent, mapping, covers in pairs:
        if child not in lookup or parent not in lookup:
            continue
        rows = np.flatnonzero(level == lookup[child])
        pcode = code_of.get_indexer(pd.Index(code_names).map(mapping).fillna("\0"))[code[rows]]
        ppos = index.get_indexer((lookup[parent] * n_code + pcode.astype(np.int64)) * n_band + band[rows])
        ok = (pcode >= 0) & (ppos >= 0)
        rels.append((rows[ok], ppos[ok], covers))
    rows = np.flatnonzero(band != ensemble)
    if len(rows):
        ppos = index.get_indexer((level[rows].astype(np.int64) * n_code + code[rows]) * n_band + ensemble)
        rels.append((rows[ppos >= 0], ppos[ppos >= 0], True))
    return rels


def _secondary(hidden: np.ndarray, weight: np.ndarray, rels, rest_small) -> np.ndarray:
    """Mask more cells until no relation has a single unknown that needs protecting."""
    hidden = hidden.copy()
    for _ in range(50):
        changed = False
        for k, (child, parent, covers) in enumerate(rels):
            n = len(hidden)
            unknown = np.bincount(parent, weights=hidden[child], minlength=n)
            has_group = np.bincount(parent, minlength=n) > 0
            rest_unknown = np.zeros(n, bool) if covers else has_group
            single = has_group & (unknown + rest_unknown + hidden == 1)
            # the single unknown needs protecting: a masked child or parent, or a small rest
            need = single & ((unknown + hidden == 1) | rest_small[k])
            if not need.any():
                continue
            cand = pd.DataFrame({"c": child, "p": parent, "w": weight[child]})
            cand = cand[need[cand["p"].to_numpy()] & ~hidden[cand["c"].to_numpy()]]
            pick = cand.sort_values(["w", "c"]).drop_duplicates("p")
            hidden[pick["c"].to_numpy()] = True
            rest = np.flatnonzero(need)
            orphan = np.setdiff1d(rest, pick["p"].to_numpy())
            hidden[orphan] = True
            changed = True
        if not changed:
            break
    return hidden


def _rest(values: np.ndarray, rels) -> list[np.ndarray]:
    out = []
    for child, parent, _ in rels:
        s = np.bincount(parent, weights=values[child], minlength=len(values))
        out.append(values - s)
    return out


def mask_extract(x: np.ndarray, n: np.ndarray, rels, threshold: int):
    """Which numerators and denominators of one indicator's rows to mask.

    Parameters
    ----------
    x, n : arrays of float
        The true numerators and denominators.
    rels : list
        :func:`relations` of these rows.
    threshold : int

    Returns
    -------
    (primary, num_hidden, den_hidden) : three boolean arrays
        ``primary``: the row's own counts are small; ``num_hidden``: numerator, value and limits
        not printed (primary or secondary); ``den_hidden``: denominator not printed.
    """
    t = threshold
    primary = ((x > 0) & (x < t)) | ((n - x > 0) & (n - x < t)) | (n < t)
    n_rest = _rest(n, rels)
    den_hidden = _secondary(n < t, n, rels, [(r > 0) & (r < t) for r in n_rest])
    rest_small = [((xr > 0) & (xr < t)) | ((nr - xr > 0) & (nr - xr < t)) | ((nr > 0) & (nr < t))
                  for xr, nr in zip(_rest(x, rels), n_rest)]
    num_hidden = _secondary(primary | den_hidden, n, rels, rest_small)
    return primary, num_hidden, den_hidden
