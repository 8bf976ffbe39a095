"""The IMPACT evaluation table: every result as one French line with n, value, CI and method."""
from __future__ import annotations

import pandas as pd

from ..fmt import interval, number, percent

__all__ = ["evaluation_table", "SMALL_N"]

#: Below this denominator a line is flagged « effectif faible : à interpréter avec prudence ».
SMALL_N = 30


def evaluation_table(*results, decimals: int = 0) -> pd.DataFrame:
    """Stack results into the French evaluation table.

    Parameters
    ----------
    *results
        :class:`ProportionResult`, :class:`PairedResult` or :class:`ChangeResult` objects
        (anything with ``to_frame()`` giving the library's result columns ``label, kind,
        estimate, se, ci_low, ci_high, conf_level, method, n, note``).
    decimals : int
        Decimals of the percentages shown.

    Returns
    -------
    DataFrame
        Columns « Indicateur », « n », « Valeur », « IC », « Méthode », « Précisions »;
        proportions and differences in percent (differences in points), the median change
        in the unit of the measure.
    """
    frames = [r.to_frame() for r in results]
    if not frames:
        return pd.DataFrame(columns=["Indicateur", "n", "Valeur", "IC", "Méthode", "Précisions"])
    t = pd.concat(frames, ignore_index=True)
    rows = []
    for r in t.itertuples():
        level = percent(r.conf_level, 0)
        if r.kind == "pseudomedian":
            value = number(r.estimate, 2)
            ci = interval(r.ci_low, r.ci_high, 2, scale=1.0)
        elif r.kind == "difference":
            value = f"{number(r.estimate * 100, decimals)} points"
            ci = interval(r.ci_low, r.ci_high, decimals)
        else:
            value = percent(r.estimate, decimals)
            ci = interval(r.ci_low, r.ci_high, decimals)
        note = r.note
        if r.n < SMALL_N:
            note += " ; effectif faible : à interpréter avec prudence"
        rows.append({"Indicateur": r.label, "n": int(r.n), "Valeur": value,
                     f"IC à {level}": ci, "Méthode": r.method, "Précisions": note})
    return pd.DataFrame(rows)
