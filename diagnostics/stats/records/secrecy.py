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

__all__ = ["PRIMARY_TOKEN", "SECONDARY_TOKEN", "nested_pairs", "mask_extract"]

SECONDARY_TOKEN = "s"


def PRIMARY_TOKEN(threshold: int) -> str:  # noqa: N802 - a token built from the threshold
    return f"<{threshold}"


def nested_pairs(geography: pd.DataFrame, levels) -> list[tuple[str, str, dict, bool]]:
    """(child level, parent level, child code → parent code, children cover the parent) for
    every pair of levels where each child territory lies in one parent territory."""
    out = []
    cols = [lv for lv in levels]
    for i, child in enumerate(cols):
        if child.column is None:
            continue
        g = geography[geography[child.column].notna()]
        for parent in cols[i + 1:]:
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


def _relations(frame: pd.DataFrame, pairs) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """Row positions (child, parent) of each relation; the « Ensemble » row and its bands too."""
    idx = pd.Series(np.arange(len(frame)), index=pd.MultiIndex.from_frame(
        frame[["indicateur", "classe_age", "niveau", "code_territoire"]]))
    rels = []
    for child, parent, mapping, covers in pairs:
        ch = frame[frame["niveau"] == child]
        if ch.empty:
            continue
        pcode = ch["code_territoire"].map(mapping)
        key = pd.MultiIndex.from_arrays([ch["indicateur"], ch["classe_age"], np.full(len(ch), parent), pcode])
        ppos = idx.reindex(key).to_numpy()
        ok = ~np.isnan(ppos)
        rels.append((np.flatnonzero(frame["niveau"].to_numpy() == child)[ok], ppos[ok].astype(np.int64), covers))
    bands = frame["classe_age"] != "Ensemble"
    if bands.any():
        b = frame[bands]
        key = pd.MultiIndex.from_arrays([b["indicateur"], np.full(len(b), "Ensemble"), b["niveau"], b["code_territoire"]])
        ppos = idx.reindex(key).to_numpy()
        ok = ~np.isnan(ppos)
        rels.append((np.flatnonzero(bands.to_numpy())[ok], ppos[ok].astype(np.int64), True))
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


def mask_extract(frame: pd.DataFrame, geography: pd.DataFrame, levels, threshold: int):
    """Which numerators and denominators of the long extract ``frame`` to mask.

    Parameters
    ----------
    frame : DataFrame
        ``indicateur``, ``niveau``, ``code_territoire``, ``classe_age``, ``numerateur``,
        ``denominateur`` (the true counts).
    geography : DataFrame
        :attr:`RecordCounts.geography`.
    levels : list of Level
    threshold : int

    Returns
    -------
    (primary, num_hidden, den_hidden) : three boolean arrays
        ``primary``: the row's own counts are small; ``num_hidden``: numerator, value and limits
        not printed (primary or secondary); ``den_hidden``: denominator not printed.
    """
    t = threshold
    x = frame["numerateur"].to_numpy(float)
    n = frame["denominateur"].to_numpy(float)
    rels = _relations(frame, nested_pairs(geography, levels))
    primary = ((x > 0) & (x < t)) | ((n - x > 0) & (n - x < t)) | (n < t)
    den_small = n < t
    n_rest = _rest(n, rels)
    den_hidden = _secondary(den_small, n, rels, [(r > 0) & (r < t) for r in n_rest])
    x_rest = _rest(x, rels)
    rest_small = [((xr > 0) & (xr < t)) | ((nr - xr > 0) & (nr - xr < t)) | ((nr > 0) & (nr < t))
                  for xr, nr in zip(x_rest, n_rest)]
    num_hidden = _secondary(primary | den_hidden, n, rels, rest_small)
    return primary, num_hidden, den_hidden
